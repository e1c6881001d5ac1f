"""Power: sample size and MDE against textbook values, statsmodels and simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower, tt_ind_solve_power, zt_ind_solve_power
from statsmodels.stats.proportion import proportion_effectsize

from omni.uplift import minimum_detectable_effect, required_sample_size
from omni.uplift._common import compare_groups


def test_textbook_10_to_12_percent():
    # Fleiss, Levin & Paik (2003) eq. 4.14 without continuity correction:
    # n = [1.959964 sqrt(2 * .11 * .89) + 0.841621 sqrt(.1 * .9 + .12 * .88)]^2 / .02^2 = 3840.8
    za, zb = stats.norm.ppf(0.975), stats.norm.ppf(0.8)
    hand = (za * np.sqrt(2 * 0.11 * 0.89) + zb * np.sqrt(0.09 + 0.12 * 0.88)) ** 2 / 0.02**2
    assert hand == pytest.approx(3840.8, abs=0.05)
    assert required_sample_size(0.10, 0.02) == (3841, 3841, 7682)
    # with Fleiss' continuity correction n' = n/4 (1 + sqrt(1 + 4/(n |d|)))^2 = 3940.1
    assert required_sample_size(0.10, 0.02, continuity=True).n_treat == 3941
    # unpooled variance under H0 too: (za + zb)^2 (.09 + .1056) / .0004 = 3838.1
    assert required_sample_size(0.10, 0.02, method="unpooled").n_treat == 3839


def test_arcsine_matches_statsmodels():
    h = proportion_effectsize(0.12, 0.10)
    for ratio in (1.0, 2.0, 0.25):
        n_sm = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=ratio)
        got = required_sample_size(0.10, 0.02, ratio=ratio, method="arcsine")
        assert got.n_treat == int(np.ceil(n_sm))
        assert got.n_control == int(np.ceil(n_sm * ratio - 1e-9))
    assert required_sample_size(0.10, 0.02, method="arcsine").n_treat == int(
        np.ceil(zt_ind_solve_power(effect_size=h, alpha=0.05, power=0.8))
    )  # 3835


def test_mean_metric_matches_cohen_table_and_statsmodels():
    # Cohen (1988) Table 2.4.1: d = 0.5, alpha = .05 two-sided, power .80 -> n = 64 per group
    assert required_sample_size(100.0, 10.0, metric="mean", sd=20.0).n_treat == 64
    mde = minimum_detectable_effect(64, 64, 100.0, metric="mean", sd=20.0)
    assert mde == pytest.approx(20.0 * tt_ind_solve_power(nobs1=64, alpha=0.05, power=0.8))


def test_mde_inverts_sample_size():
    for method in ("pooled", "unpooled", "arcsine"):
        n = required_sample_size(0.10, 0.02, method=method).n_treat
        mde = minimum_detectable_effect(n, n, 0.10, method=method)
        assert mde == pytest.approx(0.02, abs=2e-5)
        assert mde <= 0.02  # n was rounded up, so slightly smaller effects are detectable
    # unequal split: 10% holdout of 550k
    mde = minimum_detectable_effect(500_000, 50_000, 0.05)
    back = required_sample_size(0.05, mde, ratio=0.1)
    assert back.n_treat == pytest.approx(500_000, abs=1)


def test_mde_arcsine_matches_statsmodels_effect_size():
    h = NormalIndPower().solve_power(effect_size=None, nobs1=5000, alpha=0.05, power=0.9, ratio=1)
    mde = minimum_detectable_effect(5000, 5000, 0.2, power=0.9, method="arcsine")
    assert proportion_effectsize(0.2 + mde, 0.2) == pytest.approx(h, rel=1e-9)


def test_simulated_power_is_nominal():
    # 4000 simulated experiments with 3841 per arm, 10% vs 12%: rejection rate ~ 0.80
    rng = np.random.default_rng(42)
    n, reps = 3841, 4000
    x_t = rng.binomial(n, 0.12, reps)
    x_c = rng.binomial(n, 0.10, reps)
    res = compare_groups(np.full(reps, n), x_t / n, 0, np.full(reps, n), x_c / n, 0, True)
    power = np.mean(res["p_value"] < 0.05)
    assert power == pytest.approx(0.80, abs=0.02)


def test_power_bad_input():
    with pytest.raises(ValueError, match="baseline conversion rate"):
        required_sample_size(1.2, 0.02)
    with pytest.raises(ValueError, match="baseline \\+ mde"):
        required_sample_size(0.95, 0.1)
    with pytest.raises(ValueError, match="sd > 0"):
        required_sample_size(100.0, 5.0, metric="mean")
    with pytest.raises(ValueError, match="mde must be"):
        required_sample_size(0.1, 0.0)
    with pytest.raises(ValueError, match="power"):
        minimum_detectable_effect(100, 100, 0.1, power=1.5)
    with pytest.raises(ValueError, match="n_control must be an integer"):
        minimum_detectable_effect(100, 1, 0.1)
    with pytest.raises(ValueError, match="metric"):
        minimum_detectable_effect(100, 100, 0.1, metric="ratio")
    with pytest.raises(ValueError, match="no effect up to"):
        minimum_detectable_effect(3, 3, 0.5)


def test_mde_is_positive_whatever_root_the_solver_finds():
    # statsmodels' solver returned the negative root for n_treat = 4483 (and other n): the MDE
    # is a magnitude, continuous in n, and must give the requested power
    n_c, sd = 2250, 40.0
    mdes = np.array([
        minimum_detectable_effect(n, n_c, 6.0, metric="mean", sd=sd) for n in range(4478, 4492)
    ])
    assert (mdes > 0).all()
    assert np.abs(np.diff(mdes)).max() < 1e-3
    d = mdes[5] / sd
    pw = tt_ind_solve_power(effect_size=d, nobs1=4483, alpha=0.05, ratio=n_c / 4483)
    assert pw == pytest.approx(0.8, abs=1e-6)
    arc = np.array([minimum_detectable_effect(n, n_c, 0.03, method="arcsine")
                    for n in range(4478, 4492)])
    assert (arc > 0).all() and np.abs(np.diff(arc)).max() < 1e-5
