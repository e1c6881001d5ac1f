"""Simulated touchpoints and orders with known channel effects (for tests, benchmarks, demos).

The world works like the synthetic generator's truth: every person may convert on their own
(*organic* conversions, a Poisson process), and every touch of channel ``c`` independently
triggers a conversion with probability ``trigger[c]`` after an exponential delay. A channel with
``trigger = 0`` only adds non-causal background touches. Each order records its true cause
(``organic`` or the triggering channel), so the true share of channel ``c`` is
``caused by c / all touch-caused conversions`` (:func:`omni.attribution.evaluation.true_channel_shares`).

Generated with array operations only (one pass per channel), so a million orders take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_CHANNELS", "SimulatedData", "simulate_attribution_data"]

DEFAULT_CHANNELS = pd.DataFrame(
    {
        # fraction of persons the channel reaches, mean touches per reached person over the period,
        # probability that one touch triggers an order, touch type, cost per touch (CNY)
        "channel": ["search", "display", "sms", "email", "social_kol", "wechat_push"],
        "reach": [0.30, 0.80, 0.40, 0.50, 0.20, 0.30],
        "touches": [2.0, 8.0, 3.0, 4.0, 2.0, 3.0],
        "trigger": [0.10, 0.00, 0.03, 0.01, 0.05, 0.02],
        "touch_type": ["click", "click", "send", "open", "click", "open"],
        "cost_per_touch": [1.5, 0.05, 0.05, 0.01, 2.0, 0.02],
    }
)
"""Default channels: ``search`` is strong, ``display`` numerous but useless (trigger 0)."""

_SALES_CHANNELS = np.array(["tmall", "jd", "douyin", "site", "store"])
_SALES_P = np.array([0.35, 0.2, 0.15, 0.15, 0.15])
_SOURCE = {
    "tmall": "ecom_orders",
    "jd": "ecom_orders",
    "douyin": "ecom_orders",
    "site": "ecom_orders",
    "store": "pos_orders",
}


@dataclass
class SimulatedData:
    """Output of :func:`simulate_attribution_data` (frames follow the data contract)."""

    touchpoints: pd.DataFrame  # touch_key, oneid, touch_time, channel, touch_type, campaign_id
    orders: pd.DataFrame  # order_key, source, channel, oneid, order_time, amount, status, category
    causes: pd.DataFrame  # order_key, cause ("organic" or the triggering channel)
    channel_spend: pd.DataFrame  # date, channel, spend
    channels: pd.DataFrame  # the channel parameters used


def simulate_attribution_data(
    n_persons: int = 10_000,
    channels: pd.DataFrame | None = None,
    days: int = 90,
    organic_rate: float = 0.3,
    mean_delay_days: float = 2.0,
    refund_rate: float = 0.05,
    start: str = "2025-01-01",
    seed: int = 0,
) -> SimulatedData:
    """Simulate touches and orders with known causes.

    Parameters
    ----------
    n_persons
        Number of people.
    channels
        One row per channel: ``channel``, ``reach``, ``touches``, ``trigger``, ``touch_type``
        and ``cost_per_touch`` (default :data:`DEFAULT_CHANNELS`).
    days
        Length of the period; touches are uniform over it, orders after it are not observed.
    organic_rate
        Expected organic orders per person over the period.
    mean_delay_days
        Mean of the exponential delay from a triggering touch to its order.
    refund_rate
        Share of orders with status ``refunded`` (not conversions); the rest are ``paid``.
    start
        First day of the period.
    seed
        Random seed (same seed, same data).

    Returns
    -------
    SimulatedData
    """
    ch = (DEFAULT_CHANNELS if channels is None else channels).reset_index(drop=True)
    needed = ["channel", "reach", "touches", "trigger", "touch_type", "cost_per_touch"]
    missing = [c for c in needed if c not in ch.columns]
    if missing:
        raise ValueError(f"channels is missing column(s) {missing}")
    if n_persons < 1 or days < 1:
        raise ValueError("n_persons and days must be >= 1")
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp(start).value
    span = days * 86_400 * 10**9

    t_pid, t_time, t_chan = _draw_touches(rng, ch, n_persons, t0, span)

    o_pid, o_time, o_cause = _draw_orders(rng, ch, t_pid, t_time, t_chan, n_persons, organic_rate,
                                          mean_delay_days, t0, span)
    n_o = len(o_pid)

    t_srt = np.lexsort((t_time, t_pid))
    t_pid, t_time, t_chan = t_pid[t_srt], t_time[t_srt], t_chan[t_srt]

    oneids = np.char.add("O", np.char.zfill(np.arange(1, n_persons + 1).astype(str), 9))
    names = ch["channel"].astype(str).to_numpy()
    touchpoints = pd.DataFrame(
        {
            "touch_key": pd.array(_keys("touchpoints:T", len(t_pid)), dtype="string"),
            "oneid": pd.array(oneids[t_pid], dtype="string"),
            "touch_time": t_time.view("datetime64[ns]"),
            "channel": names[t_chan],
            "touch_type": ch["touch_type"].astype(str).to_numpy()[t_chan],
            "campaign_id": pd.array([pd.NA] * len(t_pid), dtype="string"),
        }
    )
    sales = _SALES_CHANNELS[rng.choice(len(_SALES_CHANNELS), n_o, p=_SALES_P)]
    order_keys = pd.array(_keys("orders:S", n_o), dtype="string")
    orders = pd.DataFrame(
        {
            "order_key": order_keys,
            "source": pd.Series(sales).map(_SOURCE).to_numpy(),
            "channel": sales,
            "oneid": pd.array(oneids[o_pid], dtype="string"),
            "order_time": o_time.view("datetime64[ns]"),
            "amount": np.round(rng.lognormal(np.log(200.0), 0.6, n_o), 2),
            "status": np.where(rng.random(n_o) < refund_rate, "refunded", "paid"),
            "category": "general",
        }
    )
    causes = pd.DataFrame(
        {
            "order_key": order_keys,
            "cause": np.where(o_cause >= 0, names[np.maximum(o_cause, 0)], "organic"),
        }
    )
    spend = _daily_spend(ch, names, t_time, t_chan, t0, start)
    return SimulatedData(touchpoints, orders, causes, spend, ch.copy())


def _draw_touches(rng: np.random.Generator, ch: pd.DataFrame, n_persons: int, t0: int,
                  span: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Person, time (ns) and channel index of every touch, one vectorized pass per channel."""
    t_pid, t_time, t_chan = [], [], []
    for k in range(len(ch)):  # one vectorized pass per channel
        reached = np.flatnonzero(rng.random(n_persons) < ch.at[k, "reach"])
        n_touch = rng.poisson(ch.at[k, "touches"], len(reached))
        t_pid.append(np.repeat(reached, n_touch))
        t_time.append(t0 + (rng.random(n_touch.sum()) * span).astype(np.int64))
        t_chan.append(np.full(n_touch.sum(), k, dtype=np.int64))
    t_pid = np.concatenate(t_pid)
    t_time = np.concatenate(t_time)
    t_chan = np.concatenate(t_chan)
    return t_pid, t_time, t_chan


def _draw_orders(
    rng: np.random.Generator, ch: pd.DataFrame, t_pid: np.ndarray, t_time: np.ndarray, t_chan: np.ndarray,
    n_persons: int, organic_rate: float, mean_delay_days: float, t0: int, span: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orders triggered by touches (after an exponential delay) and organic ones, those inside the
    period, sorted by (person, time): person, time (ns) and cause (channel index, -1 organic)."""
    day_ns = 86_400 * 10**9
    triggers = rng.random(len(t_pid)) < ch["trigger"].to_numpy()[t_chan]
    delay = (rng.exponential(mean_delay_days, triggers.sum()) * day_ns).astype(np.int64)
    trig_pid, trig_time = t_pid[triggers], t_time[triggers] + delay
    trig_cause = t_chan[triggers]

    n_org = rng.poisson(organic_rate, n_persons)
    org_pid = np.repeat(np.arange(n_persons), n_org)
    org_time = t0 + (rng.random(n_org.sum()) * span).astype(np.int64)

    o_pid = np.concatenate([trig_pid, org_pid])
    o_time = np.concatenate([trig_time, org_time])
    o_cause = np.concatenate([trig_cause, np.full(len(org_pid), -1)])
    seen = o_time < t0 + span
    o_pid, o_time, o_cause = o_pid[seen], o_time[seen], o_cause[seen]
    srt = np.lexsort((o_time, o_pid))
    o_pid, o_time, o_cause = o_pid[srt], o_time[srt], o_cause[srt]
    return o_pid, o_time, o_cause


def _daily_spend(ch: pd.DataFrame, names: np.ndarray, t_time: np.ndarray, t_chan: np.ndarray, t0: int,
                 start: str) -> pd.DataFrame:
    """Spend per day and channel: ``date``, ``channel``, ``spend`` (cost per touch summed)."""
    day_ns = 86_400 * 10**9
    day = (t_time - t0) // day_ns
    cost = ch["cost_per_touch"].to_numpy(dtype=float)[t_chan]
    spend = (
        pd.DataFrame({"day": day, "channel": names[t_chan], "spend": cost})
        .groupby(["day", "channel"], as_index=False)["spend"]
        .sum()
    )
    spend.insert(
        0, "date", (pd.Timestamp(start) + pd.to_timedelta(spend.pop("day"), unit="D")).dt.date
    )
    spend["spend"] = spend["spend"].round(2)
    return spend


def _keys(prefix: str, n: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), 9))
