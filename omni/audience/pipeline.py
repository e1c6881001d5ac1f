"""Audiences of a dataset in one call: resolve, consent, features, audiences, contacts, export.

This is the glue the CLI, the notebook and the benchmark share; each step is also available on its
own (:mod:`~omni.audience.definitions`, :mod:`~omni.audience.features`,
:mod:`~omni.audience.rules`, :mod:`~omni.consent`, :mod:`~omni.audience.identifiers`,
:mod:`~omni.audience.export`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from omni.audience.definitions import Definitions, load_definitions
from omni.audience.export import ExportResult, export_audiences, require_key
from omni.audience.features import AudienceFeatures
from omni.audience.hashing import PLATFORMS
from omni.audience.identifiers import contact_identifiers
from omni.audience.rules import AudienceSet, build_audiences
from omni.consent import (
    QuarantinedOptOuts,
    opt_out_identifiers,
    quarantined_opt_outs,
    suppressed_by_identifier,
)
from omni.consent import opted_out as consent_opted_out
from omni.workspace import Workspace

__all__ = ["AudienceRun", "export_dataset", "prepare_audiences"]

log = logging.getLogger(__name__)


@dataclass
class AudienceRun:
    """Everything :func:`prepare_audiences` computed for one dataset and month.

    Attributes
    ----------
    workspace : omni.workspace.Workspace
    month : str
    resolved : omni.workspace.Resolved
    features : AudienceFeatures
    audiences : AudienceSet
    opted_out : Series of bool
        Indexed by oneid (see :func:`omni.consent.opted_out`).
    quarantined : QuarantinedOptOuts
        Opt-outs carried by quarantined rows (:func:`omni.consent.quarantined_opt_outs`).
    seconds : dict
        Wall time per step.
    """

    workspace: object
    month: str
    resolved: object
    features: AudienceFeatures
    audiences: AudienceSet
    opted_out: pd.Series
    quarantined: QuarantinedOptOuts = field(default_factory=QuarantinedOptOuts.empty)
    seconds: dict[str, float] = field(default_factory=dict)
    _contacts: pd.DataFrame | None = None
    _suppressed: pd.Series | None = None

    @property
    def context(self) -> dict:
        """Fields identifying the data for the export log."""
        ws = self.workspace
        return {"dataset": ws.spec.name,
                "data_fingerprint": ws.fingerprint, "month": self.month,
                "definitions": self.audiences.definitions.source}

    def contacts(self) -> pd.DataFrame:
        """Usable contact identifiers of everyone in at least one audience (computed once)."""
        if self._contacts is None:
            t = time.perf_counter()
            union = self.audiences.people[self.audiences.union()]
            self._contacts = contact_identifiers(self.workspace.ids, self.resolved.record_oneid,
                                                 people=union, opted_out=self.opted_out)
            self.seconds["contacts"] = round(time.perf_counter() - t, 2)
        return self._contacts

    def suppressed(self) -> pd.Series:
        """People whose records carry an identifier of an opted-out record, accepted or
        quarantined (:func:`omni.consent.suppressed_by_identifier`; computed once).

        Indexed by the audiences' people; pass it to
        :func:`~omni.audience.export.export_audiences` as ``suppressed``.
        """
        if self._suppressed is None:
            t = time.perf_counter()
            ws = self.workspace
            keys = {n: s.key for n, s in ws.spec.sources.items() if s.key}
            values = opt_out_identifiers(ws.ids, ws.dataset.tables, keys, self.quarantined)
            self._suppressed = suppressed_by_identifier(ws.ids, self.resolved.record_oneid, values,
                                                        people=self.audiences.people)
            self.seconds["suppression"] = round(time.perf_counter() - t, 2)
        return self._suppressed


def prepare_audiences(
    data: str | Path = "data/sample",
    month: str | None = None,
    definitions: Definitions | str | Path | None = None,
    names: Sequence[str] | None = None,
    workspace=None,
    progress: bool = False,
) -> AudienceRun:
    """Resolve a dataset at the end of ``month`` and build its audiences.

    Parameters
    ----------
    data : path
        Dataset folder.
    month : str, optional
        ``YYYY-MM``; default the last complete month in the data.
    definitions : Definitions or path, optional
        Default: the packaged ``default_audiences.yaml``.
    names : sequence of str, optional
        Only these audiences (and those they refer to).
    workspace : Workspace, optional
        An open workspace to reuse (its caches).
    progress : bool
        Let the workspace print its progress to stderr. The steps' counts and timings are logged
        (logger ``omni.audience.pipeline``, level INFO) whatever ``progress`` says.
    """
    defs = definitions if isinstance(definitions, Definitions) else load_definitions(definitions)
    if names:
        unknown = [n for n in names if n not in defs.audiences]
        if unknown:
            raise ValueError(f"unknown audience(s) {unknown}; defined: {defs.names}")
    ws = workspace or Workspace(data, progress=progress)
    month = month or ws.last_complete_month()
    secs: dict[str, float] = {}
    t = time.perf_counter()
    res = ws.resolve(as_of=month)
    secs["resolve"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    keys = {n: s.key for n, s in ws.spec.sources.items() if s.key}
    quarantined = quarantined_opt_outs(ws.spec, ws.dataset.quarantine)
    oo = consent_opted_out(res.profiles, res.record_oneid, ws.dataset.tables, keys, quarantined=quarantined)
    secs["consent"] = round(time.perf_counter() - t, 2)
    log.info("  consent: %s opted out (%s only on an older record; %s opt-outs on quarantined rows)",
             f"{int(oo.sum()):,}", f"{oo.attrs['from_records_only']:,}", f"{len(quarantined):,}")
    t = time.perf_counter()
    feats = AudienceFeatures.from_resolved(res, month, campaigns=ws.source("campaigns"),
                                           settings=defs.settings, workspace=ws)
    aset = build_audiences(defs, feats, opted_out=oo.to_numpy(), names=list(names) if names else None)
    secs["audiences"] = round(time.perf_counter() - t, 2)
    log.info("  built %d audiences in %.1f s", len(aset.names), secs["audiences"])
    return AudienceRun(workspace=ws, month=month, resolved=res, features=feats, audiences=aset,
                       opted_out=oo, quarantined=quarantined, seconds=secs)


def export_dataset(
    data: str | Path,
    out: str | Path,
    month: str | None = None,
    definitions: Definitions | str | Path | None = None,
    names: Sequence[str] | None = None,
    platforms: Sequence[str] = PLATFORMS,
    max_per_type: int = 3,
    key: str | bytes | None = None,
    progress: bool = False,
) -> tuple[AudienceRun, list[ExportResult]]:
    """:func:`prepare_audiences` then :func:`~omni.audience.export.export_audiences` into ``out``,
    with the opted-out identifiers suppressed (:meth:`AudienceRun.suppressed`).

    The key, the platforms and ``max_per_type`` are checked before anything is computed.
    """
    require_key(key)
    plats = list(platforms)
    bad = [p for p in plats if p not in PLATFORMS]
    if bad or not plats:
        raise ValueError(f"unknown platform(s) {bad or plats}; known: {list(PLATFORMS)}")
    if isinstance(max_per_type, bool) or not isinstance(max_per_type, int) or not 1 <= max_per_type <= 3:
        raise ValueError(f"max_per_type must be 1, 2 or 3, got {max_per_type!r}")
    run = prepare_audiences(data, month, definitions, names, progress=progress)
    contacts = run.contacts() if any(p != "oneid" for p in plats) else None
    suppressed = run.suppressed()
    t = time.perf_counter()
    results = export_audiences(run.audiences, contacts, out, platforms=plats, names=names, key=key,
                               max_per_type=max_per_type, context=run.context, suppressed=suppressed)
    run.seconds["export"] = round(time.perf_counter() - t, 2)
    return run, results
