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
    return f"{n:,}" if n >= k or n == 0 else tr(f"fewer than {k}", f"少于 {k}")


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
        return tr("Only one audience is defined: there is nothing to overlap.", "只定义了一个人群包：没有可比较的重叠。")
    pair = result.most_similar
    if pair is None:
        return tr("No two audiences share anyone.", "任意两个人群包之间都没有共同的人。")
    return md(tr(
        "The most similar pair is **{a}** and **{b}** (Jaccard {jaccard:.2f}: shared people over people in "
        "either). Cells with fewer than {k} people are left blank.",
        "最相似的一对是 **{a}** 和 **{b}**（Jaccard {jaccard:.2f}：共同人数除以任一人群包中的人数）。少于 {k} 人的单元格留空。"),
        a=pair["a"], b=pair["b"], jaccard=pair["jaccard"], k=result.k,
    )


def reach(result: AudienceResult) -> str:
    """Which platform matches the most eligible members, by which identifiers."""
    best = result.best_platform
    if best is None:
        return tr("No ad platform was counted.", "没有统计任何广告平台。")
    share = result.membership_shares
    text = md(tr("Summed over the audiences, **{best}** can match the most eligible members ({s:.0%}).",
                 "按全部人群包汇总，**{best}** 能匹配的可激活成员最多（{s:.0%}）。"),
              best=best, s=share[best])
    google = md(tr("Google could match {phone:.0%} of them by phone and {email:.0%} by email",
                   "Google 可通过手机号匹配其中 {phone:.0%}，通过邮箱匹配 {email:.0%}"),
                phone=share.get("google Phone", 0.0), email=share.get("google Email", 0.0))
    n = result.device_only or 0
    tencent = md(tr("Tencent also reaches members known only by an app device ({n} audience memberships "
                    "without a usable phone).",
                    "腾讯还能触达只有 App 设备 ID 的成员（{n} 个人群包成员资格没有可用手机号）。"),
                 n=f"{n:,.0f}" if n >= result.k else tr(f"fewer than {result.k}", f"少于 {result.k}"))
    has_google, has_tencent = "google" in result.platforms, "tencent" in result.platforms
    if has_google and has_tencent:
        text += tr(" ", "") + google + tr("; ", "；") + tencent
    elif has_google:
        text += tr(" ", "") + google + tr(".", "。")
    elif has_tencent:
        text += tr(" ", "") + tencent
    return text + tr(" A platform's real match rate is lower than this: it only finds people who use it.",
                     "平台的实际匹配率低于此数：它只能找到使用该平台的人。")


def consent(result: AudienceResult) -> str:
    """Opt-outs: how many, how many only on an older record, how many removed, and whether the
    figures also remove the holders of an opted-out record's identifiers."""
    c, k = result.counts, result.k
    records_only = c["opted_out_records_only"]
    if records_only >= k:
        older = md(tr("{n:,} of them only on an older member record that the profile's most-recent-value rule "
                      "would have missed. ", "其中 {n:,} 人只在较早的会员记录上退订，按档案的最新值规则会被漏掉。"),
                   n=records_only)
    else:
        older = tr("a few of them only on an older member record. ", "其中少数人只在较早的会员记录上退订。") if records_only else ""
    text = (md(tr("{total:,} people have opted out of marketing; ", "{total:,} 人退订了营销；"), total=c["opted_out_total"])
            + older
            + md(tr("{removed:,} of them fall into at least one audience and are removed from every export.",
                    "其中 {removed:,} 人属于至少一个人群包，已从所有导出中移除。"),
                 removed=c["opted_out_removed"]))
    n = c["identifier_removed"]
    if n == 0:
        return text + tr(" No eligible audience member holds a phone, email or device id of an opted-out record, "
                         "so suppression by identifier removes nobody else.",
                         "没有任何可激活的人群包成员持有已退订记录的手机号、邮箱或设备 ID，因此按标识符屏蔽不会再移除任何人。")
    if result.identifier_suppression:
        return text + md(tr(" The figures above also remove the {n} eligible members who hold a phone, email or "
                            "device id of an opted-out record (suppression by identifier).",
                            "以上数字还移除了持有已退订记录的手机号、邮箱或设备 ID 的 {n} 名可激活成员（按标识符屏蔽）。"),
                         n=_count(n, k))
    return text + md(tr(" The figures above remove the opted-out OneIDs only: `omni audience export` also removes "
                        "the {n} eligible members who hold a phone, email or device id of an opted-out record "
                        "(suppression by identifier).",
                        "以上数字只移除了已退订的 OneID：`omni audience export` 还会移除持有已退订记录的手机号、邮箱或设备 ID "
                        "的 {n} 名可激活成员（按标识符屏蔽）。"), n=_count(n, k))
