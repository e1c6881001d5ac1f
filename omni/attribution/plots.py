"""The charts of the channel attribution report (notebook 04).

Every function takes an :class:`~omni.attribution.result.AttributionResult` and ``ax=None`` (a new
figure is made) and returns what it drew on. Channel names come from the data and are drawn as
typed (``omni.reporting.display.use_report_style`` turns matplotlib's mathtext off).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omni.attribution.journeys import DIRECT
from omni.attribution.models import MODEL_LABELS
from omni.attribution.result import AttributionResult
from omni.core.i18n import month_label, tr
from omni.reporting.plots import axes_or_new, interval_bars, log_scale, percent_heatmap

__all__ = [
    "model_colors",
    "plot_journey_length",
    "plot_journeys",
    "plot_markov",
    "plot_model_ranks",
    "plot_model_shares",
    "plot_removal_effects",
    "plot_roas",
    "plot_share_change",
    "plot_time_to_convert",
    "plot_transitions",
    "plot_truth_shares",
]

_BLUE, _GREY = "#4c72b0", "#c0c0c0"


def model_colors() -> dict[str, Any]:
    """One colour per model (matplotlib's ``tab10``), the same in every chart."""
    import matplotlib.pyplot as plt

    return dict(zip(MODEL_LABELS, plt.get_cmap("tab10").colors, strict=False))


def plot_journey_length(result: AttributionResult, ax: Any = None) -> Any:
    """Share of converting and non-converting journeys by number of touches."""
    ax = axes_or_new(ax, (5.5, 3.8))
    ld = result.tables["lengths"]
    x = np.arange(len(ld))
    ax.bar(x - 0.2, ld["conversion_share"] * 100, width=0.4, label=tr("converting journeys", "转化路径"), color=_BLUE)
    ax.bar(x + 0.2, ld["null_share"] * 100, width=0.4, label=tr("journeys without an order", "未下单路径"), color=_GREY)
    ax.set_xticks(x, ld["touches"])
    ax.set_xlabel(tr("touches in the journey (0 = order without any touch)", "路径中的触点数（0 = 无触点的订单）"))
    ax.set_ylabel(tr("share of journeys (%)", "路径占比（%）"))
    ax.set_title(tr("Journey length", "路径长度"))
    ax.legend(fontsize=8)
    return ax


def plot_time_to_convert(result: AttributionResult, ax: Any = None) -> Any:
    """Touched conversions by days from the first touch to the order."""
    ax = axes_or_new(ax, (5.5, 3.8))
    ttc = result.tables["time_to_convert"]
    ax.bar(ttc["days"], ttc["share"] * 100, color=_BLUE)
    ax.set_xlabel(tr("days from the first touch to the order", "从首次触点到下单的天数"))
    ax.set_ylabel(tr("share of touched conversions (%)", "有触点转化的占比（%）"))
    ax.set_title(tr("Time to convert", "转化时长"))
    return ax


def plot_journeys(result: AttributionResult) -> Any:
    """Journey length and time to convert side by side; returns the two axes."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    plot_journey_length(result, axes[0])
    plot_time_to_convert(result, axes[1])
    fig.tight_layout()
    return axes


def plot_model_shares(result: AttributionResult, ncol: int = 3) -> Any:
    """One panel per touch channel: each model's share with its bootstrap interval."""
    import matplotlib.pyplot as plt

    channels, models, colors = result.channels, result.models, model_colors()
    boot = result.tables["bootstrap"]
    nrow = int(np.ceil(len(channels) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(12, 2.9 * nrow), squeeze=False)
    for k, ch in enumerate(channels):  # one panel per channel
        ax = axes.flat[k]
        b = boot[boot["channel"] == ch].set_index("model").reindex(models)
        interval_bars([MODEL_LABELS[m] for m in models], b["share"], b["share_lo"], b["share_hi"], ax=ax,
                      scale=100, colors=[colors[m] for m in models], xlabel=tr("share of conversions (%)", "转化占比（%）"), title=ch)
        if k % ncol:
            ax.set_yticklabels([""] * len(models))
        ax.tick_params(axis="y", labelsize=8)
    for ax in list(axes.flat)[len(channels):]:
        ax.axis("off")
    fig.suptitle(tr(f"Channel share of the conversions in {result.month}, by model (95% bootstrap intervals)",
                    f"{month_label(result.month)}各渠道的转化占比，按模型（95% bootstrap 区间）"),
                 fontweight="bold")
    fig.tight_layout()
    return axes


def plot_transitions(result: AttributionResult, ax: Any = None, max_states: int = 14) -> Any:
    """The Markov chain's transition probabilities from its ``max_states`` busiest states."""
    mk = result.markov
    counts = mk.transition_counts_.sum(axis=1)
    tm = mk.transition_matrix_.loc[counts.sort_values(ascending=False).index[:max_states]]
    tm = tm.loc[:, (tm > 0).any(axis=0)]
    return percent_heatmap(tm, ax=ax, title=tr("Transition probabilities (%)", "转移概率（%）"), xlabel=tr("next state", "下一状态"),
                           ylabel=tr("current state", "当前状态"), colorbar_label=tr("% of exits from the row state", "离开行状态的 %"))


def plot_removal_effects(result: AttributionResult, ax: Any = None) -> Any:
    """Share of conversions lost if each marketing channel were removed (Markov)."""
    ax = axes_or_new(ax, (5, 4.8))
    re = result.markov.removal_effects_.drop(index=DIRECT, errors="ignore").sort_values()
    re = re[re > 0]
    ax.barh(re.index, re.to_numpy() * 100, color=_BLUE)
    ax.set_xlabel(tr("conversions lost if the channel is removed (%)", "移除该渠道后损失的转化（%）"))
    ax.set_title(tr("Removal effects", "移除效应"))
    return ax


def plot_markov(result: AttributionResult) -> Any:
    """Transition heat map and removal effects side by side; returns the two axes."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1.6, 1]})
    plot_transitions(result, axes[0])
    plot_removal_effects(result, axes[1])
    fig.tight_layout()
    return axes


def plot_roas(result: AttributionResult, ax: Any = None) -> Any:
    """ROAS of each paid channel under each model, against the target ROAS."""
    verdict = result.tables["roi_summary"]
    roi = result.tables["roi"]
    paid_roi = roi[roi["spend"] > 0]
    colors, target = model_colors(), result.settings.get("target_roas", 1.0)
    ax = axes_or_new(ax, (9, 0.45 * verdict.shape[0] + 2.2))
    order_ch = verdict.sort_values("roas_max")["channel"].tolist()
    for i, ch in enumerate(order_ch):  # a handful of channels
        rows = paid_roi[paid_roi["channel"] == ch]
        vals = rows["roas"].to_numpy(dtype=float)
        ok = np.isfinite(vals)
        if ok.any():
            ax.plot([vals[ok].min(), vals[ok].max()], [i, i], color="#999", lw=2, zorder=1)
        for m, v in zip(rows["model"], vals, strict=True):
            if np.isfinite(v):
                ax.scatter(v, i, color=colors[m], s=28, zorder=2, label=MODEL_LABELS[m] if i == 0 else None)
    ax.axvline(target, color="#cf222e", ls="--", lw=1, label=tr(f"target ROAS {target:g}", f"目标 ROAS {target:g}"))
    positive = bool((paid_roi["roas"].dropna() > 0).all())
    log_scale(ax, "x", symmetric=not positive, linthresh=1)
    ax.set_yticks(range(len(order_ch)), order_ch)
    ax.set_xlabel(tr(f"ROAS: credited revenue per {result.currency or 'unit'} of spend "
                     f"({'log' if positive else 'symmetric log'} scale)",
                     f"ROAS：每{result.currency or '单位'}花费带来的归因收入（{'对数' if positive else '对称对数'}刻度）"))
    ax.set_title(tr(f"ROAS by channel and model, {result.month}", f"各渠道各模型的 ROAS，{result.month}"))
    ax.legend(fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    return ax


def plot_model_ranks(result: AttributionResult, ax: Any = None) -> Any:
    """Each touch channel's rank by share under each model."""
    ax = axes_or_new(ax, (10, 4))
    ranks, models, channels = result.tables["ranks"], result.models, result.channels
    for ch in channels:  # a handful of channels
        ax.plot(range(len(models)), ranks.loc[ch, models], marker="o", label=ch)
    ax.set_xticks(range(len(models)), [MODEL_LABELS[m] for m in models], rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(1, len(channels) + 1))
    ax.invert_yaxis()
    ax.set_xlabel(tr("attribution model", "归因模型"))
    ax.set_ylabel(tr("channel rank by share (1 = largest)", "按份额的渠道排名（1 = 最大）"))
    ax.set_title(tr("Channel ranking under each model", "各模型下的渠道排名"))
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.figure.tight_layout()
    return ax


def plot_share_change(result: AttributionResult, ax: Any = None) -> Any:
    """The headline model's channel shares, previous month against this month."""
    sc = result.tables["share_change"]
    sc = sc[sc["channel"] != DIRECT]
    prev = result.previous.month
    ax = axes_or_new(ax, (9, 3.6))
    x = np.arange(len(sc))
    ax.bar(x - 0.2, sc["previous_share"] * 100, width=0.4, label=str(prev), color=_GREY)
    ax.bar(x + 0.2, sc["share"] * 100, width=0.4, label=str(result.month), color=_BLUE)
    ax.set_xticks(x, sc["channel"])
    ax.set_xlabel(tr("channel", "渠道"))
    ax.set_ylabel(tr("share of conversions (%)", "转化占比（%）"))
    ax.set_title(tr(f"Channel share of conversions ({result.model_label}), {prev} vs {result.month}", f"各渠道转化份额（{result.model_label}），{prev} 对比 {result.month}"))
    ax.legend()
    return ax


def plot_truth_shares(result: AttributionResult, ax: Any = None) -> Any:
    """Every model's shares of the touch-credited conversions against the true shares."""
    channels, models, colors = result.channels, result.models, model_colors()
    ts = result.tables["touch_shares"].reindex(channels)
    ax = axes_or_new(ax, (10, 4))
    x = np.arange(len(channels))
    w = 0.8 / (len(models) + 1)
    ax.bar(x - 0.4 + w / 2, result.true_shares.reindex(channels).fillna(0) * 100, width=w, color="black",
           label=tr("true share", "真实份额"))
    for k, m in enumerate(models):  # a handful of models
        ax.bar(x - 0.4 + w * (k + 1.5), ts[m] * 100, width=w, color=colors[m], label=MODEL_LABELS[m])
    ax.set_xticks(x, channels)
    ax.set_xlabel(tr("channel", "渠道"))
    ax.set_ylabel(tr("share of touch-credited conversions (%)", "触点带来的转化占比（%）"))
    ax.set_title(tr("Model shares against the true shares of touch-caused conversions", "各模型份额与触点带来转化的真实份额对比"))
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax
