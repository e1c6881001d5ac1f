"""CATE validation (omni.uplift.validation) on simulated campaigns whose per-person effect is known:
a good CATE passes the BLP and calibration tests, a noise CATE fails the BLP test, a CATE of the
right shape but three times too large fails calibration, the refuters pass on a real effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omni.uplift.validation import blp_test, calibration_test, refute, validate_cate


def _campaign(n=20_000, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    tau = 0.5 + 0.5 * x  # the true effect of each person
    t = (rng.random(n) < 0.5).astype(int)
    y = 1.0 + 0.8 * x + t * tau + rng.standard_normal(n)
    return y, t, tau, rng


def test_blp_good_cate_slope_one_and_noise_cate_fails():
    y, t, tau, rng = _campaign()
    good = blp_test(y, t, tau).set_index("term")
    assert good.loc["ate", "ci_low"] <= 0.5 <= good.loc["ate", "ci_high"]
    assert good.loc["heterogeneity", "ci_low"] <= 1.0 <= good.loc["heterogeneity", "ci_high"]
    assert good.loc["heterogeneity", "p_value"] < 1e-6
    assert "better than random" in good.loc["heterogeneity", "verdict"]
    noise = blp_test(y, t, rng.standard_normal(len(y))).set_index("term")
    assert noise.loc["heterogeneity", "p_value"] > 0.05
    assert "noise" in noise.loc["heterogeneity", "verdict"]


def test_blp_noise_cate_rejects_at_about_the_nominal_rate():
    rejections = 0
    for seed in range(40):
        y, t, _, rng = _campaign(n=2_000, seed=100 + seed)
        p = blp_test(y, t, rng.standard_normal(len(y)))["p_value"].iloc[1]
        rejections += p < 0.05
    assert rejections <= 6  # 5% of 40 = 2 expected


def test_calibration_good_passes_and_inflated_fails():
    y, t, tau, _ = _campaign()
    groups, cal = calibration_test(y, t, tau, n_groups=5)
    assert list(groups["group"]) == [1, 2, 3, 4, 5]
    assert groups["predicted"].is_monotonic_decreasing
    assert cal["p_value"] > 0.05 and cal["r_squared"] > 0.8 and cal["verdict"].startswith("calibrated")
    inside = (groups["ci_low"] <= groups["predicted"]) & (groups["predicted"] <= groups["ci_high"])
    assert inside.sum() >= 4
    _, bad = calibration_test(y, t, 3 * tau, n_groups=5)
    assert bad["p_value"] < 1e-6 and bad["verdict"].startswith("not calibrated")
    assert bad["calibration_score"] > cal["calibration_score"]


def test_refuters_pass_on_a_real_effect():
    y, t, tau, _ = _campaign(n=5_000)
    ref = refute(y, t, tau, n_sims=60, seed=3).set_index("refuter")
    assert ref["passed"].all()
    assert abs(ref.loc["placebo treatment", "new_effect"]) < 0.02
    assert ref.loc["placebo treatment", "p_value"] < 0.05  # the real effect is outside the placebos
    assert abs(ref.loc["random common cause", "new_effect"] - ref.loc["random common cause", "estimate"]) < 0.02
    assert ref.loc["placebo treatment (prediction slope)", "ci_low"] < 0 < ref.loc[
        "placebo treatment (prediction slope)", "ci_high"]
    # each verdict in both report languages, decided once
    assert ref["verdict"].str.startswith("passed").all() and ref["verdict_zh"].str.startswith("通过").all()


def test_refute_without_score_and_a_null_effect():
    """No effect at all: the placebo (permutation) p-value of the estimate is uniform, so it is
    below 0.05 in about 5% of campaigns; the refuters report their numbers without a score."""
    small = 0
    for seed in range(30):
        rng = np.random.default_rng(200 + seed)
        y, t = rng.standard_normal(1_000), (rng.random(1_000) < 0.5).astype(int)
        ref = refute(y, t, n_sims=40, seed=seed).set_index("refuter")
        small += ref.loc["placebo treatment", "p_value"] < 0.05
    assert list(ref.index) == ["placebo treatment", "random common cause", "data subset"]
    assert small <= 5  # 1.5 expected


def test_validate_cate_and_errors():
    y, t, tau, rng = _campaign(n=5_000)
    v = validate_cate(y, t, tau, n_sims=30)
    assert v["verdict"].startswith("The predicted uplift finds people")
    v2 = validate_cate(y, t, rng.standard_normal(len(y)), n_sims=30)
    assert v2["verdict"].startswith("The predicted uplift does not find")
    with pytest.raises(ValueError, match="both treated and control"):
        blp_test(y, np.ones(len(y)), tau)
    with pytest.raises(ValueError, match="n_groups"):
        calibration_test(y, t, tau, n_groups=1)
    with pytest.raises(ValueError, match="score has length"):
        blp_test(y, t, tau[:10])
    assert isinstance(v["blp"], pd.DataFrame)
