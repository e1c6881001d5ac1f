"""The report month's conversions and journeys, every model on them, and the campaigns that ran.

**Report month semantics.** The conversions of a month are the paid orders
(:func:`omni.core.orders.paid_order_mask`) whose time falls in the month; their journeys hold every
touch of the buyer within ``lookback_days`` before them (touches of the previous month included).
The non-converting journeys of a month are those whose last touch falls in the month.
:func:`month_journeys` builds exactly these journeys from the touches and orders of the window
``[month start - lookback, month end)`` only, which gives the same journeys as building on the whole
history and selecting (tested): a touch earlier than the window cannot be within the lookback of a
conversion in the month, nor in a null journey whose last touch is in the month.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from omni.attribution._common import row_label
from omni.attribution.journeys import Journeys, build_journeys
from omni.attribution.models import attribute
from omni.attribution.roi import channel_roi
from omni.core.month import Month
from omni.core.orders import is_paid, paid_order_mask, usable_amount

if TYPE_CHECKING:
    from omni.workspace import Workspace

__all__ = [
    "MonthAttribution",
    "active_campaigns",
    "attribute_month",
    "has_conversions",
    "month_attribution",
    "month_journeys",
    "paid_conversions",
    "select_journeys",
]


def paid_conversions(orders: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The paid orders with a usable amount (the conversions), and how many paid orders had none.

    The attribution models need a value per conversion; a report should not stop on a handful of
    bad amounts (the data audit reports them), but it must say how many it left out.

    Parameters
    ----------
    orders : DataFrame
        Unified ``orders`` (``status``, ``amount``).

    Returns
    -------
    (DataFrame, int)
        The rows of ``orders`` that are paid orders (:func:`omni.core.orders.paid_order_mask`),
        and the number of paid orders left out for a missing, non-finite or negative amount.

    Raises
    ------
    ValueError
        If ``orders`` lacks ``status`` or ``amount``.
    """
    if not isinstance(orders, pd.DataFrame):
        raise ValueError(f"orders must be a DataFrame, got {type(orders).__name__}")
    keep = paid_order_mask(orders)
    n_bad = int((is_paid(orders["status"]) & ~usable_amount(orders["amount"])).sum())
    return orders[keep], n_bad


def has_conversions(orders: pd.DataFrame, month: str | Month) -> bool:
    """Whether ``orders`` holds a paid order (with a usable amount) placed in ``month``."""
    m = Month.parse(month)
    t = pd.to_datetime(orders["order_time"])
    return bool((((t >= m.start) & (t < m.end)).to_numpy() & paid_order_mask(orders)).any())


def month_journeys(
    touchpoints: pd.DataFrame,
    orders: pd.DataFrame,
    month: str | Month,
    lookback_days: float = 30,
    include_impressions: bool = False,
    channel_map: Mapping[str, str] | None = None,
    statuses: Sequence[str] | None = ("paid",),
) -> Journeys:
    """Journeys of the conversions in ``month`` and the non-converting journeys ending in it.

    Parameters
    ----------
    touchpoints, orders
        Unified ``touchpoints`` and ``orders`` (data contract), any time span.
    month
        ``"YYYY-MM"`` or a :class:`~omni.core.month.Month`.
    lookback_days, include_impressions, channel_map, statuses
        As in :func:`~omni.attribution.journeys.build_journeys`.

    Returns
    -------
    Journeys
        Converting journeys whose conversion time is in the month (with every touch within the
        lookback before it, also from the previous month) and null journeys whose last touch is in
        the month. ``settings`` gains ``month``.

    Raises
    ------
    ValueError
        Bad month, missing columns, null times (and everything :func:`build_journeys` rejects).
    """
    m = Month.parse(month)
    start, end = m.start, m.end
    if not np.isfinite(lookback_days) or lookback_days <= 0:
        raise ValueError(f"lookback_days must be a positive number, got {lookback_days!r}")
    for frame, name, col in (
        (touchpoints, "touchpoints", "touch_time"),
        (orders, "orders", "order_time"),
    ):
        if not isinstance(frame, pd.DataFrame) or col not in frame.columns:
            raise ValueError(f"{name} must be a DataFrame with a {col!r} column")
    window_start = start - pd.Timedelta(days=lookback_days)
    t_time = pd.to_datetime(touchpoints["touch_time"])
    o_time = pd.to_datetime(orders["order_time"])
    for times, frame, name, col in (
        (t_time, touchpoints, "touchpoints", "touch_time"),
        (o_time, orders, "orders", "order_time"),
    ):
        isna = times.isna().to_numpy()
        if isna.any():
            raise ValueError(
                f"{name}: {int(isna.sum())} row(s) with null {col!r} "
                f"(first at row {row_label(frame.index[isna][0])})"
            )
    t_sel = ((t_time >= window_start) & (t_time < end)).to_numpy()
    o_sel = ((o_time >= window_start) & (o_time < end)).to_numpy()
    j = build_journeys(
        touchpoints[t_sel],
        orders[o_sel],
        lookback_days=lookback_days,
        include_impressions=include_impressions,
        channel_map=channel_map,
        null_journey_end=end - pd.Timedelta(1, "ns"),
        statuses=statuses,
    )
    jf = j.journeys
    converted = jf["converted"].to_numpy()
    last = _last_touch_ns(j)
    conv_ns = jf["conversion_time"].to_numpy().view(np.int64)
    keep = np.where(converted, conv_ns >= start.value, last >= start.value)
    out = select_journeys(j, keep)
    out.settings["month"] = str(m)
    return out


def _last_touch_ns(j: Journeys) -> np.ndarray:
    """Time (int ns) of the last touch of every journey (touches are in time order per journey)."""
    jid = j.touches["journey_id"].to_numpy()
    out = np.full(j.n_journeys, np.iinfo(np.int64).min, dtype=np.int64)
    if len(jid):
        last_row = np.flatnonzero(np.append(jid[1:] != jid[:-1], True))
        out[jid[last_row]] = j.touches["touch_time"].to_numpy().view(np.int64)[last_row]
    return out


def select_journeys(journeys: Journeys, keep: np.ndarray | pd.Series | Sequence[bool]) -> Journeys:
    """A :class:`Journeys` with only the journeys where ``keep`` is true (ids renumbered).

    Parameters
    ----------
    journeys
        Output of :func:`~omni.attribution.journeys.build_journeys` (or of this function).
    keep
        Boolean mask, one entry per row of ``journeys.journeys``.

    Returns
    -------
    Journeys
        Journeys and touches of the kept journeys; ``journey_id`` and ``path_id`` are renumbered
        ``0..n-1`` (order kept), so every model accepts the result.
    """
    if not isinstance(journeys, Journeys):
        raise ValueError(f"expected Journeys (from build_journeys), got {type(journeys).__name__}")
    mask = np.asarray(keep)
    if mask.dtype != bool or mask.shape != (journeys.n_journeys,):
        raise ValueError(
            f"keep must be a boolean mask with one entry per journey ({journeys.n_journeys}), "
            f"got dtype {mask.dtype} and shape {mask.shape}"
        )
    jf = journeys.journeys.loc[mask].reset_index(drop=True)
    new_id = np.full(journeys.n_journeys, -1, dtype=np.int64)
    new_id[mask] = np.arange(int(mask.sum()))
    t = journeys.touches
    t_keep = mask[t["journey_id"].to_numpy()]
    touches = t.loc[t_keep].reset_index(drop=True)
    touches["journey_id"] = new_id[touches["journey_id"].to_numpy()]
    old_pid = jf["path_id"].to_numpy()
    used, pid = np.unique(old_pid, return_inverse=True)
    jf["journey_id"] = np.arange(len(jf), dtype=np.int64)
    jf["path"] = pd.Categorical.from_codes(
        pid, categories=pd.Index(np.asarray(jf["path"].cat.categories)[used], dtype=object)
    )
    jf["path_id"] = pid.astype(np.int64)
    return Journeys(
        touches=touches, journeys=jf, channels=journeys.channels, settings=dict(journeys.settings)
    )


@dataclass
class MonthAttribution:
    """Everything the report computes for one month (output of :func:`attribute_month`).

    Attributes
    ----------
    month
        ``"YYYY-MM"``.
    journeys
        The month's journeys (:func:`month_journeys`).
    table
        Every model's attribution (long: ``model``, ``channel``, ``conversions``, ``value``,
        ``share``).
    roi
        :func:`~omni.attribution.roi.channel_roi` with the month's spend.
    invalid_amounts
        Conversions left out for a missing or negative amount (whole history, see
        :func:`paid_conversions`).
    settings
        The parameters used.
    """

    month: str
    journeys: Journeys
    table: pd.DataFrame
    roi: pd.DataFrame
    invalid_amounts: int = 0
    settings: dict = field(default_factory=dict)


def attribute_month(
    touchpoints: pd.DataFrame,
    orders: pd.DataFrame,
    channel_spend: pd.DataFrame,
    month: str | Month,
    lookback_days: float = 30,
    include_impressions: bool = False,
    channel_map: Mapping[str, str] | None = None,
    models: Sequence[str] | None = None,
    half_life_days: float = 7.0,
    markov_order: int = 1,
) -> MonthAttribution:
    """Journeys, every model and ROI for the conversions of one month.

    Parameters
    ----------
    touchpoints, orders
        Unified ``touchpoints`` and ``orders``.
    channel_spend
        ``date``, ``channel``, ``spend``; the month's spend is used.
    month
        ``"YYYY-MM"``.
    lookback_days, include_impressions, channel_map
        Journey settings (:func:`month_journeys`).
    models, half_life_days, markov_order
        As in :func:`~omni.attribution.models.attribute`.

    Returns
    -------
    MonthAttribution

    Raises
    ------
    ValueError
        No conversion in the month, or bad input.
    """
    month = str(Month.parse(month))
    clean, n_bad = paid_conversions(orders)
    j = month_journeys(touchpoints, clean, month, lookback_days, include_impressions, channel_map,
                       statuses=None)
    if j.n_conversions == 0:
        raise ValueError(f"no conversions (paid orders) in {month}: nothing to attribute")
    table = attribute(j, models=models, half_life_days=half_life_days, markov_order=markov_order)
    roi = channel_roi(table, channel_spend, period=month, channel_map=channel_map)
    settings = {
        "lookback_days": lookback_days,
        "include_impressions": include_impressions,
        "channel_map": dict(channel_map) if channel_map else None,
        "half_life_days": half_life_days,
        "markov_order": markov_order,
    }
    return MonthAttribution(month, j, table, roi, n_bad, settings)


def month_attribution(workspace: Workspace, month: str | Month, *, resolution: str | Month | None = None,
                      lookback_days: float = 30, include_impressions: bool = False,
                      channel_map: Mapping[str, str] | None = None, half_life_days: float = 7.0,
                      markov_order: int = 1) -> MonthAttribution:
    """:func:`attribute_month` over a workspace: the unified touchpoints and orders of the
    resolution as of ``resolution`` (default ``month``), the ``channel_spend`` source.

    Computed once per workspace and settings; in a workspace opened with ``share`` (the report's
    kernels) it is also kept in ``processed/memo/``, so channel attribution and the marketing mix
    (its path models' shares) attribute the month once per report, and a reader that finds it
    there reads neither the touchpoints nor the orders. Do not modify the result.
    """
    month = Month.parse(month)
    res_month = Month.parse(resolution) if resolution is not None else month
    settings = {"lookback_days": float(lookback_days), "include_impressions": bool(include_impressions),
                "channel_map": tuple(sorted(channel_map.items())) if channel_map else None,
                "half_life_days": float(half_life_days), "markov_order": int(markov_order)}

    def compute() -> MonthAttribution:
        r = workspace.resolve(as_of=str(res_month))
        return attribute_month(r["touchpoints"], r["orders"], workspace.source("channel_spend"), month,
                               lookback_days=lookback_days, include_impressions=include_impressions,
                               channel_map=channel_map, half_life_days=half_life_days, markov_order=markov_order)

    key = ("attribution.month_attribution", str(month), str(res_month), tuple(sorted(settings.items())))
    return workspace.memo(key, compute, persist="attribution")


def active_campaigns(
    campaigns: pd.DataFrame, month: str | Month, touchpoints: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Campaigns running at any time in ``month``, with their touches in the month.

    Parameters
    ----------
    campaigns
        ``campaigns`` source (``campaign_id``, ``start_date``, ``end_date``; ``name`` and
        ``channel`` shown when present).
    month
        ``"YYYY-MM"``.
    touchpoints
        Unified ``touchpoints`` (``campaign_id``, ``touch_time``, ``oneid``): adds ``touches`` and
        ``people`` reached in the month.

    Returns
    -------
    pandas.DataFrame
        One row per campaign overlapping the month, by start date.
    """
    missing = [c for c in ("campaign_id", "start_date", "end_date") if c not in campaigns.columns]
    if missing:
        raise ValueError(f"campaigns is missing column(s) {missing}")
    m = Month.parse(month)
    start, end = m.start, m.end
    first = pd.to_datetime(campaigns["start_date"])
    last = pd.to_datetime(campaigns["end_date"])
    bad = (first.isna() | last.isna() | (last < first)).to_numpy()
    if bad.any():
        raise ValueError(
            f"campaigns: missing or reversed start_date/end_date "
            f"(first at row {row_label(campaigns.index[bad][0])})"
        )
    on = ((first < end) & (last >= start)).to_numpy()
    cols = [
        c
        for c in ("campaign_id", "name", "channel", "start_date", "end_date")
        if c in campaigns.columns
    ]
    out = campaigns.loc[on, cols].copy()
    out["start_date"], out["end_date"] = first[on].dt.date, last[on].dt.date
    if touchpoints is not None:
        missing = [
            c for c in ("campaign_id", "touch_time", "oneid") if c not in touchpoints.columns
        ]
        if missing:
            raise ValueError(f"touchpoints is missing column(s) {missing}")
        tt = pd.to_datetime(touchpoints["touch_time"])
        tp = touchpoints.loc[((tt >= start) & (tt < end)).to_numpy(), ["campaign_id", "oneid"]]
        tp = tp[tp["campaign_id"].isin(out["campaign_id"])]
        g = tp.groupby(tp["campaign_id"].astype(str))
        out["touches"] = out["campaign_id"].astype(str).map(g.size()).fillna(0).astype(int)
        out["people"] = (
            out["campaign_id"].astype(str).map(g["oneid"].nunique()).fillna(0).astype(int)
        )
    return out.sort_values(["start_date", "campaign_id"]).reset_index(drop=True)
