"""A campaign's report section (omni.uplift.section, narrative, tables, plots): what is shown, that
every axis is labelled, that no id is shown, that small counts are hidden and data text is escaped."""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from omni import uplift as U
from omni.uplift import campaign as R
from omni.uplift import narrative as N
from omni.uplift import tables as T
from omni.uplift.section import campaign_section


def test_section_shows_no_ids_labels_every_axis_and_hides_small_counts(sim, analysis):
    blocks = campaign_section(analysis)
    assert blocks[0].kind == "markdown" and blocks[0].content == N.campaign_title(analysis)
    texts = [b.content for b in blocks if b.kind == "markdown"]
    heads = [t for t in texts if t.startswith("### ")]
    assert len(heads) == 7  # design, effect, CUPED, segments, Qini, recommendation, power
    assert [texts.index(h) for h in (N.DESIGN_HEAD, N.SEGMENTS_HEAD, N.QINI_HEAD, N.POWER_HEAD)] == sorted(
        texts.index(h) for h in (N.DESIGN_HEAD, N.SEGMENTS_HEAD, N.QINI_HEAD, N.POWER_HEAD))
    assert sum(b.kind == "figure" for b in blocks) == 5  # effects, CUPED, segments, Qini, targeting
    ids = list(set(sim.assignments["oneid"]))[:2000]
    for b in blocks:
        if b.kind == "figure":
            for ax in b.content.axes:
                assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
            plt.close(b.content)
        else:
            text = b.content if b.kind == "markdown" else b.content.to_string()
            assert not any(i in text for i in ids)
            assert "O0000" not in text
            if b.kind == "table":
                assert len(b.content) <= 25
    checks = T.checks_table(analysis)
    assert list(checks.columns) == ["check", "result", "detail"]
    assert checks["result"].tolist() == ["PASS"] * 5
    # counts under 10 are blanked in published segment tables, and said so
    seg = analysis.segments["rfm_segment"].copy()
    seg.loc[0, ["n_treat", "n_control"]] = [7, 120]
    pub = T.segments_shown(seg, "rfm_segment")
    assert pd.isna(pub.loc[0, "treated"]) and pd.isna(pub.loc[0, "control"])
    assert pub.loc[0, "note"] and not pub.loc[1:, "note"].str.len().any()


def test_a_tiny_campaign_renders_without_nan_and_says_why_there_is_no_model():
    sim = U.simulate_campaign(400, seed=9)
    ctrl = set(sim.assignments.loc[sim.assignments["arm"] == "control", "oneid"])
    o = sim.orders
    in_window = (o["order_time"] >= sim.campaigns["start_date"].iloc[0]) & o["oneid"].isin(ctrl)
    an = R.analyse_campaign(sim.assignments, o[~in_window], sim.campaigns, "C0001",
                            covariates=sim.covariates, pre_days=90, segment_by=("rfm_segment",))
    blocks = campaign_section(an)
    text = "\n".join(b.content for b in blocks if b.kind == "markdown")
    assert N.model_skipped(an) in text and N.qini_summary(an) is None
    assert "nan" not in text.lower()
    assert not any(b.kind == "figure" and "Qini" in b.content.axes[0].get_title() for b in blocks)
    plt.close("all")


@pytest.mark.parametrize("payload", ["<img src=x onerror=alert(1)>", "**x**", "[a](javascript:1)"])
def test_data_text_is_escaped_in_the_narrative(analysis, payload):
    arm = analysis.arms[0]
    ren = {arm: payload}
    hostile = dataclasses.replace(
        analysis, campaign_id=payload, info={**analysis.info, "name": payload, "channel": payload},
        arms=[ren.get(a, a) for a in analysis.arms],
        effects=analysis.effects.assign(arm=analysis.effects["arm"].replace(ren)),
        power=analysis.power.assign(arm=analysis.power["arm"].replace(ren)),
        cuped_table=analysis.cuped_table.assign(arm=analysis.cuped_table["arm"].replace(ren)),
        recommendation={**analysis.recommendation, "arm": payload})
    for text in (N.campaign_title(hostile), N.campaign_intro(hostile), N.effect_summary(hostile, 0.4),
                 N.cuped_summary(hostile), N.recommendation(hostile, 0.4), N.power_summary(hostile)):
        assert payload not in text and "<img" not in text


def _month(analyses, margin=0.4):
    from omni.core.month import Month
    from omni.uplift.result import UpliftResult
    from omni.uplift.selection import select_campaigns

    sel = select_campaigns(None, "2026-10")
    sel.campaign_ids = [a.campaign_id for a in analyses]
    return UpliftResult(month=Month(2026, 10), settings={"margin": margin}, selection=sel, campaigns=list(analyses))


def test_validation_and_budget_sections_show_each_arms_checks(analysis):
    from omni.uplift import section as S
    from omni.uplift.budget import best_share, budget_curve
    from omni.uplift.validation import validate_cate

    r = _month([analysis], margin=0.3)
    assert list(analysis.model) == ["coupon_a", "coupon_b"]
    blocks = list(S.validation_section(r, seed=5))
    assert [b.kind for b in blocks] == ["markdown"] + ["table", "markdown"] * 2
    assert blocks[0].content == N.validation_intro() and "**best linear predictor**" in blocks[0].content
    m = analysis.model["coupon_b"]
    v = validate_cate(m["test"]["converted"], m["test"]["treated"], m["score"], seed=5)
    pd.testing.assert_frame_equal(blocks[3].content, N.validation_table(v))  # the same seed, the same numbers
    assert blocks[3].caption == "C0001 coupon_b: uplift model checks" and blocks[4].content == N.validation_verdict(v)

    blocks = list(S.budget_section(r))  # the margin of the result (0.3) unless given
    assert [b.kind for b in blocks] == ["figure", "table", "markdown"] * 2
    curve = budget_curve(m["test"], m["score"], coupon_value=50.0, margin=0.3,
                         cost_per_contact=analysis.info["cost_per_contact"], population=analysis.info["n_people"])
    pd.testing.assert_frame_equal(blocks[4].content, N.budget_table(curve))
    assert blocks[4].caption == "C0001 coupon_b: budget curve"
    assert blocks[5].content == N.budget_summary("C0001", "coupon_b", best_share(curve))
    assert blocks[3].content.axes[0].get_title() == "C0001 coupon_b: incremental profit by share targeted"
    plt.close("all")


def test_sections_without_a_model_or_a_truth_say_so(analysis):
    from omni.uplift import section as S

    r = _month([dataclasses.replace(analysis, model={})])
    assert [b.content for b in S.validation_section(r)] == [N.validation_intro(), N.no_model_to_check()]
    assert [b.content for b in S.budget_section(r)] == [N.no_model_to_rank()]
    assert [b.content for b in S.truth_section(r, None)] == [N.no_truth()]
    assert S.identity_section(r) == []  # no capture measured: no identity table
    empty = _month([])
    assert S.overview_section(empty) == [] and list(S.campaign_sections(empty)) == []
