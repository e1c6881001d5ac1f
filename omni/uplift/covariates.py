"""Covariates of each person measured before a campaign starts: RFM class, CLV tier, channel mix.

Customer value as of the campaign start is not computed here: it is read from
:func:`omni.value.customer_rfm` and :func:`omni.value.customer_value` (memoized on the workspace,
so a campaign analysed twice, or another analysis at the same date and settings, fits the CLV
model once). :func:`covariates_of_value` turns them into the per-person columns.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from omni.core.month import Month
from omni.uplift._common import require_columns
from omni.value.customer import (
    CustomerRFM,
    CustomerValue,
    NoPaidOrdersError,
    customer_rfm,
    customer_value,
)
from omni.workspace import Workspace

__all__ = [
    "PROFILE_COVARIATES",
    "NO_PURCHASE",
    "RECENCY_CAP_DAYS",
    "SEGMENT_COLUMNS",
    "VALUE_SETTINGS",
    "covariates_of_value",
    "pre_period_covariates",
]

NO_PURCHASE = "no purchase"
#: Days since the last purchase are capped here (and people who never bought get the cap).
RECENCY_CAP_DAYS = 1095
#: Segment columns produced by :func:`pre_period_covariates`.
#: The profile columns the covariates read (stable attributes).
PROFILE_COVARIATES = ("city_tier", "age_band")
SEGMENT_COLUMNS = ("rfm_segment", "clv_tier", "pre_channel_mix", "city_tier")
#: The customer value settings of the covariates: every paid order before the start, anonymous
#: buyers included (so the classes mean what they mean in the CRM), BG/NBD without a holdout check.
VALUE_SETTINGS = {"include_anonymous": True, "model": "bgnbd", "check": False}


def pre_period_covariates(
    workspace: Workspace,
    start_date: object,
    people: Sequence[str] | pd.Index,
    resolution: Month | str | None = None,
    profiles: pd.DataFrame | None = None,
    clv: bool = True,
    clv_months: int = 12,
) -> pd.DataFrame:
    """Covariates of each person measured strictly before a campaign starts, from a workspace.

    Customer value as of the start day (:func:`omni.value.customer_rfm`,
    :func:`omni.value.customer_value` with :data:`VALUE_SETTINGS`): RFM class of the 8-class
    scheme (mean thresholds), CLV tier (BG/NBD + Gamma-Gamma in weeks, 12-month discounted CLV;
    A top 10%, B next 20%, C next 30%, D rest), then :func:`covariates_of_value`.

    Parameters
    ----------
    workspace : Workspace
        The dataset (``omni.open``).
    start_date
        Campaign start; orders on or after its day are ignored.
    people
        Oneids to return.
    resolution : Month or str, optional
        The month whose resolution (OneIDs, unified orders) is read (the report month); default:
        the month before the start day.
    profiles
        Unified profiles (oneid, city_tier, age_band), optional.
    clv
        Read the CLV tiers (a CLV model fit per campaign start and settings); False leaves
        ``clv_tier`` and ``log_clv`` out and fits nothing.
    clv_months
        CLV horizon in months.

    Returns
    -------
    pandas.DataFrame
        As :func:`covariates_of_value`.
    """
    start = pd.Timestamp(start_date).normalize()
    notes: list[str] = []
    try:
        rfm = customer_rfm(workspace, start, resolution=resolution, include_anonymous=True)
    except NoPaidOrdersError:
        rfm = None
    value = None
    if clv and rfm is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = customer_value(workspace, start, resolution=resolution, clv_months=clv_months,
                                       **VALUE_SETTINGS)
        except (ValueError, RuntimeError, np.linalg.LinAlgError) as exc:
            notes.append(f"CLV model not fitted before {start:%Y-%m-%d}: {exc}")
    return covariates_of_value(rfm, start, people, profiles, value=value, clv=clv, notes=notes)


def covariates_of_value(
    rfm: CustomerRFM | None,
    start_date: object,
    people: Sequence[str] | pd.Index,
    profiles: pd.DataFrame | None = None,
    value: CustomerValue | None = None,
    clv: bool = True,
    notes: Sequence[str] = (),
) -> pd.DataFrame:
    """Per-person covariates from customer value as of a campaign start.

    People without a paid order before the start are ``"no purchase"`` everywhere. The channel
    mix (online only / store only / omnichannel) is that of the paid orders before the start.
    ``city_tier`` and ``age_band`` come from ``profiles`` (stable attributes); the profiles' own
    channel columns are not used because they include orders placed during the campaign (a
    post-treatment variable).

    Parameters
    ----------
    rfm : CustomerRFM or None
        Customers and RFM classes as of the start (None: no paid order before it).
    start_date
        Campaign start (for the notes).
    people
        Oneids to return.
    profiles
        Unified profiles (oneid, city_tier, age_band), optional.
    value : CustomerValue, optional
        Customer value as of the start with the same customers (for ``clv_tier``, ``log_clv``).
    clv
        Add ``clv_tier`` and ``log_clv``: from ``value``; ``"no purchase"`` and 0 when ``rfm`` is
        None; missing and 0 when ``value`` is None (the model could not be fitted).
    notes
        Problems already met, carried into ``attrs["warnings"]``.

    Returns
    -------
    pandas.DataFrame
        One row per oneid: rfm_segment, log_recency, log_frequency, log_monetary, clv_tier,
        log_clv, pre_channel_mix, city_tier, age_band (where available).
        ``attrs["warnings"]`` lists problems met (e.g. a CLV fit that failed),
        ``attrs["rfm_thresholds"]`` the RFM thresholds.
    """
    start = pd.Timestamp(start_date).normalize()
    notes = list(notes)
    ids = pd.Index(pd.unique(np.asarray(people, dtype=object).astype(str)))
    out = pd.DataFrame(index=ids.rename("oneid"))
    if rfm is not None:
        if rfm.invalid_amounts:  # a data problem for the audit; RFM and CLV need usable amounts
            notes.append(f"{rfm.invalid_amounts:,} paid order(s) before {start:%Y-%m-%d} with a negative "
                         "or missing amount left out of the RFM and CLV covariates")
        _add_rfm(out, rfm, ids)
    else:
        out["rfm_segment"] = NO_PURCHASE
        out["log_recency"] = np.log1p(RECENCY_CAP_DAYS)
        out["log_frequency"] = 0.0
        out["log_monetary"] = 0.0
        notes.append(f"no paid order before {start:%Y-%m-%d}: RFM classes are all 'no purchase'")
    if clv:
        _add_clv(out, rfm, value, ids, notes)
    if rfm is not None and "channel" in rfm.orders.columns:
        out["pre_channel_mix"] = _channel_mix(rfm.orders, ids)
    if profiles is not None:
        require_columns(profiles, ["oneid"], "profiles")
        prof = profiles.set_index(profiles["oneid"].astype(str))
        for col in PROFILE_COVARIATES:
            if col in prof.columns:
                out[col] = prof[col].astype("object").reindex(ids).to_numpy()
    out.attrs["warnings"] = notes
    return out.reset_index()


def _by_oneid(values: pd.Series) -> pd.Series:
    """A copy of a per-customer column indexed by the oneid as text (memoized inputs stay as they are)."""
    return pd.Series(values.to_numpy(), index=values.index.astype(str))


class _Lookup:
    """``_by_oneid(values).reindex(ids)`` for columns sharing one index, with the positions of
    ``ids`` found once (each reindex would hash every customer's OneID again)."""

    def __init__(self, index: pd.Index, ids: pd.Index):
        self.index, self.ids = index, ids
        text = index.astype(str)
        self.pos = text.get_indexer(ids) if text.is_unique else None

    def __call__(self, values: pd.Series) -> pd.Series:
        if self.pos is None or values.index is not self.index:
            return _by_oneid(values).reindex(self.ids)
        # by position (-1: not a customer, filled as reindex fills it: NaN, ints become floats)
        return pd.Series(values.to_numpy()).reindex(self.pos).set_axis(self.ids)


def _add_rfm(out: pd.DataFrame, rfm: CustomerRFM, ids: pd.Index) -> None:
    """RFM class and the R, F, M numbers on a log scale (for the uplift model), added to ``out``."""
    summary, seg = rfm.summary, rfm.segments
    look = _Lookup(summary.index, ids)
    out["rfm_segment"] = look(seg["segment_en"].astype(str)).fillna(NO_PURCHASE)
    days = look(summary["days_since_last"]).to_numpy(dtype="float64")
    out["log_recency"] = np.log1p(np.where(np.isnan(days), RECENCY_CAP_DAYS,
                                           np.minimum(days, RECENCY_CAP_DAYS)))
    out["log_frequency"] = np.log1p(look(summary["n_orders"]).fillna(0).to_numpy(dtype="float64"))
    out["log_monetary"] = np.log1p(look(summary["revenue"]).fillna(0).to_numpy(dtype="float64"))
    out.attrs["rfm_thresholds"] = seg.attrs.get("thresholds")


def _add_clv(out: pd.DataFrame, rfm: CustomerRFM | None, value: CustomerValue | None, ids: pd.Index,
             notes: list[str]) -> None:
    """CLV tier and log CLV columns (from the customer value's predictions), added to ``out``."""
    tier = pd.Series(NO_PURCHASE, index=ids, dtype=object)
    log_clv = pd.Series(0.0, index=ids)
    if value is not None:
        notes.extend(f"CLV: {w}" for w in value.model.warnings_)
        pred = value.predictions
        look = _Lookup(pred.index, ids)
        tiers = look(pred["value_tier"].astype(str))
        tier.loc[tiers.notna().to_numpy()] = tiers.dropna()
        log_clv = np.log1p(look(pred[value.clv_col]).clip(lower=0.0)).fillna(0.0)
    elif rfm is not None:  # customers, but the model could not be fitted (noted by the caller)
        tier[:] = np.nan
    out["clv_tier"] = tier
    out["log_clv"] = log_clv.astype("float64")


def _channel_mix(paid_pre: pd.DataFrame, ids: pd.Index) -> pd.Series:
    """Online only / store only / omnichannel from the paid orders before the start."""
    ch = paid_pre["channel"]
    if isinstance(ch.dtype, pd.CategoricalDtype):  # on the categories, not on every order
        online = np.append(np.asarray(ch.cat.categories.astype(str)) != "store", True)[ch.cat.codes.to_numpy()]
    else:
        online = (ch.astype(str) != "store").to_numpy()
    # per person (integer codes, not a groupby on the text of every order's OneID)
    oneid = paid_pre["oneid"]
    text = isinstance(oneid.dtype, pd.StringDtype) and not oneid.isna().any()
    codes, people = pd.factorize(oneid if text else oneid.astype(str).to_numpy())
    n = np.bincount(codes, minlength=len(people))
    n_online = np.bincount(codes, weights=online, minlength=len(people))
    mix = pd.Series(
        np.select([n_online == n, n_online == 0], ["online only", "store only"], "omnichannel"),
        index=pd.Index(people).astype(str),
    )
    return mix.reindex(ids).fillna(NO_PURCHASE)
