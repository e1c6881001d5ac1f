"""The Qini coefficient's bootstrap: resamples as multinomial weights, vectorized by blocks."""

from __future__ import annotations

import numpy as np

__all__ = ["bootstrap_qini"]

_BOOT_STREAM = 0xB0075


def _weighted_qini_area(y: np.ndarray, t: np.ndarray, order: np.ndarray, ends: np.ndarray,
                        w: np.ndarray) -> np.ndarray:
    """Qini area (curve minus random line) for each row of weights ``w`` (replicates x people),
    people ranked by the fixed ``order`` and the curve evaluated at the tie-block ``ends``."""
    ys, ts = y[order], t[order]
    ws = w[:, order]
    cum_n = np.cumsum(ws, axis=1)[:, ends]
    cum_t = np.cumsum(ws * ts, axis=1)[:, ends]
    cum_c = cum_n - cum_t
    cum_yt = np.cumsum(ws * (ys * ts), axis=1)[:, ends]
    cum_yc = np.cumsum(ws * (ys * (1.0 - ts)), axis=1)[:, ends]
    ratio = np.divide(cum_t, cum_c, out=np.zeros_like(cum_t), where=cum_c > 0)
    q = np.concatenate([np.zeros((len(w), 1)), cum_yt - cum_yc * ratio], axis=1)
    frac = np.concatenate([np.zeros((len(w), 1)), cum_n / cum_n[:, -1:]], axis=1)
    return np.trapezoid(q - q[:, -1:] * frac, frac, axis=1)


def bootstrap_qini(y: object, treatment: object, score: object, n_boot: int = 200,
                   seed: int = 0, max_cells: int = 4_000_000) -> np.ndarray:
    """Qini coefficients (:func:`omni.uplift.qini_coefficient`) of ``n_boot`` bootstrap
    resamples, stratified by arm (treated and control people resampled separately).

    Vectorized: a resample is a vector of multinomial counts used as weights on the people,
    whose ranking (by score, and by the optimal score y x (2T - 1)) does not change, so every
    replicate is a few cumulative sums; replicates are processed in blocks of at most
    ``max_cells`` weights. Replicates without a positive optimal area are NaN.

    Returns
    -------
    numpy.ndarray
        ``n_boot`` coefficients (same seed, same values).
    """
    y_arr = np.asarray(y, dtype="float64")
    t = np.asarray(treatment).astype("float64")
    s = np.asarray(score, dtype="float64")
    if not (len(y_arr) == len(t) == len(s)) or len(s) == 0:
        raise ValueError("y, treatment and score must be non-empty and of equal length")
    if not (isinstance(n_boot, int | np.integer) and n_boot >= 1):
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    idx_t, idx_c = np.flatnonzero(t == 1), np.flatnonzero(t == 0)
    if len(idx_t) == 0 or len(idx_c) == 0:
        raise ValueError("need both treated and control people")
    p_t, p_c = np.full(len(idx_t), 1.0 / len(idx_t)), np.full(len(idx_c), 1.0 / len(idx_c))
    rankings = []
    for sc in (s, y_arr * (2.0 * t - 1.0)):
        order = np.argsort(-sc, kind="stable")
        srt = sc[order]
        rankings.append((order, np.r_[np.flatnonzero(np.diff(srt) != 0), len(srt) - 1]))
    out = np.empty(n_boot)
    block = max(1, int(max_cells // len(s)))
    for b0 in range(0, n_boot, block):  # blocks of replicates, each fully vectorized
        nb = min(block, n_boot - b0)
        w = np.zeros((nb, len(s)))
        for j in range(nb):  # one random stream per replicate: results do not depend on blocks
            rng = np.random.default_rng([int(seed), _BOOT_STREAM, b0 + j])
            w[j, idx_t] = rng.multinomial(len(idx_t), p_t)
            w[j, idx_c] = rng.multinomial(len(idx_c), p_c)
        area = _weighted_qini_area(y_arr, t, *rankings[0], w)
        best = _weighted_qini_area(y_arr, t, *rankings[1], w)
        out[b0:b0 + nb] = np.where(best > 0, area / np.where(best > 0, best, 1.0), np.nan)
    return out
