"""Audiences of a dataset in one call: resolve, consent, features, audiences, contacts, export.

This is the glue the CLI, the notebook and the benchmark share; each step is also available on its
own (:mod:`~omni.audience.definitions`, :mod:`~omni.audience.features`,
:mod:`~omni.audience.rules`, :mod:`~omni.consent`, :mod:`~omni.audience.identifiers`,
:mod:`~omni.audience.export`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from omni.audience.definitions import Definitions, load_definitions
from omni.audience.export import ExportResult, export_audiences, require_key
from omni.audience.features import AudienceFeatures, table_columns
from omni.audience.hashing import PLATFORMS
from omni.audience.identifiers import (
    ContactRows,
    contact_rows,
    contacts_of_rows,
    oneid_codes,
    oneid_codes_of,
)
from omni.audience.rules import AudienceSet, build_audiences
from omni.consent import (
    CONSENT_COLUMNS,
    SUPPRESSION_TYPES,
    QuarantinedOptOuts,
    _opted_out_keys,
    opt_out_identifiers,
    quarantined_opt_outs,
    suppressed_by_identifier,
)
from omni.consent import opted_out as consent_opted_out
from omni.memory import release_memory
from omni.normalize import identifier_table
from omni.workspace import Workspace

__all__ = ["AudienceRun", "ConsentInputs", "consent_inputs", "export_dataset", "prepare_audiences"]

log = logging.getLogger(__name__)


#: The identifier table columns the contacts and the identifier suppression read.
_ID_COLUMNS = ["record_key", "id_type", "raw", "value", "valid"]


@dataclass
class ConsentInputs:
    """What consent, contacts and suppression read from the sources (:func:`consent_inputs`).

    Attributes
    ----------
    tables : dict
        Source name -> accepted rows of the sources with a consent column (key and consent
        columns only).
    quarantine : DataFrame
        The quarantined problems of those sources (``Dataset.quarantine`` rows).
    ids : DataFrame or None
        The valid identifiers of :data:`omni.consent.SUPPRESSION_TYPES` (which hold the contact
        types) of every accepted record: ``record_key``, ``id_type``, ``raw``, ``value``, ``valid``
        (loaded one source at a time, ``raw`` is kept for device ids only: the one type whose raw
        form is read, :func:`omni.audience.device_kind`). None in an :class:`AudienceRun` that
        has taken what it reads of them (85 M rows at 5M persons).
    """

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame | None
    ids: pd.DataFrame | None


def consent_inputs(ws: Workspace) -> ConsentInputs:
    """:class:`ConsentInputs` of a workspace, loading the sources one at a time.

    The whole dataset (2.4 GB at 1M persons) and its whole identifier table (3.3 GB) are never
    held: each source that has a consent column or suppressible identifiers is loaded alone, its
    identifiers normalized, and only the rows and columns read later are kept. When the workspace
    has the dataset loaded already, its tables and identifier table are used as they are.

    They depend on the sources alone: a workspace opened with ``share`` keeps them in
    ``processed/memo/`` (:meth:`omni.workspace.Workspace.memo`), where ``omni report`` puts them
    while the month is being resolved (:func:`omni.audience.prepare_month`); the workspace itself
    does not hold them.
    """
    if ws._dataset is not None:  # loaded by someone else: nothing to save
        ds = ws.dataset
        return ConsentInputs(tables=ds.tables, quarantine=ds.quarantine, ids=ws.ids)
    return ws.memo(("audience.consent_inputs",), lambda: _consent_inputs(ws), persist="audience", keep=False)


def _consent_inputs(ws: Workspace) -> ConsentInputs:
    """:func:`consent_inputs` from the files."""
    tables: dict[str, pd.DataFrame] = {}
    quarantine: dict[str, pd.DataFrame] = {}
    ids: dict[str, pd.DataFrame] = {}
    todo = []
    for name, src in ws.spec.sources.items():
        consent = [c for c in CONSENT_COLUMNS if c in src.columns]
        # only the identifier columns of the suppressible types are normalized (same rows, same order)
        wanted = [i for i in src.identifiers if i.type in SUPPRESSION_TYPES]
        if consent or wanted:
            todo.append((name, src, consent, wanted))
    # the largest file first, while little else is held; stacked in spec order afterwards
    size = {n: ws.spec.file_path(n).stat().st_size if ws.spec.file_path(n).exists() else 0 for n, *_ in todo}
    for name, src, consent, wanted in sorted(todo, key=lambda x: -size[x[0]]):
        loaded = ws.loaded_source(name)  # in the report, as the audit kept it (no parsing again)
        t = loaded.table
        if consent:
            tables[name] = t[[c for c in dict.fromkeys([src.key, *consent]) if c in t.columns]] if src.key else t
            quarantine[name] = loaded.quarantine
        del loaded
        if wanted:
            it = identifier_table({name: t}, {name: dataclasses.replace(src, identifiers=wanted)}, sources=[name])
            del t
            keep = it["valid"].to_numpy(dtype=bool) & it["id_type"].isin(list(SUPPRESSION_TYPES)).to_numpy(dtype=bool)
            part = it.loc[keep, _ID_COLUMNS].reset_index(drop=True)
            del it
            part["raw"] = _device_raw(part)
            ids[name] = part
        else:
            del t
        release_memory()
    order = [n for n, *_ in todo]
    tables = {n: tables[n] for n in order if n in tables}
    q = pd.concat([quarantine[n] for n in order if n in quarantine], ignore_index=True) if quarantine else None
    if q is not None:
        q["source"] = q["source"].astype(str)
        q["reason"] = q["reason"].astype(str)
    idf = (pd.concat([ids.pop(n) for n in order if n in ids], ignore_index=True) if ids else
           pd.DataFrame({c: pd.Series([], dtype=object) for c in _ID_COLUMNS}).astype({"valid": bool}))
    return ConsentInputs(tables=tables, quarantine=q, ids=idf)


def _device_raw(ids: pd.DataFrame) -> pd.Series:
    """The ``raw`` column of identifier rows with the raw strings of device ids only (null elsewhere:
    only a device id's raw form is read, for its kind)."""
    raw = pa.array(ids["raw"].array)  # Arrow strings (chunked or not)
    dev = (ids["id_type"] == "device_id").to_numpy(dtype=bool)
    pick = pa.array(np.arange(len(ids), dtype=np.int64), mask=~dev)  # a null index takes no bytes
    return pd.Series(pd.arrays.ArrowStringArray(raw.take(pick).cast(pa.large_string())), index=ids.index)


@dataclass
class OneIDLinks:
    """Which OneID each identifier row of :class:`ConsentInputs` belongs to, as integer codes.

    Attributes
    ----------
    code : ndarray of int32
        Per row of ``ConsentInputs.ids``: a position in ``oneids`` (-1: a record the resolution
        does not hold, e.g. one after its month).
    oneids : pyarrow.Array
        The resolution's OneIDs by code.
    """

    code: np.ndarray
    oneids: pa.Array


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
    inputs: ConsentInputs | None = None
    links: OneIDLinks | None = None
    _suppression: _Suppression | None = None
    _rows: ContactRows | None = None

    def _inputs(self) -> ConsentInputs:
        """The consent inputs with their identifier table (read again if the run let it go)."""
        if self.inputs is None or self.inputs.ids is None:
            self.inputs = consent_inputs(self.workspace)
        return self.inputs

    def _links(self) -> OneIDLinks:
        if self.links is None:
            self.links = _links(self.resolved, self._inputs().ids)[0]
        return self.links

    def _contact_rows(self) -> ContactRows:
        if self._rows is None:
            links = self._links()
            self._rows = contact_rows(self._inputs().ids, links.code, links.oneids)
        return self._rows

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
            self._contacts = contacts_of_rows(self._contact_rows(), people=union, opted_out=self.opted_out)
            self._rows = None  # read once: the contacts are kept
            release_memory()  # the joins' scratch (GBs at 1M persons) before the next step
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
            parts = self._suppression or _suppression_inputs(self.workspace, self._inputs(), self._links(),
                                                              self.quarantined)
            self._suppression = None
            self._suppressed = suppressed_by_identifier(parts.ids, parts.record_oneid, parts.values,
                                                        people=self.audiences.people)
            release_memory()
            self.seconds["suppression"] = round(self.seconds.get("suppression", 0.0) + time.perf_counter() - t, 2)
        return self._suppressed


@dataclass
class _Suppression:
    """What :meth:`AudienceRun.suppressed` reads (:func:`omni.consent.suppressed_by_identifier`):
    the identifier rows carrying a value of an opted-out record, the OneIDs of their records, and
    those values. Made from the identifier table's record keys, which nothing reads afterwards."""

    ids: pd.DataFrame
    record_oneid: pd.DataFrame
    values: pd.DataFrame


def _suppression_inputs(ws, inputs: ConsentInputs, links: OneIDLinks, quarantined: QuarantinedOptOuts) -> _Suppression:
    """:class:`_Suppression` of the consent inputs (each function is given the identifier rows it
    can read, not the whole tables: the rows of opted-out records, then the rows carrying one of
    their values, and the records of those rows only, from the OneID codes)."""
    keys = {n: s.key for n, s in ws.spec.sources.items() if s.key}
    ids = inputs.ids
    opted = _isin(ids["record_key"], _opted_out_keys(inputs.tables, keys, CONSENT_COLUMNS))
    values = opt_out_identifiers(ids.loc[opted], inputs.tables, keys, quarantined)
    maybe = _isin(ids["value"], values["value"])
    held = maybe & (links.code >= 0)
    ro = pd.DataFrame({"record_key": ids["record_key"].loc[held].to_numpy(), "oneid":
                       links.oneids.take(pa.array(links.code[held])).to_numpy(zero_copy_only=False)})
    ro = ro.drop_duplicates("record_key", ignore_index=True).astype(_STRING)
    return _Suppression(ids=ids.loc[maybe], record_oneid=ro, values=values)


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
    inputs = consent_inputs(ws)
    quarantined = quarantined_opt_outs(ws.spec, inputs.quarantine)
    profiles = _profiles(res, defs)
    # the records of opted-out rows: the only rows of record_oneid that opted_out reads
    opted = pd.concat([_opted_out_keys(inputs.tables, keys, CONSENT_COLUMNS),
                       quarantined.rows["record_key"].dropna().astype(_STRING)], ignore_index=True)
    links, ro_opted = _links(res, inputs.ids, opted)
    release_memory()
    oo = consent_opted_out(profiles, ro_opted, inputs.tables, keys, quarantined=quarantined)
    del ro_opted
    secs["consent"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    # what the suppression and the contacts read of the identifier table, and then the table goes:
    # its 85 M rows of strings at 5M persons (5-8 GB) are not held while the audiences are built
    suppression = _suppression_inputs(ws, inputs, links, quarantined)
    rows = contact_rows(inputs.ids, links.code, links.oneids)
    inputs = dataclasses.replace(inputs, ids=None)
    release_memory(collect=True)
    secs["suppression"] = round(time.perf_counter() - t, 2)
    log.info("  consent: %s opted out (%s only on an older record; %s opt-outs on quarantined rows)",
             f"{int(oo.sum()):,}", f"{oo.attrs['from_records_only']:,}", f"{len(quarantined):,}")
    t = time.perf_counter()
    feats = AudienceFeatures.from_resolved(res, month, campaigns=ws.source("campaigns"),
                                           settings=defs.settings, workspace=ws, profiles=profiles)
    aset = build_audiences(defs, feats, opted_out=oo.to_numpy(), names=list(names) if names else None)
    release_memory()
    secs["audiences"] = round(time.perf_counter() - t, 2)
    log.info("  built %d audiences in %.1f s", len(aset.names), secs["audiences"])
    return AudienceRun(workspace=ws, month=month, resolved=res, features=feats, audiences=aset,
                       opted_out=oo, quarantined=quarantined, seconds=secs, inputs=inputs, links=links,
                       _suppression=suppression, _rows=rows)


_STRING = pd.StringDtype("pyarrow")


def _isin(values: pd.Series, among: pd.Series) -> np.ndarray:
    """``values.isin(among)`` on Arrow strings, without a Python object per value."""
    arr = pa.array(values.astype(_STRING).array)
    among = pa.array(among.astype(_STRING).array)
    among = among.combine_chunks() if isinstance(among, pa.ChunkedArray) else among
    got = pc.is_in(arr, value_set=among.cast(arr.type))
    return (np.concatenate([c.to_numpy(zero_copy_only=False) for c in got.chunks]) if isinstance(got, pa.ChunkedArray)
            else got.to_numpy(zero_copy_only=False)).astype(bool)


def _profiles(res, defs: Definitions) -> pd.DataFrame:
    """The columns of ``res.profiles`` that consent and the definitions read: ``oneid``, the
    consent columns and the columns of ``profile`` rules (every column when a rule names one the
    profiles lack, so that its error lists them)."""
    have = table_columns(res, "profiles")
    if have is None:
        return res.profiles
    used = {r["column"] for a in defs.audiences.values() for r in _leaves(a.rule) if r.get("type") == "profile"}
    if any(c not in have for c in used):
        return res.profiles
    return res.read("profiles", [c for c in have if c == "oneid" or c in CONSENT_COLUMNS or c in used])


def _leaves(rule: dict):
    """The leaf rules of a rule (``all``/``any``/``not`` walked)."""
    if "all" in rule or "any" in rule:
        for r in rule.get("all", rule.get("any", [])):
            yield from _leaves(r)
    elif "not" in rule:
        yield from _leaves(rule["not"])
    else:
        yield rule


def _links(res, ids: pd.DataFrame, keys: pd.Series | None = None) -> tuple[OneIDLinks, pd.DataFrame | None]:
    """:class:`OneIDLinks` of the identifier rows ``ids``, and, given ``keys``, the rows of
    ``record_oneid`` (``record_key``, ``oneid``) of those record keys.

    Source by source: the map's rows of one source (their keys and OneIDs, read filtered) are
    joined with the identifier rows whose record key names that source. At 5M persons the whole
    map's 100 M keys, a copy of them and their hash took about 12 GB at once; the largest source
    (44 M touchpoints) takes less than half of it. The OneIDs are coded once, over the whole map's
    OneID column, in order of first appearance; a source's rows take their codes from there (its
    rows of the map in the map's order are the ones a filtered read gives), so only its record keys
    are read again."""
    # 16 M OneIDs, not 100 M strings; the code of every row of the map (int32: 400 MB at 5M persons)
    all_codes, oneids = oneid_codes(res.read("record_oneid", ["oneid"])["oneid"])
    release_memory()
    have = res.read("record_oneid", ["source"])["source"]
    if isinstance(have.dtype, pd.CategoricalDtype):  # the sources in the map's order
        c = have.cat.codes.to_numpy()
        first = pd.unique(c[c >= 0])
        names = [str(n) for n in have.cat.categories[first]]
        source_code = dict(zip(names, first.tolist(), strict=True))
    else:  # plain text (an older cache): coded here, in order of first appearance
        c, uniq = pd.factorize(have.astype("string"))
        names = [str(n) for n in uniq]
        source_code = {n: i for i, n in enumerate(names)}
    del have
    ikeys = pa.array(ids["record_key"].astype(_STRING).array)  # as its chunks: no whole copy (3 GB at 5M)
    code = np.full(len(ids), -1, dtype=np.int32)
    want = None
    if keys is not None:
        want = pa.array(keys.astype(_STRING).array)
        want = want.combine_chunks() if isinstance(want, pa.ChunkedArray) else want
    subs = []
    for name in names:
        mine = np.flatnonzero(pc.starts_with(ikeys, f"{name}:").to_numpy(zero_copy_only=False)) if len(ikeys) else []
        wanted = (np.flatnonzero(pc.starts_with(want, f"{name}:").to_numpy(zero_copy_only=False))
                  if want is not None and len(want) else [])
        if not len(mine) and not len(wanted):
            continue
        ro = res.read("record_oneid", ["record_key"], filters=[("source", "==", name)])
        rkeys = pa.array(ro["record_key"].astype(_STRING).array)
        rkeys = rkeys.combine_chunks() if isinstance(rkeys, pa.ChunkedArray) else rkeys
        del ro
        rcodes = all_codes[c == source_code[name]]  # the map's rows of this source, in order
        if len(rcodes) != len(rkeys):
            raise ValueError(f"record_oneid: {len(rkeys)} rows of source {name!r} read, {len(rcodes)} expected")
        if len(mine):
            code[mine] = oneid_codes_of(ikeys.take(pa.array(mine)), rkeys, rcodes)
        if len(wanted):
            hit = np.flatnonzero(pc.is_in(rkeys, value_set=want.take(pa.array(wanted)).cast(rkeys.type))
                                 .to_numpy(zero_copy_only=False))
            subs.append((rkeys.take(pa.array(hit)).cast(pa.large_string()),
                         oneids.take(pa.array(rcodes[hit])).cast(pa.large_string())))
        del rkeys, rcodes, mine
        release_memory()
    del all_codes, c
    sub = None
    if keys is not None:
        sub = pd.DataFrame({
            "record_key": pd.Series(pa.chunked_array([k for k, _ in subs], type=pa.large_string()).to_pandas(
                types_mapper=pd.ArrowDtype) if subs else [], dtype=_STRING),
            "oneid": pd.Series(pa.chunked_array([o for _, o in subs], type=pa.large_string()).to_pandas(
                types_mapper=pd.ArrowDtype) if subs else [], dtype=_STRING)})
    return OneIDLinks(code=code, oneids=oneids), sub


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
