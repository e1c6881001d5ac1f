"""Cast raw columns to their declared types, vectorized, reporting the cells that do not parse.

Every ``cast_*`` function takes a raw column (pandas ``string`` from CSV, or a Parquet column in its
stored type) and returns ``(typed, bad)``: the typed column and a boolean numpy mask of cells that
held a value that could not be parsed. Cells that were empty (or a null token such as ``NULL``,
``NaN``, ``N/A``, ``-`` in a typed column) become null and are *not* bad; the required-column check
decides about those.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from omni.core.text import NULL_TOKENS, as_string, re_sub

__all__ = ["TRUE_TOKENS", "cast_bool", "cast_category", "cast_column", "cast_date", "cast_datetime",
           "cast_epoch", "cast_float", "cast_int", "cast_string", "non_finite_text",
           "undeclared_epoch"]

TRUE_TOKENS: frozenset[str] = frozenset({"true", "t", "1", "1.0", "yes", "y", "是", "真"})
FALSE_TOKENS: frozenset[str] = frozenset({"false", "f", "0", "0.0", "no", "n", "否", "假"})

_INT_RE = r"[+-]?[¥￥$]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.0*)?"
_FLOAT_RE = r"[+-]?[¥￥$]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d*)?(?:[eE][+-]?\d+)?"
#: An ISO 8601 UTC offset ending a time: ``Z``, ``+08``, ``+0800`` or ``+08:00``.
OFFSET_RE = r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)"
_AWARE_RE = r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*" + OFFSET_RE + "$"
#: Numbers read as epoch seconds/milliseconds where a column declares ``unit``.
_EPOCH_INT_RE = r"[+-]?\d{1,15}(?:\.0*)?"
_EPOCH_FRAC_RE = r"[+-]?\d{0,15}\.\d+"
#: What an epoch timestamp in a column without ``unit`` looks like (9-13 digits, or a fraction).
UNDECLARED_EPOCH_RE = r"\d{9,13}(?:\.\d+)?"
#: Text spellings of non-finite numbers (compared trimmed and lower-cased).
NON_FINITE_TOKENS: frozenset[str] = frozenset(
    {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan", "+nan", "-nan"}
)
#: Formats tried, in order, for the few datetime strings pandas' ISO-8601 parser rejects.
EXTRA_DATETIME_FORMATS: tuple[str, ...] = (
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
)


def _clean_str(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Trimmed strings with null tokens set to null, and the mask of non-null cells."""
    t = as_string(s).str.strip()
    tokens = t.str.lower().isin(NULL_TOKENS).to_numpy(dtype=bool, na_value=True)
    present = t.notna().to_numpy() & ~tokens
    return t.where(present), present


def _arrow(s: pd.Series) -> pa.ChunkedArray:
    return as_string(s).array.__arrow_array__()


def _strip_money(s: pd.Series) -> pd.Series:
    """Remove a currency sign and thousands separators from number strings."""
    s = re_sub(s, r"^([+-]?)[¥￥$]", r"\1")
    return s.str.replace(",", "", regex=False)


def cast_float(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Cast to ``float64``. Accepts ``1,299.00``, ``¥12.5``, ``1e3``; bad: text, inf, nan."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        v = s.astype("float64")
        bad = ~np.isfinite(v.to_numpy(na_value=0.0))
        return v.where(~bad), bad
    t, present = _clean_str(s)
    ok = t.str.fullmatch(_FLOAT_RE).to_numpy(dtype=bool, na_value=False)
    ok &= t.str.contains(r"\d", regex=True).to_numpy(dtype=bool, na_value=False)
    clean = _strip_money(t.where(ok))
    values = pc.cast(_arrow(clean), pa.float64()).to_numpy()
    out = pd.Series(values, index=s.index, dtype="float64")
    finite = np.isfinite(values)
    bad = present & ~(ok & finite)
    return out.where(finite), bad


def cast_int(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Cast to nullable ``Int64``. Accepts ``1,299`` and ``12.0`` (Excel); bad: ``12.5``, text."""
    if pd.api.types.is_integer_dtype(s.dtype):
        return s.astype("Int64"), np.zeros(len(s), dtype=bool)
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        ok = np.isfinite(v) & (np.floor(v) == v) & (np.abs(v) < 2**63)
        bad = s.notna().to_numpy() & ~ok
        out = pd.array(np.where(ok, v, 0).astype(np.int64), dtype="Int64")
        out[~ok] = pd.NA
        return pd.Series(out, index=s.index), bad
    t, present = _clean_str(s)
    ok = t.str.fullmatch(_INT_RE).to_numpy(dtype=bool, na_value=False)
    clean = _strip_money(t.where(ok)).str.replace(r"\.0*$", "", regex=True).str.lstrip("+")
    arr = _arrow(clean)
    try:
        values = pc.cast(arr, pa.int64())
    except pa.ArrowInvalid:  # out of int64 range somewhere: find the cells via float parsing
        f = pd.to_numeric(clean, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        ok &= np.abs(f) < 2**63
        values = pc.cast(_arrow(clean.where(ok)), pa.int64())
    out = pd.Series(pd.array(values, dtype=pd.ArrowDtype(pa.int64())), index=s.index).astype(
        "Int64"
    )
    return out, present & ~ok


def cast_bool(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Cast to nullable ``boolean`` from true/false, 1/0, yes/no, y/n, t/f, 是/否."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean"), np.zeros(len(s), dtype=bool)
    t, present = _clean_str(s)
    t = t.str.lower()
    is_true = t.isin(TRUE_TOKENS).to_numpy(dtype=bool, na_value=False)
    is_false = t.isin(FALSE_TOKENS).to_numpy(dtype=bool, na_value=False)
    out = pd.array(is_true, dtype="boolean")
    out[~(is_true | is_false)] = pd.NA
    return pd.Series(out, index=s.index), present & ~(is_true | is_false)


def _to_local(dt: pd.Series, source_tz: str | None, target_tz: str | None) -> pd.Series:
    """Naive times written in ``source_tz`` -> naive times in ``target_tz``.

    Ambiguous times (the repeated hour when clocks go back) are read as the first occurrence and
    non-existent times (the skipped hour) are shifted forward: no row is lost to a DST transition.
    """
    if source_tz is None or target_tz is None or source_tz == target_tz or len(dt) == 0:
        return dt
    ambiguous = np.ones(len(dt), dtype=bool)
    aware = dt.dt.tz_localize(source_tz, ambiguous=ambiguous, nonexistent="shift_forward")
    return aware.dt.tz_convert(target_tz).dt.tz_localize(None)


#: pandas' FutureWarning for datetimes with mixed time zones parsed without ``utc=True``.
_MIXED_ZONES = r".*parsing datetimes with mixed time zones"


def _coerce_datetime(t: pd.Series, fmt: str, utc: bool) -> pd.Series:
    """``pd.to_datetime(errors="coerce")`` that never raises and never mixes naive and aware.

    ``utc=False`` must give naive values: should pandas still meet a value with a timezone it reads
    (one the offset pattern did not catch) and raise or return tz-aware values, the values are
    parsed one distinct value at a time instead (this error path only) and every value that comes
    out tz-aware is NaT, so it is quarantined rather than crashing the load.
    """
    try:
        # mixed offsets without utc=True are handled below; pandas' FutureWarning about them is
        # silenced by message, once for the process: ``warnings.catch_warnings`` saves and restores
        # the process's filters and is not safe while sources load on two threads
        warnings.filterwarnings("ignore", message=_MIXED_ZONES, category=FutureWarning)
        out = pd.to_datetime(t, format=fmt, errors="coerce", utc=utc)
        if utc or pd.api.types.is_datetime64_dtype(out.dtype):  # naive as asked
            return out
    except (ValueError, TypeError, OverflowError):
        pass
    codes, uniques = pd.factorize(t, use_na_sentinel=True)
    parsed = []
    for v in uniques:  # distinct values of the failing slice only
        try:
            x = pd.to_datetime(v, format=fmt, errors="coerce", utc=utc)
        except (ValueError, TypeError, OverflowError):
            x = pd.NaT
        if x is not pd.NaT and not utc and x.tzinfo is not None:
            x = pd.NaT
        parsed.append(x)
    dtype = "datetime64[ns, UTC]" if utc else "datetime64[ns]"
    values = pd.Series(pd.array(parsed + [pd.NaT], dtype=dtype))
    return pd.Series(values.take(np.where(codes >= 0, codes, len(parsed))).array, index=t.index)


def _parse_naive(t: pd.Series) -> pd.Series:
    out = _coerce_datetime(t, "ISO8601", utc=False)
    left = out.isna() & t.notna()
    for fmt in EXTRA_DATETIME_FORMATS:
        if not left.any():
            break
        more = _coerce_datetime(t[left], fmt, utc=False)
        out[left] = more
        left = out.isna() & t.notna()
    return out


def _canonical_offset(t: pd.Series) -> pd.Series:
    """Rewrite the offset ending each value as ``+hh:mm`` (``Z`` -> ``+00:00``, ``+08`` ->
    ``+08:00``, ``+0800`` -> ``+08:00``), dropping a space before it."""
    t = re_sub(t, r"\s*[Zz]$", "+00:00")
    t = re_sub(t, r"\s*([+-]\d{2})$", r"\1:00")
    t = re_sub(t, r"\s*([+-]\d{2}):?(\d{2})$", r"\1:\2")
    return t


def _parse_datetime_strings(t: pd.Series, target_tz: str | None) -> tuple[pd.Series, np.ndarray]:
    """Parse trimmed strings; strings with an offset (``Z``, ``+08``, ``+0800``, ``+08:00``) go to
    ``target_tz`` (UTC wall time when None).

    Returns the parsed values and the mask of strings that carried an offset.
    """
    aware = t.str.contains(_AWARE_RE, regex=True).to_numpy(dtype=bool, na_value=False)
    out = pd.Series(pd.NaT, index=t.index, dtype="datetime64[ns]")
    if (~aware).any():
        naive = _parse_naive(t[~aware])
        out[~aware] = naive.astype("datetime64[ns]")
    if aware.any():
        parsed = _coerce_datetime(_canonical_offset(t[aware]), "ISO8601", utc=True)
        if target_tz is not None:
            parsed = parsed.dt.tz_convert(target_tz)
        out[aware] = parsed.dt.tz_localize(None).astype("datetime64[ns]")
    return out, aware


def _from_epoch(values: pd.Series, unit: str, target_tz: str | None) -> pd.Series:
    """Epoch numbers (int64 or float64, nulls allowed) -> naive local time in ``target_tz``."""
    v = pd.to_datetime(values, unit=unit, utc=True, errors="coerce")
    return v.dt.tz_convert(target_tz or "UTC").dt.tz_localize(None).astype("datetime64[ns]")


def cast_epoch(
    s: pd.Series, unit: str, target_tz: str | None = None
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Cast epoch seconds (``unit="s"``) or milliseconds (``"ms"``) to naive ``target_tz`` time.

    Epoch values are instants (UTC), so the source timezone does not apply. Integers are converted
    exactly; fractions (``1790812800.5``) too, at float precision.

    Returns
    -------
    typed : Series
        ``datetime64[ns]``.
    bad : ndarray of bool
        Numbers out of the datetime range (a milliseconds column declared as seconds, say).
    numeric : ndarray of bool
        Cells that held a number (the others are left for the string parser).
    """
    if unit not in ("s", "ms"):
        raise ValueError(f"unit must be 's' or 'ms', got {unit!r}")
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        v = s.astype("float64") if pd.api.types.is_float_dtype(s.dtype) else s.astype("Int64")
        num = v.to_numpy(dtype="float64", na_value=np.nan)
        numeric = ~np.isnan(num)
        out = _from_epoch(v.where(np.isfinite(np.where(numeric, num, 0.0))), unit, target_tz)
        return out, numeric & out.isna().to_numpy(), numeric
    t, present = _clean_str(s)
    is_int = t.str.fullmatch(_EPOCH_INT_RE).to_numpy(dtype=bool, na_value=False)
    is_frac = t.str.fullmatch(_EPOCH_FRAC_RE).to_numpy(dtype=bool, na_value=False) & ~is_int
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if is_int.any():
        ints = t[is_int].str.replace(r"\.0*$", "", regex=True).str.lstrip("+")
        i64 = pd.Series(pc.cast(_arrow(ints), pa.int64()).to_numpy(zero_copy_only=False))
        out[is_int] = _from_epoch(i64, unit, target_tz).to_numpy()
    if is_frac.any():
        f64 = pd.Series(pc.cast(_arrow(t[is_frac]), pa.float64()).to_numpy(zero_copy_only=False))
        out[is_frac] = _from_epoch(f64, unit, target_tz).to_numpy()
    numeric = present & (is_int | is_frac)
    return out, numeric & out.isna().to_numpy(), numeric


def cast_datetime(
    s: pd.Series,
    source_tz: str | None = None,
    target_tz: str | None = None,
    unit: str | None = None,
) -> tuple[pd.Series, np.ndarray]:
    """Cast to naive ``datetime64[ns]`` in ``target_tz`` local time.

    Naive values are taken as ``source_tz`` local time; values with an explicit ISO 8601 offset
    (``Z``, ``+08``, ``+0800``, ``+08:00``; a column may mix them with naive values) or Parquet
    timestamps with a timezone are converted from that offset. Parses ISO-8601 variants
    (``2026-10-01 08:30[:00[.123]]``, ``T`` separator, ``2026/10/01``, ``20261001``) and a few
    Chinese formats (``2026年10月01日``). With ``unit`` (``"s"`` or ``"ms"``), numbers are epoch
    seconds or milliseconds (UTC instants); other values are still parsed as above.
    """
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        v = s.dt.tz_convert(target_tz or "UTC").dt.tz_localize(None)
        return v.astype("datetime64[ns]"), np.zeros(len(s), dtype=bool)
    if pd.api.types.is_datetime64_dtype(s.dtype):
        return _to_local(s.astype("datetime64[ns]"), source_tz, target_tz), np.zeros(len(s), bool)
    if unit is not None:
        out, bad, numeric = cast_epoch(s, unit, target_tz)
        if numeric.all() or pd.api.types.is_numeric_dtype(s.dtype):
            return out, bad
        rest = ~numeric
        rest_out, rest_bad = cast_datetime(s[rest], source_tz, target_tz)
        out[rest] = rest_out.to_numpy()
        bad[rest] = rest_bad
        return out, bad
    t, present = _clean_str(s)
    out, aware = _parse_datetime_strings(t, target_tz)
    bad = present & out.isna().to_numpy()
    if (~aware).any() and not aware.any():
        out = _to_local(out, source_tz, target_tz)
    elif (~aware).any():
        out[~aware] = _to_local(out[~aware], source_tz, target_tz)
    return out, bad


def undeclared_epoch(s: pd.Series) -> np.ndarray:
    """Cells that look like an epoch timestamp (9-13 digits): the hint for ``unit:``."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return s.notna().to_numpy()
    t = as_string(s).str.strip()
    return t.str.fullmatch(UNDECLARED_EPOCH_RE).to_numpy(dtype=bool, na_value=False)


def non_finite_text(s: pd.Series) -> np.ndarray:
    """Cells spelling a non-finite number (``inf``, ``-Infinity``, ``NaN``) or holding one."""
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy(dtype="float64", na_value=0.0)
        return np.isinf(v)
    if not isinstance(s.dtype, pd.StringDtype) and s.dtype != object:
        return np.zeros(len(s), dtype=bool)
    t = as_string(s).str.strip().str.lower()
    return t.isin(NON_FINITE_TOKENS).to_numpy(dtype=bool, na_value=False)


def cast_date(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Cast to ``datetime64[ns]`` at midnight (a calendar date: no timezone conversion)."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(s.dtype):
        return s.astype("datetime64[ns]").dt.normalize(), np.zeros(len(s), dtype=bool)
    t, present = _clean_str(s)
    out = _parse_datetime_strings(t, None)[0].dt.normalize()
    return out, present & out.isna().to_numpy()


def cast_string(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Keep as pandas ``string`` (values untouched: leading zeros and spaces stay)."""
    return as_string(s), np.zeros(len(s), dtype=bool)


def cast_category(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Cast to ``category`` (values untouched)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s, np.zeros(len(s), dtype=bool)
    return as_string(s).astype("category"), np.zeros(len(s), dtype=bool)


def cast_column(
    s: pd.Series,
    typ: str,
    source_tz: str | None = None,
    target_tz: str | None = None,
    unit: str | None = None,
) -> tuple[pd.Series, np.ndarray]:
    """Cast one column to its declared type; returns ``(typed, bad_mask)``.

    ``unit`` (``"s"``/``"ms"``) applies to ``datetime`` columns: numbers are epoch timestamps.
    """
    if typ == "string":
        return cast_string(s)
    if typ == "int":
        return cast_int(s)
    if typ == "float":
        return cast_float(s)
    if typ == "bool":
        return cast_bool(s)
    if typ == "datetime":
        return cast_datetime(s, source_tz, target_tz, unit)
    if typ == "date":
        return cast_date(s)
    if typ == "category":
        return cast_category(s)
    raise ValueError(f"unknown column type {typ!r}")
