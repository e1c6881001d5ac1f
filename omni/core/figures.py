"""Month-over-month comparison of headline figures: the one rule every analysis result uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["compare_figures"]


def compare_figures(
    current: Mapping[str, Any], previous: Mapping[str, Any] | None, labels: Mapping[str, str]
) -> pd.DataFrame:
    """This month's figures against the previous month's.

    Parameters
    ----------
    current, previous : mapping
        Figure key -> value; ``previous`` may be None (no earlier data).
    labels : mapping
        Figure key -> label, in the order to show.

    Returns
    -------
    DataFrame
        ``figure``, ``this_month``, ``previous_month``, ``change`` (difference, finite numbers
        only) and ``relative_change``.

    Raises
    ------
    ValueError
        A label names a figure that ``current`` does not have.
    """
    rows = []
    for key, label in labels.items():
        if key not in current:
            raise ValueError(f"figure {key!r} is not among the month's figures")
        cur = current[key]
        prev = previous.get(key) if previous is not None else None
        numeric = all(
            isinstance(x, int | float | np.integer | np.floating)
            and not isinstance(x, bool)
            and np.isfinite(x)
            for x in (cur, prev)
        )
        change = float(cur) - float(prev) if numeric else np.nan
        rel = change / abs(float(prev)) if numeric and float(prev) != 0 else np.nan
        rows.append({"figure": label, "this_month": cur, "previous_month": prev,
                     "change": change, "relative_change": rel})
    return pd.DataFrame(rows, columns=["figure", "this_month", "previous_month", "change", "relative_change"])
