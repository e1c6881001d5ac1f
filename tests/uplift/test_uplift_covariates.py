"""Covariates measured before a campaign starts (omni.uplift.covariates): RFM class, CLV tier, mix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omni import uplift as U
from omni.uplift.covariates import NO_PURCHASE, RECENCY_CAP_DAYS, covariates_of_value
from omni.value import rfm_of_orders, value_of_orders


def _orders(rows):
    return pd.DataFrame(rows, columns=["oneid", "order_time", "amount", "status", "channel"]).assign(
        order_time=lambda d: pd.to_datetime(d["order_time"]))


def _covariates(orders, start, people, clv=True):
    """The covariates from customer value of an orders table (the workspace path reads the same)."""
    value = value_of_orders(orders, start, model="bgnbd", check=False) if clv else None
    return covariates_of_value(rfm_of_orders(orders, start), start, people, value=value, clv=clv)


def test_pre_period_covariates_follow_the_rfm_rules_and_ignore_the_campaign_window():
    start = "2026-06-01"
    rows = [
        # A: recent, frequent, big -> important value
        ("A", "2026-05-20", 500.0, "paid", "tmall"), ("A", "2026-05-25", 500.0, "paid", "store"),
        ("A", "2026-05-30", 500.0, "paid", "tmall"),
        # B: one old small order -> general win-back, online only
        ("B", "2025-09-01", 50.0, "paid", "jd"),
        # C: one old big order -> important win-back, store only
        ("C", "2025-10-01", 2000.0, "paid", "store"),
        # D: only refunded before, a paid order during the campaign -> no purchase
        ("D", "2026-05-01", 80.0, "refunded", "site"), ("D", "2026-06-03", 80.0, "paid", "site"),
        # E: recent small orders -> general value (R good, F high, M low)
        ("E", "2026-05-28", 10.0, "paid", "site"), ("E", "2026-05-29", 10.0, "paid", "site"),
        ("E", "2026-05-31", 10.0, "paid", "site"), ("E", "2026-05-31", 10.0, "paid", "site"),
    ]
    cov = _covariates(_orders(rows), start, people=["A", "B", "C", "D", "E", "F"],
                      clv=False).set_index("oneid")
    assert cov["rfm_segment"].to_dict() == {
        "A": "important value", "B": "general win-back", "C": "important win-back",
        "D": NO_PURCHASE, "E": "general value", "F": NO_PURCHASE,
    }
    assert cov.loc["A", "pre_channel_mix"] == "omnichannel"
    assert cov.loc["B", "pre_channel_mix"] == "online only"
    assert cov.loc["C", "pre_channel_mix"] == "store only"
    assert cov.loc["F", "log_recency"] == pytest.approx(np.log1p(RECENCY_CAP_DAYS))
    # observation ends the day before the start (May 31); A last bought on May 30
    assert cov.loc["A", "log_recency"] == pytest.approx(np.log1p(1))
    assert cov.loc["E", "log_frequency"] == pytest.approx(np.log1p(4))
    # orders from the start on never change the covariates (they are outcomes)
    later = rows + [("B", "2026-06-01", 9999.0, "paid", "store"), ("F", "2026-06-05", 10.0, "paid", "jd")]
    cov2 = _covariates(_orders(later), start, people=list("ABCDEF"), clv=False)
    pd.testing.assert_frame_equal(cov.reset_index(), cov2)


def test_pre_period_covariates_drop_negative_amounts_with_a_note_and_tier_clv():
    sim = U.simulate_campaign(3000, seed=5)
    o = sim.orders.copy()
    start = sim.campaigns["start_date"].iloc[0]
    bad = o.index[((o["status"] == "paid") & (o["order_time"] < start)).to_numpy()][5]
    o.loc[bad, "amount"] = -12.0
    cov = _covariates(o, start, people=sim.assignments["oneid"])
    # the negative order is left out, as if it had never been placed, and said so (one note)
    clean = _covariates(o.drop(bad), start, people=sim.assignments["oneid"])
    pd.testing.assert_frame_equal(cov, clean)
    # (compared by content: a model-fit note may come and go with floating-point paths on a busy machine)
    assert sum(f"1 paid order(s) before {start:%Y-%m-%d} with a negative" in w for w in cov.attrs["warnings"]) == 1
    assert not any("with a negative" in w for w in clean.attrs["warnings"])
    tiers = cov["clv_tier"].value_counts()
    buyers = (cov["rfm_segment"] != NO_PURCHASE).sum()
    assert set(tiers.index) <= {"A", "B", "C", "D", NO_PURCHASE}
    assert tiers.get(NO_PURCHASE, 0) == len(cov) - buyers
    # tiers are ranked by CLV: A has the highest mean log CLV
    m = cov.groupby("clv_tier")["log_clv"].mean()
    assert m["A"] > m["B"] > m["C"] > m["D"]
