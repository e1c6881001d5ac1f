"""Small DataFrame helpers of the Spark engine: consecutive positions in a global order."""

from __future__ import annotations

import numpy as np
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

__all__ = ["dense_index"]


def dense_index(df: DataFrame, order: list[str], name: str) -> DataFrame:
    """``df`` with a column ``name``: the row's position (0, 1, ...) in the order of ``order``.

    The rows are range-partitioned and sorted by ``order`` (partition ``i`` holds smaller keys than
    partition ``i + 1``), each partition is counted, and a row's position is its partition's offset
    plus its rank inside the partition: the same as a global ``row_number()`` without moving every
    row to one task. The sorted frame is checkpointed first so both passes see the same
    partitions. ``order`` must be unique per row.
    """
    s = df.orderBy(*order).withColumn("_pid", F.spark_partition_id()).localCheckpoint(eager=True)
    counts = {r["_pid"]: r["count"] for r in s.groupBy("_pid").count().collect()}
    pids = sorted(counts)
    offsets = np.r_[0, np.cumsum([counts[p] for p in pids])[:-1]].astype(np.int64) if pids else []
    off = F.element_at(F.array(*[F.lit(int(o)) for o in offsets]), F.col("_pid") + 1) if pids else F.lit(0)
    # partition ids are dense 0..k-1 after a range sort: the offset array is indexed by them
    if pids and pids != list(range(len(pids))):
        off = F.create_map(*[x for p, o in zip(pids, offsets, strict=True) for x in (F.lit(p), F.lit(int(o)))])[F.col("_pid")]
    w = Window.partitionBy("_pid").orderBy(*order)
    return s.withColumn(name, off + F.row_number().over(w) - 1).drop("_pid")
