"""Text columns: the Arrow-backed string type, null tokens and vectorized regex replacement.

Every layer that touches raw text (loading, normalization, masking) shares these rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

__all__ = ["NULL_TOKENS", "STRING", "as_string", "re_sub"]

#: Tokens read as null in typed (non-string) columns, compared trimmed and lower-cased.
NULL_TOKENS: frozenset[str] = frozenset(
    {"", "null", "none", "nan", "nat", "n/a", "na", "\\n", "-", "--", "nil", "(null)"}
)

STRING = pd.StringDtype("pyarrow")


def as_string(s: Any) -> pd.Series:
    """Values as pandas ``string`` (pyarrow storage); non-string values via ``str``.

    Integral floats lose the ``.0`` pandas would print (``13800138000.0`` -> ``"13800138000"``);
    a Series keeps its index.
    """
    if not isinstance(s, pd.Series):
        s = pd.Series(s)
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        return s
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        integral = np.isfinite(v) & (np.floor(v) == v) & (np.abs(v) < 2**53)
        txt = s.astype(str).to_numpy(dtype=object)
        txt[integral] = v[integral].astype(np.int64).astype(str)
        return pd.Series(txt, index=s.index).where(s.notna().to_numpy()).astype(STRING)
    return s.astype(STRING)


def re_sub(s: pd.Series, pattern: str, repl: str) -> pd.Series:
    """Regex replace with group references (``\\1``) in pyarrow's RE2 kernel.

    pandas falls back to Python's ``re`` one value at a time when the replacement has a group
    reference; this keeps it vectorized. RE2 syntax: no look-around, no backreferences in the
    pattern.
    """
    s = as_string(s)
    out = pc.replace_substring_regex(s.array.__arrow_array__(), pattern=pattern, replacement=repl)
    return pd.Series(pd.arrays.ArrowStringArray(out), index=s.index)
