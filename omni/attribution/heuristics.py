"""Rule-based (heuristic) attribution: first, last, last non-direct, linear, time decay, position.

Each rule gives every touch of a converting journey a fraction of the conversion; the fractions of
one journey add up to 1, so the attributed conversions (and value) of all channels add up to the
total conversions (and value). Computed on the long touch frame with array arithmetic: one
``bincount`` per model, no loop over journeys.

Every function accepts :class:`~omni.attribution.journeys.Journeys` or, except
:func:`time_decay`, which needs touch times, :class:`~omni.attribution.journeys.Paths` (unique
paths with counts, e.g. a bootstrap replicate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from omni.attribution._common import result_frame
from omni.attribution.journeys import DIRECT, Journeys, Paths

__all__ = [
    "first_touch",
    "last_non_direct",
    "last_touch",
    "linear",
    "position_based",
    "time_decay",
]


@dataclass
class _Steps:
    """Touches of converting units (journeys or unique paths), sorted by (unit, position)."""

    unit: np.ndarray  # unit index of each step
    position: np.ndarray  # 0-based position in the unit
    code: np.ndarray  # channel code
    start: np.ndarray  # first step of each unit
    length: np.ndarray  # steps per unit
    weight: np.ndarray  # conversions per unit
    value: np.ndarray  # conversion value per unit
    channels: tuple[str, ...]
    time_ns: np.ndarray | None = None  # touch time (journeys only)
    end_ns: np.ndarray | None = None  # conversion time per unit (journeys only)


def _steps(journeys: Journeys | Paths) -> _Steps:
    if isinstance(journeys, Paths):
        keep = journeys.conversions > 0
        units = np.flatnonzero(keep)
        lengths = journeys.lengths[units]
        rows = np.repeat(journeys.offsets[:-1][units], lengths) + _ramp(lengths)
        return _Steps(
            unit=np.repeat(np.arange(len(units)), lengths),
            position=_ramp(lengths),
            code=journeys.codes[rows],
            start=np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64),
            length=lengths,
            weight=journeys.conversions[units],
            value=journeys.value[units],
            channels=journeys.channels,
        )
    if not isinstance(journeys, Journeys):
        raise TypeError(
            f"expected Journeys (from build_journeys) or Paths, got {type(journeys).__name__}"
        )
    jf = journeys.journeys
    converted = jf["converted"].to_numpy()
    t = journeys.touches
    jid = t["journey_id"].to_numpy()
    sel = converted[jid]
    conv_ids = np.flatnonzero(converted)
    unit_of_journey = np.full(len(jf), -1, dtype=np.int64)
    unit_of_journey[conv_ids] = np.arange(len(conv_ids))
    unit = unit_of_journey[jid[sel]]
    length = np.bincount(unit, minlength=len(conv_ids))
    return _Steps(
        unit=unit,
        position=t["position"].to_numpy()[sel].astype(np.int64),
        code=t["channel"].cat.codes.to_numpy()[sel],
        start=np.concatenate([[0], np.cumsum(length)[:-1]]).astype(np.int64),
        length=length,
        weight=np.ones(len(conv_ids)),
        value=jf["value"].to_numpy()[conv_ids],
        channels=journeys.channels,
        time_ns=t["touch_time"].to_numpy()[sel].view(np.int64),
        end_ns=jf["conversion_time"].to_numpy()[conv_ids].view(np.int64),
    )


def _ramp(lengths: np.ndarray) -> np.ndarray:
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return np.arange(offsets[-1]) - np.repeat(offsets[:-1], lengths)


def _credit(s: _Steps, fraction: np.ndarray) -> pd.DataFrame:
    """Sum per channel of each step's fraction times its unit's conversions and value."""
    n = len(s.channels)
    conv = np.bincount(s.code, weights=fraction * s.weight[s.unit], minlength=n)
    value = np.bincount(s.code, weights=fraction * s.value[s.unit], minlength=n)
    return result_frame(s.channels, conv, value)


def first_touch(journeys: Journeys | Paths) -> pd.DataFrame:
    """First-touch attribution: the whole conversion to the first touch of the journey.

    Parameters
    ----------
    journeys
        :class:`Journeys` or :class:`Paths`.

    Returns
    -------
    pandas.DataFrame
        channel, conversions (attributed), value (attributed), share (of conversions).
    """
    s = _steps(journeys)
    return _credit(s, (s.position == 0).astype(float))


def last_touch(journeys: Journeys | Paths) -> pd.DataFrame:
    """Last-touch attribution: the whole conversion to the last touch before it.

    Parameters
    ----------
    journeys
        :class:`Journeys` or :class:`Paths`.

    Returns
    -------
    pandas.DataFrame
        channel, conversions, value, share.
    """
    s = _steps(journeys)
    return _credit(s, (s.position == s.length[s.unit] - 1).astype(float))


def last_non_direct(journeys: Journeys | Paths) -> pd.DataFrame:
    """Last non-direct touch: the last touch whose channel is not ``direct``.

    A journey made only of ``direct`` (a conversion without touches, or touches mapped to
    ``direct`` by a channel map) stays with ``direct``.

    Parameters
    ----------
    journeys
        :class:`Journeys` or :class:`Paths`.

    Returns
    -------
    pandas.DataFrame
        channel, conversions, value, share.
    """
    s = _steps(journeys)
    direct = s.channels.index(DIRECT) if DIRECT in s.channels else -1
    if len(s.code) == 0:
        return _credit(s, np.zeros(0))
    pos_nd = np.where(s.code != direct, s.position, -1)
    last_nd = np.maximum.reduceat(pos_nd, s.start) if len(s.start) else pos_nd[:0]
    target = np.where(last_nd >= 0, last_nd, s.length - 1)
    return _credit(s, (s.position == target[s.unit]).astype(float))


def linear(journeys: Journeys | Paths) -> pd.DataFrame:
    """Linear attribution: every touch of the journey gets an equal share ``1 / n_touches``.

    Parameters
    ----------
    journeys
        :class:`Journeys` or :class:`Paths`.

    Returns
    -------
    pandas.DataFrame
        channel, conversions, value, share.
    """
    s = _steps(journeys)
    return _credit(s, 1.0 / s.length[s.unit])


def time_decay(journeys: Journeys, half_life_days: float = 7.0) -> pd.DataFrame:
    """Time-decay attribution: touch weight ``2 ** (-dt / half_life_days)``, normalized per journey.

    ``dt`` is the time from the touch to the conversion in days, so a touch one half-life before
    the conversion counts half as much as a touch at the conversion.

    Parameters
    ----------
    journeys
        :class:`Journeys` (touch times are needed).
    half_life_days
        Half-life of the weight, in days (> 0).

    Returns
    -------
    pandas.DataFrame
        channel, conversions, value, share.
    """
    if not isinstance(journeys, Journeys):
        raise TypeError("time_decay needs Journeys (with touch times), not unique Paths")
    if not np.isfinite(half_life_days) or half_life_days <= 0:
        raise ValueError(f"half_life_days must be a positive number, got {half_life_days!r}")
    s = _steps(journeys)
    dt_days = (s.end_ns[s.unit] - s.time_ns) / 86_400e9
    w = np.exp2(-dt_days / half_life_days)
    total = np.add.reduceat(w, s.start) if len(s.start) else w[:0]
    return _credit(s, w / total[s.unit])


def position_based(
    journeys: Journeys | Paths, first_weight: float = 0.4, last_weight: float = 0.4
) -> pd.DataFrame:
    """Position-based (U-shaped) attribution: 40% first, 40% last, 20% shared by the middle.

    A single-touch journey gives 100% to its touch; a two-touch journey splits
    ``first_weight : last_weight`` (50/50 by default); with three or more touches the first and
    last touch get ``first_weight`` and ``last_weight`` and the touches in between share the rest
    equally.

    Parameters
    ----------
    journeys
        :class:`Journeys` or :class:`Paths`.
    first_weight, last_weight
        Shares of the first and last touch (each >= 0, sum <= 1).

    Returns
    -------
    pandas.DataFrame
        channel, conversions, value, share.
    """
    if first_weight < 0 or last_weight < 0 or first_weight + last_weight > 1 + 1e-12:
        raise ValueError(
            f"position_based needs first_weight, last_weight >= 0 with sum <= 1, "
            f"got {first_weight}, {last_weight}"
        )
    s = _steps(journeys)
    n = s.length[s.unit]
    pos = s.position
    if first_weight + last_weight > 0:
        two_first = first_weight / (first_weight + last_weight)
    else:
        two_first = 0.5
    middle = (1.0 - first_weight - last_weight) / np.maximum(n - 2, 1)
    frac = np.select(
        [n == 1, (n == 2) & (pos == 0), n == 2, pos == 0, pos == n - 1],
        [1.0, two_first, 1.0 - two_first, first_weight, last_weight],
        default=middle,
    )
    return _credit(s, frac)
