"""Audiences: rule-based segments over the unified data, consent, and platform exports.

>>> import omni
>>> r = omni.audience.analyse_month(omni.open("data/sample"), "2026-10")   # doctest: +SKIP
>>> r.headline, r.tables["sizes"]                                          # doctest: +SKIP

The report's door is :func:`analyse_month` (an :class:`AudienceResult`, shown through
:mod:`omni.audience.plots` and :mod:`omni.audience.narrative`), with :func:`prepare_month` for
what it reads from the sources alone (made while the month is resolved); the CLI's is
:func:`prepare_audiences` / :func:`export_dataset`.

See ``docs/audiences.md``.
"""

from omni.audience.analysis import analyse_month, prepare_month
from omni.audience.counts import (
    audience_counts,
    most_similar_pair,
    overlap_shares,
    overlap_table,
    reach_memberships,
    reach_summary,
    size_table,
    suppress_cells,
)
from omni.audience.definitions import (
    RULE_TYPES,
    AudienceDefinition,
    AudienceSettings,
    Definitions,
    definition_hash,
    load_definitions,
    parse_definitions,
)
from omni.audience.export import ExportResult, export_audiences, key_id, reach_table, require_key
from omni.audience.features import AudienceFeatures
from omni.audience.hashing import AD_PLATFORMS, PLATFORM_FIELDS, PLATFORMS, platform_hash
from omni.audience.identifiers import contact_identifiers, device_kind, platform_values
from omni.audience.log import LOG_NAME, append_log, read_log
from omni.audience.pipeline import AudienceRun, export_dataset, prepare_audiences
from omni.audience.result import AudienceResult
from omni.audience.rules import AudienceSet, build_audiences, evaluate_rule, overlap_matrix
from omni.consent import (
    CONSENT_COLUMNS,
    SUPPRESSION_TYPES,
    QuarantinedOptOuts,
    apply_quarantined_opt_outs,
    opt_out_identifiers,
    opted_out,
    quarantined_opt_outs,
    suppressed_by_identifier,
)
from omni.core.lazy import lazy_submodules

__all__ = [
    "AD_PLATFORMS",
    "CONSENT_COLUMNS",
    "LOG_NAME",
    "PLATFORMS",
    "PLATFORM_FIELDS",
    "RULE_TYPES",
    "SUPPRESSION_TYPES",
    "AudienceDefinition",
    "AudienceFeatures",
    "AudienceResult",
    "AudienceRun",
    "AudienceSet",
    "AudienceSettings",
    "Definitions",
    "ExportResult",
    "QuarantinedOptOuts",
    "analyse_month",
    "prepare_month",
    "append_log",
    "apply_quarantined_opt_outs",
    "audience_counts",
    "build_audiences",
    "contact_identifiers",
    "definition_hash",
    "device_kind",
    "evaluate_rule",
    "export_audiences",
    "export_dataset",
    "key_id",
    "load_definitions",
    "most_similar_pair",
    "opt_out_identifiers",
    "opted_out",
    "overlap_matrix",
    "overlap_shares",
    "overlap_table",
    "parse_definitions",
    "platform_hash",
    "platform_values",
    "prepare_audiences",
    "quarantined_opt_outs",
    "reach_memberships",
    "reach_summary",
    "reach_table",
    "read_log",
    "require_key",
    "size_table",
    "suppress_cells",
    "suppressed_by_identifier",
]


# the presentation modules load matplotlib: imported on first use (omni.<domain>.plots)
__getattr__ = lazy_submodules(__name__)
