"""The identity resolution result: how a month's records became people, and how well."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from omni.core.result import Figure, MonthResult
from omni.identity.accuracy import accuracy_table, truth_table
from omni.oneid.explain import Explanation
from omni.oneid.resolve import Resolution
from omni.workspace import Resolved

__all__ = ["KNOWN_HOW", "TABLES", "IdentityResult"]

#: How a record is linked (``record_oneid["how"]``) when it carries a person-level strong identifier
#: (or a platform account linked to one): a OneID with such a record is a known person. A OneID whose
#: records are linked by a platform account alone (``"account"``) is a platform-only buyer; any other
#: OneID (weak ids only, or no usable id) is an anonymous profile.
KNOWN_HOW = ("strong", "probabilistic")

#: The tables of an :class:`IdentityResult` (``result.tables[name]``), in report order. The last four
#: are there only when the dataset has a truth (synthetic data).
TABLES = {
    "by_source": "records by source and how they were linked",
    "merge_rates": "share of a source's records whose OneID holds a record of another source",
    "profile_sizes": "profiles and records by records per OneID",
    "identifiers_per_profile": "distinct linking identifiers per OneID, by type",
    "largest": "the largest OneIDs (shortened), their sources, identifier counts and bridges",
    "cluster_edges": "record-identifier edges of the largest OneID (identifiers masked)",
    "rule_impact": "identifier values held back, by rule",
    "naive_comparison": "the rules against a naive graph that connects every shared value",
    "limit_removals": "values removed to keep profiles within their per-type limits",
    "platform_linkage": "how platform orders reach a person",
    "model_parameters": "m and u per comparison level of the probabilistic stage",
    "oneid_changes": "OneIDs kept, new, merged, split or retired since last month",
    "accuracy": "pairwise and B-cubed scores against the truth",
    "source_pairs": "pairwise scores by pair of sources",
    "link_accuracy": "probabilistic links that join the right person",
}


@dataclass
class IdentityResult(MonthResult):
    """What :func:`omni.identity.analyse_month` found.

    Attributes
    ----------
    records, profiles : int
        Records resolved up to the end of the month, and the OneIDs (profiles) they make: known people
        and anonymous profiles together.
    known_people : int
        OneIDs holding a person-level strong identifier (:data:`KNOWN_HOW`: a phone, email, member id
        or unionid on one of their records, or a platform account bound to one): the people the brand
        knows.
    platform_only : int
        OneIDs known only by one platform buyer account (a strong id, but not bound to a person: the
        same person may also be a known person or another platform's buyer).
    anonymous_profiles : int
        OneIDs with no strong identifier: cookie-, device- or openid-only visitors, and records with
        no usable id at all. They are profiles, not people: one person may leave many.
    true_people : int or None
        On synthetic data, the true number of people behind the records (None without a truth).
    multi_source_share : float
        Share of OneIDs holding records from two sources or more.
    anonymous_share : float
        Share of records with no usable identifier.
    warnings : list of str
        The resolution's warnings (e.g. the probabilistic stage failed; no raw identifier).
    probabilistic : dict
        The probabilistic stage's summary (``status``, ``accounts``, ``profiles``,
        ``candidate_pairs``, ``threshold``, ``decisions``, ``error`` when it failed); empty when it
        did not run.
    examples : list of Explanation
        Why two records of the largest profile share a OneID, and why two records on the most
        shared value do not (masked).
    tables : dict of str to DataFrame
        See :data:`TABLES`.
    resolved, resolution
        The resolution the figures come from (for :meth:`truth_check`; never shown).
    previous_figures : dict or None
        The previous month's counts (:func:`omni.identity.analysis.previous_figures`), from its
        resolution when one was made already; None otherwise.
    """

    records: int = 0
    profiles: int = 0
    known_people: int = 0
    platform_only: int = 0
    anonymous_profiles: int = 0
    true_people: int | None = None
    multi_source_share: float = float("nan")
    anonymous_share: float = float("nan")
    warnings: list[str] = field(default_factory=list)
    probabilistic: dict[str, Any] = field(default_factory=dict)
    examples: list[Explanation] = field(default_factory=list)
    resolved: Resolved | None = field(default=None, repr=False)
    resolution: Resolution | None = field(default=None, repr=False)
    previous_figures: dict[str, Any] | None = None

    def previous_headline(self) -> dict[str, Any]:
        """The previous month's counts (:attr:`previous_figures`); no truth figures."""
        return dict(self.previous_figures or {})

    @property
    def has_truth(self) -> bool:
        """Whether the accuracy against a truth was measured."""
        return "accuracy" in self.tables

    @property
    def stage_failed(self) -> bool:
        """Whether the probabilistic stage failed (the resolution fell back to the rules only)."""
        return self.probabilistic.get("status") == "failed"

    def figures_list(self) -> list[Figure]:
        """Records; known people, platform-only buyers and anonymous profiles (and the true number of
        people on synthetic data); all OneIDs, records per OneID, multi-source and anonymous shares; precision and recall
        on strong-id records when a truth was checked."""
        figs = [
            Figure("records", "records resolved", self.records),
            Figure("known_people", "known people (person-level strong id)", self.known_people),
            Figure("platform_only", "platform-only buyers (one platform account)", self.platform_only),
            Figure("anonymous_profiles", "anonymous profiles (no strong id)", self.anonymous_profiles),
        ]
        if self.true_people is not None:
            figs.append(Figure("true_people", "people in the synthetic truth", self.true_people))
        figs += [
            Figure("profiles", "OneIDs (all profiles)", self.profiles),
            Figure("records_per_profile", "records per OneID",
                   self.records / self.profiles if self.profiles else float("nan"), fmt="{:.2f}"),
            Figure("multi_source_share", "OneIDs seen in 2+ sources", self.multi_source_share,
                   fmt="{:.1%}", better="up"),
            Figure("anonymous_share", "records with no usable id", self.anonymous_share,
                   fmt="{:.1%}", better="down"),
        ]
        if self.has_truth:
            strong = self.tables["accuracy"].iloc[0]
            figs += [
                Figure("precision", "pairwise precision (strong-id records)", float(strong["precision"]),
                       fmt="{:.4f}", better="up"),
                Figure("recall", "pairwise recall (strong-id records)", float(strong["recall"]),
                       fmt="{:.4f}", better="up"),
            ]
        return figs

    def truth_check(self, truth: Mapping[str, pd.DataFrame] | pd.DataFrame | None) -> pd.DataFrame | None:
        """Pairwise and B-cubed accuracy against the synthetic truth.

        Parameters
        ----------
        truth : DataFrame or mapping, optional
            ``record_person`` (``record_key``, ``person_id``), or a mapping holding it under that
            name.

        Returns
        -------
        DataFrame or None
            :func:`omni.identity.accuracy.accuracy_table` (rows: strong-id records, all records);
            None without a truth.
        """
        t = truth_table(truth)
        if t is None or self.resolved is None or self.resolution is None:
            return None
        return accuracy_table(self.resolved.record_oneid, self.resolution, t)

    @property
    def changes(self) -> pd.Series:
        """OneIDs by change since last month (``kept``, ``new``, ``merged_into``, ...)."""
        return self.tables["oneid_changes"].set_index("change")["OneIDs"]

    @property
    def largest_profile(self) -> tuple[int, int]:
        """Records and identifiers of the largest OneID (what its drawing shows)."""
        edges = self.tables["cluster_edges"]
        big = self.tables["largest"]
        return (int(big["records"].iloc[0]) if len(big) else 0), int(edges["identifier"].nunique())
