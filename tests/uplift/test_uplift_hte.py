"""Heterogeneous uplift: segments, coverage of the truth, uplift models, Qini, targeting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from omni.uplift import (
    InteractionUplift,
    TwoModelUplift,
    campaign_outcomes,
    coverage,
    heterogeneity_test,
    holdout_split,
    lift,
    qini_area,
    qini_coefficient,
    qini_curve,
    simulate_campaign,
    targeting_value,
    uplift_by_decile,
    uplift_by_segment,
)


def _sim_outcomes(n: int, seed: int, **kw):
    sim = simulate_campaign(n, seed=seed, **kw)
    out = campaign_outcomes(sim.assignments, sim.orders, sim.campaigns, "C0001",
                            covariates=sim.covariates)
    return sim, out


def _hetero(n: int, seed: int) -> pd.DataFrame:
    """Strongly heterogeneous binary outcome: uplift = 0.3 x - 0.05 with x ~ U(0, 1)."""
    rng = np.random.default_rng(seed)
    x = rng.random(n)
    seg = np.where(x < 0.5, "low", "high")
    t = rng.random(n) < 0.5
    tau = 0.3 * x - 0.05
    y = rng.random(n) < 0.1 + 0.1 * x + t * tau
    return pd.DataFrame({"x": x, "seg": seg, "treated": t, "converted": y, "tau": tau,
                         "arm": np.where(t, "sms", "control")})


# ------------------------------------------------------------------------------- by segment
def test_segment_rows_equal_lift_on_the_subset():
    _, out = _sim_outcomes(8000, seed=1)
    seg = uplift_by_segment(out, "rfm_segment", "revenue", min_n=50)
    assert seg.attrs["segment_col"] == "rfm_segment"
    assert set(seg["rfm_segment"]) == set(out["rfm_segment"])
    row = seg.set_index("rfm_segment").loc["loyal"]
    ref = lift(out[out["rfm_segment"] == "loyal"], "revenue").iloc[0]
    for col in ("n_treat", "n_control", "abs_lift", "se", "abs_ci_low", "abs_ci_high",
                "p_value", "rel_lift", "rel_ci_low", "rel_ci_high"):
        assert row[col] == pytest.approx(ref[col], rel=1e-12), col


def test_small_segments_suppressed_and_missing_level():
    df = _hetero(3000, seed=2)
    df.loc[:59, "seg"] = "tiny"
    df.loc[60:79, "seg"] = None
    res = uplift_by_segment(df, "seg", min_n=100).set_index("seg")
    assert res.loc["tiny", "suppressed"] and np.isnan(res.loc["tiny", "abs_lift"])
    assert res.loc["tiny", "n_treat"] + res.loc["tiny", "n_control"] == 60  # counts kept
    assert res.loc["tiny", "verdict"].startswith("suppressed")
    assert res.loc["(missing)", "suppressed"]
    assert not res.loc["high", "suppressed"] and res.loc["high", "abs_lift"] > 0.1
    with pytest.raises(ValueError, match="missing column.*channel"):
        uplift_by_segment(df, "channel")


def test_segment_interval_coverage_of_true_uplift_over_seeds():
    inside = []
    for seed in range(30):
        sim, out = _sim_outcomes(6000, seed=100 + seed)
        est = uplift_by_segment(out, "rfm_segment", "converted", min_n=100)
        truth = sim.truth.groupby("rfm_segment")["true_uplift_conversion"].mean()
        assert not est["suppressed"].any()
        inside.append(coverage(truth, est) * len(est))
    cov = np.sum(inside) / (30 * 5)
    assert 0.88 <= cov <= 0.99, cov


def test_coverage_counts_by_hand():
    est = pd.DataFrame({"seg": ["a", "b", "c"], "arm": "sms", "abs_ci_low": [0.0, 0.1, 0.0],
                        "abs_ci_high": [0.2, 0.3, 0.1], "suppressed": [False, False, True]})
    truth = pd.Series({"a": 0.1, "b": 0.05, "c": 0.05})
    assert coverage(truth, est, segment_col="seg") == 0.5  # c suppressed, b missed
    with pytest.raises(ValueError, match="no \\(unsuppressed\\) segment"):
        coverage(pd.Series({"z": 0.1}), est, segment_col="seg")


def test_heterogeneity_test_by_hand_and_on_data():
    frame = pd.DataFrame({"arm": "a", "abs_lift": [0.1, 0.3], "se": [0.1, 0.1]})
    r = heterogeneity_test(frame).iloc[0]
    assert (r.pooled_lift, r.Q, r.df, r.i2) == pytest.approx((0.2, 2.0, 1, 0.5))
    assert r.p_value == pytest.approx(stats.chi2.sf(2.0, 1))
    seg = uplift_by_segment(_hetero(20_000, seed=3), "seg")
    assert heterogeneity_test(seg)["p_value"].iloc[0] < 1e-6


# ------------------------------------------------------------------------------- models
def test_two_model_ols_recovers_linear_uplift():
    rng = np.random.default_rng(4)
    n = 20_000
    x = rng.normal(size=n)
    t = rng.random(n) < 0.5
    y = 1 + x + t * (0.5 + 2 * x) + rng.normal(size=n)
    X = pd.DataFrame({"x": x})
    m = TwoModelUplift().fit(X, y, t)
    assert m.kind_ == "ols" and m.converged_
    grid = pd.DataFrame({"x": [-1.0, 0.0, 1.0]})
    assert m.predict_uplift(grid) == pytest.approx([-1.5, 0.5, 2.5], abs=0.05)


def test_two_model_logit_equals_separate_statsmodels_fits_and_interaction_model():
    df = _hetero(10_000, seed=5)
    df["tier"] = np.where(df["x"] > 0.7, "t1", "t2")
    X = df[["x", "tier"]]
    m = TwoModelUplift().fit(X, df["converted"], df["treated"])
    assert m.kind_ == "logit" and m.feature_names_ == ["const", "x", "tier=t2"]
    design = sm.add_constant(np.column_stack([df["x"], df["tier"] == "t2"]).astype(float))
    tr = df["treated"].to_numpy()
    p_t = sm.Logit(df["converted"][tr].astype(float), design[tr]).fit(disp=0).predict(design)
    p_c = sm.Logit(df["converted"][~tr].astype(float), design[~tr]).fit(disp=0).predict(design)
    assert m.predict_uplift(X) == pytest.approx(p_t - p_c, abs=1e-8)
    # the fully interacted single model spans the same functions: same predictions
    im = InteractionUplift().fit(X, df["converted"], df["treated"])
    assert im.predict_uplift(X) == pytest.approx(p_t - p_c, abs=1e-6)
    tab = im.interaction_table()
    assert tab["term"].tolist() == ["T", "T:x", "T:tier=t2"]
    assert tab.set_index("term").loc["T:x", "p_value"] < 1e-3  # x modifies the effect
    # interacting only x: a different, smaller model
    small = InteractionUplift(interact=["x"]).fit(X, df["converted"], df["treated"])
    assert small.feature_names_ == ["const", "x", "tier=t2", "T", "T:x"]


def test_model_bad_input():
    df = _hetero(500, seed=6)
    with pytest.raises(ValueError, match="not fitted"):
        TwoModelUplift().predict_uplift(df[["x"]])
    with pytest.raises(ValueError, match="0/1 outcome"):
        TwoModelUplift(model="logit").fit(df[["x"]], df["x"], df["treated"])
    with pytest.raises(ValueError, match="treatment must be boolean or 0/1"):
        TwoModelUplift().fit(df[["x"]], df["converted"], np.full(500, 2))
    bad = df[["x"]].copy()
    bad.iloc[7, 0] = np.nan
    with pytest.raises(ValueError, match="covariate 'x' has missing"):
        TwoModelUplift().fit(bad, df["converted"], df["treated"])
    with pytest.raises(ValueError, match="y has length"):
        TwoModelUplift().fit(df[["x"]], df["converted"][:10], df["treated"])
    with pytest.raises(ValueError, match="not covariates"):
        InteractionUplift(covariates=["x"], interact=["seg"]).fit(df, df["converted"],
                                                                   df["treated"])


def test_holdout_split_deterministic_stratified_and_independent_of_data_seed():
    sim, out = _sim_outcomes(5000, seed=7)
    tr1, te1 = holdout_split(out, 0.3, seed=7)
    tr2, te2 = holdout_split(out, 0.3, seed=7)
    assert te1.index.equals(te2.index) and tr1.index.equals(tr2.index)
    assert len(tr1) + len(te1) == len(out) and not set(tr1.index) & set(te1.index)
    share = te1["arm"].value_counts() / out["arm"].value_counts()
    assert share.to_numpy() == pytest.approx(0.3, abs=0.001)
    # the same integer seed as the simulation must not align the split with the data
    seg_share = te1["rfm_segment"].value_counts() / out["rfm_segment"].value_counts()
    assert seg_share.to_numpy() == pytest.approx(0.3, abs=0.05)


# ------------------------------------------------------------------------------- Qini
def test_qini_curve_and_area_by_hand():
    y = [1, 0, 1, 1, 0, 0]
    t = [1, 0, 1, 0, 1, 0]
    s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    c = qini_curve(y, t, s)
    assert c["qini"].tolist() == pytest.approx([0, 1, 1, 2, 1, 0.5, 1])
    assert c["random"].iloc[-1] == 1 and c["fraction"].iloc[-1] == 1
    assert qini_area(y, t, s) == pytest.approx(0.5)
    # tied scores are targeted together: one flat score gives only the end point
    flat = qini_curve(y, t, np.zeros(6))
    assert len(flat) == 2 and qini_area(y, t, np.zeros(6)) == pytest.approx(0.0)


def test_qini_perfect_true_random_and_reversed_scores():
    df = _hetero(20_000, seed=8)
    y, t = df["converted"], df["treated"]
    oracle = y.to_numpy() * (2.0 * t.to_numpy() - 1.0)
    assert qini_coefficient(y, t, oracle) == pytest.approx(1.0)
    q_true = qini_coefficient(y, t, df["tau"])
    assert q_true > 0.05
    assert qini_coefficient(y, t, -df["tau"]) < -0.05
    rng = np.random.default_rng(0)
    rand = [qini_coefficient(y, t, rng.random(len(df))) for _ in range(30)]
    assert abs(np.mean(rand)) < 0.01 and max(np.abs(rand)) < q_true / 2
    assert qini_coefficient(y, t, df["tau"], normalize=False) == pytest.approx(
        qini_area(y, t, df["tau"])
    )


def test_model_score_on_holdout_beats_random():
    df = _hetero(30_000, seed=9)
    train, test = holdout_split(df, 0.5, seed=1)
    m = TwoModelUplift(covariates=["x"]).fit(train, train["converted"], train["treated"])
    score = m.predict_uplift(test)
    assert np.corrcoef(score, test["tau"])[0, 1] > 0.95
    assert qini_coefficient(test["converted"], test["treated"], score) > 0.05
    dec = uplift_by_decile(test["converted"], test["treated"], score, n_bins=5)
    assert dec["n"].sum() == len(test) and dec["n"].max() - dec["n"].min() <= 1
    assert dec["uplift"].iloc[0] > dec["uplift"].iloc[-1] + 0.15
    assert dec["mean_score"].is_monotonic_decreasing


def test_qini_bad_input():
    with pytest.raises(ValueError, match="both treated and control"):
        qini_coefficient([1, 0], [1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="score has 1 missing"):
        qini_curve([1, 0], [1, 0], [0.1, np.nan])
    with pytest.raises(ValueError, match="y has length"):
        qini_curve([1, 0, 1], [1, 0], [0.1, 0.2])


# ------------------------------------------------------------------------------- targeting
def test_targeting_value_by_hand():
    df = pd.DataFrame(
        {
            "arm": ["sms", "control"] * 4,
            "converted": [1, 0, 1, 0, 0, 0, 0, 1],
            "revenue": [100.0, 0, 50, 0, 0, 0, 0, 30],
        }
    )
    score = np.arange(8, 0, -1)
    res = targeting_value(df, score, top_k=[0.5], cost_per_contact=2.0, margin=0.5,
                          coupon_value=5.0).set_index("top_k")
    half, full = res.loc[0.5], res.loc[1.0]
    assert (half.n_targeted, half.uplift_conversion, half.inc_conversions) == (4, 1.0, 4.0)
    assert (half.uplift_revenue, half.inc_revenue) == (75.0, 300.0)
    assert half.cost == 4 * 2 + 5 * 1.0 * 4  # contacts + coupons of treated converters
    assert half.inc_profit == 0.5 * 300 - 28 and half.roi == pytest.approx(122 / 28)
    assert (full.uplift_conversion, full.inc_conversions, full.inc_revenue) == (0.25, 2.0, 240.0)
    assert full.inc_profit == 0.5 * 240 - (16 + 5 * 0.5 * 8)
    assert half.profit_vs_everyone == 122 - 84 and full.profit_vs_everyone == 0
    assert half.share_of_all_inc_conversions == 2.0
    scaled = targeting_value(df, score, top_k=[0.5], population=800).set_index("top_k")
    assert scaled.loc[0.5, "inc_conversions"] == 400.0
    with pytest.raises(ValueError, match="top_k"):
        targeting_value(df, score, top_k=[1.5])
