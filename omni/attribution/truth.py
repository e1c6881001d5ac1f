"""The month's attribution against the synthetic world's truth: true shares, visibility of causes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from omni.attribution._common import NS_PER_DAY
from omni.attribution.comparison import share_matrix
from omni.attribution.evaluation import ORGANIC, true_channel_shares
from omni.attribution.journeys import DIRECT, Journeys

__all__ = [
    "cause_visibility",
    "month_true_shares",
    "touch_shares",
]


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
    # the month's rows first (a few thousand of the whole history's): the merge then hashes few keys
    causes = causes.loc[causes[key].isin(conv["order_key"].astype(object)).to_numpy()]
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
    tp = tp.loc[tp["touch_key"].isin(m["touch_key"].dropna()).to_numpy()]  # the causing touches only
    m = m.merge(tp.astype({"touch_key": object}), on="touch_key", how="left")
    cause = m["cause"].astype(str)
    if channel_map:
        cause = cause.map(dict(channel_map)).fillna(cause)
    same = (m["touch_oneid"].astype(object) == m["oneid"].astype(object)).to_numpy(dtype=bool)
    lag = (m["conversion_time"] - m["touch_time"]).to_numpy()
    lookback = np.timedelta64(
        int(round(float(journeys.settings.get("lookback_days", 30)) * NS_PER_DAY)), "ns"
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
