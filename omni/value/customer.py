"""Customer value as of a date: the one place it is computed (RFM, classes, CLV, P(alive), tiers).

:func:`customer_value` is what the value report, the campaign uplift covariates and the audience
features read: it takes the paid orders of a workspace's resolution up to ``as_of``, builds the
customer summary and the 8-class RFM segments, runs the calibration/holdout check of the purchase
models, refits the chosen model on all purchases and predicts each customer's P(alive), expected
purchases, CLV and value tier. It is memoized on the workspace, so the three analyses fit it once
per date and settings. :func:`customer_rfm` is its first stage alone (customers, summary, RFM
classes; no model fitted), memoized too and shared with :func:`customer_value`.
:func:`value_of_orders` and :func:`rfm_of_orders` do the same from an orders table (tests, CDNOW).

Customers are the OneIDs with at least one paid order (:func:`omni.core.orders.paid_order_mask`)
before ``as_of``; anonymous orders (a record without any usable identifier) are left out unless
``include_anonymous``. Method notes: ``docs/clv.md``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from omni.core.month import Month
from omni.core.orders import is_paid, paid_order_mask
from omni.core.strings import isin
from omni.value.clv import CLVModel, holdout_check
from omni.value.rfm import rfm_segments, rfm_summary
from omni.workspace import Workspace

__all__ = [
    "FREQ",
    "CustomerRFM",
    "CustomerValue",
    "NoPaidOrdersError",
    "as_of_bound",
    "customer_orders",
    "customer_rfm",
    "customer_value",
    "identified_orders",
    "restate",
    "rfm_of_orders",
    "value_of_orders",
]

#: Time unit of the customer summaries: weeks (days / 7), purchases merged per day.
FREQ = "W"
_MODELS = ("auto", "bgnbd", "paretonbd")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _require(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {missing}; has {list(df.columns)}")


def as_of_bound(as_of: Month | str | pd.Timestamp) -> pd.Timestamp:
    """The exclusive time bound of ``as_of``: a month means its end (the first instant after it).

    ``Month("2026-10")`` and ``"2026-10"`` give 2026-11-01 00:00; a date or timestamp is taken as
    it is (``"2026-06-18"``: orders before that day's midnight).
    """
    if isinstance(as_of, Month):
        return as_of.end
    if isinstance(as_of, str):
        if len(as_of) == 7:
            return Month.parse(as_of).end
        if not _ISO_DATE.match(as_of):
            raise ValueError(f"as_of must be a month YYYY-MM or a date YYYY-MM-DD, got {as_of!r}")
    t = pd.Timestamp(as_of)
    if t is pd.NaT or pd.isna(t):
        raise ValueError(f"as_of must be a month YYYY-MM or a date YYYY-MM-DD, got {as_of!r}")
    return t


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
    anon = isin(orders["order_key"], anon_keys)
    return orders.loc[~anon], int((anon & is_paid(orders["status"])).sum())


def customer_orders(orders: pd.DataFrame, as_of: pd.Timestamp | None = None) -> tuple[pd.DataFrame, int]:
    """The orders customer value is built from: paid, with a usable amount and a OneID.

    Parameters
    ----------
    orders : DataFrame
        ``oneid, order_time, amount, status`` (other columns kept).
    as_of : Timestamp, optional
        Exclusive bound: later orders are left out.

    Returns
    -------
    (DataFrame, int)
        The orders and how many *paid* orders (before ``as_of``) were left out for a missing,
        negative or non-finite amount (:func:`omni.core.orders.paid_order_mask`).
    """
    _require(orders, ["oneid", "order_time", "amount", "status"], "orders")
    if as_of is not None:
        orders = orders.loc[(pd.to_datetime(orders["order_time"]) < as_of).to_numpy()]
    ok = paid_order_mask(orders)
    n_bad = int((is_paid(orders["status"]) & ~ok).sum())
    return orders.loc[ok & orders["oneid"].notna().to_numpy()], n_bad


@dataclass
class CustomerValue:
    """Customer value as of a date (:func:`customer_value`, :func:`value_of_orders`).

    Attributes
    ----------
    as_of : Timestamp
        Exclusive bound: orders before it count.
    end : Timestamp
        The last day included (midnight; the summaries include the whole day).
    orders : DataFrame
        The paid orders the value is built from (:func:`customer_orders`).
    summary : DataFrame
        :func:`omni.value.rfm.rfm_summary` at ``end`` in weeks, indexed by oneid.
    segments : DataFrame
        :func:`omni.value.rfm.rfm_segments` of the summary.
    predictions : DataFrame
        :meth:`omni.value.clv.CLVModel.predict` (``p_alive``, ``churn_risk``,
        ``expected_purchases_<h>d``, ``p_purchase_<h>d``, ``expected_avg_value``,
        ``clv_<months>m``, ``value_tier``).
    model : CLVModel
        Purchase + spend model fitted on all purchases to ``end``.
    check : CLVModel or None
        The model(s) fitted on the calibration period and scored on the holdout.
    calibration_end : Timestamp or None
        Last day of the calibration period (None when the check was not run).
    check_skipped : {None, "not run", "too short"}
        Why there is no check; with ``"too short"``, ``skipped_calibration_end`` and
        ``first_purchase`` say why.
    invalid_amounts, anonymous_orders : int
        Paid orders left out for an unusable amount, and anonymous paid orders left out.
    clv_col : str
        ``clv_<months>m``.
    settings : dict
        The settings used.
    """

    as_of: pd.Timestamp
    end: pd.Timestamp
    orders: pd.DataFrame
    summary: pd.DataFrame
    segments: pd.DataFrame
    predictions: pd.DataFrame
    model: CLVModel
    check: CLVModel | None
    calibration_end: pd.Timestamp | None
    check_skipped: str | None
    skipped_calibration_end: pd.Timestamp | None
    first_purchase: pd.Timestamp
    invalid_amounts: int
    anonymous_orders: int
    clv_col: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def customers(self) -> pd.Index:
        """The customers' OneIDs."""
        return self.summary.index


def _check_settings(model: str, holdout_weeks: Any, clv_months: Any) -> None:
    if not isinstance(holdout_weeks, int | np.integer) or holdout_weeks < 1:
        raise ValueError(f"holdout_weeks must be a positive integer, got {holdout_weeks!r}")
    if model not in _MODELS:
        raise ValueError(f"model must be 'auto', 'bgnbd' or 'paretonbd', got {model!r}")
    if not isinstance(clv_months, int | np.integer) or clv_months < 1:
        raise ValueError(f"clv_months must be a positive integer, got {clv_months!r}")


class NoPaidOrdersError(ValueError):
    """No paid order (with a usable amount and a OneID) before the as-of date: no customers."""


@dataclass
class CustomerRFM:
    """The customers as of a date and their RFM classes (:func:`customer_rfm`, :func:`rfm_of_orders`).

    The first stage of :class:`CustomerValue`, without the purchase and spend models: what RFM
    readers (audience classes, campaign covariates) need when no CLV is asked for.

    Attributes
    ----------
    as_of, end, orders, summary, segments, invalid_amounts, anonymous_orders
        As in :class:`CustomerValue`.
    rfm_threshold : {"mean", "median"}
        Threshold statistic of the 8-class scheme.
    """

    as_of: pd.Timestamp
    end: pd.Timestamp
    orders: pd.DataFrame
    summary: pd.DataFrame
    segments: pd.DataFrame
    invalid_amounts: int
    anonymous_orders: int
    rfm_threshold: str

    @property
    def customers(self) -> pd.Index:
        """The customers' OneIDs."""
        return self.summary.index


def rfm_of_orders(
    orders: pd.DataFrame,
    as_of: Month | str | pd.Timestamp,
    rfm_threshold: Literal["mean", "median"] = "mean",
    anonymous_orders: int = 0,
) -> CustomerRFM:
    """The customer summary (weeks, purchases on one day merged) and 8-class RFM segments.

    Parameters
    ----------
    orders : DataFrame
        ``oneid, order_time, amount, status`` (unified ``orders``; other columns kept).
    as_of : Month, str or Timestamp
        A month (its end) or an exclusive time bound (:func:`as_of_bound`).
    rfm_threshold : {"mean", "median"}
        Threshold statistic of the 8-class scheme.
    anonymous_orders : int
        Anonymous paid orders the caller left out (recorded on the result).

    Returns
    -------
    CustomerRFM

    Raises
    ------
    NoPaidOrdersError
        When no paid order falls before ``as_of``.
    ValueError
        On a bad date, missing columns or bad order rows.
    """
    bound = as_of_bound(as_of)
    end = (bound - pd.Timedelta(seconds=1)).normalize()
    clean, n_bad = customer_orders(orders, bound)
    if clean.empty:
        raise NoPaidOrdersError("no purchases left after filtering status, customer id and dates")
    summary = rfm_summary(clean, end, freq=FREQ)
    return CustomerRFM(as_of=bound, end=end, orders=clean, summary=summary,
                       segments=rfm_segments(summary, threshold=rfm_threshold), invalid_amounts=n_bad,
                       anonymous_orders=int(anonymous_orders), rfm_threshold=rfm_threshold)


def _value_of_rfm(
    rfm: CustomerRFM,
    model: str,
    holdout_weeks: int,
    check: bool,
    clv_months: int,
    discount_rate_annual: float,
    tier_shares: Sequence[float],
) -> CustomerValue:
    """Steps 2 and 3 of :func:`value_of_orders` on a :class:`CustomerRFM`."""
    clean, summary, end = rfm.orders, rfm.summary, rfm.end
    hc = None
    if check:
        hc = holdout_check(clean, summary, end, holdout_weeks, model, discount_rate_annual, FREQ)
    checker = hc.model if hc is not None else None
    final = CLVModel(model=checker.model_ if checker is not None else model, freq=FREQ,
                     discount_rate_annual=discount_rate_annual).fit(summary)
    if final.gg_params_ is None:
        raise ValueError(
            "the spend model (Gamma-Gamma) could not be fitted, so there is no CLV: "
            + "; ".join(w for w in final.warnings_ if "Gamma-Gamma" in w)
        )
    tiers = tuple(float(s) for s in tier_shares)
    pred = final.predict(summary, horizons_days=(30, 90), months=int(clv_months), tiers=tiers)
    return CustomerValue(
        as_of=rfm.as_of, end=end, orders=clean, summary=summary, segments=rfm.segments,
        predictions=pred, model=final, check=checker,
        calibration_end=hc.calibration_end if checker is not None else None,
        check_skipped="not run" if hc is None else hc.skipped,
        skipped_calibration_end=hc.calibration_end if hc is not None and checker is None else None,
        first_purchase=pd.Timestamp(summary["first_purchase"].min()).normalize(),
        invalid_amounts=rfm.invalid_amounts, anonymous_orders=rfm.anonymous_orders,
        clv_col=f"clv_{int(clv_months)}m",
        settings={"model": model, "holdout_weeks": int(holdout_weeks), "check": bool(check),
                  "clv_months": int(clv_months), "discount_rate_annual": float(discount_rate_annual),
                  "tier_shares": tiers, "rfm_threshold": rfm.rfm_threshold},
    )


def value_of_orders(
    orders: pd.DataFrame,
    as_of: Month | str | pd.Timestamp,
    model: Literal["auto", "bgnbd", "paretonbd"] = "auto",
    holdout_weeks: int = 26,
    check: bool = True,
    clv_months: int = 12,
    discount_rate_annual: float = 0.10,
    tier_shares: Sequence[float] = (0.10, 0.20, 0.30),
    rfm_threshold: Literal["mean", "median"] = "mean",
    anonymous_orders: int = 0,
) -> CustomerValue:
    """RFM segments, a checked purchase model and CLV predictions from an orders table.

    1. Customer summary of the paid orders before ``as_of`` (weeks; purchases on one day are
       one purchase occasion) and the 8-class RFM segments.
    2. With ``check``: the purchase model(s) fitted on the purchases up to ``holdout_weeks``
       before the end day and scored on the rest (:func:`omni.value.clv.holdout_check`);
       ``"auto"`` keeps the model with the lower holdout RMSE.
    3. The chosen model (plus Gamma-Gamma) refitted on all purchases, and the per-customer
       predictions (30- and 90-day horizons, CLV over ``clv_months``, value tiers).

    Parameters
    ----------
    orders : DataFrame
        ``oneid, order_time, amount, status`` (unified ``orders``; other columns ignored).
    as_of : Month, str or Timestamp
        A month (its end) or an exclusive time bound (:func:`as_of_bound`).
    model : {"auto", "bgnbd", "paretonbd"}
        Purchase model. ``"auto"`` without ``check`` chooses by log-likelihood.
    holdout_weeks : int
        Length of the holdout of the model check.
    check : bool
        Run the calibration/holdout check (skipped, ``check_skipped="too short"``, when no
        purchase falls before the calibration end).
    clv_months : int
        CLV horizon.
    discount_rate_annual : float
        Annual discount rate of the CLV.
    tier_shares : sequence of float
        Customer shares of value tiers A, B, C, ... (rest: the last tier).
    rfm_threshold : {"mean", "median"}
        Threshold statistic of the 8-class scheme.
    anonymous_orders : int
        Anonymous paid orders the caller left out (recorded on the result).

    Returns
    -------
    CustomerValue

    Raises
    ------
    ValueError
        On a bad date or setting, missing columns, no paid orders before ``as_of``, or a spend
        model that could not be fitted (too few repeat buyers: no CLV).
    """
    as_of_bound(as_of)  # a bad date is reported before a bad setting
    _check_settings(model, holdout_weeks, clv_months)
    rfm = rfm_of_orders(orders, as_of, rfm_threshold, anonymous_orders)
    return _value_of_rfm(rfm, model, holdout_weeks, check, clv_months, discount_rate_annual, tier_shares)


def customer_value(
    workspace: Workspace,
    as_of: Month | str | pd.Timestamp,
    *,
    resolution: Month | str | None = None,
    include_anonymous: bool = False,
    model: Literal["auto", "bgnbd", "paretonbd"] = "auto",
    holdout_weeks: int = 26,
    check: bool = True,
    clv_months: int = 12,
    discount_rate_annual: float = 0.10,
    tier_shares: Sequence[float] = (0.10, 0.20, 0.30),
    rfm_threshold: Literal["mean", "median"] = "mean",
) -> CustomerValue:
    """Customer value as of a date, from a workspace; computed once per date and settings.

    The uses it is made for:

    * the value report: ``customer_value(ws, month)`` for the report month and
      ``customer_value(ws, month.previous, resolution=month, model=<this month's>, check=False)``
      for the month before (the same OneIDs on both dates);
    * campaign uplift, covariates measured before a campaign starts:
      ``customer_value(ws, start_date, resolution=month, model="bgnbd", check=False,
      include_anonymous=True)`` (orders before the start day);
    * audience features at an arbitrary ``as_of`` (``settings`` of the audience definitions;
      RFM classes alone through :func:`customer_rfm`, which this reads too).

    Parameters
    ----------
    workspace : Workspace
        The dataset (``omni.open``).
    as_of : Month, str or Timestamp
        A month (``"2026-10"``: up to its end) or an exclusive time bound (a date such as a
        campaign start: orders before that instant).
    resolution : Month or str, optional
        The month whose resolution (OneIDs, unified orders) is read; default: the month of the
        last instant before ``as_of``. Pass the report month to value an earlier date with the
        report's OneIDs.
    include_anonymous : bool
        Count anonymous orders (a OneID of their own, never a repeat buyer) as customers.
    model, holdout_weeks, check, clv_months, discount_rate_annual, tier_shares, rfm_threshold
        As in :func:`value_of_orders` (without ``check``, ``holdout_weeks`` is not used).

    Returns
    -------
    CustomerValue
        Memoized on the workspace under ``("value.customer_value", as_of, settings)``: do not
        modify it.

    Raises
    ------
    ValueError
        As :func:`value_of_orders`.
    """
    bound = as_of_bound(as_of)
    _check_settings(model, holdout_weeks, clv_months)
    rfm_kw = {"resolution": _resolution_month(bound, resolution), "include_anonymous": bool(include_anonymous),
              "rfm_threshold": rfm_threshold}
    fit_kw = {"model": model, "holdout_weeks": int(holdout_weeks), "check": bool(check),
              "clv_months": int(clv_months), "discount_rate_annual": float(discount_rate_annual),
              "tier_shares": tuple(float(s) for s in tier_shares)}
    # without the check, holdout_weeks changes nothing: callers that differ only there share one
    key = {**rfm_kw, **fit_kw, "resolution": str(rfm_kw["resolution"])}
    if not check:
        key["holdout_weeks"] = None

    def compute() -> CustomerValue:
        return _value_of_rfm(customer_rfm(workspace, bound, **rfm_kw), **fit_kw)

    return workspace.memo(("value.customer_value", bound, tuple(sorted(key.items()))), compute, persist="value")


def _resolution_month(bound: pd.Timestamp, resolution: Month | str | None) -> Month:
    """The month whose resolution is read: ``resolution``, else the month of the last instant."""
    return Month.parse(resolution) if resolution is not None else Month.of(bound - pd.Timedelta(seconds=1))


def customer_rfm(
    workspace: Workspace,
    as_of: Month | str | pd.Timestamp,
    *,
    resolution: Month | str | None = None,
    include_anonymous: bool = False,
    rfm_threshold: Literal["mean", "median"] = "mean",
) -> CustomerRFM:
    """The customers and their RFM classes as of a date, from a workspace; computed once.

    The first stage of :func:`customer_value` (which reads it), for readers that need no CLV:
    no purchase model is fitted. Parameters as in :func:`customer_value`.

    Returns
    -------
    CustomerRFM
        Memoized on the workspace under ``("value.customer_rfm", as_of, settings)``: do not
        modify it.

    Raises
    ------
    NoPaidOrdersError
        When no paid order falls before ``as_of``.
    ValueError
        As :func:`rfm_of_orders`.
    """
    bound = as_of_bound(as_of)
    res_month = _resolution_month(bound, resolution)
    key = (("include_anonymous", bool(include_anonymous)), ("resolution", str(res_month)),
           ("rfm_threshold", rfm_threshold))

    def compute() -> CustomerRFM:
        r = workspace.resolve(as_of=str(res_month))
        orders = r.read("orders")  # not kept by the resolution: the result keeps its clean rows
        orders, n_anon = orders.loc[(pd.to_datetime(orders["order_time"]) < bound).to_numpy()], 0
        if not include_anonymous:
            # only the anonymous records' keys are read (not the 20 M-row map at 1M persons)
            orders, n_anon = identified_orders(orders, _anonymous_records(workspace, res_month))
        return rfm_of_orders(orders, bound, rfm_threshold, anonymous_orders=n_anon)

    return workspace.memo(("value.customer_rfm", bound, key), compute)


def _anonymous_records(workspace: Workspace, res_month: Month) -> pd.DataFrame:
    """The anonymous records (``how == "none"``) of a resolution: ``record_key``, ``how``; read
    once per workspace (only these keys, not the 20 M-row map at 1M persons)."""
    def compute() -> pd.DataFrame:
        r = workspace.resolve(as_of=str(res_month))
        return r.read("record_oneid", ["record_key", "how"], filters=[("how", "==", "none")])

    return workspace.memo(("value.anonymous_records", str(res_month)), compute)


def restate(value: CustomerValue, earlier: CustomerValue) -> pd.DataFrame:
    """Predictions of ``value``'s model for the customers of an earlier date.

    The same parameters on both dates, so a change in P(alive) or CLV between the two is the
    customer's own behaviour (a purchase, or another month without one), not a refit.
    """
    return value.model.predict(
        earlier.summary,
        horizons_days=(30, 90),
        months=value.settings["clv_months"],
        tiers=value.settings["tier_shares"],
    )
