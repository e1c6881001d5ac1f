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
