"""The identity graph's working state: the record/value edge arrays and what the rules decided.

The rules of :mod:`omni.oneid.rules` read and update one :class:`GraphState` in order. Everything
is a numpy array indexed by record position (``n_rec``) or value position (``n_val``); value
statuses are small integer codes (fast comparisons over tens of millions of edges) named in the
outputs by :data:`STATUS_NAMES`, record kinds by :data:`HOW_NAMES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from omni.oneid.config import OneIDConfig

__all__ = [
    "HOW_ACCOUNT",
    "HOW_NAMES",
    "HOW_NONE",
    "HOW_STRONG",
    "HOW_WEAK",
    "LINKING",
    "STATUS_AMBIGUOUS",
    "STATUS_BRIDGE",
    "STATUS_NAMES",
    "STATUS_OTHER",
    "STATUS_OVER_LIMIT",
    "STATUS_SHARED",
    "STATUS_STRONG",
    "STATUS_WEAK",
    "GraphState",
    "type_order",
]

HOW_NAMES = ("strong", "account", "weak", "probabilistic", "none")
HOW_STRONG, HOW_ACCOUNT, HOW_WEAK, _HOW_PROBABILISTIC, HOW_NONE = range(len(HOW_NAMES))
STATUS_NAMES = ("strong", "weak", "shared", "ambiguous_weak", "over_limit", "not_linking", "bridge")
(STATUS_STRONG, STATUS_WEAK, STATUS_SHARED, STATUS_AMBIGUOUS, STATUS_OVER_LIMIT, STATUS_OTHER,
 STATUS_BRIDGE) = range(len(STATUS_NAMES))

#: Statuses whose values link the records that carry them into one strong component.
LINKING = np.zeros(len(STATUS_NAMES), dtype=bool)
LINKING[[STATUS_STRONG, STATUS_BRIDGE]] = True

#: Columns of :attr:`GraphState.removals` frames (and of ``Resolution.removals``).
REMOVAL_COLUMNS = ("round", "val", "id_type", "limit_type", "rule", "component_size")


def type_order(config: OneIDConfig, present: Sequence[str] = ()) -> list[str]:
    """Identifier types in code order: the strong types, the weak ones, then any other type seen
    in the data (sorted).

    Parameters
    ----------
    config : OneIDConfig
    present : sequence of str
        Types of the valid identifier rows.
    """
    types = list(config.strong_types) + [t for t in config.weak_types if t not in config.strong_types]
    return types + sorted(set(present) - set(types))


@dataclass
class GraphState:
    """Records, identifier values and the distinct (record, value) edges between them.

    Attributes
    ----------
    rec, val : ndarray of int32 (int64 past 2**31 nodes)
        Distinct edges, sorted by record then value.
    n_rec : int
        Number of records (records without an edge included).
    val_type : ndarray of int64, shape (n_val,)
        Type code of each value (position in ``types``).
    types : list of str
        Type names by code (:func:`type_order`).
    config : OneIDConfig
    n_records_per_val : ndarray of int64
        Records each value appears on.
    status : ndarray of int8
        Status code of each value (``STATUS_*``); starts strong, weak or not linking by type.
    reason : ndarray of object, optional
        Why a value does not link as its type would (None while it does); allocated by the
        first rule that gives a reason (:meth:`reasons`).
    times : Series, optional
        Record time indexed like the records, used to prefer older values when splitting
        (:meth:`record_times`); dropped once the splits are done.
    cooc : ndarray of int32, shape (n_val, n_types), optional
        Distinct co-occurring values of each type (:func:`omni.oneid.graph.cooccurrence`), set
        by the shared-value rule and dropped once the account rule has read it.
    labels : ndarray of int64, optional
        Component of each record (dense after the limit splits).
    how : ndarray of int8, optional
        Kind of each record (``HOW_*``), set by the account rule.
    has_strong : ndarray of bool, optional
        Records in a strong component (set with ``how``).
    removals : list of DataFrame
        One frame per limit-split round (:data:`REMOVAL_COLUMNS`).
    counts : dict
        Per-rule counters (values shared, split rounds, values removed, bridges, ...).
    """

    rec: np.ndarray
    val: np.ndarray
    n_rec: int
    val_type: np.ndarray
    types: list[str]
    config: OneIDConfig = field(default_factory=OneIDConfig)
    n_records_per_val: np.ndarray | None = None
    status: np.ndarray | None = None
    reason: np.ndarray | None = None
    times: pd.Series | None = None
    cooc: np.ndarray | None = None
    labels: np.ndarray | None = None
    how: np.ndarray | None = None
    has_strong: np.ndarray | None = None
    removals: list[pd.DataFrame] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    _rec_local: np.ndarray | None = field(default=None, repr=False)
    _val_local: np.ndarray | None = field(default=None, repr=False)
    _t_rec: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def from_edges(
        cls,
        rec: np.ndarray,
        val: np.ndarray,
        n_rec: int,
        val_type: np.ndarray,
        types: Sequence[str],
        config: OneIDConfig | None = None,
        times: pd.Series | np.ndarray | None = None,
    ) -> GraphState:
        """A fresh state: every value strong, weak or not linking by its type.

        Parameters
        ----------
        rec, val : array-like of int
            Distinct (record, value) edges sorted by record (:func:`omni.oneid.graph.unique_pairs`).
        n_rec : int
            Number of records.
        val_type : array-like of int
            Type code of every value (``n_val`` = its length).
        types : sequence of str
            Type names by code (:func:`type_order`).
        config : OneIDConfig, optional
        times : Series or ndarray of datetime64, optional
            Record times, in record order.
        """
        config = config or OneIDConfig()
        rec, val = np.asarray(rec), np.asarray(val)
        val_type = np.asarray(val_type, dtype=np.int64)
        n_val = len(val_type)
        if max(n_rec, n_val) < 2**31 - 1:  # int32 edge lists: half the memory of every edge array
            rec, val = rec.astype(np.int32, copy=False), val.astype(np.int32, copy=False)
        state = cls(rec=rec, val=val, n_rec=int(n_rec), val_type=val_type, types=list(types),
                    config=config, times=times)
        state.n_records_per_val = np.bincount(val, minlength=n_val)
        status = np.full(n_val, STATUS_OTHER, dtype=np.int8)
        status[state.strong_type_mask[val_type]] = STATUS_STRONG
        status[state.weak_type_mask[val_type]] = STATUS_WEAK
        state.status = status
        return state

    # -- derived views ------------------------------------------------------------------------
    @property
    def n_val(self) -> int:
        return len(self.val_type)

    @property
    def n_types(self) -> int:
        return len(self.types)

    def type_codes(self, names: Sequence[str]) -> list[int]:
        """Codes of the named types that the state knows."""
        code = {t: i for i, t in enumerate(self.types)}
        return [code[t] for t in names if t in code]

    @property
    def strong_type_mask(self) -> np.ndarray:
        return np.isin(np.arange(self.n_types), self.type_codes(self.config.strong_types))

    @property
    def weak_type_mask(self) -> np.ndarray:
        return np.isin(np.arange(self.n_types), self.type_codes(self.config.weak_types))

    @property
    def strong_cols(self) -> np.ndarray:
        """Types counted as strong partners (a type listed as weak too counts as weak)."""
        return self.strong_type_mask & ~self.weak_type_mask

    def per_type(self, setting: dict[str, int]) -> np.ndarray:
        """A per-type setting (``max_per_profile``, ``max_records``) by type code; unlisted
        types are uncapped."""
        return np.array([setting.get(t, np.iinfo(np.int64).max) for t in self.types])

    def linking_edges(self) -> np.ndarray:
        """Edges whose value links (strong or bridging)."""
        return LINKING[self.status[self.val]]

    def local_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """Scratch maps record -> local index and value -> local index (all -1 between uses;
        a rule that fills entries resets them), allocated once."""
        if self._rec_local is None:
            idx = np.int32 if max(self.n_rec, self.n_val) < 2**31 - 1 else np.int64
            self._rec_local = np.full(self.n_rec, -1, dtype=idx)
            self._val_local = np.full(self.n_val, -1, dtype=idx)
        return self._rec_local, self._val_local

    def reasons(self) -> np.ndarray:
        """The ``reason`` array, allocated (all None) on first use."""
        if self.reason is None:
            self.reason = np.full(self.n_val, None, dtype=object)
        return self.reason

    def record_times(self) -> np.ndarray | None:
        """Record times as int64 nanoseconds (converted once, on first use); None without times."""
        if self._t_rec is None and self.times is not None:
            # lazy: omni.oneid.inputs imports this module (GraphState), a cycle at the top
            from omni.oneid.inputs import as_datetime

            self._t_rec = as_datetime(pd.Series(self.times).reset_index(drop=True)).astype("int64")
        return self._t_rec

    def drop_split_helpers(self) -> None:
        """Free what only the limit splits need: the co-occurrence table and the record times."""
        self.cooc = self._t_rec = self.times = None

    def drop_scratch(self) -> None:
        """Free the scratch maps of :meth:`local_maps`."""
        self._rec_local = self._val_local = None

    def removals_frame(self) -> pd.DataFrame:
        """Every limit removal, in order (:data:`REMOVAL_COLUMNS`)."""
        if self.removals:
            return pd.concat(self.removals, ignore_index=True)
        return pd.DataFrame(columns=list(REMOVAL_COLUMNS))

    def count(self, name: str, n: int) -> None:
        """Add ``n`` to the counter ``name``."""
        self.counts[name] = self.counts.get(name, 0) + int(n)
