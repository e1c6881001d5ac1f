"""The discounted CLV sum: expected purchases month by month, discounted at a monthly rate."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from omni.value.clv._base import PERIODS_PER_MONTH

__all__ = ["discounted_purchases", "monthly_rate"]


def monthly_rate(discount_rate_annual: float) -> float:
    """The monthly discount rate ``(1 + annual) ** (1 / 12) - 1``."""
    return (1.0 + discount_rate_annual) ** (1.0 / 12.0) - 1.0


def discounted_purchases(
    expected: Callable[[float], np.ndarray],
    template: np.ndarray,
    months: int,
    freq: str,
    discount_rate_annual: float,
) -> np.ndarray:
    """Sum over months i = 1..months of (expected purchases in month i) / (1 + d)^i.

    lifetimes' semantics: months of 30 days or 4.345 weeks, ``d`` the :func:`monthly_rate`.

    Parameters
    ----------
    expected : callable
        ``t -> expected cumulative purchases in the next t time units`` (one value per row).
    template : ndarray
        An array shaped like the result (its values are not read).
    months : int
        Horizon.
    freq : {"W", "D"}
        Time unit of ``expected``.
    discount_rate_annual : float

    Returns
    -------
    ndarray
        Discounted expected purchases per row; times the spend per purchase, the CLV.
    """
    f = PERIODS_PER_MONTH[freq]
    d = monthly_rate(discount_rate_annual)
    total = np.zeros_like(template)
    prev = np.zeros_like(template)
    for i in range(1, months + 1):  # a loop over months, vectorized over customers
        cur = expected(i * f)
        total += (cur - prev) / (1.0 + d) ** i
        prev = cur
    return total
