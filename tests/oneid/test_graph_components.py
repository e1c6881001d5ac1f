"""The two ways of labelling components agree: SciPy's search and the lean hooking used on the
150 M identifier edges of 5M persons (less memory)."""

from __future__ import annotations

import numpy as np
import pytest

import omni.oneid.graph as graph
from omni.oneid.graph import _hooked_components, group_components


def _scipy(rec, val, n_rec, n_val, monkeypatch):
    monkeypatch.setattr(graph, "LEAN_COMPONENTS_SIZE", 10**12)
    return group_components(rec, val, n_rec, n_val)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hooking_gives_scipys_labels_on_random_bipartite_graphs(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    n_rec, n_val, m = 5_000, 3_000, 6_000  # sparse: many components, some long chains
    rec = np.sort(rng.integers(0, n_rec, m))
    val = rng.integers(0, n_val, m)
    want = _scipy(rec, val, n_rec, n_val, monkeypatch)
    got = _hooked_components(rec, val, n_rec, n_val)
    assert got.dtype == want.dtype and (got == want).all()
    assert want.max() > 100  # not one blob


def test_hooking_follows_a_long_chain_and_leaves_lone_nodes_alone(monkeypatch):
    # records 0..999 chained through values in reverse order: the worst case for hooking
    n = 1_000
    rec = np.r_[np.arange(n - 1), np.arange(1, n)]
    val = np.r_[np.arange(n - 1)[::-1], np.arange(n - 1)[::-1]]
    got = _hooked_components(rec, val, n + 5, n - 1)  # 5 records without edges
    assert (got == _scipy(rec, val, n + 5, n - 1, monkeypatch)).all()
    assert (got[:n] == 0).all() and list(got[n:n + 5]) == [1, 2, 3, 4, 5]


def test_the_world_resolves_the_same_with_either(test_world, monkeypatch):
    """The identity graph of the test world: records and values, naive and rule components."""
    from omni.oneid.baseline import naive_labels
    from omni.oneid.resolve import resolve_identities
    from omni.workspace import Workspace

    ws = Workspace(test_world)
    ids, records, _, _ = ws._resolution_inputs()

    def both():
        res = resolve_identities(ids, records[["source", "row"]], ws.config, times=records["time"])
        return naive_labels(ids, records), res.records["cluster"].to_numpy(), res.rule_counts

    want = both()
    monkeypatch.setattr(graph, "LEAN_COMPONENTS_SIZE", 0)
    got = both()
    assert (got[0] == want[0]).all() and len(np.unique(want[0])) > 1000
    assert (got[1] == want[1]).all() and got[2] == want[2]


def _cooc_by_hand(rec, val, target, vtype, n_val, n_types):
    """Distinct partners per (value, type), from Python sets: the definition."""
    by_rec: dict[int, set[int]] = {}
    for r, v in zip(rec.tolist(), val.tolist(), strict=True):
        by_rec.setdefault(r, set()).add(v)
    seen: dict[int, set[int]] = {}
    for vs in by_rec.values():
        for v in vs:
            seen.setdefault(v, set()).update(w for w in vs if w != v and target[w])
    out = np.zeros((n_val, n_types), np.int32)
    for v, ws in seen.items():
        for w in ws:
            out[v, vtype[w]] += 1
    return out


@pytest.mark.parametrize("block", [None, 1, 7, 50])
def test_cooccurrence_counts_distinct_partners_in_any_blocks(block):
    rng = np.random.default_rng(5)
    n_rec, n_val, n_types = 400, 150, 3
    rec = np.sort(rng.integers(0, n_rec, 1_500))
    val = rng.integers(0, n_val, 1_500)
    e = np.unique(np.c_[rec, val], axis=0)  # distinct edges, sorted by record
    target = rng.random(n_val) < 0.7
    vtype = rng.integers(0, n_types, n_val)
    want = _cooc_by_hand(e[:, 0], e[:, 1], target, vtype, n_val, n_types)
    assert want.sum() > 1_000  # values do share records
    got = graph.cooccurrence(e[:, 0], e[:, 1], target, vtype, n_val, n_types, block=block)
    assert got.dtype == np.int32 and (got == want).all()


def test_the_worlds_shared_values_do_not_depend_on_the_blocks(test_world, monkeypatch):
    """The first rule on the test world, its pairs in one block and in blocks of 1,000 pairs."""
    from omni.oneid.resolve import resolve_identities
    from omni.workspace import Workspace

    ids, records, _, _ = Workspace(test_world)._resolution_inputs()

    def run():
        res = resolve_identities(ids, records[["source", "row"]], Workspace(test_world).config,
                                 times=records["time"])
        return res.records["cluster"].to_numpy(), res.rule_counts

    want = run()
    monkeypatch.setattr(graph, "COOC_BLOCK", 1_000)
    real, used = graph._blocks, []
    monkeypatch.setattr(graph, "_blocks", lambda cum, block: used.append(real(cum, block)) or used[-1])
    got = run()
    assert (got[0] == want[0]).all() and got[1] == want[1] and want[1]["shared_values"] > 0
    assert len(used) == 1 and len(used[0]) > 50  # the pairs really went in blocks


def test_blocks_cover_every_value_once_and_a_block_must_hold_a_pair():
    cum = np.cumsum([0, 5, 0, 120, 3, 3, 0, 0, 40, 1])  # a value larger than a block is a block
    for block in (1, 4, 10, 50, 10**9):
        b = graph._blocks(cum, block)
        assert b[0][0] == 0 and b[-1][1] == len(cum) and all(lo < hi for lo, hi in b)
        assert all(x[1] == y[0] for x, y in zip(b[:-1], b[1:], strict=True))
    with pytest.raises(ValueError, match="at least one pair"):
        graph.cooccurrence(np.array([0, 0]), np.array([0, 1]), np.ones(2, bool), np.zeros(2, int), 2, 1, block=0)


def test_a_graph_of_few_edges_over_many_nodes_is_hooked(monkeypatch):
    """The switch counts nodes as well as edges: SciPy's row pointers grow with the nodes."""
    calls = []
    real = graph._hooked_components
    monkeypatch.setattr(graph, "_hooked_components", lambda *a: calls.append(a) or real(*a))
    rec, val = np.arange(100), np.arange(100) // 2  # 100 edges over 900 records and 50 values
    monkeypatch.setattr(graph, "LEAN_COMPONENTS_SIZE", 1_100)  # 100 + 950 below it: SciPy
    want = group_components(rec, val, 900, 50)
    assert calls == []
    monkeypatch.setattr(graph, "LEAN_COMPONENTS_SIZE", 1_000)  # fewer edges than that, but 950 nodes
    assert (group_components(rec, val, 900, 50) == want).all() and len(calls) == 1

