"""The uplift truth check on the engine (omni.uplift.truth): the campaign's keys are looked up in
the truth's Parquet files instead of loading them; the figures equal the pandas reindexing the
check used before (kept below as the reference) on the test world."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import omni
from omni.engine import lookup
from omni.uplift import analyse_month
from omni.uplift.effects import cuped, lift
from omni.uplift.outcomes import campaign_outcomes


def _reference_perfect(analyses, assignments, orders, campaigns, record_person, alpha=0.05):
    """perfect_identity_lift as it was before the engine (whole frames, string reindexing)."""
    pid = pd.Series(record_person["person_id"].astype(str).to_numpy(),
                    index=pd.Index(record_person["record_key"].astype(str)))
    a = assignments.assign(oneid=pid.reindex(assignments["assignment_key"].astype(str)).to_numpy())
    o = orders.assign(oneid=pid.reindex(orders["order_key"].astype(str)).to_numpy())
    rows = []
    for an in analyses:
        sub = a[(a["campaign_id"].astype(str) == an.campaign_id) & a["oneid"].notna()]
        out = campaign_outcomes(sub, o, campaigns, an.campaign_id, pre_days=an.info["pre_days"],
                                on_duplicate="first")
        seen = float(an.outcomes["converted"].mean() / out["converted"].mean()) if out[
            "converted"].any() else np.nan
        lc = lift(out, "converted", arm=an.arms, alpha=alpha)
        lr = (cuped(out, "revenue", "pre_revenue", arm=an.arms, alpha=alpha)
              if out["pre_revenue"].var() > 0 else lift(out, "revenue", arm=an.arms, alpha=alpha))
        for frame, metric in ((lc, "conversion"), (lr, "revenue per person")):
            for r in frame.itertuples():
                rows.append({"campaign_id": an.campaign_id, "arm": r.arm, "metric": metric,
                             "estimate": r.abs_lift, "ci_low": r.abs_ci_low,
                             "ci_high": r.abs_ci_high, "buyers_seen": seen})
    return pd.DataFrame(rows)


def _reference_oneids(campaign_truth, record_oneid, campaign_id):
    """truth_check's mapping of one campaign's truth rows to OneIDs before the engine."""
    oneid_of = pd.Series(record_oneid["oneid"].to_numpy(),
                         index=pd.Index(record_oneid["record_key"].astype(str)))
    t = campaign_truth[campaign_truth["campaign_id"].astype(str) == campaign_id]
    t = t.assign(oneid=oneid_of.reindex(t["record_key"].astype(str).to_numpy()).to_numpy())
    return t[t["oneid"].notna()]


@pytest.fixture(scope="module")
def month(test_world):
    ws = omni.open(test_world)
    return ws, analyse_month(ws, "2026-10")


def test_engine_truth_check_equals_the_pandas_reference(month):
    ws, r = month
    assert r.campaigns, "the test world has campaigns ending in 2026-10"
    ct, rp = ws.truth("campaign_truth"), ws.truth("record_person")
    ro = ws.resolve("2026-10").record_oneid
    # the report's path: the workspace's Parquet files, read by the engine
    check = r.truth_check(ws)
    # the same from frames
    frames = r.truth_check({"campaign_truth": ct, "record_person": rp})
    pd.testing.assert_frame_equal(check.overall, frames.overall)
    pd.testing.assert_frame_equal(check.segments, frames.segments)
    pd.testing.assert_frame_equal(check.perfect, frames.perfect)
    # the true identities' lifts: exactly the whole-frame reindexing of before
    ref = _reference_perfect(r.campaigns, r.inputs["assignments"], r.inputs["orders"],
                             r.inputs["campaigns"], rp)
    pd.testing.assert_frame_equal(check.perfect, ref)
    assert len(ref) == 2 * sum(len(a.arms) for a in r.campaigns) and ref["estimate"].notna().all()
    # the OneIDs the truth rows map to: as before, and every analysed campaign checked
    for an in r.campaigns:
        got = ct.loc[ct["campaign_id"] == an.campaign_id, ["record_key"]].reset_index(drop=True)
        got["oneid"] = lookup(got["record_key"], r.inputs["record_oneid"], "record_key",
                                     "oneid", "record_oneid")
        want = _reference_oneids(ct, ro, an.campaign_id)
        assert got.dropna()["oneid"].tolist() == want["oneid"].astype(str).tolist()
        assert len(want) > 0.9 * (ct["campaign_id"] == an.campaign_id).sum()
    o = check.overall
    assert len(o) == 2 * sum(len(a.arms) for a in r.campaigns)
    assert o["mapped_share"].between(0.9, 1.0).all()
    assert check.n_inside == int(o["inside"].sum()) and 0 < check.buyers_seen.min() <= 1


def test_report_path_reads_no_whole_truth_frame(month, monkeypatch):
    ws, r = month
    from pathlib import Path

    assert isinstance(r.inputs["record_oneid"], Path)  # the cached resolution's file, not a frame

    def whole(*args, **kwargs):
        raise AssertionError("the truth check loaded a whole truth table")

    monkeypatch.setattr(type(ws), "truth", whole)
    assert r.truth_check(ws) is not None


def test_lookup_names_a_repeated_key():
    keys = pd.Series(["a:1", "a:2", "a:3"])
    table = pd.DataFrame({"record_key": ["a:1", "a:1", "a:2"], "person_id": ["P1", "P2", "P3"]})
    with pytest.raises(ValueError, match="record_person has more than one row for 1 record_key"):
        lookup(keys, table, "record_key", "person_id", "record_person")
    got = lookup(keys, table.iloc[1:], "record_key", "person_id", "record_person")
    assert got[:2].tolist() == ["P2", "P3"] and pd.isna(got[2])
