"""Sparse-graph primitives for the identity graph: bipartite record-identifier components."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["COOC_BLOCK", "bipartite_components", "cooccurrence", "dense_codes", "group_components",
           "sorted_unique", "unique_pairs"]


def bipartite_components(rec: np.ndarray, val: np.ndarray, n_rec: int, n_val: int) -> np.ndarray:
    """Connected components of the bipartite graph records <-> identifier values.

    Parameters
    ----------
    rec, val : ndarray of int
        Edge list: record index and value index of each edge.
    n_rec, n_val : int
        Number of records and values (nodes without edges are their own component).

    Returns
    -------
    ndarray of int64, shape (n_rec,)
        Component label of each record; records with no edge get a label of their own.
    """
    return group_components(rec, val, n_rec, n_val)[:n_rec]


#: Edges plus nodes from which :func:`group_components` hooks and jumps pointers in NumPy instead
#: of asking SciPy's graph search, which copies the graph twice more (float64 weights and the
#: transpose: some 5 GB at the 150 M identifier edges of 5M persons; its row pointers grow with
#: the nodes: the strong edges at 5M are fewer, but join 94 M records and their values). Below it
#: SciPy is faster: at 1M persons every graph is smaller (the naive baseline's, the largest, about
#: 60 M).
LEAN_COMPONENTS_SIZE = 100_000_000


def group_components(rec: np.ndarray, val: np.ndarray, n_rec: int, n_val: int) -> np.ndarray:
    """Connected components with the value side kept: label of every record and every value.

    Components are numbered in order of their smallest node (records first, then values), as
    SciPy's search numbers them, whichever way they are found.

    Returns
    -------
    ndarray of int64, shape (n_rec + n_val,)
        Labels of records first, then values.
    """
    n = n_rec + n_val
    if len(rec) == 0:
        return np.arange(n, dtype=np.int64)
    if len(rec) + n >= LEAN_COMPONENTS_SIZE:
        return _hooked_components(rec, val, n_rec, n_val)
    rec = np.asarray(rec)
    if len(rec) > 1 and not (rec[1:] >= rec[:-1]).all():
        order = np.argsort(rec, kind="stable")
        rec, val = rec[order], np.asarray(val)[order]
    # edges sorted by record: the CSR arrays directly (rows = records, value nodes have no
    # out-edges; connected_components(directed=False) follows edges both ways)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rec, minlength=n_rec), out=indptr[1 : n_rec + 1])
    indptr[n_rec + 1 :] = indptr[n_rec]
    indices = np.asarray(val, dtype=np.int32 if n < 2**31 - 1 else np.int64) + n_rec
    graph = csr_matrix((np.ones(len(rec), dtype=np.int8), indices, indptr), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def _hooked_components(rec: np.ndarray, val: np.ndarray, n_rec: int, n_val: int) -> np.ndarray:
    """:func:`group_components` in a few passes over the edges, with one parent per node.

    Every pass hooks the larger root of each edge whose ends lie in different trees onto the
    smaller (so a parent is never larger than its node, and a root is the smallest node of its
    tree), then jumps every node to its root; edges inside one tree are done with for good. At
    the end each component is one tree rooted at its smallest node, and the roots' ranks are the
    labels.
    """
    n = n_rec + n_val
    idx = np.int32 if n < 2**31 - 1 else np.int64
    parent = np.arange(n, dtype=idx)
    u = np.asarray(rec, dtype=idx)
    v = np.asarray(val, dtype=idx) + idx(n_rec)
    while len(u):
        pu, pv = parent[u], parent[v]
        apart = pu != pv
        if not apart.any():
            break
        pu, pv, u, v = pu[apart], pv[apart], u[apart], v[apart]
        del apart
        np.minimum.at(parent, np.maximum(pu, pv), np.minimum(pu, pv))
        del pu, pv
        while True:  # every node to its root
            up = parent[parent]
            if np.array_equal(up, parent):
                break
            parent = up
    is_root = parent == np.arange(n, dtype=idx)
    rank = np.cumsum(is_root, dtype=np.int64) - 1
    return rank[parent]


def sorted_unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an integer array.

    A sort and a neighbour comparison: numpy 2.4's hash-based ``np.unique`` is two orders of
    magnitude slower on millions of int64 keys.
    """
    if len(x) == 0:
        return x
    s = np.sort(x, kind="stable")
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def unique_pairs(a: np.ndarray, b: np.ndarray, nb: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (a, b) pairs of two non-negative int arrays, sorted by a then b."""
    if len(a) == 0:
        return a.astype(np.int64), b.astype(np.int64)
    key = sorted_unique(a.astype(np.int64) * np.int64(nb) + b.astype(np.int64))
    return key // nb, key % nb


#: Most (value, partner) pairs :func:`cooccurrence` expands at once. Each pair takes some 40
#: bytes while it is sorted (the pair, its partner and key, their sorted copies): at 5M persons
#: the 148 M identifier rows make about 200 M pairs, some 8 GB at once.
COOC_BLOCK = 50_000_000


def _blocks(cum: np.ndarray, block: int) -> list[tuple[int, int]]:
    """Value ranges ``[lo, hi)`` holding about ``block`` pairs each, from the running count of
    pairs per value (one range when all fit; a value with more pairs than a block is a block)."""
    total = int(cum[-1]) if len(cum) else 0
    if total <= block:
        return [(0, len(cum))]
    cuts = np.searchsorted(cum, np.arange(block, total, block), side="left") + 1
    edges = np.unique(np.concatenate([[0], cuts, [len(cum)]]))
    return [(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]


def cooccurrence(
    rec: np.ndarray,
    val: np.ndarray,
    target_mask: np.ndarray,
    target_type: np.ndarray,
    n_val: int,
    n_types: int,
    block: int | None = None,
) -> np.ndarray:
    """Count, per value, the distinct *other* values of each target type seen on the same records.

    Parameters
    ----------
    rec, val : ndarray of int
        Distinct (record, value) edges.
    target_mask : ndarray of bool, shape (n_val,)
        Which values are counted as co-occurring partners.
    target_type : ndarray of int, shape (n_val,)
        Type code (0 .. n_types-1) of each value; only read where target_mask holds.
    n_val, n_types : int
        Number of values and of type codes.
    block : int, optional
        Most (value, partner) pairs expanded and sorted at once (default :data:`COOC_BLOCK`):
        the values are taken in blocks of about this many pairs. The counts do not depend on it.

    Returns
    -------
    ndarray of int32, shape (n_val, n_types)
        ``out[v, t]`` = number of distinct values of type ``t`` that share a record with ``v``.
    """
    block = COOC_BLOCK if block is None else int(block)
    if block < 1:
        raise ValueError(f"cooccurrence needs a block of at least one pair, got {block}")
    out = np.zeros((n_val, n_types), dtype=np.int32)
    rec = np.asarray(rec)
    val = np.asarray(val)
    if len(rec) > 1 and not (rec[1:] >= rec[:-1]).all():  # edges usually come sorted by record
        order = np.argsort(rec, kind="stable")
        rec, val = rec[order], val[order]
    keep = target_mask[val]
    t_rec, t_val = rec[keep], val[keep]
    if len(t_rec) == 0:
        return out
    # target edges of each record: a slice [first, first + count) of t_val (O(n), no search)
    count = np.bincount(t_rec, minlength=int(rec[-1]) + 1)
    first = np.cumsum(count) - count
    if len(t_val) < 2**31 - 1:
        first = first.astype(np.int32)  # positions into t_val: half the memory of the expansion
    counts = count[rec]
    # an edge whose record's only target edge is itself has no partner
    has = (counts > 1) | ((counts == 1) & ~keep)
    if not has.any():
        return out
    counts = counts[has]
    hval, hfirst = val[has], first[rec[has]]
    del has, first
    # the (value, partner) expansion, sorted to find the distinct pairs, in blocks of values: a
    # pair's value is in one block only, so each block's distinct pairs are the values' own
    bounds = _blocks(np.cumsum(np.bincount(hval, weights=counts, minlength=n_val)), block)
    flat = out.reshape(-1)
    for lo, hi in bounds:
        sel = (hval >= lo) & (hval < hi) if len(bounds) > 1 else slice(None)
        c = counts[sel]
        src = np.repeat(hval[sel], c)
        offs = np.repeat(hfirst[sel] - (np.cumsum(c) - c).astype(hfirst.dtype), c)
        offs += np.arange(len(src), dtype=offs.dtype)
        partner = t_val[offs]
        del offs, c
        keep2 = partner != src
        a, b = unique_pairs(src[keep2], partner[keep2], n_val)
        del src, partner, keep2
        flat[lo * n_types:hi * n_types] = np.bincount((a - lo) * n_types + target_type[b],
                                                      minlength=(hi - lo) * n_types)
        del a, b
    return out


def dense_codes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Factorize non-negative integers in order of first appearance.

    Equivalent to ``pd.factorize(x)`` for int arrays: codes 0..k-1 numbered by first appearance,
    and the distinct values in that order. A presence table over the value range when that range is
    small relative to ``len(x)``, pandas' hash table otherwise.

    Returns
    -------
    codes : ndarray of int64
    uniques : ndarray of int64
    """
    x = np.asarray(x, dtype=np.int64)
    n = len(x)
    if n == 0:
        return x.copy(), x.copy()
    if x.min() < 0:
        raise ValueError("dense_codes needs non-negative integers")
    top = int(x.max()) + 1
    if top <= 4 * n + 1024:
        idx = np.int32 if n < 2**31 - 1 else np.int64  # positions and ranks: half the memory
        # first position of every value: reversed assignment leaves the first occurrence
        first = np.full(top, n, dtype=idx)
        first[x[::-1]] = np.arange(n - 1, -1, -1, dtype=idx)
        present = np.flatnonzero(first < n)
        uniques = present[np.argsort(first[present], kind="stable")]
        del first, present
        rank = np.empty(top, dtype=idx)
        rank[uniques] = np.arange(len(uniques), dtype=idx)
        return rank[x].astype(np.int64), uniques
    # sparse values: a hash table (pandas' factorize numbers them by first appearance too); two
    # stable sorts of the values and their first positions took 1.6 times as long
    codes, uniques = pd.factorize(x, sort=False)
    return codes.astype(np.int64, copy=False), np.asarray(uniques, dtype=np.int64)
