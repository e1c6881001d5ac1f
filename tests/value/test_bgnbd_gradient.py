"""omni's own BG/NBD fit: analytic gradient, agreement with lifetimes, parameter recovery, failures."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from omni.value.clv import CLVModel, bgnbd, cdnow_path, simulate_summary
from omni.value.clv._base import FitFailed, unique_rows
from omni.value.rfm import read_cdnow, rfm_summary

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from autograd import grad as autograd_grad
    from lifetimes import BetaGeoFitter

NAMES = ("r", "alpha", "a", "b")
POINTS = [
    (0.243, 4.414, 0.793, 2.426),  # CDNOW
    (2.5, 0.3, 0.05, 40.0),
    (0.05, 80.0, 5.0, 0.3),
    (12.0, 9.0, 1e-3, 1e-2),  # near the boundary: almost nobody drops out
]


def _cal(which: str) -> pd.DataFrame:
    orders = read_cdnow(cdnow_path(which))
    return rfm_summary(orders, "1998-06-30", calibration_end="1997-09-30", freq="W")


@pytest.fixture(scope="module")
def cdnow() -> tuple[np.ndarray, ...]:
    x, tx, T, w, _ = unique_rows(_cal("sample"))
    return x, tx, T, w


@pytest.fixture(scope="module")
def with_heavy(cdnow) -> tuple[np.ndarray, ...]:
    """CDNOW rows plus heavy buyers (hundreds of purchases, alive-looking and long gone)."""
    x, tx, T, w = cdnow
    hx = np.repeat([100.0, 250.0, 500.0, 800.0], 3)
    hT = np.tile([39.0, 30.0, 12.0], 4)
    htx = np.tile([39.0, 15.0, 0.5], 4)
    return (
        np.r_[x, hx],
        np.r_[tx, htx],
        np.r_[T, hT],
        np.r_[w, np.full(hx.size, 2.0)],
    )


def _lifetimes_fit(x, tx, T, w, penalizer: float = 0.0) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = BetaGeoFitter(penalizer_coef=penalizer).fit(x, tx, T, weights=w)
    return {k: float(v) for k, v in m.params_.items()}


def _assert_same(got: dict[str, float], want: dict[str, float], rel: float) -> None:
    for k in NAMES:
        assert got[k] == pytest.approx(want[k], rel=rel), k


# ---------------------------------------------------------------------------------- gradient


@pytest.mark.parametrize("penalizer", [0.0, 0.05])
@pytest.mark.parametrize("prm", POINTS)
def test_gradient_matches_central_differences(with_heavy, prm, penalizer) -> None:
    x, tx, T, w = with_heavy
    scale = 1.0 / T.max()
    rows = bgnbd._Rows(x, tx * scale, T * scale, w)
    theta = np.log([prm[0], prm[1] * scale, prm[2], prm[3]])
    val, jac = rows.objective(theta, penalizer)
    assert np.isfinite(val)
    h = 1e-5
    fd = np.array(
        [
            (rows.objective(theta + h * e, penalizer)[0] - rows.objective(theta - h * e, penalizer)[0])
            / (2 * h)
            for e in np.eye(4)
        ]
    )
    np.testing.assert_allclose(jac, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("prm", POINTS)
def test_objective_and_gradient_equal_lifetimes_autograd(with_heavy, prm) -> None:
    # lifetimes minimises exactly this function; autograd differentiates its code independently
    x, tx, T, w = with_heavy
    scale = 1.0 / T.max()
    args = (x.astype(int), tx * scale, T * scale, w, 0.01)
    theta = np.log([prm[0], prm[1] * scale, prm[2], prm[3]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want_val = BetaGeoFitter._negative_log_likelihood(theta, *args)
        want_jac = autograd_grad(BetaGeoFitter._negative_log_likelihood)(theta, *args)
    val, jac = bgnbd._Rows(x, tx * scale, T * scale, w).objective(theta, 0.01)
    assert val == pytest.approx(float(want_val), rel=1e-12)
    np.testing.assert_allclose(jac, want_jac, rtol=1e-9, atol=1e-12)


def test_loglik_total_equals_lifetimes(with_heavy) -> None:
    x, tx, T, w = with_heavy
    for prm in POINTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nll = BetaGeoFitter._negative_log_likelihood(np.log(prm), x.astype(int), tx, T, w, 0.0)
        assert bgnbd.loglik_total(prm, x, tx, T, w) == pytest.approx(-nll * w.sum(), rel=1e-12)


# ---------------------------------------------------------------------------------- fit


def test_fit_reproduces_lifetimes_and_published_values_on_cdnow(cdnow) -> None:
    x, tx, T, w = cdnow
    sink: list[str] = []
    got = bgnbd.fit(x, tx, T, w, 0.0, sink)
    assert sink == []
    _assert_same(got, _lifetimes_fit(x, tx, T, w), rel=1e-8)
    # Fader, Hardie & Lee (2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4
    for k, v in zip(NAMES, POINTS[0], strict=True):
        assert got[k] == pytest.approx(v, abs=6e-4)
    assert bgnbd.loglik_total(tuple(got.values()), x, tx, T, w) == pytest.approx(-9582.43, abs=0.01)
    # the penalized objective (time scaled to max(T) = 1, as lifetimes does) has the same optimum
    _assert_same(bgnbd.fit(x, tx, T, w, 0.05, []), _lifetimes_fit(x, tx, T, w, 0.05), rel=1e-6)


def test_fit_reproduces_lifetimes_on_cdnow_master() -> None:
    x, tx, T, w, _ = unique_rows(_cal("master"))  # 23,570 customers
    _assert_same(bgnbd.fit(x, tx, T, w, 0.0, []), _lifetimes_fit(x, tx, T, w), rel=1e-6)


def test_fit_recovers_simulated_parameters_within_sampling_error() -> None:
    truth = {"r": 0.5, "alpha": 8.0, "a": 0.6, "b": 3.0}
    n = 40_000
    T = np.random.default_rng(4).integers(10, 2 * 365, size=n) / 7.0  # day resolution, in weeks
    s = simulate_summary(n, "bgnbd", truth, T=T, time_grid=1 / 7, seed=4)
    x, tx, T, w, _ = unique_rows(s)
    got = bgnbd.fit(x, tx, T, w, 0.0, [])
    _assert_same(got, _lifetimes_fit(x, tx, T, w), rel=1e-6)
    # standard errors of the log parameters from the Hessian of the mean negative log-likelihood
    # (central differences of the analytic gradient)
    theta = np.log([got[k] for k in NAMES])
    rows = bgnbd._Rows(x, tx, T, w)
    h = 1e-5
    hess = np.array(
        [
            (rows.objective(theta + h * e, 0.0)[1] - rows.objective(theta - h * e, 0.0)[1]) / (2 * h)
            for e in np.eye(4)
        ]
    )
    se = np.sqrt(np.diag(np.linalg.inv((hess + hess.T) / 2)) / w.sum())
    z = (theta - np.log([truth[k] for k in NAMES])) / se
    assert np.all(np.abs(z) < 4), dict(zip(NAMES, z, strict=True))
    assert np.all(se < 0.1)  # and the data do pin them down


def test_degenerate_data_fail_unpenalized_and_match_lifetimes_penalized() -> None:
    rng = np.random.default_rng(0)
    age = rng.uniform(10, 50, 200)
    buys = rng.poisson(age * 0.5)
    cases = {
        # nobody drops out: a -> 0
        "no dropout": pd.DataFrame(
            {"frequency": np.arange(50) % 5 + 1, "recency": np.linspace(1, 50, 50), "T": np.linspace(1, 50, 50)}
        ),
        # one purchase rate for everybody and no dropout: r, alpha -> infinity, a -> 0
        "homogeneous": pd.DataFrame({"frequency": buys, "recency": np.where(buys > 0, age, 0.0), "T": age}),
    }
    for name, s in cases.items():
        x, tx, T, w, _ = unique_rows(s)
        with pytest.raises(FitFailed, match="no finite maximum|did not converge"):
            bgnbd.fit(x, tx, T, w, 0.0, [])
        sink: list[str] = []
        got = bgnbd.fit(x, tx, T, w, 1e-3, sink)
        _assert_same(got, _lifetimes_fit(x, tx, T, w, 1e-3), rel=1e-4)
        assert any("boundary" in m for m in sink), name
        m = CLVModel(model="bgnbd").fit(s)  # the model retries with its penalizer, as before
        assert any("retried with penalizer=0.001" in m for m in m.warnings_), name
        _assert_same(m.params_, got, rel=1e-12)


def test_fit_failure_on_non_finite_likelihood() -> None:
    x = np.array([1.0, 2.0, 0.0])
    with pytest.raises(FitFailed, match="did not converge|no finite"):
        bgnbd.fit(x, np.array([1.0, np.nan, 0.0]), np.array([2.0, 3.0, 4.0]), np.ones(3), 0.0, [])
