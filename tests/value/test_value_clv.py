"""Tests of omni.value.clv: published CDNOW values, agreement with lifetimes, guards, simulation."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from omni.value.clv import CLVModel, cdnow_path, paretonbd, simulate_summary, value_tiers
from omni.value.clv._base import log_power_integral
from omni.value.rfm import read_cdnow, rfm_summary

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter

MONTHLY = 1.10 ** (1 / 12) - 1


@pytest.fixture(scope="module")
def cdnow_cal() -> pd.DataFrame:
    """omni's own path on raw CDNOW: calibration to 1997-09-30 (39 weeks), holdout to 1998-06-30."""
    orders = read_cdnow(cdnow_path("sample"))
    return rfm_summary(orders, "1998-06-30", calibration_end="1997-09-30", freq="W")


@pytest.fixture(scope="module")
def fitted(cdnow_cal) -> CLVModel:
    return CLVModel(model="auto", freq="W").fit(cdnow_cal)


def _lt(model: str, params: dict):
    f = BetaGeoFitter() if model == "bgnbd" else ParetoNBDFitter()
    f.params_ = pd.Series(params)
    f.predict = f.conditional_expected_number_of_purchases_up_to_time
    return f


def _arrays(s: pd.DataFrame):
    return s["frequency"].to_numpy(float), s["recency"].to_numpy(), s["T"].to_numpy()


# ---------------------------------------------------------------------------------- published


def test_cdnow_bgnbd_published_parameters(fitted) -> None:
    # Fader, Hardie & Lee (2005), "Counting your customers the easy way", CDNOW 1/10 sample
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    got = fitted.candidate_params_["bgnbd"]
    for k, v in published.items():
        assert got[k] == pytest.approx(v, rel=0.01), k
    assert fitted.loglik_["bgnbd"] == pytest.approx(-9582.4, abs=0.1)  # published LL -9582.4


def test_cdnow_paretonbd_published_parameters(fitted) -> None:
    # Fader, Hardie & Lee (2005), "A note on implementing the Pareto/NBD model in MATLAB"
    published = {"r": 0.5533, "alpha": 10.5776, "s": 0.6061, "beta": 11.6650}
    got = fitted.candidate_params_["paretonbd"]
    for k, v in published.items():
        assert got[k] == pytest.approx(v, rel=0.01), k
    assert fitted.loglik_["paretonbd"] == pytest.approx(-9595.0, abs=0.1)  # published -9595.0


def test_cdnow_gamma_gamma_published_parameters(fitted) -> None:
    # Fader & Hardie (2013), "The Gamma-Gamma model of monetary value": 946 repeat buyers
    for k, v in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert fitted.gg_params_[k] == pytest.approx(v, rel=0.01), k
    ind = fitted.gg_independence_
    assert ind["n"] == 946
    assert ind["corr"] == pytest.approx(0.11, abs=0.01)  # the note reports 0.11
    assert ind["flag"] is False


def test_model_choice_and_holdout_report(fitted, cdnow_cal) -> None:
    ch = fitted.model_choice_
    assert ch["criterion"] == "holdout_rmse"
    assert ch["chosen"] == fitted.model_
    assert fitted.params_ == fitted.candidate_params_[fitted.model_]
    scores = ch["scores"]
    assert min(scores, key=lambda m: scores[m]["rmse"]) == ch["chosen"]
    for sc in scores.values():
        assert sc["total_actual"] == 1882
        assert sc["total_error_pct"] == pytest.approx(100 * (sc["total_predicted"] - 1882) / 1882)
    # both models underpredict the CDNOW holdout total (1,882) by 11-12%
    assert -15 < scores["bgnbd"]["total_error_pct"] < -9
    rep = fitted.holdout_report_
    assert rep["frequency_cal"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert rep["n_customers"].sum() == 2357
    actual0 = cdnow_cal.loc[cdnow_cal["frequency"] == 0, "frequency_holdout"].mean()
    assert rep.loc[0, "actual"] == pytest.approx(actual0)
    assert {"predicted", "predicted_bgnbd", "predicted_paretonbd"} <= set(rep.columns)
    # conditional expectations track the actual means by bucket
    assert np.all(np.abs(rep["predicted"] - rep["actual"]) < 0.35 * rep["actual"] + 0.1)


def test_model_choice_without_holdout_uses_loglik(cdnow_cal) -> None:
    s = cdnow_cal[["frequency", "recency", "T", "monetary_value"]]
    m = CLVModel().fit(s)
    assert m.model_choice_["criterion"] == "loglik"
    assert m.model_ == "bgnbd"  # -9582.4 > -9595.0
    assert m.holdout_report_ is None
    m2 = CLVModel(model="paretonbd").fit(s)
    assert m2.model_ == "paretonbd" and m2.model_choice_["criterion"] == "user"
    assert list(m2.candidate_params_) == ["paretonbd"]


# ---------------------------------------------------------------------------------- weights


def test_weighted_fit_equals_per_customer_fit(cdnow_cal) -> None:
    x, tx, T = _arrays(cdnow_cal)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = BetaGeoFitter().fit(x, tx, T)  # one row per customer, no weights
    ours = CLVModel(model="bgnbd").fit(cdnow_cal)
    assert ours.n_unique_ < len(cdnow_cal) / 2  # the weights really compress the data
    for k in "r", "alpha", "a", "b":
        assert ours.params_[k] == pytest.approx(full.params_[k], rel=1e-4)
    sink: list[str] = []
    p_full = paretonbd.fit(x, tx, T, np.ones_like(x), 0.0, sink)
    p_w = CLVModel(model="paretonbd").fit(cdnow_cal).params_
    for k in "r", "alpha", "s", "beta":
        assert p_w[k] == pytest.approx(p_full[k], rel=1e-4)
    rep = cdnow_cal[cdnow_cal["frequency"] > 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gg_full = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    gg_w = CLVModel(model="bgnbd").fit(cdnow_cal).gg_params_
    for k in "p", "q", "v":
        assert gg_w[k] == pytest.approx(gg_full.params_[k], rel=1e-4)


def test_fit_is_deterministic(cdnow_cal) -> None:
    a = CLVModel().fit(cdnow_cal)
    b = CLVModel().fit(cdnow_cal)
    assert a.candidate_params_ == b.candidate_params_ and a.gg_params_ == b.gg_params_


# ---------------------------------------------------------------------------------- predictions


@pytest.mark.parametrize("model", ["bgnbd", "paretonbd"])
def test_predictions_match_lifetimes(fitted, cdnow_cal, model) -> None:
    m = CLVModel.from_params(model, fitted.candidate_params_[model], fitted.gg_params_)
    ref = _lt(model, m.params_)
    x, tx, T = _arrays(cdnow_cal)
    np.testing.assert_allclose(
        m.p_alive(cdnow_cal), ref.conditional_probability_alive(x, tx, T), rtol=1e-10, atol=1e-12
    )
    for t in (4.345, 39.0, 104.0):
        np.testing.assert_allclose(
            m.expected_purchases(cdnow_cal, t),
            ref.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T),
            rtol=1e-9,
        )
    gg = GammaGammaFitter()
    gg.params_ = pd.Series(m.gg_params_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_clv = gg.customer_lifetime_value(
            ref,
            cdnow_cal["frequency"],
            cdnow_cal["recency"],
            cdnow_cal["T"],
            cdnow_cal["monetary_value"],
            time=12,
            discount_rate=MONTHLY,
            freq="W",
        )
    np.testing.assert_allclose(m.clv(cdnow_cal, months=12), ref_clv, rtol=1e-9)


def test_prob_purchase_at_least_one(fitted, cdnow_cal) -> None:
    # Pareto/NBD: equals 1 - lifetimes' conditional P(X(t) = 0) (Fader & Hardie note 028)
    m = CLVModel.from_params("paretonbd", fitted.candidate_params_["paretonbd"])
    ref = _lt("paretonbd", m.params_)
    x, tx, T = _arrays(cdnow_cal)
    for days in (30, 90):
        p0 = ref.conditional_probability_of_n_purchases_up_to_time(0, days / 7, x, tx, T)
        np.testing.assert_allclose(m.prob_purchase_at_least_one(cdnow_cal, days), 1 - p0, atol=1e-9)
    # BG/NBD: for a brand-new customer it is 1 - P(X(t) = 0) of FHL (2005) eq. 8
    b = CLVModel.from_params("bgnbd", fitted.candidate_params_["bgnbd"])
    new = pd.DataFrame({"frequency": [0], "recency": [0.0], "T": [0.0]})
    for days in (30, 90, 365):
        want = 1 - _lt("bgnbd", b.params_).probability_of_n_purchases_up_to_time(days / 7, 0)
        assert b.prob_purchase_at_least_one(new, days).iloc[0] == pytest.approx(want, rel=1e-10)
    # always a probability and never above P(alive)
    for mm in (m, b):
        p = mm.prob_purchase_at_least_one(cdnow_cal, 90)
        assert p.between(0, 1).all() and (p <= mm.p_alive(cdnow_cal) + 1e-12).all()


def test_p_alive_range_and_bgnbd_zero_frequency(fitted, cdnow_cal) -> None:
    for model in ("bgnbd", "paretonbd"):
        pa = CLVModel.from_params(model, fitted.candidate_params_[model]).p_alive(cdnow_cal)
        assert pa.between(0, 1).all()
    pa = CLVModel.from_params("bgnbd", fitted.candidate_params_["bgnbd"]).p_alive(cdnow_cal)
    assert (pa[cdnow_cal["frequency"] == 0] == 1.0).all()
    assert (pa[cdnow_cal["frequency"] > 0] < 1.0).all()


@pytest.mark.parametrize("model", ["bgnbd", "paretonbd"])
def test_expected_purchases_monotone_in_frequency(fitted, model) -> None:
    m = CLVModel.from_params(model, fitted.candidate_params_[model])
    grid = pd.DataFrame({"frequency": np.arange(0, 60), "recency": 38.86, "T": 38.86})
    grid.loc[0, "recency"] = 0.0
    e = m.expected_purchases(grid, 52.0).to_numpy()
    assert np.all(np.diff(e) > 0)
    # and decreasing in the time since the last purchase at fixed frequency
    g2 = pd.DataFrame({"frequency": 5, "recency": np.linspace(38.86, 1, 40), "T": 38.86})
    assert np.all(np.diff(m.expected_purchases(g2, 52.0).to_numpy()) < 0)


@pytest.mark.parametrize("model", ["bgnbd", "paretonbd"])
def test_heavy_buyers_stay_finite(fitted, model) -> None:
    m = CLVModel.from_params(model, fitted.candidate_params_[model], fitted.gg_params_)
    heavy = pd.DataFrame(
        {
            "frequency": [500, 500, 500, 2000, 5000, 0],
            "recency": [38.8, 38.86, 1.0, 38.86, 38.0, 0.0],
            "T": [38.86] * 6,
            "monetary_value": [50.0, 50.0, 50.0, 40.0, 30.0, 0.0],
        }
    )
    pred = m.predict(heavy)
    assert np.isfinite(pred.select_dtypes("number").to_numpy()).all()
    assert pred["p_alive"].between(0, 1).all()
    # a customer buying ~13 times a week up to today keeps buying at about the posterior mean
    # rate (r + x) / (alpha + T), a little less for the chance of dropping out
    r, alpha = m.params_["r"], m.params_["alpha"]
    rate_30d = (r + 500) / (alpha + 38.86) * 30 / 7
    assert 0.85 * rate_30d < pred.loc[1, "expected_purchases_30d"] <= rate_30d
    assert pred.loc[1, "clv_12m"] > 1e4
    # ... and one silent for 38 weeks since is gone
    assert pred.loc[2, "p_alive"] < 1e-10 and pred.loc[2, "clv_12m"] < 1e-6
    if model == "paretonbd":  # lifetimes itself returns NaN here
        x, tx, T = _arrays(heavy)
        with np.errstate(all="ignore"):
            raw = _lt(model, m.params_).conditional_probability_alive(x, tx, T)
        assert np.isnan(raw).any()


def test_pareto_quadrature_fallback_is_accurate() -> None:
    prm = (0.5533, 10.5776, 0.6061, 11.665)
    r, alpha, s, beta = prm
    for x, tx, T in [
        (500.0, 38.0, 38.86),
        (300.0, 20.0, 52.0),
        (2000.0, 38.8, 38.86),
        (5.0, 10.0, 38.86),
    ]:

        def f(y, x=x, tx=tx):
            return np.exp(
                -(r + x) * np.log((alpha + y) / (alpha + tx)) - (s + 1) * np.log(beta + y)
            )

        ref, _ = integrate.quad(f, tx, T, epsabs=0, epsrel=1e-12, limit=200)
        want = np.log(r + s + x) + np.log(ref) - (r + x) * np.log(alpha + tx)
        got = paretonbd.log_A0(prm, np.array([x]), np.array([tx]), np.array([T]))[0]
        assert got == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_power_integral_against_adaptive_quadrature() -> None:
    rng = np.random.default_rng(5)
    for _ in range(40):
        A, B = 10 ** rng.uniform(-2, 3, 2)
        p = 10 ** rng.uniform(-1.5, 3.7)
        q = 10 ** rng.uniform(-1, 1.3)
        D = 10 ** rng.uniform(-3, 3)
        c0 = p / A + q / B

        def f(sig, A=A, B=B, p=p, q=q, c0=c0):
            u = np.expm1(sig) / c0
            return np.exp(sig - p * np.log1p(u / A) - q * np.log1p(u / B)) / c0

        ref, _ = integrate.quad(f, 0, np.log1p(c0 * D), epsabs=0, epsrel=1e-13, limit=500)
        got = np.exp(
            log_power_integral(
                np.array([A]), np.array([B]), np.array([p]), np.array([q]), np.array([D])
            )[0]
        )
        assert got == pytest.approx(ref, rel=1e-7)


def test_clv_discounting_and_horizon(fitted, cdnow_cal) -> None:
    m = CLVModel.from_params(
        "bgnbd", fitted.candidate_params_["bgnbd"], fitted.gg_params_, discount_rate_annual=0.10
    )
    c1 = m.clv(cdnow_cal, months=1)
    value = m.expected_avg_value(cdnow_cal)
    e1 = m.expected_purchases(cdnow_cal, 4.345)
    np.testing.assert_allclose(c1, value * e1 / (1 + MONTHLY), rtol=1e-12)
    c12 = m.clv(cdnow_cal, months=12)
    c24 = m.clv(cdnow_cal, months=24)
    assert (c24 >= c12 - 1e-12).all() and (c12 >= c1 - 1e-12).all()
    undiscounted = CLVModel.from_params("bgnbd", m.params_, m.gg_params_, discount_rate_annual=0)
    assert (undiscounted.clv(cdnow_cal, 12) >= c12 - 1e-12).all()
    # Gamma-Gamma shrinkage: a zero-purchase customer is valued at the population mean spend
    p, q, v = (m.gg_params_[k] for k in "pqv")
    assert value[cdnow_cal["frequency"] == 0].iloc[0] == pytest.approx(p * v / (q - 1))


def test_predict_frame(fitted, cdnow_cal) -> None:
    pred = fitted.predict(cdnow_cal)
    assert list(pred.columns) == [
        "p_alive",
        "churn_risk",
        "expected_purchases_30d",
        "p_purchase_30d",
        "expected_purchases_90d",
        "p_purchase_90d",
        "expected_avg_value",
        "clv_12m",
        "value_tier",
    ]
    assert pred.index.equals(cdnow_cal.index)
    np.testing.assert_allclose(pred["churn_risk"], 1 - pred["p_alive"])
    assert (pred["expected_purchases_90d"] >= pred["expected_purchases_30d"]).all()
    assert pred["value_tier"].value_counts().sort_index().tolist() == [236, 471, 707, 943]
    top = pred.sort_values("clv_12m", ascending=False).head(236)
    assert (top["value_tier"] == "A").all()


# ---------------------------------------------------------------------------------- guards


def test_convergence_failure_is_retried_with_penalizer() -> None:
    # nobody ever drops out: the unpenalized BG/NBD likelihood has no finite maximum (a -> 0)
    s = pd.DataFrame(
        {
            "frequency": np.arange(50) % 5 + 1,
            "recency": np.linspace(1, 50, 50),
            "T": np.linspace(1, 50, 50),
        }
    )
    m = CLVModel(model="bgnbd").fit(s)
    text = " | ".join(m.warnings_)
    assert "failed" in text and "retried with penalizer=0.001" in text
    assert "boundary" in text  # a -> 0: no evidence of dropout
    assert np.isfinite(m.p_alive(s)).all()


def test_gamma_gamma_independence_flag() -> None:
    s = simulate_summary(4000, "bgnbd", T=52.0, gg_params={"p": 6.0, "q": 4.0, "v": 15.0}, seed=3)
    rep = s["frequency"] > 0
    # make spend grow with frequency: the Gamma-Gamma assumption breaks
    s.loc[rep, "monetary_value"] *= 1 + 0.5 * s.loc[rep, "frequency"]
    m = CLVModel(model="bgnbd").fit(s.drop(columns=["true_lambda", "true_p", "true_alive"]))
    assert m.gg_independence_["flag"] is True and m.gg_independence_["corr"] > 0.3
    assert any("independence" in w for w in m.warnings_)


def test_lifetimes_warnings_do_not_leak(cdnow_cal) -> None:
    before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        CLVModel(model="bgnbd").fit(cdnow_cal)
    assert not [w for w in rec if issubclass(w.category, DeprecationWarning)]
    assert list(warnings.filters) == before


def test_bad_input_raises(cdnow_cal) -> None:
    with pytest.raises(ValueError, match="missing column"):
        CLVModel().fit(cdnow_cal.drop(columns="T"))
    bad = cdnow_cal.copy()
    bad.loc[bad.index[3], "recency"] = 99.0
    with pytest.raises(ValueError, match=r"recency is larger than T at row '0004'"):
        CLVModel().fit(bad)
    bad = cdnow_cal.copy().astype({"frequency": float})
    bad.loc[bad.index[5], "frequency"] = 1.5
    with pytest.raises(ValueError, match="non-negative integer at row '0006'"):
        CLVModel().fit(bad)
    with pytest.raises(ValueError, match="freq='W'"):
        CLVModel(freq="D").fit(cdnow_cal)
    with pytest.raises(ValueError, match="model must be"):
        CLVModel(model="mbgnbd").fit(cdnow_cal)
    with pytest.raises(ValueError, match="not fitted"):
        CLVModel().p_alive(cdnow_cal)
    with pytest.raises(ValueError, match="no customer has a repeat purchase"):
        CLVModel().fit(pd.DataFrame({"frequency": [0] * 20, "recency": 0.0, "T": 10.0}))
    m = CLVModel(model="bgnbd").fit(cdnow_cal[["frequency", "recency", "T"]])
    assert m.gg_params_ is None
    with pytest.raises(ValueError, match="monetary_value"):
        m.clv(cdnow_cal[["frequency", "recency", "T"]])
    assert "clv_12m" not in m.predict(cdnow_cal).columns
    with pytest.raises(ValueError, match="t_days"):
        m.prob_purchase_at_least_one(cdnow_cal, -1)


def test_value_tiers() -> None:
    clv = pd.Series(np.r_[np.arange(100, 0, -1.0)], index=[f"c{i}" for i in range(100)])
    t = value_tiers(clv)
    assert t.value_counts().sort_index().tolist() == [10, 20, 30, 40]
    assert (t.iloc[:10] == "A").all() and (t.iloc[-40:] == "D").all()
    tied = value_tiers(pd.Series([5.0] * 10), shares=(0.2,), labels=("top", "rest"))
    assert tied.tolist() == ["top"] * 2 + ["rest"] * 8  # ties: row order decides
    with pytest.raises(ValueError, match="labels"):
        value_tiers(clv, shares=(0.1, 0.2), labels=("A", "B"))
    with pytest.raises(ValueError, match="sum to less than 1"):
        value_tiers(clv, shares=(0.5, 0.6), labels=("A", "B", "C"))
    with pytest.raises(ValueError, match="row 'c3'"):
        value_tiers(clv.where(clv.index != "c3"))


# ---------------------------------------------------------------------------------- simulation


@pytest.mark.parametrize(
    ("model", "params"),
    [
        ("bgnbd", {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}),
        ("paretonbd", {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}),
    ],
)
def test_simulator_matches_model_moments(model, params) -> None:
    d = simulate_summary(100_000, model, params, T=39.0, holdout=39.0, seed=1)
    ref = _lt(model, params)
    e39 = ref.expected_number_of_purchases_up_to_time(39.0)
    assert d["frequency"].mean() == pytest.approx(e39, rel=0.03)
    # with the true parameters the conditional predictions are calibrated on the holdout
    m = CLVModel.from_params(model, params)
    assert m.expected_purchases(d, 39.0).mean() == pytest.approx(
        d["frequency_holdout"].mean(), rel=0.03
    )
    assert m.prob_purchase_at_least_one(d, 39 * 7).mean() == pytest.approx(
        (d["frequency_holdout"] > 0).mean(), rel=0.03
    )
    assert m.p_alive(d).mean() == pytest.approx(d["true_alive"].mean(), rel=0.03)


@pytest.mark.parametrize(
    ("model", "params"),
    [
        ("bgnbd", {"r": 0.8, "alpha": 6.0, "a": 0.6, "b": 3.0}),
        ("paretonbd", {"r": 0.8, "alpha": 8.0, "s": 0.8, "beta": 20.0}),
    ],
)
def test_parameter_recovery(model, params) -> None:
    T = np.random.default_rng(2).integers(1, 730, 30_000) / 7.0  # day-level ages up to 2 years
    d = simulate_summary(
        30_000,
        model,
        params,
        T=T,
        gg_params={"p": 6.0, "q": 4.0, "v": 15.0},
        time_grid=1 / 7,
        seed=4,
    )
    m = CLVModel(model=model).fit(d[["frequency", "recency", "T", "monetary_value"]])
    for k, v in params.items():
        assert m.params_[k] == pytest.approx(v, rel=0.15), k
    for k, v in {"p": 6.0, "q": 4.0, "v": 15.0}.items():
        assert m.gg_params_[k] == pytest.approx(v, rel=0.15), k
