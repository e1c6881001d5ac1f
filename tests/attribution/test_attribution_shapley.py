"""Shapley attribution: hand-computed games, Zhao et al.'s simplified formula, game axioms."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from omni.attribution import (
    Paths,
    ShapleyAttribution,
    build_journeys,
    shapley_attribution,
    shapley_values,
    simulate_attribution_data,
    subset_sums,
)


def paths(rows: list[tuple[str, float, float, float]]) -> Paths:
    return Paths.from_frame(pd.DataFrame(rows, columns=["path", "conversions", "nulls", "value"]))


def by_channel(frame: pd.DataFrame, column: str = "conversions") -> dict[str, float]:
    return dict(zip(frame["channel"], frame[column], strict=True))


def brute_force_shapley(n: int, v) -> np.ndarray:
    """Average marginal contribution over all n! orderings (textbook definition)."""
    phi = np.zeros(n)
    for perm in itertools.permutations(range(n)):
        coalition = 0
        for i in perm:
            phi[i] += v(coalition | 1 << i) - v(coalition)
            coalition |= 1 << i
    return phi / math.factorial(n)


def test_subset_sums_and_shapley_values_on_textbook_games():
    x = np.array([1.0, 2.0, 4.0, 8.0])  # coalitions {}, {0}, {1}, {0,1}
    assert subset_sums(x).tolist() == [1.0, 3.0, 5.0, 15.0]
    # three-player majority game: v(S) = 1 if |S| >= 2 -> 1/3 each
    v = np.array([1.0 if bin(s).count("1") >= 2 else 0.0 for s in range(8)])
    assert shapley_values(v) == pytest.approx([1 / 3] * 3)
    # glove game: player 0 owns a left glove, 1 and 2 right gloves -> (2/3, 1/6, 1/6)
    glove = np.array([1.0 if (s & 1) and (s & 6) else 0.0 for s in range(8)])
    assert shapley_values(glove) == pytest.approx([2 / 3, 1 / 6, 1 / 6])
    # a random 5-player game against the n!-permutation definition
    rng = np.random.default_rng(0)
    w = rng.normal(size=32)
    w[0] = 0.0
    assert shapley_values(w) == pytest.approx(brute_force_shapley(5, lambda s: w[s]))
    with pytest.raises(ValueError, match="2\\^n"):
        shapley_values(np.zeros(6))


@pytest.fixture(scope="module")
def three_channels():
    # channel sets: {A} 2 conversions, {A,B} 1 (path A > B > A), {B,C} 3, {C} none (4 lost)
    return paths(
        [
            ("A", 2, 1, 200.0),
            ("A > B > A", 1, 0, 60.0),
            ("C > B", 2, 2, 60.0),
            ("B > C", 1, 0, 30.0),
            ("C", 0, 4, 0.0),
            ("direct", 2, 0, 50.0),
        ]
    )


def test_zhao_simplified_formula_by_hand(three_channels):
    s = ShapleyAttribution().fit(three_channels)
    # R({A}) = 2, R({A,B}) = 1, R({B,C}) = 3: phi_A = 2 + 1/2 = 2.5, phi_B = 1/2 + 3/2 = 2,
    # phi_C = 3/2 = 1.5. Long form for A: v(A)=2, v(AB)=3, v(AC)=2, v(BC)=3, v(ABC)=6,
    # phi_A = 1/3 * 2 + 1/6 * (3 - 0) + 1/6 * (2 - 0) + 1/3 * (6 - 3) = 2.5
    assert s.shapley_values_.to_dict() == pytest.approx({"A": 2.5, "B": 2.0, "C": 1.5})
    # value: A 200 + 60/2 = 230; B 60/2 + 90/2 = 75; C 90/2 = 45
    assert s.value_shapley_values_.to_dict() == pytest.approx({"A": 230, "B": 75, "C": 45})
    a = s.attribution_
    assert by_channel(a) == pytest.approx({"A": 2.5, "B": 2.0, "C": 1.5, "direct": 2.0})
    assert by_channel(a, "value") == pytest.approx({"A": 230, "B": 75, "C": 45, "direct": 50})
    assert a["conversions"].sum() == pytest.approx(8) and a["value"].sum() == pytest.approx(400)


def test_exact_enumeration_equals_simplified_formula(three_channels):
    exact = ShapleyAttribution(exact=True).fit(three_channels)
    simple = ShapleyAttribution().fit(three_channels)
    pd.testing.assert_frame_equal(exact.attribution_, simple.attribution_)
    w = exact.coalition_worth_
    assert w["A"] == 2 and w["A + B"] == 3 and w["B + C"] == 3 and w["A + B + C"] == 6
    sim = simulate_attribution_data(3000, days=60, seed=2)
    j = build_journeys(sim.touchpoints, sim.orders)
    pd.testing.assert_frame_equal(
        ShapleyAttribution(exact=True).fit(j).attribution_,
        ShapleyAttribution().fit(j).attribution_,
        rtol=1e-9,
    )


def test_conversion_rate_game_by_hand():
    # {A}: 1 of 4 converts; {B}: 0 of 4; {A,B}: 2 of 4; plus 2 conversions without touch.
    p = paths([("A", 1, 3, 10.0), ("B", 0, 4, 0.0), ("A > B", 2, 2, 40.0), ("direct", 2, 0, 8.0)])
    s = ShapleyAttribution("conversion_rate").fit(p)
    # v(A) = 1/4, v(B) = 0/4, v(AB) = 3/12 = 1/4.
    # phi_A = 1/2 (v(A) - 0) + 1/2 (v(AB) - v(B)) = 1/8 + 1/8 = 1/4
    # phi_B = 1/2 (v(B) - 0) + 1/2 (v(AB) - v(A)) = 0
    assert s.shapley_values_.to_dict() == pytest.approx({"A": 0.25, "B": 0.0})
    # scaled to the 3 touched conversions; direct keeps its own 2
    assert by_channel(s.attribution_) == pytest.approx({"A": 3.0, "B": 0.0, "direct": 2.0})
    # value per journey: v(A) = 10/4, v(B) = 0, v(AB) = 50/12 -> phi_A = 5/4 + 25/12, phi_B =
    # 25/12 - 5/4; scaled to the touched value 50
    phi_a, phi_b = 10 / 8 + 50 / 24, 50 / 24 - 10 / 8
    expected = {"A": phi_a / (phi_a + phi_b) * 50, "B": phi_b / (phi_a + phi_b) * 50, "direct": 8}
    assert by_channel(s.attribution_, "value") == pytest.approx(expected)


def test_axioms_on_simulated_journeys():
    sim = simulate_attribution_data(3000, days=60, seed=4)
    j = build_journeys(sim.touchpoints, sim.orders)
    for characteristic in ("conversions", "conversion_rate"):
        a = shapley_attribution(j, characteristic)
        # efficiency: everything is attributed
        assert a["conversions"].sum() == pytest.approx(j.n_conversions)
        assert a["value"].sum() == pytest.approx(j.journeys["value"].sum())
    # symmetry: two channels that always occur together get the same credit
    p = paths([("A > B", 3, 1, 30.0), ("B > A", 1, 2, 10.0), ("C", 1, 5, 5.0)])
    for characteristic in ("conversions", "conversion_rate"):
        v = ShapleyAttribution(characteristic).fit(p).shapley_values_
        assert v["A"] == pytest.approx(v["B"])


def test_too_many_channels_for_exact_enumeration():
    rows = [(f"c{i}", 1, 1, 1.0) for i in range(21)]
    p = paths(rows)
    assert shapley_attribution(p)["conversions"].sum() == pytest.approx(21)  # simplified: fine
    with pytest.raises(ValueError, match="up to 20 channels"):
        shapley_attribution(p, "conversion_rate")
    with pytest.raises(ValueError, match="characteristic"):
        ShapleyAttribution("revenue").fit(p)
