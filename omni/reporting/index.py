"""The month's index.html: every notebook's headline numbers, change vs last month, links."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from omni.core import i18n
from omni.core.i18n import month_label, tr
from omni.core.markup import CSP_META, escape_html
from omni.core.month import Month
from omni.reporting.display import _fmt_tile
from omni.reporting.site import SITE_CSS

# the words of the run's header block on every report page (omni.reporting.runner.header_html)
i18n.add_terms("zh", {
    "dataset": "数据集", "month": "月份", "seed": "随机种子", "lang": "语言", "data fingerprint": "数据指纹",
    "run date": "运行日期", "versions": "软件版本", "run time": "运行时长",
})

__all__ = ["previous_month", "write_index"]


def previous_month(month: str) -> str:
    """``YYYY-MM`` of the month before (see :class:`omni.core.Month`)."""
    return str(Month.parse(month).previous)


def _change(cur: Any, prev: Any, better: str | None) -> str:
    if not isinstance(cur, (int, float)) or not isinstance(prev, (int, float)) or isinstance(cur, bool):
        return ""
    diff = cur - prev
    if diff == 0:
        return tr("no change", "无变化")
    arrow = "▲" if diff > 0 else "▼"
    good = (diff > 0) == (better == "up") if better in ("up", "down") else None
    color = {True: "#1a7f37", False: "#cf222e", None: "#57606a"}[good]
    rel = f" ({diff / prev:+.1%})" if prev else ""
    return f'<span style="color:{color}">{arrow} {abs(diff):,.4g}{rel}</span>'


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
    prev_file = out_root / previous_month(month) / "metrics.json"
    prev = json.loads(prev_file.read_text(encoding="utf-8")) if prev_file.exists() else None
    sections = []
    for name, nb in metrics["notebooks"].items():
        rows = []
        for key, m in nb["metrics"].items():
            pm = (prev or {}).get("notebooks", {}).get(name, {}).get("metrics", {}).get(key)
            change = _change(m.get("value"), pm.get("value") if pm else None, m.get("better")) if pm else ""
            unit = i18n.unit(m.get("unit"))
            shown = escape_html(_fmt_tile(m.get("value"), m.get("fmt"))) + escape_html(unit)
            if m.get("section"):
                shown = (f'<a class="omni-kpi-link" href="{escape_html(m["section"])}" '
                         f'title="{tr("the section this number comes from", "此数字所在的章节")}">{shown}</a>')
            rows.append(f"<tr><td>{escape_html(m.get('label') or key)}</td><td>{shown}</td><td>{change}</td></tr>")
        heads = "".join(f"<th>{h}</th>" for h in (tr("headline", "核心指标"), tr("this month", "本月"),
                                                   tr("vs previous month", "环比上月")))
        table = (f"<table class='omni-table'><thead><tr>{heads}</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
                 if rows else f"<p class='omni-note'>{tr('No headline numbers.', '无核心指标。')}</p>")
        sections.append(
            f"<section><h2><a href='{escape_html(name)}.html'>{escape_html(nb['title'])}</a></h2>"
            f"{table}<p class='omni-note'>{tr('ran in', '运行')} {nb['seconds']:.1f} s · "
            f"<a href='{escape_html(name)}.ipynb'>{tr('executed notebook', '已执行的 notebook')}</a></p></section>"
        )
    prev_m = month_label(previous_month(month))
    prev_note = (tr(f"Compared with {prev_m}.", f"与{prev_m}相比。") if prev else
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
