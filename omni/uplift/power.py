"""Power analysis: minimum detectable effect and required sample size for two-arm tests."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import optimize, stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import proportion_effectsize

__all__ = ["SampleSize", "minimum_detectable_effect", "required_sample_size"]

_METHODS = ("pooled", "unpooled", "arcsine")


class SampleSize(NamedTuple):
    """People needed per arm (rounded up) and in total."""

    n_treat: int
    n_control: int
    total: int


def _check_common(alpha: float, power: float, alternative: str) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must be in (0, 1), got {power!r}")
    if alternative not in ("two-sided", "one-sided"):
        raise ValueError(f"alternative must be 'two-sided' or 'one-sided', got {alternative!r}")


def _z_alpha(alpha: float, alternative: str) -> float:
    return float(stats.norm.ppf(1 - alpha / 2 if alternative == "two-sided" else 1 - alpha))


def _sm_alternative(alternative: str) -> str:
    return "two-sided" if alternative == "two-sided" else "larger"


def _n_treat_proportion(
    p_c: float, d: float, ratio: float, alpha: float, power: float, method: str,
    alternative: str, continuity: bool, exact_arcsine: bool = True,
) -> float:
    """Continuous (unrounded) treatment-arm size for detecting p_c -> p_c + d."""
    p_t = p_c + d
    k = ratio
    za, zb = _z_alpha(alpha, alternative), float(stats.norm.ppf(power))
    if method == "pooled":
        p_bar = (p_t + k * p_c) / (1 + k)
        n = (
            za * math.sqrt(p_bar * (1 - p_bar) * (1 + 1 / k))
            + zb * math.sqrt(p_t * (1 - p_t) + p_c * (1 - p_c) / k)
        ) ** 2 / d**2
    elif method == "unpooled":
        n = (za + zb) ** 2 * (p_t * (1 - p_t) + p_c * (1 - p_c) / k) / d**2
    else:  # arcsine (Cohen's h), as statsmodels' NormalIndPower
        h = abs(float(proportion_effectsize(p_t, p_c)))
        if exact_arcsine:
            n = float(np.asarray(NormalIndPower().solve_power(
                effect_size=h, alpha=alpha, power=power, ratio=k,
                alternative=_sm_alternative(alternative),
            )).item())
        else:  # closed form, ignoring the far rejection tail (used inside the root finder)
            n = (za + zb) ** 2 * (1 + 1 / k) / h**2
    if continuity:
        n = n / 4 * (1 + math.sqrt(1 + 2 * (k + 1) / (n * k * abs(d)))) ** 2
    return n


def _validate(
    metric: str, baseline: float, sd: float | None, ratio: float, method: str
) -> None:
    if metric not in ("proportion", "mean"):
        raise ValueError(f"metric must be 'proportion' or 'mean', got {metric!r}")
    if not (isinstance(ratio, int | float) and ratio > 0):
        raise ValueError(f"ratio (n_control / n_treat) must be positive, got {ratio!r}")
    if metric == "proportion":
        if not 0.0 < baseline < 1.0:
            raise ValueError(f"baseline conversion rate must be in (0, 1), got {baseline!r}")
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    else:
        if sd is None or not sd > 0:
            raise ValueError(f"metric='mean' needs the outcome standard deviation sd > 0, got {sd!r}")


def required_sample_size(
    baseline: float,
    mde: float,
    ratio: float = 1.0,
    alpha: float = 0.05,
    power: float = 0.8,
    metric: str = "proportion",
    sd: float | None = None,
    method: str = "pooled",
    alternative: str = "two-sided",
    continuity: bool = False,
) -> SampleSize:
    """People per arm needed to detect an absolute effect ``mde`` with the given power.

    Parameters
    ----------
    baseline
        Control conversion rate (proportion) or control mean (mean; used only for checks).
    mde
        Absolute effect to detect (treatment minus control; e.g. 0.02 for 10% -> 12%).
    ratio
        n_control / n_treat: 1 for equal arms, 1/9 for a 10% holdout (n_control = n_treat / 9).
    alpha, power
        Significance level and power.
    metric
        ``"proportion"`` or ``"mean"`` (then ``sd``, the outcome standard deviation, is needed;
        solved with the noncentral t via statsmodels' ``TTestIndPower``).
    method
        For proportions: ``"pooled"`` (default; the classic formula with the pooled variance
        under H0 and the unpooled one under H1, Fleiss, Levin & Paik 2003, eq. 4.14, with
        unequal allocation), ``"unpooled"`` (unpooled variance under both) or ``"arcsine"``
        (Cohen's h with statsmodels' ``NormalIndPower``).
    alternative
        ``"two-sided"`` or ``"one-sided"``.
    continuity
        Fleiss' continuity correction (proportions only).

    Returns
    -------
    SampleSize
        (n_treat, n_control, total), each rounded up.

    Examples
    --------
    >>> required_sample_size(0.10, 0.02)   # 10% -> 12%, alpha .05 two-sided, power .8
    SampleSize(n_treat=3841, n_control=3841, total=7682)
    """
    _check_common(alpha, power, alternative)
    _validate(metric, baseline, sd, ratio, method)
    if not (np.isfinite(mde) and mde != 0):
        raise ValueError(f"mde must be a non-zero finite number, got {mde!r}")
    if metric == "proportion":
        if not 0.0 < baseline + mde < 1.0:
            raise ValueError(
                f"baseline + mde must be in (0, 1), got {baseline} + {mde} = {baseline + mde}"
            )
        n_t = _n_treat_proportion(baseline, mde, ratio, alpha, power, method, alternative,
                                  continuity)
    else:
        if continuity:
            raise ValueError("continuity correction applies to proportions only")
        n_t = float(
            np.asarray(
                TTestIndPower().solve_power(
                    effect_size=abs(mde) / sd, alpha=alpha, power=power, ratio=ratio,
                    alternative=_sm_alternative(alternative),
                )
            ).item()
        )
    n_treat = math.ceil(n_t - 1e-9)
    n_control = math.ceil(ratio * n_t - 1e-9)
    return SampleSize(n_treat, n_control, n_treat + n_control)


def minimum_detectable_effect(
    n_treat: int,
    n_control: int,
    baseline: float,
    alpha: float = 0.05,
    power: float = 0.8,
    metric: str = "proportion",
    sd: float | None = None,
    method: str = "pooled",
    alternative: str = "two-sided",
) -> float:
    """Smallest absolute effect (an increase over ``baseline``) detectable with the given power.

    The exact inverse of :func:`required_sample_size` (same formulas; for proportions solved
    with a root finder, for means with statsmodels' ``TTestIndPower``). The relative MDE is
    ``mde / baseline``.

    Returns
    -------
    float
        Absolute MDE (e.g. 0.0200 for 10% -> 12%).
    """
    _check_common(alpha, power, alternative)
    for name, n in (("n_treat", n_treat), ("n_control", n_control)):
        if not (isinstance(n, int | np.integer) and n >= 2):
            raise ValueError(f"{name} must be an integer >= 2, got {n!r}")
    ratio = n_control / n_treat
    _validate(metric, baseline, sd, ratio, method)
    if metric == "mean":
        d = TTestIndPower().solve_power(
            effect_size=None, nobs1=n_treat, alpha=alpha, power=power, ratio=ratio,
            alternative=_sm_alternative(alternative),
        )
        # the two-sided power is symmetric in the effect size: statsmodels' root finder can land
        # on the negative root for some n, so the magnitude is what is detectable
        return abs(float(np.asarray(d).item())) * float(sd)

    if method == "arcsine":
        h = NormalIndPower().solve_power(
            effect_size=None, nobs1=n_treat, alpha=alpha, power=power, ratio=ratio,
            alternative=_sm_alternative(alternative),
        )
        h = abs(float(np.asarray(h).item()))  # either root of the symmetric power equation
        phi = 2 * np.arcsin(np.sqrt(baseline)) + h
        if not np.isfinite(h) or phi > np.pi:
            raise ValueError(
                f"no effect up to a {1 - baseline:.1%} increase is detectable with "
                f"n_treat={n_treat}, n_control={n_control}"
            )
        return float(np.sin(phi / 2) ** 2 - baseline)

    def gap(d: float) -> float:
        return _n_treat_proportion(baseline, d, ratio, alpha, power, method, alternative,
                                   False, exact_arcsine=False) - n_treat

    hi = (1.0 - baseline) * (1 - 1e-9)
    if gap(hi) > 0:
        raise ValueError(
            f"no effect up to a {1 - baseline:.1%} increase is detectable with "
            f"n_treat={n_treat}, n_control={n_control}"
        )
    return float(optimize.brentq(gap, 1e-12, hi, xtol=1e-12, rtol=1e-12))
