"""The identifier table as a Spark graph: record positions, value codes and distinct edges.

The Spark twin of :func:`omni.oneid.inputs.build_state`, with the same numbering so that the
outputs line up with the embedded engine's row for row:

- a record's position is its place in the record sources stacked in spec order (``src``, then
  ``row``), after the as-of cut;
- a value's code is its rank by first appearance among the valid identifier rows in the embedded
  engine's stacked order (``ord``), per ``(type, value)``;
- type codes follow :func:`omni.oneid.state.type_order` of the types seen on valid rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from omni.oneid.config import OneIDConfig
from omni.oneid.state import STATUS_OTHER, STATUS_STRONG, STATUS_WEAK, GraphState, type_order
from omni.spark.frames import dense_index

__all__ = ["SparkGraph", "by_type", "build_graph", "position_records"]


def by_type(values, col: str = "t"):
    """A per-type constant (indexed by type code) as a column expression."""
    return F.element_at(F.array(*[F.lit(v) for v in values]), F.col(col).cast("int") + 1)


@dataclass
class SparkGraph:
    """Records, identifier values and their edges on Spark, and what the rules decided.

    Attributes
    ----------
    edges : DataFrame
        Distinct ``rec``, ``val`` pairs of the valid identifier rows.
    values : DataFrame
        ``val``, ``t`` (type code), ``value``, ``n_records``, ``status`` (``STATUS_*`` code),
        ``reason`` (null while the value links as its type would); the shared-value rule adds
        ``c0 .. c<n_types-1>`` (distinct co-occurring values of each type).
    times : DataFrame
        ``rec``, ``time_ns`` of every record (null: no time).
    invalid : DataFrame
        The unusable rows: ``rec``, ``ord``, ``id_type``, ``raw``, ``reason``.
    n_rec, n_val : int
    types : list of str
    config : OneIDConfig
    labels : DataFrame, optional
        ``rec``, ``label`` of the records with a linking edge (others: their own position).
    how : DataFrame, optional
        ``rec``, ``how`` (``HOW_*`` code) of every record, set by the account rule.
    has_strong : DataFrame, optional
        ``rec`` of the records in a strong component.
    removals : list of pandas DataFrame
        The limit rule's removals (``omni.oneid.state.REMOVAL_COLUMNS``), by pass.
    counts : dict
        What each rule did (the embedded engine's counter names).
    """

    edges: DataFrame
    values: DataFrame
    times: DataFrame
    invalid: DataFrame
    n_rec: int
    n_val: int
    types: list[str]
    config: OneIDConfig
    labels: DataFrame | None = None
    how: DataFrame | None = None
    has_strong: DataFrame | None = None
    removals: list = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def masks(self) -> GraphState:
        """An empty embedded state with this graph's types: the one definition of the strong and
        weak type masks, ``strong_cols`` and per-type settings."""
        return GraphState.from_edges(np.zeros(0, np.int32), np.zeros(0, np.int32), 0,
                                     np.zeros(0, np.int64), self.types, self.config)

    @property
    def n_types(self) -> int:
        return len(self.types)

    def count(self, name: str, n: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + int(n)


def position_records(records: DataFrame, end_ns: int | None = None) -> DataFrame:
    """Records (``src``, ``row``, ...) with their position ``rec`` in the stacked order, after
    cutting the records dated at or after ``end_ns`` (records without a time are kept, as
    :meth:`omni.workspace.Workspace._resolve_now` keeps them)."""
    if end_ns is not None:
        records = records.where(F.col("time_ns").isNull() | (F.col("time_ns") < F.lit(int(end_ns))))
    return dense_index(records, ["src", "row"], "rec")


def build_graph(ids: DataFrame, records: DataFrame, n_rec: int, config: OneIDConfig | None = None
                ) -> SparkGraph:
    """The graph of an identifier table.

    Parameters
    ----------
    ids : DataFrame
        ``rec`` (record position), ``ord`` (row order of the stacked table), ``id_type``,
        ``value``, ``valid``, ``raw``, ``reason``; rows of records outside the resolution already
        dropped.
    records : DataFrame
        ``rec``, ``time_ns`` of every record.
    n_rec : int
        Number of records.
    config : OneIDConfig, optional

    Returns
    -------
    SparkGraph
    """
    config = config or OneIDConfig()
    ok = F.coalesce(F.col("valid"), F.lit(False)) & F.col("value").isNotNull()
    ids = ids.withColumn("_ok", ok)
    present = [r["id_type"] for r in ids.where("_ok").select("id_type").distinct().collect()]
    types = type_order(config, present)
    code = F.create_map(*[x for i, t in enumerate(types) for x in (F.lit(t), F.lit(i))])
    valid = ids.where("_ok").select("rec", "ord", code[F.col("id_type")].alias("t"), "value")
    first = valid.groupBy("t", "value").agg(F.min("ord").alias("first"))
    values = dense_index(first, ["first"], "val").drop("first")
    edges = (valid.join(values, ["t", "value"]).select("rec", "val").distinct()
             .localCheckpoint(eager=True))
    n_records = edges.groupBy("val").agg(F.count("*").alias("n_records"))
    masks = GraphState.from_edges(np.zeros(0, np.int32), np.zeros(0, np.int32), 0, np.zeros(0, np.int64),
                                  types, config)
    initial = [STATUS_WEAK if w else STATUS_STRONG if s else STATUS_OTHER
               for s, w in zip(masks.strong_type_mask, masks.weak_type_mask, strict=True)]
    values = (values.join(n_records, "val")
              .withColumn("status", by_type(initial).cast("int"))
              .withColumn("reason", F.lit(None).cast("string"))
              .localCheckpoint(eager=True))
    n_val = values.count()
    invalid = ids.where(~F.col("_ok")).select(
        "rec", "ord", "id_type", "raw", F.coalesce("reason", F.lit("invalid")).alias("reason"))
    return SparkGraph(edges=edges, values=values, times=records.select("rec", "time_ns"), invalid=invalid,
                      n_rec=int(n_rec), n_val=int(n_val), types=types, config=config)
