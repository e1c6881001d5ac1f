"""Accuracy of a clustering against ground truth: pairwise and B-cubed metrics, by source pair."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from omni.oneid.graph import bipartite_components, dense_codes

__all__ = ["linkable_truth", "pairwise_scores", "scores_by_source_pair", "truth_codes"]


def _pairs(n: np.ndarray) -> float:
    n = n.astype(np.float64)
    return float((n * (n - 1) / 2).sum())


def _prf(tp: float, pred: float, true: float) -> tuple[float, float, float]:
    p = tp / pred if pred else 1.0
    r = tp / true if true else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def pairwise_scores(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Pairwise precision, recall and F1, and B-cubed precision, recall and F1.

    Parameters
    ----------
    pred, truth : array-like
        Predicted cluster and true person of each record (same length, any hashable labels).

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1`` over record pairs; ``bcubed_precision``,
        ``bcubed_recall``, ``bcubed_f1``; ``n_records``, ``n_pred_clusters``, ``n_true_persons``,
        ``pred_pairs``, ``true_pairs``, ``true_positive_pairs``.
    """
    pred, truth = np.asarray(pred), np.asarray(truth)
    if len(pred) != len(truth):
        raise ValueError(f"pred has {len(pred)} records, truth has {len(truth)}")
    p_codes, n_p = _label_codes(pred)
    t_codes, n_t = _label_codes(truth)
    n = len(p_codes)
    a = np.bincount(p_codes, minlength=n_p)  # records per label (0 for a code no record has)
    b = np.bincount(t_codes, minlength=n_t)
    # records per (cluster, person) cell: one integer key per record, counted in a hash table
    cell = pd.Series(p_codes * np.int64(max(n_t, 1)) + t_codes, copy=False).value_counts(sort=False)
    key = cell.index.to_numpy()
    n_ij = cell.to_numpy().astype(np.float64)
    tp = _pairs(n_ij)
    pred_pairs, true_pairs = _pairs(a), _pairs(b)
    prec, rec, f1 = _prf(tp, pred_pairs, true_pairs)
    ii, jj = np.divmod(key, np.int64(max(n_t, 1)))
    bp = float((n_ij * n_ij / a[ii]).sum() / n) if n else 1.0
    br = float((n_ij * n_ij / b[jj]).sum() / n) if n else 1.0
    bf = 2 * bp * br / (bp + br) if bp + br else 0.0
    return {
        "precision": prec,
        "recall": rec,
        "f1": f1,
        "bcubed_precision": bp,
        "bcubed_recall": br,
        "bcubed_f1": bf,
        "n_records": n,
        "n_pred_clusters": int(np.count_nonzero(a)),
        "n_true_persons": int(np.count_nonzero(b)),
        "pred_pairs": pred_pairs,
        "true_pairs": true_pairs,
        "true_positive_pairs": tp,
    }


def _label_codes(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer codes of the labels ``x`` (equal labels, equal codes) and the number of codes.

    Non-negative integers not much larger than their count (the clusters and person codes the
    report scores, 20 M at 1M persons) are their own codes; other labels are factorized."""
    if x.dtype.kind in "iu" and len(x) and int(x.min()) >= 0 and int(x.max()) < 4 * len(x) + 1024:
        return x.astype(np.int64, copy=False), int(x.max()) + 1
    codes, uniques = pd.factorize(x)
    return codes.astype(np.int64, copy=False), len(uniques)


def _pair_matrix(group: np.ndarray, source: np.ndarray, n_src: int) -> np.ndarray:
    """Pairs of records in the same group, counted by (source, source)."""
    g, n_g = _label_codes(np.asarray(group))
    m = csr_matrix((np.ones(len(g)), (g, source)), shape=(n_g, n_src))
    cross = (m.T @ m).toarray()
    within = np.asarray(m.multiply(m).sum(axis=0)).ravel()  # sum of c^2 per source
    out = cross.copy()
    np.fill_diagonal(out, (within - np.asarray(m.sum(axis=0)).ravel()) / 2)
    return out


def scores_by_source_pair(pred: np.ndarray, truth: np.ndarray, source: np.ndarray | pd.Categorical) -> pd.DataFrame:
    """Pairwise precision/recall/F1 restricted to pairs of records from two given sources
    (``source``: each record's source, an array or a Categorical).

    Returns
    -------
    DataFrame
        ``source_a``, ``source_b``, ``pred_pairs``, ``true_pairs``, ``tp``, ``precision``, ``recall``,
        ``f1`` (one row per unordered source pair with any true or predicted pair).
    """
    # a Categorical by its codes (20 M records at 1M persons), anything else by its values
    s_codes, s_names = pd.factorize(source if isinstance(source, pd.Categorical) else np.asarray(source))
    k = len(s_names)
    pred_m = _pair_matrix(np.asarray(pred), s_codes, k)
    true_m = _pair_matrix(np.asarray(truth), s_codes, k)
    pred, truth = np.asarray(pred), np.asarray(truth)
    if pred.dtype.kind in "iu" and truth.dtype.kind in "iu" and len(pred) and min(pred.min(), truth.min()) >= 0:
        both = dense_codes(pred.astype(np.int64) * (int(truth.max()) + 1) + truth.astype(np.int64))[0]
    else:
        both = pd.factorize(pd.MultiIndex.from_arrays([pred, truth]))[0]
    tp_m = _pair_matrix(both, s_codes, k)
    rows = []
    for i in range(k):
        for j in range(i, k):
            if pred_m[i, j] == 0 and true_m[i, j] == 0:
                continue
            p, r, f = _prf(tp_m[i, j], pred_m[i, j], true_m[i, j])
            a, b = sorted([str(s_names[i]), str(s_names[j])])
            rows.append(
                {"source_a": a, "source_b": b, "pred_pairs": pred_m[i, j], "true_pairs": true_m[i, j],
                 "tp": tp_m[i, j], "precision": p, "recall": r, "f1": f}
            )
    return pd.DataFrame(rows).sort_values(["source_a", "source_b"]).reset_index(drop=True)


def linkable_truth(res, truth: pd.DataFrame, types: tuple[str, ...] | None = None) -> np.ndarray:
    """The truth as far as identifiers can show it: each person's records split into the groups
    that share a chain of valid identifiers of the given types (default: the strong and bridging
    types).

    Two records of one person with no identifier chain between them (a WeChat follower whose
    unionid the CRM never recorded and who gave no phone) cannot be linked by any deterministic
    method; scoring recall against this truth measures the rules, not the data's gaps.

    Parameters
    ----------
    res : Resolution
    truth : DataFrame or ndarray
        ``record_key``, ``person_id``; or the person codes of :func:`truth_codes`, aligned with
        ``res.records``.

    Returns
    -------
    ndarray
        A label per record of ``res.records`` (same person and chained by identifiers = same label).
    """
    cfg = res.config
    types = types or tuple(cfg.strong_types) + tuple(cfg.bridging_types)
    if isinstance(truth, np.ndarray):  # person codes aligned with res.records (truth_codes)
        pcode = truth
    else:
        person = (truth.set_index("record_key")["person_id"]
                  .reindex(res.records["record_key"].to_numpy()).to_numpy())
        pcode, _ = pd.factorize(person)
    e = res.edges
    vt = res.values["id_type"]
    if isinstance(vt.dtype, pd.CategoricalDtype):  # per category, then by code: no string per edge
        wanted = np.r_[np.isin(np.asarray(vt.cat.categories.astype(str), dtype=object), list(types)), False]
        keep = wanted[vt.cat.codes.to_numpy()[e["val"].to_numpy()]]  # code -1 (missing) -> False
    else:
        keep = np.isin(vt.astype(str).to_numpy()[e["val"].to_numpy()], types)
    rec = e["rec"].to_numpy()[keep]
    val = e["val"].to_numpy()[keep]
    node, uniq = dense_codes((pcode[rec].astype(np.int64) + 1) * np.int64(len(vt) + 1) + val)
    # a record meets only its own person's nodes, and a record without one is a component of its
    # own: records of different people never share a label
    return bipartite_components(rec, node, len(pcode), len(uniq))


def truth_codes(records: pd.DataFrame | Path | str, truth: pd.DataFrame | Path | str,
                temp_dir: Path | str | None = None) -> np.ndarray:
    """The true person of every record, as integer codes aligned with ``records``' rows.

    Scoring a resolution against the truth joins two tables of every record on string keys: at
    1M persons (20 M records) one pandas merge takes about 40 s and several GB, and the identity
    report needs five of them. This join runs once, in the embedded engine (:mod:`omni.engine`,
    which reads only the key columns of the Parquet files and spills above its memory limit),
    and every score is then computed on integer arrays.

    Parameters
    ----------
    records : DataFrame or path
        ``record_key`` per record (``record_oneid`` or its Parquet file).
    truth : DataFrame or path
        ``record_key``, ``person_id`` (``truth/record_person`` or its Parquet file).
    temp_dir : path, optional
        The engine's spill folder.

    Returns
    -------
    ndarray of int64
        A person code per row of ``records`` (equal codes: the same person), -1 where the truth
        has no row for the record.
    """
    from omni.engine import query

    rec = (records[["record_key"]].assign(pos=np.arange(len(records), dtype=np.int64))
           if isinstance(records, pd.DataFrame) else None)
    tables = {"rec": rec if rec is not None else Path(records),
              "truth": truth[["record_key", "person_id"]] if isinstance(truth, pd.DataFrame) else Path(truth)}
    pos = "r.pos" if rec is not None else "r.file_row_number"
    src = "rec r" if rec is not None else "read_parquet(?, file_row_number = true) r"
    params = [] if rec is not None else [str(records)]
    sql = (f"WITH p AS (SELECT person_id, row_number() OVER () - 1 AS code FROM (SELECT DISTINCT person_id "
           f"FROM truth)) SELECT {pos} AS pos, p.code FROM {src} JOIN truth t ON r.record_key = t.record_key "
           f"JOIN p ON t.person_id = p.person_id")
    got = query(sql, tables, params=params, temp_dir=temp_dir)
    n = len(records) if rec is not None else _parquet_rows(Path(records))
    out = np.full(n, -1, dtype=np.int64)
    out[got["pos"].to_numpy(np.int64)] = got["code"].to_numpy(np.int64)
    return out


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)
