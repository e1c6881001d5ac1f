"""Customer lifetime value: BG/NBD or Pareto/NBD for purchases, Gamma-Gamma for spend.

:class:`CLVModel` wraps the *lifetimes* fitters (pinned at 0.11.3) with the guards a monthly
unattended run needs:

* fits on the unique ``(frequency, recency, T)`` rows with their counts as weights, so a million
  customers fit in seconds (the likelihood only depends on those three numbers);
* chooses between BG/NBD and Pareto/NBD on a calibration/holdout split (``model="auto"``);
* captures optimiser output and warnings into ``warnings_`` and refits with a small penalizer when
  a fit fails to converge;
* evaluates predictions in log space (heavy buyers with hundreds of purchases stay finite; the
  Pareto/NBD hypergeometric terms of lifetimes overflow there, so they fall back to an accurate
  Gauss-Legendre quadrature);
* checks the Gamma-Gamma independence assumption (correlation of frequency and spend).

*lifetimes* is imported only in this module and its DeprecationWarnings are silenced locally.
Method notes, formulas and failure modes: ``docs/clv.md``.
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

__all__ = ["CLVModel", "cdnow_path", "simulate_summary", "value_tiers"]

_UNIT_DAYS = {"D": 1.0, "W": 7.0}
_PERIODS_PER_MONTH = {"D": 30.0, "W": 4.345}  # lifetimes' customer_lifetime_value constants
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(48)
_MODELS = ("bgnbd", "paretonbd")
_MODEL_LABEL = {"bgnbd": "BG/NBD", "paretonbd": "Pareto/NBD", "gammagamma": "Gamma-Gamma"}
_PARAM_NAMES = {"bgnbd": ("r", "alpha", "a", "b"), "paretonbd": ("r", "alpha", "s", "beta")}


# --------------------------------------------------------------------------------------------
# lifetimes, imported here only
# --------------------------------------------------------------------------------------------


def _lifetimes() -> Any:
    """Import lifetimes with its Deprecation/FutureWarnings (and global filter edits) contained."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        import lifetimes
    return lifetimes


@contextlib.contextmanager
def _captured(sink: list[str], context: str) -> Iterator[None]:
    """Run lifetimes code quietly: record its warnings and printed output into ``sink``."""
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as rec, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        try:
            yield
        finally:
            seen = set()
            for w in rec:
                if issubclass(w.category, DeprecationWarning | FutureWarning):
                    continue
                msg = f"{context}: {w.category.__name__}: {w.message}"
                if msg not in seen:
                    seen.add(msg)
                    sink.append(msg)
            printed = out.getvalue().strip()
            if printed:
                first = printed.splitlines()[0].strip()
                sink.append(f"{context}: optimiser output: {first}")


def cdnow_path(which: Literal["sample", "master"] = "sample") -> Path:
    """Path of a CDNOW transaction file shipped with lifetimes.

    Parameters
    ----------
    which : {"sample", "master"}
        ``"sample"``: CDNOW_sample.txt (2,357 customers, the 1/10 sample of the published
        analyses); ``"master"``: CDNOW_master.txt (23,570 customers).

    Returns
    -------
    Path
        Use with :func:`omni.rfm.read_cdnow`.
    """
    names = {"sample": "CDNOW_sample.txt", "master": "CDNOW_master.txt"}
    if which not in names:
        raise ValueError(f"which must be 'sample' or 'master', got {which!r}")
    return Path(_lifetimes().__file__).parent / "datasets" / names[which]


# --------------------------------------------------------------------------------------------
# model mathematics (vectorized, log space)
# --------------------------------------------------------------------------------------------


def _log_power_integral(
    A: np.ndarray, B: np.ndarray, p: np.ndarray, q: np.ndarray, D: np.ndarray
) -> np.ndarray:
    """log of  int_0^D (1 + u/A)^-p (1 + u/B)^-q du  by 48-point Gauss-Legendre.

    The substitution sigma = log(1 + c0 u), c0 = p/A + q/B (the initial decay rate) turns the
    sharply decaying integrand of heavy buyers into a smooth bump; relative error < 1e-7 over
    the parameter ranges tested (tests/test_clv.py compares with adaptive quadrature). Evaluated
    in chunks of 20,000 rows to bound memory.
    """
    A, B, p, q, D = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (A, B, p, q, D)))
    out = np.empty(A.shape, dtype="float64")
    flat = [v.reshape(-1) for v in (A, B, p, q, D)]
    res = out.reshape(-1)
    step = 20_000
    for i in range(0, res.size, step):  # chunks of rows, not a loop per record
        a, b, pp, qq, d = (v[i : i + step, None] for v in flat)
        c0 = pp / a + qq / b
        span = np.log1p(c0 * d)
        sig = span * ((_GL_NODES + 1.0) / 2.0)
        u = np.expm1(sig) / c0
        log_f = sig - pp * np.log1p(u / a) - qq * np.log1p(u / b)
        with np.errstate(divide="ignore"):
            res[i : i + step] = (
                special.logsumexp(log_f, b=_GL_WEIGHTS, axis=-1)
                + np.log(span[:, 0] / 2.0)
                - np.log(c0[:, 0])
            )
    return out


def _bgnbd_log_odds_dead(prm: Sequence[float], x, tx, T) -> np.ndarray:
    r, alpha, a, b = prm
    return (
        (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        + np.log(a)
        - np.log(b + np.maximum(x, 1) - 1)
    )


def _bgnbd_p_alive(prm, x, tx, T) -> np.ndarray:
    return np.where(x == 0, 1.0, special.expit(-_bgnbd_log_odds_dead(prm, x, tx, T)))


def _bgnbd_expected(prm, t, x, tx, T, pa=None) -> np.ndarray:
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
    pa = _bgnbd_p_alive(prm, x, tx, T) if pa is None else pa
    e = pa * (a + b + x - 1.0) / (a - 1.0) * (1.0 - g)
    return np.maximum(e, 0.0)


def _bgnbd_prob_any(prm, t, x, tx, T, pa=None) -> np.ndarray:
    """P(X(T, T+t] >= 1 | x, t_x, T) = P(alive) * (1 - ((alpha+T)/(alpha+T+t))^(r+x))."""
    r, alpha, _, _ = prm
    pa = _bgnbd_p_alive(prm, x, tx, T) if pa is None else pa
    return pa * -np.expm1(-(r + x) * np.log1p(t / (alpha + T)))


def _pnbd_log_term(prm, x, y) -> np.ndarray:
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


def _pnbd_log_A0(prm, x, tx, T, pairs=None) -> np.ndarray:
    """log A_0: exact hypergeometric form where finite, quadrature where it over/underflows.

    A_0 = (r+s+x) * int_{t_x}^{T} (alpha+y)^-(r+x) (beta+y)^-(s+1) dy; it is 0 (log -inf) when
    t_x = T. ``pairs`` = (_pairs(x, t_x), _pairs(x, T)) precomputed speeds up repeated calls.
    """
    r, alpha, s, beta = prm
    x, tx, T = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (x, tx, T)))
    with np.errstate(all="ignore"):
        if pairs is None:
            lt1, lt2 = _pnbd_log_term(prm, x, tx), _pnbd_log_term(prm, x, T)
        else:
            (x1, y1, i1), (x2, y2, i2) = pairs
            lt1, lt2 = _pnbd_log_term(prm, x1, y1)[i1], _pnbd_log_term(prm, x2, y2)[i2]
        out = lt1 + np.log1p(-np.exp(lt2 - lt1))
    zero = tx >= T
    bad = ~np.isfinite(out) & ~zero
    if bad.any():
        k = r + x[bad]
        log_i = (
            -k * np.log(alpha + tx[bad])
            - (s + 1.0) * np.log(beta + tx[bad])
            + _log_power_integral(alpha + tx[bad], beta + tx[bad], k, s + 1.0, T[bad] - tx[bad])
        )
        out[bad] = np.log(r + s + x[bad]) + log_i
    out[zero] = -np.inf
    return out


def _pnbd_log_odds_dead(prm, x, tx, T) -> np.ndarray:
    r, alpha, s, beta = prm
    return (
        np.log(s)
        - np.log(r + s + x)
        + (r + x) * np.log(alpha + T)
        + s * np.log(beta + T)
        + _pnbd_log_A0(prm, x, tx, T)
    )


def _pnbd_loglik(prm, x, tx, T, pairs=None) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood (Fader & Hardie note 009, eq. 18)."""
    r, alpha, s, beta = prm
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    dead = np.log(s) - np.log(r + s + x) + _pnbd_log_A0(prm, x, tx, T, pairs)
    return a1 + np.logaddexp(alive, dead)


def _pnbd_p_alive(prm, x, tx, T) -> np.ndarray:
    return special.expit(-_pnbd_log_odds_dead(prm, x, tx, T))


def _pnbd_expected(prm, t, x, tx, T, pa=None) -> np.ndarray:
    """E[X(T, T+t] | x, t_x, T] (note 009, eq. 41) = P(alive) (r+x)/(alpha+T) H(t)."""
    r, alpha, s, beta = prm
    bt = beta + T
    if abs(s - 1.0) < 1e-8:
        h = bt * np.log1p(t / bt)
    else:
        h = bt * -np.expm1(-(s - 1.0) * np.log1p(t / bt)) / (s - 1.0)
    pa = _pnbd_p_alive(prm, x, tx, T) if pa is None else pa
    return pa * (r + x) / (alpha + T) * h


def _pnbd_prob_any(prm, t, x, tx, T, pa=None) -> np.ndarray:
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
    q = k / (alpha + T) * np.exp(_log_power_integral(alpha + T, beta + T, k + 1.0, s, tt))
    pa = _pnbd_p_alive(prm, x, tx, T) if pa is None else pa
    return pa * np.clip(q, 0.0, 1.0)


_P_ALIVE = {"bgnbd": _bgnbd_p_alive, "paretonbd": _pnbd_p_alive}
_EXPECTED = {"bgnbd": _bgnbd_expected, "paretonbd": _pnbd_expected}
_PROB_ANY = {"bgnbd": _bgnbd_prob_any, "paretonbd": _pnbd_prob_any}


def _loglik_total(model: str, prm, x, tx, T, w) -> float:
    if model == "bgnbd":
        lt = _lifetimes()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nll = lt.BetaGeoFitter._negative_log_likelihood(
                np.log(np.asarray(prm, dtype="float64")), x, tx, T, w, 0.0
            )
        return float(-nll * w.sum())
    return float((w * _pnbd_loglik(prm, x, tx, T)).sum())


# --------------------------------------------------------------------------------------------
# fitting
# --------------------------------------------------------------------------------------------


class _FitFailed(Exception):
    pass


def _check_params(model: str, prm: dict[str, float], sink: list[str]) -> None:
    """Raise on unusable parameters; warn on boundary (degenerate) solutions."""
    vals = np.array(list(prm.values()), dtype="float64")
    if not np.all(np.isfinite(vals)) or np.any(vals <= 0):
        raise _FitFailed(f"non-finite or non-positive parameters {prm}")
    if np.any(vals > 1e6) or np.any(vals < 1e-6):
        shown = ", ".join(f"{k}={v:.3g}" for k, v in prm.items())
        sink.append(
            f"{_MODEL_LABEL[model]}: parameters at a boundary ({shown}): the data carry little "
            "information on dropout/heterogeneity; predictions are usable but the parameters "
            "are not interpretable"
        )


def _fit_bgnbd(x, tx, T, w, penalizer: float, sink: list[str]) -> dict[str, float]:
    lt = _lifetimes()
    m = lt.BetaGeoFitter(penalizer_coef=penalizer)
    try:
        with _captured(sink, "BG/NBD fit"):
            m.fit(x, tx, T, weights=w)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
        raise _FitFailed(f"{type(exc).__name__}: {str(exc).strip()}") from exc
    prm = {k: float(v) for k, v in m.params_.items()}
    _check_params("bgnbd", prm, sink)
    return prm


def _fit_pnbd(x, tx, T, w, penalizer: float, sink: list[str]) -> dict[str, float]:
    """Pareto/NBD by L-BFGS-B on log parameters with time scaled to max(T) = 1.

    lifetimes' ParetoNBDFitter starts Nelder-Mead from random points (non-deterministic), never
    checks convergence and its likelihood overflows for heavy buyers; this uses its formulas with
    the quadrature fallback of :func:`_pnbd_log_A0` and a deterministic start.
    """
    scale = 1.0 / float(np.max(T))
    txs, Ts = tx * scale, T * scale
    wsum = float(w.sum())
    pairs = (_pairs(x, txs), _pairs(x, Ts))

    def nll(logp: np.ndarray) -> float:
        prm = np.exp(logp)
        with np.errstate(all="ignore"):
            ll = _pnbd_loglik(prm, x, txs, Ts, pairs)
        val = -float(np.dot(w, ll)) / wsum + penalizer * float(np.sum(prm**2))
        return val if np.isfinite(val) else 1e10

    best = None
    with _captured(sink, "Pareto/NBD fit"):
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
        raise _FitFailed("optimiser found no finite likelihood")
    if not best.success:
        grad = float(np.max(np.abs(getattr(best, "jac", np.inf))))
        if not grad < 1e-4:  # a line-search stop right at the optimum is fine; anything else not
            raise _FitFailed(f"optimiser did not converge: {best.message}")
        sink.append(f"Pareto/NBD fit: optimiser stopped ({best.message}) at |gradient| {grad:.1e}")
    r, alpha, s, beta = np.exp(best.x)
    prm = {"r": float(r), "alpha": float(alpha / scale), "s": float(s), "beta": float(beta / scale)}
    _check_params("paretonbd", prm, sink)
    return prm


_FITTERS: dict[str, Callable[..., dict[str, float]]] = {"bgnbd": _fit_bgnbd, "paretonbd": _fit_pnbd}


def _fit_gg(freq, mv, w, penalizer: float, sink: list[str]) -> dict[str, float]:
    lt = _lifetimes()
    try:
        with _captured(sink, "Gamma-Gamma fit"):
            m = lt.GammaGammaFitter(penalizer_coef=penalizer).fit(freq, mv, weights=w)
            prm = {k: float(v) for k, v in m.params_.items()}
            if prm["q"] <= 1.0:
                sink.append(
                    f"Gamma-Gamma: q={prm['q']:.3f} <= 1 makes the population mean spend "
                    "infinite; refit with q constrained to >= 1"
                )
                m = lt.GammaGammaFitter(penalizer_coef=penalizer).fit(
                    freq, mv, weights=w, q_constraint=True
                )
                prm = {k: float(v) for k, v in m.params_.items()}
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise _FitFailed(f"{type(exc).__name__}: {str(exc).strip()}") from exc
    vals = np.array(list(prm.values()))
    if not np.all(np.isfinite(vals)) or np.any(vals <= 0):
        raise _FitFailed(f"non-finite Gamma-Gamma parameters {prm}")
    return prm


# --------------------------------------------------------------------------------------------
# input checks and unique rows
# --------------------------------------------------------------------------------------------


def _check_summary(summary: pd.DataFrame, need: Sequence[str] = ()) -> None:
    if not isinstance(summary, pd.DataFrame):
        raise ValueError(f"summary must be a DataFrame, got {type(summary).__name__}")
    cols = ["frequency", "recency", "T", *need]
    missing = [c for c in cols if c not in summary.columns]
    if missing:
        raise ValueError(
            f"summary is missing column(s) {missing}; build it with omni.rfm.rfm_summary"
        )
    if summary.empty:
        raise ValueError("summary has no customers")

    def bad(mask: np.ndarray, what: str) -> None:
        if mask.any():
            row = summary.index[np.flatnonzero(mask)[0]]
            raise ValueError(f"summary: {what} at row {row!r}")

    arrs = {}
    for c in cols:
        v = pd.to_numeric(summary[c], errors="coerce").to_numpy(dtype="float64")
        bad(~np.isfinite(v), f"column {c!r} is missing, not numeric or infinite")
        arrs[c] = v
    x, tx, T = arrs["frequency"], arrs["recency"], arrs["T"]
    bad((x < 0) | (x != np.floor(x)), "column 'frequency' must be a non-negative integer")
    bad(tx < 0, "column 'recency' is negative")
    bad(T < 0, "column 'T' is negative")
    bad(tx > T * (1 + 1e-12) + 1e-12, "recency is larger than T")
    bad((x == 0) & (tx != 0), "recency must be 0 when frequency is 0")
    if "monetary_value" in need:
        bad(arrs["monetary_value"] < 0, "column 'monetary_value' is negative")


def _unique_rows(
    summary: pd.DataFrame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unique (frequency, recency, T) rows: x, t_x, T, counts, inverse index per customer."""
    keys = pd.DataFrame(
        {
            "x": summary["frequency"].to_numpy(dtype="float64"),
            "t": summary["recency"].to_numpy(dtype="float64"),
            "T": summary["T"].to_numpy(dtype="float64"),
        }
    )
    g = keys.groupby(["x", "t", "T"], sort=True)
    inv = g.ngroup().to_numpy()
    u = g.size().reset_index(name="n")
    return (
        u["x"].to_numpy(),
        u["t"].to_numpy(),
        u["T"].to_numpy(),
        u["n"].to_numpy(dtype="float64"),
        inv,
    )


# --------------------------------------------------------------------------------------------
# value tiers
# --------------------------------------------------------------------------------------------


def value_tiers(
    clv: pd.Series | np.ndarray,
    shares: Sequence[float] = (0.10, 0.20, 0.30),
    labels: Sequence[str] = ("A", "B", "C", "D"),
) -> pd.Series:
    """Tier customers by CLV rank: top 10% "A", next 20% "B", next 30% "C", rest "D".

    Customers are ranked by descending CLV; ties are broken by row order (deterministic). The
    first ``round(shares[0] * n)`` customers form the first tier, up to
    ``round((shares[0] + shares[1]) * n)`` the second, and so on; the last label takes the rest.

    Parameters
    ----------
    clv : Series or array
        Customer lifetime values (finite).
    shares : sequence of float
        Share of customers in each tier but the last; positive, summing to less than 1.
    labels : sequence of str
        One more label than ``shares``, best tier first.

    Returns
    -------
    Series
        Ordered categorical (best tier first), same index as ``clv``.
    """
    s = pd.Series(clv) if not isinstance(clv, pd.Series) else clv
    if len(labels) != len(shares) + 1:
        raise ValueError(
            f"need len(labels) == len(shares) + 1, got {len(labels)} and {len(shares)}"
        )
    sh = np.asarray(shares, dtype="float64")
    if np.any(sh <= 0) or sh.sum() >= 1:
        raise ValueError(f"shares must be positive and sum to less than 1, got {list(shares)}")
    v = pd.to_numeric(s, errors="coerce")
    if v.isna().any() or not np.all(np.isfinite(v.to_numpy(dtype="float64"))):
        row = s.index[np.flatnonzero(~np.isfinite(v.to_numpy(dtype="float64")))[0]]
        raise ValueError(f"clv is missing or not finite at row {row!r}")
    n = len(v)
    position = v.rank(method="first", ascending=False).to_numpy() - 1.0  # 0 = highest CLV
    cutoffs = np.round(np.cumsum(sh) * n)
    code = np.searchsorted(cutoffs, position, side="right")
    cat = pd.Categorical.from_codes(code, categories=list(labels), ordered=True)
    return pd.Series(cat, index=s.index, name="value_tier")


# --------------------------------------------------------------------------------------------
# simulation with known parameters
# --------------------------------------------------------------------------------------------


def simulate_summary(
    n: int,
    model: Literal["bgnbd", "paretonbd"] = "bgnbd",
    params: dict[str, float] | None = None,
    T: float | np.ndarray = 52.0,
    holdout: float = 0.0,
    gg_params: dict[str, float] | None = None,
    time_grid: float | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate customer summaries from BG/NBD or Pareto/NBD (+ Gamma-Gamma) with known parameters.

    Vectorized (no per-customer loop): with N(T) ~ Poisson(lambda T) purchase opportunities, the
    BG/NBD customer survives K ~ Geometric(p) repeat purchases, so x = min(K, N(T)) and t_x is the
    x-th of N(T) uniform order statistics (T * Beta(x, N-x+1)); a Pareto/NBD customer lives
    tau ~ Exp(mu) and buys Poisson(lambda min(tau, T)) times, t_x being the maximum of x uniforms
    on [0, min(tau, T)]. Time starts at the first purchase.

    Parameters
    ----------
    n : int
        Number of customers.
    model : {"bgnbd", "paretonbd"}
    params : dict
        ``r, alpha, a, b`` (BG/NBD) or ``r, alpha, s, beta`` (Pareto/NBD). Defaults: the CDNOW
        estimates (r=0.243, alpha=4.414, a=0.793, b=2.426 / r=0.553, alpha=10.578, s=0.606,
        beta=11.669).
    T : float or array of length n
        Age of each customer at the end of calibration (time since the first purchase).
    holdout : float
        Length of a holdout period after T; adds ``frequency_holdout`` and ``duration_holdout``.
    gg_params : dict, optional
        ``p, q, v`` of Gamma-Gamma; adds ``monetary_value`` (mean of the repeat purchases, 0 when
        frequency is 0): z_ij ~ Gamma(p, rate nu_i), nu_i ~ Gamma(q, rate v).
    time_grid : float, optional
        Record recency on this grid (e.g. ``1/7`` for day-level data in weeks) the way dated
        transactions do: ``floor(t_x / grid + U) * grid`` with U uniform (the time of day of the
        first purchase). T should be on the grid too. Same-day purchases are not merged (a small
        approximation).
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    DataFrame
        ``frequency, recency, T`` (+ holdout and monetary columns) and the latent truth
        ``true_lambda``, ``true_p`` or ``true_mu``, ``true_alive`` (alive at T).
    """
    if model not in _MODELS:
        raise ValueError(f"model must be one of {_MODELS}, got {model!r}")
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    defaults = {
        "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
        "paretonbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    }
    prm = dict(defaults[model] if params is None else params)
    missing = [k for k in _PARAM_NAMES[model] if k not in prm]
    if missing:
        raise ValueError(f"params for {model} miss {missing}")
    rng = np.random.default_rng(seed)
    Tn = np.broadcast_to(np.asarray(T, dtype="float64"), (n,)).copy()
    if np.any(Tn < 0):
        raise ValueError("T must be non-negative")
    lam = rng.gamma(prm["r"], 1.0 / prm["alpha"], size=n)
    out = pd.DataFrame(index=pd.RangeIndex(n, name="customer"))
    if model == "bgnbd":
        p = rng.beta(prm["a"], prm["b"], size=n)
        k = rng.geometric(np.clip(p, 1e-12, 1.0))  # dies right after the k-th repeat purchase
        big_n = rng.poisson(lam * Tn)
        x = np.minimum(k, big_n)
        alive = k > big_n
        tx = np.where(x > 0, Tn * rng.beta(np.maximum(x, 1), big_n - x + 1), 0.0)
        if holdout > 0:
            more = rng.poisson(lam * holdout)
            out_h = np.where(alive, np.minimum(k - big_n, more), 0)
        out["true_p"] = p
    else:
        mu = rng.gamma(prm["s"], 1.0 / prm["beta"], size=n)
        tau = rng.exponential(1.0 / mu)
        active = np.minimum(tau, Tn)
        x = rng.poisson(lam * active)
        alive = tau > Tn
        tx = np.where(x > 0, active * rng.beta(np.maximum(x, 1), 1.0), 0.0)
        if holdout > 0:
            out_h = rng.poisson(lam * np.clip(np.minimum(tau, Tn + holdout) - Tn, 0.0, None))
        out["true_mu"] = mu
    if time_grid:
        # as day-level data would record it: the first purchase falls at a uniform time of its
        # day, so the recorded gap is floor(t_x / grid + U) grid (unbiased for t_x)
        u = rng.uniform(size=n)
        tx = np.where(x > 0, np.floor(tx / time_grid + u) * time_grid, 0.0)
        tx = np.minimum(tx, Tn)
    out.insert(0, "frequency", x.astype("int64"))
    out.insert(1, "recency", tx)
    out.insert(2, "T", Tn)
    if holdout > 0:
        out["frequency_holdout"] = out_h.astype("int64")
        out["duration_holdout"] = float(holdout)
    if gg_params is not None:
        nu = rng.gamma(gg_params["q"], 1.0 / gg_params["v"], size=n)
        xs = np.maximum(x, 1)
        m = rng.gamma(gg_params["p"] * xs, 1.0 / (xs * nu))
        out["monetary_value"] = np.where(x > 0, m, 0.0)
    out["true_lambda"] = lam
    out["true_alive"] = alive
    out.attrs["freq"] = None
    return out


# --------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------


class CLVModel:
    """BG/NBD or Pareto/NBD purchase model + Gamma-Gamma spend model, with guards.

    Parameters
    ----------
    model : {"auto", "bgnbd", "paretonbd"}
        ``"auto"`` fits both; with holdout columns in the summary (``frequency_holdout``,
        ``duration_holdout``) it keeps the one with the lower customer-level RMSE of predicted vs
        actual holdout purchases, otherwise the one with the higher log-likelihood (both have four
        parameters, so this equals an AIC/BIC comparison).
    penalizer : float
        L2 penalizer on the parameters (lifetimes' ``penalizer_coef``; applied to the parameters
        with time scaled so that max(T) = 1).
    discount_rate_annual : float
        Annual discount rate of the CLV; converted to a monthly rate (1 + d)^(1/12) - 1.
    freq : {"W", "D"}
        Time unit of ``recency``/``T`` in the summaries (must match ``rfm_summary(freq=...)``).
    gg_penalizer : float
        Penalizer of the Gamma-Gamma fit.
    retry_penalizer : float
        Penalizer of the single retry when a fit fails to converge or degenerates.
    corr_threshold : float
        |corr(frequency, monetary_value)| among repeat buyers above which the Gamma-Gamma
        independence assumption is flagged in ``warnings_``.

    Attributes
    ----------
    model_ : str
        The purchase model used for predictions (``"bgnbd"`` or ``"paretonbd"``).
    params_ : dict
        Its parameters (``r, alpha, a, b`` or ``r, alpha, s, beta``; alpha/beta in ``freq`` units).
    candidate_params_ : dict
        Parameters of every purchase model that was fitted.
    loglik_ : dict
        Log-likelihood of each fitted purchase model (penalizer excluded).
    model_choice_ : dict
        ``chosen``, ``criterion`` (``"user"``, ``"holdout_rmse"`` or ``"loglik"``) and per-model
        ``scores`` (holdout MAE, RMSE, total predicted/actual and % error where available).
    gg_params_ : dict or None
        Gamma-Gamma ``p, q, v`` (None when there were too few repeat buyers).
    gg_independence_ : dict
        ``corr`` and ``p_value`` (Pearson) of frequency vs monetary value among repeat buyers,
        ``n`` and ``flag`` (|corr| > corr_threshold).
    holdout_report_ : DataFrame or None
        Mean actual vs predicted holdout purchases by calibration frequency (0..6, 7+), one
        ``predicted_<model>`` column per fitted model and ``predicted`` for the chosen one.
    warnings_ : list of str
        Everything that went wrong or looks doubtful during the fit.
    n_customers_, n_unique_ : int
        Customers in the fit and unique (frequency, recency, T) rows actually fitted.
    fit_seconds_ : dict
        Wall time of each fitted model (``bgnbd``, ``paretonbd``, ``gammagamma``).
    """

    def __init__(
        self,
        model: Literal["auto", "bgnbd", "paretonbd"] = "auto",
        penalizer: float = 0.0,
        discount_rate_annual: float = 0.10,
        freq: Literal["W", "D"] = "W",
        gg_penalizer: float = 0.0,
        retry_penalizer: float = 1e-3,
        corr_threshold: float = 0.3,
    ) -> None:
        self.model = model
        self.penalizer = penalizer
        self.discount_rate_annual = discount_rate_annual
        self.freq = freq
        self.gg_penalizer = gg_penalizer
        self.retry_penalizer = retry_penalizer
        self.corr_threshold = corr_threshold

    # ---------------------------------------------------------------- construction helpers

    def _validate_settings(self) -> None:
        if self.model not in ("auto", *_MODELS):
            raise ValueError(f"model must be 'auto', 'bgnbd' or 'paretonbd', got {self.model!r}")
        if self.freq not in _UNIT_DAYS:
            raise ValueError(f"freq must be 'W' or 'D', got {self.freq!r}")
        if not self.penalizer >= 0 or not self.gg_penalizer >= 0 or not self.retry_penalizer > 0:
            raise ValueError("penalizers must be >= 0 (retry_penalizer > 0)")
        if not -1 < self.discount_rate_annual < 10:
            raise ValueError(f"discount_rate_annual={self.discount_rate_annual} is not a rate")

    def _check_freq(self, summary: pd.DataFrame) -> None:
        f = summary.attrs.get("freq")
        if f is not None and f != self.freq:
            raise ValueError(
                f"summary was built with freq={f!r} but the model uses freq={self.freq!r}"
            )

    @classmethod
    def from_params(
        cls,
        model: Literal["bgnbd", "paretonbd"],
        params: dict[str, float],
        gg_params: dict[str, float] | None = None,
        freq: Literal["W", "D"] = "W",
        discount_rate_annual: float = 0.10,
    ) -> CLVModel:
        """A model with given parameters (published values, a previous month's fit, tests)."""
        if model not in _MODELS:
            raise ValueError(f"model must be 'bgnbd' or 'paretonbd', got {model!r}")
        missing = [k for k in _PARAM_NAMES[model] if k not in params]
        if missing:
            raise ValueError(f"params for {model} miss {missing}")
        m = cls(model=model, freq=freq, discount_rate_annual=discount_rate_annual)
        m._validate_settings()
        m.model_ = model
        m.params_ = {k: float(params[k]) for k in _PARAM_NAMES[model]}
        m.candidate_params_ = {model: dict(m.params_)}
        m.loglik_ = {}
        m.model_choice_ = {"chosen": model, "criterion": "given", "scores": {}}
        m.gg_params_ = None if gg_params is None else {k: float(gg_params[k]) for k in "pqv"}
        m.gg_independence_ = {}
        m.holdout_report_ = None
        m.warnings_ = []
        m.n_customers_ = m.n_unique_ = 0
        m.fit_seconds_ = {}
        return m

    #: :func:`value_tiers`, reachable from the model for convenience.
    value_tiers = staticmethod(value_tiers)

    def _require_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ValueError("CLVModel is not fitted: call fit(summary) first")

    def _prm(self, model: str | None = None) -> tuple[float, ...]:
        model = model or self.model_
        p = self.candidate_params_[model]
        return tuple(p[k] for k in _PARAM_NAMES[model])

    # ---------------------------------------------------------------- fit

    def fit(self, summary: pd.DataFrame) -> CLVModel:
        """Fit the purchase model(s) and Gamma-Gamma on a customer summary.

        Parameters
        ----------
        summary : DataFrame
            Output of :func:`omni.rfm.rfm_summary` (``frequency``, ``recency``, ``T`` and
            optionally ``monetary_value`` and the holdout columns), in ``freq`` units.

        Returns
        -------
        CLVModel
            self, fitted.
        """
        self._validate_settings()
        _check_summary(summary)
        self._check_freq(summary)
        self.warnings_: list[str] = []
        x, tx, T, w, _ = _unique_rows(summary)
        self.n_customers_ = len(summary)
        self.n_unique_ = len(x)
        if len(summary) < 10:
            raise ValueError(f"summary has {len(summary)} customers; need at least 10 to fit")
        if float(np.max(T)) <= 0:
            raise ValueError("summary: every customer has T = 0 (no time after the first purchase)")
        if not np.any(x > 0):
            raise ValueError(
                "summary: no customer has a repeat purchase, so purchase rates and dropout are "
                "not identified; use a longer observation window"
            )

        candidates = list(_MODELS) if self.model == "auto" else [self.model]
        self.candidate_params_: dict[str, dict[str, float]] = {}
        self.loglik_: dict[str, float] = {}
        self.fit_seconds_: dict[str, float] = {}
        failures = {}
        for name in candidates:
            t0 = time.perf_counter()
            try:
                prm = self._fit_one(name, x, tx, T, w)
            except _FitFailed as exc:
                failures[name] = str(exc)
                self.warnings_.append(f"{_MODEL_LABEL[name]}: fit failed and was dropped: {exc}")
                continue
            self.fit_seconds_[name] = time.perf_counter() - t0
            self.candidate_params_[name] = prm
            self.loglik_[name] = _loglik_total(name, tuple(prm.values()), x, tx, T, w)
        if not self.candidate_params_:
            raise RuntimeError(f"no purchase model could be fitted: {failures}")

        self._choose(summary)
        self.params_ = dict(self.candidate_params_[self.model_])
        t0 = time.perf_counter()
        self._fit_gamma_gamma(summary)
        self.fit_seconds_["gammagamma"] = time.perf_counter() - t0
        return self

    def _fit_one(self, name: str, x, tx, T, w) -> dict[str, float]:
        fitter = _FITTERS[name]
        try:
            return fitter(x, tx, T, w, self.penalizer, self.warnings_)
        except _FitFailed as exc:
            pen = max(self.retry_penalizer, 10 * self.penalizer)
            self.warnings_.append(
                f"{_MODEL_LABEL[name]}: fit with penalizer={self.penalizer} failed ({exc}); "
                f"retried with penalizer={pen} (parameters shrink toward 0)"
            )
            return fitter(x, tx, T, w, pen, self.warnings_)

    def _choose(self, summary: pd.DataFrame) -> None:
        names = list(self.candidate_params_)
        has_holdout = {"frequency_holdout", "duration_holdout"} <= set(summary.columns)
        scores: dict[str, dict[str, float]] = {n: {"loglik": self.loglik_[n]} for n in names}
        preds = {}
        if has_holdout:
            actual = pd.to_numeric(summary["frequency_holdout"]).to_numpy(dtype="float64")
            dur = pd.to_numeric(summary["duration_holdout"]).to_numpy(dtype="float64")
            if not (np.all(np.isfinite(actual)) and np.all(np.isfinite(dur))):
                raise ValueError("summary: holdout columns contain missing values")
            constant = bool(np.all(dur == dur[0]))
            if constant:  # evaluate on unique (x, t_x, T) rows
                x, tx, T, _, inv = _unique_rows(summary)
                dur_u: float | np.ndarray = float(dur[0])
            else:
                x = summary["frequency"].to_numpy(dtype="float64")
                tx = summary["recency"].to_numpy(dtype="float64")
                T = summary["T"].to_numpy(dtype="float64")
                inv, dur_u = np.arange(len(x)), dur
            for n in names:
                with np.errstate(all="ignore"):
                    pred = _EXPECTED[n](self._prm(n), dur_u, x, tx, T)[inv]
                preds[n] = pred
                err = pred - actual
                tot_a = float(actual.sum())
                scores[n].update(
                    mae=float(np.mean(np.abs(err))),
                    rmse=float(np.sqrt(np.mean(err**2))),
                    total_predicted=float(pred.sum()),
                    total_actual=tot_a,
                    total_error_pct=float(100 * (pred.sum() - tot_a) / tot_a) if tot_a else np.nan,
                )
        if self.model != "auto":
            chosen, criterion = self.model, "user"
            if self.model not in self.candidate_params_:  # pragma: no cover - fit raised before
                raise RuntimeError(f"{self.model} could not be fitted")
        elif has_holdout:
            chosen, criterion = min(names, key=lambda n: scores[n]["rmse"]), "holdout_rmse"
        else:
            chosen, criterion = max(names, key=lambda n: scores[n]["loglik"]), "loglik"
        self.model_ = chosen
        self.model_choice_ = {"chosen": chosen, "criterion": criterion, "scores": scores}
        if has_holdout:
            tot = scores[chosen]["total_error_pct"]
            if np.isfinite(tot) and abs(tot) > 20:
                self.warnings_.append(
                    f"{_MODEL_LABEL[chosen]}: holdout purchases predicted {tot:+.1f}% off the "
                    "actual total; check for trends/seasonality the model does not capture"
                )
            bucket = np.minimum(summary["frequency"].to_numpy(dtype="int64"), 7)
            frame = pd.DataFrame({"bucket": bucket, "actual": actual})
            for n in names:
                frame[f"predicted_{n}"] = preds[n]
            rep = frame.groupby("bucket", sort=True).agg(
                n_customers=("actual", "size"),
                actual=("actual", "mean"),
                **{f"predicted_{n}": (f"predicted_{n}", "mean") for n in names},
            )
            rep["predicted"] = rep[f"predicted_{chosen}"]
            rep.index = pd.Index(
                [f"{b}" if b < 7 else "7+" for b in rep.index], name="frequency_cal"
            )
            self.holdout_report_ = rep.reset_index()
        else:
            self.holdout_report_ = None

    def _fit_gamma_gamma(self, summary: pd.DataFrame) -> None:
        self.gg_params_ = None
        self.gg_independence_ = {}
        if "monetary_value" not in summary.columns:
            self.warnings_.append("Gamma-Gamma not fitted: summary has no 'monetary_value'")
            return
        _check_summary(summary, need=("monetary_value",))
        freq = summary["frequency"].to_numpy(dtype="float64")
        mv = summary["monetary_value"].to_numpy(dtype="float64")
        zero = (freq > 0) & (mv <= 0)
        if zero.any():
            self.warnings_.append(
                f"Gamma-Gamma: {int(zero.sum())} repeat buyer(s) with monetary_value 0 "
                "(free or fully refunded orders) were left out of the spend model"
            )
        rep = (freq > 0) & (mv > 0)
        n_rep = int(rep.sum())
        if n_rep < 10:
            self.warnings_.append(
                f"Gamma-Gamma not fitted: only {n_rep} repeat buyer(s) with positive spend"
            )
            return
        if n_rep >= 3 and np.ptp(freq[rep]) > 0 and np.ptp(mv[rep]) > 0:
            res = stats.pearsonr(freq[rep], mv[rep])
            corr, pval = float(res.statistic), float(res.pvalue)
        else:
            corr, pval = np.nan, np.nan
        flag = bool(np.isfinite(corr) and abs(corr) > self.corr_threshold)
        self.gg_independence_ = {"corr": corr, "p_value": pval, "n": n_rep, "flag": flag}
        if flag:
            self.warnings_.append(
                f"Gamma-Gamma independence assumption doubtful: corr(frequency, monetary_value) "
                f"= {corr:.2f} among repeat buyers (|corr| > {self.corr_threshold}); CLV of "
                "frequent buyers is biased"
            )
        pairs = (
            pd.DataFrame({"f": freq[rep], "m": mv[rep]})
            .groupby(["f", "m"], sort=True)
            .size()
            .reset_index(name="n")
        )
        try:
            self.gg_params_ = _fit_gg(
                pairs["f"].to_numpy(),
                pairs["m"].to_numpy(),
                pairs["n"].to_numpy(dtype="float64"),
                self.gg_penalizer,
                self.warnings_,
            )
        except _FitFailed as exc:
            pen = max(self.retry_penalizer, 10 * self.gg_penalizer)
            self.warnings_.append(f"Gamma-Gamma: fit failed ({exc}); retried with penalizer={pen}")
            try:
                self.gg_params_ = _fit_gg(
                    pairs["f"].to_numpy(),
                    pairs["m"].to_numpy(),
                    pairs["n"].to_numpy(dtype="float64"),
                    pen,
                    self.warnings_,
                )
            except _FitFailed as exc2:
                self.warnings_.append(f"Gamma-Gamma not fitted: {exc2}")

    # ---------------------------------------------------------------- predictions

    def _rows(self, summary: pd.DataFrame) -> tuple[np.ndarray, ...]:
        """Unique (x, t_x, T) rows, the inverse index and P(alive) on the unique rows."""
        x, tx, T, _, inv = _unique_rows(summary)
        with np.errstate(all="ignore"):
            pa = np.clip(_P_ALIVE[self.model_](self._prm(), x, tx, T), 0.0, 1.0)
        return x, tx, T, inv, pa

    def _expected_u(self, rows: tuple[np.ndarray, ...], t: float) -> np.ndarray:
        x, tx, T, _, pa = rows
        with np.errstate(all="ignore"):
            return _EXPECTED[self.model_](self._prm(), t, x, tx, T, pa)

    def _prob_any_u(self, rows: tuple[np.ndarray, ...], t: float) -> np.ndarray:
        x, tx, T, _, pa = rows
        with np.errstate(all="ignore"):
            return np.clip(_PROB_ANY[self.model_](self._prm(), t, x, tx, T, pa), 0.0, 1.0)

    def _prepare(self, summary: pd.DataFrame, need: Sequence[str] = ()) -> None:
        self._require_fitted()
        _check_summary(summary, need)
        self._check_freq(summary)

    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """Probability that each customer is still active at the end of the summary period.

        ``1 - p_alive`` is the churn risk. BG/NBD gives 1 to customers without repeat purchases
        (they cannot have dropped out yet under that model).
        """
        self._prepare(summary)
        rows = self._rows(summary)
        return pd.Series(rows[4][rows[3]], index=summary.index, name="p_alive")

    def expected_purchases(self, summary: pd.DataFrame, t: float) -> pd.Series:
        """Expected number of purchases in the next ``t`` time units (``freq``) per customer."""
        self._prepare(summary)
        if not np.isfinite(t) or t < 0:
            raise ValueError(f"t must be a non-negative number of {self.freq} units, got {t!r}")
        rows = self._rows(summary)
        v = self._expected_u(rows, float(t))[rows[3]]
        return pd.Series(v, index=summary.index, name=f"expected_purchases_{t:g}{self.freq}")

    def prob_purchase_at_least_one(self, summary: pd.DataFrame, t_days: float) -> pd.Series:
        """P(at least one purchase in the next ``t_days`` days | history) per customer.

        BG/NBD: P(alive) (1 - ((alpha+T)/(alpha+T+t))^(r+x)); Pareto/NBD: P(alive) times the
        probability that the first purchase comes before both death and t (quadrature).
        """
        self._prepare(summary)
        if not np.isfinite(t_days) or t_days < 0:
            raise ValueError(f"t_days must be a non-negative number of days, got {t_days!r}")
        rows = self._rows(summary)
        v = self._prob_any_u(rows, float(t_days) / _UNIT_DAYS[self.freq])[rows[3]]
        return pd.Series(v, index=summary.index, name=f"p_purchase_{t_days:g}d")

    def expected_avg_value(self, summary: pd.DataFrame) -> pd.Series:
        """Gamma-Gamma expected spend per future purchase (shrinks observed mean to population)."""
        self._prepare(summary, ("monetary_value",))
        if self.gg_params_ is None:
            raise ValueError("Gamma-Gamma is not fitted (see warnings_): CLV needs a spend model")
        p, q, v = (self.gg_params_[k] for k in "pqv")
        if q <= 1.0:
            raise ValueError(f"Gamma-Gamma q={q:.4f} <= 1: population mean spend is undefined")
        x = summary["frequency"].to_numpy(dtype="float64")
        m = summary["monetary_value"].to_numpy(dtype="float64")
        wt = p * x / (p * x + q - 1.0)
        val = (1.0 - wt) * (v * p / (q - 1.0)) + wt * m
        return pd.Series(val, index=summary.index, name="expected_avg_value")

    def _discounted_purchases(self, rows: tuple[np.ndarray, ...], months: int) -> np.ndarray:
        """Sum over months of (expected purchases in month i) / (1 + d)^i, on unique rows."""
        f = _PERIODS_PER_MONTH[self.freq]
        d = (1.0 + self.discount_rate_annual) ** (1.0 / 12.0) - 1.0
        total = np.zeros_like(rows[0])
        prev = np.zeros_like(rows[0])
        for i in range(1, months + 1):  # a loop over months, vectorized over customers
            cur = self._expected_u(rows, i * f)
            total += (cur - prev) / (1.0 + d) ** i
            prev = cur
        return total

    def clv(self, summary: pd.DataFrame, months: int = 12) -> pd.Series:
        """Discounted CLV over the next ``months`` months (lifetimes' semantics).

        Sum over months i = 1..months of expected purchases in month i (months of 30 days or
        4.345 weeks) times the Gamma-Gamma expected spend, discounted by (1 + d)^i with the
        monthly rate d = (1 + discount_rate_annual)^(1/12) - 1.
        """
        self._prepare(summary, ("monetary_value",))
        if not isinstance(months, int | np.integer) or months < 1:
            raise ValueError(f"months must be a positive integer, got {months!r}")
        value = self.expected_avg_value(summary).to_numpy()
        rows = self._rows(summary)
        val = value * self._discounted_purchases(rows, int(months))[rows[3]]
        return pd.Series(val, index=summary.index, name=f"clv_{months}m")

    def predict(
        self,
        summary: pd.DataFrame,
        horizons_days: Sequence[float] = (30, 90),
        months: int = 12,
        tiers: Sequence[float] = (0.10, 0.20, 0.30),
    ) -> pd.DataFrame:
        """All per-customer predictions in one frame.

        Parameters
        ----------
        summary : DataFrame
            Customer summary (as for :meth:`fit`).
        horizons_days : sequence of float
            Horizons for expected purchases and P(at least one purchase).
        months : int
            CLV horizon.
        tiers : sequence of float
            Shares of the value tiers A, B, C (rest D); see :func:`value_tiers`.

        Returns
        -------
        DataFrame
            ``p_alive``, ``churn_risk``, ``expected_purchases_<h>d`` and ``p_purchase_<h>d`` per
            horizon and, when the spend model is available, ``expected_avg_value``,
            ``clv_<months>m`` and ``value_tier``.
        """
        self._prepare(summary)
        if not isinstance(months, int | np.integer) or months < 1:
            raise ValueError(f"months must be a positive integer, got {months!r}")
        rows = self._rows(summary)
        inv = rows[3]
        out = pd.DataFrame(index=summary.index)
        out["p_alive"] = rows[4][inv]
        out["churn_risk"] = 1.0 - out["p_alive"]
        unit = _UNIT_DAYS[self.freq]
        for h in horizons_days:
            if not np.isfinite(h) or h < 0:
                raise ValueError(f"horizons_days must be non-negative numbers, got {h!r}")
            out[f"expected_purchases_{h:g}d"] = self._expected_u(rows, h / unit)[inv]
            out[f"p_purchase_{h:g}d"] = self._prob_any_u(rows, h / unit)[inv]
        if self.gg_params_ is not None and "monetary_value" in summary.columns:
            value = self.expected_avg_value(summary)
            out["expected_avg_value"] = value
            disc = self._discounted_purchases(rows, int(months))[inv]
            out[f"clv_{months}m"] = value.to_numpy() * disc
            labels = [chr(ord("A") + i) for i in range(len(tiers) + 1)]
            out["value_tier"] = value_tiers(out[f"clv_{months}m"], tiers, labels)
        return out
