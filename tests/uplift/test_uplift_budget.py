"""Cost-aware targeting (omni.uplift.budget): hand-computed curve on eight people, capture
correction, and a simulated campaign where the true ranking has a profitable interior optimum."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from omni.uplift.budget import best_share, budget_curve


def _eight():
    return pd.DataFrame({
        "arm": ["sms", "control"] * 4,
        "converted": [1, 0, 1, 0, 0, 0, 0, 1],
        "revenue": [100.0, 0, 200, 0, 0, 0, 0, 50],
        "score": [8.0, 7, 6, 5, 4, 3, 2, 1],
    })


def test_budget_curve_by_hand():
    cur = budget_curve(_eight(), "score", coupon_value=10, margin=0.5, cost_per_contact=1,
                       shares=[0.5]).set_index("share")
    # top 4: treated profit 0.5 x 100 - 10 = 40 and 0.5 x 200 - 10 = 90; control 0 and 0
    assert cur.loc[0.5, "profit_per_person"] == pytest.approx(65 - 1)
    assert cur.loc[0.5, "inc_profit"] == pytest.approx(64 * 4)
    z = stats.norm.ppf(0.975)
    se = np.sqrt(np.var([40, 90], ddof=1) / 2)  # the control's two zeros have no variance
    assert cur.loc[0.5, "inc_profit_ci_low"] == pytest.approx((64 - z * se) * 4)
    assert cur.loc[0.5, "inc_buyers"] == pytest.approx(4.0)
    # everyone: treated (40 + 90 + 0 + 0) / 4, control 0.5 x 50 / 4
    assert cur.loc[1.0, "inc_profit"] == pytest.approx((32.5 - 6.25 - 1) * 8)
    assert cur.loc[1.0, "inc_buyers"] == pytest.approx(0.25 * 8)
    assert cur.loc[0.5, "profit_vs_everyone"] == pytest.approx(256 - 202)
    assert cur.loc[1.0, "coupon_cost"] == pytest.approx(10 * 0.5 * 8)


def test_budget_curve_capture_and_population():
    half = budget_curve(_eight(), "score", 10, 0.5, 1, shares=[0.5], capture=0.5).set_index("share")
    assert half.loc[0.5, "inc_profit"] == pytest.approx((130 - 1) * 4)  # revenue and coupons / c
    big = budget_curve(_eight(), "score", 10, 0.5, 1, shares=[0.5], population=800)
    assert big.set_index("share").loc[0.5, "inc_profit"] == pytest.approx(64 * 400)
    with pytest.raises(ValueError, match="shares must be in"):
        budget_curve(_eight(), "score", 10, 0.5, shares=[0.0])
    with pytest.raises(ValueError, match="coupon_value"):
        budget_curve(_eight(), "score", -1, 0.5)


def test_true_ranking_finds_the_profitable_share():
    rng = np.random.default_rng(4)
    n = 40_000
    tau = np.where(rng.random(n) < 0.3, 0.15, 0.0)  # 30% respond, the rest do not
    t = rng.random(n) < 0.5
    conv = rng.random(n) < 0.1 + t * tau
    out = pd.DataFrame({"arm": np.where(t, "sms", "control"), "converted": conv,
                        "revenue": conv * 200.0})
    # per responder: 0.4 x 200 x 0.15 = 12 CNY; coupon 20 on every treated buyer costs 2-5 CNY
    cur = budget_curve(out, tau + rng.random(n) * 1e-6, coupon_value=20, margin=0.4,
                       cost_per_contact=0.5)
    b = best_share(cur)
    assert 0.25 <= b["share"] <= 0.35 and b["inc_profit_ci_low"] > 0
    assert b["verdict"].startswith("targeting the top 30%")
    everyone = cur.set_index("share").loc[1.0]
    assert b["inc_profit"] > everyone["inc_profit"]
    rand = budget_curve(out, rng.random(n), coupon_value=20, margin=0.4, cost_per_contact=0.5)
    assert best_share(rand)["inc_profit"] < b["inc_profit"]
