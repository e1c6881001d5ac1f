"""Connected components on Spark DataFrames: the alternating large-star / small-star algorithm.

GraphFrames' JVM package cannot be installed from the Python package index, so omni runs the
algorithm of Kiveris, Lattanzi, Mirrokni, Rastogi and Vassilvitskii, "Connected Components in
MapReduce and Beyond" (SoCC 2014) on plain DataFrames of integer edges:

- *large-star*: every node ``u`` links each larger neighbour ``v > u`` to ``m(u)``, the smallest
  node of ``{u} + N(u)``;
- *small-star*: every node ``u`` links itself and each smaller neighbour ``v < u`` to ``m(u)``, the
  smallest node of ``{u} + N(u)`` among its smaller neighbours.

Both steps keep connectivity and only ever lower a node's parent. The pair repeats until the edges
form a star forest (every node has exactly one parent and no parent has a parent of its own); each
star's centre is then the smallest node id of its component.

Finished stars leave the working set after every round (:func:`_mark_finished`): a root without a
parent whose children have no other parent and no children of their own heads a whole component,
which the next rounds would only copy. Identity graphs are mostly small components that are
stars after the first round, so the later rounds work on the few large ones; once at most
``local`` edges are left they are solved on the driver. The star-forest test of the plain
algorithm is the same test (nothing left), so the result and the round bound do not change.

Convergence bound: Kiveris et al. prove that the alternation converges in O(log² n) rounds (each
round a large-star and a small-star, a constant number of shuffles) and observe O(log n) in
practice; a path or a long chain, the worst case for label propagation (O(diameter) rounds),
halves its depth at every round here. A run stops with an error after :data:`MAX_ROUNDS` rounds
(2^64 nodes would need fewer). The edge frame is checkpointed every :data:`CHECKPOINT_EVERY`
rounds (to the session's checkpoint directory) so that the query plan and lineage do not grow
with the rounds.

Small graphs: below ``local`` edges (:data:`LOCAL_BELOW`, ``OMNI_SPARK_LOCAL_CC``) the edges are
collected and the components computed on the driver by SciPy (as the embedded engine's
:mod:`omni.oneid.graph` does), with the same labels. A round of the distributed algorithm costs a
few Spark jobs whatever the graph's size, so a graph of a few thousand edges would wait on job
scheduling, not on work. The tests force the distributed path with ``local=0``.
"""

from __future__ import annotations

import logging
import os
import time
from functools import reduce

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as _scipy_components

__all__ = ["CHECKPOINT_EVERY", "LOCAL_BELOW", "MAX_ROUNDS", "bipartite_labels", "connected_components",
           "local_below"]

_log = logging.getLogger(__name__)

#: Graphs with at most this many edges are solved on the driver (``OMNI_SPARK_LOCAL_CC`` overrides).
LOCAL_BELOW = 200_000


def local_below() -> int:
    """The edge count up to which components are computed on the driver (:data:`LOCAL_BELOW`)."""
    return int(os.environ.get("OMNI_SPARK_LOCAL_CC", LOCAL_BELOW))

#: Checkpoint the edge frame every this many rounds (cuts the lineage of the iteration).
CHECKPOINT_EVERY = 2
#: The rounds of every distributed run in this process (what the resolution reports).
ROUNDS: list[int] = []

#: Safety bound on the rounds (O(log² n): 64 rounds is far beyond any real graph).
MAX_ROUNDS = 64


def _undirected(e: DataFrame) -> DataFrame:
    """Both orientations of every edge (``u``, ``v``)."""
    return e.select(F.col("x").alias("u"), F.col("p").alias("v")).unionByName(
        e.select(F.col("p").alias("u"), F.col("x").alias("v")))


def _large_star(e: DataFrame) -> DataFrame:
    d = _undirected(e)
    m = d.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("m"))
    return (d.join(m, "u").where(F.col("v") > F.col("u"))
            .select(F.col("v").alias("x"), F.col("m").alias("p")).distinct())


def _small_star(e: DataFrame) -> DataFrame:
    # every edge oriented from its larger end (u) to its smaller end (v)
    d = e.select(F.greatest("x", "p").alias("u"), F.least("x", "p").alias("v"))
    m = d.groupBy("u").agg(F.min("v").alias("m"))
    j = d.join(m, "u")
    out = j.select(F.col("v").alias("x"), F.col("m").alias("p")).unionByName(
        j.select(F.col("u").alias("x"), F.col("m").alias("p")))
    return out.where(F.col("x") != F.col("p")).distinct()


def _mark_finished(e: DataFrame) -> DataFrame:
    """The edges with ``done``: whether the edge belongs to a finished star.

    A root ``r`` (a parent) heads a finished star when ``r`` has no parent of its own and each of
    its children has ``r`` as its only parent and no child of its own. Such a star is a whole
    component (no other edge touches it), labelled by ``r``, its smallest node; later rounds
    would copy its edges unchanged, so they leave the working set. The edges form a star forest
    exactly when every root's star is finished (nothing is left).
    """
    parents = e.groupBy("x").agg(F.count("*").alias("n_parents"))
    is_parent = e.select(F.col("p").alias("x")).distinct().withColumn("has_children", F.lit(True))
    node = parents.join(is_parent, "x", "full").select(
        "x", F.col("n_parents").isNotNull().alias("is_child"),
        ((F.coalesce("n_parents", F.lit(0)) > 1) | F.col("has_children").isNotNull()).alias("bad"))
    child_bad = e.join(node.select("x", "bad"), "x").groupBy("p").agg(F.max("bad").alias("bad"))
    root = child_bad.join(node.select(F.col("x").alias("p"), F.col("is_child").alias("root_is_child")), "p")
    finished = root.where(~F.col("bad") & ~F.col("root_is_child")).select("p", F.lit(True).alias("done"))
    return e.join(finished, "p", "left").select("x", "p", F.coalesce("done", F.lit(False)).alias("done"))


def _on_driver(edges: DataFrame, src: str, dst: str) -> DataFrame:
    """The same labels computed on the driver (a small graph)."""
    pe = edges.select(F.col(src).cast("long").alias("s"), F.col(dst).cast("long").alias("d")).toPandas()
    a, b = pe["s"].to_numpy(np.int64), pe["d"].to_numpy(np.int64)
    node = np.unique(np.concatenate([a, b]))
    n = len(node)
    x, p = np.searchsorted(node, a), np.searchsorted(node, b)
    graph = coo_matrix((np.ones(len(x), dtype=np.int8), (x, p)), shape=(n, n))
    lab = _scipy_components(graph, directed=False)[1] if n else np.zeros(0, dtype=np.int64)
    smallest = np.full(int(lab.max()) + 1 if n else 0, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, lab, node)
    out = pd.DataFrame({"node": node, "label": smallest[lab]})
    return edges.sparkSession.createDataFrame(out, schema="node long, label long")


def connected_components(edges: DataFrame, src: str = "src", dst: str = "dst",
                         checkpoint_every: int = CHECKPOINT_EVERY, local: int | None = None) -> DataFrame:
    """Connected components of an undirected graph given as integer edges.

    Parameters
    ----------
    edges : DataFrame
        One row per edge, integer (long) node ids in columns ``src`` and ``dst`` (either
        orientation; duplicates and self-loops allowed).
    src, dst : str
        The edge columns.
    checkpoint_every : int
        Checkpoint the working edges every this many rounds.
    local : int, optional
        Solve on the driver when there are at most this many edges (default
        :func:`local_below`; 0 always runs the distributed rounds).

    Returns
    -------
    DataFrame
        ``node``, ``label`` (long): every node of ``edges`` and the smallest node id of its
        component (a component's smallest node is its own label).

    Raises
    ------
    RuntimeError
        If the edges are not a star forest after :data:`MAX_ROUNDS` rounds (a bug, not data).
    """
    limit = local_below() if local is None else local
    if limit > 0:
        edges = edges.localCheckpoint(eager=True)
        if edges.count() <= limit:
            return _on_driver(edges, src, dst)
    e = (edges.select(F.greatest(src, dst).cast("long").alias("x"), F.least(src, dst).cast("long").alias("p"))
         .where(F.col("x") != F.col("p")).distinct())
    nodes = edges.select(F.col(src).cast("long").alias("node")).unionByName(
        edges.select(F.col(dst).cast("long").alias("node"))).distinct()
    e = e.localCheckpoint(eager=True)
    done: list[DataFrame] = []
    solved = None
    t0 = time.perf_counter()
    for rnd in range(1, MAX_ROUNDS + 1):
        e = _small_star(_large_star(e))
        e = _mark_finished(e)
        e = e.checkpoint(eager=True) if rnd % checkpoint_every == 0 else e.persist()
        done.append(e.where("done").select("x", "p"))
        e = e.where(~F.col("done")).select("x", "p")
        left = e.count()
        _log.info("connected components: round %d, %d edges left, %.1f s", rnd, left, time.perf_counter() - t0)
        if left == 0 or left <= limit:
            ROUNDS.append(rnd)
            if left:  # the few unfinished components: on the driver
                solved = _on_driver(e.select(F.col("x").alias("s"), F.col("p").alias("d")), "s", "d")
            break
    else:  # pragma: no cover - a bound O(log² n) keeps far below it
        raise RuntimeError(f"connected components did not converge in {MAX_ROUNDS} rounds")
    parent = reduce(DataFrame.unionByName, done).select(F.col("x").alias("node"), F.col("p").alias("label"))
    if solved is not None:
        parent = parent.unionByName(solved.where(F.col("node") != F.col("label")))
    return (nodes.join(parent, "node", "left")
            .select("node", F.coalesce("label", "node").alias("label")))


def bipartite_labels(rec_val: DataFrame, n_rec: int, rec: str = "rec", val: str = "val",
                     local: int | None = None) -> DataFrame:
    """Components of the bipartite graph records <-> values, labelled by their smallest record.

    Parameters
    ----------
    rec_val : DataFrame
        Edges: record position ``rec`` (0 .. n_rec-1) and value (or group) position ``val``.
    n_rec : int
        Number of records (value nodes are numbered ``n_rec + val``, so a component's smallest node
        is a record).

    Returns
    -------
    DataFrame
        ``rec``, ``label``: every record of ``rec_val`` and the smallest record of its component
        (records without an edge are not listed: they are components of their own).
    """
    e = rec_val.select(F.col(rec).cast("long").alias("src"),
                       (F.col(val).cast("long") + F.lit(int(n_rec))).alias("dst"))
    cc = connected_components(e, local=local)
    return cc.where(F.col("node") < n_rec).select(F.col("node").alias("rec"), "label")
