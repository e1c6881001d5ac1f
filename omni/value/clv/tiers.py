"""Value tiers: customers ranked by CLV and cut into A (top), B, C, ... by customer shares."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["value_tiers"]


def value_tiers(
    clv: pd.Series | np.ndarray,
    shares: Sequence[float] = (0.10, 0.20, 0.30),
    labels: Sequence[str] = ("A", "B", "C", "D"),
) -> pd.Series:
    """Tier customers by CLV rank: top 10% "A", next 20% "B", next 30% "C", rest "D".

    Customers are ranked by descending CLV; ties are broken by row order (deterministic). The
    first ``round(shares[0] * n)`` customers form the first tier, up to
    ``round((shares[0] + shares[1]) * n)`` the second, and so on; the last label takes the rest.

    Parameters
    ----------
    clv : Series or array
        Customer lifetime values (finite).
    shares : sequence of float
        Share of customers in each tier but the last; positive, summing to less than 1.
    labels : sequence of str
        One more label than ``shares``, best tier first.

    Returns
    -------
    Series
        Ordered categorical (best tier first), same index as ``clv``.
    """
    s = pd.Series(clv) if not isinstance(clv, pd.Series) else clv
    if len(labels) != len(shares) + 1:
        raise ValueError(
            f"need len(labels) == len(shares) + 1, got {len(labels)} and {len(shares)}"
        )
    sh = np.asarray(shares, dtype="float64")
    if np.any(sh <= 0) or sh.sum() >= 1:
        raise ValueError(f"shares must be positive and sum to less than 1, got {list(shares)}")
    v = pd.to_numeric(s, errors="coerce")
    if v.isna().any() or not np.all(np.isfinite(v.to_numpy(dtype="float64"))):
        row = s.index[np.flatnonzero(~np.isfinite(v.to_numpy(dtype="float64")))[0]]
        raise ValueError(f"clv is missing or not finite at row {row!r}")
    n = len(v)
    position = v.rank(method="first", ascending=False).to_numpy() - 1.0  # 0 = highest CLV
    cutoffs = np.round(np.cumsum(sh) * n)
    code = np.searchsorted(cutoffs, position, side="right")
    cat = pd.Categorical.from_codes(code, categories=list(labels), ordered=True)
    return pd.Series(cat, index=s.index, name="value_tier")
