"""Shared helpers of the attribution models: the result frame and error labels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["NS_PER_DAY", "RESULT_COLUMNS", "result_frame", "row_label"]

#: Nanoseconds in a day (touch and order times are compared as int64 nanoseconds).
NS_PER_DAY = 86_400 * 10**9

RESULT_COLUMNS = ["channel", "conversions", "value", "share"]


def result_frame(
    channels: Sequence[str], conversions: np.ndarray, value: np.ndarray
) -> pd.DataFrame:
    """Build the common model output: one row per channel, ``share`` of attributed conversions."""
    conversions = np.asarray(conversions, dtype=float)
    value = np.asarray(value, dtype=float)
    total = conversions.sum()
    share = conversions / total if total != 0 else np.zeros_like(conversions)
    return pd.DataFrame(
        {
            "channel": pd.Series(list(channels), dtype="string"),
            "conversions": conversions,
            "value": value,
            "share": share,
        }
    )


def row_label(label: object) -> str:
    """A row label for error messages (numpy scalars shown as plain Python values)."""
    return repr(label.item() if isinstance(label, np.generic) else label)
