"""Customer summaries simulated from BG/NBD or Pareto/NBD (+ Gamma-Gamma) with known parameters."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from omni.value.clv._base import MODELS, PARAM_NAMES

__all__ = ["simulate_summary"]

_DEFAULTS = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "paretonbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
}


def _simulate_bgnbd(rng, prm, lam, Tn, holdout, out):
    """x, t_x, alive and holdout purchases of BG/NBD customers (adds ``true_p`` to ``out``)."""
    n = len(lam)
    p = rng.beta(prm["a"], prm["b"], size=n)
    k = rng.geometric(np.clip(p, 1e-12, 1.0))  # dies right after the k-th repeat purchase
    big_n = rng.poisson(lam * Tn)
    x = np.minimum(k, big_n)
    alive = k > big_n
    tx = np.where(x > 0, Tn * rng.beta(np.maximum(x, 1), big_n - x + 1), 0.0)
    out_h = None
    if holdout > 0:
        more = rng.poisson(lam * holdout)
        out_h = np.where(alive, np.minimum(k - big_n, more), 0)
    out["true_p"] = p
    return x, tx, alive, out_h


def _simulate_pnbd(rng, prm, lam, Tn, holdout, out):
    """x, t_x, alive and holdout purchases of Pareto/NBD customers (adds ``true_mu`` to ``out``)."""
    n = len(lam)
    mu = rng.gamma(prm["s"], 1.0 / prm["beta"], size=n)
    tau = rng.exponential(1.0 / mu)
    active = np.minimum(tau, Tn)
    x = rng.poisson(lam * active)
    alive = tau > Tn
    tx = np.where(x > 0, active * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    out_h = None
    if holdout > 0:
        out_h = rng.poisson(lam * np.clip(np.minimum(tau, Tn + holdout) - Tn, 0.0, None))
    out["true_mu"] = mu
    return x, tx, alive, out_h


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
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    prm = dict(_DEFAULTS[model] if params is None else params)
    missing = [k for k in PARAM_NAMES[model] if k not in prm]
    if missing:
        raise ValueError(f"params for {model} miss {missing}")
    rng = np.random.default_rng(seed)
    Tn = np.broadcast_to(np.asarray(T, dtype="float64"), (n,)).copy()
    if np.any(Tn < 0):
        raise ValueError("T must be non-negative")
    lam = rng.gamma(prm["r"], 1.0 / prm["alpha"], size=n)
    out = pd.DataFrame(index=pd.RangeIndex(n, name="customer"))
    simulate = _simulate_bgnbd if model == "bgnbd" else _simulate_pnbd
    x, tx, alive, out_h = simulate(rng, prm, lam, Tn, holdout, out)
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
