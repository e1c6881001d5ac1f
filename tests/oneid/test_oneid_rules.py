"""OneID rules on small hand-made cases: every rule against over- and under-merging."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omni.oneid.config import OneIDConfig
from omni.oneid.evaluate import pairwise_scores, scores_by_source_pair
from omni.oneid.resolve import resolve_identities
from omni.oneid.stable import assign_oneids


def ids_frame(rows: list[tuple], extra_records: list[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """rows: (record_key, id_type, value[, valid]) -> identifier table and record list."""
    recs = []
    for r in rows:
        key, typ, value = r[:3]
        valid = r[3] if len(r) > 3 else True
        recs.append({"source": key.split(":")[0], "record_key": key, "id_type": typ, "raw": value,
                     "value": value if valid else None, "valid": valid, "reason": None if valid else "blocked"})
    ids = pd.DataFrame(recs)
    keys = list(dict.fromkeys([r[0] for r in rows] + list(extra_records)))
    records = pd.DataFrame({"record_key": keys, "source": [k.split(":")[0] for k in keys]})
    return ids, records


def same(res, a: str, b: str) -> bool:
    c = res.records.set_index("record_key")["cluster"]
    return bool(c[a] == c[b])


def test_shared_phone_links_records_across_sources():
    ids, rec = ids_frame([
        ("crm:1", "member_id", "M1"), ("crm:1", "phone", "+8613800138001"),
        ("pos:1", "phone", "+8613800138001"),
        ("pos:2", "phone", "+8613800138002"),
    ])
    res = resolve_identities(ids, rec)
    assert same(res, "crm:1", "pos:1")
    assert not same(res, "crm:1", "pos:2")
    assert res.n_clusters == 2


def test_changed_phone_linked_through_member_id():
    ids, rec = ids_frame([
        ("crm:1", "member_id", "M1"), ("crm:1", "phone", "+8613800138001"),
        ("pos:1", "member_id", "M1"), ("pos:1", "phone", "+8613900139002"),  # new phone, same card
        ("svc:1", "phone", "+8613900139002"),
    ])
    res = resolve_identities(ids, rec)
    assert same(res, "crm:1", "svc:1")


def test_duplicate_crm_registrations_merge_and_two_phones_stay_one_person():
    ids, rec = ids_frame([
        ("crm:1", "member_id", "M1"), ("crm:1", "phone", "+8613800138001"),
        ("crm:2", "member_id", "M2"), ("crm:2", "phone", "+8613800138001"),  # duplicate registration
        ("crm:2", "email", "a@x.com"),
        ("wx:1", "unionid", "U1"), ("wx:1", "phone", "+8613700137001"),
        ("crm:3", "member_id", "M3"), ("crm:3", "unionid", "U1"), ("crm:3", "phone", "+8613800138001"),
    ])
    res = resolve_identities(ids, rec)
    assert same(res, "crm:1", "crm:2") and same(res, "crm:1", "wx:1")
    assert res.n_clusters == 1


def test_blocked_default_phone_never_links():
    ids, rec = ids_frame([
        ("pos:1", "phone", "13800000000", False),
        ("pos:2", "phone", "13800000000", False),
        ("pos:3", "phone", "13800000000", False),
    ])
    res = resolve_identities(ids, rec)
    assert res.n_clusters == 3
    assert set(res.records["how"]) == {"none"}


def test_kiosk_device_seen_with_many_members_is_shared():
    rows = []
    for i in range(30):
        rows += [(f"web:{i}", "member_id", f"M{i}"), (f"web:{i}", "device_id", "kiosk-1")]
    rows += [("web:anon", "device_id", "kiosk-1")]
    ids, rec = ids_frame(rows)
    res = resolve_identities(ids, rec)
    assert res.n_clusters == 31  # 30 members + the anonymous kiosk event alone
    v = res.values.set_index("value")
    assert v.loc["kiosk-1", "status"] == "shared"
    assert v.loc["kiosk-1", "reason"] == "seen_with_many_strong_ids"


def test_high_volume_default_number_is_shared_by_record_cap():
    cfg = OneIDConfig(max_records={"phone": 50})
    rows = [(f"pos:{i}", "phone", "+8613912345678") for i in range(60)]
    rows += [("crm:1", "member_id", "M1"), ("crm:1", "phone", "+8613912345678")]
    ids, rec = ids_frame(rows)
    res = resolve_identities(ids, rec, config=cfg)
    assert res.n_clusters == 61


def test_family_device_is_ambiguous_and_never_merges_people():
    ids, rec = ids_frame([
        ("web:1", "member_id", "M1"), ("web:1", "device_id", "fam"),
        ("web:2", "member_id", "M2"), ("web:2", "device_id", "fam"),
        ("web:3", "device_id", "fam"),
    ])
    res = resolve_identities(ids, rec)
    assert not same(res, "web:1", "web:2")
    assert not same(res, "web:3", "web:1") and not same(res, "web:3", "web:2")
    assert res.values.set_index("value").loc["fam", "status"] == "ambiguous_weak"


def test_unambiguous_weak_ids_attach_anonymous_records_transitively():
    ids, rec = ids_frame([
        ("web:1", "member_id", "M1"), ("web:1", "cookie_id", "c1"),
        ("web:2", "cookie_id", "c1"), ("web:2", "device_id", "d1"),   # anonymous, same browser
        ("tp:1", "device_id", "d1"),                                  # ad impression on the device
        ("tp:2", "device_id", "d9"),                                  # unknown device
    ])
    res = resolve_identities(ids, rec)
    assert same(res, "web:1", "web:2") and same(res, "web:1", "tp:1")
    assert not same(res, "web:1", "tp:2")
    how = res.records.set_index("record_key")["how"]
    assert how["web:1"] == "strong" and how["tp:1"] == "weak"


def test_weak_group_reaching_two_people_stays_apart():
    ids, rec = ids_frame([
        ("web:1", "member_id", "M1"), ("web:1", "cookie_id", "cA"),
        ("web:2", "member_id", "M2"), ("web:2", "device_id", "dB"),
        ("web:3", "cookie_id", "cA"), ("web:3", "device_id", "dB"),  # joins A's cookie and B's device
    ])
    res = resolve_identities(ids, rec)
    assert not same(res, "web:1", "web:2")
    assert not same(res, "web:3", "web:1") and not same(res, "web:3", "web:2")


def test_profile_limit_removes_the_bridging_phone():
    rows = []
    for i in range(4):
        rows += [(f"crm:{i}", "member_id", f"M{i}"), (f"crm:{i}", "email", f"p{i}@x.com"),
                 (f"crm:{i}", "phone", "+8613611112222")]  # one phone typed for four members
        rows += [(f"pos:{i}", "member_id", f"M{i}")]
    ids, rec = ids_frame(rows)
    res = resolve_identities(ids, rec)
    assert res.n_clusters == 4
    for i in range(4):
        assert same(res, f"crm:{i}", f"pos:{i}")
    assert res.removals["rule"].tolist() == ["bridge"]
    assert res.removals["id_type"].tolist() == ["phone"]


def test_profile_limit_without_bridge_drops_values_beyond_limit():
    # a chain of records each adding a new phone: 5 phones > limit 3, no single bridge
    rows = [("crm:1", "member_id", "M1")]
    for i in range(5):
        rows += [(f"pos:{i}", "member_id", "M1"), (f"pos:{i}", "phone", f"+86139000000{i:02d}")]
    ids, rec = ids_frame(rows)
    res = resolve_identities(ids, rec, config=OneIDConfig(max_per_profile={"phone": 3, "member_id": 3}))
    # member M1 bridges phones but member_id counts 1 (limit not broken for M1's type); the phone
    # limit is broken and M1 (score 5 >= 2 phones) is the bridge: removing it leaves 5 phone people
    assert len(res.removals) == 1
    assert res.removals.iloc[0]["limit_type"] == "phone"


def test_records_without_identifiers_are_their_own_profiles():
    ids, rec = ids_frame([("crm:1", "member_id", "M1")], extra_records=["pos:walkin1", "pos:walkin2"])
    res = resolve_identities(ids, rec)
    assert res.n_clusters == 3
    assert res.records.set_index("record_key").loc["pos:walkin1", "how"] == "none"


def test_unknown_record_in_ids_is_an_error():
    ids, rec = ids_frame([("crm:1", "member_id", "M1"), ("crm:2", "member_id", "M2")])
    with pytest.raises(ValueError, match="crm:2"):
        resolve_identities(ids, rec.iloc[:1])
    with pytest.raises(ValueError, match="missing column"):
        resolve_identities(ids.drop(columns="valid"), rec)


def _lean(ids: pd.DataFrame, rec: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same case in the lean layout: records named by (source, row), no key strings."""
    rec = rec.assign(row=rec.groupby("source").cumcount().astype(np.int32))
    row = rec.set_index("record_key")["row"]
    lean = ids.assign(row=row.reindex(ids["record_key"]).to_numpy()).drop(columns="record_key")
    return lean, rec.drop(columns="record_key")


def test_lean_table_named_by_source_and_row_resolves_the_same():
    ids, rec = ids_frame([
        ("crm:1", "member_id", "M1"), ("crm:1", "phone", "+8613800138001"),
        ("crm:2", "member_id", "M2"), ("crm:2", "phone", "+8613800138001"),
        ("pos:1", "phone", "+8613800138001"), ("pos:2", "phone", "13800000000", False),
        ("web:1", "cookie_id", "ck1"), ("web:2", "cookie_id", "ck1"), ("web:2", "member_id", "M2"),
    ], extra_records=["pos:3"])
    full = resolve_identities(ids, rec)
    lean_ids, lean_rec = _lean(ids, rec)
    lean_ids["value"] = lean_ids["value"].astype("category")  # pre-encoded values: read as codes
    lean = resolve_identities(lean_ids, lean_rec)
    assert list(lean.records.columns) == ["source", "row", "cluster", "how"]
    assert lean.records["cluster"].tolist() == full.records["cluster"].tolist()
    assert lean.records["how"].tolist() == full.records["how"].tolist()
    assert lean.values["value"].astype(str).tolist() == full.values["value"].astype(str).tolist()
    assert lean.invalid["raw"].tolist() == ["13800000000"]
    with pytest.raises(ValueError, match="needs the records"):
        resolve_identities(lean_ids)
    with pytest.raises(ValueError, match=r"identifier row 4 names a record that is not in records: pos row 0"):
        resolve_identities(lean_ids, lean_rec[lean_rec["source"] != "pos"])
    with pytest.raises(ValueError, match=r"record_key \(or source and row\)"):
        resolve_identities(lean_ids.drop(columns="row"), lean_rec)


def test_stable_ids_keep_merge_and_split():
    prev = pd.DataFrame({"record_key": ["a", "b", "c", "d", "e"],
                         "oneid": ["O000000001", "O000000001", "O000000002", "O000000003", "O000000003"]})
    now = pd.DataFrame({"record_key": ["a", "b", "c", "d", "e", "f"],
                        # a,b,c merge (ids 1 and 2 -> keep 1); d,e split; f is new
                        "cluster": [0, 0, 0, 1, 2, 3]})
    out, changes = assign_oneids(now, prev)
    m = out.set_index("record_key")["oneid"]
    assert m["a"] == m["b"] == m["c"] == "O000000001"
    assert {m["d"], m["e"]} >= {"O000000003"} and m["d"] != m["e"]
    assert m["f"] not in {"O000000001", "O000000002", "O000000003"}
    ch = changes.set_index("oneid")["change"]
    assert ch["O000000002"] == "merged_into"
    assert sorted(changes["change"]) == ["kept", "kept", "merged_into", "new", "split_from"]
    # a second run with its own output as previous changes nothing
    out2, changes2 = assign_oneids(now, out)
    assert (out2["oneid"] == out["oneid"]).all()
    assert set(changes2["change"]) == {"kept"}


def test_pairwise_and_bcubed_against_hand_counts():
    pred = np.array([0, 0, 0, 1, 1, 2])
    true = np.array([0, 0, 1, 1, 1, 2])
    s = pairwise_scores(pred, true)
    # pred pairs: C(3,2)+C(2,2)=4; true pairs: C(2,2)+C(3,2)=4; tp: (0,1) in p0&t0 + (3,4) = 2
    assert s["precision"] == pytest.approx(0.5) and s["recall"] == pytest.approx(0.5)
    # B-cubed precision: per record |pred∩true|/|pred|: 2/3,2/3,1/3,1,1,1 -> 4.666/6
    assert s["bcubed_precision"] == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 3) / 6)
    by = scores_by_source_pair(pred, true, np.array(["a", "a", "b", "b", "b", "a"]))
    ab = by[(by.source_a == "a") & (by.source_b == "b")].iloc[0]
    # cross pairs predicted: cluster0 has 2 a x 1 b = 2; true cross: t1 has 0 a... t0 is (a,a): 0; t1 (b,b,b): 0
    assert ab["pred_pairs"] == 2 and ab["true_pairs"] == 0


def test_unbound_platform_account_links_its_orders_but_is_not_person_level():
    ids, rec = ids_frame([
        ("ecom:1", "platform_buyer", "tmall:tb_1"), ("ecom:2", "platform_buyer", "tmall:tb_1"),
        ("ecom:3", "platform_buyer", "tmall:tb_2"),
        ("bind:1", "platform_buyer", "tmall:tb_2"), ("bind:1", "phone", "+8613800138001"),
        ("crm:1", "phone", "+8613800138001"), ("crm:1", "member_id", "M1"),
    ])
    res = resolve_identities(ids, rec)
    how = res.records.set_index("record_key")["how"]
    assert same(res, "ecom:1", "ecom:2") and not same(res, "ecom:1", "crm:1")
    assert how["ecom:1"] == "account" and how["ecom:3"] == "strong"
    assert same(res, "ecom:3", "crm:1")


def test_numbering_with_aligned_positions_equals_the_key_join_and_checks_them(monkeypatch):
    """Last month resolved from the same files: its records are this month's before its end, in
    order, so their rows can be given instead of joining keys. The numbers are the key join's;
    rows that do not hold the previous keys are not trusted (the keys are joined instead)."""
    from omni.oneid.stable import assign_oneid_numbers

    now = pd.DataFrame({"record_key": pd.array(["a", "x", "b", "c", "y", "d"], dtype="string[pyarrow]"),
                        "cluster": [0, 0, 1, 2, 2, 3]})
    prev = pd.DataFrame({"record_key": pd.array(["a", "b", "c", "d"], dtype="string[pyarrow]"),
                         "oneid": ["O000000004", "O000000002", "O000000002", "O000000001"]})
    want = assign_oneid_numbers(now, prev)
    for aligned in (np.array([0, 2, 3, 5]), np.array([0, 1, 3, 5]), np.array([0, 2])):  # right, wrong, short
        got = assign_oneid_numbers(now, prev, aligned)
        assert got[0].tolist() == want[0].tolist() == [4, 2, 5, 1]  # b's id split: c keeps none, new 5
        assert got[1].tolist() == want[1].tolist()
        pd.testing.assert_frame_equal(got[2], want[2])
    from omni.oneid import stable

    def no_join(*args):
        raise AssertionError("the keys were joined")

    monkeypatch.setattr(stable, "index_in", no_join)  # the right rows need no join at all
    assert assign_oneid_numbers(now, prev, np.array([0, 2, 3, 5]))[0].tolist() == [4, 2, 5, 1]
    with pytest.raises(AssertionError, match="joined"):
        assign_oneid_numbers(now, prev, np.array([0, 1, 3, 5]))


def test_numbering_against_the_previous_maps_file_read_in_batches(tmp_path, monkeypatch):
    """The previous map given as its cached Parquet file is read a few rows at a time (at 5M
    persons the whole map beside the resolution passed the machine): the same numbers, codes and
    changes as the frame, with aligned rows right, wrong, short or absent; right rows need no key
    join; a bad OneID in a later batch is named by its row in the whole file."""
    from omni.oneid import stable
    from omni.oneid.stable import assign_oneid_numbers

    now = pd.DataFrame({"record_key": pd.array(["a", "x", "b", "c", "y", "d"], dtype="string[pyarrow]"),
                        "cluster": [0, 0, 1, 2, 2, 3]})
    prev = pd.DataFrame({"record_key": pd.array(["a", "b", "c", "d"], dtype="string[pyarrow]"),
                         "oneid": ["O000000004", "O000000002", "O000000002", "O000000001"]})
    path = tmp_path / "record_oneid.parquet"
    prev.to_parquet(path, index=False)
    monkeypatch.setattr(stable, "PREVIOUS_BATCH_ROWS", 3)  # two batches
    want = assign_oneid_numbers(now, prev)
    for aligned in (np.array([0, 2, 3, 5]), np.array([0, 1, 3, 5]), np.array([0, 2]), None):
        got = assign_oneid_numbers(now, path, aligned)
        assert got[0].tolist() == want[0].tolist() == [4, 2, 5, 1]
        assert got[1].tolist() == want[1].tolist()
        pd.testing.assert_frame_equal(got[2], want[2])
    wrong_late = np.array([0, 2, 3, 4])  # the last key, in the second batch, is not d
    assert assign_oneid_numbers(now, path, wrong_late)[0].tolist() == [4, 2, 5, 1]
    monkeypatch.setattr(stable, "index_in", lambda *a: (_ for _ in ()).throw(AssertionError("joined")))
    assert assign_oneid_numbers(now, path, np.array([0, 2, 3, 5]))[0].tolist() == [4, 2, 5, 1]
    with pytest.raises(AssertionError, match="joined"):
        assign_oneid_numbers(now, path, wrong_late)
    prev.assign(oneid=["O000000004", "O000000002", "O000000002", "P1"]).to_parquet(path, index=False)
    with pytest.raises(ValueError, match="previous map row 4: 'P1' is not a OneID"):
        assign_oneid_numbers(now, path, np.array([0, 2, 3, 5]))
    prev.iloc[:0].to_parquet(path, index=False)  # an empty map: numbered from 1, as without one
    assert assign_oneid_numbers(now, path)[0].tolist() == assign_oneid_numbers(now, None)[0].tolist() == [1, 2, 3, 4]


def test_aligned_keys_are_checked_block_by_block_on_chunked_columns():
    """The check of the aligned rows runs a block at a time on the columns' own (chunked) Arrow
    data: a wrong key in a later block, a missing key or rows out of order send the numbering to
    the key join, whatever the block size; the right rows pass."""
    from omni.oneid.stable import _same_keys_at

    keys = [f"src:{i:05d}" for i in range(1000)]
    now = pd.concat([pd.Series(pd.array(keys[:300], dtype="string[pyarrow]")),
                     pd.Series(pd.array(keys[300:], dtype="string[pyarrow]"))], ignore_index=True)
    assert now.array.__arrow_array__().num_chunks == 2  # as the stacked record keys come
    aligned = np.arange(0, 1000, 3)
    prev = pd.Series(pd.array([keys[i] for i in aligned], dtype="string[pyarrow]"))
    for block in (1, 7, 64, 1 << 20):
        assert _same_keys_at(now, prev, aligned, block=block)
        wrong = prev.copy()
        wrong.iloc[len(prev) - 2] = "src:other"  # in the last blocks only
        assert not _same_keys_at(now, wrong, aligned, block=block)
        missing = prev.copy()
        missing.iloc[5] = None
        assert not _same_keys_at(now, missing, aligned, block=block)
    swapped = aligned.copy()
    swapped[[3, 4]] = swapped[[4, 3]]  # the keys match, but rows out of order are not trusted
    assert not _same_keys_at(now, pd.Series(pd.array([keys[i] for i in swapped], dtype="string[pyarrow]")), swapped)


def test_retired_numbers_by_marks_are_setdiff1d_whatever_the_range():
    from omni.oneid.stable import _absent

    rng = np.random.default_rng(3)
    for top in (1, 50, 10**6, 10**12):  # marks for dense numbers; np.setdiff1d when they are sparse
        values = rng.integers(0, top, 200)
        present = np.r_[values[::3], rng.integers(0, top, 20)]
        got = _absent(values, present)
        np.testing.assert_array_equal(got, np.setdiff1d(values, present))
        assert got.dtype == values.dtype
    assert _absent(np.array([4, 4, 9]), np.array([], dtype=np.int64)).tolist() == [4, 9]


def test_dense_codes_number_values_by_first_appearance_on_both_paths():
    from omni.oneid.graph import dense_codes

    rng = np.random.default_rng(5)
    for top in (3, 500, 10**6, 10**15):  # marks over a small range; a hash table for sparse values
        x = rng.integers(0, top, 2_000)
        codes, uniques = dense_codes(x)
        u, first, inv = np.unique(x, return_index=True, return_inverse=True)
        rank = np.empty(len(u), np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(len(u))
        np.testing.assert_array_equal(codes, rank[inv])
        np.testing.assert_array_equal(uniques, x[np.sort(first)])
        assert codes.dtype == np.int64 and uniques.dtype == np.int64
    with pytest.raises(ValueError, match="non-negative"):
        dense_codes(np.array([3, -1]))


def test_the_pair_count_in_place_is_numpys_unique():
    """The numbering counts records per (previous OneID, cluster) with one whole-length key
    array sorted in place (np.unique's copies were the 5M numbering's peak): the same pairs,
    counts and dtypes as np.unique, empty input included."""
    from omni.oneid.stable import _counted

    rng = np.random.default_rng(7)
    for _ in range(40):
        m, n_prev, n_cl = int(rng.integers(0, 3000)), int(rng.integers(1, 400)), int(rng.integers(1, 600))
        prev = rng.integers(1, 10**7, size=n_prev).astype(np.int64)
        pos = rng.integers(-1, n_prev, size=m).astype(np.int64)
        codes = rng.integers(0, n_cl, size=m).astype(np.int64)
        has = pos >= 0
        want = np.unique(prev[pos[has]] * np.int64(n_cl) + codes[has], return_counts=True)
        got = _counted(prev, pos, has, codes, n_cl)
        for w, g in zip(want, got, strict=True):
            assert g.dtype == w.dtype and g.tolist() == w.tolist()


def test_scores_of_integer_codes_equal_the_scores_of_the_labels():
    # the report scores integer codes as they are (clusters, truth codes: some codes unused, as
    # in a subset of the records); any other labels are factorized: both give the same scores
    rng = np.random.default_rng(3)
    pred = rng.integers(0, 400, 3000) * 3  # every third code only
    true = rng.integers(0, 250, 3000)
    src = rng.choice(np.array(["crm", "ecom", "store"]), 3000)
    by_code = pairwise_scores(pred, true)
    by_label = pairwise_scores(np.char.add("p", pred.astype(str)), np.char.add("t", true.astype(str)))
    assert by_code == pytest.approx(by_label, rel=1e-12)
    assert by_code["n_pred_clusters"] == len(np.unique(pred)) and by_code["n_true_persons"] == len(np.unique(true))
    # a Categorical source (the report's, by code) scores as its strings do
    a = scores_by_source_pair(pred, true, pd.Categorical(src))
    b = scores_by_source_pair(pred.astype(str), true.astype(str), src)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ValueError, match="records"):
        pairwise_scores(pred, true[:-1])
