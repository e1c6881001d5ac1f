"""Customer journeys: the touches of one person before each conversion.

A *journey* ends at a conversion (a paid order in any sales channel) and holds the person's touches
within ``lookback_days`` before it. The next journey starts after that conversion: a touch belongs to
the first conversion at or after it, so touches are never counted twice. Touches after a person's
last conversion form one non-converting (*null*) journey. Conversions with no touch in the window get
the path ``[direct]``.

Everything is vectorized: touches and conversions are sorted together by (person, time) and each
touch is assigned to its journey with cumulative counts, never with a Python loop per person.

Two frames describe the result (see :class:`Journeys`): a long frame with one row per touch and a
journey frame with one row per journey. :class:`Paths` collapses journeys with the same channel
sequence into one row with counts, the sufficient statistic for the Markov and Shapley models and
for the bootstrap.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from omni.attribution._common import row_label

__all__ = [
    "DIRECT",
    "NULL_WINDOWS",
    "PATH_SEP",
    "TOUCH_TYPES",
    "Journeys",
    "Paths",
    "build_journeys",
    "conversions_from_orders",
]

DIRECT = "direct"
"""Channel label of a conversion without any touch in its lookback window."""

PATH_SEP = " > "
"""Separator of channels in a path string, e.g. ``"search > sms > display"``."""

TOUCH_TYPES = ("impression", "click", "send", "open")
NULL_WINDOWS = ("last_touch", "end", "all")

_NS_PER_DAY = 86_400 * 10**9


# --------------------------------------------------------------------------------------------
# Paths: unique channel sequences with outcome counts
# --------------------------------------------------------------------------------------------


class Paths:
    """Unique journey paths with their outcome counts.

    Journeys with the same channel sequence are interchangeable for the path-based models (Markov,
    Shapley, and the position-only heuristics), so they are stored once with counts: 1M journeys
    typically collapse to a few thousand paths.

    Parameters
    ----------
    channels
        Channel vocabulary; ``codes`` index into it.
    offsets
        CSR offsets, length ``n_paths + 1``: the steps of path ``p`` are
        ``codes[offsets[p]:offsets[p + 1]]`` (at least one step per path).
    codes
        Channel code of every step.
    conversions, nulls
        Number of converting and of non-converting journeys that followed each path (floats so that
        bootstrap weights fit).
    value
        Total conversion value of the converting journeys of each path.
    """

    def __init__(
        self,
        channels: Sequence[str],
        offsets: np.ndarray,
        codes: np.ndarray,
        conversions: np.ndarray,
        nulls: np.ndarray,
        value: np.ndarray,
        _cache: dict[Any, Any] | None = None,
    ) -> None:
        self.channels: tuple[str, ...] = tuple(str(c) for c in channels)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.codes = np.asarray(codes, dtype=np.int32)
        self.conversions = np.asarray(conversions, dtype=float)
        self.nulls = np.asarray(nulls, dtype=float)
        self.value = np.asarray(value, dtype=float)
        n = len(self.offsets) - 1
        if n < 0 or self.offsets[0] != 0 or self.offsets[-1] != len(self.codes):
            raise ValueError("Paths: offsets must start at 0 and end at len(codes)")
        if np.any(np.diff(self.offsets) < 1):
            raise ValueError("Paths: every path needs at least one step")
        for name in ("conversions", "nulls", "value"):
            arr = getattr(self, name)
            if arr.shape != (n,):
                raise ValueError(f"Paths: {name} must have one entry per path ({n})")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"Paths: {name} must be finite")
        if np.any(self.conversions < 0) or np.any(self.nulls < 0):
            raise ValueError("Paths: conversions and nulls must be >= 0")
        if len(self.codes) and (self.codes.min() < 0 or self.codes.max() >= len(self.channels)):
            raise ValueError("Paths: codes must index into channels")
        # structure-derived arrays (Markov states, channel sets) shared by with_counts() copies
        self._cache: dict[Any, Any] = {} if _cache is None else _cache

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        path: str = "path",
        conversions: str = "conversions",
        nulls: str = "nulls",
        value: str = "value",
        sep: str = PATH_SEP,
    ) -> Paths:
        """Build from a frame with one row per path (or per journey).

        Parameters
        ----------
        frame
            Columns ``path`` (a string like ``"search > sms"`` or a list of channels),
            ``conversions`` and, optionally, ``nulls`` and ``value`` (missing ones count as 0).
            Rows with the same path are added up.
        path, conversions, nulls, value
            Column names.
        sep
            Separator inside path strings.

        Returns
        -------
        Paths
        """
        if path not in frame.columns or conversions not in frame.columns:
            raise ValueError(f"Paths.from_frame needs columns {path!r} and {conversions!r}")
        steps = frame[path]
        if steps.isna().any():
            raise ValueError(
                f"Paths.from_frame: null {path!r} at row {row_label(steps.index[steps.isna()][0])}"
            )
        if len(steps) and isinstance(steps.iloc[0], str):
            steps = steps.str.split(sep.strip()).map(lambda xs: [x.strip() for x in xs])
        keys = steps.map(lambda xs: sep.join(xs))
        if (steps.map(len) == 0).any() or keys.str.contains(r"(?:^|>)\s*(?:$|>)", regex=True).any():
            raise ValueError(f"Paths.from_frame: empty path or empty channel in {path!r}")
        counts = pd.DataFrame(
            {
                "key": keys.to_numpy(),
                "c": pd.to_numeric(frame[conversions]).to_numpy(dtype=float),
                "n": (
                    pd.to_numeric(frame[nulls]).to_numpy(dtype=float)
                    if nulls in frame.columns
                    else np.zeros(len(frame))
                ),
                "v": (
                    pd.to_numeric(frame[value]).to_numpy(dtype=float)
                    if value in frame.columns
                    else np.zeros(len(frame))
                ),
            }
        )
        agg = counts.groupby("key", sort=True).sum()
        exploded = pd.Series(agg.index, index=agg.index).str.split(sep.strip()).explode()
        exploded = exploded.str.strip()
        channels = sorted(set(exploded.unique()) | {DIRECT})
        codes = pd.Categorical(exploded.to_numpy(), categories=channels).codes
        lengths = exploded.groupby(level=0, sort=False).size().reindex(agg.index).to_numpy()
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        return cls(
            channels, offsets, codes, agg["c"].to_numpy(), agg["n"].to_numpy(), agg["v"].to_numpy()
        )

    def with_counts(self, conversions: np.ndarray, nulls: np.ndarray, value: np.ndarray) -> Paths:
        """Same paths with other counts (used by the bootstrap); structure caches are shared."""
        return Paths(
            self.channels, self.offsets, self.codes, conversions, nulls, value, _cache=self._cache
        )

    # -- views -------------------------------------------------------------------------------

    @property
    def n_paths(self) -> int:
        """Number of unique paths."""
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        """Number of steps of each path."""
        return np.diff(self.offsets)

    @property
    def step_path(self) -> np.ndarray:
        """Path index of every step (length ``len(codes)``)."""
        if "step_path" not in self._cache:
            self._cache["step_path"] = np.repeat(np.arange(self.n_paths), self.lengths)
        return self._cache["step_path"]

    @property
    def step_position(self) -> np.ndarray:
        """0-based position of every step inside its path."""
        if "step_position" not in self._cache:
            self._cache["step_position"] = np.arange(len(self.codes)) - np.repeat(
                self.offsets[:-1], self.lengths
            )
        return self._cache["step_position"]

    @property
    def path(self) -> np.ndarray:
        """Path strings, e.g. ``"search > sms"`` (object array)."""
        if "path" not in self._cache:
            self._cache["path"] = _join_paths(
                self.step_path, self.step_position, self.codes, self.channels, self.n_paths
            )
        return self._cache["path"]

    @property
    def n_journeys(self) -> float:
        """Total number of journeys (converting + null)."""
        return float(self.conversions.sum() + self.nulls.sum())

    def to_frame(self) -> pd.DataFrame:
        """One row per path: path, n_touches, conversions, nulls, value."""
        return pd.DataFrame(
            {
                "path": self.path,
                "n_touches": self.lengths,
                "conversions": self.conversions,
                "nulls": self.nulls,
                "value": self.value,
            }
        )

    def __repr__(self) -> str:
        return (
            f"Paths(n_paths={self.n_paths}, channels={len(self.channels)}, "
            f"conversions={self.conversions.sum():g}, nulls={self.nulls.sum():g})"
        )


def _join_paths(
    unit: np.ndarray, position: np.ndarray, codes: np.ndarray, channels: Sequence[str], n_units: int
) -> np.ndarray:
    """Path strings per unit, built with one vectorized concatenation per position (not per unit)."""
    names = np.asarray(list(channels), dtype=object)
    out = np.empty(n_units, dtype=object)
    order = np.argsort(position, kind="stable")
    bounds = np.searchsorted(position[order], np.arange(position.max(initial=-1) + 2))
    for p in range(len(bounds) - 1):
        rows = order[bounds[p] : bounds[p + 1]]
        if p == 0:
            out[unit[rows]] = names[codes[rows]]
        else:
            out[unit[rows]] = out[unit[rows]] + PATH_SEP + names[codes[rows]]
    return out


# --------------------------------------------------------------------------------------------
# Journeys
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Journeys:
    """The journeys of a dataset (output of :func:`build_journeys`).

    Attributes
    ----------
    touches
        Long frame, one row per touch kept in a journey, sorted by (journey_id, position):
        ``journey_id`` (int64), ``position`` (0-based), ``channel`` (category), ``touch_time``.
        A conversion without touches has one placeholder row with channel ``direct`` at its
        conversion time.
    journeys
        One row per journey, ordered by (oneid, time): ``journey_id``, ``oneid``, ``converted``,
        ``value`` (0 for null journeys), ``conversion_time`` (NaT for null journeys), ``end_time``
        (conversion time, or ``null_journey_end``), ``conversion_channel`` (order channel, e.g.
        tmall/jd/douyin/site/store), ``order_key`` (when the conversions carry it), ``n_touches``
        (observed touches; 0 for a ``direct`` conversion), ``first_touch_time``,
        ``time_to_convert`` (conversion time minus first touch time), ``path`` (category,
        ``"search > sms > display"``) and ``path_id`` (index into :meth:`paths`).
    channels
        Channel vocabulary (sorted, always includes ``direct``).
    settings
        The parameters the journeys were built with.
    """

    touches: pd.DataFrame
    journeys: pd.DataFrame
    channels: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    _paths: Paths | None = field(default=None, repr=False)

    @property
    def n_journeys(self) -> int:
        return len(self.journeys)

    @property
    def n_conversions(self) -> int:
        return int(self.journeys["converted"].sum())

    def paths(self) -> Paths:
        """Unique paths with counts of converting / null journeys and total value (cached)."""
        if self._paths is None:
            j = self.journeys
            path_id = j["path_id"].to_numpy()
            jid = self.touches["journey_id"].to_numpy()
            first_row = np.searchsorted(jid, np.arange(len(j)))
            length = np.bincount(jid, minlength=len(j))
            rep = np.unique(path_id, return_index=True)[1]
            paths = Paths(
                self.channels,
                np.concatenate([[0], np.cumsum(length[rep])]),
                self.touches["channel"].cat.codes.to_numpy()[
                    _gather_rows(first_row[rep], length[rep])
                ],
                np.zeros(len(rep)),
                np.zeros(len(rep)),
                np.zeros(len(rep)),
            )
            self._paths = _count_paths(paths, j)
        return self._paths

    def __repr__(self) -> str:
        return (
            f"Journeys(n_journeys={self.n_journeys}, conversions={self.n_conversions}, "
            f"touches={len(self.touches)}, channels={list(self.channels)})"
        )


def _count_paths(paths: Paths, journeys: pd.DataFrame) -> Paths:
    """Fill the outcome counts of ``paths`` from a journey frame with ``path_id``."""
    path_id = journeys["path_id"].to_numpy()
    conv = journeys["converted"].to_numpy()
    n = paths.n_paths
    return paths.with_counts(
        np.bincount(path_id, weights=conv, minlength=n),
        np.bincount(path_id, weights=~conv, minlength=n),
        np.bincount(path_id, weights=journeys["value"].to_numpy(), minlength=n),
    )


def conversions_from_orders(
    orders: pd.DataFrame, statuses: Sequence[str] | None = ("paid",)
) -> pd.DataFrame:
    """Select and validate the conversions of an ``orders`` table (data contract columns).

    Parameters
    ----------
    orders
        Unified ``orders``: ``oneid``, ``order_time``, ``amount`` required; ``channel`` (sales
        channel), ``status`` and ``order_key`` used when present.
    statuses
        Order statuses that count as a conversion (default: paid orders only). ``None`` keeps every
        row (for a frame that holds conversions only). Applied only when a ``status`` column exists.

    Returns
    -------
    pandas.DataFrame
        ``oneid``, ``conversion_time``, ``value``, ``conversion_channel`` and ``order_key`` (when
        present), one row per conversion, in input order.

    Raises
    ------
    ValueError
        Missing columns, null oneid/order_time/amount, negative amounts, unparseable times.
    """
    _require(orders, ["oneid", "order_time", "amount"], "orders")
    df = orders
    if statuses is not None and "status" in df.columns:
        df = df[df["status"].isin(list(statuses)).to_numpy()]
    _no_nulls(df, ["oneid", "order_time", "amount"], "orders")
    amount = pd.to_numeric(df["amount"], errors="coerce")
    bad = amount.isna() | ~np.isfinite(amount.to_numpy(dtype=float, na_value=np.nan)) | (amount < 0)
    if bad.any():
        raise ValueError(
            f"orders: {int(bad.sum())} conversion(s) with a non-numeric, infinite or negative "
            f"'amount' (first at row {row_label(df.index[bad.to_numpy()][0])})"
        )
    out = pd.DataFrame(
        {
            "oneid": df["oneid"].to_numpy(),
            "conversion_time": _as_datetime(df["order_time"], "orders", "order_time"),
            "value": amount.to_numpy(dtype=float),
        }
    )
    out["conversion_channel"] = (
        df["channel"].astype("string").to_numpy() if "channel" in df.columns else pd.NA
    )
    if "order_key" in df.columns:
        out["order_key"] = df["order_key"].to_numpy()
    return out


def build_journeys(
    touchpoints: pd.DataFrame,
    conversions: pd.DataFrame,
    lookback_days: float = 30,
    include_impressions: bool = False,
    channel_map: Mapping[str, str] | None = None,
    null_journey_end: pd.Timestamp | str | None = None,
    *,
    null_window: str = "last_touch",
    statuses: Sequence[str] | None = ("paid",),
) -> Journeys:
    """Assign touches to the conversion journeys of each person.

    Parameters
    ----------
    touchpoints
        Unified ``touchpoints``: ``oneid``, ``touch_time``, ``channel`` and ``touch_type``
        (impression/click/send/open; needed unless ``include_impressions``).
    conversions
        Unified ``orders`` (paid orders are the conversions, see :func:`conversions_from_orders`)
        or an already selected frame of conversions with the same columns.
    lookback_days
        Touches more than this many days before the conversion do not count. A touch at the very
        time of the conversion counts.
    include_impressions
        Count ``impression`` touches (default: only click/send/open).
    channel_map
        Optional grouping of touch channels, e.g. ``{"sms": "crm", "email": "crm"}``. Channels not
        in the map keep their name.
    null_journey_end
        End of the non-converting journeys (touches after it are ignored for them); default: the
        latest touch or conversion time in the data.
    null_window
        Which touches after a person's last conversion form the null journey:
        ``"last_touch"`` (default) the touches within ``lookback_days`` before the person's last
        touch, so a null journey spans at most as long as a converting one whatever the data's
        time span; ``"end"`` only touches within ``lookback_days`` before ``null_journey_end``;
        ``"all"`` every touch after the last conversion.
    statuses
        Order statuses that count as conversions (see :func:`conversions_from_orders`).

    Returns
    -------
    Journeys
        The long touch frame and the journey frame (see :class:`Journeys`).

    Raises
    ------
    ValueError
        Missing columns, null keys or times, unknown touch types, bad parameters.

    Notes
    -----
    A touch belongs to the first conversion of the same person at or after it; if that conversion
    is more than ``lookback_days`` later the touch is dropped, it does not move to a later journey.
    Several conversions at the same instant: the touches go to the first (by ``order_key`` when
    present), the others are ``direct``. Touches at the same instant are ordered by channel name,
    so the result does not depend on the row order of the input.
    """
    if not np.isfinite(lookback_days) or lookback_days <= 0:
        raise ValueError(f"lookback_days must be a positive number, got {lookback_days!r}")
    if null_window not in NULL_WINDOWS:
        raise ValueError(f"null_window must be one of {NULL_WINDOWS}, got {null_window!r}")
    lookback_ns = int(round(lookback_days * _NS_PER_DAY))
    t_oneid, t_time, t_code, channels = _prepare_touches(touchpoints, include_impressions, channel_map)
    conv = conversions_from_orders(conversions, statuses)
    if "order_key" in conv.columns:  # deterministic order of simultaneous conversions
        conv = conv.sort_values("order_key", kind="stable", ignore_index=True)
    persons, t_pid, c_pid = _encode_persons(t_oneid, conv["oneid"])
    c_time = conv["conversion_time"].to_numpy().view(np.int64)
    null_end_ns = _null_end_ns(null_journey_end, t_time, c_time)

    m = _match_touches(t_pid, t_time, t_code, c_pid, c_time, len(channels), lookback_ns)
    is_null = _null_touches(m, len(persons), null_end_ns, lookback_ns, null_window)
    rows = _journey_rows(m, is_null, t_code, len(persons), channels.index(DIRECT))
    path_id, paths = _unique_paths(rows, channels)
    all_jid, all_time, all_code, _, position, _ = rows["touch_rows"]
    touches_long = pd.DataFrame(
        {
            "journey_id": all_jid,
            "position": position.astype(np.int32),
            "channel": pd.Categorical.from_codes(all_code, categories=channels),
            "touch_time": all_time.view("datetime64[ns]"),
        }
    )
    jf = _journey_frame(conv, m, rows, persons, null_end_ns)
    jf["path"] = pd.Categorical.from_codes(path_id, categories=pd.Index(paths.path, dtype=object))
    jf["path_id"] = path_id
    settings = {
        "lookback_days": lookback_days, "include_impressions": include_impressions,
        "channel_map": dict(channel_map) if channel_map else None,
        "null_journey_end": pd.Timestamp(null_end_ns), "null_window": null_window,
        "statuses": tuple(statuses) if statuses is not None else None,
    }
    return Journeys(touches=touches_long, journeys=jf, channels=channels, settings=settings,
                    _paths=_count_paths(paths, jf))


def _unique_paths(rows: dict[str, Any], channels: list[str]) -> tuple[np.ndarray, Paths]:
    """The path id of every journey and the distinct paths (trie ids built one position at a
    time, vectorized over journeys); the paths' counts are filled by :func:`_count_paths`."""
    all_jid, _, all_code, first_row, position, length = rows["touch_rows"]
    path_id, rep = _path_ids(all_jid, position, all_code, len(channels), rows["n_j"])
    rep_rows = _gather_rows(first_row[rep], length[rep])
    paths = Paths(
        channels,
        np.concatenate([[0], np.cumsum(length[rep])]),
        all_code[rep_rows],
        np.zeros(len(rep)),
        np.zeros(len(rep)),
        np.zeros(len(rep)),
    )
    return path_id, paths


def _null_end_ns(null_journey_end: pd.Timestamp | str | None, t_time: np.ndarray, c_time: np.ndarray) -> int:
    """End of the non-converting journeys in ns: the given time, else the latest touch or conversion."""
    if null_journey_end is None:
        candidates = [x.max() for x in (t_time, c_time) if len(x)]
        return int(max(candidates)) if candidates else 0
    return int(_as_datetime(pd.Series([null_journey_end]), "null_journey_end", "")[0].view(np.int64))


def _match_touches(
    t_pid: np.ndarray,
    t_time: np.ndarray,
    t_code: np.ndarray,
    c_pid: np.ndarray,
    c_time: np.ndarray,
    n_channels: int,
    lookback_ns: int,
) -> dict[str, Any]:
    """Each touch's first conversion of the same person at or after it (within the lookback).

    Returns a dict of arrays: ``t_rows`` (touch rows in (person, time) order), ``g`` (rank of the
    first conversion at/after each touch), ``tp``/``tt`` (person, time of each sorted touch),
    ``converting``, ``keep_conv``, ``conv_rank_orig`` (original conversion row of rank g),
    ``c_pid_r``/``c_time_r`` (conversions in rank order) and ``n_c``.
    """
    n_t, n_c = len(t_time), len(c_time)
    # ---- sort touches and conversions together by (person, time); a touch sorts before a
    # conversion at the same instant so that it counts for that conversion
    pid = np.concatenate([t_pid, c_pid])
    time = np.concatenate([t_time, c_time])
    kind = np.concatenate([np.zeros(n_t, np.int8), np.ones(n_c, np.int8)])
    # tie-break at equal times: touches by channel name (input order must not matter), then
    # conversions (by order_key, from the stable pre-sort)
    tie = np.concatenate([t_code, np.full(n_c, n_channels, dtype=t_code.dtype)])
    order = np.lexsort((tie, time, pid))
    is_conv = kind[order] == 1
    conv_before = np.cumsum(is_conv) - is_conv  # conversions strictly before each event
    conv_rank_orig = order[is_conv] - n_t  # original conversion row of conversion rank g
    c_pid_r = c_pid[conv_rank_orig]
    c_time_r = c_time[conv_rank_orig]

    t_rows = order[~is_conv]  # touch rows in (person, time) order
    g = conv_before[~is_conv]  # rank of the first conversion at/after the touch (if same person)
    tp = pid[t_rows]
    tt = time[t_rows]
    # rank n_c means "no later conversion at all": pad with a person that never matches
    converting = np.append(c_pid_r, -1)[g] == tp
    keep_conv = converting & (np.append(c_time_r, 0)[g] - tt <= lookback_ns)
    return {"t_rows": t_rows, "g": g, "tp": tp, "tt": tt, "converting": converting,
            "keep_conv": keep_conv, "conv_rank_orig": conv_rank_orig, "c_pid_r": c_pid_r,
            "c_time_r": c_time_r, "n_c": n_c}


def _null_touches(m: dict[str, Any], n_persons: int, null_end_ns: int, lookback_ns: int,
                  null_window: str) -> np.ndarray:
    """Which sorted touches (after a person's last conversion) form its null journey."""
    tp, tt = m["tp"], m["tt"]
    is_null = ~m["converting"] & (tt <= null_end_ns)
    if null_window == "end":
        is_null &= tt >= null_end_ns - lookback_ns
    elif null_window == "last_touch" and is_null.any():
        # touches are sorted by (person, time): the last null candidate of a person is its max
        cand = np.flatnonzero(is_null)
        group_last = np.flatnonzero(np.diff(np.append(tp[cand], -1)) != 0)
        last_of_person = np.zeros(n_persons, dtype=np.int64)
        last_of_person[tp[cand][group_last]] = tt[cand][group_last]
        is_null &= tt >= last_of_person[tp] - lookback_ns
    return is_null


def _journey_rows(m: dict[str, Any], is_null: np.ndarray, t_code: np.ndarray, n_persons: int,
                  direct_code: int) -> dict[str, Any]:
    """Journey ids (per person its conversion journeys by time, then its null journey) and the
    touch rows of every journey in (journey, time) order, with ``direct`` placeholders for
    conversions without touches.

    Returns a dict: ``n_j``, ``jid_of`` (journey id of each conversion rank, then null slot),
    ``j_pid``, ``n_touch`` (kept touches per journey), ``conv_jid`` and ``touch_rows`` =
    (``all_jid``, ``all_time``, ``all_code``, ``first_row``, ``position``, ``length``).
    """
    n_c, g, tp = m["n_c"], m["g"], m["tp"]
    keep_conv = m["keep_conv"]
    null_pids = np.unique(tp[is_null])
    j_pid = np.concatenate([m["c_pid_r"], null_pids])
    j_kind = np.concatenate([np.zeros(n_c, np.int8), np.ones(len(null_pids), np.int8)])
    j_order = np.lexsort((j_kind, j_pid))
    jid_of = np.empty(len(j_pid), dtype=np.int64)
    jid_of[j_order] = np.arange(len(j_pid))
    n_j = len(j_pid)
    null_slot = np.full(n_persons, -1, dtype=np.int64)
    null_slot[null_pids] = np.arange(len(null_pids))

    kept = keep_conv | is_null
    k_rows = m["t_rows"][kept]
    k_conv = keep_conv[kept]
    k_jid = np.empty(int(kept.sum()), dtype=np.int64)
    k_jid[k_conv] = jid_of[g[kept][k_conv]]
    k_jid[~k_conv] = jid_of[n_c + null_slot[tp[kept][~k_conv]]]
    k_time = m["tt"][kept]
    k_code = t_code[k_rows]

    # ---- direct placeholders for conversions without touches
    n_touch = np.bincount(k_jid, minlength=n_j)
    conv_jid = jid_of[:n_c]
    no_touch = n_touch[conv_jid] == 0
    d_jid = conv_jid[no_touch]
    all_jid = np.concatenate([k_jid, d_jid])
    all_time = np.concatenate([k_time, m["c_time_r"][no_touch]])
    all_code = np.concatenate([k_code, np.full(len(d_jid), direct_code, dtype=k_code.dtype)])
    srt = np.argsort(all_jid, kind="stable")  # kept touches are already in (jid, time) order
    all_jid, all_time, all_code = all_jid[srt], all_time[srt], all_code[srt]
    first_row = np.searchsorted(all_jid, np.arange(n_j))
    position = np.arange(len(all_jid)) - first_row[all_jid]
    length = np.bincount(all_jid, minlength=n_j)
    return {"n_j": n_j, "jid_of": jid_of, "j_pid": j_pid, "n_touch": n_touch, "conv_jid": conv_jid,
            "touch_rows": (all_jid, all_time, all_code, first_row, position, length)}


def _journey_frame(conv: pd.DataFrame, m: dict[str, Any], rows: dict[str, Any], persons: np.ndarray,
                   null_end_ns: int) -> pd.DataFrame:
    """The journey frame (one row per journey) without its path columns."""
    n_j, conv_jid, n_touch = rows["n_j"], rows["conv_jid"], rows["n_touch"]
    all_time, first_row, length = rows["touch_rows"][1], rows["touch_rows"][3], rows["touch_rows"][5]
    conv_rank_orig = m["conv_rank_orig"]
    converted = np.zeros(n_j, dtype=bool)
    converted[conv_jid] = True
    value = np.zeros(n_j)
    value[conv_jid] = conv["value"].to_numpy()[conv_rank_orig]
    conv_time = np.full(n_j, np.iinfo(np.int64).min, dtype=np.int64)  # NaT
    conv_time[conv_jid] = m["c_time_r"]
    end_time = np.where(converted, conv_time, null_end_ns)
    j_pid_by_id = np.empty(n_j, dtype=np.int64)
    j_pid_by_id[rows["jid_of"]] = rows["j_pid"]
    n_touches = np.where(converted & (n_touch == 0), 0, length)
    first_time = np.full(n_j, np.iinfo(np.int64).min, dtype=np.int64)
    has_touch = n_touches > 0
    first_time[has_touch] = all_time[first_row[has_touch]]
    ttc = np.full(n_j, np.iinfo(np.int64).min, dtype=np.int64)
    both = converted & has_touch
    ttc[both] = conv_time[both] - first_time[both]

    cchan = np.full(n_j, None, dtype=object)
    cchan[conv_jid] = conv["conversion_channel"].to_numpy()[conv_rank_orig]

    jf = pd.DataFrame(
        {
            "journey_id": np.arange(n_j, dtype=np.int64),
            "oneid": pd.array(persons[j_pid_by_id], dtype="string"),
            "converted": converted,
            "value": value,
            "conversion_time": conv_time.view("datetime64[ns]"),
            "end_time": end_time.view("datetime64[ns]"),
            "conversion_channel": pd.Categorical(cchan),
        }
    )
    if "order_key" in conv.columns:
        okey = np.full(n_j, None, dtype=object)
        okey[conv_jid] = conv["order_key"].to_numpy()[conv_rank_orig]
        jf["order_key"] = pd.array(okey, dtype="string")
    jf["n_touches"] = n_touches.astype(np.int64)
    jf["first_touch_time"] = first_time.view("datetime64[ns]")
    jf["time_to_convert"] = ttc.view("timedelta64[ns]")
    return jf


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _positions(lengths: np.ndarray) -> np.ndarray:
    """0..n-1 for each n in ``lengths``, concatenated."""
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return np.arange(offsets[-1]) - np.repeat(offsets[:-1], lengths)


def _gather_rows(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Row indices ``starts[i] .. starts[i] + lengths[i] - 1`` for each i, concatenated."""
    return np.repeat(starts, lengths) + _positions(lengths)


def _path_ids(
    jid: np.ndarray, position: np.ndarray, code: np.ndarray, n_codes: int, n_j: int
) -> tuple[np.ndarray, np.ndarray]:
    """Identify equal channel sequences exactly.

    Each prefix gets a trie-node id: ids at position p are the unique (id at p-1, code) pairs,
    offset so that ids of different depths never collide. The id at the last position identifies
    the whole sequence. Returns the path id of every journey (0..P-1, in order of first
    appearance) and a representative (first) journey per path.
    """
    node = np.empty(n_j, dtype=np.int64)
    order = np.argsort(position, kind="stable")
    bounds = np.searchsorted(position[order], np.arange(position.max(initial=-1) + 2))
    next_id = 0
    for p in range(len(bounds) - 1):
        rows = order[bounds[p] : bounds[p + 1]]
        j = jid[rows]
        key = code[rows].astype(np.int64) if p == 0 else node[j] * (n_codes + 1) + code[rows]
        uniq, inv = np.unique(key, return_inverse=True)
        node[j] = inv + next_id
        next_id += len(uniq)
    path_of = pd.factorize(node)[0].astype(np.int64)
    first = np.unique(path_of, return_index=True)[1]
    return path_of, first.astype(np.int64)


def _require(df: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name} is missing required column(s) {missing}")


def _no_nulls(df: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    for col in columns:
        isna = df[col].isna().to_numpy()
        if isna.any():
            raise ValueError(
                f"{name}: {int(isna.sum())} row(s) with null {col!r} "
                f"(first at row {row_label(df.index[isna][0])})"
            )


def _as_datetime(values: pd.Series, name: str, column: str) -> np.ndarray:
    """Times as tz-naive ``datetime64[ns]`` (the data contract stores local, tz-naive times)."""
    try:
        ts = pd.to_datetime(values)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name}: {column!r} could not be parsed as datetimes ({exc})") from None
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise ValueError(
            f"{name}: {column!r} is timezone-aware; the data contract stores tz-naive local times"
        )
    return ts.to_numpy(dtype="datetime64[ns]")


def _prepare_touches(
    touchpoints: pd.DataFrame, include_impressions: bool, channel_map: Mapping[str, str] | None
) -> tuple[pd.Series, np.ndarray, np.ndarray, tuple[str, ...]]:
    """Validated touches: oneid, time (int ns), channel code, channel vocabulary (with direct).

    Channel names are checked and mapped on their few distinct values, not per row.
    """
    required = ["oneid", "touch_time", "channel"] + ([] if include_impressions else ["touch_type"])
    _require(touchpoints, required, "touchpoints")
    df = touchpoints
    if "touch_type" in df.columns:
        codes, uniques = pd.factorize(df["touch_type"])
        unknown = [i for i, u in enumerate(uniques) if u not in TOUCH_TYPES]
        if unknown:
            first = int(np.flatnonzero(np.isin(codes, unknown))[0])
            raise ValueError(
                f"touchpoints: unknown touch_type {str(uniques[unknown[0]])!r} at row "
                f"{row_label(df.index[first])}; expected one of {TOUCH_TYPES}"
            )
        if not include_impressions and "impression" in list(uniques):
            df = df[codes != list(uniques).index("impression")]
    _no_nulls(df, ["touch_time"], "touchpoints")
    ch_codes, ch_uniques = pd.factorize(df["channel"])
    _check_codes(ch_codes, df, "touchpoints", "channel")
    names = [str(u) for u in ch_uniques]
    if channel_map:
        bad_map = [k for k, v in channel_map.items() if not isinstance(v, str) or not v.strip()]
        if bad_map:
            raise ValueError(
                f"channel_map: channel(s) {bad_map} map to an empty or non-string group"
            )
        names = [channel_map.get(n, n) for n in names]
    bad = [n for n in names if not n.strip()]
    if bad:
        raise ValueError(f"touchpoints: channel names must be non-empty, got {bad[0]!r}")
    # '>' separates the steps of a path: a channel name from the data that holds one is shown
    # with '›' instead (and said so) rather than stopping the report.
    renamed = sorted({n for n in names if ">" in n})
    if renamed:
        warnings.warn(f"touchpoints: {len(renamed)} channel name(s) contain '>', the path separator; "
                      "shown with '›' instead", stacklevel=3)
        names = [n.replace(">", "›") for n in names]
    channels = tuple(sorted(set(names) | {DIRECT}))
    remap = np.array([channels.index(n) for n in names], dtype=np.int32)
    t_time = _as_datetime(df["touch_time"], "touchpoints", "touch_time").view(np.int64)
    return df["oneid"], t_time, remap[ch_codes] if len(names) else ch_codes, channels


def _check_codes(codes: np.ndarray, df: pd.DataFrame, name: str, column: str) -> None:
    """Raise if factorized ``codes`` hold a null (-1)."""
    isna = codes < 0
    if isna.any():
        raise ValueError(
            f"{name}: {int(isna.sum())} row(s) with null {column!r} "
            f"(first at row {row_label(df.index[isna][0])})"
        )


def _encode_persons(
    t_oneid: pd.Series, c_oneid: pd.Series
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer codes of the oneids of touches and conversions, numbered in sorted oneid order."""
    both = np.concatenate([np.asarray(t_oneid, dtype=object), np.asarray(c_oneid, dtype=object)])
    codes, uniques = pd.factorize(both)
    if (codes[: len(t_oneid)] < 0).any():
        _check_codes(codes[: len(t_oneid)], t_oneid.to_frame(), "touchpoints", "oneid")
    persons = np.asarray(uniques, dtype=object)
    try:
        order = np.argsort(persons.astype(str), kind="stable")
    except (TypeError, ValueError):  # pragma: no cover - exotic id types
        order = np.arange(len(persons))
    rank = np.empty(len(persons), dtype=np.int64)
    rank[order] = np.arange(len(persons))
    codes = rank[codes]
    return persons[order], codes[: len(t_oneid)], codes[len(t_oneid) :]


def as_paths(journeys: Journeys | Paths) -> Paths:
    """Return the unique-path summary of ``journeys`` (a :class:`Journeys` or :class:`Paths`)."""
    if isinstance(journeys, Paths):
        return journeys
    if isinstance(journeys, Journeys):
        return journeys.paths()
    raise TypeError(
        f"expected Journeys (from build_journeys) or Paths, got {type(journeys).__name__}"
    )
