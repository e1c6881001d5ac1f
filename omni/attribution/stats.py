"""Statistics of a month's journeys: lengths, time to convert, top paths, online before offline.

Everything is vectorized over journeys and touches; the loops are over a handful of sales channels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from omni.attribution._common import NS_PER_DAY
from omni.attribution.journeys import DIRECT, Journeys
from omni.core.strings import isin

__all__ = [
    "conversion_channel_summary",
    "journey_stats",
    "length_distribution",
    "time_to_convert_distribution",
    "top_paths",
]


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
    days = jf["time_to_convert"].to_numpy()[touched].view(np.int64) / NS_PER_DAY
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
    days = jf["time_to_convert"].to_numpy()[touched].view(np.int64) / NS_PER_DAY
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
    # only events that can be the last one before a conversion within the lookback: those of
    # the buyers, from the lookback before the first conversion to the last conversion
    lookback = np.timedelta64(int(round(lookback_days * NS_PER_DAY)), "ns")
    t_ev = pd.to_datetime(events["event_time"])
    sel = isin(events["oneid"], conv["oneid"])
    if len(conv):
        sel &= ((t_ev >= conv["conversion_time"].min() - lookback)
                & (t_ev <= conv["conversion_time"].max())).to_numpy()
    ev = pd.DataFrame(
        {"oneid": events["oneid"][sel].astype(object), "t": t_ev[sel]}
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
    ok = ~np.isnat(gap) & (gap <= lookback)
    out = np.zeros(len(conv), dtype=bool)
    out[m["row"].to_numpy()] = ok
    return out
