"""Connected components on Spark DataFrames (large-star / small-star) against the embedded engine.

One graph holds every case as its own node range (a path, a star, two cliques joined by nothing,
a long chain), so the distributed rounds run once for all of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omni.oneid.graph import bipartite_components
from omni.spark import components
from omni.spark.components import bipartite_labels, connected_components

CASES = {  # name -> (edges on local node ids, number of nodes)
    "path": ([(i, i + 1) for i in range(9)], 10),
    "star": ([(0, i) for i in range(1, 20)], 20),
    "two_cliques": ([(i, j) for i in range(5) for j in range(i + 1, 5)]
                    + [(i, j) for i in range(5, 10) for j in range(i + 1, 10)], 10),
    "long_chain": ([(i, i + 1) for i in range(62, -1, -1)], 64),  # listed backwards
}


def _graph() -> tuple[pd.DataFrame, dict[str, int]]:
    rows, offset, starts = [], 0, {}
    for name, (edges, n) in CASES.items():
        starts[name] = offset
        rows += [(offset + 3 * a + 7, offset + 3 * b + 7) for a, b in edges]  # sparse, shifted ids
        offset += 3 * n + 50
    return pd.DataFrame(rows, columns=["src", "dst"]), starts


def _expected(edges: pd.DataFrame) -> dict[int, int]:
    """Smallest node of each node's component, from SciPy (the embedded engine's primitive)."""
    node = np.unique(edges[["src", "dst"]].to_numpy())
    a, b = np.searchsorted(node, edges["src"]), np.searchsorted(node, edges["dst"])
    # a general graph as a bipartite one: every edge is a value node joining its two ends
    n_e = len(edges)
    rec = np.r_[a, b]
    val = np.r_[np.arange(n_e), np.arange(n_e)]
    lab = bipartite_components(rec, val, len(node), n_e)
    smallest = pd.Series(node).groupby(lab).transform("min").to_numpy()
    return dict(zip(node.tolist(), smallest.tolist(), strict=True))


@pytest.fixture(scope="module")
def solved(spark):
    edges, starts = _graph()
    df = spark.createDataFrame(edges)
    distributed = connected_components(df, local=0).toPandas()
    distributed_rounds = components.ROUNDS[-1]
    on_driver = connected_components(df, local=10**9).toPandas()
    # one distributed round, then what is left (fewer edges than the limit) on the driver
    mixed = connected_components(df, local=len(edges) - 1).toPandas()
    mixed_rounds = components.ROUNDS[-1]
    return edges, starts, distributed, on_driver, mixed, (distributed_rounds, mixed_rounds)


@pytest.mark.parametrize("name", list(CASES))
def test_components_match_the_embedded_engine(solved, name):
    edges, starts, distributed, on_driver, mixed, _ = solved
    want = _expected(edges)
    got = dict(zip(distributed["node"].tolist(), distributed["label"].tolist(), strict=True))
    lo = starts[name]
    hi = lo + 3 * CASES[name][1] + 7
    mine = {k: v for k, v in want.items() if lo <= k < hi}
    assert {k: got[k] for k in mine} == mine
    labels = {got[k] for k in mine}
    assert len(labels) == (2 if name == "two_cliques" else 1)
    assert min(labels) == lo + 7  # a component is labelled by its smallest node
    assert dict(zip(on_driver["node"].tolist(), on_driver["label"].tolist(), strict=True)) == got
    assert dict(zip(mixed["node"].tolist(), mixed["label"].tolist(), strict=True)) == got


def test_the_rest_goes_to_the_driver_once_it_is_small(solved):
    *_, (distributed_rounds, mixed_rounds) = solved
    assert mixed_rounds == 1 < distributed_rounds  # the long chain needs several rounds alone


def test_finished_stars_leave_the_working_set(spark):
    e = spark.createDataFrame(pd.DataFrame({
        "x": [2, 3, 4,  11, 12,  21, 22,  31, 32],
        "p": [1, 1, 1,  10, 11,  20, 20,  30, 30]}))  # star | chain | shared child below | ok
    e = e.unionByName(spark.createDataFrame(pd.DataFrame({"x": [22], "p": [21]})))  # 22: two parents
    got = components._mark_finished(e).toPandas()
    done = {(r.x, r.p): r.done for r in got.itertuples()}
    assert done == {(2, 1): True, (3, 1): True, (4, 1): True,  # a star: a whole component
                    (11, 10): False, (12, 11): False,  # 11 is a parent and a child
                    (21, 20): False, (22, 20): False, (22, 21): False,  # 22 has two parents
                    (31, 30): True, (32, 30): True}


def test_every_node_is_listed_once(solved):
    edges, _, distributed, *_ = solved
    assert distributed["node"].is_unique
    assert set(distributed["node"]) == set(edges["src"]) | set(edges["dst"])


def test_bipartite_labels_are_the_smallest_record(spark):
    rec_val = pd.DataFrame({"rec": [0, 1, 1, 2, 4, 5], "val": [0, 0, 1, 1, 2, 2]})
    got = bipartite_labels(spark.createDataFrame(rec_val), n_rec=6, local=0).toPandas()
    assert dict(zip(got["rec"], got["label"], strict=True)) == {0: 0, 1: 0, 2: 0, 4: 4, 5: 4}
