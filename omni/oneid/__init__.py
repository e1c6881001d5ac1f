"""OneID: resolve every record to one person with a rule-based identity graph.

See :mod:`omni.oneid.resolve` for the algorithm and :class:`omni.oneid.config.OneIDConfig` for the
rules. ``explain`` says why two records share (or do not share) a OneID.
"""

from omni.core.strings import equals_text
from omni.oneid.config import OneIDConfig
from omni.oneid.evaluate import linkable_truth, pairwise_scores, scores_by_source_pair
from omni.oneid.explain import Explanation, explain
from omni.oneid.resolve import Resolution, resolve_identities
from omni.oneid.stable import assign_oneids

__all__ = [
    "Explanation",
    "OneIDConfig",
    "Resolution",
    "assign_oneids",
    "evaluate_against_truth",
    "explain",
    "linkable_scores",
    "linkable_truth",
    "pairwise_scores",
    "resolve_identities",
    "scores_by_source_pair",
]


def evaluate_against_truth(record_oneid, truth, strong_only: bool = True) -> dict:
    """Pairwise and B-cubed scores of a ``record_oneid`` map against ``truth/record_person``.

    Parameters
    ----------
    record_oneid : DataFrame
        ``record_key``, ``oneid``, ``how``.
    truth : DataFrame
        ``record_key``, ``person_id``.
    strong_only : bool
        Score only the records that carry at least one strong identifier (``how == "strong"``), the
        population the accuracy targets are stated for; otherwise every record.
    """
    m = record_oneid.merge(truth[["record_key", "person_id"]], on="record_key", how="left")
    if m["person_id"].isna().any():
        raise ValueError(f"{int(m['person_id'].isna().sum())} records have no truth row")
    if strong_only:
        m = m[equals_text(m["how"], "strong")]
    return pairwise_scores(m["oneid"].to_numpy(), m["person_id"].to_numpy())


def linkable_scores(res, truth, strong_only: bool = True) -> dict:
    """Pairwise scores against :func:`linkable_truth`: recall over the true pairs that some chain of
    valid identifiers connects (what any deterministic method could find)."""
    lt = linkable_truth(res, truth)
    keep = equals_text(res.records["how"], "strong") if strong_only else slice(None)
    return pairwise_scores(res.records["cluster"].to_numpy()[keep], lt[keep])
