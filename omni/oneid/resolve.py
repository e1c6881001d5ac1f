"""The deterministic identity graph: records -> clusters of one person, without over-merging.

:func:`resolve_identities` is a short pipeline: the identifier table becomes a graph of records and
identifier values (:func:`omni.oneid.inputs.build_state`), the rules of :mod:`omni.oneid.rules`
run over it in order, and the outcome is read back into a :class:`Resolution`:

1. Usable edges: every valid (record, identifier value) pair of the identifier table.
2. Shared values never link (:func:`~omni.oneid.rules.mark_shared_values`).
3. Strong components (:func:`~omni.oneid.rules.strong_components`).
4. Per-type limits, split at the bridging value (:func:`~omni.oneid.rules.split_over_limits`).
5. Bridging weak values join profiles (:func:`~omni.oneid.rules.join_bridging_values`).
6. Unbound platform accounts are not persons yet (:func:`~omni.oneid.rules.mark_unbound_accounts`).
7. Weak attachment (:func:`~omni.oneid.rules.attach_weak_values`).
8. Records with no usable identifier are profiles of their own (``how = "none"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from omni.oneid import rules
from omni.oneid.config import OneIDConfig
from omni.oneid.graph import dense_codes
from omni.oneid.inputs import ID_COLUMNS, build_state
from omni.oneid.state import HOW_NAMES, STATUS_NAMES, GraphState

__all__ = ["HOW_NAMES", "ID_COLUMNS", "RULES", "STATUS_NAMES", "Resolution", "resolve_identities"]

#: The rules in the order :func:`resolve_identities` runs them.
RULES = (
    rules.mark_shared_values,
    rules.strong_components,
    rules.split_over_limits,
    rules.join_bridging_values,
    rules.mark_unbound_accounts,
    rules.attach_weak_values,
)


@dataclass
class Resolution:
    """Result of :func:`resolve_identities`.

    Attributes
    ----------
    records : DataFrame
        One row per record: ``record_key``, ``source``, ``cluster`` (int, dense, in record order),
        ``how`` (``strong``: carries a person-level strong identifier; ``account``: linked only by
        a platform account id not bound to a person; ``weak``: attached or grouped by a weak
        identifier; ``none``: no usable identifier).
    values : DataFrame
        One row per distinct identifier value: ``id_type``, ``value``, ``n_records``, ``status``
        (strong, weak, shared, ambiguous_weak, over_limit, not_linking) and ``reason``.
    edges : DataFrame
        Distinct (record index, value index) pairs: ``rec``, ``val`` (positions into ``records`` and
        ``values``).
    removals : DataFrame
        What the limit rule removed: ``round``, ``val``, ``id_type``, ``limit_type``, ``rule``,
        ``component_size``.
    invalid : DataFrame
        Identifier rows that were not usable: ``rec`` (record position), ``id_type``, ``raw``,
        ``reason`` (kept to explain why two records were not linked).
    config : OneIDConfig
    rule_counts : dict
        What each rule did (:attr:`omni.oneid.state.GraphState.counts`).
    """

    records: pd.DataFrame
    values: pd.DataFrame
    edges: pd.DataFrame
    removals: pd.DataFrame
    invalid: pd.DataFrame
    config: OneIDConfig = field(default_factory=OneIDConfig)
    rule_counts: dict[str, int] = field(default_factory=dict)

    @property
    def n_clusters(self) -> int:
        return int(self.records["cluster"].max()) + 1 if len(self.records) else 0


def resolve_identities(
    ids: pd.DataFrame,
    records: pd.DataFrame | None = None,
    config: OneIDConfig | None = None,
    times: pd.Series | None = None,
    unknown_records: str = "raise",
) -> Resolution:
    """Cluster records into persons by the rules of :class:`OneIDConfig`.

    Parameters
    ----------
    ids : DataFrame
        The identifier table (``record_key``, ``id_type``, ``value``, ``valid``; see
        docs/data_contract.md). Invalid rows are kept for explanations but never link.
    records : DataFrame, optional
        Every record to resolve (``record_key``, ``source``), including records that carry no
        identifier at all (anonymous walk-ins). Defaults to the records named in ``ids``.
    config : OneIDConfig, optional
        Rules; defaults to ``OneIDConfig()``.
    times : Series, optional
        Record time indexed like ``records`` (used to prefer older values when splitting).
    unknown_records : {"raise", "drop"}
        What to do with identifier rows of records not in ``records`` (``drop``: ignore them, as
        when resolving up to an as-of date).

    Returns
    -------
    Resolution
    """
    state, records, value_text, invalid = build_state(ids, records, config, times, unknown_records)
    for rule in RULES:
        state = rule(state)
    return _resolution(state, records, value_text, invalid)


def _resolution(state: GraphState, records: pd.DataFrame, value_text: pd.Series,
                invalid: pd.DataFrame) -> Resolution:
    """The outputs of a resolved graph (the state's per-record arrays are released)."""
    state.drop_scratch()
    cluster, _ = dense_codes(state.labels)
    state.labels = None
    out = records[[c for c in ("record_key", "source", "row") if c in records.columns
                   and (c != "row" or "record_key" not in records.columns)]].copy()
    out["cluster"] = cluster.astype(np.int64)
    out["how"] = pd.Categorical.from_codes(state.how, categories=list(HOW_NAMES))
    values = pd.DataFrame(
        {
            "id_type": pd.Categorical(np.asarray(state.types, dtype=object)[state.val_type]),
            "value": value_text,
            "n_records": state.n_records_per_val,
            "status": pd.Categorical.from_codes(state.status, categories=list(STATUS_NAMES)),
            "reason": state.reasons(),
        }
    )
    edges = pd.DataFrame({"rec": state.rec, "val": state.val}, copy=False)
    return Resolution(records=out, values=values, edges=edges, removals=state.removals_frame(),
                      invalid=invalid, config=state.config, rule_counts=dict(state.counts))
