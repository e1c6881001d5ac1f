"""Month over month from the first report, and the index's trend sparklines (issue #18)."""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path

import pytest

import omni
from omni.core.month import Month
from omni.identity.analysis import previous_figures
from omni.reporting.index import COMPUTED_NOW, compare_months, write_index
from omni.reporting.runner import run_report
from omni.reporting.trends import order_series, sparkline_svg

ROOT = Path(__file__).resolve().parents[2]
IDENTITY, ATTRIBUTION = "02_identity_resolution", "04_channel_attribution"


@pytest.fixture(scope="module")
def first_report(test_world, tmp_path_factory) -> Path:
    """A first report (no earlier one in the folder) of the identity and attribution notebooks."""
    out = tmp_path_factory.mktemp("mom")
    return run_report(data=test_world, month="2026-10", notebooks=ROOT / "notebooks", out=out, progress=False,
                      only=["02", "04"])


def _rows(html: str) -> dict[str, str]:
    """Index table rows by their first cell's text."""
    rows = re.findall(r"<tr><td>(.*?)</td>(.*?)</tr>", html, flags=re.S)
    return {label: rest for label, rest in rows}


def test_first_report_fills_previous_month_computed_now(first_report):
    metrics = json.loads((first_report / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["previous_report"] is None
    ident = metrics["notebooks"][IDENTITY]["metrics"]
    # this month's figures are unchanged; last month's come from the cached resolution as of 2026-09
    assert ident["records"]["value"] == 60458 and ident["records"]["previous"] == 56307
    assert ident["known_people"]["value"] == 2888 and ident["known_people"]["previous"] == 2817
    assert ident["profiles"]["previous"] == 8737
    assert all(ident[k]["previous_from"] == COMPUTED_NOW for k in ("records", "known_people", "anonymous_share"))
    assert "previous" not in ident["precision"] and "previous_from" not in ident["precision"]  # no truth scoring
    attr = metrics["notebooks"][ATTRIBUTION]["metrics"]
    assert attr["conversions"]["value"] == 351 and attr["conversions"]["previous"] == 259
    assert attr["conversions"]["previous_from"] == COMPUTED_NOW
    assert "previous" not in attr["truth_deviation"]

    html = (first_report / "index.html").read_text(encoding="utf-8")
    rows = _rows(html)
    conv = rows["conversions (paid orders, all sales channels)"]
    assert "▲ 92 (+35.5%)" in conv and 'class="omni-computed"' in conv and "computed now" in conv
    assert "▲ 0.5 pp (+1.3%)" in rows["OneIDs seen in 2+ sources"]  # a share changes by percentage points
    assert "omni-computed" not in rows["pairwise precision (strong-id records)"]
    assert "computed now" in html.split("<section>")[0]  # the page says what the marker means

    zh_dir = first_report.parent / "zh" / "2026-10"
    zh_dir.mkdir(parents=True)
    zh = write_index(zh_dir, metrics, zh_dir.parent, 1.0, lang="zh").read_text(encoding="utf-8")
    assert "本次计算" in zh and "computed now" not in zh and "个月，2025年11月 至 2026年10月" in zh


def test_first_report_trends(first_report):
    metrics = json.loads((first_report / "metrics.json").read_text(encoding="utf-8"))
    conv = metrics["notebooks"][ATTRIBUTION]["metrics"]["conversions"]["trend"]
    # paid orders per month from the unified orders: 12 months ending with this month's figure
    assert conv["source"] == "orders" and len(conv["months"]) == 12
    assert conv["months"][0] == "2025-11" and conv["values"][-1] == 351 and conv["values"][-2] == 259
    known = metrics["notebooks"][IDENTITY]["metrics"]["known_people"]["trend"]
    assert known == {"months": ["2026-09", "2026-10"], "values": [2817, 2888], "source": "reports"}

    rows = _rows((first_report / "index.html").read_text(encoding="utf-8"))
    assert 'class="omni-spark"' in rows["conversions (paid orders, all sales channels)"]
    assert "12 months, 2025-11 to 2026-10" in rows["conversions (paid orders, all sales channels)"]
    assert "omni-spark" not in rows["known people (person-level strong id)"]  # 2 months: no sparkline
    assert "<script" not in "".join(rows.values()) and "<svg" not in "".join(rows.values())


def test_second_report_uses_the_first_reports_metrics(first_report, tmp_path):
    out = tmp_path / "reports"
    (out / "2026-10").mkdir(parents=True)
    first = json.loads((first_report / "metrics.json").read_text(encoding="utf-8"))
    (out / "2026-10" / "metrics.json").write_text(json.dumps(first), encoding="utf-8")
    nxt = copy.deepcopy(first)  # a November run: its own figures and its own computed-now previous values
    nxt["month"] = "2026-11"
    for nb in nxt["notebooks"].values():
        for m in nb["metrics"].values():
            for k in ("previous_from", "trend"):
                m.pop(k, None)
            if isinstance(m["value"], (int, float)):
                m["previous"] = -1  # what this run would have computed: the report wins over it
                m["value"] = m["value"] + 10
    nxt.pop("previous_report")
    compare_months(nxt, out)
    assert nxt["previous_report"] == "2026-10"
    known = nxt["notebooks"][IDENTITY]["metrics"]["known_people"]
    assert known["previous"] == 2888 and known["previous_from"] == "report"
    # September (computed by the October report), October's report, this month: three points
    assert known["trend"]["months"] == ["2026-09", "2026-10", "2026-11"]
    assert known["trend"]["values"] == [2817, 2888, 2898]
    # a figure the October report did not compute a September value for: two points
    assert nxt["notebooks"][IDENTITY]["metrics"]["precision"]["trend"]["months"] == ["2026-10", "2026-11"]

    month_dir = out / "2026-11"
    month_dir.mkdir()
    html = write_index(month_dir, nxt, out, total_seconds=1.0).read_text(encoding="utf-8")
    rows = _rows(html)
    known_row = rows["known people (person-level strong id)"]
    assert "▲ 10 (+0.3%)" in known_row and "omni-computed" not in known_row
    assert "omni-spark" in known_row and "3 months, 2026-09 to 2026-11" in known_row
    assert "omni-spark" not in rows["pairwise precision (strong-id records)"]
    assert "Compared with the 2026-10 report." in html


def test_identity_previous_counts_match_the_analysis(test_world):
    """The previous month's counts (engine queries over the cached resolution) follow the
    analysis's own definitions: for the report month they are its headline figures."""
    ws = omni.open(test_world)
    r = omni.identity.analyse_month(ws, "2026-10")
    got = previous_figures(ws, Month.parse("2026-10"))
    figs = r.figures()
    for k, v in got.items():
        assert v == pytest.approx(figs[k], rel=1e-12), k
    assert r.previous_figures["records"] == 56307
    assert previous_figures(ws, Month.parse("2024-01")) is None  # never resolved: not resolved for this


def test_order_series_matches_the_value_figures(test_world):
    ws = omni.open(test_world)
    res = ws.resolve(as_of="2026-10")
    s = order_series(res.engine_table("orders"), res.engine_table("record_oneid"), "2026-10")
    v = omni.value.analyse_month(ws, "2026-10", seed=7)
    f, p = v.month_figures, v.previous_figures
    assert s["customers"]["2026-10"] == f["customers"] and s["customers"]["2026-09"] == p["customers"]
    assert s["buyers"]["2026-10"] == f["active_customers"] and s["buyers"]["2026-09"] == p["active_customers"]
    assert s["repeat_share"]["2026-10"] == pytest.approx(f["repeat_share"], abs=1e-12)
    # paid orders count anonymous buyers' too (attribution's conversions); the value figures do not
    assert s["paid_orders"]["2026-10"] == 351 > f["orders_month"] == 322


def _svg_of(tag: str) -> str:
    uri = re.search(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', tag)
    return base64.b64decode(uri.group(1)).decode("utf-8")


def test_sparkline_escapes_and_needs_three_points():
    pts = {"2026-08": 1.0, "2026-09": 3.0, "2026-10": 2.0}
    tag = sparkline_svg(pts, 'a <b>"label"</b> & <script>x</script>', note="n<1>")
    assert tag.startswith('<img class="omni-spark"') and tag.count("<") == 1  # one element, text escaped
    assert "&lt;script&gt;" in tag and "3 months, 2026-08 to 2026-10" in tag
    svg = _svg_of(tag)
    assert svg.startswith("<svg") and "<script" not in svg and "<b>" not in svg and "&lt;script&gt;" in svg
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 1
    assert sparkline_svg({"2026-09": 1.0, "2026-10": 2.0}, "x") == ""
    assert sparkline_svg({"2026-08": 1.0, "2026-09": float("nan"), "2026-10": 2.0}, "x") == ""
    flat = _svg_of(sparkline_svg({"2026-08": 5, "2026-09": 5, "2026-10": 5}, "flat"))
    assert "<polyline" in flat and "nan" not in flat
