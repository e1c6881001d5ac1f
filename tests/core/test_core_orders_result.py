import numpy as np
import pandas as pd
import pytest

from omni.core import Month
from omni.core.orders import paid_order_mask
from omni.core.result import Figure, MonthResult


def test_paid_orders_one_rule():
    orders = pd.DataFrame({
        "status": [" Paid", "paid", "PAID", "refunded", "cancelled", None, "paid", "paid", "paid"],
        "amount": [10.0, 0.0, 5.0, 10.0, 10.0, 10.0, -1.0, np.inf, np.nan],
    })
    assert paid_order_mask(orders).tolist() == [True, True, True, False, False, False, False, False, False]
    with pytest.raises(ValueError, match="amount"):
        paid_order_mask(orders[["status"]])


class _R(MonthResult):
    def figures_list(self):
        t = self.tables["x"]
        return [Figure("n", "rows", len(t), better="up"), Figure("top", "top row", str(t.iloc[0, 0]))]


def test_result_compare_uses_numeric_figures_and_labels():
    cur = _R(Month.parse("2026-10"), tables={"x": pd.DataFrame({"a": ["b", "c", "d"]})})
    prev = _R(Month.parse("2026-09"), tables={"x": pd.DataFrame({"a": ["b"]})})
    cmp = cur.compare(prev)
    assert cmp["figure"].tolist() == ["rows"]
    assert cmp.loc[0, "change"] == 2 and cmp.loc[0, "relative_change"] == 2.0
    assert cur.compare(None).loc[0, "previous_month"] is None
    assert cur.figures() == {"n": 3, "top": "b"}
    assert Figure("k", "l", np.int64(3)).as_dict()["value"] == 3
    assert type(Figure("k", "l", np.int64(3)).as_dict()["value"]) is int
