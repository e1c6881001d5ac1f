"""Shared helpers for the uplift package: input validation, masking, group statistics and the
vectorized two-group comparison (two-proportion z / Welch t) used by every lift estimate."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from omni.privacy import mask_id as _privacy_mask_id

__all__ = [
    "CONTROL",
    "OUTCOME_COLUMNS",
    "as_array",
    "as_treatment",
    "check_alpha",
    "compare_groups",
    "first_bad_row",
    "group_stats",
    "is_proportion",
    "mask_id",
    "masked_list",
    "numeric_metric",
    "require_columns",
    "resolve_arms",
    "verdict_text",
]

CONTROL = "control"

#: Columns of the frame returned by :func:`omni.uplift.campaign_outcomes`.
OUTCOME_COLUMNS = (
    "campaign_id",
    "oneid",
    "arm",
    "treated",
    "contacted",
    "converted",
    "n_orders",
    "revenue",
    "pre_orders",
    "pre_revenue",
)


def mask_id(value: object) -> str:
    """Mask an identifier for messages with the project's rule (:func:`omni.privacy.mask_id`:
    first 2 + ``…`` + last 2 characters, e.g. ``"O0…56"``)."""
    return str(_privacy_mask_id(str(value)))


def masked_list(values: Iterable[object], limit: int = 5) -> str:
    """Comma-separated masked examples, with a count of the ones left out."""
    vals = list(values)
    shown = ", ".join(mask_id(v) for v in vals[:limit])
    if len(vals) > limit:
        shown += f" (+{len(vals) - limit} more)"
    return shown


def require_columns(df: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    """Raise ValueError naming the missing columns of ``df``."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{name} is missing column(s): {', '.join(missing)} "
            f"(has: {', '.join(map(str, df.columns))})"
        )


def check_alpha(alpha: float, name: str = "alpha") -> None:
    if not (isinstance(alpha, int | float) and 0.0 < float(alpha) < 1.0):
        raise ValueError(f"{name} must be strictly between 0 and 1, got {alpha!r}")


def first_bad_row(mask: pd.Series | np.ndarray, index: pd.Index) -> str:
    """Describe the rows flagged by ``mask``: count and first index label."""
    mask = np.asarray(mask, dtype=bool)
    n_bad = int(mask.sum())
    first = index[np.flatnonzero(mask)[0]]
    return f"{n_bad} row(s), first at index {first!r}"


def numeric_metric(outcomes: pd.DataFrame, metric: str, name: str = "outcomes") -> np.ndarray:
    """The metric column as float64, with clear errors for missing/non-numeric/NaN values."""
    require_columns(outcomes, [metric], name)
    col = outcomes[metric]
    if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
        raise ValueError(f"metric column {metric!r} must be numeric or boolean, got {col.dtype}")
    values = col.to_numpy(dtype="float64", na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(
            f"metric column {metric!r} has missing or infinite values: {first_bad_row(bad, col.index)}"
        )
    return values


def is_proportion(outcomes: pd.DataFrame, metric: str) -> bool:
    """A metric is analysed as a proportion if it is boolean or an integer 0/1 column."""
    col = outcomes[metric]
    if pd.api.types.is_bool_dtype(col):
        return True
    if pd.api.types.is_integer_dtype(col):
        vals = pd.unique(col.dropna())
        return bool(len(vals) <= 2 and set(vals.tolist()) <= {0, 1})
    return False


def resolve_arms(
    outcomes: pd.DataFrame,
    arm: str | Sequence[str] | None,
    control: str,
    arm_col: str = "arm",
) -> list[str]:
    """Treatment arms to compare with ``control``; raises on unknown arms or a missing control."""
    require_columns(outcomes, [arm_col], "outcomes")
    present = pd.unique(outcomes[arm_col].dropna().astype(str)).tolist()
    if outcomes[arm_col].isna().any():
        raise ValueError(
            f"outcomes column {arm_col!r} has missing values: "
            f"{first_bad_row(outcomes[arm_col].isna(), outcomes.index)}"
        )
    if control not in present:
        raise ValueError(
            f"no rows with control arm {control!r} in outcomes (arms present: {sorted(present)})"
        )
    treatments = sorted(a for a in present if a != control)
    if arm is None:
        if not treatments:
            raise ValueError(f"outcomes has only the control arm {control!r}: nothing to compare")
        return treatments
    wanted = [arm] if isinstance(arm, str) else list(arm)
    unknown = [a for a in wanted if a not in treatments]
    if unknown:
        raise ValueError(
            f"unknown arm(s) {unknown} (treatment arms present: {treatments}, control: {control!r})"
        )
    return wanted


def group_stats(values: np.ndarray, keys: pd.Series | list[pd.Series]) -> pd.DataFrame:
    """n, mean, sample variance (ddof=1) of ``values`` per group (one groupby pass)."""
    s = pd.Series(values)
    if isinstance(keys, list):
        keys = [pd.Series(np.asarray(k), index=s.index) for k in keys]
    else:
        keys = pd.Series(np.asarray(keys), index=s.index)
    g = s.groupby(keys, sort=True, observed=True)
    out = g.agg(["size", "mean", "var"]).rename(columns={"size": "n"})
    out["var"] = out["var"].fillna(0.0)
    return out


def compare_groups(
    n_t: np.ndarray,
    m_t: np.ndarray,
    v_t: np.ndarray,
    n_c: np.ndarray,
    m_c: np.ndarray,
    v_c: np.ndarray,
    proportion: bool,
    alpha: float = 0.05,
    relative_ci: str = "delta",
) -> dict[str, np.ndarray]:
    """Vectorized treatment-vs-control comparison of means.

    Parameters
    ----------
    n_t, m_t, v_t, n_c, m_c, v_c
        Group sizes, means and sample variances (ddof=1; ignored for proportions, where the
        binomial variance p(1-p) is used).
    proportion
        True: two-proportion z-test with pooled variance for the p-value and an unpooled Wald
        interval (as ``statsmodels.stats.proportion.proportions_ztest`` and
        ``confint_proportions_2indep(method="wald")``). False: Welch t-test and interval with
        Welch-Satterthwaite degrees of freedom (as ``CompareMeans.ttest_ind(usevar="unequal")``).
    relative_ci
        ``"delta"`` (first-order delta method for m_t/m_c - 1, normal quantile) or ``"fieller"``
        (Fieller's interval for the ratio of two independent means; NaN when the control mean is
        not significantly different from zero, i.e. the interval is unbounded).

    Returns
    -------
    dict of arrays: abs_lift, se, abs_ci_low, abs_ci_high, stat, p_value, rel_lift, rel_se,
    rel_ci_low, rel_ci_high.
    """
    n_t, m_t, v_t, n_c, m_c, v_c = (
        np.asarray(a, dtype="float64") for a in (n_t, m_t, v_t, n_c, m_c, v_c)
    )
    diff = m_t - m_c
    with np.errstate(divide="ignore", invalid="ignore"):
        if proportion:
            var_t = m_t * (1.0 - m_t) / n_t
            var_c = m_c * (1.0 - m_c) / n_c
            se = np.sqrt(var_t + var_c)
            p_pool = (m_t * n_t + m_c * n_c) / (n_t + n_c)
            se0 = np.sqrt(p_pool * (1.0 - p_pool) * (1.0 / n_t + 1.0 / n_c))
            stat = diff / se0
            p_value = 2.0 * stats.norm.sf(np.abs(stat))
            q = stats.norm.ppf(1.0 - alpha / 2.0)
            half = q * se
        else:
            var_t = v_t / n_t
            var_c = v_c / n_c
            se = np.sqrt(var_t + var_c)
            df = (var_t + var_c) ** 2 / (var_t**2 / (n_t - 1.0) + var_c**2 / (n_c - 1.0))
            stat = diff / se
            p_value = 2.0 * stats.t.sf(np.abs(stat), df)
            half = stats.t.ppf(1.0 - alpha / 2.0, df) * se
        # identical constant groups: no evidence of a difference
        p_value = np.where((se == 0) & (diff == 0), 1.0, p_value)

        z = stats.norm.ppf(1.0 - alpha / 2.0)
        rel = m_t / m_c - 1.0
        rel_se = np.sqrt(var_t / m_c**2 + m_t**2 * var_c / m_c**4)
        if relative_ci == "delta":
            rel_lo, rel_hi = rel - z * rel_se, rel + z * rel_se
        elif relative_ci == "fieller":
            a = m_c**2 - z**2 * var_c
            disc = m_t**2 * var_c + m_c**2 * var_t - z**2 * var_t * var_c
            root = z * np.sqrt(np.maximum(disc, 0.0))
            bounded = (a > 0) & (disc >= 0)
            lo = np.where(bounded, (m_t * m_c - root) / a - 1.0, np.nan)
            hi = np.where(bounded, (m_t * m_c + root) / a - 1.0, np.nan)
            rel_lo, rel_hi = lo, hi
        else:
            raise ValueError(f"relative_ci must be 'delta' or 'fieller', got {relative_ci!r}")
        rel = np.where(m_c == 0, np.nan, rel)
    return {
        "abs_lift": diff,
        "se": se,
        "abs_ci_low": diff - half,
        "abs_ci_high": diff + half,
        "stat": stat,
        "p_value": p_value,
        "rel_lift": rel,
        "rel_se": np.where(m_c == 0, np.nan, rel_se),
        "rel_ci_low": np.where(m_c == 0, np.nan, rel_lo),
        "rel_ci_high": np.where(m_c == 0, np.nan, rel_hi),
    }


def verdict_text(p_value: float, abs_lift: float, alpha: float) -> str:
    if not np.isfinite(p_value):
        return "not estimable"
    if p_value < alpha:
        return "significant increase" if abs_lift > 0 else "significant decrease"
    return "no significant difference"


def as_array(x: object, name: str, n: int | None = None, dtype: str = "float64") -> np.ndarray:
    """1-D array from a Series/array/list with a length check and NaN check."""
    arr = np.asarray(x, dtype=dtype).ravel()
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]}, expected {n}")
    if dtype == "float64":
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(
                f"{name} has {int(bad.sum())} missing or infinite value(s), first at position "
                f"{int(np.flatnonzero(bad)[0])}"
            )
    return arr


def as_treatment(x: object, n: int | None = None, name: str = "treatment") -> np.ndarray:
    """0/1 treatment indicator array; accepts booleans or 0/1 numbers."""
    arr = np.asarray(x)
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]}, expected {n}")
    if arr.dtype == bool:
        return arr.astype("int8")
    try:
        f = arr.astype("float64")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be boolean or 0/1, got dtype {arr.dtype}") from exc
    bad = ~np.isin(f, (0.0, 1.0))
    if bad.any():
        raise ValueError(
            f"{name} must be boolean or 0/1; {int(bad.sum())} other value(s), first at position "
            f"{int(np.flatnonzero(bad)[0])}"
        )
    return f.astype("int8")
