"""A dataset opened for analysis: load, normalize, resolve and unify once, cached on disk.

Notebooks and the CLI open a :class:`Workspace`; every derived table is cached under
``data/<dataset>/processed/<key>/`` where the key is a fingerprint of the input files, the OneID
settings, the as-of date and the omni version, so any notebook can run on its own and a second run
costs a read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import hashlib
import json
import logging
import os
import pickle
import re
import shutil
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omni._version import __version__
from omni.consent import apply_quarantined_opt_outs, quarantined_opt_outs
from omni.core.claims import claimed, held_elsewhere
from omni.core.errors import OmniError, OmniWarning, one_line
from omni.core.files import sha256_file
from omni.core.month import Month
from omni.core.progress import console, say
from omni.core.sink import FrameSink
from omni.core.spill import read_spilled, spill_frames, spilled_rows, sweep_orphans, wait_spilled
from omni.io import LoadedSource, load_dataset, load_source, read_spec
from omni.io.read import estimate_rows
from omni.memory import OUT_OF_CORE_RECORDS, check_resolution_memory, release_memory
from omni.normalize import concat_link_tables, identifier_table, link_table
from omni.oneid import linkage
from omni.oneid.baseline import naive_labels
from omni.oneid.config import OneIDConfig
from omni.oneid.match_features import concat_quasi_fields, quasi_fields
from omni.oneid.resolve import Resolution, resolve_identities
from omni.oneid.stable import assign_oneid_numbers
from omni.oneid.state import as_datetime as _as_datetime
from omni.unify import (
    RowMap,
    build_profiles,
    output_columns,
    record_keys,
    record_time_column,
    source_roles,
    unified_table,
)

__all__ = ["CacheCheck", "DATA_ENV", "FINGERPRINT_ENV", "SHARE_ENV", "VERIFIED_ENV", "DatasetNotFoundError", "MANIFEST", "Resolved", "Workspace",
           "check_manifest", "clear_cache", "find_dataset", "month_end", "open_workspace",
           "verify_cache", "write_manifest"]

log = logging.getLogger(__name__)

#: what :meth:`Workspace._read_memo` gives for a file it cannot read
_UNREAD = object()


def _loaded_source_key(name: str) -> tuple[str, str]:
    """The memo key of :meth:`Workspace.loaded_source`."""
    return ("workspace.loaded_source", name)

UNIFIED = ("orders", "events", "touchpoints", "campaign_assignments")
#: The cache folder of a dataset (``<data>/processed``) and the manifest of each cached resolution.
PROCESSED = "processed"
MANIFEST = "manifest.json"
#: Check every cached file's sha256 (not only its size) each time a cached resolution is read.
#: At 100k persons (a 96 MB cache) the hashes take 0.25-0.35 s against 1.4-2.9 s for the Parquet
#: reads; sha256 streams at 0.3-1 GB/s on the 2-core dev machine, so the 1M cache (about 1 GB)
#: costs 1-3.5 s next to reads of about 15 s (docs/design.md, Checks).
VERIFY_HASHES_ON_READ = True


class DatasetNotFoundError(OmniError, FileNotFoundError):
    """No dataset folder (``raw/sources.yaml`` inside) at the given path."""

    default_hint = "build the sample with `make data` or `omni synth --out data/sample`"


#: Threads a resolution works on where its steps are independent: two sources loaded and
#: normalized at once, and the naive baseline beside the rules (reading, parsing, the
#: normalization and the graphs run mostly in Arrow and NumPy, which let go of the interpreter).
#: Only while the dataset is estimated at no more than :data:`RESOLVE_THREADS_UP_TO` records:
#: larger ones do one thing at a time, each step's peak on top of what is held (at 5M persons
#: the loading peaked at 12 GB with one source at a time, the rules at 14 GB).
RESOLVE_THREADS = 2
RESOLVE_THREADS_UP_TO = OUT_OF_CORE_RECORDS  # one rule: the memory check counts on it
#: Environment variable that points every notebook at another dataset (the test suite runs the
#: notebooks on the small test world with it). It is read here only.
DATA_ENV = "OMNI_DATA"
#: Environment variable (``1``) that makes workspaces share derived results through the dataset's
#: ``processed/memo/`` (:meth:`Workspace.memo`); ``omni report`` sets it for its kernels.
SHARE_ENV = "OMNI_SHARE"
#: Environment variable by which ``omni report`` hands its kernels the dataset's fingerprint
#: (:meth:`Workspace.fingerprint`, about 1 s of hashing at 1M persons in every process), with the
#: size and modification time of every file it covers: a kernel takes it only for the same folder
#: and while every file still has that size and time (otherwise it hashes the files itself).
FINGERPRINT_ENV = "OMNI_FINGERPRINT"
#: Environment variable (a JSON list of cache folders) by which ``omni report`` tells its kernels
#: which cached resolutions its own resolving process has just written: a kernel checks their
#: files' sizes against the manifest but not their sha256 (about 1 GB, 1 s, at 1M persons).
VERIFIED_ENV = "OMNI_VERIFIED_CACHES"


def open_workspace(data: str | Path = "data/sample", **kwargs: Any) -> Workspace:
    """Open a dataset folder for analysis: ``omni.open("data/sample")``.

    Parameters
    ----------
    data : path
        Dataset folder (``raw/sources.yaml`` inside). When the environment variable
        ``OMNI_DATA`` is set it takes precedence, so that the same notebooks run on another
        dataset (the test suite points them at the small test world).
    **kwargs
        Passed to :class:`Workspace` (``config``, ``progress``).
    """
    return Workspace(os.environ.get(DATA_ENV) or data, **kwargs)


def find_dataset(path: str | Path) -> Path:
    """Resolve a dataset folder given relative to the working directory or a parent of it.

    Notebooks run from ``notebooks/`` while their default parameter is ``data/sample``: this looks
    in the working directory and up to three parents.
    """
    p = Path(path)
    candidates = [p] if p.is_absolute() else [Path.cwd().joinpath(*([".."] * i)) / p for i in range(4)]
    for c in candidates:
        if (c / "raw" / "sources.yaml").exists() or (c / "sources.yaml").exists():
            return c.resolve()
    raise DatasetNotFoundError(
        f"dataset {str(path)!r} not found (looked for raw/sources.yaml in {', '.join(str(c) for c in candidates)})"
    )


def month_end(month: str) -> pd.Timestamp:
    """Last instant of a ``YYYY-MM`` month (exclusive bound: the first instant of the next)."""
    return pd.Period(month, freq="M").end_time.floor("s") + pd.Timedelta(seconds=1)


def _hash_files(paths: list[Path], extra: bytes = b"") -> str:
    h = hashlib.sha256(extra)
    for p in paths:
        h.update(p.name.encode())
        with p.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 22), b""):
                h.update(chunk)
    return h.hexdigest()


def write_manifest(d: Path) -> dict:
    """Write ``d/manifest.json``: the size and sha256 of every other file in ``d`` (atomically:
    a temporary file renamed into place). Returns the manifest."""
    files = {f.name: {"size": f.stat().st_size, "sha256": sha256_file(f)}
             for f in sorted(d.iterdir()) if f.is_file() and f.name != MANIFEST and not f.name.startswith(".")}
    manifest = {"format": 1, "omni": __version__, "files": files}
    tmp = d / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, d / MANIFEST)
    return manifest


def check_manifest(d: Path, hashes: bool = True) -> list[str]:
    """What is wrong with the cached folder ``d`` against its manifest (empty: all good).

    Checks that the manifest is readable, that every file it lists exists with its size and (with
    ``hashes``) its sha256, and that no file the cache reads is unlisted.
    """
    try:
        manifest = json.loads((d / MANIFEST).read_text(encoding="utf-8"))
        files = manifest["files"]
        if not isinstance(files, dict):
            raise TypeError("files is not a mapping")
    except FileNotFoundError:
        return [f"no {MANIFEST}"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        return [f"{MANIFEST} unreadable ({type(err).__name__})"]
    problems = []
    for name, want in files.items():
        f = d / name
        try:
            size = f.stat().st_size
            if size != want.get("size"):
                problems.append(f"{name}: size {size:,} bytes, manifest says {want.get('size')}")
            elif hashes and sha256_file(f) != want.get("sha256"):
                problems.append(f"{name}: sha256 differs from the manifest")
        except FileNotFoundError:
            problems.append(f"{name}: missing")
        except OSError as err:
            problems.append(f"{name}: unreadable ({type(err).__name__}: {err.strerror or err})")
    extra = sorted(f.name for f in d.glob("*.parquet") if f.name not in files)
    if (d / "summary.json").exists() and "summary.json" not in files:
        extra.append("summary.json")
    problems += [f"{name}: not in the manifest" for name in extra]
    return problems


@dataclass
class CacheCheck:
    """One cached resolution checked by :func:`verify_cache`."""

    name: str
    ok: bool
    detail: str


def _cache_entries(data: str | Path) -> list[Path]:
    root = find_dataset(data) / PROCESSED
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []


def verify_cache(data: str | Path) -> list[CacheCheck]:
    """Check every cached resolution of a dataset against its manifest (sizes and sha256).

    Returns
    -------
    list of CacheCheck
        One per folder under ``<data>/processed`` (empty when nothing is cached).
    """
    out = []
    for d in _cache_entries(data):
        problems = check_manifest(d, hashes=True)
        if problems:
            out.append(CacheCheck(d.name, False, "; ".join(problems)))
        else:
            n = len(json.loads((d / MANIFEST).read_text(encoding="utf-8"))["files"])
            out.append(CacheCheck(d.name, True, f"{n} files, sizes and sha256 match"))
    return out


def clear_cache(data: str | Path) -> Path | None:
    """Remove ``<data>/processed`` (every cached resolution; rebuilt on next use).

    Returns
    -------
    Path or None
        The folder removed, None when there was none.
    """
    root = find_dataset(data) / PROCESSED
    if not root.exists():
        return None
    shutil.rmtree(root)
    return root


_REDACT = re.compile(r"[^\s@]+@[^\s@]+|\+?\d[\d\s-]{4,}\d")


def _redact(text: str, limit: int = 300) -> str:
    """An error message safe for a summary or report: emails and long digit runs (phones, ids)
    replaced, one line, at most ``limit`` characters."""
    return _REDACT.sub("<redacted>", one_line(text))[:limit]


#: The frames of a resolution besides the unified tables, in the order they are written.
FRAMES = ("record_oneid", "profiles", "values", "edges", "removals", "invalid", "changes", "links", "naive")


def _read_parquet(path: Path, columns: list[str] | None = None, filters: list | None = None) -> pd.DataFrame:
    """One cached frame (or some of its columns and rows) with Arrow-backed strings."""
    with pd.option_context("mode.string_storage", "pyarrow"):  # Arrow strings, not Python objects
        return pd.read_parquet(path, columns=columns, filters=filters)


class _LazyTables(dict):
    """The unified tables of a cached resolution, each read from its Parquet file on first use
    (or, with ``load``, made by it: a Spark resolution's tables collected when not cached)."""

    def __init__(self, folder: Path | None, names: tuple[str, ...], load: Callable[[str], pd.DataFrame] | None = None):
        super().__init__()
        self._folder, self._names, self._load = folder, names, load

    def __missing__(self, name: str) -> pd.DataFrame:
        if name not in self._names:
            raise KeyError(name)
        df = self[name] = self._load(name) if self._load is not None else _read_parquet(self._folder / f"{name}.parquet")
        return df

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def keys(self):  # type: ignore[override]
        return list(self._names)

    def items(self):  # type: ignore[override]
        return [(n, self[n]) for n in self._names]

    def values(self):  # type: ignore[override]
        return [self[n] for n in self._names]

    def get(self, name, default=None):  # type: ignore[override]
        return self[name] if name in self._names else default


class Resolved:
    """Everything a resolution produced, as plain tables.

    A resolution just computed holds its frames in memory. One read from the cache holds none
    at first: each frame is read from its Parquet file the first time it is asked for
    (``r.record_oneid``, ``r["orders"]``), and :meth:`read` takes some columns and rows of a
    frame without reading the rest, so an analysis holds only what it uses (at 1M persons the
    whole resolution is about 20 M records and takes 10+ GB as pandas frames).
    """

    def __init__(self, record_oneid: pd.DataFrame | None = None, profiles: pd.DataFrame | None = None,
                 tables: dict[str, pd.DataFrame] | None = None, values: pd.DataFrame | None = None,
                 edges: pd.DataFrame | None = None, removals: pd.DataFrame | None = None,
                 invalid: pd.DataFrame | None = None, changes: pd.DataFrame | None = None,
                 summary: dict | None = None, links: pd.DataFrame | None = None,
                 naive: pd.DataFrame | None = None, *, folder: Path | None = None, deferred: Any = None):
        self._folder = folder
        self._frames: dict[str, pd.DataFrame] = {}
        # frames held elsewhere (a Spark resolution's :class:`omni.spark.pipeline.SparkOutputs`):
        # written to the cache by it, collected only when asked for without a cache
        self._deferred = deferred
        given = {"record_oneid": record_oneid, "profiles": profiles, "values": values, "edges": edges,
                 "removals": removals, "invalid": invalid, "changes": changes, "links": links,
                 "naive": naive}
        for name, df in given.items():
            if df is not None:
                self._frames[name] = df
            elif folder is None and not (deferred is not None and name in deferred.frames):
                self._frames[name] = pd.DataFrame()
        self.tables: dict[str, pd.DataFrame] = (
            tables if tables is not None else _LazyTables(folder, UNIFIED) if folder is not None else
            _LazyTables(None, UNIFIED, deferred.collect) if deferred is not None and set(UNIFIED) <= set(deferred.frames)
            else {})
        self.summary: dict = summary if summary is not None else {}

    @classmethod
    def from_cache(cls, folder: Path) -> Resolved:
        """A resolution read lazily from its cache folder (frames read on first use)."""
        return cls(summary=json.loads((folder / "summary.json").read_text(encoding="utf-8")), folder=folder)

    @property
    def folder(self) -> Path | None:
        """The cache folder the frames are read from (None for a resolution held in memory)."""
        return self._folder

    def _frame(self, name: str) -> pd.DataFrame:
        if name not in self._frames and self._deferred is not None and name in self._deferred.frames:
            self._frames[name] = self._deferred.collect(name)
        if name not in self._frames:
            path = self._folder / f"{name}.parquet"
            self._frames[name] = _read_parquet(path) if path.exists() else pd.DataFrame()
        return self._frames[name]

    record_oneid = property(lambda self: self._frame("record_oneid"),
                            doc="Record -> OneID map: ``record_key``, ``oneid``, ``source``, ``how``.")
    profiles = property(lambda self: self._frame("profiles"), doc="One row per OneID.")
    values = property(lambda self: self._frame("values"), doc="Identifier values and their status.")
    edges = property(lambda self: self._frame("edges"), doc="Record -> identifier-value edges.")
    removals = property(lambda self: self._frame("removals"), doc="Edges the limits removed.")
    invalid = property(lambda self: self._frame("invalid"), doc="Invalid identifier rows.")
    changes = property(lambda self: self._frame("changes"), doc="OneIDs kept, merged, split, new.")
    links = property(lambda self: self._frame("links"), doc="Accounts linked by probability.")
    naive = property(lambda self: self._frame("naive"),
                     doc="The naive baseline's cluster per record (``naive``, aligned with ``record_oneid``).")

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name in FRAMES:
            return self._frame(name)
        return self.tables[name]

    def read(self, name: str, columns: list[str] | None = None, filters: list | None = None) -> pd.DataFrame:
        """Some columns (and, with ``filters``, some rows) of one frame, without reading the rest.

        Parameters
        ----------
        name : str
            A frame (:data:`FRAMES`) or a unified table (:data:`UNIFIED`).
        columns : list of str, optional
            Columns to read (all by default).
        filters : list, optional
            Row filters in pyarrow's DNF form (``[("how", "==", "none")]``).

        Notes
        -----
        From memory when the frame is already held; from its Parquet file otherwise, in which case
        nothing is kept (a second call reads again).
        """
        held = self._frames.get(name) if name in FRAMES else (
            dict.get(self.tables, name) if isinstance(self.tables, _LazyTables) else self.tables.get(name))
        if held is not None or self._folder is None:
            df = held if held is not None else self[name]
            if filters:
                mask = np.ones(len(df), dtype=bool)
                for col, op, val in filters:
                    mask &= _compare(df[col], op, val)
                df = df.loc[mask]
            return df[columns] if columns is not None else df
        return _read_parquet(self._folder / f"{name}.parquet", columns=columns, filters=filters)

    def engine_table(self, name: str) -> pd.DataFrame | Path:
        """What the embedded engine (:mod:`omni.engine`) should read for a frame: the frame when
        it is held in memory, its Parquet file otherwise (read on demand, never whole)."""
        held = self._frames.get(name) if name in FRAMES else (
            dict.get(self.tables, name) if isinstance(self.tables, _LazyTables) else self.tables.get(name))
        if held is not None or self._folder is None:
            return held if held is not None else self[name]
        return self._folder / f"{name}.parquet"

    def columns(self, name: str) -> list[str] | None:
        """The columns of a frame or unified table (from the Parquet schema when it is not held);
        None when the resolution has no such table."""
        if name not in self.tables and name not in FRAMES:
            return None
        src = self.engine_table(name)
        if isinstance(src, pd.DataFrame):
            return list(src.columns)
        if not src.exists():
            return None
        import pyarrow.parquet as pq

        return list(pq.read_schema(src).names)

    def resolution(self, config: OneIDConfig | None = None):
        """The :class:`omni.oneid.resolve.Resolution` view (for explain and health checks)."""
        ro = self.read("record_oneid", ["record_key", "source", "how", "oneid"])
        rec = ro[["record_key", "source", "how"]].copy()
        rec["cluster"] = pd.factorize(ro["oneid"])[0]
        return Resolution(records=rec, values=self.values, edges=self.edges, removals=self.removals,
                          invalid=self.invalid, config=config or OneIDConfig())


def _compare(s: pd.Series, op: str, val: Any) -> np.ndarray:
    """A boolean mask of ``s op val`` for :meth:`Resolved.read`'s in-memory filters."""
    if op in ("==", "="):
        m = s == val
    elif op == "!=":
        m = s != val
    elif op == "<":
        m = s < val
    elif op == "<=":
        m = s <= val
    elif op == ">":
        m = s > val
    elif op == ">=":
        m = s >= val
    elif op == "in":
        m = s.isin(list(val))
    elif op == "not in":
        m = ~s.isin(list(val))
    else:
        raise ValueError(f"unknown filter operator {op!r}")
    return np.asarray(m, dtype=bool) if not hasattr(m, "fillna") else m.fillna(False).to_numpy(dtype=bool)


def _spill_inputs(inputs: tuple, under: Path, prefix: str = "inputs", background: bool = False) -> Path:
    """Write a resolution's inputs (identifier table, records, source tables, quasi table; the
    tables may be None, the source tables empty) to a new hidden folder under ``under``
    (:func:`omni.core.spill.spill_frames`; ``background``: on a thread, the source and quasi
    tables first, since the caller lets go of them at once and keeps the others in use)."""
    ids, records, tabs, quasi = inputs
    frames = {**{f"tab.{n}": t for n, t in tabs.items()}, "quasi": quasi, "ids": ids, "records": records}
    return spill_frames({n: f for n, f in frames.items() if f is not None}, under, prefix, background=background)


def _unspill_inputs(d: Path, remove: bool, parts: tuple[str, ...] = ("ids", "records", "tabs", "quasi"),
                    tab_columns: dict[str, list[str]] | None = None) -> tuple:
    """The inputs :func:`_spill_inputs` wrote to ``d`` (None for a table it was not given or not
    asked for in ``parts``, no source tables without ``"tabs"``); ``remove`` deletes the folder
    once read. ``tab_columns`` (source -> columns): only those source tables, with only those columns."""
    frames = read_spilled(d, remove, which=lambda n: ("tabs" if n.startswith("tab.") else n) in parts and (
        tab_columns is None or not n.startswith("tab.") or n[len("tab."):] in tab_columns),
        columns=None if tab_columns is None else {f"tab.{n}": c for n, c in tab_columns.items()})
    tabs = {n.split(".", 1)[1]: t for n, t in frames.items() if n.startswith("tab.")}
    return frames.get("ids"), frames.get("records"), tabs, frames.get("quasi")


def _verified_in_this_run(d: Path) -> bool:
    """Whether :data:`VERIFIED_ENV` names the cache folder ``d`` (written by the report's own
    resolving process minutes ago: its sizes are still checked, its hashes not again)."""
    try:
        return str(d) in json.loads(os.environ.get(VERIFIED_ENV) or "[]")
    except (ValueError, TypeError):
        return False


@functools.lru_cache(maxsize=1)
def _code_version() -> str:
    """sha256 of the package sources that shape a resolution (io, normalize, oneid, unify,
    workspace, the consent rule, the masking of quarantined values): a code change invalidates
    cached resolutions and shared values, a notebook edit does not."""
    root = Path(__file__).resolve().parent
    files = sorted([*(root / "core").rglob("*.py"), *(root / "io").rglob("*.py"),
                    *(root / "oneid").rglob("*.py"),
                    root / "normalize.py", root / "unify.py", root / "workspace.py",
                    root / "consent.py", root / "privacy.py"])
    return _hash_files(files)[:16]


@functools.cache
def _package_version(package: str) -> str:
    """sha256 of an omni subpackage's sources (``"value"``: omni/value/**.py)."""
    root = Path(__file__).resolve().parent / package
    if not root.is_dir():
        raise ValueError(f"no omni subpackage {package!r}")
    return _hash_files(sorted(root.rglob("*.py")))[:16]


def _linkage_summary(summary: dict, links: pd.DataFrame, run_warnings: list[str]) -> None:
    """The probabilistic stage's part of a resolution's summary (both engines), in place."""
    summary["probabilistic_links"] = int(len(links))
    summary["probabilistic"] = links.attrs.get("stage", {})
    if run_warnings:
        summary["probabilistic"] = {"status": "failed", "fallback": "rules only", "error": run_warnings[0]}
        summary["warnings"] = run_warnings


#: Resolution engines: ``embedded`` (pandas, NumPy and DuckDB on this machine, the default) and
#: ``spark`` (:mod:`omni.spark`). Both give the same outputs (the parity tests check it), so the
#: cache key does not name the engine: a resolution cached by one is read by the other.
ENGINES = ("embedded", "spark")


class Workspace:
    """A dataset folder opened for analysis.

    Parameters
    ----------
    data : path
        Dataset folder (``raw/sources.yaml`` inside), found relative to the working directory or
        its parents.
    config : OneIDConfig, optional
        Identity rules.
    progress : bool
        Print progress lines to stderr.
    engine : {"embedded", "spark"}
        Where the resolution runs (:data:`ENGINES`; ``spark``: loading, normalizing, the OneID
        rules, the probabilistic stage, stable numbering, the unified tables, the profiles and every
        cache file on Apache Spark, :func:`omni.spark.pipeline.resolve_outputs` and
        :func:`omni.spark.unify.unify_outputs`).
    master : str, optional
        The Spark master with ``engine="spark"`` (``local[2]``, ``spark://...``, ``yarn``; default
        :func:`omni.spark.session.get_session`'s).
    raw_uri : str, optional
        With ``engine="spark"``: read the source files from this folder of a Hadoop file system
        (``hdfs://...``, ``s3a://...``, ``file://...``) instead of the folder of ``sources.yaml``
        (:func:`omni.spark.load.load_inputs`); the dataset folder then needs only
        ``raw/sources.yaml`` and holds the cache.
    share : bool, optional
        Keep derived results that other processes on the same files will ask for (customer
        value) in ``processed/memo/`` and read them from there (:meth:`memo`). Default: the
        ``OMNI_SHARE`` environment variable is ``1``, which ``omni report`` sets for its notebooks'
        kernels (the value report's fit is then read, not redone, by the audiences' kernel).
    """

    def __init__(self, data: str | Path = "data/sample", config: OneIDConfig | None = None, progress: bool = False,
                 engine: str = "embedded", master: str | None = None, raw_uri: str | None = None,
                 share: bool | None = None):
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {list(ENGINES)}, not {engine!r}")
        if raw_uri is not None and engine != "spark":
            raise ValueError("source files at a URI (raw_uri) are read by the Spark engine only: use engine='spark'")
        self.engine = engine
        self.master = master
        self.raw_uri = raw_uri
        self.path = find_dataset(data)
        self.spec = read_spec(self.path)
        self.config = config or OneIDConfig()
        self.progress = progress
        if progress:
            console()
        self._dataset = None
        self._ids = None
        self._quasi = None
        self._records: pd.DataFrame | None = None
        self._fingerprint: str | None = None
        self._fingerprint_stamp: list | None = None  # the files' sizes and times just before hashing
        self._resolved: dict[str | None, Resolved] = {}
        self._memo: dict[tuple, Any] = {}
        self.share = bool(share) if share is not None else os.environ.get(SHARE_ENV) == "1"
        self._shared_inputs: dict | None = None
        self._memo_pruned = False
        self._month_inputs: tuple | None = None
        self._data_end: pd.Timestamp | None = None
        self._previous_from: str | None = None
        self._keep_sources: bool | None = None

    # -- basics ---------------------------------------------------------------------------
    def memo(self, key: tuple, compute: Callable[[], Any], *, persist: str | None = None,
             keep: bool = True, claim: bool = False) -> Any:
        """The value cached under ``key`` in this workspace, computed once by ``compute()``.

        Analyses share derived results through it (customer value as of a date is computed
        once per resolution and date and read by value, uplift and audiences). ``key`` must name
        everything the value depends on besides the dataset (as-of month, settings).

        Parameters
        ----------
        key : tuple
            What the value depends on besides the dataset; its ``repr`` names it on disk.
        compute : callable
            Makes the value.
        persist : str, optional
            The omni subpackage whose code makes the value (``"value"``). In a workspace opened
            with ``share`` the value is also kept in ``processed/memo/`` (pickled), so another
            process on the same files (the report's notebooks run in kernels of their own) reads
            it instead of computing it again. The file's name hashes the data fingerprint, the
            OneID settings, the resolution's code and that subpackage's code, so a change to any
            of them computes afresh. Only values the package made itself are read back from there.
        keep : bool
            Hold the value in this workspace (default). False: a large value the caller uses once
            (the inputs an analysis reads from the sources) is returned without being held; with
            ``persist`` it is still read from, or written to, ``processed/memo/``.
        claim : bool
            With ``persist`` in a shared workspace: claim the making of the file
            (:func:`omni.core.claims.claimed`), so that a process of the report that needs the same
            value while another makes it waits for the file instead of computing it too (the
            loaded sources, which the month's resolution, the data audit and the preparation of
            later notebooks read at the same time).
        """
        if key in self._memo:
            return self._memo[key]
        path = self._memo_path(key, persist) if persist and self.share else None
        if path is not None and path.is_file():
            value = self._read_memo(key, path, keep)
            if value is not _UNREAD:
                return value
        if path is not None and claim:
            try:
                self._memo_folder(path)
            except OSError as err:  # a read-only folder: computed here, as without a claim
                log.info("memo %s: no claim (%s)", path.name, err)
                return self._make_memo(key, compute, None, keep)
            with claimed(path) as mine:
                if not mine:  # made by another process meanwhile
                    value = self._read_memo(key, path, keep)
                    if value is not _UNREAD:
                        return value
                return self._make_memo(key, compute, path, keep)
        return self._make_memo(key, compute, path, keep)

    def _memo_folder(self, path: Path) -> None:
        """Make the folders of the memo file ``path``, owner only (they hold personal data: loaded
        sources, contacts), once the other versions of the data are pruned."""
        self._prune_memo(path.parent)
        for folder in (path.parent.parent, path.parent):  # memo/ and its version folder
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            folder.chmod(0o700)

    def _read_memo(self, key: tuple, path: Path, keep: bool) -> Any:
        """The value :meth:`memo` kept in ``path``; ``_UNREAD`` when the file cannot be read."""
        try:
            with path.open("rb") as f:  # streamed: no whole copy of the file's bytes beside the value
                value = pickle.load(f)
        except Exception as err:  # noqa: BLE001 - a damaged or stale file is computed again
            log.info("memo %s unreadable (%s): computed again", path.name, type(err).__name__)
            return _UNREAD
        log.info("read %s from %s", key[0], path.name)
        if keep:
            self._memo[key] = value
        return value

    def _make_memo(self, key: tuple, compute: Callable[[], Any], path: Path | None, keep: bool) -> Any:
        """Compute the value of :meth:`memo`, hold it (``keep``) and write it to ``path``."""
        value = compute()
        if keep:
            self._memo[key] = value
        if path is not None:
            try:
                self._memo_folder(path)
                tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
                try:
                    with tmp.open("wb") as f:  # streamed (the audiences' inputs: 1.6 GB at 1M persons)
                        pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
                    os.replace(tmp, path)  # atomic: a reader never sees half a file
                finally:
                    tmp.unlink(missing_ok=True)
            except Exception as err:  # noqa: BLE001 - a read-only folder, a full disk, a value pickle cannot
                # write: the value stays in this process, computed, and the caller goes on
                log.info("memo %s not written (%s: %s)", path.name, type(err).__name__, err)
        return value

    def _memo_path(self, key: tuple, package: str) -> Path:
        code = _package_version(package)
        name = json.dumps({"fp": self.fingerprint, "cfg": self.config.as_dict(), "v": __version__,
                           "code": _code_version(), package: code, "key": repr(key)}, sort_keys=True)
        folder = self.path / PROCESSED / "memo" / self.fingerprint[:16]  # one folder per version of the data
        return folder / f"{package}-{hashlib.sha256(name.encode()).hexdigest()[:20]}.pkl"

    def _prune_memo(self, keep: Path) -> None:
        """Remove what ``processed/memo/`` holds for other versions of the data (their folders, and
        files of the older flat layout), once per workspace: nothing can read them again (their
        names hash files that have changed), and at 1M persons one report leaves about 5.9 GB there
        (customer value, the audiences' consent inputs, every loaded source)."""
        if self._memo_pruned:
            return
        self._memo_pruned = True
        root = keep.parent
        if not root.is_dir():
            return
        for entry in root.iterdir():
            if entry == keep:
                continue
            try:
                if entry.is_dir():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
                log.info("memo: removed %s (another version of the data)", entry.name)
            except OSError as err:  # another process removed it first, or a read-only folder
                log.info("memo: %s not removed (%s)", entry.name, err)

    def _say(self, msg: str) -> None:
        if self.progress:
            say(msg, log)

    @property
    def fingerprint(self) -> str:
        """sha256 of sources.yaml and every source file."""
        if self._fingerprint is None:
            if self.raw_uri is not None:  # files on a Hadoop file system: their sizes and times
                from omni.spark.load import uri_stamp
                from omni.spark.session import get_session

                stamp = uri_stamp(get_session(self.master), self.spec, self.raw_uri)
                self._fingerprint = _hash_files([self.spec.path], extra=stamp)
                return self._fingerprint
            files = self._fingerprint_files()
            handed = self._handed_fingerprint(files)
            if handed is None:
                self._fingerprint_stamp = self._file_stamp(files)  # before hashing: see fingerprint_handover
            self._fingerprint = handed if handed is not None else _hash_files(files)
        return self._fingerprint

    def _fingerprint_files(self) -> list[Path]:
        files = [self.spec.path] + [self.spec.file_path(s) for s in self.spec.sources]
        return [f for f in files if f.exists()]

    def _file_stamp(self, files: list[Path]) -> list:
        """``[path, size, modification time in ns]`` of each file (one ``stat`` each)."""
        return [[str(f), st.st_size, st.st_mtime_ns] for f, st in ((f, f.stat()) for f in files)]

    def fingerprint_handover(self) -> str:
        """The value of :data:`FINGERPRINT_ENV` that hands this workspace's fingerprint to the
        processes a report starts (the folder, the files' sizes and times, the fingerprint); empty
        (nothing handed over) when a file's size or time changed since just before it was hashed."""
        fp = self.fingerprint
        stamp = self._file_stamp(self._fingerprint_files())
        if self._fingerprint_stamp is not None and self._fingerprint_stamp != stamp:  # changed while or since hashed
            return ""
        return json.dumps({"path": str(self.path), "files": stamp, "fp": fp})

    def _handed_fingerprint(self, files: list[Path]) -> str | None:
        """The fingerprint :data:`FINGERPRINT_ENV` hands over, when it is for this folder and every
        file still has the size and time it had then; None otherwise."""
        text = os.environ.get(FINGERPRINT_ENV)
        if not text:
            return None
        try:
            got = json.loads(text)
            if got["path"] == str(self.path) and got["files"] == self._file_stamp(files):
                return str(got["fp"])
        except (ValueError, KeyError, TypeError, OSError):
            pass
        return None

    @property
    def dataset(self):
        """The loaded, validated dataset (:func:`omni.io.load_dataset`)."""
        if self._dataset is None:
            t = time.perf_counter()
            self._month_inputs = None  # the resolution's inputs come from the dataset now
            self._dataset = load_dataset(self.path)
            self._say(f"  loaded {len(self._dataset.tables)} sources in {time.perf_counter() - t:.1f} s")
        return self._dataset

    def source(self, name: str) -> pd.DataFrame | None:
        """One source's accepted rows, loaded and validated alone (None when the dataset has no
        such source).

        Analyses that read a small source (campaigns, channel spend, a market panel) ask for it
        here instead of loading the whole dataset: at 1M persons the dataset is 20 M records and
        several GB, while these tables have hundreds of rows. Taken from the dataset when it is
        already loaded; read once per workspace otherwise.
        """
        if name not in self.spec.sources:
            return None
        if self._dataset is not None:
            return self._dataset.tables.get(name)
        return self.memo(("workspace.source", name), lambda: self.loaded_source(name).table)

    def loaded_source(self, name: str) -> LoadedSource:
        """One source loaded and validated alone (:func:`omni.io.load_source`: accepted rows,
        quarantine, counts), not held by the workspace.

        In a workspace opened with ``share`` (the report's kernels and its resolving child), up
        to :data:`omni.memory.OUT_OF_CORE_RECORDS` estimated records, it is also kept in
        ``processed/memo/`` (:meth:`memo`), so that another process on the same files reads it
        instead of parsing and validating the file again: ``omni report`` loads the sources the
        notebooks read while the month is being resolved (:mod:`omni.reporting.prepare`). A
        process that asks for a source another process is loading waits for it
        (:meth:`memo`'s ``claim``): each source is parsed once per report.

        Raises
        ------
        KeyError
            When the dataset has no such source.
        """
        if name not in self.spec.sources:
            raise KeyError(f"{self.path.name}: no source {name!r}; sources: {sorted(self.spec.sources)}")
        return self.memo(_loaded_source_key(name), lambda: load_source(self.spec, name),
                         persist="io" if self._keeps_sources() else None, keep=False, claim=True)

    def loaded_source_kept(self, name: str) -> bool:
        """Whether :meth:`loaded_source` would read ``name`` from ``processed/memo/`` (a shared
        workspace, and another process of the report loaded it already) instead of the file."""
        if not self._keeps_sources() or name not in self.spec.sources:
            return False
        return self._loaded_source_path(name).is_file()

    def loaded_source_claimed(self, name: str) -> bool:
        """Whether a running process of the report is loading ``name`` now (:meth:`loaded_source`
        would wait for it): callers with sources to go through take the others first."""
        if not self._keeps_sources() or name not in self.spec.sources:
            return False
        return held_elsewhere(self._loaded_source_path(name))

    def _loaded_source_path(self, name: str) -> Path:
        """Where :meth:`loaded_source` keeps ``name`` in ``processed/memo/`` (its key, one place)."""
        return self._memo_path(_loaded_source_key(name), "io")

    def next_source(self, todo: Sequence[str]) -> str:
        """Which of ``todo`` to load next in a shared workspace: one another process has kept
        already, else one nobody is loading, else the first (whose loading this then waits for).
        The order changes no table (callers stack what they load in spec order); it makes the
        month's resolution and the data audit, which load the sources beside each other in the
        report, each parse a different source instead of the same one twice."""
        if not self._keeps_sources():
            return todo[0]
        kept = next((n for n in todo if self.loaded_source_kept(n)), None)
        if kept is not None:
            return kept
        return next((n for n in todo if not self.loaded_source_claimed(n)), todo[0])

    def source_identifiers(self, name: str, table: pd.DataFrame | None = None) -> pd.DataFrame:
        """The lean identifier table of one source (:func:`omni.normalize.link_table` of it alone,
        values dictionary-encoded), not held by the workspace.

        ``table``: the source's accepted rows when the caller holds them (else they are read
        through :meth:`loaded_source`). Kept in ``processed/memo/`` like the loaded sources: the
        month's resolution and the data audit both read every source's identifiers, and whichever
        of them normalizes a source first saves the other the work."""
        def compute() -> pd.DataFrame:
            t = table if table is not None else self.loaded_source(name).table
            return link_table({name: t}, self.spec, sources=[name])

        return self.memo(("workspace.source_identifiers", name), compute,
                         persist="oneid" if self._keeps_sources() else None, keep=False, claim=True)

    def _keeps_sources(self) -> bool:
        """Whether :meth:`loaded_source` keeps what it loads in ``processed/memo/``: in a shared
        workspace of at most :data:`omni.memory.OUT_OF_CORE_RECORDS` estimated records. Above
        it the sources stay unkept, as before session 23: at 5M persons the 15 sources pickle to
        14.75 GB on disk, and pickling the touchpoints held 3.25 GB more, at the data audit's peak
        (18.6 GB at 5M) on a 24 GB machine; and the report's preparation, which would read them,
        does not fit beside the resolution at that size anyway."""
        if not self.share:
            return False
        if self._keep_sources is None:
            self._keep_sources = self.estimated_records() <= OUT_OF_CORE_RECORDS
        return self._keep_sources

    @property
    def ids(self) -> pd.DataFrame:
        """The normalized identifier table of every accepted record."""
        if self._ids is None:
            t = time.perf_counter()
            self._ids = identifier_table(self.dataset)
            self._say(f"  normalized {len(self._ids):,} identifiers in {time.perf_counter() - t:.1f} s")
        return self._ids

    @property
    def quasi(self) -> pd.DataFrame:
        """The normalized quasi-identifier table (names, masked phones, address parts) with the
        source column and matching field of every row (:func:`omni.normalize.quasi_table` via
        :func:`omni.oneid.match_features.quasi_fields`)."""
        if self._quasi is None:
            t = time.perf_counter()
            self._quasi = quasi_fields(self.dataset)
            self._say(f"  normalized {len(self._quasi):,} quasi-identifiers in {time.perf_counter() - t:.1f} s")
        return self._quasi

    def has_truth(self) -> bool:
        return (self.path / "truth" / "record_person.parquet").exists()

    def truth(self, name: str = "record_person") -> pd.DataFrame:
        """A ground-truth table of a synthetic dataset (evaluation only)."""
        p = self.path / "truth" / f"{name}.parquet"
        if not p.exists():
            raise FileNotFoundError(f"{p} does not exist: this dataset has no ground truth")
        return pd.read_parquet(p)

    def truth_path(self, name: str = "record_person") -> Path:
        """The Parquet file of a ground-truth table (for the engine, which reads it on demand)."""
        p = self.path / "truth" / f"{name}.parquet"
        if not p.exists():
            raise FileNotFoundError(f"{p} does not exist: this dataset has no ground truth")
        return p

    def truth_codes(self, as_of: str | None = None) -> np.ndarray:
        """The true person of every record of the resolution as of ``as_of``, as integer codes
        aligned with its ``record_oneid`` (-1: no truth row); one join in the embedded engine,
        computed once per workspace (:func:`omni.oneid.evaluate.truth_codes`)."""
        from omni.oneid.evaluate import truth_codes

        def compute() -> np.ndarray:
            r = self.resolve(as_of)
            return truth_codes(r.engine_table("record_oneid"), self.truth_path("record_person"), temp_dir=self.path / PROCESSED / ".engine")

        return self.memo(("workspace.truth_codes", as_of), compute)

    def naive_baseline(self, as_of: str | None = None) -> np.ndarray:
        """The naive baseline's label per record of the resolution as of ``as_of`` (aligned with
        its ``record_oneid``): every record pair sharing a value connected
        (:func:`omni.oneid.baseline.naive_labels`). Read from the resolution when it was made
        with it; else made from the sources loaded one at a time (the lean identifier table), as
        the resolution makes it: the previous month of a report goes without it (:meth:`resolve`).
        """
        r = self.resolve(as_of)
        if len(r.naive) and "naive" in r.naive.columns:
            return r.naive["naive"].to_numpy()
        ids, records, _, _ = self._resolution_inputs(quasi=False)
        if as_of is not None:
            records = records[~(records["time"] >= month_end(as_of))].reset_index(drop=True)
        return naive_labels(ids, records).astype(np.int32)

    def truth_params(self) -> dict:
        return json.loads((self.path / "truth" / "params.json").read_text(encoding="utf-8"))

    def records(self) -> pd.DataFrame:
        """Every person-bearing record: ``record_key``, ``source``, ``row`` (position in the source
        table), ``time`` (local, may be NaT). Built once per workspace; treat it as read-only."""
        if self._records is None:
            self._records = self._build_records()
        return self._records

    def estimated_records(self) -> int:
        """The records of the person sources, estimated from their files without reading them
        (:func:`omni.io.read.estimate_rows`): what a resolution will load."""
        return sum(estimate_rows(self.spec.sources[n], self.spec.file_path(n)) for n in self._record_sources())

    def _threads(self) -> int:
        """Threads for a resolution's independent steps (:data:`RESOLVE_THREADS`; 1 on a one-core
        machine or above :data:`RESOLVE_THREADS_UP_TO` estimated records)."""
        threads = min(RESOLVE_THREADS, os.cpu_count() or 1)
        if threads > 1 and self.estimated_records() > RESOLVE_THREADS_UP_TO:
            return 1
        return threads

    def _record_sources(self) -> list[str]:
        """Sources whose rows are person records: with identifiers or a unified-table role, and a key."""
        roles = source_roles(self.spec)
        return [name for name, s in self.spec.sources.items() if (s.identifiers or name in roles) and s.key]

    def _build_records(self, tables=None, keys: bool = True) -> pd.DataFrame:
        tables = self.dataset.tables if tables is None else tables
        names = [n for n in self._record_sources() if n in tables]
        src, rows, times = [], [], []
        for i, name in enumerate(names):
            t, tc = tables[name], record_time_column(self.spec.sources[name])
            src.append(np.full(len(t), i, dtype=np.int8))
            rows.append(np.arange(len(t), dtype=np.int32 if len(t) < 2**31 - 1 else np.int64))
            times.append(_as_datetime(t[tc]) if tc in t.columns
                         else np.full(len(t), np.datetime64("NaT"), dtype="datetime64[ns]"))
        # built column by column: no per-row strings for the source, one Arrow key column
        out = pd.DataFrame({
            "source": pd.Categorical.from_codes(np.concatenate(src), categories=names),
            "row": np.concatenate(rows).astype(np.int64 if keys else rows[0].dtype, copy=False),
            "time": np.concatenate(times),
        }, copy=False)
        if keys:
            out.insert(0, "record_key", self._record_keys(tables, names).array)
        return out

    def _kept_record_keys(self, records: pd.DataFrame, tabs: dict[str, pd.DataFrame], on_disk: Path | None):
        """``<source>:<key>`` of each of ``records`` (its ``source`` and ``row``: the records kept
        after the time cut), source by source from the key columns alone, read from the folder
        where the source tables wait (``on_disk``) when ``tabs`` does not hold them. At 5M persons
        the whole tables read back at this point (with the rules' results held) passed the machine."""
        names = list(records["source"].cat.categories)
        codes = records["source"].cat.codes.to_numpy()
        rows = records["row"].to_numpy(np.int64)
        bounds = np.searchsorted(codes, np.arange(len(names) + 1), side="left")
        if len(codes) > 1 and not (codes[1:] >= codes[:-1]).all():  # not stacked by source: as one stack
            tabs = tabs or _unspill_inputs(on_disk, remove=False, parts=("tabs",))[2]
            offset = np.r_[0, np.cumsum([len(tabs[n]) for n in names])[:-1]].astype(np.int64)
            return self._record_keys(tabs, names).array.take(offset[codes] + rows)
        parts = []
        for i, n in enumerate(names):
            key = self.spec.sources[n].key
            tab = tabs[n] if tabs else _unspill_inputs(on_disk, remove=False, parts=("tabs",), tab_columns={n: [key]})[2][n]
            at = rows[bounds[i]:bounds[i + 1]]
            whole = len(at) == len(tab) and (len(at) == 0 or (at[0] == 0 and bool((np.diff(at) == 1).all())))
            parts.append(record_keys(n, tab[[key]] if whole else tab[[key]].take(at), key))
            del tab
        return pd.concat(parts, ignore_index=True).array

    def _record_keys(self, tables, names: list[str]) -> pd.Series:
        """``<source>:<key>`` of every record of ``names``, stacked in that order (Arrow strings)."""
        return pd.concat([record_keys(n, tables[n], self.spec.sources[n].key) for n in names], ignore_index=True)

    def _shared_resolution_inputs(self) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame | None]:
        """:meth:`_resolution_inputs`, loaded once while two resolutions share them (the previous
        month's and this month's; see :meth:`resolve`), or taken from :meth:`data_end`, which
        loaded them to find the report month.

        While two resolutions share them, the inputs wait on disk (:func:`_spill_inputs`, Arrow
        files in the dataset's processed folder) instead of in memory: the first resolution frees
        each part when done with it (the identifiers after the rules, the quasi table after the
        matching) and the second reads them back. At 1M persons that is about 4 GB less at the
        first resolution's peak. The writing (about 15 s at 1M persons, mostly the disk) runs on
        a thread while the first month's naive baseline and rules run. Both resolutions read
        the source and quasi tables from there only after their rules, and the source tables
        again after the numbering (:meth:`_inputs_on_disk`): this returns the identifiers and
        records alone once the inputs wait on disk.
        """
        shared = self._shared_inputs
        if self._month_inputs is not None:  # handed over once: the workspace keeps them no longer
            got, self._month_inputs = self._month_inputs, None
            if shared is not None and not shared.get("last") and "spilled" not in shared:
                shared["spilled"] = _spill_inputs(got, self.path / PROCESSED, background=True)
            return got
        if shared is None or self._dataset is not None:  # a loaded dataset holds its tables anyway
            return self._resolution_inputs()
        if "spilled" in shared:  # the source and quasi tables stay on disk until asked for
            return _unspill_inputs(shared["spilled"], remove=False, parts=("ids", "records"))
        if shared.get("last") and not self._out_of_core():
            return self._resolution_inputs()
        # each source table goes to disk as soon as it is made, the identifiers and records
        # once stacked (written while this month's baseline and rules run): the first month
        # reads the source and quasi tables from there, like the second
        shared["spilled"] = spill_frames({}, self.path / PROCESSED, "inputs")
        return self._resolution_inputs(spill_to=shared["spilled"])

    def _inputs_on_disk(self) -> Path | None:
        """The folder where the shared inputs wait (:meth:`_shared_resolution_inputs`) when this
        resolution reads its source and quasi tables from there only when it needs them (not
        with a loaded dataset, which holds its tables anyway); None otherwise."""
        shared = self._shared_inputs
        return shared.get("spilled") if shared is not None and self._dataset is None else None

    def _resolution_inputs(self, spill_to: Path | None = None, quasi: bool = True,
                           ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame | None]:
        """What a resolution runs on: the lean identifier table (:func:`omni.normalize.link_table`),
        the records (``source``, ``row``, ``time``; plus ``record_key`` when the dataset is loaded),
        the source tables the outputs read and, with the probabilistic stage on, the quasi table
        (:func:`omni.oneid.match_features.quasi_fields`; None otherwise).

        With the dataset already loaded these come from it. Otherwise the sources are loaded,
        normalized and trimmed one by one (:func:`omni.unify.output_columns`: the key, time,
        unified and profile columns; the identifier columns go once normalized; the quasi table
        is built per source too), so the whole dataset is never in memory at once: at 1M persons
        the rules' inputs take about 1.8 GB instead of 7.7 GB (sources 2.4, identifier table 3.3,
        record index 1.0). :meth:`_threads` sources are loaded at once, on threads (the same tables, stacked in the
        spec's order).

        ``spill_to`` (a folder of :func:`omni.core.spill.spill_frames`): each source table is
        written there on a thread as soon as it is trimmed and not kept, then the quasi table,
        identifiers and records (:func:`_spill_inputs`' names and order); the source tables
        returned are then empty and the quasi table None. At 5M persons the source tables alone
        are about 4 GB, which no longer wait in memory for the last source to load.
        """
        if self._dataset is not None:
            return (link_table(self.dataset), self.records(), self.dataset.tables,
                    self.quasi if self.config.probabilistic else None)
        # refused now, from the files' sizes, rather than killed by the system after minutes of
        # loading (5M persons: 100 M records, about 37 GB; docs/benchmarks.md)
        if self.engine != "spark":  # Spark loads in tasks and spills
            check_resolution_memory(self.estimated_records(), self.path.name)
        t0 = time.perf_counter()
        names = self._record_sources()
        made: dict[str, pd.DataFrame] = {}
        parts: dict[str, pd.DataFrame] = {}
        qparts: dict[str, pd.DataFrame] = {}
        with_quasi = quasi and self.config.probabilistic and self._quasi is None
        # largest file first, while little else is held; stacked in spec order afterwards
        sizes = {n: self.spec.file_path(n).stat().st_size if self.spec.file_path(n).exists() else 0 for n in names}

        def one(name: str) -> None:
            t = self.loaded_source(name).table  # in the report (shared), kept for the data audit too
            release_memory(collect=True)  # the file as read (its frames wait for the collector otherwise)
            if self.spec.sources[name].identifiers:
                parts[name] = self.source_identifiers(name, t)  # values coded: 1/3 the size
            if with_quasi and self.spec.sources[name].quasi_identifiers:
                qparts[name] = quasi_fields({name: t}, self.spec, lean=True)
            tab = t[output_columns(self.spec, name)]
            del t
            if spill_to is not None:  # on disk from now on: kept here are its length and times
                spill_frames({f"tab.{name}": tab}, None, background=True, into=spill_to)
                tc = record_time_column(self.spec.sources[name])
                tab = tab[[tc]].copy() if tc in tab.columns else pd.DataFrame(index=pd.RangeIndex(len(tab)))
            made[name] = tab
            del tab
            release_memory(collect=True)

        todo = sorted(names, key=lambda n: (-sizes[n], names.index(n)))
        threads = min(self._threads(), len(todo))
        if threads > 1:
            self._load_on_threads(one, todo, threads)
        else:
            while todo:
                name = self.next_source(todo)
                todo.remove(name)
                one(name)
        tables = {n: made.pop(n) for n in names}
        ids = concat_link_tables([parts.pop(n) for n in names if n in parts], list(self.spec.sources))
        release_memory(collect=True)
        want_quasi, quasi = quasi, None
        if want_quasi and self.config.probabilistic:
            quasi = (concat_quasi_fields([qparts.pop(n) for n in names if n in qparts], list(self.spec.sources))
                     if with_quasi else self._quasi)
        release_memory()
        self._say(f"  loaded and normalized {len(tables)} sources "
                  + ("one at a time" if threads == 1 else f"{threads} at a time") + f" ({len(ids):,} identifiers) "
                  f"in {time.perf_counter() - t0:.1f} s")
        records = self._build_records(tables, keys=False)
        if spill_to is None:
            return ids, records, tables, quasi
        del tables
        rest = {"quasi": quasi, "ids": ids, "records": records}
        spill_frames({n: f for n, f in rest.items() if f is not None}, None, background=True, into=spill_to,
                     order=[*(f"tab.{n}" for n in names), *(n for n, f in rest.items() if f is not None)])
        return ids, records, {}, None

    def _load_on_threads(self, one: Callable[[str], None], todo: list[str], threads: int) -> None:
        """``one(name)`` for every name of ``todo`` (largest file first) on ``threads`` threads,
        each taking the next source by :meth:`next_source`. A failure is raised once the sources
        before it in ``todo`` are done, and those after it are not started: the first failure in
        loading order, as one at a time would raise."""
        order = {n: i for i, n in enumerate(todo)}
        left = list(todo)
        failed: dict[str, BaseException] = {}
        lock = threading.Lock()

        def worker() -> None:
            while True:
                with lock:
                    first_bad = min((order[n] for n in failed), default=len(order))
                    left[:] = [n for n in left if order[n] < first_bad]
                    if not left:
                        return
                    name = self.next_source(left)
                    left.remove(name)
                try:
                    one(name)
                except BaseException as err:  # noqa: BLE001 - raised by the caller, in loading order
                    with lock:
                        failed[name] = err

        pool = [threading.Thread(target=worker, name=f"omni-load_{i}", daemon=True) for i in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        if failed:
            raise failed[min(failed, key=order.__getitem__)]

    def data_end(self) -> pd.Timestamp:
        """Latest record time in the data.

        Found without loading the dataset where it can be (at 1M persons the dataset and its
        record index take several GB): from the loaded records when they are; else from the
        summary of a cached resolution of the same files and code (``data_end``); else from the
        resolution's inputs (the sources loaded one at a time, :meth:`_resolution_inputs`), which
        the workspace then keeps for the next resolution only, since a report resolves the month
        it just found.
        """
        if self._data_end is None:
            if self._dataset is not None or self._records is not None:
                self._data_end = pd.Timestamp(self.records()["time"].max())
            else:
                self._data_end = self._cached_data_end()
            if self._data_end is None:
                inputs = self._month_inputs or self._resolution_inputs()
                self._month_inputs = inputs
                self._data_end = pd.Timestamp(inputs[1]["time"].max())
        return self._data_end

    def _cached_data_end(self) -> pd.Timestamp | None:
        """``data_end`` of a cached resolution made from these files by this code (None if none)."""
        root = self.path / PROCESSED
        for d in sorted(root.glob("oneid-*")) if root.is_dir() else []:
            try:
                summary = json.loads((d / "summary.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if (summary.get("fingerprint") == self.fingerprint and summary.get("code") == _code_version()
                    and summary.get("data_end")):
                return pd.Timestamp(summary["data_end"])
        return None

    def last_complete_month(self) -> str:
        """The last month whose final day is covered by the data (``YYYY-MM``)."""
        end = self.data_end()
        last_day = (end + pd.Timedelta(days=1)).normalize() - pd.Timedelta(days=1) if end == end.normalize() else end.normalize()
        p = last_day.to_period("M")
        return str(p if last_day.day == last_day.days_in_month else p - 1)

    # -- resolution -----------------------------------------------------------------------
    def _cache_dir(self, as_of: str | None) -> Path:
        key = json.dumps({"fp": self.fingerprint, "cfg": self.config.as_dict(), "as_of": as_of,
                          "v": __version__, "code": _code_version()}, sort_keys=True)
        return self.path / PROCESSED / f"oneid-{as_of or 'all'}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"

    def resolve(self, as_of: str | None = None, previous: pd.DataFrame | None = None,
                stable: bool = True, *, baseline: bool = True) -> Resolved:
        """Resolve the records up to the end of month ``as_of`` (all records when None).

        With ``stable`` and an ``as_of`` month, the previous month is resolved first and its OneIDs
        carried over (``changes`` says what was kept, merged, split or new). ``previous`` passes an
        explicit earlier ``record_oneid`` map instead.

        ``baseline``: compute the naive baseline (``naive``: every shared value connects), which
        the identity report compares the month's OneIDs with. The previous month, resolved here
        only to number this one against (and for its headline counts), goes without it: at 1M
        persons 12 s of the report's critical path. A resolution cached without it gives an empty
        ``naive``; the identity report then computes it from the identifiers.
        """
        if as_of in self._resolved and previous is None:
            return self._resolved[as_of]
        cache = self._cache_dir(as_of)
        if previous is None and cache.is_dir():
            res = self._load_cache(cache)
            if res is not None:
                self._resolved[as_of] = res
                self._month_inputs = None  # loaded by data_end for a resolution not needed now
                return res
        left = sweep_orphans(self.path / PROCESSED)  # what killed runs left (pid no longer running)
        if left:
            self._say(f"  removed {len(left)} working folder(s) left by runs that were stopped: {', '.join(left[:3])}")
        if previous is None and stable and as_of is not None:
            previous = self._published_previous(str(Month.parse(as_of).previous))
        if previous is None and stable and as_of is not None:
            # the previous month and this one are resolved from the same loaded inputs (loading
            # and normalizing the sources is the larger part of a resolution at scale)
            self._shared_inputs = {}
            try:
                earlier = self.resolve(str(Month.parse(as_of).previous), stable=False, baseline=False)
                # handed over in a box the resolution empties, and read only when this month is
                # numbered (not held through its rules and matching: 0.7 GB at 1M): its cached
                # Parquet file, which the numbering reads a batch of rows at a time (the whole map
                # passed the machine at 5M persons), else the two columns the numbering reads
                previous_map = functools.partial(earlier.read, "record_oneid", ["record_key", "oneid"])
                carry = {"previous": earlier.folder / "record_oneid.parquet" if earlier.folder is not None else
                         previous_map if self.engine != "spark" else previous_map()}
                del previous_map
                del earlier
                self._shared_inputs["last"] = True  # this month is the inputs' last user
                with self._cache_sink(cache) as sink:
                    res = self._resolve_now(as_of, carry, sink=sink)
                del carry
            finally:
                self._end_shared_inputs()
        elif previous is None or stable:
            # above RESOLVE_THREADS_UP_TO estimated records one resolution alone keeps its source
            # and quasi tables on disk too, as two months sharing their inputs do (a monthly job
            # numbered against last month's published OneIDs: at 5M persons they do not fit beside
            # the rules and the matching)
            alone = self._shared_inputs is None and self._out_of_core()
            if alone:
                self._shared_inputs = {}
            try:
                with self._cache_sink(cache) as sink:
                    res = self._resolve_now(as_of, previous, baseline=baseline, sink=sink)
            finally:
                if alone:
                    self._end_shared_inputs()
        else:  # numbered against an explicit map, not cached: held in memory
            res = self._resolve_now(as_of, previous, baseline=baseline)
        if previous is None or stable:
            self._write_cache(cache, res)
            if cache.is_dir():  # hold none of it: the frames are read back from the cache on use
                del res
                release_memory()
                res = Resolved.from_cache(cache)
        self._resolved[as_of] = res
        return res

    def _out_of_core(self) -> bool:
        """Whether a resolution keeps its source and quasi tables on disk even when no other
        month shares its inputs: above :data:`RESOLVE_THREADS_UP_TO` estimated records, on this
        machine's engine, without a loaded dataset. (At 5M persons the source tables held beside
        the second month's numbering, its previous month read from the cache, were 3.2 GB.)"""
        return self.engine != "spark" and self._dataset is None and self.estimated_records() > RESOLVE_THREADS_UP_TO

    def _end_shared_inputs(self) -> None:
        """Remove what resolutions sharing their inputs left (:meth:`_shared_resolution_inputs`):
        the folder where the inputs waited, once its writing thread is done, and Spark's staging."""
        shared, self._shared_inputs = self._shared_inputs, None
        if "spark" in shared:
            shared["spark"].close()  # the Spark tasks' staging folder
        if "spilled" in shared:  # read by both months (or the second failed)
            try:
                wait_spilled(shared["spilled"])  # its thread done with the folder
            except Exception:  # noqa: BLE001, S110 - a failed write is raised to its reader, not here
                pass
            shutil.rmtree(shared["spilled"], ignore_errors=True)
        release_memory()

    def held_resolution(self, as_of: str) -> Resolved | None:
        """The resolution as of ``as_of`` this workspace resolved, or read and checked against its
        manifest, in this process; None otherwise (nothing is read)."""
        return self._resolved.get(as_of)

    def cached_resolution(self, as_of: str) -> Resolved | None:
        """The resolution as of month ``as_of`` when this run or an earlier one on the same files
        made it (held, or in the cache: read lazily), without making one; None otherwise.

        A report reads the previous month's resolution this way (built for stable OneIDs) to give
        that month's figures at no cost of resolving it. The cache is checked against its manifest
        by file sizes only (hashing it would take seconds at 1M persons); a folder that fails the
        check gives None and is left for :meth:`resolve` to rebuild.
        """
        if as_of in self._resolved:
            return self._resolved[as_of]
        cache = self._cache_dir(as_of)
        if not cache.is_dir() or check_manifest(cache, hashes=False):
            return None
        try:
            return Resolved.from_cache(cache)
        except (OSError, ValueError):
            return None

    def _published_previous(self, month: str) -> Path | None:
        """Last month's OneIDs as they were published: the ``record_oneid`` file of a resolution as of
        ``month`` cached by an earlier run on earlier files (a monthly job's data grows, so its
        fingerprint differs), made by the same code and OneID settings. None when there is none
        (or when the cache for the current files exists: :meth:`resolve` reads it as usual).

        Numbering against what was published keeps this month's OneIDs stable against the ones
        the previous report and exported audiences used, and saves resolving the previous month
        again. The newest such resolution is taken; the choice is logged and put in the summary.
        """
        if self._cache_dir(month).is_dir():
            return None
        root = self.path / PROCESSED
        found = []
        for d in root.glob(f"oneid-{month}-*") if root.is_dir() else []:
            try:
                summary = json.loads((d / "summary.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if (summary.get("as_of") == month and summary.get("code") == _code_version()
                    and summary.get("config") == self.config.as_dict() and not check_manifest(d, hashes=False)):
                found.append((d.stat().st_mtime, d))
        if not found:
            return None
        d = max(found)[1]
        self._say(f"  OneIDs numbered against the published resolution as of {month} ({d.name})")
        self._previous_from = d.name
        path = d / "record_oneid.parquet"  # read by the numbering a batch of rows at a time
        import pyarrow.parquet as pq

        missing = {"record_key", "oneid"} - set(pq.ParquetFile(path).schema_arrow.names)  # checked now, not hours later
        if missing:
            raise OmniError(f"published resolution {d.name}: record_oneid.parquet has no {sorted(missing)[0]} column")
        return path

    def unified(self, as_of: str | None = None) -> Resolved:
        """Alias of :meth:`resolve` that reads better in notebooks."""
        return self.resolve(as_of)

    def _summary(self, records: int, profiles_n: int, n_ids: int, t0: float, stages: dict, as_of: str | None,
                 opt_outs_from_quarantine: int, data_end: Any, engine: dict, numbered_against: bool) -> dict:
        """A resolution's ``summary.json`` (either engine): counts, timings, what it was made from."""
        summary = {
            "records": int(records),
            "profiles": int(profiles_n),
            "identifiers": int(n_ids),
            "seconds": round(time.perf_counter() - t0, 2),
            "stage_seconds": stages,
            "as_of": as_of,
            "fingerprint": self.fingerprint,
            "code": _code_version(),
            "config": self.config.as_dict(),
            "opt_outs_from_quarantine": int(opt_outs_from_quarantine),
            "data_end": None if pd.isna(data_end) else pd.Timestamp(data_end).isoformat(),
            **engine,
        }
        if numbered_against and self._previous_from:
            summary["previous_from"] = self._previous_from
        return summary

    def _resolve_now(self, as_of: str | None, previous: pd.DataFrame | Path | dict | None,
                     baseline: bool = True, sink: FrameSink | None = None) -> Resolved:
        """One resolution as of ``as_of``. ``previous``: the earlier ``record_oneid`` (``record_key``,
        ``oneid``) to number against (or its Parquet file), or a dict holding it under ``"previous"``, which this empties
        so that the frame is freed once the OneIDs are numbered (the caller holds no other reference).
        ``baseline``: with the naive baseline (:meth:`resolve`). ``sink``: the cache folder being
        made (:meth:`resolve`): each output frame is written there as soon as it is made and let
        go of, and the result reads it from there (at 5M persons the frames do not fit at once)."""
        t0 = time.perf_counter()
        carry = previous if isinstance(previous, dict) else {"previous": previous}
        del previous
        numbered_against = carry.get("previous") is not None
        self._say(f"omni resolve: {self.path.name}" + (f" as of {as_of}" if as_of else ""))
        if self.engine == "spark":
            return self._resolve_now_spark(as_of, carry, numbered_against, t0)
        stages: dict[str, float] = {}

        def lap(name: str, since: float) -> float:
            release_memory()  # freed Arrow pages and heap back to the OS between stages
            now = time.perf_counter()
            stages[name] = round(now - since, 2)
            return now

        res, records, tabs, quasi, naive, n_ids, data_end = self._resolve_embedded(as_of, stages, lap, t0, baseline)
        on_disk = self._inputs_on_disk()
        t = time.perf_counter()
        self._say(f"  resolved {len(records):,} records into {res.n_clusters:,} profiles in {stages['rules']:.1f} s")

        links = pd.DataFrame()
        run_warnings: list[str] = []
        if self.config.probabilistic:
            # the stage's own peak (DuckDB, Splink) comes on top of what is held: the records and
            # the source tables, which only the outputs read, wait on disk meanwhile (at 1M
            # persons 1.6 GB for a few seconds of writing and reading)
            # (the source tables already there when the inputs are shared: read after the numbering)
            # (the record keys are not: the rules' records hold the same array, which a copy read
            # back would double; at 5M persons 3.4 GB, and the second month's read-back passed 21.5 GB)
            keys, at = records["record_key"], records.columns.get_loc("record_key")
            parked = (_spill_inputs((None, records.drop(columns="record_key"), {} if on_disk else tabs, None),
                                    self.path / PROCESSED, "outputs-inputs")
                      if self._dataset is None else None)  # a loaded dataset holds its tables anyway
            if parked is not None:
                del records, tabs
                release_memory()  # their Arrow strings' pages too, not only the pool's bookkeeping
            try:
                res, links, failure = self._link_accounts(res, quasi)
            finally:
                if parked is not None:
                    release_memory()  # the stage's own scratch, before reading them back
                    _, records, tabs, _ = _unspill_inputs(parked, remove=True)
                    records.insert(at, "record_key", keys)
            del keys
            del quasi
            t = lap("probabilistic", t)
            if failure is None:
                self._say(f"  linked {len(links):,} platform accounts by probability in {stages['probabilistic']:.1f} s")
            else:
                run_warnings.append(failure)
        # the rules' frames are outputs alone from here: into the cache before the numbering and the
        # map (at 5M persons values, edges and invalid rows are GBs, and the numbering passed 21.5 GB)
        ruled = {"values": res.values, "edges": res.edges, "removals": res.removals, "invalid": res.invalid}
        res = dataclasses.replace(res, **{name: pd.DataFrame() for name in ruled})
        one_at_a_time = sink is not None and self._threads() == 1
        if sink is not None:
            for name in list(ruled):
                sink.put(name, ruled.pop(name))
            if one_at_a_time:
                sink.wait()
        aligned = None  # last month's records, when it was resolved from these inputs: those before its end
        if numbered_against and as_of is not None:
            aligned = np.flatnonzero(~(records["time"].to_numpy() >= month_end(str(Month.parse(as_of).previous))))
            if len(aligned) < 2**31:
                aligned = aligned.astype(np.int32)  # 0.4 GB less at 5M persons
        previous = carry.pop("previous")
        # the rules' records as they are (it reads their keys and clusters): a selection of the two
        # columns copied the clusters (0.8 GB at 5M persons)
        numbers, codes, changes = assign_oneid_numbers(res.records, previous() if callable(previous) else previous,
                                                       aligned)
        del previous
        del aligned
        # the map needs only the source tables' lengths: the tables themselves wait on disk until
        # the OneIDs are made (at 5M persons about 4 GB under the map's peak, which was the next wall)
        lengths = ({n: range(len(tab)) for n, tab in tabs.items()} if tabs or on_disk is None else
                   {n[len("tab."):]: range(k) for n, k in spilled_rows(on_disk).items() if n.startswith("tab.")})
        rowmap = RowMap.from_numbers(records, numbers, lengths, codes=codes)  # res.records is aligned with records
        del lengths
        n_records = len(records)
        del records, numbers, codes
        record_oneid = pd.DataFrame({
            "record_key": res.records["record_key"].array,
            "oneid": rowmap.oneid_strings(rowmap.record_codes),
            "source": res.records["source"].array,
            "how": res.records["how"].array,
        })
        if len(links):
            cl = res.records["cluster"].to_numpy()
            first = np.full(int(cl.max()) + 1, -1, dtype=np.int64)
            first[cl[::-1]] = np.arange(len(cl) - 1, -1, -1)  # first record of each cluster
            links["oneid"] = np.asarray(record_oneid["oneid"].array.take(first[links["target_cluster"].to_numpy()]),
                                        dtype=object)
            del cl, first
        # the per-record frames are done with: record_oneid holds what the outputs need of them
        # (at 1M persons about 0.7 GB less through the unified tables, profiles and the cache)
        frames = {"record_oneid": record_oneid, **ruled, "changes": changes, "links": links, "naive": naive}
        linkage: dict = {}
        _linkage_summary(linkage, links, run_warnings)
        del res, ruled, record_oneid, changes, links, naive
        if sink is not None:  # into the cache now, before the source tables are read back
            for name in list(frames):
                sink.put(name, frames.pop(name))
            if one_at_a_time:
                sink.wait()
        if on_disk is not None and not tabs:  # the shared source tables, once the OneIDs are made
            release_memory()
            _, _, tabs, _ = _unspill_inputs(on_disk, remove=False, parts=("tabs",))
        t = lap("oneids", t)
        tables = {}
        for role in UNIFIED:
            tables[role] = unified_table(role, tabs, self.spec, rowmap)
            if sink is not None and role != "orders":  # the orders go on into the profiles
                sink.put(role, tables.pop(role))
                if one_at_a_time:
                    sink.wait()
        t = lap("unified_tables", t)
        profiles = build_profiles(tabs, rowmap, as_of=month_end(as_of) if as_of else None,
                                  orders=tables["orders"])
        if sink is not None:
            sink.put("orders", tables.pop("orders"))
        # consent is a ratchet: a quarantined duplicate of a record still carries its opt-out
        quarantined = quarantined_opt_outs(self.spec, self._dataset.quarantine if self._dataset is not None else None)
        n_oneids = len(rowmap.oneids)
        del tabs, rowmap  # before the consent check hashes every record key
        if sink is not None and "record_oneid" not in frames:  # the rows of the quarantined keys only
            keys = pd.unique(quarantined.rows["record_key"].dropna().astype(str))
            sink.wait()
            frames["record_oneid"] = (
                _read_parquet(sink.folder / "record_oneid.parquet", columns=["record_key", "oneid"],
                              filters=[("record_key", "in", list(keys))])
                if len(keys) else pd.DataFrame({"record_key": pd.Series([], dtype=object), "oneid": pd.Series([], dtype=object)}))
        profiles = apply_quarantined_opt_outs(profiles, frames["record_oneid"], quarantined)
        t = lap("profiles", t)
        summary = self._summary(n_records, n_oneids, n_ids, t0, stages, as_of,
                                profiles.attrs.get("opt_outs_from_quarantine", 0), data_end, {}, numbered_against)
        summary.update(linkage)
        self._say(f"  unified tables and profiles in {time.perf_counter() - t0:.1f} s total")
        if sink is None:
            return Resolved(profiles=profiles, tables=tables, summary=summary, **frames)
        sink.put("profiles", profiles)
        del profiles
        sink.wait()
        return Resolved(summary=summary, folder=sink.folder)

    def _resolve_embedded(self, as_of: str | None, stages: dict, lap: Callable, t0: float, baseline: bool = True):
        """Inputs, naive baseline (with ``baseline``; else an empty frame) and rules on this machine
        (pandas and NumPy)."""
        ids, records, tabs, quasi = self._shared_resolution_inputs()
        on_disk = self._inputs_on_disk()
        if on_disk is not None:  # the source and quasi tables wait there through the baseline and
            tabs, quasi = {}, None  # the rules (at 1M persons 1.5 GB less at their peaks)
            release_memory()
        n_ids = len(ids)
        data_end = records["time"].max()  # of all records: the report month is read from it
        if as_of is not None:
            end = month_end(as_of)
            records = records[~(records["time"] >= end)].reset_index(drop=True)
        stages["inputs"] = round(time.perf_counter() - t0, 2)
        # the baseline the identity report compares with (connect every shared value): on a thread
        # beside the rules where there is room (:meth:`_threads`), else before them, so that its
        # scratch arrays are gone by the time the rules and the matching peak
        t = time.perf_counter()
        beside = None
        if baseline and self._threads() > 1:
            from concurrent.futures import ThreadPoolExecutor

            def timed(ids_: pd.DataFrame, records_: pd.DataFrame) -> tuple[np.ndarray, float]:
                t1 = time.perf_counter()
                return naive_labels(ids_, records_), round(time.perf_counter() - t1, 2)

            beside = ThreadPoolExecutor(1, thread_name_prefix="omni-baseline")
            # frames of their own over the same columns: pandas' column caches are not shared
            labels = beside.submit(timed, ids.copy(deep=False), records.copy(deep=False))
            naive = None
        else:
            naive = pd.DataFrame({"naive": (naive_labels(ids, records) if baseline else np.zeros(0)).astype(np.int32)})
            if baseline:
                release_memory(collect=True)  # its Arrow scratch waits for the collector (5 GB at 5M persons)
                t = lap("naive_baseline", t)
        try:
            res = resolve_identities(ids, records[[c for c in ("record_key", "source", "row") if c in records.columns]],
                                     self.config, times=records["time"], unknown_records="drop" if as_of else "raise")
        finally:
            if beside is not None:
                beside.shutdown(wait=True)
        if beside is not None:
            got, stages["naive_baseline"] = labels.result()
            naive = pd.DataFrame({"naive": got.astype(np.int32)})
            del got, labels
            release_memory(collect=True)
        if on_disk is not None:
            del ids
            release_memory()
        if "record_key" not in records.columns:  # keys from the trimmed tables, once the rules are done
            keys = self._kept_record_keys(records, tabs, on_disk)
            records.insert(0, "record_key", keys)
            res.records.insert(0, "record_key", keys)
            del keys
        if on_disk is not None and self.config.probabilistic:  # the source tables stay there until the OneIDs
            _, _, _, quasi = _unspill_inputs(on_disk, remove=False, parts=("quasi",))
        lap("rules", t)
        ids = None  # the invalid rows the explanations need are in res.invalid
        return res, records, tabs, quasi, naive, n_ids, data_end

    def _resolve_now_spark(self, as_of: str | None, carry: dict, numbered_against: bool, t0: float) -> Resolved:
        """One resolution on Spark (:func:`omni.spark.pipeline.resolve_outputs`): rules,
        probabilistic stage, stable numbering and the record-level outputs, then the unified tables
        and profiles (:func:`omni.spark.unify.unify_outputs`) on Spark DataFrames, written into
        the cache by Spark; no record-level table is collected to the driver. The sources are
        loaded once for the two resolutions of a report month."""
        from omni.spark.load import load_inputs
        from omni.spark.pipeline import resolve_outputs
        from omni.spark.session import get_session
        from omni.spark.unify import unify_outputs

        spark = get_session(self.master)
        shared = self._shared_inputs
        inputs = shared.get("spark") if shared is not None else None
        load_seconds = 0.0
        if inputs is None:
            t = time.perf_counter()
            inputs = load_inputs(spark, self.spec, probabilistic=self.config.probabilistic, quasi_on_driver=False,
                                 raw_uri=self.raw_uri)
            load_seconds = time.perf_counter() - t
            self._say(f"  loaded and normalized {len(inputs.names)} sources in Spark tasks in {load_seconds:.1f} s")
            if shared is not None:
                shared["spark"] = inputs
        run_warnings: list[str] = []

        def failed(err: BaseException) -> str:
            text = self._stage_failure(err)
            run_warnings.append(text)
            return text

        try:
            out = resolve_outputs(spark, self.spec, inputs, month_end(as_of) if as_of else None, self.config,
                                  carry.pop("previous"), failure_text=failed, say=self._say)
            self._say(f"  resolved {out.n_rec:,} records into {out.n_clusters:,} profiles on Spark")
            t = time.perf_counter()
            # read from the staging folder: checkpointed before it goes
            unified = unify_outputs(spark, self.spec, inputs, out.resolved, out.names,
                                    month_end(as_of) if as_of else None)
        finally:
            if shared is None:
                inputs.close()
        out.frames.update(unified.frames)
        stages = out.stages
        stages["inputs"] = round(stages.get("inputs", 0.0) + load_seconds, 2)
        stages["unified_tables_profiles"] = round(time.perf_counter() - t, 2)
        links = out.links
        summary = self._summary(out.n_rec, out.n_clusters, out.n_ids, t0, stages, as_of,
                                unified.opt_outs_from_quarantine, out.data_end,
                                {"engine": "spark", "spark_component_rounds": out.component_rounds},
                                numbered_against)
        _linkage_summary(summary, links, run_warnings)
        self._say(f"  unified tables and profiles in {time.perf_counter() - t0:.1f} s total")
        return Resolved(removals=out.removals, summary=summary, links=links, deferred=out)

    def _link_accounts(self, res, quasi: pd.DataFrame | None):
        """The probabilistic stage (:func:`omni.oneid.linkage.link_accounts`), which never
        takes a resolution down: if it raises (Splink's EM failing to converge with an
        ``EMTrainingException`` on damaged data, m probabilities underflowing, ...), the rules'
        resolution is kept as it is, no account is linked by probability, and the returned
        failure text (the error's type and redacted message) goes to the summary's
        ``warnings`` and to an :class:`omni.core.errors.OmniWarning`.

        Returns
        -------
        resolution, links, failure
            ``failure`` is None when the stage ran.
        """
        try:
            merged, links = linkage.link_accounts(res, quasi, None, self.config)
            return merged, links, None
        except Exception as err:  # noqa: BLE001 - any failure of the stage degrades to rules only
            return res, pd.DataFrame(), self._stage_failure(err)
        finally:
            # Splink's linkers and their DuckDB connections end up in reference cycles: until the
            # cyclic collector runs they keep their databases (GBs of pairs at 1M persons) under
            # the outputs' peak and the next month's resolution
            gc.collect()

    def _stage_failure(self, err: BaseException) -> str:
        """Warn that the probabilistic stage failed and return the failure text (both engines)."""
        failure = (f"the probabilistic account-linking stage failed ({type(err).__name__}: "
                   f"{_redact(str(err))}); this resolution uses the deterministic rules only, so no "
                   "platform account is linked by probability")
        warnings.warn(failure, OmniWarning, stacklevel=4)
        self._say(f"  WARNING: {failure}")
        return failure

    def _load_cache(self, d: Path) -> Resolved | None:
        """Read a cached resolution after checking it against its manifest (sizes, and sha256 with
        :data:`VERIFY_HASHES_ON_READ`). On a mismatch or an unreadable file: warn, remove the
        folder and return None (the caller rebuilds it)."""
        problems = check_manifest(d, hashes=VERIFY_HASHES_ON_READ and not _verified_in_this_run(d))
        if not problems:
            try:
                return self._read_cache(d)
            except Exception as err:  # noqa: BLE001 - a damaged file of any kind: rebuild
                problems = [f"unreadable ({type(err).__name__}: {_redact(str(err), 200)})"]
        warnings.warn(f"cached resolution {d.parent.name}/{d.name} is damaged ({'; '.join(problems[:3])}"
                      f"{'; ...' if len(problems) > 3 else ''}): rebuilding it", OmniWarning, stacklevel=3)
        self._say(f"  WARNING: cache {d.name} damaged ({problems[0]}): rebuilding")
        self._discard(d)
        return None

    @staticmethod
    def _discard(d: Path) -> None:
        """Move a damaged cache folder aside (a reader elsewhere keeps its open files) and delete it."""
        aside = d.with_name(f".{d.name}-damaged-{os.getpid()}")
        try:
            d.rename(aside)
        except OSError:
            aside = d
        shutil.rmtree(aside, ignore_errors=True)

    @contextlib.contextmanager
    def _cache_sink(self, d: Path):
        """A :class:`FrameSink` into a new temporary sibling of cache folder ``d``, for
        :meth:`_resolve_now` to write each frame into as soon as it is made (the embedded engine;
        None with Spark, whose outputs are written by :meth:`_write_cache`). The folder is
        removed if the resolution fails; :meth:`_write_cache` completes it and renames it into place."""
        if self.engine == "spark":
            yield None
            return
        import tempfile

        d.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{d.name}-{os.getpid()}-", dir=d.parent))
        try:  # at one thread (5M persons) one write at a time: each its own Arrow copy
            with FrameSink(tmp, threads=1 if self._threads() == 1 else None, after_each=release_memory) as sink:
                yield sink
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _write_cache(self, d: Path, r: Resolved) -> None:
        """Write a resolution to its cache folder atomically: into a temporary sibling folder
        with its manifest (size and sha256 of every file), then renamed into place, so a notebook
        running in parallel never reads a half-written cache (if another process got there
        first, its copy is kept). A resolution made into such a folder (:meth:`_cache_sink`)
        has its frames there already: the folder is completed and renamed."""
        import tempfile

        d.parent.mkdir(parents=True, exist_ok=True)
        staged = r.folder is not None and r.folder.parent == d.parent and r.folder.name.startswith(f".{d.name}-")
        tmp = r.folder if staged else Path(tempfile.mkdtemp(prefix=f".{d.name}-{os.getpid()}-", dir=d.parent))
        try:
            self._write_frames(tmp, r)
            write_manifest(tmp)
            tmp.rename(d)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not d.is_dir():  # not written by another process meanwhile: a real failure
                raise
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _write_frames(self, d: Path, r: Resolved) -> None:
        """Each frame of ``r`` as a Parquet file in ``d``, two at a time (Arrow encodes and
        compresses without the GIL: at 1M persons about 1 GB of Parquet, 10 s on one thread),
        then ``summary.json``. The files do not depend on the order they are written in."""
        deferred = r._deferred
        local = []
        for name in [*FRAMES, *r.tables]:
            held = name in r._frames if name in FRAMES else dict.__contains__(r.tables, name)
            if r.folder == d and not held:  # written there as the resolution made it
                if not (d / f"{name}.parquet").is_file():
                    raise RuntimeError(f"the resolution made in {d.name} has no {name}.parquet")
                continue
            if deferred is not None and name in deferred.frames and not held:
                deferred.write(name, d / f"{name}.parquet")  # written by Spark
                continue
            local.append(name)
        # the Arrow copy of each frame let go of before the next one
        with FrameSink(d, after_each=release_memory) as sink:
            for name in local:
                sink.put(name, r[name] if name in FRAMES else r.tables[name])
        (d / "summary.json").write_text(json.dumps(r.summary, indent=2, default=str), encoding="utf-8")

    def _read_cache(self, d: Path) -> Resolved:
        """The cached resolution, read lazily; every Parquet file's footer (schema and row groups)
        is read now, so a file that matches its manifest but does not parse is found here (and the
        folder rebuilt), not later in a notebook."""
        import pyarrow.parquet as pq

        for f in sorted(d.glob("*.parquet")):
            pq.ParquetFile(f).metadata  # noqa: B018 - raises on a damaged file
        return Resolved.from_cache(d)
