"""The audit's findings as one ranked list: ``severity``, ``source``, ``issue``, ``figure``.

Each row's ``issue`` is a short plain-text description of the finding and ``figure`` the number
behind it; both are shown escaped in the report table. Severity thresholds live here, and so does
each finding's wording, in both report languages side by side (``issue_zh``, ``figure_zh``:
:func:`omni.audit.narrative.issues_table` shows the report's language).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from omni.audit.outliers import OUTLIER_Z

__all__ = ["ISSUE_COLUMNS", "SEVERITY_ORDER", "outlier_issues", "ranked_issues", "with_issues"]

ISSUE_COLUMNS = ["severity", "source", "issue", "figure", "issue_zh", "figure_zh"]
#: Sort order of severities (most severe first).
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}

_Issue = tuple[str, str, str, str, str, str]


def _by_severity(issues: pd.DataFrame) -> pd.DataFrame:
    return issues.sort_values("severity", key=lambda s: s.map(SEVERITY_ORDER), kind="stable").reset_index(drop=True)


def _rows(df: pd.DataFrame | None) -> Iterator:
    return df.itertuples() if df is not None and len(df) else iter(())


def _read_issues(read: pd.DataFrame | None) -> Iterator[_Issue]:
    for r in _rows(read):
        text = r.issue.split(": ", 1)[-1]  # the loader's own message (English), with its check named in Chinese
        yield r.severity, r.source, text, r.figure, f"读取检查 {r.check}：{text}", r.figure


def _overview_issues(overview: pd.DataFrame) -> Iterator[_Issue]:
    for r in _rows(overview):
        if not r.reconciled:
            fr = getattr(r, "file_records", np.nan)
            figure = f"{int(r.rows_in):,} rows in, {int(fr):,} records in the file" if pd.notna(fr) else "not checked"
            figure_zh = f"读入 {int(r.rows_in):,} 行，文件中 {int(fr):,} 条记录" if pd.notna(fr) else "未核对"
            yield ("high", r.source, "row counts do not reconcile (rows in = accepted + quarantined = records "
                   "counted in the file)", figure, "行数对不上（读入 = 接受 + 隔离 = 文件中计得的记录数）", figure_zh)
        if r.quarantine_rate and r.quarantine_rate > 0:
            sev = "high" if r.quarantine_rate > 0.01 else "medium" if r.quarantine_rate > 0.001 else "low"
            figure = f"{int(r.quarantined):,} ({r.quarantine_rate:.2%})"
            yield sev, r.source, "rows quarantined", figure, "有行被隔离", figure
        if pd.notna(r.days_stale) and r.days_stale > 7:
            yield ("medium", r.source, "stale: last record long before month end", f"{r.days_stale:.0f} days",
                   "数据陈旧：最后一条记录远早于月末", f"{r.days_stale:.0f} 天")


def _clock_issues(tz: pd.DataFrame) -> Iterator[_Issue]:
    for r in _rows(tz):
        if r.flag:
            yield ("high", r.source, "clock looks shifted vs other sources (timezone?)", f"{r.best_shift_hours:+d} h",
                   "时钟与其他数据源相比有偏移（时区？）", f"{r.best_shift_hours:+d} 小时")


def _identifier_issues(validity: pd.DataFrame) -> Iterator[_Issue]:
    detailed = "invalid_other" in validity
    for r in _rows(validity):
        other = r.invalid_other / r.values if detailed else 1 - r.valid_share
        if other > 0.005:
            sev = "high" if other > 0.05 else "medium" if other > 0.01 else "low"
            why = getattr(r, "top_invalid_reason", "") or ""
            figure = f"{r.invalid_other:,} ({other:.1%})" if detailed else f"{other:.1%}"
            yield (sev, r.source, f"invalid {r.id_type} values (mostly {why})", figure,
                   f"{r.id_type} 无效值（主要原因：{why}）", figure)
        nl = getattr(r, "null_like", 0) / r.values
        if nl > 0.01:
            figure = f"{r.null_like:,} ({nl:.1%})"
            yield ("medium" if nl > 0.2 else "low", r.source,
                   f"missing {r.id_type} written as text ('null', '0', 'N/A'...)", figure,
                   f"{r.id_type} 缺失值写成了文本（'null'、'0'、'N/A' 等）", figure)


def _integrity_issues(integrity: pd.DataFrame) -> Iterator[_Issue]:
    for r in _rows(integrity):
        if r.unknown_share > 0.001:
            sev = "medium" if r.unknown_share > 0.01 else "low"
            figure = f"{r.unknown_to_master:,} ({r.unknown_share:.1%})"
            yield sev, r.source, f"member ids unknown to {r.master}", figure, f"{r.master} 中不存在的会员 ID", figure


def _volume_issues(volume_chg: pd.DataFrame) -> Iterator[_Issue]:
    for r in _rows(volume_chg):
        if pd.notna(r.change) and abs(r.change) > 0.3:
            figure = f"{r.change:+.0%}"
            yield ("medium", r.source, "volume this month far from the previous 3 months", figure,
                   "本月数据量与前 3 个月相差很大", figure)


def _pii_issues(pii: pd.DataFrame) -> Iterator[_Issue]:
    for r in _rows(pii):
        if r.undeclared:
            yield ("medium", r.source, f"column '{r.column}' holds personal data ({r.detected_as}) but is not declared",
                   "", f"列 '{r.column}' 含个人信息（{r.detected_as}）但未声明", "")


def ranked_issues(overview: pd.DataFrame, qreasons: pd.DataFrame, validity: pd.DataFrame, tz: pd.DataFrame,
                  integrity: pd.DataFrame, volume_chg: pd.DataFrame, pii: pd.DataFrame,
                  read: pd.DataFrame | None = None) -> pd.DataFrame:
    """Issues found, most severe first.

    Parameters
    ----------
    overview : DataFrame
        :func:`~omni.audit.sources.source_overview` (reconciliation, quarantine rate, staleness).
    qreasons : DataFrame
        :func:`~omni.audit.sources.quarantine_reasons`; the quarantine issues are counted from
        ``overview`` (rows, not cells), so this is not read.
    validity, tz, integrity, volume_chg, pii : DataFrame
        Identifier validity, the timezone check, referential integrity, volume change and the PII
        inventory (each may be empty).
    read : DataFrame, optional
        :func:`~omni.audit.sources.read_checks` (unbalanced quotes, header-only files, likely
        mojibake, truncated last lines): each finding is an issue of its own.

    Returns
    -------
    DataFrame
        ``severity`` (high/medium/low), ``source``, ``issue``, ``figure`` and the same two in
        Chinese (``issue_zh``, ``figure_zh``); within a severity, in the order of the checks above.
    """
    issues = [*_read_issues(read), *_overview_issues(overview), *_clock_issues(tz),
              *_identifier_issues(validity), *_integrity_issues(integrity), *_volume_issues(volume_chg),
              *_pii_issues(pii)]
    return _by_severity(pd.DataFrame(issues, columns=ISSUE_COLUMNS))


def outlier_issues(outliers: pd.DataFrame, z: float = OUTLIER_Z) -> pd.DataFrame:
    """One ``medium`` issue per source and column with outlying amounts (review them).

    Parameters
    ----------
    outliers : DataFrame
        :func:`~omni.audit.outliers.amount_outliers`.
    z : float
        The threshold the outliers were found with (named in the issue).
    """
    rows = []
    if len(outliers):
        for (src, col), g in outliers.groupby(["source", "column"], sort=False):
            top = g.loc[g["robust_z"].abs().idxmax()]
            rows.append(("medium", src, f"'{col}' amounts far from the typical value "
                         f"(robust z beyond {z:g} on the log scale; see the outlier table)",
                         f"{len(g):,} row(s), e.g. row {top['row']}: {top['value']:.6g}",
                         f"'{col}' 金额远离典型值（对数尺度上稳健 z 值超过 {z:g}；见异常金额表）",
                         f"{len(g):,} 行，例如第 {top['row']} 行：{top['value']:.6g}"))
    return pd.DataFrame(rows, columns=ISSUE_COLUMNS)


def with_issues(issues: pd.DataFrame, *more: pd.DataFrame) -> pd.DataFrame:
    """``issues`` plus more issue rows, most severe first (the order within a severity is kept)."""
    parts = [issues, *(m for m in more if len(m))]
    if len(parts) == 1:
        return issues
    return _by_severity(pd.concat(parts, ignore_index=True))
