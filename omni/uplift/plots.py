"""The uplift report's figures: ``plot_*(result or campaign, ax=None)``.

Each draws on the axes given (one, or one per panel for the figures with panels) or on a new
figure, labels every axis and returns the axes. Campaign ids, arms and segment values come from
the data and are drawn as typed (mathtext is off in report style).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from omni.core.blocks import figure_of
from omni.core.i18n import term, tr
from omni.uplift._common import CONTROL
from omni.uplift.campaign import CampaignAnalysis
from omni.uplift.result import UpliftResult
from omni.uplift.tables import SEGMENT_LABELS

__all__ = [
    "figure_of",
    "plot_budget_curve",
    "plot_cuped",
    "plot_effects",
    "plot_overview",
    "plot_qini",
    "plot_segments",
    "plot_targeting",
]

_PALETTE = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]


def _axes(ax: Any, n: int, figsize: tuple[float, float], squeeze: bool = True) -> np.ndarray:
    """``n`` axes: those given, or a new figure's."""
    if ax is not None:
        return np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
    import matplotlib.pyplot as plt

    _, axes = plt.subplots(1, n, figsize=figsize, squeeze=False)
    return axes[0]


def plot_overview(result: UpliftResult, ax: Any = None) -> Any:
    """Incremental revenue of each campaign with its 95% interval; this month's in blue, the
    previous period's in grey (when they are other campaigns)."""
    shown = list(result.campaigns)
    if result.previous is not None and not result.previous_is_same:
        shown += list(result.previous.campaigns)
    ax = _axes(ax, 1, (8, 0.6 + 0.6 * len(shown)))[0]
    y = np.arange(len(shown))
    f = [a.figures for a in shown]
    est = np.array([x["inc_revenue"] for x in f]) / 1000
    lo = est - np.array([x["inc_revenue_ci_low"] for x in f]) / 1000
    hi = np.array([x["inc_revenue_ci_high"] for x in f]) / 1000 - est
    colors = ["#4c72b0" if i < len(result.campaigns) else "#8c8c8c" for i in range(len(shown))]
    for i in range(len(shown)):
        ax.errorbar(est[i], y[i], xerr=[[lo[i]], [hi[i]]], fmt="o", color=colors[i], capsize=4)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [f"{a.campaign_id} (ended {a.info['end_date']:%Y-%m-%d})" for a in shown])
    ax.set_ylim(-0.6, len(shown) - 0.4)
    ax.set_xlabel(tr("incremental revenue, all arms vs holdout (thousand CNY, 95% CI)", "增量收入，全部干预组对比留出组（千元，95% 置信区间）"))
    ax.set_ylabel(tr("campaign", "活动"))
    ax.set_title(tr("Incremental revenue by campaign (blue: this month, grey: previous)", "各活动增量收入（蓝：本月，灰：上期）"))
    return ax


def plot_effects(an: CampaignAnalysis, ax: Any = None, alpha: float = 0.05) -> np.ndarray:
    """Two panels: conversion by arm (bars, 95% CI) and each arm's lift against the holdout."""
    from scipy import stats

    z = stats.norm.ppf(1 - alpha / 2)
    groups = [CONTROL, *an.arms]
    g = an.outcomes.groupby("arm")["converted"].agg(["mean", "size"]).reindex(groups)
    se = np.sqrt(g["mean"] * (1 - g["mean"]) / g["size"])
    ax1, ax2 = _axes(ax, 2, (10, 3.6))
    colors = ["#8c8c8c"] + _PALETTE[: len(an.arms)]
    ax1.bar(groups, 100 * g["mean"].to_numpy(), yerr=100 * z * se.to_numpy(), color=colors,
            capsize=4)
    ax1.set_ylabel(tr("bought in the campaign window (%)", "活动期间购买（%）"))
    ax1.set_xlabel(tr("arm", "组别"))
    ax1.set_title(tr(f"{an.campaign_id}: conversion by arm (95% CI)", f"{an.campaign_id}：各组转化率（95% 置信区间）"))
    e = an.effects[(an.effects["metric"] == "conversion") & (an.effects["adjustment"] == "none")]
    y = np.arange(len(e))
    lift_, lo_, hi_ = (e[c].to_numpy(dtype="float64") for c in ("abs_lift", "abs_ci_low", "abs_ci_high"))
    ax2.errorbar(100 * lift_, y, xerr=np.vstack([100 * (lift_ - lo_), 100 * (hi_ - lift_)]),
                 fmt="o", color="#4c72b0", capsize=4)
    ax2.axvline(0, color="black", lw=0.8)
    ax2.set_yticks(y, e["arm"])
    ax2.set_ylim(-0.8, len(e) - 0.2)
    ax2.set_xlabel(tr("conversion lift vs control (percentage points)", "相对对照组的转化增量（百分点）"))
    ax2.set_ylabel(tr("arm", "组别"))
    ax2.set_title(tr(f"{an.campaign_id}: lift vs control (95% CI)", f"{an.campaign_id}：相对对照组的增量（95% 置信区间）"))
    ax1.figure.tight_layout()
    return np.array([ax1, ax2], dtype=object)


def _cuped_panel(ax: Any, d: Any, metric: str) -> None:
    scale = 100.0 if metric == "conversion" else 1.0
    for i, r in d.iterrows():
        for off, pre, color, lab in ((0.15, "before", "#8c8c8c", "unadjusted"),
                                     (-0.15, "after", "#4c72b0", "CUPED")):
            est = float(r[f"lift_{pre}"])
            ax.errorbar([scale * est], [i + off],
                        xerr=[[scale * (est - float(r[f"ci_low_{pre}"]))],
                              [scale * (float(r[f"ci_high_{pre}"]) - est)]],
                        fmt="o", color=color, capsize=3, label=lab if i == 0 else None)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(d)), d["arm"])
    ax.set_ylim(-0.7, len(d) - 0.3)
    ax.set_ylabel(tr("arm", "组别"))
    ax.set_xlabel(tr("conversion lift vs control (percentage points)", "相对对照组的转化增量（百分点）")
                  if metric == "conversion" else tr("revenue lift vs control (CNY per person)", "相对对照组的收入增量（元/人）"))
    ax.set_title(term(metric))
    ax.legend(fontsize=8, loc="best")


def plot_cuped(an: CampaignAnalysis, ax: Any = None) -> np.ndarray | None:
    """One panel per metric: each arm's lift before and after CUPED (95% CI); None without CUPED."""
    ct = an.cuped_table
    if not len(ct):
        return None
    metrics = [m for m in ("conversion", "revenue per person") if (ct["metric"] == m).any()]
    axes = _axes(ax, len(metrics), (5 * len(metrics), 0.6 + 0.9 * len(an.arms) + 1.6))
    for a, metric in zip(axes, metrics, strict=True):
        _cuped_panel(a, ct[ct["metric"] == metric].reset_index(drop=True), metric)
    fig = axes[0].figure
    fig.suptitle(tr(f"{an.campaign_id}: lift before and after CUPED (95% CI)",
                    f"{an.campaign_id}：CUPED 调整前后的增量（95% 置信区间）"), fontweight="bold")
    fig.tight_layout()
    return axes


def _segment_panel(ax: Any, an: CampaignAnalysis, col: str, overall: Mapping[str, float]) -> None:
    s = an.segments[col]
    levels = sorted(s.loc[~s["suppressed"], col].astype(str).unique())
    k = len(an.arms)
    for j, a in enumerate(an.arms):
        d = s[(s["arm"] == a) & ~s["suppressed"]]
        d = d.set_index(d[col].astype(str)).reindex(levels)
        y = np.arange(len(levels)) + (j - (k - 1) / 2) * 0.25
        lift_, lo_, hi_ = (d[c].to_numpy(dtype="float64") for c in ("abs_lift", "abs_ci_low", "abs_ci_high"))
        ok = np.isfinite(lift_)
        ax.errorbar(100 * lift_[ok], y[ok], xerr=np.vstack([100 * (lift_ - lo_)[ok], 100 * (hi_ - lift_)[ok]]),
                    fmt="o", color=_PALETTE[j % 4], capsize=3, label=a)
        ax.axvline(100 * overall.get(a, np.nan), color=_PALETTE[j % 4], ls="--", lw=0.8,
                   label=tr(f"{a}: all people", f"{a}：全体"))
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(levels)), levels, fontsize=8)
    ax.set_xlabel(tr("conversion lift (percentage points)", "转化增量（百分点）"))
    ax.set_ylabel(SEGMENT_LABELS.get(col, col))
    ax.set_title(tr(f"{an.campaign_id}: lift by {SEGMENT_LABELS.get(col, col)}", f"{an.campaign_id}：按{SEGMENT_LABELS.get(col, col)}的增量"), fontsize=10)


def plot_segments(an: CampaignAnalysis, ax: Any = None) -> np.ndarray | None:
    """One panel per segmentation: each arm's conversion lift by segment (95% CI) and the lift
    over all people (dashed); None when every segment is suppressed."""
    cols = [c for c, s in an.segments.items() if (~s["suppressed"]).any()]
    if not cols:
        return None
    e = an.effects[(an.effects["metric"] == "conversion") & (an.effects["adjustment"] == "none")]
    overall = dict(zip(e["arm"], e["abs_lift"], strict=True))
    axes = _axes(ax, len(cols), (4.2 * len(cols), 4.2))
    for a, col in zip(axes, cols, strict=True):
        _segment_panel(a, an, col, overall)
    fig = axes[0].figure
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return axes


def plot_qini(an: CampaignAnalysis, ax: Any = None) -> np.ndarray | None:
    """Two panels: the Qini curve of each arm's model against random targeting, and the observed
    lift by quintile of predicted uplift (held-out people); None without a model."""
    if not an.model:
        return None
    ax1, ax2 = _axes(ax, 2, (10, 3.8))
    k = len(an.model)
    for j, (a, m) in enumerate(an.model.items()):
        c = m["curve"]
        ax1.plot(100 * c["fraction"], c["qini"], color=_PALETTE[j % 4],
                 label=tr(f"{a}: uplift model (Qini {m['qini']:.2f})", f"{a}：增量模型（Qini {m['qini']:.2f}）"))
        ax1.plot(100 * c["fraction"], c["random"], color=_PALETTE[j % 4], ls="--", lw=0.9,
                 label=tr(f"{a}: random targeting", f"{a}：随机选择"))
        d = m["deciles"]
        x = d["bin"].to_numpy() + (j - (k - 1) / 2) * 0.3
        up, lo_, hi_ = (d[c].to_numpy(dtype="float64") for c in ("uplift", "ci_low", "ci_high"))
        ax2.bar(x, 100 * up, width=0.3 if k > 1 else 0.6, color=_PALETTE[j % 4],
                yerr=np.vstack([100 * (up - lo_), 100 * (hi_ - up)]), capsize=3, label=a, alpha=0.85)
    ax1.set_xlabel(tr("people targeted, highest predicted uplift first (% of held-out)", "选中的人，预测增量从高到低（占留出样本的 %）"))
    ax1.set_ylabel(tr("incremental buyers (held-out people)", "增量买家（留出样本）"))
    ax1.set_title(tr(f"{an.campaign_id}: Qini curve on held-out people", f"{an.campaign_id}：留出样本上的 Qini 曲线"))
    ax1.legend(fontsize=7)
    ax2.axhline(0, color="black", lw=0.8)
    ax2.set_xticks(range(1, 6), ["top 20%", "2", "3", "4", "bottom 20%"])
    ax2.set_xlabel(tr("quintile of predicted uplift", "预测增量五分位"))
    ax2.set_ylabel(tr("observed conversion lift (pp)", "观测转化增量（百分点）"))
    ax2.set_title(tr(f"{an.campaign_id}: observed lift by predicted quintile", f"{an.campaign_id}：各预测五分位的观测增量"))
    if k > 1:
        ax2.legend(fontsize=7)
    ax1.figure.tight_layout()
    return np.array([ax1, ax2], dtype=object)


def plot_targeting(an: CampaignAnalysis, ax: Any = None) -> Any:
    """Expected incremental profit by share of the audience targeted (held-out estimate); None
    without a model that valued targeting."""
    models = {a: m for a, m in an.model.items() if m["targeting"] is not None}
    if not models:
        return None
    ax = _axes(ax, 1, (7, 3.6))[0]
    for j, (a, m) in enumerate(models.items()):
        tv = m["targeting"]
        ax.plot(100 * tv["top_k"], tv["inc_profit"] / 1000, marker="o", color=_PALETTE[j % 4], label=a)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel(tr("share of the audience sent to, highest predicted uplift first (%)", "发送人群占比，预测增量从高到低（%）"))
    ax.set_ylabel(tr("expected incremental profit (thousand CNY)", "预期增量利润（千元）"))
    ax.set_title(tr(f"{an.campaign_id}: profit by share targeted (held-out estimate)", f"{an.campaign_id}：按发送比例的利润（留出样本估计）"))
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax


def plot_budget_curve(curve: Any, ax: Any = None, title: str | None = None) -> Any:
    """Incremental profit (thousand CNY) with its 95% band against the share of people targeted
    from the uplift ranking (:func:`omni.uplift.budget.budget_curve`)."""
    ax = _axes(ax, 1, (7, 4))[0]
    x = 100 * np.asarray(curve["share"], dtype=float)
    ax.fill_between(x, curve["inc_profit_ci_low"] / 1000, curve["inc_profit_ci_high"] / 1000,
                    color=_PALETTE[0], alpha=0.2, label=tr("95% interval", "95% 区间"))
    ax.plot(x, curve["inc_profit"] / 1000, "o-", color=_PALETTE[0], ms=3, label=tr("incremental profit", "增量利润"))
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel(tr("share of people targeted, highest predicted uplift first (%)",
                     "触达人群占比，按预测增量从高到低（%）"))
    ax.set_ylabel(tr("incremental profit (thousand CNY)", "增量利润（千元）"))
    ax.set_title(title if title is not None else tr("Incremental profit by share targeted", "增量利润与触达占比"))
    ax.legend(loc="best")
    return ax
