"""One date against another: key figures of a date and the movement between the RFM classes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from omni.value.clv import MODEL_LABELS
from omni.value.customer import CustomerValue
from omni.value.rfm import SEGMENT_ORDER_EN, SEGMENT_ORDER_ZH
from omni.value.tables import top_share

__all__ = ["NEW_CUSTOMER", "migration_shares", "month_figures", "segment_migration"]

def _require(df: pd.DataFrame, cols: list[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {missing}; has {list(df.columns)}")


#: Row of :func:`segment_migration` for customers who were not customers at the earlier date.
NEW_CUSTOMER = "new customer"


def month_figures(value: CustomerValue, top: float = 0.10) -> dict[str, Any]:
    """Key figures of customer value at a month end (the month of ``value.end``).

    Returns
    -------
    dict
        ``customers``, ``new_customers`` (first purchase in the month), ``active_customers``
        (a purchase in the month), ``orders_month`` and ``revenue_month`` (paid orders of the
        month), ``repeat_share`` (customers with 2+ purchase days), ``clv_total``, ``clv_mean``,
        ``top_share`` (of the CLV, top ``top`` of customers), ``at_risk_share`` (share of
        the repeat buyers with P(alive) < 0.5: BG/NBD gives one-time buyers P(alive) = 1),
        ``important_value_share`` (重要价值 customers), ``expected_purchases_90d``,
        ``holdout_error_pct`` (NaN without a check), ``model``.
    """
    start = value.end.to_period("M").start_time
    s, p = value.summary, value.predictions
    paid = value.orders  # paid orders with a usable amount and a OneID, before as_of
    t = pd.to_datetime(paid["order_time"])
    m = paid[((t >= start) & (t < value.end + pd.Timedelta(days=1))).to_numpy()]
    rep = (s["frequency"] > 0).to_numpy()
    err = np.nan
    if value.check is not None:
        err = float(value.check.model_choice_["scores"][value.check.model_]["total_error_pct"])
    return {
        "customers": int(len(s)),
        "new_customers": int((s["first_purchase"] >= start).sum()),
        "active_customers": int((s["last_purchase"] >= start).sum()),
        "orders_month": int(len(m)),
        "revenue_month": float(pd.to_numeric(m["amount"]).sum()),
        "repeat_share": float((s["frequency"] > 0).mean()),
        "clv_total": float(p[value.clv_col].sum()),
        "clv_mean": float(p[value.clv_col].mean()),
        "top_share": top_share(p[value.clv_col], top),
        "at_risk_share": float((p["p_alive"][rep] < 0.5).mean()) if rep.any() else np.nan,
        "important_value_share": float((value.segments["segment"] == SEGMENT_ORDER_ZH[0]).mean()),
        "expected_purchases_90d": float(p["expected_purchases_90d"].sum()),
        "holdout_error_pct": err,
        "model": MODEL_LABELS[value.model.model_],
    }


def segment_migration(
    previous: pd.DataFrame, current: pd.DataFrame, english: bool = True
) -> pd.DataFrame:
    """Customers by RFM class at the previous and at this month end.

    Parameters
    ----------
    previous, current : DataFrame
        :func:`omni.value.rfm.rfm_segments` outputs (index oneid). Customers only in ``current`` are
        counted in the row ``"new customer"``.
    english : bool
        Label rows and columns with ``segment_en`` (for plots) instead of the Chinese names.

    Returns
    -------
    DataFrame
        Counts: rows = class a month ago (+ new customers), columns = class now, all 8 classes.
    """
    col = "segment_en" if english else "segment"
    order = SEGMENT_ORDER_EN if english else SEGMENT_ORDER_ZH
    _require(previous, [col], "previous")
    _require(current, [col], "current")
    then = previous[col].astype(object).reindex(current.index).fillna(NEW_CUSTOMER)
    now = current[col].astype(object)
    tab = pd.crosstab(then, now)
    return tab.reindex(index=[*order, NEW_CUSTOMER], columns=order, fill_value=0).astype("int64")


def migration_shares(migration: pd.DataFrame, k: int = 10) -> pd.DataFrame:
    """Row shares (0-1) of :func:`segment_migration`; cells of fewer than ``k`` customers are NaN."""
    shares = migration.div(migration.sum(axis=1).where(lambda x: x > 0), axis=0)
    return shares.where(migration >= k)
