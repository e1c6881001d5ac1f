"""The month's computations: month journeys, statistics, bootstrap, ROI verdicts, month figures, truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omni.attribution import (
    attribute,
    build_journeys,
    channel_roi,
    comparison,
    figures,
    last_touch,
    markov_attribution,
    roi_summary,
    simulate_attribution_data,
    stats,
    time_decay,
    true_channel_shares,
    truth,
    uncertainty,
)
from omni.attribution import month as am
from omni.core.figures import compare_figures
from omni.core.month import Month, MonthError
from omni.privacy import publishable

D0 = pd.Timestamp("2025-02-01")


def day(x: float) -> pd.Timestamp:
    return D0 + pd.Timedelta(days=x)


def touches(rows: list[tuple]) -> pd.DataFrame:
    """rows: (oneid, day, channel[, touch_type[, campaign_id]])."""
    return pd.DataFrame(
        {
            "touch_key": [f"touchpoints:T{i}" for i in range(len(rows))],
            "oneid": pd.array([r[0] for r in rows], dtype="string"),
            "touch_time": [day(r[1]) for r in rows],
            "channel": [r[2] for r in rows],
            "touch_type": [r[3] if len(r) > 3 else "click" for r in rows],
            "campaign_id": pd.array([r[4] if len(r) > 4 else None for r in rows], dtype="string"),
        }
    )


def orders(rows: list[tuple]) -> pd.DataFrame:
    """rows: (oneid, day, amount[, channel[, status]])."""
    return pd.DataFrame(
        {
            "order_key": [f"orders:S{i}" for i in range(len(rows))],
            "source": "ecom_orders",
            "channel": [r[3] if len(r) > 3 else "tmall" for r in rows],
            "oneid": pd.array([r[0] for r in rows], dtype="string"),
            "order_time": [day(r[1]) for r in rows],
            "amount": [float(r[2]) for r in rows],
            "status": [r[4] if len(r) > 4 else "paid" for r in rows],
        }
    )


def spend(rows: list[tuple]) -> pd.DataFrame:
    """rows: (day, channel, spend)."""
    return pd.DataFrame(
        {
            "date": [day(r[0]).normalize() for r in rows],
            "channel": [r[1] for r in rows],
            "spend": [float(r[2]) for r in rows],
        }
    )


def paths_by_person(j) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for oneid, path in zip(j.journeys["oneid"], j.journeys["path"].astype(str), strict=True):
        out.setdefault(oneid, []).append(path)
    return out


# A small February (2025-02) with the cases that matter for the month's journeys:
#   A: sms on Jan 20 (previous month) and search on Feb 3, buys Feb 5 -> "sms > search" in February
#   B: buys Jan 25 after display on Jan 20; email on Feb 10, no order -> null journey "email"
#   C: only touched in January, never buys -> no February journey
#   D: buys Feb 28 23:59:59 (counts) and Mar 1 00:00 (next month); the store order has no touch
#   E: display Feb 27 at 23:00, buys in store Mar 2 -> null journey in February (its order is later)
#   F: touch 31 days before a February order -> outside the lookback, the order is direct
FEB_TOUCHES = [
    ("A", -12, "sms", "send"),
    ("A", 2, "search"),
    ("B", -12, "display"),
    ("B", 9, "email", "send"),
    ("C", -20, "display"),
    ("E", 26 + 23 / 24, "display"),
    ("F", -21, "search"),
]
FEB_ORDERS = [
    ("A", 4, 100.0, "tmall"),
    ("B", -7, 50.0, "jd"),
    ("D", 28 - 1 / 86_400, 80.0, "store"),
    ("D", 28, 90.0, "store"),
    ("E", 29, 60.0, "store"),
    ("F", 10, 70.0, "site"),
]


@pytest.fixture(scope="module")
def feb():
    return am.month_journeys(touches(FEB_TOUCHES), orders(FEB_ORDERS), "2025-02", lookback_days=30)


# ------------------------------------------------------------------------------- month journeys


def test_month_journeys_take_strict_months():
    tp, od = touches(FEB_TOUCHES), orders(FEB_ORDERS)
    a = am.month_journeys(tp, od, Month.parse("2025-02"))
    assert a.settings["month"] == "2025-02" and a.n_conversions == 3
    for bad in ("2024-13", "2024/02", "24-02", 202402, None):
        with pytest.raises(MonthError):
            am.month_journeys(tp, od, bad)


def test_month_journeys_hand_example(feb):
    assert paths_by_person(feb) == {
        "A": ["sms > search"],  # the January touch counts for the February order
        "B": ["email"],  # null journey: touch after the January order
        "D": ["direct"],  # Feb 28 23:59:59 is in the month, Mar 1 00:00 is not
        "E": ["display"],  # converts in March: in February it is a null journey
        "F": ["direct"],  # the only touch is 31 days before the order
    }
    jf = feb.journeys
    assert jf["converted"].tolist() == [True, False, True, False, True]
    assert jf["value"].tolist() == [100.0, 0.0, 80.0, 0.0, 70.0]
    assert feb.settings["month"] == "2025-02"
    assert list(jf["journey_id"]) == list(range(5))
    assert feb.n_conversions == 3


def test_month_journeys_equal_full_history_selection():
    sim = simulate_attribution_data(n_persons=2_000, seed=3)
    tp, od = sim.touchpoints, sim.orders
    month = "2025-02"
    start, end = Month.parse(month).start, Month.parse(month).end
    fast = am.month_journeys(tp, od, month, lookback_days=30)
    # reference: every touch and order up to the month end, then keep the month's journeys
    full = build_journeys(
        tp[tp["touch_time"] < end],
        od[od["order_time"] < end],
        lookback_days=30,
        null_journey_end=end - pd.Timedelta(1, "ns"),
    )
    last = (
        full.touches.groupby("journey_id")["touch_time"].max().reindex(full.journeys["journey_id"])
    )
    jf = full.journeys
    keep = np.where(jf["converted"], jf["conversion_time"] >= start, last.to_numpy() >= start)
    ref = am.select_journeys(full, keep)

    def key(j):
        f = j.journeys
        return sorted(
            zip(
                f["oneid"],
                f["order_key"].fillna(""),
                f["path"].astype(str),
                f["value"],
                strict=True,
            )
        )

    assert fast.n_conversions > 100 and (~fast.journeys["converted"]).sum() > 100
    assert key(fast) == key(ref)
    pd.testing.assert_frame_equal(
        markov_attribution(fast), markov_attribution(ref), check_exact=False, rtol=1e-12
    )


def test_select_journeys_gives_models_a_consistent_subset():
    sim = simulate_attribution_data(n_persons=1_500, seed=4)
    j = build_journeys(sim.touchpoints, sim.orders)
    keep = (j.journeys["oneid"].str[-1].astype(int) % 2 == 0).to_numpy()
    sub = am.select_journeys(j, keep)
    assert sub.n_journeys == keep.sum()
    assert sub.journeys["path_id"].max() + 1 == sub.paths().n_paths
    # the same journeys built directly from the kept people's data give the same attribution
    people = set(j.journeys.loc[keep, "oneid"])
    direct = build_journeys(
        sim.touchpoints[sim.touchpoints["oneid"].isin(people)],
        sim.orders[sim.orders["oneid"].isin(people)],
    )
    for fn in (last_touch, markov_attribution, time_decay):
        a, b = fn(sub), fn(direct)
        np.testing.assert_allclose(a["conversions"], b["conversions"], rtol=1e-10)
        np.testing.assert_allclose(a["value"], b["value"], rtol=1e-10)
    with pytest.raises(ValueError, match="boolean mask"):
        am.select_journeys(j, keep[:-1])
    with pytest.raises(ValueError, match="boolean mask"):
        am.select_journeys(j, keep.astype(int))


def test_month_journeys_bad_input():
    tp, od = touches(FEB_TOUCHES), orders(FEB_ORDERS)
    with pytest.raises(ValueError, match="lookback_days"):
        am.month_journeys(tp, od, "2025-02", lookback_days=0)
    with pytest.raises(ValueError, match="touch_time"):
        am.month_journeys(tp.drop(columns="touch_time"), od, "2025-02")
    bad = od.copy()
    bad.loc[2, "order_time"] = pd.NaT
    with pytest.raises(
        ValueError, match=r"orders: 1 row\(s\) with null 'order_time' \(first at row 2\)"
    ):
        am.month_journeys(tp, bad, "2025-02")


def test_paid_conversions_keep_paid_orders_and_count_bad_amounts():
    od = orders([("A", 1, 10.0), ("B", 2, -5.0), ("C", 3, -7.0, "jd", "refunded"), ("D", 4, 1.0),
                 ("E", 5, 3.0, "jd", " PAID ")])
    od.loc[3, "amount"] = np.nan
    clean, n = am.paid_conversions(od)
    # the one paid-order rule: status trimmed and lower-cased, amount finite and not negative
    assert n == 2 and clean["oneid"].tolist() == ["A", "E"]
    with pytest.raises(ValueError, match="amount"):
        am.paid_conversions(od.drop(columns="amount"))
    assert am.has_conversions(od, "2025-02") and not am.has_conversions(od, "2025-03")


# ------------------------------------------------------------------------------- statistics


def test_journey_stats_hand_example(feb):
    s = stats.journey_stats(feb)
    assert s["conversions"] == 3 and s["value"] == 250.0 and s["converting_people"] == 3
    assert s["null_journeys"] == 2
    assert s["touched_conversions"] == 1 and s["touched_share"] == pytest.approx(1 / 3)
    assert s["mean_touches"] == 2.0 and s["multichannel_share"] == 1.0
    assert s["median_days_to_convert"] == pytest.approx(16.0)  # Jan 20 -> Feb 5
    assert s["touched_conversion_rate"] == pytest.approx(1 / 3)


def test_length_and_time_distributions(feb):
    ld = stats.length_distribution(feb, max_touches=2)
    assert ld["touches"].tolist() == ["0", "1", "2+"]
    assert ld["conversions"].tolist() == [2, 0, 1]
    assert ld["null_journeys"].tolist() == [0, 2, 0]
    assert ld["mean_value"].iloc[0] == 75.0 and np.isnan(ld["mean_value"].iloc[1])
    tt = stats.time_to_convert_distribution(feb, edges_days=(0, 7, 14))
    assert tt["days"].tolist() == ["0-7", "7-14", "14+"]
    assert tt["conversions"].tolist() == [0, 0, 1] and tt["cumulative_share"].iloc[-1] == 1.0
    with pytest.raises(ValueError, match="edges_days"):
        stats.time_to_convert_distribution(feb, edges_days=(1, 7))
    with pytest.raises(ValueError, match="max_touches"):
        stats.length_distribution(feb, max_touches=0)


def test_top_paths_counts_people_and_filters_by_sales_channel():
    tp = touches(
        [
            ("A", 1, "sms"),
            ("B", 1, "sms"),
            ("B", 8, "sms"),
            ("C", 1, "sms"),
            ("C", 2, "search"),
            ("D", 1, "sms"),
        ]
    )
    od = orders(
        [
            ("A", 2, 10.0, "store"),
            ("B", 3, 20.0, "tmall"),
            ("C", 3, 5.0, "store"),
            ("E", 3, 9.0, "store"),
        ]
    )
    j = am.month_journeys(tp, od, "2025-02")
    top = stats.top_paths(j)
    sms = top.set_index("path").loc["sms"]
    # sms alone: A (converts), B (converts; and B's later sms is a null journey), D (null)
    assert (sms["people"], sms["journeys"], sms["conversions"]) == (3, 4, 2)
    assert sms["conversion_rate"] == 0.5 and sms["share_of_conversions"] == 0.5
    assert "direct" not in set(top["path"])
    store = stats.top_paths(j, conversion_channel="store", include_direct=True)
    assert store["path"].tolist() == ["direct", "sms", "sms > search"]
    assert store["conversions"].tolist() == [1, 1, 1] and "conversion_rate" not in store
    with pytest.raises(ValueError, match="positive integer"):
        stats.top_paths(j, n=0)


def test_conversion_channel_summary_online_before_store():
    tp = touches([("A", 1, "sms"), ("B", 1, "display")])
    od = orders(
        [
            ("A", 5, 10.0, "store"),
            ("C", 20, 30.0, "store"),
            ("D", 20, 40.0, "store"),
            ("B", 3, 25.0, "tmall"),
        ]
    )
    events = pd.DataFrame(
        {
            "oneid": pd.array(["C", "D", "A"], dtype="string"),
            "event_time": [day(10), day(20 - 31), day(4)],  # D's visit is 31 days before
        }
    )
    j = am.month_journeys(tp, od, "2025-02")
    s = stats.conversion_channel_summary(j, events).set_index("conversion_channel")
    store = s.loc["store"]
    assert store["conversions"] == 3 and store["value"] == 80.0
    assert store["touched_share"] == pytest.approx(1 / 3)
    assert store["visited_share"] == pytest.approx(2 / 3)  # A and C, not D
    assert store["online_share"] == pytest.approx(2 / 3)
    assert store["top_last_touch"] == "sms" and s.loc["tmall", "top_last_touch"] == "display"
    assert s.loc["all", "conversions"] == 4
    assert "visited_share" not in stats.conversion_channel_summary(j).columns


# ------------------------------------------------------------------------------- models


def test_bootstrap_shares_points_match_models_and_are_deterministic():
    sim = simulate_attribution_data(n_persons=3_000, seed=5)
    j = build_journeys(sim.touchpoints, sim.orders)
    b = uncertainty.bootstrap_shares(j, n_boot=50, seed=1)
    point = attribute(j)
    merged = b.merge(point, on=["model", "channel"], suffixes=("", "_point"))
    assert len(merged) == len(point)
    np.testing.assert_allclose(merged["share"], merged["share_point"], atol=1e-12)
    td = b[b["model"] == "time_decay"].set_index("channel")["share"]
    np.testing.assert_allclose(td.to_numpy(), time_decay(j)["share"].to_numpy(), atol=1e-12)
    inside = (merged["share_lo"] <= merged["share"] + 1e-9) & (
        merged["share"] <= merged["share_hi"] + 1e-9
    )
    assert inside.mean() > 0.9
    again = uncertainty.bootstrap_shares(j, models=["time_decay", "markov"], n_boot=50, seed=1)
    pd.testing.assert_frame_equal(
        again.reset_index(drop=True),
        b[b["model"].isin(["time_decay", "markov"])].reset_index(drop=True),
    )
    with pytest.raises(ValueError, match="unknown attribution model"):
        uncertainty.bootstrap_shares(j, models=["u_shaped"])
    with pytest.raises(ValueError, match="n_boot"):
        uncertainty.bootstrap_shares(j, models=["time_decay"], n_boot=1)


def test_time_decay_bootstrap_se_matches_binomial():
    # one touch per journey: the time-decay share of a channel is a proportion with
    # standard error sqrt(p (1 - p) / n) (Efron & Tibshirani 1993)
    rng = np.random.default_rng(0)
    n = 2_000
    ch = np.where(rng.random(n) < 0.3, "search", "display")
    tp = touches([(f"P{i}", 1.0, c) for i, c in enumerate(ch)])
    od = orders([(f"P{i}", 2.0, 10.0) for i in range(n)])
    j = build_journeys(tp, od)
    b = uncertainty.bootstrap_shares(j, models=["time_decay", "last_touch"], n_boot=400, seed=2)
    p = (ch == "search").mean()
    se = np.sqrt(p * (1 - p) / n)
    got = b[b["channel"] == "search"].set_index("model")["share_se"]
    assert got["time_decay"] == pytest.approx(se, rel=0.15)
    assert got["last_touch"] == pytest.approx(se, rel=0.15)


def _table(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    out = []
    for model, shares in rows.items():
        for ch, s in shares.items():
            out.append(
                {
                    "model": model,
                    "channel": ch,
                    "conversions": s * 100,
                    "value": s * 1000,
                    "share": s,
                }
            )
    return pd.DataFrame(out)


def test_model_disagreement_spread_and_ranks():
    t = _table(
        {
            "last_touch": {"direct": 0.5, "search": 0.30, "sms": 0.15, "email": 0.05},
            "markov": {"direct": 0.4, "search": 0.20, "sms": 0.30, "email": 0.10},
        }
    )
    d = comparison.model_disagreement(t).set_index("channel")
    assert list(d.index) == ["sms", "search", "email"]  # spreads 0.15, 0.10, 0.05
    assert d.loc["sms", "spread"] == pytest.approx(0.15)
    assert d.loc["search", "spread"] == pytest.approx(0.10)
    assert (d.loc["sms", "min_model"], d.loc["sms", "max_model"]) == ("last_touch", "markov")
    assert (d.loc["search", "best_rank"], d.loc["search", "worst_rank"]) == (1, 2)
    assert d.loc["email", "rank_stable"] and not d.loc["sms", "rank_stable"]


def test_roi_summary_verdicts():
    t = _table(
        {
            "last_touch": {"direct": 0.5, "search": 0.30, "sms": 0.15, "email": 0.05},
            "markov": {"direct": 0.4, "search": 0.20, "sms": 0.30, "email": 0.10},
        }
    )
    # value credited: search 300 / 200, sms 150 / 300, email 50 / 100
    sp = spend([(0, "search", 100.0), (1, "sms", 200.0), (2, "email", 400.0)])
    roi = channel_roi(t, sp, period="2025-02")
    s = roi_summary(roi, target_roas=1.0).set_index("channel")
    assert s.loc["search", "verdict"] == "above target in every model"
    assert s.loc["sms", "verdict"] == "depends on the model"
    assert s.loc["email", "verdict"] == "below target in every model"
    assert (s.loc["sms", "roas_min"], s.loc["sms", "roas_max"]) == (0.75, 1.5)
    assert s.loc["search", "cpa_min"] == pytest.approx(100 / 30)
    assert list(s.index) == ["email", "sms", "search"]  # by spend
    with pytest.raises(ValueError, match="target_roas"):
        roi_summary(roi, target_roas=0)
    with pytest.raises(ValueError, match="no channel has spend"):
        roi_summary(roi.assign(spend=0.0))


def test_attribute_month_figures_and_comparison():
    tp = touches([("A", 1, "sms"), ("B", 2, "search"), ("B", 3, "sms"), ("C", -5, "search")])
    od = orders([("A", 2, 100.0), ("B", 4, 200.0), ("C", -4, 50.0), ("D", 5, -10.0)])
    sp = spend([(0, "sms", 30.0), (1, "search", 60.0), (-3, "search", 999.0)])
    m = am.attribute_month(tp, od, sp, "2025-02", models=["last_touch", "linear"])
    assert m.invalid_amounts == 1  # D's negative amount
    f = figures.month_figures(m, model="linear")
    assert f["conversions"] == 2 and f["spend"] == 90.0  # January spend left out
    # linear: A -> sms 1; B -> search 0.5, sms 0.5
    assert f["paid_conversions"] == 2.0 and f["blended_cpa"] == 45.0
    assert f["paid_value"] == 300.0 and f["blended_roas"] == pytest.approx(300 / 90)
    assert (f["top_channel"], f["top_share"]) == ("sms", 0.75)
    assert f["attributed_to_touches"] == 1.0
    prev = am.attribute_month(tp, od, sp, "2025-01", models=["last_touch", "linear"])
    fp = figures.month_figures(prev, model="linear")
    assert fp["conversions"] == 1 and fp["top_channel"] == "search"
    cmp = compare_figures(f, fp, {"conversions": "orders", "top_channel": "top"})
    assert cmp["change"].iloc[0] == 1.0 and cmp["relative_change"].iloc[0] == 1.0
    assert np.isnan(cmp["change"].iloc[1])
    assert compare_figures(f, None, {"conversions": "orders"})["previous_month"].isna().all()
    sc = comparison.share_change(m.table, prev.table, model="linear").set_index("channel")
    assert sc.loc["sms", "change"] == 0.75 and sc.loc["search", "change"] == pytest.approx(-0.75)
    with pytest.raises(ValueError, match="no conversions"):
        am.attribute_month(tp, od, sp, "2024-06")
    with pytest.raises(ValueError, match="markov"):
        figures.month_figures(m, model="markov")
    with pytest.raises(ValueError, match="figure 'nope'"):
        compare_figures(f, fp, {"nope": "x"})


def test_active_campaigns_overlap_and_reach():
    camps = pd.DataFrame(
        {
            "campaign_id": ["C1", "C2", "C3"],
            "name": ["春季", "二月", "三月"],
            "channel": ["sms", "email", "sms"],
            "start_date": ["2025-01-20", "2025-02-10", "2025-03-01"],
            "end_date": ["2025-02-01", "2025-02-20", "2025-03-10"],
        }
    )
    tp = touches(
        [
            ("A", 0, "sms", "send", "C1"),
            ("B", 10, "email", "send", "C2"),
            ("C", 11, "email", "send", "C2"),
            ("C", 12, "email", "send", "C2"),
            ("A", -5, "sms", "send", "C1"),
        ]
    )
    a = am.active_campaigns(camps, "2025-02", tp)
    assert a["campaign_id"].tolist() == ["C1", "C2"]
    assert a["touches"].tolist() == [1, 3] and a["people"].tolist() == [1, 2]
    bad = camps.assign(end_date=["2025-01-01", "2025-02-20", "2025-03-10"])
    with pytest.raises(ValueError, match="first at row 0"):
        am.active_campaigns(bad, "2025-02")


# ------------------------------------------------------------------------------- truth


def test_month_true_shares_and_touch_shares():
    sim = simulate_attribution_data(n_persons=3_000, seed=6)
    j = am.month_journeys(sim.touchpoints, sim.orders, "2025-02")
    true = truth.month_true_shares(sim.causes, j)
    keys = set(j.journeys.loc[j.journeys["converted"], "order_key"])
    ref = true_channel_shares(sim.causes[sim.causes["order_key"].isin(keys)])
    pd.testing.assert_series_equal(true[ref.index], ref, check_names=False)
    assert true.sum() == pytest.approx(1.0) and "direct" not in true.index
    ts = truth.touch_shares(attribute(j, models=["last_touch", "markov"]))
    assert "direct" not in ts.index
    np.testing.assert_allclose(ts.sum().to_numpy(), 1.0)


def test_cause_visibility_hand_example():
    tp = touches(
        [
            ("A", 1, "sms", "send"),
            ("X", 1, "display", "impression"),
            ("C", 1, "search", "impression"),
            ("D", -40, "sms", "send"),
        ]
    )
    od = orders([("A", 3, 10.0), ("B", 3, 10.0), ("C", 3, 10.0), ("D", 3, 10.0), ("E", 3, 10.0)])
    causes = pd.DataFrame(
        {
            "record_key": od["order_key"],
            "cause": ["sms", "display", "search", "sms", "organic"],
            # B's display touch reached a device that was never tied to B (OneID X)
            "touch_key": [
                "touchpoints:T0",
                "touchpoints:T1",
                "touchpoints:T2",
                "touchpoints:T3",
                None,
            ],
        }
    )
    j = am.month_journeys(tp, od, "2025-02", include_impressions=False)
    v = truth.cause_visibility(causes, j, tp).set_index("channel")
    assert v.loc["all", "caused_conversions"] == 4
    assert v.loc["sms", "on_buyer_oneid"] == 2 and v.loc["sms", "in_window"] == 1  # D: 43 days
    assert v.loc["display", "on_buyer_oneid"] == 0
    assert (
        v.loc["search", "on_buyer_oneid"] == 1 and v.loc["search", "in_window"] == 0
    )  # impression
    j2 = am.month_journeys(tp, od, "2025-02", include_impressions=True)
    v2 = truth.cause_visibility(causes, j2, tp).set_index("channel")
    assert v2.loc["search", "in_window"] == 1 and v2.loc["all", "visible_share"] == 0.5
    with pytest.raises(ValueError, match="touch_key"):
        truth.cause_visibility(causes.drop(columns="touch_key"), j, tp)


def test_publishable_suppresses_small_groups():
    df = pd.DataFrame({"path": ["a", "b"], "people": [12, 3], "value": [1.0, 2.0]})
    out = publishable(df, "people")
    assert out["suppressed"].tolist() == ["", "fewer than 10"]
    assert pd.isna(out.loc[1, "value"]) and out.loc[1, "path"] == "b"
    assert "suppressed" not in publishable(df.iloc[:1], "people").columns
