"""The identity report's words: Markdown blocks built with :func:`omni.core.markup.md` (values escaped).

Each function reads an :class:`~omni.identity.result.IdentityResult` and formats; none computes.
:data:`FORMATS` holds the number formats of the report's tables (``str.format`` patterns by column).
"""

from __future__ import annotations

from omni.core.i18n import add_terms, current_lang, month_label, relabel, tr
from omni.core.markup import md
from omni.core.result import Figure
from omni.identity.result import IdentityResult

__all__ = [
    "FORMATS",
    "accuracy",
    "examples",
    "headline",
    "intro",
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


#: The report's table columns and captions in Chinese (omni.reporting.display.table looks them up).
add_terms("zh", {
    "source": "数据源", "records": "记录数", "OneIDs": "OneID 数", "oneids": "OneID 数", "strong": "强标识符",
    "weak": "弱标识符", "account": "平台账号", "none": "无", "linked": "已关联", "size": "大小",
    "profiles": "画像数", "share_profiles": "画像占比", "share_records": "记录占比", "id_type": "标识符类型",
    "mean": "均值", "p50": "中位数", "p99": "99 分位", "max": "最大值", "share_more_than_one": "多于一个的比例",
    "profiles_with": "含该类型的画像", "oneid": "OneID", "n_records": "记录数", "sources": "数据源",
    "n_bridges": "桥接标识符数", "reason": "原因", "values": "取值数", "graph": "图", "comparison": "对比",
    "pairwise precision": "成对精确率", "pairwise recall": "成对召回率", "largest profile (records)": "最大画像（记录数）",
    "status": "状态", "share": "比例", "label": "标签", "m_probability": "m 概率", "u_probability": "u 概率",
    "match_weight": "匹配权重", "change": "变化", "precision": "精确率", "recall": "召回率", "f1": "F1",
    "bcubed_precision": "B³ 精确率", "bcubed_recall": "B³ 召回率", "bcubed_f1": "B³ F1", "source_a": "数据源 A",
    "source_b": "数据源 B", "pred_pairs": "预测记录对", "true_pairs": "真实记录对", "tp": "正确记录对",
    "probabilistic": "概率关联",
    "Records by source and how they were linked (account: linked only by a platform account not bound to a person)":
        "各数据源的记录及其关联方式（平台账号：仅由未绑定到人的平台账号关联）",
    "Distinct linking identifiers per OneID, by type": "每个 OneID 的不同关联标识符数，按类型",
    "Largest OneIDs": "最大的 OneID", "Values held back, by rule": "各规则拦下的值", "Profile-limit splits": "画像上限拆分",
    "Model parameters: m and u per comparison level (EM, no labels)": "模型参数：各比较级别的 m 和 u（EM，无标签）",
    "By source pair (all records)": "按数据源对（全部记录）",
})

#: Category labels in the tables' cells (omni.reporting.display.table translates cells too).
add_terms("zh", {
    # how the rules held values back
    "shared": "共享值", "bridge": "桥接值", "invalid": "无效值", "over_limit": "超出上限", "ambiguous_weak": "歧义弱标识符",
    "not_linking": "不参与关联",
    # the two graphs compared
    "omni rules": "omni 规则", "naive: connect every shared value": "朴素做法：共享值全部相连",
    # how platform orders reached a person
    "by rule": "规则关联", "by probability": "概率关联", "not linked": "未关联", "no identifier": "无标识符",
    # stable OneIDs month over month
    "kept": "保留", "new": "新增", "merged_into": "并入", "split_from": "拆分自", "retired": "停用",
    # record counts
    "all": "全部", "with a strong identifier": "有强标识符",
    # the probabilistic model's comparison levels (omni.oneid.linkage.comparisons)
    "phone": "手机号", "name": "姓名", "address": "地址", "different": "不同",
    "primary masked phone equal": "主掩码手机号相同", "a masked phone shared": "有一个掩码手机号相同",
    "primary name equal": "主姓名相同", "a name shared": "有一个姓名相同", "same pinyin (homophone)": "拼音相同（同音）",
    "one character apart": "相差一个字", "same surname": "同姓",
    "same road, number and room": "同路、同门牌、同房号", "same road and number": "同路同门牌", "same road": "同一条路",
    "same district": "同区", "same city, district unknown": "同城（区未知）", "same city, other district": "同城不同区",
    "same province": "同省",
})

_LABELS_ZH = {"records": "已识别记录数", "profiles": "OneID 数（全部画像）", "known_people": "已知的人（有人级强标识符）",
              "platform_only": "仅平台买家（一个平台账号）", "anonymous_profiles": "匿名画像（无强标识符）",
              "true_people": "合成真值中的人数", "records_per_profile": "每个 OneID 的记录数",
              "multi_source_share": "出现在 2 个及以上数据源的 OneID", "anonymous_share": "无可用 ID 的记录",
              "precision": "成对精确率（强标识符记录）", "recall": "成对召回率（强标识符记录）"}


def title(result: IdentityResult) -> str:
    """The headline's title."""
    return tr(f"OneID, records up to the end of {result.month}", f"OneID：截至{month_label(result.month)}末的记录")


def headline(result: IdentityResult) -> list[Figure]:
    """The headline figures, labelled in the report language."""
    return relabel(result.headline, _LABELS_ZH)


def people(result: IdentityResult) -> str:
    """What the OneIDs are: known people, platform-only buyers and anonymous profiles (and, on
    synthetic data, how many people there truly are)."""
    text = md(tr("The {profiles:,} OneIDs are not all people: **{known:,} known people** carry a phone, email, "
                 "member id or unionid; {platform:,} are buyers known only by one platform account (possibly "
                 "also one of the known people); **{anon:,} anonymous profiles** are cookie-, device- or "
                 "openid-only visitors and records with no usable id, and one person may leave many of them.",
                 "{profiles:,} 个 OneID 并不都是人：**{known:,} 个已知的人**有手机号、邮箱、会员 ID 或 unionid；"
                 "{platform:,} 个是只通过一个平台账号认识的买家（可能也是某个已知的人）；**{anon:,} 个匿名画像**"
                 "是只有 cookie、设备或 openid 的访客以及没有可用 ID 的记录，一个人可能留下许多个。"),
              profiles=result.profiles, known=result.known_people, platform=result.platform_only,
              anon=result.anonymous_profiles)
    if result.true_people is not None:
        text += md(tr(" On this synthetic dataset the records truly come from **{n:,} people**.",
                      "在这份合成数据上，这些记录实际来自 **{n:,} 个人**。"), n=result.true_people)
    return text


def warnings(result: IdentityResult) -> list[str]:
    """One bold-led note per warning of the resolution (e.g. the probabilistic stage fell back)."""
    return [md(tr("**Warning:** {w}", "**警告：** {w}"), w=w) for w in result.warnings]


def probabilistic_stage(result: IdentityResult) -> str | None:
    """What the probabilistic stage did, or that it failed and the rules alone resolved the month.

    Returns
    -------
    str or None
        None when the stage did not run at all.
    """
    stage = result.probabilistic
    if result.stage_failed and current_lang() == "zh":
        return md("**概率匹配阶段未能运行完成**，因此本次识别只使用确定性规则：本月没有平台账号按概率关联。{error}",
                  error=stage.get("error", ""))
    if result.stage_failed:
        return md("**The probabilistic stage did not run to the end**, so this resolution uses the deterministic "
                  "rules only: no platform account is linked by probability this month. {error}",
                  error=stage.get("error", ""))
    if not stage:
        return None
    dec = stage.get("decisions", {})
    return md(tr("{accounts:,} unbound accounts were scored against {profiles:,} profiles over {pairs:,} candidate "
              "pairs (blocked on masked phone and address; never on name alone). Linked: {linked:,}; below the "
              "threshold {threshold:.2f}: {below:,}; no candidate: {none:,}; too close to a runner-up: {ambiguous:,}.",
                 "{accounts:,} 个未绑定账号与 {profiles:,} 个画像在 {pairs:,} 个候选对上打分（按打码手机号和地址分块，"
                 "绝不只凭姓名）。已关联：{linked:,}；低于阈值 {threshold:.2f}：{below:,}；无候选：{none:,}；"
                 "与第二名过于接近：{ambiguous:,}。"),
              accounts=stage.get("accounts", 0), profiles=stage.get("profiles", 0),
              pairs=stage.get("candidate_pairs", 0), linked=dec.get("linked", 0),
              threshold=stage.get("threshold", float("nan")), below=dec.get("below_threshold", 0),
              none=dec.get("no_candidate", 0), ambiguous=dec.get("ambiguous", 0))


def link_accuracy(result: IdentityResult) -> str | None:
    """The share of probabilistic links that join the right person (None without truth or links)."""
    la = result.tables.get("link_accuracy")
    if la is None or not len(la) or not la["links"].iloc[0]:
        return None
    return md(tr("Against the synthetic truth, {ok:.2%} of the {n:,} probabilistic links join the right person.",
                 "对照合成真值，{n:,} 个概率关联中有 {ok:.2%} 关联到了正确的人。"),
              ok=float(la["right_person"].iloc[0]), n=int(la["links"].iloc[0]))


def oneid_changes(result: IdentityResult) -> str:
    """OneIDs carried over, new, merged and split since last month, in one sentence."""
    ch = result.changes
    return md(tr("{kept:,} OneIDs carried over from last month, {new:,} new people, {merged:,} ids merged into an "
                 "older one, {split:,} split off.",
                 "沿用上月的 OneID {kept:,} 个，新增 {new:,} 人，{merged:,} 个 ID 并入较早的 ID，拆分出 {split:,} 个。"), kept=int(ch["kept"]), new=int(ch["new"]),
              merged=int(ch["merged_into"]), split=int(ch["split_from"]))


def accuracy(result: IdentityResult) -> str:
    """Recall against the full and the linkable truth, or that there is no truth to measure against."""
    if not result.has_truth:
        return tr("This dataset has no ground truth; accuracy is not measured.", "此数据集没有真值，不测量准确度。")
    strong = result.tables["accuracy"].iloc[0]
    return md(tr("Recall on strong-id records is {recall:.4f} against the full truth and {linkable:.4f} against the "
              "*linkable* truth (true pairs joined by some chain of valid identifiers). The gap is data, not "
              "rules: e.g. WeChat followers whose unionid the CRM never recorded and who gave no phone cannot "
              "be linked by any deterministic method.",
                 "强标识符记录的召回率对照全部真值为 {recall:.4f}，对照*可关联*真值（由某条有效标识符链相连的真实记录对）"
                 "为 {linkable:.4f}。差距来自数据而非规则：例如 CRM 从未记录其 unionid、也没有留手机号的微信粉丝，"
                 "任何确定性方法都无法关联。"),
              recall=float(strong["recall"]), linkable=float(strong["linkable_recall"]))


def examples(result: IdentityResult) -> str:
    """The explained example pairs as plain text (record keys and identifiers masked)."""
    return "\n\n".join(str(e) for e in result.examples)


# The longer section introductions (what a rule or a measure does), shown under the notebook's headings.
_INTROS = {
    "rules": (
        "Identifier values kept from linking and the records they appear on: invalid or blocked values,\n"
        "shared values (seen with too many people), ambiguous weak ids (a family tablet), and values removed\n"
        "to keep a profile within its per-type limits. Without these rules a naive graph that connects every\n"
        "shared value glues different people together.",
        "不参与关联的标识符值及其所在的记录：无效或被屏蔽的值、共享值（与过多的人一起出现）、有歧义的弱 ID（家庭共用平板），\n"
        "以及为使画像不超过各类型上限而移除的值。没有这些规则，一个把所有共享值都连起来的朴素图会把不同的人粘在一起。"),
    "platforms": (
        "Tmall, JD and Douyin orders carry a platform-scoped buyer id, a receiver name, a masked phone\n"
        "(138****5678) and an address. Accounts bound to a phone through the shop membership are linked by\n"
        "rule; the others go through a Fellegi-Sunter model (Splink on DuckDB, trained without labels by\n"
        "EM) against existing profiles, and are linked only above the match threshold and clearly ahead of\n"
        "the runner-up.",
        "天猫、京东和抖音的订单带有平台内的买家 ID、收货人姓名、打码手机号（138****5678）和地址。通过店铺会员通与手机号\n"
        "绑定的账号按规则关联；其余账号经 Fellegi-Sunter 模型（基于 DuckDB 的 Splink，用 EM 无标签训练）与已有画像比对，\n"
        "只有超过匹配阈值且明显领先第二名时才关联。"),
    "accuracy": (
        "Only on synthetic data, whose generator knows who is who. Pairwise precision: of the record pairs\n"
        "put in one OneID, the share that are truly one person; recall: of the true pairs, the share found.\n"
        "Stated for records carrying a strong identifier (the population OneID rules can link) and for all.",
        "仅适用于合成数据，其生成器知道谁是谁。成对精确率：被归入同一 OneID 的记录对中，真正属于同一人的比例；召回率：\n"
        "真实记录对中被找到的比例。分别针对带强标识符的记录（OneID 规则能够关联的人群）和全部记录给出。"),
}


def intro(section: str) -> str:
    """The introduction of a report section (``"rules"``, ``"platforms"``, ``"accuracy"``): what the
    rules, the linkage or the measure do, in the report language."""
    en, zh = _INTROS[section]
    return tr(en, zh)
