"""Site/app browsing (web_events) and customer-service tickets.

Web sessions come from three places: everyday browsing (rate grows with the person's own-site
share and purchase rate), the session before every own-site order (login, product view, add to
cart) and sessions on the public in-store kiosks (one device and cookie seen with hundreds of
people, who often log in there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omni.synth.config import SynthConfig
from omni.synth.identities import Identities
from omni.synth.people import SITE, People
from omni.synth.purchases import Orders, OrderValues
from omni.synth.reference import EVENT_TYPES
from omni.synth.text import categorical_draw
from omni.synth.timeline import ONLINE_HOURS, SERVICE_HOURS, STORE_HOURS, Timeline

__all__ = ["Events", "Tickets", "service_tickets", "web_events"]

PAGE_VIEW, PRODUCT_VIEW, ADD_TO_CART, SEARCH, LOGIN = range(len(EVENT_TYPES))
BROWSE_TYPE_P = np.array([0.45, 0.30, 0.12, 0.13])  # page_view, product_view, add_to_cart, search


@dataclass
class Events:
    person: np.ndarray
    t: np.ndarray
    etype: np.ndarray  # index into EVENT_TYPES
    category: np.ndarray  # index into CATEGORIES, -1 none
    cookie: np.ndarray  # cookie index
    device: np.ndarray  # device index, -1 none
    member: np.ndarray  # member number when logged in, -1


@dataclass
class Tickets:
    person: np.ndarray
    t: np.ndarray
    topic: np.ndarray  # index into TICKET_TOPICS
    phone: np.ndarray  # phone given (int64), -1
    app: np.ndarray  # WeChat app index when opened in WeChat, -1


def _member_at(
    rng: np.random.Generator, ids: Identities, person: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """Member number a person logs in with at ``t`` (-1 if not registered yet)."""
    reg, reg2 = ids.reg_t[person], ids.reg2_t[person]
    primary = np.where(t >= reg, ids.member_no[person], -1)
    use_dup = (t >= reg2) & (rng.random(len(person)) < 0.5)
    return np.where(use_dup, ids.member2_no[person], primary)


def web_events(
    rng: np.random.Generator,
    people: People,
    ids: Identities,
    orders: Orders,
    values: OrderValues,
    cfg: SynthConfig,
    tl: Timeline,
) -> Events:
    """Sessions expanded into events, sorted by time."""
    # everyday browsing ---------------------------------------------------------------------------
    rate = (
        cfg.web_session_rate
        * (0.3 + 2.5 * people.chan_probs[:, SITE])
        * np.sqrt(people.lam / people.lam.mean())
    )
    s_person, s_t = tl.poisson_times(rng, rate, people.acq - 30, people.death + 60)
    s_t = tl.with_time_of_day(rng, s_t, ONLINE_HOURS)
    m = len(s_person)
    n_ck = (ids.ck[s_person] >= 0).sum(axis=1)
    slot_w = np.array([0.6, 0.3, 0.1])
    cum = np.cumsum(slot_w)
    slot = np.minimum(
        ((rng.random(m) * cum[n_ck - 1])[:, None] > cum[None, :]).sum(axis=1), n_ck - 1
    )
    # people sharing a family device use it for half of their sessions
    sharer = ids.share_partner[s_person] >= 0
    slot = np.where(sharer, np.where(rng.random(m) < 0.5, 1, 0), slot)
    s_cookie = ids.ck[s_person, slot]
    dev = ids.ck_dev[s_cookie]
    s_device = np.where(rng.random(m) < cfg.web_device_on_event, dev, -1)
    login = rng.random(m) < cfg.web_login_share
    s_member = np.where(login, _member_at(rng, ids, s_person, s_t), -1)
    s_len = 1 + rng.poisson(cfg.web_events_per_session - 1, size=m)
    s_len = s_len + (s_member >= 0)  # a login event starts logged-in sessions
    # purchase sessions before own-site orders --------------------------------------------------
    site = np.flatnonzero(orders.channel == SITE)
    p_person = orders.person[site]
    p_browse = 1 + rng.poisson(1.5, size=len(site))  # browsing logged out, then log in to buy
    p_t = np.maximum(
        orders.t[site] - (p_browse + 2) * 50 / 86_400 - rng.uniform(2, 10, size=len(site)) / 1440,
        0.0,
    )
    p_cookie = ids.ck[p_person, 0]
    p_device = np.where(rng.random(len(site)) < cfg.web_device_on_event, ids.ck_dev[p_cookie], -1)
    p_member = _member_at(rng, ids, p_person, orders.t[site])
    p_category = values.category[site]
    # kiosk sessions -------------------------------------------------------------------------------
    k_person, k_t, k_cookie, k_device, k_member, k_len = _kiosk_sessions(rng, people, ids, cfg, tl)

    # expand sessions into events ------------------------------------------------------------
    sess_person = np.concatenate([s_person, p_person, k_person])
    sess_t = np.concatenate([s_t, p_t, k_t])
    sess_cookie = np.concatenate([s_cookie, p_cookie, k_cookie])
    sess_device = np.concatenate([s_device, p_device, k_device])
    sess_member = np.concatenate([s_member, p_member, k_member])
    is_purchase = np.concatenate(
        [np.zeros(m, bool), np.ones(len(site), bool), np.zeros(len(k_person), bool)]
    )
    p_len = p_browse + 1 + (p_member >= 0)
    sess_len = np.concatenate([s_len, p_len, k_len])
    sess_browse = np.concatenate(
        [np.zeros(m, np.int64), p_browse, np.zeros(len(k_person), np.int64)]
    )
    sess_cat = np.concatenate([np.full(m, -1), p_category, np.full(len(k_person), -1)])
    sid = np.repeat(np.arange(len(sess_person)), sess_len)
    first = np.concatenate([[0], np.cumsum(sess_len)[:-1]])
    pos = np.arange(len(sid)) - first[sid]
    gaps = rng.exponential(45.0, size=len(sid)) / 86_400
    gaps[pos == 0] = 0.0
    csum = np.cumsum(gaps)
    t = sess_t[sid] + csum - csum[first[sid]]
    etype = rng.choice(len(BROWSE_TYPE_P), size=len(sid), p=BROWSE_TYPE_P)
    # logged-in sessions start with a login; purchase sessions browse logged out, then log in
    # and add to cart (the order follows)
    login_pos = sess_browse[sid]
    member = np.where(pos >= login_pos, sess_member[sid], -1)
    etype[(member >= 0) & (pos == login_pos)] = LOGIN
    pur = is_purchase[sid]
    etype[pur & (pos < login_pos) & (etype == ADD_TO_CART)] = PRODUCT_VIEW
    etype[pur & (pos == sess_len[sid] - 1)] = ADD_TO_CART
    person = sess_person[sid]
    category = np.full(len(sid), -1, np.int64)
    has_cat = np.flatnonzero(np.isin(etype, [PRODUCT_VIEW, ADD_TO_CART, SEARCH]))
    category[has_cat] = categorical_draw(rng, people.affinity, person[has_cat])
    category = np.where(pur & (category >= 0), sess_cat[sid], category)
    t = np.minimum(t, np.nextafter(tl.days, 0))
    order = np.lexsort((np.arange(len(t)), t))
    return Events(
        person=person[order],
        t=t[order],
        etype=etype[order],
        category=category[order],
        cookie=sess_cookie[sid][order],
        device=sess_device[sid][order],
        member=member[order],
    )


def _kiosk_sessions(rng: np.random.Generator, people: People, ids: Identities, cfg: SynthConfig,
                    tl: Timeline) -> tuple[np.ndarray, ...]:
    """Sessions on the store kiosks: person, time, the kiosk's cookie and device, the member id
    (when logged in) and the number of events."""
    kp = np.flatnonzero(ids.kiosk_of >= 0)
    k_count = 1 + rng.poisson(cfg.kiosk_sessions_mean - 1, size=len(kp))
    k_person = np.repeat(kp, k_count)
    lo = np.maximum(people.acq[k_person], 0.0)
    hi = np.minimum(people.death[k_person], tl.days)
    hi = np.where(hi > lo, hi, np.minimum(lo + 30, tl.days))
    k_t = tl.with_time_of_day(rng, lo + rng.random(len(k_person)) * (hi - lo), STORE_HOURS)
    k_t = np.minimum(k_t, np.nextafter(tl.days, 0))
    kiosk = ids.kiosk_of[k_person]
    k_cookie = ids.kiosk_ck[kiosk]
    k_device = ids.kiosk_dev[kiosk]
    k_member = np.where(rng.random(len(k_person)) < 0.6, _member_at(rng, ids, k_person, k_t), -1)
    k_len = 1 + rng.poisson(1.5, size=len(k_person)) + (k_member >= 0)
    return k_person, k_t, k_cookie, k_device, k_member, k_len


def service_tickets(
    rng: np.random.Generator,
    people: People,
    ids: Identities,
    orders: Orders,
    values: OrderValues,
    cfg: SynthConfig,
    tl: Timeline,
) -> Tickets:
    """Tickets after orders (more after refunds) plus background membership questions."""
    refunded = values.status == 1
    p = np.where(refunded, cfg.ticket_per_refund, cfg.ticket_per_order)
    hit = np.flatnonzero(rng.random(len(orders)) < p)
    o_person = orders.person[hit]
    o_t = orders.t[hit] + rng.uniform(0.3, 10.0, size=len(hit))
    # 物流查询, 退换货, 产品咨询, 会员积分, 投诉建议, 发票
    after_refund = np.array([0.05, 0.70, 0.05, 0.0, 0.20, 0.0])
    after_order = np.array([0.50, 0.10, 0.20, 0.0, 0.10, 0.10])
    probs = np.where(refunded[hit, None], after_refund, after_order)
    o_topic = categorical_draw(rng, probs, np.arange(len(hit)))
    member = ~np.isnan(ids.reg_t)
    b_person, b_t = tl.poisson_times(
        rng,
        np.where(member, cfg.ticket_rate, 0.0),
        np.nan_to_num(ids.reg_t, nan=np.inf),
        people.death + 180,
        seasonal=False,
    )
    b_topic = np.where(rng.random(len(b_person)) < 0.6, 3, 2)
    person = np.concatenate([o_person, b_person])
    t = np.concatenate([o_t, b_t])
    topic = np.concatenate([o_topic, b_topic])
    t = tl.with_time_of_day(rng, t, SERVICE_HOURS)  # tickets are opened while the desk is staffed
    keep = t < tl.days
    person, t, topic = person[keep], t[keep], topic[keep]
    k = len(person)
    follows = ids.follow[person]
    in_wechat = follows[:, :2].any(axis=1) & (rng.random(k) < 0.45)
    app = np.where(in_wechat, np.where(follows[:, 0], 0, 1), -1)
    give_phone = ~in_wechat | (rng.random(k) < 0.4)
    phone = np.where(give_phone, ids.phone_at(rng, person, t, cfg.second_phone_use), -1)
    order = np.lexsort((np.arange(k), t))
    return Tickets(
        person=person[order], t=t[order], topic=topic[order], phone=phone[order], app=app[order]
    )
