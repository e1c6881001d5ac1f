"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987): purchases at a personal rate, exponential lifetime.

Formulas from Fader & Hardie's note 009; the A_0 term falls back from the hypergeometric form to
Gauss-Legendre quadrature where lifetimes' version over/underflows (heavy buyers). The fit is a
deterministic L-BFGS-B on log parameters (lifetimes' ``ParetoNBDFitter`` starts from random
points). ``prm`` is ``(r, alpha, s, beta)`` with time in the summary's units.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special

from omni.value.clv._base import FitFailed, captured, check_params, log_power_integral

#: Array arguments: one value per (unique) customer row.
Arr = np.ndarray

__all__ = ["expected", "fit", "log_A0", "log_odds_dead", "loglik", "loglik_total", "p_alive", "prob_any"]


def _log_term(prm: Sequence[float], x: Arr, y: Arr) -> np.ndarray:
    """log of 2F1(r+s+x, t; r+s+x+1; |alpha-beta|/(max+y)) / (max+y)^(r+s+x).

    A_0 of Fader & Hardie's Pareto/NBD note (eq. 19-20; lifetimes' ``_log_A_0``) is
    term(x, t_x) - term(x, T); t = r+x if alpha < beta else s+1.
    """
    r, alpha, s, beta = prm
    lo, hi = min(alpha, beta), max(alpha, beta)
    rsf = r + s + x
    t = r + x if alpha < beta else s + 1.0
    return np.log(special.hyp2f1(rsf, t, rsf + 1.0, (hi - lo) / (hi + y))) - rsf * np.log(hi + y)


def _pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique (a, b) pairs and the inverse index (the hypergeometric terms only need pairs)."""
    g = pd.DataFrame({"a": a, "b": b}).groupby(["a", "b"], sort=True)
    u = g.size().reset_index()
    return u["a"].to_numpy(), u["b"].to_numpy(), g.ngroup().to_numpy()


def log_A0(prm: Sequence[float], x: Arr, tx: Arr, T: Arr, pairs: tuple | None = None) -> np.ndarray:
    """log A_0: exact hypergeometric form where finite, quadrature where it over/underflows.

    A_0 = (r+s+x) * int_{t_x}^{T} (alpha+y)^-(r+x) (beta+y)^-(s+1) dy; it is 0 (log -inf) when
    t_x = T. ``pairs`` = (_pairs(x, t_x), _pairs(x, T)) precomputed speeds up repeated calls.
    """
    r, alpha, s, beta = prm
    x, tx, T = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (x, tx, T)))
    with np.errstate(all="ignore"):
        if pairs is None:
            lt1, lt2 = _log_term(prm, x, tx), _log_term(prm, x, T)
        else:
            (x1, y1, i1), (x2, y2, i2) = pairs
            lt1, lt2 = _log_term(prm, x1, y1)[i1], _log_term(prm, x2, y2)[i2]
        out = lt1 + np.log1p(-np.exp(lt2 - lt1))
    zero = tx >= T
    bad = ~np.isfinite(out) & ~zero
    if bad.any():
        k = r + x[bad]
        log_i = (
            -k * np.log(alpha + tx[bad])
            - (s + 1.0) * np.log(beta + tx[bad])
            + log_power_integral(alpha + tx[bad], beta + tx[bad], k, s + 1.0, T[bad] - tx[bad])
        )
        out[bad] = np.log(r + s + x[bad]) + log_i
    out[zero] = -np.inf
    return out


def log_odds_dead(prm: Sequence[float], x: Arr, tx: Arr, T: Arr) -> np.ndarray:
    """log of P(dropped out) / P(alive) after ``x`` repeat purchases, the last at ``tx``, age ``T``."""
    r, alpha, s, beta = prm
    return (
        np.log(s)
        - np.log(r + s + x)
        + (r + x) * np.log(alpha + T)
        + s * np.log(beta + T)
        + log_A0(prm, x, tx, T)
    )


def loglik(prm: Sequence[float], x: Arr, tx: Arr, T: Arr, pairs: tuple | None = None) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood (Fader & Hardie note 009, eq. 18)."""
    r, alpha, s, beta = prm
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    dead = np.log(s) - np.log(r + s + x) + log_A0(prm, x, tx, T, pairs)
    return a1 + np.logaddexp(alive, dead)


def p_alive(prm: Sequence[float], x: Arr, tx: Arr, T: Arr) -> np.ndarray:
    """P(alive at T) (note 009, eq. 16)."""
    return special.expit(-log_odds_dead(prm, x, tx, T))


def expected(prm: Sequence[float], t: float | Arr, x: Arr, tx: Arr, T: Arr, pa: Arr | None = None) -> np.ndarray:
    """E[X(T, T+t] | x, t_x, T] (note 009, eq. 41) = P(alive) (r+x)/(alpha+T) H(t)."""
    r, alpha, s, beta = prm
    bt = beta + T
    if abs(s - 1.0) < 1e-8:
        h = bt * np.log1p(t / bt)
    else:
        h = bt * -np.expm1(-(s - 1.0) * np.log1p(t / bt)) / (s - 1.0)
    pa = p_alive(prm, x, tx, T) if pa is None else pa
    return pa * (r + x) / (alpha + T) * h


def prob_any(prm: Sequence[float], t: float | Arr, x: Arr, tx: Arr, T: Arr, pa: Arr | None = None) -> np.ndarray:
    """P(X(T, T+t] >= 1 | x, t_x, T) for Pareto/NBD.

    Given alive at T, lambda ~ Gamma(r+x, alpha+T) and mu ~ Gamma(s, beta+T) independently, and
    the first purchase comes before death and before t with probability
    E[lambda/(lambda+mu) (1 - exp(-(lambda+mu) t))]
      = (r+x)/(alpha+T) int_0^t (1+u/(alpha+T))^-(r+x+1) (1+u/(beta+T))^-s du.
    """
    r, alpha, s, beta = prm
    x, tx, T = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (x, tx, T)))
    k = r + x
    tt = np.full_like(T, float(t))
    q = k / (alpha + T) * np.exp(log_power_integral(alpha + T, beta + T, k + 1.0, s, tt))
    pa = p_alive(prm, x, tx, T) if pa is None else pa
    return pa * np.clip(q, 0.0, 1.0)



def loglik_total(prm: Sequence[float], x: Arr, tx: Arr, T: Arr, w: Arr) -> float:
    """Total log-likelihood of the (weighted) unique rows, no penalizer."""
    return float((w * loglik(prm, x, tx, T)).sum())


def fit(x: Arr, tx: Arr, T: Arr, w: Arr, penalizer: float, sink: list[str]) -> dict[str, float]:
    """Pareto/NBD by L-BFGS-B on log parameters with time scaled to max(T) = 1.

    lifetimes' ParetoNBDFitter starts Nelder-Mead from random points (non-deterministic), never
    checks convergence and its likelihood overflows for heavy buyers; this uses its formulas with
    the quadrature fallback of :func:`log_A0` and a deterministic start.
    """
    scale = 1.0 / float(np.max(T))
    txs, Ts = tx * scale, T * scale
    wsum = float(w.sum())
    pairs = (_pairs(x, txs), _pairs(x, Ts))

    def nll(logp: np.ndarray) -> float:
        prm = np.exp(logp)
        with np.errstate(all="ignore"):
            ll = loglik(prm, x, txs, Ts, pairs)
        val = -float(np.dot(w, ll)) / wsum + penalizer * float(np.sum(prm**2))
        return val if np.isfinite(val) else 1e10

    best = None
    with captured(sink, "Pareto/NBD fit"):
        for start in (np.zeros(4), np.log([0.5, 0.5, 0.5, 0.5])):
            res = optimize.minimize(
                nll,
                start,
                method="L-BFGS-B",
                bounds=[(-14.0, 14.0)] * 4,
                options={"maxiter": 500, "ftol": 1e-10, "gtol": 1e-6},
            )
            if best is None or res.fun < best.fun:
                best = res
            if res.success:
                break
    if best is None or best.fun >= 1e10:
        raise FitFailed("optimiser found no finite likelihood")
    if not best.success:
        grad = float(np.max(np.abs(getattr(best, "jac", np.inf))))
        if not grad < 1e-4:  # a line-search stop right at the optimum is fine; anything else not
            raise FitFailed(f"optimiser did not converge: {best.message}")
        sink.append(f"Pareto/NBD fit: optimiser stopped ({best.message}) at |gradient| {grad:.1e}")
    r, alpha, s, beta = np.exp(best.x)
    prm = {"r": float(r), "alpha": float(alpha / scale), "s": float(s), "beta": float(beta / scale)}
    check_params("paretonbd", prm, sink)
    return prm
