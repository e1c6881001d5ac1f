"""Offline evaluation, temporal: fit up to a month end, score the next month's purchases.

Per person (the OneIDs who bought in the test month) the truth is the set of SKUs they bought; a
list of ``k`` SKUs scores recall@10/@20, NDCG@10 and MAP@12 (average precision over the first 12,
normalized by ``min(|truth|, 12)``). Coverage is the share of the catalogue in anyone's top-20,
novelty the mean ``-log2`` of the recommended SKUs' share of the training purchases. Intervals are
paired bootstraps over people: the same resampled people for every model, so differences and
lifts have intervals too.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["METRICS", "hits", "list_metrics", "paired_bootstrap", "per_user_metrics", "truth_matrix"]

METRICS = ("recall@10", "recall@20", "ndcg@10", "map@12")


def truth_matrix(user: np.ndarray, item: np.ndarray, n_users: int, n_items: int) -> sp.csr_matrix:
    """Binary users x items matrix of what each person bought."""
    m = sp.csr_matrix((np.ones(len(user), np.float32), (user, item)), shape=(n_users, n_items))
    m.sum_duplicates()
    m.data[:] = 1
    return m


def hits(recs: np.ndarray, truth: sp.csr_matrix) -> np.ndarray:
    """Boolean (users, k): is the i-th recommendation of each row in that row's truth."""
    rows = np.repeat(np.arange(recs.shape[0]), recs.shape[1])
    return np.asarray(truth[rows, recs.ravel()]).reshape(recs.shape) > 0


def per_user_metrics(recs: np.ndarray, truth: sp.csr_matrix) -> pd.DataFrame:
    """recall@10, recall@20, ndcg@10 and map@12 of each row (``truth`` rows aligned with ``recs``)."""
    h = hits(recs, truth).astype(np.float64)
    n_true = np.asarray(truth.sum(axis=1)).ravel()
    n = np.maximum(n_true, 1)
    k = h.shape[1]
    disc = 1.0 / np.log2(np.arange(2, 12))
    dcg = (h[:, : min(10, k)] * disc[: min(10, k)]).sum(axis=1)
    idcg = np.cumsum(disc)[np.minimum(n, 10).astype(int) - 1]
    k12 = min(12, k)
    prec = np.cumsum(h[:, :k12], axis=1) / np.arange(1, k12 + 1)
    ap = (prec * h[:, :k12]).sum(axis=1) / np.minimum(n, 12)
    return pd.DataFrame({
        "recall@10": h[:, :10].sum(axis=1) / n,
        "recall@20": h[:, :20].sum(axis=1) / n,
        "ndcg@10": dcg / idcg,
        "map@12": ap,
    })


def list_metrics(recs: np.ndarray, n_items: int, train_counts: np.ndarray) -> dict[str, float]:
    """Coverage (share of the catalogue recommended to someone) and novelty (mean -log2 share of
    the training purchases, +1 smoothed) of the top-20 lists."""
    r = recs[:, :20]
    share = (train_counts + 1.0) / (train_counts.sum() + len(train_counts))
    return {"coverage": len(np.unique(r)) / max(n_items, 1),
            "novelty": float(np.mean(-np.log2(share[r]))) if r.size else float("nan")}


def paired_bootstrap(values: Mapping[str, np.ndarray], baseline: str, n_boot: int = 200,
                     seed: int = 7, alpha: float = 0.05, chunk: int = 50) -> pd.DataFrame:
    """Means of per-person metrics with paired bootstrap intervals, and each model's relative
    lift over ``baseline`` with its interval.

    Parameters
    ----------
    values : mapping of name -> ndarray
        One per-person metric per model, all over the same people in the same order.
    baseline : str
        The model the lifts are relative to.

    Returns
    -------
    DataFrame
        Indexed by model: ``mean``, ``ci_low``, ``ci_high``, ``lift``, ``lift_low``, ``lift_high``.
    """
    names = list(values)
    mat = np.vstack([np.asarray(values[n], float) for n in names])  # (models, people)
    n = mat.shape[1]
    rng = np.random.default_rng(seed)
    reps = np.empty((len(names), n_boot))
    for s in range(0, n_boot, chunk):  # resampled people, the same for every model
        b = min(chunk, n_boot - s)
        idx = rng.integers(0, n, size=(b, n)) if n else np.zeros((b, 0), int)
        reps[:, s:s + b] = mat[:, idx].mean(axis=2) if n else np.nan
    q = [alpha / 2, 1 - alpha / 2]
    base = names.index(baseline)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = reps / reps[base] - 1
        point_lift = mat.mean(axis=1) / mat[base].mean() - 1 if n else np.full(len(names), np.nan)
    out = pd.DataFrame({
        "mean": mat.mean(axis=1) if n else np.nan,
        "ci_low": np.quantile(reps, q[0], axis=1), "ci_high": np.quantile(reps, q[1], axis=1),
        "lift": point_lift,
        "lift_low": np.nanquantile(lift, q[0], axis=1), "lift_high": np.nanquantile(lift, q[1], axis=1),
    }, index=pd.Index(names, name="model"))
    return out
