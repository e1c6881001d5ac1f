"""omni.recommend: models on hand-built histories, rules, the bootstrap, the io contract of order
lines, and the whole analysis on the test world (against popularity and the truth's oracle)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from omni.recommend.data import build_interactions, catalogue_from
from omni.recommend.evaluation import paired_bootstrap, per_user_metrics, truth_matrix
from omni.recommend.models import fit_recommender, history_at
from omni.recommend.rules import apply_rules, cap_per_category, in_season

# -- a tiny hand-built world: 4 SKUs, 3 people ------------------------------------------------------
CAT = catalogue_from(pd.DataFrame({
    "sku": ["A", "B", "C", "D"], "category": ["skincare", "skincare", "makeup", "makeup"],
    "product_line": ["s1", "s1", "m1", "m1"], "season": ["all_year"] * 3 + ["spring_summer"],
    "repeat_item": [True, False, False, False], "launch_date": ["2020-01-01"] * 4,
}))
T = pd.Timestamp


def _purchases(rows):
    return pd.DataFrame(rows, columns=["user", "item", "time", "channel"]).assign(quantity=1)


def _tiny():
    # person 0 buys the refill A every 30 days; person 1 buys A with C (twice) ; person 2 buys C once
    p = _purchases([
        (0, 0, T("2026-06-01"), "tmall"), (0, 0, T("2026-07-01"), "tmall"), (0, 0, T("2026-07-31"), "store"),
        (1, 0, T("2026-05-10"), "jd"), (1, 2, T("2026-05-10"), "jd"),
        (1, 0, T("2026-08-01"), "jd"), (1, 2, T("2026-08-01"), "jd"),
        (2, 2, T("2026-08-20"), "site"),
    ])
    v = pd.DataFrame({"user": [2], "item": [3], "time": [T("2026-08-21")]})
    return p, v


def test_buy_again_and_co_purchase_lists_are_exact():
    p, v = _tiny()
    h = history_at(p, v, 3, 4, T("2026-09-01"))
    assert h.item_interval[0] == pytest.approx(30.0)  # gaps between two A purchases: 30, 30, 83
    rec = fit_recommender(h, np.zeros(3, np.int64), CAT.repeat, np.ones(4, bool),
                          components=("popularity", "buy_again", "copurchase"))
    ba = rec.component("buy_again", np.arange(3))
    # person 0: A bought 3 times, 32 days ago with a 30-day cycle: due, the top score of the matrix
    assert np.argmax(ba[0]) == 0 and ba[0, 1:].max() == 0 and ba[0, 0] == ba.max()
    # person 2 bought C once, a non-repeat item 12 days ago: small, only C
    assert np.flatnonzero(ba[2]).tolist() == [2] and ba[2, 2] < 0.2
    # A and C were bought together by person 1 only: cosine 1 / sqrt(2 * 2) = 0.5
    assert rec.copurchase[0, 2] == pytest.approx(0.5) and rec.copurchase[0, 1] == 0
    assert rec.recommend("copurchase", np.array([2]), 1).tolist() == [[0]]  # C's buyer -> A


def test_the_blend_ranks_as_the_sum_of_weighted_z_scores():
    """The low-rank + sparse blend equals the weighted sum of each model's per-person z-scores
    over all items, up to one constant per person (which no ranking sees)."""
    rng = np.random.default_rng(5)
    n_users, n_items = 40, 12
    p = _purchases([(int(u), int(i), T("2026-01-01") + pd.Timedelta(days=int(d)), "tmall")
                    for u, i, d in zip(rng.integers(0, n_users, 300), rng.integers(0, n_items, 300),
                                       rng.integers(0, 240, 300), strict=True)])
    v = pd.DataFrame({"user": rng.integers(0, n_users, 200), "item": rng.integers(0, n_items, 200),
                      "time": T("2026-05-01") + pd.to_timedelta(rng.integers(0, 100, 200), "D")})
    p, v = p.loc[p["item"] != 11], v.loc[v["item"] != 11]  # SKU 11 is new: nobody bought or viewed it
    h = history_at(p, v, n_users, n_items, T("2026-09-01"))
    line = np.arange(n_items) % 3  # product lines 0, 1, 2
    rec = fit_recommender(h, rng.integers(0, 3, n_users), rng.random(n_items) < 0.3, np.ones(n_items, bool), line,
                          factors=4, iterations=3)
    w = {"popularity": 1.0, "buy_again": 2.0, "copurchase": 0.5, "coview": 1.0, "als": 0.5, "bpr": 1.0}
    users = np.arange(n_users)

    def z(s):
        sd = s.std(axis=1, keepdims=True)
        return np.where(sd > 1e-12, (s - s.mean(axis=1, keepdims=True)) / np.maximum(sd, 1e-12), 0.0)

    want = sum(wt * z(rec.component(c, users).astype(np.float64)) for c, wt in w.items())
    want[:, 11] = want[:, [2, 5, 8]].mean(axis=1)  # the new SKU: its line's mean
    got = rec.scores("blend", users, w).astype(np.float64)
    shift = got - want
    assert np.ptp(shift, axis=1).max() < 1e-4  # one constant per row
    assert np.ptp(shift[:, 0]) > 0.1  # ... which differs between people (the means are dropped)
    cols = np.array([1, 4, 11])
    assert np.allclose(rec.blend_parts(users).scores(w, columns=cols), got[:, cols], atol=1e-5)
    parts = rec.blend_parts(users[:5], components=["popularity"])
    with pytest.raises(ValueError, match="do not hold"):
        parts.scores({"bpr": 1.0})


def test_the_interval_is_the_median_gap_of_one_person_buying_one_item_again():
    p = _purchases([(0, 0, T("2026-01-01"), "tmall"), (0, 0, T("2026-01-31"), "tmall"), (0, 0, T("2026-03-02"), "tmall"),
                    (1, 0, T("2026-02-01"), "jd"), (1, 0, T("2026-04-02"), "jd")])
    h = history_at(p, p.iloc[:0][["user", "item", "time"]], 2, 4, T("2026-05-01"))
    assert h.item_interval[0] == pytest.approx(30.0)  # gaps 30, 30, 60 -> median 30
    assert np.isnan(h.item_interval[1])


def test_business_rules_exclude_what_they_must():
    scores = np.array([[4.0, 3.0, 2.0, 1.0], [4.0, 3.0, 2.0, 1.0]], np.float32)
    last = sp.csr_matrix(np.array([[5.0, 5.0, 0, 0], [0, 0, 0, 0]]))  # person 0 bought A and B 4 days ago
    allowed = in_season(CAT.column("season"), 11)  # D is spring-summer: out in November
    assert allowed.tolist() == [True, True, True, False]
    cats = CAT.category_codes[0]
    got = apply_rules(scores, last, CAT.repeat, allowed, cats, k=3, exclude_days=30, max_per_category=None)
    assert got[0].tolist() == [0, 2, -1]  # A is a refill: kept; B just bought: out; D out of season
    assert got[1].tolist() == [0, 1, 2]
    capped = cap_per_category(np.array([[0, 1, 2, 3]]), cats, k=3, cap=1)
    assert capped.tolist() == [[0, 2, -1]]


def test_metrics_and_paired_bootstrap_on_known_cases():
    truth = truth_matrix(np.array([0, 0, 1]), np.array([1, 3, 2]), 2, 4)
    recs = np.array([[1, 0, 2, 3], [0, 1, 3, 2]])
    m = per_user_metrics(recs, truth)
    assert m["recall@20"].tolist() == [1.0, 1.0]
    assert m["map@12"].tolist() == pytest.approx([(1 + 2 / 4) / 2, 1 / 4])
    assert m["ndcg@10"][0] == pytest.approx((1 + 1 / np.log2(5)) / (1 + 1 / np.log2(3)))
    # model b is exactly 1.5 x model a for every person: every resample gives a lift of +50 %
    a = np.random.default_rng(1).uniform(0.1, 1, 500)
    b = paired_bootstrap({"a": a, "b": 1.5 * a}, "a", n_boot=100, seed=3)
    assert b.loc["b", "lift"] == pytest.approx(0.5)
    assert b.loc["b", "lift_low"] == pytest.approx(0.5) and b.loc["b", "lift_high"] == pytest.approx(0.5)
    assert b.loc["a", "ci_low"] < a.mean() < b.loc["a", "ci_high"]
    # a constant metric has a zero-width interval
    c = paired_bootstrap({"x": np.full(50, 0.25)}, "x", n_boot=20)
    assert c.loc["x", "ci_low"] == c.loc["x", "ci_high"] == 0.25


def test_lines_join_orders_by_record_and_reconcile():
    orders = pd.DataFrame({"order_key": ["ecom_orders:1", "ecom_orders:2", "pos_orders:S-1"],
                           "oneid": ["O1", "O2", "O1"], "order_time": pd.to_datetime(["2026-01-01"] * 3),
                           "channel": ["tmall", "jd", "store"], "amount": [100.0, 50.0, 30.0],
                           "status": ["paid", "refunded", "paid"]})
    lines = pd.DataFrame({"order_source": ["ecom_orders", "ecom_orders", "ecom_orders", "pos_orders", "pos_orders",
                                           "ecom_orders"],
                          "order_id": ["1", "1", "2", "S-1", "S-9", "1"], "sku": ["A", "C", "B", "A", "A", "Z"],
                          "quantity": [1, 1, 1, 1, 1, 1], "amount": [60.0, 40.0, 50.0, 25.0, 5.0, 1.0]})
    inter = build_interactions(orders, lines, CAT, rows_in=8, quarantined=2)
    rec = inter.reconciliation.set_index("lines")["count"]
    assert rec["joined to a paid order"] == 3 and rec["joined to a refunded or cancelled order"] == 1
    assert rec["order not accepted (quarantined or missing)"] == 1 and rec["SKU not in the catalogue"] == 1
    assert inter.reconciliation.attrs["reconciles"]
    # order 1: 60 + 40 (+ the unknown SKU's 1.00) != 100; S-1: 25 != 30
    assert rec["orders whose line amounts do not sum to the order amount"] == 2
    assert list(inter.users) == ["O1"] and sorted(inter.purchases["item"]) == [0, 0, 2]


def test_bad_line_items_are_quarantined_with_reasons(test_world):
    from omni.io import load_source
    from omni.io.spec import read_spec

    r = load_source(read_spec(test_world), "order_lines")
    assert r.rows_in == r.accepted + r.quarantined and r.quarantined == 6
    reasons = r.quarantine["reason"].astype(str).value_counts().to_dict()
    assert reasons == {"negative_amount": 2, "null_required": 1, "unparseable_float": 3}
    lines = pd.read_csv(test_world / "raw" / "order_lines.csv", dtype=str)
    orders = pd.read_csv(test_world / "raw" / "ecom_orders.csv", dtype=str)
    amt = pd.to_numeric(lines["amount"], errors="coerce")
    ok = lines.loc[amt.notna() & (amt >= 0) & (lines["order_source"] == "ecom_orders")]
    sums = ok.assign(c=(pd.to_numeric(ok["amount"]) * 100).round()).groupby("order_id")["c"].sum()
    o = orders.set_index("order_id")["amount"].pipe(pd.to_numeric, errors="coerce").mul(100).round()
    both = sums.index.intersection(o.index)
    # the rule: line amounts sum to the order amount to the cent (the last line absorbs the rounding)
    assert (sums[both] == o[both]).mean() > 0.998


@pytest.fixture(scope="module")
def result(test_world):
    import omni
    from omni.recommend import analyse_month

    return analyse_month(omni.open(test_world), "2026-10", n_boot=100, single_channels=("tmall", "store"))


def test_the_blend_beats_popularity_and_stays_below_the_oracle(result):
    m = result.tables["models"]
    assert result.best_model == "blend"
    assert m.loc["blend", "recall@20"] > m.loc["popularity", "recall@20"]
    assert m.loc["blend", "lift@20 low"] > 0  # the paired interval excludes no lift
    assert m.loc["oracle", "recall@20"] > m.loc["blend", "recall@20"] + 0.1
    gap = result.tables["oracle_gap"]
    assert 0 < gap.loc["blend", "gap closed"] < 1 and gap.loc["popularity", "gap closed"] == 0
    assert result.oracle_mapped > 0.95
    assert result.tables["reconciliation"].attrs["reconciles"]
    sc = result.tables["single_channel"].set_index("channel")
    assert (sc["omnichannel recall@20"] > sc["single-channel recall@20"]).all()
    keys = [f.key for f in result.headline]
    assert keys[:5] == ["rec_people", "rec_recall20_popularity", "rec_best_model", "rec_recall20_best",
                        "rec_lift_recall20"]


def test_the_comparison_runs_on_a_sample_and_the_lists_on_everyone(result, test_world):
    import omni
    from omni.recommend import analyse_month
    from omni.recommend.narrative import summary

    small = analyse_month(omni.open(test_world), "2026-10", n_boot=20, single_channels=("tmall",), eval_people=1500,
                          write_table=False)
    assert small.eval_people == 1500 < small.all_people == result.all_people == result.eval_people
    assert small.n_users < result.n_users  # the sample's buyers of the test month
    # the lists cover the same people (fitted on everyone); the weights came from the sample
    assert set(small.topk["oneid"]) == set(result.topk["oneid"])
    assert "random sample of 1,500 of the" in summary(small)
    assert "random sample" not in summary(result)
    label = {f.key: f.label for f in small.headline}["rec_people"]
    assert label == "people scored (buyers of 2026-10 among 1,500 sampled people)"
    assert {f.key: f.label for f in result.headline}["rec_people"] == "people scored (buyers of 2026-10)"


def test_topk_table_is_keyed_by_oneid_and_leaves_out_opted_out_people(result, test_world):
    import omni

    t = result.topk
    assert t.groupby("oneid")["rank"].max().max() == 20 and not t.duplicated(["oneid", "rank"]).any()
    assert t["oneid"].str.fullmatch(r"O\d+").all()
    ws = omni.open(test_world)
    prof = ws.resolve(as_of="2026-10").profiles
    opted = set(prof.loc[prof["marketing_opt_out"].fillna(False).astype(bool), "oneid"].astype(str))
    assert result.opted_out == len(opted) > 0 and not opted & set(t["oneid"])
    # at most 4 per category in each list; nothing out of season in November
    assert t.groupby(["oneid", "category"], observed=True).size().max() <= 4
    products = ws.source("products").set_index("sku")
    assert not (products.loc[t["sku"].astype(str), "season"] == "spring_summer").any()
    cached = pd.read_parquet(result.topk_path)
    assert len(cached) == len(t) and cached["oneid"].is_monotonic_increasing
    # the examples show masked OneIDs only
    assert not set(result.examples["person"]) & set(t["oneid"])


def test_audience_export_activates_top_category(result, test_world, tmp_path, monkeypatch, capsys):
    from omni.cli import main

    defs = tmp_path / "aud.yaml"
    defs.write_text("audiences:\n  next_skincare:\n    description: skincare in the top 3\n"
                    "    rule: {type: top_category, category: skincare, k: 3}\n", encoding="utf-8")
    monkeypatch.setenv("OMNI_PSEUDONYM_KEY", "k" * 40)
    out = tmp_path / "out"
    assert main(["audience", "export", "--data", str(test_world), "--month", "2026-10", "--definitions", str(defs),
                 "--platforms", "oneid", "--out", str(out), "--quiet"]) == 0
    t = result.topk
    want = set(t.loc[(t["rank"] <= 3) & (t["category"] == "skincare"), "oneid"])
    files = list(out.glob("*.csv"))
    assert len(files) == 1
    exported = pd.read_csv(files[0], dtype=str)
    assert 0 < len(exported) <= len(want)
    bad = tmp_path / "bad.yaml"
    bad.write_text("audiences:\n  x:\n    description: d\n    rule: {type: top_category, category: shoes}\n",
                   encoding="utf-8")
    assert main(["audience", "export", "--data", str(test_world), "--month", "2026-10", "--definitions", str(bad),
                 "--platforms", "oneid", "--out", str(tmp_path / "o2"), "--quiet"]) == 2
    assert "unknown category(ies) ['shoes']" in capsys.readouterr().err


def test_lines_join_the_same_with_arrow_strings_and_categories():
    # the join reads Arrow strings: Arrow-backed and categorical columns give what object columns
    # give, and a line whose order id is missing joins nothing (counted as "order not accepted")
    orders = pd.DataFrame({"order_key": pd.array(["ecom_orders:1", "pos_orders:S-1"], dtype="string[pyarrow]"),
                           "oneid": pd.array(["O2", "O1"], dtype="string[pyarrow]"),
                           "order_time": pd.to_datetime(["2026-01-01", "2026-01-02"]),
                           "channel": pd.Categorical(["tmall", "store"]), "amount": [10.0, 5.0],
                           "status": pd.Categorical(["paid", "paid"])})
    lines = pd.DataFrame({"order_source": pd.Categorical(["ecom_orders", "pos_orders", "ecom_orders"]),
                          "order_id": pd.array(["1", "S-1", None], dtype="string[pyarrow]"),
                          "sku": pd.array(["A", "C", "A"], dtype="string[pyarrow]"), "quantity": [1, 2, 1],
                          "amount": [10.0, 5.0, 1.0]})
    inter = build_interactions(orders, lines, CAT)
    obj = build_interactions(orders.astype({"order_key": object, "oneid": object, "channel": object}),
                             lines.astype({"order_source": object, "order_id": object, "sku": object}).fillna("x"),
                             CAT)
    assert list(inter.users) == list(obj.users) == ["O1", "O2"]  # sorted, codes = positions
    pd.testing.assert_frame_equal(inter.purchases, obj.purchases)
    assert inter.purchases[["user", "item", "channel", "quantity"]].values.tolist() == [[1, 0, "tmall", 1],
                                                                                        [0, 2, "store", 2]]
    rec = inter.reconciliation.set_index("lines")["count"]
    assert rec["order not accepted (quarantined or missing)"] == 1 and inter.reconciliation.attrs["reconciles"]


def test_factors_fitted_on_their_own_thread_are_the_same_and_stop_on_request():
    import threading

    from omni.recommend.models import FitStopped, fit_factors

    p, v = _tiny()
    h = history_at(p, v, 3, CAT.n, T("2026-09-01"))
    rec = fit_recommender(h, np.zeros(3, np.int64), CAT.repeat, np.ones(CAT.n, bool), factors=4, iterations=3)
    bpr = fit_factors("bpr", h, factors=4, iterations=3)
    assert np.array_equal(bpr[0], rec.bpr_user) and np.array_equal(bpr[1], rec.bpr_item)
    als = fit_factors("als", h, factors=4, iterations=3)
    assert np.array_equal(als[0], rec.als_user)
    # factors handed in are used as they are; the other model is fitted as usual
    again = fit_recommender(h, np.zeros(3, np.int64), CAT.repeat, np.ones(CAT.n, bool), factors=4, iterations=3,
                            fitted={"bpr": lambda: bpr})
    assert np.array_equal(again.bpr_user, rec.bpr_user) and np.array_equal(again.als_user, rec.als_user)
    stop = threading.Event()
    stop.set()
    with pytest.raises(FitStopped):
        fit_factors("bpr", h, factors=4, iterations=3, stop=stop)


def test_top3_categories_and_examples_read_the_lists_as_the_table_has_them(result, test_world):
    import omni
    from omni.core.month import Month
    from omni.privacy import mask_id
    from omni.recommend.analysis import load_interactions

    t = result.topk
    prof = omni.open(test_world).resolve(as_of="2026-10").profiles
    top3 = t.loc[t["rank"] <= 3]
    seg = prof.set_index("oneid")["channel_mix"].reindex(top3["oneid"]).to_numpy()
    want = pd.crosstab(pd.Series(seg).astype(str).rename("segment"),
                       top3["category"].astype(str).reset_index(drop=True).rename("category"), normalize="index")
    pd.testing.assert_frame_equal(result.tables["by_segment_category"], want, check_exact=True)
    # the examples: the three people with the most purchase lines who have a list, each with the
    # first five rows of the table
    inter, _ = load_interactions(omni.open(test_world), Month.parse("2026-10"))
    counts = inter.purchases.groupby("user").size().sort_values(ascending=False, kind="stable")
    have = set(t["oneid"])
    firsts = [inter.users[u] for u in counts.index if inter.users[u] in have][:3]
    assert list(result.examples["person"]) == [mask_id(pd.Series([o])).iloc[0] for o in firsts]
    for oid, got in zip(firsts, result.examples["recommended next"], strict=True):
        rows = t.loc[t["oneid"] == oid].sort_values("rank").head(5)
        assert got == ", ".join(rows["sku"].astype(str) + " (" + rows["category"].astype(str) + ")")


def test_the_topk_table_in_blocks_is_the_whole_table_and_is_written_the_same(tmp_path):
    from omni.recommend.topk import (
        TOPK_FILE,
        Lists,
        lists_blocks,
        lists_table,
        topk_dir,
        write_topk,
    )

    class _Ws:  # what write_topk reads of a workspace
        path, fingerprint = tmp_path, "fp"

    rng = np.random.default_rng(3)
    items = rng.integers(-1, CAT.n, size=(11, 3)).astype(np.int32)
    items[4] = -1  # a person whose list is empty
    lists = Lists(pd.Index([f"O{i:09d}" for i in range(11)]), items, np.arange(11), 0)
    whole = lists_table(lists, CAT)
    blocks = list(lists_blocks(lists, CAT, chunk=4))
    assert [len(b) for b in blocks] == [int((items[s:s + 4] >= 0).sum()) for s in (0, 4, 8)]
    pd.testing.assert_frame_equal(pd.concat(blocks, ignore_index=True), whole)
    pd.testing.assert_frame_equal(lists_table(lists, CAT, chunk=4), whole)
    assert len(whole) == int((items >= 0).sum()) and whole["oneid"].is_monotonic_increasing
    assert whole.loc[whole["oneid"] == "O000000000", "sku"].tolist() == list(CAT.skus[items[0][items[0] >= 0]])
    for i in (0, 7):  # ranks are the list positions kept
        got = whole.loc[whole["oneid"] == f"O{i:09d}", "rank"].tolist()
        assert got == list(np.flatnonzero(items[i] >= 0) + 1)
    assert "O000000004" not in set(whole["oneid"])

    one = write_topk(_Ws(), "2026-10", whole, {"k": 3})
    got_whole = pd.read_parquet(one)
    import json

    meta_whole = json.loads((one.parent / "meta.json").read_text())
    path = write_topk(_Ws(), "2026-10", lists_blocks(lists, CAT, chunk=4), {"k": 3})
    pd.testing.assert_frame_equal(pd.read_parquet(path), got_whole)
    meta = json.loads((path.parent / "meta.json").read_text())
    assert meta["rows"] == meta_whole["rows"] == len(whole) and meta["people"] == meta_whole["people"] == 10

    def failing():
        yield blocks[0]
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_topk(_Ws(), "2026-11", failing(), {"k": 3})
    assert not topk_dir(_Ws(), "2026-11").exists()
    assert not topk_dir(_Ws(), "2026-11").with_name("recommend-2026-11.tmp").exists()
    assert (topk_dir(_Ws(), "2026-10") / TOPK_FILE).exists()
