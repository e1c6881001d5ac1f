"""Randomized CRM campaigns with a holdout, and their true, heterogeneous uplift.

For each campaign (in time order) eligible members (registered before the start, not opted out,
reachable on the channel) are sampled with ``reach`` and randomized into ``control`` (planned
``control_share``) or one of the treatment arms. Treated members are contacted on the first day
(a few deliveries fail), a few control members are contacted by mistake (contamination).

A contacted member who is still alive makes an extra purchase in the window with probability

    p_extra = uplift_by_segment[segment] * uplift_tier_mult[city tier] * arm_effect[arm]

where the segment comes from the person's true orders in the 365 days before the start
(``dormant`` 0 orders, ``light`` 1, ``heavy`` >= heavy_min_orders, otherwise ``lapsing_medium``
when the last order is older than ``lapsing_days`` else ``active_medium``). The true uplift in
conversion probability is ``p_extra * q_paid * P(no paid organic order in the window)`` and in
expected revenue ``p_extra * q_paid * E[order value net of the coupon]`` (zero for people who
already lapsed), with ``q_paid`` the probability that an order of the person ends ``paid`` (not
refunded or cancelled, by their channel mix) and the window the campaign's whole days
``[start, end + 1)``, the same definition as ``omni.uplift.campaign_outcomes`` (paid orders only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammainc

from omni.synth.config import UPLIFT_SEGMENTS, CampaignSpec, SynthConfig
from omni.synth.identities import Identities
from omni.synth.people import STORE, People
from omni.synth.purchases import Orders, draw_channel, into_store_hours
from omni.synth.reference import TOUCH_CHANNELS
from omni.synth.timeline import Timeline
from omni.synth.touches import CAMPAIGN, OPEN, SEND, VIA_EMAIL, VIA_OPENID, VIA_PHONE, Touches

__all__ = ["CampaignResult", "ScheduledCampaign", "expected_net_value", "paid_probability",
           "run_campaigns", "schedule", "segments"]

VIA_BY_CHANNEL = {"sms": VIA_PHONE, "email": VIA_EMAIL, "wechat_push": VIA_OPENID}


@dataclass
class ScheduledCampaign:
    spec: CampaignSpec
    campaign_id: str
    start: int  # first day (days since span start)
    end: int  # last day, inclusive


@dataclass
class CampaignResult:
    scheduled: list[ScheduledCampaign]
    # assignments (one row per assigned member and campaign)
    campaign: np.ndarray
    person: np.ndarray
    arm: np.ndarray  # 0 control, k + 1 = spec.arms[k]
    assigned_t: np.ndarray
    contacted: np.ndarray
    # truth per assignment
    eval_arm: np.ndarray  # arm whose uplift is given (own arm; first treatment arm for control)
    segment: np.ndarray  # index into UPLIFT_SEGMENTS
    alive: np.ndarray
    p_extra: np.ndarray
    p_no_organic: np.ndarray
    uplift_conv: np.ndarray
    uplift_revenue: np.ndarray
    extra: np.ndarray  # bool: the campaign caused an extra order for this member
    touches: Touches  # contacts (sends, opens); numbered from 0 in this order
    orders: Orders  # extra orders; ``touch`` indexes ``touches``


def schedule(cfg: SynthConfig, tl: Timeline) -> tuple[list[ScheduledCampaign], list[str]]:
    """Place campaigns in the span (relative to its end); returns (campaigns, skipped names)."""
    placed, skipped = [], []
    for spec in cfg.campaigns:
        end = tl.days - 1 - spec.end_days_before_end
        start = end - spec.duration_days + 1
        if start < 30 or end >= tl.days:
            skipped.append(spec.name)
            continue
        placed.append((start, spec.name, spec, end))
    placed.sort(key=lambda x: (x[0], x[1]))
    return [
        ScheduledCampaign(spec, f"CMP{k + 1:02d}", start, end)
        for k, (start, _, spec, end) in enumerate(placed)
    ], skipped


def expected_net_value(mean: np.ndarray, shape: float, coupon: np.ndarray) -> np.ndarray:
    """``E[max(X - c, 0.1 X)]`` for ``X ~ Gamma(shape, mean / shape)`` (coupon floor at 10%)."""
    mean = np.asarray(mean, float)
    coupon = np.asarray(coupon, float)
    theta = mean / shape
    k = coupon / 0.9
    e_min = 0.9 * mean * gammainc(shape + 1, k / theta) + coupon * (1 - gammainc(shape, k / theta))
    return np.where(coupon > 0, mean - e_min, mean)


def paid_probability(people: People, cfg: SynthConfig) -> np.ndarray:
    """Probability that an order of each person ends ``paid`` (not refunded or cancelled): the
    status probabilities of :func:`omni.synth.purchases.order_values` (stores vs online) weighted
    by the person's channel mix."""
    ecom = np.asarray(cfg.ecom_status_probs, float)
    pos = np.asarray(cfg.pos_status_probs, float)
    store = people.chan_probs[:, STORE]
    return (1 - store) * ecom[0] / ecom.sum() + store * pos[0] / pos.sum()


def segments(orders: Orders, n: int, start: float, cfg: SynthConfig) -> np.ndarray:
    """Uplift segment of every person from their orders before ``start``."""
    in_year = (orders.t >= start - 365) & (orders.t < start)
    freq = np.bincount(orders.person[in_year], minlength=n)
    last = np.full(n, -np.inf)
    before = orders.t < start
    np.maximum.at(last, orders.person[before], orders.t[before])
    lapsing = (start - last) > cfg.lapsing_days
    seg = np.where(
        lapsing, UPLIFT_SEGMENTS.index("lapsing_medium"), UPLIFT_SEGMENTS.index("active_medium")
    )
    seg = np.where(freq == 0, UPLIFT_SEGMENTS.index("dormant"), seg)
    seg = np.where(freq == 1, UPLIFT_SEGMENTS.index("light"), seg)
    seg = np.where(freq >= cfg.heavy_min_orders, UPLIFT_SEGMENTS.index("heavy"), seg)
    return seg


_CAMPAIGN_COLUMNS = ("campaign", "person", "arm", "assigned_t", "contacted", "eval_arm", "segment", "alive",
                     "p_extra", "p_no_organic", "uplift_conv", "uplift_revenue", "extra")


def run_campaigns(
    rng: np.random.Generator,
    people: People,
    ids: Identities,
    orders: Orders,
    cfg: SynthConfig,
    tl: Timeline,
) -> tuple[CampaignResult, list[str]]:
    """Assign, contact and measure every scheduled campaign; returns (result, skipped names)."""
    n = people.n
    scheduled, skipped = schedule(cfg, tl)
    base = np.array([cfg.uplift_by_segment[s] for s in UPLIFT_SEGMENTS])
    tier_mult = np.asarray(cfg.uplift_tier_mult, float)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in _CAMPAIGN_COLUMNS}
    touch_parts: list[Touches] = []
    touch_offset = 0  # index of the next campaign touch (campaign touches are numbered in order)
    extra_orders: list[Orders] = []
    registered = ~np.isnan(ids.reg_t)
    for k, sc in enumerate(scheduled):
        spec = sc.spec
        s, e = float(sc.start), float(sc.end + 1)
        history = Orders.concat([orders] + extra_orders)
        seg_all = segments(history, n, s, cfg)
        eligible = registered & (ids.reg_t < s) & ~ids.opt_out
        if spec.channel == "email":
            eligible &= ids.crm_email
        elif spec.channel == "wechat_push":
            eligible &= ids.follow[:, 0] & (ids.follow_t[:, 0] < s)
        drawn, contact_t, coupon = _assign_and_contact(
            rng, k, spec, people, eligible, seg_all, base, tier_mult, cfg, tl, s, e
        )
        for key, val in drawn.items():
            cols[key].append(val)
        # contacts are touchpoints carrying the campaign id
        chan = TOUCH_CHANNELS.index(spec.channel)
        c = np.flatnonzero(drawn["contacted"])
        parts = _contact_touches(rng, drawn["person"], c, contact_t, k, spec.channel, cfg, e)
        touch_parts.extend(parts)
        send_offset = touch_offset
        touch_offset += sum(len(t) for t in parts)
        extra_orders.append(_extra_orders(rng, people, ids, drawn, contact_t, c, chan, send_offset,
                                          k, coupon, e, tl))
    arrays = {k: (np.concatenate(v) if v else np.empty(0)) for k, v in cols.items()}
    for key in ("campaign", "person", "arm", "eval_arm", "segment"):
        arrays[key] = arrays[key].astype(np.int64)
    for key in ("contacted", "alive", "extra"):
        arrays[key] = arrays[key].astype(bool)
    result = CampaignResult(
        scheduled=scheduled,
        **arrays,
        touches=Touches.concat(touch_parts)
        if touch_parts
        else Touches.make(np.empty(0, np.int64), np.empty(0), 0, 0, 0),
        orders=Orders.concat(extra_orders) if extra_orders else Orders.empty(),
    )
    return result, skipped


def _assign_and_contact(
    rng: np.random.Generator, k: int, spec: CampaignSpec, people: People, eligible: np.ndarray,
    seg_all: np.ndarray, base: np.ndarray, tier_mult: np.ndarray, cfg: SynthConfig, tl: Timeline,
    s: float, e: float,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Draw campaign ``k``'s sample, arms, contacts and extra purchases: the campaign columns
    (:data:`_CAMPAIGN_COLUMNS`), the contact times and the coupon value of each assigned person."""
    n = people.n
    p = np.flatnonzero(eligible & (rng.random(n) < spec.reach))
    m = len(p)
    n_arms = len(spec.arms)
    arm = np.where(rng.random(m) < spec.control_share, 0, 1 + rng.integers(0, n_arms, size=m))
    assigned_t = s + (9 + rng.random(m)) / 24
    contact_t = assigned_t + rng.uniform(1 / 1440, 2 / 24, size=m)
    u = rng.random(m)
    contacted = np.where(arm > 0, u >= cfg.contact_failure, u < cfg.contamination)
    eval_arm = np.where(arm > 0, arm - 1, 0)
    seg = seg_all[p]
    effects = np.asarray(spec.arm_effects, float)[eval_arm]
    p_extra = np.clip(base[seg] * tier_mult[people.tier[p]] * effects, 0.0, 0.95)
    alive = (people.acq[p] <= contact_t) & (contact_t < people.death[p])
    # The truth is about *paid* orders in the whole window [s, e), as omni measures conversion:
    # the extra order counts only if it is paid, and an organic order makes the person convert
    # anyway only if it is paid (refunded and cancelled orders never convert).
    q_paid = paid_probability(people, cfg)[p]
    expo = tl.exposure_years(np.maximum(s, people.acq[p]), np.minimum(e, people.death[p]))
    p_no = np.exp(-people.lam[p] * q_paid * expo)
    coupon = np.asarray(spec.coupon_values, float)[eval_arm]
    net = expected_net_value(people.spend_mean[p], cfg.spend_shape, coupon)
    extra = contacted & alive & (rng.random(m) < p_extra)
    drawn = {
        "campaign": np.full(m, k), "person": p, "arm": arm, "assigned_t": assigned_t,
        "contacted": contacted, "eval_arm": eval_arm, "segment": seg, "alive": alive,
        "p_extra": p_extra, "p_no_organic": p_no, "uplift_conv": alive * p_extra * q_paid * p_no,
        "uplift_revenue": alive * p_extra * q_paid * net, "extra": extra,
    }
    return drawn, contact_t, coupon


def _contact_touches(rng: np.random.Generator, p: np.ndarray, c: np.ndarray, contact_t: np.ndarray, k: int,
                     channel: str, cfg: SynthConfig, e: float) -> list[Touches]:
    """The sends to the contacted people ``p[c]`` and, on channels with an open rate, their opens."""
    chan = TOUCH_CHANNELS.index(channel)
    sends = Touches.make(
        p[c], contact_t[c], chan, SEND, VIA_BY_CHANNEL[channel], campaign=k, kind=CAMPAIGN
    )
    parts = [sends]
    if channel in cfg.open_rate:
        hit = rng.random(len(c)) < cfg.open_rate[channel] * 1.3
        opens = sends.take(np.flatnonzero(hit))
        opens.ttype = np.full(len(opens), OPEN, np.int8)
        opens.t = opens.t + rng.exponential(0.25, size=len(opens))
        opens = opens.take(np.flatnonzero(opens.t < e))
        parts.append(opens)
    return parts


def _extra_orders(rng: np.random.Generator, people: People, ids: Identities, drawn: dict[str, np.ndarray],
                  contact_t: np.ndarray, c: np.ndarray, chan: int, send_offset: int, k: int,
                  coupon: np.ndarray, e: float, tl: Timeline) -> Orders:
    """The extra purchases caused by campaign ``k`` (between the contact and the campaign's end)."""
    x = np.flatnonzero(drawn["extra"])
    t = contact_t[x] + rng.random(len(x)) * (e - contact_t[x])
    px = drawn["person"][x]
    x_channel = draw_channel(rng, people, ids, px, t)
    t = np.minimum(into_store_hours(rng, t, x_channel, tl.days), e - 1e-6)
    return Orders(
        person=px,
        t=t,
        channel=x_channel,
        cause=np.full(len(x), chan + 1),
        touch=send_offset + np.searchsorted(c, x),
        campaign=np.full(len(x), k),
        acquisition=np.zeros(len(x), bool),
        coupon=coupon[x],
    )
