"""The identity report's words: Markdown blocks built with :func:`omni.core.markup.md` (values escaped).

Each function reads an :class:`~omni.identity.result.IdentityResult` and formats; none computes.
:data:`FORMATS` holds the number formats of the report's tables (``str.format`` patterns by column).
"""

from __future__ import annotations

from omni.core.markup import md
from omni.identity.result import IdentityResult

__all__ = [
    "FORMATS",
    "accuracy",
    "examples",
    "link_accuracy",
    "oneid_changes",
    "people",
    "probabilistic_stage",
    "title",
    "warnings",
]

_SCORES = ["precision", "recall", "f1", "bcubed_precision", "bcubed_recall", "bcubed_f1"]

#: Table name -> column -> ``str.format`` pattern, for ``omni.reporting.display.table``.
FORMATS: dict[str, dict[str, str]] = {
    "profile_sizes": {"share_profiles": "{:.2%}", "share_records": "{:.2%}"},
    "identifiers_per_profile": {"mean": "{:.2f}", "p50": "{:.0f}", "p99": "{:.0f}", "share_more_than_one": "{:.2%}"},
    "rule_impact": {"values": "{:,.0f}", "records": "{:,.0f}"},
    "naive_comparison": {"pairwise precision": "{:.4f}", "pairwise recall": "{:.4f}"},
    "platform_linkage": {"share": "{:.1%}"},
    "model_parameters": {"m_probability": "{:.4f}", "u_probability": "{:.2e}", "match_weight": "{:+.2f}"},
    "accuracy": dict.fromkeys(_SCORES, "{:.4f}"),
    "source_pairs": {"precision": "{:.4f}", "recall": "{:.4f}", "f1": "{:.4f}", "pred_pairs": "{:,.0f}",
                     "true_pairs": "{:,.0f}", "tp": "{:,.0f}"},
}


def title(result: IdentityResult) -> str:
    """The headline's title."""
    return f"OneID, records up to the end of {result.month}"


def people(result: IdentityResult) -> str:
    """What the OneIDs are: known people, platform-only buyers and anonymous profiles (and, on
    synthetic data, how many people there truly are)."""
    text = md("The {profiles:,} OneIDs are not all people: **{known:,} known people** carry a phone, email, "
              "member id or unionid; {platform:,} are buyers known only by one platform account (possibly "
              "also one of the known people); **{anon:,} anonymous profiles** are cookie-, device- or "
              "openid-only visitors and records with no usable id, and one person may leave many of them.",
              profiles=result.profiles, known=result.known_people, platform=result.platform_only,
              anon=result.anonymous_profiles)
    if result.true_people is not None:
        text += md(" On this synthetic dataset the records truly come from **{n:,} people**.", n=result.true_people)
    return text


def warnings(result: IdentityResult) -> list[str]:
    """One bold-led note per warning of the resolution (e.g. the probabilistic stage fell back)."""
    return [md("**Warning:** {w}", w=w) for w in result.warnings]


def probabilistic_stage(result: IdentityResult) -> str | None:
    """What the probabilistic stage did, or that it failed and the rules alone resolved the month.

    Returns
    -------
    str or None
        None when the stage did not run at all.
    """
    stage = result.probabilistic
    if result.stage_failed:
        return md("**The probabilistic stage did not run to the end**, so this resolution uses the deterministic "
                  "rules only: no platform account is linked by probability this month. {error}",
                  error=stage.get("error", ""))
    if not stage:
        return None
    dec = stage.get("decisions", {})
    return md("{accounts:,} unbound accounts were scored against {profiles:,} profiles over {pairs:,} candidate "
              "pairs (blocked on masked phone and address; never on name alone). Linked: {linked:,}; below the "
              "threshold {threshold:.2f}: {below:,}; no candidate: {none:,}; too close to a runner-up: {ambiguous:,}.",
              accounts=stage.get("accounts", 0), profiles=stage.get("profiles", 0),
              pairs=stage.get("candidate_pairs", 0), linked=dec.get("linked", 0),
              threshold=stage.get("threshold", float("nan")), below=dec.get("below_threshold", 0),
              none=dec.get("no_candidate", 0), ambiguous=dec.get("ambiguous", 0))


def link_accuracy(result: IdentityResult) -> str | None:
    """The share of probabilistic links that join the right person (None without truth or links)."""
    la = result.tables.get("link_accuracy")
    if la is None or not len(la) or not la["links"].iloc[0]:
        return None
    return md("Against the synthetic truth, {ok:.2%} of the {n:,} probabilistic links join the right person.",
              ok=float(la["right_person"].iloc[0]), n=int(la["links"].iloc[0]))


def oneid_changes(result: IdentityResult) -> str:
    """OneIDs carried over, new, merged and split since last month, in one sentence."""
    ch = result.changes
    return md("{kept:,} OneIDs carried over from last month, {new:,} new people, {merged:,} ids merged into an "
              "older one, {split:,} split off.", kept=int(ch["kept"]), new=int(ch["new"]),
              merged=int(ch["merged_into"]), split=int(ch["split_from"]))


def accuracy(result: IdentityResult) -> str:
    """Recall against the full and the linkable truth, or that there is no truth to measure against."""
    if not result.has_truth:
        return "This dataset has no ground truth; accuracy is not measured."
    strong = result.tables["accuracy"].iloc[0]
    return md("Recall on strong-id records is {recall:.4f} against the full truth and {linkable:.4f} against the "
              "*linkable* truth (true pairs joined by some chain of valid identifiers). The gap is data, not "
              "rules: e.g. WeChat followers whose unionid the CRM never recorded and who gave no phone cannot "
              "be linked by any deterministic method.",
              recall=float(strong["recall"]), linkable=float(strong["linkable_recall"]))


def examples(result: IdentityResult) -> str:
    """The explained example pairs as plain text (record keys and identifiers masked)."""
    return "\n\n".join(str(e) for e in result.examples)
