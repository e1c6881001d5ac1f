"""The texts of the audiences report: Markdown blocks built from an :class:`AudienceResult`.

Audience names and descriptions come from a YAML file a user writes: every value goes through
:func:`omni.core.markup.md`, so it shows as typed and never becomes markup.
"""

from __future__ import annotations

from omni.audience.result import AudienceResult
from omni.core.i18n import add_terms, month_label, relabel, tr
from omni.core.markup import md
from omni.core.result import Figure

#: The report's table columns in Chinese (omni.reporting.display.table looks them up).
add_terms("zh", {
    "audience": "人群包", "what it selects": "选择规则", "people": "人数", "opted out": "已退订", "eligible": "可激活",
    "any platform": "任一平台", "tencent (any)": "腾讯（任一）", "google (any)": "Google（任一）", "meta (any)": "Meta（任一）",
})

_LABELS_ZH = {"audiences": "已定义的人群包", "people_in_audiences": "至少在一个人群包中的人",
              "reachable": "其中广告平台可触达（未退订、有可用标识符）", "opted_out_removed": "移除的人群包成员：已退订营销",
              "reach_share": "有可用手机号、邮箱或设备 ID 的可激活成员"}


def title(result: AudienceResult) -> str:
    """The headline's title."""
    return tr(f"Audiences at the end of {result.month}", f"人群包：{month_label(result.month)}末")


def headline(result: AudienceResult) -> list[Figure]:
    """The headline figures, labelled in the report language."""
    return relabel(result.headline, _LABELS_ZH)


def sizes_caption(result: AudienceResult) -> str:
    """Caption of the audience-size table."""
    return tr(f"Audiences at the end of {result.month} (counts under {result.k} blanked)",
              f"{month_label(result.month)}末的人群包（少于 {result.k} 的人数留空）")


def reach_caption(result: AudienceResult) -> str:
    """Caption of the reach table."""
    return tr(f"Eligible people reachable per platform and identifier (counts under {result.k} blanked)",
              f"各平台、各标识符可触达的可激活人数（少于 {result.k} 的人数留空）")

__all__ = ["consent", "headline", "largest", "overlap", "reach", "reach_caption", "sizes_caption", "summary", "title"]


def _count(n: int, k: int) -> str:
    """A count, or ``fewer than k`` for a small positive one (zero stays)."""
    return f"{n:,}" if n >= k or n == 0 else f"fewer than {k}"


def summary(result: AudienceResult) -> str:
    """How many people the audiences select, how many opted out, how many an ad platform can match."""
    c = result.counts
    return md(tr(
        "{audiences} audiences select {people:,} distinct people at the end of {month}. {removed:,} of them "
        "opted out of marketing and are removed from every export; of the {eligible:,} who remain, "
        "{reachable:,} ({share:.0%}) carry a phone, email or device id an ad platform can match; the others "
        "can still be reached in-house (app, WeChat, stores) through their pseudonymized OneID.",
        "{month}末 {audiences} 个人群包共选中 {people:,} 个不同的人。其中 {removed:,} 人退订了营销，已从所有导出中移除；"
        "其余 {eligible:,} 人中，{reachable:,} 人（{share:.0%}）有广告平台可匹配的手机号、邮箱或设备 ID；其他人仍可通过"
        "假名化的 OneID 在自有触点（App、微信、门店）触达。"),
        audiences=c["audiences"], people=c["people_in_audiences"], month=month_label(result.month),
        removed=c["opted_out_removed"], eligible=c["eligible"], reachable=c["reachable"],
        share=c["reach_share"],
    )


def largest(result: AudienceResult) -> str:
    """The audience with the most eligible members, and why audiences count people, not accounts."""
    if result.largest is None:
        return tr("No audience is defined.", "没有定义人群包。")
    return md(tr(
        "The largest audience is **{name}** ({description}). Audiences are built from every channel the "
        "person's OneID joins, so a store buyer who also browses the app is one person, not two.",
        "最大的人群包是 **{name}**（{description}）。人群包基于此人 OneID 打通的全部渠道构建，因此既在门店购买又浏览 App "
        "的顾客是一个人，而不是两个。"),
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
