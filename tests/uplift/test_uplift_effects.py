"""Average effects: lift (z / Welch), relative lift, Holm, CUPED, regression adjustment, CACE."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from omni.uplift import complier_lift, cuped, cuped_adjust, lift, regression_lift


def _binary(n_t: int, x_t: int, n_c: int, x_c: int, arm: str = "sms") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "arm": [arm] * n_t + ["control"] * n_c,
            "converted": [True] * x_t + [False] * (n_t - x_t) + [True] * x_c + [False] * (n_c - x_c),
        }
    )


def test_two_proportion_lift_by_hand():
    res = lift(_binary(100, 30, 100, 20)).iloc[0]
    assert res.test == "two-proportion z"
    assert res.abs_lift == pytest.approx(0.10)
    # pooled p = .25: z = .1 / sqrt(.25 * .75 * 2/100) = 1.632993
    assert res.p_value == pytest.approx(2 * stats.norm.sf(1.632993), rel=1e-5)
    assert res.p_value == pytest.approx(0.102470, abs=1e-6)
    # unpooled Wald interval: se = sqrt(.3*.7/100 + .2*.8/100) = 0.0608276
    assert res.se == pytest.approx(0.0608276, rel=1e-6)
    assert (res.abs_ci_low, res.abs_ci_high) == pytest.approx((-0.019220, 0.219220), abs=1e-6)
    # relative lift .5, delta-method se = sqrt(.0021/.04 + .09*.0016/.0016) = sqrt(.1425)
    assert res.rel_lift == pytest.approx(0.5)
    half = stats.norm.ppf(0.975) * np.sqrt(0.1425)
    assert (res.rel_ci_low, res.rel_ci_high) == pytest.approx((0.5 - half, 0.5 + half))
    assert not res.significant and res.verdict == "no significant difference"


def test_proportion_lift_matches_statsmodels():
    rng = np.random.default_rng(0)
    n = 40_000
    arm = np.where(rng.random(n) < 0.5, "sms", "control")
    conv = rng.random(n) < np.where(arm == "sms", 0.115, 0.10)
    df = pd.DataFrame({"arm": arm, "converted": conv})
    res = lift(df, alpha=0.1).iloc[0]
    x_t, n_t = conv[arm == "sms"].sum(), (arm == "sms").sum()
    x_c, n_c = conv[arm == "control"].sum(), (arm == "control").sum()
    z, p = proportions_ztest([x_t, x_c], [n_t, n_c])
    lo, hi = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff",
                                        alpha=0.1)
    assert res.p_value == pytest.approx(p, rel=1e-10)
    assert (res.abs_ci_low, res.abs_ci_high) == pytest.approx((lo, hi), rel=1e-10)
    assert res.significant and res.verdict == "significant increase"


def test_welch_lift_matches_statsmodels_and_hand():
    t = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    c = np.array([2.0, 4.0, 6.0])
    df = pd.DataFrame({"arm": ["sms"] * 5 + ["control"] * 3, "revenue": np.r_[t, c]})
    res = lift(df, "revenue").iloc[0]
    cm = CompareMeans(DescrStatsW(t), DescrStatsW(c))
    tstat, p, dof = cm.ttest_ind(usevar="unequal")
    lo, hi = cm.tconfint_diff(usevar="unequal")
    assert res.test == "Welch t"
    assert res.abs_lift == pytest.approx(-1.0)
    # se by hand: sqrt(2.5/5 + 4/3)
    assert res.se == pytest.approx(np.sqrt(2.5 / 5 + 4 / 3))
    assert res.p_value == pytest.approx(p, rel=1e-10)
    assert res.p_value == pytest.approx(stats.ttest_ind(t, c, equal_var=False).pvalue)
    assert (res.abs_ci_low, res.abs_ci_high) == pytest.approx((lo, hi), rel=1e-10)


def test_fieller_interval_solves_its_defining_equation():
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"arm": ["sms"] * 400 + ["control"] * 400,
                       "revenue": np.r_[rng.gamma(2, 60, 400), rng.gamma(2, 50, 400)]})
    fi = lift(df, "revenue", relative_ci="fieller").iloc[0]
    de = lift(df, "revenue").iloc[0]
    mt, mc = fi.mean_treat, fi.mean_control
    vt = df.revenue[df.arm == "sms"].var() / 400
    vc = df.revenue[df.arm == "control"].var() / 400
    z = stats.norm.ppf(0.975)
    for bound in (fi.rel_ci_low, fi.rel_ci_high):
        rho = bound + 1
        assert (mt - rho * mc) ** 2 / (vt + rho**2 * vc) == pytest.approx(z**2)
    assert fi.rel_lift == de.rel_lift
    assert fi.rel_ci_low == pytest.approx(de.rel_ci_low, abs=0.02)
    assert fi.rel_ci_high == pytest.approx(de.rel_ci_high, abs=0.02)


def test_multiple_arms_holm():
    rng = np.random.default_rng(2)
    n = 30_000
    arm = rng.choice(["control", "a", "b", "c"], n)
    p = pd.Series(arm).map({"control": 0.10, "a": 0.10, "b": 0.11, "c": 0.13}).to_numpy()
    df = pd.DataFrame({"arm": arm, "converted": rng.random(n) < p})
    res = lift(df, correction="holm")
    assert res["arm"].tolist() == ["a", "b", "c"]
    assert res["p_value_adj"].to_numpy() == pytest.approx(
        multipletests(res["p_value"], method="holm")[1]
    )
    assert res["significant"].tolist() == list(res["p_value_adj"] < 0.05)
    assert res.set_index("arm").loc["c", "significant"]
    one = lift(df, arm="b")
    assert one["arm"].tolist() == ["b"] and one["p_value"].iloc[0] == res["p_value"].iloc[1]


def test_lift_bad_input():
    df = _binary(50, 5, 50, 4)
    with pytest.raises(ValueError, match=r"unknown arm\(s\) \['email'\]"):
        lift(df, arm="email")
    with pytest.raises(ValueError, match="missing column.*revenue"):
        lift(df, "revenue")
    with pytest.raises(ValueError, match="no rows with control arm 'holdout'"):
        lift(df, control="holdout")
    with pytest.raises(ValueError, match="alpha"):
        lift(df, alpha=1.5)
    with pytest.raises(ValueError, match="correction"):
        lift(df, correction="fdr")
    bad = df.assign(revenue=[1.0] * 99 + [np.nan])
    with pytest.raises(ValueError, match="'revenue' has missing.*first at index 99"):
        lift(bad, "revenue")


def _correlated(n: int, rho: float, effect: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pre = rng.normal(100, 20, n)
    noise = rng.normal(0, 20, n)
    post = 100 + rho * (pre - 100) + np.sqrt(1 - rho**2) * noise
    arm = np.where(rng.random(n) < 0.5, "sms", "control")
    return pd.DataFrame({"arm": arm, "pre_revenue": pre,
                         "revenue": post + np.where(arm == "sms", effect, 0.0)})


def test_cuped_reduces_variance_by_rho_squared():
    df = _correlated(100_000, rho=0.7, effect=0.5, seed=11)
    res = cuped(df, "revenue", "pre_revenue").iloc[0]
    assert res.variance_reduction == pytest.approx(0.49, abs=0.01)
    assert res.se / res.se_unadjusted == pytest.approx(np.sqrt(1 - 0.49), abs=0.01)
    assert res.theta == pytest.approx(0.7, abs=0.01)
    assert res.abs_ci_low < 0.5 < res.abs_ci_high
    adj = cuped_adjust(df, "revenue", "pre_revenue")
    assert adj.mean() == pytest.approx(df["revenue"].mean())
    assert adj.var() == pytest.approx(df["revenue"].var() * (1 - res.variance_reduction))


def test_cuped_and_regression_adjustment_agree():
    df = _correlated(50_000, rho=0.5, effect=1.0, seed=12)
    c = cuped(df, "revenue", "pre_revenue").iloc[0]
    r = regression_lift(df, "revenue", ["pre_revenue"]).iloc[0]
    assert r.abs_lift == pytest.approx(c.abs_lift, abs=0.02 * c.se)
    assert r.se == pytest.approx(c.se, rel=0.005)
    assert r.p_value == pytest.approx(c.p_value, rel=0.05, abs=1e-12)
    lin = regression_lift(df, "revenue", ["pre_revenue"], interactions=True).iloc[0]
    assert lin.abs_lift == pytest.approx(c.abs_lift, abs=0.05 * c.se)


def test_regression_without_covariates_hc2_equals_welch_se():
    # HC2 with only a treatment dummy reproduces the unpooled (Neyman) standard error exactly
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"arm": rng.choice(["sms", "control"], 3000),
                       "revenue": rng.gamma(1.5, 80, 3000)})
    r = regression_lift(df, "revenue", covariates=[]).iloc[0]
    w = lift(df, "revenue").iloc[0]
    assert r.abs_lift == pytest.approx(w.abs_lift, rel=1e-9)
    assert r.se == pytest.approx(w.se, rel=1e-9)
    x = sm.add_constant((df["arm"] == "sms").astype(float).to_numpy())
    direct = sm.OLS(df["revenue"].to_numpy(), x).fit(cov_type="HC2")
    assert r.se == pytest.approx(direct.bse[1], rel=1e-12)


def test_complier_effect_divides_by_contact_rate_difference():
    rng = np.random.default_rng(8)
    n = 200_000
    arm = np.where(rng.random(n) < 0.5, "sms", "control")
    contacted = (arm == "sms") & (rng.random(n) < 0.6)
    conv = rng.random(n) < 0.10 + 0.05 * contacted
    df = pd.DataFrame({"arm": arm, "contacted": contacted, "converted": conv})
    res = complier_lift(df).iloc[0]
    assert res.itt_lift == pytest.approx(0.6 * 0.05, abs=0.004)
    assert res.cace == pytest.approx(res.itt_lift / res.contact_rate_treat)
    assert res.cace_ci_low < 0.05 < res.cace_ci_high
