"""Return on spend per channel and attribution model: CPA and ROAS."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from omni.attribution._common import row_label

__all__ = ["channel_roi", "roi_summary"]


def channel_roi(
    attribution: Mapping[str, pd.DataFrame] | pd.DataFrame,
    channel_spend: pd.DataFrame,
    period: tuple[str | pd.Timestamp, str | pd.Timestamp] | str | pd.Period | None = None,
    channel_map: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Spend, attributed conversions and value, CPA and ROAS per channel and model.

    Parameters
    ----------
    attribution
        Model name -> attribution frame (channel, conversions, value), or one frame, optionally
        with a ``model`` column (e.g. from :func:`attribute`).
    channel_spend
        ``date``, ``channel``, ``spend`` (data contract).
    period
        Spend dates to include: ``(start, end)`` inclusive, or a month such as ``"2025-03"`` /
        a :class:`pandas.Period`; default all. Attribute journeys of the same period.
    channel_map
        The channel grouping given to :func:`build_journeys`, applied to the spend channels.

    Returns
    -------
    pandas.DataFrame
        ``model``, ``channel``, ``spend``, ``conversions``, ``value``, ``cpa``
        (spend / attributed conversions) and ``roas`` (attributed value / spend). Channels without
        spend (``direct``, organic) have spend 0 and NaN CPA and ROAS; a channel with spend but no
        attributed conversions has NaN CPA and ROAS 0. Spend channels absent from the attribution
        appear with 0 conversions.
    """
    frames = _as_frames(attribution)
    spend = _spend_by_channel(channel_spend, period, channel_map)
    out = []
    for model, frame in frames.items():
        missing = [c for c in ("channel", "conversions", "value") if c not in frame.columns]
        if missing:
            raise ValueError(f"attribution frame {model!r} is missing column(s) {missing}")
        agg = frame.groupby(frame["channel"].astype(str))[["conversions", "value"]].sum()
        idx = agg.index.union(spend.index, sort=False)
        t = agg.reindex(idx, fill_value=0.0)
        t.insert(0, "spend", spend.reindex(idx, fill_value=0.0))
        has_spend = t["spend"].to_numpy() > 0
        conv = t["conversions"].to_numpy()
        t["cpa"] = np.where(
            has_spend & (conv > 0), t["spend"] / np.where(conv > 0, conv, 1.0), np.nan
        )
        t["roas"] = np.where(has_spend, t["value"] / np.where(has_spend, t["spend"], 1.0), np.nan)
        t.index.name = "channel"
        t = t.reset_index()
        t.insert(0, "model", model)
        out.append(t)
    return pd.concat(out, ignore_index=True)


def _as_frames(attribution: Mapping[str, pd.DataFrame] | pd.DataFrame) -> dict[str, pd.DataFrame]:
    if isinstance(attribution, pd.DataFrame):
        if "model" in attribution.columns:
            return {str(m): g for m, g in attribution.groupby("model", sort=False)}
        return {"model": attribution}
    if isinstance(attribution, Mapping) and attribution:
        return dict(attribution)
    raise ValueError("attribution must be a non-empty dict of frames or a frame")


def _spend_by_channel(
    channel_spend: pd.DataFrame,
    period: tuple[str | pd.Timestamp, str | pd.Timestamp] | str | pd.Period | None,
    channel_map: Mapping[str, str] | None,
) -> pd.Series:
    missing = [c for c in ("date", "channel", "spend") if c not in channel_spend.columns]
    if missing:
        raise ValueError(f"channel_spend is missing column(s) {missing}")
    spend = pd.to_numeric(channel_spend["spend"], errors="coerce")
    bad = spend.isna() | (spend < 0)
    if bad.any():
        raise ValueError(
            f"channel_spend: {int(bad.sum())} row(s) with missing, non-numeric or negative spend "
            f"(first at row {row_label(channel_spend.index[bad.to_numpy()][0])})"
        )
    if channel_spend["channel"].isna().any():
        first = channel_spend.index[channel_spend["channel"].isna().to_numpy()][0]
        raise ValueError(f"channel_spend: null channel (first at row {row_label(first)})")
    try:
        dates = pd.to_datetime(channel_spend["date"])
    except (ValueError, TypeError) as exc:
        raise ValueError(f"channel_spend: 'date' could not be parsed ({exc})") from None
    keep = np.ones(len(channel_spend), dtype=bool)
    if period is not None:
        if isinstance(period, str | pd.Period):
            per = pd.Period(period, freq="M") if isinstance(period, str) else period
            start, end = per.start_time, per.end_time
        else:
            try:
                start, end = (pd.Timestamp(p) for p in period)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"period must be (start, end) or a month, got {period!r}") from exc
            end = end + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")  # inclusive end date
        if start > end:
            raise ValueError(f"period starts after it ends: {period!r}")
        keep = ((dates >= start) & (dates <= end)).to_numpy()
    channel = channel_spend["channel"].astype(str)
    if channel_map:
        channel = channel.map(dict(channel_map)).fillna(channel)
    return spend[keep].groupby(channel[keep].to_numpy()).sum().astype(float)


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
