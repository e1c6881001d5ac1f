"""The probabilistic OneID stage on Spark against the embedded stage, on the 3,000-person test world.

The units (accounts and profiles with their features) are equal cell for cell; with the embedded
stage's trained model the Spark scoring gives the same match weights (to 1e-9), the same decision
for every account and the same links, and the merged resolution has the same record partition and
the same ``how``. Splink's similarity jar answers through the pinned Spark.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omni.oneid.config import OneIDConfig
from omni.oneid.linkage import match_accounts
from omni.oneid.linkage.decisions import merge_links
from omni.oneid.match_features import normalize_quasi
from omni.oneid.resolve import resolve_identities
from omni.spark.linkage import jaro_winkler_check, link_accounts_spark, spark_model, to_spark_sql
from omni.spark.match_units import normalize_values, resolution_frames
from omni.spark.session import get_session
from omni.workspace import Workspace


@pytest.fixture(scope="module")
def spark():
    return get_session("local[2]")


@pytest.fixture(scope="module")
def world(test_world):
    ws = Workspace(test_world)
    records = ws.records()
    res = resolve_identities(ws.ids, records[["record_key", "source", "row"]], ws.config,
                             times=records["time"])
    quasi = ws.quasi
    embedded = match_accounts(res, quasi, ws.ids, OneIDConfig())
    merged, links = merge_links(res, embedded)  # link_accounts without fitting the model again
    frames = resolution_frames(res)
    q = quasi[["record_key", "value", "valid", "field"]]
    return {"res": res, "quasi": q, "embedded": embedded, "merged": merged, "links": links, **frames}


@pytest.fixture(scope="module")
def spark_stage(world, spark):
    """The Spark stage scoring with the embedded stage's trained model."""
    return link_accounts_spark(world["records"], world["quasi"], world["edges"], OneIDConfig(),
                               spark=spark, model=world["embedded"].matcher.model_, keep_units=True)


def _cells(v):
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    return list(v) if hasattr(v, "__len__") and not isinstance(v, str) else v


def test_similarity_jar_matches_the_pinned_spark(spark):
    import pyspark

    assert pyspark.__version__.startswith("4.")
    assert jaro_winkler_check(spark) == pytest.approx(0.961111, abs=1e-6)


def test_settings_translate_to_spark_sql():
    assert to_spark_sql('list_has_any("mphones_l", "mphones_r")') == "ARRAYS_OVERLAP(`mphones_l`, `mphones_r`)"
    assert to_spark_sql('l."mphone" = r."mphone"') == "l.`mphone` = r.`mphone`"
    assert to_spark_sql("ELSE") == "ELSE"
    model = spark_model({"comparisons": [{"comparison_levels": [
        {"sql_condition": 'length("name_l") = length("name_r") AND levenshtein("name_l", "name_r") = 1'}]}],
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": 'l."streets" = r."streets"', "arrays_to_explode": ["streets"]}]})
    assert model["sql_dialect"] == "spark"
    assert "LEVENSHTEIN(`name_l`, `name_r`) = 1" in model["comparisons"][0]["comparison_levels"][0]["sql_condition"]
    assert model["blocking_rules_to_generate_predictions"][0]["arrays_to_explode"] == ["streets"]
    assert spark_model(model) == model  # already Spark: unchanged


def test_normalization_equals_the_embedded_rules_on_every_distinct_value(world, spark):
    q = world["quasi"]
    distinct = (q[q["valid"].fillna(False)][["field", "value"]].astype(object).dropna()
                .drop_duplicates().rename(columns={"value": "v"}))
    distinct = distinct[distinct["field"].isin(["province", "city", "district", "street"])]
    assert len(distinct) > 1000
    got = normalize_values(spark.createDataFrame(distinct)).toPandas()
    for f in ("province", "city", "district", "street"):
        g = got[got["field"] == f].set_index("v")
        vals = distinct.loc[distinct["field"] == f, "v"]
        want = normalize_quasi(vals, f)
        assert (g["nv"].reindex(vals).fillna("<NA>").to_numpy() == want.fillna("<NA>").to_numpy()).all(), f
        if f == "street":
            road = normalize_quasi(vals, "road")
            assert (g["road"].reindex(vals).fillna("<NA>").to_numpy() == road.fillna("<NA>").to_numpy()).all()


def test_units_equal_the_embedded_units_cell_for_cell(world, spark_stage):
    left, right = spark_stage.accounts, spark_stage.profiles
    emb = world["embedded"]
    for got, want in ((left.toPandas(), emb.accounts), (right.toPandas(), emb.profiles)):
        got = got.sort_values("unique_id").reset_index(drop=True)
        assert sorted(got.columns) == sorted(want.columns)
        assert len(got) == len(want) > 1000
        for c in want.columns:
            a = [_cells(v) for v in got[c]]
            b = [_cells(v) for v in want[c]]
            assert a == b, c


def test_scores_and_decisions_equal_the_embedded_stage(world, spark_stage):
    emb = world["embedded"].decisions
    got = spark_stage.decisions
    m = got.merge(emb, on="left_id", suffixes=("_s", "_e"), validate="1:1")
    assert len(m) == len(emb) == 1591
    assert (m["decision_s"] == m["decision_e"]).all()
    assert got["decision"].value_counts().to_dict() == {
        "linked": 1017, "no_candidate": 339, "below_threshold": 231, "ambiguous": 4}
    has = m["decision_e"] != "no_candidate"
    assert (m.loc[has, "right_id_s"] == m.loc[has, "right_id_e"]).all()
    assert np.allclose(m.loc[has, "match_weight_s"], m.loc[has, "match_weight_e"], atol=1e-9)
    assert np.allclose(m.loc[has, "match_probability_s"], m.loc[has, "match_probability_e"], atol=1e-12)
    assert spark_stage.stage["candidate_pairs"] == len(world["embedded"].pairs)


def test_links_and_merged_partition_equal_the_embedded_stage(world, spark_stage):
    want = world["links"]
    got = spark_stage.links
    assert list(got.columns) == list(want.columns)
    key = ["account", "account_record", "target_record"]
    a = got.sort_values("account").reset_index(drop=True)
    b = want.sort_values("account").reset_index(drop=True)
    assert len(a) == len(b) == 1017
    assert a[key].equals(b[key])
    assert (a["agreement"] == b["agreement"]).all() and (a["n_records"] == b["n_records"]).all()
    rec = spark_stage.records.select("record_key", "cluster", "how").toPandas().set_index("record_key")
    merged = world["merged"].records
    rec = rec.reindex(merged["record_key"].astype(object))
    assert rec["cluster"].notna().all()
    s_codes = pd.factorize(rec["cluster"].to_numpy())[0]
    e_codes = pd.factorize(merged["cluster"].to_numpy())[0]
    assert (s_codes == e_codes).all()  # the same record partition
    assert (rec["how"].to_numpy() == merged["how"].astype(str).to_numpy()).all()
    assert (rec["how"] == "probabilistic").sum() == int(b["n_records"].sum())


def test_a_model_without_a_levels_u_keeps_the_level_on_spark(world, spark):
    """A model whose u sample missed a level (Splink's JSON then has no u for it) scores that
    level's pairs at the level, with u = U_NOT_OBSERVED, as the embedded matcher does."""
    import copy

    from omni.oneid.linkage.matcher import U_NOT_OBSERVED
    from omni.spark.linkage import spark_account_matcher

    model = copy.deepcopy(world["embedded"].matcher.model_)
    phone = next(c for c in model["comparisons"] if c["output_column_name"] == "phone")
    shared = next(lv for lv in phone["comparison_levels"] if lv.get("label_for_charts") == "a masked phone shared")
    del shared["u_probability"]
    acc, prof = world["embedded"].accounts, world["embedded"].profiles
    from omni.oneid.match_features import list_columns

    cols = ["unique_id", "name", "mphone", "city", "street", *list_columns(acc)]
    m = spark_account_matcher(spark).use_model(model, acc[cols], prof[cols])
    assert m.u_not_observed_ == [{"comparison": "phone", "label": "a masked phone shared"}]
    p = m.model_parameters_.set_index(["comparison", "label"])
    assert p.loc[("phone", "a masked phone shared"), "u_probability"] == U_NOT_OBSERVED
    assert "u_probability" not in shared  # the caller's model is not changed
