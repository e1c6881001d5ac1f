"""Charts of the value report: ``plot_*(result, ...)`` draws one figure of a :class:`ValueResult`.

Generic shapes come from :mod:`omni.reporting.plots` (the segment migration heat map through
``percent_heatmap``, TGI bars with intervals through ``interval_bars``). Labels from the data are
drawn as typed (``omni.reporting.display.use_report_style`` switches mathtext off).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from omni.core.i18n import month_label, term, tr
from omni.reporting.plots import (
    axes_or_new,
    interval_bars,
    log_scale,
    percent_heatmap,
    points_for_picture,
)
from omni.value.clv import MODEL_LABELS
from omni.value.movement import migration_shares
from omni.value.narrative import TGI_LABELS
from omni.value.result import ValueResult

__all__ = [
    "plot_churn",
    "plot_clv_distribution",
    "plot_holdout",
    "plot_migration",
    "plot_rfm_distribution",
    "plot_segment_shares",
    "plot_tgi",
    "plot_tgi_panel",
    "plot_tgi_top",
    "plot_truth_calibration",
]

_BLUE, _ORANGE, _RED, _GREY = "#4c72b0", "#dd8452", "#cf222e", "#c0c0c0"


def _plt() -> Any:
    import matplotlib.pyplot as plt

    return plt


def plot_rfm_distribution(result: ValueResult) -> Any:
    """Recency, frequency and monetary value of the customers (three panels).

    Returns
    -------
    matplotlib Figure
    """
    s, cur = result.current.summary, result.currency
    fig, (a1, a2, a3) = _plt().subplots(1, 3, figsize=(13, 3.6))
    a1.hist(s["days_since_last"], bins=40, color=_BLUE)
    a1.set_xlabel(tr("days since the last purchase (R)", "距最近一次购买的天数（R）"))
    a1.set_ylabel(tr("customers", "客户数"))
    a1.set_title(tr("Recency", "最近购买"))
    fc = s["n_orders"].clip(upper=10).value_counts().sort_index()
    a2.bar(fc.index, fc.to_numpy() / len(s) * 100, color=_BLUE)
    a2.set_xticks(fc.index, [str(int(i)) if i < 10 else "10+" for i in fc.index])
    a2.set_xlabel(tr("paid orders per customer (F)", "每位客户的已支付订单数（F）"))
    a2.set_ylabel(tr("share of customers (%)", "客户占比（%）"))
    a2.set_title(tr("Frequency", "购买频次"))
    mpos = s["revenue"][s["revenue"] > 0]
    a3.hist(mpos, bins=np.logspace(np.log10(max(mpos.min(), 1.0)), np.log10(mpos.max()), 40), color=_BLUE)
    log_scale(a3, "x")
    a3.set_xlabel(tr(f"total spend per customer (M, {cur}, log scale)", f"每位客户消费总额（M，{cur}，对数刻度）"))
    a3.set_ylabel(tr("customers", "客户数"))
    a3.set_title(tr("Monetary value", "消费金额"))
    fig.suptitle(tr(f"RFM distribution of {len(s):,} customers at the end of {result.month}",
                    f"{month_label(result.month)}末 {len(s):,} 位客户的 RFM 分布"), fontweight="bold")
    fig.tight_layout()
    return fig


def plot_segment_shares(result: ValueResult, ax: Any = None) -> Any:
    """Share of customers, revenue to date and predicted value per RFM class (grouped bars)."""
    st = result.tables["segments"]
    ax = axes_or_new(ax, (10, 4))
    x = np.arange(len(st))
    bars = [("customer_share", tr("customers", "客户"), _GREY), ("revenue_share", tr("revenue to date", "累计收入"), _BLUE),
            ("clv_share", tr(f"predicted {result.current.settings['clv_months']}-month value", f"预测 {result.current.settings['clv_months']} 个月价值"), _ORANGE)]
    for k, (col, lab, colr) in enumerate(bars):
        ax.bar(x + (k - 1) * 0.27, st[col].astype(float).fillna(0) * 100, width=0.27, label=lab, color=colr)
    ax.set_xticks(x, st[tr("segment_en", "segment")], rotation=25, ha="right")
    ax.set_xlabel(tr("RFM class", "RFM 类别"))
    ax.set_ylabel(tr("share of all customers (%)", "占全体客户的比例（%）"))
    ax.set_title(tr("RFM classes: share of customers, revenue and predicted value", "RFM 各类：客户、收入和预测价值占比"))
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax


def plot_holdout(result: ValueResult, ax: Any = None) -> Any:
    """Holdout check: mean actual vs predicted purchases per calibration frequency (None without a check)."""
    chk, ht = result.current.check, result.tables.get("holdout")
    if chk is None or ht is None:
        return None
    ax = axes_or_new(ax, (9, 3.8))
    xx = np.arange(len(ht))
    ax.bar(xx, ht["actual"].astype(float), color=_GREY, label=tr("actual", "实际"))
    fitted = [m for m in ("bgnbd", "paretonbd") if f"predicted_{m}" in ht.columns]
    for m, mk in zip(fitted, ("o", "s"), strict=False):
        ax.plot(xx, ht[f"predicted_{m}"].astype(float), marker=mk, lw=1.5,
                label=MODEL_LABELS[m] + (tr(" (chosen)", "（选用）") if m == chk.model_ else ""))
    ax.set_xticks(xx, ht["frequency_cal"])
    ax.set_xlabel(tr("repeat purchase days in the calibration period", "校准期内的复购天数"))
    ax.set_ylabel(tr("mean purchases in the holdout per customer", "留出期每位客户的平均购买次数"))
    ax.set_title(tr(f"Holdout check: {result.current.settings['holdout_weeks']} weeks after "
                    f"{result.current.calibration_end:%Y-%m-%d}, actual vs predicted",
                    f"留出检验：{result.current.calibration_end:%Y-%m-%d} 之后 {result.current.settings['holdout_weeks']} 周，实际与预测"))
    ax.legend(fontsize=8)
    return ax


def plot_clv_distribution(result: ValueResult) -> Any:
    """CLV histogram with the tier edges, and the concentration of value and revenue (two panels).

    Returns
    -------
    matplotlib Figure
    """
    cv, cur = result.current, result.currency
    months, top = cv.settings["clv_months"], result.top_share
    clv = cv.predictions[cv.clv_col]
    fig, (a1, a2) = _plt().subplots(1, 2, figsize=(12, 4))
    cpos = clv[clv > 0]
    lo_clv = max(float(cpos.quantile(0.001)), 1.0)  # the few below go into the first bin
    a1.hist(cpos.clip(lower=lo_clv), bins=np.logspace(np.log10(lo_clv), np.log10(cpos.max()), 50), color=_BLUE)
    log_scale(a1, "x")
    tcut = result.tables["tiers"].set_index("value_tier")["min_clv"].astype(float)
    for tier_label, v in tcut.iloc[:-1].items():
        a1.axvline(v, color=_RED, ls="--", lw=0.8)
        a1.text(v, a1.get_ylim()[1] * 0.95, f" {tier_label}", color=_RED, fontsize=8, va="top")
    a1.set_xlabel(tr(f"{months}-month CLV per customer ({cur}, log scale)", f"每位客户的 {months} 个月 CLV（{cur}，对数刻度）"))
    a1.set_ylabel(tr("customers", "客户数"))
    a1.set_title(tr("CLV distribution (dashed: lower edge of each tier)", "CLV 分布（虚线：各层下沿）"))
    conc_clv, conc_rev = result.tables["concentration_clv"], result.tables["concentration_revenue"]
    a2.plot(conc_clv["customer_share"] * 100, conc_clv["value_share"] * 100, label=tr(f"predicted {months}-month value", f"预测 {months} 个月价值"),
            color=_ORANGE)
    a2.plot(conc_rev["customer_share"] * 100, conc_rev["value_share"] * 100, label=tr("revenue to date", "累计收入"), color=_BLUE)
    a2.plot([0, 100], [0, 100], color="#999", lw=0.8, ls=":", label=tr("equal shares", "均等分布"))
    a2.axvline(top * 100, color=_RED, ls="--", lw=0.8)
    share = result.month_figures["top_share"]
    a2.annotate(f"top {top:.0%}: {share:.0%}", (top * 100, share * 100), xytext=(8, -14),
                textcoords="offset points", fontsize=8, color=_RED)
    a2.set_xlabel(tr("customers, highest value first (%)", "客户（价值从高到低，%）"))
    a2.set_ylabel(tr("cumulative share of the value (%)", "价值累计占比（%）"))
    a2.set_title(tr("Value concentration", "价值集中度"))
    a2.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_churn(result: ValueResult, ax: Any = None) -> Any:
    """P(alive) of last month's top-tier customers then and now (None without a previous month)."""
    d = result.tables.get("churn_points")
    if d is None:
        return None
    month, prev, drop = result.month, result.previous_month, result.settings["churn_min_drop"]
    ax = axes_or_new(ax, (6.5, 5))
    d, n_all = points_for_picture(d)
    no = ~d["bought"].to_numpy()
    ax.scatter(d["then"][no], d["now"][no], s=6, alpha=0.35, color=_RED, label=tr(f"no purchase in {month}", f"{month} 未购买"))
    ax.scatter(d["then"][~no], d["now"][~no], s=6, alpha=0.5, color=_BLUE, label=tr(f"bought in {month}", f"{month} 有购买"))
    ax.plot([0, 1], [0, 1], color="black", lw=0.8)
    ax.plot([drop, 1], [0, 1 - drop], color="#999", lw=0.8, ls="--", label=tr(f"{drop * 100:.0f} points lower", f"下降 {drop * 100:.0f} 个百分点"))
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(tr(f"P(alive) at the end of {prev}", f"{prev} 月末的 P(存活)"))
    ax.set_ylabel(tr(f"P(alive) at the end of {month}", f"{month} 月末的 P(存活)"))
    ax.set_title(tr(f"Tier-{result.top_tier} customers of {prev}: P(alive) then and now", f"{prev} 的 {result.top_tier} 层客户：当时与现在的 P(存活)"))
    if len(d) < n_all:
        ax.text(0.99, 0.01, tr(f"a random {len(d):,} of {n_all:,} customers drawn", f"随机抽取 {n_all:,} 人中的 {len(d):,} 人绘制"),
                transform=ax.transAxes, ha="right", va="bottom", fontsize=7, color="#555")
    ax.legend(fontsize=8, loc="upper left")
    return ax


def _tgi_colors(d: pd.DataFrame, highlight: float) -> list[str]:
    colors = {"high": "#08519c", "over": "#6baed6", "under": _RED, "ns": "#b0b0b0"}
    v = d["tgi"].to_numpy(dtype="float64")
    sig = d["significant"].to_numpy(dtype=bool)
    kind = np.where(~sig, "ns", np.where(v >= 100, np.where(v >= highlight, "high", "over"), "under"))
    return [colors[k] for k in kind]


def _tgi_panel(ax: Any, d: pd.DataFrame, title: str, highlight: float, lo: float, hi: float) -> None:
    """One attribute: bars diverging from TGI 100 on a log scale (log2(TGI / 100) through interval_bars)."""
    sup = d["suppressed"].to_numpy(dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = [np.log2(np.where(sup, np.nan, d[c].to_numpy(dtype="float64")) / 100.0)
                for c in ("tgi", "ci_low", "ci_high")]
    interval_bars(d["value"].astype(str).tolist(), *logs, ax=ax, colors=_tgi_colors(d, highlight))
    y = np.arange(len(d))[::-1]
    for yy in y[sup]:
        ax.text(np.log2(lo / 100.0) * 0.95, yy, tr("suppressed (few people)", "不显示（人数过少）"), va="center", fontsize=7, color="#57606a")
    ticks = [tk for tk in (10, 25, 50, 100, 200, 400, 800, 1600) if lo <= tk <= hi]
    ax.set_xlim(np.log2(lo / 100.0), np.log2(hi / 100.0))
    ax.set_xticks(np.log2(np.array(ticks) / 100.0), [str(tk) for tk in ticks])
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(tr("TGI (100 = as common as in the base; log scale)", "TGI（100 = 与基准一样常见；对数刻度）"), fontsize=8)


def plot_tgi(t: pd.DataFrame, title: str, highlight: float = 120.0, ncols: int = 3,
             labels: Mapping[str, str] | None = None) -> Any:
    """TGI per attribute value as bars diverging from 100 on a log scale, with 95% intervals.

    Dark blue: significantly over-represented (interval above 100) and at least ``highlight``;
    light blue: significantly over-represented below ``highlight``; red: significantly
    under-represented; grey: not significant. Suppressed cells are marked, not drawn.

    Parameters
    ----------
    t : DataFrame
        :func:`omni.value.tgi.tgi` output.
    title : str
        Figure title.
    highlight : float
        TGI from which an over-represented trait is called out.
    ncols : int
        Panels per row (one panel per attribute).
    labels : dict, optional
        Attribute -> panel title (default :data:`TGI_LABELS`).

    Returns
    -------
    matplotlib Figure
    """
    from matplotlib.patches import Patch

    need = ["attribute", "value", "tgi", "ci_low", "ci_high", "significant", "suppressed"]
    missing = [c for c in need if c not in t.columns]
    if missing:
        raise ValueError(f"tgi table is missing column(s) {missing}; has {list(t.columns)}")
    attrs = list(dict.fromkeys(t["attribute"]))
    if not attrs:
        raise ValueError("the TGI table is empty")
    labels = dict(TGI_LABELS if labels is None else labels)
    ncols = min(ncols, len(attrs))
    nrows = int(np.ceil(len(attrs) / ncols))
    tall = max(int(t.groupby("attribute").size().max()), 2)
    fig, axes = _plt().subplots(nrows, ncols, figsize=(4.2 * ncols, (0.32 * tall + 1.3) * nrows), squeeze=False)
    finite = t.loc[~t["suppressed"].to_numpy(dtype=bool), ["tgi", "ci_low", "ci_high"]].to_numpy(dtype="float64")
    finite = finite[np.isfinite(finite) & (finite > 0)]
    lo = min(50.0, float(finite.min()) / 1.3) if finite.size else 50.0
    hi = max(200.0, float(finite.max()) * 1.3) if finite.size else 200.0
    for ax, a in zip(axes.flat, attrs, strict=False):  # one panel per attribute (a handful)
        _tgi_panel(ax, t[t["attribute"] == a], term(labels.get(a, a)), highlight, lo, hi)
    for ax in list(axes.flat)[len(attrs):]:
        ax.axis("off")
    handles = [Patch(color="#08519c", label=tr(f"over-represented, TGI >= {highlight:g}", f"偏高，TGI >= {highlight:g}")),
               Patch(color="#6baed6", label=tr("over-represented", "偏高")), Patch(color=_RED, label=tr("under-represented", "偏低")),
               Patch(color="#b0b0b0", label=tr("not significant (95% interval spans 100)", "不显著（95% 区间跨过 100）"))]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def plot_tgi_top(result: ValueResult) -> Any:
    """TGI of the top value tier against all customers."""
    return plot_tgi(result.tables["tgi_top"],
                    tr(f"Tier-{result.top_tier} customers against all customers, TGI with 95% intervals", f"{result.top_tier} 层客户相对全体客户的 TGI（附 95% 区间）"),
                    highlight=result.settings["tgi_highlight"])


def plot_tgi_panel(result: ValueResult) -> Any:
    """TGI of all customers against the market panel (None without a panel)."""
    t = result.tables.get("tgi_panel")
    if t is None:
        return None
    return plot_tgi(t, tr("All customers against the market panel, TGI with 95% intervals", "全体客户相对市场样本的 TGI（附 95% 区间）"),
                    highlight=result.settings["tgi_highlight"])


def plot_migration(result: ValueResult, ax: Any = None) -> Any:
    """Where last month's customers are now: % of each row's class (None without a previous month)."""
    mig = result.tables.get("migration")
    if mig is None:
        return None
    ax = percent_heatmap(migration_shares(mig), ax=ax, fontsize=8,
                         title=tr("Where last month's customers are now (% of the row; cells under 10 customers blank)", "上月客户现在在哪一类（占行的 %；少于 10 位客户的格留空）"),
                         xlabel=tr(f"RFM class at the end of {result.month}", f"{result.month} 月末的 RFM 类别"),
                         ylabel=tr(f"RFM class at the end of {result.previous_month}", f"{result.previous_month} 月末的 RFM 类别"),
                         colorbar_label=tr("% of the row's customers", "占该行客户的 %"))
    ax.figure.tight_layout()
    return ax


def plot_truth_calibration(result: ValueResult, ax: Any = None) -> Any:
    """P(alive) against the share of customers truly still active (None without truth)."""
    cal = result.tables.get("truth_calibration")
    if cal is None:
        return None
    rb, ot = cal[cal["group"] != "one-time buyers"], cal[cal["group"] == "one-time buyers"]
    ax = axes_or_new(ax, (6, 4.5))
    ax.plot([0, 100], [0, 100], color="#999", lw=0.8, ls=":", label=tr("perfect calibration", "完美校准"))
    ax.plot(rb["mean_p_alive"] * 100, rb["alive_share"] * 100, marker="o", color=_BLUE,
            label=tr("repeat buyers, tenths by P(alive)", "复购客户，按 P(存活) 十等分"))
    if len(ot):
        ax.scatter(ot["mean_p_alive"] * 100, ot["alive_share"] * 100, marker="s", s=50, color=_ORANGE, zorder=3,
                   label=tr("one-time buyers", "单次购买客户"))
    ax.set_xlim(0, 102)
    ax.set_ylim(0, 102)
    ax.set_xlabel(tr("mean predicted P(alive) (%)", "平均预测 P(存活)（%）"))
    ax.set_ylabel(tr("customers whose person is truly still active (%)", "其本人确实仍活跃的客户（%）"))
    ax.set_title(tr("P(alive) against the true active share", "P(存活) 与真实活跃比例对比"))
    ax.legend(fontsize=8, loc="upper left")
    return ax
