"""Touchpoints (ads, KOL content, search, SMS, email, WeChat pushes) and the orders they cause.

Three kinds of touches are drawn:

* background touches at channel-specific rates over each person's exposure window (ads reach
  people a while before they are acquired and after they lapse; CRM messages go to members until
  the end of the span);
* intent touches: a share of organic online orders is preceded by a search click or a retargeting
  impression. They are footprints of a purchase already decided and cause nothing, which is what
  makes naive last-touch attribution over-credit search/display;
* campaign contacts (:mod:`omni.synth.campaigns`), whose effect is the campaign uplift.

Every background touch made while the person is alive triggers an extra purchase within a few
days with probability ``touch_effects["<channel>:<type>"]`` (the attribution truth).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from omni.synth.config import SynthConfig
from omni.synth.identities import Identities
from omni.synth.people import STORE, People
from omni.synth.purchases import Orders, draw_channel, into_store_hours
from omni.synth.reference import TOUCH_CHANNELS, TOUCH_TYPES
from omni.synth.timeline import Timeline

__all__ = ["Touches", "ad_identifier", "background_touches", "effect_table", "follow_ups",
           "intent_touches", "triggered_orders"]

SEARCH, DISPLAY, SOCIAL, SMS, EMAIL, WECHAT = range(6)
IMPRESSION, CLICK, SEND, OPEN = range(4)
# identifier a touch carries
VIA_DEVICE, VIA_COOKIE, VIA_PHONE, VIA_EMAIL, VIA_OPENID = range(5)
# why a touch exists: background (causal), intent (footprint of a decided purchase), campaign
BACKGROUND, INTENT, CAMPAIGN = range(3)
# share of ad touches seen through a device id (else a cookie) per ad channel
DEVICE_SHARE = {SEARCH: 0.25, DISPLAY: 0.70, SOCIAL: 0.90}


@dataclass
class Touches:
    """One row per touch."""

    person: np.ndarray
    t: np.ndarray
    channel: np.ndarray  # index into TOUCH_CHANNELS
    ttype: np.ndarray  # index into TOUCH_TYPES
    campaign: np.ndarray  # -1 unless a campaign contact
    via: np.ndarray  # VIA_* identifier kind
    slot: np.ndarray  # device/cookie slot of the person (0..2)
    kind: np.ndarray  # BACKGROUND, INTENT or CAMPAIGN

    # compact dtypes: millions of rows are sorted, filtered and concatenated
    DTYPES = {
        "person": np.int32,
        "t": np.float64,
        "channel": np.int8,
        "ttype": np.int8,
        "campaign": np.int16,
        "via": np.int8,
        "slot": np.int8,
        "kind": np.int8,
    }

    def __post_init__(self) -> None:
        for name, dtype in self.DTYPES.items():
            setattr(self, name, np.asarray(getattr(self, name), dtype))

    def __len__(self) -> int:
        return len(self.person)

    def take(self, idx: np.ndarray) -> Touches:
        return Touches(*(getattr(self, f.name)[idx] for f in fields(self)))

    @staticmethod
    def concat(parts: list[Touches]) -> Touches:
        return Touches(
            *(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Touches))
        )

    @classmethod
    def make(
        cls,
        person: np.ndarray,
        t: np.ndarray,
        channel: int | np.ndarray,
        ttype: int | np.ndarray,
        via: int | np.ndarray,
        slot: int | np.ndarray = 0,
        campaign: int | np.ndarray = -1,
        kind: int = 0,
    ) -> Touches:
        n = len(person)

        def full(v, name):
            return np.broadcast_to(np.asarray(v, cls.DTYPES[name]), (n,)).copy()

        return cls(
            person=person,
            t=t,
            channel=full(channel, "channel"),
            ttype=full(ttype, "ttype"),
            campaign=full(campaign, "campaign"),
            via=full(via, "via"),
            slot=full(slot, "slot"),
            kind=full(kind, "kind"),
        )


def ad_identifier(
    rng: np.random.Generator, ids: Identities, person: np.ndarray, channel: int
) -> tuple[np.ndarray, np.ndarray]:
    """Which identifier an ad stack sees for each touch: device (slot) or cookie (slot)."""
    n = len(person)
    device = rng.random(n) < DEVICE_SHARE[channel]
    has_dev1 = ids.dev[person, 1] >= 0
    shared = ids.share_partner[person] >= 0  # a family device gets half of the ad traffic
    dev_slot = np.where(has_dev1 & (rng.random(n) < np.where(shared, 0.5, 0.25)), 1, 0)
    n_ck = (ids.ck[person] >= 0).sum(axis=1)
    ck_slot = np.floor(rng.random(n) * n_ck).astype(np.int64)
    via = np.where(device, VIA_DEVICE, VIA_COOKIE)
    slot = np.where(device, dev_slot, ck_slot)
    return via, slot


def follow_ups(
    rng: np.random.Generator,
    base: Touches,
    rate: float,
    ttype: int,
    delay_days: np.ndarray | None = None,
) -> Touches:
    """Clicks after impressions / opens after sends, on the same identifier."""
    hit = np.flatnonzero(rng.random(len(base)) < rate)
    out = base.take(hit)
    out.ttype = np.full(len(hit), ttype, np.int8)
    delay = rng.uniform(2, 90, size=len(hit)) / 86_400 if delay_days is None else delay_days[hit]
    out.t = out.t + delay
    return out


def background_touches(
    rng: np.random.Generator, people: People, ids: Identities, cfg: SynthConfig, tl: Timeline
) -> Touches:
    """Ad impressions/clicks and routine CRM sends at channel-specific rates."""
    n = people.n
    parts: list[Touches] = []
    a = people.acq - cfg.touch_window_before_days
    b = people.death + cfg.touch_window_after_days
    for channel, rate in (
        (DISPLAY, cfg.display_impression_rate),
        (SEARCH, cfg.search_impression_rate),
        (SOCIAL, cfg.social_impression_rate),
    ):
        row, t = tl.poisson_times(rng, np.full(n, rate), a, b, seasonal=False)
        via, slot = ad_identifier(rng, ids, row, channel)
        imp = Touches.make(row, t, channel, IMPRESSION, via, slot)
        parts += [imp, follow_ups(rng, imp, cfg.click_through[TOUCH_CHANNELS[channel]], CLICK)]
    # CRM sends: to registered members who did not opt out, until the end of the span
    member = ~np.isnan(ids.reg_t) & ~ids.opt_out
    reg = np.where(member, ids.reg_t, np.inf)
    sms_rate = np.where(member, cfg.sms_send_rate, 0.0)
    row, t = tl.poisson_times(rng, sms_rate, reg, np.full(n, float(tl.days)), seasonal=False)
    parts.append(Touches.make(row, t, SMS, SEND, VIA_PHONE))
    email_rate = np.where(member & ids.crm_email, cfg.email_send_rate, 0.0)
    row, t = tl.poisson_times(rng, email_rate, reg, np.full(n, float(tl.days)), seasonal=False)
    sends = Touches.make(row, t, EMAIL, SEND, VIA_EMAIL)
    opens = follow_ups(
        rng, sends, cfg.open_rate["email"], OPEN, rng.exponential(0.3, size=len(sends))
    )
    parts += [sends, opens]
    oa = ids.follow[:, 0]
    push_rate = np.where(oa, cfg.wechat_push_rate, 0.0)
    row, t = tl.poisson_times(
        rng, push_rate, ids.follow_t[:, 0], np.full(n, float(tl.days)), seasonal=False
    )
    sends = Touches.make(row, t, WECHAT, SEND, VIA_OPENID)
    opens = follow_ups(
        rng, sends, cfg.open_rate["wechat_push"], OPEN, rng.exponential(0.2, size=len(sends))
    )
    parts += [sends, opens]
    return Touches.concat(parts)


def intent_touches(
    rng: np.random.Generator, orders: Orders, ids: Identities, cfg: SynthConfig
) -> Touches:
    """Non-causal touches right before organic online orders (people search before buying)."""
    online = np.flatnonzero(orders.channel != STORE)
    parts = []
    hit = online[rng.random(len(online)) < cfg.intent_search_click]
    t = np.maximum(orders.t[hit] - rng.exponential(0.4, size=len(hit)) - 5 / 1440, 0.0)
    via, slot = ad_identifier(rng, ids, orders.person[hit], SEARCH)
    imp = Touches.make(orders.person[hit], t, SEARCH, IMPRESSION, via, slot, kind=INTENT)
    parts += [imp, follow_ups(rng, imp, 1.0, CLICK, np.full(len(hit), 20 / 86_400))]
    hit = online[rng.random(len(online)) < cfg.intent_display_impression]
    t = np.maximum(orders.t[hit] - rng.uniform(0.05, 3.0, size=len(hit)), 0.0)
    via, slot = ad_identifier(rng, ids, orders.person[hit], DISPLAY)
    parts.append(Touches.make(orders.person[hit], t, DISPLAY, IMPRESSION, via, slot, kind=INTENT))
    return Touches.concat(parts)


def effect_table(cfg: SynthConfig) -> np.ndarray:
    """``(channel, type)`` matrix of the per-touch purchase trigger probability."""
    e = np.zeros((len(TOUCH_CHANNELS), len(TOUCH_TYPES)))
    for key, p in cfg.touch_effects.items():
        c, t = key.split(":")
        e[TOUCH_CHANNELS.index(c), TOUCH_TYPES.index(t)] = p
    return e


def triggered_orders(
    rng: np.random.Generator,
    touches: Touches,
    people: People,
    ids: Identities,
    cfg: SynthConfig,
    tl: Timeline,
) -> Orders:
    """Extra purchases caused by background touches made while the person was alive."""
    e = effect_table(cfg)[touches.channel, touches.ttype]
    p = touches.person
    alive = (touches.t >= people.acq[p]) & (touches.t < people.death[p])
    alive &= touches.kind == BACKGROUND
    hit = np.flatnonzero(alive & (rng.random(len(touches)) < e))
    delay = (
        np.minimum(
            rng.gamma(1.5, cfg.trigger_delay_mean_days / 1.5, size=len(hit)),
            cfg.trigger_delay_max_days,
        )
        + 10 / 1440
    )
    t = touches.t[hit] + delay
    keep = t < tl.days
    hit, t = hit[keep], t[keep]
    person = touches.person[hit]
    channel = draw_channel(rng, people, ids, person, t)
    t = into_store_hours(rng, t, channel, tl.days)
    n = len(hit)
    return Orders(
        person=person,
        t=t,
        channel=channel,
        cause=touches.channel[hit] + 1,
        touch=hit,
        campaign=np.full(n, -1, np.int64),
        acquisition=np.zeros(n, bool),
        coupon=np.zeros(n),
    )
