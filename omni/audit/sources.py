"""Per-source overview: rows in, accepted, quarantined and why, reconciliation, time span, freshness."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from omni.core.month import Month
from omni.io import Dataset, SourceSpec
from omni.unify import record_time_column

__all__ = [
    "READ_CHECK_SEVERITY", "accepted_file_rows", "file_rows", "overview_frame", "overview_row",
    "quarantine_reasons", "quarantine_reasons_of", "read_checks", "read_checks_of", "record_count_check",
    "source_overview", "time_span",
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
    counts = ds.counts.set_index("source")
    rows = []
    for name, s in ds.spec.sources.items():
        t = ds.tables.get(name)
        tc = record_time_column(s)
        times = pd.to_datetime(t[tc]) if t is not None and tc and tc in t.columns and len(t) else None
        c = counts.loc[name] if name in counts.index else None
        rows.append(overview_row(name, s, c, time_span(times, m), m))
    return overview_frame(rows)


def time_span(times: pd.Series | None, month: Month) -> tuple[Any, Any, float]:
    """First and last time and the rows in ``month`` of one source's record times (NaT, NaT, NaN
    without them)."""
    if times is None:
        return pd.NaT, pd.NaT, np.nan
    return times.min(), times.max(), int(((times >= month.start) & (times < month.end)).sum())


def overview_row(name: str, s: SourceSpec, c: Any, span: tuple[Any, Any, float], month: Month) -> dict[str, Any]:
    """One row of :func:`source_overview`.

    ``c`` is the source's row of ``Dataset.counts`` or :meth:`omni.io.LoadedSource.counts` (None
    when the source was not loaded), ``span`` its :func:`time_span`.
    """
    first, last, this_month = span
    return {
        "source": name, "file": s.file, "format": s.format,
        "encoding": s.encoding if s.format == "csv" else "", "timezone": s.timezone,
        "rows_in": int(c["rows_in"]) if c is not None else np.nan,
        "accepted": int(c["accepted"]) if c is not None else np.nan,
        "quarantined": int(c["quarantined"]) if c is not None else np.nan,
        "file_records": _file_records(c),
        "reconciled": bool(c["reconciled"]) if c is not None else False,
        "first": first, "last": last,
        "days_stale": (month.end - last).total_seconds() / 86400 if pd.notna(last) else np.nan,
        "rows_this_month": this_month,
    }


def overview_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """:func:`source_overview` from its rows (:func:`overview_row`, in spec order)."""
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
    return read_checks_of(getattr(ds, "read_issues", None))


def read_checks_of(r: pd.DataFrame | None) -> pd.DataFrame:
    """:func:`read_checks` of a ``Dataset.read_issues`` table."""
    cols = ["severity", "source", "check", "issue", "figure"]
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
    return quarantine_reasons_of(ds.quarantine)


def quarantine_reasons_of(q: pd.DataFrame) -> pd.DataFrame:
    """:func:`quarantine_reasons` of a ``Dataset.quarantine`` table."""
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
    return file_rows(int(counts.loc[source, "rows_in"]), rej, len(ds.tables[source]))


def file_rows(rows_in: int, rejected: pd.Series, accepted: int) -> np.ndarray | None:
    """:func:`accepted_file_rows` of one source: ``rows_in`` rows read, the file ``row`` of each
    quarantine entry (``rejected``) and the number of ``accepted`` rows."""
    if rejected.isna().any():
        return None
    rej = rejected.to_numpy(dtype=np.int64)
    kept = np.ones(rows_in, dtype=bool)  # a mask, not a set difference: no sort or hash of the rows
    kept[rej[(rej >= 1) & (rej <= rows_in)] - 1] = False
    rows = np.flatnonzero(kept) + 1
    return rows if len(rows) == accepted else None
