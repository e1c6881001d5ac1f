"""The texts of the audiences report: Markdown blocks built from an :class:`AudienceResult`.

Audience names and descriptions come from a YAML file a user writes: every value goes through
:func:`omni.core.markup.md`, so it shows as typed and never becomes markup.
"""

from __future__ import annotations

from omni.audience.result import AudienceResult
from omni.core.markup import md

__all__ = ["consent", "largest", "overlap", "reach", "summary"]


def _count(n: int, k: int) -> str:
    """A count, or ``fewer than k`` for a small positive one (zero stays)."""
    return f"{n:,}" if n >= k or n == 0 else f"fewer than {k}"


def summary(result: AudienceResult) -> str:
    """How many people the audiences select, how many opted out, how many an ad platform can match."""
    c = result.counts
    return md(
        "{audiences} audiences select {people:,} distinct people at the end of {month}. {removed:,} of them "
        "opted out of marketing and are removed from every export; of the {eligible:,} who remain, "
        "{reachable:,} ({share:.0%}) carry a phone, email or device id an ad platform can match; the others "
        "can still be reached in-house (app, WeChat, stores) through their pseudonymized OneID.",
        audiences=c["audiences"], people=c["people_in_audiences"], month=str(result.month),
        removed=c["opted_out_removed"], eligible=c["eligible"], reachable=c["reachable"],
        share=c["reach_share"],
    )


def largest(result: AudienceResult) -> str:
    """The audience with the most eligible members, and why audiences count people, not accounts."""
    if result.largest is None:
        return "No audience is defined."
    return md(
        "The largest audience is **{name}** ({description}). Audiences are built from every channel the "
        "person's OneID joins, so a store buyer who also browses the app is one person, not two.",
        name=result.largest, description=result.descriptions.get(result.largest, ""),
    )


def overlap(result: AudienceResult) -> str:
    """The two most similar audiences (Jaccard index)."""
    if len(result.descriptions) < 2:
        return "Only one audience is defined: there is nothing to overlap."
    pair = result.most_similar
    if pair is None:
        return "No two audiences share anyone."
    return md(
        "The most similar pair is **{a}** and **{b}** (Jaccard {jaccard:.2f}: shared people over people in "
        "either). Cells with fewer than {k} people are left blank.",
        a=pair["a"], b=pair["b"], jaccard=pair["jaccard"], k=result.k,
    )


def reach(result: AudienceResult) -> str:
    """Which platform matches the most eligible members, by which identifiers."""
    best = result.best_platform
    if best is None:
        return "No ad platform was counted."
    share = result.membership_shares
    text = md("Summed over the audiences, **{best}** can match the most eligible members ({s:.0%}).",
              best=best, s=share[best])
    google = md("Google could match {phone:.0%} of them by phone and {email:.0%} by email",
                phone=share.get("google Phone", 0.0), email=share.get("google Email", 0.0))
    n = result.device_only or 0
    tencent = md("Tencent also reaches members known only by an app device ({n} audience memberships "
                 "without a usable phone).", n=f"{n:,.0f}" if n >= result.k else f"fewer than {result.k}")
    has_google, has_tencent = "google" in result.platforms, "tencent" in result.platforms
    if has_google and has_tencent:
        text += " " + google + "; " + tencent
    elif has_google:
        text += " " + google + "."
    elif has_tencent:
        text += " " + tencent
    return text + " A platform's real match rate is lower than this: it only finds people who use it."


def consent(result: AudienceResult) -> str:
    """Opt-outs: how many, how many only on an older record, how many removed, and whether the
    figures also remove the holders of an opted-out record's identifiers."""
    c, k = result.counts, result.k
    records_only = c["opted_out_records_only"]
    if records_only >= k:
        older = md("{n:,} of them only on an older member record that the profile's most-recent-value rule "
                   "would have missed. ", n=records_only)
    else:
        older = "a few of them only on an older member record. " if records_only else ""
    text = (md("{total:,} people have opted out of marketing; ", total=c["opted_out_total"]) + older
            + md("{removed:,} of them fall into at least one audience and are removed from every export.",
                 removed=c["opted_out_removed"]))
    n = c["identifier_removed"]
    if n == 0:
        return text + (" No eligible audience member holds a phone, email or device id of an opted-out record, "
                       "so suppression by identifier removes nobody else.")
    if result.identifier_suppression:
        return text + md(" The figures above also remove the {n} eligible members who hold a phone, email or "
                         "device id of an opted-out record (suppression by identifier).", n=_count(n, k))
    return text + md(" The figures above remove the opted-out OneIDs only: `omni audience export` also removes "
                     "the {n} eligible members who hold a phone, email or device id of an opted-out record "
                     "(suppression by identifier).", n=_count(n, k))
