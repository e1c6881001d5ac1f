"""The deterministic OneID resolution on Spark: the rules' part of ``omni resolve --engine spark``.

:func:`resolve_spark` is the Spark twin of the inputs and rules part of
:meth:`omni.workspace.Workspace._resolve_now`:

1. the record sources are loaded, validated and normalized in Spark tasks (:mod:`omni.spark.load`);
2. records get their positions after the as-of cut, identifier values their codes
   (:mod:`omni.spark.graph`);
3. the naive baseline (connect every shared value) and the rules (:mod:`omni.spark.rules`) run on
   Spark DataFrames;
4. the outputs stay Spark DataFrames (:class:`SparkResolution`: records with their component
   label and ``how``, values with ``status`` and ``reason``, edges, invalid rows; the removals,
   a few rows per over-limit component, as pandas), numbered as the embedded engine numbers them.
   :meth:`SparkResolution.collect` gives the embedded :class:`omni.oneid.resolve.Resolution`
   for small data and tests.

:mod:`omni.spark.pipeline` continues on Spark (the probabilistic stage, stable numbering, the
cache files) and :mod:`omni.spark.unify` builds the unified tables and profiles.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.functions import pandas_udf
from pyspark.sql.types import StringType

from omni.io.spec import DatasetSpec
from omni.oneid.config import OneIDConfig
from omni.oneid.graph import dense_codes
from omni.oneid.inputs import record_index, record_positions
from omni.oneid.resolve import Resolution
from omni.oneid.state import HOW_NAMES, REMOVAL_COLUMNS, STATUS_NAMES
from omni.spark.components import bipartite_labels
from omni.spark.frames import dense_index
from omni.spark.graph import SparkGraph, build_graph, position_records
from omni.spark.load import SparkInputs, load_inputs
from omni.spark.rules import RULES
from omni.spark.session import get_session

__all__ = ["SparkResolution", "resolve_graph", "resolve_ids_spark", "resolve_spark"]


@dataclass
class SparkResolution:
    """A Spark resolution: the rules' outputs as Spark DataFrames, nothing collected.

    Attributes
    ----------
    records : pyspark.sql.DataFrame
        One row per resolved record: ``rec`` (position in the embedded record table), ``src``
        (position in ``names``), ``row``, ``record_key``, ``time_ns``, ``label`` (the component's
        smallest ``rec``) and ``how`` (a name of :data:`omni.oneid.state.HOW_NAMES`).
    values : pyspark.sql.DataFrame
        ``val``, ``id_type``, ``value``, ``n_records``, ``status`` (a name of ``STATUS_NAMES``),
        ``reason``: the embedded ``values`` frame, ``val`` its row.
    edges : pyspark.sql.DataFrame
        ``rec``, ``val``.
    invalid : pyspark.sql.DataFrame
        ``ord`` (row order), ``rec``, ``id_type``, ``raw``, ``reason``.
    removals : pandas DataFrame
        The limit rule's removals (a few rows per over-limit component).
    naive : pyspark.sql.DataFrame or None
        ``rec``, ``naive`` (the naive baseline's dense cluster, numbered by first record).
    names, types : list of str
        The record sources (``src``) and identifier types (codes of ``values``).
    config : OneIDConfig
    rule_counts : dict
    n_rec, n_val, n_ids : int
        Records, values, and identifier rows of the record sources (before the as-of cut).
    stages : dict
        Seconds per stage.
    """

    records: DataFrame
    values: DataFrame
    edges: DataFrame
    invalid: DataFrame
    removals: pd.DataFrame
    naive: DataFrame | None
    names: list[str]
    types: list[str]
    config: OneIDConfig
    rule_counts: dict[str, int]
    n_rec: int
    n_val: int
    n_ids: int
    stages: dict[str, float] = field(default_factory=dict)

    def linking_edges(self) -> DataFrame:
        """``record_key``, ``id_type``, ``value``, ``status`` of every edge: what the probabilistic
        stage reads (:func:`omni.spark.match_units.resolution_frames`'s ``edges``)."""
        v = self.values.select("val", "id_type", "value", "status")
        return (self.edges.join(self.records.select("rec", "record_key"), "rec").join(v, "val")
                .select("record_key", "id_type", "value", "status"))

    def collect(self) -> tuple[Resolution, pd.DataFrame, np.ndarray]:
        """The embedded engine's :class:`Resolution` on the driver (small inputs and tests).

        Returns
        -------
        resolution : Resolution
            ``records``: ``record_key``, ``cluster`` (dense, in record order), ``how``, ``source``.
        records : pandas DataFrame
            ``source``, ``row``, ``time`` of every record.
        naive : ndarray of int32
        """
        r = self.records.toPandas().sort_values("rec")
        cluster, _ = dense_codes(r["label"].to_numpy(np.int64))
        time_ns = r["time_ns"].astype("Int64").to_numpy(dtype=np.int64, na_value=np.iinfo(np.int64).min)
        names = self.names or ["records"]  # a hand-made identifier table has no sources
        source = pd.Categorical.from_codes(r["src"].to_numpy(np.int16), categories=names)
        records = pd.DataFrame({"source": source, "row": r["row"].to_numpy(np.int64),
                                "time": time_ns.view("datetime64[ns]")})
        out = pd.DataFrame({
            "record_key": pd.array(r["record_key"].to_numpy(dtype=object), dtype="string[pyarrow]"),
            "cluster": cluster.astype(np.int64),
            "how": pd.Categorical(r["how"].to_numpy(dtype=object), categories=list(HOW_NAMES)),
            "source": source,
        })
        v = self.values.toPandas().sort_values("val")
        values = pd.DataFrame({
            "id_type": pd.Categorical(v["id_type"].to_numpy(dtype=object)),
            "value": pd.array(v["value"].to_numpy(dtype=object), dtype="string"),
            "n_records": v["n_records"].to_numpy(np.int64),
            "status": pd.Categorical(v["status"].to_numpy(dtype=object), categories=list(STATUS_NAMES)),
            "reason": v["reason"].astype(object).where(v["reason"].notna(), None).to_numpy(dtype=object),
        })
        e = self.edges.toPandas().sort_values(["rec", "val"])
        dt = np.int32 if max(self.n_rec, self.n_val) < 2**31 - 1 else np.int64
        edges = pd.DataFrame({"rec": e["rec"].to_numpy(dt), "val": e["val"].to_numpy(dt)})
        inv = self.invalid.toPandas().sort_values("ord")
        invalid = pd.DataFrame({
            "rec": inv["rec"].to_numpy(np.int64),
            "id_type": inv["id_type"].to_numpy(dtype=object),
            "raw": pd.array(inv["raw"].to_numpy(dtype=object), dtype="string"),
            "reason": inv["reason"].to_numpy(dtype=object),
        })
        res = Resolution(records=out, values=values, edges=edges, removals=self.removals, invalid=invalid,
                         config=self.config, rule_counts=dict(self.rule_counts))
        naive = (np.zeros(0, np.int32) if self.naive is None else
                 self.naive.toPandas().sort_values("rec")["naive"].to_numpy(np.int32))
        return res, records, naive


def _removals_frame(g: SparkGraph) -> pd.DataFrame:
    if not g.removals:
        return pd.DataFrame(columns=list(REMOVAL_COLUMNS))
    out = pd.concat(g.removals, ignore_index=True)
    # the embedded engine lists a round's bridges, then its values beyond a limit
    out["_rule"] = out["rule"].map({"bridge": 0, "beyond_limit": 1})
    out = out.sort_values(["round", "_rule", "val"], kind="stable").drop(columns="_rule")
    return out.astype({"round": np.int64, "val": np.int64, "component_size": np.int64}).reset_index(drop=True)


def _names(codes, col: str):
    """Names of a column of codes (``codes[i]`` for code ``i``)."""
    return F.element_at(F.array(*[F.lit(c) for c in codes]), F.col(col).cast("int") + 1)


def resolve_graph(g: SparkGraph, records: DataFrame) -> SparkResolution:
    """Run the rules on a graph; the outputs stay Spark DataFrames.

    ``records`` has ``rec`` and the record columns (``src``, ``row``, ``record_key``, ``time_ns``);
    the result's ``names``, ``n_ids``, ``naive`` and ``stages`` are left for the caller.
    """
    for rule in RULES:
        g = rule(g)
    recs = (records.join(g.labels, "rec", "left").join(g.how, "rec", "left")
            .select("rec", "src", "row", "record_key", "time_ns", F.coalesce("label", "rec").alias("label"),
                    F.coalesce(_names(HOW_NAMES, "how"), F.lit("none")).alias("how")))
    values = g.values.select("val", _names(g.types, "t").alias("id_type"), "value", "n_records",
                             _names(STATUS_NAMES, "status").alias("status"), "reason")
    return SparkResolution(records=recs, values=values, edges=g.edges, invalid=g.invalid,
                           removals=_removals_frame(g), naive=None, names=[], types=list(g.types),
                           config=g.config, rule_counts=dict(g.counts), n_rec=g.n_rec, n_val=g.n_val, n_ids=0)


def _naive_raw_text(raw: pd.Series) -> pd.Series:
    """The naive baseline's text of a value without a normalized one (as
    :func:`omni.oneid.baseline.naive_labels`: trimmed, lower-cased raw value)."""
    return raw.astype("string").str.strip().str.lower()


def dense_labels(labels: DataFrame, name: str) -> DataFrame:
    """``rec``, ``name``: the labels (``rec``, ``label``: a component's smallest ``rec``) as dense
    codes numbered by first record, as :func:`omni.oneid.graph.dense_codes` numbers them."""
    codes = dense_index(labels.select("label").distinct(), ["label"], name)
    return labels.join(codes, "label").select("rec", F.col(name).cast("long").alias(name))


def naive_labels_spark(ids: DataFrame, recs: DataFrame, n_rec: int) -> DataFrame:
    """:func:`omni.oneid.baseline.naive_labels` on Spark: components of records sharing any
    non-empty identifier text of one type; ``rec``, ``naive`` (int) numbered by first record, as
    SciPy numbers the embedded engine's."""
    text = F.coalesce(F.col("value"), pandas_udf(_naive_raw_text, StringType())(F.col("raw")))
    keyed = ids.select("rec", F.col("id_type"), text.alias("key")).where(F.col("key").isNotNull() & (F.col("key") != ""))
    codes = keyed.select("id_type", "key").distinct().withColumn("val", F.monotonically_increasing_id())
    lab = bipartite_labels(keyed.join(codes, ["id_type", "key"]).select("rec", "val").distinct(), n_rec)
    every = recs.select("rec").join(lab, "rec", "left").select("rec", F.coalesce("label", "rec").alias("label"))
    out = dense_labels(every, "naive")
    return out.select("rec", F.col("naive").cast("int").alias("naive"))


def resolve_spark(spec: DatasetSpec, as_of_end: pd.Timestamp | None = None, config: OneIDConfig | None = None,
                  *, spark: SparkSession | None = None, inputs: SparkInputs | None = None,
                  naive: bool = True) -> SparkResolution:
    """Resolve a dataset's records on Spark (the deterministic rules).

    Parameters
    ----------
    spec : DatasetSpec
        The dataset's contract.
    as_of_end : Timestamp, optional
        Resolve the records dated before this instant (local time; records without a time are
        kept); all records when None.
    config : OneIDConfig, optional
    spark : SparkSession, optional
        Default :func:`omni.spark.session.get_session`.
    inputs : SparkInputs, optional
        Sources already loaded by :func:`omni.spark.load.load_inputs` (two resolutions of one
        report share them, and they must outlive the returned frames); when None they are loaded
        here and the returned frames are materialized before the staging folder is removed.
    naive : bool
        Also compute the naive baseline.

    Returns
    -------
    SparkResolution
        Lazy Spark DataFrames over checkpointed intermediate tables.
    """
    config = config or OneIDConfig()
    spark = spark or get_session()
    t0 = time.perf_counter()
    own = inputs is None
    if inputs is None:
        inputs = load_inputs(spark, spec, probabilistic=config.probabilistic)
    try:
        stages = {"inputs": round(time.perf_counter() - t0, 2)}
        t = time.perf_counter()
        end_ns = None if as_of_end is None else int(pd.Timestamp(as_of_end).value)
        recs = position_records(inputs.records, end_ns)
        recs = recs.localCheckpoint(eager=True)
        n_rec = recs.count()
        n_ids = inputs.ids.count()
        ids = inputs.ids.join(recs.select("src", "row", "rec"), ["src", "row"])
        ids = ids.select("rec", "ord", "id_type", "value", "valid", "raw", "reason").localCheckpoint(eager=True)
        naive_df = naive_labels_spark(ids, recs, n_rec).localCheckpoint(eager=True) if naive else None
        stages["naive_baseline"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        g = build_graph(ids, recs.select("rec", "time_ns"), n_rec, config)
        sr = resolve_graph(g, recs.select("rec", "src", "row", "record_key", "time_ns"))
        sr.records = sr.records.localCheckpoint(eager=True)
        if own:  # nothing may read the staging folder once it is gone
            sr.values = sr.values.localCheckpoint(eager=True)
            sr.invalid = sr.invalid.localCheckpoint(eager=True)
        sr.names, sr.n_ids, sr.naive = list(inputs.names), int(n_ids), naive_df
        stages["rules"] = round(time.perf_counter() - t, 2)
        sr.stages = stages
        return sr
    finally:
        if own:
            inputs.close()


def resolve_ids_spark(ids: pd.DataFrame, records: pd.DataFrame | None = None, config: OneIDConfig | None = None,
                      times: pd.Series | None = None, unknown_records: str = "raise", *,
                      spark: SparkSession | None = None) -> Resolution:
    """:func:`omni.oneid.resolve.resolve_identities` with the rules run on Spark: the same
    arguments and the same :class:`Resolution` (for small hand-made identifier tables; a dataset
    goes through :func:`resolve_spark`). Record positions are worked out on the driver with the
    embedded functions."""
    spark = spark or get_session()
    records = record_index(ids, records)
    rec_all = record_positions(ids, records, unknown_records)
    keep = rec_all >= 0
    ids = ids[keep].reset_index(drop=True)
    t_ns = (pd.to_datetime(pd.Series(times).reset_index(drop=True)).to_numpy("datetime64[ns]").astype(np.int64)
            if times is not None else np.full(len(records), np.iinfo(np.int64).min))
    p_ids = pd.DataFrame({
        "rec": rec_all[keep].astype(np.int64),
        "ord": np.arange(len(ids), dtype=np.int64),
        "id_type": ids["id_type"].astype(str).to_numpy(dtype=object),
        "value": ids["value"].astype(object).where(ids["value"].notna(), None).to_numpy(dtype=object),
        "valid": ids["valid"].fillna(False).to_numpy(dtype=bool),
        "raw": (ids["raw"].astype(object).where(ids["raw"].notna(), None).to_numpy(dtype=object)
                if "raw" in ids.columns else None),
        "reason": (ids["reason"].astype(object).where(ids["reason"].notna(), None).to_numpy(dtype=object)
                   if "reason" in ids.columns else None),
    })
    schema = "rec long, ord long, id_type string, value string, valid boolean, raw string, reason string"
    s_ids = spark.createDataFrame(p_ids, schema=schema)
    tn = pd.DataFrame({"rec": np.arange(len(records), dtype=np.int64),
                       "time_ns": pd.array(np.where(t_ns == np.iinfo(np.int64).min, 0, t_ns), dtype="Int64")})
    tn.loc[t_ns == np.iinfo(np.int64).min, "time_ns"] = pd.NA
    s_recs = spark.createDataFrame(tn, schema="rec long, time_ns long")
    g = build_graph(s_ids, s_recs, len(records), config)
    keyless = s_recs.select("rec", F.lit(0).alias("src"), F.col("rec").alias("row"),
                            F.lit(None).cast("string").alias("record_key"), "time_ns")
    res, _, _ = resolve_graph(g, keyless).collect()
    res.records = res.records[["cluster", "how"]]
    out = records[[c for c in ("record_key", "source", "row") if c in records.columns
                   and (c != "row" or "record_key" not in records.columns)]].copy()
    res.records = pd.concat([out.reset_index(drop=True), res.records], axis=1)
    return res
