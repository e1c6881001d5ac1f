"""Rule-based attribution on hand-made journeys with hand-computed expected numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omni.attribution import (
    Paths,
    build_journeys,
    first_touch,
    last_non_direct,
    last_touch,
    linear,
    position_based,
    simulate_attribution_data,
    time_decay,
)

D0 = pd.Timestamp("2025-05-01")


@pytest.fixture(scope="module")
def journeys():
    """Four converting journeys, one null journey, one with a touch mapped to ``direct``.

    J1 (A): search d0, display d10, sms d20           -> order d21, 100
    J2 (B): email d5                                  -> order d5 (same instant), 50
    J3 (C): no touch                                  -> order d3, 30   (path: direct)
    J4 (D): display d1, search d3                     -> order d8, 80
    J5 (E): sms d2                                    -> no order (null journey)
    J6 (F): search d1, type_in d2 (mapped to direct)  -> order d2, 40
    """
    rows = [
        ("A", 0, "search"), ("A", 10, "display"), ("A", 20, "sms"),
        ("B", 5, "email"),
        ("D", 1, "display"), ("D", 3, "search"),
        ("E", 2, "sms"),
        ("F", 1, "search"), ("F", 2, "type_in"),
    ]  # fmt: skip
    tp = pd.DataFrame(
        {
            "oneid": [r[0] for r in rows],
            "touch_time": [D0 + pd.Timedelta(days=r[1]) for r in rows],
            "channel": [r[2] for r in rows],
            "touch_type": "click",
        }
    )
    od = pd.DataFrame(
        {
            "order_key": ["o1", "o2", "o3", "o4", "o6"],
            "oneid": ["A", "B", "C", "D", "F"],
            "order_time": [D0 + pd.Timedelta(days=d) for d in (21, 5, 3, 8, 2)],
            "amount": [100.0, 50.0, 30.0, 80.0, 40.0],
            "channel": ["tmall", "jd", "store", "site", "douyin"],
            "status": "paid",
        }
    )
    return build_journeys(tp, od, channel_map={"type_in": "direct"})


def as_dict(frame: pd.DataFrame, column: str) -> dict[str, float]:
    return {c: round(v, 9) for c, v in zip(frame["channel"], frame[column], strict=True)}


def r(x: float) -> float:
    return round(x, 9)


CHANNELS = ["direct", "display", "email", "search", "sms"]


def test_channels_and_totals(journeys):
    assert list(journeys.channels) == CHANNELS
    for model in (first_touch, last_touch, last_non_direct, linear, position_based, time_decay):
        frame = model(journeys)
        assert list(frame.columns) == ["channel", "conversions", "value", "share"]
        assert list(frame["channel"]) == CHANNELS
        assert frame["conversions"].sum() == pytest.approx(5)
        assert frame["value"].sum() == pytest.approx(300)
        assert frame["share"].sum() == pytest.approx(1)


def test_first_touch(journeys):
    f = first_touch(journeys)
    # J1 search, J2 email, J3 direct, J4 display, J6 search
    assert as_dict(f, "conversions") == {
        "direct": 1,
        "display": 1,
        "email": 1,
        "search": 2,
        "sms": 0,
    }
    assert as_dict(f, "value") == {
        "direct": 30,
        "display": 80,
        "email": 50,
        "search": 140,
        "sms": 0,
    }
    assert as_dict(f, "share")["search"] == 0.4


def test_last_touch_and_last_non_direct(journeys):
    f = last_touch(journeys)
    # J1 sms, J2 email, J3 direct, J4 search, J6 direct (type_in)
    assert as_dict(f, "conversions") == {
        "direct": 2,
        "display": 0,
        "email": 1,
        "search": 1,
        "sms": 1,
    }
    assert as_dict(f, "value") == {
        "direct": 70,
        "display": 0,
        "email": 50,
        "search": 80,
        "sms": 100,
    }
    f = last_non_direct(journeys)
    # J6 skips its direct touch and goes to search; J3 has nothing else and stays direct
    assert as_dict(f, "conversions") == {
        "direct": 1,
        "display": 0,
        "email": 1,
        "search": 2,
        "sms": 1,
    }
    assert as_dict(f, "value") == {
        "direct": 30,
        "display": 0,
        "email": 50,
        "search": 120,
        "sms": 100,
    }


def test_linear(journeys):
    f = linear(journeys)
    # J1 thirds; J4 halves; J6 halves (search, direct)
    assert as_dict(f, "conversions") == {
        "direct": r(1 + 1 / 2),
        "display": r(1 / 3 + 1 / 2),
        "email": 1,
        "search": r(1 / 3 + 1 / 2 + 1 / 2),
        "sms": r(1 / 3),
    }
    assert as_dict(f, "value") == {
        "direct": r(30 + 20),
        "display": r(100 / 3 + 40),
        "email": 50,
        "search": r(100 / 3 + 40 + 20),
        "sms": r(100 / 3),
    }


def test_position_based(journeys):
    f = position_based(journeys)
    # J1: 40/20/40; J4 and J6: 50/50; J2, J3: 100%
    assert as_dict(f, "conversions") == {
        "direct": 1.5, "display": 0.7, "email": 1, "search": 1.4, "sms": 0.4
    }  # fmt: skip
    assert as_dict(f, "value") == {
        "direct": 50, "display": 60, "email": 50, "search": 100, "sms": 40
    }  # fmt: skip
    g = position_based(journeys, first_weight=0.3, last_weight=0.5)
    # J1: 0.3 search, 0.2 display, 0.5 sms; two-touch 0.375/0.625
    assert as_dict(g, "conversions")["search"] == r(0.3 + 0.625 + 0.375)
    with pytest.raises(ValueError, match="first_weight"):
        position_based(journeys, first_weight=0.7, last_weight=0.5)


def test_time_decay(journeys):
    f = time_decay(journeys, half_life_days=7)
    # J1 touches 21, 11, 1 days before the order; J4: 7 and 5 days; J6: 1 and 0 days
    w1 = np.array([2 ** (-21 / 7), 2 ** (-11 / 7), 2 ** (-1 / 7)])
    w1 /= w1.sum()
    w4 = np.array([2 ** (-7 / 7), 2 ** (-5 / 7)])
    w4 /= w4.sum()
    w6 = np.array([2 ** (-1 / 7), 1.0])
    w6 /= w6.sum()
    expected = {
        "direct": 1 + w6[1],
        "display": w1[1] + w4[0],
        "email": 1.0,
        "search": w1[0] + w4[1] + w6[0],
        "sms": w1[2],
    }
    assert as_dict(f, "conversions") == {k: r(v) for k, v in expected.items()}
    assert as_dict(f, "value")["display"] == r(100 * w1[1] + 80 * w4[0])
    # a shorter half-life moves credit to the touch nearest the order
    assert time_decay(journeys, 1).set_index("channel").loc["sms", "conversions"] > w1[2]
    with pytest.raises(ValueError, match="half_life_days"):
        time_decay(journeys, 0)
    with pytest.raises(TypeError, match="Journeys"):
        time_decay(journeys.paths())


def test_path_models_agree_on_journeys_and_on_unique_paths():
    sim = simulate_attribution_data(3000, days=60, seed=5)
    j = build_journeys(sim.touchpoints, sim.orders)
    for model in (first_touch, last_touch, last_non_direct, linear, position_based):
        pd.testing.assert_frame_equal(model(j), model(j.paths()), rtol=1e-10)


def test_counts_on_paths_weight_the_paths():
    p = Paths.from_frame(
        pd.DataFrame(
            {"path": ["a > b", "b", "a"], "conversions": [3, 1, 0], "nulls": [0, 0, 7],
             "value": [30.0, 5.0, 0.0]}
        )
    )  # fmt: skip
    f = linear(p).set_index("channel")
    assert f.loc["a", "conversions"] == 1.5 and f.loc["b", "conversions"] == 2.5
    assert f.loc["a", "value"] == 15.0 and f.loc["b", "value"] == 20.0


def test_no_conversions_gives_zero_credit():
    p = Paths.from_frame(pd.DataFrame({"path": ["a"], "conversions": [0], "nulls": [3]}))
    f = last_touch(p)
    assert f["conversions"].sum() == 0 and f["share"].sum() == 0
