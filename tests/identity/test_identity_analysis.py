"""analyse_month on the small synthetic world: the headline, the tables, truth_check, compare, plots."""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

import omni
from omni.core.month import Month, MonthError
from omni.identity import TABLES, IdentityResult, analyse_month, plots

matplotlib.use("Agg")

#: notebook 02's headline on the test world before the identity package (metrics.json of 2026-10), with
#: the OneIDs split into known people, platform-only buyers and anonymous profiles, and the truth's people
HEADLINE = {"records": 60458, "known_people": 2888, "platform_only": 574, "anonymous_profiles": 5496,
            "true_people": 2923, "profiles": 8958, "records_per_profile": 6.749051127483813,
            "multi_source_share": 0.39048894842598797, "anonymous_share": 0.022263389460451883,
            "precision": 1.0, "recall": 0.9792819973427812}


@pytest.fixture(scope="module")
def ws(test_world):
    return omni.open(test_world)


@pytest.fixture(scope="module")
def result(ws) -> IdentityResult:
    return analyse_month(ws, "2026-10")


def test_headline_is_notebook_02s(result):
    assert result.month == Month(2026, 10)
    assert result.figures() == HEADLINE
    figs = {f.key: f for f in result.headline}
    assert figs["records_per_profile"].fmt == "{:.2f}" and figs["recall"].better == "up"
    assert figs["anonymous_share"].label == "records with no usable id" and figs["anonymous_share"].better == "down"
    assert isinstance(result.figures()["records"], int)


def test_oneids_are_split_into_known_people_platform_buyers_and_anonymous_profiles(result, ws):
    """The honest labels: OneIDs are not people. Every OneID is counted once in the split; known people
    come close to the truth's people while all OneIDs are three times as many."""
    assert result.known_people + result.platform_only + result.anonymous_profiles == result.profiles
    ro = result.resolved.record_oneid
    how = ro.assign(how=ro["how"].astype(str)).groupby("oneid")["how"].agg(set)
    assert result.known_people == sum(bool(h & {"strong", "probabilistic"}) for h in how)
    assert result.anonymous_profiles == sum(h <= {"weak", "none"} for h in how)
    truth = ws.truth()
    assert result.true_people == truth.loc[truth["record_key"].isin(ro["record_key"]), "person_id"].nunique()
    assert abs(result.known_people - result.true_people) < 0.05 * result.true_people
    assert result.profiles > 3 * result.true_people
    labels = {f.key: f.label for f in result.headline}
    assert labels["profiles"] == "OneIDs (all profiles)"
    assert not any("(people)" in label for label in labels.values())


def test_without_a_truth_no_true_people_figure(result):
    bare = IdentityResult(month=result.month, records=10, profiles=4, known_people=2, platform_only=1,
                          anonymous_profiles=1)
    keys = [f.key for f in bare.headline]
    assert "true_people" not in keys and keys[:4] == ["records", "known_people", "platform_only", "anonymous_profiles"]


def test_every_table_is_there_and_reconciles(result):
    assert set(result.tables) == set(TABLES)
    t = result.tables
    assert t["by_source"]["records"].sum() == result.records == t["profile_sizes"]["records"].sum()
    assert t["profile_sizes"]["profiles"].sum() == result.profiles
    mr = t["merge_rates"].to_numpy()
    assert ((mr >= 0) & (mr <= 1)).all() and mr.shape == (len(t["by_source"]),) * 2
    # platform bindings always carry a phone: most join a CRM member
    assert t["merge_rates"].loc["platform_members", "crm_members"] > 0.3
    ls = t["platform_linkage"].set_index("linked")
    assert ls.loc["by probability", "records"] > 0 and ls.loc["not linked", "records"] > 0
    assert np.isclose(ls["share"].sum(), 1.0)
    assert list(t["oneid_changes"]["change"]) == ["kept", "new", "merged_into", "split_from", "retired"]
    assert result.changes["kept"] > 0.9 * result.profiles
    largest = t["largest"]
    assert len(largest) == 8 and largest["records"].is_monotonic_decreasing
    assert largest["oneid"].str.fullmatch(r"O\d{3}…").all() and "bridges" not in largest
    n_records, n_ids = result.largest_profile
    assert n_records == largest["records"].iloc[0] and n_ids == t["cluster_edges"]["identifier"].nunique()
    cmp = t["naive_comparison"].set_index("graph")
    assert cmp.loc["omni rules", "profiles"] == result.profiles
    assert cmp.loc["naive: connect every shared value", "pairwise precision"] < 0.5
    assert list(t["model_parameters"].columns) == ["comparison", "label", "m_probability", "u_probability",
                                                   "match_weight"] and len(t["model_parameters"])
    assert t["link_accuracy"]["right_person"].iloc[0] > 0.99
    assert result.probabilistic["decisions"]["linked"] == t["link_accuracy"]["links"].iloc[0]
    assert set(t["rule_impact"]["status"].astype(str)) >= {"shared", "invalid"}


def test_no_raw_identifier_in_any_table_or_example(ws, result):
    raw = ws.ids["raw"].dropna().astype(str)
    raw = set(raw[raw.str.len() >= 6])  # phones, emails, member ids, cookies, devices
    keys = set(ws.records()["record_key"].astype(str))
    for name, df in result.tables.items():
        cells = set(df.astype(str).to_numpy().ravel()) | {str(c) for c in df.columns}
        assert not cells & raw, name
        assert not cells & keys, name
    text = "\n".join(str(e) for e in result.examples)
    assert len(result.examples) == 2 and not re.search(r"\d{11}|@", text)
    assert result.examples[0].same_oneid and not result.examples[1].same_oneid
    assert result.tables["cluster_edges"]["label"].str.contains("…|\\*").all()


def test_truth_check(ws, result):
    assert result.truth_check(None) is None
    acc = result.truth_check(ws.truth())
    pd.testing.assert_frame_equal(acc, result.tables["accuracy"])
    pd.testing.assert_frame_equal(result.truth_check({"record_person": ws.truth()}), acc)
    strong, every = acc.iloc[0], acc.iloc[1]
    assert strong["records"] == "with a strong identifier" and every["n_records"] == result.records
    assert strong["linkable_recall"] >= 0.995 and np.isnan(every["linkable_recall"])
    assert result.tables["source_pairs"]["true_pairs"].is_monotonic_decreasing


def test_compare_with_last_month(ws, result):
    sep = analyse_month(ws, "2026-09")
    cmp = result.compare(sep).set_index("figure")
    assert cmp.loc["records resolved", "this_month"] == 60458
    assert cmp.loc["records resolved", "previous_month"] == sep.records < result.records
    assert cmp.loc["records resolved", "change"] == result.records - sep.records


def test_month_is_strict(ws):
    with pytest.raises(MonthError):
        analyse_month(ws, "2026-13")


def test_plots_label_their_axes(result):
    import matplotlib.pyplot as plt

    ax = plots.plot_merge_rates(result)
    assert ax.get_title() == "Cross-source merge rate (%)" and ax.get_xlabel() and ax.get_ylabel()
    ax = plots.plot_profile_sizes(result)
    assert ax.get_xlabel() == "records per OneID" and ax.get_yscale() == "log"
    ax = plots.plot_platform_linkage(result)
    assert ax.get_xlabel() == "share of platform order records (%)"
    ax = plots.plot_cluster(result, seed=7)
    n_records, n_ids = result.largest_profile
    assert ax.get_title() == f"Largest OneID: {n_records} records, {n_ids} identifiers"
    assert plots.plot_cluster(result, max_nodes=3) is None
    plt.close("all")


def test_sections_show_the_notebooks_tables_and_texts_in_reading_order(result):
    import dataclasses

    import matplotlib.pyplot as plt

    from omni.identity import narrative, section
    from omni.identity.narrative import FORMATS

    people = section.people(dataclasses.replace(result, warnings=["the probabilistic stage failed"]))
    assert [b.content for b in people] == [narrative.people(result), "**Warning:** the probabilistic stage failed"]
    rules = section.rules(result)
    assert rules[0].content == narrative.intro("rules") and rules[0].content.startswith("Identifier values kept")
    assert [(b.content is result.tables[n], b.formats) for b, n in zip(rules[1:3], ("rule_impact", "naive_comparison"),
                                                                       strict=True)] == [
        (True, FORMATS["rule_impact"]), (True, FORMATS["naive_comparison"])]
    platforms = section.platforms(result)
    assert [b.kind for b in platforms[:3]] == ["markdown", "figure", "table"]
    assert platforms[2].content is result.tables["platform_linkage"]
    accuracy = section.accuracy(result)  # the test world has a truth: the scores and the source pairs
    assert [b.kind for b in accuracy] == ["markdown", "markdown", "table", "table"]
    assert "linkable_recall" not in accuracy[2].content and accuracy[3].max_rows == 30
    no_truth = {k: v for k, v in result.tables.items() if k != "accuracy"}
    blind = section.accuracy(dataclasses.replace(result, tables=no_truth))
    assert [b.content for b in blind][1] == "This dataset has no ground truth; accuracy is not measured." and len(blind) == 2
    plt.close("all")
