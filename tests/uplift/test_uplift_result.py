"""The month's result (omni.uplift.result, omni.uplift.analysis): figures, headline, comparison with
the previous period, the truth check; analyse_month on the test world."""

from __future__ import annotations

import pandas as pd
import pytest

from omni.core.month import Month
from omni.uplift import analyse_month, truth
from omni.uplift import campaign as R
from omni.uplift import tables as T
from omni.uplift.result import UpliftResult, UpliftTruth, month_figures
from omni.uplift.selection import select_campaigns


def _result(analyses, previous=None, margin=0.4):
    sel = select_campaigns(None, "2026-10")
    sel.campaign_ids = [a.campaign_id for a in analyses]
    return UpliftResult(month=Month(2026, 10), settings={"margin": margin}, selection=sel,
                        campaigns=list(analyses), previous=previous)


def test_month_figures_headline_and_comparison(analysis):
    f = month_figures([analysis, analysis])
    assert f["campaigns"] == 2 and f["people"] == 2 * analysis.figures["n_people"]
    assert f["inc_revenue"] == pytest.approx(2 * analysis.figures["inc_revenue"])
    r = _result([analysis, analysis], previous=_result([analysis]), margin=0.35)
    head = {x.key: x for x in r.headline}
    assert list(head) == ["campaigns", "people", "checks_passed", "significant_arms",
                          "inc_conversions", "inc_revenue", "inc_profit"]
    assert head["checks_passed"].value == "2 of 2"
    assert head["significant_arms"].value == f"{f['significant_arms']} of {f['arms']}"
    assert head["inc_profit"].value == pytest.approx(f["inc_profit"]) and head["inc_profit"].unit == "CNY"
    assert "35%" in head["inc_profit"].label  # the margin used
    assert not r.previous_is_same
    cmp = r.compare(r.previous).set_index("figure")
    assert cmp.loc["campaigns reported", "change"] == 1
    assert cmp.loc["campaigns reported", "relative_change"] == pytest.approx(1.0)
    assert cmp.loc["incremental profit (CNY)", "change"] == pytest.approx(analysis.figures["inc_profit"])
    shown = T.month_comparison(r).set_index("figure")
    assert shown.loc["campaigns reported", "change"] == "+1 (+100%)"
    # a previous period without campaigns has nothing to compare with
    none = T.month_comparison(_result([analysis], previous=_result([]))).set_index("figure")
    assert (none["previous"] == "–").all() and (none["change"] == "–").all()


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
    campaign_truth = pd.DataFrame({
        "campaign_id": "C1", "record_key": ["a:1", "a:2", "a:3", "a:4"],
        "contacted": [True, True, True, False], "uplift_conv": [0.1, 0.3, 0.2, 0.2],
        "uplift_revenue": [10.0, 30.0, 0.0, 0.0]})
    ro = pd.DataFrame({"record_key": ["a:1", "a:2", "a:3", "a:4"], "oneid": ["p1", "p2", "p3", "p4"]})
    overall, segments = truth.truth_check([an], campaign_truth, ro)
    o = overall.set_index("metric")
    assert o.loc["conversion", "true_effect"] == pytest.approx(0.2 - 0.1)
    assert bool(o.loc["conversion", "inside"])
    assert o.loc["revenue per person", "true_effect"] == pytest.approx(20.0)
    assert not bool(o.loc["revenue per person", "inside"])
    check = UpliftTruth(overall, segments, pd.DataFrame())
    assert check.n_inside == 1
    shown = T.truth_table(check)
    assert shown["contains truth"].tolist() == ["yes", "NO"]
    assert shown["true effect"].iloc[0] == "+10.00 pp"


def test_perfect_identity_equals_oneid_when_ids_are_perfect(sim, analysis, campaign_table):
    rp = pd.concat([
        pd.DataFrame({"record_key": sim.assignments["assignment_key"], "person_id": sim.assignments["oneid"]}),
        pd.DataFrame({"record_key": sim.orders["order_key"], "person_id": sim.orders["oneid"]}),
    ]).dropna()
    p = truth.perfect_identity_lift([analysis], sim.assignments, sim.orders, campaign_table, rp)
    e = analysis.effects.set_index(["arm", "metric", "adjustment"])
    for r in p.itertuples():
        adj = "none" if r.metric == "conversion" else "CUPED"
        assert r.estimate == pytest.approx(e.loc[(r.arm, r.metric, adj), "abs_lift"], rel=1e-9)
    assert p["buyers_seen"].eq(1.0).all()


@pytest.fixture(scope="module")
def month_result(test_world):
    import omni

    return omni.open(test_world), analyse_month(omni.open(test_world), "2026-10")


def test_analyse_month_on_the_test_world(month_result):
    ws, r = month_result
    # the headline of notebook 05 before the domain split (reports/2026-10/metrics.json)
    got = {f.key: f.value for f in r.headline}
    assert {k: got[k] for k in ("campaigns", "people", "checks_passed", "significant_arms")} == {
        "campaigns": 2, "people": 905, "checks_passed": "2 of 2", "significant_arms": "0 of 3"}
    assert got["inc_conversions"] == pytest.approx(-7.174203494347375, rel=1e-12)
    assert got["inc_revenue"] == pytest.approx(4678.244365496932, rel=1e-12)
    assert got["inc_profit"] == pytest.approx(773.7677461987728, rel=1e-12)
    assert r.month == Month(2026, 10) and r.selection.campaign_ids == [a.campaign_id for a in r.campaigns]
    assert r.previous is not None and r.previous.month == Month(2026, 9)
    assert all(a.model == {} for a in r.previous.campaigns) or r.previous_is_same
    check = r.truth_check({"campaign_truth": ws.truth("campaign_truth"),
                           "record_person": ws.truth("record_person")})
    assert len(check.overall) == 2 * sum(len(a.arms) for a in r.campaigns)  # conversion and revenue
    assert 0 < check.buyers_seen.min() <= check.buyers_seen.max() <= 1
    assert r.truth_check(None) is None
