"""The campaign report layer: campaign selection, pre-period covariates, one campaign's analysis,
the vectorized Qini bootstrap, month figures, the truth check and the rendered blocks."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from omni import uplift as U
from omni.uplift import report as R

CAMPAIGNS = pd.DataFrame(
    {
        "campaign_id": ["C1", "C2", "C3", "C4"],
        "name": ["spring sms", "summer push", "autumn sms", "autumn mail"],
        "start_date": pd.to_datetime(["2026-03-01", "2026-06-20", "2026-09-25", "2026-10-10"]),
        "end_date": pd.to_datetime(["2026-03-14", "2026-07-03", "2026-10-08", "2026-10-24"]),
    }
)


# ------------------------------------------------------------------------------- selection
def test_campaigns_ending_in_the_month_in_end_date_order():
    sel = R.select_campaigns(CAMPAIGNS.iloc[::-1], "2026-10")
    assert sel.campaign_ids == ["C3", "C4"]
    assert not sel.fallback
    assert "2 campaign(s) ended in 2026-10" in sel.message


def test_no_campaign_in_the_month_falls_back_to_the_most_recent_ended():
    sel = R.select_campaigns(CAMPAIGNS, "2026-08")
    assert sel.campaign_ids == ["C2"] and sel.fallback
    assert "No campaign ended in 2026-08" in sel.message and "2026-07-03" in sel.message
    # a campaign ending after the month is not "ended"
    assert R.select_campaigns(CAMPAIGNS, "2026-09").campaign_ids == ["C2"]
    empty = R.select_campaigns(CAMPAIGNS, "2026-01")
    assert empty.campaign_ids == [] and "No campaign had ended" in empty.message
    assert R.select_campaigns(None, "2026-10").campaign_ids == []


def test_explicit_campaign_ids_are_validated():
    assert R.select_campaigns(CAMPAIGNS, "2026-10", ["C4", "C1"]).campaign_ids == ["C1", "C4"]
    assert R.select_campaigns(CAMPAIGNS, "2026-10", "C2").campaign_ids == ["C2"]
    with pytest.raises(ValueError, match=r"unknown campaign id\(s\) \['C9'\]"):
        R.select_campaigns(CAMPAIGNS, "2026-10", ["C1", "C9"])
    with pytest.raises(ValueError, match="month must be 'YYYY-MM'"):
        R.select_campaigns(CAMPAIGNS, "2026/10")
    bad = CAMPAIGNS.assign(end_date=CAMPAIGNS["end_date"].astype(object))
    bad.loc[2, "end_date"] = "not a date"
    with pytest.raises(ValueError, match="end_date is missing or unreadable for campaign 'C3'"):
        R.select_campaigns(bad, "2026-10")


def test_arm_values_per_arm_broadcast_and_errors():
    row = pd.Series({"campaign_id": "C1", "coupon_value": "20|50"})
    assert R.arm_values(row, "coupon_value", ["a", "b"]) == {"a": 20.0, "b": 50.0}
    assert R.arm_values(pd.Series({"coupon_value": 5}), "coupon_value", ["a", "b"]) == {"a": 5.0, "b": 5.0}
    assert R.arm_values(pd.Series({"coupon_value": None}), "coupon_value", ["a"]) == {"a": 0.0}
    with pytest.raises(ValueError, match="has 2 values"):
        R.arm_values(row, "coupon_value", ["a", "b", "c"])
    with pytest.raises(ValueError, match="not numeric"):
        R.arm_values(pd.Series({"campaign_id": "C1", "coupon_value": "free"}), "coupon_value", ["a"])


# ------------------------------------------------------------------------------- covariates
def _orders(rows):
    return pd.DataFrame(rows, columns=["oneid", "order_time", "amount", "status", "channel"]).assign(
        order_time=lambda d: pd.to_datetime(d["order_time"]))


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
    cov = R.pre_period_covariates(_orders(rows), start, people=["A", "B", "C", "D", "E", "F"],
                                  clv=False).set_index("oneid")
    assert cov["rfm_segment"].to_dict() == {
        "A": "important value", "B": "general win-back", "C": "important win-back",
        "D": R.NO_PURCHASE, "E": "general value", "F": R.NO_PURCHASE,
    }
    assert cov.loc["A", "pre_channel_mix"] == "omnichannel"
    assert cov.loc["B", "pre_channel_mix"] == "online only"
    assert cov.loc["C", "pre_channel_mix"] == "store only"
    assert cov.loc["F", "log_recency"] == pytest.approx(np.log1p(R.RECENCY_CAP_DAYS))
    # observation ends the day before the start (May 31); A last bought on May 30
    assert cov.loc["A", "log_recency"] == pytest.approx(np.log1p(1))
    assert cov.loc["E", "log_frequency"] == pytest.approx(np.log1p(4))
    # orders from the start on never change the covariates (they are outcomes)
    later = rows + [("B", "2026-06-01", 9999.0, "paid", "store"), ("F", "2026-06-05", 10.0, "paid", "jd")]
    cov2 = R.pre_period_covariates(_orders(later), start, people=list("ABCDEF"), clv=False)
    pd.testing.assert_frame_equal(cov.reset_index(), cov2)


def test_pre_period_covariates_drop_negative_amounts_with_a_note_and_tier_clv():
    sim = U.simulate_campaign(3000, seed=5)
    o = sim.orders.copy()
    o.loc[o.index[5], "amount"] = -12.0
    cov = R.pre_period_covariates(o, sim.campaigns["start_date"].iloc[0],
                                  people=sim.assignments["oneid"])
    assert any("negative or missing amount" in w for w in cov.attrs["warnings"])
    tiers = cov["clv_tier"].value_counts()
    buyers = (cov["rfm_segment"] != R.NO_PURCHASE).sum()
    assert set(tiers.index) <= {"A", "B", "C", "D", R.NO_PURCHASE}
    assert tiers.get(R.NO_PURCHASE, 0) == len(cov) - buyers
    # tiers are ranked by CLV: A has the highest mean log CLV
    m = cov.groupby("clv_tier")["log_clv"].mean()
    assert m["A"] > m["B"] > m["C"] > m["D"]


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
        coef = R._weighted_qini_area(y, t, *rank[0], w)[0] / R._weighted_qini_area(y, t, *rank[1], w)[0]
        assert coef == pytest.approx(U.qini_coefficient(y[idx], t[idx], s[idx]), rel=1e-10)
        assert R._weighted_qini_area(y, t, *rank[0], w)[0] == pytest.approx(
            U.qini_area(y[idx], t[idx], s[idx]), rel=1e-10)


def test_bootstrap_qini_is_seeded_stratified_and_centred():
    rng = np.random.default_rng(2)
    n = 3000
    t = (rng.random(n) < 0.5).astype(float)
    x = rng.random(n)
    y = (rng.random(n) < 0.05 + t * 0.15 * x).astype(float)
    a = R.bootstrap_qini(y, t, x, n_boot=150, seed=7)
    b = R.bootstrap_qini(y, t, x, n_boot=150, seed=7, max_cells=50_000)  # other block size
    np.testing.assert_allclose(a, b)
    assert not np.allclose(a, R.bootstrap_qini(y, t, x, n_boot=150, seed=8))
    point = U.qini_coefficient(y, t, x)
    assert point > 0.05 and abs(np.nanmean(a) - point) < 2 * np.nanstd(a) / np.sqrt(10)
    assert np.nanquantile(a, 0.025) > 0  # the true ranking is detected
    with pytest.raises(ValueError, match="both treated and control"):
        R.bootstrap_qini(y, np.ones(n), x)
    with pytest.raises(ValueError, match="n_boot"):
        R.bootstrap_qini(y, t, x, n_boot=0)


# ------------------------------------------------------------------------------- one campaign
UPLIFT = {"champions": 0.0, "loyal": 0.01, "potential": 0.08, "at_risk": 0.05, "hibernating": 0.0}


@pytest.fixture(scope="module")
def sim():
    return U.simulate_campaign(12000, seed=3, arms=("coupon_a", "coupon_b"), control_share=0.3,
                               uplift=UPLIFT, arm_scale={"coupon_b": 1.5})


@pytest.fixture(scope="module")
def campaign_table(sim):
    return sim.campaigns.assign(arms="coupon_a|coupon_b", coupon_value="20|50")


@pytest.fixture(scope="module")
def analysis(sim, campaign_table):
    return R.analyse_campaign(
        sim.assignments, sim.orders, campaign_table, "C0001", covariates=sim.covariates,
        pre_days=90, segment_by=("rfm_segment", "channel_pref"), n_boot=100,
        model_features=("rfm_segment", "channel_pref", "log_pre_revenue"), model_min_n=200,
    )


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
    assert m["qini_ci_low"] > 0 and m["n_boot"] == 100
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
    assert small.model == {}


def test_duplicate_assignments_and_srm_are_reported(sim, campaign_table):
    a = sim.assignments
    ctrl = a.index[a["arm"] == "control"]
    skewed = a.drop(ctrl[: len(ctrl) // 3])  # a third of the holdout lost
    dup = pd.concat([skewed, skewed.iloc[:25]], ignore_index=True)
    an = R.analyse_campaign(dup, sim.orders, campaign_table, "C0001", covariates=sim.covariates,
                            pre_days=90, segment_by=("rfm_segment",), uplift_model=False)
    ch = an.checks.set_index("check")["result"]
    assert ch["Split matches the plan (sample ratio)"] == "fail"
    assert ch["One assignment per person"] == "warn"
    assert "25 people assigned twice" in an.checks.set_index("check").loc["One assignment per person", "detail"]
    assert an.figures["checks_failed"] == 1 and an.figures["n_people"] == len(skewed)


def test_bad_input_raises(sim, campaign_table):
    with pytest.raises(ValueError, match="campaign_id 'C9' not found"):
        R.analyse_campaign(sim.assignments, sim.orders, campaign_table, "C9")
    with pytest.raises(ValueError, match="margin"):
        R.analyse_campaign(sim.assignments, sim.orders, campaign_table, "C0001", margin=0)
    with pytest.raises(ValueError, match="no rows in campaign_assignments"):
        R.analyse_campaign(sim.assignments.iloc[:0], sim.orders, campaign_table, "C0001")


# ------------------------------------------------------------------------------- the month
def test_month_figures_and_comparison(analysis):
    f = R.month_figures([analysis, analysis])
    assert f["campaigns"] == 2 and f["people"] == 2 * analysis.figures["n_people"]
    assert f["inc_revenue"] == pytest.approx(2 * analysis.figures["inc_revenue"])
    cmp = R.compare_months({"campaigns": 2, "inc_profit": 1500.0},
                           {"campaigns": 1, "inc_profit": 1000.0}).set_index("figure")
    assert cmp.loc["incremental profit (CNY)", "change"] == "+500 (+50%)"
    assert cmp.loc["campaigns reported", "change"] == "+1 (+100%)"
    none = R.compare_months({"campaigns": 2}, None).set_index("figure")
    assert none.loc["campaigns reported", "previous"] == "–"


def test_truth_check_by_hand():
    # 2 treated (contacted, uplift 0.1 and 0.3), 2 control (one contacted by mistake, 0.2)
    out = pd.DataFrame({"oneid": ["p1", "p2", "p3", "p4"], "arm": ["sms", "sms", "control", "control"]})
    effects = pd.DataFrame({"arm": ["sms", "sms"], "metric": ["conversion", "revenue per person"],
                            "adjustment": ["none", "none"], "abs_lift": [0.12, 5.0],
                            "abs_ci_low": [0.05, -1.0], "abs_ci_high": [0.2, 4.0]})
    empty = pd.DataFrame()
    an = R.CampaignAnalysis(
        campaign_id="C1", info={}, arms=["sms"], outcomes=out, checks=empty, srm=empty,
        balance=empty, contamination=empty, effects=effects, cuped_table=empty, cace=empty,
        segments={}, heterogeneity=empty, power=empty, figures={})
    truth = pd.DataFrame({
        "campaign_id": "C1", "record_key": ["a:1", "a:2", "a:3", "a:4"],
        "contacted": [True, True, True, False], "uplift_conv": [0.1, 0.3, 0.2, 0.2],
        "uplift_revenue": [10.0, 30.0, 0.0, 0.0]})
    ro = pd.DataFrame({"record_key": ["a:1", "a:2", "a:3", "a:4"], "oneid": ["p1", "p2", "p3", "p4"]})
    overall, _ = R.truth_check([an], truth, ro)
    o = overall.set_index("metric")
    assert o.loc["conversion", "true_effect"] == pytest.approx(0.2 - 0.1)
    assert bool(o.loc["conversion", "inside"])
    assert o.loc["revenue per person", "true_effect"] == pytest.approx(20.0)
    assert not bool(o.loc["revenue per person", "inside"])
    shown = R.truth_table(overall)
    assert shown["contains truth"].tolist() == ["yes", "NO"]
    assert shown["true effect"].iloc[0] == "+10.00 pp"


def test_perfect_identity_equals_oneid_when_ids_are_perfect(sim, analysis, campaign_table):
    rp = pd.concat([
        pd.DataFrame({"record_key": sim.assignments["assignment_key"], "person_id": sim.assignments["oneid"]}),
        pd.DataFrame({"record_key": sim.orders["order_key"], "person_id": sim.orders["oneid"]}),
    ]).dropna()
    p = R.perfect_identity_lift([analysis], sim.assignments, sim.orders, campaign_table, rp)
    e = analysis.effects.set_index(["arm", "metric", "adjustment"])
    for r in p.itertuples():
        adj = "none" if r.metric == "conversion" else "CUPED"
        assert r.estimate == pytest.approx(e.loc[(r.arm, r.metric, adj), "abs_lift"], rel=1e-9)
    assert p["buyers_seen"].eq(1.0).all()


# ------------------------------------------------------------------------------- rendering
def test_blocks_show_no_ids_label_every_axis_and_hide_small_counts(sim, analysis):
    import matplotlib.pyplot as plt

    blocks = R.campaign_blocks(analysis)
    kinds = [b.kind for b in blocks]
    assert kinds[0] == "markdown" and blocks[0].content.startswith("## C0001")
    heads = [b.content.split("\n")[0] for b in blocks if b.kind == "markdown" and b.content.startswith("###")]
    assert [h.split(":")[0] for h in heads] == [
        "### Design and checks", "### Effect", "### CUPED", "### Uplift by segment",
        "### Qini curve", "### Recommendation", "### Power"]
    ids = set(sim.assignments["oneid"])
    for b in blocks:
        if b.kind == "figure":
            for ax in b.content.axes:
                assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
            plt.close(b.content)
        else:
            text = b.content if b.kind == "markdown" else b.content.to_string()
            assert not any(i in text for i in list(ids)[:2000])
            assert "O0000" not in text
            if b.kind == "table":
                assert len(b.content) <= 25
    # counts under 10 are blanked in published segment tables
    seg = analysis.segments["rfm_segment"].copy()
    seg.loc[0, ["n_treat", "n_control"]] = [7, 120]
    pub = R._publish_segments(seg, "rfm_segment")
    assert pd.isna(pub.loc[0, "treated"]) and pd.isna(pub.loc[0, "control"])
    assert "fewer than 10" in pub.loc[0, "note"]


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
    assert "fewer than 5 buyers" in got.loc["s1", "verdict"]
    assert not bool(got.loc["s2", "suppressed"])
    assert got.loc["s2", "abs_lift"] == pytest.approx(30 / 300 - 10 / 200)


def test_a_tiny_campaign_without_holdout_buyers_renders_with_cautions():
    import matplotlib.pyplot as plt

    sim = U.simulate_campaign(400, seed=9)
    ctrl = set(sim.assignments.loc[sim.assignments["arm"] == "control", "oneid"])
    start = sim.campaigns["start_date"].iloc[0]
    o = sim.orders
    in_window = (o["order_time"] >= start) & o["oneid"].isin(ctrl)
    an = R.analyse_campaign(sim.assignments, o[~in_window], sim.campaigns, "C0001",
                            covariates=sim.covariates, pre_days=90, segment_by=("rfm_segment",))
    assert an.model == {} and an.recommendation["basis"] == "everyone"
    assert an.outcomes.loc[an.outcomes["arm"] == "control", "converted"].sum() == 0
    text = "\n".join(b.content for b in R.campaign_blocks(an) if b.kind == "markdown")
    assert "Caution: an arm has only 0 buyers" in text
    assert "gives no baseline to plan on" in text
    assert "no uplift model could be fitted" in text
    assert "nan" not in text.lower()
    plt.close("all")
