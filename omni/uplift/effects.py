"""Average treatment effects: lift with intervals, CUPED and regression adjustment.

All effects are intention-to-treat (by assigned arm, whether or not the person was contacted).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests

from omni.uplift._common import (
    CONTROL,
    check_alpha,
    compare_groups,
    group_stats,
    is_proportion,
    numeric_metric,
    require_columns,
    resolve_arms,
    verdict_text,
)

__all__ = ["complier_lift", "cuped", "cuped_adjust", "cuped_theta", "lift", "regression_lift"]

_CORRECTIONS = (None, "holm", "bonferroni")


def _finish(
    frame: pd.DataFrame, alpha: float, correction: str | None
) -> pd.DataFrame:
    """Add multiple-testing adjusted p-values, significance and a verdict."""
    if correction not in _CORRECTIONS:
        raise ValueError(f"correction must be one of {_CORRECTIONS}, got {correction!r}")
    p = frame["p_value"].to_numpy(dtype="float64")
    if correction is not None:
        ok = np.isfinite(p)
        adj = np.full_like(p, np.nan)
        if ok.any():
            adj[ok] = multipletests(p[ok], alpha=alpha, method=correction)[1]
        frame["p_value_adj"] = adj
        p = adj
    frame["significant"] = np.isfinite(p) & (p < alpha)
    frame["verdict"] = [
        verdict_text(pv, d, alpha) for pv, d in zip(p, frame["abs_lift"], strict=True)
    ]
    return frame


def lift(
    outcomes: pd.DataFrame,
    metric: str = "converted",
    arm: str | Sequence[str] | None = None,
    control: str = CONTROL,
    alpha: float = 0.05,
    correction: str | None = None,
    relative_ci: str = "delta",
) -> pd.DataFrame:
    """Lift of each treatment arm over control.

    Parameters
    ----------
    outcomes
        One row per person with ``arm`` and the metric column (see ``campaign_outcomes``).
    metric
        Column to compare. Boolean (or 0/1 integer) columns such as ``converted`` use the
        two-proportion z-test (pooled variance under H0 for the p-value, unpooled Wald
        interval); numeric columns such as ``revenue`` use Welch's t-test and interval.
    arm
        A treatment arm, a list of arms, or None for every non-control arm.
    control
        Control arm label.
    alpha
        1 - confidence level of the intervals, and the significance level.
    correction
        None, ``"holm"`` or ``"bonferroni"``: adjust p-values across the compared arms
        (``p_value_adj``; ``significant`` then uses it). Intervals are not adjusted.
    relative_ci
        ``"delta"`` (default) or ``"fieller"`` interval for the relative lift mean_t/mean_c - 1.

    Returns
    -------
    pandas.DataFrame
        One row per arm: arm, metric, test, n_treat, n_control, mean_treat, mean_control,
        abs_lift, se, abs_ci_low, abs_ci_high, p_value, rel_lift, rel_ci_low, rel_ci_high,
        [p_value_adj,] significant, verdict.
    """
    check_alpha(alpha)
    arms = resolve_arms(outcomes, arm, control)
    y = numeric_metric(outcomes, metric)
    proportion = is_proportion(outcomes, metric)
    st = group_stats(y, outcomes["arm"].astype(str))
    t, c = st.loc[arms], st.loc[control]
    res = compare_groups(
        t["n"], t["mean"], t["var"], np.full(len(arms), c["n"]), np.full(len(arms), c["mean"]),
        np.full(len(arms), c["var"]), proportion, alpha, relative_ci,
    )
    _check_sizes(t["n"].to_numpy(), float(c["n"]), arms, control)
    frame = pd.DataFrame(
        {
            "arm": arms,
            "metric": metric,
            "test": "two-proportion z" if proportion else "Welch t",
            "n_treat": t["n"].to_numpy().astype("int64"),
            "n_control": int(c["n"]),
            "mean_treat": t["mean"].to_numpy(),
            "mean_control": float(c["mean"]),
            "abs_lift": res["abs_lift"],
            "se": res["se"],
            "abs_ci_low": res["abs_ci_low"],
            "abs_ci_high": res["abs_ci_high"],
            "p_value": res["p_value"],
            "rel_lift": res["rel_lift"],
            "rel_ci_low": res["rel_ci_low"],
            "rel_ci_high": res["rel_ci_high"],
        }
    )
    return _finish(frame, alpha, correction)


def _check_sizes(n_t: np.ndarray, n_c: float, arms: Sequence[str], control: str) -> None:
    small = [a for a, n in zip(arms, n_t, strict=True) if n < 2]
    if small or n_c < 2:
        who = small + ([control] if n_c < 2 else [])
        raise ValueError(f"arm(s) {who} have fewer than 2 people: no variance, no interval")


def cuped_theta(y: np.ndarray, x: np.ndarray) -> float:
    """CUPED coefficient theta = cov(y, x) / var(x) on pooled data (Deng et al. 2013)."""
    vx = float(np.var(x, ddof=1))
    if vx == 0:
        raise ValueError("CUPED covariate is constant: it cannot reduce variance")
    return float(np.cov(y, x, ddof=1)[0, 1] / vx)


def cuped_adjust(
    outcomes: pd.DataFrame,
    metric: str,
    covariate: str = "pre_revenue",
    theta: float | None = None,
) -> pd.Series:
    """The CUPED-adjusted metric ``y - theta * (x - mean(x))``.

    theta defaults to cov(y, x)/var(x) on all rows pooled across arms (randomization makes x
    independent of the arm, so pooling does not bias the effect). The adjusted metric has the
    same mean as the metric.
    """
    y = numeric_metric(outcomes, metric)
    x = numeric_metric(outcomes, covariate)
    if theta is None:
        theta = cuped_theta(y, x)
    return pd.Series(y - theta * (x - x.mean()), index=outcomes.index, name=f"{metric}_cuped")


def cuped(
    outcomes: pd.DataFrame,
    metric: str = "revenue",
    covariate: str = "pre_revenue",
    arm: str | Sequence[str] | None = None,
    control: str = CONTROL,
    alpha: float = 0.05,
    correction: str | None = None,
) -> pd.DataFrame:
    """CUPED (Deng, Xu, Kohavi & Walker 2013): lift on the pre-period-adjusted metric.

    theta = cov(y, x)/var(x) is estimated once on all rows (pooled over arms); the adjusted
    metric y - theta (x - mean x) is compared with Welch's t-test (also for a 0/1 metric, whose
    adjusted version is no longer binary). ``variance_reduction`` = 1 - var(y_adj)/var(y) on the
    pooled data, about corr(x, y)^2.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`lift` on the adjusted metric (mean_treat/mean_control are adjusted
        means), plus theta, variance_reduction, se_unadjusted and abs_lift_unadjusted.
    """
    check_alpha(alpha)
    arms = resolve_arms(outcomes, arm, control)
    y = numeric_metric(outcomes, metric)
    x = numeric_metric(outcomes, covariate)
    theta = cuped_theta(y, x)
    y_adj = y - theta * (x - x.mean())
    var_y = float(np.var(y, ddof=1))
    vr = 1.0 - float(np.var(y_adj, ddof=1)) / var_y if var_y > 0 else 0.0

    arm_s = outcomes["arm"].astype(str)
    st = group_stats(y_adj, arm_s)
    t, c = st.loc[arms], st.loc[control]
    k = len(arms)
    res = compare_groups(
        t["n"], t["mean"], t["var"], np.full(k, c["n"]), np.full(k, c["mean"]),
        np.full(k, c["var"]), False, alpha,
    )
    _check_sizes(t["n"].to_numpy(), float(c["n"]), arms, control)
    raw = group_stats(y, arm_s)
    rt, rc = raw.loc[arms], raw.loc[control]
    raw_res = compare_groups(
        rt["n"], rt["mean"], rt["var"], np.full(k, rc["n"]), np.full(k, rc["mean"]),
        np.full(k, rc["var"]), is_proportion(outcomes, metric), alpha,
    )
    frame = pd.DataFrame(
        {
            "arm": arms,
            "metric": metric,
            "test": f"CUPED on {covariate}, Welch t",
            "n_treat": t["n"].to_numpy().astype("int64"),
            "n_control": int(c["n"]),
            "mean_treat": t["mean"].to_numpy(),
            "mean_control": float(c["mean"]),
            "abs_lift": res["abs_lift"],
            "se": res["se"],
            "abs_ci_low": res["abs_ci_low"],
            "abs_ci_high": res["abs_ci_high"],
            "p_value": res["p_value"],
            "rel_lift": res["rel_lift"],
            "rel_ci_low": res["rel_ci_low"],
            "rel_ci_high": res["rel_ci_high"],
            "theta": theta,
            "variance_reduction": vr,
            "abs_lift_unadjusted": raw_res["abs_lift"],
            "se_unadjusted": raw_res["se"],
        }
    )
    return _finish(frame, alpha, correction)


def regression_lift(
    outcomes: pd.DataFrame,
    metric: str = "revenue",
    covariates: Sequence[str] = ("pre_revenue",),
    arm: str | Sequence[str] | None = None,
    control: str = CONTROL,
    alpha: float = 0.05,
    interactions: bool = False,
    cov_type: str = "HC2",
    correction: str | None = None,
) -> pd.DataFrame:
    """Regression-adjusted lift: OLS of the metric on a treatment dummy and centered covariates,
    with heteroskedasticity-robust (HC2 by default) standard errors, per arm vs control.

    With centered covariates the intercept is the adjusted control mean and the treatment
    coefficient the average effect. ``interactions=True`` adds treatment x covariate terms
    (Lin 2013), which never hurts precision asymptotically. With one covariate and no
    interactions the result agrees closely with :func:`cuped`.

    Numeric covariates only (one-hot encode categories beforehand). Intervals and p-values use
    the normal distribution (statsmodels' default for robust covariances). The relative lift is
    coef / intercept with a delta-method interval from the robust covariance of the two.

    Returns
    -------
    pandas.DataFrame
        arm, metric, test, n_treat, n_control, mean_control (adjusted), abs_lift, se,
        abs_ci_low, abs_ci_high, p_value, rel_lift, rel_ci_low, rel_ci_high, [p_value_adj,]
        significant, verdict.
    """
    check_alpha(alpha)
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    arms = resolve_arms(outcomes, arm, control)
    y_all = numeric_metric(outcomes, metric)
    X_all = np.column_stack([numeric_metric(outcomes, c) for c in covariates]) if covariates else (
        np.empty((len(outcomes), 0))
    )
    arm_s = outcomes["arm"].astype(str).to_numpy()
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for a in arms:
        m = (arm_s == a) | (arm_s == control)
        y = y_all[m]
        tr = (arm_s[m] == a).astype("float64")
        xc = X_all[m] - X_all[m].mean(axis=0)
        cols = [np.ones_like(y), tr, xc]
        if interactions and xc.shape[1]:
            cols.append(xc * tr[:, None])
        design = np.column_stack(cols)
        if np.linalg.matrix_rank(design[: min(len(design), 200_000)]) < design.shape[1]:
            raise ValueError(
                f"regression design for arm {a!r} is rank deficient (constant or collinear "
                f"covariates among {covariates})"
            )
        fit = sm.OLS(y, design).fit(cov_type=cov_type)
        b0, b1 = fit.params[0], fit.params[1]
        cov = fit.cov_params()
        se = float(np.sqrt(cov[1, 1]))
        g = np.array([-b1 / b0**2, 1.0 / b0]) if b0 != 0 else np.array([np.nan, np.nan])
        rel_se = float(np.sqrt(g @ cov[:2, :2] @ g))
        rel = b1 / b0 if b0 != 0 else np.nan
        rows.append(
            {
                "arm": a,
                "metric": metric,
                "test": f"OLS {cov_type}" + (" with interactions" if interactions else ""),
                "n_treat": int(tr.sum()),
                "n_control": int((1 - tr).sum()),
                "mean_control": float(b0),
                "abs_lift": float(b1),
                "se": se,
                "abs_ci_low": float(b1 - z * se),
                "abs_ci_high": float(b1 + z * se),
                "p_value": float(fit.pvalues[1]),
                "rel_lift": rel,
                "rel_ci_low": rel - z * rel_se,
                "rel_ci_high": rel + z * rel_se,
            }
        )
    return _finish(pd.DataFrame(rows), alpha, correction)


def complier_lift(
    outcomes: pd.DataFrame,
    metric: str = "converted",
    arm: str | Sequence[str] | None = None,
    control: str = CONTROL,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Effect on the people actually contacted (complier average causal effect, CACE).

    Wald / instrumental-variable estimator: ITT lift divided by the difference in contact rates
    between the arm and control (Angrist, Imbens & Rubin 1996). Valid when assignment affects
    the outcome only through contact. The interval divides the ITT interval by the contact-rate
    difference (its sampling error ignored; fine when contact rates are near-deterministic).

    Returns
    -------
    pandas.DataFrame
        arm, metric, itt_lift, contact_rate_treat, contact_rate_control, cace, cace_ci_low,
        cace_ci_high, p_value (that of the ITT test).
    """
    require_columns(outcomes, ["contacted"], "outcomes")
    itt = lift(outcomes, metric, arm, control, alpha)
    rates = outcomes["contacted"].astype(bool).groupby(outcomes["arm"].astype(str)).mean()
    out = itt[["arm", "metric", "abs_lift", "abs_ci_low", "abs_ci_high", "p_value"]].copy()
    out["contact_rate_treat"] = out["arm"].map(rates).to_numpy()
    out["contact_rate_control"] = float(rates[control])
    d = out["contact_rate_treat"] - out["contact_rate_control"]
    if (d <= 0).any():
        bad = out.loc[d <= 0, "arm"].tolist()
        raise ValueError(f"arm(s) {bad} are not contacted more often than control: no CACE")
    out["cace"] = out["abs_lift"] / d
    out["cace_ci_low"] = out["abs_ci_low"] / d
    out["cace_ci_high"] = out["abs_ci_high"] / d
    return out.rename(columns={"abs_lift": "itt_lift"})[
        ["arm", "metric", "itt_lift", "contact_rate_treat", "contact_rate_control", "cace",
         "cace_ci_low", "cace_ci_high", "p_value"]
    ]
