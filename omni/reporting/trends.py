"""Month-over-month figures and trends for the report index, at little cost.

Three sources, cheapest first:

- the previous month's figures each analysis computed anyway (``Figure.previous``, "computed now");
- earlier reports' ``metrics.json`` in the output folder (the months that have a report);
- a few monthly aggregates of the unified orders, computed in one engine query over the month's
  cached Parquet files (paid orders, buyers, customers, repeat buyers' share per month, on this
  month's OneIDs): :func:`order_series`. A series is used for a headline figure only when its value
  for the report month is the figure itself (:func:`validated`).

:func:`sparkline_svg` draws a series as a small SVG shown as an inline image (no script: the pages'
CSP allows none, and an SVG in an ``<img>`` runs nothing).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from omni.core import i18n
from omni.core.i18n import month_label, tr
from omni.core.markup import escape_html
from omni.core.month import Month

__all__ = ["ORDER_FIGURES", "TREND_MONTHS", "order_series", "report_series", "sparkline_svg", "validated"]

#: Months a trend covers at most (ending with the report month).
TREND_MONTHS = 12
#: Headline figure key -> the :func:`order_series` series it is (value: customers, buyers of the
#: month, repeat share; attribution: conversions = paid orders of the month).
ORDER_FIGURES = {"customers": "customers", "active_customers": "buyers", "repeat_share": "repeat_share",
                 "conversions": "paid_orders"}


def _months(month: str, n: int) -> list[str]:
    m = Month.parse(month)
    out = [m]
    for _ in range(n - 1):
        out.append(out[-1].previous)
    return [str(x) for x in reversed(out)]


def order_series(orders: Path | pd.DataFrame, record_oneid: Path | pd.DataFrame, month: str,
                 n: int = TREND_MONTHS) -> dict[str, dict[str, float]]:
    """Monthly aggregates of the paid orders for the ``n`` months up to ``month``, in one engine query.

    Parameters
    ----------
    orders, record_oneid : Path or DataFrame
        The unified orders (``order_key``, ``oneid``, ``order_time``, ``amount``, ``status``) and the
        record -> OneID map (``record_key``, ``how``) of the report month's resolution: their Parquet
        files (``Resolved.engine_table``), of which only these columns are read.
    month : str
        The report month ``YYYY-MM``.
    n : int
        Months.

    Returns
    -------
    dict
        Series name -> {month: value}: ``paid_orders`` (paid orders with a usable amount placed in
        the month), ``revenue``, ``buyers`` (identified OneIDs with such an order in the month),
        ``customers`` (identified OneIDs with one by the month end), ``repeat_share`` (share of those
        customers with paid orders on two days or more). Identified: the order record has a usable
        identifier (``how`` is not ``"none"``), as in :func:`omni.value.customer.identified_orders`.
    """
    from omni.engine import query

    months = _months(month, n)
    first = Month.parse(months[0]).start
    end = Month.parse(month).end
    sql = """
    WITH anon AS MATERIALIZED (
        SELECT record_key FROM ro
        WHERE how = 'none' AND record_key IS NOT NULL AND source IN (SELECT DISTINCT CAST(source AS VARCHAR) FROM orders)),
    paid AS MATERIALIZED (
        SELECT o.oneid, o.order_time, o.amount,
               (o.oneid IS NOT NULL AND o.order_key NOT IN (SELECT record_key FROM anon)) AS identified
        FROM orders o
        WHERE lower(trim(CAST(o.status AS VARCHAR))) = 'paid' AND isfinite(o.amount) AND o.amount >= 0
          AND o.order_time < ?),
    monthly AS (
        SELECT strftime(order_time, '%Y-%m') AS month, count(*) AS paid_orders, sum(amount) AS revenue,
               count(DISTINCT CASE WHEN identified THEN oneid END) AS buyers
        FROM paid WHERE order_time >= ? GROUP BY 1),
    days AS (
        SELECT oneid, CAST(order_time AS DATE) AS day FROM paid WHERE identified GROUP BY 1, 2),
    firsts AS (
        SELECT oneid, min(day) AS first_day, min(day) FILTER (WHERE rk = 2) AS second_day
        FROM (SELECT oneid, day, row_number() OVER (PARTITION BY oneid ORDER BY day) AS rk FROM days
              QUALIFY rk <= 2)
        GROUP BY 1),
    cum AS (
        SELECT strftime(first_day, '%Y-%m') AS month, count(*) AS new_customers, 0 AS new_repeat FROM firsts GROUP BY 1
        UNION ALL
        SELECT strftime(second_day, '%Y-%m'), 0, count(*) FROM firsts WHERE second_day IS NOT NULL GROUP BY 1)
    SELECT month, sum(new_customers) AS new_customers, sum(new_repeat) AS new_repeat,
           NULL AS paid_orders, NULL AS revenue, NULL AS buyers FROM cum GROUP BY 1
    UNION ALL
    SELECT month, NULL, NULL, paid_orders, revenue, buyers FROM monthly
    """
    got = query(sql, {"orders": orders, "ro": record_oneid}, params=[end, first])
    flows = got[got["paid_orders"].isna()].groupby("month")[["new_customers", "new_repeat"]].sum().sort_index()
    cum = flows.cumsum()
    per = got[got["paid_orders"].notna()].set_index("month")
    out: dict[str, dict[str, float]] = {k: {} for k in ("paid_orders", "revenue", "buyers", "customers", "repeat_share")}
    for m in months:
        if m in per.index:
            out["paid_orders"][m] = int(per.at[m, "paid_orders"])
            out["revenue"][m] = float(per.at[m, "revenue"])
            out["buyers"][m] = int(per.at[m, "buyers"])
        upto = cum[cum.index <= m]
        if len(upto) and upto["new_customers"].iloc[-1] > 0:
            c, r = int(upto["new_customers"].iloc[-1]), int(upto["new_repeat"].iloc[-1])
            out["customers"][m] = c
            out["repeat_share"][m] = r / c
    return out


def validated(series: Mapping[str, Mapping[str, float]], metrics: Mapping[str, Any], month: str) -> dict[str, dict[str, float]]:
    """The order series usable as the trend of a headline figure: figure key -> {month: value}, for
    the keys of :data:`ORDER_FIGURES` whose series' value for ``month`` equals the figure's
    (rounding aside). A series that does not match (another definition) is left out."""
    out = {}
    for nb in metrics.get("notebooks", {}).values():
        for key, m in nb.get("metrics", {}).items():
            s = series.get(ORDER_FIGURES.get(key, ""), {})
            v = m.get("value")
            if month in s and _number(v) and math.isclose(float(s[month]), float(v), rel_tol=1e-9, abs_tol=1e-9):
                out[key] = dict(s)
    return out


def report_series(out_root: Path, dataset: str, month: str, n: int = TREND_MONTHS) -> dict[tuple[str, str], dict[str, float]]:
    """Earlier reports' figures: (notebook, key) -> {month: value}, from the ``metrics.json`` of the
    months before ``month`` (within ``n`` months) in ``out_root`` made on ``dataset``; a report's
    previous-month figure computed at its run counts for that month where it has no report."""
    months = set(_months(month, n)[:-1])
    found: dict[tuple[str, str], dict[str, float]] = {}
    computed: dict[tuple[str, str], dict[str, float]] = {}
    for f in sorted(out_root.glob("*/metrics.json")) if out_root.is_dir() else []:
        if f.parent.name not in months:
            continue
        try:
            got = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if got.get("dataset") != dataset or got.get("month") != f.parent.name:
            continue
        prev = str(Month.parse(got["month"]).previous)
        for name, nb in got.get("notebooks", {}).items():
            for key, m in nb.get("metrics", {}).items():
                if _number(m.get("value")):
                    found.setdefault((name, key), {})[got["month"]] = float(m["value"])
                if m.get("previous_from") == "computed now" and _number(m.get("previous")) and prev in months:
                    computed.setdefault((name, key), {})[prev] = float(m["previous"])
    for k, s in computed.items():
        for m, v in s.items():
            found.setdefault(k, {}).setdefault(m, v)
    return found


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def sparkline_svg(points: Mapping[str, float], label: str, note: str = "", width: int = 96, height: int = 22) -> str:
    """A small sparkline of ``points`` (month -> value, drawn in month order), the last point marked:
    an SVG drawn here, shown as an inline ``<img>`` (a ``data:`` URI, which the pages' CSP allows; an
    SVG in an image runs nothing). Its title (the tooltip) and alt text name ``label``, the months
    covered and ``note``. Empty for fewer than 3 points.

    All text is escaped, in the SVG and in the tag.
    """
    pts = sorted((m, float(v)) for m, v in points.items() if _number(v))
    if len(pts) < 3:
        return ""
    vals = [v for _, v in pts]
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0
    pad = 2.0
    xs = [pad + i * (width - 2 * pad) / (len(pts) - 1) for i in range(len(pts))]
    ys = [height - pad - (v - lo) / span * (height - 2 * pad) if hi > lo else height / 2 for v in vals]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    first, last = month_label(pts[0][0]), month_label(pts[-1][0])
    title = tr(f"{label}: {len(pts)} months, {first} to {last}", f"{label}：{len(pts)} 个月，{first} 至 {last}")
    if note:
        title += f" ({note})" if i18n.current_lang() != "zh" else f"（{note}）"
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
           f'<title>{escape_html(title)}</title>'
           f'<polyline fill="none" stroke="#57606a" stroke-width="1.5" points="{path}"/>'
           f'<circle cx="{xs[-1]:.1f}" cy="{ys[-1]:.1f}" r="2" fill="#0969da"/></svg>')
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (f'<img class="omni-spark" width="{width}" height="{height}" src="{uri}" '
            f'alt="{escape_html(title)}" title="{escape_html(title)}">')
