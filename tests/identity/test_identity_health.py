"""The health summaries on small hand-made resolutions (exact numbers), and on the test world."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omni.identity import (
    cluster_size_distribution,
    linkage_summary,
    merge_rates,
    oneid_changes,
    records_by_source,
)
from omni.workspace import Workspace


def test_merge_rates_count_records_whose_oneid_holds_another_source():
    oneid = pd.Series(["a", "a", "a", "b", "c", "c"])
    source = pd.Series(["crm", "web", "web", "web", "crm", "crm"])
    mr = merge_rates(oneid, source)
    assert list(mr.index) == ["crm", "web"] and mr.index.name == "source" and mr.columns.name == "with"
    # crm: 3 records, 1 in a profile with web; 2 in a profile with another crm record
    assert mr.loc["crm", "web"] == pytest.approx(1 / 3) and mr.loc["crm", "crm"] == pytest.approx(2 / 3)
    # web: 3 records, 2 in profile a (with crm, and with each other)
    assert mr.loc["web", "crm"] == pytest.approx(2 / 3) and mr.loc["web", "web"] == pytest.approx(2 / 3)


def test_size_distribution_buckets_profiles_and_records():
    dist = cluster_size_distribution(pd.Series(["a"] * 3 + ["b"] + ["c"] * 12)).set_index("size")
    assert dist.loc["1", "profiles"] == 1 and dist.loc["3-5", "records"] == 3 and dist.loc["11-20", "profiles"] == 1
    assert dist["records"].sum() == 16 and np.isclose(dist["share_profiles"].sum(), 1.0)


def test_records_by_source_and_linkage_summary():
    ro = pd.DataFrame({"record_key": list("abcdef"), "oneid": ["o1", "o1", "o2", "o3", "o3", "o4"],
                       "source": ["crm", "ecom_orders", "ecom_orders", "ecom_orders", "ecom_orders", "pos"],
                       "how": ["strong", "strong", "probabilistic", "account", "account", "none"]})
    by = records_by_source(ro).set_index("source")
    assert by.loc["ecom_orders", "records"] == 4 and by.loc["ecom_orders", "oneids"] == 3
    assert by.loc["ecom_orders", "account"] == 2 and by.loc["pos", "none"] == 1
    ls = linkage_summary(ro).set_index("linked")
    assert ls["records"].to_dict() == {"by rule": 1, "by probability": 1, "not linked": 2, "no identifier": 0}
    assert ls.loc["not linked", "share"] == 0.5
    with pytest.raises(ValueError, match="no 'how' column"):
        linkage_summary(ro.drop(columns="how"))


def test_oneid_changes_lists_every_kind_in_order():
    ch = oneid_changes(pd.DataFrame({"change": ["new", "kept", "kept"]}))
    assert ch.to_dict("list") == {"change": ["kept", "new", "merged_into", "split_from", "retired"],
                                  "OneIDs": [2, 1, 0, 0, 0]}


def test_records_by_source_from_integer_oneids_is_the_pivot_table(test_world):
    """The integer path (cluster codes, distinct OneIDs per source by marks) gives the table the
    string path gives, on the test world's resolution."""
    r = Workspace(test_world).resolve()
    ro = r.record_oneid
    fast = records_by_source(ro, r.resolution().records["cluster"].to_numpy())
    slow = records_by_source(ro.assign(source=ro["source"].astype(str)))
    fast = fast.assign(source=fast["source"].astype(str)).sort_values("source").reset_index(drop=True)
    pd.testing.assert_frame_equal(fast, slow, check_dtype=False, check_names=False)
    assert fast["oneids"].sum() > len(np.unique(ro["oneid"]))  # some OneIDs span sources


def test_identifiers_per_profile_counts_each_profile_value_pair_once(test_world):
    from omni.identity.health import _linking_edges, identifiers_per_profile, labels

    res = Workspace(test_world).resolve().resolution()
    got = identifiers_per_profile(res)
    e = _linking_edges(res)  # the reference: pairs made unique by pandas
    cl = res.records["cluster"].to_numpy()
    df = pd.DataFrame({"cl": cl[e["rec"].to_numpy()], "val": e["val"].to_numpy()}).drop_duplicates()
    df["id_type"] = labels(res.values["id_type"])[df["val"].to_numpy()]
    n = df.groupby(["id_type", "cl"]).size()
    assert got.set_index("id_type")["profiles_with"].to_dict() == n.groupby(level="id_type").size().to_dict()
    assert got.set_index("id_type")["max"].to_dict() == n.groupby(level="id_type").max().to_dict()
    assert (got["share_more_than_one"] > 0).any()


def test_distinct_per_group_by_marks_and_by_sort_agree():
    from omni.identity.health import distinct_per_group

    rng = np.random.default_rng(2)
    group = rng.integers(0, 4, 500)
    for top in (30, 2**40):  # a small table of marks; values too wide for one: a sort of the pairs
        value = rng.integers(0, top, 500)
        value[::7] = value[0]  # repeats within and across groups
        want = [len(np.unique(value[group == g])) for g in range(5)]
        assert distinct_per_group(group, value, 5).tolist() == want
