"""``analyse_month``: customer value at a month end, the month before, TGI profiles and checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from omni.core.month import Month
from omni.value.churn import churn_watchlist, tier_then_and_now
from omni.value.customer import CustomerValue, customer_value, restate
from omni.value.movement import month_figures, segment_migration
from omni.value.result import ValueResult
from omni.value.tables import (
    holdout_table,
    model_parameters,
    model_scores,
    segment_table,
    tier_table,
    top_share,
    value_concentration,
)
from omni.value.tgi import TGI_ATTRIBUTES, panel_tgi, profile_attributes, tier_tgi
from omni.value.truth import PERSON_COLUMNS, truth_check
from omni.workspace import Workspace

__all__ = ["analyse_month"]


def _previous(ws: Workspace, month: Month, cur: CustomerValue, settings: dict) -> tuple[CustomerValue | None, str]:
    """Customer value at the previous month end with this month's OneIDs and model (no check)."""
    try:
        prev = customer_value(ws, month.previous, resolution=month, **{**settings, "model": cur.model.model_,
                                                                        "check": False})
    except ValueError as exc:  # no (or too few) purchases up to the previous month end
        return None, str(exc)
    return prev, ""


def _truth_persons(ws: Workspace) -> pd.DataFrame:
    """The truth's persons with only the columns the truth check reads (the table has 35)."""
    path = ws.truth_path("persons")
    have = set(pq.read_schema(path).names)
    return pd.read_parquet(path, columns=[c for c in PERSON_COLUMNS if c in have])


def _value_tables(r: ValueResult, n_boot: int, seed: int) -> None:
    cur = r.current
    r.tables["segments"] = segment_table(cur, n_boot=n_boot, seed=seed)
    r.tables["tiers"] = tier_table(cur)
    r.tables["parameters"] = model_parameters(cur.model)
    if cur.check is not None:
        r.tables["holdout"] = holdout_table(cur.check)
        r.tables["scores"] = model_scores(cur.check)
    r.tables["concentration_clv"] = value_concentration(cur.predictions[cur.clv_col])
    r.tables["concentration_revenue"] = value_concentration(cur.summary["revenue"])


#: The profile columns the value report reads: the watch list's and the TGI attributes.
PROFILE_COLUMNS = ("oneid", "channel_pref", "marketing_opt_out", *TGI_ATTRIBUTES)


def _previous_tables(r: ValueResult, profiles, churn_min_drop: float, churn_list_size: int) -> None:
    cur, prev = r.current, r.previous
    r.previous_figures = month_figures(prev, top=r.top_share)
    r.previous_restated = restate(cur, prev)
    r.tables["watchlist"], r.watch_figures = churn_watchlist(
        cur, r.previous_restated, profiles, tier=r.top_tier, min_drop=churn_min_drop, n=min(churn_list_size, 20))
    r.tables["churn_points"] = tier_then_and_now(cur, r.previous_restated, r.top_tier)
    r.tables["previous_parameters"] = model_parameters(prev.model)
    r.tables["migration"] = segment_migration(prev.segments, cur.segments)


def analyse_month(
    workspace: Workspace,
    month: Month | str | None = None,
    *,
    seed: int = 7,
    purchase_model: Literal["auto", "bgnbd", "paretonbd"] = "auto",
    holdout_weeks: int = 26,
    clv_months: int = 12,
    discount_rate_annual: float = 0.10,
    tier_shares: Sequence[float] = (0.10, 0.20, 0.30),
    rfm_threshold: Literal["mean", "median"] = "mean",
    include_anonymous: bool = False,
    churn_min_drop: float = 0.05,
    churn_list_size: int = 20,
    tgi_min_count: int = 30,
    tgi_highlight: float = 120,
    n_boot: int = 200,
) -> ValueResult:
    """Customer value at the end of ``month``: RFM, the checked CLV model, churn risk, TGI, truth.

    Parameters
    ----------
    workspace : Workspace
        The dataset (``omni.open``).
    month : Month or str, optional
        ``YYYY-MM``; default the last complete month in the data.
    seed : int
        Seed of the bootstrap intervals of the mean CLV per RFM class.
    purchase_model : {"auto", "bgnbd", "paretonbd"}
        ``"auto"``: whichever predicts the holdout better.
    holdout_weeks : int
        Model check: fit on purchases up to this many weeks before the month end, predict the rest.
    clv_months : int
        CLV horizon in months.
    discount_rate_annual : float
        Annual discount rate of the CLV.
    tier_shares : sequence of float
        Shares of value tiers A, B, C by CLV rank (the last tier: the rest).
    rfm_threshold : {"mean", "median"}
        8-class scheme: R, F and M compared with their mean or median.
    include_anonymous : bool
        Count anonymous orders (a OneID of their own) as customers.
    churn_min_drop : float
        Watch list: P(alive) down by at least this much since the previous month end.
    churn_list_size : int
        Rows in the watch list (at most 20).
    tgi_min_count : int
        TGI cells with fewer people in the segment are suppressed.
    tgi_highlight : float
        Traits significantly over-represented with at least this TGI are called out.
    n_boot : int
        Bootstrap replicates for the intervals of the mean CLV per RFM class.

    Returns
    -------
    ValueResult
    """
    month = Month.parse(month or workspace.last_complete_month())
    settings = {"include_anonymous": include_anonymous, "model": purchase_model, "holdout_weeks": holdout_weeks,
                "clv_months": clv_months, "discount_rate_annual": discount_rate_annual,
                "tier_shares": tuple(tier_shares), "rfm_threshold": rfm_threshold}
    res = workspace.resolve(as_of=str(month))
    cur = customer_value(workspace, month, resolution=month, **settings)
    r = ValueResult(month=month, current=cur, currency=workspace.spec.currency or "", record_oneid=res.engine_table("record_oneid"),
                    top_tier=str(cur.predictions["value_tier"].cat.categories[0]),
                    settings={**settings, "seed": seed, "churn_min_drop": churn_min_drop,
                              "churn_list_size": churn_list_size, "tgi_min_count": tgi_min_count,
                              "tgi_highlight": tgi_highlight, "n_boot": n_boot},
                    watch_figures={"falling": np.nan, "high_value": np.nan})
    r.month_figures = month_figures(cur, top=r.top_share)
    r.revenue_top_share = top_share(cur.summary["revenue"], r.top_share)
    _value_tables(r, n_boot, seed)
    r.previous, r.previous_error = _previous(workspace, month, cur, settings)
    # only the columns read (the watch list's and TGI's), not every profile column held for the
    # workspace's life (at 5M persons the profiles are about 3 GB)
    profiles = res.read("profiles", [c for c in (res.columns("profiles") or []) if c in PROFILE_COLUMNS])
    if r.previous is not None:
        _previous_tables(r, profiles, churn_min_drop, churn_list_size)
    r.attributes = profile_attributes(profiles, cur.customers)
    del profiles
    r.tables["tgi_top"] = tier_tgi(r.attributes, cur.predictions["value_tier"], tier=r.top_tier,
                                   min_count=tgi_min_count)
    panel = workspace.source("market_panel")
    if panel is not None:
        r.tables["tgi_panel"] = panel_tgi(r.attributes, panel, min_count=tgi_min_count)
    if workspace.has_truth():
        r.tables["truth_calibration"], r.truth_figures = truth_check(
            cur, res.engine_table("record_oneid"), workspace.truth_path("record_person"), _truth_persons(workspace))
    return r
