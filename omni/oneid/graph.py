"""Sparse-graph primitives for the identity graph: bipartite record-identifier components."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


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


def group_components(rec: np.ndarray, val: np.ndarray, n_rec: int, n_val: int) -> np.ndarray:
    """Connected components with the value side kept: label of every record and every value.

    Returns
    -------
    ndarray of int64, shape (n_rec + n_val,)
        Labels of records first, then values.
    """
    n = n_rec + n_val
    if len(rec) == 0:
        return np.arange(n, dtype=np.int64)
    graph = coo_matrix(
        (np.ones(len(rec), dtype=np.int8), (rec.astype(np.int64), val.astype(np.int64) + n_rec)),
        shape=(n, n),
    ).tocsr()
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


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


def cooccurrence(
    rec: np.ndarray,
    val: np.ndarray,
    target_mask: np.ndarray,
    target_type: np.ndarray,
    n_val: int,
    n_types: int,
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

    Returns
    -------
    ndarray of int64, shape (n_val, n_types)
        ``out[v, t]`` = number of distinct values of type ``t`` that share a record with ``v``.
    """
    out = np.zeros((n_val, n_types), dtype=np.int64)
    keep = target_mask[val]
    t_rec, t_val = rec[keep], val[keep]
    if len(t_rec) == 0:
        return out
    order = np.argsort(t_rec, kind="stable")
    t_rec, t_val = t_rec[order], t_val[order]
    start = np.searchsorted(t_rec, rec, side="left")
    stop = np.searchsorted(t_rec, rec, side="right")
    counts = stop - start
    has = counts > 0
    if not has.any():
        return out
    src = np.repeat(val[has], counts[has])
    # positions into t_val: for each edge, start..stop-1
    offs = np.repeat(start[has] - np.cumsum(np.r_[0, counts[has][:-1]]), counts[has])
    partner = t_val[np.arange(len(src)) + offs]
    keep2 = partner != src
    a, b = unique_pairs(src[keep2], partner[keep2], n_val)
    flat = np.bincount(a * n_types + target_type[b], minlength=n_val * n_types)
    return flat.reshape(n_val, n_types).astype(np.int64)
