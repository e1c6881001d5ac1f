"""Stable OneID numbering on Spark against the embedded numbering.

A hand-made month exercises every event (kept, merged_into, retired, split_from, new, ties); the
test world resolved as of its last two complete months gives the same OneID for every record and
the same change table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omni.core.month import Month
from omni.oneid.resolve import resolve_identities
from omni.oneid.stable import assign_oneid_numbers, assign_oneids
from omni.spark.session import get_session
from omni.spark.stable import assign_oneids_spark
from omni.workspace import Workspace, month_end

CHANGE_COLUMNS = ["oneid", "change", "other", "n_records"]


@pytest.fixture(scope="module")
def spark():
    return get_session("local[2]")


def _embedded(clusters: pd.DataFrame, previous: pd.DataFrame | None):
    numbers, codes, changes = assign_oneid_numbers(clusters, previous)
    per_record = pd.Series(np.asarray(numbers)[codes], index=clusters["record_key"].to_numpy())
    return per_record, changes


def _spark(spark, clusters: pd.DataFrame, previous: pd.DataFrame | None):
    c = clusters.assign(rec=np.arange(len(clusters), dtype=np.int64))
    ro, ch = assign_oneids_spark(c, previous, spark)
    ro = ro.toPandas().set_index("record_key")["oneid"]
    per_record = ro.str.slice(1).astype(np.int64).reindex(clusters["record_key"].to_numpy())
    return per_record, ch.toPandas()


def _same_changes(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    def canon(x):
        x = x[CHANGE_COLUMNS].astype(object)
        x = x.where(x.notna(), None).astype(str)
        return x.sort_values(["oneid", "change", "other"]).reset_index(drop=True)

    return canon(a).equals(canon(b))


def test_every_change_event_numbered_as_the_embedded_engine(spark):
    prev = pd.DataFrame({
        "record_key": [f"r{i}" for i in range(12)],
        "oneid": ["O000000001"] * 3 + ["O000000002"] * 2 + ["O000000005"] * 4 + ["O000000007"]
        + ["O000000009"] * 2,
    })
    # r0-r2 (id 1) and r3-r4 (id 2) merge; id 5 splits 3 + 1; id 7's record is gone (retired);
    # id 9 splits 1 + 1 (tie: the cluster that comes first keeps it); r20, r21 are new
    clusters = pd.DataFrame({
        "record_key": ["r21", "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r10", "r11", "r20"],
        "cluster": [40, 10, 10, 10, 10, 10, 30, 30, 30, 31, 50, 51, 41],
    })
    want_rec, want_changes = _embedded(clusters, prev)
    got_rec, got_changes = _spark(spark, clusters, prev)
    assert (got_rec.to_numpy() == want_rec.to_numpy()).all()
    assert _same_changes(got_changes, want_changes)
    assert sorted(want_changes["change"].unique()) == ["kept", "merged_into", "new", "retired", "split_from"]
    # the ids: 1 kept by the merge, 2 merged into it, new ids after 9 in record order
    assert got_rec.loc["r4"] == 1 and got_rec.loc["r21"] == 10 and got_rec.loc["r8"] == 11
    assert got_rec.loc["r10"] == 9 and got_rec.loc["r11"] == 12 and got_rec.loc["r20"] == 13


def test_first_run_numbers_clusters_in_record_order(spark):
    clusters = pd.DataFrame({"record_key": ["a", "b", "c", "d"], "cluster": [7, 3, 7, 1]})
    got, changes = _spark(spark, clusters, None)
    assert got.tolist() == [1, 2, 1, 3]
    assert _same_changes(changes, _embedded(clusters, None)[1])


def test_bad_previous_oneid_is_one_clear_error(spark):
    clusters = pd.DataFrame({"record_key": ["a"], "cluster": [0]})
    with pytest.raises(ValueError, match="not a OneID"):
        _spark(spark, clusters, pd.DataFrame({"record_key": ["a"], "oneid": ["X12"]}))


def test_two_consecutive_months_of_the_test_world(test_world, spark):
    ws = Workspace(test_world)
    recs = ws.records()
    month = ws.last_complete_month()
    before = str(Month.parse(month).previous)

    def clusters_at(m: str) -> pd.DataFrame:
        r = recs[~(recs["time"] >= month_end(m))].reset_index(drop=True)
        res = resolve_identities(ws.ids, r[["record_key", "source", "row"]], ws.config, times=r["time"],
                                 unknown_records="drop")
        return pd.DataFrame({"record_key": res.records["record_key"].astype(object).to_numpy(),
                             "cluster": res.records["cluster"].to_numpy(np.int64)})

    c0, c1 = clusters_at(before), clusters_at(month)
    prev, _ = assign_oneids(c0)
    prev = pd.DataFrame({"record_key": prev["record_key"].astype(object), "oneid": prev["oneid"].astype(object)})
    want_rec, want_changes = _embedded(c1, prev)
    got_rec, got_changes = _spark(spark, c1, prev)
    assert len(c1) > len(c0) > 50_000
    assert (got_rec.to_numpy() == want_rec.to_numpy()).all()
    assert _same_changes(got_changes, want_changes)
    counts = got_changes["change"].value_counts().to_dict()
    assert counts == want_changes["change"].value_counts().to_dict()
    assert counts["kept"] > 9000 and counts["new"] > 100 and counts["merged_into"] > 10
