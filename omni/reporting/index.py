"""The month's index.html: every notebook's headline numbers, change vs last month, links."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from omni.core.markup import CSP_META, escape_html
from omni.core.month import Month
from omni.reporting.display import _fmt
from omni.reporting.site import SITE_CSS

__all__ = ["previous_month", "write_index"]


def previous_month(month: str) -> str:
    """``YYYY-MM`` of the month before (see :class:`omni.core.Month`)."""
    return str(Month.parse(month).previous)


def _change(cur: Any, prev: Any, better: str | None) -> str:
    if not isinstance(cur, (int, float)) or not isinstance(prev, (int, float)) or isinstance(cur, bool):
        return ""
    diff = cur - prev
    if diff == 0:
        return "no change"
    arrow = "▲" if diff > 0 else "▼"
    good = (diff > 0) == (better == "up") if better in ("up", "down") else None
    color = {True: "#1a7f37", False: "#cf222e", None: "#57606a"}[good]
    rel = f" ({diff / prev:+.1%})" if prev else ""
    return f'<span style="color:{color}">{arrow} {abs(diff):,.4g}{rel}</span>'


def write_index(month_dir: Path, metrics: dict[str, Any], out_root: Path, total_seconds: float, nav: str = "") -> Path:
    """Write ``index.html`` for a month, comparing with the previous month's metrics.json if any.

    Parameters
    ----------
    month_dir, out_root : Path
        The month's folder and the reports folder (where the previous month's folder would be).
    metrics : dict
        The run's metrics; a headline metric with a ``section`` (set by
        :func:`omni.reporting.site.build_site`) links its number to that section.
    total_seconds : float
        Run time shown.
    nav : str
        The site's sidebar (:func:`omni.reporting.site.build_site`); none when empty.
    """
    month = metrics["month"]
    prev_file = out_root / previous_month(month) / "metrics.json"
    prev = json.loads(prev_file.read_text(encoding="utf-8")) if prev_file.exists() else None
    sections = []
    for name, nb in metrics["notebooks"].items():
        rows = []
        for key, m in nb["metrics"].items():
            pm = (prev or {}).get("notebooks", {}).get(name, {}).get("metrics", {}).get(key)
            change = _change(m.get("value"), pm.get("value") if pm else None, m.get("better")) if pm else ""
            unit = f" {m['unit']}" if m.get("unit") else ""
            shown = escape_html(_fmt(m.get("value"), m.get("fmt"))) + escape_html(unit)
            if m.get("section"):
                shown = (f'<a class="omni-kpi-link" href="{escape_html(m["section"])}" '
                         f'title="the section this number comes from">{shown}</a>')
            rows.append(f"<tr><td>{escape_html(m.get('label') or key)}</td><td>{shown}</td><td>{change}</td></tr>")
        table = "<table class='omni-table'><thead><tr><th>headline</th><th>this month</th><th>vs previous month</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>" if rows else "<p class='omni-note'>No headline numbers.</p>"
        sections.append(
            f"<section><h2><a href='{escape_html(name)}.html'>{escape_html(nb['title'])}</a></h2>"
            f"{table}<p class='omni-note'>ran in {nb['seconds']:.1f} s · <a href='{escape_html(name)}.ipynb'>executed notebook</a></p></section>"
        )
    prev_note = (f"Compared with {previous_month(month)}." if prev else
                 f"No report for {previous_month(month)} in this folder: no month-over-month change shown.")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">{CSP_META}<title>omni report {escape_html(month)}</title>
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
<h1>omni monthly report · {escape_html(month)}</h1>
<p class="omni-note">Dataset <b>{escape_html(metrics['dataset'])}</b> · data fingerprint {escape_html(metrics['data_fingerprint'][:16])} · seed {escape_html(metrics['seed'])} · total run time {total_seconds:.0f} s. {prev_note}
Personal data is masked or pseudonymized throughout; small groups are suppressed.</p>
{''.join(sections)}
</body></html>
"""
    path = month_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
