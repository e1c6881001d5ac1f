"""Charts of the data audit: ``plot_<what>(result, ax=None) -> Axes`` (None when there is nothing to draw)."""

from __future__ import annotations

from typing import Any

from omni.audit.result import AuditResult
from omni.core.i18n import tr
from omni.reporting.plots import axes_or_new, percent_heatmap

__all__ = ["plot_completeness", "plot_overlap", "plot_scores", "plot_volume"]

#: Bars of sources scoring below this are drawn red.
LOW_SCORE = 80
_BLUE, _RED = "#4c72b0", "#cf222e"


def plot_completeness(result: AuditResult, ax: Any = None) -> Any:
    """Mean filled share of each source's non-identifier columns, in percent."""
    by_source = result.tables["completeness_by_source"]
    ax = axes_or_new(ax, (8, 3.5))
    ax.barh(by_source["source"], by_source["filled"].to_numpy() * 100, color=_BLUE)
    ax.set_xlabel(tr("mean share of filled values, non-identifier columns (%)", "非标识符列的平均填充率（%）"))
    ax.set_title(tr("Completeness by source", "各数据源完整度"))
    ax.set_xlim(0, 100)
    return ax


def plot_volume(result: AuditResult, ax: Any = None) -> Any:
    """Rows per month of every source with rows, in thousands."""
    volume = result.tables["volume"]
    ax = axes_or_new(ax, (9, 4))
    for col in volume.columns:
        if volume[col].sum() > 0:
            ax.plot(volume.index.to_timestamp(), volume[col] / 1000, marker="o", ms=3, label=col)
    ax.set_ylabel(tr("rows per month (thousands)", "每月行数（千）"))
    ax.set_xlabel(tr("month", "月份"))
    ax.set_title(tr("Monthly volume by source", "各数据源月度数据量"))
    ax.legend(fontsize=8, ncol=2)
    return ax


def plot_overlap(result: AuditResult, ax: Any = None) -> Any:
    """Heat map: share of the row source's identifier values also found in the column source (%)."""
    overlap = result.tables["overlap"]
    if overlap.empty:
        return None
    id_type = result.settings.get("overlap_id_type", "phone")
    short, noun = ("Phones", "phone numbers") if id_type == "phone" else (f"{id_type} values",) * 2
    short_zh = "手机号" if id_type == "phone" else f"{id_type} 值"
    return percent_heatmap(
        overlap, ax=ax, title=tr(f"{short} of the row source found in the column source (%)",
                                 f"行数据源的{short_zh}在列数据源中也出现的比例（%）"),
        xlabel=tr("source where the value is found too", "同样出现该值的数据源"),
        ylabel=tr("source of the value", "值所在的数据源"),
        colorbar_label=tr(f"% of distinct {noun}", f"不同{short_zh}的 %"),
    )


def plot_scores(result: AuditResult, ax: Any = None) -> Any:
    """Quality score per source, lowest first; sources below :data:`LOW_SCORE` in red."""
    scores = result.tables["scores"]
    ax = axes_or_new(ax, (7, 3.5))
    ax.barh(scores["source"], scores["score"], color=[_RED if s < LOW_SCORE else _BLUE for s in scores["score"]])
    ax.set_xlabel(tr("quality score (0-100)", "质量得分（0-100）"))
    ax.set_xlim(0, 100)
    ax.set_title(tr("Quality score by source", "各数据源质量得分"))
    return ax
