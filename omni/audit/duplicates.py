"""Accepted rows that repeat another row."""

from __future__ import annotations

import pandas as pd

from omni.io import Dataset

__all__ = ["duplicate_rows"]


def duplicate_rows(ds: Dataset) -> pd.DataFrame:
    """Accepted rows that repeat another row in every declared column but the key.

    Returns
    -------
    DataFrame
        ``source``, ``rows``, ``duplicate_rows``, ``duplicate_share``.
    """
    rows = []
    for name, s in ds.spec.sources.items():
        t = ds.tables.get(name)
        if t is None or not len(t):
            continue
        cols = [c for c in s.columns if c != s.key]
        dup = int(t.duplicated(subset=cols).sum()) if cols else 0
        rows.append({"source": name, "rows": len(t), "duplicate_rows": dup, "duplicate_share": dup / len(t)})
    return pd.DataFrame(rows)
