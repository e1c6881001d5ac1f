"""``analyse_month``: the channel attribution of a report month, the one place that reads the data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from omni.attribution.comparison import channel_ranks, model_disagreement, share_change
from omni.attribution.figures import month_figures
from omni.attribution.markov import MarkovAttribution
from omni.attribution.month import (
    MonthAttribution,
    active_campaigns,
    attribute_month,
    has_conversions,
    month_attribution,
)
from omni.attribution.result import AttributionResult
from omni.attribution.roi import roi_summary
from omni.attribution.stats import (
    conversion_channel_summary,
    journey_stats,
    length_distribution,
    time_to_convert_distribution,
    top_paths,
)
from omni.attribution.truth import cause_visibility, month_true_shares, touch_shares
from omni.attribution.uncertainty import bootstrap_shares
from omni.core.month import Month
from omni.workspace import Workspace

__all__ = ["analyse_month"]

#: Touch paths listed in the report, and online paths before a store purchase.
TOP_PATHS, STORE_PATHS = 15, 8
#: Journeys of this many touches or more share the last bar of the length chart.
MAX_TOUCHES = 8


def analyse_month(
    workspace: Workspace,
    month: str | Month | None = None,
    *,
    lookback_days: float = 30,
    include_impressions: bool = True,
    channel_map: Mapping[str, str] | None = None,
    half_life_days: float = 7.0,
    markov_order: int = 1,
    n_boot: int = 200,
    target_roas: float = 1.0,
    headline_model: str = "markov",
    seed: int = 7,
) -> AttributionResult:
    """Attribute the paid orders of ``month`` to the marketing channels, with every model.

    The previous month is attributed too, restated on this month's OneIDs (the resolution as of
    this month), so that both months rest on the same identity graph.

    Parameters
    ----------
    workspace : Workspace
        The dataset (``omni.open``).
    month : str or Month, optional
        ``YYYY-MM``; default the last complete month in the data.
    lookback_days : float
        Touches up to this many days before an order count for it.
    include_impressions : bool
        Count ad impressions (view-through) as touches, not only clicks, sends and opens.
    channel_map : mapping, optional
        Grouping of touch channels, e.g. ``{"sms": "crm", "email": "crm"}``.
    half_life_days : float
        Time-decay model: a touch this many days before the order counts half.
    markov_order : int
        Markov chain order (states are the last k channels).
    n_boot : int
        Bootstrap replicates of the share intervals.
    target_roas : float
        ROAS a channel must reach to pay back (1: revenue equals spend).
    headline_model : str
        Model behind the headline channel figures.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    AttributionResult

    Raises
    ------
    ValueError
        No paid order in the month, or bad settings.
    """
    month = Month.parse(month or workspace.last_complete_month())
    settings = {"lookback_days": lookback_days, "include_impressions": include_impressions,
                "channel_map": dict(channel_map) if channel_map else None, "half_life_days": half_life_days,
                "markov_order": markov_order, "n_boot": n_boot, "target_roas": target_roas,
                "headline_model": headline_model, "seed": seed}
    r = workspace.resolve(as_of=str(month))
    tp, orders = r["touchpoints"], r["orders"]
    spend = workspace.source("channel_spend")
    model_settings = {k: settings[k] for k in ("lookback_days", "include_impressions", "channel_map",
                                               "half_life_days", "markov_order")}
    currency = workspace.spec.currency or ""
    # through the workspace: in the report, the marketing mix reads this month's attribution
    cur = _month_result(month_attribution(workspace, month, **model_settings), month, settings, currency)
    if has_conversions(orders, month.previous):
        prev = attribute_month(tp, orders, spend, month.previous, **model_settings)
        cur.previous = _month_result(prev, month.previous, settings, currency)
        cur.tables["share_change"] = share_change(cur.attribution.table, prev.table, headline_model)
    _describe(cur, r.read("events", ["oneid", "event_time"]))  # not the whole table, not kept
    cur.tables["campaigns"] = active_campaigns(workspace.source("campaigns"), month, tp)
    if workspace.has_truth():
        _check_truth(cur, workspace.truth("orders_cause"), tp)
    return cur


def _month_result(m: MonthAttribution, month: Month, settings: dict[str, Any], currency: str) -> AttributionResult:
    """The figures and model comparison of one attributed month."""
    tables = {"attribution": m.table, "roi": m.roi, "disagreement": model_disagreement(m.table),
              "roi_summary": roi_summary(m.roi, settings["target_roas"]), "ranks": channel_ranks(m.table)}
    return AttributionResult(month=month, settings=dict(settings), tables=tables, attribution=m,
                             month_figures=month_figures(m, settings["headline_model"]),
                             stats=journey_stats(m.journeys), currency=currency)


def _describe(res: AttributionResult, events: pd.DataFrame) -> None:
    """The report month's journey statistics, share intervals and Markov chain."""
    j, s = res.journeys, res.settings
    res.tables.update({
        "lengths": length_distribution(j, max_touches=MAX_TOUCHES),
        "time_to_convert": time_to_convert_distribution(j),
        "top_paths": top_paths(j, n=TOP_PATHS),
        "conversion_channels": conversion_channel_summary(j, events),
        "store_paths": top_paths(j, n=STORE_PATHS, conversion_channel="store"),
        "bootstrap": bootstrap_shares(j, n_boot=s["n_boot"], seed=s["seed"], half_life_days=s["half_life_days"],
                                      markov_order=s["markov_order"]),
    })
    res.markov = MarkovAttribution(order=s["markov_order"]).fit(j)


def _check_truth(res: AttributionResult, causes: pd.DataFrame, touchpoints: pd.DataFrame) -> None:
    """The truth check of the report month (synthetic data)."""
    channel_map = res.settings["channel_map"]
    res.true_shares = month_true_shares(causes, res.journeys, channel_map)
    res.tables["truth"] = res.truth_check({"orders_cause": causes})
    res.tables["visibility"] = cause_visibility(causes, res.journeys, touchpoints, channel_map)
    res.tables["touch_shares"] = touch_shares(res.attribution.table)
