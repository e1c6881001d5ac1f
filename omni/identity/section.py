"""The identity report's sections, in reading order: narrative, tables and figures as blocks.

Each function returns what one section of notebook 02 shows after its heading (the notebook shows
them with :func:`omni.reporting.display.show`); this module only puts ``omni.identity.narrative``,
the result's tables (formatted with :data:`omni.identity.narrative.FORMATS`) and
``omni.identity.plots`` in order. Captions are the English terms the narrative registers in Chinese.
"""

from __future__ import annotations

from omni.core.blocks import Block, figure, markdown
from omni.identity import narrative as N
from omni.identity import plots as P
from omni.identity.narrative import FORMATS
from omni.identity.result import IdentityResult

__all__ = ["accuracy", "changes", "largest", "merge_rates", "people", "platforms", "profiles", "rules", "sources"]


def _table(result: IdentityResult, name: str, caption: str | None = None, **kwargs: object) -> Block:
    return Block("table", result.tables[name], FORMATS.get(name), caption, **kwargs)


def people(result: IdentityResult) -> list[Block]:
    """What the OneIDs are (known people, platform-only buyers, anonymous profiles, the truth if any),
    then one note per warning of the resolution (e.g. the probabilistic stage fell back)."""
    return [Block("markdown", N.people(result)), *(Block("markdown", w) for w in N.warnings(result))]


def sources(result: IdentityResult) -> list[Block]:
    """Records by source and how they were linked."""
    return [Block("table", result.tables["by_source"], None, "Records by source and how they were linked "
                  "(account: linked only by a platform account not bound to a person)")]


def merge_rates(result: IdentityResult) -> list[Block]:
    """The cross-source merge rate heat map."""
    return figure(P.plot_merge_rates(result))


def profiles(result: IdentityResult) -> list[Block]:
    """Records per profile (chart and table) and linking identifiers per profile, by type."""
    return [*figure(P.plot_profile_sizes(result)), _table(result, "profile_sizes"),
            _table(result, "identifiers_per_profile", "Distinct linking identifiers per OneID, by type")]


def largest(result: IdentityResult, seed: int = 7) -> list[Block]:
    """The largest OneIDs and a drawing of the largest one's records and identifiers (masked)."""
    return [Block("table", result.tables["largest"], None, "Largest OneIDs"),
            *figure(P.plot_cluster(result, seed=seed))]


def rules(result: IdentityResult) -> list[Block]:
    """What each rule is for, the values it held back, the naive graph compared and the profile-limit
    splits (where there were any)."""
    out = [Block("markdown", N.intro("rules")), _table(result, "rule_impact", "Values held back, by rule"),
           _table(result, "naive_comparison")]
    if len(result.tables["limit_removals"]):
        out.append(Block("table", result.tables["limit_removals"], None, "Profile-limit splits"))
    return out


def platforms(result: IdentityResult) -> list[Block]:
    """How platform buyers are linked, the linkage by platform, what the probabilistic stage did, its
    model's parameters and, on synthetic data, the accuracy of its links."""
    out = [Block("markdown", N.intro("platforms")), *figure(P.plot_platform_linkage(result)),
           _table(result, "platform_linkage"), *markdown(N.probabilistic_stage(result))]
    if len(result.tables["model_parameters"]):
        out.append(_table(result, "model_parameters", "Model parameters: m and u per comparison level (EM, no labels)",
                          max_rows=30))
    return out + markdown(N.link_accuracy(result))


def changes(result: IdentityResult) -> list[Block]:
    """OneIDs carried over, new, merged and split since last month."""
    return [Block("table", result.tables["oneid_changes"]), Block("markdown", N.oneid_changes(result))]


def accuracy(result: IdentityResult) -> list[Block]:
    """Pairwise precision and recall against the synthetic truth, overall and by source pair (a note
    when there is no truth)."""
    out = [Block("markdown", N.intro("accuracy")), Block("markdown", N.accuracy(result))]
    if result.has_truth:
        out += [Block("table", result.tables["accuracy"].drop(columns="linkable_recall"), FORMATS["accuracy"]),
                _table(result, "source_pairs", "By source pair (all records)", max_rows=30)]
    return out
