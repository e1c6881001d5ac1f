"""Identity capture (omni.uplift.capture): capture_rate on a hand-made resolution, adjusted_lift on
hand-made outcomes and on a simulated campaign whose orders are captured with a known share."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from omni.uplift.capture import adjusted_lift, capture_rate, linkage_recall
from omni.uplift.effects import lift

STAGE = {
    "decisions": {"linked": 8, "below_threshold": 2, "ambiguous": 0, "no_candidate": 5},
    "threshold": 0.95, "prior": 0.01,
    # one comparison: a true match agrees (weight 30, links) with m = 0.6, else weight -10
    "model_parameters": [
        {"comparison": "phone", "level": -1, "m_probability": None, "match_weight": None},
        {"comparison": "phone", "level": 1, "m_probability": 0.6, "match_weight": 30.0},
        {"comparison": "phone", "level": 0, "m_probability": 0.4, "match_weight": -10.0},
    ],
}


def _workspace(stage=STAGE):
    """Two assigned people (O1, O2); O3 is not assigned. Store: 10 orders, 2 without identifier.
    The assigned people's tmall orders: 4, 2 of them linked by probability. Site: 2 orders."""
    t = "2026-10-05 12:00"
    rows = [  # order_key, oneid, channel, how
        *[(f"pos:{k}", "O1" if k < 3 else "O3", "store", "strong") for k in range(8)],
        ("pos:8", "O9", "store", "none"), ("pos:9", "O8", "store", "none"),
        ("ec:1", "O1", "tmall", "probabilistic"), ("ec:2", "O2", "tmall", "probabilistic"),
        ("ec:3", "O1", "tmall", "strong"), ("ec:4", "O2", "tmall", "account"),
        ("ec:5", "O3", "tmall", "probabilistic"),
        ("ec:6", "O1", "site", "strong"), ("ec:7", "O2", "site", "strong"),
    ]
    orders = pd.DataFrame(rows, columns=["order_key", "oneid", "channel", "how"]).assign(
        order_time=pd.Timestamp(t), amount=100.0, status="paid")
    orders.loc[len(orders)] = ["ec:8", "O1", "tmall", "strong", pd.Timestamp(t), 50.0, "refunded"]
    record_oneid = orders[["order_key", "oneid", "how"]].rename(columns={"order_key": "record_key"})
    assignments = pd.DataFrame({"campaign_id": "C1", "oneid": ["O1", "O2"],
                                "arm": ["control", "sms"], "contacted": [False, True]})
    campaigns = pd.DataFrame({"campaign_id": ["C1"], "start_date": ["2026-10-01"],
                              "end_date": ["2026-10-14"]})
    tables = {"orders": orders.drop(columns="how"), "campaign_assignments": assignments}
    res = SimpleNamespace(record_oneid=record_oneid, summary={"probabilistic": stage},
                          __getitem__=None)
    resolved = type("R", (), {"__getitem__": lambda self, k: tables[k]})()
    resolved.record_oneid, resolved.summary = res.record_oneid, res.summary
    resolved.engine_table = lambda name: {"record_oneid": record_oneid}[name]
    memo: dict = {}
    return SimpleNamespace(resolve=lambda as_of=None: resolved, path=Path(tempfile.mkdtemp()),
                           source=lambda name: {"campaigns": campaigns}.get(name),
                           memo=lambda key, compute, persist=None: memo[key] if key in memo else
                           memo.setdefault(key, compute()))


def test_linkage_recall_bounds_and_midpoint():
    r, se, lo, hi = linkage_recall(STAGE)
    assert (lo, hi) == pytest.approx((0.6, 0.8))  # model recall 0.6; counts 8 / (8 + 2)
    assert r == pytest.approx(0.7) and se == pytest.approx(0.2 / np.sqrt(12))
    assert np.isnan(linkage_recall({})[0])
    assert np.isnan(linkage_recall({"status": "failed", "error": "x"})[0])


def test_capture_rate_by_channel_known_answers():
    cap = capture_rate(_workspace(), "C1").set_index("channel")
    assert list(cap.index) == ["site", "store", "tmall", "all"]
    # store: 1 - 2/10 orders without identifier, binomial se
    assert cap.loc["store", "capture"] == pytest.approx(0.8)
    assert cap.loc["store", "se"] == pytest.approx(np.sqrt(0.8 * 0.2 / 10))
    # tmall: p_L = 2/4 of the assigned people's paid orders (the refunded one does not count)
    c_t = 1 / (1 + 0.5 * (1 / 0.7 - 1))
    assert cap.loc["tmall", "capture"] == pytest.approx(c_t)
    assert cap.loc["tmall", "orders"] == 4 and cap.loc["store", "orders"] == 3
    assert cap.loc["site", "capture"] == 1.0
    # all: sum n / sum(n / c) with n = 2 site, 3 store, 4 tmall
    assert cap.loc["all", "capture"] == pytest.approx(9 / (2 + 3 / 0.8 + 4 / c_t))
    assert cap.loc["all", "ci_low"] < cap.loc["all", "capture"] < cap.loc["all", "ci_high"]


def test_capture_rate_without_probabilistic_stage_and_unknown_campaign():
    cap = capture_rate(_workspace(stage={}), "C1").set_index("channel")
    assert cap.loc["tmall", "capture"] == 1.0 and "cannot be measured" in cap.loc["tmall", "basis"]
    with pytest.raises(ValueError, match="not found"):
        capture_rate(_workspace(), "C9")


def _outcomes(n_c, conv_c, n_t, conv_t, rev=None):
    arm = ["control"] * n_c + ["sms"] * n_t
    conv = [True] * conv_c + [False] * (n_c - conv_c) + [True] * conv_t + [False] * (n_t - conv_t)
    out = pd.DataFrame({"arm": arm, "converted": conv})
    out["revenue"] = np.where(out["converted"], 100.0, 0.0) if rev is None else rev
    return out


def test_adjusted_lift_conversion_formula():
    out = _outcomes(1000, 100, 1000, 190)
    obs = lift(out, "converted").iloc[0]
    a = adjusted_lift(out, 0.8, "converted").iloc[0]
    h = 0.9 ** (1 / 0.8 - 1) / 0.8  # d = d_obs / c x (1 - p_c)^(1/c - 1)
    assert a["observed_lift"] == pytest.approx(0.09)
    assert a["abs_lift"] == pytest.approx(0.09 * h)
    assert a["se"] == pytest.approx(obs["se"] * h)  # no capture uncertainty given
    assert a["mean_control"] == pytest.approx(1 - 0.9 ** (1 / 0.8))  # true holdout conversion
    assert a["rel_lift"] == pytest.approx(a["abs_lift"] / a["mean_control"])
    # the capture's uncertainty widens the interval by the delta method
    b = adjusted_lift(out, (0.8, 0.05), "converted").iloc[0]
    dlogh = -np.log(0.9) / 0.8 ** 2 - 1 / 0.8
    se = np.sqrt((h * obs["se"]) ** 2 + (0.09 * h * dlogh * 0.05) ** 2)
    assert b["abs_lift"] == pytest.approx(a["abs_lift"]) and b["se"] == pytest.approx(se)
    assert b["abs_ci_high"] - b["abs_ci_low"] > a["abs_ci_high"] - a["abs_ci_low"]


def test_adjusted_lift_additive_metric_and_identity():
    out = _outcomes(1000, 100, 1000, 190)
    obs = lift(out, "revenue").iloc[0]
    a = adjusted_lift(out, 0.5, "revenue").iloc[0]
    assert a["abs_lift"] == pytest.approx(2 * obs["abs_lift"])
    assert (a["abs_ci_low"], a["abs_ci_high"]) == pytest.approx((2 * obs["abs_ci_low"], 2 * obs["abs_ci_high"]))
    assert a["rel_lift"] == pytest.approx(obs["rel_lift"])  # both means scale by 1/c
    same = adjusted_lift(out, 1.0, "converted").iloc[0]
    plain = lift(out, "converted").iloc[0]
    assert same["abs_lift"] == pytest.approx(plain["abs_lift"])
    assert same["abs_ci_low"] == pytest.approx(plain["abs_ci_low"])
    for bad in (0.0, 1.2, float("nan"), (0.8, -0.1)):
        with pytest.raises(ValueError, match="capture must be in"):
            adjusted_lift(out, bad)


def test_adjusted_lift_recovers_true_effect_when_orders_are_lost():
    """Poisson orders (rate Lambda), a treated extra order with probability pi, each order seen
    with probability c: the plain lift estimates ~c x the effect, the adjusted one the effect."""
    rng = np.random.default_rng(5)
    n, lam, pi, c = 400_000, 0.3, 0.06, 0.75
    treated = rng.random(n) < 0.5
    organic = rng.poisson(lam, n)
    extra = treated & (rng.random(n) < pi)
    seen = rng.binomial(organic, c) + (extra & (rng.random(n) < c))
    out = pd.DataFrame({"arm": np.where(treated, "sms", "control"), "converted": seen > 0})
    truth = pi * np.exp(-lam)
    plain = lift(out, "converted").iloc[0]
    adj = adjusted_lift(out, (c, 0.0), "converted").iloc[0]
    assert plain["abs_ci_high"] < truth  # attenuated: the plain interval misses the truth
    assert adj["abs_ci_low"] <= truth <= adj["abs_ci_high"]
    assert adj["abs_lift"] == pytest.approx(truth, rel=0.06)
