"""Completeness of the declared columns of every source."""

from __future__ import annotations

from typing import Any

import pandas as pd

from omni.io import Dataset, SourceSpec

__all__ = ["completeness", "completeness_by_source", "completeness_rows", "incomplete_columns"]


def completeness(ds: Dataset) -> pd.DataFrame:
    """Share of non-null values per declared column of every source (long format).

    ``identifier`` marks identifier columns, which are sparse by design (not every order carries a
    member card); the quality score counts completeness over the other columns.

    Returns
    -------
    DataFrame
        ``source``, ``column``, ``type``, ``filled`` (share in [0, 1]), ``required``, ``identifier``.
    """
    return pd.DataFrame([row for name, s in ds.spec.sources.items() for row in completeness_rows(name, s, ds.tables.get(name))])


def completeness_rows(name: str, s: SourceSpec, t: pd.DataFrame | None) -> list[dict[str, Any]]:
    """The rows of :func:`completeness` of one source (none without accepted rows)."""
    if t is None or not len(t):
        return []
    filled = t[list(s.columns)].notna().mean()
    id_cols = {i.column for i in s.identifiers}
    return [{"source": name, "column": col, "type": s.columns[col], "filled": float(share),
             "required": col in s.required, "identifier": col in id_cols} for col, share in filled.items()]


def completeness_by_source(comp: pd.DataFrame) -> pd.Series:
    """Mean filled share of each source's non-identifier columns, lowest first.

    Parameters
    ----------
    comp : DataFrame
        :func:`completeness`.
    """
    if comp.empty:
        return pd.Series(dtype=float, name="filled")
    return comp[~comp["identifier"]].groupby("source")["filled"].mean().sort_values()


def incomplete_columns(comp: pd.DataFrame, threshold: float = 0.95) -> pd.DataFrame:
    """Columns less than ``threshold`` filled, least filled first (rows of :func:`completeness`)."""
    if comp.empty:
        return comp
    return comp[comp["filled"] < threshold].sort_values("filled")
