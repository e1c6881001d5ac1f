"""The identity report explains its examples on the part of the resolution the explanation can
reach: the same path, blockers and verdict as on the whole record-identifier graph."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import omni
from omni.identity.analysis import _explain_scope
from omni.oneid.explain import explain


@pytest.fixture(scope="module")
def res(test_world):
    return omni.open(test_world).resolve("2026-10").resolution()


def _pairs(res) -> list[tuple[int, int]]:
    rng = np.random.default_rng(3)
    cl = res.records["cluster"].to_numpy()
    e = res.edges
    pairs = []
    for c in pd.Series(cl).value_counts().index[:6]:  # within the largest profiles
        recs = np.flatnonzero(cl == c)
        pairs.append((int(recs[0]), int(recs[-1])))
    status = res.values["status"].astype(str).to_numpy()
    for s in ("shared", "over_limit", "ambiguous_weak"):  # across values the rules held back
        for v in np.flatnonzero(status == s)[:3]:
            on = e.loc[e["val"] == v, "rec"].to_numpy()
            if len(on) >= 2:
                pairs.append((int(on[0]), int(on[-1])))
    inv = res.invalid["rec"].to_numpy()  # from records with an invalid identifier
    pairs += [(int(rng.choice(inv)), int(rng.integers(len(cl)))) for _ in range(4)]
    return [(a, b) for a, b in pairs if a != b]


def test_scoped_explanations_equal_the_whole_graph(res):
    rk = res.records["record_key"]
    pairs = _pairs(res)
    assert len(pairs) >= 12
    lengths = set()
    for a, b in pairs:
        whole = explain(res, rk.iloc[a], rk.iloc[b])
        scope = _explain_scope(res, [a, b])
        part = explain(scope, rk.iloc[a], rk.iloc[b])
        assert len(scope.records) < len(res.records)  # a part, not the whole
        pd.testing.assert_frame_equal(part.path, whole.path)
        pd.testing.assert_frame_equal(part.blockers, whole.blockers)
        assert (part.verdict, part.same_oneid) == (whole.verdict, whole.same_oneid)
        lengths.add(len(whole.path))
    assert len(lengths) >= 2  # linked and cut chains among them


def test_scope_keeps_the_degrees_of_the_nodes_it_meets(res):
    a = int(np.flatnonzero(res.records["cluster"].to_numpy() == 0)[0])
    scope = _explain_scope(res, [a, a])
    def pairs(v):
        return pd.MultiIndex.from_arrays([v["id_type"].astype(str), v["value"].astype(str)])

    degree_part = np.bincount(scope.edges["val"].to_numpy(), minlength=len(scope.values))
    degree_whole = np.bincount(res.edges["val"].to_numpy(), minlength=len(res.values))
    pos = pairs(res.values).get_indexer(pairs(scope.values))
    assert len(scope.values) > 1 and (pos >= 0).all()
    assert (np.diff(pos) > 0).all()  # the values keep their order
    assert np.array_equal(degree_part, degree_whole[pos])
