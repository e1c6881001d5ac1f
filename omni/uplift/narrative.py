"""The uplift report's words: Markdown blocks built from a result, every data value escaped.

Each function returns Markdown for ``omni.reporting.display.note``. Campaign ids and names, arms,
channels and segment values come from the data: they go through :func:`omni.core.markup.md` /
:func:`omni.core.markup.escape_md`. What to say is decided from the result's numbers, flags and
enums (:class:`omni.uplift.selection.SelectionKind`, check results, ``better_than_random``,
``skipped_models``), never from the text of a warning.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from omni.core.i18n import add_terms, current_lang, month_label, relabel, term, tr
from omni.core.markup import escape_md, md, md_join
from omni.core.result import Figure
from omni.uplift.campaign import MIN_SEGMENT_EVENTS, CampaignAnalysis
from omni.uplift.result import UpliftResult, UpliftTruth
from omni.uplift.selection import CampaignSelection, SelectionKind
from omni.uplift.tables import CHECK_LABELS, SEGMENT_LABELS, ci, pp
from omni.value.rfm import SEGMENTS

__all__ = [
    "comparison_caption",
    "headline",
    "no_truth",
    "title",
    "CUPED_HEAD",
    "DESIGN_HEAD",
    "POWER_HEAD",
    "QINI_HEAD",
    "SEGMENTS_HEAD",
    "campaign_intro",
    "campaign_notes",
    "campaign_title",
    "checks_verdict",
    "comparison",
    "cuped_head",
    "cuped_summary",
    "effect_head",
    "effect_summary",
    "budget_summary",
    "budget_table",
    "identity_coverage_summary",
    "identity_summary",
    "identity_table",
    "model_skipped",
    "overview",
    "power_summary",
    "qini_summary",
    "recommendation",
    "recommendation_head",
    "segments_summary",
    "selection_sentence",
    "summary",
    "truth_summary",
    "validation_table",
    "budget_caption", "budget_curve_title",
    "no_model_to_check",
    "no_model_to_rank",
    "validation_caption",
    "validation_verdict",
    "methods",
    "validation_intro",
]

DESIGN_HEAD = ("### Design and checks\nWere people split as planned, alike before the campaign, and "
               "was the holdout left alone?")
SEGMENTS_HEAD = ("### Uplift by segment\nThe conversion lift within RFM classes, CLV tiers and city "
                 "tiers (all measured before the campaign). Segments where an arm has too few people "
                 "are not estimated.")
QINI_HEAD = ("### Qini curve: can we find the people who respond?\nAn uplift model (two logistic "
             "regressions on recency, frequency, spend and CLV before the campaign) is fitted on "
             "70% of the people and ranks the other 30%; the Qini curve counts the incremental "
             "buyers reached when the highest-ranked are targeted first, against random targeting.")
POWER_HEAD = ("### Power: how large an effect could this campaign see?\nThe smallest lift the design "
              "detects with 80% power at the 5% level, given its size and split.")
#: Kept for symmetry with the other heads; the CUPED head depends on the pre-period.
CUPED_HEAD = "### CUPED: the same effect with pre-campaign behaviour taken into account"


def _cny(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{x:,.0f} CNY"


def _selection_text(sel: CampaignSelection) -> str:
    """The plain sentence saying what a selection reports (escaped by the callers)."""
    labels = tr(", ", "、").join(f"{c} ({sel.names[c]})" if sel.names else c for c in sel.campaign_ids)
    month = month_label(sel.month)
    if sel.kind is SelectionKind.NO_CAMPAIGNS:
        return tr("This dataset has no campaigns.", "该数据集没有活动。")
    if sel.kind is SelectionKind.BY_PARAMETER:
        return tr(f"Campaigns chosen by parameter: {labels}.", f"按参数选择的活动：{labels}。")
    if sel.kind is SelectionKind.ENDED_IN_MONTH:
        return tr(f"{len(sel.campaign_ids)} campaign(s) ended in {sel.month}: {labels}.",
                  f"{month}结束的活动 {len(sel.campaign_ids)} 个：{labels}。")
    if sel.kind is SelectionKind.NONE_ENDED:
        return tr(f"No campaign had ended by the end of {sel.month}.", f"截至{month}末还没有结束的活动。")
    return tr(f"No campaign ended in {sel.month}. Shown instead: the most recent campaign that had "
              f"ended, {labels}, which ended on {sel.last_end:%Y-%m-%d}.",
              f"{month}没有结束的活动。改为展示最近一个已结束的活动：{labels}，结束于 {sel.last_end:%Y-%m-%d}。")


def selection_sentence(sel: CampaignSelection) -> str:
    """What a selection reports, as escaped Markdown."""
    return escape_md(_selection_text(sel))


#: The report's table columns and captions in Chinese (omni.reporting.display.table looks them up).
add_terms("zh", {
    "campaign": "活动", "name": "名称", "ended": "结束日期", "people": "人数", "arms": "干预组", "arm": "组别",
    "checks": "检查", "check": "检查", "result": "结果", "detail": "详情", "incremental buyers": "增量买家",
    "incremental revenue (CNY)": "增量收入（元）", "incremental profit (CNY)": "增量利润（元）", "cost (CNY)": "成本（元）",
    "next time": "下次建议", "send to": "发送给", "treated": "干预组", "control": "对照组", "contacted": "已触达",
    "control conversion": "对照组转化率", "conversion lift": "转化增量", "relative lift": "相对增量", "lift": "增量",
    "p-value": "p 值", "95% interval": "95% 区间", "95% interval (pp)": "95% 区间（百分点）",
    "95% interval (CNY)": "95% 区间（元）", "metric": "指标", "figure": "指标", "this month": "本月", "previous": "上期",
    "change": "变化", "relative": "相对", "planned share": "计划比例", "actual share": "实际比例",
    "true effect": "真实效果", "reported (OneID)": "报告值（OneID）", "with true identities": "使用真实身份",
    "contains truth": "覆盖真值", "contains truth (true identities)": "覆盖真值（真实身份）", "note": "说明",
    "Arms": "各组", "Checks": "检查", "Conversion lift by RFM class": "按 RFM 类别的转化增量",
    "True intention-to-treat effect vs reported 95% intervals": "真实意向性效果与报告的 95% 区间",
    "Segment intervals (conversion) containing the true segment effect": "覆盖真实分组效果的分组区间（转化）",
    "share covered": "覆盖比例",
    # the subsection heads (constants: shown through term() by omni.uplift.section)
    DESIGN_HEAD: "### 设计与检查\n人群是否按计划分组、活动前各组是否相似、对照组是否未被触达？",
    SEGMENTS_HEAD: "### 分人群增量\n在 RFM 类别、CLV 分层和城市级别（均为活动前测量）内的转化增量。某组人数过少的人群不做估计。",
    QINI_HEAD: "### Qini 曲线：能否找到会响应的人？\n增量模型（基于活动前的最近购买时间、频次、消费和 CLV 的两个逻辑回归）"
               "在 70% 的人上拟合，对其余 30% 排序；Qini 曲线统计优先触达排名最高者时获得的增量买家，并与随机触达对比。",
    POWER_HEAD: "### 检验效能：这个活动能看到多大的效果？\n在给定规模和分组下，设计能以 80% 效能、5% 显著性水平检出的最小增量。",
    "bought in the window": "窗口期内购买", "revenue in the window (CNY/person)": "窗口期内收入（元/人）",
    "lift before": "调整前增量", "interval before": "调整前区间", "lift after": "调整后增量", "interval after": "调整后区间",
    "variance removed": "消除的方差", "interval narrower by": "区间收窄", "buyers treated": "干预组买家",
    "buyers control": "对照组买家", "Qini coefficient": "Qini 系数", "detectable conversion lift": "可检出的转化增量",
    "measured lift": "实测增量", "detectable revenue lift (CNY/person, CUPED)": "可检出的收入增量（元/人，CUPED）",
    "Who is in the target group (held-out people; index 100 = as in everyone)": "目标人群构成（留出样本；指数 100 = 与全体相同）",
    "Conversion lift by CLV tier": "按 CLV 分层的转化增量",
    "Conversion lift by channel mix before the campaign": "按活动前渠道结构的转化增量",
    "control people": "名对照组成员", "treated people": "名干预组成员", "control buyers": "个对照组买家",
    "treated buyers": "个干预组买家",
    # month figures, design checks, segmentations (omni.uplift.result / omni.uplift.tables)
    "campaigns reported": "报告的活动数", "people in the experiments": "实验人数",
    "campaigns passing the design checks": "通过设计检查的活动", "arms with a significant conversion lift": "转化增量显著的干预组",
    "campaign cost (CNY)": "活动成本（元）",
    CHECK_LABELS["sample_ratio"]: "分组比例符合计划（样本比例）", CHECK_LABELS["balance"]: "活动前各组相似（平衡性）",
    CHECK_LABELS["holdout_untouched"]: "对照组未被打扰（对照组未触达）", CHECK_LABELS["treated_reached"]: "实验组已触达",
    CHECK_LABELS["one_assignment"]: "每人只分配一次",
    "RFM class": "RFM 类别", "CLV tier": "CLV 分层", "channel mix before the campaign": "活动前渠道结构",
    "city tier": "城市级别", "age band": "年龄段", "channel": "渠道",
    "Conversion lift by city tier": "按城市级别的转化增量", "Conversion lift by age band": "按年龄段的转化增量",
    "95% bootstrap interval": "95% 自助法区间", "resamples": "重抽样次数", "people fitted": "拟合人数",
    "people held out": "留出人数", "verdict": "结论", "test": "检验", "estimate": "估计值",
    "share targeted": "触达比例", "coupons + contacts (CNY)": "优惠券 + 触达（元）",
    "observed (OneID)": "观测值（OneID）", "orders captured": "捕获的订单", "adjusted for capture": "按捕获率调整",
    "bought: treated vs control": "购买：实验组 vs 对照组", "buyers seen by OneID": "OneID 看到的买家",
    "share_targeted": "目标人群占比", "share_everyone": "全体占比", "index": "指数", "people_targeted": "目标人数",
    "Observed effect vs effect adjusted for identity capture (95%)": "观测效果与按身份捕获率调整后的效果（95%）",
    "segment_by": "分群方式", "segments": "人群数", "covered": "覆盖数",
})

#: Category labels in the tables' cells (omni.reporting.display.table translates cells too).
add_terms("zh", {
    "revenue lift (CNY/person)": "收入增量（元/人）",
    # the refuters of omni.uplift.validation.refute
    "placebo treatment": "安慰剂处理", "random common cause": "随机共同原因", "data subset": "数据子集",
    "placebo treatment (prediction slope)": "安慰剂处理（预测斜率）",
    "conversion": "转化", "revenue per person": "人均收入", "control": "对照组", "no purchase": "无购买",
    "sms": "短信", "wechat_push": "微信推送", "email": "邮件",
    # the RFM classes' English names (uplift by RFM class)
    **{en: zh for zh, en in SEGMENTS.values()},
})


def title(result: UpliftResult) -> str:
    """The headline's title."""
    return tr(f"Campaign uplift, {result.month}", f"活动增量，{month_label(result.month)}")


def headline(result: UpliftResult) -> list[Figure]:
    """The headline figures, labelled in the report language."""
    f = result.month_figures()
    figs = relabel(result.headline, {
        "campaigns": "报告的活动数", "people": "实验人数", "checks_passed": "通过设计检查的活动",
        "significant_arms": "转化增量显著的干预组", "inc_conversions": "增量买家", "inc_revenue": "增量收入",
        "inc_profit": f"按 {result.margin:.0%} 毛利率的增量利润"})
    if current_lang() == "zh":
        shown = {"checks_passed": f"{f['checks_passed']} / {f['campaigns']}",
                 "significant_arms": f"{f['significant_arms']} / {f['arms']}"}
        figs = [dataclasses.replace(x, value=shown[x.key]) if x.key in shown else x for x in figs]
    return figs


def comparison_caption(result: UpliftResult) -> str:
    """Caption of the month-over-month table."""
    return tr(f"{result.month} vs {result.previous.month}",
              f"{month_label(result.month)} 对比 {month_label(result.previous.month)}")


def no_truth() -> str:
    """The note shown when there is no truth to check against."""
    return tr("This dataset has no ground truth (or no campaign to check); the truth check is skipped.",
              "此数据集没有真值（或没有可检验的活动），跳过真值检验。")


# -- the month ---------------------------------------------------------------------------------
def summary(result: UpliftResult) -> str:
    """The month in a paragraph: reach, incremental buyers, revenue, cost, the best campaign."""
    sel = _selection_text(result.selection)
    best = result.best_campaign()
    if best is None:
        return md(tr("{} There is nothing to report.", "{} 没有可报告的内容。"), sel)
    f = result.month_figures()
    if current_lang() == "zh":
        return md(
            "{} 这些活动共触达 {:,} 人，带来了没有活动就不会发生的 {:,.0f} 个增量买家和 {:,.0f} 元增量收入，触达和优惠券"
            "成本为 {:,.0f} 元。利润最高的是 **{}**（{}）：增量利润 {:,.0f} 元。效果按分配到的每个人计算（意向性分析），"
            "基于 OneID 关联的全渠道订单。",
            sel, f["people"], f["inc_conversions"], f["inc_revenue"], f["cost"],
            best.campaign_id, best.info["name"], best.figures["inc_profit"],
        )
    return md(
        "{} Together they reached {:,} people and brought {:,.0f} buyers and {:,.0f} CNY of revenue "
        "that would not have happened without them, for {:,.0f} CNY of contact and coupon cost. The most "
        "profitable was **{}** ({}): {:,.0f} CNY incremental profit. Effects are per assigned person "
        "(intention to treat), measured on orders in every channel linked by OneID.",
        sel, f["people"], f["inc_conversions"], f["inc_revenue"], f["cost"],
        best.campaign_id, best.info["name"], best.figures["inc_profit"],
    )


def comparison(result: UpliftResult) -> str:
    """This month against the previous period, in a sentence."""
    prev = result.previous
    prev_text = _selection_text(prev.selection)
    if not prev.selection.campaign_ids:
        return md("Nothing to compare with: {}", prev_text)
    if result.previous_is_same:
        return ("The previous month's report shows the same campaign(s), so nothing changed. "
                + escape_md(prev_text))
    cur, before = result.month_figures(), prev.month_figures()
    d = cur["inc_profit"] - before["inc_profit"]
    if current_lang() == "zh":
        return (f"上期：{escape_md(prev_text)} 本月增量利润{'增加' if d >= 0 else '减少'} {abs(d):,.0f} 元"
                f"（{cur['inc_profit']:,.0f} 元 vs {before['inc_profit']:,.0f} 元），实验人数 {cur['people']:,} vs "
                f"{before['people']:,}。")
    return (f"Previous period: {escape_md(prev_text)} Incremental profit is "
            f"{abs(d):,.0f} CNY {'higher' if d >= 0 else 'lower'} this month "
            f"({cur['inc_profit']:,.0f} vs {before['inc_profit']:,.0f} CNY), from "
            f"{cur['people']:,} people in the experiments vs {before['people']:,}.")


def overview(result: UpliftResult) -> str:
    """Which campaigns raised revenue beyond doubt (interval above zero)."""
    pos = [a for a in result.campaigns if a.figures["inc_revenue_ci_low"] > 0]
    return (tr(f"{len(pos)} of {len(result.campaigns)} campaign(s) raised revenue beyond doubt "
               "(interval above zero)",
               f"{len(result.campaigns)} 个活动中有 {len(pos)} 个确定带来了收入增量（区间在零以上）")
            + (tr(": ", "：") + tr(", ", "、").join(md("{} +{:,.0f} CNY", a.campaign_id, a.figures["inc_revenue"])
                                                  for a in pos) if pos else "")
            + tr(". Sections per campaign follow.", "。以下按活动分节。"))


def truth_summary(truth: UpliftTruth) -> str:
    """How many reported intervals contain the true effect, and what OneID misses."""
    seen, seg = truth.buyers_seen, truth.segments
    if current_lang() == "zh":
        return (f"报告的 {len(truth.overall)} 个区间中有 {truth.n_inside} 个包含真实效果；用真实身份时 {truth.n_perfect} 个中有 "
                f"{truth.n_inside_perfect} 个包含。OneID 能把活动窗口内 {seen.min():.0%}–{seen.max():.0%} 的买家归到被分配的人"
                "（其余买家在 OneID 无法关联订单的地方购买，例如用未绑定手机号的账号在天猫/京东/抖音购买，或在门店无会员卡购买），"
                "因此经 OneID 测得的增量大约按这一比例低估真实效果；身份识别关联的平台订单越多，差距越小。"
                + (f"分群区间在 {seg['segments'].sum()} 个情形中有 {seg['covered'].sum()} 个包含真实分群效果。" if len(seg) else ""))
    return (f"{truth.n_inside} of {len(truth.overall)} reported intervals contain the true effect; "
            f"with the true identities {truth.n_inside_perfect} of {truth.n_perfect} do. OneID links "
            f"{seen.min():.0%}–{seen.max():.0%} of the buyers in the campaign windows to the assigned "
            "person (the others buy where OneID cannot tie the order to them, e.g. on Tmall/JD/Douyin "
            "under an account not bound to a phone, or in a store without a member card), so lifts "
            "measured through OneID understate the true effect by about that share; the gap closes as "
            "identity resolution links more platform orders."
            + (f" Segment intervals contain the true segment effect in {seg['covered'].sum()} of "
               f"{seg['segments'].sum()} cases." if len(seg) else ""))


def identity_table(result: UpliftResult) -> pd.DataFrame:
    """Observed and capture-adjusted effects side by side (one row per campaign, arm, metric)."""
    e = result.identity_effects()
    if len(e) == 0:
        return pd.DataFrame()
    conv = (e["metric"] == "conversion").to_numpy()
    sc = np.where(conv, 100.0, 1.0)
    unit = np.where(conv, tr(" pp", " 个百分点"), tr(" CNY", " 元"))

    def est(x: pd.Series, lo: pd.Series, hi: pd.Series) -> list[str]:
        return [f"{v * k:+.2f}{u} " + ci(a, b, k) for v, a, b, k, u in
                zip(x, lo, hi, sc, unit, strict=True)]

    return pd.DataFrame({
        "campaign": e["campaign_id"], "arm": e["arm"], "metric": e["metric"],
        "observed (OneID)": est(e["observed"], e["observed_ci_low"], e["observed_ci_high"]),
        "orders captured": [f"{c:.0%} [{lo:.0%}, {hi:.0%}]" for c, lo, hi in
                            zip(e["capture"], e["capture_ci_low"], e["capture_ci_high"], strict=True)],
        "adjusted for capture": est(e["adjusted"], e["adjusted_ci_low"], e["adjusted_ci_high"]),
    })


def identity_summary(result: UpliftResult) -> str:
    """What the capture correction does and which effect to use for what."""
    e = result.identity_effects()
    if len(e) == 0:
        return tr("Identity capture was not estimated for these campaigns.", "这些活动没有估计身份捕获率。")
    cap = e.drop_duplicates("campaign_id")
    lo, hi = cap["capture"].min(), cap["capture"].max()
    if current_lang() == "zh":
        return (f"OneID 估计能把被分配者 {lo:.0%}–{hi:.0%} 的订单归到本人（无会员卡的门店散客订单和无人能关联的平台账号"
                "会落在其他档案上，各组一样）。因此观测效果比活动真正带来的效果小约这一比例。**判断活动是否有效、比较各组时，"
                "用观测效果**：它的检验本身有效（各组损失相同），也不依赖捕获率估计。**估计规模时用调整后的效果**：增量买家、"
                "收入和利润、预算和 ROI，这些观测效果会少算。它的区间更宽，因为包含了捕获率估计的不确定性。")
    return (f"OneID ties an estimated {lo:.0%}–{hi:.0%} of the assigned people's orders to them "
            "(store walk-ins without a card and platform accounts nobody could link land on other "
            "profiles, in both arms). The observed effect is therefore smaller than what the "
            "campaign caused by about that share. **Use the observed effect to decide whether a "
            "campaign worked and to compare arms**: its test is valid as it is (the loss is the same "
            "in every arm) and it does not depend on the capture estimate. **Use the adjusted effect "
            "for sizes**: incremental buyers, revenue and profit, budgets and ROI, where the observed "
            "effect under-counts. Its interval is wider because it carries the uncertainty of the "
            "capture estimate.")


def identity_coverage_summary(cov: pd.DataFrame) -> str:
    """Synthetic data: how often the observed and the adjusted conversion intervals hold the truth."""
    if len(cov) == 0:
        return tr("No arm to check.", "没有可检查的组。")
    tsum = cov["true_effect"].sum()

    def ratio(col: str) -> float:
        return cov[col].sum() / tsum if tsum else np.nan

    if current_lang() == "zh":
        return (f"包含真实效果的转化区间：观测 {len(cov)} 个中 {int(cov['observed_inside'].sum())} 个，调整后 {len(cov)} 个中 "
                f"{int(cov['adjusted_inside'].sum())} 个。按组加总，观测估计是真值的 {ratio('observed'):.2f}，调整后是 "
                f"{ratio('adjusted'):.2f}（单月的活动噪声较大：多个世界的平均见 benchmarks/bench_uplift_identity.py）。")
    return (f"Conversion intervals containing the true effect: observed {int(cov['observed_inside'].sum())} "
            f"of {len(cov)}, adjusted {int(cov['adjusted_inside'].sum())} of {len(cov)}. Summed over "
            f"arms the observed estimates are {ratio('observed'):.2f} of the truth and the adjusted "
            f"ones {ratio('adjusted'):.2f} (one month's campaigns are noisy: see "
            "benchmarks/bench_uplift_identity.py for the average over many worlds).")


def validation_table(v: dict) -> pd.DataFrame:
    """One line per test of :func:`omni.uplift.validation.validate_cate`: what it estimates, the
    estimate with its interval or p-value, and the verdict."""
    blp = v["blp"].set_index("term")
    cal = v["calibration_summary"]
    rows = []
    for blp_term, label in (("ate", tr("average effect (BLP b)", "平均效果（BLP b）")),
                            ("heterogeneity", tr("BLP slope c on the prediction (1 = calibrated, 0 = noise)",
                                                 "对预测值的 BLP 斜率 c（1 = 已校准，0 = 噪声）"))):
        r = blp.loc[blp_term]
        rows.append({"test": label, "estimate": f"{r['estimate']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]",
                     "p-value": f"{r['p_value']:.3g}", "verdict": tr(r["verdict"], r.get("verdict_zh", r["verdict"]))})
    rows.append({"test": tr("calibration by prediction quintile", "按预测五分位校准"),
                 "estimate": tr(f"R² {cal['r_squared']:.2f}, score {cal['calibration_score']:.4f}",
                                f"R² {cal['r_squared']:.2f}，得分 {cal['calibration_score']:.4f}"),
                 "p-value": f"{cal['p_value']:.3g}", "verdict": tr(cal["verdict"], cal.get("verdict_zh", cal["verdict"]))})
    for r in v["refuters"].itertuples():
        interval = (f" [{r.ci_low:+.4f}, {r.ci_high:+.4f}]" if np.isfinite(r.ci_low) else "")
        rows.append({"test": tr(f"refuter: {r.refuter}", f"反驳检验：{term(r.refuter)}"),
                     "estimate": f"{r.estimate:+.4f} -> {r.new_effect:+.4f}{interval}",
                     "p-value": f"{r.p_value:.3g}" if np.isfinite(r.p_value) else "–",
                     "verdict": tr(r.verdict, getattr(r, "verdict_zh", r.verdict))})
    return pd.DataFrame(rows)


def budget_table(curve: pd.DataFrame, step: float = 0.1) -> pd.DataFrame:
    """The budget curve at every ``step`` of the share targeted, in CNY."""
    c = curve[np.isclose((curve["share"] / step) % 1, 0) | np.isclose((curve["share"] / step) % 1, 1)]
    return pd.DataFrame({
        "share targeted": [f"{x:.0%}" for x in c["share"]],
        "people": c["n_targeted"].to_numpy(),
        "incremental buyers": [f"{x:,.0f} [{lo:,.0f}, {hi:,.0f}]" for x, lo, hi in
                               zip(c["inc_buyers"], c["inc_buyers_ci_low"], c["inc_buyers_ci_high"], strict=True)],
        "coupons + contacts (CNY)": [f"{a + b:,.0f}" for a, b in zip(c["coupon_cost"], c["contact_cost"], strict=True)],
        "incremental profit (CNY)": [f"{x:,.0f} [{lo:,.0f}, {hi:,.0f}]" for x, lo, hi in
                                     zip(c["inc_profit"], c["inc_profit_ci_low"], c["inc_profit_ci_high"], strict=True)],
    })


def budget_summary(campaign_id: str, arm: str, best: dict) -> str:
    """The best share of the budget curve, in a sentence."""
    if current_lang() == "zh":
        share, profit, lo, hi = (best[k] for k in ("share", "inc_profit", "inc_profit_ci_low", "inc_profit_ci_high"))
        if not np.isfinite(profit):
            verdict = "没有可估值的触达比例"
        elif lo > 0:
            verdict = f"触达前 {share:.0%} 比不发送多赚 {profit:,.0f} 元（95% 区间 {lo:,.0f} 至 {hi:,.0f}）"
        elif profit > 0:
            verdict = (f"前 {share:.0%} 看起来有利润（{profit:,.0f} 元），但区间包含亏损（{lo:,.0f} 至 {hi:,.0f}）："
                       "扩大规模前请再次测试")
        else:
            verdict = "在这个优惠券成本和毛利率下，触达任何比例的人都不盈利"
        return md("{} {}：", campaign_id, arm) + verdict + "。"
    return md("{} {}: ", campaign_id, arm) + escape_md(str(best["verdict"])) + "."


def validation_intro() -> str:
    """What the uplift model checks test (the validation section's introduction)."""
    return tr("Each arm's uplift model is checked on the held-out people (never used to fit it), as EconML's\n"
              "DRTester and DoWhy's refuters do. The **best linear predictor** regresses the outcome on the\n"
              "treatment and on the treatment times the prediction: a slope above zero means the model finds\n"
              "people who respond more (1 = its sizes are right). **Calibration** compares the observed effect\n"
              "with the predicted one in five groups of the prediction. The **refuters** must leave the effect\n"
              "alone: a randomly permuted treatment must show none, a random extra covariate must not move it,\n"
              "random 80% subsets must give the same.",
              "每个组的增量模型都在留出的人群上检验（这些人从未用于拟合），做法同 EconML 的 DRTester 和 DoWhy 的反驳检验：\n"
              "**最佳线性预测**检验（斜率大于零说明模型找到了响应更强的人）、按预测五分位的**校准**，以及三项**反驳**\n"
              "（随机置换处理、随机共同原因、随机 80% 子集）。")


def validation_caption(campaign_id: str, arm: str) -> str:
    """Caption of an arm's uplift model checks (escaped by the table)."""
    return tr(f"{campaign_id} {arm}: uplift model checks", f"{campaign_id} {arm}：增量模型检验")


def budget_curve_title(campaign_id: str, arm: str) -> str:
    """Title of an arm's budget curve chart."""
    return tr(f"{campaign_id} {arm}: incremental profit by share targeted", f"{campaign_id} {arm}：增量利润与触达占比")


def budget_caption(campaign_id: str, arm: str) -> str:
    """Caption of an arm's budget curve table."""
    return tr(f"{campaign_id} {arm}: budget curve", f"{campaign_id} {arm}：预算曲线")


def validation_verdict(v: dict, alpha: float = 0.05) -> str:
    """The uplift model checks in one sentence (:func:`omni.uplift.validation.validate_cate`'s
    verdict in English; the same decisions, from its numbers, in Chinese)."""
    if current_lang() != "zh":
        return str(v["verdict"])
    ref = v["refuters"]
    finds = v["blp"]["p_value"].iloc[1] < alpha
    failed = ref.loc[~ref["passed"], "refuter"]
    return ("预测的增量" + ("能" if finds else "不能") + "找到响应更强的人；"
            + ("其规模已校准" if v["calibration_summary"]["p_value"] >= alpha else "其规模未校准（用于排序，不用于估计规模）")
            + ("；所有反驳检验均通过。" if not len(failed) else md("；未通过的反驳检验：{}。", "、".join(failed))))


def no_model_to_check() -> str:
    """The note when no campaign had an uplift model to validate."""
    return tr("No campaign had an uplift model to check (too few people or buyers).",
              "没有活动有可检验的增量模型（人数或买家太少）。")


def no_model_to_rank() -> str:
    """The note when no campaign had an uplift model for the budget curve."""
    return tr("No campaign had an uplift model to rank people with; the recommendation above values "
              "sending to everyone.", "没有活动有可用于排序的增量模型；上面的建议按发给所有人估值。")


# -- one campaign ------------------------------------------------------------------------------
def campaign_title(an: CampaignAnalysis) -> str:
    """``## <id> · <name>``."""
    return md("## {} · {}", an.campaign_id, an.info["name"])


def campaign_intro(an: CampaignAnalysis) -> str:
    """Channel, dates, size, arms, holdout, costs and the outcome measured."""
    info = an.info
    if current_lang() == "zh":
        coupons = "、".join(md("{} {:g} 元", a, v) for a, v in info["coupon_value"].items() if v > 0)
        return (md("{} 活动，{:%Y-%m-%d} 至 {:%Y-%m-%d}（{} 天），{:,} 人随机分入 {} 和 {:.0%} 的对照组；每次触达 {:g} 元",
                   info["channel"], info["start_date"], info["end_date"], info["days"], an.figures["n_people"],
                   "、".join(an.arms), info["control_share"], info["cost_per_contact"])
                + (f"，优惠券 {coupons}" if coupons else "")
                + "。结果指标：活动窗口内任一渠道的任一已支付订单，按每个被分配的人计算（意向性分析）。")
    coupons = ", ".join(md("{} {:g} CNY", a, v) for a, v in info["coupon_value"].items() if v > 0)
    return (md("{} campaign from {:%Y-%m-%d} to {:%Y-%m-%d} ({} days), {:,} people randomized into {} "
               "and a {:.0%} holdout (control); {:g} CNY per contact", info["channel"],
               info["start_date"], info["end_date"], info["days"], an.figures["n_people"],
               ", ".join(an.arms), info["control_share"], info["cost_per_contact"])
            + (f", coupons {coupons}" if coupons else "")
            + ". Outcome: any paid order in any channel during the campaign window, per assigned "
            "person (intention to treat).")


def checks_verdict(an: CampaignAnalysis) -> str:
    """Whether the comparison can be trusted, from the check results."""
    res = an.checks.set_index("check")["result"]
    fails = [term(CHECK_LABELS[k]) for k in res.index[res == "fail"]]
    warns = [term(CHECK_LABELS[k]) for k in res.index[res == "warn"]]
    if not fails and not warns:
        return tr("**All checks pass**: the comparison between arms can be trusted.",
                  "**全部检查通过**：各组之间的比较可信。")
    if fails:
        return md(tr("**Failed: {}.** Do not act on the effects below until the cause is found.",
                     "**未通过：{}。** 在查明原因之前，不要依据下面的效果采取行动。"),
                  ", ".join(fails))
    return md(tr("No check failed; worth a look: {}. The effects below stand, with the caveat stated in "
                 "the table.", "没有检查未通过；值得留意：{}。下面的效果成立，但需注意表中所述的保留意见。"),
              ", ".join(warns).lower())


def effect_head(an: CampaignAnalysis) -> str:
    """Heading of the effect subsection."""
    if current_lang() == "zh":
        return ("### 效果\n各干预组与对照组在购买人数比例上的差异，附 95% 区间"
                + ("（p 值经 Holm 多组校正）" if len(an.arms) > 1 else "") + "。")
    return ("### Effect\nDifference between each arm and the holdout in the share of people who "
            "bought, with 95% intervals"
            + (" (p-values Holm-adjusted across arms)" if len(an.arms) > 1 else "") + ".")


def _events(rate: float, n: float) -> float:
    """Buyers or non-buyers, whichever is fewer, of a group with conversion ``rate``."""
    k = rate * n
    return float(min(k, n - k)) if np.isfinite(k) else 0.0


def effect_summary(an: CampaignAnalysis, margin: float) -> str:
    """Each arm's conversion lift in words, the effect on the contacted and the campaign's total."""
    e = an.effects[(an.effects["adjustment"] == "none") & (an.effects["metric"] == "conversion")]
    if current_lang() == "zh":
        return _effect_summary_zh(an, e, margin)
    lines = []
    for r in e.itertuples():
        verdict = ("a clear increase" if r.significant and r.abs_lift > 0 else
                   "a clear decrease" if r.significant else "no difference distinguishable from chance")
        few = min(_events(r.mean_treat, r.n_treat), _events(r.mean_control, r.n_control))
        caution = (f" Caution: an arm has only {few:.0f} buyers (or non-buyers), too few for the "
                   "normal approximation behind the interval and test; read the figures as "
                   "indicative." if few < MIN_SEGMENT_EVENTS else "")
        lines.append(f"**{escape_md(r.arm)}**: {r.mean_treat:.2%} bought vs {r.mean_control:.2%} in the "
                     f"holdout, {pp(r.abs_lift)} {ci(r.abs_ci_low, r.abs_ci_high, 100)} — {verdict}.{caution}")
    if len(an.cace) == 1:
        cc = an.cace.iloc[0]
        lines.append(f"Among people actually contacted ({cc['contact_rate_treat']:.1%} of the arm) "
                     f"the effect is {pp(cc['cace'])} {ci(cc['cace_ci_low'], cc['cace_ci_high'], 100)}.")
    f = an.figures
    lines.append(f"Over the campaign: {f['inc_conversions']:,.0f} incremental buyers "
                 f"{ci(f['inc_conversions_ci_low'], f['inc_conversions_ci_high'], 1, '{:,.0f}')} and "
                 f"{_cny(f['inc_revenue'])} incremental revenue "
                 f"{ci(f['inc_revenue_ci_low'], f['inc_revenue_ci_high'], 1, '{:,.0f}')}, for a cost of "
                 f"{_cny(f['cost'])}: incremental profit {_cny(f['inc_profit'])} at a {margin:.0%} margin.")
    return " ".join(lines)


def _effect_summary_zh(an: CampaignAnalysis, e: pd.DataFrame, margin: float) -> str:
    """:func:`effect_summary` in Chinese."""
    lines = []
    for r in e.itertuples():
        verdict = ("明确提升" if r.significant and r.abs_lift > 0 else
                   "明确下降" if r.significant else "与随机波动无法区分")
        few = min(_events(r.mean_treat, r.n_treat), _events(r.mean_control, r.n_control))
        caution = (f"注意：某组只有 {few:.0f} 个买家（或未购买者），不足以支撑区间和检验所依赖的正态近似，"
                   "数字仅供参考。" if few < MIN_SEGMENT_EVENTS else "")
        lines.append(f"**{escape_md(r.arm)}**：{r.mean_treat:.2%} 购买，对照组为 {r.mean_control:.2%}，"
                     f"{pp(r.abs_lift)} {ci(r.abs_ci_low, r.abs_ci_high, 100)}——{verdict}。{caution}")
    if len(an.cace) == 1:
        cc = an.cace.iloc[0]
        lines.append(f"在实际被触达的人中（占该组 {cc['contact_rate_treat']:.1%}），效果为 {pp(cc['cace'])} "
                     f"{ci(cc['cace_ci_low'], cc['cace_ci_high'], 100)}。")
    f = an.figures
    lines.append(f"整个活动：增量买家 {f['inc_conversions']:,.0f} 个 "
                 f"{ci(f['inc_conversions_ci_low'], f['inc_conversions_ci_high'], 1, '{:,.0f}')}，增量收入 "
                 f"{_cny(f['inc_revenue'])} {ci(f['inc_revenue_ci_low'], f['inc_revenue_ci_high'], 1, '{:,.0f}')}，"
                 f"成本 {_cny(f['cost'])}：按 {margin:.0%} 毛利率的增量利润为 {_cny(f['inc_profit'])}。")
    return "".join(lines)


def cuped_head(an: CampaignAnalysis) -> str:
    """Heading of the CUPED subsection (names the pre-period)."""
    return tr(f"{CUPED_HEAD}\nPeople's orders in the {an.info['pre_days']} days before the start "
              "predict what they buy during it; subtracting that predictable part (CUPED, Deng et al. "
              "2013) narrows the intervals without moving the expected effect.",
              f"### CUPED：考虑活动前行为后的同一效果\n人们在活动开始前 {an.info['pre_days']} 天的订单可以预测其活动期间的"
              "购买；减去这部分可预测的成分（CUPED，Deng 等 2013）能收窄区间，而不改变预期效果。")


def cuped_summary(an: CampaignAnalysis) -> str | None:
    """What CUPED gained on revenue (None when only conversion was adjusted)."""
    ct = an.cuped_table
    if not len(ct):
        return tr("CUPED was not applied: the pre-period covariates are constant.",
                  "未应用 CUPED：活动前协变量为常数。")
    rev = ct[ct["metric"] != "conversion"]
    if not len(rev):
        return None
    r = rev.iloc[0]
    gain = 1 - r["se_after"] / r["se_before"]
    if current_lang() == "zh":
        return (f"活动前消费解释了窗口期收入方差的 {r['variance_reduction']:.1%}，因此收入区间"
                + (f"收窄 {abs(gain):.1%}" if gain >= 0 else
                   f"变宽 {abs(gain):.1%}（样本这么小时，各组中过去对现在的预测力会随机不同）")
                + f"（{escape_md(r['arm'])}：调整后每人 {r['lift_after']:+.2f} 元 {ci(r['ci_low_after'], r['ci_high_after'])}，"
                f"调整前 {r['lift_before']:+.2f} {ci(r['ci_low_before'], r['ci_high_before'])}）。"
                + ("收益较小说明窗口期内的购买大多无法从过去一年预测。" if r["variance_reduction"] < 0.1 else ""))
    how = ("narrower" if gain >= 0 else
           "wider (on samples this small the arms differ by chance in how well the past predicts)")
    return (f"Pre-campaign spend explains {r['variance_reduction']:.1%} of the variance of revenue "
            f"in the window, so the revenue interval is {abs(gain):.1%} {how}"
            f" ({escape_md(r['arm'])}: {r['lift_after']:+.2f} CNY per person "
            f"{ci(r['ci_low_after'], r['ci_high_after'])} after vs {r['lift_before']:+.2f} "
            f"{ci(r['ci_low_before'], r['ci_high_before'])} before)."
            + (" Small gains mean purchases in the window are mostly not predictable from "
               "the past year." if r["variance_reduction"] < 0.1 else ""))


def _largest_segment_lift(an: CampaignAnalysis) -> str:
    est = [s.loc[~s["suppressed"]] for s in an.segments.values()]
    if not any(len(x) for x in est):
        return ""
    best = pd.concat(est).sort_values("abs_lift", ascending=False).head(1)
    if not (len(best) and best["abs_lift"].iloc[0] > 0):
        return ""
    b = best.iloc[0]
    col = next(c for c in an.segments if c in b.index and pd.notna(b[c]))
    if current_lang() == "zh":
        return (f"估计增量最大的是 {escape_md(term(SEGMENT_LABELS.get(col, col)))}「{escape_md(term(b[col]))}」"
                f"中的 {escape_md(b['arm'])}：{pp(b['abs_lift'])} {ci(b['abs_ci_low'], b['abs_ci_high'], 100)}。")
    return (f" Largest estimated lift: {escape_md(SEGMENT_LABELS.get(col, col))} '{escape_md(b[col])}' "
            f"with {escape_md(b['arm'])}, {pp(b['abs_lift'])} {ci(b['abs_ci_low'], b['abs_ci_high'], 100)}.")


def segments_summary(an: CampaignAnalysis, alpha: float = 0.05) -> str:
    """Whether lifts differ between segments (Cochran's Q) and the largest segment lift."""
    het = an.heterogeneity
    if not (len(het) and het["p_value"].notna().any()):
        return tr("Too few people per segment to estimate segment lifts reliably: every segment has "
                  "fewer than the minimum in an arm.",
                  "每个人群的人数太少，无法可靠估计分人群增量：每个人群在某一组中都少于最低人数。")
    h = het.dropna(subset=["p_value"])
    differ = h[h["p_value"] < alpha]
    if not len(differ):
        return tr("No segmentation shows lifts that differ more than chance would produce "
                  f"(Cochran's Q, smallest p = {h['p_value'].min():.2g}).",
                  f"没有任何分群方式显示出超出随机波动的增量差异（Cochran's Q，最小 p = {h['p_value'].min():.2g}）。")
    which = sorted({tr(f"{SEGMENT_LABELS.get(r.segment_by, r.segment_by)} ({r.arm}, p = {r.p_value:.2g})",
                       f"{term(SEGMENT_LABELS.get(r.segment_by, r.segment_by))}（{r.arm}，p = {r.p_value:.2g}）")
                    for r in differ.itertuples()})
    return (tr(f"The lift differs between segments for {md_join(which)}.",
               f"以下分群方式的增量在人群间存在差异：{md_join(which, '、')}。") + _largest_segment_lift(an))


def qini_summary(an: CampaignAnalysis) -> str | None:
    """Whether the uplift model ranks people better than random (None without a model)."""
    if not an.model:
        return None
    good = [a for a, m in an.model.items() if m["better_than_random"]]
    if current_lang() == "zh":
        return ((f"对 {md_join(good, '、')}，模型的排序优于随机：按它定向，每条消息能触达更多增量买家。" if good else
                 "在留出数据上，模型的排序不优于随机：目前还没有可靠的方法挑出响应者，定向不应依赖它。")
                + "Qini 系数为 1 表示在此样本上可能的最佳排序，0 表示随机。")
    return ((f"The model ranks people better than random for {md_join(good)}: targeting by it "
             "reaches more incremental buyers per message. " if good else
             "The model does not rank people better than random on held-out data: there is no "
             "reliable way yet to pick the responders, so targeting should not rely on it. ")
            + "A Qini coefficient of 1 would be the best ranking possible on this sample, 0 is random.")


def model_skipped(an: CampaignAnalysis) -> str | None:
    """The arms without an uplift model and why (None when every arm has one)."""
    if not an.skipped_models:
        return None
    why = [tr(", ", "、").join(f"{n:,} {term(k)}" for k, n in s.short.items())
           for s in an.skipped_models]
    needs = [tr(f" (needs {s.min_people:,} people and {s.min_buyers} buyers in each arm)",
                f"（每组需要 {s.min_people:,} 人和 {s.min_buyers} 个买家）")
             for s in an.skipped_models]
    return tr("No uplift model: ", "没有增量模型：") + md_join([tr(f"the training part has {w}{n}", f"训练部分只有 {w}{n}")
                                                          for w, n in zip(why, needs, strict=True)],
                                                         tr("; ", "；")) + tr(".", "。")


def recommendation_head(an: CampaignAnalysis) -> str:
    """Heading of the recommendation subsection."""
    if current_lang() == "zh":
        return ("### 建议：下次发给谁\n对一个与本活动相同、规模为 "
                f"{an.recommendation['population']:,} 人的人群，"
                + ("发给所有人或只发给增量模型排名最高的一部分人" if an.model else "发给所有人（无法拟合增量模型）")
                + "时的预期增量收入与利润。")
    return ("### Recommendation: who to send to next time\nExpected incremental revenue and profit "
            f"for an audience of {an.recommendation['population']:,} people like this campaign's, "
            + ("sending to everyone or only to the share the uplift model ranks highest."
               if an.model else "sending to everyone (no uplift model could be fitted)."))


def recommendation(an: CampaignAnalysis, margin: float) -> str:
    """Who to send to next time, with the expected incremental revenue, cost and profit."""
    rec = an.recommendation
    who = (tr("everyone eligible", "所有可发送的人") if rec["basis"] == "everyone" else
           tr(f"the top {rec['top_k']:.0%} by predicted uplift ({rec['n_targeted']:,} people)",
              f"预测增量最高的前 {rec['top_k']:.0%}（{rec['n_targeted']:,} 人）"))
    interval = ci(rec["inc_revenue_ci_low"], rec["inc_revenue_ci_high"], 1, "{:,.0f}")
    arm = escape_md(rec['arm'])
    if not rec["worth_it"]:
        return tr(f"**Do not repeat this campaign as it ran.** Its best option ({arm} "
                  f"to {who}) is expected to lose money: incremental revenue {_cny(rec['inc_revenue'])} "
                  f"{interval} at a {margin:.0%} margin does not cover the cost of {_cny(rec['cost'])}.",
                  f"**不要按原样重复这个活动。** 它的最佳方案（{arm} 发给{who}）预计亏损：按 {margin:.0%} 毛利率，增量收入 "
                  f"{_cny(rec['inc_revenue'])} {interval} 不足以覆盖 {_cny(rec['cost'])} 的成本。")
    text = tr(f"**Send {arm} to {who}.** Expected: {rec['inc_conversions']:,.0f} "
              f"incremental buyers and {_cny(rec['inc_revenue'])} incremental revenue {interval}, cost "
              f"{_cny(rec['cost'])}, incremental profit {_cny(rec['inc_profit'])}",
              f"**把 {arm} 发给{who}。** 预计：增量买家 {rec['inc_conversions']:,.0f} 个，增量收入 "
              f"{_cny(rec['inc_revenue'])} {interval}，成本 {_cny(rec['cost'])}，增量利润 {_cny(rec['inc_profit'])}") + (
        tr(f" (vs {_cny(rec['profit_everyone'])} sending it to everyone).",
           f"（发给所有人为 {_cny(rec['profit_everyone'])}）。") if rec["basis"] == "model" else tr(".", "。"))
    if rec["inc_revenue_ci_low"] < 0:
        text += tr(" The interval includes a loss: treat this as the best guess, and keep a "
                   "holdout next time.", "区间包含亏损：请把它当作最佳估计，下次继续保留对照组。")
    return text


def power_summary(an: CampaignAnalysis) -> str:
    """The smallest detectable lift of each arm and whether the test was large enough."""
    if current_lang() == "zh":
        return _power_summary_zh(an)
    notes = []
    for r in an.power.itertuples():
        if not np.isfinite(r.mde_conversion):
            notes.append(f"**{escape_md(r.arm)}**: the holdout's conversion ({r.baseline_conversion:.2%} of "
                         f"{r.n_control:,} people) gives no baseline to plan on; a larger holdout is "
                         "needed before the detectable lift can be stated.")
            continue
        s = (f"**{escape_md(r.arm)}**: with {r.n_treat:,} treated and {r.n_control:,} in the holdout and a "
             f"{r.baseline_conversion:.2%} control conversion, lifts of {pp(r.mde_conversion)} "
             f"({r.mde_relative:.0%} relative) or more are detected 80% of the time.")
        if np.isfinite(r.observed_lift) and r.observed_lift > 0 and np.isfinite(r.needed_control):
            if r.observed_lift >= r.mde_conversion:
                s += f" The measured lift, {pp(r.observed_lift)}, is above that: the test was large enough."
            else:
                s += (f" The measured lift, {pp(r.observed_lift)}, is below it: confirming a lift "
                      f"of that size needs about {r.needed_treat:,.0f} treated and "
                      f"{r.needed_control:,.0f} control people at the same split.")
        elif np.isfinite(r.observed_lift):
            s += " No positive lift was measured; a larger holdout would be needed to rule out a small effect."
        notes.append(s)
    return " ".join(notes)


def _power_summary_zh(an: CampaignAnalysis) -> str:
    """:func:`power_summary` in Chinese."""
    notes = []
    for r in an.power.itertuples():
        if not np.isfinite(r.mde_conversion):
            notes.append(f"**{escape_md(r.arm)}**：对照组转化率（{r.n_control:,} 人中 {r.baseline_conversion:.2%}）"
                         "无法作为规划基线；需要更大的对照组才能给出可检出的增量。")
            continue
        s = (f"**{escape_md(r.arm)}**：实验组 {r.n_treat:,} 人、对照组 {r.n_control:,} 人、对照组转化率 "
             f"{r.baseline_conversion:.2%} 时，{pp(r.mde_conversion)}（相对 {r.mde_relative:.0%}）及以上的增量有 80% 的概率被检出。")
        if np.isfinite(r.observed_lift) and r.observed_lift > 0 and np.isfinite(r.needed_control):
            if r.observed_lift >= r.mde_conversion:
                s += f"实测增量 {pp(r.observed_lift)} 高于此值：测试规模足够。"
            else:
                s += (f"实测增量 {pp(r.observed_lift)} 低于此值：要确认这么大的增量，在相同分组比例下约需实验组 "
                      f"{r.needed_treat:,.0f} 人、对照组 {r.needed_control:,.0f} 人。")
        elif np.isfinite(r.observed_lift):
            s += "没有测到正的增量；需要更大的对照组才能排除小的效果。"
        notes.append(s)
    return "".join(notes)


def campaign_notes(an: CampaignAnalysis) -> str | None:
    """Problems met while analysing the campaign (None when there were none)."""
    return tr("*Notes: ", "*说明：") + md_join(an.warnings, tr("; ", "；")) + tr(".*", "。*") if an.warnings else None


# -- how the numbers are made ------------------------------------------------------------------
_METHODS_EN = """\
- **Outcome**: a person converted if they placed any paid order (refunded and cancelled orders never
  count), in any channel, from the start to the end date of the campaign; revenue is the sum of those
  orders. Orders count only when OneID links them to the person. **Adjusted for capture**: the
  effect divided by the share c of the assigned people's orders OneID captures (for conversion
  times (1 - holdout conversion)^(1/c - 1)), c estimated by channel from the data, its uncertainty
  added by the delta method. Effects compare people by the arm they were **assigned** to, contacted
  or not (intention to treat); the effect on the contacted is the complier effect (ITT / contact rate).
- **Checks**: sample ratio by chi-square (flag at p < 0.001), balance by standardized mean differences
  (|SMD| > 0.1), contamination (> 1% of the holdout contacted) and reach (> 10% of the treated not
  contacted).
- **Intervals**: two-proportion z (conversion) and Welch t (revenue), 95%; with several arms the
  p-values are Holm-adjusted. **CUPED** subtracts theta x (pre-period value - its mean), theta =
  cov / var over all people.
- **Segments** (RFM 8 classes and CLV tiers from orders before the start; city tier) are estimated
  only with at least `segment_min_n` people per arm; counts under 10 are hidden. Cochran's Q tests
  whether the lifts differ.
- **Uplift model**: one logistic regression per arm (T-learner) on 70% of the people; the Qini curve
  and its coefficient (bootstrap interval) on the other 30%. The share to target is chosen on the
  70% and valued on the 30%. Costs: contacts x cost per contact + a coupon for every treated buyer
  (conservative); profit = margin x incremental revenue - cost.
- **Power**: smallest detectable lift at 80% power, 5% two-sided (Fleiss), for the design's size
  and split. Details and references: docs/uplift.md."""

_METHODS_ZH = """\
- **结果指标**：在活动开始到结束日期之间，在任一渠道有已支付订单即算转化；收入为这些订单之和。只有被 OneID 关联到
  本人的订单才计入。效果按分配到的组（无论是否触达）比较（意向性分析，ITT）；对已触达者的效果为依从者效应（ITT / 触达率）。
- **检查**：用卡方检验样本比例（p < 0.001 时标记），用标准化均值差检验平衡（|SMD| > 0.1），污染（留出组被触达超过 1%）
  和触达（干预组未被触达超过 10%）。
- **区间**：两比例 z 检验（转化）和 Welch t 检验（收入），95%；多个干预组时 p 值经 Holm 校正。**CUPED** 减去
  theta x（前期值 - 其均值），theta = 全体人群上的 cov / var。
- **人群分组**（按活动开始前订单计算的 RFM 八类和 CLV 分层；城市级别）仅在每组至少 `segment_min_n` 人时估计；
  少于 10 的计数不予显示。Cochran's Q 检验各组增量是否不同。
- **增量模型**：每个组一个逻辑回归（T-learner），用 70% 的人训练；Qini 曲线及其系数（bootstrap 区间）在另外 30% 上计算。
  目标人群比例在 70% 上选定，在 30% 上估值。成本：触达人数 x 单次触达成本 + 每个干预组买家一张优惠券（保守）；
  利润 = 毛利率 x 增量收入 - 成本。
- **检验功效**：在 80% 功效、5% 双侧（Fleiss）下，按设计的规模和分组比例可检测到的最小增量。详情与参考文献见 docs/uplift.md。"""


def methods() -> str:
    """How the numbers are made (outcome, checks, intervals, segments, uplift model, power): a
    Markdown list written in the code, no data in it."""
    return tr(_METHODS_EN, _METHODS_ZH)
