"""BG/NBD (Fader, Hardie & Lee 2005): purchases at a personal rate, dropout after a purchase.

Predictions are evaluated in log space and with Euler's transformation of the hypergeometric
term, so heavy buyers with hundreds of purchases stay finite. The fit minimises lifetimes'
``BetaGeoFitter`` objective with an analytic gradient (:class:`_Rows`, :func:`fit`), about ten
times faster than lifetimes with the same parameters; lifetimes stays the reference in the tests.
``prm`` is ``(r, alpha, a, b)`` with time in the summary's units.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import optimize, special

from omni.value.clv._base import FitFailed, captured, check_params

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


def _dot(u: np.ndarray, v: np.ndarray) -> float:
    """sum(u * v) without BLAS: OpenBLAS's threaded ddot stalls on a busy machine (10x slower fits)."""
    return float(np.einsum("i,i->", u, v))


class _Rows:
    """The unique rows regrouped for the BG/NBD likelihood, built once per fit.

    The likelihood of a row (FHL 2005, section 7; lifetimes' ``_negative_log_likelihood``) is
    A1 + A2 + A3 + [x > 0] softplus(d), with A1 + A2 depending on x only, A3 = -(r+x) log(alpha+T)
    and d = log_odds_dead. So the gamma-function terms are evaluated once per distinct x, the
    A3 sum once per distinct T, and only d (logs gathered from the distinct T and t_x) per row
    with x > 0.
    """

    def __init__(self, x: Arr, tx: Arr, T: Arr, w: Arr) -> None:
        x = np.asarray(x, dtype="float64")
        tx = np.asarray(tx, dtype="float64")
        T = np.asarray(T, dtype="float64")
        w = np.asarray(w, dtype="float64")
        self.wsum = float(w.sum())
        self.ux, ix = np.unique(x, return_inverse=True)
        self.w_x = np.bincount(ix, weights=w, minlength=len(self.ux))
        self.uT, iT = np.unique(T, return_inverse=True)
        self.w_T = np.bincount(iT, weights=w, minlength=len(self.uT))
        self.wx_T = np.bincount(iT, weights=w * x, minlength=len(self.uT))
        pos = x > 0
        self.utx, itx = np.unique(tx[pos], return_inverse=True)
        self.ix, self.iT, self.itx = ix[pos], iT[pos], itx
        self.x, self.w = x[pos], w[pos]
        self.xm1 = np.maximum(self.ux, 1.0) - 1.0  # b + max(x, 1) - 1 in the dropout term

    def loglik(self, prm: Sequence[float], grad: bool = False) -> tuple[float, np.ndarray | None]:
        """Sum of w * log-likelihood and, with ``grad``, its gradient in (log r, log alpha, log a, log b).

        With pi = [x > 0] expit(d) (the posterior probability of having dropped out) and
        psi = digamma, the partial derivatives of a row's log-likelihood are

        * r:     psi(r+x) - psi(r) + log(alpha) - log(alpha+T) + pi (log(alpha+T) - log(alpha+t_x))
        * alpha: r/alpha - (r+x)/(alpha+T) + pi (r+x) (1/(alpha+T) - 1/(alpha+t_x))
        * a:     psi(a+b) - psi(a+b+x) + pi / a
        * b:     psi(a+b) - psi(a+b+x) + psi(b+x) - psi(b) - pi / (b+x-1)

        and the gradient in log parameters is each multiplied by its parameter.
        """
        r, alpha, a, b = (float(v) for v in prm)
        ux, gl = self.ux, special.gammaln
        log_at, log_atx = np.log(alpha + self.uT), np.log(alpha + self.utx)
        k_T = r * self.w_T + self.wx_T  # sum over the rows at each T of w (r + x)
        log_bx = np.log(b + self.xm1)
        # per row with x > 0: d = log odds of having dropped out (see log_odds_dead)
        gap = log_at[self.iT]
        gap -= log_atx[self.itx]  # log(alpha + T) - log(alpha + t_x)
        rx = self.x + r
        d = rx * gap
        d += np.log(a)
        d -= log_bx[self.ix]
        e = np.abs(d)
        np.negative(e, out=e)
        np.exp(e, out=e)  # exp(-|d|): softplus(d) = max(d, 0) + log1p(e), no overflow
        sp = np.log1p(e)
        sp += np.maximum(d, 0.0)
        total = (
            _dot(self.w_x, gl(r + ux) - gl(r) + gl(a + b) + gl(b + ux) - gl(b) - gl(a + b + ux))
            + self.wsum * r * np.log(alpha)
            - _dot(k_T, log_at)
            + _dot(self.w, sp)
        )
        if not grad:
            return float(total), None
        wpi = np.where(d >= 0.0, 1.0, e)
        e += 1.0
        wpi /= e
        wpi *= self.w  # w * P(dropped out | row) = w * expit(d)
        wpi_rx = wpi * rx
        dg = special.digamma
        d_ab_x = dg(a + b) - dg(a + b + ux)
        g_r = (
            _dot(self.w_x, dg(r + ux) - dg(r))
            + self.wsum * np.log(alpha)
            - _dot(self.w_T, log_at)
            + _dot(wpi, gap)
        )
        g_alpha = (
            self.wsum * r / alpha
            - _dot(k_T, 1.0 / (alpha + self.uT))
            + _dot(np.bincount(self.iT, weights=wpi_rx, minlength=len(self.uT)), 1.0 / (alpha + self.uT))
            - _dot(np.bincount(self.itx, weights=wpi_rx, minlength=len(self.utx)), 1.0 / (alpha + self.utx))
        )
        wpi_x = np.bincount(self.ix, weights=wpi, minlength=len(ux))  # sum of w * P(dead) per x
        g_a = _dot(self.w_x, d_ab_x) + wpi_x.sum() / a
        g_b = _dot(self.w_x, d_ab_x + dg(b + ux) - dg(b)) - _dot(wpi_x, 1.0 / (b + self.xm1))
        return float(total), np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])

    def objective(self, log_prm: np.ndarray, penalizer: float) -> tuple[float, np.ndarray]:
        """lifetimes' objective: -mean weighted log-likelihood + penalizer * sum(params**2), and its gradient."""
        prm = np.exp(log_prm)
        with np.errstate(all="ignore"):
            ll, g = self.loglik(prm, grad=True)
        val = -ll / self.wsum + penalizer * float(np.sum(prm**2))
        jac = -g / self.wsum + 2.0 * penalizer * prm**2
        if not (np.isfinite(val) and np.all(np.isfinite(jac))):
            return np.inf, np.zeros(4)
        return val, jac


def loglik_total(prm: Sequence[float], x: Arr, tx: Arr, T: Arr, w: Arr) -> float:
    """Total log-likelihood of the (weighted) unique rows, no penalizer (lifetimes' formula)."""
    with np.errstate(all="ignore"):
        return _Rows(x, tx, T, w).loglik(prm)[0]


#: Start of the optimiser in log-parameter space and its gradient tolerance: lifetimes'
#: ``BaseFitter._fit`` defaults (``0.1 * ones``, ``tol=1e-7``), so both follow the same BFGS path.
_START = np.full(4, 0.1)
_GTOL = 1e-7
#: An unpenalized fit with a parameter outside e^-13.8..e^13.8 (1e-6..1e6, time scaled to
#: max(T) = 1) has run off towards 0 or infinity: the likelihood has no finite maximum.
_LOG_LIMIT = float(np.log(1e6))


def fit(x: Arr, tx: Arr, T: Arr, w: Arr, penalizer: float, sink: list[str]) -> dict[str, float]:
    """Weighted maximum likelihood of BG/NBD on unique rows with counts ``w``.

    Minimises lifetimes' ``BetaGeoFitter`` objective (mean negative log-likelihood over the
    weighted rows + ``penalizer`` * sum(params**2), time scaled so that max(T) = 1) by BFGS from
    lifetimes' start with the same tolerance, but with the analytic gradient in log parameters
    (:class:`_Rows`) instead of autograd and without the Hessian lifetimes computes for standard
    errors: it reaches lifetimes' parameters (to about 1e-12 on CDNOW) several times faster.
    Like lifetimes, a BFGS stop without convergence is a failure; so is an unpenalized fit whose
    parameters run off beyond 1e-6..1e6 (no finite maximum: nobody drops out, or everybody buys
    at one rate), where lifetimes' BFGS mostly stops with "precision loss" but sometimes ends
    there. The caller retries with a penalizer. Warnings go to ``sink``.

    Raises
    ------
    FitFailed
        When the optimiser does not converge, an unpenalized fit has no finite maximum, or the
        parameters are unusable.
    """
    scale = 1.0 / float(np.max(T))
    tx = np.asarray(tx, dtype="float64") * scale
    rows = _Rows(x, tx, np.asarray(T, dtype="float64") * scale, w)
    with captured(sink, "BG/NBD fit"):
        res = optimize.minimize(
            rows.objective, _START, args=(float(penalizer),), jac=True, method="BFGS",
            options={"gtol": _GTOL},
        )
    if not res.success:
        grad = float(np.max(np.abs(res.jac)))
        raise FitFailed(f"optimiser did not converge: {res.message} (|gradient| {grad:.1e})")
    if not np.isfinite(res.fun):
        raise FitFailed("optimiser found no finite likelihood")
    off = np.abs(res.x) > _LOG_LIMIT
    if penalizer == 0 and off.any():
        # nobody drops out (a -> 0) or all buy at one rate (r, alpha -> inf): BFGS stops
        # wherever the gradient fades (lifetimes usually reports "precision loss"); fail either
        # way so that the caller retries with a penalizer, as it did with lifetimes
        shown = ", ".join(
            f"{n}={v:.3g}" for n, v, o in zip(("r", "alpha", "a", "b"), np.exp(res.x), off, strict=True) if o
        )
        raise FitFailed(f"no finite maximum likelihood: parameters run off ({shown}, time scaled to max(T) = 1)")
    r, alpha, a, b = np.exp(res.x)
    prm = {"r": float(r), "alpha": float(alpha / scale), "a": float(a), "b": float(b)}
    check_params("bgnbd", prm, sink)
    return prm
