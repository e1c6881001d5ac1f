"""Rows per month per source, and this month against the months before."""

from __future__ import annotations

import pandas as pd

from omni.core.month import Month
from omni.io import Dataset
from omni.unify import record_time_column

__all__ = ["month_counts", "monthly_volume", "volume_change", "volume_frame", "volume_months"]


def monthly_volume(ds: Dataset, month: str | Month, months: int = 12) -> pd.DataFrame:
    """Rows per month per source for the ``months`` up to the report month.

    Returns
    -------
    DataFrame
        Wide: one row per month (a ``PeriodIndex`` named ``month``), one column per source with
        a time column.
    """
    idx = volume_months(month, months)
    cols = {}
    for name, s in ds.spec.sources.items():
        t = ds.tables.get(name)
        tc = record_time_column(s)
        if t is None or not tc or tc not in t.columns:
            continue
        cols[name] = month_counts(pd.to_datetime(t[tc]), idx)
    return volume_frame(cols, idx)


def volume_months(month: str | Month, months: int = 12) -> pd.PeriodIndex:
    """The ``months`` months up to the report month (the rows of :func:`monthly_volume`)."""
    end = Month.parse(month).period
    return pd.period_range(end - months + 1, end, freq="M")


def month_counts(times: pd.Series, idx: pd.PeriodIndex) -> pd.Series:
    """Rows per month of ``idx`` (:func:`volume_months`) of one source's record times."""
    return times.dt.to_period("M").value_counts().reindex(idx, fill_value=0)


def volume_frame(cols: dict[str, pd.Series], idx: pd.PeriodIndex) -> pd.DataFrame:
    """:func:`monthly_volume` from each source's :func:`month_counts` (in spec order)."""
    out = pd.DataFrame(cols, index=idx)
    out.index.name = "month"
    return out


def volume_change(volume: pd.DataFrame, baseline_months: int = 3) -> pd.DataFrame:
    """This month's rows against the mean of the previous ``baseline_months``, per source.

    Returns
    -------
    DataFrame
        ``source``, ``this_month``, ``previous_mean``, ``change`` (relative; NaN without a baseline).
    """
    cur = volume.iloc[-1]
    base = volume.iloc[-1 - baseline_months:-1].mean()
    return pd.DataFrame({"this_month": cur, "previous_mean": base,
                         "change": (cur - base) / base.where(base > 0)}).rename_axis("source").reset_index()
