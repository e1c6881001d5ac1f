"""RFM summaries, quintile scores and the 8-class CRM segmentation.

Three layers, all plain functions over DataFrames:

* :func:`rfm_summary` turns the unified ``orders`` table into one row per customer with the
  sufficient statistics of the buy-till-you-die models (``frequency``, ``recency``, ``T``,
  ``monetary_value`` in the conventions of *lifetimes*) plus plain RFM facts (first/last purchase,
  order count, revenue, days since the last purchase) and, when a calibration end is given, the
  holdout-period counts used to validate CLV models.
* :func:`rfm_scores` gives R, F, M quintile scores (1-5) and the ``rfm_code`` ("545").
* :func:`rfm_segments` applies the Chinese CRM 8-class scheme (重要价值 ... 一般挽留).

:func:`read_cdnow` adapts the CDNOW files shipped with *lifetimes* to the orders layout so the
published CDNOW analyses can be reproduced through the same code path as real data.

See ``docs/clv.md`` for definitions, the treatment of refunds and cancellations, and known caveats.
"""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "SEGMENTS",
    "read_cdnow",
    "rfm_scores",
    "rfm_segment_summary",
    "rfm_segments",
    "rfm_summary",
]

_UNIT_DAYS = {"D": 1.0, "W": 7.0}

#: The 8-class scheme: (R good, F high, M high) -> (Chinese label, English label).
#: R good = fewer days since the last purchase than the threshold; F high / M high = more
#: purchases / more spend than the threshold.
SEGMENTS: dict[tuple[bool, bool, bool], tuple[str, str]] = {
    (True, True, True): ("重要价值", "important value"),
    (False, True, True): ("重要保持", "important retain"),
    (True, False, True): ("重要发展", "important develop"),
    (False, False, True): ("重要挽留", "important win-back"),
    (True, True, False): ("一般价值", "general value"),
    (False, True, False): ("一般保持", "general retain"),
    (True, False, False): ("一般发展", "general develop"),
    (False, False, False): ("一般挽留", "general win-back"),
}
SEGMENT_ORDER_ZH = [v[0] for v in SEGMENTS.values()]
SEGMENT_ORDER_EN = [v[1] for v in SEGMENTS.values()]


# --------------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------------


def _require_columns(df: pd.DataFrame, cols: Iterable[str | None], what: str) -> None:
    missing = [c for c in cols if c is not None and c not in df.columns]
    if missing:
        raise ValueError(f"{what} is missing required column(s) {missing}; has {list(df.columns)}")


def _first_bad(index: pd.Index, mask: np.ndarray) -> object:
    return index[np.flatnonzero(mask)[0]]


def _to_day(value: object, name: str) -> int:
    """A date-like scalar -> integer day number (days since 1970-01-01)."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}={value!r} is not a date") from exc
    if ts is pd.NaT or pd.isna(ts):
        raise ValueError(f"{name} must be a date, got {value!r}")
    if ts.tzinfo is not None:
        raise ValueError(f"{name} must be tz-naive local time, got {ts}")
    return int(ts.normalize().value // 86_400_000_000_000)


def _day_to_date(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def _period_start(day: np.ndarray, period: str) -> np.ndarray:
    """Start day of the merging period: the day itself, or the Monday of its week."""
    if period == "D":
        return day
    # 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays (pandas' W-SUN periods).
    return day - (day + 3) % 7


def _order_times(orders: pd.DataFrame, time_col: str) -> pd.Series:
    t = orders[time_col]
    if isinstance(t.dtype, pd.DatetimeTZDtype):
        raise ValueError(
            f"column {time_col!r} is tz-aware ({t.dtype}); the orders table holds tz-naive local "
            "time (convert with .dt.tz_convert(<dataset tz>).dt.tz_localize(None))"
        )
    if not pd.api.types.is_datetime64_any_dtype(t):
        parsed = pd.to_datetime(t, errors="coerce")
        bad = parsed.isna().to_numpy() & t.notna().to_numpy()
        if bad.any():
            row = _first_bad(orders.index, bad)
            raise ValueError(f"column {time_col!r} has an unparsable datetime at row {row!r}")
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            raise ValueError(f"column {time_col!r} holds tz-aware timestamps; expected tz-naive")
        t = parsed
    return t


# --------------------------------------------------------------------------------------------
# rfm_summary
# --------------------------------------------------------------------------------------------


def _filter_orders(
    orders: pd.DataFrame,
    customer_col: str,
    time_col: str,
    value_col: str,
    status_col: str | None,
    include_status: tuple[str, ...],
    returns: str,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Keep purchase rows; return (rows with columns c, t, v) and drop counts."""
    dropped: dict[str, int] = {}
    keep = np.ones(len(orders), dtype=bool)
    value = pd.to_numeric(orders[value_col], errors="coerce").to_numpy(dtype="float64")
    refunded = np.zeros(len(orders), dtype=bool)
    if status_col is not None:
        # normalise the few distinct status values, not every row
        codes, uniq = pd.factorize(orders[status_col], use_na_sentinel=True)
        norm = pd.Series(np.asarray(uniq, dtype=object)).astype("string").str.strip().str.lower()
        norm = norm.fillna("").to_numpy(dtype=object)

        def status_is(values: Iterable[str]) -> np.ndarray:
            hit = np.isin(norm, list(values))
            return np.append(hit, False)[codes]  # code -1 (missing) -> False

        is_cancelled = status_is(["cancelled"])
        refunded = status_is(["refunded"])
        is_included = status_is(include_status)
        dropped["cancelled"] = int(is_cancelled.sum())
        if returns == "exclude":
            dropped["refunded"] = int(refunded.sum())
            keep = is_included
        else:  # "net": refunded orders stay as purchase occasions with zero net value
            keep = is_included | refunded
        dropped["other_status"] = int((~is_included & ~refunded & ~is_cancelled).sum())
    cust_null = orders[customer_col].isna().to_numpy()
    dropped["no_customer"] = int((keep & cust_null).sum())
    keep &= ~cust_null

    times = _order_times(orders, time_col)
    t_null = times.isna().to_numpy()
    if (keep & t_null).any():
        row = _first_bad(orders.index, keep & t_null)
        raise ValueError(f"column {time_col!r} is null at row {row!r}")
    bad_v = (
        keep & ~refunded & ~np.isfinite(value) if returns == "net" else keep & ~np.isfinite(value)
    )
    if bad_v.any():
        row = _first_bad(orders.index, bad_v)
        raise ValueError(f"column {value_col!r} is missing or not numeric at row {row!r}")
    neg = keep & np.isfinite(value) & (value < 0)
    if neg.any():
        row = _first_bad(orders.index, neg)
        raise ValueError(
            f"column {value_col!r} is negative at row {row!r}; refunds are expressed by "
            f"{status_col!r}='refunded' on the order, not by negative amounts"
        )
    if returns == "net":
        value = np.where(refunded, 0.0, value)
    rows = pd.DataFrame(
        {
            "c": orders[customer_col].to_numpy()[keep],
            "t": times.to_numpy()[keep],
            "v": value[keep],
        }
    )
    return rows, dropped


def _segments(*keys: np.ndarray) -> np.ndarray:
    """Start positions of runs of equal keys in sorted arrays."""
    change = np.zeros(len(keys[0]), dtype=bool)
    change[0] = True
    for k in keys:
        change[1:] |= k[1:] != k[:-1]
    return np.flatnonzero(change)


def _factorize_sorted(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """pd.factorize with sorted uniques; strings are sorted as fixed-width unicode (fast)."""
    codes, uniques = pd.factorize(values, sort=False)
    u = np.asarray(uniques)
    if u.dtype.kind in "iufMm":
        order = np.argsort(u, kind="stable")
    else:
        order = np.argsort(u.astype(str), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[codes], uniques.take(order)  # keeps the id dtype (e.g. string)


def _sort_order(codes: np.ndarray, pstart: np.ndarray) -> np.ndarray:
    """Row order by (customer code, period start): one argsort of a combined int64 key."""
    p0 = pstart - pstart.min()
    return np.argsort(codes.astype("int64") * (int(p0.max()) + 1) + p0)


def _customer_stats(
    codes: np.ndarray, day: np.ndarray, t: np.ndarray, v: np.ndarray, period: str
) -> pd.DataFrame:
    """Per customer code: period-merged frequency statistics and plain order facts.

    One lexsort by (customer, period), then run-length reductions (``np.*.reduceat``).
    """
    pstart = _period_start(day, period)
    order = _sort_order(codes, pstart)
    c, p, d, vv = codes[order], pstart[order], day[order], v[order]
    tt = t[order].astype("datetime64[ns]").astype("int64")
    per = _segments(c, p)  # first row of each (customer, period)
    per_val = np.add.reduceat(vv, per)
    per_c = c[per]
    cust_rows = _segments(c)  # first row of each customer
    cust_per = _segments(per_c)  # first period of each customer (index into per)
    n_periods = np.diff(np.append(cust_per, len(per)))
    last_per = np.append(cust_per[1:], len(per)) - 1
    out = pd.DataFrame(
        {
            "first_p": p[per[cust_per]],
            "last_p": p[per[last_per]],
            "n_periods": n_periods,
            "v_sum": np.add.reduceat(per_val, cust_per),
            "v_first": per_val[cust_per],
            "first_purchase": np.minimum.reduceat(tt, cust_rows).astype("datetime64[ns]"),
            "last_purchase": np.maximum.reduceat(tt, cust_rows).astype("datetime64[ns]"),
            "last_day": np.maximum.reduceat(d, cust_rows),
            "n_orders": np.diff(np.append(cust_rows, len(c))),
            "revenue": np.add.reduceat(vv, cust_rows),
        },
        index=c[cust_rows],
    )
    return out


def _holdout_stats(codes: np.ndarray, day: np.ndarray, v: np.ndarray, period: str) -> pd.DataFrame:
    """Per customer code: number of holdout purchase periods and holdout revenue."""
    if len(codes) == 0:
        return pd.DataFrame({"n": [], "s": []}, index=np.array([], dtype="int64"))
    pstart = _period_start(day, period)
    order = _sort_order(codes, pstart)
    c, p, vv = codes[order], pstart[order], v[order]
    per = _segments(c, p)
    cust = _segments(c)
    n = np.diff(np.append(np.searchsorted(per, cust), len(per)))
    return pd.DataFrame({"n": n, "s": np.add.reduceat(vv, cust)}, index=c[cust])


def _check_summary_args(orders, freq, period, returns, include_status, columns) -> tuple[str, ...]:
    """Validate the options of :func:`rfm_summary`; return the normalized ``include_status``."""
    if freq not in _UNIT_DAYS:
        raise ValueError(f"freq must be 'D' or 'W', got {freq!r}")
    if period not in _UNIT_DAYS:
        raise ValueError(f"period must be 'D' or 'W', got {period!r}")
    if returns not in ("exclude", "net"):
        raise ValueError(f"returns must be 'exclude' or 'net', got {returns!r}")
    include = tuple(str(s).strip().lower() for s in include_status)
    if not include:
        raise ValueError("include_status is empty: no order would count as a purchase")
    for s in ("cancelled", "refunded"):
        if s in include:
            raise ValueError(
                f"include_status must not contain {s!r}: cancelled orders are always excluded and "
                "refunded orders are handled by returns='exclude'|'net'"
            )
    if not isinstance(orders, pd.DataFrame):
        raise ValueError(f"orders must be a DataFrame, got {type(orders).__name__}")
    _require_columns(orders, columns, "orders")
    return include


def _summary_frame(stats: pd.DataFrame, ref_day: int, ref_p: int, unit: float) -> pd.DataFrame:
    """The summary columns of :func:`rfm_summary` from :func:`_customer_stats`."""
    out = pd.DataFrame(index=stats.index)
    out["frequency"] = (stats["n_periods"] - 1).astype("int64")
    out["recency"] = (stats["last_p"] - stats["first_p"]) / unit
    out["T"] = (ref_p - stats["first_p"]) / unit
    repeat = out["frequency"].to_numpy()
    out["monetary_value"] = np.where(
        repeat > 0, (stats["v_sum"] - stats["v_first"]) / np.maximum(repeat, 1), 0.0
    )
    out["first_purchase"] = stats["first_purchase"]
    out["last_purchase"] = stats["last_purchase"]
    out["n_orders"] = stats["n_orders"].astype("int64")
    out["revenue"] = stats["revenue"].astype("float64")
    out["days_since_last"] = (ref_day - stats["last_day"]).astype("int64")
    return out


def _summarize(rows: pd.DataFrame, dropped: dict[str, int], end_day: int, cal_day: int | None,
               calibration_end: object, freq: str, period: str) -> tuple[pd.DataFrame, pd.Index]:
    """The per-customer rows of :func:`rfm_summary` (index: customer codes) and the customer ids."""
    day = rows["t"].to_numpy().astype("datetime64[D]").astype("int64")
    late = day > end_day
    dropped["after_observation_end"] = int(late.sum())
    rows, day = rows.loc[~late], day[~late]
    if rows.empty:
        raise ValueError("no purchases left after filtering status, customer id and dates")

    codes, uniques = _factorize_sorted(rows["c"])
    t = rows["t"].to_numpy()
    v = rows["v"].to_numpy(dtype="float64")
    unit = _UNIT_DAYS[freq]

    ref_day = end_day if cal_day is None else cal_day
    in_cal = day <= ref_day
    if not in_cal.any():
        raise ValueError(f"no purchases on or before calibration_end ({calibration_end})")
    stats = _customer_stats(codes[in_cal], day[in_cal], t[in_cal], v[in_cal], period)
    ref_p = int(_period_start(np.array([ref_day]), period)[0])

    out = _summary_frame(stats, ref_day, ref_p, unit)
    if cal_day is not None:
        hold = ~in_cal
        per = _holdout_stats(codes[hold], day[hold], v[hold], period).reindex(out.index)
        n_h = per["n"].fillna(0).astype("int64")
        s_h = per["s"].fillna(0.0)
        out["frequency_holdout"] = n_h
        out["monetary_value_holdout"] = np.where(n_h > 0, s_h / np.maximum(n_h, 1), 0.0)
        out["revenue_holdout"] = s_h.astype("float64")
        end_p = int(_period_start(np.array([end_day]), period)[0])
        out["duration_holdout"] = float((end_p - ref_p) / unit)

    return out, uniques


def rfm_summary(
    orders: pd.DataFrame,
    observation_end: object,
    calibration_end: object | None = None,
    freq: Literal["D", "W"] = "D",
    customer_col: str = "oneid",
    time_col: str = "order_time",
    value_col: str = "amount",
    status_col: str | None = "status",
    include_status: Iterable[str] = ("paid",),
    returns: Literal["exclude", "net"] = "exclude",
    period: Literal["D", "W"] = "D",
) -> pd.DataFrame:
    """Per-customer RFM and buy-till-you-die summary of an orders table.

    Purchases falling in the same *period* (by default the same calendar day) are merged into one
    purchase occasion whose value is the sum of the orders (the convention of Fader, Hardie & Lee
    and of *lifetimes*). Times are measured between period starts, in units of ``freq``.

    Parameters
    ----------
    orders : DataFrame
        The unified ``orders`` table (``order_key, source, channel, oneid, order_time, amount,
        status, category``); only the customer, time, value and status columns are used.
    observation_end : date-like
        Last day of the observation (inclusive). Orders after it are ignored.
    calibration_end : date-like, optional
        Last day of the calibration period (inclusive). When given, ``frequency``/``recency``/
        ``T``/``monetary_value`` and the order facts describe the calibration period only, only
        customers with a calibration purchase are returned, and holdout columns are added for
        ``calibration_end < day <= observation_end``.
    freq : {"D", "W"}
        Time unit of ``recency``, ``T`` and ``duration_holdout``: days, or weeks (= days / 7).
    customer_col, time_col, value_col, status_col : str
        Column names. ``status_col=None`` treats every row as a paid order.
    include_status : iterable of str
        Status values (case-insensitive) that mean a completed purchase. ``"cancelled"`` and
        ``"refunded"`` are not allowed here: cancelled orders are always excluded and refunded
        orders are governed by ``returns``.
    returns : {"exclude", "net"}
        ``"exclude"`` (default): a refunded order is dropped entirely - it is neither a purchase
        occasion nor revenue. ``"net"``: a refunded order is kept as a purchase occasion (the
        customer did come and buy) but its amount is netted to 0 in revenue and monetary value.
    period : {"D", "W"}
        Merging period for same-period purchases: calendar day (default) or ISO week starting on
        Monday. ``freq="W", period="W"`` reproduces lifetimes' ``freq="W"``; ``freq="W",
        period="D"`` reproduces lifetimes' ``freq="D", freq_multiplier=7`` (the published CDNOW
        analyses).

    Returns
    -------
    DataFrame
        Indexed by customer id (sorted), columns:

        - ``frequency``: number of repeat purchase periods (periods with a purchase minus 1);
        - ``recency``: time from the first to the last purchase period;
        - ``T``: time from the first purchase period to the end period (age);
        - ``monetary_value``: mean value of the repeat purchase periods (0 when frequency is 0);
        - ``first_purchase``, ``last_purchase``: timestamps of the first and last order;
        - ``n_orders``: number of orders (not merged); ``revenue``: their total amount;
        - ``days_since_last``: whole days from the last purchase day to the end day;
        - with ``calibration_end``: ``frequency_holdout`` (purchase periods in the holdout),
          ``monetary_value_holdout`` (mean value per holdout purchase period), ``revenue_holdout``
          and ``duration_holdout`` (holdout length in ``freq`` units).

        ``attrs`` records ``freq``, ``period``, the end dates and how many rows were dropped
        (cancelled, refunded, other statuses, no customer id, after the observation end).

    Raises
    ------
    ValueError
        On missing columns, unknown options, a tz-aware or unparsable ``order_time``, a null time,
        missing or negative amounts (naming the first offending row), ``calibration_end`` not
        before ``observation_end``, or no purchases left.

    Notes
    -----
    Monetary value in the holdout is the mean per merged purchase period, consistent with
    ``monetary_value``; lifetimes' ``calibration_and_holdout_data`` averages raw transactions
    instead, so the two differ for customers with several holdout orders on one day.
    """
    include = _check_summary_args(orders, freq, period, returns, include_status,
                                  [customer_col, time_col, value_col, status_col])
    end_day = _to_day(observation_end, "observation_end")
    cal_day = None if calibration_end is None else _to_day(calibration_end, "calibration_end")
    if cal_day is not None and cal_day >= end_day:
        raise ValueError(f"calibration_end ({calibration_end}) must be before observation_end ({observation_end})")
    rows, dropped = _filter_orders(orders, customer_col, time_col, value_col, status_col, include, returns)
    out, uniques = _summarize(rows, dropped, end_day, cal_day, calibration_end, freq, period)
    out.index = pd.Index(uniques[out.index.to_numpy()], name=customer_col)
    out.attrs = {"freq": freq, "period": period, "observation_end": _day_to_date(end_day),
                 "calibration_end": None if cal_day is None else _day_to_date(cal_day), "returns": returns,
                 "include_status": list(include), "dropped_rows": dropped}
    return out


# --------------------------------------------------------------------------------------------
# CDNOW adapter
# --------------------------------------------------------------------------------------------


def read_cdnow(path: str | PathLike[str]) -> pd.DataFrame:
    """Read a CDNOW transaction file into the orders layout.

    Accepts both files shipped with lifetimes: ``CDNOW_master.txt`` (whitespace separated
    ``customer_id date number_of_cds dollar_value``, with or without a header line) and
    ``CDNOW_sample.txt`` (``master_id sample_id date number_of_cds dollar_value``, no header; the
    sample id 1..2357 is the customer id used in the published analyses).

    Parameters
    ----------
    path : path-like
        The CDNOW text file.

    Returns
    -------
    DataFrame
        Columns ``order_key, source, channel, oneid, order_time, amount, status, category,
        n_items`` with ``source = channel = "cdnow"``, ``status = "paid"``, ``category = <NA>``
        and ``oneid`` the zero-padded CDNOW customer id as a string.

    Raises
    ------
    ValueError
        If the file does not have 4 or 5 columns or a date is not ``YYYYMMDD``.
    """
    raw = pd.read_csv(path, sep=r"\s+", header=None, dtype=str, comment=None)
    if raw.shape[0] and not str(raw.iloc[0, -1]).replace(".", "", 1).isdigit():
        raw = raw.iloc[1:]  # header line of CDNOW_master.txt
    if raw.shape[1] == 5:
        raw = raw.iloc[:, 1:]
    elif raw.shape[1] != 4:
        raise ValueError(
            f"{path}: expected 4 or 5 whitespace-separated columns, got {raw.shape[1]}"
        )
    raw.columns = ["oneid", "date", "n_items", "amount"]
    when = pd.to_datetime(raw["date"], format="%Y%m%d", errors="coerce")
    if when.isna().any():
        row = int(np.flatnonzero(when.isna().to_numpy())[0])
        raise ValueError(f"{path}: date {raw['date'].iloc[row]!r} at line {row} is not YYYYMMDD")
    n = len(raw)
    out = pd.DataFrame(
        {
            "order_key": pd.array([f"cdnow:{i}" for i in range(n)], dtype="string"),
            "source": "cdnow",
            "channel": "cdnow",
            "oneid": pd.array(raw["oneid"].to_numpy(), dtype="string"),
            "order_time": when.to_numpy(),
            "amount": pd.to_numeric(raw["amount"]).to_numpy(dtype="float64"),
            "status": "paid",
            "category": pd.array([pd.NA] * n, dtype="string"),
            "n_items": pd.to_numeric(raw["n_items"]).to_numpy(dtype="int64"),
        }
    )
    return out


# --------------------------------------------------------------------------------------------
# scores and segments
# --------------------------------------------------------------------------------------------


def _score(values: pd.Series, q: int, higher_is_better: bool) -> np.ndarray:
    """Quantile score 1..q from ranks; ties broken by order of appearance (method='first')."""
    ranks = values.rank(method="first", ascending=higher_is_better).to_numpy()
    n = len(values)
    return np.ceil(ranks * q / n).astype("int64")


def rfm_scores(
    summary: pd.DataFrame,
    q: int = 5,
    recency_col: str = "days_since_last",
    frequency_col: str = "n_orders",
    monetary_col: str = "revenue",
) -> pd.DataFrame:
    """R, F, M quantile scores (1..q) and the concatenated ``rfm_code``.

    Scores come from ranks: the customer of rank ``k`` (1 = worst) among ``n`` gets
    ``ceil(k * q / n)``, so each score holds ``n / q`` customers (quintiles for ``q=5``). Ties are
    broken deterministically by the order of the rows (``rank(method="first")``; the summary is
    sorted by customer id), so equal customers can receive adjacent scores - with heavily tied
    data (most customers buying once) the F score reflects position, not a real difference.

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`rfm_summary` (or any frame with the three columns).
    q : int
        Number of score levels, 2..9 (so that ``rfm_code`` has one digit per letter).
    recency_col : str
        Days since the last purchase; fewer is better (most recent gets ``q``).
    frequency_col : str
        Number of purchases; more is better.
    monetary_col : str
        Total spend; more is better.

    Returns
    -------
    DataFrame
        Same index, columns ``R``, ``F``, ``M`` (int 1..q) and ``rfm_code`` (e.g. ``"545"``).
    """
    if not isinstance(q, int | np.integer) or not 2 <= q <= 9:
        raise ValueError(f"q must be an integer between 2 and 9, got {q!r}")
    _require_columns(summary, [recency_col, frequency_col, monetary_col], "summary")
    if summary.empty:
        raise ValueError("summary is empty")
    out = pd.DataFrame(index=summary.index)
    for letter, col, better in (
        ("R", recency_col, False),
        ("F", frequency_col, True),
        ("M", monetary_col, True),
    ):
        values = pd.to_numeric(summary[col], errors="coerce")
        if values.isna().any():
            row = _first_bad(summary.index, values.isna().to_numpy())
            raise ValueError(f"column {col!r} is missing or not numeric at row {row!r}")
        out[letter] = _score(values, q, better)
    out["rfm_code"] = out["R"].astype(str) + out["F"].astype(str) + out["M"].astype(str)
    return out


def rfm_segments(
    summary: pd.DataFrame,
    threshold: Literal["mean", "median"] = "mean",
    recency_col: str = "days_since_last",
    frequency_col: str = "n_orders",
    monetary_col: str = "revenue",
) -> pd.DataFrame:
    """Chinese CRM 8-class RFM segmentation (重要价值 / 重要保持 / ... / 一般挽留).

    Each customer's R (days since the last purchase), F (number of purchases) and M (total spend)
    is compared to the mean or median over all customers. R is *good* when strictly below the
    threshold (bought more recently than typical); F and M are *high* when strictly above it.
    A value equal to the threshold counts as bad/low.

    ======  ======  ======  ==========  ====================
    R good  F high  M high  segment     segment_en
    ======  ======  ======  ==========  ====================
    yes     yes     yes     重要价值    important value
    no      yes     yes     重要保持    important retain
    yes     no      yes     重要发展    important develop
    no      no      yes     重要挽留    important win-back
    yes     yes     no      一般价值    general value
    no      yes     no      一般保持    general retain
    yes     no      no      一般发展    general develop
    no      no      no      一般挽留    general win-back
    ======  ======  ======  ==========  ====================

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`rfm_summary` (or any frame with the three columns).
    threshold : {"mean", "median"}
        Statistic each dimension is compared with. With skewed data the median splits customers
        more evenly; with many ties (e.g. most customers buying once) ``F high`` means "more than
        the median", which can be a small group.
    recency_col, frequency_col, monetary_col : str
        Columns for R (days, lower is better), F and M.

    Returns
    -------
    DataFrame
        Same index, columns ``recency_days``, ``frequency``, ``monetary``, ``r_good``,
        ``f_high``, ``m_high`` (bool), ``segment`` and ``segment_en`` (ordered categoricals in the
        table's order). ``attrs["thresholds"]`` holds the three thresholds used.
    """
    if threshold not in ("mean", "median"):
        raise ValueError(f"threshold must be 'mean' or 'median', got {threshold!r}")
    _require_columns(summary, [recency_col, frequency_col, monetary_col], "summary")
    if summary.empty:
        raise ValueError("summary is empty")
    vals = {}
    for col in (recency_col, frequency_col, monetary_col):
        s = pd.to_numeric(summary[col], errors="coerce")
        if s.isna().any():
            row = _first_bad(summary.index, s.isna().to_numpy())
            raise ValueError(f"column {col!r} is missing or not numeric at row {row!r}")
        vals[col] = s.to_numpy(dtype="float64")
    stat = np.mean if threshold == "mean" else np.median
    thr = {col: float(stat(v)) for col, v in vals.items()}
    r_good = vals[recency_col] < thr[recency_col]
    f_high = vals[frequency_col] > thr[frequency_col]
    m_high = vals[monetary_col] > thr[monetary_col]
    # index into SEGMENTS order: M low adds 4, R bad adds 1, F low adds 2
    code = (~m_high) * 4 + (~f_high) * 2 + (~r_good) * 1
    zh = np.array(SEGMENT_ORDER_ZH, dtype=object)[code]
    en = np.array(SEGMENT_ORDER_EN, dtype=object)[code]
    out = pd.DataFrame(
        {
            "recency_days": vals[recency_col],
            "frequency": vals[frequency_col],
            "monetary": vals[monetary_col],
            "r_good": r_good,
            "f_high": f_high,
            "m_high": m_high,
            "segment": pd.Categorical(zh, categories=SEGMENT_ORDER_ZH, ordered=True),
            "segment_en": pd.Categorical(en, categories=SEGMENT_ORDER_EN, ordered=True),
        },
        index=summary.index,
    )
    out.attrs["thresholds"] = {
        "statistic": threshold,
        "recency_days": thr[recency_col],
        "frequency": thr[frequency_col],
        "monetary": thr[monetary_col],
    }
    return out


def rfm_segment_summary(segments: pd.DataFrame) -> pd.DataFrame:
    """Size and value of each of the 8 segments (all 8 rows, empty ones with 0).

    Parameters
    ----------
    segments : DataFrame
        Output of :func:`rfm_segments`.

    Returns
    -------
    DataFrame
        Indexed by ``segment`` (Chinese label, table order) with ``segment_en``, ``customers``,
        ``customer_share``, ``monetary`` (total), ``monetary_share``, ``mean_recency_days``,
        ``mean_frequency``.
    """
    _require_columns(segments, ["segment", "recency_days", "frequency", "monetary"], "segments")
    g = segments.groupby("segment", observed=False)
    out = pd.DataFrame(
        {
            "segment_en": SEGMENT_ORDER_EN,
            "customers": g.size().reindex(SEGMENT_ORDER_ZH).fillna(0).astype("int64").to_numpy(),
            "monetary": g["monetary"].sum().reindex(SEGMENT_ORDER_ZH).fillna(0.0).to_numpy(),
            "mean_recency_days": g["recency_days"].mean().reindex(SEGMENT_ORDER_ZH).to_numpy(),
            "mean_frequency": g["frequency"].mean().reindex(SEGMENT_ORDER_ZH).to_numpy(),
        },
        index=pd.Index(SEGMENT_ORDER_ZH, name="segment"),
    )
    n = out["customers"].sum()
    m = out["monetary"].sum()
    out.insert(2, "customer_share", out["customers"] / n if n else np.nan)
    out.insert(4, "monetary_share", out["monetary"] / m if m else np.nan)
    return out
