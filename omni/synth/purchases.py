"""Orders: organic purchases from the latent process, and their channel, value and status.

An order's true cause is ``organic`` (acquisition order or a repeat purchase of the latent
Pareto/NBD process), a touchpoint channel (a touch triggered it, :mod:`omni.synth.touches`) or a
campaign (:mod:`omni.synth.campaigns`, cause = the campaign's contact channel).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from omni.synth.config import SynthConfig
from omni.synth.identities import Identities
from omni.synth.people import SITE, STORE, People
from omni.synth.text import categorical_draw
from omni.synth.timeline import ONLINE_HOURS, STORE_HOURS, Timeline

__all__ = ["ORGANIC", "OrderValues", "Orders", "draw_channel", "into_store_hours", "order_values",
           "organic_orders", "time_of_day"]

ORGANIC = 0  # cause code; touch channel k has cause k + 1


@dataclass
class Orders:
    """One row per order (any channel)."""

    person: np.ndarray
    t: np.ndarray  # days since start
    channel: np.ndarray  # index into ORDER_CHANNELS
    cause: np.ndarray  # 0 organic, k + 1 = TOUCH_CHANNELS[k]
    touch: np.ndarray  # index of the causing touch, -1
    campaign: np.ndarray  # index of the causing campaign, -1
    acquisition: np.ndarray  # bool: the person's first purchase
    coupon: np.ndarray  # coupon value deducted (CNY)

    DTYPES = {
        "person": np.int32,
        "t": np.float64,
        "channel": np.int8,
        "cause": np.int8,
        "touch": np.int32,
        "campaign": np.int16,
        "acquisition": bool,
        "coupon": np.float64,
    }

    def __post_init__(self) -> None:
        for name, dtype in self.DTYPES.items():
            setattr(self, name, np.asarray(getattr(self, name), dtype))

    def __len__(self) -> int:
        return len(self.person)

    @classmethod
    def empty(cls) -> Orders:
        return cls(*(np.empty(0, dtype=d) for d in cls.DTYPES.values()))

    def take(self, idx: np.ndarray) -> Orders:
        return Orders(*(getattr(self, f.name)[idx] for f in fields(self)))

    @staticmethod
    def concat(parts: list[Orders]) -> Orders:
        return Orders(
            *(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Orders))
        )

    def sorted(self) -> Orders:
        return self.take(np.lexsort((self.person, self.t)))


def draw_channel(
    rng: np.random.Generator, people: People, ids: Identities, person: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """Order channel from the person's mix; no own-site orders before the member registered."""
    chan = categorical_draw(rng, people.chan_probs, person)
    reg = ids.reg_t[person]
    early = (chan == SITE) & ~(t >= reg)  # nan reg (non-member) counts as early
    if early.any():
        probs = people.chan_probs.copy()
        probs[:, SITE] = 0.0
        probs[probs.sum(axis=1) == 0, STORE] = 1.0
        chan[early] = categorical_draw(rng, probs, person[early])
    return chan


def time_of_day(
    rng: np.random.Generator, tl: Timeline, t: np.ndarray, channel: np.ndarray
) -> np.ndarray:
    """Redraw the clock time of organic orders: stores open 10-22h, online peaks in the evening."""
    out = tl.with_time_of_day(rng, t, ONLINE_HOURS)
    store = channel == STORE
    out[store] = tl.with_time_of_day(rng, t[store], STORE_HOURS)
    return np.minimum(out, np.nextafter(tl.days, 0))


def into_store_hours(
    rng: np.random.Generator, t: np.ndarray, channel: np.ndarray, days: int
) -> np.ndarray:
    """Move store orders outside 10:00-22:00 to the next opening hours (never earlier)."""
    t = np.asarray(t, float).copy()
    day = np.floor(t)
    frac = t - day
    start = 10 / 24 + rng.uniform(0, 2 / 24, size=len(t))
    early = (channel == STORE) & (frac < 10 / 24)
    late = (channel == STORE) & (frac >= 22 / 24)
    moved = np.where(early, day + start, np.where(late, day + 1 + start, t))
    return np.where(moved < days, moved, t)


def organic_orders(
    rng: np.random.Generator, people: People, ids: Identities, tl: Timeline
) -> Orders:
    """Acquisition orders inside the span plus repeat purchases while alive (Poisson, seasonal)."""
    acq_rows = np.flatnonzero((people.acq >= 0) & (people.acq < tl.days))
    a = people.alive_start
    b = np.minimum(people.death, tl.days)
    row, t = tl.poisson_times(rng, people.lam, a, b)
    person = np.concatenate([acq_rows, row])
    t = np.concatenate([people.acq[acq_rows], t])
    acquisition = np.zeros(len(person), bool)
    acquisition[: len(acq_rows)] = True
    channel = np.empty(len(person), np.int64)
    channel[: len(acq_rows)] = people.acq_channel[acq_rows]
    channel[len(acq_rows) :] = draw_channel(rng, people, ids, row, t[len(acq_rows) :])
    # keep each order on its day but give it a realistic clock time (not before acquisition)
    t_new = time_of_day(rng, tl, t, channel)
    t = np.where(acquisition, t, np.maximum(t_new, people.acq[person]))
    n = len(person)
    return Orders(
        person=person,
        t=t,
        channel=channel,
        cause=np.zeros(n, np.int64),
        touch=np.full(n, -1, np.int64),
        campaign=np.full(n, -1, np.int64),
        acquisition=acquisition,
        coupon=np.zeros(n),
    )


@dataclass
class OrderValues:
    """Value, category and status of each order (same row order as the Orders)."""

    cents: np.ndarray
    category: np.ndarray  # index into CATEGORIES
    status: np.ndarray  # ecom: 0 paid, 1 refunded, 2 cancelled; store: 0 paid, 1 refunded


def order_values(
    rng: np.random.Generator, orders: Orders, people: People, cfg: SynthConfig
) -> OrderValues:
    """Gamma-Gamma order values (minus coupons), categories by affinity, statuses."""
    m = people.spend_mean[orders.person]
    gross = rng.gamma(cfg.spend_shape, m / cfg.spend_shape)
    net = np.where(orders.coupon > 0, np.maximum(gross - orders.coupon, 0.1 * gross), gross)
    cents = np.maximum(np.round(net * 100), 990).astype(np.int64)
    category = categorical_draw(rng, people.affinity, orders.person)
    ecom_p = np.asarray(cfg.ecom_status_probs, float)
    pos_p = np.asarray(cfg.pos_status_probs, float)
    status = rng.choice(3, size=len(orders), p=ecom_p / ecom_p.sum())
    store = orders.channel == STORE
    status[store] = rng.choice(2, size=int(store.sum()), p=pos_p / pos_p.sum())
    return OrderValues(cents=cents, category=category, status=status)
