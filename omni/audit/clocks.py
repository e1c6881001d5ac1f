"""Clocks: a source stamped in another timezone shows the daily rhythm of the others shifted."""

from __future__ import annotations

import numpy as np
import pandas as pd

from omni.io import Dataset
from omni.unify import record_time_column

__all__ = ["hour_histogram", "hour_histograms", "timezone_check", "timezone_check_of"]


def hour_histograms(ds: Dataset, min_rows: int = 200) -> dict[str, np.ndarray]:
    """Rows per hour of day (24 counts) of every source with a datetime time column.

    Sources with fewer than ``min_rows`` rows, or with fewer than 6 distinct hours (dates only),
    are left out.
    """
    hist = {}
    for name, s in ds.spec.sources.items():
        t = ds.tables.get(name)
        tc = record_time_column(s)
        if t is None or not tc or tc not in t.columns or s.columns.get(tc) != "datetime":
            continue
        h = hour_histogram(pd.to_datetime(t[tc]), min_rows)
        if h is not None:
            hist[name] = h
    return hist


def hour_histogram(times: pd.Series, min_rows: int = 200) -> np.ndarray | None:
    """Rows per hour of day (24 counts) of one source's record times; None with fewer than
    ``min_rows`` times or fewer than 6 distinct hours (dates only)."""
    h = times.dt.hour.dropna().astype(int)
    if len(h) < min_rows or h.nunique() < 6:  # dates only, or too few rows
        return None
    return np.bincount(h, minlength=24).astype(float)


def timezone_check(ds: Dataset, min_rows: int = 200, min_rhythm: float = 0.3) -> pd.DataFrame:
    """Estimate each source's clock offset against the others from hour-of-day profiles.

    People shop and browse on a daily rhythm; a source stamped in another timezone shows the same
    rhythm shifted. For every source with a time column this finds the circular shift (in hours) that
    best aligns its hour-of-day histogram with the pooled histogram of all other sources (highest
    correlation). A shift other than 0 suggests a timezone mismatch (e.g. -8 for UTC stamps read as
    Beijing time). Sources without a daily rhythm (hour profile with a coefficient of variation
    below ``min_rhythm``: scheduled sends, follow events spread over the day) are not judged. A
    flag needs the best shift to beat no shift by 0.2 in correlation and to reach 0.6.

    Returns
    -------
    DataFrame
        ``source``, ``rows``, ``rhythm``, ``best_shift_hours``, ``corr_at_best``, ``corr_at_zero``,
        ``flag``.
    """
    return timezone_check_of(hour_histograms(ds, min_rows), min_rhythm)


def timezone_check_of(hist: dict[str, np.ndarray], min_rhythm: float = 0.3) -> pd.DataFrame:
    """:func:`timezone_check` of the sources' :func:`hour_histogram` (in spec order)."""
    # only sources with a daily rhythm can be compared (uniform send/follow times carry no clock)
    share = {k: v / v.sum() for k, v in hist.items()}
    rhythm = {k: float(p.std() / p.mean()) for k, p in share.items()}
    rows = []
    for name, p in share.items():
        refs = [share[k] for k in share if k != name and rhythm[k] >= min_rhythm]
        row = {"source": name, "rows": int(hist[name].sum()), "rhythm": rhythm[name],
               "best_shift_hours": 0, "corr_at_best": np.nan, "corr_at_zero": np.nan, "flag": False}
        if rhythm[name] >= min_rhythm and refs:
            others = np.mean(refs, axis=0)
            corr = np.array([np.corrcoef(np.roll(p, -k), others)[0, 1] for k in range(-11, 13)])
            best = int(np.nanargmax(corr)) - 11
            row.update(best_shift_hours=-best, corr_at_best=float(np.nanmax(corr)), corr_at_zero=float(corr[11]),
                       flag=bool(best != 0 and np.nanmax(corr) - corr[11] > 0.2 and np.nanmax(corr) > 0.6))
        rows.append(row)
    return pd.DataFrame(rows)
