"""The calibration/holdout check of the purchase models at a date.

The customer summary with the last ``holdout_weeks`` before the end day held out: the purchase
model(s) are fitted on the calibration period and scored on the holdout
(:func:`omni.value.clv.selection.choose_model`); with ``model="auto"`` the better one is then
refitted on all purchases by :func:`omni.value.customer.value_of_orders`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from omni.value.clv.model import CLVModel
from omni.value.rfm import rfm_summary

__all__ = ["HoldoutCheck", "holdout_check"]


@dataclass
class HoldoutCheck:
    """The outcome of :func:`holdout_check`.

    Attributes
    ----------
    model : CLVModel or None
        The model(s) fitted on the calibration period and scored on the holdout (None when the
        check was skipped).
    calibration_end : Timestamp or None
        Last day of the calibration period (None when the check was not run).
    first_purchase : Timestamp or None
        Day of the first purchase in the data.
    skipped : {None, "not run", "too short"}
        Why there is no check: not asked for, or no purchase before the calibration end.
    """

    model: CLVModel | None
    calibration_end: pd.Timestamp | None
    first_purchase: pd.Timestamp | None
    skipped: Literal["not run", "too short"] | None


def holdout_check(
    orders: pd.DataFrame,
    summary: pd.DataFrame,
    end: pd.Timestamp,
    holdout_weeks: int,
    model: Literal["auto", "bgnbd", "paretonbd"] = "auto",
    discount_rate_annual: float = 0.10,
    freq: Literal["W", "D"] = "W",
) -> HoldoutCheck:
    """Fit the purchase model(s) on the purchases up to ``end - holdout_weeks`` and score the rest.

    Parameters
    ----------
    orders : DataFrame
        Paid orders (as for :func:`omni.value.rfm.rfm_summary`).
    summary : DataFrame
        The summary of the same orders at ``end`` (its first purchase decides whether the
        calibration period holds any purchase).
    end : Timestamp
        Last day of the observation (inclusive).
    holdout_weeks : int
        Length of the holdout.
    model : {"auto", "bgnbd", "paretonbd"}
    discount_rate_annual : float
    freq : {"W", "D"}
        Time unit of the summaries.

    Returns
    -------
    HoldoutCheck
        ``skipped="too short"`` when no purchase falls on or before the calibration end.
    """
    cal_end = end - pd.Timedelta(weeks=int(holdout_weeks))
    first = pd.Timestamp(summary["first_purchase"].min()).normalize()
    if first > cal_end:
        return HoldoutCheck(None, cal_end, first, "too short")
    cal = rfm_summary(orders, end, calibration_end=cal_end, freq=freq)
    checker = CLVModel(model=model, freq=freq, discount_rate_annual=discount_rate_annual).fit(cal)
    return HoldoutCheck(checker, cal_end, first, None)
