"""Charts of the identity resolution report: ``plot_*(result, ax=None) -> Axes``.

Identifier values appear only masked (the drawing of a profile labels its identifiers with
:func:`omni.oneid.explain.mask_value`, done in :func:`omni.identity.health.cluster_edges`).
"""

from __future__ import annotations

from typing import Any

from omni.core.i18n import tr
from omni.identity.result import IdentityResult
from omni.reporting.plots import axes_or_new, log_scale, percent_heatmap

__all__ = ["plot_cluster", "plot_merge_rates", "plot_platform_linkage", "plot_profile_sizes"]

#: Colours of the platform linkage bars (by rule, by probability, not linked, no identifier).
LINKAGE_COLORS = ["#4c72b0", "#2da44e", "#cf222e", "#999"]


def plot_merge_rates(result: IdentityResult, ax: Any = None) -> Any:
    """Heat map of the cross-source merge rates (% of a row source's records)."""
    ax = axes_or_new(ax, (7, 6))
    return percent_heatmap(result.tables["merge_rates"], ax=ax, title=tr("Cross-source merge rate (%)", "跨数据源合并率（%）"),
                           xlabel=tr("joined to a record from", "与之合并的记录来自"), ylabel=tr("records of", "记录来自"),
                           colorbar_label=tr("% of records", "记录的 %"))


def plot_profile_sizes(result: IdentityResult, ax: Any = None) -> Any:
    """Bars of OneIDs by records per OneID (log scale)."""
    dist = result.tables["profile_sizes"]
    ax = axes_or_new(ax, (8, 3.5))
    ax.bar(dist["size"].astype(str), dist["profiles"], color="#4c72b0")
    log_scale(ax, "y")
    ax.set_xlabel(tr("records per OneID", "每个 OneID 的记录数"))
    ax.set_ylabel(tr("OneIDs (log scale)", "OneID 数（对数刻度）"))
    ax.set_title(tr("Profile size distribution", "画像大小分布"))
    return ax


def plot_cluster(result: IdentityResult, ax: Any = None, seed: int = 7, max_nodes: int = 400,
                 max_labels: int = 25) -> Any:
    """The largest OneID as a graph: records (dots, coloured by source) and identifiers (squares).

    Parameters
    ----------
    result : IdentityResult
    ax : matplotlib Axes, optional
    seed : int
        Seed of the spring layout (the same seed draws the same picture).
    max_nodes : int
        A larger profile is not drawn (None is returned).
    max_labels : int
        Identifiers are labelled (type and masked value) when there are at most this many.

    Returns
    -------
    matplotlib Axes, or None when the profile has more than ``max_nodes`` nodes
    """
    import matplotlib.pyplot as plt
    import networkx as nx

    edges = result.tables["cluster_edges"]
    g = nx.Graph()
    for e in edges.itertuples(index=False):  # one profile's edges, in resolution order
        g.add_node(e.record, kind="record", source=e.source)
        g.add_node(e.identifier, kind="id", label=e.label)
        g.add_edge(e.record, e.identifier)
    if g.number_of_nodes() > max_nodes:
        return None
    pos = nx.spring_layout(g, seed=seed)
    ax = axes_or_new(ax, (9, 6))
    sources = sorted({d["source"] for _, d in g.nodes(data=True) if d["kind"] == "record"})
    cmap = plt.get_cmap("tab10")
    for k, s in enumerate(sources):
        nodes = [n for n, d in g.nodes(data=True) if d.get("source") == s]
        nx.draw_networkx_nodes(g, pos, nodelist=nodes, node_size=30, node_color=[cmap(k)], label=s, ax=ax)
    idn = [n for n, d in g.nodes(data=True) if d["kind"] == "id"]
    nx.draw_networkx_nodes(g, pos, nodelist=idn, node_size=60, node_shape="s", node_color="#444", ax=ax)
    nx.draw_networkx_edges(g, pos, alpha=0.3, ax=ax)
    if len(idn) <= max_labels:
        nx.draw_networkx_labels(g, pos, labels={n: g.nodes[n]["label"] for n in idn}, font_size=6, ax=ax)
    n_records, _ = result.largest_profile
    ax.set_title(tr(f"Largest OneID: {n_records} records, {len(idn)} identifiers",
                    f"最大的 OneID：{n_records} 条记录，{len(idn)} 个标识符"))
    ax.legend(fontsize=7, loc="upper left")
    ax.axis("off")
    return ax


def plot_platform_linkage(result: IdentityResult, ax: Any = None) -> Any:
    """Horizontal bars: how platform orders reach a person (% of platform order records)."""
    ls = result.tables["platform_linkage"]
    ax = axes_or_new(ax, (7, 2.8))
    ax.barh(ls["linked"][::-1], ls["share"][::-1] * 100, color=LINKAGE_COLORS[::-1])
    ax.set_xlabel(tr("share of platform order records (%)", "占平台订单记录的比例（%）"))
    ax.set_title(tr("How platform orders reach a person", "平台订单如何关联到人"))
    return ax
