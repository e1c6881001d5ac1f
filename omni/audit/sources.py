"""Per-source overview: rows in, accepted, quarantined and why, reconciliation, time span, freshness."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from omni.core.month import Month
from omni.io import Dataset
from omni.unify import record_time_column

__all__ = [
    "READ_CHECK_SEVERITY", "accepted_file_rows", "quarantine_reasons", "read_checks",
    "record_count_check", "source_overview",
]

#: Severity of each read-level finding (omni.io.read.ReadIssue.check); other checks are ``medium``.
READ_CHECK_SEVERITY = {
    "unbalanced_quote": "high",
    "header_only": "high",
    "mojibake": "high",
    "truncated_last_line": "high",
    "unreconciled": "high",
}


def source_overview(ds: Dataset, month: str | Month) -> pd.DataFrame:
    """Rows in / accepted / quarantined, date range and freshness per source.

    Parameters
    ----------
    ds : Dataset
        The loaded dataset.
    month : str or Month
        The report month (``YYYY-MM``).

    Returns
    -------
    DataFrame
        ``source``, ``file``, ``format``, ``encoding``, ``timezone``, ``rows_in``, ``accepted``,
        ``quarantined``, ``quarantine_rate``, ``file_records`` (records counted from the file
        itself, independently of the parser), ``reconciled`` (rows in = accepted + quarantined =
        file records), ``first``, ``last``,
        ``days_stale`` (days from the last record to the end of the report month; NaN for sources
        without a time column), ``rows_this_month``.
    """
    m = Month.parse(month)
    start, end = m.start, m.end
    counts = ds.counts.set_index("source")
    rows = []
    for name, s in ds.spec.sources.items():
        t = ds.tables.get(name)
        tc = record_time_column(s)
        first = last = pd.NaT
        this_month = np.nan
        if t is not None and tc and tc in t.columns and len(t):
            times = pd.to_datetime(t[tc])
            first, last = times.min(), times.max()
            this_month = int(((times >= start) & (times < end)).sum())
        c = counts.loc[name] if name in counts.index else None
        rows.append({
            "source": name, "file": s.file, "format": s.format,
            "encoding": s.encoding if s.format == "csv" else "", "timezone": s.timezone,
            "rows_in": int(c["rows_in"]) if c is not None else np.nan,
            "accepted": int(c["accepted"]) if c is not None else np.nan,
            "quarantined": int(c["quarantined"]) if c is not None else np.nan,
            "file_records": _file_records(c),
            "reconciled": bool(c["reconciled"]) if c is not None else False,
            "first": first, "last": last,
            "days_stale": (end - last).total_seconds() / 86400 if pd.notna(last) else np.nan,
            "rows_this_month": this_month,
        })
    out = pd.DataFrame(rows)
    out["quarantine_rate"] = out["quarantined"] / out["rows_in"].where(out["rows_in"] > 0)
    return out


def _file_records(c: Any) -> float:
    if c is None or "file_records" not in c or pd.isna(c["file_records"]):
        return np.nan
    return int(c["file_records"])


def read_checks(ds: Dataset) -> pd.DataFrame:
    """File-level findings of the load (``ds.read_issues``) with their severity.

    Returns
    -------
    DataFrame
        ``severity``, ``source``, ``check``, ``issue`` (one line, no personal data), ``figure``.
    """
    cols = ["severity", "source", "check", "issue", "figure"]
    r = getattr(ds, "read_issues", None)
    if r is None or not len(r):
        return pd.DataFrame(columns=cols)
    out = r.assign(severity=r["check"].map(READ_CHECK_SEVERITY).fillna("medium"))
    return out[cols].reset_index(drop=True)


def quarantine_reasons(ds: Dataset) -> pd.DataFrame:
    """Quarantined cells by source, column and reason.

    Returns
    -------
    DataFrame
        ``source``, ``column``, ``reason``, ``problems`` (cells), ``example_row`` (the first 1-based
        data row in the file), most problems first.
    """
    q = ds.quarantine
    if q.empty:
        return pd.DataFrame(columns=["source", "column", "reason", "problems", "example_row"])
    return (q.groupby(["source", "column", "reason"], observed=True)
            .agg(problems=("row", "size"), example_row=("row", "min"))
            .reset_index().sort_values("problems", ascending=False).reset_index(drop=True))


def record_count_check(ds: Dataset) -> bool:
    """True when every source reconciles: rows in = accepted + quarantined."""
    return bool(ds.counts["reconciled"].all())


def accepted_file_rows(ds: Dataset, source: str) -> np.ndarray | None:
    """1-based data row in the file of each accepted row of ``source`` (None when unknown).

    The accepted table keeps the file order and leaves out exactly the quarantined rows, so its
    rows are the file's rows minus the quarantined row numbers. None when a quarantined line has
    no known row number (a CSV the parsers split differently).
    """
    counts = ds.counts.set_index("source")
    if source not in counts.index:
        return None
    q = ds.quarantine
    rej = q.loc[(q["source"] == source).to_numpy(), "row"]
    if rej.isna().any():
        return None
    rows_in = int(counts.loc[source, "rows_in"])
    rows = np.setdiff1d(np.arange(1, rows_in + 1, dtype=np.int64), rej.to_numpy(dtype=np.int64))
    return rows if len(rows) == len(ds.tables[source]) else None
