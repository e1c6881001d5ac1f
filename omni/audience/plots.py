"""Charts of an :class:`~omni.audience.result.AudienceResult`: sizes, overlap heat map, reach.

Each ``plot_*(result, ax=None)`` draws on ``ax`` (a new figure when None) and returns the axes, or
None when there is nothing to draw (every count blanked, a single audience). Counts blanked in the
result's tables stay blank here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omni.audience.result import AudienceResult
from omni.core.i18n import tr
from omni.reporting.plots import percent_heatmap

__all__ = ["plot_overlap", "plot_reach", "plot_sizes"]

_PLATFORM_NAMES = {"tencent": "Tencent Ads", "google": "Google Customer Match", "meta": "Meta"}
_PLATFORM_COLORS = {"tencent": "#4c72b0", "google": "#55a868", "meta": "#8172b2"}


def plot_sizes(result: AudienceResult, ax: Any = None) -> Any:
    """Horizontal bars: people each audience selects, and the opted-out part of them.

    Parameters
    ----------
    result : AudienceResult
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes, or None when every audience's size is blanked
    """
    import matplotlib.pyplot as plt

    shown = result.tables["sizes"].dropna(subset=["people"])
    if not len(shown):
        return None
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.6 + 0.45 * len(shown)))
    y = np.arange(len(shown))
    ax.barh(y, shown["people"].astype(float), color="#4c72b0", label=tr("selected by the rule", "规则选中"))
    ax.barh(y, shown["opted out"].astype(float).fillna(0), color="#dd8452",
            label=tr("of them opted out (not exported)", "其中已退订（不导出）"))
    ax.set_yticks(y, [str(a) for a in shown["audience"]])
    ax.invert_yaxis()
    ax.set_xlabel(tr("people", "人数"))
    ax.set_ylabel(tr("audience", "人群包"))
    ax.set_title(tr("Audience size and opted-out members", "人群包规模与退订成员"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.figure.tight_layout()
    return ax


def plot_overlap(result: AudienceResult, ax: Any = None) -> Any:
    """Heat map of the people two audiences share, as a percentage of the row audience.

    Cells blanked in the overlap table (fewer than ``k`` people) stay blank.

    Parameters
    ----------
    result : AudienceResult
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes, or None with fewer than two audiences
    """
    share = result.tables["overlap_share"]
    if share.shape[0] < 2:
        return None
    ax = percent_heatmap(share, ax=ax, title=tr("People shared by two audiences", "两个人群包共有的人"),
                         xlabel=tr("also in this audience", "同时在此人群包中"), ylabel=tr("people of this audience", "此人群包的人"),
                         colorbar_label=tr("share of the row audience (%)", "占行人群包的比例（%）"))
    ax.figure.tight_layout()
    return ax


def plot_reach(result: AudienceResult, ax: Any = None) -> Any:
    """Grouped bars: the share of each audience's eligible people each platform can match.

    Parameters
    ----------
    result : AudienceResult
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes, or None when every count is blanked
    """
    import matplotlib.pyplot as plt

    reach = result.tables["reach"].set_index("audience")
    plats = list(result.platforms)
    share = reach[[f"{p} (any)" for p in plats]].astype(float).div(reach["eligible"].astype(float), axis=0)
    if not share.notna().any().any():
        return None
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.8))
    (share * 100).plot.bar(ax=ax, color=[_PLATFORM_COLORS[p] for p in plats])
    ax.legend([_PLATFORM_NAMES[p] for p in plats], loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.set_ylabel(tr("share of eligible people (%)", "占可激活人数的比例（%）"))
    ax.set_xlabel(tr("audience", "人群包"))
    ax.set_title(tr("Share of each audience a platform can match", "各平台可匹配的人群包比例"))
    ax.set_ylim(0, 100)
    ax.tick_params(axis="x", labelrotation=30)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.figure.tight_layout()
    return ax
