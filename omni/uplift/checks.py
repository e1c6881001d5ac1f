"""Experiment health checks: sample ratio mismatch, covariate balance, contamination."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from omni.uplift._common import CONTROL, require_columns
from omni.uplift.outcomes import campaign_row, parse_arms

__all__ = ["balance_check", "contamination_check", "planned_shares", "sample_ratio_check"]


def planned_shares(campaigns: pd.DataFrame, campaign_id: object, control: str = CONTROL) -> dict:
    """Planned arm shares of a campaign: ``control_share`` to control, the rest split equally
    over the treatment arms listed in ``arms``.

    Returns
    -------
    dict
        arm -> planned share, summing to 1.
    """
    row = campaign_row(campaigns, campaign_id)
    require_columns(campaigns, ["control_share", "arms"], "campaigns")
    cs = float(row["control_share"])
    if not 0.0 < cs < 1.0:
        raise ValueError(f"campaign {campaign_id!r}: control_share must be in (0, 1), got {cs}")
    arms = parse_arms(row["arms"], control=control)
    treat = [a for a in arms if a != control]
    if not treat:
        raise ValueError(f"campaign {campaign_id!r}: arms lists no treatment arm ({row['arms']!r})")
    shares = {control: cs}
    shares.update({a: (1.0 - cs) / len(treat) for a in treat})
    return shares


def sample_ratio_check(
    outcomes: pd.DataFrame,
    planned: Mapping[str, float] | float,
    alpha: float = 0.001,
    arm_col: str = "arm",
    control: str = CONTROL,
) -> pd.DataFrame:
    """Sample ratio mismatch (SRM): chi-square goodness of fit of arm counts vs planned shares.

    Parameters
    ----------
    outcomes
        One row per assigned person with an ``arm`` column.
    planned
        arm -> planned share (must sum to 1), or a single float: the control share of a two-arm
        test (the one treatment arm gets the rest).
    alpha
        Flag threshold on the p-value; 0.001 is the usual SRM threshold (a real SRM is a bug in
        assignment or logging, so false alarms are costly and the test is run on every campaign).

    Returns
    -------
    pandas.DataFrame
        One row per arm: arm, n, share, planned_share, expected_n, then the overall chi2, df,
        p_value, srm (bool) and a plain-words verdict (the same on every row).
    """
    require_columns(outcomes, [arm_col], "outcomes")
    counts = outcomes[arm_col].astype(str).value_counts()
    if isinstance(planned, int | float) and not isinstance(planned, bool):
        treat = [a for a in counts.index if a != control]
        if len(treat) != 1:
            raise ValueError(
                "planned given as a single control share needs exactly one treatment arm; "
                f"found {sorted(treat)}: pass a dict arm -> share"
            )
        planned = {control: float(planned), treat[0]: 1.0 - float(planned)}
    if not isinstance(planned, Mapping) or not planned:
        raise ValueError("planned must be a dict arm -> share or a control share (float)")
    plan = pd.Series({str(k): float(v) for k, v in planned.items()})
    if (plan <= 0).any() or (plan >= 1).any():
        raise ValueError(f"planned shares must be in (0, 1), got {plan.to_dict()}")
    if not np.isclose(plan.sum(), 1.0, atol=1e-6):
        raise ValueError(f"planned shares must sum to 1, got {plan.sum():.6f} ({plan.to_dict()})")
    unplanned = sorted(set(counts.index) - set(plan.index))
    if unplanned:
        raise ValueError(f"arm(s) {unplanned} found in outcomes but not in planned {list(plan.index)}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    n_obs = counts.reindex(plan.index, fill_value=0).astype("int64")
    total = int(n_obs.sum())
    if total == 0:
        raise ValueError("outcomes has no rows")
    expected = plan * total
    chi2, p = stats.chisquare(n_obs.to_numpy(), expected.to_numpy())
    flag = bool(p < alpha)
    shares = n_obs / total
    worst = (shares - plan).abs().idxmax()
    if flag:
        verdict = (
            f"SAMPLE RATIO MISMATCH (p = {p:.2g} < {alpha:g}): arm {worst!r} has "
            f"{shares[worst]:.2%} of people vs {plan[worst]:.2%} planned; do not trust the "
            "effects until the assignment/logging problem is found"
        )
    else:
        verdict = f"split matches the plan (p = {p:.2g} >= {alpha:g})"
    return pd.DataFrame(
        {
            "arm": plan.index,
            "n": n_obs.to_numpy(),
            "share": shares.to_numpy(),
            "planned_share": plan.to_numpy(),
            "expected_n": expected.to_numpy(),
            "chi2": float(chi2),
            "df": len(plan) - 1,
            "p_value": float(p),
            "srm": flag,
            "verdict": verdict,
        }
    )


def _smd_rows(x_t: np.ndarray, x_c: np.ndarray) -> tuple[float, float, float]:
    m_t, m_c = float(np.mean(x_t)), float(np.mean(x_c))
    v_t = float(np.var(x_t, ddof=1)) if len(x_t) > 1 else 0.0
    v_c = float(np.var(x_c, ddof=1)) if len(x_c) > 1 else 0.0
    pooled = np.sqrt((v_t + v_c) / 2.0)
    smd = (m_t - m_c) / pooled if pooled > 0 else (0.0 if m_t == m_c else np.inf)
    return m_t, m_c, float(smd)


def balance_check(
    outcomes: pd.DataFrame,
    covariates: Sequence[str],
    threshold: float = 0.1,
    arm_col: str = "arm",
    control: str = CONTROL,
) -> pd.DataFrame:
    """Covariate balance: standardized mean differences (SMD) of each arm vs control.

    SMD = (mean_t - mean_c) / sqrt((s_t^2 + s_c^2) / 2) (Austin 2009). Numeric covariates are
    compared as they are; categorical ones (object, string, category, bool) level by level as
    0/1 indicators (missing values become their own level ``"(missing)"``). |SMD| > threshold
    (0.1 by convention) is flagged.

    Returns
    -------
    pandas.DataFrame
        arm, covariate, level (None for numeric), mean_treat, mean_control, smd, flag, verdict.
    """
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    if not covariates:
        raise ValueError("covariates must name at least one column")
    require_columns(outcomes, [arm_col, *covariates], "outcomes")
    arm = outcomes[arm_col].astype(str).to_numpy()
    if control not in set(arm):
        raise ValueError(f"no rows with control arm {control!r} in outcomes")
    is_c = arm == control
    rows = []
    for t_arm in sorted(set(arm) - {control}):
        is_t = arm == t_arm
        for cov in covariates:
            col = outcomes[cov]
            if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
                x = col.to_numpy(dtype="float64", na_value=np.nan)
                if np.isnan(x).any():
                    raise ValueError(
                        f"numeric covariate {cov!r} has {int(np.isnan(x).sum())} missing value(s); "
                        "impute or bin it first"
                    )
                rows.append((t_arm, cov, None, *_smd_rows(x[is_t], x[is_c])))
            else:
                lev = col.astype("object").where(col.notna(), "(missing)").astype(str).to_numpy()
                for level in sorted(set(lev)):
                    ind = (lev == level).astype("float64")
                    rows.append((t_arm, cov, level, *_smd_rows(ind[is_t], ind[is_c])))
    out = pd.DataFrame(
        rows, columns=["arm", "covariate", "level", "mean_treat", "mean_control", "smd"]
    )
    out["flag"] = out["smd"].abs() > threshold
    out["verdict"] = np.where(
        out["flag"],
        "IMBALANCED: |SMD| > " + format(threshold, "g") + "; adjust for it (CUPED/regression) and "
        "check the randomization",
        "balanced",
    )
    return out


def contamination_check(
    outcomes: pd.DataFrame,
    control: str = CONTROL,
    max_control_contacted: float = 0.01,
    max_treated_uncontacted: float = 0.10,
    arm_col: str = "arm",
) -> pd.DataFrame:
    """Contamination and non-compliance: control people who were contacted and treated people
    who were not.

    Contacted controls bias the effect toward zero (the holdout was not held out); treated people
    not reached dilute the intention-to-treat effect (all lifts here are ITT: by assigned arm).

    Returns
    -------
    pandas.DataFrame
        arm, role (control/treatment), n, n_contacted, share_contacted, problem_share (contacted
        share for control, not-contacted share for treatment), threshold, flag, verdict.
    """
    require_columns(outcomes, [arm_col, "contacted"], "outcomes")
    arm = outcomes[arm_col].astype(str)
    contacted = outcomes["contacted"]
    if contacted.isna().any() or not (
        pd.api.types.is_bool_dtype(contacted) or contacted.isin([0, 1]).all()
    ):
        raise ValueError("outcomes.contacted must be boolean without missing values")
    if control not in set(arm):
        raise ValueError(f"no rows with control arm {control!r} in outcomes")
    g = contacted.astype(bool).groupby(arm).agg(["size", "sum"])
    rows = []
    for a in [control] + sorted(set(g.index) - {control}):
        n, k = int(g.loc[a, "size"]), int(g.loc[a, "sum"])
        share = k / n
        if a == control:
            problem, thr = share, max_control_contacted
            flag = problem > thr
            verdict = (
                f"CONTAMINATED: {problem:.2%} of control contacted (> {thr:.0%}); effects are "
                "biased toward zero" if flag else f"clean: {problem:.2%} of control contacted"
            )
            role = "control"
        else:
            problem, thr = 1.0 - share, max_treated_uncontacted
            flag = problem > thr
            verdict = (
                f"LOW REACH: {problem:.2%} of treated not contacted (> {thr:.0%}); the ITT effect "
                "is diluted" if flag else f"ok: {problem:.2%} of treated not contacted"
            )
            role = "treatment"
        rows.append((a, role, n, k, share, problem, thr, flag, verdict))
    return pd.DataFrame(
        rows,
        columns=["arm", "role", "n", "n_contacted", "share_contacted", "problem_share",
                 "threshold", "flag", "verdict"],
    )
