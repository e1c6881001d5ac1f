"""Experiment checks: SRM, balance, contamination."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from omni.uplift import balance_check, contamination_check, planned_shares, sample_ratio_check


def _arms(n_control: int, n_treat: int, treat: str = "sms") -> pd.DataFrame:
    return pd.DataFrame({"arm": ["control"] * n_control + [treat] * n_treat})


def test_srm_flags_52_48_split_of_100k():
    res = sample_ratio_check(_arms(48_000, 52_000), {"control": 0.5, "sms": 0.5})
    # chi2 = 2 * 2000^2 / 50000 = 160 by hand
    assert res["chi2"].iloc[0] == pytest.approx(160.0)
    assert res["p_value"].iloc[0] == pytest.approx(stats.chi2.sf(160.0, 1))
    assert res["srm"].all()
    assert res["verdict"].iloc[0].startswith("SAMPLE RATIO MISMATCH")
    assert res.set_index("arm").loc["sms", "share"] == pytest.approx(0.52)


def test_srm_passes_fair_split():
    res = sample_ratio_check(_arms(50_000, 50_000), 0.5)
    assert res["p_value"].iloc[0] == pytest.approx(1.0)
    assert not res["srm"].any()
    # a random fair assignment passes (seeded)
    rng = np.random.default_rng(1)
    arms = pd.DataFrame({"arm": np.where(rng.random(100_000) < 0.5, "control", "sms")})
    assert not sample_ratio_check(arms, 0.5)["srm"].any()


def test_srm_three_arms_unequal_plan():
    df = pd.concat([_arms(20_000, 40_000, "a"), _arms(0, 40_000, "b")])
    ok = sample_ratio_check(df, {"control": 0.2, "a": 0.4, "b": 0.4})
    assert ok["chi2"].iloc[0] == pytest.approx(0.0) and ok["df"].iloc[0] == 2
    bad = sample_ratio_check(df, {"control": 0.25, "a": 0.375, "b": 0.375})
    assert bad["srm"].all()


def test_srm_bad_input():
    df = _arms(10, 10)
    with pytest.raises(ValueError, match="sum to 1"):
        sample_ratio_check(df, {"control": 0.5, "sms": 0.6})
    with pytest.raises(ValueError, match=r"\['sms'\] found in outcomes but not in planned"):
        sample_ratio_check(df, {"control": 0.5, "email": 0.5})
    with pytest.raises(ValueError, match="missing column.*arm"):
        sample_ratio_check(df.rename(columns={"arm": "group"}), 0.5)


def test_planned_shares_from_campaigns():
    camp = pd.DataFrame(
        {"campaign_id": ["C1"], "arms": ["control|sms|coupon"], "control_share": [0.2],
         "start_date": ["2026-01-01"], "end_date": ["2026-01-02"]}
    )
    assert planned_shares(camp, "C1") == pytest.approx({"control": 0.2, "sms": 0.4, "coupon": 0.4})


def test_balance_smd_by_hand_and_flags():
    df = pd.DataFrame(
        {
            "arm": ["control"] * 4 + ["sms"] * 4,
            "x": [1.0, 2.0, 3.0, 4.0, 2.0, 3.0, 4.0, 5.0],
            "seg": ["a", "a", "b", "b", "a", "b", "b", "b"],
        }
    )
    res = balance_check(df, ["x", "seg"])
    x = res[res.covariate == "x"].iloc[0]
    # means 3.5 vs 2.5, both sample variances 5/3 -> SMD = 1 / sqrt(5/3)
    assert x.smd == pytest.approx(1 / np.sqrt(5 / 3))
    assert x.flag and x.verdict.startswith("IMBALANCED")
    a = res[(res.covariate == "seg") & (res.level == "a")].iloc[0]
    # p_t = .25, p_c = .5, sample variances .25 and 1/3
    assert a.smd == pytest.approx((0.25 - 0.5) / np.sqrt((0.25 + 1 / 3) / 2))


def test_balance_on_randomized_data_is_balanced_and_shift_is_flagged():
    rng = np.random.default_rng(3)
    n = 20_000
    arm = np.where(rng.random(n) < 0.5, "control", "sms")
    df = pd.DataFrame({"arm": arm, "pre": rng.gamma(2, 50, n),
                       "tier": rng.choice(["t1", "t2", "t3"], n)})
    res = balance_check(df, ["pre", "tier"])
    assert not res["flag"].any() and (res["smd"].abs() < 0.05).all()
    df.loc[df.arm == "sms", "pre"] += 0.2 * df["pre"].std()
    res = balance_check(df, ["pre"])
    assert res["flag"].iloc[0] and res["smd"].iloc[0] == pytest.approx(0.2, abs=0.03)


def test_contamination_flags_contacted_controls_and_unreached_treated():
    df = pd.DataFrame(
        {
            "arm": ["control"] * 100 + ["sms"] * 100,
            "contacted": [True] * 3 + [False] * 97 + [True] * 80 + [False] * 20,
        }
    )
    res = contamination_check(df).set_index("arm")
    assert res.loc["control", "problem_share"] == pytest.approx(0.03)
    assert res.loc["control", "flag"] and "CONTAMINATED" in res.loc["control", "verdict"]
    assert res.loc["sms", "problem_share"] == pytest.approx(0.20)
    assert res.loc["sms", "flag"] and "LOW REACH" in res.loc["sms", "verdict"]
    clean = contamination_check(df.assign(contacted=df["arm"] == "sms")).set_index("arm")
    assert not clean["flag"].any()
    with pytest.raises(ValueError, match="control arm 'holdout'"):
        contamination_check(df, control="holdout")
