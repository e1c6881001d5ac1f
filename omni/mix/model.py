"""The marketing mix model: geo-level, adstock and Hill curves, fitted by MAP with a Laplace posterior.

Weekly orders of region ``r``, divided by the region's mean daily orders ``m_r`` (so that regions
of any size share one scale), are::

    y[w, r] = a_r + sum_days(X_time) g + b * sum_days(log price) + sum_c beta_c * sum_days hill_c(A_c / m_r)

with region intercepts ``a_r``, a trend, yearly Fourier terms and the retail peaks
(:mod:`omni.core.calendar`) in ``X_time``, a price elasticity ``b``, and for each channel a
geometric adstock ``A_c`` of the daily spend (decay), a Hill curve (half-saturation relative to the
channel's mean spend per unit of demand, slope) and a coefficient ``beta_c >= 0``. Regions share the
curves and have their own baselines; a channel's daily incremental orders in a region are
``m_r * beta_c * hill_c(A_c / m_r)``.

Fit: the curve parameters (3 per channel) are found by L-BFGS on the profile posterior: for given
curves, the baseline is projected out and the betas solved by non-negative least squares, with the
calibration terms (each lift experiment's measured effect and standard error against the model's
effect for the same channel, regions and days) as extra rows. Priors on the curves are normal on
the logit decay, log half-saturation and log slope. The posterior is approximated by a normal
around the optimum with every parameter in it (the curves' shapes too), its covariance the
Driscoll-Kraay sandwich ``H^-1 M H^-1``: ``H`` the Gauss-Newton Hessian, ``M`` the data's scores
summed over the regions of each week with Bartlett-weighted autocovariances over weeks, plus the
experiments' and priors' information. Weekly residuals are correlated across regions (shocks and
misfit common to all regions: about 0.2 between two regions on the benchmark's worlds), which the
plain Laplace covariance counts as 30 independent observations; the sandwich counts them once per
week. Draws of the normal give the intervals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize, nnls

from omni.core.calendar import PEAKS, retail_peaks
from omni.mix.adstock import geometric_adstock, hill
from omni.mix.experiments import counterfactual_spend, experiment_design
from omni.mix.inputs import MixPanel
from omni.mix.optimise import plan_response

__all__ = ["MarketingMixModel", "MixPriors"]


@dataclass(frozen=True)
class MixPriors:
    """Normal priors of the curves (on the transformed scale) and the calibration's weight.

    ``decay``: mean and sd of ``logit(decay)``; ``half_saturation``: of the log of the
    half-saturation relative to the channel's mean spend per unit of demand; ``slope``: of the
    log Hill slope.
    """

    decay: tuple[float, float] = (0.0, 1.5)
    half_saturation: tuple[float, float] = (0.0, 0.7)
    slope: tuple[float, float] = (float(np.log(1.2)), 0.35)


def _sigmoid(u: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-u))


@dataclass
class MarketingMixModel:
    """Geo-level marketing mix model (see the module's text).

    Parameters
    ----------
    fourier : int
        Yearly Fourier pairs in the baseline.
    priors : MixPriors
    n_draws : int
        Draws of the Laplace posterior behind the intervals.
    max_decay : float
        Upper bound of a channel's daily decay.
    seed : int
        Seed of the draws.
    covariance : {"driscoll_kraay", "laplace"}
        The posterior's covariance: the sandwich robust to shocks common to all regions in a week
        and to autocorrelation over weeks (default), or the plain Laplace one (inverse Hessian,
        the residual variance inflated for the lag-1 autocorrelation), which ignores the common
        shocks and is too narrow on geo data (docs/attribution.md).
    hac_lags : int, optional
        Weeks of autocorrelation the sandwich counts (Bartlett weights); default
        ``floor(4 * (weeks / 100) ** (2 / 9))`` (Newey and West 1994), 4 for 2-3 years.

    Attributes (after :meth:`fit`)
    ------------------------------
    channels_, regions_ : list of str
    decay_, half_saturation_, slope_, beta_ : ndarray
        Per channel (half-saturation in spend per day per unit of the region's mean daily orders).
    scale_ : ndarray
        Each region's mean daily orders ``m_r``.
    sigma_ : float
        Residual sd of the weekly per-unit orders; ``rho_`` their lag-1 autocorrelation.
    cov_ : ndarray
        Posterior covariance of every parameter (curves on the transformed scale, betas,
        baseline); ``hac_lags_`` the lags the sandwich used.
    contributions_ : ndarray
        T x R x C incremental orders at the optimum.
    baseline_ : ndarray
        T x R baseline orders at the optimum (sums with the contributions to the fitted orders).
    draws_ : dict
        ``decay``, ``half_saturation``, ``slope``, ``beta`` (n_draws x C) from the posterior.
    lifts_ : DataFrame or None
        The calibration experiments with the model's effect for each.
    """

    fourier: int = 3
    priors: MixPriors = field(default_factory=MixPriors)
    n_draws: int = 300
    max_decay: float = 0.95
    seed: int = 0
    covariance: str = "driscoll_kraay"
    hac_lags: int | None = None

    def __post_init__(self) -> None:
        if self.covariance not in ("driscoll_kraay", "laplace"):
            raise ValueError(f"MarketingMixModel.covariance must be 'driscoll_kraay' or 'laplace', "
                             f"got {self.covariance!r}")
        if self.hac_lags is not None and self.hac_lags < 0:
            raise ValueError(f"MarketingMixModel.hac_lags must be >= 0, got {self.hac_lags}")

    # -- design ---------------------------------------------------------------------------------
    def _setup(self, panel: MixPanel) -> None:
        t_days, n_r, n_c = panel.spend.shape
        self.scale_ = np.maximum(panel.orders.mean(axis=0), 1e-9)
        day = np.arange(t_days)
        self._week = day // 7
        self._starts = np.flatnonzero(np.r_[True, np.diff(self._week) > 0])
        n_w = len(self._starts)
        doy = (panel.dates - panel.dates.astype("datetime64[Y]")).astype(int)
        cols = [day / 365.25]
        for k in range(1, self.fourier + 1):
            cols += [np.sin(2 * np.pi * k * doy / 365.25), np.cos(2 * np.pi * k * doy / 365.25)]
        peaks = retail_peaks(panel.dates)
        used = [p for p in PEAKS if peaks[p].any()]
        cols += [peaks[p].to_numpy() for p in used]
        xt = np.column_stack(cols)  # T x p
        self._time_names = ["trend"] + [f"fourier_{i}" for i in range(2 * self.fourier)] + used
        xt_w = np.add.reduceat(xt, self._starts, axis=0)  # W x p
        lp_w = np.add.reduceat(np.log(panel.price), self._starts, axis=0)  # W x R
        ndays = np.add.reduceat(np.ones(t_days), self._starts)
        blocks = []
        for r in range(n_r):
            onehot = np.zeros((n_w, n_r))
            onehot[:, r] = ndays
            blocks.append(np.column_stack([onehot, xt_w, lp_w[:, r]]))
        self._base = np.vstack(blocks)  # (R*W) x (R + p + 1), region-major
        self._y = (np.add.reduceat(panel.orders, self._starts, axis=0) / self.scale_).T.reshape(-1)
        self._q, _ = np.linalg.qr(self._base)
        self._y_res = self._y - self._q @ (self._q.T @ self._y)
        pos = panel.spend > 0
        per_unit = panel.spend / self.scale_[None, :, None]
        self._ref = np.array([per_unit[:, :, c][pos[:, :, c]].mean() if pos[:, :, c].any() else 1.0
                              for c in range(n_c)])
        self._n_w, self._shape = n_w, (t_days, n_r, n_c)

    def _curves(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        u, v, w = theta.reshape(3, -1)
        decay = _sigmoid(u) * self.max_decay
        return decay, np.exp(v) * self._ref, np.exp(w)

    def _unit_response(self, spend: np.ndarray, c: int, decay: float, half: float, slope: float,
                       scale: np.ndarray) -> np.ndarray:
        """hill(adstock / m_r) of one channel, day x region (beta 1, per unit of demand)."""
        return hill(geometric_adstock(spend, decay) / scale[None, :], half, slope)

    def _channel_feature(self, theta: np.ndarray, c: int) -> tuple[np.ndarray, np.ndarray]:
        """Channel ``c``'s weekly feature ((R*W),) and its unit effect in each experiment on it."""
        decay, half, slope = self._curves(theta)
        h = self._unit_response(self._spend[:, :, c], c, decay[c], half[c], slope[c], self.scale_)
        col = np.add.reduceat(h, self._starts, axis=0).T.reshape(-1)
        g = np.zeros(len(self._design))
        for i, e in enumerate(self._design):
            if e["c"] != c:
                continue
            d, win = e["dark"], slice(e["start"], e["window_end"] + 1)
            sc = self.scale_[d]
            cf = self._unit_response(e["cf"], c, decay[c], half[c], slope[c], sc)
            g[i] = ((cf[win] - h[win][:, d]) * sc[None, :]).sum()
        return col, g

    def _features(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weekly media features ((R*W) x C) and each calibration experiment's unit effect (E)."""
        n_c = self._shape[2]
        f = np.empty((len(self._y), n_c))
        g = np.zeros(len(self._design))
        for c in range(n_c):
            f[:, c], gc = self._channel_feature(theta, c)
            g += gc
        return f, g

    def _project(self, f: np.ndarray) -> np.ndarray:
        """Features with the baseline projected out."""
        return f - self._q @ (self._q.T @ f)

    def _objective(self, f_res: np.ndarray, g: np.ndarray, theta: np.ndarray, sigma: float
                   ) -> tuple[float, np.ndarray]:
        """The profile objective for given (projected) features, and its betas.

        Non-negative least squares on the Gram matrix (C x C: the same solution as on the rows)."""
        a, b = f_res / sigma, self._y_res / sigma
        gram, rhs, yy = a.T @ a, a.T @ b, float(b @ b)
        if len(self._design):
            rows = np.zeros((len(self._design), f_res.shape[1]))
            rows[np.arange(len(self._design)), self._lift_c] = g / self._lift_se
            t = self._lift / self._lift_se
            gram, rhs, yy = gram + rows.T @ rows, rhs + rows.T @ t, yy + float(t @ t)
        n = gram.shape[0]
        chol = np.linalg.cholesky(gram + 1e-10 * np.trace(gram) / n * np.eye(n))
        z = np.linalg.solve(chol, rhs)
        beta, _ = nnls(chol.T, z, maxiter=50 * n)
        ssr = yy - 2 * beta @ rhs + beta @ gram @ beta
        return float(max(ssr, 0.0) + (self._prior_residuals(theta) ** 2).sum()), beta

    def _value_and_grad(self, theta: np.ndarray, sigma: float, eps: float = 1e-4) -> tuple[float, np.ndarray]:
        """The objective and its forward-difference gradient; a curve parameter moves only its
        own channel's feature, so each difference recomputes one channel."""
        f, g = self._features(theta)
        f = self._project(f)
        val, _ = self._objective(f, g, theta, sigma)
        n_c = f.shape[1]
        grad = np.empty(len(theta))
        for j in range(len(theta)):
            c = j % n_c
            th = theta.copy()
            th[j] += eps
            f2, g2 = f.copy(), g.copy()
            col, gc = self._channel_feature(th, c)
            f2[:, c] = self._project(col[:, None])[:, 0]
            mine = self._lift_c == c if len(self._design) else np.zeros(0, bool)
            g2[mine] = gc[mine]
            grad[j] = (self._objective(f2, g2, th, sigma)[0] - val) / eps
        return val, grad

    def _prior_residuals(self, theta: np.ndarray) -> np.ndarray:
        u, v, w = theta.reshape(3, -1)
        p = self.priors
        return np.concatenate([(u - p.decay[0]) / p.decay[1], (v - p.half_saturation[0]) / p.half_saturation[1],
                               (w - p.slope[0]) / p.slope[1]])

    def _solve(self, theta: np.ndarray, sigma: float) -> tuple[float, np.ndarray]:
        """The profile objective at ``theta`` and its betas."""
        f, g = self._features(theta)
        return self._objective(self._project(f), g, theta, sigma)

    # -- fit ------------------------------------------------------------------------------------
    def fit(self, panel: MixPanel, experiments: pd.DataFrame | None = None,
            lifts: pd.DataFrame | None = None) -> MarketingMixModel:
        """Fit the model to a panel, calibrated with measured lift experiments.

        Parameters
        ----------
        panel : MixPanel
        experiments : DataFrame, optional
            ``geo_experiments`` rows (which channel, regions and days).
        lifts : DataFrame, optional
            :func:`omni.mix.experiments.measure_lifts` of those experiments: each enters the fit
            as a likelihood term ``lift_orders ~ N(model effect, se_orders)``.

        Returns
        -------
        MarketingMixModel
            self, fitted.
        """
        t0 = time.perf_counter()
        self._setup(panel)
        self._spend = panel.spend
        self.channels_, self.regions_, self.dates_ = list(panel.channels), list(panel.regions), panel.dates
        n_c = len(self.channels_)
        self._design, lift, se, lc = [], [], [], []
        if experiments is not None and lifts is not None and len(lifts):
            by_id = lifts.set_index("experiment_id")
            for e in experiment_design(experiments, panel):
                if e["experiment_id"] not in by_id.index:
                    continue
                row = by_id.loc[e["experiment_id"]]
                if not (np.isfinite(row["se_orders"]) and row["se_orders"] > 0):
                    continue
                self._design.append({**e, "c": panel.channels.index(e["channel"]),
                                     "cf": counterfactual_spend(panel, e)})
                lift.append(row["lift_orders"])
                se.append(row["se_orders"])
                lc.append(panel.channels.index(e["channel"]))
        self._lift, self._lift_se, self._lift_c = np.array(lift), np.array(se), np.array(lc, int)
        p = self.priors
        theta0 = np.concatenate([np.full(n_c, p.decay[0]), np.full(n_c, p.half_saturation[0]),
                                 np.full(n_c, p.slope[0])])
        lo = np.concatenate([np.full(n_c, -6.0), np.full(n_c, -3.0), np.full(n_c, np.log(0.5))])
        hi = np.concatenate([np.full(n_c, 4.0), np.full(n_c, 3.0), np.full(n_c, np.log(3.0))])
        # a first pass sets the residual scale, the second weighs data and experiments with it
        sigma = float(np.std(self._y_res)) or 1.0
        for maxiter in (40, 300):
            opt = minimize(self._value_and_grad, theta0, args=(sigma,), jac=True, method="L-BFGS-B",
                           bounds=list(zip(lo, hi, strict=True)), options={"maxiter": maxiter})
            theta0 = opt.x
            _, beta = self._solve(theta0, sigma)
            f, _ = self._features(theta0)
            resid = self._y_res - self._project(f) @ beta
            dof = max(len(resid) - self._base.shape[1] - 4 * n_c, 1)
            sigma = float(np.sqrt((resid**2).sum() / dof))
        e2 = resid.reshape(len(self.regions_), self._n_w)
        rho = float((e2[:, 1:] * e2[:, :-1]).sum() / max((e2**2).sum(), 1e-12))
        self.rho_, self.sigma_ = rho, sigma
        self.theta_, self.success_ = theta0, bool(opt.success)
        _, beta = self._solve(theta0, sigma)
        self.beta_ = beta
        self.decay_, self.half_saturation_, self.slope_ = self._curves(theta0)
        coef = np.linalg.lstsq(self._base, self._y - self._features(theta0)[0] @ beta, rcond=None)[0]
        self.baseline_coef_ = coef
        self.baseline_ = self._daily_baseline(panel, coef)
        self.contributions_ = self.predict_contributions(panel.spend)
        self._laplace(panel)
        self.lifts_ = self._lift_table(lifts)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _daily_baseline(self, panel: MixPanel, coef: np.ndarray) -> np.ndarray:
        """Baseline orders per day and region at the fitted coefficients."""
        n_r = len(self.regions_)
        day = np.arange(len(panel.dates))
        doy = (panel.dates - panel.dates.astype("datetime64[Y]")).astype(int)
        cols = [day / 365.25]
        for k in range(1, self.fourier + 1):
            cols += [np.sin(2 * np.pi * k * doy / 365.25), np.cos(2 * np.pi * k * doy / 365.25)]
        peaks = retail_peaks(panel.dates)
        cols += [peaks[p].to_numpy() for p in self._time_names[1 + 2 * self.fourier:]]
        xt = np.column_stack(cols)
        per_unit = coef[:n_r][None, :] + (xt @ coef[n_r:-1])[:, None] + coef[-1] * np.log(panel.price)
        return per_unit * self.scale_[None, :]

    # -- posterior ------------------------------------------------------------------------------
    def _jacobian(self) -> tuple[np.ndarray, np.ndarray, int, int]:
        """Jacobian and residuals, at the optimum, of every parameter ``phi = (theta, beta,
        baseline)``: rows are the weekly data (over ``sigma_``, region-major), the calibration
        experiments (over their se) and the priors. Returns ``(jac, resid, n_data, n_experiments)``."""
        n_c = len(self.channels_)
        s = self.sigma_
        f, g = self._features(self.theta_)
        n_d, n_e, n_p = len(self._y), len(self._design), 3 * n_c
        beta, coef = self.beta_, self.baseline_coef_
        data = (self._y - self._base @ coef - f @ beta) / s
        cal = (g * beta[self._lift_c] - self._lift) / self._lift_se if n_e else np.zeros(0)
        prior = self._prior_residuals(self.theta_)
        resid = np.concatenate([data, cal, prior])
        jac = np.zeros((n_d + n_e + n_p, 4 * n_c + len(coef)))
        for j in range(n_p):  # curve parameters: differences, one channel at a time
            c, step = j % n_c, 1e-4
            th = self.theta_.copy()
            th[j] += step
            col, gc = self._channel_feature(th, c)
            jac[:n_d, j] = -(col - f[:, c]) * beta[c] / (s * step)
            if n_e:
                mine = self._lift_c == c
                jac[n_d:n_d + n_e, j] = np.where(mine, (gc - g) * beta[c], 0.0) / (self._lift_se * step)
            jac[n_d + n_e:, j] = (self._prior_residuals(th) - prior) / step
        jac[:n_d, n_p:4 * n_c] = -f / s
        if n_e:
            jac[n_d + np.arange(n_e), n_p + self._lift_c] = g / self._lift_se
        jac[:n_d, 4 * n_c:] = -self._base / s
        return jac, resid, n_d, n_e

    def _week_scores(self, jac: np.ndarray, resid: np.ndarray, n_d: int) -> np.ndarray:
        """Each week's score ``sum over regions of J_i e_i`` (W x parameters) of the data rows."""
        n_r = len(self.regions_)
        sc = jac[:n_d] * resid[:n_d, None]
        return sc.reshape(n_r, self._n_w, -1).sum(axis=0)

    def _laplace(self, panel: MixPanel) -> None:
        """Normal approximation around the optimum, and draws of the curves and betas.

        ``covariance="laplace"``: the inverse Gauss-Newton Hessian, the residual variance inflated
        by ``(1 + rho) / (1 - rho)``. ``"driscoll_kraay"`` (default): the sandwich
        ``H^-1 M H^-1`` whose meat ``M`` takes the data's scores summed over the regions of each
        week (so shocks common to all regions count once per week, not once per region) with
        Bartlett-weighted autocovariances up to ``hac_lags`` weeks (Driscoll and Kraay 1998),
        plus the calibration and prior rows' own information. Every parameter is in it: the
        curves' shapes, the betas and the baseline.
        """
        n_c = len(self.channels_)
        jac, resid, n_d, n_e = self._jacobian()
        phi0 = np.concatenate([self.theta_, self.beta_, self.baseline_coef_])
        active = np.ones(len(phi0), bool)
        active[3 * n_c:4 * n_c] = self.beta_ > 1e-10  # a beta at its bound stays there
        ja = jac[:, active]
        if self.covariance == "laplace":
            infl = (1 + self.rho_) / (1 - self.rho_) if 0 < self.rho_ < 0.95 else 1.0
            ja = ja.copy()
            ja[:n_d] /= np.sqrt(infl)
            h_inv = np.linalg.pinv(ja.T @ ja)
            cov_a = h_inv
        elif self.covariance == "driscoll_kraay":
            h_inv = np.linalg.pinv(ja.T @ ja)
            sw = self._week_scores(ja, resid, n_d)
            n_w = self._n_w
            lags = self.hac_lags if self.hac_lags is not None else int(4 * (n_w / 100) ** (2 / 9))
            self.hac_lags_ = lags
            meat = sw.T @ sw
            for lag in range(1, min(lags, n_w - 1) + 1):
                gam = sw[lag:].T @ sw[:-lag]
                meat += (1 - lag / (lags + 1)) * (gam + gam.T)
            meat *= n_w / max(n_w - 1, 1)
            rest = ja[n_d:]
            meat += rest.T @ rest
            cov_a = h_inv @ meat @ h_inv
        else:
            raise ValueError(f"covariance must be 'driscoll_kraay' or 'laplace', got {self.covariance!r}")
        cov = np.zeros((len(phi0), len(phi0)))
        cov[np.ix_(active, active)] = (cov_a + cov_a.T) / 2
        self.cov_ = cov
        rng = np.random.default_rng(self.seed)
        k = 4 * n_c
        sub = cov[:k, :k]
        draws = rng.multivariate_normal(phi0[:k], sub, size=self.n_draws, method="eigh",
                                        check_valid="ignore")
        lo, hi = np.full(n_c, -6.0), np.full(n_c, 4.0)
        theta = draws[:, :3 * n_c].copy()
        theta[:, :n_c] = np.clip(theta[:, :n_c], lo, hi)
        dec, half, slope = np.empty((self.n_draws, n_c)), np.empty((self.n_draws, n_c)), np.empty((self.n_draws, n_c))
        for i in range(self.n_draws):
            dec[i], half[i], slope[i] = self._curves(theta[i])
        self.draws_ = {"decay": dec, "half_saturation": half, "slope": np.clip(slope, 0.2, 5.0),
                       "beta": np.maximum(draws[:, 3 * n_c:k], 0.0)}

    # -- use ------------------------------------------------------------------------------------
    def predict_contributions(self, spend: np.ndarray, draw: int | None = None,
                              channels: list[int] | None = None) -> np.ndarray:
        """Incremental orders per day, region and channel for a spend cube (T x R x C).

        ``draw``: use posterior draw ``draw`` instead of the optimum.
        """
        d = self.draws_ if draw is not None else None
        out = np.zeros(spend.shape)
        for c in channels if channels is not None else range(spend.shape[2]):
            dec = d["decay"][draw, c] if d else self.decay_[c]
            half = d["half_saturation"][draw, c] if d else self.half_saturation_[c]
            slope = d["slope"][draw, c] if d else self.slope_[c]
            beta = d["beta"][draw, c] if d else self.beta_[c]
            out[:, :, c] = self.scale_[None, :] * beta * self._unit_response(
                spend[:, :, c], c, dec, half, slope, self.scale_)
        return out

    def channel_totals(self, panel: MixPanel, days: slice | None = None, level: float = 0.9) -> pd.DataFrame:
        """Each channel's incremental orders, revenue, share and ROAS with posterior intervals.

        Parameters
        ----------
        panel : MixPanel
            The panel fitted (its spend and revenue per order).
        days : slice, optional
            Days to total (default all).
        level : float
            Interval level.

        Returns
        -------
        DataFrame
            Indexed by channel: ``spend``, ``orders`` (+ ``orders_lo``/``orders_hi``),
            ``revenue`` (+ interval), ``share`` of the media-incremental orders (+ interval),
            ``roas`` (+ interval).
        """
        days = days or slice(None)
        aov = panel.aov[days]
        q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
        n_c = len(self.channels_)
        sims_o = np.empty((self.n_draws, n_c))
        sims_r = np.empty((self.n_draws, n_c))
        for i in range(self.n_draws):
            c = self.predict_contributions(panel.spend, draw=i)[days]
            sims_o[i] = c.sum(axis=(0, 1))
            sims_r[i] = (c * aov[:, :, None]).sum(axis=(0, 1))
        point = self.contributions_[days]
        spend = panel.spend[days].sum(axis=(0, 1))
        out = pd.DataFrame(index=pd.Index(self.channels_, name="channel"))
        out["spend"] = spend
        out["orders"] = point.sum(axis=(0, 1))
        out["orders_lo"], out["orders_hi"] = np.percentile(sims_o, q, axis=0)
        out["revenue"] = (point * aov[:, :, None]).sum(axis=(0, 1))
        out["revenue_lo"], out["revenue_hi"] = np.percentile(sims_r, q, axis=0)
        shares = sims_o / np.maximum(sims_o.sum(axis=1, keepdims=True), 1e-12)
        out["share"] = out["orders"] / max(out["orders"].sum(), 1e-12)
        out["share_lo"], out["share_hi"] = np.percentile(shares, q, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["roas"] = out["revenue"] / spend
            out["roas_lo"], out["roas_hi"] = np.percentile(sims_r / spend, q, axis=0)
        self._sims = {"orders": sims_o, "revenue": sims_r}
        return out

    def _lift_table(self, lifts: pd.DataFrame | None) -> pd.DataFrame | None:
        """Each calibration experiment's measured lift next to the model's effect."""
        if not self._design or lifts is None:
            return None
        _, g = self._features(self.theta_)
        model = g * self.beta_[self._lift_c]
        ids = [e["experiment_id"] for e in self._design]
        out = lifts.set_index("experiment_id").loc[ids].reset_index()
        out["model_orders"] = model
        return out

    def responses(self, panel: MixPanel, days: slice, draw: int | None = None
                  ) -> list[Callable[[np.ndarray], np.ndarray]]:
        """Each channel's incremental revenue over ``days`` as a function of its budget there
        (:func:`omni.mix.optimise.plan_response`), at the optimum or at a posterior draw."""
        d = self.draws_ if draw is not None else None
        value = panel.aov[days]
        out = []
        for c in range(len(self.channels_)):
            dec = d["decay"][draw, c] if d else self.decay_[c]
            a = geometric_adstock(panel.spend[:, :, c], dec)[days]
            out.append(plan_response(
                a, self.scale_, value, d["beta"][draw, c] if d else self.beta_[c],
                d["half_saturation"][draw, c] if d else self.half_saturation_[c],
                d["slope"][draw, c] if d else self.slope_[c], float(panel.spend[days, :, c].sum())))
        return out

    def summary(self) -> dict[str, Any]:
        """The fitted curves, per channel, as plain numbers."""
        return {c: {"decay": float(self.decay_[k]), "half_saturation": float(self.half_saturation_[k]),
                    "slope": float(self.slope_[k]), "beta": float(self.beta_[k])}
                for k, c in enumerate(self.channels_)}
