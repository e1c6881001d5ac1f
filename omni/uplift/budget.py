"""Cost-aware targeting: incremental profit by the share of people targeted from an uplift ranking.

People are ranked by predicted uplift (highest first). Targeting the top share q of them, each
targeted person's profit is

    treated:  margin x revenue - coupon x converted - cost_per_contact
    control:  margin x revenue

(every treated buyer redeems the coupon, also those who would have bought anyway). Within the top
q the treated-minus-control difference of that profit per person, times the people targeted,
is the incremental profit of targeting them, with a Welch interval (the coupon cost's randomness
included). With ``capture`` (:func:`omni.uplift.capture.capture_rate`) the revenue and coupon
terms are divided by the share of orders OneID captures (the contact cost is not), and the
capture's standard error is added by the delta method.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from omni.uplift._common import CONTROL, as_array, check_alpha, numeric_metric, require_columns
from omni.uplift.capture import _capture_value

__all__ = ["best_share", "budget_curve"]

DEFAULT_SHARES = tuple(np.round(np.arange(0.05, 1.0001, 0.05), 2))


def budget_curve(
    outcomes: pd.DataFrame,
    score: object,
    coupon_value: float,
    margin: float,
    cost_per_contact: float = 0.0,
    shares: Sequence[float] = DEFAULT_SHARES,
    population: int | None = None,
    capture: pd.DataFrame | float | tuple[float, float] | None = None,
    control: str = CONTROL,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Incremental profit (with an interval) of targeting the top share of an uplift ranking.

    Parameters
    ----------
    outcomes : DataFrame
        Held-out people (not used to fit the scores) with arm, converted, revenue.
    score : array-like or str
        Predicted uplift per row, or the name of a column.
    coupon_value, margin, cost_per_contact : float
        Coupon redeemed by every treated buyer (CNY), gross margin on revenue, cost of a contact.
    shares : sequence of float
        Shares of people to target, in (0, 1]; 1.0 (everyone) is always added.
    population : int, optional
        Scale to a rollout of this many people (default: the rows of ``outcomes``).
    capture : capture_rate frame, float or (float, float), optional
        Correct revenue and coupons for the orders OneID misses.

    Returns
    -------
    pandas.DataFrame
        share, n_targeted, inc_buyers (+ ci), inc_revenue, coupon_cost, contact_cost,
        inc_profit, inc_profit_ci_low, inc_profit_ci_high, profit_per_person,
        profit_vs_everyone.
    """
    check_alpha(alpha)
    require_columns(outcomes, ["arm", "converted", "revenue"], "outcomes")
    for name, v in (("coupon_value", coupon_value), ("cost_per_contact", cost_per_contact),
                    ("margin", margin)):
        if not (np.isfinite(v) and v >= 0):
            raise ValueError(f"{name} must be a non-negative number, got {v!r}")
    if isinstance(score, str):
        require_columns(outcomes, [score], "outcomes")
        score = outcomes[score]
    s = as_array(score, "score", len(outcomes))
    qs = np.array(sorted({float(q) for q in shares} | {1.0}))
    if (qs <= 0).any() or (qs > 1).any():
        raise ValueError(f"shares must be in (0, 1], got {list(shares)}")
    c, se_c = (1.0, 0.0) if capture is None else _capture_value(capture)
    t = (outcomes["arm"].astype(str) != control).to_numpy()
    if t.all() or not t.any():
        raise ValueError("outcomes need treated and control people")
    conv = numeric_metric(outcomes, "converted")
    rev = numeric_metric(outcomes, "revenue")
    # the part of each person's profit that scales with capture, and the fixed contact cost
    v = (margin * rev - coupon_value * conv * t) / c
    order = np.argsort(-s, kind="stable")
    tt, vv, cv, rv = t[order], v[order], conv[order] * t[order], rev[order]
    n = len(s)
    k = np.maximum(np.round(qs * n).astype(int), 1)

    def cum(x: np.ndarray) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(x)])[k]

    nt, nc = cum(tt.astype(float)), cum((~tt).astype(float))
    st, sc = cum(vv * tt), cum(vv * ~tt)
    st2, sc2 = cum(vv ** 2 * tt), cum(vv ** 2 * ~tt)
    bt, bc = cum(cv), cum(conv[order] * ~tt)
    rt, rc = cum(rv * tt), cum(rv * ~tt)
    with np.errstate(divide="ignore", invalid="ignore"):
        mt, mc = st / nt, sc / nc
        vt = np.maximum(st2 - nt * mt ** 2, 0) / (nt - 1)
        vc = np.maximum(sc2 - nc * mc ** 2, 0) / (nc - 1)
        per = mt - mc - cost_per_contact  # incremental profit per targeted person
        se = np.sqrt(vt / nt + vc / nc)
        se = np.sqrt(se ** 2 + ((mt - mc) * se_c / c) ** 2)  # d/dc of (x / c) = -(x / c) / c
        pt, pc = bt / nt, bc / nc
        lift_b = (pt - pc) / c
        se_b = np.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc) / c
        rev_lift = (rt / nt - rc / nc) / c
    pop = n if population is None else int(population)
    n_target = qs * pop
    z = stats.norm.ppf(1 - alpha / 2)
    out = pd.DataFrame({
        "share": qs,
        "n_targeted": np.round(n_target).astype("int64"),
        "inc_buyers": lift_b * n_target,
        "inc_buyers_ci_low": (lift_b - z * se_b) * n_target,
        "inc_buyers_ci_high": (lift_b + z * se_b) * n_target,
        "inc_revenue": rev_lift * n_target,
        "coupon_cost": coupon_value * pt / c * n_target,
        "contact_cost": cost_per_contact * n_target,
        "inc_profit": per * n_target,
        "inc_profit_ci_low": (per - z * se) * n_target,
        "inc_profit_ci_high": (per + z * se) * n_target,
        "profit_per_person": per,
    })
    out["profit_vs_everyone"] = out["inc_profit"] - out["inc_profit"].iloc[-1]
    return out


def best_share(curve: pd.DataFrame) -> dict[str, float | str]:
    """The share with the highest incremental profit, and a plain verdict on it.

    Returns
    -------
    dict
        share, inc_profit, inc_profit_ci_low, inc_profit_ci_high, verdict.
    """
    require_columns(curve, ["share", "inc_profit", "inc_profit_ci_low", "inc_profit_ci_high"], "curve")
    ok = curve[np.isfinite(curve["inc_profit"])]
    if len(ok) == 0:
        return {"share": np.nan, "inc_profit": np.nan, "inc_profit_ci_low": np.nan,
                "inc_profit_ci_high": np.nan, "verdict": "no share could be valued"}
    b = ok.loc[ok["inc_profit"].idxmax()]
    if b["inc_profit_ci_low"] > 0:
        verdict = (f"targeting the top {b['share']:.0%} earns {b['inc_profit']:,.0f} CNY more than not "
                   f"sending (95% CI {b['inc_profit_ci_low']:,.0f} to {b['inc_profit_ci_high']:,.0f})")
    elif b["inc_profit"] > 0:
        verdict = (f"the top {b['share']:.0%} look profitable ({b['inc_profit']:,.0f} CNY) but the "
                   f"interval includes a loss ({b['inc_profit_ci_low']:,.0f} to "
                   f"{b['inc_profit_ci_high']:,.0f}): test again before scaling up")
    else:
        verdict = "no share of people is profitable at this coupon cost and margin"
    return {"share": float(b["share"]), "inc_profit": float(b["inc_profit"]),
            "inc_profit_ci_low": float(b["inc_profit_ci_low"]),
            "inc_profit_ci_high": float(b["inc_profit_ci_high"]), "verdict": verdict}
