"""Unified tables keyed by OneID: orders, events, touchpoints, campaign assignments and profiles.

Which source feeds which unified table is set by the source's ``role`` in sources.yaml (with an
optional ``map`` of unified column -> source column); the synthetic world's source names have
defaults below, so its sources.yaml needs neither.

Everything here works on integer codes aligned with the source table rows (:class:`RowMap`):
no string lookups and no hash-based grouping over the records (per-OneID minima, maxima and counts
are ``np.minimum.at``/``np.maximum.at``/``np.bincount`` on int64), and strings are only built for
outputs (OneIDs by a fixed-width byte gather into Arrow, attributes from their distinct values).
At 1M persons (20M records, 3.3M OneIDs) the row map, the four unified tables and the profiles
take about 5 s together on the 2-core dev VM, against 76 s before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Sized
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from omni.core.oneid_codec import fixed_width, format_oneids, from_fixed_width, parse_canonical
from omni.core.reference import age_band, city_tier
from omni.privacy import mask_name

__all__ = ["ANY_TRUE_ATTRIBUTES", "CATEGORY_COLUMNS", "CHANNEL_MIX", "KEY_NAME", "MISSING_LABEL", "PAID_STATUS",
           "PROFILE_ATTRIBUTES", "STORE_CHANNEL", "UNIFIED_COLUMNS", "RowMap", "build_profiles", "output_columns",
           "record_keys", "record_time_column", "sorted_categories", "source_roles", "unified_table"]

# role -> unified columns (besides <role>_key, source, oneid)
UNIFIED_COLUMNS: dict[str, list[str]] = {
    "orders": ["channel", "order_time", "amount", "status", "category"],
    "events": ["event_time", "event_type", "category"],
    "touchpoints": ["touch_time", "channel", "touch_type", "campaign_id"],
    "campaign_assignments": ["campaign_id", "arm", "assigned_time", "contacted"],
}
KEY_NAME = {"orders": "order_key", "events": "event_key", "touchpoints": "touch_key",
            "campaign_assignments": "assignment_key"}
#: Unified columns stored as categoricals (categories: the values present, sorted).
CATEGORY_COLUMNS = ("source", "channel", "status", "category", "event_type", "touch_type", "arm")

# defaults for the synthetic world's sources: source -> (role, {unified column: source column or =constant})
DEFAULT_ROLES: dict[str, tuple[str, dict[str, str]]] = {
    "ecom_orders": ("orders", {"channel": "platform"}),
    "pos_orders": ("orders", {"channel": "=store"}),
    "web_events": ("events", {}),
    "touchpoints": ("touchpoints", {}),
    "campaign_assignments": ("campaign_assignments", {}),
}

# profile attributes: (source, column) candidates in order of trust
PROFILE_ATTRIBUTES: dict[str, list[tuple[str, str]]] = {
    "name": [("crm_members", "name"), ("ecom_orders", "receiver_name")],
    "gender": [("crm_members", "gender")],
    "birth_year": [("crm_members", "birth_year")],
    "city": [("crm_members", "city"), ("ecom_orders", "city")],
    "marketing_opt_out": [("crm_members", "marketing_opt_out")],
}
#: Profile attributes that are true if ANY record of the person says so (consent: an opt-out
#: must not be undone by a newer or duplicate record), instead of survivorship.
ANY_TRUE_ATTRIBUTES: tuple[str, ...] = ("marketing_opt_out",)

# the profile's order columns (``channel_pref``, ``channel_mix``, ``top_category``)
#: The order status that counts as a purchase.
PAID_STATUS = "paid"
#: The sales channel of the stores: every other channel (a missing one too) is online.
STORE_CHANNEL = "store"
#: ``channel_mix`` labels: no paid order, only online, only in store, both.
CHANNEL_MIX: tuple[str, str, str, str] = ("no purchase", "online only", "store only", "omnichannel")
#: The label of a missing channel or category when the most frequent one is counted (what
#: ``astype(str)`` makes of a missing value: it is counted like any other label).
MISSING_LABEL = "nan"

_NAT = np.iinfo(np.int64).min
_MAX = np.iinfo(np.int64).max


def source_roles(spec) -> dict[str, tuple[str, dict[str, str]]]:
    """Role and column map of every source that feeds a unified table."""
    out = {}
    for name, s in spec.sources.items():
        extra = getattr(s, "extra", {}) or {}
        if "role" in extra:
            role = str(extra["role"])
            if role not in UNIFIED_COLUMNS:
                raise ValueError(f"source {name!r}: unknown role {role!r}; known: {list(UNIFIED_COLUMNS)}")
            out[name] = (role, dict(extra.get("map") or {}))
        elif name in DEFAULT_ROLES:
            out[name] = DEFAULT_ROLES[name]
    return out


def output_columns(spec, name: str) -> list[str]:
    """The columns of source ``name`` that the unified tables and profiles read: its key, record
    time, the columns its role maps and its profile attributes (a resolution can drop the rest,
    identifiers included, once they are normalized)."""
    s = spec.sources[name]
    cols = [c for c in (s.key, record_time_column(s)) if c]
    role = source_roles(spec).get(name)
    if role is not None:
        r, mapping = role
        cols += [mapping.get(c, c) for c in UNIFIED_COLUMNS[r] if not mapping.get(c, c).startswith("=")]
    cols += [col for cands in PROFILE_ATTRIBUTES.values() for src, col in cands if src == name]
    return list(dict.fromkeys(c for c in cols if c in s.columns))


def record_time_column(source_spec) -> str | None:
    """The column that dates a record: declared ``time`` or the first datetime column."""
    extra = getattr(source_spec, "extra", {}) or {}
    if extra.get("time"):
        return str(extra["time"])
    for c, t in source_spec.columns.items():
        if t in ("datetime", "date"):
            return c
    return None


def record_keys(source: str, table: pd.DataFrame, key: str) -> pd.Series:
    """``<source>:<key>`` for every row (Arrow-backed strings: a fraction of object memory)."""
    return (source + ":") + table[key].astype("string[pyarrow]")


# -- strings without Python objects ---------------------------------------------------------------

def _arrow(values: Any) -> pa.Array:
    """A pyarrow string array (one chunk) of string values."""
    if isinstance(values, pa.ChunkedArray):
        arr = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    elif isinstance(values, pa.Array):
        arr = values
    else:
        arr = pa.array(pd.array(values, dtype="string[pyarrow]"))
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    if not pa.types.is_string(arr.type):
        raise ValueError(f"expected strings, got Arrow type {arr.type}")
    return arr


def _string_array(arr: pa.Array) -> pd.api.extensions.ExtensionArray:
    """An Arrow array as pandas ``string[pyarrow]`` (no copy)."""
    return pd.arrays.ArrowStringArray(arr)


def _take_strings(arr: pa.Array, fixed: np.ndarray | None, idx: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``arr[idx]`` (idx >= 0) as ``string[pyarrow]``: a fixed-width byte gather when possible."""
    if fixed is not None:
        out = from_fixed_width(fixed.take(idx))
        if pa.types.is_large_string(out.type):  # beyond 2 GB of characters
            return pd.array(pa.chunked_array([out]), dtype="string[pyarrow]")
        return _string_array(out)
    return _string_array(arr.take(pa.array(idx)))


def _dense_rank(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes (rank among the distinct values, int64) and the sorted distinct values of integers.

    A bitmap and a cumulative sum when the values span a range no wider than the array (OneID
    numbers are dense), else a sort; never a hash table (``np.unique``/``pd.factorize`` are an
    order of magnitude slower here).
    """
    x = np.asarray(numbers)
    if len(x) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    lo, hi = int(x.min()), int(x.max())
    if lo >= 0 and hi < len(x) + (1 << 20):
        present = np.zeros(hi + 1, dtype=bool)
        present[x] = True
        rank = np.cumsum(present, dtype=np.int64)
        rank -= 1
        return rank[x], np.flatnonzero(present)
    order = np.argsort(x, kind="stable")
    s = x[order]
    new = np.empty(len(s), dtype=bool)
    new[0] = True
    np.not_equal(s[1:], s[:-1], out=new[1:])
    codes = np.empty(len(x), dtype=np.int64)
    codes[order] = np.cumsum(new, dtype=np.int64) - 1
    return codes, s[new].astype(np.int64)


# -- row map --------------------------------------------------------------------------------------

class _RowKeys(Mapping):
    """Source -> record keys per row of its table, taken from the records' key column when asked
    for (each time: the caller holds what it needs); ``rows[name]`` is a slice of the records
    (every row, in table order) or each row's record position (-1: no record)."""

    def __init__(self, key_arr: pd.api.extensions.ExtensionArray) -> None:
        self._keys = key_arr
        self.rows: dict[str, slice | np.ndarray] = {}

    def __getitem__(self, name: str) -> pd.api.extensions.ExtensionArray:
        rows = self.rows[name]
        if isinstance(rows, slice):
            return self._keys[rows]
        return self._keys.take(rows.astype(np.int64, copy=False), allow_fill=True)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class RowMap:
    """OneIDs aligned with the rows of every source table (no string lookups downstream).

    Attributes
    ----------
    oneids : ExtensionArray of string[pyarrow]
        Sorted distinct OneIDs; a code is a position in it.
    codes : dict
        Source -> int64 array, one code per row of the accepted table (-1: row not resolved, e.g.
        after an as-of cut).
    keys : mapping
        Source -> record keys (``<source>:<key>``) per row, Arrow-backed strings. Taken from the
        records' key column when asked for (:class:`_RowKeys`): a copy of every record key at
        once was the map's largest part (about 2.6 GB at 5M persons, at the resolution's peak).
    times : dict
        Source -> record time per row (datetime64[ns], NaT where the source has none).
    numbers : ndarray of int64, optional
        The OneID numbers of ``oneids`` (when built by :meth:`from_numbers`).
    record_codes : ndarray of int64, optional
        The code of every record, aligned with the records the map was built from (-1: no
        OneID); ``oneid_strings(record_codes)`` gives their OneIDs.

    The arrays may be views of the records' columns: treat them as read-only.
    """

    oneids: pd.api.extensions.ExtensionArray
    codes: dict[str, np.ndarray]
    keys: Mapping[str, pd.api.extensions.ExtensionArray]
    times: dict[str, np.ndarray]
    numbers: np.ndarray | None = None
    record_codes: np.ndarray | None = None
    _arrow: pa.Array | None = field(default=None, init=False, repr=False, compare=False)
    _fixed: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    _lookup: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_numbers(cls, records: pd.DataFrame, numbers: np.ndarray,
                     tables: Mapping[str, Sized], codes: np.ndarray | None = None) -> RowMap:
        """Build from the resolved records and the OneID *number* of each record.

        The fast path: the OneID of number ``k`` is ``O`` + ``k`` zero-padded to 9 digits
        (:func:`omni.oneid.stable.format_oneid`), so numeric order is string order and only the
        distinct OneIDs are ever formatted.

        With ``codes``, ``numbers`` holds one number per cluster and record ``i`` has number
        ``numbers[codes[i]]`` (the output of :func:`omni.oneid.stable.assign_oneid_numbers`): the
        ranking then runs over the clusters instead of the records.

        Parameters
        ----------
        records : DataFrame
            ``record_key``, ``source``, ``row`` (position in the source table), ``time``, one row
            per record (:meth:`omni.workspace.Workspace.records`, after any as-of cut).
        numbers : array of int
            OneID number of each record (aligned with ``records``), or of each cluster when
            ``codes`` is given; >= 0.
        tables : mapping
            Source name -> accepted source table; only its length is read (any sized object will
            do, so that a caller may leave the tables on disk meanwhile).
        codes : array of int, optional
            Cluster of each record (aligned with ``records``): a position in ``numbers``.

        Raises
        ------
        ValueError
            If ``numbers`` (or ``codes``) is not one integer per record, ``numbers`` has negative
            values, a code is outside ``numbers``, or the records name a source or row that
            ``tables`` does not have.
        """
        nums = np.asarray(numbers)
        what = "record" if codes is None else "cluster"
        if nums.ndim != 1 or (codes is None and len(nums) != len(records)):
            raise ValueError(f"numbers must have one value per record: {nums.shape} for {len(records)} records")
        if len(nums) and not np.issubdtype(nums.dtype, np.integer):
            raise ValueError(f"numbers must be integers, got dtype {nums.dtype}")
        nums = nums.astype(np.int64, copy=False)
        if len(nums) and nums.min() < 0:
            i = int(np.argmin(nums))
            raise ValueError(f"numbers must be >= 0; {what} {i} has {int(nums[i])}")
        rank, uniq = _dense_rank(nums)
        if codes is not None:
            cl = np.asarray(codes)
            if cl.ndim != 1 or len(cl) != len(records) or (len(cl) and not np.issubdtype(cl.dtype, np.integer)):
                raise ValueError(f"codes must be one integer per record: {cl.shape} {cl.dtype} for "
                                 f"{len(records)} records")
            if len(cl) and (cl.min() < 0 or cl.max() >= len(nums)):
                i = int(np.flatnonzero((cl < 0) | (cl >= len(nums)))[0])
                raise ValueError(f"codes: record {i} has cluster {int(cl[i])}, outside the {len(nums)} numbers")
            rank = rank[cl]
        return cls._build(records, rank, _string_array(format_oneids(uniq)), tables, numbers=uniq)

    @classmethod
    def from_records(cls, records: pd.DataFrame, oneid, tables: Mapping[str, Sized]) -> RowMap:
        """Build from the resolved records (``record_key``, ``source``, ``row``, ``time``) and their
        OneIDs (any strings, aligned with ``records``; a missing OneID leaves the row unresolved).

        :meth:`from_numbers` is faster when the OneID numbers are at hand.
        """
        if len(oneid) != len(records):
            raise ValueError(f"oneid must have one value per record: {len(oneid)} for {len(records)} records")
        arr = _arrow(oneid)
        enc = arr.dictionary_encode()
        dictionary = enc.dictionary
        order = pc.array_sort_indices(dictionary).to_numpy()  # byte order = code point order
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order), dtype=np.int64)
        idx = enc.indices
        if idx.null_count:
            ii = idx.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
            codes_all = np.where(idx.is_valid().to_numpy(zero_copy_only=False), rank[ii], -1)
        else:
            codes_all = rank[idx.to_numpy(zero_copy_only=False)]
        return cls._build(records, codes_all, _string_array(dictionary.take(pa.array(order))), tables)

    @classmethod
    def _build(cls, records: pd.DataFrame, codes_all: np.ndarray, oneids, tables: Mapping[str, Sized],
               numbers: np.ndarray | None = None) -> RowMap:
        missing = [c for c in ("record_key", "source", "row", "time") if c not in records.columns]
        if missing:
            raise ValueError(f"records is missing column(s) {missing}")
        src = records["source"]
        if not isinstance(src.dtype, pd.CategoricalDtype):
            src = src.astype("category")
        sc = src.cat.codes.to_numpy()
        if (sc < 0).any():
            raise ValueError(f"records row {int(np.flatnonzero(sc < 0)[0])}: missing source")
        rows = records["row"].to_numpy()
        key_arr = records["record_key"].array
        if not isinstance(key_arr, pd.arrays.ArrowStringArray):
            key_arr = pd.array(key_arr, dtype="string[pyarrow]")
        time_arr = records["time"].to_numpy()
        if time_arr.dtype != np.dtype("datetime64[ns]"):
            time_arr = pd.to_datetime(records["time"]).to_numpy().astype("datetime64[ns]")
        cats = src.cat.categories
        # runs of equal source (records are stacked source by source)
        bounds = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1], True]) if len(sc) else np.array([0])
        runs: dict[int, list[tuple[int, int]]] = {}
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            runs.setdefault(int(sc[a]), []).append((int(a), int(b)))
        codes, times = {}, {}
        keys = _RowKeys(key_arr)
        for code, spans in runs.items():
            name = str(cats[code])
            if name not in tables:
                raise ValueError(f"records name source {name!r}, which is not among the tables")
            n = len(tables[name])
            pos: slice | np.ndarray
            if len(spans) == 1:
                pos = slice(*spans[0])
            else:
                pos = np.concatenate([np.arange(a, b) for a, b in spans])
            r = rows[pos]
            if len(r) and (r.min() < 0 or r.max() >= n):
                bad = int(np.flatnonzero((r < 0) | (r >= n))[0])
                raise ValueError(f"records of source {name!r}: row {int(r[bad])} is outside its table ({n} rows)")
            if len(r) == n and (n == 0 or (r[0] == 0 and bool(np.all(r[1:] > r[:-1])))):
                # every row, in table order: views, no scatter
                codes[name], times[name] = codes_all[pos], time_arr[pos]
                keys.rows[name] = pos
                continue
            at = np.arange(pos.start, pos.stop) if isinstance(pos, slice) else pos
            c = np.full(n, -1, dtype=np.int64)
            c[r] = codes_all[pos]
            take = np.full(n, -1, dtype=np.int32 if len(key_arr) < 2**31 else np.int64)
            take[r] = at
            del at
            t = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
            t[r] = time_arr[pos]
            codes[name], times[name] = c, t
            keys.rows[name] = take
        return cls(oneids=oneids, codes=codes, keys=keys, times=times, numbers=numbers, record_codes=codes_all)

    def codes_of(self, oneid: Any) -> np.ndarray:
        """Codes of OneID strings (e.g. a unified table's ``oneid`` column); -1 where a value is
        missing or not a OneID of this map.

        Canonical OneIDs are parsed in place (digits of the fixed-width bytes) and looked up by
        number; other strings go through an Arrow hash lookup.
        """
        arr = _arrow(oneid.array if isinstance(oneid, pd.Series) else oneid)
        if len(arr) == 0:
            return np.empty(0, dtype=np.int64)
        num = parse_canonical(arr) if self.numbers is not None and len(self.numbers) else None
        if num is not None:
            top = int(self.numbers[-1])
            if top < 4 * len(self.numbers) + (1 << 20):  # dense numbers: a direct lookup table
                if self._lookup is None:
                    self._lookup = np.full(top + 1, -1, dtype=np.int64)
                    self._lookup[self.numbers] = np.arange(len(self.numbers), dtype=np.int64)
                return np.where(num <= top, self._lookup[np.minimum(num, top)], -1)
            pos = np.minimum(np.searchsorted(self.numbers, num), len(self.numbers) - 1)
            return np.where(self.numbers[pos] == num, pos, -1)
        pos = pc.index_in(arr, value_set=_arrow(self.oneids))
        return pos.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)

    def oneid_strings(self, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
        """The OneIDs of codes as ``string[pyarrow]`` (null where a code is -1), by a fixed-width
        byte gather (an Arrow take is ~3x slower on 20M codes)."""
        if self._arrow is None:
            self._arrow = _arrow(self.oneids)
            self._fixed = fixed_width(self._arrow)
        codes = np.asarray(codes)
        neg = codes < 0
        if neg.any():  # missing OneIDs: null
            return _string_array(self._arrow.take(pa.array(codes, mask=neg)))
        return _take_strings(self._arrow, self._fixed, codes)


# -- unified tables -------------------------------------------------------------------------------

def _stack(pieces: Sequence[Any], sels: Sequence[np.ndarray | None], order: np.ndarray | None) -> Any:
    """Rows ``sels[p]`` of every piece (None: all), stacked, then in ``order`` (None: as is).

    With one piece the selection and the order compose into one gather.
    """
    if len(pieces) == 1:
        sel = sels[0]
        idx = sel if order is None else (order if sel is None else sel[order])
        if idx is None:
            return pieces[0].copy()  # Arrow-backed: a new wrapper of the same immutable buffers
        return pieces[0].take(idx)
    taken = [p if s is None else p.take(s) for p, s in zip(pieces, sels, strict=True)]
    if all(isinstance(p, np.ndarray) for p in taken) and len({p.dtype for p in taken}) == 1:
        out = np.concatenate(taken)
    elif all(isinstance(p, pd.arrays.ArrowStringArray) for p in taken):
        # one Arrow array (a take from a chunked array is much slower)
        out = pa.concat_arrays([_arrow(pa.array(p)) for p in taken])
        return _string_array(out if order is None else out.take(pa.array(order)))
    else:
        out = pd.concat([pd.Series(p) for p in taken], ignore_index=True).array
        if isinstance(out, pd.arrays.NumpyExtensionArray):
            out = out.to_numpy()
    return out if order is None else out.take(order)


def _small_int(n: int) -> type:
    return np.int8 if n < 127 else np.int16 if n < 32_767 else np.int32


def _category_codes(piece: tuple[str, Any]) -> tuple[np.ndarray | None, list]:
    """Codes (-1: missing) over all rows of a table and the values they stand for (codes None:
    a constant, the value or no value when missing)."""
    kind, value = piece
    if kind == "const":
        return None, ([] if value is pd.NA or value is None else [value])
    s = value
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy(), list(s.cat.categories)
    codes, uniq = pd.factorize(s.array)
    return codes, list(np.asarray(uniq, dtype=object))


def sorted_categories(values: list) -> list:
    """Distinct values in the order ``astype("category")`` gives them (sorted when sortable): the
    categories of a unified table's categorical column."""
    idx = pd.Index(values).unique()
    try:
        return list(idx.sort_values())
    except TypeError:
        return list(idx)


def _stack_category(pieces: Sequence[tuple[str, Any]], lengths: Sequence[int],
                    sels: Sequence[np.ndarray | None], order: np.ndarray | None) -> pd.Categorical:
    """A categorical column stacked from per-source pieces, categories = values present, sorted
    (as ``astype("category")`` of the stacked values)."""
    local = [_category_codes(p) for p in pieces]
    union = sorted_categories([v for _, vals in local for v in vals])
    where = {v: i for i, v in enumerate(union)}
    dt = _small_int(len(union) + 1)
    mapped = []
    for (codes, vals), m in zip(local, lengths, strict=True):
        if codes is None:  # a constant
            mapped.append(np.full(m, where[vals[0]] if vals else -1, dtype=dt))
        else:
            mapped.append(np.array([where[v] for v in vals] + [-1], dtype=dt)[codes])  # -1 -> last
    codes = _stack(mapped, sels, order)
    if len(codes) == 0:
        union = []
    elif len(union):
        if len(union) <= 32:  # a few vectorized comparisons beat bincount's int64 copy
            used = np.array([bool((codes == k).any()) for k in range(len(union))])
        else:
            used = np.bincount(codes[codes >= 0], minlength=len(union)) > 0
        if not used.all():
            remap = (np.cumsum(used) - 1).astype(dt)
            codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1).astype(dt)
            union = [v for v, u in zip(union, used, strict=True) if u]
    return pd.Categorical.from_codes(codes, categories=pd.Index(union, dtype=object if not union else None),
                                     validate=False)


def unified_table(role: str, tables: Mapping[str, pd.DataFrame], spec, rowmap: RowMap) -> pd.DataFrame:
    """Stack every source of one role into the unified table, keyed by OneID, sorted by time.

    Rows whose record is not resolved (after an as-of cut) are left out. Rows are in time order
    (stable: sources in spec order, then table order, for equal times; missing times last).
    ``oneid``, the key column and string columns such as ``campaign_id`` are ``string[pyarrow]``;
    ``source``, ``channel``, ``status``, ``category``, ``event_type``, ``touch_type`` and ``arm``
    are categoricals of the values present (sorted).

    Parameters
    ----------
    role : str
        ``orders``, ``events``, ``touchpoints`` or ``campaign_assignments``.
    tables : dict
        Accepted source tables (from :func:`omni.io.load_dataset`).
    spec : DatasetSpec
    rowmap : RowMap
        OneIDs aligned with the table rows.
    """
    if role not in UNIFIED_COLUMNS:
        raise ValueError(f"unknown role {role!r}; known: {list(UNIFIED_COLUMNS)}")
    key_col = KEY_NAME[role]
    parts = []  # (name, mapping, table, rows kept or None)
    for name, (r, mapping) in source_roles(spec).items():
        if r != role or name not in tables or name not in rowmap.codes:
            continue
        c = rowmap.codes[name]
        keep = c >= 0
        parts.append((name, mapping, tables[name], None if keep.all() else np.flatnonzero(keep)))
    columns = [key_col, "source", "oneid", *UNIFIED_COLUMNS[role]]
    if not parts:
        return pd.DataFrame(columns=columns)
    sels = [p[3] for p in parts]
    lengths = [len(p[2]) for p in parts]

    def piece(name: str, mapping: dict, t: pd.DataFrame, col: str) -> tuple[str, Any]:
        src = mapping.get(col, col)
        if src.startswith("="):
            return ("const", src[1:])
        if src in t.columns:
            return ("col", t[src])
        return ("const", pd.NA)

    pieces = {col: [piece(name, mapping, t, col) for name, mapping, t, _ in parts] for col in UNIFIED_COLUMNS[role]}

    # time order: stable sort of the stacked times (skipped when already sorted)
    order = None
    time_col = next((c for c in UNIFIED_COLUMNS[role] if c.endswith("_time")), None)
    stacked_time = None
    if time_col is not None:
        tp = pieces[time_col]
        if all(k == "col" and np.issubdtype(v.dtype, np.datetime64) for k, v in tp):
            stacked_time = _stack([v.to_numpy().astype("datetime64[ns]", copy=False) for _, v in tp], sels, None)
        else:
            stacked_time = _stack([_plain(k, v, m) for (k, v), m in zip(tp, lengths, strict=True)], sels, None)
        if not (stacked_time.dtype.kind == "M" and bool(np.all(stacked_time[1:] >= stacked_time[:-1]))):
            order = np.argsort(stacked_time, kind="stable")

    data: dict[str, Any] = {}
    data[key_col] = _stack([rowmap.keys[name] for name, *_ in parts], sels, order)
    data["source"] = _stack_category([("const", name) for name, *_ in parts], lengths, sels, order)
    data["oneid"] = rowmap.oneid_strings(_stack([rowmap.codes[name] for name, *_ in parts], sels, order))
    for col in UNIFIED_COLUMNS[role]:
        if col == time_col and stacked_time is not None:
            data[col] = stacked_time if order is None else stacked_time.take(order)  # a new array
        elif col in CATEGORY_COLUMNS:
            data[col] = _stack_category(pieces[col], lengths, sels, order)
        elif all(k == "const" or isinstance(v.dtype, pd.StringDtype) for k, v in pieces[col]) and \
                any(k == "col" for k, _ in pieces[col]):
            data[col] = _stack([_strings(k, v, m) for (k, v), m in zip(pieces[col], lengths, strict=True)],
                               sels, order)
        else:
            data[col] = _stack([_plain(k, v, m) for (k, v), m in zip(pieces[col], lengths, strict=True)],
                               sels, order)
    return pd.DataFrame({c: data[c] for c in columns}, copy=False)


def _plain(kind: str, value: Any, n_rows: int) -> np.ndarray:
    """A piece as the numpy array ``Series.to_numpy`` gives (constants: object arrays)."""
    if kind == "const":
        return np.full(n_rows, value, dtype=object)
    return value.to_numpy()


def _strings(kind: str, value: Any, n_rows: int) -> pd.api.extensions.ExtensionArray:
    """A piece as ``string[pyarrow]``."""
    if kind == "const":
        return pd.array(np.full(n_rows, value, dtype=object), dtype="string[pyarrow]")
    return value.array if isinstance(value.array, pd.arrays.ArrowStringArray) else value.astype("string[pyarrow]").array


# -- profiles -------------------------------------------------------------------------------------

def _latest_row(codes: np.ndarray, t: np.ndarray, mask: np.ndarray | None, n: int) -> np.ndarray:
    """Per code, the row with the latest time (missing times count as earliest; ties: first row),
    among rows where ``mask``; -1 where a code has none."""
    idx = np.flatnonzero(mask) if mask is not None else None
    cm = codes if idx is None else codes[idx]
    tm = t if idx is None else t[idx]
    best = np.full(n, _NAT, dtype=np.int64)
    np.maximum.at(best, cm, tm)
    win = tm == best[cm]
    rows = np.flatnonzero(win) if idx is None else idx[win]
    first = np.full(n, _MAX, dtype=np.int64)
    np.minimum.at(first, cm[win], rows)
    first[first == _MAX] = -1
    return first


def _factor_winners(values: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, Any]:
    """Codes and distinct values of ``values`` at ``rows`` (no Python object per row)."""
    taken = values.array.take(rows)
    codes, uniq = pd.factorize(taken)
    return codes, uniq


def _survivor(attr: str, tables: Mapping[str, pd.DataFrame], rowmap: RowMap, n: int
              ) -> tuple[np.ndarray, list, bool] | None:
    """Survivorship of one attribute: per code the index into distinct values (-1: none), the
    distinct values (a list of per-source arrays, concatenated in that order) and whether every
    candidate column is numeric."""
    chosen_rank = np.full(n, -1, dtype=np.int64)
    chosen_row = np.full(n, -1, dtype=np.int64)
    cands = []
    for src, col in PROFILE_ATTRIBUTES[attr]:
        if src not in tables or col not in tables[src].columns or src not in rowmap.codes:
            continue
        v = tables[src][col]
        c = rowmap.codes[src]
        mask = (c >= 0) & v.notna().to_numpy()
        row = _latest_row(c, rowmap.times[src].view(np.int64), None if mask.all() else mask, n)
        fill = (chosen_rank < 0) & (row >= 0)
        chosen_rank[fill] = len(cands)
        chosen_row[fill] = row[fill]
        cands.append(v)
    if not cands:
        return None
    numeric = all(pd.api.types.is_numeric_dtype(v.dtype) and not pd.api.types.is_bool_dtype(v.dtype)
                  for v in cands)
    idx = np.full(n, -1, dtype=np.int64)
    uniques, offset = [], 0
    for r, v in enumerate(cands):
        who = np.flatnonzero(chosen_rank == r)
        codes, uniq = _factor_winners(v, chosen_row[who])
        idx[who] = codes + offset
        offset += len(uniq)
        uniques.append(uniq)
    return idx, uniques, numeric


def _any_true(attr: str, tables: Mapping[str, pd.DataFrame], rowmap: RowMap, n: int) -> np.ndarray:
    """Per code: does any record of any candidate source say true."""
    out = np.zeros(n, dtype=bool)
    for src, col in PROFILE_ATTRIBUTES[attr]:
        if src not in tables or col not in tables[src].columns or src not in rowmap.codes:
            continue
        v = tables[src][col]
        try:
            b = v.astype("boolean").fillna(False).to_numpy(dtype=bool)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{src}.{col} is not boolean (true/false): {e}") from e
        c = rowmap.codes[src]
        out[c[b & (c >= 0)]] = True
    return out


def _object_column(idx: np.ndarray, uniques: list) -> np.ndarray:
    """Object array of the values (NaN where idx is -1), sharing one Python object per value."""
    vals = np.concatenate([np.asarray(u, dtype=object) for u in uniques] + [np.array([np.nan], dtype=object)])
    return vals[idx]  # -1 -> the trailing NaN


def _float_column(idx: np.ndarray, uniques: list) -> np.ndarray:
    vals = np.concatenate([np.asarray(pd.array(u).to_numpy(dtype="float64", na_value=np.nan)) for u in uniques]
                          + [np.array([np.nan])])
    return vals[idx]


def _labels(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(s.astype(str), sort=True)`` without a string per row: codes, labels."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy()
        names = [str(c) for c in s.cat.categories] + [MISSING_LABEL]
        ext = np.where(codes < 0, len(names) - 1, codes)
        used = np.bincount(ext, minlength=len(names)) > 0
        labels = sorted({names[i] for i in np.flatnonzero(used)})
        pos = {v: i for i, v in enumerate(labels)}
        lut = np.array([pos.get(v, -1) for v in names], dtype=np.int64)
        return lut[ext], np.array(labels, dtype=object)
    codes, uniq = pd.factorize(s.astype(str), sort=True)
    return codes, np.asarray(uniq, dtype=object)


def _top_per_code(codes: np.ndarray, lab: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Most frequent label per code (ties: the first label in sort order); NaN where a code has
    none. A sort of (code, label) pairs: no n x labels count matrix."""
    k = max(len(labels), 1)
    lut = np.append(np.asarray(labels, dtype=object), np.nan)  # label k: none
    best_lab = np.full(n, len(labels), dtype=np.int64)
    if len(codes) == 0:
        return lut[best_lab]
    key = np.sort(codes.astype(np.int64) * k + lab)
    new = np.empty(len(key), dtype=bool)
    new[0] = True
    np.not_equal(key[1:], key[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    cnt = np.diff(np.r_[starts, len(key)])
    pcode, plab = key[starts] // k, key[starts] % k
    best = np.zeros(n, dtype=np.int64)
    np.maximum.at(best, pcode, cnt)
    win = np.flatnonzero(cnt == best[pcode])
    wc = pcode[win]
    first = np.empty(len(wc), dtype=bool)
    first[:1] = True
    np.not_equal(wc[1:], wc[:-1], out=first[1:])
    best_lab[wc[first]] = plab[win[first]]
    return lut[best_lab]


def build_profiles(
    tables: Mapping[str, pd.DataFrame],
    rowmap: RowMap,
    as_of: pd.Timestamp | None = None,
    orders: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One golden record per OneID by survivorship.

    Each attribute takes the most recent non-null value from the most trusted source that has one
    (order of :data:`PROFILE_ATTRIBUTES`; records without a time count as oldest; equal times: the
    first row). Consent is conservative instead: ``marketing_opt_out`` is true if **any** of the
    person's records says true (PIPL: an opt-out must not be undone by a newer or duplicate
    record; :data:`ANY_TRUE_ATTRIBUTES`). Also: first/last seen, records per source, preferred
    sales channel, channel mix and top category from paid orders. Names are stored masked only.

    Parameters
    ----------
    tables : dict
        Accepted source tables.
    rowmap : RowMap
        OneIDs aligned with the table rows.
    as_of : Timestamp, optional
        Reference date for age bands (default: the latest record).
    orders : DataFrame, optional
        The unified orders table.

    Returns
    -------
    DataFrame
        One row per OneID in OneID order: ``oneid`` (string[pyarrow]), ``first_seen``,
        ``last_seen``, ``n_records``, ``n_<source>`` per source, the attributes (``gender``,
        ``city``: object, NaN where unknown; ``birth_year``: float), ``marketing_opt_out`` (bool),
        ``name_masked`` (string), ``age_band``, ``city_tier`` (categoricals) and, with orders,
        ``channel_pref``, ``channel_mix``, ``top_category``.
    """
    n = len(rowmap.oneids)
    names = sorted(rowmap.codes)
    cols = _record_counts(rowmap, names, n)
    name, birth_year, city = _attribute_columns(tables, rowmap, n, cols)
    _derived_columns(cols, name, birth_year, city, as_of, n)
    if orders is not None and len(orders):
        _order_columns(orders, rowmap, n, cols)
    order = ["oneid", "first_seen", "last_seen", "n_records", *[f"n_{s}" for s in names],
             *[a for a in PROFILE_ATTRIBUTES if a != "name"],
             *(["name_masked"] if "name" in PROFILE_ATTRIBUTES else []), "age_band", "city_tier",
             *[c for c in ("channel_pref", "channel_mix", "top_category") if c in cols]]
    return pd.DataFrame({c: cols[c] for c in order}, copy=False)


def _record_counts(rowmap: RowMap, names: list[str], n: int) -> dict[str, Any]:
    """The profile's ``oneid``, ``first_seen``, ``last_seen``, ``n_records`` and ``n_<source>`` columns."""
    first = np.full(n, _MAX, dtype=np.int64)
    last = np.full(n, _NAT, dtype=np.int64)
    n_records = np.zeros(n, dtype=np.int64)
    per_src = {}
    for s in names:
        c = rowmap.codes[s]
        t = rowmap.times[s].view(np.int64)
        ok = c >= 0
        per_src[s] = np.bincount(c if ok.all() else c[ok], minlength=n)
        n_records += per_src[s]
        tv = ok & (t != _NAT)
        if tv.all():
            np.minimum.at(first, c, t)
            np.maximum.at(last, c, t)
        elif tv.any():
            ct, tt = c[tv], t[tv]
            np.minimum.at(first, ct, tt)
            np.maximum.at(last, ct, tt)
    first[first == _MAX] = _NAT
    cols: dict[str, Any] = {"oneid": rowmap.oneids, "first_seen": first.view("datetime64[ns]"),
                            "last_seen": last.view("datetime64[ns]"), "n_records": n_records}
    for s in names:
        cols[f"n_{s}"] = per_src[s]
    return cols


def _attribute_columns(tables: Mapping[str, pd.DataFrame], rowmap: RowMap, n: int,
                       cols: dict[str, Any]) -> tuple[Any, Any, Any]:
    """Add the surviving attributes (and the any-true ones) to ``cols``; return the survivors of
    ``name``, ``birth_year`` and ``city`` (None when no source has them) for the derived columns."""
    birth_year = city = name = None
    for attr in PROFILE_ATTRIBUTES:
        if attr in ANY_TRUE_ATTRIBUTES:
            cols[attr] = _any_true(attr, tables, rowmap, n)
            continue
        surv = _survivor(attr, tables, rowmap, n)
        if surv is None:
            cols[attr] = pd.Series(pd.NA, index=pd.RangeIndex(n), dtype=object).to_numpy()
            continue
        idx, uniques, numeric = surv
        if attr == "name":
            name = surv
            continue
        cols[attr] = _float_column(idx, uniques) if numeric else _object_column(idx, uniques)
        if attr == "birth_year":
            birth_year = surv
        elif attr == "city":
            city = surv
    for attr in ANY_TRUE_ATTRIBUTES:
        if attr not in cols:
            cols[attr] = np.zeros(n, dtype=bool)
    return name, birth_year, city


def _derived_columns(cols: dict[str, Any], name: Any, birth_year: Any, city: Any,
                     as_of: pd.Timestamp | None, n: int) -> None:
    """Add ``name_masked``, ``age_band`` and ``city_tier``: computed on the distinct values, then
    spread by code."""
    if "name" in PROFILE_ATTRIBUTES:
        if name is None:
            cols["name_masked"] = pd.array([pd.NA] * n, dtype="string[pyarrow]")
        else:
            idx, uniques, _ = name
            distinct = pd.concat([pd.Series(np.asarray(u, dtype=object)) for u in uniques], ignore_index=True)
            masked = mask_name(distinct.astype("string")).array
            cols["name_masked"] = masked.take(idx, allow_fill=True)
    ref_year = (as_of or pd.Timestamp(cols["last_seen"].max())).year
    if birth_year is None:
        years = pd.to_numeric(pd.Series(cols.get("birth_year", np.full(n, np.nan))), errors="coerce")
        cols["age_band"] = age_band(years.astype("Int64"), int(ref_year)).array
    else:
        idx, uniques, numeric = birth_year
        k = sum(len(u) for u in uniques)  # distinct values, then the missing value at k
        distinct = (_float_column if numeric else _object_column)(np.arange(k + 1), uniques)
        bands = age_band(pd.to_numeric(pd.Series(distinct), errors="coerce").astype("Int64"), int(ref_year))
        cols["age_band"] = bands.array.take(np.where(idx >= 0, idx, k))
    if city is None:
        cols["city_tier"] = city_tier(pd.Series(cols.get("city", np.full(n, np.nan, dtype=object)))).array
    else:
        idx, uniques, _ = city
        distinct = pd.concat([pd.Series(np.asarray(u, dtype=object)) for u in uniques] +
                             [pd.Series([np.nan], dtype=object)], ignore_index=True)
        tiers = city_tier(distinct).array
        cols["city_tier"] = tiers.take(np.where(idx >= 0, idx, len(tiers) - 1))


def _order_columns(orders: pd.DataFrame, rowmap: RowMap, n: int, cols: dict[str, Any]) -> None:
    """Add ``channel_pref``, ``channel_mix`` and ``top_category`` from the paid orders."""
    status = orders["status"]
    if isinstance(status.dtype, pd.CategoricalDtype):
        cats = list(status.cat.categories.astype(str))
        paid = np.isin(status.cat.codes.to_numpy(), [i for i, c in enumerate(cats) if c == PAID_STATUS])
    else:
        paid = (status.astype(str) == PAID_STATUS).to_numpy()
    sel = np.flatnonzero(paid)
    pcode = rowmap.codes_of(orders["oneid"])[sel]
    if (pcode < 0).any():
        bad = int(sel[np.flatnonzero(pcode < 0)[0]])
        raise ValueError(f"orders row {bad}: oneid is not in the row map")
    ch, ch_labels = _labels(orders["channel"].iloc[sel])
    cols["channel_pref"] = _top_per_code(pcode, ch, ch_labels, n)
    online = (ch_labels != STORE_CHANNEL)[ch] if len(ch) else np.zeros(0, dtype=bool)
    n_paid = np.bincount(pcode, minlength=n)
    n_online = np.bincount(pcode[online], minlength=n)
    mix = np.full(n, 3, dtype=np.int8)
    mix[n_online == 0] = 2
    mix[n_online == n_paid] = 1
    mix[n_paid == 0] = 0
    cols["channel_mix"] = np.array(CHANNEL_MIX, dtype=object)[mix]
    cat, cat_labels = _labels(orders["category"].iloc[sel])
    cols["top_category"] = _top_per_code(pcode, cat, cat_labels, n)
