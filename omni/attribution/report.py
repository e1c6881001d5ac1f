"""The monthly attribution report: the month's journeys, their statistics, the models side by side.

Notebook 04 (channel attribution) calls these functions for the report month and for the month
before, so the logic lives here, not in the notebook.

**Report month semantics.** The conversions of a month are the paid orders whose time falls in the
month; their journeys hold every touch of the buyer within ``lookback_days`` before them (touches of
the previous month included). The non-converting journeys of a month are those whose last touch
falls in the month. :func:`month_journeys` builds exactly these journeys from the touches and orders
of the window ``[month start - lookback, month end)`` only, which gives the same journeys as building
on the whole history and selecting (tested): a touch earlier than the window cannot be within the
lookback of a conversion in the month, nor in a null journey whose last touch is in the month.

Everything is vectorized over journeys and touches; the loops are over models, channels and
bootstrap replicates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from omni.attribution._common import row_label
from omni.attribution.evaluation import ORGANIC, true_channel_shares
from omni.attribution.heuristics import (
    first_touch,
    last_non_direct,
    last_touch,
    linear,
    position_based,
)
from omni.attribution.journeys import DIRECT, Journeys, Paths, build_journeys
from omni.attribution.markov import markov_attribution
from omni.attribution.models import MODELS, attribute
from omni.attribution.roi import channel_roi
from omni.attribution.shapley import shapley_attribution
from omni.attribution.uncertainty import bootstrap
from omni.core.figures import compare_figures
from omni.privacy import publishable

__all__ = [
    "MODEL_LABELS",
    "MonthAttribution",
    "active_campaigns",
    "attribute_month",
    "bootstrap_shares",
    "cause_visibility",
    "compare_months",
    "conversion_channel_summary",
    "drop_invalid_amounts",
    "journey_stats",
    "length_distribution",
    "model_disagreement",
    "month_bounds",
    "month_figures",
    "month_journeys",
    "month_true_shares",
    "publishable",
    "roi_summary",
    "select_journeys",
    "share_change",
    "share_matrix",
    "time_to_convert_distribution",
    "top_paths",
    "touch_shares",
]

MODEL_LABELS: dict[str, str] = {
    "first_touch": "first touch",
    "last_touch": "last touch",
    "last_non_direct": "last non-direct",
    "linear": "linear",
    "time_decay": "time decay",
    "position_based": "position based",
    "markov": "Markov",
    "shapley": "Shapley (conversions)",
    "shapley_rate": "Shapley (conv. rate)",
}
"""Readable model names for tables and plot legends."""

_NS_PER_DAY = 86_400 * 10**9


# --------------------------------------------------------------------------------------------
# the month's journeys
# --------------------------------------------------------------------------------------------


def month_bounds(month: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First instant of ``month`` and first instant of the next month (exclusive end).

    Parameters
    ----------
    month
        ``"YYYY-MM"``.

    Returns
    -------
    tuple of pandas.Timestamp
        ``(start, end)`` with ``start <= t < end`` for every time ``t`` in the month.
    """
    if not isinstance(month, str) or len(month) != 7 or month[4] != "-":
        raise ValueError(f"month must be a 'YYYY-MM' string, got {month!r}")
    try:
        per = pd.Period(month, freq="M")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"month must be a 'YYYY-MM' string, got {month!r}") from exc
    return per.start_time, (per + 1).start_time


def drop_invalid_amounts(
    orders: pd.DataFrame, statuses: Sequence[str] | None = ("paid",)
) -> tuple[pd.DataFrame, int]:
    """Leave out conversions whose ``amount`` is missing, not finite or negative.

    The attribution models need a value per conversion; a report should not stop on a handful of
    bad amounts (the data audit reports them), but it must say how many it left out.

    Parameters
    ----------
    orders
        Unified ``orders`` (``amount``, optionally ``status``).
    statuses
        Statuses that count as conversions; only those rows are checked (None: every row).

    Returns
    -------
    (pandas.DataFrame, int)
        The orders without the bad conversions, and how many were left out.
    """
    if not isinstance(orders, pd.DataFrame) or "amount" not in orders.columns:
        raise ValueError("orders must be a DataFrame with an 'amount' column")
    amount = pd.to_numeric(orders["amount"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(amount) | (amount < 0)
    if statuses is not None and "status" in orders.columns:
        bad &= orders["status"].isin(list(statuses)).to_numpy()
    n_bad = int(bad.sum())
    return (orders[~bad] if n_bad else orders), n_bad


def month_journeys(
    touchpoints: pd.DataFrame,
    orders: pd.DataFrame,
    month: str,
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
        ``"YYYY-MM"``.
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
    start, end = month_bounds(month)
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
    out.settings["month"] = month
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


# --------------------------------------------------------------------------------------------
# journey statistics
# --------------------------------------------------------------------------------------------


def journey_stats(journeys: Journeys) -> dict[str, float]:
    """Headline statistics of a set of journeys.

    Parameters
    ----------
    journeys
        :class:`Journeys`.

    Returns
    -------
    dict
        ``conversions``, ``value``, ``converting_people``, ``null_journeys``,
        ``touched_conversions`` (with at least one touch in the lookback), ``touched_share``,
        ``mean_touches`` and ``median_touches`` (touched conversions), ``multichannel_share``
        (touched conversions with 2+ distinct channels), ``median_days_to_convert`` and
        ``p90_days_to_convert`` (first touch to conversion), ``touched_conversion_rate``
        (touched conversions / (touched conversions + null journeys)).
    """
    jf = journeys.journeys
    conv = jf["converted"].to_numpy()
    n_touch = jf["n_touches"].to_numpy()
    touched = conv & (n_touch > 0)
    n_conv, n_touched = int(conv.sum()), int(touched.sum())
    n_null = int((~conv).sum())
    distinct = _distinct_channels(journeys)
    days = jf["time_to_convert"].to_numpy()[touched].view(np.int64) / _NS_PER_DAY
    return {
        "conversions": n_conv,
        "value": float(jf["value"].to_numpy()[conv].sum()),
        "converting_people": int(jf.loc[conv, "oneid"].nunique()),
        "null_journeys": n_null,
        "touched_conversions": n_touched,
        "touched_share": n_touched / n_conv if n_conv else np.nan,
        "mean_touches": float(n_touch[touched].mean()) if n_touched else np.nan,
        "median_touches": float(np.median(n_touch[touched])) if n_touched else np.nan,
        "multichannel_share": float((distinct[touched] >= 2).mean()) if n_touched else np.nan,
        "median_days_to_convert": float(np.median(days)) if n_touched else np.nan,
        "p90_days_to_convert": float(np.quantile(days, 0.9)) if n_touched else np.nan,
        "touched_conversion_rate": (
            n_touched / (n_touched + n_null) if n_touched + n_null else np.nan
        ),
    }


def _distinct_channels(journeys: Journeys) -> np.ndarray:
    """Number of distinct channels per journey (0 for a conversion without touches)."""
    t = journeys.touches
    n_ch = len(journeys.channels)
    key = t["journey_id"].to_numpy() * n_ch + t["channel"].cat.codes.to_numpy().astype(np.int64)
    uniq = np.unique(key)
    out = np.bincount(uniq // n_ch, minlength=journeys.n_journeys)
    return np.where(journeys.journeys["n_touches"].to_numpy() > 0, out, 0)


def length_distribution(journeys: Journeys, max_touches: int = 10) -> pd.DataFrame:
    """Journeys by number of touches, converting and non-converting side by side.

    Parameters
    ----------
    journeys
        :class:`Journeys`.
    max_touches
        Journeys with this many touches or more share the last row (``"10+"``).

    Returns
    -------
    pandas.DataFrame
        ``touches`` (label: ``"0"`` = conversion without touch, ``"1"``, ..., ``"10+"``),
        ``n_touches`` (lower bound), ``conversions``, ``conversion_share``, ``null_journeys``,
        ``null_share``, ``mean_value`` (per conversion).
    """
    if not isinstance(max_touches, int | np.integer) or max_touches < 1:
        raise ValueError(f"max_touches must be a positive integer, got {max_touches!r}")
    jf = journeys.journeys
    conv = jf["converted"].to_numpy()
    bucket = np.minimum(jf["n_touches"].to_numpy(), max_touches)
    m = max_touches + 1
    n_conv = np.bincount(bucket[conv], minlength=m)
    n_null = np.bincount(bucket[~conv], minlength=m)
    value = np.bincount(bucket[conv], weights=jf["value"].to_numpy()[conv], minlength=m)
    labels = [str(i) for i in range(max_touches)] + [f"{max_touches}+"]
    out = pd.DataFrame(
        {
            "touches": labels,
            "n_touches": np.arange(m),
            "conversions": n_conv,
            "conversion_share": n_conv / max(n_conv.sum(), 1),
            "null_journeys": n_null,
            "null_share": n_null / max(n_null.sum(), 1),
            "mean_value": np.divide(value, n_conv, out=np.full(m, np.nan), where=n_conv > 0),
        }
    )
    return out


def time_to_convert_distribution(
    journeys: Journeys, edges_days: Sequence[float] = (0, 1, 3, 7, 14, 21)
) -> pd.DataFrame:
    """Touched conversions by days from the first touch to the conversion.

    Parameters
    ----------
    journeys
        :class:`Journeys`.
    edges_days
        Increasing left bin edges in days, starting at 0; the last bin is open (up to the
        lookback).

    Returns
    -------
    pandas.DataFrame
        ``days`` (label such as ``"1-3"`` or ``"21+"``), ``conversions``, ``share``,
        ``cumulative_share``, ``mean_touches``.
    """
    edges = np.asarray(edges_days, dtype=float)
    if len(edges) < 1 or edges[0] != 0 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges_days must start at 0 and increase, got {list(edges_days)}")
    jf = journeys.journeys
    touched = jf["converted"].to_numpy() & (jf["n_touches"].to_numpy() > 0)
    days = jf["time_to_convert"].to_numpy()[touched].view(np.int64) / _NS_PER_DAY
    b = np.searchsorted(edges, days, side="right") - 1
    k = len(edges)
    counts = np.bincount(b, minlength=k)
    touches = np.bincount(b, weights=jf["n_touches"].to_numpy()[touched], minlength=k)
    labels = [f"{edges[i]:g}-{edges[i + 1]:g}" if i + 1 < k else f"{edges[i]:g}+" for i in range(k)]
    total = max(counts.sum(), 1)
    return pd.DataFrame(
        {
            "days": labels,
            "conversions": counts,
            "share": counts / total,
            "cumulative_share": np.cumsum(counts) / total,
            "mean_touches": np.divide(touches, counts, out=np.full(k, np.nan), where=counts > 0),
        }
    )


def top_paths(
    journeys: Journeys,
    n: int = 15,
    conversion_channel: str | None = None,
    include_direct: bool = False,
) -> pd.DataFrame:
    """The most converting touch paths.

    Parameters
    ----------
    journeys
        :class:`Journeys`.
    n
        Number of paths returned (by conversions, then journeys).
    conversion_channel
        Only conversions in this sales channel (e.g. ``"store"``: the online paths that end in a
        store purchase); null journeys are then left out and so is ``conversion_rate``.
    include_direct
        Also list the path of conversions without any touch (``direct``).

    Returns
    -------
    pandas.DataFrame
        ``path``, ``touches`` (steps), ``people`` (distinct OneIDs), ``journeys``,
        ``conversions``, ``conversion_rate`` (conversions / journeys), ``value``,
        ``share_of_conversions`` (of all the selected conversions, direct included).
    """
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    jf = journeys.journeys
    conv = jf["converted"].to_numpy()
    sel = np.ones(len(jf), dtype=bool)
    if conversion_channel is not None:
        sel = conv & (jf["conversion_channel"].astype(str).to_numpy() == conversion_channel)
    pid = jf["path_id"].to_numpy()
    n_paths = len(jf["path"].cat.categories)
    n_j = np.bincount(pid[sel], minlength=n_paths)
    n_c = np.bincount(pid[sel & conv], minlength=n_paths)
    value = np.bincount(
        pid[sel & conv], weights=jf["value"].to_numpy()[sel & conv], minlength=n_paths
    )
    pairs = pd.DataFrame({"p": pid[sel], "o": jf["oneid"].to_numpy()[sel]}).drop_duplicates()
    people = np.bincount(pairs["p"].to_numpy(), minlength=n_paths)
    names = np.asarray(jf["path"].cat.categories, dtype=object)
    out = pd.DataFrame(
        {
            "path": names,
            "touches": np.char.count(names.astype(str), ">") + 1,
            "people": people,
            "journeys": n_j,
            "conversions": n_c,
            "conversion_rate": np.divide(n_c, n_j, out=np.full(n_paths, np.nan), where=n_j > 0),
            "value": value,
            "share_of_conversions": n_c / max(int(n_c.sum()), 1),
        }
    )
    out = out[out["journeys"] > 0]
    if not include_direct:
        out = out[out["path"] != DIRECT]
    if conversion_channel is not None:
        out = out.drop(columns="conversion_rate")
    out = out.sort_values(["conversions", "journeys", "path"], ascending=[False, False, True])
    return out.head(n).reset_index(drop=True)


def conversion_channel_summary(
    journeys: Journeys, events: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per sales channel: how many conversions had online touches or site/app visits before them.

    The online-to-offline picture: a store purchase preceded by an ad click, an SMS or a visit to
    the brand's site/app within the lookback window (research online, purchase offline).

    Parameters
    ----------
    journeys
        :class:`Journeys` (``conversion_channel`` per conversion).
    events
        Unified ``events`` (``oneid``, ``event_time``): site/app behaviour. Optional.

    Returns
    -------
    pandas.DataFrame
        One row per conversion channel (and ``all``): ``conversions``, ``people``, ``value``,
        ``touched_share`` (any marketing touch in the lookback), ``mean_touches`` (touched),
        ``visited_share`` (a site/app event in the lookback; with ``events``),
        ``online_share`` (touch or visit; with ``events``), ``top_last_touch`` (most frequent
        last touch channel of the touched conversions).
    """
    jf = journeys.journeys
    conv = jf["converted"].to_numpy()
    c = jf.loc[
        conv, ["journey_id", "oneid", "conversion_time", "conversion_channel", "value", "n_touches"]
    ].reset_index(drop=True)
    cc = c["conversion_channel"].astype(object)
    c["channel"] = cc.where(cc.notna(), "unknown").astype(str)
    c["touched"] = c["n_touches"].to_numpy() > 0
    t = journeys.touches
    jid = t["journey_id"].to_numpy()
    last_row = np.flatnonzero(np.append(jid[1:] != jid[:-1], True)) if len(jid) else jid
    last_code = np.full(journeys.n_journeys, -1, dtype=np.int64)
    last_code[jid[last_row]] = t["channel"].cat.codes.to_numpy()[last_row]
    names = np.asarray(journeys.channels + ("",), dtype=object)
    c["last_touch"] = names[last_code[c["journey_id"].to_numpy()]]
    if events is not None:
        c["visited"] = _visited_before(c, events, float(journeys.settings.get("lookback_days", 30)))
    groups = {"all": np.ones(len(c), dtype=bool)}
    for ch in sorted(c["channel"].unique()):
        groups[ch] = (c["channel"] == ch).to_numpy()
    rows = []
    for label, g in groups.items():  # a handful of sales channels
        sub = c[g]
        touched = sub["touched"].to_numpy()
        lt = sub.loc[touched, "last_touch"].value_counts()
        row = {
            "conversion_channel": label,
            "conversions": int(len(sub)),
            "people": int(sub["oneid"].nunique()),
            "value": float(sub["value"].sum()),
            "touched_share": float(touched.mean()) if len(sub) else np.nan,
            "mean_touches": float(sub.loc[touched, "n_touches"].mean())
            if touched.any()
            else np.nan,
        }
        if events is not None:
            visited = sub["visited"].to_numpy()
            row["visited_share"] = float(visited.mean()) if len(sub) else np.nan
            row["online_share"] = float((visited | touched).mean()) if len(sub) else np.nan
        row["top_last_touch"] = str(lt.index[0]) if len(lt) else ""
        rows.append(row)
    return pd.DataFrame(rows)


def _visited_before(conv: pd.DataFrame, events: pd.DataFrame, lookback_days: float) -> np.ndarray:
    """Whether each conversion's person had an event within the lookback before it."""
    missing = [col for col in ("oneid", "event_time") if col not in events.columns]
    if missing:
        raise ValueError(f"events is missing column(s) {missing}")
    ev = pd.DataFrame(
        {"oneid": events["oneid"].astype(object), "t": pd.to_datetime(events["event_time"])}
    ).dropna()
    left = pd.DataFrame(
        {
            "oneid": conv["oneid"].astype(object).to_numpy(),
            "t": conv["conversion_time"].to_numpy(),
            "row": np.arange(len(conv)),
        }
    ).sort_values("t", kind="stable")
    ev = ev.sort_values("t", kind="stable").rename(columns={"t": "event_t"})
    m = pd.merge_asof(left, ev, left_on="t", right_on="event_t", by="oneid", direction="backward")
    gap = (m["t"] - m["event_t"]).to_numpy()
    ok = ~np.isnat(gap) & (gap <= np.timedelta64(int(round(lookback_days * _NS_PER_DAY)), "ns"))
    out = np.zeros(len(conv), dtype=bool)
    out[m["row"].to_numpy()] = ok
    return out


# --------------------------------------------------------------------------------------------
# models side by side, uncertainty, disagreement
# --------------------------------------------------------------------------------------------


def share_matrix(table: pd.DataFrame, column: str = "share") -> pd.DataFrame:
    """Channels x models of one column of an :func:`~omni.attribution.models.attribute` table.

    Parameters
    ----------
    table
        Long frame with ``model``, ``channel`` and ``column``.
    column
        ``share`` (default), ``conversions`` or ``value``.

    Returns
    -------
    pandas.DataFrame
        Index: channel; columns: models in the order they appear.
    """
    missing = [c for c in ("model", "channel", column) if c not in table.columns]
    if missing:
        raise ValueError(f"attribution table is missing column(s) {missing}")
    models = list(dict.fromkeys(table["model"]))
    wide = table.pivot_table(
        index=table["channel"].astype(str),
        columns="model",
        values=column,
        aggfunc="sum",
        observed=True,
    )
    wide = wide.reindex(columns=models)
    wide.index.name = "channel"
    wide.columns.name = None
    return wide


def _path_models(markov_order: int) -> dict[str, Callable[[Paths], pd.DataFrame]]:
    return {
        "first_touch": first_touch,
        "last_touch": last_touch,
        "last_non_direct": last_non_direct,
        "linear": linear,
        "position_based": position_based,
        "markov": lambda p: markov_attribution(p, order=markov_order),
        "shapley": lambda p: shapley_attribution(p, "conversions"),
        "shapley_rate": lambda p: shapley_attribution(p, "conversion_rate"),
    }


def bootstrap_shares(
    journeys: Journeys,
    models: Sequence[str] | None = None,
    n_boot: int = 200,
    seed: int = 0,
    ci: float = 0.95,
    half_life_days: float = 7.0,
    markov_order: int = 1,
) -> pd.DataFrame:
    """Bootstrap intervals of every model's channel shares.

    Path-based models use :func:`~omni.attribution.uncertainty.bootstrap` (multinomial over the
    unique path and outcome cells) with the same seed, so all of them see the same replicates.
    ``time_decay`` needs touch times and is bootstrapped over journeys: each replicate draws
    journey counts from a multinomial and adds up the journeys' fixed time-decay credits.

    Parameters
    ----------
    journeys
        :class:`Journeys`.
    models
        Names from :data:`~omni.attribution.models.MODELS` (default all).
    n_boot, seed, ci
        Replicates, seed and interval level.
    half_life_days, markov_order
        As in :func:`~omni.attribution.models.attribute`.

    Returns
    -------
    pandas.DataFrame
        ``model``, ``channel``, ``share``, ``share_se``, ``share_lo``, ``share_hi``.
    """
    names = list(MODELS if models is None else models)
    runners = _path_models(markov_order)
    unknown = [m for m in names if m not in runners and m != "time_decay"]
    if unknown:
        raise ValueError(f"unknown attribution model(s) {unknown}; choose from {MODELS}")
    if not isinstance(journeys, Journeys):
        raise ValueError(f"expected Journeys (from build_journeys), got {type(journeys).__name__}")
    paths = journeys.paths()
    frames = []
    for name in names:  # a handful of models
        if name == "time_decay":
            b = _bootstrap_time_decay(journeys, half_life_days, n_boot, seed, ci)
        else:
            b = bootstrap(runners[name], paths, n_boot=n_boot, seed=seed, ci=ci)
        b = b[["channel", "share", "share_se", "share_lo", "share_hi"]].copy()
        b.insert(0, "model", name)
        frames.append(b)
    return pd.concat(frames, ignore_index=True)


def _bootstrap_time_decay(
    journeys: Journeys, half_life_days: float, n_boot: int, seed: int, ci: float
) -> pd.DataFrame:
    if not isinstance(n_boot, int | np.integer) or n_boot < 2:
        raise ValueError(f"n_boot must be an integer >= 2, got {n_boot!r}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1, got {ci!r}")
    if not np.isfinite(half_life_days) or half_life_days <= 0:
        raise ValueError(f"half_life_days must be a positive number, got {half_life_days!r}")
    jf = journeys.journeys
    converted = jf["converted"].to_numpy()
    conv_ids = np.flatnonzero(converted)
    if len(conv_ids) == 0:
        raise ValueError("bootstrap needs at least one converting journey")
    unit_of = np.full(len(jf), -1, dtype=np.int64)
    unit_of[conv_ids] = np.arange(len(conv_ids))
    t = journeys.touches
    jid = t["journey_id"].to_numpy()
    sel = converted[jid]
    unit = unit_of[jid[sel]]
    code = t["channel"].cat.codes.to_numpy()[sel].astype(np.int64)
    end_ns = jf["conversion_time"].to_numpy().view(np.int64)[conv_ids]
    dt_days = (end_ns[unit] - t["touch_time"].to_numpy().view(np.int64)[sel]) / _NS_PER_DAY
    w = np.exp2(-dt_days / half_life_days)
    frac = w / np.bincount(unit, weights=w, minlength=len(conv_ids))[unit]
    n_ch = len(journeys.channels)
    credit = np.bincount(unit * n_ch + code, weights=frac, minlength=len(conv_ids) * n_ch)
    credit = credit.reshape(len(conv_ids), n_ch)
    point = credit.sum(axis=0)
    rng = np.random.default_rng(seed)
    p = np.full(len(jf), 1.0 / len(jf))
    shares = np.empty((n_boot, n_ch))
    for b in range(n_boot):  # replicates, not records
        counts = rng.multinomial(len(jf), p)[conv_ids].astype(float)
        c = counts @ credit
        shares[b] = c / c.sum() if c.sum() > 0 else 0.0
    alpha = (1.0 - ci) / 2.0
    lo, hi = np.quantile(shares, [alpha, 1.0 - alpha], axis=0)
    return pd.DataFrame(
        {
            "channel": pd.Series(journeys.channels, dtype="string"),
            "share": point / point.sum(),
            "share_se": shares.std(axis=0, ddof=1),
            "share_lo": lo,
            "share_hi": hi,
        }
    )


def model_disagreement(table: pd.DataFrame, exclude: Sequence[str] = (DIRECT,)) -> pd.DataFrame:
    """Where the models disagree: the spread of each channel's share and rank across models.

    Parameters
    ----------
    table
        Long attribution frame (``model``, ``channel``, ``share``).
    exclude
        Channels left out (``direct``: conversions without touches, the same in most models).

    Returns
    -------
    pandas.DataFrame
        One row per channel, largest spread first: ``min_share``, ``max_share``, ``spread``
        (max - min, in share points), ``min_model``, ``max_model``, ``best_rank`` and
        ``worst_rank`` (rank of the channel among the channels by share, 1 = largest, in the
        models that rank it highest and lowest), ``rank_stable`` (same rank in every model).
    """
    wide = share_matrix(table).drop(index=list(exclude), errors="ignore")
    if wide.empty:
        raise ValueError("no channels left to compare after excluding " + ", ".join(exclude))
    ranks = wide.rank(axis=0, ascending=False, method="min")
    vals = wide.to_numpy()
    cols = np.asarray(wide.columns, dtype=object)
    out = pd.DataFrame(
        {
            "channel": wide.index,
            "min_share": vals.min(axis=1),
            "max_share": vals.max(axis=1),
            "spread": vals.max(axis=1) - vals.min(axis=1),
            "min_model": cols[vals.argmin(axis=1)],
            "max_model": cols[vals.argmax(axis=1)],
            "best_rank": ranks.min(axis=1).astype(int).to_numpy(),
            "worst_rank": ranks.max(axis=1).astype(int).to_numpy(),
        }
    )
    out["rank_stable"] = out["best_rank"] == out["worst_rank"]
    return out.sort_values(["spread", "channel"], ascending=[False, True]).reset_index(drop=True)


def roi_summary(roi: pd.DataFrame, target_roas: float = 1.0) -> pd.DataFrame:
    """Per paid channel: the range of ROAS and CPA across models and a budget verdict.

    Parameters
    ----------
    roi
        Output of :func:`~omni.attribution.roi.channel_roi` (``model``, ``channel``, ``spend``,
        ``conversions``, ``value``, ``cpa``, ``roas``).
    target_roas
        The ROAS a channel must reach to pay back (1 = revenue equals spend; use 1 / gross margin
        for profit).

    Returns
    -------
    pandas.DataFrame
        One row per channel with spend: ``spend``, ``roas_min``, ``roas_max``, ``min_model``,
        ``max_model``, ``cpa_min``, ``cpa_max``, ``models_above_target`` (count),
        ``verdict`` (``"above target in every model"``, ``"below target in every model"`` or
        ``"depends on the model"``).
    """
    missing = [c for c in ("model", "channel", "spend", "cpa", "roas") if c not in roi.columns]
    if missing:
        raise ValueError(f"roi is missing column(s) {missing}")
    if not np.isfinite(target_roas) or target_roas <= 0:
        raise ValueError(f"target_roas must be a positive number, got {target_roas!r}")
    paid = roi[roi["spend"] > 0]
    if paid.empty:
        raise ValueError("no channel has spend in the period: ROI cannot be assessed")
    roas = paid.pivot_table(index="channel", columns="model", values="roas", aggfunc="sum")
    cpa = paid.pivot_table(index="channel", columns="model", values="cpa", aggfunc="sum")
    spend = paid.groupby("channel")["spend"].first()
    cols = np.asarray(roas.columns, dtype=object)
    r = roas.to_numpy()
    above = (r >= target_roas).sum(axis=1)
    n_models = r.shape[1]
    verdict = np.where(
        above == n_models,
        "above target in every model",
        np.where(above == 0, "below target in every model", "depends on the model"),
    )
    out = pd.DataFrame(
        {
            "channel": roas.index,
            "spend": spend.reindex(roas.index).to_numpy(),
            "roas_min": r.min(axis=1),
            "roas_max": r.max(axis=1),
            "min_model": cols[r.argmin(axis=1)],
            "max_model": cols[r.argmax(axis=1)],
            "cpa_min": np.nanmin(
                np.where(np.isnan(cpa.to_numpy()), np.inf, cpa.to_numpy()), axis=1
            ),
            "cpa_max": np.nanmax(
                np.where(np.isnan(cpa.to_numpy()), -np.inf, cpa.to_numpy()), axis=1
            ),
            "models_above_target": above,
            "verdict": verdict,
        }
    )
    out.loc[~np.isfinite(out["cpa_min"]), "cpa_min"] = np.nan  # no model credits a conversion
    out.loc[~np.isfinite(out["cpa_max"]), "cpa_max"] = np.nan
    return out.sort_values("spend", ascending=False).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# one month end to end, and the month against the previous one
# --------------------------------------------------------------------------------------------


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
        :func:`drop_invalid_amounts`).
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
    month: str,
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
    clean, n_bad = drop_invalid_amounts(orders)
    j = month_journeys(touchpoints, clean, month, lookback_days, include_impressions, channel_map)
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


def month_figures(result: MonthAttribution, model: str = "markov") -> dict[str, float]:
    """Key figures of a month: journey statistics, spend and one model's return on it.

    Parameters
    ----------
    result
        Output of :func:`attribute_month`.
    model
        The model whose credit gives the blended figures (default Markov).

    Returns
    -------
    dict
        :func:`journey_stats` plus ``spend``, ``attributed_to_touches`` (share of conversions the
        model credits to marketing channels), ``paid_conversions`` and ``paid_value`` (credited to
        channels with spend), ``blended_cpa`` (spend / paid conversions), ``blended_roas``
        (paid value / spend), ``top_channel`` and ``top_share`` (the touch channel with the
        largest share).
    """
    if model not in set(result.table["model"]):
        raise ValueError(f"model {model!r} is not in the month's attribution table")
    stats = journey_stats(result.journeys)
    t = result.table[result.table["model"] == model]
    ch = t["channel"].astype(str)
    touch = t[(ch != DIRECT).to_numpy()]
    roi = result.roi[result.roi["model"] == model]
    paid = roi[roi["spend"] > 0]
    spend = float(paid["spend"].sum())
    paid_conv = float(paid["conversions"].sum())
    paid_value = float(paid["value"].sum())
    top = touch.sort_values(["share", "channel"], ascending=[False, True]).iloc[0]
    return {
        **stats,
        "spend": spend,
        "attributed_to_touches": float(touch["conversions"].sum() / t["conversions"].sum()),
        "paid_conversions": paid_conv,
        "paid_value": paid_value,
        "blended_cpa": spend / paid_conv if paid_conv > 0 else np.nan,
        "blended_roas": paid_value / spend if spend > 0 else np.nan,
        "top_channel": str(top["channel"]),
        "top_share": float(top["share"]),
    }


def compare_months(
    current: Mapping[str, object],
    previous: Mapping[str, object] | None,
    labels: Mapping[str, str],
) -> pd.DataFrame:
    """The month's figures against the previous month's.

    Parameters
    ----------
    current, previous
        Figures (e.g. from :func:`month_figures`); ``previous`` may be None (no earlier data).
    labels
        Figure key -> label, in the order to show.

    Returns
    -------
    pandas.DataFrame
        ``figure``, ``this_month``, ``previous_month``, ``change`` (difference, numbers only) and
        ``relative_change``.
    """
    return compare_figures(current, previous, labels)


def share_change(
    current: pd.DataFrame, previous: pd.DataFrame | None, model: str = "markov"
) -> pd.DataFrame:
    """One model's channel shares this month and the month before.

    Parameters
    ----------
    current, previous
        Long attribution tables of the two months (``previous`` may be None).
    model
        Model to compare.

    Returns
    -------
    pandas.DataFrame
        ``channel``, ``share``, ``previous_share``, ``change`` (share points), ``conversions``,
        ``previous_conversions``; channels by this month's share.
    """

    def pick(t: pd.DataFrame | None) -> pd.DataFrame:
        if t is None:
            return pd.DataFrame(columns=["share", "conversions"], dtype=float)
        if model not in set(t["model"]):
            raise ValueError(f"model {model!r} is not in the attribution table")
        s = t[t["model"] == model]
        return s.set_index(s["channel"].astype(str))[["share", "conversions"]]

    cur, prev = pick(current), pick(previous)
    idx = cur.index.union(prev.index, sort=False)
    cur, prev = cur.reindex(idx, fill_value=0.0), prev.reindex(idx)
    out = pd.DataFrame(
        {
            "channel": idx,
            "share": cur["share"].to_numpy(dtype=float),
            "previous_share": prev["share"].to_numpy(dtype=float),
            "conversions": cur["conversions"].to_numpy(dtype=float),
            "previous_conversions": prev["conversions"].to_numpy(dtype=float),
        }
    )
    if previous is not None:
        out[["previous_share", "previous_conversions"]] = out[
            ["previous_share", "previous_conversions"]
        ].fillna(0.0)
    out.insert(3, "change", out["share"] - out["previous_share"])
    return out.sort_values(["share", "channel"], ascending=[False, True]).reset_index(drop=True)


def active_campaigns(
    campaigns: pd.DataFrame, month: str, touchpoints: pd.DataFrame | None = None
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
    start, end = month_bounds(month)
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


# --------------------------------------------------------------------------------------------
# truth check (synthetic data)
# --------------------------------------------------------------------------------------------


def _month_causes(causes: pd.DataFrame, journeys: Journeys) -> pd.DataFrame:
    """The truth rows of the month's conversions (matched on order key)."""
    if "cause" not in causes.columns:
        raise ValueError("causes needs a 'cause' column (organic or the triggering channel)")
    key = "order_key" if "order_key" in causes.columns else "record_key"
    if key not in causes.columns:
        raise ValueError("causes needs an 'order_key' or 'record_key' column")
    jf = journeys.journeys
    if "order_key" not in jf.columns:
        raise ValueError("journeys carry no order_key: build them from orders with order_key")
    conv = jf.loc[jf["converted"].to_numpy(), ["order_key", "oneid", "conversion_time"]]
    out = causes.rename(columns={key: "order_key"}).merge(
        conv.astype({"order_key": object}), on="order_key", how="inner"
    )
    return out


def month_true_shares(
    causes: pd.DataFrame,
    journeys: Journeys,
    channel_map: Mapping[str, str] | None = None,
) -> pd.Series:
    """True channel shares among the touch-caused conversions of the month's journeys.

    Parameters
    ----------
    causes
        The generator's ``orders_cause`` (``record_key`` or ``order_key``, ``cause``).
    journeys
        The month's :class:`Journeys` (their conversions select the truth rows).
    channel_map
        The channel grouping of the journeys.

    Returns
    -------
    pandas.Series
        True share per touch channel (every channel of the journeys listed, sums to 1).
    """
    month = _month_causes(causes, journeys)
    channels = [c for c in journeys.channels if c != DIRECT]
    return true_channel_shares(month, channel_map=channel_map, channels=channels)


def touch_shares(table: pd.DataFrame) -> pd.DataFrame:
    """Each model's shares renormalized over the touch channels (``direct`` left out).

    The truth counts only touch-caused conversions, so this is what it is compared with.

    Parameters
    ----------
    table
        Long attribution table.

    Returns
    -------
    pandas.DataFrame
        Channels x models; every column sums to 1.
    """
    wide = share_matrix(table, "conversions").drop(index=[DIRECT], errors="ignore")
    total = wide.sum(axis=0)
    return wide.div(total.where(total != 0), axis=1)


def cause_visibility(
    causes: pd.DataFrame,
    journeys: Journeys,
    touchpoints: pd.DataFrame,
    channel_map: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """How many touch-caused conversions had their causing touch in view of the journeys.

    A model can only credit a touch that reached the buyer's OneID within the lookback window
    (and is a counted touch type). Touches on a device or cookie that identity resolution could not
    tie to the buyer start a journey of their own and the conversion looks ``direct``.

    Parameters
    ----------
    causes
        ``orders_cause`` (``record_key``/``order_key``, ``cause``, ``touch_key``).
    journeys
        The month's :class:`Journeys`.
    touchpoints
        Unified ``touchpoints`` (``touch_key``, ``oneid``, ``touch_time``, ``touch_type``).
    channel_map
        The channel grouping of the journeys.

    Returns
    -------
    pandas.DataFrame
        Per true cause channel (and ``all``): ``caused_conversions``, ``on_buyer_oneid`` (the
        causing touch carries the buyer's OneID), ``in_window`` (and lies within the lookback and
        is a counted touch type), ``visible_share`` (= in_window / caused_conversions).
    """
    for col in ("touch_key",):
        if col not in causes.columns:
            raise ValueError(f"causes needs a {col!r} column")
    missing = [
        c
        for c in ("touch_key", "oneid", "touch_time", "touch_type")
        if c not in touchpoints.columns
    ]
    if missing:
        raise ValueError(f"touchpoints is missing column(s) {missing}")
    m = _month_causes(causes, journeys)
    m = m[m["cause"].astype(str) != ORGANIC]
    tp = touchpoints[["touch_key", "oneid", "touch_time", "touch_type"]].rename(
        columns={"oneid": "touch_oneid"}
    )
    m = m.merge(tp.astype({"touch_key": object}), on="touch_key", how="left")
    cause = m["cause"].astype(str)
    if channel_map:
        cause = cause.map(dict(channel_map)).fillna(cause)
    same = (m["touch_oneid"].astype(object) == m["oneid"].astype(object)).to_numpy(dtype=bool)
    lag = (m["conversion_time"] - m["touch_time"]).to_numpy()
    lookback = np.timedelta64(
        int(round(float(journeys.settings.get("lookback_days", 30)) * _NS_PER_DAY)), "ns"
    )
    in_window = same & ~np.isnat(lag) & (lag >= np.timedelta64(0, "ns")) & (lag <= lookback)
    if not journeys.settings.get("include_impressions", False):
        in_window &= (m["touch_type"].astype(str) != "impression").to_numpy()
    frame = pd.DataFrame({"channel": cause.to_numpy(), "on": same, "win": in_window})
    g = frame.groupby("channel").agg(
        caused_conversions=("on", "size"), on_buyer_oneid=("on", "sum"), in_window=("win", "sum")
    )
    g.loc["all"] = g.sum()
    g["visible_share"] = g["in_window"] / g["caused_conversions"].where(g["caused_conversions"] > 0)
    return g.reset_index()
