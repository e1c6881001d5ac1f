"""Vectorized string building on numpy byte matrices and Arrow arrays.

Millions of ids (phones, device ids, order numbers) are built as fixed-width ``uint8`` character
matrices and turned into one Arrow string array without creating a Python object per value.
Variable-length text (names, addresses) is taken from small pools by index and joined with
``pyarrow.compute``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["BASE64URL", "HEX_LOWER", "assemble", "cat", "categorical_draw", "date_strings",
           "digit_matrix", "fixed_strings", "fullwidth_digits", "int_strings", "join", "money",
           "random_chars", "take", "timestamp_strings", "unique_ints"]

HEX_LOWER = b"0123456789abcdef"
ALNUM_LOWER = b"0123456789abcdefghijklmnopqrstuvwxyz"
BASE64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_FULLWIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}


def fixed_strings(mat: np.ndarray) -> pa.StringArray:
    """Arrow string array from an ``(n, width)`` matrix of ASCII/UTF-8 bytes (one row per value)."""
    mat = np.ascontiguousarray(mat, dtype=np.uint8)
    n, width = mat.shape
    if n * width >= 2**31:
        raise ValueError(f"fixed_strings: {n} x {width} bytes exceeds one Arrow string array")
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(width)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(mat.tobytes()))


def cat(n: int, *parts: np.ndarray | bytes | str) -> np.ndarray:
    """Concatenate character matrices and constant strings column-wise into an ``(n, w)`` matrix."""
    cols = []
    for part in parts:
        if isinstance(part, str):
            part = part.encode()
        if isinstance(part, bytes):
            cols.append(np.broadcast_to(np.frombuffer(part, np.uint8), (n, len(part))))
        else:
            cols.append(part)
    return np.hstack(cols) if cols else np.empty((n, 0), np.uint8)


def digit_matrix(values: np.ndarray, width: int, base: int = 10) -> np.ndarray:
    """Zero-padded digits (``0-9a-z`` for bases up to 36) of non-negative integers as an
    ``(n, width)`` byte matrix."""
    v = np.asarray(values, dtype=np.int64).copy()
    if len(v) and (v.min() < 0 or v.max() >= base**width):
        raise ValueError(f"digit_matrix: values do not fit in {width} base-{base} digits")
    table = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", np.uint8)
    out = np.empty((len(v), width), np.uint8)
    for k in range(width - 1, -1, -1):
        out[:, k] = table[v % base]
        v //= base
    return out


def random_chars(rng: np.random.Generator, n: int, width: int, alphabet: bytes) -> np.ndarray:
    """``(n, width)`` matrix of characters drawn uniformly from ``alphabet``."""
    table = np.frombuffer(alphabet, np.uint8)
    return table[rng.integers(0, len(table), size=(n, width), dtype=np.uint8)]


def int_strings(values: np.ndarray) -> pa.Array:
    """Decimal strings of integers (no padding)."""
    return pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string())


def take(pool: pa.Array | list[str] | tuple[str, ...], idx: np.ndarray) -> pa.Array:
    """``pool[idx]`` as an Arrow array; negative indices give nulls."""
    if not isinstance(pool, pa.Array):
        pool = pa.array(list(pool), pa.string())
    idx = np.asarray(idx, dtype=np.int64)
    neg = idx < 0
    indices = pa.array(idx, mask=neg) if neg.any() else pa.array(idx)
    return pool.take(indices)


def join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and scalars (null if any array part is null)."""
    args = [pa.scalar(p, pa.string()) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*args, "")


def assemble(
    n: int, groups: list[tuple[np.ndarray, pa.Array]], type_: pa.DataType | None = None
) -> pa.Array:
    """Length-``n`` array whose rows ``idx`` come from each ``(idx, values)`` group; others null."""
    type_ = pa.string() if type_ is None else type_
    pos = np.full(n, -1, np.int64)
    arrays = []
    offset = 0
    for idx, values in groups:
        idx = np.asarray(idx, dtype=np.int64)
        if len(idx) != len(values):
            raise ValueError("assemble: index and values lengths differ")
        if len(idx) == 0:
            continue
        pos[idx] = offset + np.arange(len(idx))
        arrays.append(values.cast(type_) if values.type != type_ else values)
        offset += len(idx)
    if not arrays:
        return pa.nulls(n, type_)
    combined = pa.concat_arrays(arrays)
    return take(combined, pos)


def money(cents: np.ndarray) -> pa.Array:
    """Amounts in cents -> strings with exactly two decimals (``"1234.50"``, ``"-3.05"``)."""
    cents = np.asarray(cents, dtype=np.int64)
    sign = pc.if_else(pa.array(cents < 0), pa.scalar("-"), pa.scalar(""))
    a = np.abs(cents)
    whole = int_strings(a // 100)
    frac = fixed_strings(digit_matrix(a % 100, 2))
    return join(sign, whole, ".", frac)


def timestamp_strings(seconds: np.ndarray) -> pa.Array:
    """Epoch seconds (naive local clock) -> ``YYYY-MM-DD HH:MM:SS`` strings."""
    return pa.array(np.asarray(seconds, dtype=np.int64), pa.timestamp("s")).cast(pa.string())


def date_strings(days: np.ndarray) -> pa.Array:
    """Days since 1970-01-01 -> ``YYYY-MM-DD`` strings."""
    return pa.array(np.asarray(days, dtype=np.int32), pa.date32()).cast(pa.string())


def fullwidth_digits(values: pa.Array) -> pa.Array:
    """Replace ASCII digits with full-width digits (０-９), as some forms store them."""
    for ascii_digit, wide in _FULLWIDTH.items():
        values = pc.replace_substring(values, ascii_digit, wide)
    return values


def categorical_draw(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One category per row from per-row probabilities ``probs[rows]`` (vectorized inverse CDF)."""
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    u = rng.random(len(rows))
    out = np.empty(len(rows), np.int64)
    # chunk to bound memory on very large draws
    step = 2_000_000
    for s in range(0, len(rows), step):
        r = rows[s : s + step]
        out[s : s + step] = (u[s : s + step, None] > cum[r]).sum(axis=1)
    return np.minimum(out, probs.shape[1] - 1)


def unique_ints(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """``n`` distinct random integers in ``[low, high)`` (redraws the rare repeats)."""
    out = rng.integers(low, high, size=n)
    for _ in range(100):
        _, first = np.unique(out, return_index=True)
        dup = np.ones(n, bool)
        dup[first] = False
        if not dup.any():
            return out
        out[dup] = rng.integers(low, high, size=int(dup.sum()))
    raise ValueError(f"unique_ints: cannot draw {n} distinct values in [{low}, {high})")
