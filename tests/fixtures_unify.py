"""A small hand-made world with known golden records, shared by the tests of omni.unify
(tests/oneid/test_unify.py) and of its Spark twin omni.spark.unify (tests/spark/test_spark_unify.py).

Five people (OneID numbers 1-5 = A-E) across CRM, e-commerce and POS orders, web events,
touchpoints and campaign assignments.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

A, B, C, D, E = 1, 2, 3, 4, 5
T = pd.Timestamp
NAT = pd.NaT


def _cat(values, categories):
    return pd.Series(pd.Categorical(values, categories=categories))


def world():
    """Source tables, the resolved records (time order within each table as loaded), the OneID
    number of each record and a spec with the synthetic world's default roles."""
    crm = pd.DataFrame({
        "member_id": pd.array(["M1", "M2", "M3", "M4", "M5", "M6"], dtype="string[pyarrow]"),
        "name": pd.array(["张三", "张三丰", "李四", "李思", "王五", "王小五"], dtype="string[pyarrow]"),
        "gender": _cat(["M", None, "F", "M", "F", "M"], ["F", "M"]),
        "birth_year": pd.array([1990, None, 2001, None, 1960, 1961], dtype="Int64"),
        "city": pd.array(["上海", None, "成都", "海口", "火星", "北京"], dtype="string[pyarrow]"),
        "register_time": [T("2024-01-01"), T("2024-06-01"), NAT, T("2023-01-01"), T("2024-03-01"),
                          T("2024-03-01")],
        "marketing_opt_out": pd.array([True, False, False, None, None, False], dtype="boolean"),
    })
    crm_who = [A, A, C, C, D, D]
    ecom = pd.DataFrame({
        "order_id": pd.array(["E1", "E2", "E3", "E4", "E5"], dtype="string[pyarrow]"),
        "platform": _cat(["tmall", "jd", "tmall", "tmall", "tmall"], ["douyin", "jd", "tmall"]),
        "order_time": [T("2024-02-01"), T("2024-02-01"), T("2024-05-01"), T("2024-07-01"), T("2024-08-01")],
        "amount": [100.0, 50.0, 80.0, 30.0, 60.0],
        "status": _cat(["paid", "paid", "paid", "refunded", "paid"], ["cancelled", "paid", "refunded"]),
        "category": _cat(["beauty", "food", "food", "toys", "beauty"], ["beauty", "food", "toys"]),
        "receiver_name": pd.array(["张三", "赵六", "赵小六", "张三", "张三"], dtype="string[pyarrow]"),
        "city": pd.array(["北京", "成都", None, "北京", "北京"], dtype="string[pyarrow]"),
    })
    ecom_who = [A, B, B, A, A]
    pos = pd.DataFrame({
        "order_id": pd.array(["P1", "P2", "P3"], dtype="string[pyarrow]"),
        "order_time": [T("2024-02-01"), T("2024-03-05"), T("2024-09-01")],
        "amount": [20.0, 10.0, 15.0],
        "status": _cat(["paid", "paid", "cancelled"], ["cancelled", "paid", "refunded"]),
        "category": _cat(["food", "food", "toys"], ["beauty", "food", "toys"]),
    })
    pos_who = [A, D, D]
    web = pd.DataFrame({
        "event_id": pd.array(["W1", "W2", "W3"], dtype="string[pyarrow]"),
        "event_time": [T("2024-04-01"), T("2024-10-01"), T("2023-12-31")],  # not in time order
        "event_type": _cat(["view", "view", "cart"], ["cart", "purchase", "view"]),
        "category": _cat(["beauty", "beauty", "food"], ["beauty", "food", "toys"]),
    })
    web_who = [E, A, E]
    touch = pd.DataFrame({
        "touch_id": pd.array(["T1", "T2"], dtype="string[pyarrow]"),
        "touch_time": [T("2024-01-15"), T("2024-01-15")],
        "channel": _cat(["sms", "feed"], ["feed", "search", "sms"]),
        "touch_type": _cat(["click", "impression"], ["click", "impression"]),
        "campaign_id": pd.array(["C1", None], dtype="string[pyarrow]"),
    })
    touch_who = [E, B]
    assign = pd.DataFrame({
        "assignment_id": pd.array(["G1"], dtype="string[pyarrow]"),
        "campaign_id": pd.array(["C1"], dtype="string[pyarrow]"),
        "arm": _cat(["treatment"], ["control", "treatment"]),
        "assigned_time": [T("2024-01-10")],
        "contacted": pd.array([True], dtype="boolean"),
    })
    assign_who = [C]
    tables = {"crm_members": crm, "ecom_orders": ecom, "pos_orders": pos, "web_events": web,
              "touchpoints": touch, "campaign_assignments": assign}
    keys = {"crm_members": ("member_id", "register_time", crm_who),
            "ecom_orders": ("order_id", "order_time", ecom_who),
            "pos_orders": ("order_id", "order_time", pos_who),
            "web_events": ("event_id", "event_time", web_who),
            "touchpoints": ("touch_id", "touch_time", touch_who),
            "campaign_assignments": ("assignment_id", "assigned_time", assign_who)}
    parts, numbers = [], []
    for name, (key, tcol, who) in keys.items():
        t = tables[name]
        parts.append(pd.DataFrame({"record_key": (name + ":") + t[key].astype("string[pyarrow]"),
                                   "source": name, "row": np.arange(len(t)), "time": t[tcol].to_numpy()}))
        numbers += who
    records = pd.concat(parts, ignore_index=True)
    records["source"] = records["source"].astype("category")
    spec = SimpleNamespace(sources={name: SimpleNamespace(extra={}) for name in tables})
    return tables, records, np.array(numbers, dtype=np.int64), spec
