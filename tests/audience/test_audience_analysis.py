"""omni.audience.analyse_month: the report's numbers, tables, comparison and presentation doors."""

from __future__ import annotations

import logging

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import omni
from omni.audience import AudienceResult, analyse_month, narrative, plots, prepare_audiences
from omni.core.markup import render_markdown
from omni.core.month import Month, MonthError
from omni.workspace import Workspace

MONTH = "2026-10"
# notebook 06's headline on the test world before the redesign (metrics.json of `omni report`)
HEADLINE = {"audiences": 7, "people_in_audiences": 1481, "reachable": 967, "opted_out_removed": 62,
            "reach_share": 0.6814658210007047}

CHEAP_YAML = """
version: 1
audiences:
  store_buyers:
    description: "<img src=x onerror=alert(1)> **bold** [link](javascript:alert(1))"
    rule: {type: bought, channel: store, days: 365}
  online_buyers:
    description: "<img src=y onerror=alert(2)> **bold** [link](javascript:alert(2)) online"
    rule: {type: bought, channel: [tmall, jd, douyin, site], days: 365}
"""


@pytest.fixture(scope="module")
def ws(test_world):
    return Workspace(test_world)


@pytest.fixture(scope="module")
def result(ws) -> AudienceResult:
    return analyse_month(ws, MONTH)


@pytest.fixture(scope="module")
def cheap(ws, tmp_path_factory) -> AudienceResult:
    path = tmp_path_factory.mktemp("defs") / "audiences.yaml"
    path.write_text(CHEAP_YAML, encoding="utf-8")
    return analyse_month(ws, MONTH, definitions=path, platforms=["google"], k=1)


def test_headline_is_notebook_06s(result):
    figs = {f.key: f for f in result.headline}
    assert list(figs) == list(HEADLINE)
    assert {k: f.value for k, f in figs.items()} == HEADLINE
    assert figs["reach_share"].fmt == "{:.1%}" and figs["reachable"].better == "up"
    assert result.month == Month.parse(MONTH)
    assert result.settings == {"definitions": result.settings["definitions"], "platforms": ["tencent", "google", "meta"],
                               "k": 10}


def test_counts_reconcile(result):
    c = result.counts
    assert c["eligible"] == c["people_in_audiences"] - c["opted_out_removed"] == 1419
    assert c["reach_share"] == pytest.approx(c["reachable"] / c["eligible"])
    assert c["opted_out_total"] == 140 and c["opted_out_records_only"] == 0
    assert c["opted_out_removed"] <= c["opted_out_total"]
    assert result.identifier_suppression is False and c["identifier_removed"] == 0
    assert result.largest == "high_value_not_slipping"
    assert (result.most_similar["a"], result.most_similar["b"]) == ("store_skincare_365d", "store_only_365d")
    assert result.most_similar["jaccard"] == pytest.approx(0.3207, abs=1e-4)
    assert result.memberships["eligible"] == 1913 and result.best_platform == "tencent"


def test_tables_blank_small_counts(result):
    sizes, overlap, reach = (result.tables[n] for n in ("sizes", "overlap", "reach"))
    assert list(sizes.columns) == ["audience", "what it selects", "people", "opted out", "eligible"]
    assert len(sizes) == 7 and list(overlap.index) == list(sizes["audience"])
    for t in (sizes[["people", "opted out", "eligible"]], overlap, reach.drop(columns="audience")):
        v = t.to_numpy(dtype="float64", na_value=np.nan)
        assert not ((v > 0) & (v < result.k)).any()
    shown = sizes.dropna(subset=["opted out", "eligible"])
    assert (shown["opted out"] + shown["eligible"] == shown["people"]).all()
    # vip_slipping is small: every count of it is blanked, in every table
    assert sizes.set_index("audience").loc["vip_slipping"].drop("what it selects").isna().all()
    assert reach.set_index("audience").loc["vip_slipping", "eligible"] is pd.NA
    share = result.tables["overlap_share"]
    diag = np.diag(share.to_numpy())
    assert np.allclose(diag[np.isfinite(diag)], 1.0) and np.isnan(share.loc["vip_slipping"]).all()
    assert [c for c in reach.columns if c.endswith("(any)")] == ["tencent (any)", "google (any)", "meta (any)"]


def test_compare_and_truth_check(result, ws):
    previous = {**HEADLINE, "reachable": 900, "people_in_audiences": 1481}
    labels = {f.key: f.label for f in result.headline}
    cmp = result.compare(previous).set_index("figure")
    assert list(cmp.index) == list(labels.values())
    assert cmp.loc[labels["reachable"], "change"] == 67
    assert cmp.loc[labels["people_in_audiences"], "change"] == 0
    assert result.compare(result)["change"].fillna(0).eq(0).all()
    assert result.truth_check({"persons": ws.truth("persons")}) is None
    assert result.truth_check(None) is None


def test_settings_restrict_platforms_and_threshold(cheap):
    assert cheap.counts["audiences"] == 2 and cheap.k == 1 and cheap.platforms == ("google",)
    reach = cheap.tables["reach"]
    assert [c for c in reach.columns if "tencent" in c or "meta" in c] == []
    assert "google Email" in reach.columns and not reach["google (any)"].isna().any()  # k=1 blanks nothing
    assert cheap.best_platform == "google" and cheap.device_only is None


@pytest.mark.parametrize("kwargs, error", [
    ({"platforms": ["weibo"]}, ValueError), ({"k": 0}, ValueError), ({"k": True}, ValueError),
])
def test_bad_settings_fail_before_computing(ws, kwargs, error):
    with pytest.raises(error, match="weibo|k must be"):
        analyse_month(ws, MONTH, **kwargs)


def test_bad_month_is_a_month_error(ws):
    with pytest.raises(MonthError):
        analyse_month(ws, "2026-13")


def test_user_written_descriptions_stay_text(cheap):
    text = narrative.largest(cheap)
    html = render_markdown(text)
    assert "<img" not in html and "&lt;img" in html
    assert "<strong>bold</strong>" not in html and "<a " not in html and "href" not in html
    for block in (narrative.summary, narrative.overlap, narrative.reach, narrative.consent):
        assert "<img" not in render_markdown(block(cheap))


def test_narrative_follows_the_platforms(cheap, result):
    assert "Tencent" in narrative.reach(result) and "Tencent" not in narrative.reach(cheap)
    assert "suppression by identifier" in narrative.consent(result)


def test_plots_draw_labelled_axes(result):
    import matplotlib.pyplot as plt

    ax = plots.plot_sizes(result)
    assert ax.get_xlabel() == "people" and len(ax.patches) == 2 * 6  # vip_slipping is blanked
    ax = plots.plot_overlap(result)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.images[0].get_array().shape == (7, 7)
    ax = plots.plot_reach(result)
    assert "%" in ax.get_ylabel() and [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Tencent Ads", "Google Customer Match", "Meta"]
    plt.close("all")


def test_plots_with_one_audience_draw_nothing(cheap):
    one = AudienceResult(month=cheap.month, tables={**cheap.tables,
                                                     "overlap_share": cheap.tables["overlap_share"].iloc[:1, :1]})
    assert plots.plot_overlap(one) is None


def test_pipeline_logs_instead_of_printing(ws, caplog, capsys):
    with caplog.at_level(logging.INFO, logger="omni.audience"):
        prepare_audiences(ws.path, MONTH, workspace=ws, names=["store_only_365d"])
    records = [r for r in caplog.records if r.name == "omni.audience.pipeline"]
    assert len(records) == 2 and all(r.levelno == logging.INFO for r in records)
    assert capsys.readouterr() == ("", "")


def test_open_and_analyse_is_the_notebook_door(test_world, cheap):
    defs = cheap.settings["definitions"]
    r = omni.audience.analyse_month(omni.open(test_world), None, definitions=defs, platforms=["google"], k=1)
    assert str(r.month) == MONTH and r.figures() == cheap.figures()
