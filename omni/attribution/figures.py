"""The key figures of a month: journey statistics, spend and one model's return on it.
"""

from __future__ import annotations

import numpy as np

from omni.attribution.journeys import DIRECT
from omni.attribution.month import MonthAttribution
from omni.attribution.stats import journey_stats

__all__ = [
    "month_figures",
]


def month_figures(result: MonthAttribution, model: str = "markov") -> dict[str, float]:
    """Key figures of a month: journey statistics, spend and one model's return on it.

    Parameters
    ----------
    result
        Output of :func:`attribute_month`.
    model
        The model whose credit gives the blended figures (default Markov).

    Returns
    -------
    dict
        :func:`journey_stats` plus ``spend``, ``attributed_to_touches`` (share of conversions the
        model credits to marketing channels), ``paid_conversions`` and ``paid_value`` (credited to
        channels with spend), ``blended_cpa`` (spend / paid conversions), ``blended_roas``
        (paid value / spend), ``top_channel`` and ``top_share`` (the touch channel with the
        largest share).
    """
    if model not in set(result.table["model"]):
        raise ValueError(f"model {model!r} is not in the month's attribution table")
    stats = journey_stats(result.journeys)
    t = result.table[result.table["model"] == model]
    ch = t["channel"].astype(str)
    touch = t[(ch != DIRECT).to_numpy()]
    roi = result.roi[result.roi["model"] == model]
    paid = roi[roi["spend"] > 0]
    spend = float(paid["spend"].sum())
    paid_conv = float(paid["conversions"].sum())
    paid_value = float(paid["value"].sum())
    top = touch.sort_values(["share", "channel"], ascending=[False, True]).iloc[0]
    return {
        **stats,
        "spend": spend,
        "attributed_to_touches": float(touch["conversions"].sum() / t["conversions"].sum()),
        "paid_conversions": paid_conv,
        "paid_value": paid_value,
        "blended_cpa": spend / paid_conv if paid_conv > 0 else np.nan,
        "blended_roas": paid_value / spend if spend > 0 else np.nan,
        "top_channel": str(top["channel"]),
        "top_share": float(top["share"]),
    }
