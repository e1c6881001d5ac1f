"""``sources.yaml``: the description of a dataset's sources, parsed into dataclasses.

See docs/data_contract.md for the format. :func:`read_spec` accepts the dataset folder, its
``raw/`` folder or the yaml file itself, and checks everything that can be checked without reading
the data files: known formats, column types, identifier types, encodings and timezones, and that
every column named by ``key``, ``required``, ``identifiers``, ``quasi_identifiers``, ``pii`` and
``amounts`` is declared under ``columns``.
"""

from __future__ import annotations

import codecs
import difflib
import logging
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from omni.core.i18n import LanguageError, check_lang
from omni.io.errors import DataContractError

__all__ = ["COLUMN_TYPES", "DatasetSpec", "FORMATS", "ID_TYPES", "IdSpec", "QUASI_TYPES",
           "SCOPED_TYPES", "SourceSpec", "check_keys", "check_timezone", "find_spec_file",
           "parse_source", "parse_spec", "read_spec"]

log = logging.getLogger(__name__)

SPEC_FILE = "sources.yaml"
DEFAULT_TIMEZONE = "Asia/Shanghai"

#: Declared column types (docs/data_contract.md) and the spellings accepted for them.
COLUMN_TYPES: tuple[str, ...] = ("string", "int", "float", "datetime", "date", "bool", "category")
_TYPE_ALIASES = {
    "str": "string",
    "text": "string",
    "integer": "int",
    "int64": "int",
    "double": "float",
    "float64": "float",
    "number": "float",
    "timestamp": "datetime",
    "boolean": "bool",
    "categorical": "category",
}
FORMATS: tuple[str, ...] = ("csv", "parquet")

#: Identifier types (strong and weak) and quasi-identifier types of the contract.
ID_TYPES: tuple[str, ...] = (
    "phone",
    "email",
    "member_id",
    "unionid",
    "platform_buyer",
    "openid",
    "device_id",
    "cookie_id",
)
QUASI_TYPES: tuple[str, ...] = ("masked_phone", "name", "address")
#: Identifier types whose value is scoped by another column, and that column's usual name.
SCOPED_TYPES: dict[str, str] = {"openid": "app_id", "platform_buyer": "platform"}

_SOURCE_KEYS = {
    "file",
    "format",
    "encoding",
    "timezone",
    "key",
    "columns",
    "required",
    "identifiers",
    "quasi_identifiers",
    "pii",
    "amounts",
    "delimiter",
    "description",
    # read by omni.unify: which unified table a source feeds, its column map, its time column
    "role",
    "map",
    "time",
    # opt-in: the file may sit outside the folder of sources.yaml (absolute or ../ path)
    "allow_outside_dataset",
}
_DATASET_KEYS = {"dataset", "timezone", "currency", "sources", "description", "report"}
#: Keys of the top-level ``report:`` mapping (how ``omni report`` writes this dataset's reports).
_REPORT_KEYS = {"lang"}
#: Keys of a column declared as a mapping (``amount: {type: float, max: 100000}``).
_ID_KEYS = {"column", "type", "scope"}
#: Source keys kept in ``SourceSpec.extra`` (read by omni.unify).
_EXTRA_KEYS = ("role", "map", "time", "description")


def check_keys(mapping: Mapping, allowed: Collection[str], where: str, what: str) -> None:
    """Raise DataContractError for the first key of ``mapping`` not in ``allowed``.

    The message names where the key is, suggests the closest known key ("did you mean") and
    lists the known keys: a misspelt key (``identifers:``) must never be skipped silently.
    """
    for key in mapping:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), sorted(allowed), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise DataContractError(
            f"{where}: unknown key {key!r} in {what}{hint} (known keys: {sorted(allowed)})"
        )


@dataclass(frozen=True)
class IdSpec:
    """One identifier (or quasi-identifier) column of a source.

    Parameters
    ----------
    column : str
        Column holding the identifier.
    type : str
        Identifier type (``phone``, ``email``, ``openid``, ... or a quasi type such as ``name``).
    scope : str, optional
        Column whose value scopes the identifier (``app_id`` for openid, ``platform`` for
        platform_buyer); the normalized value becomes ``<scope>:<id>``.
    """

    column: str
    type: str
    scope: str | None = None


@dataclass
class SourceSpec:
    """One source of a dataset, as declared in ``sources.yaml``."""

    name: str
    file: str
    format: str = "csv"
    encoding: str = "utf-8"
    timezone: str = DEFAULT_TIMEZONE
    key: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)
    identifiers: list[IdSpec] = field(default_factory=list)
    quasi_identifiers: list[IdSpec] = field(default_factory=list)
    pii: list[str] = field(default_factory=list)
    amounts: list[str] = field(default_factory=list)
    delimiter: str = ","
    extra: dict[str, Any] = field(default_factory=dict)
    #: Declared per-column upper bounds (``max:``) of int/float columns.
    maxima: dict[str, float] = field(default_factory=dict)
    #: Declared epoch units (``unit: s|ms``) of datetime columns.
    units: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """``source 'name' (file 'x.csv')``: the prefix of every error message about this source."""
        return f"source {self.name!r} (file {self.file!r})"

    def columns_of_type(self, *types: str) -> list[str]:
        """Declared columns of the given column type(s), in declared order."""
        return [c for c, t in self.columns.items() if t in types]

    def personal_columns(self) -> dict[str, str]:
        """Columns holding personal data, with the identifier type used to mask them.

        The declared ``pii`` columns plus every identifier and quasi-identifier column. Columns in
        ``pii`` that are not identifiers get a type guessed from their name (phone, email, name,
        address) or ``id``.
        """
        out: dict[str, str] = {}
        for ids in (self.identifiers, self.quasi_identifiers):
            for i in ids:
                out.setdefault(i.column, i.type)
        for c in self.pii:
            out.setdefault(c, _guess_pii_type(c))
        return out


@dataclass
class DatasetSpec:
    """A parsed ``sources.yaml``: dataset name, timezone, currency and its sources."""

    name: str
    timezone: str
    sources: dict[str, SourceSpec]
    currency: str | None = None
    path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: The report language ``omni report`` uses unless ``--lang`` says otherwise (``report: {lang: zh}``).
    report_lang: str | None = None

    @property
    def raw_dir(self) -> Path:
        """Folder the source files are relative to (the folder of ``sources.yaml``)."""
        if self.path is None:
            raise ValueError("this DatasetSpec was not read from a file: it has no raw folder")
        return self.path.parent

    def file_path(self, source: str) -> Path:
        """Absolute path of a source's file."""
        return self.raw_dir / self[source].file

    def __getitem__(self, name: str) -> SourceSpec:
        try:
            return self.sources[name]
        except KeyError:
            raise KeyError(
                f"no source {name!r} in dataset {self.name!r}; sources: {list(self.sources)}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.sources)

    def __len__(self) -> int:
        return len(self.sources)


def _guess_pii_type(column: str) -> str:
    c = column.lower()
    if "masked" in c:
        return "masked_phone"
    if "phone" in c or "mobile" in c or "tel" in c:
        return "phone"
    if "mail" in c:
        return "email"
    if "addr" in c:
        return "address"
    if "name" in c:
        return "name"
    return "id"


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise DataContractError(
                f"duplicate key {key!r} at line {line} (first at line {seen[key]}): "
                "source names and keys must be unique"
            )
        seen[key] = line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def find_spec_file(path: str | Path) -> Path:
    """Locate ``sources.yaml`` from a dataset folder, its ``raw/`` folder or the file itself."""
    p = Path(path)
    candidates = [p] if p.is_file() else [p / "raw" / SPEC_FILE, p / SPEC_FILE]
    for c in candidates:
        if c.is_file():
            return c.resolve()
    raise DataContractError(
        f"no {SPEC_FILE} found at {str(p)!r}: expected <dataset>/raw/{SPEC_FILE}, "
        f"<raw folder>/{SPEC_FILE} or the yaml file itself"
    )


def _escapes(file: str) -> bool:
    """True when a file path is absolute or climbs out of its folder with '..' (lexically:
    a symlink placed inside the folder is the user's explicit choice and is followed)."""
    for path in (PurePosixPath(file), PureWindowsPath(file)):
        if path.is_absolute() or path.drive or path.root:
            return True
    depth = 0
    for part in file.replace("\\", "/").split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def check_timezone(tz: Any, where: str) -> str:
    """Return ``tz`` if it names an IANA timezone, else raise DataContractError naming ``where``."""
    if not isinstance(tz, str) or not tz.strip():
        raise DataContractError(
            f"{where}: timezone must be an IANA name such as 'Asia/Shanghai' or 'UTC', got {tz!r}"
        )
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise DataContractError(
            f"{where}: unknown timezone {tz!r}; use an IANA name such as 'Asia/Shanghai' or 'UTC'"
        ) from None
    return tz


def _as_list(value: Any, what: str, where: str) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return list(value)
    raise DataContractError(f"{where}: {what} must be a list, got {type(value).__name__}")


def _parse_ids(value: Any, what: str, spec: SourceSpec) -> list[IdSpec]:
    where = spec.where
    out = []
    for i, item in enumerate(_as_list(value, what, where)):
        if isinstance(item, str):  # shorthand: "- phone" = column phone of type phone
            item = {"column": item, "type": item}
        if not isinstance(item, Mapping) or "column" not in item or "type" not in item:
            raise DataContractError(
                f"{where}: {what}[{i}] must be a mapping with 'column' and 'type', got {item!r}"
            )
        check_keys(item, _ID_KEYS, where, f"{what}[{i}]")
        col, typ, scope = str(item["column"]), str(item["type"]), item.get("scope")
        if typ not in ID_TYPES + QUASI_TYPES:
            raise DataContractError(
                f"{where}: {what}[{i}] column {col!r} has unknown identifier type {typ!r}; "
                f"known: {list(ID_TYPES + QUASI_TYPES)}"
            )
        if col not in spec.columns:
            raise DataContractError(f"{where}: {what} column {col!r} is not declared under columns")
        if typ in SCOPED_TYPES:
            if scope is None and SCOPED_TYPES[typ] in spec.columns:
                scope = SCOPED_TYPES[typ]
            if scope is None:
                raise DataContractError(
                    f"{where}: {what} column {col!r} of type {typ!r} needs a scope column "
                    f"(e.g. scope: {SCOPED_TYPES[typ]}) naming which "
                    f"{'app' if typ == 'openid' else 'platform'} the id belongs to"
                )
        if scope is not None and str(scope) not in spec.columns:
            raise DataContractError(
                f"{where}: scope column {scope!r} of {what} column {col!r} is not declared "
                "under columns"
            )
        out.append(IdSpec(col, typ, None if scope is None else str(scope)))
    return out


#: Keys of a column declared in the long form (``amount: {type: float, max: 100000}``).
COLUMN_KEYS: tuple[str, ...] = ("type", "max", "unit", "description")
#: Epoch units a datetime column may declare (``unit: s`` or ``unit: ms``).
EPOCH_UNITS: tuple[str, ...] = ("s", "ms")


def _column_options(spec: SourceSpec, col: str, opts: Mapping) -> Any:
    """Read ``max``/``unit`` of a long-form column into ``spec``; return its declared type."""
    where = f"{spec.where}: column {col!r}"
    if "max" in opts:
        m = opts["max"]
        if isinstance(m, bool) or not isinstance(m, int | float) or m != m:
            raise DataContractError(f"{where}: max must be a number, got {m!r}")
        spec.maxima[col] = float(m)
    if "unit" in opts:
        u = str(opts["unit"]).strip().lower()
        if u not in EPOCH_UNITS:
            raise DataContractError(
                f"{where}: unit must be one of {list(EPOCH_UNITS)} (epoch seconds or "
                f"milliseconds), got {opts['unit']!r}"
            )
        spec.units[col] = u
    return opts.get("type")


def _check_column_options(spec: SourceSpec) -> None:
    for col in spec.maxima:
        if spec.columns[col] not in ("int", "float"):
            raise DataContractError(
                f"{spec.where}: column {col!r} declares max but is {spec.columns[col]!r}; "
                "max applies to int and float columns"
            )
    for col in spec.units:
        if spec.columns[col] != "datetime":
            raise DataContractError(
                f"{spec.where}: column {col!r} declares unit but is {spec.columns[col]!r}; "
                "unit (epoch s or ms) applies to datetime columns"
            )


def parse_source(name: str, raw: Any, dataset_timezone: str) -> SourceSpec:
    """Build and check one :class:`SourceSpec` from its ``sources.yaml`` mapping."""
    if not isinstance(raw, Mapping):
        raise DataContractError(f"source {name!r}: expected a mapping, got {type(raw).__name__}")
    if "file" not in raw or not isinstance(raw["file"], str) or not raw["file"].strip():
        raise DataContractError(f"source {name!r}: 'file' (path relative to raw/) is required")
    file = raw["file"].strip()
    spec = SourceSpec(name=str(name), file=file)
    where = spec.where
    check_keys(raw, _SOURCE_KEYS, where, "the source")
    spec.extra = {k: raw[k] for k in _EXTRA_KEYS if k in raw}
    outside = raw.get("allow_outside_dataset", False)
    if not isinstance(outside, bool):
        raise DataContractError(f"{where}: allow_outside_dataset must be true or false")
    if not outside and _escapes(file):
        raise DataContractError(
            f"{where}: file path leaves the dataset folder (absolute or '..'); files are "
            "relative to the folder of sources.yaml. Set 'allow_outside_dataset: true' on the "
            "source to read it anyway"
        )

    fmt = str(raw.get("format") or Path(file).suffix.lstrip(".") or "").lower()
    if fmt == "pq":
        fmt = "parquet"
    if fmt not in FORMATS:
        raise DataContractError(f"{where}: unknown format {fmt!r}; known: {list(FORMATS)}")
    spec.format = fmt

    enc = str(raw.get("encoding") or "utf-8")
    try:
        codecs.lookup(enc)
    except LookupError:
        raise DataContractError(
            f"{where}: unknown encoding {enc!r}; Chinese exports are usually 'gbk' (or "
            "'gb18030'), others 'utf-8'"
        ) from None
    spec.encoding = enc
    spec.timezone = check_timezone(raw.get("timezone") or dataset_timezone, where)

    delim = raw.get("delimiter", ",")
    if delim == "\\t":
        delim = "\t"
    if not isinstance(delim, str) or len(delim) != 1:
        raise DataContractError(f"{where}: delimiter must be one character, got {delim!r}")
    spec.delimiter = delim

    cols = raw.get("columns")
    if not isinstance(cols, Mapping) or not cols:
        raise DataContractError(f"{where}: 'columns' must map every column name to its type")
    for col, typ in cols.items():
        if isinstance(typ, Mapping):  # long form: {type: float, max: 100000} / {type: ..., unit: s}
            check_keys(typ, COLUMN_KEYS, where, f"column {col!r}")
            typ = _column_options(spec, str(col), typ)
        t = str(typ).strip().lower() if typ is not None else ""
        t = _TYPE_ALIASES.get(t, t)
        if t not in COLUMN_TYPES:
            raise DataContractError(
                f"{where}: column {col!r} has undeclared type {typ!r}; "
                f"declare one of {list(COLUMN_TYPES)}"
            )
        spec.columns[str(col)] = t
    _check_column_options(spec)

    key = raw.get("key")
    if key is not None:
        key = str(key)
        if key not in spec.columns:
            raise DataContractError(f"{where}: key column {key!r} is not declared under columns")
    spec.key = key

    for attr in ("required", "pii", "amounts"):
        names = [str(c) for c in _as_list(raw.get(attr), attr, where)]
        missing = [c for c in names if c not in spec.columns]
        if missing:
            raise DataContractError(
                f"{where}: {attr} column(s) {missing} not declared under columns"
            )
        setattr(spec, attr, names)
    bad_amounts = [c for c in spec.amounts if spec.columns[c] not in ("int", "float")]
    if bad_amounts:
        raise DataContractError(
            f"{where}: amounts column(s) {bad_amounts} must be declared int or float"
        )

    spec.identifiers = _parse_ids(raw.get("identifiers"), "identifiers", spec)
    spec.quasi_identifiers = _parse_ids(raw.get("quasi_identifiers"), "quasi_identifiers", spec)
    if (spec.identifiers or spec.quasi_identifiers) and spec.key is None:
        raise DataContractError(
            f"{where}: a source with identifiers needs a 'key' column (unique per record) to "
            "build record keys"
        )
    return spec


def parse_spec(raw: Any, path: Path | None = None) -> DatasetSpec:
    """Build and check a :class:`DatasetSpec` from the parsed yaml mapping."""
    where = str(path) if path else SPEC_FILE
    if not isinstance(raw, Mapping):
        raise DataContractError(f"{where}: expected a mapping at the top level")
    check_keys(raw, _DATASET_KEYS, where, "the top level")
    tz = check_timezone(raw.get("timezone") or DEFAULT_TIMEZONE, f"{where}: dataset")
    sources_raw = raw.get("sources")
    if isinstance(sources_raw, list):  # also accept a list of {name: ..., file: ...}
        named: dict[str, Any] = {}
        for i, item in enumerate(sources_raw):
            if not isinstance(item, Mapping) or "name" not in item:
                raise DataContractError(f"{where}: sources[{i}] needs a 'name'")
            check_keys(item, _SOURCE_KEYS | {"name"}, where, f"sources[{i}]")
            n = str(item["name"])
            if n in named:
                raise DataContractError(f"{where}: duplicate source name {n!r}")
            named[n] = {k: v for k, v in item.items() if k != "name"}
        sources_raw = named
    if not isinstance(sources_raw, Mapping) or not sources_raw:
        raise DataContractError(f"{where}: 'sources' must name at least one source")
    sources = {str(n): parse_source(str(n), s, tz) for n, s in sources_raw.items()}
    files: dict[str, str] = {}
    for s in sources.values():
        if s.file in files:
            raise DataContractError(
                f"{where}: sources {files[s.file]!r} and {s.name!r} both read file {s.file!r}"
            )
        files[s.file] = s.name
    name = raw.get("dataset") or (path.parent.parent.name if path else "dataset")
    report = raw.get("report") or {}
    if not isinstance(report, Mapping):
        raise DataContractError(f"{where}: 'report' must be a mapping such as {{lang: zh}}")
    check_keys(report, _REPORT_KEYS, where, "report")
    try:
        report_lang = check_lang(report["lang"], f"{where}: report.lang") if "lang" in report else None
    except LanguageError as e:
        raise DataContractError(str(e)) from None
    return DatasetSpec(
        name=str(name),
        timezone=tz,
        sources=sources,
        currency=raw.get("currency"),
        path=path,
        report_lang=report_lang,
    )


def read_spec(path: str | Path) -> DatasetSpec:
    """Read and check ``sources.yaml``.

    Parameters
    ----------
    path : str or Path
        The dataset folder (``<path>/raw/sources.yaml``), its raw folder or the yaml file.

    Returns
    -------
    DatasetSpec

    Raises
    ------
    DataContractError
        When the file is missing, is not valid yaml, or breaks the contract (duplicate source
        names, unknown format/type/encoding/timezone, undeclared columns).
    """
    spec_path = find_spec_file(path)
    try:
        raw = yaml.load(spec_path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except DataContractError as e:
        raise DataContractError(f"{spec_path}: {e}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise DataContractError(f"{spec_path}: not valid utf-8 yaml: {e}") from None
    return parse_spec(raw, spec_path)
