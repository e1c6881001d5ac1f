"""The recommendations report's figures: ``plot_*(result, ax=None)`` -> Axes."""

from __future__ import annotations

from typing import Any

from omni.core.i18n import term, tr
from omni.recommend.result import RecommendResult
from omni.reporting.plots import interval_bars, percent_heatmap

__all__ = ["plot_models", "plot_recommended_categories", "plot_single_channel"]


def plot_models(result: RecommendResult, ax: Any = None, metric: str = "recall@20") -> Any:
    """Each model's ``metric`` with its 95% paired-bootstrap interval (the oracle in grey)."""
    m = result.tables["models"]
    colors = ["#8c8c8c" if i == "oracle" else "#dd8452" if i == "popularity" else "#4c72b0" for i in m.index]
    return interval_bars([term(i) for i in m.index], m[metric], m[f"{metric} low"], m[f"{metric} high"], ax=ax,
                         colors=colors, zero_line=False,
                         xlabel=tr(f"{metric} in {result.month} (95% CI, people resampled)",
                                   f"{result.month} 的 {metric}（95% 置信区间，按人重抽样）"),
                         title=tr("Models against popularity and the oracle", "各模型对比热门基线与理论上限"))


def plot_single_channel(result: RecommendResult, ax: Any = None) -> Any:
    """Lift of the omnichannel fit over each single-channel fit (recall@20, 95% CI)."""
    sc = result.tables["single_channel"]
    return interval_bars([term(c) for c in sc["channel"]], sc["lift"], sc["lift low"], sc["lift high"], ax=ax,
                         scale=100, xlabel=tr("recall@20 lift of the omnichannel fit (%, 95% CI)",
                                              "全渠道模型的 recall@20 提升（%，95% 置信区间）"),
                         title=tr("What OneID adds: omnichannel vs one channel's orders",
                                  "OneID 的价值：全渠道对比单一渠道"))


def plot_recommended_categories(result: RecommendResult, ax: Any = None) -> Any:
    """Share of each category in the top-3 of each channel-mix segment."""
    t = result.tables["by_segment_category"]
    t = t.rename(index=term, columns=term)
    return percent_heatmap(t, ax=ax, title=tr("What the top 3 holds, by segment", "各人群前 3 推荐的品类构成"),
                           xlabel=tr("category", "品类"), ylabel=tr("channel mix", "渠道构成"))
