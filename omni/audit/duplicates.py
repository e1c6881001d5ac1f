"""Accepted rows that repeat another row."""

from __future__ import annotations

from typing import Any

import pandas as pd

from omni.io import Dataset, SourceSpec

__all__ = ["duplicate_row", "duplicate_rows"]


def duplicate_rows(ds: Dataset) -> pd.DataFrame:
    """Accepted rows that repeat another row in every declared column but the key.

    Returns
    -------
    DataFrame
        ``source``, ``rows``, ``duplicate_rows``, ``duplicate_share``.
    """
    rows = [duplicate_row(name, s, ds.tables.get(name)) for name, s in ds.spec.sources.items()]
    return pd.DataFrame([r for r in rows if r is not None])


def duplicate_row(name: str, s: SourceSpec, t: pd.DataFrame | None) -> dict[str, Any] | None:
    """The row of :func:`duplicate_rows` of one source (None without accepted rows)."""
    if t is None or not len(t):
        return None
    cols = [c for c in s.columns if c != s.key]
    dup = int(t.duplicated(subset=cols).sum()) if cols else 0
    return {"source": name, "rows": len(t), "duplicate_rows": dup, "duplicate_share": dup / len(t)}
