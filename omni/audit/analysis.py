"""The data audit of one month: :func:`analyse_month`."""

from __future__ import annotations

from typing import Any

import pandas as pd

from omni.audit.clocks import timezone_check
from omni.audit.completeness import completeness, completeness_by_source, incomplete_columns
from omni.audit.duplicates import duplicate_rows
from omni.audit.identifiers import (
    identifier_overlap,
    identifier_validity,
    junk_values,
    referential_integrity,
)
from omni.audit.issues import outlier_issues, ranked_issues, with_issues
from omni.audit.outliers import OUTLIER_Z, amount_outliers, outlier_frame
from omni.audit.pii import pii_inventory
from omni.audit.result import TABLES, AuditResult
from omni.audit.scores import quality_scores
from omni.audit.sources import quarantine_reasons, read_checks, source_overview
from omni.audit.stream import stream_parts, streamed_tables
from omni.audit.volume import monthly_volume, volume_change
from omni.core.month import Month
from omni.io import Dataset
from omni.workspace import Workspace

__all__ = ["analyse_month"]


def analyse_month(
    workspace: Workspace,
    month: str | Month | None = None,
    *,
    volume_months: int = 12,
    baseline_months: int = 3,
    max_stale_days: float = 7,
    clock_min_rows: int = 200,
    outlier_z: float = OUTLIER_Z,
    integrity_id_type: str = "member_id",
    overlap_id_type: str = "phone",
    pii_sample: int = 5000,
) -> AuditResult:
    """Audit the data of one month: is it fit to analyse?

    Parameters
    ----------
    workspace : Workspace
        The opened dataset (``omni.open(path)``). Its sources are loaded and audited one at a
        time (:mod:`omni.audit.stream`: one source's table in memory at a time, never the whole
        dataset or identifier table), unless the workspace has its dataset loaded already: then
        that and its identifier table are read.
    month : str or Month, optional
        Report month ``YYYY-MM``; the last complete month in the data when None.
    volume_months : int
        Months of volume history (the report month last).
    baseline_months : int
        Months before the report month whose mean volume it is compared with.
    max_stale_days : float
        Days from the last record to the month end after which a source's freshness score falls.
    clock_min_rows : int
        Rows a source needs for its clock to be checked.
    outlier_z : float
        Robust z on log amounts beyond which an amount is listed.
    integrity_id_type : str
        Identifier type whose values must be known to the master source.
    overlap_id_type : str
        Identifier type of the overlap between sources.
    pii_sample : int
        Rows per source scanned for personal data.

    Returns
    -------
    AuditResult
    """
    settings: dict[str, Any] = {
        "volume_months": volume_months, "baseline_months": baseline_months, "max_stale_days": max_stale_days,
        "clock_min_rows": clock_min_rows, "outlier_z": outlier_z, "integrity_id_type": integrity_id_type,
        "overlap_id_type": overlap_id_type, "pii_sample": pii_sample,
    }
    m = Month.parse(month if month is not None else workspace.last_complete_month())
    if workspace._dataset is not None:  # already loaded (tests, notebooks): read it as it is
        tables = _audit_tables(workspace.dataset, workspace.ids, m, settings)
    else:
        tables = _streamed_audit_tables(workspace, m, settings)
    return AuditResult(month=m, settings=settings, tables=tables)


def _audit_tables(ds: Dataset, ids: pd.DataFrame, month: Month, s: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """Every table of :data:`omni.audit.result.TABLES`, from a dataset, its identifiers and the settings."""
    parts = {
        "overview": source_overview(ds, month),
        "completeness": completeness(ds),
        "validity": identifier_validity(ids),
        "junk": junk_values(ids),
        "volume": monthly_volume(ds, month, s["volume_months"]),
        "clocks": timezone_check(ds, s["clock_min_rows"]),
        "integrity": referential_integrity(ids, s["integrity_id_type"]),
        "overlap": identifier_overlap(ids, s["overlap_id_type"]),
        "pii": pii_inventory(ds, s["pii_sample"]),
        "quarantine": quarantine_reasons(ds),
        "read_checks": read_checks(ds),
        "outliers": amount_outliers(ds, s["outlier_z"]),
        "duplicates": duplicate_rows(ds),
    }
    return _finish(parts, s)


def _streamed_audit_tables(ws: Workspace, month: Month, s: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """:func:`_audit_tables` with one source in memory at a time (:mod:`omni.audit.stream`).
    Sources are loaded through :meth:`Workspace.loaded_source`: in the report's shared kernels
    the audit reads those the month's resolution has loaded meanwhile, and keeps the others for
    the audiences' and recommendations' inputs."""
    parts = streamed_tables(stream_parts(ws.spec, month, s, load=ws.loaded_source, pick=ws.next_source,
                                         identifiers=ws.source_identifiers),
                            month, s)
    v = parts.pop("id_values")
    parts["outliers"] = outlier_frame(parts["outliers"])
    parts["integrity"] = referential_integrity(v, s["integrity_id_type"])
    parts["overlap"] = identifier_overlap(v, s["overlap_id_type"])
    return _finish(parts, s)


def _finish(p: dict[str, pd.DataFrame], s: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The tables derived from the checks' own (volume change, scores, issues), in report order."""
    vchange = volume_change(p["volume"], s["baseline_months"])
    comp = p["completeness"]
    issues = ranked_issues(p["overview"], p["quarantine"], p["validity"], p["clocks"], p["integrity"], vchange,
                           p["pii"], read=p["read_checks"])
    tables = {
        **p,
        "completeness_by_source": completeness_by_source(comp).rename_axis("source").reset_index(),
        "incomplete_columns": incomplete_columns(comp),
        "volume_change": vchange,
        "scores": quality_scores(p["overview"], comp, p["validity"], p["clocks"], s["max_stale_days"]),
        "issues": with_issues(issues, outlier_issues(p["outliers"], s["outlier_z"])),
    }
    return {name: tables[name] for name in TABLES}
