"""The data audit of one month: every check's table, the headline and the check against the truth."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from omni.core.result import Figure, MonthResult

__all__ = ["TABLES", "AuditResult"]

#: The tables of an :class:`AuditResult`, in report order.
TABLES = (
    "overview",                # per source: rows in/accepted/quarantined, reconciliation, span, freshness
    "read_checks",             # file-level findings of the load
    "quarantine",              # quarantined cells by source, column and reason
    "completeness",            # filled share per declared column
    "completeness_by_source",  # mean filled share of non-identifier columns (one column: filled)
    "incomplete_columns",      # columns less than 95% filled
    "validity",                # identifier values per source and type
    "junk",                    # invalid identifier values by reason
    "outliers",                # outlying amounts with their file rows
    "duplicates",              # repeated accepted rows
    "volume",                  # rows per month per source (months x sources)
    "volume_change",           # this month against the previous months
    "clocks",                  # timezone check
    "integrity",               # ids unknown to the master source
    "overlap",                 # share of one source's identifier values found in another
    "pii",                     # personal data inventory
    "scores",                  # quality score per source
    "issues",                  # ranked issues
)


@dataclass
class AuditResult(MonthResult):
    """Result of :func:`omni.audit.analyse_month`.

    ``tables`` holds every name of :data:`TABLES`; ``settings`` the settings the audit ran with.
    """

    def figures_list(self) -> list[Figure]:
        """Sources, rows received, quarantine rate, reconciled sources, high issues, mean score."""
        ov = self.tables["overview"]
        n = len(ov)
        return [
            Figure("sources", "sources", n),
            Figure("rows_in", "rows received", int(ov["rows_in"].sum()), better="up"),
            Figure("quarantine_rate", "rows quarantined",
                   float(ov["quarantined"].sum() / ov["rows_in"].sum()), fmt="{:.3%}", better="down"),
            Figure("reconciled", "sources whose counts reconcile", f"{self.reconciled_sources} of {n}"),
            Figure("high_issues", "high-severity issues",
                   int((self.tables["issues"]["severity"] == "high").sum()), better="down"),
            Figure("quality_score", "mean quality score (0-100)", float(self.tables["scores"]["score"].mean()),
                   fmt="{:.1f}", better="up"),
        ]

    @property
    def reconciled_sources(self) -> int:
        """Sources whose rows in = accepted + quarantined = records counted in the file."""
        return int(self.tables["overview"]["reconciled"].sum())

    @property
    def weakest(self) -> pd.Series:
        """The score row (``source``, checks, ``score``) of the lowest-scoring source."""
        return self.tables["scores"].iloc[0]

    @property
    def shifted_clocks(self) -> pd.DataFrame:
        """Rows of the timezone check whose clock looks shifted."""
        tz = self.tables["clocks"]
        return tz[tz["flag"]] if len(tz) else tz

    def truth_check(self, truth: Mapping[str, Any] | None) -> pd.DataFrame | None:
        """Quarantined rows against the bad rows the synthetic world's generator injected.

        Parameters
        ----------
        truth : mapping, optional
            The generator's parameters (``truth/params.json``, as
            :meth:`omni.workspace.Workspace.truth_params` returns them), or a mapping holding them
            under ``"params"``. Their ``bad_rows`` give, per source and kind, the rows made invalid.

        Returns
        -------
        DataFrame or None
            ``source``, ``injected`` (bad rows planted), ``quarantined`` (rows the load set aside),
            ``difference`` (quarantined - injected; 0 when every planted row was caught and no
            other row was); None without truth or without ``bad_rows`` in it.
        """
        if not truth:
            return None
        params = truth.get("params", truth)
        bad = params.get("bad_rows") if isinstance(params, Mapping) else None
        if not bad:
            return None
        injected = pd.Series({src: sum(int(k["count"]) for k in kinds.values()) for src, kinds in bad.items()},
                             name="injected", dtype="int64")
        quarantined = self.tables["overview"].set_index("source")["quarantined"].reindex(injected.index)
        out = pd.DataFrame({"injected": injected, "quarantined": quarantined}).rename_axis("source").reset_index()
        out["difference"] = out["quarantined"] - out["injected"]
        return out
