"""omni.unify on a small hand-made world with known golden records.

Five people (OneID numbers 1-5 = A-E) across CRM, e-commerce and POS orders, web events,
touchpoints and campaign assignments; every expected value below is worked out by hand from the
tables in :func:`fixtures_unify.world` (shared with the Spark twin's tests,
tests/spark/test_spark_unify.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fixtures_unify import A, B, C, D, E, T, world

from omni.oneid.stable import format_oneid
from omni.unify import RowMap, build_profiles, format_oneids, unified_table


def unify(cut: str | None = None, as_of: str = "2024-12-31"):
    tables, records, numbers, spec = world()
    if cut is not None:
        keep = ~(records["time"] >= T(cut)).to_numpy()
        records, numbers = records[keep].reset_index(drop=True), numbers[keep]
    rm = RowMap.from_numbers(records, numbers, tables)
    out = {role: unified_table(role, tables, spec, rm)
           for role in ("orders", "events", "touchpoints", "campaign_assignments")}
    prof = build_profiles(tables, rm, as_of=T(as_of), orders=out["orders"]).set_index("oneid")
    return out, prof, rm


def oid(*people):
    return list(format_oneid(np.array(people)))


# -- OneIDs and the row map -------------------------------------------------------------------------

def test_format_oneids_matches_stable_format():
    nums = np.array([0, 1, 42, 999_999_999, 1_000_000_000, 12_345_678_901])
    assert format_oneids(nums).to_pylist() == list(format_oneid(nums))
    assert format_oneids(nums[:4]).to_pylist() == ["O000000000", "O000000001", "O000000042", "O999999999"]
    with pytest.raises(ValueError, match=">= 0"):
        format_oneids(np.array([3, -1]))


def test_from_numbers_codes_rows_and_sparse_numbers():
    tables, records, numbers, _ = world()
    rm = RowMap.from_numbers(records, numbers, tables)
    assert list(rm.oneids) == oid(A, B, C, D, E)
    assert rm.codes["crm_members"].tolist() == [0, 0, 2, 2, 3, 3]
    assert rm.codes["web_events"].tolist() == [4, 0, 4]
    assert list(rm.keys["pos_orders"]) == ["pos_orders:P1", "pos_orders:P2", "pos_orders:P3"]
    assert list(rm.oneid_strings(rm.record_codes)) == list(format_oneid(numbers))
    # one number per cluster and the cluster of each record (assign_oneid_numbers' output)
    cluster_numbers, cluster = np.array([4, 2, 5, 1, 3]), np.array([3, 1, 4, 0, 2])[numbers - 1]
    rc = RowMap.from_numbers(records, cluster_numbers, tables, codes=cluster)
    assert list(rc.oneids) == list(rm.oneids)
    assert all(np.array_equal(rc.codes[s], rm.codes[s]) for s in rm.codes)
    # sparse numbers (kept ids of earlier runs): the sort path gives the same codes
    sparse = np.array([7, 10**8, 12_345_678_901, 55, 3])[numbers - 1]
    rs = RowMap.from_numbers(records, sparse, tables)
    assert list(rs.oneids) == list(format_oneid(np.sort(np.array([7, 10**8, 12_345_678_901, 55, 3]))))
    assert rs.codes["crm_members"].tolist() == [1, 1, 4, 4, 2, 2]  # E < A < D < B < C


def test_from_records_equals_from_numbers_and_accepts_any_strings():
    tables, records, numbers, _ = world()
    a = RowMap.from_numbers(records, numbers, tables)
    b = RowMap.from_records(records, np.asarray(format_oneid(numbers), dtype=object), tables)
    assert list(a.oneids) == list(b.oneids)
    for s in a.codes:
        assert np.array_equal(a.codes[s], b.codes[s])
        assert np.array_equal(a.times[s], b.times[s], equal_nan=True)
        assert list(a.keys[s]) == list(b.keys[s])
    names = np.array(["zoe", "adam", "mia", "li", "bo"], dtype=object)[numbers - 1]
    names[0] = None  # an unresolved record: its row gets code -1
    c = RowMap.from_records(records, names, tables)
    assert list(c.oneids) == ["adam", "bo", "li", "mia", "zoe"]
    assert c.codes["crm_members"].tolist() == [-1, 4, 3, 3, 2, 2]
    assert c.codes_of(pd.Series(["mia", "nobody", "adam"])).tolist() == [3, -1, 0]
    first3 = c.oneid_strings(c.record_codes[:3])
    assert pd.isna(first3[0]) and list(first3[1:]) == ["zoe", "mia"]


def test_records_in_any_order_map_to_table_rows():
    tables, records, numbers, _ = world()
    perm = np.random.default_rng(3).permutation(len(records))
    a = RowMap.from_numbers(records, numbers, tables)
    b = RowMap.from_numbers(records.iloc[perm].reset_index(drop=True), numbers[perm], tables)
    for s in a.codes:
        assert np.array_equal(a.codes[s], b.codes[s]), s
        assert np.array_equal(a.times[s], b.times[s], equal_nan=True), s
        assert list(a.keys[s]) == list(b.keys[s]), s


def test_codes_of_parses_canonical_oneids():
    tables, records, numbers, _ = world()
    rm = RowMap.from_numbers(records, numbers, tables)
    assert rm.codes_of(pd.Series(oid(E, A, C))).tolist() == [4, 0, 2]
    assert rm.codes_of(pd.Series(oid(9) + oid(B))).tolist() == [-1, 1]  # not a OneID of the map
    assert rm.codes_of(pd.Series(["O00000000X", "O000000002"])).tolist() == [-1, 1]


def test_bad_input_raises():
    tables, records, numbers, _ = world()
    with pytest.raises(ValueError, match="one value per record"):
        RowMap.from_numbers(records, numbers[:-1], tables)
    with pytest.raises(ValueError, match=">= 0; record 2"):
        RowMap.from_numbers(records, np.r_[1, 1, -4, numbers[3:]], tables)
    with pytest.raises(ValueError, match="record 1 has cluster 7, outside the 5 numbers"):
        RowMap.from_numbers(records, np.arange(1, 6), tables, codes=np.r_[0, 7, numbers[2:] - 1])
    with pytest.raises(ValueError, match="integers"):
        RowMap.from_numbers(records, numbers.astype(float), tables)
    with pytest.raises(ValueError, match="'pos_orders'.*not among the tables"):
        RowMap.from_numbers(records, numbers, {k: v for k, v in tables.items() if k != "pos_orders"})
    bad = records.copy()
    bad.loc[bad["source"] == "touchpoints", "row"] = [0, 5]
    with pytest.raises(ValueError, match="'touchpoints': row 5 is outside its table"):
        RowMap.from_numbers(bad, numbers, tables)
    with pytest.raises(ValueError, match="missing column"):
        RowMap.from_numbers(records.drop(columns="time"), numbers, tables)
    _, _, _, spec = world()
    with pytest.raises(ValueError, match="unknown role"):
        unified_table("visits", tables, spec, RowMap.from_numbers(records, numbers, tables))


# -- unified tables ---------------------------------------------------------------------------------

def test_unified_orders_rows_order_and_types():
    out, _, _ = unify()
    o = out["orders"]
    assert list(o.columns) == ["order_key", "source", "oneid", "channel", "order_time", "amount", "status",
                               "category"]
    # time order; equal times keep spec order (ecom before pos) then table order
    assert list(o["order_key"]) == ["ecom_orders:E1", "ecom_orders:E2", "pos_orders:P1", "pos_orders:P2",
                                    "ecom_orders:E3", "ecom_orders:E4", "ecom_orders:E5", "pos_orders:P3"]
    assert list(o["oneid"]) == oid(A, B, A, D, B, A, A, D)
    assert str(o["oneid"].dtype) == "string" and o["oneid"].dtype.storage == "pyarrow"
    assert list(o["channel"]) == ["tmall", "jd", "store", "store", "tmall", "tmall", "tmall", "store"]
    assert list(o["channel"].cat.categories) == ["jd", "store", "tmall"]  # present values, sorted
    assert list(o["source"].cat.categories) == ["ecom_orders", "pos_orders"]
    assert list(o["status"].cat.categories) == ["cancelled", "paid", "refunded"]
    assert o["amount"].tolist() == [100.0, 50.0, 20.0, 10.0, 80.0, 30.0, 60.0, 15.0]
    assert o["order_time"].is_monotonic_increasing


def test_unified_events_touchpoints_assignments():
    out, _, _ = unify()
    ev = out["events"]
    assert list(ev["event_key"]) == ["web_events:W3", "web_events:W1", "web_events:W2"]  # sorted by time
    assert list(ev["oneid"]) == oid(E, E, A)
    assert list(ev["event_type"]) == ["cart", "view", "view"]
    assert list(ev["event_type"].cat.categories) == ["cart", "view"]
    tp = out["touchpoints"]
    assert list(tp["oneid"]) == oid(E, B)
    assert tp["campaign_id"].tolist()[0] == "C1" and pd.isna(tp["campaign_id"].iloc[1])
    ca = out["campaign_assignments"]
    assert list(ca.columns) == ["assignment_key", "source", "oneid", "campaign_id", "arm", "assigned_time",
                                "contacted"]
    assert list(ca["oneid"]) == oid(C) and ca["contacted"].tolist() == [True]


def test_rows_after_the_cut_are_left_out():
    out, prof, rm = unify(cut="2024-06-01")
    assert list(out["orders"]["order_key"]) == ["ecom_orders:E1", "ecom_orders:E2", "pos_orders:P1",
                                                "pos_orders:P2", "ecom_orders:E3"]
    assert list(out["events"]["event_key"]) == ["web_events:W3", "web_events:W1"]
    assert rm.codes["crm_members"].tolist() == [0, -1, 2, 2, 3, 3]  # the 2024-06-01 record is cut
    assert prof.loc[oid(A)[0], "n_records"] == 3
    assert prof.loc[oid(A)[0], "last_seen"] == T("2024-02-01")
    assert prof.loc[oid(A)[0], "name_masked"] == "张*"  # the newer name is after the cut
    assert prof.loc[oid(A)[0], "channel_pref"] == "store"  # tmall 1, store 1: first in sort order
    assert prof.loc[oid(A)[0], "top_category"] == "beauty"  # beauty 1, food 1


# -- profiles ---------------------------------------------------------------------------------------

def test_profile_survivorship():
    _, prof, _ = unify()
    a, b, c, d, e = oid(A, B, C, D, E)
    assert list(prof.index) == [a, b, c, d, e]
    # A: the newest CRM name wins; gender/birth year/city from the older CRM record (newer is null);
    # CRM outranks the newer e-commerce city
    assert prof.loc[a, "name_masked"] == "张**"
    assert (prof.loc[a, "gender"], prof.loc[a, "birth_year"], prof.loc[a, "city"]) == ("M", 1990.0, "上海")
    # B: no CRM record: the latest order's receiver name, the latest non-null order city
    assert prof.loc[b, "name_masked"] == "赵**" and prof.loc[b, "city"] == "成都"
    assert pd.isna(prof.loc[b, "gender"]) and np.isnan(prof.loc[b, "birth_year"])
    # C: a dated record beats one without a time, even later in the table
    assert prof.loc[c, "name_masked"] == "李*" and prof.loc[c, "gender"] == "M" and prof.loc[c, "city"] == "海口"
    assert prof.loc[c, "birth_year"] == 2001.0  # the only non-null one
    # D: two records at the same time: the first row wins
    assert prof.loc[d, "name_masked"] == "王*" and prof.loc[d, "gender"] == "F" and prof.loc[d, "birth_year"] == 1960
    # E: nothing known
    assert pd.isna(prof.loc[e, "name_masked"]) and pd.isna(prof.loc[e, "city"])
    assert prof["age_band"].astype(object).where(prof["age_band"].notna(), None).tolist() == [
        "30-34", None, "18-24", "50+", None]
    assert prof["city_tier"].astype(str).tolist() == ["1", "new-1", "3", "unknown", "unknown"]
    assert prof["gender"].dtype == object and prof["birth_year"].dtype == np.float64


def test_any_opt_out_wins():
    _, prof, _ = unify()
    # A opted out on the older CRM record; the newer record says False: still opted out (PIPL)
    assert prof["marketing_opt_out"].tolist() == [True, False, False, False, False]
    assert prof["marketing_opt_out"].dtype == bool


def test_first_last_seen_and_counts():
    _, prof, _ = unify()
    assert prof["first_seen"].tolist() == [T("2024-01-01"), T("2024-01-15"), T("2023-01-01"), T("2024-03-01"),
                                           T("2023-12-31")]  # B: the touchpoint before the orders
    assert prof["last_seen"].tolist() == [T("2024-10-01"), T("2024-05-01"), T("2024-01-10"), T("2024-09-01"),
                                          T("2024-04-01")]
    assert prof["n_records"].tolist() == [7, 3, 3, 4, 3]
    counts = prof[[c for c in prof.columns if c.startswith("n_") and c != "n_records"]]
    assert list(counts.columns) == ["n_campaign_assignments", "n_crm_members", "n_ecom_orders",
                                    "n_pos_orders", "n_touchpoints", "n_web_events"]
    assert counts.sum(axis=1).tolist() == prof["n_records"].tolist()
    assert counts.loc[oid(A)[0]].tolist() == [0, 2, 3, 1, 0, 1]


def test_channel_preference_mix_and_top_category():
    _, prof, _ = unify()
    # A: paid tmall x2 + store x1 (the refunded tmall order does not count); B: jd 1, tmall 1 -> jd
    # (tie: first in sort order); C: no orders; D: paid store (cancelled store order ignored)
    assert prof["channel_pref"].where(prof["channel_pref"].notna(), None).tolist() == [
        "tmall", "jd", None, "store", None]
    assert prof["channel_mix"].tolist() == ["omnichannel", "online only", "no purchase", "store only",
                                            "no purchase"]
    assert prof["top_category"].where(prof["top_category"].notna(), None).tolist() == [
        "beauty", "food", None, "food", None]


def test_profiles_without_orders_and_column_order():
    tables, records, numbers, _ = world()
    rm = RowMap.from_numbers(records, numbers, tables)
    prof = build_profiles(tables, rm, as_of=T("2024-12-31"))
    assert "channel_pref" not in prof.columns
    assert list(prof.columns)[:4] == ["oneid", "first_seen", "last_seen", "n_records"]
    assert list(prof.columns)[-7:] == ["gender", "birth_year", "city", "marketing_opt_out", "name_masked",
                                       "age_band", "city_tier"]
    # the age band's reference year defaults to the latest record (2024)
    assert build_profiles(tables, rm)["age_band"].iloc[0] == "30-34"


def test_cut_before_every_order_gives_empty_tables():
    out, prof, _ = unify(cut="2024-01-01")
    o = out["orders"]
    assert len(o) == 0 and list(o.columns) == ["order_key", "source", "oneid", "channel", "order_time",
                                               "amount", "status", "category"]
    assert len(out["campaign_assignments"]) == 0
    assert list(out["events"]["event_key"]) == ["web_events:W3"]
    # people left: C (records of 2023-01-01 and without a time) and E (2023-12-31 event)
    assert list(prof.index) == oid(C, E)
    assert prof.loc[oid(C)[0], "n_records"] == 2 and prof.loc[oid(C)[0], "name_masked"] == "李*"
