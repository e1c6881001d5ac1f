"""The notes of the data-audit report: Markdown blocks built with :func:`omni.core.markup.md`.

Every value from the data (source names) is escaped; each function only formats the result.
"""

from __future__ import annotations

from omni.audit.result import AuditResult
from omni.core.markup import md

__all__ = ["clocks", "no_outliers", "no_quarantine", "summary"]


def summary(result: AuditResult) -> str:
    """Whether every row is accounted for, and the weakest source with its score."""
    n = len(result.tables["overview"])
    n_rec = result.reconciled_sources
    lead = "Every row is accounted for" if n_rec == n else "**Not every row is accounted for**"
    worst = result.weakest
    return lead + md(
        ": rows received = accepted + quarantined = records counted in the file itself in {n_rec} of {n} "
        "sources. The weakest source is **{source}** (score {score:.0f}/100); the ranked issue list at the "
        "end says why.", n_rec=n_rec, n=n, source=worst["source"], score=float(worst["score"]),
    )


def no_quarantine() -> str:
    """The note shown instead of the quarantine table when no row was quarantined."""
    return "No row was quarantined."


def no_outliers() -> str:
    """The note shown instead of the outlier table when no amount is far from the typical value."""
    return "No amount is far from its source's typical value."


def clocks(result: AuditResult) -> str:
    """Which sources' clocks look shifted, and what to check."""
    shifted = result.shifted_clocks
    if shifted.empty:
        return "No source looks shifted."
    items = [md("**{source}** ({hours:+d} h)", source=r.source, hours=int(r.best_shift_hours))
             for r in shifted.itertuples()]
    return "Shifted: " + ", ".join(items) + ". Check the `timezone` declared for it in sources.yaml."
