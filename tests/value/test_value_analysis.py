"""analyse_month, customer_value and the presentation of the value report, on the small test world."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from omni.core.month import Month
from omni.core.result import Figure
from omni.value import ValueResult, analyse_month, customer_value, narrative, plots, value_of_orders
from omni.value.customer import identified_orders
from omni.value.result import MONTH_FIGURES
from omni.workspace import Workspace

HEADLINE = ["customers", "active_customers", "repeat_share", "clv_total", "clv_mean", "top_tier_value_share",
            "at_risk_share", "important_value_share", "watchlist", "model", "truth_rank_corr"]


@pytest.fixture(scope="module")
def ws(test_world) -> Workspace:
    return Workspace(test_world)


@pytest.fixture(scope="module")
def result(ws) -> ValueResult:
    return analyse_month(ws, "2026-10")


def test_headline_keys_labels_and_values(result) -> None:
    figs = result.headline
    assert all(isinstance(f, Figure) for f in figs)
    assert [f.key for f in figs] == HEADLINE
    v, f = result.figures(), result.month_figures
    assert v["customers"] == f["customers"] == len(result.current.summary)
    assert v["clv_total"] == pytest.approx(result.current.predictions["clv_12m"].sum())
    assert v["watchlist"] == result.watch_figures["falling"]
    assert v["model"].startswith(f["model"]) and v["model"].endswith("%)")
    labels = {f.key: f.label for f in figs}
    assert labels["active_customers"] == "customers who bought in 2026-10"
    assert labels["watchlist"] == "tier-A customers whose P(alive) fell 5+ points this month"
    assert {f.key: f.unit for f in figs}["clv_total"] == result.currency == "CNY"
    assert 0 < v["truth_rank_corr"] < 1


def test_tables_and_previous_month(result) -> None:
    assert result.month == Month(2026, 10) and result.previous_month == "2026-09"
    assert {"segments", "tiers", "parameters", "holdout", "scores", "previous_parameters", "watchlist",
            "migration", "churn_points", "tgi_top", "concentration_clv", "concentration_revenue",
            "truth_calibration"} <= set(result.tables)
    assert len(result.tables["segments"]) == 8 and list(result.tables["tiers"]["value_tier"]) == list("ABCD")
    # the previous month end uses this month's OneIDs and model, without a check
    assert result.previous.check is None and result.previous.model.model_ == result.current.model.model_
    assert set(result.previous.summary.index) <= set(result.current.summary.index)
    mig = result.tables["migration"]
    assert mig.to_numpy().sum() == len(result.current.summary)
    mom = result.month_over_month()
    assert list(mom["figure"]) == list(MONTH_FIGURES)
    row = mom.set_index("figure").loc["customers"]
    assert row["change"] == result.month_figures["customers"] - result.previous_figures["customers"]


def test_compare_and_truth_check(result) -> None:
    prev = {**result.figures(), "customers": result.figures()["customers"] - 10}
    cmp = result.compare(prev).set_index("figure")
    assert cmp.loc["customers (identified OneIDs with a paid order)", "change"] == 10
    assert "model" not in {k for k in cmp.index}  # text figures are not compared
    assert result.truth_check(None) is None


def test_truth_check_matches_the_analysis(ws, result) -> None:
    out = result.truth_check({"record_person": ws.truth("record_person"), "persons": ws.truth("persons")})
    got = dict(zip(out["check"], out["value"], strict=True))
    assert got == pytest.approx(result.truth_figures, nan_ok=True)
    pd.testing.assert_frame_equal(out.attrs["calibration"], result.tables["truth_calibration"])


def test_customer_value_is_memoized_and_matches_value_of_orders(ws, result) -> None:
    again = customer_value(ws, "2026-10", resolution="2026-10")
    assert again is result.current  # computed once per workspace, date and settings
    res = ws.resolve(as_of="2026-10")
    orders, n_anon = identified_orders(res["orders"], res.record_oneid)
    direct = value_of_orders(orders, "2026-10", anonymous_orders=n_anon)
    pd.testing.assert_frame_equal(direct.predictions, result.current.predictions)
    assert direct.anonymous_orders == result.current.anonymous_orders > 0


def test_customer_value_at_an_arbitrary_date(ws) -> None:
    # a campaign start: orders before that day, the report month's OneIDs, no check (as uplift needs)
    cv = customer_value(ws, "2026-06-18", resolution="2026-10", model="bgnbd", check=False,
                        include_anonymous=True)
    assert cv.as_of == pd.Timestamp("2026-06-18") and cv.end == pd.Timestamp("2026-06-17")
    assert cv.orders["order_time"].max() < pd.Timestamp("2026-06-18")
    assert cv.summary["last_purchase"].max() < pd.Timestamp("2026-06-18")
    assert cv.check is None and cv.check_skipped == "not run" and cv.anonymous_orders == 0
    assert cv.model.model_ == "bgnbd" and {"p_alive", "clv_12m", "value_tier"} <= set(cv.predictions)
    assert np.isfinite(cv.predictions["clv_12m"]).all()
    with pytest.raises(ValueError, match="YYYY-MM"):
        customer_value(ws, "18 June 2026")


def test_narrative_escapes_data_and_keeps_numbers(result) -> None:
    text = narrative.summary(result)
    assert f"{result.month_figures['customers']:,} customers had bought" in text
    hostile = ValueResult(**{**result.__dict__, "currency": "<img src=x>"})
    assert "<img" not in narrative.summary(hostile) and "&lt;img" in narrative.summary(hostile)
    shown = narrative.segments_table(result)
    assert {"df", "formats", "caption"} == set(shown)
    assert list(shown["df"].columns[:3]) == ["class", "class (English)", "customers"]
    for section in (narrative.rfm, narrative.segments, narrative.model, narrative.tiers, narrative.churn,
                    narrative.tgi_top, narrative.panel, narrative.comparison, narrative.truth):
        assert len(section(result)) > 50


def test_plots_draw_labelled_axes(result) -> None:
    import matplotlib.pyplot as plt

    ax = plots.plot_migration(result)
    assert ax.get_xlabel() == "RFM class at the end of 2026-10"
    assert ax.get_ylabel() == "RFM class at the end of 2026-09"
    ax = plots.plot_churn(result)
    assert "P(alive)" in ax.get_xlabel() and "P(alive)" in ax.get_ylabel()
    fig = plots.plot_tgi_top(result)
    assert all("TGI" in a.get_xlabel() for a in fig.axes if a.has_data())
    assert plots.plot_holdout(result).get_ylabel() == "mean purchases in the holdout per customer"
    plt.close("all")


def test_sections_show_chart_tables_and_note_in_the_notebooks_order(result) -> None:
    import matplotlib.pyplot as plt

    from omni.core.i18n import using_lang
    from omni.value import section

    model = section.model(result)  # introduction, holdout chart, the model's tables, its note
    n = len(narrative.model_tables(result))
    assert [b.kind for b in model] == ["markdown", "figure"] + ["table"] * n + ["markdown"] and n >= 1
    assert model[0].content.startswith("BG/NBD and Pareto/NBD") and model[-1].content == narrative.model(result)
    pd.testing.assert_frame_equal(model[2].content, narrative.model_tables(result)[0]["df"])
    with using_lang("zh"):
        assert section.churn(result)[0].content.startswith("P(存活) 是模型给出的")
    cmp = section.comparison(result)  # the tables first, then the migration chart, then the note
    kinds = [b.kind for b in cmp]
    assert kinds == ["table"] * len(narrative.comparison_tables(result)) + ["figure", "markdown"]
    assert [b.kind for b in section.rfm(result)] == ["figure", "markdown"]  # a chart and its note, no table
    plt.close("all")
