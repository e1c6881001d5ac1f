"""The charts of the marketing mix report (notebook 08): ``plot_*(result, ax=None)``."""

from __future__ import annotations

from typing import Any

import numpy as np

from omni.core.i18n import tr
from omni.mix.result import MixResult
from omni.reporting.plots import axes_or_new, interval_bars

__all__ = ["plot_curves", "plot_decomposition", "plot_plan", "plot_roas", "plot_triangulation", "plot_truth"]


def plot_decomposition(result: MixResult, ax: Any = None) -> Any:
    """National weekly orders: baseline and each channel stacked, observed orders as a line."""
    ax = axes_or_new(ax, (9, 4))
    d = result.tables["decomposition"]
    chans = result.channels
    ax.stackplot(d["week_start"], d["baseline"], *[d[c] for c in chans], labels=["baseline", *chans], alpha=0.8)
    ax.plot(d["week_start"], d["observed"], color="black", lw=0.8, label=tr("observed", "实际"))
    ax.set_ylabel(tr("orders per week", "每周订单"))
    ax.set_title(tr("Orders decomposed: baseline and media", "订单分解：基线与媒体"))
    ax.legend(fontsize=7, ncol=3, loc="upper left")
    return ax


def plot_curves(result: MixResult, ax: Any = None) -> Any:
    """Response curves (revenue against budget) with 90% bands; dots at the current budget."""
    ax = axes_or_new(ax, (7, 4.5))
    cv = result.tables["curves"]
    for ch, g in cv.groupby("channel", sort=False):
        line = ax.plot(g["spend"], g["revenue"], label=ch)[0]
        ax.fill_between(g["spend"], g["revenue_lo"], g["revenue_hi"], color=line.get_color(), alpha=0.15)
        cur = g[np.isclose(g["multiple"], 1.0)]
        ax.plot(cur["spend"], cur["revenue"], "o", color=line.get_color())
    ax.set_xlabel(tr("budget over the plan period", "计划期预算"))
    ax.set_ylabel(tr("incremental revenue", "增量收入"))
    ax.set_title(tr("Response curves", "响应曲线"))
    ax.legend(fontsize=7)
    return ax


def plot_roas(result: MixResult, ax: Any = None) -> Any:
    """ROAS per channel with its 90% interval."""
    ch = result.tables["channels"].sort_values("roas", ascending=False)
    return interval_bars(ch.index.tolist(), ch["roas"], ch["roas_lo"], ch["roas_hi"], ax=ax,
                         xlabel=tr("incremental revenue per unit of spend", "每单位花费的增量收入"),
                         title=tr("ROAS with 90% intervals (MMM)", "ROAS 及 90% 区间（MMM）"))


def plot_triangulation(result: MixResult, ax: Any = None) -> Any:
    """MMM share (touch channels, renormalised) against the path models' range."""
    ax = axes_or_new(ax, (7, 4))
    t = result.tables["triangulation"].dropna(subset=["path_markov"])
    y = np.arange(len(t))
    ax.hlines(y, t["path_min"] * 100, t["path_max"] * 100, color="#c0c0c0", lw=6, label=tr("path models", "路径模型"))
    ax.plot(t["path_markov"] * 100, y, "s", color="#4c72b0", label="Markov")
    ax.plot(t["mmm_share_touch"] * 100, y, "o", color="#c44e52", label="MMM")
    ax.set_yticks(y, t.index)
    ax.invert_yaxis()
    ax.set_xlabel(tr("share of marketing-caused orders (%)", "营销带来订单的份额（%）"))
    ax.set_title(tr("Triangulation: MMM against path models", "三角验证：MMM 与路径模型"))
    ax.legend(fontsize=8)
    return ax


def plot_plan(result: MixResult, ax: Any = None) -> Any:
    """Current and recommended budget per channel."""
    ax = axes_or_new(ax, (7, 4))
    p = result.tables["plan"]
    y = np.arange(len(p))
    ax.barh(y - 0.2, p["current"], height=0.4, label=tr("current", "当前"), color="#c0c0c0")
    ax.barh(y + 0.2, p["recommended"], height=0.4, label=tr("recommended", "建议"), color="#4c72b0")
    ax.set_yticks(y, p.index)
    ax.invert_yaxis()
    ax.set_xlabel(tr("budget over the plan period", "计划期预算"))
    ax.set_title(tr("The optimiser's plan", "优化方案"))
    ax.legend(fontsize=8)
    return ax


def plot_truth(result: MixResult, ax: Any = None) -> Any:
    """MMM incremental orders with intervals against the true ones (synthetic data)."""
    t = result.tables["truth"]
    ax = interval_bars(t.index.tolist(), t["orders"], t["orders_lo"], t["orders_hi"], ax=ax,
                       xlabel=tr("incremental orders", "增量订单"),
                       title=tr("MMM against the truth", "MMM 与真值"))
    ax.plot(t["true_orders"], np.arange(len(t))[::-1], "x", color="black", label=tr("truth", "真值"))
    ax.legend(fontsize=8)
    return ax
