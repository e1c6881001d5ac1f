"""Shared fixtures of the uplift tests: a simulated two-arm campaign and its analysis."""

from __future__ import annotations

import pytest

from omni import uplift as U
from omni.uplift import campaign as R

UPLIFT = {"champions": 0.0, "loyal": 0.01, "potential": 0.08, "at_risk": 0.05, "hibernating": 0.0}


@pytest.fixture(scope="module")
def sim():
    return U.simulate_campaign(12000, seed=3, arms=("coupon_a", "coupon_b"), control_share=0.3,
                               uplift=UPLIFT, arm_scale={"coupon_b": 1.5})


@pytest.fixture(scope="module")
def campaign_table(sim):
    return sim.campaigns.assign(arms="coupon_a|coupon_b", coupon_value="20|50")


@pytest.fixture(scope="module")
def analysis(sim, campaign_table):
    return R.analyse_campaign(
        sim.assignments, sim.orders, campaign_table, "C0001", covariates=sim.covariates,
        pre_days=90, segment_by=("rfm_segment", "channel_pref"), n_boot=100,
        model_features=("rfm_segment", "channel_pref", "log_pre_revenue"), model_min_n=200,
    )
