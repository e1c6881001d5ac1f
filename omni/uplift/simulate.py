"""A randomized campaign with known effects, in the unified-table layout of the data contract.

Used by the tests, the benchmark and the notebook's demo mode. Every person has a latent daily
purchase rate (segment level x gamma heterogeneity) that drives both pre-period orders and the
baseline conversion in the campaign window, so pre_revenue predicts the outcome (CUPED works).
A contacted treated person converts with probability p0 + u, where the true uplift u depends on
the RFM segment and the preferred channel; the revenue effect comes through the extra converters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from omni.uplift._common import CONTROL

__all__ = [
    "CHANNEL_PREF_ADJ",
    "DEFAULT_UPLIFT",
    "ORDER_CHANNELS",
    "SEGMENTS",
    "SEGMENT_RATE",
    "SEGMENT_SHARES",
    "SimulatedCampaign",
    "simulate_campaign",
]

SEGMENTS = ("champions", "loyal", "potential", "at_risk", "hibernating")
SEGMENT_SHARES = (0.10, 0.20, 0.25, 0.20, 0.25)
SEGMENT_RATE = (0.030, 0.015, 0.008, 0.004, 0.0015)  # mean paid orders per day
DEFAULT_UPLIFT = {  # absolute uplift in conversion probability when contacted
    "champions": 0.005,
    "loyal": 0.02,
    "potential": 0.04,
    "at_risk": 0.03,
    "hibernating": 0.01,
}
CHANNEL_PREF_ADJ = {"online": 0.01, "omni": 0.0, "offline": -0.01}
ORDER_CHANNELS = ("tmall", "jd", "douyin", "site", "store")
_SIM_STREAM = 0x51A


class SimulatedCampaign(NamedTuple):
    """Unified tables of one simulated campaign plus the truth."""

    assignments: pd.DataFrame
    orders: pd.DataFrame
    campaigns: pd.DataFrame
    covariates: pd.DataFrame
    truth: pd.DataFrame


def _times(rng: np.random.Generator, start: pd.Timestamp, days: float, n: int) -> np.ndarray:
    secs = rng.uniform(0.0, days * 86400.0, size=n)
    return (start + pd.to_timedelta(np.floor(secs), unit="s")).to_numpy()


def simulate_campaign(
    n_persons: int = 20_000,
    seed: int = 0,
    arms: Sequence[str] = ("coupon",),
    control_share: float = 0.5,
    uplift: Mapping[str, float] | None = None,
    arm_scale: Mapping[str, float] | None = None,
    contact_rate: float = 0.95,
    control_contact_rate: float = 0.0,
    start_date: str = "2026-03-01",
    end_date: str = "2026-03-14",
    pre_days: int = 90,
    campaign_id: str = "C0001",
    cost_per_contact: float = 0.3,
    coupon_value: float = 20.0,
) -> SimulatedCampaign:
    """Simulate one randomized campaign.

    Parameters
    ----------
    n_persons
        People assigned (all of them; control gets ``control_share``, the arms split the rest).
    seed
        Random seed: same seed, same tables.
    arms
        Treatment arm names.
    uplift
        RFM segment -> absolute uplift in conversion probability when contacted (default
        :data:`DEFAULT_UPLIFT`); the preferred channel adds :data:`CHANNEL_PREF_ADJ`.
    arm_scale
        Arm -> multiplier of the uplift (default 1 for every arm).
    contact_rate, control_contact_rate
        Probability that a treated / control person is actually contacted (only contacted
        people get the effect; control contacts simulate contamination but have no effect here).

    Returns
    -------
    SimulatedCampaign
        assignments, orders (paid plus refunded/cancelled noise, walk-in orders without oneid,
        orders before and after the windows), campaigns (one row), covariates (oneid,
        rfm_segment, clv_tier, channel_pref, city_tier) and truth (oneid, arm, the person's
        true intention-to-treat uplift in conversion probability and expected revenue for each
        treatment arm, plus the covariates).
    """
    if n_persons < 10:
        raise ValueError(f"n_persons must be >= 10, got {n_persons}")
    rng = np.random.default_rng([int(seed), _SIM_STREAM])
    uplift = dict(DEFAULT_UPLIFT if uplift is None else uplift)
    arms = list(arms)
    scale = {a: 1.0 for a in arms} | dict(arm_scale or {})
    start = pd.Timestamp(start_date)
    end_excl = pd.Timestamp(end_date) + pd.Timedelta(days=1)
    window_days = (end_excl - start).days
    n = int(n_persons)

    oneid = np.char.add("O", np.char.zfill(np.arange(1, n + 1).astype(str), 9))
    seg_idx, pref, city_tier, rate, spend, clv_tier = _draw_people(rng, n)
    segment = np.asarray(SEGMENTS)[seg_idx]
    arm, contacted, p0, u_base, n_win, extra_rate = _draw_response(
        rng, n, arms, scale, uplift, control_share, contact_rate, control_contact_rate, seg_idx, pref, rate,
        window_days)
    orders = _draw_orders(rng, oneid, spend, rate, n_win, start, end_excl, window_days, pre_days)

    assignments = pd.DataFrame(
        {
            "campaign_id": campaign_id,
            "assignment_key": np.char.add(
                "campaign_assignments:A", np.char.zfill(np.arange(n).astype(str), 9)
            ),
            "oneid": oneid,
            "arm": arm,
            "assigned_time": _times(rng, start - pd.Timedelta(days=1), 1, n),
            "contacted": contacted,
        }
    )
    campaigns = pd.DataFrame(
        {
            "campaign_id": [campaign_id],
            "name": ["simulated campaign"],
            "channel": ["sms"],
            "start_date": [start.normalize()],
            "end_date": [pd.Timestamp(end_date).normalize()],
            "arms": ["|".join([CONTROL, *arms])],
            "control_share": [control_share],
            "cost_per_contact": [cost_per_contact],
            "coupon_value": [coupon_value],
        }
    )
    covariates = pd.DataFrame(
        {"oneid": oneid, "rfm_segment": segment, "clv_tier": clv_tier, "channel_pref": pref,
         "city_tier": city_tier}
    )
    rev_per_conversion = spend * (1.0 + extra_rate)  # E[revenue | converted]
    truth = _campaign_truth(covariates, arms, scale, u_base, p0, contact_rate, rev_per_conversion)
    return SimulatedCampaign(assignments, orders, campaigns, covariates, truth)


def _draw_people(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Segment index, preferred channel, city tier, purchase rate, spend and CLV tier per person."""
    seg_idx = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARES)
    pref = rng.choice(list(CHANNEL_PREF_ADJ), size=n, p=[0.45, 0.30, 0.25])
    city_tier = rng.choice(
        ["tier1", "tier2", "tier3", "tier4", "tier5"], size=n, p=[0.15, 0.30, 0.25, 0.2, 0.1]
    )
    rate = np.asarray(SEGMENT_RATE)[seg_idx] * rng.gamma(2.0, 0.5, size=n)
    spend = np.exp(rng.normal(np.log(150.0), 0.5, size=n))
    value = rate * spend
    clv_tier = np.where(
        value >= np.quantile(value, 0.8), "high", np.where(value >= np.quantile(value, 0.4), "mid", "low")
    )
    return seg_idx, pref, city_tier, rate, spend, clv_tier


def _draw_response(
    rng: np.random.Generator, n: int, arms: list[str], scale: dict[str, float], uplift: dict[str, float],
    control_share: float, contact_rate: float, control_contact_rate: float, seg_idx: np.ndarray,
    pref: np.ndarray, rate: np.ndarray, window_days: int,
) -> tuple[np.ndarray, ...]:
    """Arm, contact and conversion draws: arm, contacted, the baseline conversion probability p0,
    the per-person base uplift, the window's paid orders per person and the extra order rate."""
    # assignment
    shares = [control_share] + [(1.0 - control_share) / len(arms)] * len(arms)
    arm = np.asarray([CONTROL, *arms])[rng.choice(len(arms) + 1, size=n, p=shares)]
    treated = arm != CONTROL
    contacted = np.where(
        treated, rng.random(n) < contact_rate, rng.random(n) < control_contact_rate
    )

    # conversion in the window
    p0 = 1.0 - np.exp(-rate * window_days)
    u_base = (
        np.array([uplift.get(s, 0.0) for s in SEGMENTS])[seg_idx]
        + pd.Series(pref).map(CHANNEL_PREF_ADJ).to_numpy()
    )
    arm_mult = pd.Series(arm).map({**scale, CONTROL: 0.0}).to_numpy(dtype="float64")
    u_person = np.clip(u_base * arm_mult, -p0, 1.0 - p0)
    converted = rng.random(n) < p0 + np.where(treated & contacted, u_person, 0.0)
    extra_rate = 0.5 * rate * window_days
    n_win = np.where(converted, 1 + rng.poisson(extra_rate), 0)
    return arm, contacted, p0, u_base, n_win, extra_rate


def _draw_orders(
    rng: np.random.Generator, oneid: np.ndarray, spend: np.ndarray, rate: np.ndarray, n_win: np.ndarray,
    start: pd.Timestamp, end_excl: pd.Timestamp, window_days: int, pre_days: int,
) -> pd.DataFrame:
    """Orders: window, pre-period, after the window (not counted), noise statuses, walk-ins."""
    n = len(oneid)
    # orders: window, pre-period, after the window (not counted), noise statuses, walk-ins
    n_pre = rng.poisson(rate * pre_days)
    n_post = rng.poisson(rate * 10)
    n_noise = rng.poisson(0.05, size=n)  # refunded/cancelled orders in the window
    parts = []
    for counts, t0, days, status in (
        (n_win, start, window_days, "paid"),
        (n_pre, start - pd.Timedelta(days=pre_days), pre_days, "paid"),
        (n_post, end_excl, 10, "paid"),
        (n_noise, start, window_days, None),
    ):
        who = np.repeat(np.arange(n), counts)
        m = len(who)
        st = (
            np.full(m, status, dtype=object)
            if status
            else rng.choice(np.array(["refunded", "cancelled"], dtype=object), size=m)
        )
        parts.append(
            pd.DataFrame(
                {
                    "oneid": oneid[who],
                    "order_time": _times(rng, t0, days, m),
                    "amount": np.round(spend[who] * rng.gamma(4.0, 0.25, size=m), 2),
                    "status": st,
                }
            )
        )
    m_walk = max(n // 50, 1)
    parts.append(
        pd.DataFrame(
            {
                "oneid": np.full(m_walk, None, dtype=object),
                "order_time": _times(rng, start, window_days, m_walk),
                "amount": np.round(rng.gamma(4.0, 40.0, size=m_walk), 2),
                "status": "paid",
            }
        )
    )
    orders = pd.concat(parts, ignore_index=True)
    orders = orders.sort_values("order_time", kind="stable").reset_index(drop=True)
    n_ord = len(orders)
    orders.insert(0, "order_key", np.char.add("ecom_orders:OD", np.arange(n_ord).astype(str)))
    orders["channel"] = np.asarray(ORDER_CHANNELS)[rng.integers(0, len(ORDER_CHANNELS), n_ord)]
    orders["source"] = np.where(orders["channel"] == "store", "pos_orders", "ecom_orders")
    orders["category"] = "general"
    orders = orders[
        ["order_key", "source", "channel", "oneid", "order_time", "amount", "status", "category"]
    ]
    return orders


def _campaign_truth(
    covariates: pd.DataFrame, arms: list[str], scale: dict[str, float], u_base: np.ndarray, p0: np.ndarray,
    contact_rate: float, rev_per_conversion: np.ndarray,
) -> pd.DataFrame:
    """Each person's true intention-to-treat uplift per treatment arm, with the covariates."""
    truth_parts = []
    for a in arms:
        u_a = np.clip(u_base * scale[a], -p0, 1.0 - p0) * contact_rate
        truth_parts.append(
            covariates.assign(
                arm=a,
                true_uplift_conversion=u_a,
                true_uplift_revenue=u_a * rev_per_conversion,
                baseline_conversion=p0,
            )
        )
    truth = pd.concat(truth_parts, ignore_index=True)
    truth = truth[["oneid", "arm", "true_uplift_conversion", "true_uplift_revenue",
                   "baseline_conversion", "rfm_segment", "clv_tier", "channel_pref", "city_tier"]]
    return truth
