"""Report tables of customer value: RFM classes, value tiers, the model check and parameters.

Numbers only (no wording): classes and tiers with fewer than ``k`` customers are blanked
(:func:`omni.privacy.publishable`); :mod:`omni.value.narrative` names the columns for readers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omni.privacy import publishable
from omni.value.clv import MODEL_LABELS, CLVModel
from omni.value.customer import CustomerValue
from omni.value.rfm import SEGMENT_ORDER_EN, SEGMENT_ORDER_ZH

__all__ = [
    "bootstrap_group_means",
    "holdout_table",
    "model_parameters",
    "model_scores",
    "segment_table",
    "tier_table",
    "top_share",
    "value_concentration",
]

_WEEKS_PER_YEAR = 365.25 / 7.0


def bootstrap_group_means(
    values: pd.Series | np.ndarray,
    groups: pd.Series | np.ndarray,
    n_boot: int = 200,
    seed: int = 7,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Percentile bootstrap intervals of the mean per group (stratified: group sizes fixed).

    Each replicate resamples every group's members with replacement; vectorized over the members
    (one loop over the replicates).

    Parameters
    ----------
    values : array-like of float
        One value per member (finite).
    groups : array-like
        Group label per member (missing labels are left out).
    n_boot : int
        Replicates (at least 20).
    seed : int
        Seed of ``numpy.random.default_rng``.
    alpha : float
        1 - confidence level.

    Returns
    -------
    DataFrame
        Indexed by group (sorted; categorical order when categorical): ``n``, ``mean``, ``lo``,
        ``hi``.
    """
    v = np.asarray(values, dtype="float64")
    g = pd.Series(np.asarray(groups, dtype=object)) if not isinstance(groups, pd.Series) else groups
    if len(v) != len(g):
        raise ValueError(f"values ({len(v)}) and groups ({len(g)}) differ in length")
    if not np.all(np.isfinite(v)):
        raise ValueError(
            f"values is missing or not finite at position {np.flatnonzero(~np.isfinite(v))[0]}"
        )
    if not isinstance(n_boot, int | np.integer) or n_boot < 20:
        raise ValueError(f"n_boot must be an integer >= 20, got {n_boot!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    codes, uniques = pd.factorize(g, sort=True)
    ok = codes >= 0
    codes, v = codes[ok], v[ok]
    order = np.argsort(codes, kind="stable")
    codes, v = codes[order], v[order]
    k = len(uniques)
    n = np.bincount(codes, minlength=k)
    start = np.concatenate([[0], np.cumsum(n)[:-1]])
    mean = np.bincount(codes, weights=v, minlength=k) / np.maximum(n, 1)
    rng = np.random.default_rng(seed)
    reps = np.empty((n_boot, k))
    base, size = start[codes], n[codes]
    for b in range(n_boot):  # replicates, vectorized over members
        idx = base + (rng.random(len(v)) * size).astype(np.int64)
        reps[b] = np.bincount(codes, weights=v[idx], minlength=k) / np.maximum(n, 1)
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2], axis=0)
    out = pd.DataFrame({"n": n, "mean": mean, "lo": lo, "hi": hi}, index=pd.Index(uniques))
    return out[out["n"] > 0]


def segment_table(
    value: CustomerValue, n_boot: int = 200, seed: int = 7, alpha: float = 0.05, k: int = 10
) -> pd.DataFrame:
    """The 8 RFM classes: size, revenue share, mean CLV (bootstrap interval), P(alive).

    Returns
    -------
    DataFrame
        One row per class in the scheme's order (empty classes with 0 customers): ``segment``,
        ``segment_en``, ``customers``, ``customer_share``, ``revenue`` (to date),
        ``revenue_share``, ``mean_clv``, ``clv_lo``, ``clv_hi``, ``clv_share``,
        ``mean_p_alive``, ``mean_days_since_last``, ``mean_orders``. Classes with fewer than
        ``k`` customers are blanked (:func:`publishable`).
    """
    seg = value.segments["segment"]
    clv = value.predictions[value.clv_col]
    g = pd.DataFrame(
        {
            "segment": seg,
            "revenue": value.summary["revenue"],
            "clv": clv,
            "p_alive": value.predictions["p_alive"],
            "days": value.summary["days_since_last"],
            "orders": value.summary["n_orders"],
        }
    ).groupby("segment", observed=False)
    out = pd.DataFrame(
        {
            "segment": SEGMENT_ORDER_ZH,
            "segment_en": SEGMENT_ORDER_EN,
            "customers": g.size().reindex(SEGMENT_ORDER_ZH, fill_value=0).to_numpy(),
            "revenue": g["revenue"].sum().reindex(SEGMENT_ORDER_ZH).fillna(0.0).to_numpy(),
            "clv_sum": g["clv"].sum().reindex(SEGMENT_ORDER_ZH).fillna(0.0).to_numpy(),
            "mean_clv": g["clv"].mean().reindex(SEGMENT_ORDER_ZH).to_numpy(),
            "mean_p_alive": g["p_alive"].mean().reindex(SEGMENT_ORDER_ZH).to_numpy(),
            "mean_days_since_last": g["days"].mean().reindex(SEGMENT_ORDER_ZH).to_numpy(),
            "mean_orders": g["orders"].mean().reindex(SEGMENT_ORDER_ZH).to_numpy(),
        }
    )
    boot = bootstrap_group_means(clv.to_numpy(), seg.astype(object), n_boot, seed, alpha)
    out["clv_lo"] = boot["lo"].reindex(SEGMENT_ORDER_ZH).to_numpy()
    out["clv_hi"] = boot["hi"].reindex(SEGMENT_ORDER_ZH).to_numpy()
    n, rev, tot = out["customers"].sum(), out["revenue"].sum(), out["clv_sum"].sum()
    out["customer_share"] = out["customers"] / n
    out["revenue_share"] = out["revenue"] / rev if rev else np.nan
    out["clv_share"] = out["clv_sum"] / tot if tot else np.nan
    cols = [
        "segment",
        "segment_en",
        "customers",
        "customer_share",
        "revenue",
        "revenue_share",
        "mean_clv",
        "clv_lo",
        "clv_hi",
        "clv_share",
        "mean_p_alive",
        "mean_days_since_last",
        "mean_orders",
    ]
    return publishable(out[cols], "customers", k=k)


def top_share(values: pd.Series | np.ndarray, share: float = 0.10) -> float:
    """Share of the total held by the top ``share`` of customers (``round(share * n)`` of them)."""
    v = np.sort(np.asarray(values, dtype="float64"))[::-1]
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share!r}")
    if len(v) == 0 or not np.all(np.isfinite(v)):
        raise ValueError("values must be a non-empty array of finite numbers")
    total = v.sum()
    k = max(int(round(share * len(v))), 1)
    return float(v[:k].sum() / total) if total > 0 else float("nan")


def value_concentration(values: pd.Series | np.ndarray, points: int = 201) -> pd.DataFrame:
    """Concentration curve: share of the total held by the top x% of customers.

    Returns
    -------
    DataFrame
        ``customer_share`` (0..1, ``points`` steps) and ``value_share`` (cumulative share of the
        total held by that top share of customers, largest values first).
    """
    v = np.sort(np.asarray(values, dtype="float64"))[::-1]
    if len(v) == 0 or not np.all(np.isfinite(v)) or v.sum() <= 0:
        raise ValueError("values must be finite, non-empty and sum to more than 0")
    cum = np.concatenate([[0.0], np.cumsum(v) / v.sum()])
    x = np.linspace(0.0, 1.0, points)
    return pd.DataFrame(
        {"customer_share": x, "value_share": np.interp(x * len(v), np.arange(len(v) + 1), cum)}
    )


def tier_table(value: CustomerValue, k: int = 10) -> pd.DataFrame:
    """Value tiers: customers, CLV range and share, revenue share, P(alive), next-90-day purchases."""
    p = value.predictions
    d = pd.DataFrame(
        {
            "tier": p["value_tier"],
            "clv": p[value.clv_col],
            "revenue": value.summary["revenue"],
            "p_alive": p["p_alive"],
            "e90": p["expected_purchases_90d"],
            "repeat": value.summary["frequency"] > 0,
        }
    )
    g = d.groupby("tier", observed=False)
    out = pd.DataFrame(
        {
            "customers": g.size(),
            "min_clv": g["clv"].min(),
            "mean_clv": g["clv"].mean(),
            "clv_sum": g["clv"].sum(),
            "revenue": g["revenue"].sum(),
            "mean_p_alive": g["p_alive"].mean(),
            "expected_purchases_90d": g["e90"].sum(),
            "repeat_buyer_share": g["repeat"].mean(),
        }
    )
    out.insert(1, "customer_share", out["customers"] / out["customers"].sum())
    out.insert(5, "clv_share", out["clv_sum"] / out["clv_sum"].sum())
    out["revenue_share"] = out["revenue"] / out["revenue"].sum()
    out = out.drop(columns=["revenue"]).rename_axis("value_tier").reset_index()
    out["value_tier"] = out["value_tier"].astype(str)
    return publishable(out, "customers", k=k)


def holdout_table(check: CLVModel, k: int = 10) -> pd.DataFrame:
    """Mean actual vs predicted holdout purchases per calibration frequency (0..6, 7+).

    Buckets with fewer than ``k`` customers are blanked.
    """
    rep = getattr(check, "holdout_report_", None)
    if rep is None:
        raise ValueError(
            "the model has no holdout report: fit it on a summary with holdout columns"
        )
    out = rep.copy()
    out["frequency_cal"] = out["frequency_cal"].astype(str)
    return publishable(out, "n_customers", k=k)


def model_scores(check: CLVModel) -> pd.DataFrame:
    """Holdout scores of every fitted purchase model (RMSE, MAE, totals), chosen model first."""
    ch = check.model_choice_
    rows = []
    for name, sc in ch["scores"].items():
        rows.append(
            {
                "model": MODEL_LABELS.get(name, name),
                "chosen": "yes" if name == ch["chosen"] else "",
                "log_likelihood": sc.get("loglik", np.nan),
                "rmse": sc.get("rmse", np.nan),
                "mae": sc.get("mae", np.nan),
                "holdout_purchases_predicted": sc.get("total_predicted", np.nan),
                "holdout_purchases_actual": sc.get("total_actual", np.nan),
                "total_error_pct": sc.get("total_error_pct", np.nan),
            }
        )
    out = pd.DataFrame(rows)
    return out.sort_values("chosen", ascending=False, kind="stable").reset_index(drop=True)


def model_parameters(model: CLVModel) -> pd.DataFrame:
    """The fitted parameters plus derived figures in plain units.

    Returns
    -------
    DataFrame
        ``model`` (display name), ``parameter``, ``value``. Derived figures: ``mean purchase rate
        while active`` (per year, r / alpha); BG/NBD ``mean dropout probability per purchase``
        (a / (a + b)); Pareto/NBD ``mean dropout rate`` (per year, s / beta), ``median lifetime``
        (years, beta (2^(1/s) - 1)) and ``still active after a year`` ((beta / (beta + 1 year))^s);
        Gamma-Gamma ``mean spend per purchase`` (p v / (q - 1)). Rates are converted to per year
        (the summaries are in weeks); ``alpha``/``beta`` stay in the summaries' unit.
        :data:`omni.value.narrative.PARAMETER_MEANINGS` says what each row means.
    """
    if not hasattr(model, "params_"):
        raise ValueError("model is not fitted")
    per_year = _WEEKS_PER_YEAR if model.freq == "W" else 365.25
    name = MODEL_LABELS[model.model_]
    p = model.params_
    rows = [(name, "r", p["r"]), (name, "alpha", p["alpha"]),
            (name, "mean purchase rate while active", p["r"] / p["alpha"] * per_year)]
    if model.model_ == "bgnbd":
        rows += [(name, "a", p["a"]), (name, "b", p["b"]),
                 (name, "mean dropout probability per purchase", p["a"] / (p["a"] + p["b"]))]
    else:
        # lifetime tau | mu ~ Exp(mu), mu ~ Gamma(s, beta): P(tau > t) = (beta / (beta + t))^s
        median = p["beta"] * (2.0 ** (1.0 / p["s"]) - 1.0) / per_year
        one_year = (p["beta"] / (p["beta"] + per_year)) ** p["s"]
        rows += [(name, "s", p["s"]), (name, "beta", p["beta"]),
                 (name, "mean dropout rate", p["s"] / p["beta"] * per_year),
                 (name, "median lifetime", median), (name, "still active after a year", one_year)]
    if model.gg_params_ is not None:
        g = model.gg_params_
        mean = g["p"] * g["v"] / (g["q"] - 1.0) if g["q"] > 1 else np.inf
        rows += [("Gamma-Gamma", "p", g["p"]), ("Gamma-Gamma", "q", g["q"]), ("Gamma-Gamma", "v", g["v"]),
                 ("Gamma-Gamma", "mean spend per purchase", mean)]
    return pd.DataFrame(rows, columns=["model", "parameter", "value"])
