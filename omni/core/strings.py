"""Fast membership tests on string columns (millions of keys and OneIDs at scale).

pandas' ``Series.isin`` on Arrow-backed strings turns the candidate values into Python objects
one by one (seconds for a few hundred thousand keys); :func:`isin` asks pyarrow instead and gives
the same answer as ``Series.isin`` for string columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["isin"]


def _is_text(values: Any) -> bool:
    return isinstance(getattr(values, "dtype", None), pd.StringDtype) or (
        isinstance(getattr(values, "dtype", None), pd.ArrowDtype) and pa.types.is_string(values.dtype.pyarrow_dtype))


def _strings(values: pd.Series | pd.Index) -> pa.Array:
    arr = pa.array(pd.array(values, dtype=pd.StringDtype("pyarrow")))
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.string()) if arr.type != pa.string() else arr


def isin(values: pd.Series | pd.Index, candidates: pd.Series | pd.Index) -> np.ndarray:
    """``values.isin(candidates)`` as a boolean array; through pyarrow when both hold strings.

    Missing values never match (as in pandas). Columns of other types (object, numbers) go
    through ``Series.isin`` unchanged.
    """
    if not (_is_text(values) and _is_text(candidates)):
        return np.asarray(pd.Series(values).isin(candidates), dtype=bool)
    got = pc.is_in(_strings(values), value_set=_strings(candidates).drop_null())
    return got.to_numpy(zero_copy_only=False).astype(bool)
