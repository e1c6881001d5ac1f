"""Where personal data sits: declared in sources.yaml and/or detected in the values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from omni.io import Dataset, SourceSpec
from omni.privacy import scan_pii

__all__ = ["pii_inventory", "pii_rows"]


def pii_inventory(ds: Dataset, sample: int = 5000) -> pd.DataFrame:
    """Which columns hold personal data: declared in sources.yaml and/or detected in the values.

    Parameters
    ----------
    ds : Dataset
    sample : int
        Rows scanned per source (the first ones).

    Returns
    -------
    DataFrame
        ``source``, ``column``, ``declared_as``, ``detected_as``, ``detected_share``,
        ``undeclared`` (detected but not declared: it would escape masking).
    """
    return pd.DataFrame([row for name, s in ds.spec.sources.items() for row in pii_rows(name, s, ds.tables.get(name), sample)])


def pii_rows(name: str, s: SourceSpec, t: pd.DataFrame | None, sample: int = 5000) -> list[dict[str, Any]]:
    """The rows of :func:`pii_inventory` of one source (``t``: its accepted rows, None when not loaded)."""
    declared = s.personal_columns()
    detected = {}
    if t is not None and len(t):
        found = scan_pii(t.head(sample) if len(t) > sample else t)
        detected = {r.column: (r.pii_type, r.share) for r in found.itertuples()}
    return [{"source": name, "column": col, "declared_as": declared.get(col, ""),
             "detected_as": detected.get(col, ("", np.nan))[0],
             "detected_share": detected.get(col, ("", np.nan))[1],
             "undeclared": col not in declared} for col in sorted(set(declared) | set(detected))]
