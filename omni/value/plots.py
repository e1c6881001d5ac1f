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

from omni.reporting.plots import axes_or_new, interval_bars, log_scale, percent_heatmap
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
    a1.set_xlabel("days since the last purchase (R)")
    a1.set_ylabel("customers")
    a1.set_title("Recency")
    fc = s["n_orders"].clip(upper=10).value_counts().sort_index()
    a2.bar(fc.index, fc.to_numpy() / len(s) * 100, color=_BLUE)
    a2.set_xticks(fc.index, [str(int(i)) if i < 10 else "10+" for i in fc.index])
    a2.set_xlabel("paid orders per customer (F)")
    a2.set_ylabel("share of customers (%)")
    a2.set_title("Frequency")
    mpos = s["revenue"][s["revenue"] > 0]
    a3.hist(mpos, bins=np.logspace(np.log10(max(mpos.min(), 1.0)), np.log10(mpos.max()), 40), color=_BLUE)
    log_scale(a3, "x")
    a3.set_xlabel(f"total spend per customer (M, {cur}, log scale)")
    a3.set_ylabel("customers")
    a3.set_title("Monetary value")
    fig.suptitle(f"RFM distribution of {len(s):,} customers at the end of {result.month}", fontweight="bold")
    fig.tight_layout()
    return fig


def plot_segment_shares(result: ValueResult, ax: Any = None) -> Any:
    """Share of customers, revenue to date and predicted value per RFM class (grouped bars)."""
    st = result.tables["segments"]
    ax = axes_or_new(ax, (10, 4))
    x = np.arange(len(st))
    bars = [("customer_share", "customers", _GREY), ("revenue_share", "revenue to date", _BLUE),
            ("clv_share", f"predicted {result.current.settings['clv_months']}-month value", _ORANGE)]
    for k, (col, lab, colr) in enumerate(bars):
        ax.bar(x + (k - 1) * 0.27, st[col].astype(float).fillna(0) * 100, width=0.27, label=lab, color=colr)
    ax.set_xticks(x, st["segment_en"], rotation=25, ha="right")
    ax.set_xlabel("RFM class")
    ax.set_ylabel("share of all customers (%)")
    ax.set_title("RFM classes: share of customers, revenue and predicted value")
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
    ax.bar(xx, ht["actual"].astype(float), color=_GREY, label="actual")
    fitted = [m for m in ("bgnbd", "paretonbd") if f"predicted_{m}" in ht.columns]
    for m, mk in zip(fitted, ("o", "s"), strict=False):
        ax.plot(xx, ht[f"predicted_{m}"].astype(float), marker=mk, lw=1.5,
                label=MODEL_LABELS[m] + (" (chosen)" if m == chk.model_ else ""))
    ax.set_xticks(xx, ht["frequency_cal"])
    ax.set_xlabel("repeat purchase days in the calibration period")
    ax.set_ylabel("mean purchases in the holdout per customer")
    ax.set_title(f"Holdout check: {result.current.settings['holdout_weeks']} weeks after "
                 f"{result.current.calibration_end:%Y-%m-%d}, actual vs predicted")
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
    a1.set_xlabel(f"{months}-month CLV per customer ({cur}, log scale)")
    a1.set_ylabel("customers")
    a1.set_title("CLV distribution (dashed: lower edge of each tier)")
    conc_clv, conc_rev = result.tables["concentration_clv"], result.tables["concentration_revenue"]
    a2.plot(conc_clv["customer_share"] * 100, conc_clv["value_share"] * 100, label=f"predicted {months}-month value",
            color=_ORANGE)
    a2.plot(conc_rev["customer_share"] * 100, conc_rev["value_share"] * 100, label="revenue to date", color=_BLUE)
    a2.plot([0, 100], [0, 100], color="#999", lw=0.8, ls=":", label="equal shares")
    a2.axvline(top * 100, color=_RED, ls="--", lw=0.8)
    share = result.month_figures["top_share"]
    a2.annotate(f"top {top:.0%}: {share:.0%}", (top * 100, share * 100), xytext=(8, -14),
                textcoords="offset points", fontsize=8, color=_RED)
    a2.set_xlabel("customers, highest value first (%)")
    a2.set_ylabel("cumulative share of the value (%)")
    a2.set_title("Value concentration")
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
    no = ~d["bought"].to_numpy()
    ax.scatter(d["then"][no], d["now"][no], s=6, alpha=0.35, color=_RED, label=f"no purchase in {month}")
    ax.scatter(d["then"][~no], d["now"][~no], s=6, alpha=0.5, color=_BLUE, label=f"bought in {month}")
    ax.plot([0, 1], [0, 1], color="black", lw=0.8)
    ax.plot([drop, 1], [0, 1 - drop], color="#999", lw=0.8, ls="--", label=f"{drop * 100:.0f} points lower")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"P(alive) at the end of {prev}")
    ax.set_ylabel(f"P(alive) at the end of {month}")
    ax.set_title(f"Tier-{result.top_tier} customers of {prev}: P(alive) then and now")
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
        ax.text(np.log2(lo / 100.0) * 0.95, yy, "suppressed (few people)", va="center", fontsize=7, color="#57606a")
    ticks = [tk for tk in (10, 25, 50, 100, 200, 400, 800, 1600) if lo <= tk <= hi]
    ax.set_xlim(np.log2(lo / 100.0), np.log2(hi / 100.0))
    ax.set_xticks(np.log2(np.array(ticks) / 100.0), [str(tk) for tk in ticks])
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("TGI (100 = as common as in the base; log scale)", fontsize=8)


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
        _tgi_panel(ax, t[t["attribute"] == a], labels.get(a, a), highlight, lo, hi)
    for ax in list(axes.flat)[len(attrs):]:
        ax.axis("off")
    handles = [Patch(color="#08519c", label=f"over-represented, TGI >= {highlight:g}"),
               Patch(color="#6baed6", label="over-represented"), Patch(color=_RED, label="under-represented"),
               Patch(color="#b0b0b0", label="not significant (95% interval spans 100)")]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def plot_tgi_top(result: ValueResult) -> Any:
    """TGI of the top value tier against all customers."""
    return plot_tgi(result.tables["tgi_top"],
                    f"Tier-{result.top_tier} customers against all customers, TGI with 95% intervals",
                    highlight=result.settings["tgi_highlight"])


def plot_tgi_panel(result: ValueResult) -> Any:
    """TGI of all customers against the market panel (None without a panel)."""
    t = result.tables.get("tgi_panel")
    if t is None:
        return None
    return plot_tgi(t, "All customers against the market panel, TGI with 95% intervals",
                    highlight=result.settings["tgi_highlight"])


def plot_migration(result: ValueResult, ax: Any = None) -> Any:
    """Where last month's customers are now: % of each row's class (None without a previous month)."""
    mig = result.tables.get("migration")
    if mig is None:
        return None
    ax = percent_heatmap(migration_shares(mig), ax=ax, fontsize=8,
                         title="Where last month's customers are now (% of the row; cells under 10 customers blank)",
                         xlabel=f"RFM class at the end of {result.month}",
                         ylabel=f"RFM class at the end of {result.previous_month}",
                         colorbar_label="% of the row's customers")
    ax.figure.tight_layout()
    return ax


def plot_truth_calibration(result: ValueResult, ax: Any = None) -> Any:
    """P(alive) against the share of customers truly still active (None without truth)."""
    cal = result.tables.get("truth_calibration")
    if cal is None:
        return None
    rb, ot = cal[cal["group"] != "one-time buyers"], cal[cal["group"] == "one-time buyers"]
    ax = axes_or_new(ax, (6, 4.5))
    ax.plot([0, 100], [0, 100], color="#999", lw=0.8, ls=":", label="perfect calibration")
    ax.plot(rb["mean_p_alive"] * 100, rb["alive_share"] * 100, marker="o", color=_BLUE,
            label="repeat buyers, tenths by P(alive)")
    if len(ot):
        ax.scatter(ot["mean_p_alive"] * 100, ot["alive_share"] * 100, marker="s", s=50, color=_ORANGE, zorder=3,
                   label="one-time buyers")
    ax.set_xlim(0, 102)
    ax.set_ylim(0, 102)
    ax.set_xlabel("mean predicted P(alive) (%)")
    ax.set_ylabel("customers whose person is truly still active (%)")
    ax.set_title("P(alive) against the true active share")
    ax.legend(fontsize=8, loc="upper left")
    return ax
