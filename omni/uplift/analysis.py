"""``analyse_month``: the campaigns that ended in a month, each analysed, and the previous period."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from omni.core.month import Month
from omni.uplift.campaign import CampaignAnalysis, analyse_campaign
from omni.uplift.capture import capture_rate
from omni.uplift.covariates import PROFILE_COVARIATES
from omni.uplift.result import UpliftResult
from omni.uplift.selection import select_campaigns
from omni.workspace import Workspace

__all__ = ["analyse_month"]

log = logging.getLogger(__name__)


def _analyse(ids: Sequence[str], tables: dict[str, Any], settings: dict[str, Any], workspace: Workspace,
             month: Month, **kw: Any) -> list[CampaignAnalysis]:
    return [analyse_campaign(tables["assignments"], tables["orders"], tables["campaigns"], cid,
                             profiles=tables["profiles"], workspace=workspace, resolution=month,
                             **{**settings, **kw}) for cid in ids]


def analyse_month(
    workspace: Workspace,
    month: str | Month | None = None,
    *,
    campaigns: Sequence[str] | str | None = None,
    seed: int = 7,
    pre_days: int = 365,
    margin: float = 0.4,
    segment_min_n: int = 100,
    n_boot: int = 200,
    test_share: float = 0.3,
) -> UpliftResult:
    """Campaign uplift of a month: every campaign that ended in it, analysed.

    Each campaign gets its design checks (sample ratio, balance, contamination), lifts with
    intervals, CUPED, power, uplift by segment, an uplift model with its Qini curve and the
    recommendation for next time (:func:`omni.uplift.campaign.analyse_campaign`). When no
    campaign ended in the month, the most recent one that had ended is reported instead. The
    previous month's campaigns are measured too, with this month's identity resolution and
    without uplift models, for the month-over-month comparison.

    Parameters
    ----------
    workspace : omni.workspace.Workspace
        The dataset (``omni.open(path)``).
    month : str or Month, optional
        Report month ``YYYY-MM``; the last complete month in the data when None.
    campaigns : sequence of str, optional
        Campaign ids to report instead of those that ended in the month.
    seed : int
        Seed of the held-out split and the bootstrap.
    pre_days : int
        Pre-period (days before the start) for CUPED and the balance check.
    margin : float
        Gross margin on incremental revenue, for profit.
    segment_min_n : int
        Segment lifts are estimated only where every arm has this many people.
    n_boot : int
        Bootstrap resamples for the interval of the Qini coefficient.
    test_share : float
        Share of each campaign held out to check the uplift model.

    Returns
    -------
    UpliftResult
    """
    m = Month.parse(month) if month else Month.parse(workspace.last_complete_month())
    res = workspace.resolve(as_of=str(m))
    tables = {"assignments": res["campaign_assignments"], "orders": res["orders"],
              "campaigns": workspace.source("campaigns"),
              # the covariates' columns only, not every profile column (about 3 GB at 5M persons)
              "profiles": res.read("profiles", [c for c in (res.columns("profiles") or [])
                                                if c in ("oneid", *PROFILE_COVARIATES)])}
    settings = {"pre_days": pre_days, "margin": margin, "segment_min_n": segment_min_n,
                "n_boot": n_boot, "test_share": test_share, "seed": seed}
    selection = select_campaigns(tables["campaigns"], m, campaigns)
    analysed = _analyse(selection.campaign_ids, tables, settings, workspace, m)
    log.info("uplift %s: %d campaign(s) analysed", m, len(analysed))

    prev_selection = select_campaigns(tables["campaigns"], m.previous)
    same = prev_selection.campaign_ids == selection.campaign_ids
    prev_campaigns = analysed if same else _analyse(prev_selection.campaign_ids, tables, settings,
                                                    workspace, m, uplift_model=False)
    captures = {}
    for an in analysed:  # what OneID captures of the assigned people's orders (issue #21)
        try:
            captures[an.campaign_id] = capture_rate(workspace, an.campaign_id, as_of=str(m),
                                                    pre_days=pre_days)
        except ValueError as exc:
            an.warnings.append(f"identity capture not estimated: {exc}")
    inputs = {k: v for k, v in tables.items() if k != "profiles" and v is not None}
    inputs["record_oneid"] = res.engine_table("record_oneid")  # a file when cached: never loaded whole
    previous = UpliftResult(month=m.previous, settings=settings, selection=prev_selection,
                            campaigns=prev_campaigns)
    return UpliftResult(month=m, settings={"campaigns": campaigns, **settings},
                        selection=selection, campaigns=analysed, previous=previous,
                        inputs=inputs, captures=captures)
