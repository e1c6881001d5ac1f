"""Shapley-value attribution over channel sets (Zhao, Mahboobi & Bagheri 2018).

The players are the channels; a journey is summarized by the *set* of channels it touched (order
and repeats ignored). Two characteristic functions are offered:

``"conversions"`` (Zhao et al.'s "subset" worth)
    ``v(S) = sum over T subset of S of R(T)``, where ``R(T)`` is the number of conversions of the
    journeys whose channel set is exactly ``T``. Because ``v`` is a sum of unanimity games with
    dividends ``R(T)``, its Shapley value reduces to Zhao et al.'s simplified formula
    ``phi_i = sum over T containing i of R(T) / |T|``: each converting journey's conversion is
    split equally among its distinct channels. Exact, linear in the number of unique sets.

``"conversion_rate"``
    ``v(S) = C(S) / J(S)``, the conversion rate of the journeys whose channel set is a subset of
    ``S`` (``C`` conversions, ``J`` journeys, ``v(empty) = 0``). Not additive, so the Shapley value
    is computed exactly over all ``2^n`` coalitions with bitmask arithmetic: subset sums by the
    fast zeta transform, then ``phi_i = sum over S not containing i of
    |S|! (n-|S|-1)! / n! * (v(S + i) - v(S))``, vectorized with numpy (one pass per channel).
    ``phi`` adds up to ``v(N)``, the overall conversion rate, and is scaled to the conversions.
    Non-converting journeys matter here, so a channel that is everywhere but converts no one gets
    little or even negative credit.

Conversions with no touch (path ``[direct]``) are outside the game: ``direct`` keeps exactly those
conversions and their value. Value is attributed with the same games on conversion value.

References
----------
Zhao, K., Mahboobi, S. H., Bagheri, S. R. (2018). Shapley Value Methods for Attribution Modeling
in Online Advertising. arXiv:1804.05327.
Shapley, L. S. (1953). A value for n-person games. Contributions to the Theory of Games II.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from omni.attribution._common import result_frame
from omni.attribution.journeys import DIRECT, Journeys, Paths, as_paths

__all__ = [
    "CHARACTERISTICS",
    "ShapleyAttribution",
    "shapley_attribution",
    "shapley_values",
    "subset_sums",
]

CHARACTERISTICS = ("conversions", "conversion_rate")
MAX_EXACT_CHANNELS = 20


def subset_sums(x: np.ndarray) -> np.ndarray:
    """Zeta transform: ``out[S] = sum of x[T] over all T subset of S`` (bitmask indices).

    Parameters
    ----------
    x
        Array of length ``2^n`` indexed by coalition bitmask (bit ``i`` = player ``i``).

    Returns
    -------
    numpy.ndarray
        Subset sums, same shape.
    """
    out = np.array(x, dtype=float)
    n = _n_players(out)
    for i in range(n):  # one vectorized pass per player
        view = out.reshape(-1, 2, 2**i)
        view[:, 1, :] += view[:, 0, :]
    return out


def shapley_values(worth: np.ndarray) -> np.ndarray:
    """Exact Shapley values of a game given by its worth on every coalition.

    Parameters
    ----------
    worth
        ``v(S)`` for every bitmask ``S`` in ``0 .. 2^n - 1`` (bit ``i`` = player ``i``).

    Returns
    -------
    numpy.ndarray
        ``phi_i = sum over S not containing i of |S|! (n-|S|-1)! / n! (v(S + i) - v(S))``,
        length ``n``. They add up to ``v(N) - v(empty)`` (efficiency).
    """
    v = np.asarray(worth, dtype=float)
    n = _n_players(v)
    if n == 0:
        return np.zeros(0)
    size = np.zeros(1, dtype=np.int64)
    for _ in range(n):
        size = np.concatenate([size, size + 1])  # popcount of 0 .. 2^n - 1
    weight = np.array([1.0 / (n * math.comb(n - 1, s)) for s in range(n)])
    phi = np.empty(n)
    for i in range(n):
        vv = v.reshape(-1, 2, 2**i)
        ss = size.reshape(-1, 2, 2**i)[:, 0, :]  # sizes of the coalitions without i
        phi[i] = np.sum(weight[ss] * (vv[:, 1, :] - vv[:, 0, :]))
    return phi


def _n_players(v: np.ndarray) -> int:
    n = int(round(math.log2(len(v)))) if len(v) else -1
    if n < 0 or 2**n != len(v):
        raise ValueError(f"worth must have length 2^n (one entry per coalition), got {len(v)}")
    return n


class ShapleyAttribution:
    """Shapley-value attribution over channel sets.

    Parameters
    ----------
    characteristic
        ``"conversions"`` (default; Zhao et al. 2018, ``v(S) = sum over T subset of S of R(T)``)
        or ``"conversion_rate"`` (``v(S)`` = conversion rate of journeys whose channel set is a
        subset of ``S``). See the module docstring.
    exact
        For ``"conversions"``: also enumerate all ``2^n`` coalitions instead of the simplified
        formula (same numbers; a check). ``"conversion_rate"`` is always exact.

    Attributes
    ----------
    players_ : list of str
        Channels in the game (those that appear in touched journeys).
    shapley_values_ : pandas.Series
        Shapley value of each player for conversions (``"conversions"``: conversions;
        ``"conversion_rate"``: contribution to the conversion rate).
    value_shapley_values_ : pandas.Series
        The same game on conversion value.
    coalition_worth_ : pandas.Series or None
        ``v(S)`` for every coalition when computed by enumeration (labels like
        ``"search + sms"`` up to 12 players, bitmasks beyond).
    attribution_ : pandas.DataFrame
        channel, conversions, value, share; adds up to the total conversions and value.
    """

    def __init__(self, characteristic: str = "conversions", exact: bool = False) -> None:
        self.characteristic = characteristic
        self.exact = exact

    def fit(self, journeys: Journeys | Paths) -> ShapleyAttribution:
        """Compute the Shapley values from journeys.

        Parameters
        ----------
        journeys
            :class:`Journeys` or :class:`Paths`.

        Returns
        -------
        ShapleyAttribution
            self.
        """
        if self.characteristic not in CHARACTERISTICS:
            raise ValueError(
                f"characteristic must be one of {CHARACTERISTICS}, got {self.characteristic!r}"
            )
        paths = as_paths(journeys)
        channels = paths.channels
        n_ch = len(channels)
        direct = channels.index(DIRECT) if DIRECT in channels else -1
        no_touch = (paths.lengths == 1) & (paths.codes[paths.offsets[:-1]] == direct)

        masks, players = _channel_sets(paths)
        game = ~no_touch
        masks, conv = masks[game], paths.conversions[game]
        value, total = paths.value[game], (paths.conversions + paths.nulls)[game]
        n = len(players)
        enumerate_all = self.characteristic == "conversion_rate" or self.exact
        if enumerate_all and n > MAX_EXACT_CHANNELS:
            raise ValueError(
                f"exact Shapley enumeration supports up to {MAX_EXACT_CHANNELS} channels, the "
                f"journeys have {n}: group channels with build_journeys(channel_map=...)"
            )

        worth = None
        if self.characteristic == "conversions" and not self.exact:
            # Zhao et al.'s simplified formula: phi_i = sum over sets T containing i of R(T)/|T|
            member = ((masks[:, None] >> np.arange(n)[None, :]) & 1).astype(float)
            size = np.maximum(member.sum(axis=1), 1.0)
            phi = member.T @ (conv / size)
            phi_v = member.T @ (value / size)
            conv_attr, value_attr = phi, phi_v
        else:
            idx = masks.astype(np.int64)
            num = subset_sums(np.bincount(idx, weights=conv, minlength=2**n))
            num_v = subset_sums(np.bincount(idx, weights=value, minlength=2**n))
            if self.characteristic == "conversions":
                worth, worth_v = num, num_v
            else:
                den = subset_sums(np.bincount(idx, weights=total, minlength=2**n))
                worth = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
                worth_v = np.divide(num_v, den, out=np.zeros_like(num_v), where=den > 0)
            phi, phi_v = shapley_values(worth), shapley_values(worth_v)
            if self.characteristic == "conversions":
                conv_attr, value_attr = phi, phi_v
            else:
                conv_attr = phi / worth[-1] * conv.sum() if worth[-1] != 0 else np.zeros(n)
                value_attr = phi_v / worth_v[-1] * value.sum() if worth_v[-1] != 0 else np.zeros(n)

        conversions = np.zeros(n_ch)
        values = np.zeros(n_ch)
        conversions[players] = conv_attr
        values[players] = value_attr
        if direct >= 0:
            conversions[direct] += paths.conversions[no_touch].sum()
            values[direct] += paths.value[no_touch].sum()

        names = [channels[p] for p in players]
        self.players_ = names
        self.shapley_values_ = pd.Series(phi, index=pd.Index(names, name="channel"))
        self.value_shapley_values_ = pd.Series(phi_v, index=pd.Index(names, name="channel"))
        self.coalition_worth_ = (
            pd.Series(worth, index=_coalition_labels(names), name="worth")
            if worth is not None
            else None
        )
        self.attribution_ = result_frame(channels, conversions, values)
        return self


def _channel_sets(paths: Paths) -> tuple[np.ndarray, np.ndarray]:
    """Bitmask of the channel set of every path over the channels that occur (the players)."""
    key = "shapley_sets"
    if key not in paths._cache:
        direct = paths.channels.index(DIRECT) if DIRECT in paths.channels else -1
        first = paths.codes[paths.offsets[:-1]]
        no_touch = (paths.lengths == 1) & (first == direct)
        in_game = ~no_touch[paths.step_path]
        players = np.unique(paths.codes[in_game])
        if len(players) > 62:
            raise ValueError(f"Shapley attribution supports up to 62 channels, got {len(players)}")
        player_of = np.full(len(paths.channels), -1, dtype=np.int64)
        player_of[players] = np.arange(len(players))
        p = player_of[paths.codes]
        bits = np.where(p >= 0, np.left_shift(np.int64(1), np.maximum(p, 0)), 0)
        masks = np.bitwise_or.reduceat(bits, paths.offsets[:-1]) if paths.n_paths else bits[:0]
        paths._cache[key] = (masks.astype(np.int64), players)
    return paths._cache[key]


def _coalition_labels(names: list[str]) -> pd.Index:
    """``"search + sms"`` labels for up to 12 players, the bitmask itself beyond."""
    if len(names) > 12:
        return pd.RangeIndex(2 ** len(names), name="coalition")
    labels = [
        " + ".join(n for i, n in enumerate(names) if s >> i & 1) or "(none)"
        for s in range(2 ** len(names))
    ]
    return pd.Index(labels, name="coalition")


def shapley_attribution(
    journeys: Journeys | Paths, characteristic: str = "conversions"
) -> pd.DataFrame:
    """Shapley-value attribution frame (see :class:`ShapleyAttribution`).

    Parameters
    ----------
    journeys
        :class:`Journeys` or :class:`Paths`.
    characteristic
        ``"conversions"`` (Zhao et al. subset worth) or ``"conversion_rate"``.

    Returns
    -------
    pandas.DataFrame
        channel, conversions, value, share.
    """
    return ShapleyAttribution(characteristic=characteristic).fit(journeys).attribution_
