"""The audit domain's doors: analyse_month, the result (headline, tables, compare, truth), plots, narrative."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from omni.audit import TABLES, AuditResult, analyse_month, narrative, plots
from omni.core.month import Month, MonthError
from omni.workspace import Workspace

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def ws(test_world):
    return Workspace(test_world)


@pytest.fixture(scope="module")
def result(ws):
    return analyse_month(ws, "2026-10")


def test_headline_of_the_test_world(result):
    figs = {f.key: f for f in result.headline}
    assert list(figs) == ["sources", "rows_in", "quarantine_rate", "reconciled", "high_issues", "quality_score"]
    # 15 sources since issue 19 added products, order_lines (6 bad rows) and product_views
    assert figs["sources"].value == 15 and figs["rows_in"].value == 89032
    assert figs["quarantine_rate"].value == pytest.approx(8 / 89032)
    assert figs["reconciled"].value == "15 of 15"
    assert figs["high_issues"].value == 1
    assert figs["quality_score"].value == pytest.approx(96.70935194619227, abs=1e-9)
    assert figs["quarantine_rate"].fmt == "{:.3%}" and figs["quality_score"].better == "up"


def test_result_holds_every_table_and_its_settings(result):
    assert set(result.tables) == set(TABLES)
    assert result.month == Month(2026, 10)
    assert result.settings["overlap_id_type"] == "phone" and result.settings["volume_months"] == 12
    assert len(result.tables["volume"]) == 12 and str(result.tables["volume"].index[-1]) == "2026-10"
    assert list(result.tables["scores"].columns) == ["source", "accepted", "completeness", "identifier_validity",
                                                     "freshness", "clock", "score"]
    ov = result.tables["overlap"]
    assert np.allclose(np.diag(ov.to_numpy()), 1.0) and list(ov.index) == list(ov.columns)
    by_source = result.tables["completeness_by_source"]
    assert by_source["filled"].is_monotonic_increasing and by_source["filled"].between(0, 1).all()
    assert (result.tables["incomplete_columns"]["filled"] < 0.95).all()
    assert result.weakest["source"] == result.tables["scores"]["source"].iloc[0]


def test_settings_change_the_tables(ws):
    r = analyse_month(ws, "2026-10", volume_months=6, overlap_id_type="email")
    assert len(r.tables["volume"]) == 6
    assert r.settings["overlap_id_type"] == "email"


def test_month_defaults_to_the_last_complete_month_and_is_strict(ws):
    assert analyse_month(ws).month == Month.parse(ws.last_complete_month())
    with pytest.raises(MonthError):
        analyse_month(ws, "2026-13")


def test_truth_check_matches_the_injected_bad_rows(result, ws):
    check = result.truth_check(ws.truth_params()).set_index("source")
    injected = {s: sum(k["count"] for k in kinds.values()) for s, kinds in ws.truth_params()["bad_rows"].items()}
    assert check["injected"].to_dict() == injected
    assert (check["difference"] == 0).all()
    assert result.truth_check({"params": ws.truth_params()}).equals(check.reset_index())
    assert result.truth_check(None) is None and result.truth_check({"seed": 11}) is None


def test_compare_with_the_previous_month(result, ws):
    prev = analyse_month(ws, "2026-09")
    cmp = result.compare(prev).set_index("figure")
    assert "sources whose counts reconcile" not in cmp.index  # text figures are not compared
    assert list(cmp.index) == ["sources", "rows received", "rows quarantined", "high-severity issues",
                               "mean quality score (0-100)"]
    assert cmp.loc["rows received", "this_month"] == 89032
    assert cmp.loc["rows received", "change"] == pytest.approx(89032 - prev.figures()["rows_in"])


def _hand_made(source: str) -> AuditResult:
    overview = pd.DataFrame({"source": [source, "pos"], "reconciled": [False, True], "rows_in": [10, 5],
                             "quarantined": [1, 0]})
    scores = pd.DataFrame({"source": [source, "pos"], "score": [41.6, 90.0]})
    clocks = pd.DataFrame({"source": [source, "pos"], "best_shift_hours": [-8, 0], "flag": [True, False]})
    issues = pd.DataFrame({"severity": ["high"], "source": [source], "issue": ["x"], "figure": [""]})
    return AuditResult(month=Month(2026, 10), tables={"overview": overview, "scores": scores, "clocks": clocks,
                                                        "issues": issues})


def test_narrative_escapes_source_names():
    r = _hand_made("<img src=x>*crm*")
    text = narrative.summary(r)
    assert "<img" not in text and "&lt;img" in text and "\\*crm\\*" in text
    assert text.startswith("**Not every row is accounted for**") and "1 of 2 sources" in text
    assert "(score 42/100)" in text
    shifted = narrative.clocks(r)
    assert "<img" not in shifted and "(-8 h)" in shifted
    assert narrative.clocks(_hand_made("crm").__class__(month=r.month, tables={
        "clocks": r.tables["clocks"].assign(flag=False)})) == "No source looks shifted."
    assert r.figures()["reconciled"] == "1 of 2" and r.figures()["high_issues"] == 1


def test_plots_draw_labelled_axes(result):
    import matplotlib.pyplot as plt

    for plot in (plots.plot_completeness, plots.plot_volume, plots.plot_scores, plots.plot_overlap):
        ax = plot(result)
        assert ax.get_title()
        assert ax.get_xlabel() or ax.get_ylabel()
        plt.close(ax.figure)
    ax = plots.plot_overlap(result)
    n = len(result.tables["overlap"])
    assert [t.get_text() for t in ax.get_yticklabels()] == list(result.tables["overlap"].index)
    assert len(ax.texts) <= n * n and "phone numbers" in ax.figure.axes[-1].get_ylabel()
    plt.close(ax.figure)
    empty = AuditResult(month=result.month, tables={"overlap": pd.DataFrame()})
    assert plots.plot_overlap(empty) is None


def test_sections_show_the_notebooks_tables_and_texts_in_reading_order(result):
    import dataclasses

    import matplotlib.pyplot as plt

    from omni.audit import section
    from omni.core.i18n import using_lang

    [src] = section.sources(result)
    assert src.kind == "table" and src.content["rows_in"].sum() == 89032
    assert list(src.content.columns) == ["source", "format", "encoding", "timezone", "rows_in", "accepted",
                                         "quarantined", "quarantine_rate", "first", "last", "days_stale",
                                         "rows_this_month"]
    [q] = section.quarantine(result)  # 8 rows of the test world were quarantined
    assert q.kind == "table" and q.content is result.tables["quarantine"] and q.caption.startswith("Quarantined cells")
    clean = dataclasses.replace(result, tables={**result.tables, "quarantine": result.tables["quarantine"].iloc[:0],
                                                "clocks": result.tables["clocks"].iloc[:0]})
    assert [b.content for b in section.quarantine(clean)] == [narrative.no_quarantine()]
    # the longer introductions come first, in the report's language; the table and verdict where sources were compared
    clocks = section.clocks(result)
    assert [b.kind for b in clocks] == ["markdown", "table", "markdown"]
    assert clocks[0].content.startswith("People's daily rhythm") and clocks[2].content == narrative.clocks(result)
    assert [b.content for b in section.clocks(clean)] == [narrative.intro("clocks")]
    with using_lang("zh"):
        assert section.clocks(clean)[0].content.startswith("人们一天中的作息")
    issues = section.issues(result)
    assert [b.kind for b in issues] == ["table", "figure"] and issues[0].max_rows == 30
    pd.testing.assert_frame_equal(issues[0].content, narrative.issues_table(result))
    assert [b.kind for b in section.completeness(result)] == ["markdown", "figure", "table"]
    plt.close("all")
