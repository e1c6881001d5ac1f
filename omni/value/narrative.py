"""The value report's words: Markdown notes and display tables of a :class:`ValueResult`.

Every note is built with :func:`omni.core.markup.md`, so values from the data (class names, tier
labels, the currency, attribute values, fit warnings) are escaped. ``*_table(result)`` functions
return the keyword arguments of :func:`omni.reporting.display.table` (``df``, ``formats``,
``caption``): the result's tables with the columns named for readers. Nothing here computes beyond
formatting.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from omni.core.i18n import add_terms, current_lang, month_label, relabel, term, tr
from omni.core.markup import md
from omni.core.result import Figure
from omni.value.result import ValueResult
from omni.value.rfm import SEGMENTS
from omni.value.tgi import over_indexed

__all__ = [
    "PARAMETER_MEANINGS",
    "TGI_LABELS",
    "churn",
    "churn_tables",
    "comparison",
    "comparison_tables",
    "headline",
    "intro",
    "model",
    "model_not_checked",
    "model_tables",
    "no_panel",
    "no_previous",
    "no_truth",
    "panel",
    "panel_tables",
    "parameters_table",
    "rfm",
    "scores_table",
    "segments",
    "segments_table",
    "summary",
    "tgi_top",
    "title",
    "tgi_top_tables",
    "tiers",
    "tiers_table",
    "truth",
    "truth_tables",
]

#: Readable names of the TGI attributes (panel titles, table rows).
TGI_LABELS = {"gender": "gender", "age_band": "age band", "city_tier": "city tier", "channel_pref": "main sales channel",
              "channel_mix": "online / offline mix", "top_category": "main category"}
#: What each row of :func:`omni.value.tables.model_parameters` says (``{unit}``: week or day).
PARAMETER_MEANINGS = {
    "r": "shape of the purchase-rate distribution across customers",
    "alpha": "scale of the purchase rate ({unit}s)",
    "mean purchase rate while active": "purchases per year, r / alpha",
    "a": "dropout probability after a purchase ~ Beta(a, b)",
    "b": "",
    "mean dropout probability per purchase": "a / (a + b)",
    "s": "shape of the dropout-rate distribution",
    "beta": "scale of the dropout rate ({unit}s)",
    "mean dropout rate": "dropouts per year, s / beta",
    "median lifetime": "years from the first purchase, beta (2^(1/s) - 1)",
    "still active after a year": "share of new customers, (beta / (beta + 1 year))^s",
    "p": "shape of the spend per purchase",
    "q": "shape of the customers' spend scale",
    "v": "scale of the customers' spend scale",
    "mean spend per purchase": "p v / (q - 1), in the order currency",
}
#: :data:`PARAMETER_MEANINGS` in Chinese (``{unit}``: 周 or 天).
PARAMETER_MEANINGS_ZH = {
    "r": "购买率在客户间分布的形状参数",
    "alpha": "购买率的尺度参数（{unit}）",
    "mean purchase rate while active": "每年购买次数，r / alpha",
    "a": "每次购买后流失概率 ~ Beta(a, b)",
    "b": "",
    "mean dropout probability per purchase": "a / (a + b)",
    "s": "流失率分布的形状参数",
    "beta": "流失率的尺度参数（{unit}）",
    "mean dropout rate": "每年流失，s / beta",
    "median lifetime": "自首次购买起的年数，beta (2^(1/s) - 1)",
    "still active after a year": "新客户占比，(beta / (beta + 1 年))^s",
    "p": "每次消费的形状参数",
    "q": "客户消费尺度的形状参数",
    "v": "客户消费尺度的尺度参数",
    "mean spend per purchase": "p v / (q - 1)，以订单币种计",
}


#: The report's table columns, TGI attributes and captions in Chinese (omni.reporting.display.table).
add_terms("zh", {
    "gender": "性别", "age band": "年龄段", "city tier": "城市级别", "main sales channel": "主要销售渠道",
    "online / offline mix": "线上/线下结构", "main category": "主要品类",
    "RFM class": "RFM 类别", "class (English)": "类别（英文）", "meaning": "含义", "customers": "客户数",
    "share of customers": "客户占比", "revenue share": "收入占比", "value share": "价值占比", "mean CLV": "平均 CLV",
    "mean CLV (95% interval)": "平均 CLV（95% 区间）", "mean P(alive)": "平均 P(存活)", "mean days since last": "平均距上次购买天数",
    "mean orders": "平均订单数", "tier": "分层", "total CLV": "CLV 合计", "lowest CLV": "最低 CLV", "model": "模型",
    "chosen": "选用", "rmse": "RMSE", "mae": "MAE", "total_error_pct": "总量误差 %", "log_likelihood": "对数似然",
    "holdout_purchases_actual": "留出期实际购买", "holdout_purchases_predicted": "留出期预测购买", "parameter": "参数",
    "value": "取值", "note": "说明", "customer": "客户", "CLV lost": "CLV 损失", "days since last": "距上次购买天数",
    "orders": "订单数", "main channel": "主要渠道", "tier now": "当前分层", "opted out": "已退订", "attribute": "属性",
    "share in tier A": "A 层中占比", "share of all customers": "全体客户中占比", "tgi": "TGI", "ci_low": "区间下限",
    "ci_high": "区间上限", "group": "人群", "share of the population": "人口占比", "figure": "指标", "change": "变化",
    "relative_change": "相对变化", "check": "检查", "alive_share": "存活比例", "mean_p_alive": "平均 P(存活)",
    "rank": "排名", "repeat buyers": "复购客户", "revenue (CNY)": "收入（元）", "revenue share to date": "累计收入占比",
    "purchases expected in 90 days": "90 天预期购买", "previous month's fit": "上月拟合", "share": "占比",
    "new customers in the month": "本月新客", "customers who bought": "本月有购买的客户",
    "paid orders in the month": "本月已支付订单", "repeat buyers with P(alive) below 50%": "P(存活) 低于 50% 的复购客户",
    "重要价值 customers": "重要价值客户",
})

#: Category labels in the tables' cells (omni.reporting.display.table translates cells too).
add_terms("zh", {
    "one-time buyers": "一次性购买客户", "yes": "是", "no": "否",
    **{f"repeat buyers, P(alive) {i}/{k}": f"复购客户，P(存活) 第 {i}/{k} 组" for k in range(2, 21) for i in range(1, k + 1)},
    # the fitted model's parameters
    "mean purchase rate while active": "活跃期平均购买率", "mean dropout rate": "平均流失率", "median lifetime": "生命周期中位数",
    "still active after a year": "一年后仍活跃", "mean spend per purchase": "每次购买平均消费",
    "mean dropout probability per purchase": "每次购买后的平均流失概率", "store only": "仅门店",
    # profile attributes and their values
    "city tier": "城市等级", "age band": "年龄段", "gender": "性别", "main category": "主要品类",
    "main sales channel": "主要销售渠道", "online / offline mix": "线上/线下构成", "omnichannel": "全渠道",
    "online only": "仅线上", "offline only": "仅线下", "new-1": "新一线", "female": "女", "male": "男",
    # sales channels
    "store": "门店", "site": "官网", "tmall": "天猫", "jd": "京东", "douyin": "抖音", "wechat": "微信",
    "no purchase": "无购买",
    # the RFM classes' English names (the scheme of omni.value.rfm)
    **{en: zh for zh, en in SEGMENTS.values()},
})

_LABELS_ZH = {"customers": "客户（有已支付订单的已识别 OneID）", "repeat_share": "复购率（2 天及以上有购买）",
              "at_risk_share": "P(存活) 低于 50% 的复购客户", "important_value_share": "重要价值客户占比",
              "model": "购买模型（留出期总量误差）", "truth_rank_corr": "预测与真实购买的秩相关（按人）"}


_STAT_ZH = {"mean": "均值", "median": "中位数"}


def title(r: ValueResult) -> str:
    """The headline's title."""
    return tr(f"Customer value at the end of {r.month}", f"客户价值：{month_label(r.month)}末")


def headline(r: ValueResult) -> list[Figure]:
    """The headline figures, labelled in the report language."""
    s, top = r.current.settings, r.top_share
    drop = r.settings.get("churn_min_drop", 0.05)
    return relabel(r.headline, {
        **_LABELS_ZH,
        "active_customers": f"{month_label(r.month)}有购买的客户",
        "clv_total": f"未来 {s['clv_months']} 个月预测价值，全部客户（折现）",
        "clv_mean": f"每位客户平均 {s['clv_months']} 个月 CLV",
        "top_tier_value_share": f"前 {top:.0%} 客户所占价值比例",
        "watchlist": f"本月 P(存活) 下降 {drop * 100:.0f} 个百分点以上的 {r.top_tier} 层客户",
    })


def _shown(df: pd.DataFrame, formats: dict[str, str] | None = None, caption: str | None = None) -> dict[str, Any]:
    return {"df": df, "formats": formats, "caption": caption}


# -- headline --------------------------------------------------------------------------------


def summary(r: ValueResult) -> str:
    """The note under the headline: customers, expected purchases and value, concentration, risk."""
    f, cv, c = r.month_figures, r.current, r.currency
    months = cv.settings["clv_months"]
    zh = current_lang() == "zh"
    text = md(tr(
        "{customers:,} customers had bought by the end of {month}; {active:,} of them bought in the month ({new:,} for "
        "the first time) and {repeat:.0%} have bought on more than one day. The {model} + Gamma-Gamma model expects "
        "{e90:,.0f} purchases from them in the next 90 days and {total:,.0f} {c} of (discounted) spend in the next "
        "{months} months, {mean:,.0f} {c} per customer on average but very unevenly: the top {top:.0%} (tier {tier}) "
        "hold {share:.0%} of it, while {risk:.0%} of the repeat buyers have probably lapsed (P(alive) < 50%).",
        "截至{month}末共有 {customers:,} 位客户购买过；其中 {active:,} 位本月有购买（{new:,} 位为首次购买），{repeat:.0%} "
        "在不止一天有购买（复购率）。{model} + Gamma-Gamma 模型预计他们未来 90 天购买 {e90:,.0f} 次，未来 {months} 个月（折现）"
        "消费 {total:,.0f} {c}，平均每位客户 {mean:,.0f} {c}，但分布很不均匀：前 {top:.0%}（{tier} 层）占其中 {share:.0%}，"
        "而 {risk:.0%} 的复购客户很可能已流失（P(存活) < 50%）。"),
        customers=f["customers"], month=month_label(r.month) if zh else r.month, active=f["active_customers"], new=f["new_customers"],
        repeat=f["repeat_share"], model=f["model"], e90=f["expected_purchases_90d"], total=f["clv_total"], c=c,
        months=months, mean=f["clv_mean"], top=r.top_share, tier=r.top_tier, share=f["top_share"],
        risk=f["at_risk_share"])
    p = r.previous_figures
    if p is not None:
        text += md(tr(" Against {prev}: {d:+,} customers, predicted value {rel:+.1%}.",
                      "与{prev}相比：客户 {d:+,} 位，预测价值 {rel:+.1%}。"),
                   prev=month_label(r.previous_month) if zh else r.previous_month,
                   d=f["customers"] - p["customers"], rel=f["clv_total"] / p["clv_total"] - 1)
    if cv.anonymous_orders or cv.invalid_amounts:
        text += md(tr(" Left out: {n:,} anonymous paid orders (no card, phone or account: never recognizable as a repeat "
                      "buyer)", "未计入：{n:,} 笔匿名已支付订单（没有会员卡、手机号或账号，永远无法识别为复购）"),
                   n=cv.anonymous_orders)
        if cv.invalid_amounts:
            text += md(tr(" and {n:,} paid orders with a missing or negative amount (see the data audit)",
                          "，以及 {n:,} 笔金额缺失或为负的已支付订单（见数据审计）"),
                       n=cv.invalid_amounts)
        text += tr(".", "。")
    return text


# -- RFM -------------------------------------------------------------------------------------


def rfm(r: ValueResult) -> str:
    """The RFM distribution and the thresholds of the 8 classes."""
    s, c = r.current.summary, r.currency
    thr = r.current.segments.attrs["thresholds"]
    return md(tr(
        "Half the customers last bought more than {days:,.0f} days ago; {one:.0%} have a single order and {five:.1%} "
        "five or more. The median customer has spent {med:,.0f} {c}, the mean is {mean:,.0f} {c}: a few heavy buyers "
        "pull it up. These {stat}s are the thresholds of the 8 classes below: R {r:,.0f} days, F {f:.2f} orders, "
        "M {m:,.0f} {c}.",
        "一半客户最近一次购买在 {days:,.0f} 天以前；{one:.0%} 只有一笔订单，{five:.1%} 有五笔及以上。客户消费中位数为 "
        "{med:,.0f} {c}，均值为 {mean:,.0f} {c}：少数重度买家拉高了均值。这些{stat}就是下面八类的阈值：R {r:,.0f} 天，"
        "F {f:.2f} 单，M {m:,.0f} {c}。"),
        days=s["days_since_last"].median(), one=(s["n_orders"] == 1).mean(), five=(s["n_orders"] >= 5).mean(),
        med=s["revenue"].median(), mean=s["revenue"].mean(), c=c,
        stat=_STAT_ZH.get(thr["statistic"], thr["statistic"]) if current_lang() == "zh" else thr["statistic"],
        r=thr["recency_days"],
        f=thr["frequency"], m=thr["monetary"])


def segments_table(r: ValueResult) -> dict[str, Any]:
    """The 8 RFM classes for readers (mean CLV with its bootstrap interval in one column)."""
    st, c = r.tables["segments"].copy(), r.currency
    st["mean CLV (95% interval)"] = [
        "–" if pd.isna(m) else f"{m:,.0f} ({lo:,.0f}–{hi:,.0f})"
        for m, lo, hi in zip(st["mean_clv"], st["clv_lo"], st["clv_hi"], strict=True)
    ]
    show = st.drop(columns=["mean_clv", "clv_lo", "clv_hi"]).rename(columns={
        "segment": "class", "segment_en": "class (English)", "customer_share": "share", "revenue": f"revenue ({c})",
        "revenue_share": "revenue share", "clv_share": "value share", "mean_p_alive": "mean P(alive)",
        "mean_days_since_last": "mean days since last", "mean_orders": "mean orders"})
    formats = {"share": "{:.1%}", f"revenue ({c})": "{:,.0f}", "revenue share": "{:.1%}", "value share": "{:.1%}",
               "mean P(alive)": "{:.2f}", "mean days since last": "{:,.0f}", "mean orders": "{:.1f}"}
    return _shown(show, formats, tr(f"RFM classes at the end of {r.month} (CLV in {c}; classes of fewer than 10 "
                                    "customers are blanked)",
                                    f"{month_label(r.month)}末的 RFM 类别（CLV 单位 {c}；少于 10 位客户的类别留空）"))


def segments(r: ValueResult) -> str:
    """重要价值 against 一般挽留, the largest class and where reactivation pays."""
    big, c = r.tables["segments"].set_index("segment"), r.currency
    iv, gw = big.loc["重要价值"], big.loc["一般挽留"]
    return md(tr(
        "重要价值 (important value) customers are {ivs:.1%} of the base but brought {ivr:.0%} of the revenue to date "
        "and hold {ivc:.0%} of the predicted value (mean CLV {ivm:,.0f} {c}). The largest class is **{largest}** "
        "({lshare:.0%} of customers). 一般挽留 (general win-back: not recent, one-off, low spend) are {gws:.0%} of "
        "customers with a mean CLV of {gwm:,.0f} {c}: low priority. 重要保持 and 重要挽留 (frequent or high spenders "
        "who have not bought recently) are where reactivation pays: mean P(alive) {keep:.2f} and {back:.2f}.",
        "重要价值客户占客户总数的 {ivs:.1%}，却贡献了迄今 {ivr:.0%} 的收入，并持有 {ivc:.0%} 的预测价值（平均 CLV "
        "{ivm:,.0f} {c}）。人数最多的类别是 **{largest}**（占客户的 {lshare:.0%}）。一般挽留客户（近期未购、只买过一次、"
        "消费低）占 {gws:.0%}，平均 CLV 为 {gwm:,.0f} {c}：优先级低。重要保持和重要挽留客户（购买频繁或消费高、但近期"
        "未购）是唤醒最划算的人群：平均 P(存活) 分别为 {keep:.2f} 和 {back:.2f}。"),
        ivs=iv["customer_share"], ivr=iv["revenue_share"], ivc=iv["clv_share"], ivm=iv["mean_clv"], c=c,
        largest=big["customers"].astype(float).idxmax(), lshare=big["customer_share"].astype(float).max(),
        gws=gw["customer_share"], gwm=gw["mean_clv"], keep=big.loc["重要保持", "mean_p_alive"],
        back=big.loc["重要挽留", "mean_p_alive"])


# -- the model -------------------------------------------------------------------------------


def model_not_checked(r: ValueResult) -> str:
    """Why the holdout check was not run, and how the model was chosen instead."""
    cv = r.current
    if cv.check_skipped == "too short":
        why = md(tr("no purchase before the calibration end {cal:%Y-%m-%d} (first purchase {first:%Y-%m-%d}): the "
                    "holdout check needs more than {weeks} weeks",
                    "校准期截止日 {cal:%Y-%m-%d} 之前没有购买（首次购买 {first:%Y-%m-%d}）：留出期检验需要超过 {weeks} 周的数据"),
                 cal=cv.skipped_calibration_end,
                 first=cv.first_purchase, weeks=cv.settings["holdout_weeks"])
    else:
        why = tr("not run", "未运行")
    how = (tr("The model was chosen by log-likelihood on all data.", "模型按全部数据上的对数似然选择。")
           if cv.settings["model"] == "auto" else
           md(tr("The model is {m}, as set in the parameters.", "模型为参数中指定的 {m}。"), m=r.month_figures["model"]))
    return tr(f"The holdout check was not run: {why}. ", f"未进行留出期检验：{why}。") + how


def model_tables(r: ValueResult) -> list[dict[str, Any]]:
    """The holdout scores (with a check) and the parameters."""
    return ([scores_table(r)] if r.current.check is not None else []) + [parameters_table(r)]


def scores_table(r: ValueResult) -> dict[str, Any]:
    """Holdout scores of the purchase models, chosen model first."""
    formats = {"log_likelihood": "{:,.1f}", "rmse": "{:.4f}", "mae": "{:.4f}", "holdout_purchases_predicted": "{:,.0f}",
               "holdout_purchases_actual": "{:,.0f}", "total_error_pct": "{:+.1f}%"}
    n = r.current.check.n_customers_
    return _shown(r.tables["scores"], formats, tr(f"Holdout scores ({n:,} customers with a "
                                                   "purchase before the calibration end)",
                                                   f"留出期评分（校准期截止前有购买的 {n:,} 位客户）"))


def _parameters(r: ValueResult) -> pd.DataFrame:
    unit = "week" if r.current.model.freq == "W" else "day"
    params = r.tables["parameters"].copy()
    meanings = PARAMETER_MEANINGS_ZH if current_lang() == "zh" else PARAMETER_MEANINGS
    unit = tr(unit, {"week": "周", "day": "天"}[unit])
    params["meaning"] = [meanings.get(p, "").format(unit=unit) for p in params["parameter"]]
    if "previous_parameters" in r.tables:
        params["previous month's fit"] = r.tables["previous_parameters"]["value"].to_numpy()
    return params


def parameters_table(r: ValueResult) -> dict[str, Any]:
    """The fitted parameters with their meaning, this month and the previous month."""
    fit = tr(f"fit to {r.month}", f"拟合至{month_label(r.month)}")
    return _shown(_parameters(r).rename(columns={"value": fit}), {fit: "{:,.3f}", "previous month's fit": "{:,.3f}"},
                  tr("Parameters of the chosen model, fitted on all purchases to the month end (time in weeks; "
                     f"{r.currency})", f"所选模型的参数，基于截至月末的全部购买拟合（时间单位为周；{r.currency}）"))


def _check_text(sc: pd.DataFrame) -> str:
    c = sc.iloc[0]
    e = c["total_error_pct"]
    two = len(sc) > 1
    text = md(tr("**{m}** predicted the holdout {b} (per-customer RMSE {rmse:.4f}",
                 "**{m}** 对留出期的预测{b}（每位客户 RMSE {rmse:.4f}"), m=c["model"],
              b=tr("better", "更好") if two else "", rmse=c["rmse"])
    if two:
        text += md(tr(" vs {rmse:.4f} for {m}", "，{m} 为 {rmse:.4f}"), rmse=sc["rmse"].iloc[-1], m=sc["model"].iloc[-1])
    text += md(tr("); it expected {p:,.0f} purchases where {a:,.0f} happened ({e:+.1f}%). ",
                  "）；预计 {p:,.0f} 次购买，实际 {a:,.0f} 次（{e:+.1f}%）。"),
               p=c["holdout_purchases_predicted"], a=c["holdout_purchases_actual"], e=e)
    text += (tr("That is close. ", "相当接近。") if abs(e) <= 5 else tr(
             f"It {'over' if e > 0 else 'under'}-predicts the total: the model assumes steady buying, while promotions "
             "(618, 双11), campaigns and the mix of new customers move the level from one half year to the next; "
             "per-customer ranking, which drives the tiers and the watch list, is less affected. ",
             f"总量{'高估' if e > 0 else '低估'}：模型假设购买节奏稳定，而大促（618、双11）、营销活动和新客结构会让半年与半年之间"
             "的水平起伏；决定分层和预警名单的客户排序受影响较小。"))
    if two and abs(sc["rmse"].iloc[0] - sc["rmse"].iloc[-1]) < 0.001 * sc["rmse"].iloc[0]:
        text += tr("Where the two models are this close the choice barely changes CLV, but BG/NBD gives every one-time "
                   "buyer P(alive) = 1, so P(alive) figures here are quoted for repeat buyers. ",
                   "两个模型如此接近时，选择几乎不影响 CLV；但 BG/NBD 给每位只买过一次的客户 P(存活) = 1，因此这里的 "
                   "P(存活) 数字只针对复购客户。")
    return text


def model(r: ValueResult) -> str:
    """How well the model predicted the holdout, what the refitted parameters say, fit warnings."""
    cv = r.current
    text = _check_text(r.tables["scores"]) if cv.check is not None else model_not_checked(r) + " "
    pp = r.tables["parameters"].set_index("parameter")["value"]
    if "median lifetime" in pp.index:
        life = md(tr("half of the new customers are still active {y:.1f} years after their first purchase ({a:.0%} after "
                     "one year)", "一半新客在首次购买 {y:.1f} 年后仍然活跃（一年后为 {a:.0%}）"),
                  y=pp["median lifetime"], a=pp["still active after a year"])
    else:
        life = md(tr("after each purchase {d:.0%} of the customers drop out, on average",
                     "平均每次购买后有 {d:.0%} 的客户流失"),
                  d=pp["mean dropout probability per purchase"])
    gi = cv.model.gg_independence_
    corr = gi.get("corr", float("nan"))
    zh = current_lang() == "zh"
    text += md(tr("Refitted to {month}: an active customer buys {rate:.2f} times a year on average and spends {spend:,.0f} "
                  "{c} per purchase; ", "按截至{month}的数据重新拟合：活跃客户平均每年购买 {rate:.2f} 次，每次消费 {spend:,.0f} "
                  "{c}；"), month=month_label(r.month) if zh else r.month, rate=pp["mean purchase rate while active"],
               spend=pp["mean spend per purchase"], c=r.currency)
    indep = abs(gi.get("corr", 0)) < 0.3
    text += life + md(tr(". Spend per purchase and purchase frequency are {ind} among repeat buyers (correlation "
                         "{corr:.2f}), as Gamma-Gamma assumes.",
                         "。复购客户的每次消费与购买频次{ind}（相关系数 {corr:.2f}），符合 Gamma-Gamma 的假设。"),
                      ind=(tr("nearly independent", "几乎独立") if indep else tr("correlated", "相关")), corr=corr)
    warn = cv.model.warnings_ + (cv.check.warnings_ if cv.check is not None else [])
    if warn:
        text += tr(" Fit warnings: ", "拟合警告：") + "; ".join(md("{w}", w=w) for w in warn[:3]) + tr(".", "。")
    return text


# -- CLV and tiers ---------------------------------------------------------------------------


def tiers_table(r: ValueResult) -> dict[str, Any]:
    """The value tiers for readers."""
    tt = r.tables["tiers"].rename(columns={
        "value_tier": "tier", "customer_share": "share", "min_clv": "lowest CLV", "mean_clv": "mean CLV",
        "clv_sum": "total CLV", "clv_share": "value share", "mean_p_alive": "mean P(alive)",
        "expected_purchases_90d": "purchases expected in 90 days", "repeat_buyer_share": "repeat buyers",
        "revenue_share": "revenue share to date"})
    formats = {"share": "{:.1%}", "lowest CLV": "{:,.0f}", "mean CLV": "{:,.0f}", "total CLV": "{:,.0f}",
               "value share": "{:.1%}", "mean P(alive)": "{:.2f}", "purchases expected in 90 days": "{:,.0f}",
               "repeat buyers": "{:.0%}", "revenue share to date": "{:.1%}"}
    months = r.current.settings['clv_months']
    return _shown(tt, formats, tr(f"Value tiers by {months}-month CLV ({r.currency})",
                                  f"按 {months} 个月 CLV 划分的价值分层（{r.currency}）"))


def tiers(r: ValueResult) -> str:
    """The top and the last tier, and value concentration against past revenue."""
    tt, c, top = r.tables["tiers"].set_index("value_tier"), r.currency, r.top_share
    ta, td = tt.loc[r.top_tier], tt.iloc[-1]
    share = r.month_figures["top_share"]
    rev_top = r.revenue_top_share
    text = md(tr(
        "Tier {tier} ({n:,.0f} customers, CLV from {lo:,.0f} {c}) holds {cs:.0%} of the predicted value and brought "
        "{rs:.0%} of the revenue so far; {rep:.0%} of them are repeat buyers, with a mean P(alive) of {pa:.2f}. The "
        "last tier ({last}, {ls:.0%} of customers) holds {lcs:.0%}: {once:.0%} of them bought only once, and together "
        "they are expected to buy {e90:,.0f} times in the next 90 days ({per:.2f} per customer). ",
        "{tier} 层（{n:,.0f} 位客户，CLV 自 {lo:,.0f} {c} 起）持有 {cs:.0%} 的预测价值，贡献了迄今 {rs:.0%} 的收入；其中 "
        "{rep:.0%} 是复购客户，平均 P(存活) 为 {pa:.2f}。最后一层（{last}，占客户的 {ls:.0%}）持有 {lcs:.0%}：其中 "
        "{once:.0%} 只买过一次，预计未来 90 天共购买 {e90:,.0f} 次（每位客户 {per:.2f} 次）。"),
        tier=r.top_tier, n=ta["customers"], lo=ta["min_clv"], c=c, cs=ta["clv_share"], rs=ta["revenue_share"],
        rep=ta["repeat_buyer_share"], pa=ta["mean_p_alive"], last=tt.index[-1], ls=td["customer_share"],
        lcs=td["clv_share"], once=1 - td["repeat_buyer_share"], e90=td["expected_purchases_90d"],
        per=td["expected_purchases_90d"] / td["customers"])
    more = share > rev_top
    text += md(tr("Predicted value is {more} concentrated than past revenue (top {top:.0%}: {s:.0%} vs {rv:.0%}): ",
                  "预测价值比历史收入{more}集中（前 {top:.0%}：{s:.0%} 对 {rv:.0%}）："),
               more=(tr("more", "更") if more else tr("less", "不那么")), top=top, s=share, rv=rev_top)
    text += (tr("it weighs recency and frequency, so a big spender who stopped buying keeps revenue but loses CLV.",
                "它考虑最近购买时间和频次，因此停止购买的大客户保留了历史收入，却失去了 CLV。") if more
             else tr("the spend model pulls each customer's average spend towards the population mean, and past big "
                     "orders do not repeat for sure.",
                     "消费模型把每位客户的平均消费拉向总体均值，而过去的大单不一定会重复。"))
    if r.current.model.model_ == "bgnbd":
        text += tr(" (BG/NBD gives P(alive) = 1 to customers who bought only once: without a repeat purchase it has not "
                   "seen them drop out.)",
                   "（BG/NBD 给只买过一次的客户 P(存活) = 1：没有复购，它就看不到这些客户流失。）")
    return text


# -- churn -----------------------------------------------------------------------------------


def no_previous(r: ValueResult) -> str:
    """There is no previous month end to compare with."""
    return md(tr("There is no previous month end to compare with ({why}).", "没有可比较的上月末数据（{why}）。"),
              why=r.previous_error or tr(f"no purchases before {r.month}", f"{month_label(r.month)}之前没有购买"))


def churn_tables(r: ValueResult) -> list[dict[str, Any]]:
    """The watch list for readers (none when it is empty or there is no previous month)."""
    watch = r.tables.get("watchlist")
    if watch is None or not len(watch):
        return []
    m, p, c = r.month, r.previous_month, r.currency
    wl = watch.drop(columns=["tier_then"]).rename(columns={
        "segment": "RFM class", "tier_now": "tier now", "revenue": f"revenue ({c})", "days_since_last": "days since last",
        "p_alive_then": f"P(alive) {p}", "p_alive_now": f"P(alive) {m}", "p_alive_change": "change",
        "clv_then": f"CLV {p}", "clv_now": f"CLV {m}", "clv_lost": "CLV lost", "channel_pref": "main channel",
        "marketing_opt_out": "opted out"})
    if "opted out" in wl.columns:
        wl["opted out"] = wl["opted out"].map({True: "yes", False: "no"}).fillna("–")
    formats = {f"revenue ({c})": "{:,.0f}", f"P(alive) {p}": "{:.2f}", f"P(alive) {m}": "{:.2f}", "change": "{:+.2f}",
               f"CLV {p}": "{:,.0f}", f"CLV {m}": "{:,.0f}", "CLV lost": "{:,.0f}"}
    drop = r.settings["churn_min_drop"]
    return [_shown(wl, formats, tr(f"Watch list: tier-{r.top_tier} customers of {p} whose P(alive) fell by {drop:.2f} "
                                   f"or more, most value lost first (CLV in {c})",
                                   f"预警名单：{month_label(p)} 的 {r.top_tier} 层客户中 P(存活) 下降 {drop:.2f} 及以上者，"
                                   f"按损失价值从高到低（CLV 单位 {c}）"))]


def churn(r: ValueResult) -> str:
    """How many top-tier customers are slipping away and the value at stake."""
    if r.previous is None:
        return no_previous(r)
    wf, c, drop = r.watch_figures, r.currency, r.settings["churn_min_drop"]
    watch, pts = r.tables["watchlist"], r.tables["churn_points"]
    zh = current_lang() == "zh"
    text = md(tr(
        "Of the {hv:,.0f} tier-{tier} customers of {prev}, {silent:.0%} did not buy in {month}; {falling:,.0f} lost "
        "{pts:.0f} or more points of P(alive). Together they still hold {risk:,.0f} {c} of predicted value after "
        "losing {lost:,.0f} {c} this month",
        "{prev}的 {hv:,.0f} 位 {tier} 层客户中，{silent:.0%} 在{month}没有购买；{falling:,.0f} 位的 P(存活) 下降了 "
        "{pts:.0f} 个百分点及以上。本月损失 {lost:,.0f} {c} 之后，他们仍持有 {risk:,.0f} {c} 的预测价值"),
        hv=wf["high_value"], tier=r.top_tier, prev=month_label(r.previous_month) if zh else r.previous_month,
        silent=(~pts["bought"].to_numpy()).mean(),
        month=month_label(r.month) if zh else r.month, falling=wf["falling"], pts=drop * 100, risk=wf["clv_at_risk"],
        c=c, lost=wf["clv_lost"])
    if np.isfinite(wf["contactable"]):
        text += md(tr("; {n:,.0f} of them have not opted out of marketing", "；其中 {n:,.0f} 位未退订营销"),
                   n=wf["contactable"])
    text += tr(". ", "。")
    if len(watch):
        w0 = watch.iloc[0]
        text += md(tr("The top of the list bought {n:,} times for {rev:,.0f} {c} but not for {days:,} days: P(alive) "
                      "{a:.2f} → {b:.2f}. ", "名单第一位购买过 {n:,} 次、共 {rev:,.0f} {c}，但已 {days:,} 天没有购买："
                      "P(存活) {a:.2f} → {b:.2f}。"), n=w0["orders"], rev=w0["revenue"], c=c, days=w0["days_since_last"],
                   a=w0["p_alive_then"], b=w0["p_alive_now"])
    return text + tr("A reactivation contact (service call, member benefit) costs little next to the value at stake; the "
                     "full list with ids is available to CRM staff through `omni.value.churn.churn_watchlist` in the "
                     "analyst environment.",
                     "与所涉价值相比，一次唤醒触达（客服回访、会员权益）成本很低；带 ID 的完整名单可由 CRM 人员在分析环境中通过 "
                     "`omni.value.churn.churn_watchlist` 获取。")


# -- TGI -------------------------------------------------------------------------------------


def _over(r: ValueResult, name: str) -> pd.DataFrame:
    return over_indexed(r.tables[name], min_tgi=r.settings["tgi_highlight"])


def _under(t: pd.DataFrame) -> pd.DataFrame:
    return t[t["significant"] & (t["tgi"] < 100) & ~t["suppressed"]].sort_values("tgi")


def tgi_top_tables(r: ValueResult) -> list[dict[str, Any]]:
    """Traits over-represented in the top tier (none when there is none)."""
    ov, tier = _over(r, "tgi_top"), r.top_tier
    if not len(ov):
        return []
    df = ov[["attribute", "value", "segment_share", "base_share", "tgi", "ci_low", "ci_high"]].assign(
        attribute=lambda d: d["attribute"].map(TGI_LABELS)).rename(columns={
            "segment_share": f"share in tier {tier}", "base_share": "share of all customers"})
    formats = {f"share in tier {tier}": "{:.1%}", "share of all customers": "{:.1%}", "tgi": "{:.0f}",
               "ci_low": "{:.0f}", "ci_high": "{:.0f}"}
    h = r.settings['tgi_highlight']
    return [_shown(df, formats, tr(f"Traits over-represented in tier {tier} (significant, TGI ≥ "
                                   f"{h})", f"{tier} 层中显著偏高的特征（显著，TGI ≥ {h}）"))]


def tgi_top(r: ValueResult) -> str:
    """What sets the top tier apart, and how well the attributes are known."""
    ov, under, tier = _over(r, "tgi_top"), _under(r.tables["tgi_top"]), r.top_tier
    if len(ov):
        text = tr("Over-represented among the most valuable customers: ", "最有价值客户中显著偏高的特征：") + tr("; ", "；").join(
            md(tr("**{a} {v}** (TGI {t:.0f}, {s:.0%} of tier {tier} vs {b:.0%} of all)",
                  "**{a} {v}**（TGI {t:.0f}，{tier} 层中占 {s:.0%}，全体中占 {b:.0%}）"), a=term(TGI_LABELS[t.attribute]),
               v=term(t.value), t=t.tgi, s=t.segment_share, tier=tier, b=t.base_share) for t in ov.head(4).itertuples()) + tr(". ", "。")
    else:
        text = md(tr("No trait is significantly over-represented in tier {tier} at TGI ≥ {h}. ",
                     "{tier} 层中没有 TGI ≥ {h} 的显著偏高特征。"), tier=tier,
                  h=r.settings["tgi_highlight"])
    if len(under):
        text += tr("Under-represented: ", "显著偏低：") + tr("; ", "；").join(
            md("{a} {v} (TGI {t:.0f})", a=term(TGI_LABELS[t.attribute]), v=term(t.value), t=t.tgi)
            for t in under.head(3).itertuples()) + tr(". ", "。")
    cov = r.attributes.notna().mean()
    return text + md(tr("Known for {g:.0%} of customers (gender), {a:.0%} (age band) and {c:.0%} (city tier); ",
                        "已知属性的客户比例：性别 {g:.0%}，年龄段 {a:.0%}，城市级别 {c:.0%}；"),
                     g=cov["gender"], a=cov["age_band"], c=cov["city_tier"]) + tr(
        "buying across channels goes with value because a OneID that joins store and online orders sees more of the "
        "person's purchases.",
        "跨渠道购买与高价值相伴，因为把门店和线上订单合并到一个 OneID，就能看到这个人更多的购买。")


def no_panel(r: ValueResult) -> str:
    """The dataset has no market panel."""
    return tr("This dataset has no market panel; the customer base is not compared with the population.",
              "此数据集没有市场样本（panel），不将客户群与总体人口比较。")


def panel_tables(r: ValueResult) -> list[dict[str, Any]]:
    """Every cell of the customers against the market panel (none without a panel)."""
    if "tgi_panel" not in r.tables:
        return []
    df = r.tables["tgi_panel"][["attribute", "value", "segment_share", "base_share", "tgi", "ci_low", "ci_high",
                                "note"]].assign(attribute=lambda d: d["attribute"].map(TGI_LABELS)).rename(
        columns={"segment_share": "share of customers", "base_share": "share of the population"})
    formats = {"share of customers": "{:.1%}", "share of the population": "{:.1%}", "tgi": "{:.0f}",
               "ci_low": "{:.0f}", "ci_high": "{:.0f}"}
    return [_shown(df, formats, tr("Customers against the market panel, every cell", "客户与市场样本对比（全部单元格）"))]


def panel(r: ValueResult) -> str:
    """The groups the brand over- and under-reaches against the population."""
    if "tgi_panel" not in r.tables:
        return no_panel(r)
    ov, low = _over(r, "tgi_panel"), _under(r.tables["tgi_panel"])
    text = tr("The brand over-reaches ", "品牌在以下人群中渗透偏高：") + tr(", ", "、").join(
        md("**{a} {v}** (TGI {t:.0f})", a=term(TGI_LABELS[t.attribute]), v=term(t.value), t=t.tgi) for t in ov.head(4).itertuples())
    if len(low):
        text += tr(". It under-reaches ", "。渗透偏低的人群：") + tr(", ", "、").join(
            md("{a} {v} (TGI {t:.0f})", a=term(TGI_LABELS[t.attribute]), v=term(t.value), t=t.tgi) for t in low.head(3).itertuples())
    return text + tr(". Over-represented groups are the core market to defend; large under-represented groups are the "
                     "room for growth, if the product fits them. Demographics come from CRM members, who may differ "
                     "from platform-only buyers.",
                     "。偏高的人群是需要守住的核心市场；规模大而偏低的人群是增长空间（前提是产品适合他们）。人口属性来自 CRM "
                     "会员，可能与仅在平台购买的买家不同。")


# -- month against month ---------------------------------------------------------------------


_PCT = {"repeat_share", "top_share", "at_risk_share", "important_value_share"}


def comparison_tables(r: ValueResult) -> list[dict[str, Any]]:
    """This month's figures against the previous month's, formatted for readers (none without one)."""
    if r.previous is None:
        return []
    c, months = r.currency, r.current.settings["clv_months"]
    labels = {"customers": "customers", "new_customers": "new customers in the month",
              "active_customers": "customers who bought", "orders_month": "paid orders in the month",
              "revenue_month": tr(f"revenue in the month ({c})", f"本月收入（{c}）"), "repeat_share": "repeat buyers",
              "clv_total": tr(f"predicted {months}-month value ({c})", f"未来 {months} 个月预测价值（{c}）"),
              "clv_mean": tr(f"mean CLV ({c})", f"平均 CLV（{c}）"),
              "top_share": tr(f"value share of the top {r.top_share:.0%}", f"前 {r.top_share:.0%} 客户的价值占比"),
              "at_risk_share": "repeat buyers with P(alive) below 50%", "important_value_share": "重要价值 customers",
              "expected_purchases_90d": "purchases expected in 90 days"}
    cmp = r.month_over_month()
    keys = list(cmp["figure"])
    cmp["figure"] = [term(labels[k]) for k in keys]
    cmp = cmp[["figure", "previous_month", "this_month", "change", "relative_change"]]
    for col in ("previous_month", "this_month", "change"):
        sign = "+" if col == "change" else ""
        cmp[col] = [f"{v * 100:+.1f}" + tr(" pp", " 个百分点") if k in _PCT and col == "change" else f"{v:.1%}" if k in _PCT
                    else f"{v:{sign},.0f}" for k, v in zip(keys, cmp[col], strict=True)]
    return [_shown(cmp.rename(columns={"previous_month": r.previous_month, "this_month": str(r.month)}),
                   {"relative_change": "{:+.1%}"})]


def comparison(r: ValueResult) -> str:
    """Customers, revenue, value and risk against the previous month; movement between classes."""
    if r.previous is None:
        return no_previous(r)
    f, p, c = r.month_figures, r.previous_figures, r.currency
    mig = r.tables["migration"]
    stay = np.diag(mig.iloc[:8].to_numpy()).sum() / mig.iloc[:8].to_numpy().sum()
    iv_row = mig.loc["important value"]
    return md(tr(
        "{d:+,} customers ({new:,} new), revenue in the month {rev:,.0f} vs {prev_rev:,.0f} {c}. Predicted {months}-"
        "month value {pv:,.0f} → {cv:,.0f} {c} ({rel:+.1%}); repeat buyers with P(alive) below 50%: {pr:.1%} → "
        "{cr:.1%}. {stay:.0%} of last month's customers stayed in their class; of the {niv:,} 重要价值 customers "
        "{still:.0%} still are. Class thresholds are means over all customers and move a little each month, so part "
        "of the movement is the thresholds, not the customers.",
        "客户 {d:+,} 位（新客 {new:,} 位），本月收入 {rev:,.0f} {c}，上月 {prev_rev:,.0f} {c}。未来 {months} 个月预测价值 "
        "{pv:,.0f} → {cv:,.0f} {c}（{rel:+.1%}）；P(存活) 低于 50% 的复购客户：{pr:.1%} → {cr:.1%}。上月客户中 {stay:.0%} "
        "留在原类别；{niv:,} 位重要价值客户中 {still:.0%} 仍是重要价值。类别阈值是全体客户的均值，每月略有变动，"
        "因此部分变动来自阈值而非客户本身。"),
        d=f["customers"] - p["customers"], new=f["new_customers"], rev=f["revenue_month"], prev_rev=p["revenue_month"],
        c=c, months=r.current.settings["clv_months"], pv=p["clv_total"], cv=f["clv_total"],
        rel=f["clv_total"] / p["clv_total"] - 1, pr=p["at_risk_share"], cr=f["at_risk_share"], stay=stay,
        niv=iv_row.sum(), still=iv_row.get("important value", 0) / max(iv_row.sum(), 1))


# -- truth -----------------------------------------------------------------------------------


def no_truth(r: ValueResult) -> str:
    """The dataset has no ground truth."""
    return tr("This dataset has no ground truth; the model is not checked against the true purchase process.",
              "此数据集没有真值，模型未与真实购买过程对照检验。")


def truth_tables(r: ValueResult) -> list[dict[str, Any]]:
    """The truth figures and the P(alive) calibration table (none without truth)."""
    tf = r.truth_figures
    if tf is None:
        return []
    rows = [(tr("customers matched / persons behind them", "匹配到的客户 / 背后的真实人数"),
             f"{tf['customers']:,.0f} / {tf['persons']:,.0f}"),
            (tr("persons whose orders sit on 2+ OneIDs", "订单分散在 2 个及以上 OneID 的人"), f"{tf['split_persons']:.1%}"),
            (tr("rank correlation, predicted vs true expected purchases (per person)",
                "预测购买与真实期望购买的秩相关（按人）"), f"{tf['rank_corr_purchases']:.2f}"),
            (tr("rank correlation, CLV vs true expected spend (per person)", "CLV 与真实期望消费的秩相关（按人）"),
             f"{tf['rank_corr_clv']:.2f}"),
            (tr("rank correlation with the true purchase rate (active persons)", "与真实购买率的秩相关（活跃的人）"),
             f"{tf['rank_corr_rate']:.2f}"),
            (tr("purchases in the next 12 months: predicted / true organic", "未来 12 个月购买：预测 / 真实自然购买"),
             f"{tf['predicted_purchases']:,.0f} / {tf['true_purchases']:,.0f}"),
            (tr("mean P(alive) / share truly active (all customers)", "平均 P(存活) / 真实活跃比例（全部客户）"),
             f"{tf['mean_p_alive']:.1%} / {tf['alive_share']:.1%}"),
            (tr("P(alive) ranks active above lapsed: AUC repeat buyers / all customers",
                "P(存活) 把活跃排在流失之前：AUC 复购客户 / 全部客户"),
             f"{tf['auc_alive']:.2f} / {tf['auc_alive_all']:.2f}")]
    return [_shown(pd.DataFrame(rows, columns=["check", "value"])),
            _shown(r.tables["truth_calibration"], {"mean_p_alive": "{:.1%}", "alive_share": "{:.1%}"},
                   tr("P(alive) calibration", "P(存活) 校准"))]


def truth(r: ValueResult) -> str:
    """How well the model ranks and totals the true purchases, and why it misses."""
    if r.truth_figures is None:
        return no_truth(r)
    tf, cal = r.truth_figures, r.tables["truth_calibration"]
    ot = cal[cal["group"] == "one-time buyers"]
    text = md(tr(
        "Per person, the predicted purchases rank with the true expected purchases at {rp:.2f} (Spearman) and the CLV "
        "with the true expected spend at {rc:.2f}; the model knows a person's rate only from the few purchases it saw, "
        "so the ranks of light buyers are noisy. Among repeat buyers P(alive) separates the still active from the "
        "lapsed with an AUC of {auc:.2f} (0.5 = chance)",
        "按人计，预测购买与真实期望购买的秩相关为 {rp:.2f}（Spearman），CLV 与真实期望消费的秩相关为 {rc:.2f}；模型只能"
        "从看到的少数几次购买推断一个人的购买率，因此轻度买家的排序噪声较大。在复购客户中，P(存活) 区分仍活跃与已流失"
        "客户的 AUC 为 {auc:.2f}（0.5 = 随机）"), rp=tf["rank_corr_purchases"], rc=tf["rank_corr_clv"],
        auc=tf["auc_alive"])
    if r.current.model.model_ == "bgnbd" and len(ot):
        text += md(tr("; one-time buyers all get P(alive) = 1 from BG/NBD although {a:.0%} of them are active",
                      "；BG/NBD 给所有只买过一次的客户 P(存活) = 1，而其中实际只有 {a:.0%} 仍活跃"),
                   a=ot["alive_share"].iloc[0])
    return text + md(tr(
        ". In total the model expects {pred:,.0f} purchases in the next 12 months against {true:,.0f} from the true "
        "organic process: {split:.0%} of the persons have orders on several OneIDs, each of which looks like a lighter, "
        "shorter-lived customer to the model, and the seasonality of the synthetic world (双11, 618) is not in the "
        "model.",
        "。总量上，模型预计未来 12 个月购买 {pred:,.0f} 次，真实自然购买过程为 {true:,.0f} 次：{split:.0%} 的人的订单分散在"
        "多个 OneID 上，每个 OneID 在模型看来都是更轻、更短命的客户；而且模拟世界的季节性（双11、618）不在模型中。"),
        pred=tf["predicted_purchases"], true=tf["true_purchases"], split=tf["split_persons"])


# The longer section introductions (what a model or measure is), shown under the notebook's headings.
_INTROS = {
    "model": (
        "BG/NBD and Pareto/NBD describe each customer as buying at a steady personal rate until an unseen\n"
        "dropout. To check them, both are fitted on the purchases up to the calibration end and asked to\n"
        "predict each customer's purchases in the held-out weeks that follow; the model with the smaller\n"
        "error (RMSE per customer) is refitted on all purchases up to the month end and used for the\n"
        "predictions. Gamma-Gamma predicts the spend per purchase.",
        "BG/NBD 和 Pareto/NBD 把每位客户描述为以稳定的个人速率购买，直到某个看不见的时点流失。为检验模型，两者都用校准期末\n"
        "之前的购买拟合，再预测其后留出各周中每位客户的购买；误差（每位客户的 RMSE）较小的模型用截至月末的全部购买重新拟合，\n"
        "用于预测。Gamma-Gamma 模型预测每次购买的客单价。"),
    "churn": (
        "P(alive) is the model's probability that a customer still buys from the brand. It falls every month\n"
        "without a purchase, fastest for customers who used to buy often. The watch list holds the customers\n"
        "who were in the top value tier at the previous month end and whose P(alive) has fallen since, most\n"
        "value lost first; both dates use this month's model so the change is the customer's silence, not a\n"
        "refit. Ids are shortened.",
        "P(存活) 是模型给出的客户仍在本品牌购买的概率。没有购买的每个月它都会下降，过去购买越频繁的客户降得越快。观察名单\n"
        "列出上月末属于最高价值层、此后 P(存活) 下降的客户，损失价值最大的在前；两个时点都用本月的模型，因此变化来自客户的\n"
        "沉默而非模型重拟合。ID 已缩短。"),
    "tgi_top": (
        "TGI = share of a trait among the tier-A customers ÷ its share among all customers × 100: above 100\n"
        "the trait is more common among the most valuable customers. Intervals account for tier A being part\n"
        "of all customers. Demographics (gender, age, city) come from the CRM and are known for members only;\n"
        "channels and categories come from every customer's orders.",
        "TGI = 某特征在 A 层客户中的占比 ÷ 在全体客户中的占比 × 100：高于 100 说明该特征在最有价值的客户中更常见。区间考虑了\n"
        "A 层本身是全体客户的一部分。人口属性（性别、年龄、城市）来自 CRM，仅会员已知；渠道和品类来自每位客户的订单。"),
    "panel": (
        "The third-party panel gives the adult population by gender, age band and city tier: TGI shows which\n"
        "groups the brand reaches more (above 100) or less than their weight in the population. The panel is a\n"
        "census-like count, so only the customers' side carries sampling error.",
        "第三方样本给出按性别、年龄段和城市级别划分的成年人口：TGI 显示品牌触达哪些人群多于（高于 100）或少于其人口占比。\n"
        "样本是类普查的计数，因此只有客户一侧带有抽样误差。"),
    "truth": (
        "The synthetic world's generator knows each person's purchase rate while active, dropout rate and\n"
        "dropout date. Each customer OneID is mapped to the person most of its records belong to; a person\n"
        "whose orders sit on several OneIDs (unlinked platform accounts) is compared through the sum of their\n"
        "predictions. The true expected organic purchases of the next 12 months follow from the person's\n"
        "rates if still active at the month end (orders caused by ads and campaigns are not included).",
        "合成世界的生成器知道每个人活跃时的购买速率、流失速率和流失日期。每个客户 OneID 对应到其多数记录所属的人；订单分散在\n"
        "多个 OneID 上的人（未关联的平台账号）用其预测之和比较。若此人在月末仍活跃，其未来 12 个月真实的预期自然购买次数由其\n"
        "速率推出（不含广告和活动带来的订单）。"),
}


def intro(section: str) -> str:
    """The introduction of a report section (``"model"``, ``"churn"``, ``"tgi_top"``, ``"panel"``,
    ``"truth"``): what the model or the measure is, in the report language."""
    en, zh = _INTROS[section]
    return tr(en, zh)
