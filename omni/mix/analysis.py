"""``analyse_month``: the marketing mix up to a report month, the one place that reads the data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omni.core.month import Month
from omni.io.dataset import load_source
from omni.mix.adstock import geometric_adstock
from omni.mix.experiments import measure_lifts
from omni.mix.inputs import MixPanel, build_panel, check_spend, file_rows
from omni.mix.model import MarketingMixModel
from omni.mix.optimise import allocate, plan_response
from omni.mix.result import MixResult
from omni.mix.triangulate import calibrated_paths, triangulate
from omni.workspace import Workspace

__all__ = ["analyse_month", "mix_workspace"]

#: Budget multiples of the response curves' points.
CURVE_POINTS = np.linspace(0.0, 3.0, 31)


def mix_workspace(workspace: Workspace, mix_data: str | Path | None = None) -> Workspace:
    """The dataset holding the mix's sources: ``mix_data``, the workspace itself when it has
    ``media_spend``, else ``<dataset>/mix``."""
    if mix_data is None and "media_spend" in workspace.spec.sources:
        return workspace
    path = Path(mix_data) if mix_data is not None else workspace.path / "mix"
    if not (path / "raw" / "sources.yaml").exists():
        raise ValueError(f"no marketing mix data at {path} (raw/sources.yaml with media_spend, "
                         f"regional_sales and geo_experiments: docs/data_contract.md)")
    return Workspace(path)  # not open_workspace: OMNI_DATA names the person-level dataset


def analyse_month(
    workspace: Workspace,
    month: str | Month | None = None,
    *,
    mix_data: str | Path | None = None,
    calibrate: bool = True,
    fourier: int = 3,
    n_draws: int = 200,
    level: float = 0.9,
    plan_weeks: int = 52,
    low: float = 0.5,
    high: float = 2.0,
    path_models: bool = True,
    lookback_days: float = 30,
    seed: int = 7,
) -> MixResult:
    """Fit the marketing mix on the data up to the end of ``month`` and read it every way.

    Parameters
    ----------
    workspace : Workspace
        The dataset (``omni.open``); its mix sources are in ``<dataset>/mix`` unless it holds
        them itself or ``mix_data`` says where.
    month : str or Month, optional
        ``YYYY-MM``; default the last complete month of the person-level data (of the sales, for
        a mix-only dataset).
    mix_data : str or Path, optional
        Folder of the mix dataset.
    calibrate : bool
        Let the lift experiments enter the fit.
    fourier : int
        Yearly Fourier pairs of the baseline.
    n_draws : int
        Posterior draws behind the intervals.
    level : float
        Interval level.
    plan_weeks : int
        The optimiser plans the last this many weeks' budget again.
    low, high : float
        Bounds of each channel's budget, as multiples of its current budget.
    path_models : bool
        Attribute the month's orders with the path models (notebook 04's) for the triangulation.
    lookback_days : float
        Their lookback window.
    seed : int
        Seed of the posterior draws.

    Returns
    -------
    MixResult
    """
    settings = {"calibrate": calibrate, "fourier": fourier, "n_draws": n_draws, "level": level,
                "plan_weeks": plan_weeks, "low": low, "high": high, "path_models": path_models,
                "lookback_days": lookback_days, "seed": seed}
    mws = mix_workspace(workspace, mix_data)
    loaded = {n: load_source(mws.spec, n) for n in ("media_spend", "regional_sales", "geo_experiments")
              if n in mws.spec.sources}
    if "media_spend" not in loaded or "regional_sales" not in loaded:
        raise ValueError(f"{mws.path}: the mix needs the sources media_spend and regional_sales")
    sales = loaded["regional_sales"].table
    if month is None:
        if mws is workspace:
            last = pd.to_datetime(sales["date"]).max()
            month = Month.parse(f"{last:%Y-%m}") if (last + pd.Timedelta(days=1)).day == 1 \
                else Month.parse(f"{last:%Y-%m}").previous
        else:
            month = workspace.last_complete_month()
    month = Month.parse(month)
    end = pd.Timestamp(month.end)
    sales = sales[pd.to_datetime(sales["date"]) < end]
    ms = loaded["media_spend"]
    spend, quarantine = check_spend(ms.table, sales, file_rows(ms.table, ms.quarantine, ms.rows_in),
                                    file=ms.spec.file if hasattr(ms.spec, "file") else "media_spend")
    quarantine = pd.concat([ms.quarantine, loaded["regional_sales"].quarantine, quarantine],
                           ignore_index=True)
    panel = build_panel(sales, spend)
    experiments = loaded["geo_experiments"].table if "geo_experiments" in loaded else None
    lifts = measure_lifts(experiments, panel) if experiments is not None else None
    model = MarketingMixModel(fourier=fourier, n_draws=n_draws, seed=seed).fit(
        panel, experiments if calibrate else None, lifts if calibrate else None)
    n_days = len(panel.dates)
    plan_days = slice(max(n_days - 7 * plan_weeks, 0), n_days)
    in_month = slice(int(panel.day_index(pd.Series([month.start]))[0]), n_days)
    tables: dict[str, pd.DataFrame] = {
        "channels": model.channel_totals(panel, plan_days, level),
        "month_channels": model.channel_totals(panel, in_month, level),
        "span_channels": model.channel_totals(panel, None, level),
        "decomposition": _decomposition(model, panel),
        "lifts": model.lifts_ if model.lifts_ is not None else (lifts if lifts is not None else pd.DataFrame()),
        "quarantine": quarantine,
        "counts": pd.DataFrame({
            "source": [n for n in loaded], "rows_in": [v.rows_in for v in loaded.values()],
            "accepted": [v.accepted for v in loaded.values()],
            "quarantined": [int((quarantine["source"] == n).sum()) for n in loaded]}),
    }
    tables["counts"].loc[tables["counts"]["source"] == "media_spend", "accepted"] = len(spend)
    tables["curves"] = _curves(model, panel, plan_days, level)
    tables["plan"], plan_gain = _plan(model, panel, plan_days, low, high, level)
    paths = _path_shares(workspace, month, lookback_days) if path_models and mws is not workspace else None
    tables["triangulation"] = triangulate(tables["channels"], model.lifts_, paths)
    if paths is not None:
        tables["path_shares"] = paths
        tables["calibrated_paths"] = _calibrated(paths, tables["triangulation"], tables["month_channels"],
                                                 panel, in_month)
    res = MixResult(month=month, settings=settings, tables=tables, model=model,
                    currency=mws.spec.currency or "", plan_gain=plan_gain,
                    fit_seconds=float(getattr(model, "fit_seconds_", np.nan)),
                    media_share=float(tables["channels"]["orders"].sum() / panel.orders[plan_days].sum()))
    truth = _read_truth(mws.path)
    if truth is not None:
        res.tables["truth"] = res.truth_check({"mix_params": truth, "panel": panel, "plan_days": plan_days})
        res.truth_summary = res.truth_summary_of(truth, panel, plan_days)
    return res


def _decomposition(model: MarketingMixModel, panel: MixPanel) -> pd.DataFrame:
    """National weekly orders: the baseline and each channel's incremental orders."""
    week = np.arange(len(panel.dates)) // 7
    contrib = model.contributions_.sum(axis=1)  # T x C
    frame = pd.DataFrame(contrib, columns=model.channels_)
    frame.insert(0, "baseline", model.baseline_.sum(axis=1))
    frame["observed"] = panel.orders.sum(axis=1)
    out = frame.groupby(week).sum()
    out.insert(0, "week_start", pd.to_datetime(panel.dates[::7][: len(out)]))
    return out.reset_index(drop=True)


def _curves(model: MarketingMixModel, panel: MixPanel, days: slice, level: float) -> pd.DataFrame:
    """Each channel's revenue over the plan period against budget multiples, with intervals."""
    spend = panel.spend[days].sum(axis=(0, 1))
    point = model.responses(panel, days)
    n = min(model.n_draws, 100)
    sims = np.array([[f(CURVE_POINTS * spend[c]) for c, f in enumerate(model.responses(panel, days, draw=i))]
                     for i in range(n)])  # n x C x P
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    rows = []
    for c, ch in enumerate(model.channels_):
        lo, hi = np.percentile(sims[:, c, :], q, axis=0)
        rows.append(pd.DataFrame({"channel": ch, "multiple": CURVE_POINTS, "spend": CURVE_POINTS * spend[c],
                                  "revenue": point[c](CURVE_POINTS * spend[c]), "revenue_lo": lo,
                                  "revenue_hi": hi}))
    return pd.concat(rows, ignore_index=True)


def _plan(model: MarketingMixModel, panel: MixPanel, days: slice, low: float, high: float,
          level: float) -> tuple[pd.DataFrame, dict[str, float]]:
    """The optimiser's plan for the plan period and its expected gain with an interval."""
    spend = panel.spend[days].sum(axis=(0, 1))
    point = model.responses(panel, days)
    plan = allocate(lambda c, b: point[c](b), spend, model.channels_, low, high)
    rec = plan["recommended"].to_numpy()
    gains = []
    for i in range(min(model.n_draws, 100)):
        fs = model.responses(panel, days, draw=i)
        gains.append(sum(float(f(rec[c:c + 1])[0] - f(spend[c:c + 1])[0]) for c, f in enumerate(fs)))
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    lo, hi = np.percentile(gains, q)
    base = float(plan["response_current"].sum())
    gain = float(plan["response_recommended"].sum()) - base
    return plan, {"gain": gain, "gain_lo": float(lo), "gain_hi": float(hi), "current": base,
                  "relative": gain / base if base > 0 else np.nan}


def _path_shares(workspace: Workspace, month: Month, lookback_days: float) -> pd.DataFrame | None:
    """Each path model's share of the month's marketing-credited conversions, per channel."""
    from omni.attribution.month import month_attribution

    if workspace.source("channel_spend") is None:
        return None
    try:  # channel attribution's, when the report's 04 attributed the month already
        a = month_attribution(workspace, month, lookback_days=lookback_days, include_impressions=True)
    except ValueError:
        return None
    t = a.table[a.table["channel"] != "direct"].copy()
    t["share"] = t["conversions"] / t.groupby("model")["conversions"].transform("sum")
    t["all_conversions"] = a.journeys.n_conversions
    return t[["model", "channel", "conversions", "share", "all_conversions"]].reset_index(drop=True)


def _calibrated(paths: pd.DataFrame, tri: pd.DataFrame, month_channels: pd.DataFrame, panel: MixPanel,
                in_month: slice) -> pd.DataFrame:
    """Markov credit of the month per channel, scaled to the MMM: the month's conversions times the
    MMM's media-caused share of orders times the channel's MMM share."""
    mk = paths[paths["model"] == "markov"]
    credit = pd.DataFrame({"channel": mk["channel"], "unit": "all", "credit": mk["conversions"]})
    media = float(month_channels["orders"].sum() / max(panel.orders[in_month].sum(), 1))
    n_conv = float(paths["all_conversions"].iloc[0]) if len(paths) else 0.0
    target = month_channels["share"] * media * n_conv
    return calibrated_paths(credit, target)


def _read_truth(path: Path) -> dict[str, Any] | None:
    p = path / "truth" / "mix_params.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else None


def true_responses(truth: dict[str, Any], panel: MixPanel, days: slice) -> list:
    """The world's true response of each channel over ``days`` against its budget there."""
    size = np.array([truth["region_size"][r] for r in panel.regions])
    out = []
    for c in panel.channels:
        cv = truth["curves"][c]
        k = panel.channels.index(c)
        a = geometric_adstock(panel.spend[:, :, k], cv["decay"])[days]
        out.append(plan_response(a, size, panel.aov[days], cv["beta"], cv["half_saturation"], cv["slope"],
                                 float(panel.spend[days, :, k].sum())))
    return out
