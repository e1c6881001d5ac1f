"""Accepted amounts far from their source's typical value (robust z on log amounts)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from omni.audit.sources import accepted_file_rows
from omni.io import Dataset, SourceSpec

__all__ = ["OUTLIER_COLUMNS", "OUTLIER_Z", "amount_outliers", "outlier_frame", "robust_z", "source_outliers"]

#: Robust z (on log amounts) beyond which an amount is listed by :func:`amount_outliers`: about
#: 150x above (or below) the median for a typical order-size spread (MAD of 0.8 in log units).
OUTLIER_Z: float = 5.0
OUTLIER_COLUMNS: tuple[str, ...] = (
    "source", "row", "column", "value", "typical", "robust_z", "direction",
)
_OUTLIER_DTYPES = (object, "Int64", object, float, float, float, object)


def robust_z(logs: np.ndarray) -> np.ndarray | None:
    """``(x - median) / (1.4826 MAD)``, with the mean absolute deviation when the MAD is 0.

    Returns None when every value is the same (no spread to measure against).
    """
    med = np.median(logs)
    dev = np.abs(logs - med)
    scale = 1.4826 * np.median(dev)
    if scale == 0:
        scale = 1.2533 * dev.mean()
    if scale == 0:
        return None
    return (logs - med) / scale


def _column_outliers(x: np.ndarray, z: float, min_rows: int) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Positions, robust z and typical (median) value of the outlying positive values of one column."""
    pos = np.flatnonzero(np.isfinite(x) & (x > 0))
    if len(pos) < min_rows:
        return None
    logs = np.log(x[pos])
    rz = robust_z(logs)
    if rz is None:
        return None
    hit = np.abs(rz) > z
    if not hit.any():
        return None
    return pos[hit], rz[hit], float(np.exp(np.median(logs)))


def amount_outliers(ds: Dataset, z: float = OUTLIER_Z, min_rows: int = 30) -> pd.DataFrame:
    """Accepted amounts far from their source's typical value: robust z on log amounts.

    For every ``amounts`` column (and every int/float column declaring ``max:``) of every source,
    positive values are log-transformed and scored by ``(log x - median) / (1.4826 MAD)``, per
    source: order sizes are roughly log-normal, so the log scale treats 10x above and 10x below
    alike. Rows beyond ``|z|`` are listed. Zeros are not scored (free orders, no spend), and a
    column with fewer than ``min_rows`` positive values is not judged. No personal data: amounts
    only, with the file row number.

    Returns
    -------
    DataFrame
        ``source``, ``row`` (1-based data row in the file, header excluded; NA when unknown),
        ``column``, ``value``, ``typical`` (the median amount), ``robust_z``, ``direction``
        (``high`` or ``low``), largest ``|robust_z|`` first.
    """
    parts = []
    for name, s in ds.spec.sources.items():
        t = ds.tables.get(name)
        parts += source_outliers(name, s, t, lambda name=name: accepted_file_rows(ds, name), z, min_rows)
    return outlier_frame(parts)


def source_outliers(name: str, s: SourceSpec, t: pd.DataFrame | None, file_rows: Callable[[], np.ndarray | None],
                    z: float = OUTLIER_Z, min_rows: int = 30) -> list[pd.DataFrame]:
    """The outlying amounts of one source (parts of :func:`outlier_frame`).

    ``file_rows`` gives the 1-based file row of each accepted row (None when unknown); it is
    called only when an outlier is found.
    """
    cols = [c for c in s.columns if c in s.amounts or c in getattr(s, "maxima", {})]
    if t is None or not len(t) or not cols:
        return []
    parts = []
    rows_of_file = None
    for col in cols:
        x = t[col].to_numpy(dtype="float64", na_value=np.nan)
        found = _column_outliers(x, z, min_rows)
        if found is None:
            continue
        idx, rz, typical = found
        if rows_of_file is None:
            rows_of_file = file_rows()
        rows = (pd.array(rows_of_file[idx], dtype="Int64") if rows_of_file is not None
                else pd.array([pd.NA] * len(idx), dtype="Int64"))
        parts.append(pd.DataFrame({
            "source": name, "row": rows, "column": col, "value": x[idx], "typical": typical,
            "robust_z": rz, "direction": np.where(rz > 0, "high", "low"),
        }))
    return parts


def outlier_frame(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """:func:`amount_outliers` from the sources' :func:`source_outliers` (in spec order)."""
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in zip(OUTLIER_COLUMNS, _OUTLIER_DTYPES, strict=True)})
    out = pd.concat(parts, ignore_index=True)
    order = np.argsort(-np.abs(out["robust_z"].to_numpy()), kind="stable")
    return out.iloc[order].reset_index(drop=True)
