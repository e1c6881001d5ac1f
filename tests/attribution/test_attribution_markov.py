"""Markov removal-effect attribution: hand-computed chains and the absorbing-chain algebra."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omni.attribution import (
    MarkovAttribution,
    Paths,
    build_journeys,
    markov_attribution,
    simulate_attribution_data,
)


def paths(rows: list[tuple[str, float, float, float]]) -> Paths:
    """rows: (path, conversions, nulls, value)."""
    return Paths.from_frame(pd.DataFrame(rows, columns=["path", "conversions", "nulls", "value"]))


@pytest.fixture(scope="module")
def classic():
    # the classic 3-journey example: C1 > C2 > C3 converts, C1 is lost, C2 > C3 is lost
    return paths([("C1 > C2 > C3", 1, 0, 10.0), ("C1", 0, 1, 0.0), ("C2 > C3", 0, 1, 0.0)])


def test_classic_example_by_hand(classic):
    m = MarkovAttribution().fit(classic)
    # transitions: start->C1 2/3, start->C2 1/3; C1->C2 1/2, C1->null 1/2; C2->C3 1;
    # C3->conv 1/2, C3->null 1/2
    tm = m.transition_matrix_
    assert tm.loc["(start)", "C1"] == pytest.approx(2 / 3)
    assert tm.loc["(start)", "C2"] == pytest.approx(1 / 3)
    assert tm.loc["C1", "C2"] == pytest.approx(0.5) and tm.loc["C1", "(null)"] == pytest.approx(0.5)
    assert tm.loc["C2", "C3"] == pytest.approx(1.0)
    assert tm.loc["C3", "(conversion)"] == pytest.approx(0.5)
    assert np.allclose(tm.sum(axis=1), 1.0)
    assert m.transition_counts_.loc["(start)", "C1"] == 2
    # P(conv) = 2/3 * 1/2 * 1 * 1/2 + 1/3 * 1 * 1/2 = 1/6 + 1/6 = 1/3
    assert m.conversion_rate_ == pytest.approx(1 / 3)
    # without C1: only start->C2->C3->conv survives: 1/3 * 1/2 = 1/6 -> RE = 1 - (1/6)/(1/3) = 0.5
    # without C2 or C3 nothing converts: RE = 1
    re = m.removal_effects_
    assert re["C1"] == pytest.approx(0.5)
    assert re["C2"] == pytest.approx(1.0) and re["C3"] == pytest.approx(1.0)
    assert re["direct"] == 0.0
    # shares: 0.5 / 2.5 = 0.2, 1 / 2.5 = 0.4, 0.4; one conversion worth 10
    a = m.attribution_.set_index("channel")
    assert a.loc[["C1", "C2", "C3"], "conversions"].tolist() == pytest.approx([0.2, 0.4, 0.4])
    assert a.loc[["C1", "C2", "C3"], "value"].tolist() == pytest.approx([2.0, 4.0, 4.0])
    assert a["share"].sum() == pytest.approx(1.0)


def test_absorption_matches_explicit_fundamental_matrix(classic):
    """The solve-based probability equals B = N R with N = (I - Q)^-1 written out."""
    m = MarkovAttribution().fit(classic)
    tm = m.transition_matrix_
    transient = list(tm.index)
    q = tm[[c for c in transient if c != "(start)"]].to_numpy()
    q = np.column_stack([np.zeros(len(transient)), q])  # nothing returns to (start)
    r = tm[["(conversion)", "(null)"]].to_numpy()
    n = np.linalg.inv(np.eye(len(transient)) - q)
    b = n @ r
    assert b[0, 0] == pytest.approx(m.conversion_rate_)
    assert b.sum(axis=1) == pytest.approx(np.ones(len(transient)))  # absorbed with certainty


def test_second_order_sees_what_first_order_cannot():
    # A > B converts, C > B does not. First order mixes them at B; second order keeps them apart.
    p = paths([("A > B", 1, 0, 0.0), ("C > B", 0, 1, 0.0)])
    m1 = MarkovAttribution(order=1).fit(p)
    # order 1: P = 1/2 (start->A or C, each ->B, B->conv 1/2).
    # remove A: 1/2 * 1 * 1/2 = 1/4 -> RE 0.5; remove C: same 0.5; remove B: RE 1
    assert m1.conversion_rate_ == pytest.approx(0.5)
    assert m1.removal_effects_[["A", "B", "C"]].tolist() == pytest.approx([0.5, 1.0, 0.5])
    assert m1.attribution_.set_index("channel").loc[["A", "B", "C"], "share"].tolist() == (
        pytest.approx([0.25, 0.5, 0.25])
    )
    m2 = MarkovAttribution(order=2).fit(p)
    # order 2: states (A), (C), (A B), (C B); (A B) -> conv, (C B) -> null. P = 1/2.
    # remove A: the converting route is gone -> RE 1; remove C: P stays 1/2 -> RE 0; remove B: 1
    assert m2.conversion_rate_ == pytest.approx(0.5)
    assert m2.removal_effects_[["A", "B", "C"]].tolist() == pytest.approx([1.0, 1.0, 0.0])
    assert m2.attribution_.set_index("channel").loc[["A", "B", "C"], "share"].tolist() == (
        pytest.approx([0.5, 0.5, 0.0])
    )
    assert set(m2.transition_matrix_.index) == {"(start)", "A", "C", "A > B", "C > B"}
    assert m2.transition_matrix_.loc["A > B", "(conversion)"] == 1.0


def test_value_removal_effects_follow_basket_size():
    # A converts with value 100, B with value 10; no losses.
    m = MarkovAttribution().fit(paths([("A", 1, 0, 100.0), ("B", 1, 0, 10.0)]))
    # P(conv) = 1, removing either halves it: RE = 0.5 each -> 1 conversion each.
    # E[value] = (100 + 10) / 2 = 55; without A: 5 -> 1 - 5/55 = 50/55; without B: 5/55.
    assert m.removal_effects_[["A", "B"]].tolist() == pytest.approx([0.5, 0.5])
    assert m.value_removal_effects_[["A", "B"]].tolist() == pytest.approx([50 / 55, 5 / 55])
    a = m.attribution_.set_index("channel")
    assert a.loc[["A", "B"], "conversions"].tolist() == pytest.approx([1.0, 1.0])
    assert a.loc[["A", "B"], "value"].tolist() == pytest.approx([100.0, 10.0])
    assert m.expected_value_ == pytest.approx(55.0)


@pytest.fixture(scope="module")
def simulated():
    sim = simulate_attribution_data(4000, days=60, seed=9)
    return build_journeys(sim.touchpoints, sim.orders)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_sums_to_totals_and_first_order_rate_equals_observed(simulated, order):
    m = MarkovAttribution(order=order).fit(simulated)
    a = m.attribution_
    assert a["conversions"].sum() == pytest.approx(simulated.n_conversions)
    assert a["value"].sum() == pytest.approx(simulated.journeys["value"].sum())
    assert (m.removal_effects_ >= 0).all() and (m.removal_effects_ <= 1 + 1e-12).all()
    assert np.allclose(m.transition_matrix_.sum(axis=1), 1.0)
    # the chain estimated from the journeys reproduces the observed conversion rate exactly
    # (flow conservation), at any order
    assert m.conversion_rate_ == pytest.approx(simulated.n_conversions / simulated.n_journeys)
    assert m.fit(simulated.paths()).attribution_.equals(a)  # Journeys or Paths: same numbers


def test_sparse_and_dense_solvers_agree(simulated, monkeypatch):
    import omni.attribution.markov as mk

    dense = markov_attribution(simulated, order=2)
    monkeypatch.setattr(mk, "_DENSE_MAX_STATES", 0)
    sparse = markov_attribution(simulated, order=2)
    pd.testing.assert_frame_equal(dense, sparse, rtol=1e-9)


def test_bad_input():
    with pytest.raises(ValueError, match="order"):
        MarkovAttribution(order=0).fit(paths([("A", 1, 0, 1.0)]))
    with pytest.raises(ValueError, match="at least one converting journey"):
        MarkovAttribution().fit(paths([("A", 0, 3, 0.0)]))
    with pytest.raises(TypeError, match="Journeys"):
        MarkovAttribution().fit(pd.DataFrame({"path": ["A"]}))
