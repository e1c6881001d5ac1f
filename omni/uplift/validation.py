"""Is a predicted uplift (CATE) worth acting on? Tests on held-out people of a randomized campaign.

In the spirit of EconML's ``DRTester`` and DoWhy's refuters, each test returns its estimate with
an interval or a p-value and a plain verdict:

* :func:`blp_test` — best linear predictor (Chernozhukov, Demirer, Duflo & Fernández-Val 2018):
  Y = a + b (T - p) + c (T - p)(S - mean S) + e. ``b`` is the average effect, ``c`` the slope of the
  true effect on the prediction: c = 1 for a calibrated CATE, c = 0 when the prediction carries no
  information about who responds. H0: c = 0 (one-sided).
* :func:`calibration_test` — calibration by CATE quantile (Dwivedi, Tan, Park, Wei, Horgan, Madigan
  & Yu 2020; DRTester's calibration): people grouped by quantiles of the prediction; in each group
  the observed treated-minus-control effect against the mean prediction. Calibration score
  sum_k n_k/n |effect_k - mean S_k|, R^2 = 1 - score / (the same with the overall effect as the
  prediction), and a chi-square test of effect_k = mean S_k in every group.
* :func:`refute` — placebo treatment (treatment permuted: the effect must vanish), random common
  cause (a random covariate added: the effect must not move), data subset (random 80% subsets:
  the effect must stay within its sampling spread).

The treatment is randomized with a known share p, so no propensity model is needed; the
prediction S must come from a model fitted on other people (the held-out split).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from omni.uplift._common import as_array, as_treatment, check_alpha

__all__ = ["blp_test", "calibration_test", "refute", "validate_cate"]


def _inputs(y: object, treatment: object, score: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = as_array(y, "y")
    t = as_treatment(treatment, len(y)).astype("float64")
    s = as_array(score, "score", len(y))
    if not (np.isfinite(y).all() and np.isfinite(s).all()):
        raise ValueError("y and score must be finite numbers")
    if t.min() == t.max():
        raise ValueError("treatment must contain both treated and control people")
    return y, t, s


def _ols(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS coefficients and HC2 standard errors."""
    fit = sm.OLS(y, X).fit(cov_type="HC2")
    return np.asarray(fit.params), np.asarray(fit.bse)


def blp_test(y: object, treatment: object, score: object, alpha: float = 0.05) -> pd.DataFrame:
    """Best linear predictor of the effect given the predicted uplift (Chernozhukov et al. 2018).

    Returns
    -------
    pandas.DataFrame
        Two rows, ``ate`` (b) and ``heterogeneity`` (c): estimate, se, ci_low, ci_high, p_value
        (c: one-sided, H0 c <= 0; b: two-sided), verdict.
    """
    check_alpha(alpha)
    y, t, s = _inputs(y, treatment, score)
    p = t.mean()
    d = t - p
    X = np.column_stack([np.ones_like(y), d, d * (s - s.mean())])
    b, se = _ols(y, X)
    z = stats.norm.ppf(1 - alpha / 2)
    p_ate = 2 * stats.norm.sf(abs(b[1] / se[1]))
    p_het = stats.norm.sf(b[2] / se[2]) if se[2] > 0 else np.nan
    if p_het < alpha:
        het = (f"the prediction finds people who respond more (slope {b[2]:.2f}, 1 = calibrated): "
               "ranking on it is better than random")
    else:
        het = (f"no evidence that the prediction ranks people by their uplift (slope {b[2]:.2f}, "
               f"p = {p_het:.2f}): treat it as noise")
    ate = ("an average effect is found" if p_ate < alpha else "no average effect is found")
    het_zh = (f"预测能找到响应更强的人（斜率 {b[2]:.2f}，1 = 已校准）：按它排序优于随机" if p_het < alpha else
              f"没有证据表明预测能按增量给人排序（斜率 {b[2]:.2f}，p = {p_het:.2f}）：视为噪声")
    ate_zh = "发现平均效果" if p_ate < alpha else "未发现平均效果"
    return pd.DataFrame({
        "term": ["ate", "heterogeneity"], "estimate": b[1:], "se": se[1:],
        "ci_low": b[1:] - z * se[1:], "ci_high": b[1:] + z * se[1:],
        "p_value": [p_ate, p_het], "verdict": [ate, het], "verdict_zh": [ate_zh, het_zh]})


def calibration_test(y: object, treatment: object, score: object, n_groups: int = 5,
                     alpha: float = 0.05) -> tuple[pd.DataFrame, dict[str, float | str]]:
    """Observed effect vs mean prediction by quantile of the prediction (Dwivedi et al. 2020).

    Returns
    -------
    (groups, summary)
        groups: group (1 = highest predictions), n, predicted, observed, se, ci_low, ci_high.
        summary: calibration_score, r_squared, chi2, df, p_value, verdict. Groups without
        treated or control people (or without variance) are left out of the test.
    """
    check_alpha(alpha)
    if n_groups < 2:
        raise ValueError(f"n_groups must be at least 2, got {n_groups}")
    y, t, s = _inputs(y, treatment, score)
    rank = pd.Series(-s).rank(method="first").to_numpy()
    g = np.minimum((rank - 1) * n_groups // len(s), n_groups - 1).astype(int)
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for k in range(n_groups):
        m = g == k
        yt, yc = y[m & (t == 1)], y[m & (t == 0)]
        if len(yt) < 2 or len(yc) < 2:
            rows.append({"group": k + 1, "n": int(m.sum()), "predicted": float(s[m].mean()),
                         "observed": np.nan, "se": np.nan})
            continue
        eff = yt.mean() - yc.mean()
        se = np.sqrt(yt.var(ddof=1) / len(yt) + yc.var(ddof=1) / len(yc))
        rows.append({"group": k + 1, "n": int(m.sum()), "predicted": float(s[m].mean()),
                     "observed": float(eff), "se": float(se)})
    groups = pd.DataFrame(rows)
    groups["ci_low"] = groups["observed"] - z * groups["se"]
    groups["ci_high"] = groups["observed"] + z * groups["se"]
    ok = groups["observed"].notna() & (groups["se"] > 0)
    gk = groups[ok]
    w = gk["n"] / gk["n"].sum()
    ate = float(y[t == 1].mean() - y[t == 0].mean())
    score_ = float((w * (gk["observed"] - gk["predicted"]).abs()).sum())
    base = float((w * (gk["observed"] - ate).abs()).sum())
    chi2 = float((((gk["observed"] - gk["predicted"]) / gk["se"]) ** 2).sum())
    df = int(ok.sum())
    pv = float(stats.chi2.sf(chi2, df)) if df else np.nan
    verdict = (f"calibrated: the observed effects by group agree with the predictions (p = {pv:.2f})"
               if pv >= alpha else
               f"not calibrated: the observed effects by group differ from the predictions (p = {pv:.3g}); "
               "use the ranking, not the predicted sizes")
    verdict_zh = (f"已校准：各组观测效果与预测一致（p = {pv:.2f}）" if pv >= alpha else
                  f"未校准：各组观测效果与预测不一致（p = {pv:.3g}）；用排序，不用预测的规模")
    return groups, {"calibration_score": score_, "r_squared": 1 - score_ / base if base > 0 else np.nan,
                    "chi2": chi2, "df": df, "p_value": pv, "verdict": verdict, "verdict_zh": verdict_zh}


def _ate(y: np.ndarray, t: np.ndarray, extra: np.ndarray | None = None) -> tuple[float, float]:
    """Effect of t on y by OLS (HC2), optionally adjusting for ``extra``."""
    cols = [np.ones_like(y), t] + ([] if extra is None else [extra])
    b, se = _ols(y, np.column_stack(cols))
    return float(b[1]), float(se[1])


def refute(y: object, treatment: object, score: object | None = None, n_sims: int = 100,
           subset_share: float = 0.8, seed: int = 7, alpha: float = 0.05) -> pd.DataFrame:
    """DoWhy-style refutations of the effect estimate (and of the prediction's slope with a score).

    * placebo treatment: the treatment permuted ``n_sims`` times; the placebo effects should be
      centred on 0 and the real effect should lie outside them (permutation p-value of the real
      effect). With a score, the BLP slope under placebo must also be near 0.
    * random common cause: an independent N(0, 1) covariate added; the effect should not move
      (change in standard errors).
    * data subset: ``n_sims`` random subsets of ``subset_share`` of the people; the estimate should
      stay within their spread (two-sided p-value of the full estimate in that distribution).

    Returns
    -------
    pandas.DataFrame
        refuter, estimate (original), new_effect (mean under the refutation), ci_low, ci_high
        (2.5-97.5% of the simulated effects), p_value, passed, verdict.
    """
    check_alpha(alpha)
    if not 0 < subset_share < 1:
        raise ValueError(f"subset_share must be in (0, 1), got {subset_share}")
    y, t, _ = _inputs(y, treatment, np.zeros_like(as_array(y, "y")) if score is None else score)
    rng = np.random.default_rng(seed)
    est, se = _ate(y, t)
    n = len(y)
    # placebo: permuted treatments (difference in means is the OLS slope; vectorized)
    perms = np.array([rng.permutation(t) for _ in range(n_sims)])
    nt = perms.sum(axis=1)
    placebo = perms @ y / nt - (1 - perms) @ y / (n - nt)
    p_perm = (1 + np.sum(np.abs(placebo) >= abs(est))) / (n_sims + 1)
    lo, hi = np.quantile(placebo, [alpha / 2, 1 - alpha / 2])
    placebo_ok = bool(lo <= 0 <= hi)
    rows = [{"refuter": "placebo treatment", "estimate": est, "new_effect": float(placebo.mean()),
             "ci_low": float(lo), "ci_high": float(hi), "p_value": float(p_perm), "passed": placebo_ok,
             "verdict": ("passed: a random treatment has no effect (placebo interval contains 0)"
                         if placebo_ok else "FAILED: a random treatment shows an effect"),
             "verdict_zh": ("通过：随机处理没有效果（安慰剂区间包含 0）" if placebo_ok else "未通过：随机处理显示出效果")}]
    # random common cause
    new, _ = _ate(y, t, rng.standard_normal(n))
    moved = abs(new - est) / se if se > 0 else 0.0
    rcc_ok = bool(moved < 0.5)
    rows.append({"refuter": "random common cause", "estimate": est, "new_effect": new,
                 "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan, "passed": rcc_ok,
                 "verdict": (f"passed: a random covariate moves the effect by {moved:.2f} standard errors"
                             if rcc_ok else f"FAILED: a random covariate moves the effect by {moved:.2f} "
                             "standard errors"),
                 "verdict_zh": f"{'通过' if rcc_ok else '未通过'}：随机协变量使效果移动 {moved:.2f} 个标准误"})
    # data subset
    m = int(round(subset_share * n))
    subs = []
    for _ in range(n_sims):
        idx = rng.choice(n, size=m, replace=False)
        ts, ys = t[idx], y[idx]
        if ts.min() == ts.max():
            continue
        subs.append(ys[ts == 1].mean() - ys[ts == 0].mean())
    subs = np.asarray(subs)
    slo, shi = np.quantile(subs, [alpha / 2, 1 - alpha / 2])
    zsub = (est - subs.mean()) / subs.std(ddof=1) if subs.std(ddof=1) > 0 else 0.0
    p_sub = float(2 * stats.norm.sf(abs(zsub)))
    sub_ok = bool(p_sub >= alpha)
    rows.append({"refuter": "data subset", "estimate": est, "new_effect": float(subs.mean()),
                 "ci_low": float(slo), "ci_high": float(shi), "p_value": p_sub, "passed": sub_ok,
                 "verdict": ("passed: random subsets give the same effect" if sub_ok
                             else "FAILED: the effect changes on random subsets"),
                 "verdict_zh": "通过：随机子集给出相同的效果" if sub_ok else "未通过：效果在随机子集上改变"})
    if score is not None:
        s = as_array(score, "score", n)
        sc = s - s.mean()
        slopes = []
        for pt in perms[: min(n_sims, 50)]:
            d = pt - pt.mean()
            slopes.append(_ols(y, np.column_stack([np.ones_like(y), d, d * sc]))[0][2])
        slopes = np.asarray(slopes)
        plo, phi = np.quantile(slopes, [alpha / 2, 1 - alpha / 2])
        real = float(blp_test(y, t, s, alpha)["estimate"].iloc[1])
        p_sl = (1 + np.sum(slopes >= real)) / (len(slopes) + 1)
        ok = bool(plo <= 0 <= phi)
        rows.append({"refuter": "placebo treatment (prediction slope)", "estimate": real,
                     "new_effect": float(slopes.mean()), "ci_low": float(plo), "ci_high": float(phi),
                     "p_value": float(p_sl), "passed": ok,
                     "verdict": ("passed: under a random treatment the prediction explains nothing"
                                 if ok else "FAILED: the prediction 'explains' a random treatment"),
                     "verdict_zh": ("通过：在随机处理下预测解释不了任何东西" if ok
                                    else "未通过：预测“解释”了随机处理")})
    return pd.DataFrame(rows)


def validate_cate(y: object, treatment: object, score: object, n_groups: int = 5, n_sims: int = 100,
                  seed: int = 7, alpha: float = 0.05) -> dict[str, object]:
    """:func:`blp_test`, :func:`calibration_test` and :func:`refute` in one call.

    Returns
    -------
    dict
        ``blp`` (frame), ``calibration`` (groups frame), ``calibration_summary`` (dict),
        ``refuters`` (frame) and ``verdict`` (one sentence).
    """
    blp = blp_test(y, treatment, score, alpha)
    groups, cal = calibration_test(y, treatment, score, n_groups, alpha)
    ref = refute(y, treatment, score, n_sims=n_sims, seed=seed, alpha=alpha)
    finds = blp["p_value"].iloc[1] < alpha
    verdict = ("The predicted uplift finds people who respond more than others"
               if finds else "The predicted uplift does not find people who respond more than others")
    verdict += ("; its sizes are calibrated" if cal["p_value"] >= alpha else
                "; its sizes are not calibrated (use it to rank, not to size)")
    verdict += ("; every refuter passed." if ref["passed"].all() else
                f"; refuters failed: {', '.join(ref.loc[~ref['passed'], 'refuter'])}.")
    return {"blp": blp, "calibration": groups, "calibration_summary": cal, "refuters": ref,
            "verdict": verdict}
