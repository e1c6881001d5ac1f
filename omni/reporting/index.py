"""The month's index.html: every notebook's headline numbers, change vs last month, links."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from omni.core import i18n
from omni.core.i18n import month_label, tr
from omni.core.markup import CSP_META, escape_html
from omni.core.month import Month
from omni.reporting.display import _fmt_tile
from omni.reporting.site import SITE_CSS
from omni.reporting.trends import report_series, sparkline_svg, validated

# the words of the run's header block on every report page (omni.reporting.runner.header_html)
i18n.add_terms("zh", {
    "dataset": "数据集", "month": "月份", "seed": "随机种子", "lang": "语言", "data fingerprint": "数据指纹",
    "run date": "运行日期", "versions": "软件版本", "run time": "运行时长",
})

__all__ = ["COMPUTED_NOW", "compare_months", "previous_month", "write_index"]

#: ``previous_from`` of a metric whose previous-month value the analysis computed at this run (no
#: previous report in the output folder); ``"report"`` when it comes from the previous report.
COMPUTED_NOW = "computed now"


def previous_month(month: str) -> str:
    """``YYYY-MM`` of the month before (see :class:`omni.core.Month`)."""
    return str(Month.parse(month).previous)


def _change(cur: Any, prev: Any, better: str | None, fmt: str | None = None) -> str:
    if (not isinstance(cur, (int, float)) or not isinstance(prev, (int, float)) or isinstance(cur, bool)
            or isinstance(prev, bool) or not math.isfinite(cur) or not math.isfinite(prev)):
        return ""
    diff = cur - prev
    if diff == 0:
        return tr("no change", "无变化")
    arrow = "▲" if diff > 0 else "▼"
    good = (diff > 0) == (better == "up") if better in ("up", "down") else None
    color = {True: "#1a7f37", False: "#cf222e", None: "#57606a"}[good]
    rel = f" ({diff / prev:+.1%})" if prev else ""
    # a share (shown in %) changes by percentage points
    size = (f"{abs(diff) * 100:.1f}{tr(' pp', ' 个百分点')}" if fmt and "%" in fmt else f"{abs(diff):,.4g}")
    return f'<span style="color:{color}">{arrow} {size}{rel}</span>'


def compare_months(metrics: dict[str, Any], out_root: Path,
                   order_series: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
    """Give every headline metric its previous-month value and trend (in place; returns ``metrics``).

    The previous month's report in ``out_root`` (its metrics.json) gives ``previous`` where it has
    the figure (``previous_from: "report"``); else the figure's own ``previous``, computed by the
    analysis at this run, stays (``previous_from: "computed now"``). ``trend`` (``months``,
    ``values``, ``source``) is the figure's :func:`omni.reporting.trends.order_series` series where
    one matches it, else the earlier reports' values, the previous month's and this month's.

    Parameters
    ----------
    metrics : dict
        The run's metrics (``month``, ``dataset``, ``notebooks``).
    out_root : Path
        The reports folder.
    order_series : dict, optional
        :func:`omni.reporting.trends.order_series` of the report month.
    """
    month = metrics["month"]
    pm_month = previous_month(month)
    prev_file = out_root / pm_month / "metrics.json"
    prev = None
    if prev_file.exists():
        try:
            prev = json.loads(prev_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            prev = None
    metrics["previous_report"] = pm_month if prev else None
    from_orders = validated(order_series or {}, metrics, month)
    earlier = report_series(out_root, metrics.get("dataset", ""), month)
    for name, nb in metrics["notebooks"].items():
        for key, m in nb["metrics"].items():
            pm = (prev or {}).get("notebooks", {}).get(name, {}).get("metrics", {}).get(key)
            if pm is not None and pm.get("value") is not None:
                m["previous"], m["previous_from"] = pm["value"], "report"
            elif _usable(m.get("previous")):
                m["previous_from"] = COMPUTED_NOW
            else:
                m.pop("previous", None)
                m.pop("previous_from", None)
            if key in from_orders:
                points, source = from_orders[key], "orders"
            else:
                points, source = dict(earlier.get((name, key), {})), "reports"
                if _usable(m.get("previous")) and isinstance(m["previous"], (int, float)):
                    points.setdefault(pm_month, float(m["previous"]))
                if isinstance(m.get("value"), (int, float)) and _usable(m.get("value")):
                    points[month] = float(m["value"])
            pts = sorted(points.items())
            m["trend"] = {"months": [p[0] for p in pts], "values": [p[1] for p in pts], "source": source}
    return metrics


def _usable(x: Any) -> bool:
    if isinstance(x, bool) or x is None:
        return False
    if isinstance(x, float):
        return x == x and abs(x) != float("inf")
    return isinstance(x, (int, str))


def _computed_title() -> str:
    return tr("No previous report in this folder: the previous month's figure was computed by this run's "
              "analysis (on this month's data and OneIDs)",
              "此文件夹中没有上月报告：上月数值由本次运行的分析计算（基于本月数据和 OneID）")


def _trend_note(source: str | None) -> str:
    if source == "orders":
        return tr("from the orders, on this month's OneIDs", "由订单计算，基于本月 OneID")
    return tr("months with a report", "有报告的月份")


def write_index(month_dir: Path, metrics: dict[str, Any], out_root: Path, total_seconds: float,
                lang: str = i18n.DEFAULT_LANG, nav: str = "") -> Path:
    """Write ``index.html`` for a month (in ``lang``), comparing with the previous month's metrics.json if any.

    Parameters
    ----------
    month_dir, out_root : Path
        The month's folder and the reports folder (where the previous month's folder would be).
    metrics : dict
        The run's metrics; a headline metric with a ``section`` (set by
        :func:`omni.reporting.site.build_site`) links its number to that section.
    total_seconds : float
        Run time shown.
    lang : {"en", "zh"}
        The page's language.
    nav : str
        The site's sidebar (:func:`omni.reporting.site.build_site`); none when empty.
    """
    with i18n.using_lang(lang):
        return _write_index(month_dir, metrics, out_root, total_seconds, lang, nav)


def _write_index(month_dir: Path, metrics: dict[str, Any], out_root: Path, total_seconds: float, lang: str,
                 nav: str) -> Path:
    month = metrics["month"]
    if "previous_report" not in metrics:  # not compared yet (the runner compares before writing metrics.json)
        compare_months(metrics, out_root)
    prev = metrics["previous_report"]
    computed_any = False
    sections = []
    for name, nb in metrics["notebooks"].items():
        rows = []
        for key, m in nb["metrics"].items():
            change = _change(m.get("value"), m.get("previous"), m.get("better"), m.get("fmt")) if "previous" in m else ""
            if change and m.get("previous_from") == COMPUTED_NOW:
                computed_any = True
                change += (f' <span class="omni-computed" title="{escape_html(_computed_title())}">'
                           f'{tr("computed now", "本次计算")}</span>')
            trend = m.get("trend") or {}
            spark = sparkline_svg(dict(zip(trend.get("months", []), trend.get("values", []), strict=False)),
                                  m.get("label") or key, _trend_note(trend.get("source")))
            unit = i18n.unit(m.get("unit"))
            shown = escape_html(_fmt_tile(m.get("value"), m.get("fmt"))) + escape_html(unit)
            if m.get("section"):
                shown = (f'<a class="omni-kpi-link" href="{escape_html(m["section"])}" '
                         f'title="{tr("the section this number comes from", "此数字所在的章节")}">{shown}</a>')
            rows.append(f"<tr><td>{escape_html(m.get('label') or key)}</td><td>{shown}</td><td>{change}</td>"
                        f"<td class='omni-trend'>{spark}</td></tr>")
        heads = "".join(f"<th>{h}</th>" for h in (tr("headline", "核心指标"), tr("this month", "本月"),
                                                   tr("vs previous month", "环比上月"), tr("trend", "趋势")))
        table = (f"<table class='omni-table'><thead><tr>{heads}</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
                 if rows else f"<p class='omni-note'>{tr('No headline numbers.', '无核心指标。')}</p>")
        sections.append(
            f"<section><h2><a href='{escape_html(name)}.html'>{escape_html(nb['title'])}</a></h2>"
            f"{table}<p class='omni-note'>{tr('ran in', '运行')} {nb['seconds']:.1f} s · "
            f"<a href='{escape_html(name)}.ipynb'>{tr('executed notebook', '已执行的 notebook')}</a></p></section>"
        )
    prev_m = month_label(previous_month(month))
    prev_note = (tr(f"Compared with the {prev_m} report.", f"与{prev_m}的报告相比。") if prev else
                 tr(f"No report for {prev_m} in this folder: the changes marked “computed now” compare with "
                    f"{prev_m} as this run's analyses computed it (on this month's data and OneIDs); the "
                    "other figures have no previous-month value.",
                    f"此文件夹中没有{prev_m}的报告：标有“本次计算”的环比，是与本次运行按本月数据和 OneID 计算的"
                    f"{prev_m}数值相比；其余指标没有上月数值。") if computed_any else
                 tr(f"No report for {prev_m} in this folder: no month-over-month change shown.",
                    f"此文件夹中没有{prev_m}的报告：不显示环比变化。"))
    intro = tr(
        f"Dataset <b>{escape_html(metrics['dataset'])}</b> · data fingerprint {escape_html(metrics['data_fingerprint'][:16])}"
        f" · seed {escape_html(metrics['seed'])} · total run time {total_seconds:.0f} s. {prev_note}\n"
        "Personal data is masked or pseudonymized throughout; small groups are suppressed.",
        f"数据集 <b>{escape_html(metrics['dataset'])}</b> · 数据指纹 {escape_html(metrics['data_fingerprint'][:16])}"
        f" · 随机种子 {escape_html(metrics['seed'])} · 总运行时长 {total_seconds:.0f} 秒。{prev_note}\n"
        "个人信息全程脱敏或假名化；过小的人群不予显示。",
    )
    heading = tr(f"omni monthly report · {escape_html(month)}", f"omni 全域用户分析月报 · {escape_html(month_label(month))}")
    page = f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">{CSP_META}<title>{tr("omni report", "omni 月报")} {escape_html(month_label(month))}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif; max-width: 960px; margin: 24px auto; color: #24292f; }}
h1 {{ font-size: 24px; }} h2 {{ font-size: 18px; margin-top: 28px; }}
table.omni-table {{ border-collapse: collapse; font-size: 14px; min-width: 560px; }}
table.omni-table th, table.omni-table td {{ padding: 4px 12px; border-bottom: 1px solid #e5e7eb; text-align: right; }}
table.omni-table th:first-child, table.omni-table td:first-child {{ text-align: left; }}
.omni-note {{ color: #57606a; font-size: 13px; }}
.omni-computed {{ color: #57606a; font-size: 11px; border: 1px solid #d0d7de; border-radius: 4px; padding: 0 3px; }}
td.omni-trend {{ width: 100px; }} .omni-spark {{ vertical-align: middle; }}
{SITE_CSS}
</style></head><body{' class="omni-site"' if nav else ""}>
{nav}
<h1>{heading}</h1>
<p class="omni-note">{intro}</p>
{''.join(sections)}
</body></html>
"""
    path = month_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
