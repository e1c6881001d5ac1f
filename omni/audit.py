"""Data audit: per-source quality checks, ranked issues and a quality score.

Every function takes the loaded :class:`omni.io.Dataset` (and, where identifiers matter, the
normalized identifier table) and returns a DataFrame; notebook 01 shows them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omni.unify import record_time_column


def _month_bounds(month: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    p = pd.Period(month, freq="M")
    return p.start_time, p.end_time.floor("s") + pd.Timedelta(seconds=1)


def source_overview(ds, month: str) -> pd.DataFrame:
    """Rows in / accepted / quarantined, date range and freshness per source.

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
    start, end = _month_bounds(month)
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


def _file_records(c) -> float:
    if c is None or "file_records" not in c or pd.isna(c["file_records"]):
        return np.nan
    return int(c["file_records"])


#: Severity of each read-level finding (omni.io.read.ReadIssue.check).
READ_CHECK_SEVERITY = {
    "unbalanced_quote": "high",
    "header_only": "high",
    "mojibake": "high",
    "truncated_last_line": "high",
    "unreconciled": "high",
}


def read_checks(ds) -> pd.DataFrame:
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


def quarantine_reasons(ds) -> pd.DataFrame:
    """Quarantined cells by source, column and reason (``problems``), with an example row number."""
    q = ds.quarantine
    if q.empty:
        return pd.DataFrame(columns=["source", "column", "reason", "problems", "example_row"])
    return (q.groupby(["source", "column", "reason"], observed=True)
            .agg(problems=("row", "size"), example_row=("row", "min"))
            .reset_index().sort_values("problems", ascending=False).reset_index(drop=True))


def completeness(ds) -> pd.DataFrame:
    """Share of non-null values per declared column of every source (long format).

    ``identifier`` marks identifier columns, which are sparse by design (not every order carries a
    member card); the quality score counts completeness over the other columns.
    """
    rows = []
    for name, s in ds.spec.sources.items():
        t = ds.tables.get(name)
        if t is None or not len(t):
            continue
        filled = t[list(s.columns)].notna().mean()
        id_cols = {i.column for i in s.identifiers}
        for col, share in filled.items():
            rows.append({"source": name, "column": col, "type": s.columns[col], "filled": float(share),
                         "required": col in s.required, "identifier": col in id_cols})
    return pd.DataFrame(rows)


def identifier_validity(ids: pd.DataFrame) -> pd.DataFrame:
    """Per source and identifier type: values seen, share valid, placeholder text for a missing value
    (``null_like``: "null", "0", "N/A"...), other invalid values (``invalid_other``: malformed,
    blocked defaults, all-zero devices, masked phones) and the top reason for invalid ones."""
    g = ids.groupby(["source", "id_type"], observed=True)
    out = g.agg(values=("valid", "size"), valid=("valid", "sum")).reset_index()
    out["valid_share"] = out["valid"] / out["values"]
    nl = (ids["reason"].astype(str) == "null_like").groupby([ids["source"], ids["id_type"]], observed=True).sum()
    out["null_like"] = nl.reindex(pd.MultiIndex.from_frame(out[["source", "id_type"]])).fillna(0).astype(int).to_numpy()
    out["invalid_other"] = out["values"] - out["valid"] - out["null_like"]
    inv = ids[~ids["valid"] & (ids["reason"].astype(str) != "null_like")]
    if len(inv):
        top = (inv.groupby(["source", "id_type", "reason"], observed=True).size().rename("n").reset_index()
               .sort_values("n", ascending=False).drop_duplicates(["source", "id_type"]))
        out = out.merge(top.rename(columns={"reason": "top_invalid_reason", "n": "top_invalid_n"}),
                        on=["source", "id_type"], how="left")
    return out


def junk_values(ids: pd.DataFrame) -> pd.DataFrame:
    """Invalid identifier values by reason and type: how many and in how many sources."""
    inv = ids[~ids["valid"]]
    return (inv.groupby(["reason", "id_type"], observed=True)
            .agg(occurrences=("valid", "size"), sources=("source", "nunique"))
            .reset_index().sort_values("occurrences", ascending=False).reset_index(drop=True))


def duplicate_rows(ds) -> pd.DataFrame:
    """Accepted rows that repeat another row in every declared column but the key."""
    rows = []
    for name, s in ds.spec.sources.items():
        t = ds.tables.get(name)
        if t is None or not len(t):
            continue
        cols = [c for c in s.columns if c != s.key]
        dup = int(t.duplicated(subset=cols).sum()) if cols else 0
        rows.append({"source": name, "rows": len(t), "duplicate_rows": dup, "duplicate_share": dup / len(t)})
    return pd.DataFrame(rows)


def monthly_volume(ds, month: str, months: int = 12) -> pd.DataFrame:
    """Rows per month per source for the ``months`` up to the report month (wide: months x sources)."""
    end = pd.Period(month, freq="M")
    idx = pd.period_range(end - months + 1, end, freq="M")
    cols = {}
    for name, s in ds.spec.sources.items():
        t = ds.tables.get(name)
        tc = record_time_column(s)
        if t is None or not tc or tc not in t.columns:
            continue
        per = pd.to_datetime(t[tc]).dt.to_period("M")
        cols[name] = per.value_counts().reindex(idx, fill_value=0)
    out = pd.DataFrame(cols, index=idx)
    out.index.name = "month"
    return out


def volume_change(volume: pd.DataFrame, baseline_months: int = 3) -> pd.DataFrame:
    """This month's rows vs the mean of the previous ``baseline_months``, per source."""
    cur = volume.iloc[-1]
    base = volume.iloc[-1 - baseline_months:-1].mean()
    return pd.DataFrame({"this_month": cur, "previous_mean": base,
                         "change": (cur - base) / base.where(base > 0)}).rename_axis("source").reset_index()


def timezone_check(ds, min_rows: int = 200, min_rhythm: float = 0.3) -> pd.DataFrame:
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
    hist = {}
    for name, s in ds.spec.sources.items():
        t = ds.tables.get(name)
        tc = record_time_column(s)
        if t is None or not tc or tc not in t.columns or s.columns.get(tc) != "datetime":
            continue
        h = pd.to_datetime(t[tc]).dt.hour.dropna().astype(int)
        if len(h) < min_rows or h.nunique() < 6:  # dates only, or too few rows
            continue
        hist[name] = np.bincount(h, minlength=24).astype(float)
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


def referential_integrity(ids: pd.DataFrame, id_type: str = "member_id", master: str | None = None) -> pd.DataFrame:
    """Share of each source's ``id_type`` values that the master source does not know.

    The master is the source holding the most distinct values of the type (the CRM for member ids)
    unless given. An order pointing at a member id that the CRM never issued is an orphan.
    """
    v = ids[(ids["id_type"] == id_type) & ids["valid"]][["source", "value"]].drop_duplicates()
    if v.empty:
        return pd.DataFrame(columns=["source", "master", "values", "unknown_to_master", "unknown_share"])
    master = master or str(v["source"].value_counts().idxmax())
    known = set(v.loc[v["source"] == master, "value"])
    rows = []
    for src, g in v[v["source"] != master].groupby("source", observed=True):
        unknown = int((~g["value"].isin(known)).sum())
        rows.append({"source": src, "master": master, "values": len(g), "unknown_to_master": unknown,
                     "unknown_share": unknown / len(g)})
    return pd.DataFrame(rows)


def identifier_overlap(ids: pd.DataFrame, id_type: str) -> pd.DataFrame:
    """Share of source *row*'s distinct ``id_type`` values also present in source *column*."""
    v = ids[(ids["id_type"] == id_type) & ids["valid"]][["source", "value"]].drop_duplicates()
    if v.empty:
        return pd.DataFrame()
    v = v.assign(source=v["source"].astype(str))
    m = pd.crosstab(v["value"], v["source"]).astype(bool).astype(np.int64)
    both = m.T @ m
    return both.div(np.diag(both), axis=0)


def pii_inventory(ds, sample: int = 5000) -> pd.DataFrame:
    """Which columns hold personal data: declared in sources.yaml and/or detected in the values."""
    from omni.privacy import scan_pii

    rows = []
    for name, s in ds.spec.sources.items():
        t = ds.tables.get(name)
        declared = s.personal_columns()
        detected = {}
        if t is not None and len(t):
            found = scan_pii(t.head(sample) if len(t) > sample else t)
            detected = {r.column: (r.pii_type, r.share) for r in found.itertuples()}
        for col in sorted(set(declared) | set(detected)):
            rows.append({"source": name, "column": col, "declared_as": declared.get(col, ""),
                         "detected_as": detected.get(col, ("", np.nan))[0],
                         "detected_share": detected.get(col, ("", np.nan))[1],
                         "undeclared": col not in declared})
    return pd.DataFrame(rows)


def quality_scores(overview: pd.DataFrame, comp: pd.DataFrame, validity: pd.DataFrame,
                   tz: pd.DataFrame, max_stale_days: float = 7) -> pd.DataFrame:
    """A 0-100 quality score per source: the mean of five checks, each in [0, 1].

    accepted share (1 - quarantine rate); completeness (mean filled share of declared non-identifier
    columns);
    identifier validity (share of identifier values usable for linking; 1 without identifiers);
    freshness (1 if the last record is within ``max_stale_days`` of the month end, else decaying by
    half per further week); clock (1 unless the timezone check flags the source).
    """
    s = overview.set_index("source")
    out = pd.DataFrame(index=s.index)
    out["accepted"] = 1 - s["quarantine_rate"].fillna(0)
    attrs = comp[~comp["identifier"]] if "identifier" in comp else comp
    out["completeness"] = attrs.groupby("source")["filled"].mean().reindex(out.index).fillna(1)
    tot = validity.groupby("source", observed=True)[["valid", "values"]].sum()
    val = tot["valid"] / tot["values"]
    out["identifier_validity"] = val.reindex(out.index).fillna(1)
    stale = s["days_stale"]
    out["freshness"] = np.where(stale.isna() | (stale <= max_stale_days), 1.0,
                                0.5 ** ((stale - max_stale_days) / 7))
    flagged = set(tz.loc[tz["flag"], "source"]) if len(tz) else set()
    out["clock"] = [0.0 if x in flagged else 1.0 for x in out.index]
    out["score"] = 100 * out[["accepted", "completeness", "identifier_validity", "freshness", "clock"]].mean(axis=1)
    return out.reset_index().sort_values("score")


def ranked_issues(overview, qreasons, validity, tz, integrity, volume_chg, pii, read=None) -> pd.DataFrame:
    """Issues found, most severe first: ``severity`` (high/medium/low), ``source``, ``issue``, ``figure``.

    ``read`` is :func:`read_checks` (unbalanced quotes, header-only files, likely mojibake,
    truncated last lines): each finding is an issue of its own.
    """
    issues = []
    for r in read.itertuples() if read is not None and len(read) else []:
        issues.append((r.severity, r.source, r.issue.split(": ", 1)[-1], r.figure))
    for r in overview.itertuples():
        if not r.reconciled:
            fr = getattr(r, "file_records", np.nan)
            figure = f"{int(r.rows_in):,} rows in, {int(fr):,} records in the file" if pd.notna(fr) else "not checked"
            issues.append(("high", r.source, "row counts do not reconcile (rows in = accepted + quarantined = records "
                           "counted in the file)", figure))
        if r.quarantine_rate and r.quarantine_rate > 0:
            sev = "high" if r.quarantine_rate > 0.01 else "medium" if r.quarantine_rate > 0.001 else "low"
            issues.append((sev, r.source, "rows quarantined", f"{int(r.quarantined):,} ({r.quarantine_rate:.2%})"))
        if pd.notna(r.days_stale) and r.days_stale > 7:
            issues.append(("medium", r.source, "stale: last record long before month end", f"{r.days_stale:.0f} days"))
    for r in tz.itertuples() if len(tz) else []:
        if r.flag:
            issues.append(("high", r.source, "clock looks shifted vs other sources (timezone?)", f"{r.best_shift_hours:+d} h"))
    for r in validity.itertuples():
        other = r.invalid_other / r.values if "invalid_other" in validity else 1 - r.valid_share
        if other > 0.005:
            sev = "high" if other > 0.05 else "medium" if other > 0.01 else "low"
            why = getattr(r, "top_invalid_reason", "") or ""
            issues.append((sev, r.source, f"invalid {r.id_type} values (mostly {why})",
                           f"{r.invalid_other:,} ({other:.1%})" if "invalid_other" in validity else f"{other:.1%}"))
        nl = getattr(r, "null_like", 0) / r.values
        if nl > 0.01:
            issues.append(("medium" if nl > 0.2 else "low", r.source,
                           f"missing {r.id_type} written as text ('null', '0', 'N/A'...)", f"{r.null_like:,} ({nl:.1%})"))
    for r in integrity.itertuples() if len(integrity) else []:
        if r.unknown_share > 0.001:
            sev = "medium" if r.unknown_share > 0.01 else "low"
            issues.append((sev, r.source, f"member ids unknown to {r.master}", f"{r.unknown_to_master:,} ({r.unknown_share:.1%})"))
    for r in volume_chg.itertuples():
        if pd.notna(r.change) and abs(r.change) > 0.3:
            issues.append(("medium", r.source, "volume this month far from the previous 3 months", f"{r.change:+.0%}"))
    for r in pii.itertuples() if len(pii) else []:
        if r.undeclared:
            issues.append(("medium", r.source, f"column '{r.column}' holds personal data ({r.detected_as}) but is not declared", ""))
    order = {"high": 0, "medium": 1, "low": 2}
    out = pd.DataFrame(issues, columns=["severity", "source", "issue", "figure"])
    return out.sort_values("severity", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


#: Robust z (on log amounts) beyond which an amount is listed by :func:`amount_outliers`: about
#: 150x above (or below) the median for a typical order-size spread (MAD of 0.8 in log units).
OUTLIER_Z: float = 5.0
OUTLIER_COLUMNS: tuple[str, ...] = (
    "source", "row", "column", "value", "typical", "robust_z", "direction",
)


def accepted_file_rows(ds, source: str) -> np.ndarray | None:
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


def _robust_z(logs: np.ndarray) -> np.ndarray | None:
    """(x - median) / (1.4826 MAD), with the mean absolute deviation when the MAD is 0."""
    med = np.median(logs)
    dev = np.abs(logs - med)
    scale = 1.4826 * np.median(dev)
    if scale == 0:
        scale = 1.2533 * dev.mean()
    if scale == 0:
        return None
    return (logs - med) / scale


def amount_outliers(ds, z: float = OUTLIER_Z, min_rows: int = 30) -> pd.DataFrame:
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
        cols = [c for c in s.columns if c in s.amounts or c in getattr(s, "maxima", {})]
        if t is None or not len(t) or not cols:
            continue
        file_rows = None
        for col in cols:
            x = t[col].to_numpy(dtype="float64", na_value=np.nan)
            pos = np.flatnonzero(np.isfinite(x) & (x > 0))
            if len(pos) < min_rows:
                continue
            logs = np.log(x[pos])
            rz = _robust_z(logs)
            if rz is None:
                continue
            hit = np.abs(rz) > z
            if not hit.any():
                continue
            if file_rows is None:
                file_rows = accepted_file_rows(ds, name)
            idx = pos[hit]
            rows = (pd.array(file_rows[idx], dtype="Int64") if file_rows is not None
                    else pd.array([pd.NA] * len(idx), dtype="Int64"))
            parts.append(pd.DataFrame({
                "source": name, "row": rows, "column": col, "value": x[idx],
                "typical": float(np.exp(np.median(logs))), "robust_z": rz[hit],
                "direction": np.where(rz[hit] > 0, "high", "low"),
            }))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in zip(
            OUTLIER_COLUMNS, [object, "Int64", object, float, float, float, object], strict=True)})
    out = pd.concat(parts, ignore_index=True)
    order = np.argsort(-np.abs(out["robust_z"].to_numpy()), kind="stable")
    return out.iloc[order].reset_index(drop=True)


def outlier_issues(outliers: pd.DataFrame, z: float = OUTLIER_Z) -> pd.DataFrame:
    """One ranked issue per source and column with outlying amounts (``medium``: review them)."""
    rows = []
    if len(outliers):
        for (src, col), g in outliers.groupby(["source", "column"], sort=False):
            top = g.loc[g["robust_z"].abs().idxmax()]
            rows.append(("medium", src, f"'{col}' amounts far from the typical value "
                         f"(robust z beyond {z:g} on the log scale; see the outlier table)",
                         f"{len(g):,} row(s), e.g. row {top['row']}: {top['value']:.6g}"))
    return pd.DataFrame(rows, columns=["severity", "source", "issue", "figure"])


def with_issues(issues: pd.DataFrame, *more: pd.DataFrame) -> pd.DataFrame:
    """``issues`` plus more issue rows, most severe first (the order within a severity is kept)."""
    parts = [issues, *(m for m in more if len(m))]
    if len(parts) == 1:
        return issues
    out = pd.concat(parts, ignore_index=True)
    order = {"high": 0, "medium": 1, "low": 2}
    return out.sort_values("severity", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def record_count_check(ds) -> bool:
    """True when every source reconciles: rows in = accepted + quarantined."""
    return bool(ds.counts["reconciled"].all())


__all__ = [
    "accepted_file_rows", "amount_outliers", "completeness", "duplicate_rows", "identifier_overlap",
    "identifier_validity", "junk_values", "monthly_volume", "outlier_issues", "pii_inventory",
    "quality_scores", "quarantine_reasons", "ranked_issues", "read_checks", "record_count_check",
    "referential_integrity", "source_overview", "timezone_check", "volume_change", "with_issues",
]
