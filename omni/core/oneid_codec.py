"""The OneID string codec: ``O`` + 9 zero-padded digits, to and from numbers, vectorized.

One definition for the whole package: the engine numbers clusters, the unified tables show the
strings, a previous month's map is read back. Numbers below 10**9 take a fixed-width byte path
(no Python strings); larger ones fall back to Arrow's padding kernel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["ONEID_DIGITS", "ONEID_PREFIX", "fixed_width", "format_oneids", "from_fixed_width",
           "parse_canonical", "parse_oneids"]

ONEID_PREFIX = "O"
ONEID_DIGITS = 9


def fixed_width(arr: pa.Array) -> np.ndarray | None:
    """The strings of ``arr`` as a numpy ``V<width>`` view when all have one byte length and none
    is null (e.g. OneIDs: ``O`` + 9 digits); else None."""
    if len(arr) == 0 or arr.null_count:
        return None
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4)
    width = int(offsets[1] - offsets[0])
    if width == 0 or int(offsets[-1] - offsets[0]) != width * len(arr):
        return None
    if not np.all(np.diff(offsets) == width):
        return None
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
    return data.view(f"V{width}")


def from_fixed_width(v: np.ndarray) -> pa.Array:
    """A ``V<width>`` numpy array as an Arrow string array (one buffer copy at most)."""
    width = v.dtype.itemsize
    if len(v) * width >= 2**31:
        offsets = np.arange(len(v) + 1, dtype=np.int64) * width
        return pa.Array.from_buffers(pa.large_string(), len(v), [None, pa.py_buffer(offsets),
                                                                 pa.py_buffer(np.ascontiguousarray(v))])
    offsets = np.arange(len(v) + 1, dtype=np.int32)
    offsets *= width
    return pa.Array.from_buffers(pa.string(), len(v), [None, pa.py_buffer(offsets),
                                                       pa.py_buffer(np.ascontiguousarray(v))])


def format_oneids(numbers: np.ndarray) -> pa.Array:
    """OneIDs (``O`` + 9 zero-padded digits, the one OneID format) of
    non-negative numbers, as an Arrow string array, without Python strings."""
    nums = np.asarray(numbers, dtype=np.int64)
    if len(nums) and nums.min() < 0:
        raise ValueError(f"OneID numbers must be >= 0; position {int(np.argmin(nums))} is {int(nums.min())}")
    prefix = ONEID_PREFIX.encode()
    if ONEID_DIGITS % 3 or (len(nums) and nums.max() >= 10**ONEID_DIGITS):
        text = pc.cast(pa.array(nums), pa.string())
        return pc.binary_join_element_wise(ONEID_PREFIX, pc.utf8_lpad(text, ONEID_DIGITS, "0"), "")
    # groups of three digits through a 1000-entry table of "000".."999"
    groups = ONEID_DIGITS // 3
    table = np.array([f"{i:03d}".encode() for i in range(1000)], dtype="S3")
    out = np.empty((len(nums), len(prefix) + 3 * groups), dtype=np.uint8)
    out[:, : len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
    rest = nums.copy()
    for g in range(groups - 1, -1, -1):
        col = len(prefix) + 3 * g
        out[:, col: col + 3] = table[rest % 1000].view(np.uint8).reshape(-1, 3)
        rest //= 1000
    return from_fixed_width(out.reshape(-1).view(f"V{out.shape[1]}") if len(nums) else
                             np.empty(0, dtype=f"V{out.shape[1]}"))


def parse_canonical(arr: pa.Array) -> np.ndarray | None:
    """The numbers of canonical OneIDs (prefix + exactly ONEID_DIGITS digits, no nulls), read from
    the string bytes; None if any value is not one."""
    prefix = np.frombuffer(ONEID_PREFIX.encode(), dtype=np.uint8)
    fixed = fixed_width(arr)
    if fixed is None or fixed.dtype.itemsize != len(prefix) + ONEID_DIGITS:
        return None
    b = fixed.view(np.uint8).reshape(-1, fixed.dtype.itemsize)
    if not (b[:, : len(prefix)] == prefix).all():
        return None
    digits = b[:, len(prefix):] - np.uint8(48)  # non-digits wrap above 9
    if digits.max() > 9:
        return None
    num = np.zeros(len(b), dtype=np.int64)
    for j in range(ONEID_DIGITS):
        num *= 10
        num += digits[:, j]
    return num


def parse_oneids(oneids: pd.Series | pa.Array, what: str = "previous map", first_row: int = 0) -> np.ndarray:
    """The numbers of OneIDs (inverse of :func:`format_oneids`). ``first_row``: the row of
    ``oneids[0]`` in the whole (a batch of a longer column), for the message.

    Raises
    ------
    ValueError
        Naming ``what`` and the 1-based row of the first value that is not a OneID.
    """
    arr = oneids if isinstance(oneids, pa.Array) else pa.array(pd.Series(oneids, dtype="string[pyarrow]").array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_large_string(arr.type) and arr.nbytes < 2**31:  # as Parquet gives them back
        arr = arr.cast(pa.string())
    num = parse_canonical(arr) if pa.types.is_string(arr.type) else None
    if num is not None:
        return num
    s = pd.Series(pd.arrays.ArrowStringArray(arr.cast(pa.string())))
    bad = ~s.str.fullmatch(rf"{ONEID_PREFIX}\d{{{ONEID_DIGITS}}}").fillna(False)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"{what} row {first_row + i + 1}: {s.iloc[i]!r} is not a OneID "
                         f"({ONEID_PREFIX} + {ONEID_DIGITS} digits)")
    return s.str.slice(len(ONEID_PREFIX)).astype("int64").to_numpy()
