"""Gamma-Gamma (Fader, Hardie & Lee 2005b): the spend per purchase, independent of the purchase rate.

Fitted by lifetimes' ``GammaGammaFitter`` on the unique (frequency, monetary value) pairs of the
repeat buyers with their counts as weights; ``q`` is constrained to >= 1 when the free fit gives a
population mean spend that is infinite. The independence assumption (spend per purchase and
purchase frequency uncorrelated) is checked with Pearson's correlation among the repeat buyers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from omni.value.clv._base import FitFailed, captured, check_summary, lifetimes_module

__all__ = ["expected_avg_value", "fit", "fit_spend_model", "independence"]


def fit(freq, mv, w, penalizer: float, sink: list[str]) -> dict[str, float]:
    """lifetimes' GammaGammaFitter on (frequency, monetary value) pairs with weights ``w``."""
    lt = lifetimes_module()
    try:
        with captured(sink, "Gamma-Gamma fit"):
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
        raise FitFailed(f"{type(exc).__name__}: {str(exc).strip()}") from exc
    vals = np.array(list(prm.values()))
    if not np.all(np.isfinite(vals)) or np.any(vals <= 0):
        raise FitFailed(f"non-finite Gamma-Gamma parameters {prm}")
    return prm


def independence(freq: np.ndarray, mv: np.ndarray, corr_threshold: float) -> dict[str, Any]:
    """Pearson correlation of frequency and spend among repeat buyers (the model assumes none).

    Returns
    -------
    dict
        ``corr``, ``p_value``, ``n`` and ``flag`` (|corr| above ``corr_threshold``).
    """
    n_rep = len(freq)
    if n_rep >= 3 and np.ptp(freq) > 0 and np.ptp(mv) > 0:
        res = stats.pearsonr(freq, mv)
        corr, pval = float(res.statistic), float(res.pvalue)
    else:
        corr, pval = np.nan, np.nan
    flag = bool(np.isfinite(corr) and abs(corr) > corr_threshold)
    return {"corr": corr, "p_value": pval, "n": n_rep, "flag": flag}


def fit_spend_model(
    summary: pd.DataFrame,
    penalizer: float,
    retry_penalizer: float,
    corr_threshold: float,
    sink: list[str],
) -> tuple[dict[str, float] | None, dict[str, Any]]:
    """Gamma-Gamma on the repeat buyers of a customer summary, with its guards.

    Customers without a repeat purchase, and repeat buyers whose ``monetary_value`` is 0, are
    left out; fewer than 10 repeat buyers leave the model unfitted. A failed fit is retried once
    with ``max(retry_penalizer, 10 * penalizer)``. Problems go to ``sink``.

    Returns
    -------
    (dict or None, dict)
        ``p, q, v`` (None when not fitted) and :func:`independence` (empty when not fitted).
    """
    if "monetary_value" not in summary.columns:
        sink.append("Gamma-Gamma not fitted: summary has no 'monetary_value'")
        return None, {}
    check_summary(summary, need=("monetary_value",))
    freq = summary["frequency"].to_numpy(dtype="float64")
    mv = summary["monetary_value"].to_numpy(dtype="float64")
    zero = (freq > 0) & (mv <= 0)
    if zero.any():
        sink.append(
            f"Gamma-Gamma: {int(zero.sum())} repeat buyer(s) with monetary_value 0 "
            "(free or fully refunded orders) were left out of the spend model"
        )
    rep = (freq > 0) & (mv > 0)
    n_rep = int(rep.sum())
    if n_rep < 10:
        sink.append(f"Gamma-Gamma not fitted: only {n_rep} repeat buyer(s) with positive spend")
        return None, {}
    indep = independence(freq[rep], mv[rep], corr_threshold)
    if indep["flag"]:
        sink.append(
            f"Gamma-Gamma independence assumption doubtful: corr(frequency, monetary_value) "
            f"= {indep['corr']:.2f} among repeat buyers (|corr| > {corr_threshold}); CLV of "
            "frequent buyers is biased"
        )
    pairs = (
        pd.DataFrame({"f": freq[rep], "m": mv[rep]})
        .groupby(["f", "m"], sort=True)
        .size()
        .reset_index(name="n")
    )
    f, m, w = pairs["f"].to_numpy(), pairs["m"].to_numpy(), pairs["n"].to_numpy(dtype="float64")
    try:
        return fit(f, m, w, penalizer, sink), indep
    except FitFailed as exc:
        pen = max(retry_penalizer, 10 * penalizer)
        sink.append(f"Gamma-Gamma: fit failed ({exc}); retried with penalizer={pen}")
        try:
            return fit(f, m, w, pen, sink), indep
        except FitFailed as exc2:
            sink.append(f"Gamma-Gamma not fitted: {exc2}")
            return None, indep


def expected_avg_value(params: Mapping[str, float], frequency: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """Expected spend per future purchase: the observed mean shrunk toward the population mean.

    Raises
    ------
    ValueError
        If ``q <= 1`` (the population mean spend is undefined).
    """
    p, q, v = (params[k] for k in "pqv")
    if q <= 1.0:
        raise ValueError(f"Gamma-Gamma q={q:.4f} <= 1: population mean spend is undefined")
    wt = p * frequency / (p * frequency + q - 1.0)
    return (1.0 - wt) * (v * p / (q - 1.0)) + wt * monetary
