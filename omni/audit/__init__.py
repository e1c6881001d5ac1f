"""Data audit: is this month's data fit to analyse?

Per-source checks (rows in / accepted / quarantined and why, completeness, identifier validity,
junk values, duplicates, freshness, volume, clocks, referential integrity, overlap between sources,
personal data, outlying amounts), ranked issues and a 0-100 quality score per source.

>>> import omni                                          # doctest: +SKIP
>>> r = omni.audit.analyse_month(omni.open("data/sample"), "2026-10")  # doctest: +SKIP
>>> r.headline, r.tables["issues"]                       # doctest: +SKIP

Modules: :mod:`~omni.audit.sources`, :mod:`~omni.audit.completeness`,
:mod:`~omni.audit.duplicates`, :mod:`~omni.audit.identifiers`, :mod:`~omni.audit.volume`,
:mod:`~omni.audit.clocks`, :mod:`~omni.audit.pii`, :mod:`~omni.audit.outliers`,
:mod:`~omni.audit.scores`, :mod:`~omni.audit.issues` (the computation, each taking the loaded
dataset or the identifier table and returning a DataFrame, built from per-source parts);
:mod:`~omni.audit.stream` (the same parts one source at a time, the way :func:`analyse_month`
runs unless the dataset is loaded already); :mod:`~omni.audit.analysis`
(:func:`analyse_month`), :mod:`~omni.audit.result` (:class:`AuditResult`); presentation in
:mod:`~omni.audit.plots` and :mod:`~omni.audit.narrative`.
"""

from __future__ import annotations

from omni.audit.analysis import analyse_month
from omni.audit.clocks import hour_histograms, timezone_check
from omni.audit.completeness import completeness, completeness_by_source, incomplete_columns
from omni.audit.duplicates import duplicate_rows
from omni.audit.identifiers import (
    identifier_overlap,
    identifier_validity,
    junk_values,
    referential_integrity,
)
from omni.audit.issues import (
    ISSUE_COLUMNS,
    SEVERITY_ORDER,
    outlier_issues,
    ranked_issues,
    with_issues,
)
from omni.audit.outliers import OUTLIER_COLUMNS, OUTLIER_Z, amount_outliers, robust_z
from omni.audit.pii import pii_inventory
from omni.audit.result import TABLES, AuditResult
from omni.audit.scores import SCORE_CHECKS, quality_scores
from omni.audit.sources import (
    READ_CHECK_SEVERITY,
    accepted_file_rows,
    quarantine_reasons,
    read_checks,
    record_count_check,
    source_overview,
)
from omni.audit.volume import monthly_volume, volume_change
from omni.core.lazy import lazy_submodules

__all__ = [
    "ISSUE_COLUMNS", "OUTLIER_COLUMNS", "OUTLIER_Z", "READ_CHECK_SEVERITY", "SCORE_CHECKS", "SEVERITY_ORDER",
    "TABLES", "AuditResult", "accepted_file_rows", "amount_outliers", "analyse_month", "completeness",
    "completeness_by_source", "duplicate_rows", "hour_histograms", "identifier_overlap", "identifier_validity",
    "incomplete_columns", "junk_values", "monthly_volume", "outlier_issues", "pii_inventory", "quality_scores",
    "quarantine_reasons", "ranked_issues", "read_checks", "record_count_check", "referential_integrity",
    "robust_z", "source_overview", "timezone_check", "volume_change", "with_issues",
]


# the presentation modules load matplotlib: imported on first use (omni.<domain>.plots)
__getattr__ = lazy_submodules(__name__)
