"""Identity resolution report: how records became people (merge rates, profile sizes, rule impact, accuracy).

>>> import omni                                          # doctest: +SKIP
>>> r = omni.identity.analyse_month(omni.open("data/sample"), "2026-10")   # doctest: +SKIP
>>> r.headline, r.tables["merge_rates"], r.truth_check(ws.truth())          # doctest: +SKIP

Computation: :mod:`~omni.identity.health` (no truth needed) and :mod:`~omni.identity.accuracy`
(against the synthetic truth); presentation: :mod:`~omni.identity.plots` and
:mod:`~omni.identity.narrative`. The resolution itself is :mod:`omni.oneid`'s.
"""

from omni.core.lazy import lazy_submodules
from omni.identity.accuracy import (
    accuracy_table,
    link_accuracy,
    naive_accuracy,
    source_pair_accuracy,
)
from omni.identity.analysis import analyse_month
from omni.identity.health import (
    cluster_edges,
    cluster_size_distribution,
    identifiers_per_profile,
    largest_clusters,
    limit_removals,
    linkage_summary,
    merge_rates,
    oneid_changes,
    records_by_source,
    rule_impact,
)
from omni.identity.result import TABLES, IdentityResult

__all__ = [
    "TABLES",
    "IdentityResult",
    "accuracy_table",
    "analyse_month",
    "cluster_edges",
    "cluster_size_distribution",
    "identifiers_per_profile",
    "largest_clusters",
    "limit_removals",
    "link_accuracy",
    "linkage_summary",
    "merge_rates",
    "naive_accuracy",
    "oneid_changes",
    "records_by_source",
    "rule_impact",
    "source_pair_accuracy",
]


# the presentation modules load matplotlib: imported on first use (omni.<domain>.plots)
__getattr__ = lazy_submodules(__name__)
