"""The whole Spark resolution behind ``omni resolve --engine spark`` and ``Workspace(engine="spark")``.

One month's resolution, every record-level step on Spark DataFrames:

1. the deterministic rules (:func:`omni.spark.resolve.resolve_spark`);
2. the probabilistic stage on Splink's Spark backend (:func:`omni.spark.linkage.link_accounts_spark`),
   trained on Spark, on the rules' records and edges and the quasi table the loader tasks staged;
   a failure of the stage degrades to the rules' resolution, as in the embedded engine;
3. stable OneID numbering against the previous month's ``record_oneid`` (a Parquet file read by
   Spark, or a frame) by :func:`omni.spark.stable.assign_oneid_numbers_spark`;
4. the record-level outputs (``record_oneid``, ``values``, ``edges``, ``invalid``, ``changes``,
   ``naive``) as Spark DataFrames, with the embedded frames' dtypes and order, which
   :func:`omni.spark.output.write_frame` writes into the cache folder.

The unified tables and the profiles are built on Spark too, from :attr:`SparkOutputs.resolved`
(each resolved record's OneID number) and the source columns the loader tasks staged
(:func:`omni.spark.unify.unify_outputs`, called by the workspace): no record-level table is
collected to the driver.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from omni.core.oneid_codec import format_oneids
from omni.oneid.config import OneIDConfig
from omni.oneid.state import HOW_NAMES, STATUS_NAMES
from omni.spark.components import ROUNDS
from omni.spark.frames import dense_index
from omni.spark.linkage import link_accounts_spark
from omni.spark.load import SparkInputs
from omni.spark.output import collect_frame, write_frame
from omni.spark.resolve import SparkResolution, resolve_spark
from omni.spark.stable import assign_oneid_numbers_spark, format_oneid_col

__all__ = ["SparkOutputs", "resolve_outputs"]

_QUASI_SCHEMA = "record_key string, value string, valid boolean, field string"


@dataclass
class SparkOutputs:
    """One month's Spark resolution, ready for the cache.

    Attributes
    ----------
    frames : dict
        Name -> (Spark DataFrame, zero-row pandas template of the embedded frame, order column or
        columns): ``record_oneid``, ``values``, ``edges``, ``invalid``, ``changes`` and ``naive``
        (the workspace adds the unified tables and ``profiles``, :func:`omni.spark.unify.unify_outputs`).
    resolved : DataFrame (Spark)
        ``rec``, ``src``, ``row``, ``record_key``, ``time_ns``, ``number`` (OneID number) of every
        resolved record (checkpointed).
    names : list of str
        The record sources (``src`` is a position in it).
    removals, links : pandas DataFrame
        The limit rule's removals; the probabilistic links (``target_cluster`` the merged
        resolution's dense cluster, ``oneid``), ``links.attrs["stage"]`` the stage report.
    failure : str or None
        Why the probabilistic stage failed (the resolution then uses the rules only).
    n_rec, n_clusters, n_ids : int
    data_end : Timestamp or NaT
        The latest record time of all records (before the as-of cut).
    stages : dict
        Seconds per stage.
    component_rounds : list of int
        The rounds of each distributed connected-components run of the rules (graphs solved on
        the driver are not listed).
    """

    frames: dict[str, tuple[DataFrame, pd.DataFrame, Any]]
    resolved: DataFrame
    names: list[str]
    removals: pd.DataFrame
    links: pd.DataFrame
    failure: str | None
    n_rec: int
    n_clusters: int
    n_ids: int
    data_end: Any
    stages: dict[str, float] = field(default_factory=dict)
    component_rounds: list[int] = field(default_factory=list)

    def write(self, name: str, path: Path) -> int:
        """Write one frame as the cache file ``path`` (:func:`omni.spark.output.write_frame`)."""
        df, template, order = self.frames[name]
        return write_frame(df, path, template, order)

    def collect(self, name: str) -> pd.DataFrame:
        """One frame on the driver, as the embedded engine holds it (for a resolution that is not
        cached; small data)."""
        return collect_frame(*self.frames[name])


def _templates(sr: SparkResolution, small: bool) -> dict[str, pd.DataFrame]:
    """Zero-row frames with the dtypes of the embedded engine's cached frames."""
    s = pd.StringDtype("pyarrow")
    i = np.int32 if small else np.int64
    obj = pd.Series([], dtype=object)
    return {
        "record_oneid": pd.DataFrame({
            "record_key": pd.Series([], dtype=s), "oneid": pd.Series([], dtype=s),
            "source": pd.Series(pd.Categorical([], categories=sr.names)),
            "how": pd.Series(pd.Categorical([], categories=list(HOW_NAMES)))}),
        "values": pd.DataFrame({
            "id_type": pd.Series(pd.Categorical([], categories=sorted(set(sr.types)))),
            "value": pd.Series([], dtype=s), "n_records": pd.Series([], dtype=np.int64),
            "status": pd.Series(pd.Categorical([], categories=list(STATUS_NAMES))), "reason": obj}),
        "edges": pd.DataFrame({"rec": pd.Series([], dtype=i), "val": pd.Series([], dtype=i)}),
        "invalid": pd.DataFrame({"rec": pd.Series([], dtype=np.int64), "id_type": obj,
                                 "raw": pd.Series([], dtype=s), "reason": obj}),
        "changes": pd.DataFrame({"oneid": pd.Series([], dtype=s), "change": obj, "other": obj,
                                 "n_records": pd.Series([], dtype=np.int64)}),
        "naive": pd.DataFrame({"naive": pd.Series([], dtype=np.int32)}),
    }


def _previous_frame(spark: SparkSession, previous: Any) -> Any:
    """The previous ``record_oneid`` as Spark reads it: a Parquet file (path) or a frame."""
    if previous is None:
        return None
    if isinstance(previous, str | Path):
        return spark.read.parquet(str(previous)).select("record_key", "oneid")
    return previous


def resolve_outputs(spark: SparkSession, spec: Any, inputs: SparkInputs, as_of_end: pd.Timestamp | None,
                    config: OneIDConfig, previous: Any = None,
                    failure_text: Callable[[BaseException], str] | None = None,
                    say: Callable[[str], None] | None = None) -> SparkOutputs:
    """Resolve one month on Spark: rules, probabilistic stage, stable numbering, output frames.

    Parameters
    ----------
    spark : SparkSession
    spec : DatasetSpec
    inputs : SparkInputs
        The loaded sources (:func:`omni.spark.load.load_inputs`); the returned frames no longer
        read its staging folder (every intermediate table is checkpointed).
    as_of_end : Timestamp, optional
        Resolve the records dated before this instant; all when None.
    config : OneIDConfig
    previous : path or DataFrame, optional
        The previous month's ``record_oneid`` (``record_key``, ``oneid``): its Parquet file, or a
        Spark or pandas frame.
    failure_text : callable, optional
        The text of a failure of the probabilistic stage (the stage is then skipped); the error
        propagates when None.
    say : callable, optional
        Progress lines.

    Returns
    -------
    SparkOutputs
    """
    say = say or (lambda _msg: None)
    end_ns = inputs.records.agg(F.max("time_ns")).collect()[0][0]  # of all records, as embedded
    data_end = pd.Timestamp(end_ns) if end_ns is not None else pd.NaT
    first_run = len(ROUNDS)
    sr = resolve_spark(spec, as_of_end, config, spark=spark, inputs=inputs)
    stages = dict(sr.stages)
    rounds = list(ROUNDS[first_run:])
    recs = sr.records.select("rec", "src", "row", "record_key", "time_ns", F.col("label").alias("cluster"), "how")
    links, failure = pd.DataFrame(), None
    t = time.perf_counter()
    if config.probabilistic:
        try:
            quasi = inputs.quasi_frame(spark)
            if quasi is None:
                quasi = spark.createDataFrame([], _QUASI_SCHEMA)
            out = link_accounts_spark(recs, quasi, sr.linking_edges(), config, spark=spark)
            recs, links = out.records, out.links
            links.attrs["stage"] = out.stage
            say(f"  linked {len(links):,} platform accounts by probability on Spark")
        except Exception as err:  # noqa: BLE001 - any failure of the stage degrades to rules only
            if failure_text is None:
                raise
            failure = failure_text(err)
            links = pd.DataFrame()
    recs = recs.localCheckpoint(eager=True)
    stages["probabilistic"] = round(time.perf_counter() - t, 2)

    t = time.perf_counter()
    numbers, changes = assign_oneid_numbers_spark(recs.select("record_key", "cluster", "rec"),
                                                  _previous_frame(spark, previous), spark)
    numbers = numbers.localCheckpoint(eager=True)
    ro = recs.join(numbers.select("cluster", "number"), "cluster").localCheckpoint(eager=True)
    changes = changes.localCheckpoint(eager=True)
    n_clusters = numbers.count()
    if len(links):
        # the merged resolution's cluster numbers are dense in record order: the rank of a
        # cluster's first record; only the link targets' are collected
        targets = spark.createDataFrame(pd.DataFrame({"cluster": np.unique(links["target_cluster"].to_numpy(np.int64))}))
        dense = (dense_index(numbers.select("cluster", "first", "number"), ["first"], "code")
                 .join(F.broadcast(targets), "cluster").toPandas().set_index("cluster"))
        tc = links["target_cluster"].to_numpy(np.int64)
        links["target_cluster"] = dense["code"].reindex(tc).to_numpy(np.int64)
        links["oneid"] = np.asarray(format_oneids(dense["number"].reindex(tc).to_numpy(np.int64)).to_pylist(),
                                    dtype=object)
    stages["oneids"] = round(time.perf_counter() - t, 2)

    names = list(sr.names)
    small = max(sr.n_rec, sr.n_val) < 2**31 - 1
    tpl = _templates(sr, small)
    src_name = F.element_at(F.array(*[F.lit(n) for n in names]), F.col("src").cast("int") + 1)
    frames = {
        "record_oneid": (ro.select("rec", "record_key", format_oneid_col(F.col("number")).alias("oneid"),
                                   src_name.alias("source"), "how"), tpl["record_oneid"], "rec"),
        "values": (sr.values, tpl["values"], "val"),
        # (rec, val) as one long key: rec and val may be ints, whose product overflows (ANSI error)
        "edges": (sr.edges.withColumn("_o", F.col("rec").cast("long") * F.lit(max(sr.n_val, 1)).cast("long")
                                      + F.col("val").cast("long")), tpl["edges"], "_o"),
        "invalid": (sr.invalid, tpl["invalid"], "ord"),
        "changes": (changes, tpl["changes"], "order"),
    }
    if sr.naive is not None:
        frames["naive"] = (sr.naive, tpl["naive"], "rec")
    return SparkOutputs(frames=frames, resolved=ro.select("rec", "src", "row", "record_key", "time_ns", "number"),
                        names=names, removals=sr.removals, links=links,
                        failure=failure, n_rec=sr.n_rec, n_clusters=int(n_clusters), n_ids=sr.n_ids,
                        data_end=data_end, stages=stages, component_rounds=rounds)
