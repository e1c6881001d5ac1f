"""campaign_outcomes: windows, statuses, pre-period, duplicates and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omni.uplift import campaign_outcomes, parse_arms, simulate_campaign


@pytest.fixture()
def tiny():
    campaigns = pd.DataFrame(
        {
            "campaign_id": ["C1", "C2"],
            "name": ["spring", "other"],
            "channel": ["sms", "email"],
            "start_date": ["2026-03-01", "2026-05-01"],
            "end_date": ["2026-03-14", "2026-05-10"],
            "arms": ["control|sms", "control|email"],
            "control_share": [0.5, 0.5],
            "cost_per_contact": [0.3, 0.1],
            "coupon_value": [20.0, 0.0],
        }
    )
    assignments = pd.DataFrame(
        {
            "campaign_id": ["C1", "C1", "C1", "C2"],
            "assignment_key": ["a:1", "a:2", "a:3", "a:4"],
            "oneid": ["O000000001", "O000000002", "O000000003", "O000000001"],
            "arm": ["sms", "control", "sms", "control"],
            "assigned_time": pd.to_datetime(["2026-02-28"] * 3 + ["2026-04-30"]),
            "contacted": [True, False, False, False],
        }
    )
    t = pd.to_datetime
    orders = pd.DataFrame(
        {
            "order_key": [f"o:{i}" for i in range(10)],
            "oneid": ["O000000001"] * 6 + ["O000000002", "O000000004", None, "O000000002"],
            "order_time": t(
                [
                    "2026-03-01 00:00:00",  # first second of the window: in
                    "2026-03-14 23:59:59",  # last second of the window: in
                    "2026-03-15 00:00:00",  # after the window: out
                    "2026-03-05 12:00:00",  # refunded: out
                    "2026-02-28 10:00:00",  # pre-period
                    "2026-01-29 23:59:59",  # before the 30-day pre-period: out
                    "2026-01-30 00:00:00",  # first second of the pre-period
                    "2026-03-03 00:00:00",  # person not assigned
                    "2026-03-03 00:00:00",  # no oneid
                    "2026-03-02 09:00:00",  # control converts, cancelled: out
                ]
            ),
            "amount": [100.0, 50.0, 999.0, 70.0, 30.0, 999.0, 20.0, 5.0, 5.0, 40.0],
            "status": ["paid", "paid", "paid", "refunded", "paid", "paid", "paid", "paid",
                       "paid", "cancelled"],
            "channel": ["tmall", "store", "jd", "jd", "site", "douyin", "store", "jd", "store",
                        "tmall"],
        }
    )
    return assignments, orders, campaigns


def test_windows_statuses_and_pre_period_by_hand(tiny):
    a, o, c = tiny
    out = campaign_outcomes(a, o, c, "C1", pre_days=30).set_index("oneid")
    assert list(out.index) == ["O000000001", "O000000002", "O000000003"]
    p1, p2, p3 = out.loc["O000000001"], out.loc["O000000002"], out.loc["O000000003"]
    assert (p1.converted, p1.n_orders, p1.revenue) == (True, 2, 150.0)
    assert (p1.pre_orders, p1.pre_revenue) == (1, 30.0)
    assert (p2.converted, p2.n_orders, p2.revenue) == (False, 0, 0.0)
    assert (p2.pre_orders, p2.pre_revenue) == (1, 20.0)
    assert (p3.converted, p3.revenue, p3.pre_revenue) == (False, 0.0, 0.0)
    assert out["treated"].tolist() == [True, False, True]
    assert out["contacted"].tolist() == [True, False, False]
    assert out["converted"].dtype == bool
    # a shorter pre-period drops the order 30 days before the start
    short = campaign_outcomes(a, o, c, "C1", pre_days=29).set_index("oneid")
    assert short.loc["O000000002", "pre_orders"] == 0


def test_other_campaign_and_covariates(tiny):
    a, o, c = tiny
    out = campaign_outcomes(a, o, c, "C2", pre_days=90)
    assert out["oneid"].tolist() == ["O000000001"]
    # pre-period of C2 (2026-01-31 .. 2026-04-30) holds the three paid March orders of person 1
    # plus the 2026-02-28 one; the 2026-03-15 one too
    assert out.loc[0, "pre_orders"] == 4 and out.loc[0, "pre_revenue"] == 100 + 50 + 999 + 30
    cov = pd.DataFrame({"oneid": ["O000000001", "O000000002"], "rfm_segment": ["loyal", "new"]})
    out = campaign_outcomes(a, o, c, "C1", covariates=cov)
    assert out["rfm_segment"].iloc[:2].tolist() == ["loyal", "new"]
    assert pd.isna(out["rfm_segment"].iloc[2])


def test_duplicate_assignment_raises_with_masked_ids(tiny):
    a, o, c = tiny
    dup = pd.concat([a, a.iloc[[0]].assign(arm="control")], ignore_index=True)
    with pytest.raises(ValueError, match="assigned more than once") as err:
        campaign_outcomes(dup, o, c, "C1")
    assert "O000000001" not in str(err.value)  # raw id never printed
    assert "O0…01" in str(err.value)
    dropped = campaign_outcomes(dup, o, c, "C1", on_duplicate="drop")
    assert "O000000001" not in set(dropped["oneid"])
    first = campaign_outcomes(dup, o, c, "C1", on_duplicate="first")
    assert first.set_index("oneid").loc["O000000001", "arm"] == "sms"


def test_bad_input_errors(tiny):
    a, o, c = tiny
    with pytest.raises(ValueError, match="unknown arm.*'email'"):
        campaign_outcomes(a.assign(arm=["sms", "control", "email", "control"]), o, c, "C1")
    with pytest.raises(ValueError, match="orders is missing column.*amount"):
        campaign_outcomes(a, o.drop(columns="amount"), c, "C1")
    with pytest.raises(ValueError, match="campaign_assignments is missing column.*contacted"):
        campaign_outcomes(a.drop(columns="contacted"), o, c, "C1")
    with pytest.raises(ValueError, match="'C9' not found"):
        campaign_outcomes(a, o, c, "C9")
    with pytest.raises(ValueError, match="without oneid"):
        campaign_outcomes(a.assign(oneid=[None, "O2", "O3", "O1"]), o, c, "C1")
    with pytest.raises(ValueError, match="missing/non-numeric amount.*'o:0'"):
        campaign_outcomes(a, o.assign(amount=[np.nan] + [1.0] * 9), c, "C1")
    with pytest.raises(ValueError, match="contacted must be boolean"):
        campaign_outcomes(a.assign(contacted=["yes", "maybe", "no", "no"]), o, c, "C1")
    cov = pd.DataFrame({"oneid": ["O000000001", "O000000001"], "x": [1, 2]})
    with pytest.raises(ValueError, match="one row per oneid"):
        campaign_outcomes(a, o, c, "C1", covariates=cov)
    with pytest.raises(ValueError, match="end_date must be on or after"):
        campaign_outcomes(a, o, c.assign(end_date=["2026-02-01", "2026-05-10"]), "C1")


def test_parse_arms_formats():
    assert parse_arms("control|sms") == ["control", "sms"]
    assert parse_arms("sms, coupon") == ["control", "sms", "coupon"]
    assert parse_arms('["control", "a", "b"]') == ["control", "a", "b"]
    assert parse_arms(["b", "control"]) == ["control", "b"]


def test_matches_direct_filtering_on_simulated_campaign():
    sim = simulate_campaign(3000, seed=3)
    out = campaign_outcomes(sim.assignments, sim.orders, sim.campaigns, "C0001")
    o = sim.orders
    win = o[(o.status == "paid") & (o.order_time >= "2026-03-01") & (o.order_time < "2026-03-15")
            & o.oneid.notna()]
    pre = o[(o.status == "paid") & (o.order_time >= "2025-12-01") & (o.order_time < "2026-03-01")
            & o.oneid.notna()]
    assert out["revenue"].sum() == pytest.approx(win["amount"].sum())
    assert out["n_orders"].sum() == len(win)
    assert out["converted"].sum() == win["oneid"].nunique()
    assert out["pre_revenue"].sum() == pytest.approx(pre["amount"].sum())
    assert len(out) == 3000 and out["oneid"].is_unique
