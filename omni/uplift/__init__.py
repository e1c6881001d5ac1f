"""Campaign uplift: outcomes per person, experiment checks, average effects (lift, CUPED,
regression adjustment), power, heterogeneous uplift (segments, uplift models, Qini) and
targeting value.

A month's report::

    import omni
    r = omni.uplift.analyse_month(omni.open("data/sample"), "2026-10")
    r.headline, r.campaigns[0].effects, r.compare(r.previous)

Building blocks::

    from omni import uplift
    out = uplift.campaign_outcomes(assignments, orders, campaigns, "C0001", covariates=cov)
    uplift.sample_ratio_check(out, uplift.planned_shares(campaigns, "C0001"))
    uplift.lift(out, "converted")
    uplift.cuped(out, "revenue", covariate="pre_revenue")
    uplift.adjusted_lift(out, uplift.capture_rate(ws, "C0001"))   # corrected for identity capture

Methods, formulas and references: docs/uplift.md.
"""

from __future__ import annotations

from omni.core.lazy import lazy_submodules
from omni.uplift.analysis import analyse_month
from omni.uplift.budget import best_share, budget_curve
from omni.uplift.campaign import CampaignAnalysis, analyse_campaign
from omni.uplift.capture import adjusted_lift, capture_rate
from omni.uplift.checks import (
    balance_check,
    contamination_check,
    planned_shares,
    sample_ratio_check,
)
from omni.uplift.effects import (
    complier_lift,
    cuped,
    cuped_adjust,
    cuped_theta,
    lift,
    regression_lift,
)
from omni.uplift.hte import (
    InteractionUplift,
    TwoModelUplift,
    coverage,
    heterogeneity_test,
    holdout_split,
    qini_area,
    qini_coefficient,
    qini_curve,
    targeting_value,
    uplift_by_decile,
    uplift_by_segment,
)
from omni.uplift.outcomes import campaign_outcomes, parse_arms
from omni.uplift.power import SampleSize, minimum_detectable_effect, required_sample_size
from omni.uplift.result import UpliftResult, UpliftTruth
from omni.uplift.selection import CampaignSelection, select_campaigns
from omni.uplift.simulate import SimulatedCampaign, simulate_campaign
from omni.uplift.validation import blp_test, calibration_test, refute, validate_cate

__all__ = [
    "CampaignAnalysis",
    "CampaignSelection",
    "InteractionUplift",
    "SampleSize",
    "SimulatedCampaign",
    "TwoModelUplift",
    "UpliftResult",
    "UpliftTruth",
    "adjusted_lift",
    "analyse_campaign",
    "analyse_month",
    "balance_check",
    "best_share",
    "blp_test",
    "budget_curve",
    "calibration_test",
    "campaign_outcomes",
    "capture_rate",
    "complier_lift",
    "contamination_check",
    "coverage",
    "cuped",
    "cuped_adjust",
    "cuped_theta",
    "heterogeneity_test",
    "holdout_split",
    "lift",
    "minimum_detectable_effect",
    "parse_arms",
    "planned_shares",
    "qini_area",
    "qini_coefficient",
    "qini_curve",
    "regression_lift",
    "required_sample_size",
    "refute",
    "sample_ratio_check",
    "select_campaigns",
    "simulate_campaign",
    "targeting_value",
    "uplift_by_decile",
    "uplift_by_segment",
    "validate_cate",
]


# the presentation modules load matplotlib: imported on first use (omni.<domain>.plots)
__getattr__ = lazy_submodules(__name__)
