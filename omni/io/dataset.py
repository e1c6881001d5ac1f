"""Load a whole dataset (or one source): read, type, validate, quarantine, fingerprint."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from omni.io.errors import DataContractError
from omni.io.read import ReadIssue, read_raw
from omni.io.spec import DatasetSpec, SourceSpec, read_spec
from omni.io.validate import REASONS, empty_quarantine, validate_source

__all__ = ["Dataset", "ISSUE_COLUMNS", "LoadedSource", "dataset_fingerprint", "load_dataset",
           "load_source"]

log = logging.getLogger(__name__)

COUNT_COLUMNS: tuple[str, ...] = (
    "source",
    "file",
    "rows_in",
    "accepted",
    "quarantined",
    "problems",
    "file_records",
    "reconciled",
)
ISSUE_COLUMNS: tuple[str, ...] = ("source", "file", "check", "issue", "figure")


@dataclass
class LoadedSource:
    """One source after loading: accepted rows, quarantined problems and row counts."""

    name: str
    spec: SourceSpec
    table: pd.DataFrame
    quarantine: pd.DataFrame
    rows_in: int
    seconds: float = 0.0
    file_records: int | None = None
    issues: list[ReadIssue] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        """Rows in the accepted table."""
        return len(self.table)

    @property
    def quarantined(self) -> int:
        """Rejected rows (a row with two problems counts once)."""
        q = self.quarantine
        known = q["row"].dropna().nunique()
        return int(known + q["row"].isna().sum())

    def counts(self) -> dict[str, object]:
        """One row of :attr:`Dataset.counts`."""
        return {
            "source": self.name,
            "file": self.spec.file,
            "rows_in": self.rows_in,
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "problems": len(self.quarantine),
            "file_records": self.file_records,
            # checked against the independent count of the file's records, never assumed
            "reconciled": self.file_records is not None
            and self.rows_in == self.accepted + self.quarantined == self.file_records,
        }


@dataclass
class Dataset:
    """A loaded dataset.

    Attributes
    ----------
    path : Path
        The dataset folder (parent of ``raw/``; the raw folder itself if it is not named ``raw``).
    spec : DatasetSpec
        The parsed ``sources.yaml``.
    tables : dict of str to DataFrame
        Accepted, typed rows per source.
    quarantine : DataFrame
        Every problem cell of every source: ``source, file, row, record_key, column, value,
        reason`` (``row`` is the 1-based data row in the file, header excluded; ``value`` is
        masked for personal-data columns).
    counts : DataFrame
        Per source: ``rows_in, accepted, quarantined`` (rows), ``problems`` (quarantine rows),
        ``file_records`` (the file's records counted independently of the parser: CSV lines from
        the bytes, Parquet metadata) and ``reconciled`` (``rows_in == accepted + quarantined ==
        file_records``; False when the file could not be counted).
    read_issues : DataFrame
        File-level findings that did not stop the load: ``source, file, check, issue, figure``
        (``check``: unbalanced_quote, header_only, mojibake, truncated_last_line, unreconciled).
    timezone : str
        The dataset timezone; every datetime column is tz-naive local time in it.
    fingerprint : str
        SHA-256 (hex) over ``sources.yaml`` and the bytes of every loaded file.
    """

    path: Path
    spec: DatasetSpec
    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    counts: pd.DataFrame
    timezone: str
    fingerprint: str
    seconds: dict[str, float] = field(default_factory=dict, repr=False)
    read_issues: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(ISSUE_COLUMNS)), repr=False
    )

    def __getitem__(self, source: str) -> pd.DataFrame:
        try:
            return self.tables[source]
        except KeyError:
            raise KeyError(
                f"no source {source!r} in dataset {self.spec.name!r}; sources: {list(self.tables)}"
            ) from None

    def __contains__(self, source: object) -> bool:
        return source in self.tables

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    @property
    def sources(self) -> list[str]:
        """Loaded source names in ``sources.yaml`` order."""
        return list(self.tables)

    def __repr__(self) -> str:
        rows = ", ".join(f"{s}={len(t):,}" for s, t in self.tables.items())
        return (
            f"Dataset({self.spec.name!r}, timezone={self.timezone!r}, "
            f"fingerprint={self.fingerprint[:12]}…, rows: {rows}, "
            f"quarantined problems: {len(self.quarantine):,})"
        )


def _hash_file(h: hashlib._Hash, path: Path) -> None:
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)


def dataset_fingerprint(spec: DatasetSpec, sources: Iterable[str] | None = None) -> str:
    """SHA-256 hex digest over ``sources.yaml`` and the bytes of the given sources' files.

    Stable: it depends only on file contents (not paths, times or load order). Each part is
    prefixed by its name and byte length, so moving bytes between files changes the digest.
    """
    h = hashlib.sha256()
    yaml_bytes = spec.path.read_bytes() if spec.path else b""
    h.update(b"sources.yaml\0%d\0" % len(yaml_bytes))
    h.update(yaml_bytes)
    for name in sorted(sources if sources is not None else spec.sources):
        p = spec.file_path(name)
        if not p.is_file():
            raise DataContractError(f"{spec[name].where}: file not found at {str(p)!r}")
        h.update(f"\0{name}\0{spec[name].file}\0{p.stat().st_size}\0".encode())
        _hash_file(h, p)
    return h.hexdigest()


def _spec_of(spec_or_path: DatasetSpec | str | Path) -> DatasetSpec:
    return spec_or_path if isinstance(spec_or_path, DatasetSpec) else read_spec(spec_or_path)


def _raise_first_problem(loaded: LoadedSource) -> None:
    q = loaded.quarantine
    if len(q):
        r = q.iloc[0]
        row = "unknown row" if pd.isna(r["row"]) else f"row {int(r['row'])}"
        col = "" if pd.isna(r["column"]) else f", column {r['column']!r}"
        raise DataContractError(
            f"{loaded.spec.where}: {row}{col}: {r['reason']} "
            f"({len(q)} problem(s) in {loaded.quarantined} row(s); load with strict=False to "
            "quarantine them)"
        )


def load_source(
    spec_or_path: DatasetSpec | str | Path,
    name: str,
    *,
    strict: bool = False,
    mask_pii: bool = True,
) -> LoadedSource:
    """Load, type and validate one source.

    Parameters
    ----------
    spec_or_path : DatasetSpec, str or Path
        A parsed spec, or the dataset folder / raw folder / ``sources.yaml``.
    name : str
        Source name as declared in ``sources.yaml``.
    strict : bool, default False
        Raise :class:`DataContractError` at the first row-level problem (naming the row and
        column) instead of quarantining.
    mask_pii : bool, default True
        Mask quarantined values of personal-data columns.

    Returns
    -------
    LoadedSource

    Raises
    ------
    DataContractError
        File-level problems (see :func:`load_dataset`).
    KeyError
        If ``name`` is not a source of the dataset.
    """
    spec = _spec_of(spec_or_path)
    src = spec[name]
    t0 = time.perf_counter()
    raw = read_raw(src, spec.file_path(name))
    table, quarantine = validate_source(raw, src, spec.timezone, mask_pii=mask_pii)
    loaded = LoadedSource(
        name,
        src,
        table,
        quarantine,
        raw.rows_in,
        time.perf_counter() - t0,
        file_records=raw.file_records,
        issues=list(raw.issues),
    )
    if loaded.accepted + loaded.quarantined != loaded.rows_in:  # an internal invariant
        raise RuntimeError(
            f"{src.where}: counts do not reconcile: rows_in={loaded.rows_in}, "
            f"accepted={loaded.accepted}, quarantined={loaded.quarantined}"
        )
    if strict:
        _raise_first_problem(loaded)
    log.info(
        "%s: %d rows in, %d accepted, %d quarantined (%.2fs)",
        src.where,
        loaded.rows_in,
        loaded.accepted,
        loaded.quarantined,
        loaded.seconds,
    )
    return loaded


def load_dataset(
    path: str | Path,
    *,
    sources: Iterable[str] | None = None,
    strict: bool = False,
    mask_pii: bool = True,
) -> Dataset:
    """Load every source of a dataset, validated against ``sources.yaml``.

    Parameters
    ----------
    path : str or Path
        The dataset folder (``<path>/raw/sources.yaml``), its raw folder or the yaml file.
    sources : iterable of str, optional
        Load only these sources (default: all, in ``sources.yaml`` order).
    strict : bool, default False
        Raise at the first row-level problem instead of quarantining it.
    mask_pii : bool, default True
        Mask quarantined values of personal-data columns (phones as ``138****8000``, ...).

    Returns
    -------
    Dataset

    Raises
    ------
    DataContractError
        File-level problems, naming the source and file: spec errors (duplicate source names,
        undeclared type, unknown format/encoding/timezone), file missing, a declared column missing
        (listing what the file has), a file not decodable in its declared encoding (byte offset,
        line and a suggested encoding).

    Examples
    --------
    >>> ds = load_dataset("data/sample")                       # doctest: +SKIP
    >>> ds["crm_members"].dtypes                               # doctest: +SKIP
    >>> ds.counts                                              # doctest: +SKIP
    """
    spec = read_spec(path)
    names = list(spec.sources) if sources is None else list(sources)
    if not names:
        raise ValueError("sources is empty: name at least one source to load")
    for n in names:
        spec[n]  # noqa: B018 - raises KeyError naming the known sources
    for n in names:  # every file-level problem about missing files before any slow reading
        p = spec.file_path(n)
        if not p.is_file():
            raise DataContractError(f"{spec[n].where}: file not found at {str(p)!r}")
    loaded = [load_source(spec, n, strict=strict, mask_pii=mask_pii) for n in names]
    parts = [ls.quarantine for ls in loaded if len(ls.quarantine)]
    quarantine = pd.concat(parts, ignore_index=True) if parts else empty_quarantine(names)
    quarantine["source"] = pd.Categorical(quarantine["source"].astype(object), categories=names)
    quarantine["reason"] = pd.Categorical(quarantine["reason"].astype(object), categories=REASONS)
    counts = pd.DataFrame([ls.counts() for ls in loaded], columns=list(COUNT_COLUMNS))
    raw_dir = spec.raw_dir
    return Dataset(
        path=raw_dir.parent if raw_dir.name == "raw" else raw_dir,
        spec=spec,
        tables={ls.name: ls.table for ls in loaded},
        quarantine=quarantine,
        counts=counts,
        timezone=spec.timezone,
        fingerprint=dataset_fingerprint(spec, names),
        seconds={ls.name: ls.seconds for ls in loaded},
        read_issues=pd.DataFrame(
            [(ls.name, ls.spec.file, i.check, i.message, i.figure) for ls in loaded for i in ls.issues],
            columns=list(ISSUE_COLUMNS),
        ),
    )
