"""The audit one source at a time: each source is loaded alone, summarised and dropped.

At 1M persons the whole dataset is 20 M records (about 2.4 GB) and its identifier table 3.3 GB;
the audit runs while the month is being resolved, so it never holds them. Every per-source check
(overview, completeness, volume, clocks, personal data, quarantine, read checks, outliers,
duplicates, identifier validity and junk) keeps only its small result; the cross-source checks
(referential integrity, overlap) keep the distinct valid values of their one or two identifier
types. The tables come out identical to those of the whole-dataset functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from omni.audit.clocks import hour_histogram, timezone_check_of
from omni.audit.completeness import completeness_rows
from omni.audit.duplicates import duplicate_row
from omni.audit.identifiers import identifier_counts, junk_of, validity_of
from omni.audit.outliers import source_outliers
from omni.audit.pii import pii_rows
from omni.audit.sources import (
    file_rows,
    overview_frame,
    overview_row,
    quarantine_reasons_of,
    read_checks_of,
    time_span,
)
from omni.audit.volume import month_counts, volume_frame, volume_months
from omni.core.month import Month
from omni.io import REASONS, DatasetSpec, LoadedSource, load_source
from omni.io.dataset import ISSUE_COLUMNS as READ_ISSUE_COLUMNS
from omni.io.errors import DataContractError
from omni.io.validate import empty_quarantine
from omni.memory import release_memory
from omni.normalize import link_table
from omni.unify import record_time_column

__all__ = ["SourceSummary", "StreamedParts", "stream_parts", "streamed_tables", "summarise_source"]


@dataclass
class SourceSummary:
    """What the audit keeps of one source once its table is dropped (no personal data but the
    distinct identifier values of the cross-source types)."""

    name: str
    counts: dict[str, Any]
    quarantine: pd.DataFrame
    read_issues: list[tuple[Any, ...]]
    span: tuple[Any, Any, float]
    completeness: list[dict[str, Any]]
    volume: pd.Series | None
    hours: np.ndarray | None
    pii: list[dict[str, Any]]
    duplicates: dict[str, Any] | None
    outliers: list[pd.DataFrame]
    id_counts: pd.DataFrame | None = None
    id_values: pd.DataFrame | None = None


def summarise_source(loaded: LoadedSource, spec: DatasetSpec, month: Month, s: dict[str, Any],
                     id_types: Sequence[str] = (),
                     identifiers: Callable[[str, pd.DataFrame], pd.DataFrame] | None = None) -> SourceSummary:
    """Every per-source part of the audit of one loaded source.

    Parameters
    ----------
    loaded : LoadedSource
        :func:`omni.io.load_source`.
    spec : DatasetSpec
        The dataset spec (identifier columns).
    month : Month
        The report month.
    s : dict
        The audit settings (:func:`omni.audit.analyse_month`).
    id_types : sequence of str
        Identifier types whose distinct valid values are kept (referential integrity, overlap).
    identifiers : callable, optional
        ``identifiers(name, table)``: the source's lean identifier table
        (:func:`omni.normalize.link_table`; default: made here). The audit passes
        :meth:`omni.workspace.Workspace.source_identifiers`, which in the report reads the table
        the month's resolution made of the same source.
    """
    name, ss, t = loaded.name, loaded.spec, loaded.table
    tc = record_time_column(ss)
    times = pd.to_datetime(t[tc]) if tc and tc in t.columns else None
    hours = None
    if times is not None and ss.columns.get(tc) == "datetime":
        hours = hour_histogram(times, s["clock_min_rows"])
    out = SourceSummary(
        name=name,
        counts=loaded.counts(),
        quarantine=loaded.quarantine,
        read_issues=[(name, ss.file, i.check, i.message, i.figure) for i in loaded.issues],
        span=time_span(times if len(t) else None, month),
        completeness=completeness_rows(name, ss, t),
        volume=month_counts(times, volume_months(month, s["volume_months"])) if times is not None else None,
        hours=hours,
        pii=pii_rows(name, ss, t, s["pii_sample"]),
        duplicates=duplicate_row(name, ss, t),
        outliers=source_outliers(name, ss, t, lambda: file_rows(loaded.rows_in, loaded.quarantine["row"], len(t)),
                                 s["outlier_z"]),
    )
    del times
    if ss.identifiers:
        ids = (identifiers(name, t) if identifiers is not None
               else link_table({name: t}, spec, sources=[name], encode=False))
        out.id_counts = identifier_counts(ids[["source", "id_type", "valid", "reason"]])
        keep = ids["id_type"].isin(list(id_types)).to_numpy() & ids["valid"].to_numpy()
        vals = ids.loc[keep, ["source", "id_type", "value", "valid"]]
        if not isinstance(vals["value"].dtype, pd.StringDtype):  # dictionary-encoded: as plain strings
            vals = vals.assign(value=vals["value"].astype("string[pyarrow]"))
        out.id_values = vals.drop_duplicates(["source", "id_type", "value"])
    return out


@dataclass
class StreamedParts:
    """The per-source summaries of every source, in spec order, and the stacked tables the
    cross-source checks read."""

    spec: DatasetSpec
    summaries: list[SourceSummary] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return list(self.spec.sources)

    def quarantine(self) -> pd.DataFrame:
        """``Dataset.quarantine`` (stacked as :func:`omni.io.load_dataset` does)."""
        parts = [x.quarantine for x in self.summaries if len(x.quarantine)]
        q = pd.concat(parts, ignore_index=True) if parts else empty_quarantine(self.names)
        q["source"] = pd.Categorical(q["source"].astype(object), categories=self.names)
        q["reason"] = pd.Categorical(q["reason"].astype(object), categories=REASONS)
        return q

    def read_issues(self) -> pd.DataFrame:
        """``Dataset.read_issues``."""
        return pd.DataFrame([r for x in self.summaries for r in x.read_issues], columns=list(READ_ISSUE_COLUMNS))

    def _stacked(self, attr: str, columns: list[str]) -> pd.DataFrame:
        """The sources' ``attr`` frames stacked, ``source`` a category of every source (as in the
        identifier table)."""
        parts = [getattr(x, attr) for x in self.summaries if getattr(x, attr) is not None]
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        out = pd.concat(parts, ignore_index=True)
        out["source"] = pd.Categorical(out["source"].astype(str), categories=self.names)
        return out

    def id_counts(self) -> pd.DataFrame:
        """:func:`omni.audit.identifiers.identifier_counts` of the whole identifier table."""
        return self._stacked("id_counts", ["source", "id_type", "valid", "reason", "n"])

    def id_values(self) -> pd.DataFrame:
        """The distinct valid values of the kept identifier types per source: ``source``,
        ``id_type``, ``value``, ``valid``."""
        return self._stacked("id_values", ["source", "id_type", "value", "valid"])


def stream_parts(spec: DatasetSpec, month: Month, s: dict[str, Any],
                 load: Callable[[str], LoadedSource] | None = None,
                 pick: Callable[[list[str]], str] | None = None,
                 identifiers: Callable[[str, pd.DataFrame], pd.DataFrame] | None = None) -> StreamedParts:
    """Load every source alone (largest file first), summarise it and drop it.

    ``load(name)`` loads one source (default :func:`omni.io.load_source`); the audit passes
    :meth:`omni.workspace.Workspace.loaded_source`, which in a shared workspace (the report's
    kernels) also keeps each loaded source on disk for the notebooks that read it later.
    ``pick(todo)``: which source to take next (default: the largest left); the audit passes
    :meth:`omni.workspace.Workspace.next_source`, which in the report, where the month's
    resolution loads its sources beside the audit, takes one the resolution has kept, else one
    nobody is loading: the audit reads what is ready and parses the rest meanwhile.
    ``identifiers``: see :func:`summarise_source`. The order changes no table: the summaries are
    stacked in spec order.

    Raises
    ------
    DataContractError
        A source file is missing (checked for every source before any is read), or any
        file-level problem :func:`omni.io.load_source` raises.
    """
    names = list(spec.sources)
    for n in names:  # every missing file before any slow reading, as omni.io.load_dataset does
        p = spec.file_path(n)
        if not p.is_file():
            raise DataContractError(f"{spec[n].where}: file not found at {str(p)!r}")
    id_types = [s["integrity_id_type"], s["overlap_id_type"]]
    sizes = {n: spec.file_path(n).stat().st_size for n in names}
    done: dict[str, SourceSummary] = {}
    todo = sorted(names, key=lambda n: (-sizes[n], names.index(n)))
    while todo:
        name = pick(todo) if pick is not None else todo[0]
        todo.remove(name)
        loaded = load(name) if load is not None else load_source(spec, name)
        done[name] = summarise_source(loaded, spec, month, s, id_types, identifiers)
        del loaded
        release_memory()
    return StreamedParts(spec, [done[n] for n in names])


def streamed_tables(parts: StreamedParts, month: Month, s: dict[str, Any]) -> dict[str, Any]:
    """The per-source tables of the audit from the summaries (the inputs of
    :func:`omni.audit.analysis.audit_tables_from`)."""
    xs = parts.summaries
    idx = volume_months(month, s["volume_months"])
    counts = parts.id_counts()
    return {
        "overview": overview_frame([overview_row(x.name, parts.spec.sources[x.name], x.counts, x.span, month)
                                    for x in xs]),
        "completeness": pd.DataFrame([r for x in xs for r in x.completeness]),
        "validity": validity_of(counts),
        "junk": junk_of(counts),
        "volume": volume_frame({x.name: x.volume for x in xs if x.volume is not None}, idx),
        "clocks": timezone_check_of({x.name: x.hours for x in xs if x.hours is not None}),
        "pii": pd.DataFrame([r for x in xs for r in x.pii]),
        "quarantine": quarantine_reasons_of(parts.quarantine()),
        "read_checks": read_checks_of(parts.read_issues()),
        "outliers": [p for x in xs for p in x.outliers],
        "duplicates": pd.DataFrame([x.duplicates for x in xs if x.duplicates is not None]),
        "id_values": parts.id_values(),
    }
