"""The customer-value model: BG/NBD or Pareto/NBD for purchases, Gamma-Gamma for spend.

:class:`CLVModel` follows the scikit-learn/lifetimes conventions (``fit`` returns self, fitted
attributes end in ``_``) and adds the guards a monthly unattended run needs:

* fits on the unique ``(frequency, recency, T)`` rows with their counts as weights, so a million
  customers fit in seconds (the likelihood only depends on those three numbers);
* chooses between BG/NBD and Pareto/NBD (:mod:`omni.value.clv.selection`);
* captures optimiser output and warnings into ``warnings_`` and refits with a small penalizer when
  a fit fails to converge;
* evaluates predictions in log space (:mod:`omni.value.clv.bgnbd`, :mod:`omni.value.clv.paretonbd`);
* checks the Gamma-Gamma independence assumption (:mod:`omni.value.clv.gamma_gamma`).

Method notes, formulas and failure modes: ``docs/clv.md``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from omni.value.clv import bgnbd, paretonbd
from omni.value.clv._base import (
    MODEL_LABELS,
    MODELS,
    PARAM_NAMES,
    UNIT_DAYS,
    FitFailed,
    check_summary,
    unique_rows,
)
from omni.value.clv.discounted import discounted_purchases
from omni.value.clv.gamma_gamma import expected_avg_value, fit_spend_model
from omni.value.clv.selection import EXPECTED, choose_model
from omni.value.clv.tiers import value_tiers

__all__ = ["CLVModel"]

_P_ALIVE = {"bgnbd": bgnbd.p_alive, "paretonbd": paretonbd.p_alive}
_PROB_ANY = {"bgnbd": bgnbd.prob_any, "paretonbd": paretonbd.prob_any}
_LOGLIK = {"bgnbd": bgnbd.loglik_total, "paretonbd": paretonbd.loglik_total}
_FITTERS: dict[str, Callable[..., dict[str, float]]] = {"bgnbd": bgnbd.fit, "paretonbd": paretonbd.fit}


class CLVModel:
    """BG/NBD or Pareto/NBD purchase model + Gamma-Gamma spend model, with guards.

    Parameters
    ----------
    model : {"auto", "bgnbd", "paretonbd"}
        ``"auto"`` fits both; with holdout columns in the summary (``frequency_holdout``,
        ``duration_holdout``) it keeps the one with the lower customer-level RMSE of predicted vs
        actual holdout purchases, otherwise the one with the higher log-likelihood (both have four
        parameters, so this equals an AIC/BIC comparison).
    penalizer : float
        L2 penalizer on the parameters (lifetimes' ``penalizer_coef``; applied to the parameters
        with time scaled so that max(T) = 1).
    discount_rate_annual : float
        Annual discount rate of the CLV; converted to a monthly rate (1 + d)^(1/12) - 1.
    freq : {"W", "D"}
        Time unit of ``recency``/``T`` in the summaries (must match ``rfm_summary(freq=...)``).
    gg_penalizer : float
        Penalizer of the Gamma-Gamma fit.
    retry_penalizer : float
        Penalizer of the single retry when a fit fails to converge or degenerates.
    corr_threshold : float
        |corr(frequency, monetary_value)| among repeat buyers above which the Gamma-Gamma
        independence assumption is flagged in ``warnings_``.

    Attributes
    ----------
    model_ : str
        The purchase model used for predictions (``"bgnbd"`` or ``"paretonbd"``).
    params_ : dict
        Its parameters (``r, alpha, a, b`` or ``r, alpha, s, beta``; alpha/beta in ``freq`` units).
    candidate_params_ : dict
        Parameters of every purchase model that was fitted.
    loglik_ : dict
        Log-likelihood of each fitted purchase model (penalizer excluded).
    model_choice_ : dict
        ``chosen``, ``criterion`` (``"user"``, ``"holdout_rmse"`` or ``"loglik"``) and per-model
        ``scores`` (holdout MAE, RMSE, total predicted/actual and % error where available).
    gg_params_ : dict or None
        Gamma-Gamma ``p, q, v`` (None when there were too few repeat buyers).
    gg_independence_ : dict
        ``corr`` and ``p_value`` (Pearson) of frequency vs monetary value among repeat buyers,
        ``n`` and ``flag`` (|corr| > corr_threshold).
    holdout_report_ : DataFrame or None
        Mean actual vs predicted holdout purchases by calibration frequency (0..6, 7+), one
        ``predicted_<model>`` column per fitted model and ``predicted`` for the chosen one.
    warnings_ : list of str
        Everything that went wrong or looks doubtful during the fit.
    n_customers_, n_unique_ : int
        Customers in the fit and unique (frequency, recency, T) rows actually fitted.
    fit_seconds_ : dict
        Wall time of each fitted model (``bgnbd``, ``paretonbd``, ``gammagamma``).
    """

    def __init__(
        self,
        model: Literal["auto", "bgnbd", "paretonbd"] = "auto",
        penalizer: float = 0.0,
        discount_rate_annual: float = 0.10,
        freq: Literal["W", "D"] = "W",
        gg_penalizer: float = 0.0,
        retry_penalizer: float = 1e-3,
        corr_threshold: float = 0.3,
    ) -> None:
        self.model = model
        self.penalizer = penalizer
        self.discount_rate_annual = discount_rate_annual
        self.freq = freq
        self.gg_penalizer = gg_penalizer
        self.retry_penalizer = retry_penalizer
        self.corr_threshold = corr_threshold

    # ---------------------------------------------------------------- construction helpers

    def _validate_settings(self) -> None:
        if self.model not in ("auto", *MODELS):
            raise ValueError(f"model must be 'auto', 'bgnbd' or 'paretonbd', got {self.model!r}")
        if self.freq not in UNIT_DAYS:
            raise ValueError(f"freq must be 'W' or 'D', got {self.freq!r}")
        if not self.penalizer >= 0 or not self.gg_penalizer >= 0 or not self.retry_penalizer > 0:
            raise ValueError("penalizers must be >= 0 (retry_penalizer > 0)")
        if not -1 < self.discount_rate_annual < 10:
            raise ValueError(f"discount_rate_annual={self.discount_rate_annual} is not a rate")

    def _check_freq(self, summary: pd.DataFrame) -> None:
        f = summary.attrs.get("freq")
        if f is not None and f != self.freq:
            raise ValueError(
                f"summary was built with freq={f!r} but the model uses freq={self.freq!r}"
            )

    @classmethod
    def from_params(
        cls,
        model: Literal["bgnbd", "paretonbd"],
        params: dict[str, float],
        gg_params: dict[str, float] | None = None,
        freq: Literal["W", "D"] = "W",
        discount_rate_annual: float = 0.10,
    ) -> CLVModel:
        """A model with given parameters (published values, a previous month's fit, tests)."""
        if model not in MODELS:
            raise ValueError(f"model must be 'bgnbd' or 'paretonbd', got {model!r}")
        missing = [k for k in PARAM_NAMES[model] if k not in params]
        if missing:
            raise ValueError(f"params for {model} miss {missing}")
        m = cls(model=model, freq=freq, discount_rate_annual=discount_rate_annual)
        m._validate_settings()
        m.model_ = model
        m.params_ = {k: float(params[k]) for k in PARAM_NAMES[model]}
        m.candidate_params_ = {model: dict(m.params_)}
        m.loglik_ = {}
        m.model_choice_ = {"chosen": model, "criterion": "given", "scores": {}}
        m.gg_params_ = None if gg_params is None else {k: float(gg_params[k]) for k in "pqv"}
        m.gg_independence_ = {}
        m.holdout_report_ = None
        m.warnings_ = []
        m.n_customers_ = m.n_unique_ = 0
        m.fit_seconds_ = {}
        return m

    #: :func:`value_tiers`, reachable from the model for convenience.
    value_tiers = staticmethod(value_tiers)

    def _require_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ValueError("CLVModel is not fitted: call fit(summary) first")

    def _prm(self, model: str | None = None) -> tuple[float, ...]:
        model = model or self.model_
        p = self.candidate_params_[model]
        return tuple(p[k] for k in PARAM_NAMES[model])

    # ---------------------------------------------------------------- fit

    def fit(self, summary: pd.DataFrame) -> CLVModel:
        """Fit the purchase model(s) and Gamma-Gamma on a customer summary.

        Parameters
        ----------
        summary : DataFrame
            Output of :func:`omni.value.rfm.rfm_summary` (``frequency``, ``recency``, ``T`` and
            optionally ``monetary_value`` and the holdout columns), in ``freq`` units.

        Returns
        -------
        CLVModel
            self, fitted.
        """
        self._validate_settings()
        check_summary(summary)
        self._check_freq(summary)
        self.warnings_: list[str] = []
        x, tx, T, w, _ = unique_rows(summary)
        self.n_customers_ = len(summary)
        self.n_unique_ = len(x)
        if len(summary) < 10:
            raise ValueError(f"summary has {len(summary)} customers; need at least 10 to fit")
        if float(np.max(T)) <= 0:
            raise ValueError("summary: every customer has T = 0 (no time after the first purchase)")
        if not np.any(x > 0):
            raise ValueError(
                "summary: no customer has a repeat purchase, so purchase rates and dropout are "
                "not identified; use a longer observation window"
            )

        candidates = list(MODELS) if self.model == "auto" else [self.model]
        self.candidate_params_: dict[str, dict[str, float]] = {}
        self.loglik_: dict[str, float] = {}
        self.fit_seconds_: dict[str, float] = {}
        failures = {}
        for name in candidates:
            t0 = time.perf_counter()
            try:
                prm = self._fit_one(name, x, tx, T, w)
            except FitFailed as exc:
                failures[name] = str(exc)
                self.warnings_.append(f"{MODEL_LABELS[name]}: fit failed and was dropped: {exc}")
                continue
            self.fit_seconds_[name] = time.perf_counter() - t0
            self.candidate_params_[name] = prm
            self.loglik_[name] = _LOGLIK[name](tuple(prm.values()), x, tx, T, w)
        if not self.candidate_params_:
            raise RuntimeError(f"no purchase model could be fitted: {failures}")

        self._choose(summary)
        self.params_ = dict(self.candidate_params_[self.model_])
        t0 = time.perf_counter()
        self._fit_gamma_gamma(summary)
        self.fit_seconds_["gammagamma"] = time.perf_counter() - t0
        return self

    def _fit_one(self, name: str, x, tx, T, w) -> dict[str, float]:
        fitter = _FITTERS[name]
        try:
            return fitter(x, tx, T, w, self.penalizer, self.warnings_)
        except FitFailed as exc:
            pen = max(self.retry_penalizer, 10 * self.penalizer)
            self.warnings_.append(
                f"{MODEL_LABELS[name]}: fit with penalizer={self.penalizer} failed ({exc}); "
                f"retried with penalizer={pen} (parameters shrink toward 0)"
            )
            return fitter(x, tx, T, w, pen, self.warnings_)

    def _choose(self, summary: pd.DataFrame) -> None:
        params = {n: self._prm(n) for n in self.candidate_params_}
        choice = choose_model(summary, params, self.loglik_, self.model, self.warnings_)
        self.model_ = choice.chosen
        self.model_choice_ = choice.as_dict()
        self.holdout_report_ = choice.holdout_report

    def _fit_gamma_gamma(self, summary: pd.DataFrame) -> None:
        self.gg_params_, self.gg_independence_ = fit_spend_model(
            summary, self.gg_penalizer, self.retry_penalizer, self.corr_threshold, self.warnings_
        )

    # ---------------------------------------------------------------- predictions

    def _rows(self, summary: pd.DataFrame) -> tuple[np.ndarray, ...]:
        """Unique (x, t_x, T) rows, the inverse index and P(alive) on the unique rows."""
        x, tx, T, _, inv = unique_rows(summary)
        with np.errstate(all="ignore"):
            pa = np.clip(_P_ALIVE[self.model_](self._prm(), x, tx, T), 0.0, 1.0)
        return x, tx, T, inv, pa

    def _expected_u(self, rows: tuple[np.ndarray, ...], t: float) -> np.ndarray:
        x, tx, T, _, pa = rows
        with np.errstate(all="ignore"):
            return EXPECTED[self.model_](self._prm(), t, x, tx, T, pa)

    def _prob_any_u(self, rows: tuple[np.ndarray, ...], t: float) -> np.ndarray:
        x, tx, T, _, pa = rows
        with np.errstate(all="ignore"):
            return np.clip(_PROB_ANY[self.model_](self._prm(), t, x, tx, T, pa), 0.0, 1.0)

    def _prepare(self, summary: pd.DataFrame, need: Sequence[str] = ()) -> None:
        self._require_fitted()
        check_summary(summary, need)
        self._check_freq(summary)

    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """Probability that each customer is still active at the end of the summary period.

        ``1 - p_alive`` is the churn risk. BG/NBD gives 1 to customers without repeat purchases
        (they cannot have dropped out yet under that model).
        """
        self._prepare(summary)
        rows = self._rows(summary)
        return pd.Series(rows[4][rows[3]], index=summary.index, name="p_alive")

    def expected_purchases(self, summary: pd.DataFrame, t: float) -> pd.Series:
        """Expected number of purchases in the next ``t`` time units (``freq``) per customer."""
        self._prepare(summary)
        if not np.isfinite(t) or t < 0:
            raise ValueError(f"t must be a non-negative number of {self.freq} units, got {t!r}")
        rows = self._rows(summary)
        v = self._expected_u(rows, float(t))[rows[3]]
        return pd.Series(v, index=summary.index, name=f"expected_purchases_{t:g}{self.freq}")

    def prob_purchase_at_least_one(self, summary: pd.DataFrame, t_days: float) -> pd.Series:
        """P(at least one purchase in the next ``t_days`` days | history) per customer.

        BG/NBD: P(alive) (1 - ((alpha+T)/(alpha+T+t))^(r+x)); Pareto/NBD: P(alive) times the
        probability that the first purchase comes before both death and t (quadrature).
        """
        self._prepare(summary)
        if not np.isfinite(t_days) or t_days < 0:
            raise ValueError(f"t_days must be a non-negative number of days, got {t_days!r}")
        rows = self._rows(summary)
        v = self._prob_any_u(rows, float(t_days) / UNIT_DAYS[self.freq])[rows[3]]
        return pd.Series(v, index=summary.index, name=f"p_purchase_{t_days:g}d")

    def expected_avg_value(self, summary: pd.DataFrame) -> pd.Series:
        """Gamma-Gamma expected spend per future purchase (shrinks observed mean to population)."""
        self._prepare(summary, ("monetary_value",))
        if self.gg_params_ is None:
            raise ValueError("Gamma-Gamma is not fitted (see warnings_): CLV needs a spend model")
        x = summary["frequency"].to_numpy(dtype="float64")
        m = summary["monetary_value"].to_numpy(dtype="float64")
        val = expected_avg_value(self.gg_params_, x, m)
        return pd.Series(val, index=summary.index, name="expected_avg_value")

    def _discounted_purchases(self, rows: tuple[np.ndarray, ...], months: int) -> np.ndarray:
        """:func:`omni.value.clv.discounted.discounted_purchases` on unique rows."""
        return discounted_purchases(
            lambda t: self._expected_u(rows, t), rows[0], months, self.freq, self.discount_rate_annual
        )

    def clv(self, summary: pd.DataFrame, months: int = 12) -> pd.Series:
        """Discounted CLV over the next ``months`` months (lifetimes' semantics).

        Sum over months i = 1..months of expected purchases in month i (months of 30 days or
        4.345 weeks) times the Gamma-Gamma expected spend, discounted by (1 + d)^i with the
        monthly rate d = (1 + discount_rate_annual)^(1/12) - 1.
        """
        self._prepare(summary, ("monetary_value",))
        if not isinstance(months, int | np.integer) or months < 1:
            raise ValueError(f"months must be a positive integer, got {months!r}")
        value = self.expected_avg_value(summary).to_numpy()
        rows = self._rows(summary)
        val = value * self._discounted_purchases(rows, int(months))[rows[3]]
        return pd.Series(val, index=summary.index, name=f"clv_{months}m")

    def predict(
        self,
        summary: pd.DataFrame,
        horizons_days: Sequence[float] = (30, 90),
        months: int = 12,
        tiers: Sequence[float] = (0.10, 0.20, 0.30),
    ) -> pd.DataFrame:
        """All per-customer predictions in one frame.

        Parameters
        ----------
        summary : DataFrame
            Customer summary (as for :meth:`fit`).
        horizons_days : sequence of float
            Horizons for expected purchases and P(at least one purchase).
        months : int
            CLV horizon.
        tiers : sequence of float
            Shares of the value tiers A, B, C (rest D); see :func:`value_tiers`.

        Returns
        -------
        DataFrame
            ``p_alive``, ``churn_risk``, ``expected_purchases_<h>d`` and ``p_purchase_<h>d`` per
            horizon and, when the spend model is available, ``expected_avg_value``,
            ``clv_<months>m`` and ``value_tier``.
        """
        self._prepare(summary)
        if not isinstance(months, int | np.integer) or months < 1:
            raise ValueError(f"months must be a positive integer, got {months!r}")
        rows = self._rows(summary)
        inv = rows[3]
        out = pd.DataFrame(index=summary.index)
        out["p_alive"] = rows[4][inv]
        out["churn_risk"] = 1.0 - out["p_alive"]
        unit = UNIT_DAYS[self.freq]
        for h in horizons_days:
            if not np.isfinite(h) or h < 0:
                raise ValueError(f"horizons_days must be non-negative numbers, got {h!r}")
            out[f"expected_purchases_{h:g}d"] = self._expected_u(rows, h / unit)[inv]
            out[f"p_purchase_{h:g}d"] = self._prob_any_u(rows, h / unit)[inv]
        if self.gg_params_ is not None and "monetary_value" in summary.columns:
            value = self.expected_avg_value(summary)
            out["expected_avg_value"] = value
            disc = self._discounted_purchases(rows, int(months))[inv]
            out[f"clv_{months}m"] = value.to_numpy() * disc
            labels = [chr(ord("A") + i) for i in range(len(tiers) + 1)]
            out["value_tier"] = value_tiers(out[f"clv_{months}m"], tiers, labels)
        return out
