"""Charts of the data audit: ``plot_<what>(result, ax=None) -> Axes`` (None when there is nothing to draw)."""

from __future__ import annotations

from typing import Any

from omni.audit.result import AuditResult
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
    ax.set_xlabel("mean share of filled values, non-identifier columns (%)")
    ax.set_title("Completeness by source")
    ax.set_xlim(0, 100)
    return ax


def plot_volume(result: AuditResult, ax: Any = None) -> Any:
    """Rows per month of every source with rows, in thousands."""
    volume = result.tables["volume"]
    ax = axes_or_new(ax, (9, 4))
    for col in volume.columns:
        if volume[col].sum() > 0:
            ax.plot(volume.index.to_timestamp(), volume[col] / 1000, marker="o", ms=3, label=col)
    ax.set_ylabel("rows per month (thousands)")
    ax.set_xlabel("month")
    ax.set_title("Monthly volume by source")
    ax.legend(fontsize=8, ncol=2)
    return ax


def plot_overlap(result: AuditResult, ax: Any = None) -> Any:
    """Heat map: share of the row source's identifier values also found in the column source (%)."""
    overlap = result.tables["overlap"]
    if overlap.empty:
        return None
    id_type = result.settings.get("overlap_id_type", "phone")
    short, noun = ("Phones", "phone numbers") if id_type == "phone" else (f"{id_type} values",) * 2
    return percent_heatmap(
        overlap, ax=ax, title=f"{short} of the row source found in the column source (%)",
        xlabel="source where the value is found too", ylabel="source of the value",
        colorbar_label=f"% of distinct {noun}",
    )


def plot_scores(result: AuditResult, ax: Any = None) -> Any:
    """Quality score per source, lowest first; sources below :data:`LOW_SCORE` in red."""
    scores = result.tables["scores"]
    ax = axes_or_new(ax, (7, 3.5))
    ax.barh(scores["source"], scores["score"], color=[_RED if s < LOW_SCORE else _BLUE for s in scores["score"]])
    ax.set_xlabel("quality score (0-100)")
    ax.set_xlim(0, 100)
    ax.set_title("Quality score by source")
    return ax
