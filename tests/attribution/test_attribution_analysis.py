"""The domain's doors on the test world: analyse_month, the result, its plots and narrative."""

from __future__ import annotations

import dataclasses

import matplotlib
import numpy as np
import pytest

import omni
from omni.attribution import MODEL_LABELS, MODELS, AttributionResult, analyse_month, plots
from omni.attribution import narrative as nr
from omni.attribution.result import COMPARED_FIGURES
from omni.core.month import Month

matplotlib.use("Agg")

MONTH = "2026-10"
HEADLINE = ["conversions", "touched_share", "median_days_to_convert", "attributed_to_touches", "top_channel",
            "spend", "blended_cpa", "max_model_gap", "truth_deviation", "truth_best_model"]


@pytest.fixture(scope="module")
def result(test_world) -> AttributionResult:
    return analyse_month(omni.open(test_world), MONTH, n_boot=20)


def test_headline_figures_follow_the_tables(result):
    figs = {f.key: f for f in result.headline}
    assert list(figs) == HEADLINE
    f = result.month_figures
    assert figs["conversions"].value == f["conversions"] == result.stats["conversions"] > 0
    assert 0 < figs["touched_share"].value < 1 and figs["touched_share"].fmt == "{:.1%}"
    assert figs["top_channel"].value == f"{f['top_channel']} ({f['top_share']:.1%})"
    assert figs["max_model_gap"].value == pytest.approx(result.tables["disagreement"]["spread"].max() * 100)
    assert figs["max_model_gap"].unit == "pp" and figs["spend"].unit == result.currency == "CNY"
    truth = result.tables["truth"]
    assert figs["truth_deviation"].value == truth.loc["markov", "total_abs_dev"]
    assert figs["truth_best_model"].value.startswith(MODEL_LABELS[truth["total_abs_dev"].idxmin()])
    assert result.month == Month.parse(MONTH) and result.settings["n_boot"] == 20


def test_previous_month_restated_and_compared(result):
    prev = result.previous
    assert prev is not None and prev.month == Month.parse(MONTH).previous
    assert prev.previous is None and "truth" not in prev.tables  # the report month alone is checked
    cmp = result.compare(prev)
    assert list(cmp.columns) == ["figure", "this_month", "previous_month", "change", "relative_change"]
    assert cmp["figure"].tolist() == list(result.comparison_labels().values())
    assert len(cmp) == len(COMPARED_FIGURES)
    row = cmp.set_index("figure").loc["conversions"]
    assert row["change"] == result.month_figures["conversions"] - prev.month_figures["conversions"]
    gap = result.compare(prev, keys=["max_model_gap"]).iloc[0]
    assert gap["this_month"] == pytest.approx(result.figures()["max_model_gap"])
    assert result.compare(None)["previous_month"].isna().all()


def test_truth_check_and_tables(result):
    assert result.truth_check(None) is None and result.truth_check({}) is None
    truth = result.tables["truth"]
    assert list(truth.index) == list(MODELS)
    assert ((truth["total_abs_dev"] >= 0) & (truth["total_abs_dev"] <= 2)).all()
    assert result.true_shares.sum() == pytest.approx(1.0)
    boot = result.tables["bootstrap"]
    assert set(boot["model"]) == set(MODELS)
    assert (boot["share_lo"] <= boot["share"] + 1e-12).all() and (boot["share"] <= boot["share_hi"] + 1e-12).all()
    assert result.channels[0] == result.month_figures["top_channel"] and "direct" not in result.channels
    np.testing.assert_allclose(result.tables["touch_shares"].sum().to_numpy(), 1.0)


def test_narrative_escapes_channel_names(result):
    hostile = "<img src=x onerror=alert(1)>**x**"
    figs = dict(result.month_figures, top_channel=hostile)
    dis = result.tables["disagreement"].copy()
    dis.loc[0, "channel"] = hostile
    evil = dataclasses.replace(result, month_figures=figs, tables={**result.tables, "disagreement": dis})
    text = nr.summary(evil)
    assert hostile not in text and "<img" not in text
    assert text.count("&lt;img src\\=x onerror\\=alert\\(1\\)&gt;\\*\\*x\\*\\*") == 2
    assert "**" in text  # the template's own bold stays markup
    for section in (nr.journeys, nr.online_to_offline, nr.model_shares, nr.markov, nr.roi, nr.disagreement,
                    nr.month_change, nr.truth):
        assert isinstance(section(result), str) and section(result)


def test_table_views_have_readable_columns(result):
    share = nr.share_table(result)
    assert list(share["df"].columns) == [MODEL_LABELS[m] for m in MODELS]
    assert list(share["df"].index) == [*result.channels, "direct"]
    cmp = nr.comparison_table(result)["df"]
    assert list(cmp.columns)[1:3] == [MONTH, str(Month.parse(MONTH).previous)]
    assert all(isinstance(v, str) for v in cmp[MONTH])
    paths = nr.paths_table(result)
    if paths is not None:  # groups of fewer than 10 people are blanked
        df = paths["df"]
        assert df.loc[df["people"].isna(), "conversions"].isna().all()


def test_plots_draw_labelled_axes(result):
    import matplotlib.pyplot as plt

    a1, a2 = plots.plot_journeys(result)
    assert len(a1.patches) == 2 * len(result.tables["lengths"]) and a1.get_ylabel() == "share of journeys (%)"
    assert len(a2.patches) == len(result.tables["time_to_convert"])
    axes = plots.plot_model_shares(result)
    assert [ax.get_title() for ax in axes.flat[: len(result.channels)]] == result.channels
    heat, removal = plots.plot_markov(result)
    assert heat.get_xlabel() == "next state" and removal.get_title() == "Removal effects"
    for fn in (plots.plot_roas, plots.plot_model_ranks, plots.plot_share_change, plots.plot_truth_shares):
        ax = fn(result)
        assert ax.get_xlabel() and ax.get_title()
    plt.close("all")


def test_sections_show_chart_tables_and_note_in_the_notebooks_order(result):
    import matplotlib.pyplot as plt

    from omni.attribution import section

    shares = section.shares(result)
    assert [b.kind for b in shares] == ["figure", "table", "markdown"]
    assert shares[1].index and shares[1].caption == nr.share_table(result)["caption"]  # the models as columns
    assert shares[2].content == nr.model_shares(result)
    o2o = section.online_to_offline(result)
    assert o2o[0].caption == nr.conversion_channels_table(result)["caption"] and o2o[-1].content == nr.online_to_offline(result)
    # without a previous month: the introduction and the note only
    bare = dataclasses.replace(result, previous=None)
    assert [b.content for b in section.comparison(bare)] == [nr.intro("comparison"), nr.month_change(bare)]
    assert [b.kind for b in section.truth(result)] == ["markdown", "figure", "table", "table", "markdown"]
    plt.close("all")
