"""The data audit report's sections, in reading order: narrative, tables and figures as blocks.

Each function returns what one section of notebook 01 shows after its heading (the notebook shows
them with :func:`omni.reporting.display.show`); this module only puts ``omni.audit.narrative``,
the result's tables and ``omni.audit.plots`` in order. Captions are the English terms the
narrative registers in Chinese.
"""

from __future__ import annotations

from omni.audit import narrative as N
from omni.audit import plots as P
from omni.audit.result import AuditResult
from omni.core.blocks import Block, figure

__all__ = ["clocks", "completeness", "duplicates", "identifiers", "integrity", "issues", "outliers", "pii",
           "quarantine", "sources", "volume"]

_DAY = "{:%Y-%m-%d}"
_OVERVIEW = ["source", "format", "encoding", "timezone", "rows_in", "accepted", "quarantined", "quarantine_rate",
             "first", "last", "days_stale", "rows_this_month"]


def sources(result: AuditResult) -> list[Block]:
    """Rows received, accepted and quarantined per source, its time span and freshness."""
    return [Block("table", result.tables["overview"][_OVERVIEW],
                  {"quarantine_rate": "{:.3%}", "days_stale": "{:.1f}", "first": _DAY, "last": _DAY,
                   "rows_this_month": "{:,.0f}"})]


def quarantine(result: AuditResult) -> list[Block]:
    """Quarantined cells by source, column and reason (a note when no row was quarantined)."""
    t = result.tables["quarantine"]
    if t.empty:
        return [Block("markdown", N.no_quarantine())]
    return [Block("table", t, None,
                  "Quarantined cells by source, column and reason (example row = 1-based data row in the file)")]


def completeness(result: AuditResult) -> list[Block]:
    """What completeness counts, the chart by source and the columns less than 95% filled."""
    cols = ["source", "column", "type", "identifier", "filled", "required"]
    return [Block("markdown", N.intro("completeness")), *figure(P.plot_completeness(result)),
            Block("table", result.tables["incomplete_columns"][cols], {"filled": "{:.1%}"},
                  "Columns less than 95% filled")]


def identifiers(result: AuditResult) -> list[Block]:
    """How identifiers are normalized and blocked, their validity per source and type, the junk values."""
    return [Block("markdown", N.intro("identifiers")),
            Block("table", result.tables["validity"], {"valid_share": "{:.2%}", "top_invalid_n": "{:,.0f}"},
                  "Identifier values per source and type"),
            Block("table", result.tables["junk"], None, "Blocked and invalid identifier values by reason")]


def outliers(result: AuditResult) -> list[Block]:
    """How outlying amounts are found, and the list (a note when there is none)."""
    t = result.tables["outliers"]
    if t.empty:
        return [Block("markdown", N.intro("outliers")), Block("markdown", N.no_outliers())]
    return [Block("markdown", N.intro("outliers")),
            Block("table", t, {"value": "{:,.2f}", "typical": "{:,.2f}", "robust_z": "{:+.1f}"},
                  "Outlying amounts (row = 1-based data row in the file)", max_rows=30)]


def duplicates(result: AuditResult) -> list[Block]:
    """Accepted rows identical to another but for the record key."""
    return [Block("markdown", N.intro("duplicates")),
            Block("table", result.tables["duplicates"], {"duplicate_share": "{:.2%}"})]


def volume(result: AuditResult) -> list[Block]:
    """Rows per month per source, and this month against the previous three."""
    return [*figure(P.plot_volume(result)),
            Block("table", result.tables["volume_change"],
                  {"previous_mean": "{:,.0f}", "change": "{:+.1%}", "this_month": "{:,.0f}"})]


def clocks(result: AuditResult) -> list[Block]:
    """What a shifted clock means, the hour-of-day comparison and the shifted sources (the table and
    the verdict only where a source was compared)."""
    out = [Block("markdown", N.intro("clocks"))]
    if len(result.tables["clocks"]):
        out += [Block("table", result.tables["clocks"], {"corr_at_best": "{:.2f}", "corr_at_zero": "{:.2f}"}),
                Block("markdown", N.clocks(result))]
    return out


def integrity(result: AuditResult) -> list[Block]:
    """Member ids unknown to the CRM (where any source refers to members) and the overlap heat map."""
    out = [Block("markdown", N.intro("integrity"))]
    if len(result.tables["integrity"]):
        out.append(Block("table", result.tables["integrity"], {"unknown_share": "{:.2%}"}))
    return out + figure(P.plot_overlap(result))


def pii(result: AuditResult) -> list[Block]:
    """Columns holding personal data, declared and detected."""
    return [Block("markdown", N.intro("pii")),
            Block("table", result.tables["pii"], {"detected_share": "{:.0%}"}, max_rows=40)]


def issues(result: AuditResult) -> list[Block]:
    """The ranked issues and the quality score per source."""
    return [Block("table", N.issues_table(result), max_rows=30), *figure(P.plot_scores(result))]
