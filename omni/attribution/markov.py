"""Markov-chain attribution with removal effects, computed exactly on the absorbing chain.

Journeys are read as walks ``start -> c1 -> ... -> ck -> conversion | null``. Transition
probabilities are estimated from the counts of these transitions over all journeys (identical
paths are aggregated first). ``conversion`` and ``null`` are absorbing; with ``Q`` the
transient-to-transient block and ``R`` the transient-to-absorbing block, the fundamental matrix is
``N = (I - Q)^-1`` and the absorption probabilities are ``B = N R``. Only the ``start`` row is
needed, so each probability is one linear solve ``(I - Q) x = r`` (never an explicit inverse).

The removal effect of channel ``c`` is ``RE(c) = 1 - P(conv | c removed) / P(conv)`` where removing
``c`` sends every transition into a state containing ``c`` to ``null``. Channels get
``RE(c) / sum(RE)`` of the conversions. The value is attributed the same way with a second chain
quantity, the expected conversion value per journey (``r`` = value flowing into ``conversion``
from each state), so a channel that leads to larger baskets gets more of the value.

Higher orders (``order=k``) use states that are the last ``k`` channels (shorter tuples at the
beginning of a journey, as in the ChannelAttribution package); removing ``c`` removes every state
whose tuple contains ``c``.

References
----------
Anderl, Becker, von Wangenheim, Schumann (2016). Mapping the customer journey: lessons learned
from graph-based online attribution modeling. International Journal of Research in Marketing
33(3), 457-474.
Kemeny & Snell (1960). Finite Markov Chains (fundamental matrix of an absorbing chain).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from omni.attribution._common import result_frame
from omni.attribution.journeys import PATH_SEP, Journeys, Paths, as_paths

__all__ = ["MarkovAttribution", "markov_attribution"]

_DENSE_MAX_STATES = 64  # beyond this sparse LU is faster (chains are sparse)
_MAX_ORDER = 4


class _ChainStructure:
    """States and transition incidence of a set of paths for one order (independent of counts)."""

    def __init__(self, paths: Paths, order: int) -> None:
        n_ch = len(paths.channels)
        base = n_ch + 1
        if base**order >= 2**62:
            raise ValueError(f"order {order} is too high for {n_ch} channels")
        codes = paths.codes.astype(np.int64) + 1  # 0 = no channel (before the start)
        pos = paths.step_position
        key = codes.copy()
        for lag in range(1, order):
            prev = np.zeros_like(codes)
            has = pos >= lag
            prev[has] = codes[np.flatnonzero(has) - lag]
            key += prev * base**lag
        state_keys, step_state = np.unique(key, return_inverse=True)
        self.n_states = len(state_keys) + 1  # transient states; 0 = start
        step_state = step_state.astype(np.int64) + 1
        # channels of every state: digits of its key
        digits = (state_keys[:, None] // base ** np.arange(order)[None, :]) % base
        self.state_channels = digits - 1  # -1 = empty slot
        self.state_labels = ["(start)"] + [
            PATH_SEP.join(paths.channels[c] for c in row[::-1] if c >= 0)
            for row in self.state_channels
        ]
        # transitions: start -> first state; step -> next step inside each path
        starts = paths.offsets[:-1]
        ends = paths.offsets[1:] - 1
        inner = np.ones(len(codes), dtype=bool)
        inner[ends] = False
        src = np.concatenate([np.zeros(paths.n_paths, np.int64), step_state[inner]])
        dst = np.concatenate([step_state[starts], step_state[np.flatnonzero(inner) + 1]])
        self.trans_path = np.concatenate([np.arange(paths.n_paths), paths.step_path[inner]])
        edge_key, self.trans_edge = np.unique(src * self.n_states + dst, return_inverse=True)
        self.edge_src = edge_key // self.n_states
        self.edge_dst = edge_key % self.n_states
        self.last_state = step_state[ends]  # state that absorbs each path
        self.n_channels = n_ch

    def removed_states(self, channel: int) -> np.ndarray:
        """Boolean mask over transient states (start included) of the states containing channel."""
        mask = np.zeros(self.n_states, dtype=bool)
        mask[1:] = (self.state_channels == channel).any(axis=1)
        return mask


def _structure(paths: Paths, order: int) -> _ChainStructure:
    key = ("markov", order)
    if key not in paths._cache:
        paths._cache[key] = _ChainStructure(paths, order)
    return paths._cache[key]


class MarkovAttribution:
    """Markov-chain removal-effect attribution (exact absorbing-chain solution).

    Parameters
    ----------
    order
        Markov order ``k`` (1 to 4): states are the last ``k`` channels of the journey.

    Attributes
    ----------
    transition_matrix_ : pandas.DataFrame
        Transition probabilities; rows: ``(start)`` and the channel states, columns: the channel
        states, ``(conversion)`` and ``(null)``.
    transition_counts_ : pandas.DataFrame
        The journey counts the probabilities were estimated from (same layout).
    conversion_rate_ : float
        ``P(conversion)`` from ``(start)``. For ``order=1`` it equals the observed share of
        converting journeys.
    expected_value_ : float
        Expected conversion value per journey from ``(start)``.
    removal_effects_ : pandas.Series
        ``1 - P(conv | channel removed) / P(conv)`` per channel.
    value_removal_effects_ : pandas.Series
        The same for the expected value per journey.
    attribution_ : pandas.DataFrame
        channel, conversions, value, share: removal effects normalized to the total conversions
        (and value removal effects to the total value).
    n_journeys_, n_paths_ : float, int
        Journeys and unique paths the chain was fitted on.
    """

    def __init__(self, order: int = 1) -> None:
        self.order = order

    def fit(self, journeys: Journeys | Paths) -> MarkovAttribution:
        """Estimate the chain from journeys and compute removal effects.

        Parameters
        ----------
        journeys
            :class:`Journeys` or :class:`Paths` (unique paths with counts).

        Returns
        -------
        MarkovAttribution
            self.
        """
        if not isinstance(self.order, int | np.integer) or not 1 <= self.order <= _MAX_ORDER:
            raise ValueError(f"order must be an integer from 1 to {_MAX_ORDER}, got {self.order!r}")
        paths = as_paths(journeys)
        total_conv = paths.conversions.sum()
        if total_conv <= 0:
            raise ValueError("Markov attribution needs at least one converting journey")
        s = _structure(paths, int(self.order))
        n = s.n_states
        total = paths.conversions + paths.nulls

        edge_count = np.bincount(
            s.trans_edge, weights=total[s.trans_path], minlength=len(s.edge_src)
        )
        conv_in = np.bincount(s.last_state, weights=paths.conversions, minlength=n)
        null_in = np.bincount(s.last_state, weights=paths.nulls, minlength=n)
        value_in = np.bincount(s.last_state, weights=paths.value, minlength=n)
        out = np.bincount(s.edge_src, weights=edge_count, minlength=n) + conv_in + null_in
        inv_out = np.divide(1.0, out, out=np.zeros(n), where=out > 0)

        q = sp.csr_matrix(
            (edge_count * inv_out[s.edge_src], (s.edge_src, s.edge_dst)), shape=(n, n)
        )
        rhs = np.column_stack([conv_in * inv_out, value_in * inv_out])
        a = (sp.identity(n, format="csr") - q).tocsc()

        base = _solve(a, rhs)[0]
        p_conv, e_value = float(base[0]), float(base[1])
        n_ch = s.n_channels
        re = np.zeros(n_ch)
        vre = np.zeros(n_ch)
        present = np.zeros(n_ch, dtype=bool)
        present[np.unique(s.state_channels[s.state_channels >= 0])] = True
        for c in np.flatnonzero(present):  # a handful of channels
            keep = ~s.removed_states(c)
            x = _solve(a[keep][:, keep], rhs[keep])[0]
            re[c] = 1.0 - x[0] / p_conv
            vre[c] = 1.0 - x[1] / e_value if e_value > 0 else 0.0
        re = np.clip(re, 0.0, None)  # guard round-off below zero
        vre = np.clip(vre, 0.0, None)

        total_value = paths.value.sum()
        conv_attr = re / re.sum() * total_conv
        value_attr = vre / vre.sum() * total_value if vre.sum() > 0 else np.zeros(n_ch)

        labels = s.state_labels
        cols = labels[1:] + ["(conversion)", "(null)"]
        counts = np.zeros((n, n + 1))
        counts[s.edge_src, s.edge_dst - 1] = edge_count  # edges are unique
        counts[:, n - 1] = conv_in
        counts[:, n] = null_in
        self.transition_counts_ = pd.DataFrame(counts, index=labels, columns=cols)
        self.transition_matrix_ = self.transition_counts_.mul(inv_out, axis=0)
        self.conversion_rate_ = p_conv
        self.expected_value_ = e_value
        self.removal_effects_ = pd.Series(re, index=pd.Index(paths.channels, name="channel"))
        self.value_removal_effects_ = pd.Series(vre, index=pd.Index(paths.channels, name="channel"))
        self.attribution_ = result_frame(paths.channels, conv_attr, value_attr)
        self.n_journeys_ = paths.n_journeys
        self.n_paths_ = paths.n_paths
        return self


def _solve(a: sp.csc_matrix, rhs: np.ndarray) -> np.ndarray:
    """Solve ``a x = rhs`` (dense LAPACK for small chains, sparse LU otherwise)."""
    if a.shape[0] <= _DENSE_MAX_STATES:
        return np.linalg.solve(a.toarray(), rhs)
    return splu(a.tocsc()).solve(rhs)


def markov_attribution(journeys: Journeys | Paths, order: int = 1) -> pd.DataFrame:
    """Markov removal-effect attribution frame (see :class:`MarkovAttribution`).

    Parameters
    ----------
    journeys
        :class:`Journeys` or :class:`Paths`.
    order
        Markov order (1 to 4).

    Returns
    -------
    pandas.DataFrame
        channel, conversions, value, share.
    """
    return MarkovAttribution(order=order).fit(journeys).attribution_
