"""The texts and table views of the marketing mix report (notebook 08).

Each ``<section>(result)`` returns Markdown built with :func:`omni.core.markup.md` (channel and
region names are data, escaped); each ``*_table(result)`` returns the keyword arguments of
:func:`omni.reporting.display.table`. Nothing is computed here beyond formatting.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omni.core.i18n import add_terms, month_label, relabel, tr
from omni.core.markup import md
from omni.core.result import Figure
from omni.mix.result import MixResult

__all__ = ["curves", "decomposition", "headline", "plan", "plan_table", "roas_table", "summary",
           "title", "triangulation", "triangulation_table", "truth", "truth_table", "lifts_table",
           "quarantine_table"]

add_terms("zh", {
    "channel": "渠道", "spend": "花费", "orders": "增量订单", "revenue": "增量收入", "share": "份额", "roas": "ROAS",
    "interval": "区间", "current": "当前预算", "recommended": "建议预算", "change": "变化",
    "marginal_roas": "边际 ROAS", "at_bound": "触及边界", "experiments": "实验数", "lift_orders": "实验增量订单",
    "lift_se": "标准误", "mmm_lift_orders": "MMM 对实验的估计", "mmm_share": "MMM 份额", "path_markov": "马尔可夫份额",
    "path_range": "路径模型份额范围", "verdict": "结论", "true_orders": "真实增量订单", "true_share": "真实份额",
    "covered": "区间覆盖真值", "abs_dev": "绝对偏差", "source": "数据源", "reason": "原因", "rows": "行数",
    "ott_video": "OTT 视频", "outdoor": "户外", "experiment_id": "实验", "start_date": "开始日期",
    "mmm_share_touch": "MMM 份额（触点渠道内）",
})


def title(result: MixResult) -> str:
    """The headline's title."""
    return tr(f"Marketing mix up to {result.month}", f"营销组合模型：截至{month_label(result.month)}")


def headline(result: MixResult) -> list[Figure]:
    """The headline figures, labelled in the report language."""
    w = result.settings.get("plan_weeks", 52)
    return relabel(result.headline, {
        "media_share": f"近 {w} 周由媒体带来的订单（MMM）", "media_roas": f"近 {w} 周媒体投放回报（MMM）",
        "top_roas_channel": "ROAS 最高的渠道（MMM）", "plan_gain": "优化方案在同等花费下的收入增量",
        "experiments_agree": "与 MMM 一致的增量实验（2 个标准误以内）",
        "mmm_truth_deviation": "MMM：与真实渠道份额的距离（0-2）", "mmm_total_vs_truth": "MMM 总增量订单相对真值",
        "mmm_interval_coverage": "90% 区间覆盖真值的渠道", "plan_vs_optimal": "优化方案：达到真值最优收入的比例",
    })


def _pct(lo: float, hi: float) -> str:
    return f"{lo:.1%} to {hi:.1%}"


def summary(result: MixResult) -> str:
    """The fit in a paragraph."""
    ch = result.tables["channels"]
    top = ch["orders"].idxmax()
    g = result.plan_gain
    return md(tr(
        "Over the last {w} weeks media caused {share:.1%} of orders by the model; **{top}** brought the most "
        "({top_share:.1%} of media-caused orders, 90% interval {lo:.1%} to {hi:.1%}). Moving budget between "
        "channels at the same total would earn {gain:+.1%} more revenue (90% interval {glo:,.0f} to {ghi:,.0f} "
        "{cur}). The fit took {secs:.1f} s.",
        "近 {w} 周，模型估计媒体带来了 {share:.1%} 的订单；**{top}** 贡献最多（占媒体带来订单的 {top_share:.1%}，90% 区间 "
        "{lo:.1%} 至 {hi:.1%}）。在总预算不变的情况下调整渠道间预算，可多获得 {gain:+.1%} 的收入（90% 区间 {glo:,.0f} 至 "
        "{ghi:,.0f} {cur}）。拟合耗时 {secs:.1f} 秒。"),
        w=result.settings.get("plan_weeks", 52), share=result.media_share, top=top,
        top_share=ch.loc[top, "share"], lo=ch.loc[top, "share_lo"], hi=ch.loc[top, "share_hi"],
        gain=g.get("relative", np.nan), glo=g.get("gain_lo", np.nan), ghi=g.get("gain_hi", np.nan),
        cur=result.currency, secs=result.fit_seconds)


def decomposition(result: MixResult) -> str:
    """What the decomposition shows."""
    d = result.tables["decomposition"]
    media = d[result.model.channels_].sum().sum() / max(d["observed"].sum(), 1)
    return md(tr("Across the whole data, media account for {m:.1%} of orders; the rest is the baseline "
                 "(trend, season, the retail peaks and price).",
                 "在全部数据中，媒体带来 {m:.1%} 的订单；其余为基线（趋势、季节、零售大促和价格）。"), m=media)


def curves(result: MixResult) -> str:
    """How to read the response curves."""
    return md(tr("Each curve is a channel's incremental revenue over the last {w} weeks if its plan were "
                 "scaled to the budget on the x axis; the dot is the current budget, the band the 90% interval.",
                 "每条曲线表示：若把某渠道近 {w} 周的投放计划按横轴预算等比缩放，其增量收入是多少；圆点为当前预算，"
                 "色带为 90% 区间。"), w=result.settings.get("plan_weeks", 52))


def roas_table(result: MixResult) -> dict[str, Any]:
    """Spend, incremental orders and revenue, share and ROAS per channel, with intervals."""
    ch = result.tables["channels"].copy()
    ch["orders_interval"] = [f"{a:,.0f} – {b:,.0f}" for a, b in zip(ch["orders_lo"], ch["orders_hi"], strict=True)]
    ch["roas_interval"] = [f"{a:.2f} – {b:.2f}" for a, b in zip(ch["roas_lo"], ch["roas_hi"], strict=True)]
    cols = ["spend", "orders", "orders_interval", "revenue", "share", "roas", "roas_interval"]
    return {"df": ch[cols], "index": True, "formats": {"spend": "{:,.0f}", "orders": "{:,.0f}",
            "revenue": "{:,.0f}", "share": "{:.1%}", "roas": "{:.2f}"},
            "caption": tr("90% intervals from the posterior (its covariance robust to shocks common to all "
                          "regions in a week)", "90% 区间来自后验（协方差对各地区同周的共同冲击稳健）")}


def lifts_table(result: MixResult) -> dict[str, Any] | None:
    """The lift experiments measured from the data against the model."""
    lf = result.tables.get("lifts")
    if lf is None or lf.empty:
        return None
    cols = [c for c in ("experiment_id", "channel", "start_date", "dark_regions", "withheld_spend", "lift_orders",
                        "se_orders", "model_orders", "iroas") if c in lf.columns]
    return {"df": lf[cols], "formats": {"withheld_spend": "{:,.0f}", "lift_orders": "{:,.0f}",
                                        "se_orders": "{:,.0f}", "model_orders": "{:,.0f}", "iroas": "{:.2f}"}}


def triangulation_table(result: MixResult) -> dict[str, Any]:
    """MMM, experiments and path models per channel."""
    t = result.tables["triangulation"].copy()
    t["path_range"] = [("" if np.isnan(a) else f"{a:.1%} – {b:.1%}") for a, b in zip(t["path_min"], t["path_max"],
                                                                                   strict=True)]
    cols = ["mmm_share", "mmm_share_touch", "experiments", "lift_orders", "mmm_lift_orders", "lift_se",
            "path_markov", "path_range", "verdict"]
    return {"df": t[cols], "index": True, "formats": {"mmm_share": "{:.1%}", "mmm_share_touch": "{:.1%}",
            "lift_orders": "{:,.0f}", "mmm_lift_orders": "{:,.0f}", "lift_se": "{:,.0f}", "path_markov": "{:.1%}"}}


def triangulation(result: MixResult) -> str:
    """Where the methods disagree, and what it means for budget."""
    t = result.tables["triangulation"]
    over = [c for c in t.index if t.loc[c, "path_gap"] > 0.05]
    under = [c for c in t.index if t.loc[c, "path_gap"] < -0.05]
    unseen = [c for c in t.index if np.isnan(t.loc[c, "path_markov"])]
    return md(tr("Paths over-credit {over} and under-credit {under} against the MMM; {unseen} are not seen by "
                 "paths at all. Budget moved on path credit would follow correlation, not incrementality: fund "
                 "on the calibrated MMM and test where the experiments and the MMM disagree.",
                 "与 MMM 相比，路径模型高估了 {over}，低估了 {under}；{unseen} 完全不在路径中。按路径归因调整预算追随的是相关性"
                 "而非增量：应按校准后的 MMM 分配，并在实验与 MMM 不一致的渠道上继续测试。"),
              over=", ".join(over) or "-", under=", ".join(under) or "-", unseen=", ".join(unseen) or "-")


def plan_table(result: MixResult) -> dict[str, Any]:
    """The optimiser's plan."""
    p = result.tables["plan"]
    return {"df": p[["current", "recommended", "change", "marginal_roas", "at_bound"]], "index": True,
            "formats": {"current": "{:,.0f}", "recommended": "{:,.0f}", "change": "{:+.0%}", "marginal_roas": "{:.2f}"}}


def plan(result: MixResult) -> str:
    """The plan in a sentence."""
    g = result.plan_gain
    return md(tr("At the same total spend the plan earns {gain:,.0f} {cur} more revenue (90% interval {lo:,.0f} to "
                 "{hi:,.0f}); channels inside their bounds end with the same marginal ROAS.",
                 "在总花费不变时，该方案多获得 {gain:,.0f} {cur} 收入（90% 区间 {lo:,.0f} 至 {hi:,.0f}）；未触及边界的渠道"
                 "边际 ROAS 相同。"), gain=g.get("gain", np.nan), lo=g.get("gain_lo", np.nan),
              hi=g.get("gain_hi", np.nan), cur=result.currency)


def truth_table(result: MixResult) -> dict[str, Any] | None:
    """The truth check per channel."""
    t = result.tables.get("truth")
    if t is None:
        return None
    return {"df": t, "index": True, "formats": {"orders": "{:,.0f}", "orders_lo": "{:,.0f}", "orders_hi": "{:,.0f}",
            "true_orders": "{:,.0f}", "share": "{:.1%}", "true_share": "{:.1%}", "abs_dev": "{:.3f}"}}


def truth(result: MixResult) -> str:
    """The truth check in a paragraph."""
    t = result.truth_summary
    if not t:
        return tr("This dataset has no ground truth.", "该数据集没有真值。")
    return md(tr("Against the generator's truth: the MMM's channel shares are {tad:.2f} from the true shares "
                 "(total absolute deviation, 0-2), its total incremental orders {ratio:+.1%} off, {cov:.0%} of the "
                 "channels' 90% intervals hold the truth, and the optimiser's plan earns {opt:.1%} of the "
                 "truth-optimal revenue at the same spend.",
                 "与生成器的真值相比：MMM 的渠道份额与真实份额的距离为 {tad:.2f}（总绝对偏差，0-2），总增量订单偏差 {ratio:+.1%}，"
                 "{cov:.0%} 的渠道 90% 区间覆盖真值，优化方案在同等花费下达到真值最优收入的 {opt:.1%}。"),
              tad=t["tad"], ratio=t["total_ratio"] - 1, cov=t["coverage"], opt=t["plan_vs_optimal"])


def quarantine_table(result: MixResult) -> dict[str, Any]:
    """Rows in, accepted and quarantined per source, with the reasons."""
    q = result.tables["quarantine"]
    reasons = q.groupby(["source", "reason"]).size().rename("rows").reset_index()
    return {"df": reasons if len(reasons) else result.tables["counts"]}
