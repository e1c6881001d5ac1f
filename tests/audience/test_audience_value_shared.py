"""Customer value is computed once per workspace, date and settings, and shared by value, uplift and
audiences (issue #15), on the small test world."""

from __future__ import annotations

import pandas as pd
import pytest

from omni.audience import AudienceFeatures
from omni.audience.definitions import AudienceSettings
from omni.uplift.covariates import VALUE_SETTINGS, pre_period_covariates
from omni.value import customer_rfm, customer_value
from omni.workspace import Workspace

MONTH = "2026-10"
START = "2026-10-01"  # campaign CMP05 of the test world starts on the first day of the month


@pytest.fixture()
def fits(clv_fits) -> list[str]:
    return clv_fits


@pytest.fixture(scope="module")
def resolved(test_world):
    ws = Workspace(test_world)
    return ws, ws.resolve(as_of=MONTH)


def test_uplift_and_audiences_at_one_date_share_one_fit(test_world, resolved, fits) -> None:
    ws = Workspace(test_world)  # a fresh memo
    res = resolved[1]
    a = res["campaign_assignments"]
    people = pd.unique(a.loc[a["campaign_id"].astype(str) == "CMP05", "oneid"].astype(str))
    cov = pre_period_covariates(ws, START, people, resolution=MONTH, profiles=res.profiles)
    assert fits == ["bgnbd"]
    cv = customer_value(ws, START, resolution=MONTH, **VALUE_SETTINGS)
    assert fits == ["bgnbd"]  # the memoized object, not a second fit
    assert customer_value(ws, START, resolution=MONTH, **VALUE_SETTINGS) is cv
    assert cv.as_of == pd.Timestamp(START) and cv.orders["order_time"].max() < pd.Timestamp(START)
    # the covariates are the memoized value's numbers
    got = cov.set_index("oneid")
    buyers = got.index[got["rfm_segment"] != "no purchase"]
    assert 0 < len(buyers) < len(got)
    tiers = cv.predictions["value_tier"].astype(str)
    tiers.index = tiers.index.astype(str)
    assert (got.loc[buyers, "clv_tier"] == tiers.reindex(buyers)).all()
    assert set(got.loc[got.index.difference(buyers), "clv_tier"]) == {"no purchase"}

    # audiences at the campaign start with the same settings read the same object
    same = AudienceSettings(clv_model="bgnbd", holdout_weeks=0, include_anonymous=True)
    feats = AudienceFeatures(res.profiles, START, orders=res["orders"], workspace=ws, month=MONTH,
                             settings=same)
    assert feats.customer_value("clv") is cv.predictions
    assert feats.customer_value("rfm") is cv.segments
    churn = feats.clv().set_index(feats.people)["churn_risk"].dropna()
    assert churn.to_numpy() == pytest.approx(
        cv.predictions["churn_risk"].set_axis(cv.predictions.index.astype(str)).reindex(churn.index).to_numpy())
    assert fits == ["bgnbd"]
    # a second campaign analysis of the same start (this month's and the previous month's report)
    again = pre_period_covariates(ws, START, people, resolution=MONTH, profiles=res.profiles)
    pd.testing.assert_frame_equal(again, cov)
    assert fits == ["bgnbd"]


def test_rfm_only_audiences_fit_no_model_and_month_end_audiences_share_the_value_report(
        test_world, resolved, fits) -> None:
    ws = Workspace(test_world)
    res = resolved[1]
    feats = AudienceFeatures.from_resolved(res, MONTH, workspace=ws)
    zh, en = feats.rfm_class()
    assert fits == []  # RFM classes need no purchase model
    rfm = customer_rfm(ws, MONTH, resolution=MONTH)
    assert feats.customer_value("rfm") is rfm.segments
    assert (en != None).sum() == len(rfm.segments) > 0  # noqa: E711 (object array)
    feats.clv()
    n = len(fits)
    assert n >= 2  # the holdout check's model(s) and the final fit
    # the value report's call (default settings at the month end) is the same object: no new fit
    cv = customer_value(ws, MONTH, resolution=MONTH)
    assert len(fits) == n and feats.customer_value("clv") is cv.predictions
    assert cv.segments is rfm.segments and cv.summary is rfm.summary
