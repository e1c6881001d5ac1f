"""Business rules, applied last to a model's scores: what may be shown to whom.

* no SKU bought in the last ``exclude_days`` days, unless it is a repeat item (a refill);
* nothing out of season in the target month (``season``: ``spring_summer`` = March to August,
  ``autumn_winter`` = September to February, ``all_year``) or not launched by its end;
* at most ``max_per_category`` SKUs of one category in a list;
* people who opted out of marketing get no list (:func:`omni.recommend.topk.topk_table`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["SEASON_MONTHS", "apply_rules", "cap_per_category", "in_season"]

#: Months each season is on sale.
SEASON_MONTHS = {"all_year": set(range(1, 13)), "spring_summer": {3, 4, 5, 6, 7, 8},
                 "autumn_winter": {9, 10, 11, 12, 1, 2}}


def in_season(season: np.ndarray, month: int) -> np.ndarray:
    """Boolean per SKU: on sale in calendar month ``month`` (unknown seasons count as all year)."""
    s = np.asarray(season, dtype=object)
    return np.array([month in SEASON_MONTHS.get(str(x), SEASON_MONTHS["all_year"]) for x in s], bool)


def cap_per_category(ranked: np.ndarray, category: np.ndarray, k: int, cap: int | None) -> np.ndarray:
    """The first ``k`` items of each row of ``ranked`` (best first, -1 = none) keeping at most
    ``cap`` per category; rows run short are padded with -1."""
    if cap is None:
        return ranked[:, :k]
    valid = ranked >= 0
    cat = np.where(valid, category[np.maximum(ranked, 0)], -1)
    n_cat = int(category.max()) + 1 if len(category) else 1
    onehot = (cat[:, :, None] == np.arange(n_cat)[None, None, :]) & valid[:, :, None]
    seen = np.cumsum(onehot, axis=1)
    rank_in_cat = np.take_along_axis(seen, np.maximum(cat, 0)[:, :, None], axis=2)[:, :, 0]
    ok = valid & (rank_in_cat <= cap)
    order = np.argsort(~ok, axis=1, kind="stable")[:, :k]
    out = np.take_along_axis(ranked, order, axis=1)
    return np.where(np.take_along_axis(ok, order, axis=1), out, -1)


def apply_rules(scores: np.ndarray, last_days: sp.csr_matrix, repeat: np.ndarray, allowed: np.ndarray,
                category: np.ndarray, k: int, exclude_days: float = 30.0,
                max_per_category: int | None = 4, columns: np.ndarray | None = None) -> np.ndarray:
    """Top-``k`` item codes per row after the rules (-1 where fewer than ``k`` may be shown).

    Parameters
    ----------
    scores : ndarray (users, items)
        Any model's scores (-inf: never).
    last_days : csr_matrix (users, items)
        Days since the person's last purchase of the item, +1 (0: never bought); rows aligned.
    repeat, allowed : ndarray of bool
        Per item: a repeat item; in season and launched in the target month.
    category : ndarray of int
        Category code per item.
    columns : ndarray of int, optional
        The items ``scores`` holds, when it holds only some (``np.flatnonzero(allowed)`` or more);
        default every item. The array is then changed in place.
    """
    cols = np.flatnonzero(allowed)  # rank only what may be shown
    if columns is None:
        s = np.ascontiguousarray(scores[:, cols], dtype=np.float32)
    elif np.array_equal(columns, cols):
        s = scores
    else:
        s = np.ascontiguousarray(scores[:, np.searchsorted(columns, cols)], dtype=np.float32)
    recent = last_days.tocoo()
    at = np.full(len(allowed), -1, np.int64)
    at[cols] = np.arange(len(cols))
    blocked = (recent.data > 0) & (recent.data - 1 < exclude_days) & ~repeat[recent.col] & (at[recent.col] >= 0)
    s[recent.row[blocked], at[recent.col[blocked]]] = -np.inf
    m = min(s.shape[1], max(3 * k, k + 20))
    if m == 0:
        return np.full((s.shape[0], 0), -1, np.int64)
    part = np.argpartition(s, s.shape[1] - m, axis=1)[:, s.shape[1] - m:]
    ps = np.take_along_axis(s, part, axis=1)
    part = cols[part]  # item codes: ties go to the lower code
    order = np.lexsort((part, -ps), axis=1)
    ranked = np.take_along_axis(part, order, axis=1)
    ranked = np.where(np.isfinite(np.take_along_axis(ps, order, axis=1)), ranked, -1)
    return cap_per_category(ranked, category, k, max_per_category)
