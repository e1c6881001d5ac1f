"""The texts and table views of the channel attribution report (notebook 04).

Each ``<section>(result)`` returns Markdown built with :func:`omni.core.markup.md`, so every value
from the data (channel, path and campaign names, the currency) is escaped; each ``*_table(result)``
returns the keyword arguments of :func:`omni.reporting.display.table` (a DataFrame with readable
columns, formats, a caption), with groups of fewer than 10 people blanked. Nothing is computed
here beyond formatting.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from omni.attribution.comparison import share_matrix
from omni.attribution.journeys import DIRECT
from omni.attribution.models import MODEL_LABELS
from omni.attribution.result import AttributionResult
from omni.core.i18n import add_terms, current_lang, month_label, relabel, term, tr
from omni.core.markup import md, md_join
from omni.core.result import Figure
from omni.privacy import publishable

__all__ = [
    "headline",
    "title",
    "campaigns_table",
    "comparison_table",
    "conversion_channels_table",
    "disagreement",
    "disagreement_table",
    "intro",
    "journeys",
    "markov",
    "model_shares",
    "month_change",
    "no_store_paths",
    "online_to_offline",
    "paths_table",
    "roi",
    "roi_range_table",
    "roi_table",
    "share_table",
    "store_paths_table",
    "summary",
    "truth",
    "truth_table",
    "visibility_table",
]

_PCT = "{:.1%}"

#: The report's table columns in Chinese (omni.reporting.display.table looks them up).
add_terms("zh", {
    "channel": "渠道", "conversions": "转化数", "conversion_channel": "销售渠道", "conversion_rate": "转化率",
    "path": "路径", "people": "人数", "journeys": "路径数", "touches": "触点数", "mean_touches": "平均触点数",
    "online_share": "线上占比", "touched_share": "有触点占比", "visited_share": "访问过占比", "model": "模型",
    "spend": "花费", "cpa": "CPA", "roas": "ROAS", "cpa_min": "CPA 最低", "cpa_max": "CPA 最高", "roas_min": "ROAS 最低",
    "roas_max": "ROAS 最高", "verdict": "结论", "models_above_target": "达标模型数", "min_share": "最低份额",
    "max_share": "最高份额", "min_model": "最低份额模型", "max_model": "最高份额模型", "best_rank": "最好排名",
    "worst_rank": "最差排名", "rank_stable": "排名稳定", "spread (pp)": "差距（个百分点）", "figure": "指标",
    "change": "变化", "relative_change": "相对变化", "campaign_id": "活动 ID", "name": "名称", "start_date": "开始日期",
    "end_date": "结束日期", "total_abs_dev": "总绝对偏差", "max_abs_dev": "最大绝对偏差", "max_dev_channel": "偏差最大渠道",
    "rank_corr": "秩相关", "caused_conversions": "触点带来的转化", "visible_share": "可见比例", "suppressed": "已隐藏",
    "share of all conversions": "占全部转化", "share of store orders": "占门店订单", "value": "取值",
    "top_last_touch": "最常见末次触点", "first touch": "首次触点", "last touch": "末次触点",
    "causing touch on the buyer's OneID": "引起转化的触点在买家 OneID 上", "and counted in the journey": "且计入旅程",
    "last non-direct": "末次非直接", "linear": "线性", "time decay": "时间衰减", "position based": "位置加权",
})

#: Category labels in the tables' cells (omni.reporting.display.table translates cells too).
add_terms("zh", {
    # touchpoint channels (paths are shown step by step: :func:`path_label`)
    "display": "展示广告", "search": "搜索广告", "sms": "短信", "email": "邮件", "social_kol": "社交/KOL",
    "wechat_push": "微信推送", "direct": "直接", "all": "全部",
    # sales channels
    "store": "门店", "site": "官网", "tmall": "天猫", "jd": "京东", "douyin": "抖音",
    # models
    "Shapley (conv. rate)": "Shapley（转化率）", "Shapley (conversions)": "Shapley（转化数）",
    # month-over-month rows
    "conversions with a touch": "有触点的转化", "touches per touched conversion": "每个有触点转化的触点数",
    "median days to convert": "转化天数中位数", "credited to marketing (Markov)": "归因于营销（Markov）",
    "spend (CNY)": "花费（元）", "revenue (CNY)": "收入（元）", "spend per credited conversion (CNY)": "每个归因转化的花费（元）",
    "ROAS of paid channels (Markov)": "付费渠道 ROAS（Markov）", "top channel (Markov)": "首要渠道（Markov）",
    # small groups blanked (omni.privacy.suppress)
    **{f"fewer than {k}": f"少于 {k}" for k in range(2, 101)},
})


def title(result: AttributionResult) -> str:
    """The headline's title."""
    return tr(f"Channel attribution, conversions in {result.month}", f"渠道归因：{month_label(result.month)}的转化")


def headline(result: AttributionResult) -> list[Figure]:
    """The headline figures, labelled in the report language."""
    hm, lookback = result.model_label, result.settings.get("lookback_days", 30)
    return relabel(result.headline, {
        "conversions": "转化数（已支付订单，全部销售渠道）",
        "touched_share": f"下单前 {lookback} 天内有营销触点的转化",
        "median_days_to_convert": "从首次触点到下单的中位时长",
        "attributed_to_touches": f"归因给营销的转化（{hm}）",
        "top_channel": f"份额最大的渠道（{hm}）",
        "spend": "营销花费",
        "blended_cpa": f"付费渠道每个归因转化的花费（{hm}）",
        "max_model_gap": "各模型对同一渠道份额的最大差距",
        "truth_deviation": f"{hm}：与真实渠道份额的距离（0-2）",
        "truth_best_model": "最接近真实份额的模型",
    })


def _label(model: str) -> str:
    """A model's name in the report's language."""
    return term(MODEL_LABELS.get(model, model))


def summary(result: AttributionResult) -> str:
    """The month in a paragraph: conversions, touches, credit, spend, disagreement, change."""
    f, top = result.month_figures, result.tables["disagreement"].iloc[0]
    zh = current_lang() == "zh"
    text = md(tr(
        "In {month}, {conv:,} paid orders worth {value:,.0f} {cur} were placed across all sales channels. "
        "{touched:.0%} of them followed a marketing touch on the buyer's OneID within {lookback} days; the rest "
        "have no touch in view and stay with *direct*. The {hm} model credits {att:.1%} of the conversions to "
        "marketing, most to **{top_ch}** ({top_share:.1%} of all conversions); spend was {spend:,.0f} {cur}, "
        "{cpa:,.2f} {cur} per conversion credited to a paid channel. The models disagree most on **{gap_ch}**: "
        "{lo:.1%} of conversions under {lo_m}, {hi:.1%} under {hi_m}.",
        "{month}全部销售渠道共产生 {conv:,} 笔已支付订单，金额 {value:,.0f} {cur}。其中 {touched:.0%} 在下单前 {lookback} "
        "天内、在买家的 OneID 上有营销触点；其余没有可见触点，归入 *direct*（直接）。{hm} 模型把 {att:.1%} 的转化归因给营销，"
        "最多的是 **{top_ch}**（占全部转化的 {top_share:.1%}）；花费 {spend:,.0f} {cur}，付费渠道每个归因转化 {cpa:,.2f} {cur}。"
        "各模型分歧最大的是 **{gap_ch}**：{lo_m} 下占转化的 {lo:.1%}，{hi_m} 下占 {hi:.1%}。"),
        month=month_label(result.month) if zh else str(result.month), conv=f["conversions"], value=f["value"], cur=result.currency,
        touched=f["touched_share"], lookback=result.settings["lookback_days"], hm=result.model_label,
        att=f["attributed_to_touches"], top_ch=term(f["top_channel"]), top_share=f["top_share"], spend=f["spend"],
        cpa=f["blended_cpa"], gap_ch=term(top["channel"]), lo=top["min_share"], lo_m=_label(top["min_model"]),
        hi=top["max_share"], hi_m=_label(top["max_model"]),
    )
    if result.previous is not None:
        p = result.previous.month_figures
        text += md(tr(" Against {prev}: {diff:+,} conversions, marketing's share {p:.1%} → {c:.1%}.",
                      "与{prev}相比：转化 {diff:+,}，营销份额 {p:.1%} → {c:.1%}。"),
                   prev=month_label(result.previous.month) if zh else str(result.previous.month), diff=f["conversions"] - p["conversions"],
                   p=p["attributed_to_touches"], c=f["attributed_to_touches"])
    if result.attribution.invalid_amounts:
        text += md(tr(" {n} paid order(s) with a missing or negative amount were left out (see the data audit).",
                      "{n} 笔金额缺失或为负的已支付订单未计入（见数据审计）。"),
                   n=result.attribution.invalid_amounts)
    return text


def journeys(result: AttributionResult) -> str:
    """Touches per conversion, multichannel share, time to convert, the most converting path."""
    s = result.stats
    paths = publishable(result.tables["top_paths"], "people")
    shown = paths[paths["people"].notna()]
    text = md(tr(
        "{touched:,} of {conv:,} conversions had at least one touch; they saw {mean:.2f} touches on average and "
        "{multi:.0%} of them came through two or more channels. Half converted within {med:.1f} days of their "
        "first touch, 90% within {p90:.1f} days. Of the touched journeys (converting or not) {rate:.1%} ended "
        "in an order.",
        "{conv:,} 个转化中有 {touched:,} 个至少有一次触点；它们平均经历 {mean:.2f} 次触点，其中 {multi:.0%} 经过两个及以上"
        "渠道。一半在首次触点后 {med:.1f} 天内转化，90% 在 {p90:.1f} 天内。有触点的旅程（无论是否转化）中 {rate:.1%} "
        "以下单结束。"),
        touched=s["touched_conversions"], conv=s["conversions"], mean=s["mean_touches"],
        multi=s["multichannel_share"], med=s["median_days_to_convert"], p90=s["p90_days_to_convert"],
        rate=s["touched_conversion_rate"],
    )
    if len(shown):
        p0 = shown.iloc[0]
        return text + md(tr(" The most converting path is **{path}** ({conv:,.0f} conversions, {rate:.1%} of its "
                            "journeys convert).", "转化最多的路径是 **{path}**（{conv:,.0f} 个转化，该路径的旅程中 {rate:.1%} "
                            "转化）。"), path=p0["path"], conv=p0["conversions"], rate=p0["conversion_rate"])
    return text + tr(" No touch path was followed by 10 or more people, so none is listed.",
                     "没有任何触点路径被 10 人及以上走过，因此不列出。")


def online_to_offline(result: AttributionResult) -> str:
    """Store purchases with online activity before them."""
    st = result.tables["conversion_channels"].set_index("conversion_channel")
    if "store" not in st.index:
        return tr("No store purchases this month.", "本月没有门店购买。")
    s = st.loc["store"]
    return md(tr(
        "{online:.1%} of the {conv:,} store purchases had online activity in the {lookback} days before: "
        "{touched:.1%} a marketing touch (most often last **{last}**) and {visited:.1%} a visit to the site or "
        "app. Across all channels {all_online:.1%} of orders had either.",
        "{conv:,} 笔门店购买中，{online:.1%} 在之前 {lookback} 天内有线上行为：{touched:.1%} 有营销触点（最后触点最常见的是 "
        "**{last}**），{visited:.1%} 访问过网站或 App。在全部渠道中，{all_online:.1%} 的订单有其中之一。"),
        online=s["online_share"], conv=s["conversions"], lookback=result.settings["lookback_days"],
        touched=s["touched_share"], last=s["top_last_touch"] or "–", visited=s["visited_share"],
        all_online=st.loc["all", "online_share"],
    )


def no_store_paths(result: AttributionResult) -> str:
    """What the report says when no online path before a store purchase can be listed."""
    return tr("No online path before a store purchase was followed by 10 or more people; none is listed.",
              "门店购买前没有任何线上路径被 10 人及以上走过，因此不列出。")


def model_shares(result: AttributionResult) -> str:
    """The headline model's share of the leading channel, what direct keeps, negative shares."""
    boot, ch = result.tables["bootstrap"], result.channels[0]
    b = boot[(boot["model"] == result.headline_model) & (boot["channel"] == ch)].iloc[0]
    wide = _share_wide(result)
    direct = wide.loc[DIRECT]
    rate = MODEL_LABELS["shapley_rate"]
    negative = wide.index[(wide[rate] < 0).to_numpy()].tolist() if rate in wide.columns else []
    text = md(tr(
        "Under {hm}, **{ch}** earns {s:.1%} of the conversions (95% interval {lo:.1%} to {hi:.1%}). *Direct* "
        "keeps {dmin:.1%} to {dmax:.1%}: orders whose buyer had no touch in view. The rule-based models differ "
        "only in where along a path they put the credit; Markov and the Shapley conversion-count game credit "
        "channels for being on converting paths, while the conversion-rate Shapley game also compares with "
        "journeys that did not convert.",
        "在 {hm} 模型下，**{ch}** 获得 {s:.1%} 的转化（95% 区间 {lo:.1%} 至 {hi:.1%}）。*Direct*（直接）保留 {dmin:.1%} 至 "
        "{dmax:.1%}：即买家没有可见触点的订单。基于规则的模型只在路径上的功劳分配位置上不同；Markov 和 Shapley 转化数"
        "博弈按渠道出现在转化路径上归因，而 Shapley 转化率博弈还会与未转化的旅程比较。"),
        hm=result.model_label, ch=term(ch), s=b["share"], lo=b["share_lo"], hi=b["share_hi"], dmin=direct.min(),
        dmax=direct.max(),
    )
    if negative:
        text += (tr(" It gives ", "该模型给 ") + md_join(negative, wrap="**")
                 + tr(" a negative share: they reach many people who do not buy.", " 负的份额：它们触达了许多不购买的人。"))
    return text


def markov(result: AttributionResult) -> str:
    """Conversion probability of a journey and the largest removal effect."""
    mk = result.markov
    re = mk.removal_effects_.drop(index=DIRECT, errors="ignore").sort_values()
    re = re[re > 0]
    return md(tr(
        "A journey converts with probability {rate:.1%} ({n:,.0f} journeys, {paths:,} distinct paths; orders "
        "without touches included as the path *direct*). Removing **{ch}** would lose {loss:.1%} of the "
        "conversions, the largest removal effect among the marketing channels. Removal effects overlap (a path "
        "through two channels is lost when either is removed), so they add up to more than the share each "
        "channel finally gets.",
        "一条旅程的转化概率为 {rate:.1%}（{n:,.0f} 条旅程，{paths:,} 条不同路径；没有触点的订单计为路径 *direct*）。去掉 "
        "**{ch}** 会损失 {loss:.1%} 的转化，是营销渠道中最大的移除效应。移除效应相互重叠（经过两个渠道的路径去掉其中"
        "任何一个都会损失），因此加总会超过各渠道最终获得的份额。"),
        rate=mk.conversion_rate_, n=mk.n_journeys_, paths=mk.n_paths_, ch=term(re.index[-1]) if len(re) else "–",
        loss=re.iloc[-1] if len(re) else float("nan"),
    )


#: ROI verdicts (omni.attribution.roi) in Chinese.
_VERDICT_ZH = {"above target in every model": "所有模型下均高于目标", "below target in every model": "所有模型下均低于目标",
               "depends on the model": "取决于模型"}


def _verdict(v: str) -> str:
    """An ROI verdict in the report language."""
    return tr(v, _VERDICT_ZH.get(v, v))


def roi(result: AttributionResult) -> str:
    """Where the spend went, its return under the models, and the verdicts."""
    rv, cur = result.tables["roi_summary"], result.currency
    big, total = rv.iloc[0], rv["spend"].sum()
    verdicts = tr(". ", "。").join(md(tr("{v}: ", "{v}："), v=tr(v.capitalize(), _verdict(v)))
                                  + md_join(rv.loc[rv["verdict"] == v, "channel"].map(term), tr(", ", "、"))
                                  for v in rv["verdict"].unique())
    return md(tr(
        "Spend this month: {total:,.0f} {cur}, {part:.0%} of it on **{ch}**, which returns {lo:,.1f} to "
        "{hi:,.1f} {cur} of revenue per {cur} spent depending on the model (CPA {cmin:,.2f} to {cmax:,.2f}). ",
        "本月花费 {total:,.0f} {cur}，其中 {part:.0%} 投在 **{ch}**；视模型不同，每花 1 {cur} 带来 {lo:,.1f} 至 {hi:,.1f} "
        "{cur} 收入（CPA {cmin:,.2f} 至 {cmax:,.2f}）。"),
        total=total, cur=cur, part=big["spend"] / total, ch=term(big["channel"]), lo=big["roas_min"],
        hi=big["roas_max"], cmin=big["cpa_min"], cmax=big["cpa_max"],
    ) + verdicts + tr(
        ". These are averages over all credited conversions; the next unit of spend usually returns less, and a "
        "channel with a tiny spend shows a huge ROAS on a handful of conversions.",
        "。这些是全部归因转化的平均值；下一笔投入的回报通常更低，而花费极小的渠道凭少数几个转化就会显示巨大的 ROAS。"
    )


def disagreement(result: AttributionResult) -> str:
    """Channels whose rank holds in every model, those that move, and the spend at stake."""
    d, top = result.tables["disagreement"], result.tables["disagreement"].iloc[0]
    stable = d.loc[d["rank_stable"], "channel"].tolist()
    moving = d.loc[~d["rank_stable"], "channel"].tolist()
    spend_by = result.tables["roi_summary"].set_index("channel")["spend"]
    at_stake = (spend_by.reindex([c for c in moving if c in spend_by.index]).sum() / spend_by.sum()
                if spend_by.sum() else float("nan"))
    text = (tr(f"Same rank under every model: **{md_join(stable)}**. ", f"在所有模型下排名不变：**{md_join(stable)}**。")
            if stable else tr("No channel keeps its rank under every model. ", "没有任何渠道在所有模型下保持排名。"))
    if moving:
        text += (tr("Rank depends on the model: ", "排名随模型变化：") + md_join(moving)
                 + md(tr("; they take {s:.0%} of this month's spend. ", "；它们占本月花费的 {s:.0%}。"), s=at_stake))
    return text + md(tr(
        "The largest gap is **{ch}** ({gap:.1f} share points between {lo} and {hi}). Models that reward being on "
        "many converting paths (Markov, Shapley conversions) favour channels that reach many people; first touch "
        "favours openers of journeys, last touch closers. Shift budget only where the direction holds in every "
        "model, and test the rest with a holdout before moving money.",
        "差距最大的是 **{ch}**（{lo} 与 {hi} 之间相差 {gap:.1f} 个份额百分点）。奖励出现在众多转化路径上的模型（Markov、"
        "Shapley 转化数）偏向触达人数多的渠道；首次触点偏向开启旅程的渠道，末次触点偏向促成成交的渠道。只在各模型方向一致"
        "的地方调整预算，其余先用对照组（holdout）测试再动钱。"),
        ch=term(top["channel"]), gap=top["spread"] * 100, lo=_label(top["min_model"]), hi=_label(top["max_model"]),
    )


def month_change(result: AttributionResult) -> str:
    """Conversions against the previous month, the largest share shift, the month's campaigns."""
    prev_month = result.month.previous
    if result.previous is None:
        return md(tr("No paid orders in {m} in the data: there is no previous month to compare with.",
                     "数据中{m}没有已支付订单：没有可比较的上月。"),
                  m=month_label(prev_month) if current_lang() == "zh" else str(prev_month))
    f, p = result.month_figures, result.previous.month_figures
    sc = result.tables["share_change"]
    sc = sc[sc["channel"] != DIRECT]
    mover = sc.iloc[sc["change"].abs().to_numpy().argmax()]
    camp = result.tables["campaigns"]
    text = md(tr(
        "Conversions {c:,} vs {p:,} ({rel:+.1%}). The largest shift in {hm} share is **{ch}**: {ps:.1%} → "
        "{s:.1%} ({pts:+.1f} points)",
        "转化 {c:,}，上月 {p:,}（{rel:+.1%}）。{hm} 份额变化最大的是 **{ch}**：{ps:.1%} → {s:.1%}（{pts:+.1f} 个百分点）"),
        c=f["conversions"], p=p["conversions"], rel=f["conversions"] / p["conversions"] - 1, hm=result.model_label,
        ch=term(mover["channel"]), ps=mover["previous_share"], s=mover["share"], pts=mover["change"] * 100,
    )
    if len(camp) and "channel" in camp.columns:
        listed = ", ".join(md("{c} ({h})", c=c, h=h) for c, h in zip(camp["campaign_id"], camp["channel"], strict=True))
        return text + tr("; campaigns this month: ", "；本月活动：") + listed + tr(".", "。")
    return text + tr(".", "。")


def truth(result: AttributionResult) -> str:
    """How close the models come to the true shares, and how much of the truth the journeys see."""
    tc = result.tables.get("truth")
    if tc is None:
        return tr("This dataset has no ground truth; the models are not checked against true channel effects.",
                  "此数据集没有真值，模型未与真实渠道效应对照检验。")
    hm, true = result.headline_model, result.true_shares
    ts = result.tables["touch_shares"].reindex(result.channels)
    vv = result.tables["visibility"].set_index("channel")
    va, best = vv.loc["all"], tc["total_abs_dev"].idxmin()
    gap = (ts[hm] - true.reindex(result.channels).fillna(0)).sort_values()
    over, under = gap.index[-1], gap.index[0]
    big_enough = vv.drop(index="all").query("caused_conversions >= 10")["visible_share"]  # suppressed cells stay hidden
    least = md(tr(" (for **{c}** {s:.0%})", "（**{c}** 为 {s:.0%}）"), c=big_enough.idxmin(),
               s=big_enough.min()) if len(big_enough) else ""
    return md(tr(
        "{caused:,} of this month's {conv:,} orders were caused by a touch. The closest model is **{best}** "
        "(total deviation {dev:.2f}, rank correlation {corr:.2f}); {hml} is at {hdev:.2f}. {hml} over-credits "
        "**{over}** ({os:.0%} against a true {ot:.0%}) and under-credits **{under}** ({us:.0%} against {ut:.0%}). "
        "Only {vis:.0%} of the causing touches are in view of the journeys",
        "本月 {conv:,} 笔订单中有 {caused:,} 笔由触点引起。最接近真实的模型是 **{best}**（总偏差 {dev:.2f}，秩相关 "
        "{corr:.2f}）；{hml} 为 {hdev:.2f}。{hml} 高估了 **{over}**（{os:.0%}，真实为 {ot:.0%}），低估了 **{under}**"
        "（{us:.0%}，真实为 {ut:.0%}）。引起转化的触点只有 {vis:.0%} 在旅程中可见"),
        caused=int(va["caused_conversions"]), conv=result.month_figures["conversions"], best=_label(best),
        dev=tc.loc[best, "total_abs_dev"], corr=tc.loc[best, "rank_corr"], hml=result.model_label,
        hdev=tc.loc[hm, "total_abs_dev"], over=term(over), os=ts.loc[over, hm], ot=true.get(over, 0), under=term(under),
        us=ts.loc[under, hm], ut=true.get(under, 0), vis=va["visible_share"],
    ) + least + tr(
        ": the rest reached a device or cookie that identity resolution could not tie to the buyer, or fell "
        "outside the lookback or the counted touch types. Every model works from this incomplete picture and "
        "credits what it sees on converting paths, whether or not it caused the order; only randomized holdouts "
        "(report 05) measure causal effects.",
        "：其余触达的设备或 cookie 无法通过身份识别关联到买家，或落在回溯窗口或计入的触点类型之外。每个模型都基于这幅"
        "不完整的图景，把功劳归给它在转化路径上看到的渠道，无论其是否真正促成了订单；只有随机对照（报告 05）才能衡量"
        "因果增量。"
    )


# -- table views (keyword arguments of omni.reporting.display.table) ----------------------------


def _share_wide(result: AttributionResult) -> pd.DataFrame:
    wide = share_matrix(result.tables["attribution"]).reindex([*result.channels, DIRECT])
    return wide.rename(columns=MODEL_LABELS)


def _paths_in_lang(paths: pd.DataFrame) -> pd.DataFrame:
    """``paths`` with each step of its ``path`` column in the report's language (``展示广告 > 短信``)."""
    if current_lang() == "en" or "path" not in paths:
        return paths
    return paths.assign(path=paths["path"].map(lambda p: " > ".join(term(s) for s in str(p).split(" > "))))


def paths_table(result: AttributionResult) -> dict[str, Any] | None:
    """The most converting touch paths (None when none was followed by 10 or more people)."""
    paths = publishable(result.tables["top_paths"], "people")
    if not paths["people"].notna().any():
        return None
    return {"df": _paths_in_lang(paths).rename(columns={"share_of_conversions": "share of all conversions"}),
            "formats": {"conversion_rate": _PCT, "value": "{:,.0f}", "share of all conversions": "{:.2%}"},
            "caption": tr("Most converting touch paths (people = distinct OneIDs; paths of fewer than 10 people are blanked)",
                          "转化最多的触点路径（人数 = 不同 OneID 数；少于 10 人的路径留空）")}


def conversion_channels_table(result: AttributionResult) -> dict[str, Any]:
    """Orders by sales channel and the online activity before them."""
    return {"df": publishable(result.tables["conversion_channels"], "conversions"),
            "formats": {"value": "{:,.0f}", "touched_share": _PCT, "mean_touches": "{:.2f}", "visited_share": _PCT,
                        "online_share": _PCT},
            "caption": tr(f"Orders by sales channel and what happened online in the {result.settings['lookback_days']} days before",
                          f"按销售渠道的订单，以及下单前 {result.settings['lookback_days']} 天内的线上行为")}


def store_paths_table(result: AttributionResult) -> dict[str, Any] | None:
    """The most frequent online paths before a store purchase (None when all are suppressed)."""
    paths = publishable(result.tables["store_paths"], "people")
    if not paths["people"].notna().any():
        return None
    return {"df": _paths_in_lang(paths).rename(columns={"share_of_conversions": "share of store orders"}),
            "formats": {"value": "{:,.0f}", "share of store orders": "{:.2%}"},
            "caption": tr("Most frequent online paths before a store purchase", "门店购买前最常见的线上路径")}


def share_table(result: AttributionResult) -> dict[str, Any]:
    """Share of the month's conversions by channel and model."""
    wide = _share_wide(result)
    return {"df": wide, "formats": dict.fromkeys(wide.columns, _PCT), "index": True,
            "caption": tr("Share of the month's conversions by channel and model", "本月转化按渠道和模型的份额")}


def roi_table(result: AttributionResult) -> dict[str, Any]:
    """Spend, credited conversions and revenue, CPA and ROAS of the paid channels (headline model)."""
    r = result.tables["roi"]
    hm_roi = r[(r["model"] == result.headline_model) & (r["spend"] > 0)].drop(columns="model")
    return {"df": hm_roi,
            "formats": {"spend": "{:,.2f}", "conversions": "{:,.1f}", "value": "{:,.0f}", "cpa": "{:,.2f}", "roas": "{:,.1f}"},
            "caption": tr(f"Spend, credited conversions and revenue, CPA and ROAS ({result.model_label}; spend and "
                          f"values in {result.currency})",
                          f"花费、归因转化与收入、CPA 和 ROAS（{result.model_label}；花费和金额单位 {result.currency}）")}


def roi_range_table(result: AttributionResult) -> dict[str, Any]:
    """ROAS and CPA range across the models and the verdict against the target."""
    rv = result.tables["roi_summary"]
    rv = rv.assign(min_model=rv["min_model"].map(_label), max_model=rv["max_model"].map(_label),
                   verdict=rv["verdict"].map(_verdict))
    return {"df": rv,
            "formats": {"spend": "{:,.2f}", "roas_min": "{:,.1f}", "roas_max": "{:,.1f}", "cpa_min": "{:,.2f}",
                        "cpa_max": "{:,.2f}"},
            "caption": tr(f"ROAS and CPA range across the {len(result.models)} models, and the verdict against a "
                          f"target ROAS of {result.settings['target_roas']:g}",
                          f"{len(result.models)} 个模型下的 ROAS 与 CPA 范围，以及相对目标 ROAS "
                          f"{result.settings['target_roas']:g} 的结论")}


def disagreement_table(result: AttributionResult) -> dict[str, Any]:
    """Lowest and highest share of each channel across the models."""
    d = result.tables["disagreement"]
    shown = d.assign(min_model=d["min_model"].map(_label), max_model=d["max_model"].map(_label),
                     spread=d["spread"] * 100, rank_stable=d["rank_stable"].map({True: "yes", False: "no"}))
    return {"df": shown.rename(columns={"spread": "spread (pp)"}),
            "formats": {"min_share": _PCT, "max_share": _PCT, "spread (pp)": "{:.1f}"},
            "caption": tr("Share of conversions: lowest and highest across models", "转化份额：各模型中的最低与最高")}


def _shown(key: str, col: str, v: Any) -> Any:
    """A figure of the month-over-month table as shown: shares in %, changes signed."""
    if not isinstance(v, str) and pd.isna(v):
        return "–"
    if isinstance(v, str):
        return v
    sign = "+" if col == "change" else ""
    if key in ("touched_share", "attributed_to_touches"):
        return f"{v * 100:+.1f} pp" if col == "change" else f"{v:.1%}"
    return f"{v:{sign},.0f}" if key == "conversions" else f"{v:{sign},.2f}"


def comparison_table(result: AttributionResult) -> dict[str, Any]:
    """The month's key figures against the previous month's (requires a previous month)."""
    cmp = result.compare(result.previous)
    keys = list(result.comparison_labels())
    for col in ("this_month", "previous_month", "change"):
        cmp[col] = [_shown(k, col, v) for k, v in zip(keys, cmp[col], strict=True)]
    names = {"this_month": str(result.month), "previous_month": str(result.previous.month)}
    return {"df": cmp.rename(columns=names), "formats": {"relative_change": "{:+.1%}"}}


def campaigns_table(result: AttributionResult) -> dict[str, Any] | None:
    """Campaigns running in the month with their reach (None when there were none)."""
    camp = result.tables["campaigns"]
    if not len(camp):
        return None
    return {"df": publishable(camp, "people"),
            "caption": tr(f"Campaigns running in {result.month} (touches and people reached this month)",
                          f"{month_label(result.month)}进行中的活动（本月触点数与触达人数）")}


def truth_table(result: AttributionResult) -> dict[str, Any]:
    """Each model's distance from the true shares, closest first."""
    tc = result.tables["truth"].reset_index()
    tc = tc.assign(model=tc["model"].map(_label)).sort_values("total_abs_dev")
    return {"df": tc, "formats": {"total_abs_dev": "{:.3f}", "max_abs_dev": "{:.3f}", "rank_corr": "{:.2f}"},
            "caption": tr("Distance of each model's shares from the true shares", "各模型份额与真实份额的距离")}


def visibility_table(result: AttributionResult) -> dict[str, Any]:
    """Touch-caused conversions whose causing touch the journeys can see."""
    vis = publishable(result.tables["visibility"], "caused_conversions")
    return {"df": vis.rename(columns={"on_buyer_oneid": "causing touch on the buyer's OneID",
                                      "in_window": "and counted in the journey"}),
            "formats": {"visible_share": _PCT},
            "caption": tr("Touch-caused conversions whose causing touch the journeys can see",
                          "由触点引起、且该触点在旅程中可见的转化")}



# The longer section introductions (what a comparison means), shown under the notebook's headings.
_INTROS = {
    "disagreement": (
        "For each channel the lowest and highest share any model gives it, and its rank among the channels\n"
        "under the most and least favourable model. A channel whose rank holds in every model can be\n"
        "funded on any of them; where the models disagree the budget decision depends on a modelling\n"
        "choice that observational data cannot settle, and a holdout test (report 05) should decide.",
        "每个渠道在各模型中得到的最低和最高份额，以及它在最有利和最不利的模型下的排名。排名在所有模型中都稳定的渠道，\n"
        "按任何一个模型投放都可以；模型有分歧时，预算决定取决于观测数据无法判定的建模选择，应由留出组测试（报告 05）来决定。"),
    "comparison": (
        "The same journeys, models and spend for the previous month (its conversions and the touches before\n"
        "them), restated on this month's OneIDs so that both months rest on the same identity graph; the\n"
        "change in the key figures and in each channel's share, and the campaigns that ran this month.",
        "上月的同一套路径、模型和花费（上月的转化及其之前的触点），按本月的 OneID 重新表述，使两个月基于同一张身份图；\n"
        "关键指标和各渠道份额的变化，以及本月进行的活动。"),
    "truth": (
        "The generator records which orders a touch caused and through which channel. The true share of\n"
        "a channel is its part of the touch-caused conversions among this month's orders; each model's\n"
        "shares are renormalized over the marketing channels (*direct* left out) and compared. Total\n"
        "absolute deviation runs from 0 (exact) to 2 (disjoint).",
        "生成器记录了哪些订单由触点带来、经过哪个渠道。一个渠道的真实份额是它在本月订单中由触点带来的转化里所占的部分；\n"
        "各模型的份额在营销渠道之间重新归一化（不含 *direct*）后进行比较。总绝对偏差从 0（完全一致）到 2（完全不重合）。"),
}


def intro(section: str) -> str:
    """The introduction of a report section (``"disagreement"``, ``"comparison"``, ``"truth"``): what
    the comparison shows and means, in the report language."""
    en, zh = _INTROS[section]
    return tr(en, zh)
