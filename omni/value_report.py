"""The monthly customer-value report (notebook ``03_clv_tgi``): RFM, CLV, churn risk, TGI.

Plain functions over the unified tables that the notebook calls; the notebook itself only holds
narrative, parameters and plots.

* :func:`value_month` builds everything for one month end: the customer summary, the 8-class RFM
  segments, a calibration/holdout check that picks the purchase model, the model refitted on all
  data to the month end and its per-customer predictions (P(alive), expected purchases, CLV, value
  tier). Called twice, for the report month and the month before.
* Tables for publication (small groups suppressed): :func:`segment_table` (with bootstrap
  intervals of the mean CLV), :func:`tier_table`, :func:`holdout_table`, :func:`model_scores`,
  :func:`model_parameters`.
* :func:`churn_watchlist`: high-value customers whose P(alive) fell since the previous month end
  (masked ids).
* :func:`profile_attributes`, :func:`tier_tgi`, :func:`panel_tgi`, :func:`over_indexed`: TGI
  profiles of the top tier against all customers and of all customers against the market panel.
* :func:`month_figures`, :func:`compare_months`, :func:`segment_migration`: this month against the
  previous one.
* :func:`truth_check`: on synthetic data, the model against the generator's latent rates.

Customers are the OneIDs with at least one paid order up to the month end (all channels). Method
notes: ``docs/clv.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from omni.clv import CLVModel
from omni.core.figures import compare_figures
from omni.privacy import publishable
from omni.rfm import SEGMENT_ORDER_EN, SEGMENT_ORDER_ZH, rfm_segments, rfm_summary
from omni.tgi import tgi

__all__ = [
    "MODEL_LABELS",
    "PANEL_ATTRIBUTES",
    "TGI_ATTRIBUTES",
    "MonthValue",
    "bootstrap_group_means",
    "churn_watchlist",
    "compare_months",
    "holdout_table",
    "identified_orders",
    "model_parameters",
    "model_scores",
    "month_end_day",
    "month_figures",
    "over_indexed",
    "panel_tgi",
    "plot_tgi",
    "profile_attributes",
    "publishable",
    "restate",
    "segment_migration",
    "segment_table",
    "short_id",
    "tier_table",
    "tier_tgi",
    "top_share",
    "truth_check",
    "valid_orders",
    "value_concentration",
    "value_month",
]

MODEL_LABELS = {"bgnbd": "BG/NBD", "paretonbd": "Pareto/NBD", "gammagamma": "Gamma-Gamma"}
#: Profile attributes profiled with TGI (columns of ``Resolved.profiles``).
TGI_ATTRIBUTES = ("gender", "age_band", "city_tier", "channel_pref", "channel_mix", "top_category")
#: Attributes the market panel has.
PANEL_ATTRIBUTES = ("gender", "age_band", "city_tier")
#: Profile values that mean "not known" and are left out of TGI shares.
UNKNOWN_VALUES = ("unknown", "", "none", "null", "nan", "no purchase")
_FREQ = "W"  # time unit of the customer summaries: weeks (days / 7), daily purchase merging
_WEEKS_PER_YEAR = 365.25 / 7.0
_NEW = "new customer"


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def month_end_day(month: str) -> pd.Timestamp:
    """The last calendar day of a ``YYYY-MM`` month (midnight; summaries include the whole day).

    Raises
    ------
    ValueError
        If ``month`` is not ``YYYY-MM``.
    """
    try:
        p = pd.Period(str(month), freq="M")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"month must be 'YYYY-MM', got {month!r}") from exc
    if str(p) != str(month):
        raise ValueError(f"month must be 'YYYY-MM', got {month!r}")
    return p.end_time.normalize()


def short_id(ids: pd.Series | Sequence[object], keep: int = 4) -> pd.Series:
    """Shortened ids for reports: the first ``keep`` characters and an ellipsis (``O000…``)."""
    s = pd.Series(ids) if not isinstance(ids, pd.Series) else ids
    return s.astype("string").str.slice(0, keep) + "…"


def _require(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {missing}; has {list(df.columns)}")


def valid_orders(orders: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Orders usable for value figures: rows with a missing or negative amount are left out.

    The loader quarantines such rows when ``sources.yaml`` declares the amount column; older
    datasets may still hold them, and :func:`omni.rfm.rfm_summary` refuses them.

    Returns
    -------
    (DataFrame, int)
        The remaining orders and how many *paid* orders were left out.
    """
    _require(orders, ["oneid", "order_time", "amount", "status"], "orders")
    amount = pd.to_numeric(orders["amount"], errors="coerce")
    bad = (amount.isna() | (amount < 0)).to_numpy()
    paid = (orders["status"].astype("string").str.strip().str.lower() == "paid").to_numpy(
        dtype=bool, na_value=False
    )
    return orders.loc[~bad], int((bad & paid).sum())


def identified_orders(orders: pd.DataFrame, record_oneid: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Orders of buyers who can be recognized again: anonymous orders are left out.

    An order record without any usable identifier (``how == "none"`` in ``record_oneid``, e.g. a
    walk-in store sale without card or phone) gets a OneID of its own that can never collect a
    repeat purchase; counted as customers, such one-record OneIDs would inflate the customer count
    and look like one-time buyers to the purchase model.

    Parameters
    ----------
    orders : DataFrame
        Unified ``orders`` (``order_key``, ``status``).
    record_oneid : DataFrame
        ``record_key``, ``how`` (``Resolved.record_oneid``).

    Returns
    -------
    (DataFrame, int)
        The orders of identified buyers and the number of *paid* anonymous orders left out.
    """
    _require(orders, ["order_key", "status"], "orders")
    _require(record_oneid, ["record_key", "how"], "record_oneid")
    anon_keys = record_oneid.loc[
        (record_oneid["how"].astype("string") == "none").to_numpy(dtype=bool, na_value=False),
        "record_key",
    ]
    anon = orders["order_key"].isin(anon_keys).to_numpy()
    paid = (orders["status"].astype("string").str.strip().str.lower() == "paid").to_numpy(
        dtype=bool, na_value=False
    )
    return orders.loc[~anon], int((anon & paid).sum())


# --------------------------------------------------------------------------------------------
# one month end
# --------------------------------------------------------------------------------------------


@dataclass
class MonthValue:
    """Everything the value report computes for one month end.

    Attributes
    ----------
    month : str
        ``YYYY-MM``.
    end : Timestamp
        Last day of the month (inclusive).
    summary : DataFrame
        :func:`omni.rfm.rfm_summary` at the month end, weeks, indexed by oneid.
    segments : DataFrame
        :func:`omni.rfm.rfm_segments` of the summary.
    predictions : DataFrame
        :meth:`omni.clv.CLVModel.predict` (``p_alive``, ``expected_purchases_<h>d``,
        ``clv_<months>m``, ``value_tier`` ...).
    model : CLVModel
        Purchase + spend model fitted on all purchases to the month end.
    check : CLVModel or None
        The model(s) fitted on the calibration period and scored on the holdout (None when the
        check was not run; ``check_note`` says why).
    calibration_end : Timestamp or None
        Last day of the calibration period of the check.
    invalid_amounts : int
        Paid orders left out for a missing or negative amount.
    """

    month: str
    end: pd.Timestamp
    summary: pd.DataFrame
    segments: pd.DataFrame
    predictions: pd.DataFrame
    model: CLVModel
    check: CLVModel | None
    calibration_end: pd.Timestamp | None
    invalid_amounts: int
    clv_col: str
    settings: dict[str, Any] = field(default_factory=dict)
    check_note: str = ""


def value_month(
    orders: pd.DataFrame,
    month: str,
    model: Literal["auto", "bgnbd", "paretonbd"] = "auto",
    holdout_weeks: int = 26,
    check: bool = True,
    clv_months: int = 12,
    discount_rate_annual: float = 0.10,
    tier_shares: Sequence[float] = (0.10, 0.20, 0.30),
    rfm_threshold: Literal["mean", "median"] = "mean",
) -> MonthValue:
    """RFM segments, a checked purchase model, and CLV predictions at the end of ``month``.

    1. Customer summary of all paid orders up to the month end (weeks; purchases on one day are
       one purchase occasion) and the 8-class RFM segments.
    2. With ``check``: the summary with the last ``holdout_weeks`` before the month end held out;
       the purchase model (both with ``model="auto"``) is fitted on the calibration period and
       scored on the holdout; ``"auto"`` keeps the model with the lower holdout RMSE.
    3. The chosen model (plus Gamma-Gamma) refitted on all purchases to the month end, and the
       per-customer predictions.

    Parameters
    ----------
    orders : DataFrame
        Unified ``orders`` (``oneid, order_time, amount, status``; other columns ignored).
        Rows with a missing or negative amount are left out and counted.
    month : str
        ``YYYY-MM``.
    model : {"auto", "bgnbd", "paretonbd"}
        Purchase model. ``"auto"`` without ``check`` chooses by log-likelihood.
    holdout_weeks : int
        Length of the holdout of the model check.
    check : bool
        Run the calibration/holdout check. It is skipped (``check_note`` says why) when no
        purchase falls before the calibration end.
    clv_months : int
        CLV horizon.
    discount_rate_annual : float
        Annual discount rate of the CLV.
    tier_shares : sequence of float
        Customer shares of value tiers A, B, C, ... (rest: the last tier).
    rfm_threshold : {"mean", "median"}
        Threshold statistic of the 8-class scheme.

    Returns
    -------
    MonthValue

    Raises
    ------
    ValueError
        On a bad month or setting, missing columns, no paid orders up to the month end, or a
        spend model that could not be fitted (too few repeat buyers: no CLV).
    """
    end = month_end_day(month)
    if not isinstance(holdout_weeks, int | np.integer) or holdout_weeks < 1:
        raise ValueError(f"holdout_weeks must be a positive integer, got {holdout_weeks!r}")
    if model not in ("auto", "bgnbd", "paretonbd"):
        raise ValueError(f"model must be 'auto', 'bgnbd' or 'paretonbd', got {model!r}")
    clean, n_bad = valid_orders(orders)
    summary = rfm_summary(clean, end, freq=_FREQ)
    segments = rfm_segments(summary, threshold=rfm_threshold)

    chosen: str = model
    checker = None
    cal_end = None
    note = ""
    if check:
        cal_end = end - pd.Timedelta(weeks=int(holdout_weeks))
        first = pd.Timestamp(summary["first_purchase"].min()).normalize()
        if first > cal_end:
            note = (
                f"no purchase before the calibration end {cal_end:%Y-%m-%d} (first purchase "
                f"{first:%Y-%m-%d}): the holdout check needs more than {holdout_weeks} weeks"
            )
            cal_end = None
        else:
            cal = rfm_summary(clean, end, calibration_end=cal_end, freq=_FREQ)
            checker = CLVModel(
                model=model, freq=_FREQ, discount_rate_annual=discount_rate_annual
            ).fit(cal)
            chosen = checker.model_
    else:
        note = "not run"
    final = CLVModel(model=chosen, freq=_FREQ, discount_rate_annual=discount_rate_annual)
    final.fit(summary)
    if final.gg_params_ is None:
        raise ValueError(
            "the spend model (Gamma-Gamma) could not be fitted, so there is no CLV: "
            + "; ".join(w for w in final.warnings_ if "Gamma-Gamma" in w)
        )
    tiers = tuple(float(s) for s in tier_shares)
    pred = final.predict(summary, horizons_days=(30, 90), months=int(clv_months), tiers=tiers)
    return MonthValue(
        month=str(month),
        end=end,
        summary=summary,
        segments=segments,
        predictions=pred,
        model=final,
        check=checker,
        calibration_end=cal_end,
        invalid_amounts=n_bad,
        clv_col=f"clv_{int(clv_months)}m",
        settings={
            "model": model,
            "holdout_weeks": int(holdout_weeks),
            "clv_months": int(clv_months),
            "discount_rate_annual": float(discount_rate_annual),
            "tier_shares": tiers,
            "rfm_threshold": rfm_threshold,
        },
        check_note=note,
    )


def restate(mv: MonthValue, earlier: MonthValue) -> pd.DataFrame:
    """Predictions of ``mv``'s model for the customers of an earlier month end.

    The same parameters on both dates, so a change in P(alive) or CLV between the two is the
    customer's own behaviour (a purchase, or another month without one), not a refit.
    """
    return mv.model.predict(
        earlier.summary,
        horizons_days=(30, 90),
        months=mv.settings["clv_months"],
        tiers=mv.settings["tier_shares"],
    )


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------


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
    mv: MonthValue, n_boot: int = 200, seed: int = 7, alpha: float = 0.05, k: int = 10
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
    seg = mv.segments["segment"]
    clv = mv.predictions[mv.clv_col]
    g = pd.DataFrame(
        {
            "segment": seg,
            "revenue": mv.summary["revenue"],
            "clv": clv,
            "p_alive": mv.predictions["p_alive"],
            "days": mv.summary["days_since_last"],
            "orders": mv.summary["n_orders"],
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


def tier_table(mv: MonthValue, k: int = 10) -> pd.DataFrame:
    """Value tiers: customers, CLV range and share, revenue share, P(alive), next-90-day purchases."""
    p = mv.predictions
    d = pd.DataFrame(
        {
            "tier": p["value_tier"],
            "clv": p[mv.clv_col],
            "revenue": mv.summary["revenue"],
            "p_alive": p["p_alive"],
            "e90": p["expected_purchases_90d"],
            "repeat": mv.summary["frequency"] > 0,
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
    """The fitted parameters with what they say, plus derived figures in plain units.

    Returns
    -------
    DataFrame
        ``model``, ``parameter``, ``value``, ``meaning``. Rates are converted to per year
        (the summaries are in weeks).
    """
    if not hasattr(model, "params_"):
        raise ValueError("model is not fitted")
    per_year = _WEEKS_PER_YEAR if model.freq == "W" else 365.25
    unit = "week" if model.freq == "W" else "day"
    name = MODEL_LABELS[model.model_]
    p = model.params_
    rows = [
        (name, "r", p["r"], "shape of the purchase-rate distribution across customers"),
        (name, "alpha", p["alpha"], f"scale of the purchase rate ({unit}s)"),
        (
            name,
            "mean purchase rate while active",
            p["r"] / p["alpha"] * per_year,
            "purchases per year, r / alpha",
        ),
    ]
    if model.model_ == "bgnbd":
        rows += [
            (name, "a", p["a"], "dropout probability after a purchase ~ Beta(a, b)"),
            (name, "b", p["b"], ""),
            (
                name,
                "mean dropout probability per purchase",
                p["a"] / (p["a"] + p["b"]),
                "a / (a + b)",
            ),
        ]
    else:
        # lifetime tau | mu ~ Exp(mu), mu ~ Gamma(s, beta): P(tau > t) = (beta / (beta + t))^s
        median = p["beta"] * (2.0 ** (1.0 / p["s"]) - 1.0) / per_year
        one_year = (p["beta"] / (p["beta"] + per_year)) ** p["s"]
        rows += [
            (name, "s", p["s"], "shape of the dropout-rate distribution"),
            (name, "beta", p["beta"], f"scale of the dropout rate ({unit}s)"),
            (
                name,
                "mean dropout rate",
                p["s"] / p["beta"] * per_year,
                "dropouts per year, s / beta",
            ),
            (name, "median lifetime", median, "years from the first purchase, beta (2^(1/s) - 1)"),
            (
                name,
                "still active after a year",
                one_year,
                "share of new customers, (beta / (beta + 1 year))^s",
            ),
        ]
    if model.gg_params_ is not None:
        g = model.gg_params_
        mean = g["p"] * g["v"] / (g["q"] - 1.0) if g["q"] > 1 else np.inf
        rows += [
            ("Gamma-Gamma", "p", g["p"], "shape of the spend per purchase"),
            ("Gamma-Gamma", "q", g["q"], "shape of the customers' spend scale"),
            ("Gamma-Gamma", "v", g["v"], "scale of the customers' spend scale"),
            (
                "Gamma-Gamma",
                "mean spend per purchase",
                mean,
                "p v / (q - 1), in the order currency",
            ),
        ]
    return pd.DataFrame(rows, columns=["model", "parameter", "value", "meaning"])


# --------------------------------------------------------------------------------------------
# churn risk
# --------------------------------------------------------------------------------------------


def churn_watchlist(
    current: MonthValue,
    previous_restated: pd.DataFrame,
    profiles: pd.DataFrame | None = None,
    tier: str = "A",
    min_drop: float = 0.05,
    n: int = 20,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """High-value customers whose P(alive) fell since the previous month end.

    High value = in value ``tier`` at the previous month end. Both dates use this month's model
    (``previous_restated`` = :func:`restate` of the previous month), so the fall is the customer's
    own silence, not a refit. Sorted by the CLV lost.

    Parameters
    ----------
    current : MonthValue
    previous_restated : DataFrame
        This month's model's predictions at the previous month end (index oneid).
    profiles : DataFrame, optional
        ``Resolved.profiles`` (``oneid``, ``channel_pref``, ``marketing_opt_out``) for context.
    tier : str
        Value tier that counts as high value.
    min_drop : float
        Minimum fall of P(alive) (absolute, 0..1).
    n : int
        Rows returned (1..20 for a report).

    Returns
    -------
    (DataFrame, dict)
        The list (``customer`` shortened id, RFM class, tiers, orders, revenue, days since the
        last purchase, P(alive) then and now, CLV then and now, preferred channel, opt-out) and
        figures: ``high_value`` (customers in the tier a month ago), ``falling`` (of them, P(alive)
        down by ``min_drop`` or more), ``clv_at_risk`` (their CLV now), ``clv_lost`` (CLV lost
        since), ``contactable`` (of them, not opted out; NaN without profiles).
    """
    if not 0 < min_drop < 1:
        raise ValueError(f"min_drop must be in (0, 1), got {min_drop!r}")
    if not isinstance(n, int | np.integer) or not 1 <= n <= 20:
        raise ValueError(f"n must be an integer from 1 to 20, got {n!r}")
    _require(previous_restated, ["p_alive", "value_tier", current.clv_col], "previous_restated")
    prev = previous_restated
    if tier not in set(prev["value_tier"].astype(str)):
        raise ValueError(
            f"tier {tier!r} is not among the value tiers {sorted(set(prev['value_tier'].astype(str)))}"
        )
    cur = current.predictions.reindex(prev.index)
    if cur["p_alive"].isna().any():
        raise ValueError("previous_restated has customers that are not in the current month")
    summ = current.summary.reindex(prev.index)
    clv = current.clv_col
    d = pd.DataFrame(
        {
            "oneid": prev.index.to_numpy(),
            "segment": current.segments["segment"].reindex(prev.index).to_numpy(),
            "tier_then": prev["value_tier"].astype(str).to_numpy(),
            "tier_now": cur["value_tier"].astype(str).to_numpy(),
            "orders": summ["n_orders"].to_numpy(),
            "revenue": summ["revenue"].to_numpy(),
            "days_since_last": summ["days_since_last"].to_numpy(),
            "p_alive_then": prev["p_alive"].to_numpy(),
            "p_alive_now": cur["p_alive"].to_numpy(),
            "clv_then": prev[clv].to_numpy(),
            "clv_now": cur[clv].to_numpy(),
        }
    )
    d["p_alive_change"] = d["p_alive_now"] - d["p_alive_then"]
    d["clv_lost"] = d["clv_then"] - d["clv_now"]
    high = d["tier_then"] == tier
    falling = high & (d["p_alive_change"] <= -min_drop)
    hit = d[falling.to_numpy()].copy()
    contactable = np.nan
    if profiles is not None:
        _require(profiles, ["oneid"], "profiles")
        pr = profiles.set_index("oneid")
        for col in ("channel_pref", "marketing_opt_out"):
            hit[col] = pr[col].reindex(hit["oneid"]).to_numpy() if col in pr.columns else pd.NA
        if "marketing_opt_out" in pr.columns:
            contactable = float((~hit["marketing_opt_out"].astype("boolean").fillna(False)).sum())
    figures = {
        "high_value": float(high.sum()),
        "falling": float(falling.sum()),
        "clv_at_risk": float(hit["clv_now"].sum()),
        "clv_lost": float(hit["clv_lost"].sum()),
        "contactable": contactable,
    }
    hit = hit.sort_values(["clv_lost", "oneid"], ascending=[False, True], kind="stable").head(n)
    hit.insert(0, "customer", short_id(hit["oneid"]).to_numpy())
    hit = hit.drop(columns=["oneid"]).reset_index(drop=True)
    hit.insert(0, "rank", np.arange(1, len(hit) + 1))
    return hit, figures


# --------------------------------------------------------------------------------------------
# TGI
# --------------------------------------------------------------------------------------------


def profile_attributes(
    profiles: pd.DataFrame, customers: pd.Index, attributes: Sequence[str] = TGI_ATTRIBUTES
) -> pd.DataFrame:
    """The customers' profile attributes for TGI, with "not known" values as missing.

    Parameters
    ----------
    profiles : DataFrame
        ``Resolved.profiles`` (one row per oneid).
    customers : Index
        The customers' oneids (e.g. ``MonthValue.summary.index``).
    attributes : sequence of str
        Profile columns to keep; ``unknown`` / empty / ``no purchase`` become missing.

    Returns
    -------
    DataFrame
        Indexed by the customers' oneids, one column per attribute (strings, categorical order
        kept for ordered categoricals such as ``age_band``).
    """
    _require(profiles, ["oneid", *attributes], "profiles")
    pr = profiles.set_index("oneid")
    if not pr.index.is_unique:
        raise ValueError("profiles has duplicate oneids")
    out = pd.DataFrame(index=customers)
    for a in attributes:
        col = pr[a].reindex(customers)
        if isinstance(col.dtype, pd.CategoricalDtype):
            drop = [c for c in col.cat.categories if str(c).strip().lower() in UNKNOWN_VALUES]
            keep = [c for c in col.cat.categories if c not in drop]
            col = col.cat.set_categories(keep)  # (remove_categories would sort them)
        else:
            s = col.astype("string")
            col = s.mask(s.str.strip().str.lower().isin(UNKNOWN_VALUES))
        out[a] = col
    return out


def tier_tgi(
    attrs: pd.DataFrame,
    tiers: pd.Series,
    tier: str = "A",
    attributes: Sequence[str] | None = None,
    min_count: int = 30,
) -> pd.DataFrame:
    """TGI of one value tier against all customers (the segment is nested in the base).

    Parameters
    ----------
    attrs : DataFrame
        :func:`profile_attributes` of all customers (index oneid).
    tiers : Series
        Value tier per customer (index oneid), e.g. ``MonthValue.predictions["value_tier"]``.
    tier : str
        The tier profiled.
    attributes : sequence of str, optional
        Columns of ``attrs`` (default: all). Attributes no customer of the tier has a value for
        are left out (``attrs["skipped"]`` of the result names them).
    min_count : int
        Cells with fewer tier members are suppressed.

    Returns
    -------
    DataFrame
        :func:`omni.tgi.tgi` output.
    """
    attributes = list(attributes or attrs.columns)
    t = tiers.reindex(attrs.index).astype(str)
    seg = attrs[(t == tier).to_numpy()]
    if seg.empty:
        raise ValueError(f"no customer in tier {tier!r}")
    use = [a for a in attributes if seg[a].notna().any()]
    if not use:
        raise ValueError(f"no customer in tier {tier!r} has a value for any of {attributes}")
    out = tgi(seg, attrs, use, min_count=min_count, segment_in_base=True)
    out.attrs["skipped"] = [a for a in attributes if a not in use]
    return out


def panel_tgi(
    attrs: pd.DataFrame,
    panel: pd.DataFrame,
    attributes: Sequence[str] = PANEL_ATTRIBUTES,
    min_count: int = 30,
) -> pd.DataFrame:
    """TGI of all customers against the market panel (known population counts).

    Only the attributes present in both tables, with values on both sides, are used; panel
    values are compared as strings.
    """
    _require(panel, ["population"], "market_panel")
    use = [a for a in attributes if a in panel.columns and a in attrs.columns]
    if not use:
        raise ValueError(f"market_panel has none of the attributes {list(attributes)}")
    use = [a for a in use if attrs[a].notna().any() and panel[a].notna().any()]
    if not use:
        raise ValueError(
            f"no customer has a value for any of the panel attributes {list(attributes)}"
        )
    base = panel[use + ["population"]].copy()
    seg = attrs[use].copy()
    for a in use:  # same value type on both sides; the profile's category order, then the panel's
        own = (
            [str(c) for c in seg[a].cat.categories]
            if isinstance(seg[a].dtype, pd.CategoricalDtype)
            else []
        )
        theirs = [str(c) for c in base[a].astype("category").cat.categories]
        cats = own + [c for c in theirs if c not in own]
        cats += sorted(set(seg[a].dropna().astype(str)) - set(cats))
        base[a] = pd.Categorical(base[a].astype("string"), categories=cats)
        seg[a] = pd.Categorical(seg[a].astype("string"), categories=cats)
    return tgi(seg, base, use, min_count=min_count, base_is_population=True)


def over_indexed(t: pd.DataFrame, min_tgi: float = 120.0, n: int = 10) -> pd.DataFrame:
    """Traits that are significantly over-represented: TGI >= ``min_tgi`` and CI above 100.

    Sorted by TGI (largest first), at most ``n`` rows; suppressed cells never appear.
    """
    _require(t, ["attribute", "value", "tgi", "ci_low", "significant", "suppressed"], "tgi table")
    keep = (~t["suppressed"]) & t["significant"] & (t["tgi"] >= min_tgi) & (t["ci_low"] > 100)
    out = t[keep.to_numpy(dtype=bool)].sort_values("tgi", ascending=False, kind="stable")
    return out.head(n).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# month against month
# --------------------------------------------------------------------------------------------


def month_figures(mv: MonthValue, orders: pd.DataFrame, top: float = 0.10) -> dict[str, Any]:
    """Key figures of one month end.

    Returns
    -------
    dict
        ``customers``, ``new_customers`` (first purchase in the month), ``active_customers``
        (a purchase in the month), ``orders_month`` and ``revenue_month`` (paid orders of the
        month), ``repeat_share`` (customers with 2+ purchase days), ``clv_total``, ``clv_mean``,
        ``top_share`` (of the CLV, top ``top`` of customers), ``at_risk_share`` (share of
        the repeat buyers with P(alive) < 0.5: BG/NBD gives one-time buyers P(alive) = 1), ``important_value_share`` (重要价值 customers), ``expected_purchases_90d``,
        ``holdout_error_pct`` (NaN without a check), ``model``.
    """
    start = mv.end.to_period("M").start_time
    s, p = mv.summary, mv.predictions
    clean, _ = valid_orders(orders)
    t = pd.to_datetime(clean["order_time"])
    in_month = ((t >= start) & (t < mv.end + pd.Timedelta(days=1))).to_numpy()
    paid = (clean["status"].astype("string").str.strip().str.lower() == "paid").to_numpy(
        dtype=bool, na_value=False
    ) & clean["oneid"].notna().to_numpy()
    m = clean[in_month & paid]
    rep = (s["frequency"] > 0).to_numpy()
    err = np.nan
    if mv.check is not None:
        err = float(mv.check.model_choice_["scores"][mv.check.model_]["total_error_pct"])
    return {
        "customers": int(len(s)),
        "new_customers": int((s["first_purchase"] >= start).sum()),
        "active_customers": int((s["last_purchase"] >= start).sum()),
        "orders_month": int(len(m)),
        "revenue_month": float(pd.to_numeric(m["amount"]).sum()),
        "repeat_share": float((s["frequency"] > 0).mean()),
        "clv_total": float(p[mv.clv_col].sum()),
        "clv_mean": float(p[mv.clv_col].mean()),
        "top_share": top_share(p[mv.clv_col], top),
        "at_risk_share": float((p["p_alive"][rep] < 0.5).mean()) if rep.any() else np.nan,
        "important_value_share": float((mv.segments["segment"] == SEGMENT_ORDER_ZH[0]).mean()),
        "expected_purchases_90d": float(p["expected_purchases_90d"].sum()),
        "holdout_error_pct": err,
        "model": MODEL_LABELS[mv.model.model_],
    }


def compare_months(
    current: Mapping[str, Any], previous: Mapping[str, Any] | None, labels: Mapping[str, str]
) -> pd.DataFrame:
    """This month's figures against the previous month's.

    Returns
    -------
    DataFrame
        ``figure``, ``previous_month``, ``this_month``, ``change`` (numbers only) and
        ``relative_change``; one row per key of ``labels`` in its order.
    """
    return compare_figures(current, previous, labels)[["figure", "previous_month", "this_month", "change", "relative_change"]]


def segment_migration(
    previous: pd.DataFrame, current: pd.DataFrame, english: bool = True
) -> pd.DataFrame:
    """Customers by RFM class at the previous and at this month end.

    Parameters
    ----------
    previous, current : DataFrame
        :func:`omni.rfm.rfm_segments` outputs (index oneid). Customers only in ``current`` are
        counted in the row ``"new customer"``.
    english : bool
        Label rows and columns with ``segment_en`` (for plots) instead of the Chinese names.

    Returns
    -------
    DataFrame
        Counts: rows = class a month ago (+ new customers), columns = class now, all 8 classes.
    """
    col = "segment_en" if english else "segment"
    order = SEGMENT_ORDER_EN if english else SEGMENT_ORDER_ZH
    _require(previous, [col], "previous")
    _require(current, [col], "current")
    then = previous[col].astype(object).reindex(current.index).fillna(_NEW)
    now = current[col].astype(object)
    tab = pd.crosstab(then, now)
    return tab.reindex(index=[*order, _NEW], columns=order, fill_value=0).astype("int64")


# --------------------------------------------------------------------------------------------
# truth (synthetic data only)
# --------------------------------------------------------------------------------------------


def truth_check(
    mv: MonthValue,
    record_oneid: pd.DataFrame,
    record_person: pd.DataFrame,
    persons: pd.DataFrame,
    horizon_days: int = 365,
    bins: int = 10,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """The model's predictions against the generator's latent purchase process.

    Each customer OneID is mapped to the person most of its records belong to. For that person
    the generator knows the purchase rate while alive (lambda, per year), the dropout rate (mu,
    per year) and the dropout time, so the true expected number of organic purchases in the next
    ``h`` years is ``1{alive at the month end} * lambda * (1 - exp(-mu h)) / mu`` (the lifetime is
    memoryless); touch- and campaign-caused orders are not part of it. A person whose purchases
    are spread over several OneIDs (unlinked platform accounts) is compared through the sum of
    the predictions of those OneIDs.

    Parameters
    ----------
    mv : MonthValue
    record_oneid : DataFrame
        ``record_key``, ``oneid`` (``Resolved.record_oneid``).
    record_person : DataFrame
        ``record_key``, ``person_id`` (truth).
    persons : DataFrame
        ``person_id``, ``purchase_rate``, ``dropout_rate``, ``dropout_time``, ``mean_spend``
        (truth).
    horizon_days : int
        Horizon of the expected purchases compared.
    bins : int
        Number of P(alive) bins (equal counts) in the calibration table.

    Returns
    -------
    (DataFrame, dict)
        The P(alive) calibration table per customer OneID: repeat buyers in ``bins`` equal
        groups by P(alive), then the one-time buyers (BG/NBD gives them all P(alive) = 1);
        columns ``group``, ``customers``, ``mean_p_alive``, ``alive_share`` (the share whose
        person had not dropped out at the month end). Figures: ``customers`` and ``persons`` matched, ``split_persons`` (share
        of the persons whose purchases are on 2+ OneIDs), ``purity`` (mean share of a OneID's
        records from its person), per person ``rank_corr_purchases`` (Spearman, predicted vs
        true expected purchases), ``rank_corr_clv`` (CLV vs true expected purchases x mean
        spend) and ``rank_corr_rate`` (predicted purchases vs the latent rate, people alive only),
        ``predicted_purchases`` and ``true_purchases`` (totals over the horizon), per customer
        ``mean_p_alive``, ``alive_share``, ``auc_alive`` (how well P(alive) ranks alive above
        dropped-out repeat buyers; 0.5 = chance) and ``auc_alive_all`` (all customers).
    """
    _require(record_oneid, ["record_key", "oneid"], "record_oneid")
    _require(record_person, ["record_key", "person_id"], "record_person")
    _require(
        persons,
        ["person_id", "purchase_rate", "dropout_rate", "dropout_time", "mean_spend"],
        "persons",
    )
    if not isinstance(horizon_days, int | np.integer) or horizon_days < 1:
        raise ValueError(f"horizon_days must be a positive integer, got {horizon_days!r}")
    m = record_oneid[["record_key", "oneid"]].merge(
        record_person[["record_key", "person_id"]], on="record_key"
    )
    m = m[m["oneid"].isin(mv.summary.index)]
    if m.empty:
        raise ValueError("no customer's records are in the truth table")
    cnt = m.groupby(["oneid", "person_id"], sort=True).size().rename("n").reset_index()
    cnt["purity"] = cnt["n"] / cnt.groupby("oneid")["n"].transform("sum")
    best = cnt.sort_values(["oneid", "n", "person_id"], ascending=[True, False, True])
    best = best.drop_duplicates("oneid").set_index("oneid")
    per = persons.set_index("person_id")
    missing = ~best["person_id"].isin(per.index)
    if missing.any():
        raise ValueError(
            f"persons has no row for person {best['person_id'][missing.to_numpy()].iloc[0]!r}"
        )
    unit = 7.0 if mv.model.freq == "W" else 1.0
    cust = pd.DataFrame(
        {
            "person_id": best["person_id"],
            "e": mv.model.expected_purchases(
                mv.summary.reindex(best.index), horizon_days / unit
            ).to_numpy(),
            "clv": mv.predictions[mv.clv_col].reindex(best.index).to_numpy(),
            "p_alive": mv.predictions["p_alive"].reindex(best.index).to_numpy(),
        },
        index=best.index,
    )
    ppl = cust.groupby("person_id").agg(e=("e", "sum"), clv=("clv", "sum"), n=("e", "size"))
    ppl = ppl.join(per[["purchase_rate", "dropout_rate", "dropout_time", "mean_spend"]])
    h = horizon_days / 365.25
    limit = mv.end + pd.Timedelta(days=1)
    ppl_alive = (pd.to_datetime(ppl["dropout_time"]) >= limit).to_numpy()
    lam = ppl["purchase_rate"].to_numpy(dtype="float64")
    mu = ppl["dropout_rate"].to_numpy(dtype="float64")
    life = np.where(mu > 0, -np.expm1(-mu * h) / np.where(mu > 0, mu, 1.0), h)
    true_e = ppl_alive * lam * life
    true_v = true_e * ppl["mean_spend"].to_numpy(dtype="float64")
    e = ppl["e"].to_numpy()
    alive = cust["person_id"].map(pd.Series(ppl_alive, index=ppl.index)).to_numpy(dtype=bool)
    pa = cust["p_alive"].to_numpy()
    repeat = (mv.summary["frequency"].reindex(best.index) > 0).to_numpy()
    rate_corr = np.nan
    if ppl_alive.sum() > 2:
        rate_corr = float(stats.spearmanr(e[ppl_alive], lam[ppl_alive]).statistic)
    figures = {
        "customers": float(len(cust)),
        "persons": float(len(ppl)),
        "split_persons": float((ppl["n"] > 1).mean()),
        "purity": float(best["purity"].mean()),
        "rank_corr_purchases": float(stats.spearmanr(e, true_e).statistic),
        "rank_corr_clv": float(stats.spearmanr(ppl["clv"].to_numpy(), true_v).statistic),
        "rank_corr_rate": rate_corr,
        "predicted_purchases": float(e.sum()),
        "true_purchases": float(true_e.sum()),
        "mean_p_alive": float(pa.mean()),
        "alive_share": float(alive.mean()),
        "auc_alive": _auc(pa[repeat], alive[repeat]),
        "auc_alive_all": _auc(pa, alive),
    }
    pr, ar = pa[repeat], alive[repeat]
    parts = []
    if len(pr):
        k = max(min(int(bins), len(pr)), 1)
        b = (stats.rankdata(pr, method="ordinal").astype(np.int64) - 1) * k // len(pr)
        g = (
            pd.DataFrame({"bin": b + 1, "p": pr, "alive": ar})
            .groupby("bin")
            .agg(customers=("p", "size"), mean_p_alive=("p", "mean"), alive_share=("alive", "mean"))
            .reset_index()
        )
        g.insert(0, "group", [f"repeat buyers, P(alive) {i}/{k}" for i in g["bin"]])
        parts.append(g.drop(columns="bin"))
    if (~repeat).any():
        parts.append(
            pd.DataFrame(
                {
                    "group": ["one-time buyers"],
                    "customers": [int((~repeat).sum())],
                    "mean_p_alive": [float(pa[~repeat].mean())],
                    "alive_share": [float(alive[~repeat].mean())],
                }
            )
        )
    return pd.concat(parts, ignore_index=True), figures


def _auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count half); NaN with one class only."""
    n1 = int(positive.sum())
    n0 = len(positive) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = stats.rankdata(score)
    return float((ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


# --------------------------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------------------------


def plot_tgi(
    t: pd.DataFrame,
    title: str,
    highlight: float = 120.0,
    ncols: int = 3,
    labels: Mapping[str, str] | None = None,
) -> Any:
    """TGI per attribute value as bars diverging from 100 on a log scale, with 95% intervals.

    Dark blue: significantly over-represented (interval above 100) and at least ``highlight``;
    light blue: significantly over-represented below ``highlight``; red: significantly
    under-represented; grey: not significant. Suppressed cells are marked, not drawn.

    Parameters
    ----------
    t : DataFrame
        :func:`omni.tgi.tgi` output.
    title : str
        Figure title.
    highlight : float
        TGI from which an over-represented trait is called out.
    ncols : int
        Panels per row (one panel per attribute).
    labels : dict, optional
        Attribute -> panel title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    _require(
        t,
        ["attribute", "value", "tgi", "ci_low", "ci_high", "significant", "suppressed"],
        "tgi table",
    )
    attrs = list(dict.fromkeys(t["attribute"]))
    if not attrs:
        raise ValueError("the TGI table is empty")
    labels = dict(labels or {})
    ncols = min(ncols, len(attrs))
    nrows = int(np.ceil(len(attrs) / ncols))
    tall = max(int(t.groupby("attribute").size().max()), 2)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.2 * ncols, (0.32 * tall + 1.3) * nrows), squeeze=False
    )
    shown = t.loc[~t["suppressed"].to_numpy(dtype=bool), ["tgi", "ci_low", "ci_high"]]
    finite = shown.to_numpy(dtype="float64")
    finite = finite[np.isfinite(finite) & (finite > 0)]
    lo = min(50.0, float(finite.min()) / 1.3) if finite.size else 50.0
    hi = max(200.0, float(finite.max()) * 1.3) if finite.size else 200.0
    colors = {"high": "#08519c", "over": "#6baed6", "under": "#cf222e", "ns": "#b0b0b0"}
    for ax, a in zip(axes.flat, attrs, strict=False):  # one panel per attribute (a handful)
        d = t[t["attribute"] == a]
        y = np.arange(len(d))
        v = d["tgi"].to_numpy(dtype="float64")
        sig = d["significant"].to_numpy(dtype=bool)
        sup = d["suppressed"].to_numpy(dtype=bool)
        kind = np.where(
            ~sig, "ns", np.where(v >= 100, np.where(v >= highlight, "high", "over"), "under")
        )
        ok = np.isfinite(v) & ~sup
        ax.barh(y[ok], v[ok] - 100.0, left=100.0, color=[colors[k] for k in kind[ok]], height=0.7)
        ci = ok & np.isfinite(d["ci_low"].to_numpy(dtype="float64"))
        ax.errorbar(
            v[ci],
            y[ci],
            xerr=np.vstack(
                [v[ci] - d["ci_low"].to_numpy()[ci], d["ci_high"].to_numpy()[ci] - v[ci]]
            ),
            fmt="none",
            ecolor="black",
            elinewidth=0.8,
            capsize=2,
        )
        for yy in y[sup]:
            ax.text(
                lo * 1.05, yy, "suppressed (few people)", va="center", fontsize=7, color="#57606a"
            )
        ax.axvline(100, color="black", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ticks = [tk for tk in (10, 25, 50, 100, 200, 400, 800, 1600) if lo <= tk <= hi]
        ax.set_xticks(ticks, [str(tk) for tk in ticks])
        ax.minorticks_off()
        ax.set_yticks(y, [str(x) for x in d["value"]], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(labels.get(a, a), fontsize=10)
        ax.set_xlabel("TGI (100 = as common as in the base; log scale)", fontsize=8)
    for ax in list(axes.flat)[len(attrs) :]:
        ax.axis("off")
    handles = [
        Patch(color=colors["high"], label=f"over-represented, TGI >= {highlight:g}"),
        Patch(color=colors["over"], label="over-represented"),
        Patch(color=colors["under"], label="under-represented"),
        Patch(color=colors["ns"], label="not significant (95% interval spans 100)"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig
