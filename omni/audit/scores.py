"""A 0-100 quality score per source."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SCORE_CHECKS", "quality_scores"]

#: The checks averaged into the score, each in [0, 1].
SCORE_CHECKS = ("accepted", "completeness", "identifier_validity", "freshness", "clock")


def quality_scores(overview: pd.DataFrame, comp: pd.DataFrame, validity: pd.DataFrame,
                   tz: pd.DataFrame, max_stale_days: float = 7) -> pd.DataFrame:
    """A 0-100 quality score per source: the mean of five checks, each in [0, 1].

    accepted share (1 - quarantine rate); completeness (mean filled share of declared non-identifier
    columns); identifier validity (share of identifier values usable for linking; 1 without
    identifiers); freshness (1 if the last record is within ``max_stale_days`` of the month end,
    else decaying by half per further week); clock (1 unless the timezone check flags the source).

    Parameters
    ----------
    overview, comp, validity, tz : DataFrame
        :func:`~omni.audit.sources.source_overview`, :func:`~omni.audit.completeness.completeness`,
        :func:`~omni.audit.identifiers.identifier_validity`, :func:`~omni.audit.clocks.timezone_check`.
    max_stale_days : float
        Days after which freshness starts to fall.

    Returns
    -------
    DataFrame
        ``source``, the five checks (:data:`SCORE_CHECKS`) and ``score``, lowest score first.
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
    out["score"] = 100 * out[list(SCORE_CHECKS)].mean(axis=1)
    return out.reset_index().sort_values("score")
