"""Demographic bands shared by profiles, TGI and the market panel."""

from __future__ import annotations

import numpy as np
import pandas as pd

AGE_BANDS: tuple[str, ...] = ("18-24", "25-29", "30-34", "35-39", "40-49", "50+")
_EDGES = np.array([18, 25, 30, 35, 40, 50])


def age_band(birth_year: pd.Series | np.ndarray, ref_year: int) -> pd.Series:
    """Age band (the market panel's: 18-24, 25-29, 30-34, 35-39, 40-49, 50+) at ``ref_year``.

    Ages under 18 and unknown birth years give NaN.
    """
    by = pd.to_numeric(pd.Series(birth_year), errors="coerce")
    age = ref_year - by
    idx = np.searchsorted(_EDGES, age.to_numpy(dtype=float, na_value=np.nan), side="right") - 1
    ok = age.notna().to_numpy() & (idx >= 0)
    out = np.where(ok, np.asarray(AGE_BANDS, dtype=object)[np.clip(idx, 0, len(AGE_BANDS) - 1)], None)
    return pd.Series(pd.Categorical(out, categories=list(AGE_BANDS)), index=by.index)
