"""Stable OneIDs on Spark DataFrames: the twin of :func:`omni.oneid.stable.assign_oneid_numbers`.

The same rules (docs/design.md, "Stable ids by record carry-over"): a previous id goes to the cluster
that holds most of its records (ties: the cluster that comes first); a cluster that receives several
keeps the oldest (lowest number) and the others are ``merged_into`` it; a previous id whose records
now sit in several clusters is split: the other parts get new ids (``split_from``); previous ids
with no record left are ``retired``; clusters with no previous id get new ids numbered after the
largest id ever issued, in record order.

"Record order" and "comes first" are a cluster's first record: its smallest ``rec`` (the record's
position in the embedded engine's record table), or its smallest record key when there is no
``rec`` column. Cluster labels need not be dense. Every step is a join, an aggregate or a window
partitioned by an id or a cluster; the new ids are numbered within range partitions of the
record order and shifted by the sizes of the partitions before them, so no step gathers the
records on one machine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omni.core.oneid_codec import ONEID_DIGITS, ONEID_PREFIX
from omni.spark.match_units import as_spark

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

__all__ = ["assign_oneid_numbers_spark", "assign_oneids_spark", "format_oneid_col", "parse_oneid_col"]

ONEID_RE = rf"^{ONEID_PREFIX}[0-9]{{{ONEID_DIGITS}}}$"


def format_oneid_col(num: Column) -> Column:
    """OneID strings of a column of numbers (``O`` + 9 zero-padded digits, as
    :func:`omni.core.oneid_codec.format_oneids`; wider numbers keep all their digits)."""
    from pyspark.sql import functions as F

    text = num.cast("string")
    return F.concat(F.lit(ONEID_PREFIX),
                    F.when(num < 10**ONEID_DIGITS, F.lpad(text, ONEID_DIGITS, "0")).otherwise(text))


def parse_oneid_col(oneid: Column) -> Column:
    """The numbers of a column of OneIDs (null for a value that is not one)."""
    from pyspark.sql import functions as F

    return F.when(oneid.rlike(ONEID_RE), F.substring(oneid, len(ONEID_PREFIX) + 1, 64).cast("long"))


def _session(spark: SparkSession | None) -> SparkSession:
    if spark is None:
        from omni.spark.session import get_session

        spark = get_session()
    return spark


def _order(kind: int, key: Column) -> Column:
    """The ``order`` of a change row: the embedded table's order (kept by cluster, merged and
    retired by previous id, new by number; in that order) as one long."""
    from pyspark.sql import functions as F

    return (F.lit(kind).cast("long") * F.lit(1 << 50) + key.cast("long")).alias("order")


def _number_in_order(spark: SparkSession, df: DataFrame, by: str, start: int) -> DataFrame:
    """``cluster``, ``number``: ``start``, ``start + 1``, ... in the order of ``by`` (unique).

    Range-partitioned on ``by``, numbered within each partition, shifted by the sizes of the
    partitions before it (a handful of counts on the driver): no partition holds more than its
    share of the rows, unlike a window over the whole table.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    parts = max(1, int(spark.conf.get("spark.sql.shuffle.partitions", "8")))
    ranged = (df.repartitionByRange(parts, by)
              .withColumn("_p", F.spark_partition_id())
              .withColumn("_i", F.row_number().over(Window.partitionBy("_p").orderBy(by)))
              .localCheckpoint())  # materialized once: the range bounds are sampled
    counts = sorted((r["_p"], r["n"]) for r in ranged.groupBy("_p").agg(F.count(F.lit(1)).alias("n")).collect())
    offsets, total = [], start - 1
    for p, n in counts:
        offsets.append((p, total))
        total += n
    off = spark.createDataFrame(offsets or [(0, 0)], "_p int, _o long")
    return (ranged.join(F.broadcast(off), "_p")
            .select("cluster", (F.col("_o") + F.col("_i")).cast("long").alias("number")))


def assign_oneid_numbers_spark(clusters: Any, previous: Any | None = None,
                               spark: SparkSession | None = None) -> tuple[DataFrame, DataFrame]:
    """The OneID number of every cluster, keeping the previous run's ids for the same people.

    Parameters
    ----------
    clusters : Spark or pandas DataFrame
        ``record_key``, ``cluster`` (long) and optionally ``rec`` (record order) of every record.
    previous : Spark or pandas DataFrame, optional
        ``record_key`` and ``oneid`` of the previous run (its ``record_oneid`` table); a key
        listed twice counts with its lowest number.
    spark : SparkSession, optional

    Returns
    -------
    numbers : pyspark.sql.DataFrame
        ``cluster``, ``number`` (long), ``first`` (the cluster's first record), ``size`` (records).
    changes : pyspark.sql.DataFrame
        ``oneid``, ``change`` (kept, merged_into, retired, new, split_from), ``other`` (the id
        merged into or split from; null otherwise), ``n_records``: the rows of
        :func:`omni.oneid.stable.assign_oneid_numbers`'s ``changes``; ``order`` (long) sorts them
        as the embedded table lists them.

    Raises
    ------
    ValueError
        When a previous OneID is not ``O`` + 9 digits (naming how many and one record key).
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    spark = _session(spark)
    clusters = as_spark(spark, clusters)
    if missing := sorted({"record_key", "cluster"} - set(clusters.columns)):
        raise ValueError(f"clusters table is missing column(s) {missing}")
    order = F.col("rec") if "rec" in clusters.columns else F.col("record_key")
    cl = (clusters.groupBy(F.col("cluster").cast("long").alias("cluster"))
          .agg(F.min(order).alias("first"), F.count(F.lit(1)).alias("size"))).persist()
    next_number = 1
    events = []
    keep = None
    split = None
    if previous is not None:
        previous = as_spark(spark, previous)
        prev = previous.select("record_key", F.col("oneid").cast("string").alias("oneid"),
                               parse_oneid_col(F.col("oneid").cast("string")).alias("prev"))
        # one pass: the largest id issued, and the values that are not OneIDs
        stats = prev.agg(F.max("prev").alias("m"), F.sum(F.col("prev").isNull().cast("long")).alias("bad"),
                         F.min(F.when(F.col("prev").isNull(), F.col("record_key"))).alias("key")).first()
        if stats["bad"]:
            from omni.oneid.explain import mask_record_key

            raise ValueError(f"previous map: {stats['bad']:,} value(s) are not a OneID ({ONEID_PREFIX} + "
                             f"{ONEID_DIGITS} digits), e.g. the one of record {mask_record_key(str(stats['key']))}")
        prev = prev.groupBy("record_key").agg(F.min("prev").alias("prev")).persist()
        top = stats["m"]
        if top is not None:
            next_number = int(top) + 1
            cell = (clusters.select("record_key", F.col("cluster").cast("long").alias("cluster"))
                    .join(prev, "record_key")
                    .groupBy("prev", "cluster").agg(F.count(F.lit(1)).alias("n"))
                    .join(cl.select("cluster", "first"), "cluster")).persist()
            # each previous id goes to the cluster holding most of its records (ties: first cluster)
            by_prev = Window.partitionBy("prev").orderBy(F.col("n").desc(), F.col("first").asc())
            home = cell.withColumn("_r", F.row_number().over(by_prev)).where(F.col("_r") == 1).drop("_r")
            # each cluster keeps the oldest previous id it received; the others merge into it
            by_cl = Window.partitionBy("cluster").orderBy(F.col("prev").asc())
            home = (home.withColumn("_r", F.row_number().over(by_cl))
                    .withColumn("into", F.first("prev").over(by_cl))).persist()
            keep = home.where(F.col("_r") == 1).select("cluster", "prev", "n", "first")
            merged = home.where(F.col("_r") > 1)
            split = cell.join(home.select("prev", "cluster"), ["prev", "cluster"], "left_anti")
            retired = prev.select("prev").distinct().join(cell.select("prev").distinct(), "prev", "left_anti")
            events += [
                keep.select(F.col("prev").alias("num"), F.lit("kept").alias("change"),
                            F.lit(None).cast("long").alias("other"), F.col("n").alias("n_records"),
                            _order(0, F.col("first"))),
                merged.select(F.col("prev").alias("num"), F.lit("merged_into").alias("change"),
                              F.col("into").alias("other"), F.col("n").alias("n_records"), _order(1, F.col("prev"))),
                retired.select(F.col("prev").alias("num"), F.lit("retired").alias("change"),
                               F.lit(None).cast("long").alias("other"), F.lit(0).cast("long").alias("n_records"),
                               _order(2, F.col("prev"))),
            ]
    # clusters with no previous id: new ids in record order, after the largest id ever issued
    fresh = cl if keep is None else cl.join(keep.select("cluster"), "cluster", "left_anti")
    new_num = _number_in_order(spark, fresh.select("cluster", "first"), "first", next_number)
    numbers = new_num if keep is None else new_num.unionByName(
        keep.select("cluster", F.col("prev").alias("number")))
    numbers = numbers.join(cl, "cluster").select("cluster", "number", "first", "size").persist()
    new_ev = new_num.join(cl, "cluster")
    if split is not None:
        # a new cluster that took part of a previous id's records: split from it (the lowest such id)
        parent = split.groupBy("cluster").agg(F.min("prev").alias("parent"))
        new_ev = new_ev.join(parent, "cluster", "left")
    else:
        new_ev = new_ev.withColumn("parent", F.lit(None).cast("long"))
    events.append(new_ev.select(
        F.col("number").alias("num"),
        F.when(F.col("parent").isNotNull(), F.lit("split_from")).otherwise(F.lit("new")).alias("change"),
        F.col("parent").alias("other"), F.col("size").alias("n_records"), _order(3, F.col("number"))))
    ev = events[0]
    for e in events[1:]:
        ev = ev.unionByName(e)
    changes = ev.select(format_oneid_col(F.col("num")).alias("oneid"), "change",
                        F.when(F.col("other").isNotNull(), format_oneid_col(F.col("other"))).alias("other"),
                        F.col("n_records").cast("long").alias("n_records"), "order")
    return numbers, changes


def assign_oneids_spark(clusters: Any, previous: Any | None = None, spark: SparkSession | None = None
                        ) -> tuple[DataFrame, DataFrame]:
    """:func:`assign_oneid_numbers_spark` as OneIDs per record (:func:`omni.oneid.stable.assign_oneids`).

    Returns
    -------
    record_oneid : pyspark.sql.DataFrame
        ``record_key``, ``cluster``, ``oneid`` of every record.
    changes : pyspark.sql.DataFrame
    """
    from pyspark.sql import functions as F

    spark = _session(spark)
    clusters = as_spark(spark, clusters)
    numbers, changes = assign_oneid_numbers_spark(clusters, previous, spark)
    out = (clusters.withColumn("cluster", F.col("cluster").cast("long"))
           .join(numbers.select("cluster", "number"), "cluster")
           .select("record_key", "cluster", format_oneid_col(F.col("number")).alias("oneid")))
    return out, changes
