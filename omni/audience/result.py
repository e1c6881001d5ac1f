"""What :func:`omni.audience.analyse_month` returns: audience sizes, overlaps, consent and reach."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from omni.audience.hashing import AD_PLATFORMS
from omni.core.result import Figure, MonthResult

__all__ = ["AudienceResult"]


@dataclass
class AudienceResult(MonthResult):
    """Audiences of one month end.

    Attributes
    ----------
    tables : dict of str to DataFrame
        Publishable tables, counts under ``k`` blanked (``<NA>``):

        - ``sizes``: ``audience``, ``what it selects``, ``people``, ``opted out``, ``eligible``;
        - ``overlap``: people in both the row and the column audience (square; the diagonal is the
          audience's size);
        - ``overlap_share``: ``overlap`` as a share of the row audience (NaN where blanked);
        - ``reach``: eligible people per audience each platform (``<platform> (any)``) and each of
          its identifiers (``<platform> <field>``) can match, and ``any platform``.
    k : int
        Smallest count shown in the tables.
    platforms : tuple of str
        Ad platforms counted for reach.
    counts : dict
        :func:`omni.audience.counts.audience_counts` (unblanked; the headline reads it).
    memberships : dict
        :func:`omni.audience.counts.reach_memberships`: reach summed over the audiences.
    descriptions : dict
        Audience name -> description, as written in the definitions.
    largest : str or None
        The audience with the most eligible members.
    most_similar : dict or None
        ``a``, ``b``, ``jaccard``: the two audiences with the highest Jaccard index.
    identifier_suppression : bool
        Whether the figures remove the people holding an identifier of an opted-out record. False:
        they remove the opted-out OneIDs only; ``omni audience export`` also removes the
        ``counts["identifier_removed"]`` eligible members who hold such an identifier.
    """

    k: int = 10
    platforms: tuple[str, ...] = AD_PLATFORMS
    counts: dict[str, Any] = field(default_factory=dict)
    memberships: dict[str, int] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    largest: str | None = None
    most_similar: dict[str, Any] | None = None
    identifier_suppression: bool = False

    def figures_list(self) -> list[Figure]:
        """Audiences defined, people in them, reachable, removed for consent, reach share."""
        c = self.counts
        return [
            Figure("audiences", "audiences defined", c["audiences"]),
            Figure("people_in_audiences", "people in at least one audience", c["people_in_audiences"]),
            Figure("reachable", "of them reachable on an ad platform (not opted out, usable identifier)",
                   c["reachable"], better="up"),
            Figure("opted_out_removed", "audience members removed: opted out of marketing",
                   c["opted_out_removed"]),
            Figure("reach_share", "eligible members with a usable phone, email or device id",
                   c["reach_share"], fmt="{:.1%}", better="up"),
        ]

    def truth_check(self, truth: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame | None:
        """None: the synthetic world's truth says nothing about audiences or consent."""
        return None

    @property
    def membership_shares(self) -> dict[str, float]:
        """Reach memberships (summed over the audiences) as shares of the eligible memberships."""
        eligible = max(self.memberships.get("eligible", 0), 1)
        return {key: n / eligible for key, n in self.memberships.items() if key != "eligible"}

    @property
    def best_platform(self) -> str | None:
        """The platform matching the most eligible memberships (the first on ties)."""
        if not self.platforms:
            return None
        return max(self.platforms, key=lambda p: self.memberships.get(p, 0))

    @property
    def device_only(self) -> int | None:
        """Eligible memberships Tencent reaches without a usable phone (None without Tencent)."""
        if "tencent" not in self.platforms:
            return None
        return self.memberships["tencent"] - self.memberships["tencent HASH_MOBILE_PHONE"]
