"""Checking attribution models against a known truth (synthetic data)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from omni.attribution.journeys import DIRECT

__all__ = ["ORGANIC", "compare_to_truth", "true_channel_shares"]

ORGANIC = "organic"


def true_channel_shares(
    causes: pd.DataFrame | pd.Series,
    orders: pd.DataFrame | None = None,
    channel_map: Mapping[str, str] | None = None,
    statuses: tuple[str, ...] | None = ("paid",),
    channels: Sequence[str] | None = None,
) -> pd.Series:
    """True share of each channel among the touch-caused conversions.

    Parameters
    ----------
    causes
        The generator's truth per order: a frame with ``cause`` (``organic`` or the touchpoint
        channel that triggered the order) and ``order_key`` (or ``record_key``), or a Series of
        causes.
    orders
        Optional ``orders`` (``order_key``, ``status``): only conversions (``statuses``) count.
    channel_map
        The same channel grouping as given to :func:`build_journeys`.
    statuses
        Order statuses that are conversions.
    channels
        Channels to list even if they caused nothing (true share 0), e.g. every touch channel.

    Returns
    -------
    pandas.Series
        ``caused by c / all touch-caused conversions`` indexed by channel (sums to 1).
    """
    if isinstance(causes, pd.Series):
        cause = causes
    else:
        if "cause" not in causes.columns:
            raise ValueError("causes needs a 'cause' column (organic or the triggering channel)")
        cause = causes["cause"]
        if orders is not None:
            key = "order_key" if "order_key" in causes.columns else "record_key"
            if key not in causes.columns or "order_key" not in orders.columns:
                raise ValueError("to filter by orders, causes needs order_key (or record_key)")
            conv = orders
            if statuses is not None and "status" in orders.columns:
                conv = orders[orders["status"].isin(list(statuses)).to_numpy()]
            cause = cause[causes[key].isin(conv["order_key"]).to_numpy()]
    cause = cause.dropna().astype(str)
    if channel_map:
        cause = cause.map(dict(channel_map)).fillna(cause)
    caused = cause[cause != ORGANIC]
    if caused.empty:
        raise ValueError("no touch-caused conversions in causes: true shares are undefined")
    shares = caused.value_counts(normalize=True)
    if channels is not None:
        extra = [c for c in channels if c not in shares.index and c not in (ORGANIC, DIRECT)]
        shares = pd.concat([shares, pd.Series(0.0, index=extra)])
    shares = shares.sort_index()
    shares.index.name = "channel"
    shares.name = "true_share"
    return shares


def compare_to_truth(
    attribution_frames: Mapping[str, pd.DataFrame], true_shares: pd.Series
) -> pd.DataFrame:
    """Deviation of each model's channel shares from the true shares.

    The truth counts only touch-caused conversions, so what a model gives to ``direct`` is left
    out and the model's shares are renormalized over the touch channels before comparing. A
    channel a model credits but the truth does not list has a true share of 0 (it caused no
    conversion).

    Parameters
    ----------
    attribution_frames
        Model name -> attribution frame (channel, conversions, ...).
    true_shares
        True share per channel (e.g. from :func:`true_channel_shares`), summing to 1.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``total_abs_dev`` (sum over channels of |share - true share|, between
        0 and 2), ``max_abs_dev``, ``max_dev_channel``, ``rank_corr`` (Spearman correlation of
        the shares with the true shares).
    """
    truth = pd.Series(true_shares, dtype=float)
    if truth.empty or not np.isclose(truth.sum(), 1.0, atol=1e-6):
        raise ValueError(f"true_shares must be non-empty and sum to 1, got sum {truth.sum():g}")
    rows = []
    for model, frame in attribution_frames.items():
        if not {"channel", "conversions"} <= set(frame.columns):
            raise ValueError(f"attribution frame {model!r} needs columns channel and conversions")
        conv = frame.groupby(frame["channel"].astype(str))["conversions"].sum()
        index = truth.index.union(conv.index.drop(DIRECT, errors="ignore"), sort=False)
        conv = conv.reindex(index, fill_value=0.0)
        true = truth.reindex(index, fill_value=0.0)
        total = conv.sum()
        share = conv / total if total != 0 else conv * 0.0
        dev = (share - true).abs()
        rows.append(
            {
                "model": model,
                "total_abs_dev": float(dev.sum()),
                "max_abs_dev": float(dev.max()),
                "max_dev_channel": str(dev.idxmax()),
                "rank_corr": float(share.rank().corr(true.rank())) if len(index) > 1 else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("model")
