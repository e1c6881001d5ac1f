"""Journeys: assignment of touches to conversions, windows, null journeys, paths, bad input."""

from __future__ import annotations

import pandas as pd
import pytest

from omni.attribution import (
    DIRECT,
    Paths,
    build_journeys,
    conversions_from_orders,
    simulate_attribution_data,
)

D0 = pd.Timestamp("2025-03-01")


def day(x: float) -> pd.Timestamp:
    return D0 + pd.Timedelta(days=x)


def touches(rows: list[tuple]) -> pd.DataFrame:
    """rows: (oneid, day, channel[, touch_type])."""
    return pd.DataFrame(
        {
            "touch_key": [f"touchpoints:T{i}" for i in range(len(rows))],
            "oneid": pd.array([r[0] for r in rows], dtype="string"),
            "touch_time": [day(r[1]) for r in rows],
            "channel": [r[2] for r in rows],
            "touch_type": [r[3] if len(r) > 3 else "click" for r in rows],
            "campaign_id": pd.array([None] * len(rows), dtype="string"),
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


def paths_of(j) -> dict[str, list[str]]:
    """oneid -> list of path strings of its journeys, in journey order."""
    out: dict[str, list[str]] = {}
    for oneid, path in zip(j.journeys["oneid"], j.journeys["path"].astype(str), strict=True):
        out.setdefault(oneid, []).append(path)
    return out


def test_lookback_window_cuts_touches_and_boundary_is_inclusive():
    tp = touches([("A", 0, "display"), ("A", 1, "search"), ("A", 20, "sms"), ("A", 31, "email")])
    od = orders([("A", 31, 100.0)])
    j = build_journeys(tp, od, lookback_days=30)
    # display is 31 days before the order: out; search exactly 30 days before: in;
    # email at the very time of the order: in
    assert paths_of(j) == {"A": ["search > sms > email"]}
    row = j.journeys.iloc[0]
    assert row["n_touches"] == 3 and row["converted"] and row["value"] == 100.0
    assert row["time_to_convert"] == pd.Timedelta(days=30)
    assert row["first_touch_time"] == day(1)
    assert list(j.touches["position"]) == [0, 1, 2]


def test_second_conversion_starts_a_new_journey_and_touches_do_not_count_twice():
    tp = touches([("A", 0, "search"), ("A", 5, "sms"), ("A", 8, "email"), ("A", 12, "display")])
    od = orders([("A", 6, 50.0, "jd"), ("A", 10, 70.0, "store")])
    j = build_journeys(tp, od)
    # search and sms precede the first order; they are within 30 days of the second order too,
    # but belong to the first; display after the last order forms a null journey
    assert paths_of(j) == {"A": ["search > sms", "email", "display"]}
    jf = j.journeys
    assert jf["converted"].tolist() == [True, True, False]
    assert jf["value"].tolist() == [50.0, 70.0, 0.0]
    assert jf["conversion_channel"].astype(object).tolist()[:2] == ["jd", "store"]
    assert pd.isna(jf["conversion_channel"].iloc[2])
    assert jf["order_key"].tolist()[:2] == ["orders:S0", "orders:S1"]
    assert pd.isna(jf["conversion_time"].iloc[2])
    assert jf["end_time"].iloc[2] == day(12)  # default null end: latest time in the data


def test_conversion_without_touch_is_direct_and_direct_has_no_observed_touch():
    tp = touches([("A", 0, "search")])
    od = orders([("A", 50, 30.0), ("B", 3, 20.0)])
    j = build_journeys(tp, od)
    assert paths_of(j) == {"A": ["direct"], "B": ["direct"]}
    assert (j.journeys["n_touches"] == 0).all()
    assert j.journeys["time_to_convert"].isna().all()
    assert (j.touches["channel"] == DIRECT).all()


def test_null_journeys_kept_and_windows():
    tp = touches(
        [
            ("A", 0, "email"),
            ("A", 40, "sms"),
            ("A", 60, "search"),
            ("B", 5, "display"),
            ("C", 1, "sms"),
            ("C", 80, "search"),
        ]
    )
    od = orders([("C", 2, 10.0)])
    # last_touch (default): touches within 30 days before the person's last touch
    j = build_journeys(tp, od)
    assert paths_of(j) == {"A": ["sms > search"], "B": ["display"], "C": ["sms", "search"]}
    assert j.journeys["converted"].tolist() == [False, False, True, False]
    # all: every touch after the last conversion
    j = build_journeys(tp, od, null_window="all")
    assert paths_of(j)["A"] == ["email > sms > search"]
    # end: only touches within 30 days before null_journey_end (day 80 = latest time)
    j = build_journeys(tp, od, null_window="end")
    assert paths_of(j) == {"A": ["search"], "C": ["sms", "search"]}
    # an explicit end ignores later touches for null journeys
    j = build_journeys(tp, od, null_journey_end=day(45), null_window="all")
    assert paths_of(j) == {"A": ["email > sms"], "B": ["display"], "C": ["sms"]}
    assert (j.journeys.loc[~j.journeys["converted"], "end_time"] == day(45)).all()


def test_impressions_excluded_by_default_and_included_on_request():
    tp = touches([("A", 0, "display", "impression"), ("A", 1, "search", "click")])
    od = orders([("A", 2, 10.0)])
    assert paths_of(build_journeys(tp, od)) == {"A": ["search"]}
    assert paths_of(build_journeys(tp, od, include_impressions=True)) == {"A": ["display > search"]}


def test_only_paid_orders_are_conversions():
    tp = touches([("A", 0, "search")])
    od = orders([("A", 1, 10.0, "tmall", "refunded"), ("A", 2, 20.0, "jd", "cancelled")])
    j = build_journeys(tp, od)
    assert j.n_conversions == 0 and paths_of(j) == {"A": ["search"]}
    conv = conversions_from_orders(
        orders([("A", 1, 5, "store", "paid"), ("B", 1, 5, "jd", "refunded")])
    )
    assert conv["oneid"].tolist() == ["A"]
    assert list(conv.columns) == [
        "oneid",
        "conversion_time",
        "value",
        "conversion_channel",
        "order_key",
    ]


def test_channel_map_groups_channels():
    tp = touches([("A", 0, "sms"), ("A", 1, "email"), ("A", 2, "search")])
    od = orders([("A", 3, 10.0)])
    j = build_journeys(tp, od, channel_map={"sms": "crm", "email": "crm"})
    assert paths_of(j) == {"A": ["crm > crm > search"]}
    assert j.channels == ("crm", "direct", "search")


def test_simultaneous_conversions_first_gets_the_touches():
    tp = touches([("A", 0, "search")])
    od = orders([("A", 1, 10.0), ("A", 1, 20.0)])
    j = build_journeys(tp, od)
    assert paths_of(j) == {"A": ["search", "direct"]}
    assert j.journeys["value"].tolist() == [10.0, 20.0]


def test_result_does_not_depend_on_input_row_order():
    sim = simulate_attribution_data(600, days=60, seed=3)
    a = build_journeys(sim.touchpoints, sim.orders)
    b = build_journeys(
        sim.touchpoints.sample(frac=1, random_state=1), sim.orders.sample(frac=1, random_state=2)
    )
    cols = ["oneid", "converted", "value", "conversion_time", "n_touches", "order_key"]
    pd.testing.assert_frame_equal(a.journeys[cols], b.journeys[cols])
    assert a.journeys["path"].astype(str).tolist() == b.journeys["path"].astype(str).tolist()
    pd.testing.assert_frame_equal(a.touches, b.touches)


def _reference_journeys(tp: pd.DataFrame, od: pd.DataFrame, lookback_days: float) -> list:
    """Slow, obviously-correct reference: loop over persons and conversions."""
    tp = tp[tp["touch_type"] != "impression"]
    od = od[od["status"] == "paid"].sort_values(["oneid", "order_time", "order_key"], kind="stable")
    end = max(tp["touch_time"].max(), od["order_time"].max())
    lb = pd.Timedelta(days=lookback_days)
    out = []
    for oneid in sorted(set(tp["oneid"]) | set(od["oneid"])):
        t = tp[tp["oneid"] == oneid].sort_values("touch_time", kind="stable")
        prev = pd.Timestamp.min
        for _, o in od[od["oneid"] == oneid].iterrows():
            m = (t["touch_time"] > prev) & (t["touch_time"] <= o["order_time"])
            m &= t["touch_time"] >= o["order_time"] - lb
            chans = t.loc[m, "channel"].tolist() or [DIRECT]
            out.append((oneid, True, round(o["amount"], 6), " > ".join(chans)))
            prev = o["order_time"]
        rest = t[(t["touch_time"] > prev) & (t["touch_time"] <= end)]
        if len(rest):
            rest = rest[rest["touch_time"] >= rest["touch_time"].max() - lb]
            out.append((oneid, False, 0.0, " > ".join(rest["channel"])))
    return out


def test_matches_a_slow_reference_implementation_on_simulated_data():
    ch = pd.DataFrame(
        {
            "channel": ["search", "display", "sms"],
            "reach": [0.5, 0.7, 0.4],
            "touches": [2.0, 4.0, 2.0],
            "trigger": [0.2, 0.0, 0.1],
            "touch_type": ["click", "impression", "send"],
            "cost_per_touch": [1.0, 0.1, 0.1],
        }
    )
    sim = simulate_attribution_data(300, channels=ch, days=60, organic_rate=1.0, seed=11)
    tp = sim.touchpoints.copy()
    tp.loc[tp.index[::7], "touch_type"] = "click"  # some display clicks count
    j = build_journeys(tp, sim.orders, lookback_days=10)
    got = list(
        zip(
            j.journeys["oneid"],
            j.journeys["converted"],
            j.journeys["value"].round(6),
            j.journeys["path"].astype(str),
            strict=True,
        )
    )
    assert got == _reference_journeys(tp, sim.orders, 10)


def test_paths_aggregate_identical_paths():
    tp = touches(
        [
            ("A", 0, "search"),
            ("A", 1, "sms"),
            ("B", 0, "search"),
            ("B", 1, "sms"),
            ("C", 0, "search"),
            ("C", 1, "sms"),
            ("D", 0, "sms"),
        ]
    )
    od = orders([("A", 2, 10.0), ("B", 2, 30.0)])
    p = build_journeys(tp, od).paths().to_frame().set_index("path")
    assert p.loc["search > sms", ["conversions", "nulls", "value"]].tolist() == [2, 1, 40.0]
    assert p.loc["sms", ["conversions", "nulls", "value"]].tolist() == [0, 1, 0.0]
    assert p["n_touches"].to_dict() == {"search > sms": 2, "sms": 1}


def test_paths_from_frame_parses_and_aggregates():
    p = Paths.from_frame(
        pd.DataFrame(
            {
                "path": ["a > b", "a>b", "c", "b > a"],
                "conversions": [1, 2, 0, 1],
                "nulls": [0, 1, 5, 0],
            }
        )
    )
    f = p.to_frame().set_index("path")
    assert f.loc["a > b", ["conversions", "nulls"]].tolist() == [3, 1]
    assert f.loc["b > a", "conversions"] == 1 and f.loc["c", "nulls"] == 5
    assert p.channels == ("a", "b", "c", "direct")
    with pytest.raises(ValueError, match="empty"):
        Paths.from_frame(pd.DataFrame({"path": ["a > > b"], "conversions": [1]}))


def test_empty_inputs_give_empty_journeys():
    j = build_journeys(
        touches([]).astype({"touch_time": "datetime64[ns]"}),
        orders([]).astype({"order_time": "datetime64[ns]"}),
    )
    assert j.n_journeys == 0 and len(j.touches) == 0 and j.paths().n_paths == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lookback_days": 0}, "lookback_days"),
        ({"null_window": "forever"}, "null_window"),
        ({"channel_map": {"sms": ""}}, "channel_map"),
    ],
)
def test_bad_parameters_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_journeys(touches([("A", 0, "sms")]), orders([("A", 1, 1.0)]), **kwargs)


def test_bad_input_raises_with_the_column_and_row():
    tp = touches([("A", 0, "sms"), ("B", 1, "search")])
    od = orders([("A", 1, 1.0)])
    with pytest.raises(ValueError, match=r"missing required column\(s\) \['channel'\]"):
        build_journeys(tp.drop(columns="channel"), od)
    bad = tp.copy()
    bad.loc[1, "oneid"] = pd.NA
    with pytest.raises(ValueError, match=r"null 'oneid' \(first at row 1\)"):
        build_journeys(bad, od)
    bad = tp.copy()
    bad.loc[1, "touch_type"] = "view"
    with pytest.raises(ValueError, match="unknown touch_type 'view' at row 1"):
        build_journeys(bad, od)
    bad = tp.copy()
    bad.loc[0, "channel"] = "a>b"  # data-borne text: shown with '›', never a broken path or a crash
    with pytest.warns(UserWarning, match="contain '>'"):
        j = build_journeys(bad, od)
    assert "a›b" in j.channels and not any(">" in c for c in j.channels)
    with pytest.raises(ValueError, match="negative 'amount'"):
        build_journeys(tp, orders([("A", 1, -5.0)]))
    bad = od.copy()
    bad["order_time"] = bad["order_time"].dt.tz_localize("UTC")
    with pytest.raises(ValueError, match="timezone-aware"):
        build_journeys(tp, bad)
    with pytest.raises(ValueError, match="null 'oneid'"):
        build_journeys(tp, od.assign(oneid=pd.array([None], dtype="string")))


def test_simultaneous_touches_are_ordered_by_channel_name():
    tp = touches([("A", 1, "sms"), ("A", 1, "email"), ("A", 0, "search")])
    od = orders([("A", 2, 10.0)])
    assert paths_of(build_journeys(tp, od)) == {"A": ["search > email > sms"]}
    assert paths_of(build_journeys(tp.iloc[::-1], od)) == {"A": ["search > email > sms"]}
