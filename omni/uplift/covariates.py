"""Covariates of each person measured before a campaign starts: RFM class, CLV tier, channel mix.

The one place uplift computes customer value as of a date (the campaign start). It is meant to be
replaced by ``omni.value.customer_value(workspace, as_of)`` once that exists: the signature
(orders, as of date, profiles, people) and the columns returned are the contract.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from omni.uplift._common import require_columns

__all__ = ["NO_PURCHASE", "RECENCY_CAP_DAYS", "SEGMENT_COLUMNS", "pre_period_covariates"]

NO_PURCHASE = "no purchase"
#: Days since the last purchase are capped here (and people who never bought get the cap).
RECENCY_CAP_DAYS = 1095
#: Segment columns produced by :func:`pre_period_covariates`.
SEGMENT_COLUMNS = ("rfm_segment", "clv_tier", "pre_channel_mix", "city_tier")


def pre_period_covariates(
    orders: pd.DataFrame,
    start_date: object,
    profiles: pd.DataFrame | None = None,
    people: Sequence[str] | pd.Index | None = None,
    clv: bool = True,
    clv_months: int = 12,
) -> pd.DataFrame:
    """Covariates of each person measured strictly before a campaign starts.

    RFM class: the 8-class scheme of :func:`omni.value.rfm.rfm_segments` (mean thresholds) on
    :func:`omni.value.rfm.rfm_summary` of every paid order before ``start_date`` (all customers, so
    the classes mean what they mean in the CRM); CLV tier: :class:`omni.value.clv.CLVModel`
    (BG/NBD + Gamma-Gamma, weeks) fitted on the same summary, 12-month discounted CLV cut by
    :func:`omni.value.clv.value_tiers` (A top 10%, B next 20%, C next 30%, D rest); channel mix of
    those orders (online only / store only / omnichannel). People without an order before the
    start are ``"no purchase"`` everywhere. ``city_tier`` and ``age_band`` come from
    ``profiles`` (stable attributes); the profiles' own channel columns are not used because
    they include orders placed during the campaign (a post-treatment variable).

    Parameters
    ----------
    orders
        Unified ``orders`` (oneid, order_time, amount, status, channel).
    start_date
        Campaign start; orders on or after its day are ignored.
    profiles
        Unified profiles (oneid, city_tier, age_band), optional.
    people
        Oneids to return (default: everyone with an order or a profile).
    clv
        Fit the CLV model (a few seconds); False leaves ``clv_tier`` and ``log_clv`` out.
    clv_months
        CLV horizon in months.

    Returns
    -------
    pandas.DataFrame
        One row per oneid: rfm_segment, clv_tier, log_clv, pre_channel_mix, city_tier,
        age_band (where available). ``attrs["warnings"]`` lists problems met (e.g. a CLV fit
        that failed), ``attrs["rfm_thresholds"]`` the RFM thresholds.
    """
    from omni.value.rfm import rfm_segments, rfm_summary

    require_columns(orders, ["oneid", "order_time", "amount", "status"], "orders")
    start = pd.Timestamp(start_date).normalize()
    notes: list[str] = []
    times = pd.to_datetime(orders["order_time"], errors="coerce")
    pre = orders.loc[(times < start).to_numpy() & orders["oneid"].notna().to_numpy()]
    amount = pd.to_numeric(pre["amount"], errors="coerce")
    bad = (amount < 0).to_numpy(dtype=bool, na_value=False) | amount.isna().to_numpy()
    if bad.any():  # a data problem for the audit; RFM and CLV need non-negative amounts
        notes.append(f"{int(bad.sum()):,} order(s) before {start:%Y-%m-%d} with a negative or "
                     "missing amount left out of the RFM and CLV covariates")
        pre = pre.loc[~bad]
    paid_pre = pre[pre["status"].astype(str) == "paid"]
    if people is None:
        ids = pd.Index(pd.unique(orders["oneid"].dropna().astype(str)))
        if profiles is not None:
            ids = ids.union(pd.Index(profiles["oneid"].astype(str)))
    else:
        ids = pd.Index(pd.unique(np.asarray(people, dtype=object).astype(str)))
    out = pd.DataFrame(index=ids.rename("oneid"))

    summary = None
    if len(paid_pre):
        summary = rfm_summary(pre, observation_end=start - pd.Timedelta(days=1), freq="W")
        summary.index = summary.index.astype(str)
        seg = rfm_segments(summary)
        out["rfm_segment"] = seg["segment_en"].astype(str).reindex(ids).fillna(NO_PURCHASE)
        # the R, F, M numbers themselves, on a log scale, for the uplift model
        days = summary["days_since_last"].reindex(ids).to_numpy(dtype="float64")
        out["log_recency"] = np.log1p(np.where(np.isnan(days), RECENCY_CAP_DAYS,
                                               np.minimum(days, RECENCY_CAP_DAYS)))
        out["log_frequency"] = np.log1p(summary["n_orders"].reindex(ids).fillna(0).to_numpy(
            dtype="float64"))
        out["log_monetary"] = np.log1p(summary["revenue"].reindex(ids).fillna(0).to_numpy(
            dtype="float64"))
        out.attrs["rfm_thresholds"] = seg.attrs.get("thresholds")
    else:
        out["rfm_segment"] = NO_PURCHASE
        out["log_recency"] = np.log1p(RECENCY_CAP_DAYS)
        out["log_frequency"] = 0.0
        out["log_monetary"] = 0.0
        notes.append(f"no paid order before {start:%Y-%m-%d}: RFM classes are all 'no purchase'")
    if clv:
        _add_clv(out, summary, ids, start, clv_months, notes)
    if "channel" in paid_pre.columns and len(paid_pre):
        out["pre_channel_mix"] = _channel_mix(paid_pre, ids)
    if profiles is not None:
        require_columns(profiles, ["oneid"], "profiles")
        prof = profiles.set_index(profiles["oneid"].astype(str))
        for col in ("city_tier", "age_band"):
            if col in prof.columns:
                out[col] = prof[col].astype("object").reindex(ids).to_numpy()
    out.attrs["warnings"] = notes
    return out.reset_index()


def _add_clv(out: pd.DataFrame, summary: pd.DataFrame | None, ids: pd.Index, start: pd.Timestamp,
             clv_months: int, notes: list[str]) -> None:
    """CLV tier and log CLV columns (BG/NBD + Gamma-Gamma on the RFM summary), added to ``out``."""
    from omni.value.clv import CLVModel, value_tiers

    tier = pd.Series(NO_PURCHASE, index=ids, dtype=object)
    log_clv = pd.Series(0.0, index=ids)
    if summary is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = CLVModel(model="bgnbd", freq="W").fit(summary)
                value = model.clv(summary, months=clv_months)
            notes.extend(f"CLV: {w}" for w in model.warnings_)
            ok = np.isfinite(value.to_numpy(dtype="float64"))
            value = value.where(ok, 0.0).clip(lower=0.0)
            tiers = value_tiers(value).astype(str)
            tier.loc[tiers.index.intersection(ids)] = tiers.reindex(ids).dropna()
            log_clv = np.log1p(value).reindex(ids).fillna(0.0)
        except (ValueError, RuntimeError, np.linalg.LinAlgError) as exc:
            notes.append(f"CLV model not fitted before {start:%Y-%m-%d}: {exc}")
            tier[:] = np.nan
            log_clv[:] = 0.0
    out["clv_tier"] = tier
    out["log_clv"] = log_clv.astype("float64")


def _channel_mix(paid_pre: pd.DataFrame, ids: pd.Index) -> pd.Series:
    """Online only / store only / omnichannel from the paid orders before the start."""
    online = (paid_pre["channel"].astype(str) != "store").to_numpy()
    kinds = (
        pd.DataFrame({"oneid": paid_pre["oneid"].astype(str).to_numpy(), "online": online})
        .groupby("oneid")["online"].agg(["any", "all"])
    )
    mix = pd.Series(
        np.select([kinds["all"], ~kinds["any"]], ["online only", "store only"], "omnichannel"),
        index=kinds.index,
    )
    return mix.reindex(ids).fillna(NO_PURCHASE)
