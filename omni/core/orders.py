"""What counts as a paid order: the one definition every analysis uses.

An order counts (as revenue, a purchase, a conversion, a campaign outcome) when

* its status, trimmed and lower-cased, is ``paid``: refunded, cancelled, pending and unknown
  statuses never count (the refund policy: a refunded order is not a purchase, whatever it was
  when it was placed);
* its amount is a finite number that is not negative (the loader quarantines other amounts; this
  holds for tables built by hand too).

Anonymous orders (no usable identifier) are a separate question (``identified`` in the value
domain): they are paid orders, but they cannot be tied to a returning customer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PAID", "is_paid", "normalized_status", "paid_order_mask", "usable_amount"]

#: The status of an order that counts.
PAID = "paid"


def normalized_status(status: pd.Series) -> pd.Series:
    """Statuses trimmed and lower-cased (missing stays missing)."""
    return status.astype("string").str.strip().str.lower()


def is_paid(status: pd.Series) -> np.ndarray:
    """Boolean mask of rows whose status is ``paid`` (after trimming and lower-casing).

    Only the distinct statuses are trimmed and lower-cased (a handful against millions of orders).
    """
    codes, uniques = pd.factorize(pd.Series(status), use_na_sentinel=True)
    paid = (normalized_status(pd.Series(uniques)) == PAID).to_numpy(dtype=bool, na_value=False)
    return np.append(paid, False)[codes]  # code -1 (missing) takes the appended False


def usable_amount(amount: pd.Series) -> np.ndarray:
    """Boolean mask of amounts that are finite numbers and not negative."""
    a = pd.to_numeric(amount, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        return np.isfinite(a) & (a >= 0)


def paid_order_mask(orders: pd.DataFrame) -> np.ndarray:
    """Rows of ``orders`` (``status``, ``amount``) that are paid orders with a usable amount.

    Raises
    ------
    ValueError
        If ``orders`` lacks ``status`` or ``amount``.
    """
    missing = [c for c in ("status", "amount") if c not in orders.columns]
    if missing:
        raise ValueError(f"orders has no column(s) {missing}")
    return is_paid(orders["status"]) & usable_amount(orders["amount"])
