"""One campaign analysed (omni.uplift.campaign): per-arm campaign values, the vectorized Qini
bootstrap, effects, figures, recommendation, segments, checks and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omni import uplift as U
from omni.uplift import bootstrap as B
from omni.uplift import campaign as R


def test_arm_values_per_arm_broadcast_and_errors():
    row = pd.Series({"campaign_id": "C1", "coupon_value": "20|50"})
    assert R.arm_values(row, "coupon_value", ["a", "b"]) == {"a": 20.0, "b": 50.0}
    assert R.arm_values(pd.Series({"coupon_value": 5}), "coupon_value", ["a", "b"]) == {"a": 5.0, "b": 5.0}
    assert R.arm_values(pd.Series({"coupon_value": None}), "coupon_value", ["a"]) == {"a": 0.0}
    with pytest.raises(ValueError, match="has 2 values"):
        R.arm_values(row, "coupon_value", ["a", "b", "c"])
    with pytest.raises(ValueError, match="not numeric"):
        R.arm_values(pd.Series({"campaign_id": "C1", "coupon_value": "free"}), "coupon_value", ["a"])


# ------------------------------------------------------------------------------- bootstrap
def test_weighted_qini_equals_the_package_on_the_resampled_rows():
    rng = np.random.default_rng(1)
    n = 2000
    t = (rng.random(n) < 0.6).astype(float)
    s = np.round(rng.normal(size=n), 1)  # many ties
    y = (rng.random(n) < 0.05 + 0.04 * t * (s > 0)).astype(float)
    for _ in range(3):
        idx = rng.integers(0, n, n)
        w = np.bincount(idx, minlength=n)[None, :].astype(float)
        rank = []
        for sc in (s, y * (2 * t - 1)):
            o = np.argsort(-sc, kind="stable")
            rank.append((o, np.r_[np.flatnonzero(np.diff(sc[o]) != 0), n - 1]))
        coef = B._weighted_qini_area(y, t, *rank[0], w)[0] / B._weighted_qini_area(y, t, *rank[1], w)[0]
        assert coef == pytest.approx(U.qini_coefficient(y[idx], t[idx], s[idx]), rel=1e-10)
        assert B._weighted_qini_area(y, t, *rank[0], w)[0] == pytest.approx(
            U.qini_area(y[idx], t[idx], s[idx]), rel=1e-10)


def test_bootstrap_qini_is_seeded_stratified_and_centred():
    rng = np.random.default_rng(2)
    n = 3000
    t = (rng.random(n) < 0.5).astype(float)
    x = rng.random(n)
    y = (rng.random(n) < 0.05 + t * 0.15 * x).astype(float)
    a = B.bootstrap_qini(y, t, x, n_boot=150, seed=7)
    b = B.bootstrap_qini(y, t, x, n_boot=150, seed=7, max_cells=50_000)  # other block size
    np.testing.assert_allclose(a, b)
    assert not np.allclose(a, B.bootstrap_qini(y, t, x, n_boot=150, seed=8))
    point = U.qini_coefficient(y, t, x)
    assert point > 0.05 and abs(np.nanmean(a) - point) < 2 * np.nanstd(a) / np.sqrt(10)
    assert np.nanquantile(a, 0.025) > 0  # the true ranking is detected
    with pytest.raises(ValueError, match="both treated and control"):
        B.bootstrap_qini(y, np.ones(n), x)
    with pytest.raises(ValueError, match="n_boot"):
        B.bootstrap_qini(y, t, x, n_boot=0)


# ------------------------------------------------------------------------------- one campaign
def test_effects_are_the_package_estimates(analysis):
    out = analysis.outcomes
    e = analysis.effects.set_index(["arm", "metric", "adjustment"])
    ref = U.lift(out, "converted", correction="holm").set_index("arm")
    ref_c = U.cuped(out, "revenue", covariate="pre_revenue", correction="holm").set_index("arm")
    for arm in ("coupon_a", "coupon_b"):
        got = e.loc[(arm, "conversion", "none")]
        assert got["abs_lift"] == pytest.approx(ref.loc[arm, "abs_lift"], rel=1e-12)
        assert got["p_value"] == pytest.approx(ref.loc[arm, "p_value_adj"], rel=1e-12)
        assert e.loc[(arm, "revenue per person", "CUPED"), "abs_ci_low"] == pytest.approx(
            ref_c.loc[arm, "abs_ci_low"], rel=1e-12)
    assert analysis.arms == ["coupon_a", "coupon_b"]
    assert (analysis.checks["result"] == "pass").all()


def test_intervals_contain_the_simulated_truth(sim, analysis):
    e = analysis.effects.set_index(["arm", "metric", "adjustment"])
    truth = sim.truth.groupby("arm")[["true_uplift_conversion", "true_uplift_revenue"]].mean()
    for arm in ("coupon_a", "coupon_b"):
        c = e.loc[(arm, "conversion", "none")]
        assert c["abs_ci_low"] <= truth.loc[arm, "true_uplift_conversion"] <= c["abs_ci_high"]


def test_campaign_figures_by_hand(analysis, campaign_table):
    out, f = analysis.outcomes, analysis.figures
    pooled = out.assign(arm=np.where(out["treated"], "t", "control"))
    lc = U.lift(pooled, "converted").iloc[0]
    lr = U.cuped(pooled, "revenue", covariate="pre_revenue").iloc[0]
    n_t = int(out["treated"].sum())
    assert f["inc_conversions"] == pytest.approx(lc["abs_lift"] * n_t)
    assert f["inc_revenue"] == pytest.approx(lr["abs_lift"] * n_t)
    buyers = out[out["converted"]].groupby("arm").size()
    cost = 0.3 * out["contacted"].sum() + 20 * buyers["coupon_a"] + 50 * buyers["coupon_b"]
    assert f["cost"] == pytest.approx(cost)
    assert f["inc_profit"] == pytest.approx(0.4 * f["inc_revenue"] - cost)
    assert analysis.info["coupon_value"] == {"coupon_a": 20.0, "coupon_b": 50.0}


def test_recommendation_compares_everyone_and_the_model(analysis):
    rec = analysis.recommendation
    opt = rec["options"]
    out = analysis.outcomes
    e = analysis.effects.set_index(["arm", "metric", "adjustment"])
    for arm, coupon in (("coupon_a", 20.0), ("coupon_b", 50.0)):
        every = opt[(opt["arm"] == arm) & (opt["basis"] == "everyone")].iloc[0]
        n = len(out)
        rate = out.loc[out["arm"] == arm, "converted"].mean()
        cost = n * (0.3 + coupon * rate)
        inc_rev = e.loc[(arm, "revenue per person", "CUPED"), "abs_lift"] * n
        assert every["cost"] == pytest.approx(cost)
        assert every["inc_profit"] == pytest.approx(0.4 * inc_rev - cost)
    assert rec["inc_profit"] == pytest.approx(opt["inc_profit"].max())
    # the model finds the responders (segments with uplift 0 to 0.12) and beats random
    m = analysis.model["coupon_b"]
    assert m["qini_ci_low"] > 0 and m["n_boot"] == 100 and m["better_than_random"]
    model_rows = opt[opt["basis"] == "model"]
    assert len(model_rows) >= 1 and (model_rows["top_k"] < 1).all()
    assert rec["worth_it"] == (rec["inc_profit"] > 0)


def test_segment_estimates_cover_the_truth_and_small_cells_are_suppressed(sim, analysis):
    seg = analysis.segments["rfm_segment"]
    truth = sim.truth.groupby(["rfm_segment", "arm"])["true_uplift_conversion"].mean().rename(
        "true_effect").reset_index()
    assert U.coverage(truth, seg) >= 0.8
    assert not seg["suppressed"].any()
    small = R.analyse_campaign(
        sim.assignments.iloc[:600], sim.orders, sim.campaigns.assign(
            arms="coupon_a|coupon_b", coupon_value="20|50"), "C0001", covariates=sim.covariates,
        pre_days=90, segment_by=("rfm_segment",), uplift_model=False, segment_min_n=100)
    assert small.segments["rfm_segment"]["suppressed"].all()
    assert small.model == {} and small.skipped_models == []  # no model asked for


def test_duplicate_assignments_and_srm_are_reported(sim, campaign_table):
    a = sim.assignments
    ctrl = a.index[a["arm"] == "control"]
    skewed = a.drop(ctrl[: len(ctrl) // 3])  # a third of the holdout lost
    dup = pd.concat([skewed, skewed.iloc[:25]], ignore_index=True)
    an = R.analyse_campaign(dup, sim.orders, campaign_table, "C0001", covariates=sim.covariates,
                            pre_days=90, segment_by=("rfm_segment",), uplift_model=False)
    ch = an.checks.set_index("check")["result"]
    assert list(ch.index) == list(R.CHECKS)
    assert ch["sample_ratio"] == "fail" and ch["one_assignment"] == "warn"
    assert an.n_duplicates == 25
    assert an.figures["checks_failed"] == 1 and an.figures["n_people"] == len(skewed)


def test_bad_input_raises(sim, campaign_table):
    with pytest.raises(ValueError, match="campaign_id 'C9' not found"):
        R.analyse_campaign(sim.assignments, sim.orders, campaign_table, "C9")
    with pytest.raises(ValueError, match="margin"):
        R.analyse_campaign(sim.assignments, sim.orders, campaign_table, "C0001", margin=0)
    with pytest.raises(ValueError, match="no rows in campaign_assignments"):
        R.analyse_campaign(sim.assignments.iloc[:0], sim.orders, campaign_table, "C0001")


def test_segments_with_too_few_buyers_are_suppressed():
    # segment "s1": 150 treated with 12 buyers, 120 control with no buyer; "s2" has enough
    n = {"s1": (150, 120), "s2": (300, 200)}
    buyers = {"s1": (12, 0), "s2": (30, 10)}
    rows = []
    for seg_, (nt, nc) in n.items():
        bt, bc = buyers[seg_]
        rows += [(seg_, "sms", i < bt) for i in range(nt)] + [(seg_, "control", i < bc) for i in range(nc)]
    out = pd.DataFrame(rows, columns=["seg", "arm", "converted"])
    seg = U.uplift_by_segment(out, "seg", "converted", min_n=100)
    assert not seg["suppressed"].any()  # the package keeps s1: its Wald interval has var_c = 0
    got = R.suppress_few_events(seg, out, "seg").set_index("seg")
    assert bool(got.loc["s1", "suppressed"]) and np.isnan(got.loc["s1", "abs_ci_low"])
    assert bool(got.loc["s1", "few_events"]) and not bool(got.loc["s2", "few_events"])
    assert not bool(got.loc["s2", "suppressed"])
    assert got.loc["s2", "abs_lift"] == pytest.approx(30 / 300 - 10 / 200)


def test_a_tiny_campaign_without_holdout_buyers_has_no_model_and_no_power_baseline():
    sim = U.simulate_campaign(400, seed=9)
    ctrl = set(sim.assignments.loc[sim.assignments["arm"] == "control", "oneid"])
    start = sim.campaigns["start_date"].iloc[0]
    o = sim.orders
    in_window = (o["order_time"] >= start) & o["oneid"].isin(ctrl)
    an = R.analyse_campaign(sim.assignments, o[~in_window], sim.campaigns, "C0001",
                            covariates=sim.covariates, pre_days=90, segment_by=("rfm_segment",))
    assert an.model == {} and an.recommendation["basis"] == "everyone"
    assert an.outcomes.loc[an.outcomes["arm"] == "control", "converted"].sum() == 0
    # every arm is skipped, with the counts that fell short (no control buyer at all)
    assert [s.arm for s in an.skipped_models] == an.arms
    assert all(s.short.get("control buyers") == 0 for s in an.skipped_models)
    assert all(s.min_buyers == 20 and s.min_people == 200 for s in an.skipped_models)
    # no control buyer: no baseline to plan the detectable lift on
    assert an.power["mde_conversion"].isna().all()
    assert (an.power["baseline_conversion"] == 0).all()
