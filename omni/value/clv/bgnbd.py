"""BG/NBD (Fader, Hardie & Lee 2005): purchases at a personal rate, dropout after a purchase.

Predictions are evaluated in log space and with Euler's transformation of the hypergeometric
term, so heavy buyers with hundreds of purchases stay finite; the fit and the log-likelihood are
lifetimes' ``BetaGeoFitter``. ``prm`` is ``(r, alpha, a, b)`` with time in the summary's units.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy import special

from omni.value.clv._base import FitFailed, captured, check_params, lifetimes_module

#: Array arguments: one value per (unique) customer row.
Arr = np.ndarray

__all__ = ["expected", "fit", "log_odds_dead", "loglik_total", "p_alive", "prob_any"]


def log_odds_dead(prm: Sequence[float], x: Arr, tx: Arr, T: Arr) -> np.ndarray:
    """log of P(dropped out) / P(alive) after ``x`` repeat purchases, the last at ``tx``, age ``T``."""
    r, alpha, a, b = prm
    return (
        (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        + np.log(a)
        - np.log(b + np.maximum(x, 1) - 1)
    )


def p_alive(prm: Sequence[float], x: Arr, tx: Arr, T: Arr) -> np.ndarray:
    """P(alive at T); 1 for customers without a repeat purchase (they cannot have dropped out)."""
    return np.where(x == 0, 1.0, special.expit(-log_odds_dead(prm, x, tx, T)))


def expected(prm: Sequence[float], t: float | Arr, x: Arr, tx: Arr, T: Arr, pa: Arr | None = None) -> np.ndarray:
    """E[X(T, T+t] | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10), overflow-free.

    Euler's transformation turns lifetimes' 2F1(r+x, b+x; a+b+x-1; z) (which overflows for
    heavy buyers) into (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), whose first two parameters do
    not grow with x.
    """
    r, alpha, a, b = prm
    if abs(a - 1.0) < 1e-6:  # removable singularity of the closed form
        a = 1.0 + 1e-6
    z = t / (alpha + T + t)
    g = np.exp((a - 1.0) * np.log1p(-z)) * special.hyp2f1(
        a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z
    )
    pa = p_alive(prm, x, tx, T) if pa is None else pa
    e = pa * (a + b + x - 1.0) / (a - 1.0) * (1.0 - g)
    return np.maximum(e, 0.0)


def prob_any(prm: Sequence[float], t: float | Arr, x: Arr, tx: Arr, T: Arr, pa: Arr | None = None) -> np.ndarray:
    """P(X(T, T+t] >= 1 | x, t_x, T) = P(alive) * (1 - ((alpha+T)/(alpha+T+t))^(r+x))."""
    r, alpha, _, _ = prm
    pa = p_alive(prm, x, tx, T) if pa is None else pa
    return pa * -np.expm1(-(r + x) * np.log1p(t / (alpha + T)))



def loglik_total(prm: Sequence[float], x: Arr, tx: Arr, T: Arr, w: Arr) -> float:
    """Total log-likelihood of the (weighted) unique rows, lifetimes' formula, no penalizer."""
    lt = lifetimes_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nll = lt.BetaGeoFitter._negative_log_likelihood(
            np.log(np.asarray(prm, dtype="float64")), x, tx, T, w, 0.0
        )
    return float(-nll * w.sum())


def fit(x: Arr, tx: Arr, T: Arr, w: Arr, penalizer: float, sink: list[str]) -> dict[str, float]:
    """lifetimes' BetaGeoFitter on unique rows with weights ``w``; warnings and output go to ``sink``.

    Raises
    ------
    FitFailed
        When the optimiser fails or the parameters are unusable.
    """
    lt = lifetimes_module()
    m = lt.BetaGeoFitter(penalizer_coef=penalizer)
    try:
        with captured(sink, "BG/NBD fit"):
            m.fit(x, tx, T, weights=w)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
        raise FitFailed(f"{type(exc).__name__}: {str(exc).strip()}") from exc
    prm = {k: float(v) for k, v in m.params_.items()}
    check_params("bgnbd", prm, sink)
    return prm

