"""Budget allocation: equalise marginal ROAS across channels under per-channel bounds.

A channel's response curve is its incremental revenue over a planning period as a function of its
budget, the period's own daily plan scaled up or down (flighting kept). The total budget is fixed;
each channel stays within ``[low, high]`` times its current budget. The allocation is built greedily
in small steps, each to the channel whose next step earns the most, which equalises the marginal
ROAS of the channels inside their bounds (to the step size) and handles S-shaped curves that a
first-order condition alone would not.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["allocate", "marginal_roas"]


def allocate(response: Callable[[int, np.ndarray], np.ndarray], current: np.ndarray,
             channels: list[str] | None = None, low: float | np.ndarray = 0.5,
             high: float | np.ndarray = 2.0, budget: float | None = None,
             steps: int = 2000) -> pd.DataFrame:
    """The budget per channel that maximises total response at the same total spend.

    Parameters
    ----------
    response : callable
        ``response(c, budgets)`` -> channel ``c``'s response (incremental revenue) at each budget in
        the array ``budgets`` (vectorized).
    current : ndarray
        Current budget per channel (C).
    channels : list of str, optional
        Names (default ``0..C-1``).
    low, high : float or ndarray
        Bounds as multiples of the current budget.
    budget : float, optional
        Total to allocate (default the current total).
    steps : int
        Resolution: the budget above the lower bounds is allocated in this many steps.

    Returns
    -------
    DataFrame
        Indexed by channel: ``current``, ``recommended``, ``change``, ``response_current``,
        ``response_recommended``, ``marginal_roas_current``, ``marginal_roas`` (at the
        recommendation; equal across channels strictly inside their bounds), ``at_bound``.

    Raises
    ------
    ValueError
        A budget outside what the bounds allow.
    """
    current = np.asarray(current, float)
    n = len(current)
    names = channels or [str(i) for i in range(n)]
    lo = np.broadcast_to(np.asarray(low, float), (n,)) * current
    hi = np.broadcast_to(np.asarray(high, float), (n,)) * current
    total = float(current.sum() if budget is None else budget)
    if not lo.sum() - 1e-6 <= total <= hi.sum() + 1e-6:
        raise ValueError(f"budget {total:,.0f} is outside what the bounds allow "
                         f"({lo.sum():,.0f} to {hi.sum():,.0f})")
    step = (total - lo.sum()) / steps if steps else 0.0
    # every channel's response on its grid of budgets: lo + k * step
    grids, values = [], []
    for c in range(n):
        k_max = int(np.floor((hi[c] - lo[c]) / step + 1e-9)) if step > 0 else 0
        g = lo[c] + step * np.arange(k_max + 1)
        grids.append(g)
        values.append(np.asarray(response(c, g), float))
    k = np.zeros(n, int)
    for _ in range(steps if step > 0 else 0):
        gain = np.array([values[c][k[c] + 1] - values[c][k[c]] if k[c] + 1 < len(values[c]) else -np.inf
                         for c in range(n)])
        best = int(np.argmax(gain))
        if not np.isfinite(gain[best]):
            break
        k[best] += 1
    rec = np.array([grids[c][k[c]] for c in range(n)])
    out = pd.DataFrame(index=pd.Index(names, name="channel"))
    out["current"], out["recommended"] = current, rec
    out["change"] = rec / np.where(current > 0, current, np.nan) - 1
    out["response_current"] = [float(response(c, current[c:c + 1])[0]) for c in range(n)]
    out["response_recommended"] = [float(values[c][k[c]]) for c in range(n)]
    out["marginal_roas_current"] = marginal_roas(response, current)
    out["marginal_roas"] = marginal_roas(response, rec)
    out["at_bound"] = np.where(rec <= lo + step / 2, "low", np.where(rec >= hi - step / 2, "high", ""))
    return out


def marginal_roas(response: Callable[[int, np.ndarray], np.ndarray], budgets: np.ndarray,
                  rel_step: float = 1e-3) -> np.ndarray:
    """Response gained per extra unit of budget, per channel (central differences)."""
    budgets = np.asarray(budgets, float)
    out = np.empty(len(budgets))
    for c, b in enumerate(budgets):
        h = max(b, 1.0) * rel_step
        lo, hi = max(b - h, 0.0), b + h
        v = np.asarray(response(c, np.array([lo, hi])), float)
        out[c] = (v[1] - v[0]) / (hi - lo)
    return out


def plan_response(adstock: np.ndarray, scale: np.ndarray, value: np.ndarray, beta: float,
                  half_saturation: float, slope: float, period_spend: float
                  ) -> Callable[[np.ndarray], np.ndarray]:
    """One channel's response over a period as a function of its budget (the plan scaled).

    Parameters
    ----------
    adstock : ndarray
        The channel's adstock over the period's days (days x regions) at the current plan.
    scale : ndarray
        Each region's demand scale (the model's ``m_r``).
    value : ndarray
        Value of one incremental order per day and region (revenue per order; ones for orders).
    beta, half_saturation, slope : float
        The channel's curve.
    period_spend : float
        The channel's current spend over the period.

    Returns
    -------
    callable
        ``f(budgets) -> response`` (vectorized; adstock scales with the budget).
    """
    x = (adstock / scale[None, :]).reshape(-1)
    w = (value * scale[None, :]).reshape(-1) * beta
    k = half_saturation**slope

    def f(budgets: np.ndarray) -> np.ndarray:
        b = np.atleast_1d(np.asarray(budgets, float))
        out = np.empty(len(b))
        factor = b / period_spend if period_spend > 0 else np.zeros(len(b))
        for i in range(0, len(b), 128):
            xs = np.power(np.maximum(factor[i:i + 128, None] * x[None, :], 0.0), slope)
            out[i:i + 128] = (xs / (xs + k)) @ w
        return out

    return f
