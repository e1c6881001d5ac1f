"""Tests of omni.value.rfm: lifetimes-compatible summaries on CDNOW, status handling, scores, segments."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from omni.value.clv import cdnow_path
from omni.value.rfm import (
    SEGMENTS,
    read_cdnow,
    rfm_scores,
    rfm_segment_summary,
    rfm_segments,
    rfm_summary,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return read_cdnow(cdnow_path("sample"))


def _orders(rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["oneid", "order_time", "amount", "status"])
    df["order_time"] = pd.to_datetime(df["order_time"])
    return df


# ---------------------------------------------------------------------------------- CDNOW


def test_read_cdnow_sample_and_master() -> None:
    s = read_cdnow(cdnow_path("sample"))
    assert list(s.columns[:8]) == [
        "order_key",
        "source",
        "channel",
        "oneid",
        "order_time",
        "amount",
        "status",
        "category",
    ]
    assert len(s) == 6919 and s["oneid"].nunique() == 2357
    first = s.iloc[0]
    assert first["oneid"] == "0001" and first["order_time"] == pd.Timestamp("1997-01-01")
    assert first["amount"] == pytest.approx(29.33) and first["n_items"] == 2
    m = read_cdnow(cdnow_path("master"))  # has a header line
    assert len(m) == 69659 and m["oneid"].nunique() == 23570
    assert m["order_time"].min() == pd.Timestamp("1997-01-01")
    assert m["order_time"].max() == pd.Timestamp("1998-06-30")


def test_read_cdnow_rejects_bad_file(tmp_path) -> None:
    p = tmp_path / "bad.txt"
    p.write_text("1 2 3\n4 5 6\n")
    with pytest.raises(ValueError, match="4 or 5"):
        read_cdnow(p)
    p.write_text("0001 19971301 1 10.0\n")
    with pytest.raises(ValueError, match="YYYYMMDD"):
        read_cdnow(p)


@pytest.mark.parametrize(
    ("freq", "period", "lt_freq", "mult"),
    [("D", "D", "D", 1), ("W", "W", "W", 1), ("W", "D", "D", 7)],
)
def test_summary_reproduces_lifetimes(cdnow, freq, period, lt_freq, mult) -> None:
    ours = rfm_summary(cdnow, "1998-06-30", freq=freq, period=period)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = summary_data_from_transaction_data(
            cdnow,
            "oneid",
            "order_time",
            monetary_value_col="amount",
            observation_period_end="1998-06-30",
            freq=lt_freq,
            freq_multiplier=mult,
        ).sort_index()
    assert list(ours.index) == list(ref.index)
    for col in ["frequency", "recency", "T", "monetary_value"]:
        np.testing.assert_allclose(ours[col].to_numpy(float), ref[col].to_numpy(), atol=1e-9)


@pytest.mark.parametrize(
    ("freq", "period", "lt_freq", "mult"), [("W", "D", "D", 7), ("W", "W", "W", 1)]
)
def test_calibration_holdout_reproduces_lifetimes(cdnow, freq, period, lt_freq, mult) -> None:
    ours = rfm_summary(cdnow, "1998-06-30", calibration_end="1997-09-30", freq=freq, period=period)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = calibration_and_holdout_data(
            cdnow,
            "oneid",
            "order_time",
            "1997-09-30",
            "1998-06-30",
            monetary_value_col="amount",
            freq=lt_freq,
            freq_multiplier=mult,
        ).sort_index()
    assert list(ours.index) == list(ref.index)
    for col in ["frequency", "recency", "T", "monetary_value"]:
        np.testing.assert_allclose(ours[col].to_numpy(float), ref[f"{col}_cal"], atol=1e-9)
    for col in ["frequency_holdout", "duration_holdout"]:
        np.testing.assert_allclose(ours[col].to_numpy(float), ref[col], atol=1e-9)


def test_holdout_monetary_is_mean_per_purchase_day(cdnow) -> None:
    ours = rfm_summary(cdnow, "1998-06-30", calibration_end="1997-09-30", freq="W")
    hold = cdnow[cdnow["order_time"] > "1997-09-30"]
    per_day = hold.groupby(["oneid", "order_time"])["amount"].sum().groupby(level=0).mean()
    per_txn = hold.groupby("oneid")["amount"].mean()
    got = ours["monetary_value_holdout"]
    np.testing.assert_allclose(got.loc[per_day.index], per_day, rtol=1e-12)
    assert (got.drop(per_day.index) == 0).all()
    # lifetimes averages raw transactions: equal where nobody bought twice on a holdout day
    single = hold.groupby(["oneid", "order_time"]).size().groupby(level=0).max() == 1
    np.testing.assert_allclose(got.loc[single[single].index], per_txn.loc[single[single].index])
    assert (~single).sum() > 0  # the deviation is real on CDNOW
    np.testing.assert_allclose(
        ours["revenue_holdout"].loc[per_day.index],
        hold.groupby("oneid")["amount"].sum().loc[per_day.index],
    )


def test_cdnow_published_counts_and_summary(cdnow) -> None:
    s = rfm_summary(cdnow, "1998-06-30", calibration_end="1997-09-30", freq="W")
    assert len(s) == 2357
    assert s["frequency"].sum() == 2457  # calibration repeat transactions
    assert s["frequency_holdout"].sum() == 1882
    assert (s["frequency"] > 0).sum() == 946
    assert s["duration_holdout"].iloc[0] == pytest.approx(39.0)
    # the summary lifetimes ships (built by Fader & Hardie, 2 decimals)
    pub = pd.read_csv(cdnow_path().parent / "cdnow_customers_summary_with_transactions.csv")
    np.testing.assert_array_equal(s["frequency"].to_numpy(), pub["x"].to_numpy())
    np.testing.assert_allclose(s["recency"], pub["t_x"], atol=0.005 + 1e-9)
    np.testing.assert_allclose(s["T"], pub["T"], atol=0.005 + 1e-9)
    np.testing.assert_allclose(s["monetary_value"], pub["zbar"], atol=0.005 + 1e-9)


# ---------------------------------------------------------------------------------- semantics


def test_same_day_merging_and_order_facts() -> None:
    o = _orders(
        [
            ("a", "2024-01-01 09:00", 10.0, "paid"),
            ("a", "2024-01-01 18:00", 5.0, "paid"),  # same day: one purchase occasion of 15
            ("a", "2024-01-08 12:00", 20.0, "paid"),
            ("a", "2024-01-10 12:00", 30.0, "paid"),
            ("b", "2024-01-29 10:00", 7.0, "paid"),
        ]
    )
    s = rfm_summary(o, "2024-01-31", freq="D")
    a, b = s.loc["a"], s.loc["b"]
    assert a["frequency"] == 2 and a["recency"] == 9 and a["T"] == 30
    assert a["monetary_value"] == pytest.approx(25.0)  # mean of repeat days 20 and 30
    assert a["n_orders"] == 4 and a["revenue"] == pytest.approx(65.0)
    assert a["days_since_last"] == 21
    assert a["first_purchase"] == pd.Timestamp("2024-01-01 09:00")
    assert a["last_purchase"] == pd.Timestamp("2024-01-10 12:00")
    assert b["frequency"] == 0 and b["recency"] == 0 and b["T"] == 2 and b["monetary_value"] == 0
    w = rfm_summary(o, "2024-01-31", freq="W", period="W")  # 2024-01-01 is a Monday
    assert w.loc["a", "frequency"] == 1 and w.loc["a", "recency"] == 1 and w.loc["a", "T"] == 4
    assert w.loc["a", "monetary_value"] == pytest.approx(50.0)  # week 2 = 20 + 30


def test_refunds_cancellations_and_drops() -> None:
    o = _orders(
        [
            ("a", "2024-01-01", 100.0, "paid"),
            ("a", "2024-01-05", 40.0, "refunded"),
            ("a", "2024-01-09", 60.0, "paid"),
            ("a", "2024-01-12", 999.0, "cancelled"),
            ("b", "2024-01-03", 50.0, "refunded"),
            (None, "2024-01-04", 10.0, "paid"),
            ("c", "2024-03-01", 10.0, "paid"),  # after the observation end
        ]
    )
    ex = rfm_summary(o, "2024-01-31")
    assert list(ex.index) == ["a"]
    assert ex.loc["a", "frequency"] == 1 and ex.loc["a", "n_orders"] == 2
    assert ex.loc["a", "revenue"] == pytest.approx(160.0)
    assert ex.loc["a", "monetary_value"] == pytest.approx(60.0)
    assert ex.attrs["dropped_rows"] == {
        "cancelled": 1,
        "refunded": 2,
        "other_status": 0,
        "no_customer": 1,
        "after_observation_end": 1,
    }
    net = rfm_summary(o, "2024-01-31", returns="net")
    assert list(net.index) == ["a", "b"]
    assert net.loc["a", "frequency"] == 2 and net.loc["a", "n_orders"] == 3
    assert net.loc["a", "revenue"] == pytest.approx(160.0)  # refund netted to 0
    assert net.loc["a", "monetary_value"] == pytest.approx(30.0)  # (0 + 60) / 2
    assert net.loc["b", "revenue"] == 0.0 and net.loc["b", "frequency"] == 0
    # status matching is case/space-insensitive and other statuses are dropped
    o2 = o.assign(status=o["status"].str.upper() + " ")
    assert rfm_summary(o2, "2024-01-31").loc["a", "n_orders"] == 2
    o3 = o.assign(status=o["status"].replace("paid", "shipped"))
    with pytest.raises(ValueError, match="no purchases"):
        rfm_summary(o3, "2024-01-31")
    s3 = rfm_summary(o3, "2024-01-31", include_status=("shipped",))
    assert s3.loc["a", "n_orders"] == 2


def test_calibration_window_and_holdout() -> None:
    o = _orders(
        [
            ("a", "2024-01-01", 10.0, "paid"),
            ("a", "2024-01-10", 20.0, "paid"),
            ("a", "2024-02-05", 30.0, "paid"),
            ("a", "2024-02-05", 6.0, "paid"),
            ("a", "2024-02-20", 40.0, "paid"),
            ("b", "2024-02-10", 99.0, "paid"),  # first purchase in the holdout: not in the summary
        ]
    )
    s = rfm_summary(o, "2024-02-29", calibration_end="2024-01-31", freq="D")
    assert list(s.index) == ["a"]
    a = s.loc["a"]
    assert a["frequency"] == 1 and a["T"] == 30 and a["days_since_last"] == 21
    assert a["frequency_holdout"] == 2
    assert a["monetary_value_holdout"] == pytest.approx((36.0 + 40.0) / 2)
    assert a["revenue_holdout"] == pytest.approx(76.0)
    assert a["duration_holdout"] == 29


def test_string_times_are_parsed_and_errors_are_clear() -> None:
    o = _orders([("a", "2024-01-01", 10.0, "paid"), ("a", "2024-01-03", 5.0, "paid")])
    o_str = o.assign(order_time=o["order_time"].astype(str))
    assert rfm_summary(o_str, "2024-01-31").loc["a", "frequency"] == 1
    with pytest.raises(ValueError, match="missing required column"):
        rfm_summary(o.drop(columns="amount"), "2024-01-31")
    with pytest.raises(ValueError, match="tz-aware"):
        rfm_summary(o.assign(order_time=o["order_time"].dt.tz_localize("UTC")), "2024-01-31")
    bad = o.copy()
    bad.loc[1, "amount"] = -3.0
    with pytest.raises(ValueError, match=r"negative at row 1"):
        rfm_summary(bad, "2024-01-31")
    bad = o.copy()
    bad.loc[1, "amount"] = np.nan
    with pytest.raises(ValueError, match=r"'amount' is missing or not numeric at row 1"):
        rfm_summary(bad, "2024-01-31")
    bad = o_str.copy()
    bad.loc[1, "order_time"] = "not a date"
    with pytest.raises(ValueError, match=r"unparsable datetime at row 1"):
        rfm_summary(bad, "2024-01-31")
    bad = o.copy()
    bad.loc[0, "order_time"] = pd.NaT
    with pytest.raises(ValueError, match=r"null at row 0"):
        rfm_summary(bad, "2024-01-31")
    with pytest.raises(ValueError, match="before observation_end"):
        rfm_summary(o, "2024-01-31", calibration_end="2024-01-31")
    with pytest.raises(ValueError, match="cancelled"):
        rfm_summary(o, "2024-01-31", include_status=("paid", "cancelled"))
    with pytest.raises(ValueError, match="freq"):
        rfm_summary(o, "2024-01-31", freq="M")
    with pytest.raises(ValueError, match="returns"):
        rfm_summary(o, "2024-01-31", returns="keep")
    with pytest.raises(ValueError, match="not a date"):
        rfm_summary(o, "yesterday-ish")


# ---------------------------------------------------------------------------------- scores


def test_rfm_scores_quintiles_direction_and_ties() -> None:
    n = 20
    s = pd.DataFrame(
        {
            "days_since_last": np.arange(n)[::-1] * 10,  # last row is the most recent
            "n_orders": np.r_[np.ones(10, int), np.arange(2, 12)],  # ten tied ones
            "revenue": np.linspace(1, 100, n),
        },
        index=[f"c{i:02d}" for i in range(n)],
    )
    sc = rfm_scores(s)
    for col in "RFM":
        assert sc[col].value_counts().sort_index().tolist() == [4] * 5
    assert sc.loc["c19", "R"] == 5 and sc.loc["c00", "R"] == 1
    assert sc.loc["c19", "M"] == 5 and sc.loc["c00", "M"] == 1
    # ties among the ten single buyers are broken by row order: first 4 -> 1, next 4 -> 2, ...
    assert sc["F"].iloc[:10].tolist() == [1, 1, 1, 1, 2, 2, 2, 2, 3, 3]
    assert sc.loc["c19", "rfm_code"] == "555" and sc.loc["c00", "rfm_code"] == "111"
    pd.testing.assert_frame_equal(sc, rfm_scores(s))  # deterministic
    with pytest.raises(ValueError, match="q must be"):
        rfm_scores(s, q=1)
    with pytest.raises(ValueError, match="missing required column"):
        rfm_scores(s.drop(columns="revenue"))


def test_rfm_segments_eight_classes() -> None:
    # one customer per class; thresholds (means): R 50 days, F 3 orders, M 300
    combos = list(SEGMENTS)
    rows = []
    for r_good, f_high, m_high in combos:
        rows.append(
            {
                "days_since_last": 10 if r_good else 90,
                "n_orders": 5 if f_high else 1,
                "revenue": 500.0 if m_high else 100.0,
            }
        )
    s = pd.DataFrame(rows, index=[f"k{i}" for i in range(8)])
    seg = rfm_segments(s)
    assert seg.attrs["thresholds"]["recency_days"] == pytest.approx(50)
    assert seg.attrs["thresholds"]["frequency"] == pytest.approx(3)
    assert seg.attrs["thresholds"]["monetary"] == pytest.approx(300)
    expected_zh = [
        "重要价值",
        "重要保持",
        "重要发展",
        "重要挽留",
        "一般价值",
        "一般保持",
        "一般发展",
        "一般挽留",
    ]
    expected_en = [
        "important value",
        "important retain",
        "important develop",
        "important win-back",
        "general value",
        "general retain",
        "general develop",
        "general win-back",
    ]
    assert seg["segment"].astype(str).tolist() == expected_zh
    assert seg["segment_en"].astype(str).tolist() == expected_en
    summ = rfm_segment_summary(seg)
    assert summ["customers"].tolist() == [1] * 8
    assert summ["customer_share"].sum() == pytest.approx(1.0)
    assert summ["monetary_share"].sum() == pytest.approx(1.0)


def test_rfm_segments_threshold_choice_and_ties() -> None:
    # skewed spend: mean 280, median 100
    s = pd.DataFrame(
        {
            "days_since_last": [5, 5, 5, 5, 100],
            "n_orders": [1, 1, 1, 2, 9],
            "revenue": [50.0, 100.0, 100.0, 150.0, 1000.0],
        }
    )
    mean_seg = rfm_segments(s, "mean")
    med_seg = rfm_segments(s, "median")
    assert mean_seg["m_high"].tolist() == [False, False, False, False, True]
    assert med_seg["m_high"].tolist() == [False, False, False, True, True]
    # values equal to the threshold count as low / bad: median F is 1 -> single buyers F low
    assert med_seg["f_high"].tolist() == [False, False, False, True, True]
    assert med_seg["r_good"].tolist() == [False] * 4 + [False]  # median R = 5: ties are "bad"
    assert str(mean_seg["segment"].iloc[4]) == "重要保持"
    with pytest.raises(ValueError, match="threshold"):
        rfm_segments(s, "mode")
    bad = s.astype({"revenue": object})
    bad.loc[2, "revenue"] = "n/a"
    with pytest.raises(ValueError, match="row 2"):
        rfm_segments(bad)


def test_segments_on_cdnow_cover_everyone(cdnow) -> None:
    s = rfm_summary(cdnow, "1998-06-30")
    seg = rfm_segments(s, "median")
    summ = rfm_segment_summary(seg)
    assert summ["customers"].sum() == 2357
    assert summ["monetary"].sum() == pytest.approx(cdnow["amount"].sum())
    # single buyers are never "F high"
    assert not seg.loc[s["n_orders"] == 1, "f_high"].any()
