"""The report runner end to end on the small world: files, offline HTML, metrics, privacy, failures."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from omni.privacy import find_raw_pii_in_text, scan_pii
from omni.reporting.index import previous_month, write_index
from omni.reporting.runner import ReportError, run_report

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report_dir(test_world, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    return run_report(data=test_world, month="2026-10", notebooks=ROOT / "notebooks", out=out, progress=False)


def test_report_writes_every_notebook_index_and_metrics(report_dir):
    nbs = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert nbs, "no notebooks found"
    for name in nbs:
        assert (report_dir / f"{name}.html").stat().st_size > 10_000
        assert (report_dir / f"{name}.ipynb").exists()
    metrics = json.loads((report_dir / "metrics.json").read_text())
    assert metrics["month"] == "2026-10"
    assert set(metrics["notebooks"]) == set(nbs)
    audit = metrics["notebooks"]["01_data_audit"]["metrics"]
    assert audit["rows_in"]["value"] > 10_000
    oneid = metrics["notebooks"]["02_identity_resolution"]["metrics"]
    assert oneid["profiles"]["value"] < oneid["records"]["value"]
    index = (report_dir / "index.html").read_text()
    for name in nbs:
        assert f"{name}.html" in index


def test_html_is_offline_and_has_no_code(report_dir):
    for html in report_dir.glob("*.html"):
        text = html.read_text()
        assert not re.search(r"<script[^>]+src=", text), f"{html.name} loads a script"
        assert not re.search(r"<link[^>]+href=\"https?:", text), f"{html.name} loads a stylesheet"
        # code cells render their source as highlighted blocks; markdown cells share jp-InputArea
        assert 'class="highlight hl-ipython3"' not in text, f"{html.name} shows code"
        assert "import omni" not in text and "from omni" not in text, f"{html.name} shows code"
        if html.name != "index.html":
            assert "data fingerprint" in text and "run time" in text
            assert "<img" in text and "data:image/png;base64" in text


def _raw_pii(world: Path) -> set[str]:
    raw = world / "raw"
    needles: set[str] = set()
    crm = pd.read_csv(raw / "crm_members.csv", dtype=str)
    for col in ("phone", "email", "name"):
        needles |= set(crm[col].dropna().str.strip())
    orders = pd.read_csv(raw / "ecom_orders.csv", dtype=str)
    needles |= set(orders["receiver_name"].dropna().str.strip())
    needles |= set(crm["member_id"].dropna().head(2000))
    # names of one character are not identifying on their own; junk values are not personal data
    return {n for n in needles if len(n) >= 2 and not re.fullmatch(r"(?i)null|none|nan|n/a|0|-|", n)}


def test_no_raw_personal_data_in_reports(report_dir, test_world):
    needles = _raw_pii(test_world)
    assert len(needles) > 1000
    for f in list(report_dir.glob("*.html")) + list(report_dir.glob("*.ipynb")):
        found = find_raw_pii_in_text(f.read_text(), needles)
        assert not found, f"{f.name} shows raw personal data, e.g. {found[:3]}"


def test_failing_cell_names_notebook_and_cell_and_keeps_partial(test_world, tmp_path):
    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("data = None\nmonth = None\nseed = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Broken"), params,
                nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("raise ValueError('boom')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, nb_dir / "01_broken.ipynb")
    with pytest.raises(ReportError) as err:
        run_report(data=test_world, month="2026-10", notebooks=nb_dir, out=tmp_path / "out", progress=False)
    msg = str(err.value)
    assert "01_broken.ipynb" in msg and "ValueError: boom" in msg and "cell" in msg
    assert (tmp_path / "out" / "2026-10" / "01_broken.ipynb").exists()


def test_cli_report_exits_non_zero_on_failure(test_world, tmp_path):
    from omni.cli import main

    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1/0")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, nb_dir / "01_zero.ipynb")
    code = main(["report", "--data", str(test_world), "--month", "2026-10", "--notebooks", str(nb_dir),
                 "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 1


def test_index_shows_change_against_previous_month(tmp_path):
    def metrics(month, value):
        return {"month": month, "dataset": "x", "data_fingerprint": "ab" * 32, "seed": 1,
                "notebooks": {"01_a": {"title": "A", "seconds": 1.0, "metrics": {
                    "profiles": {"key": "profiles", "label": "people", "value": value, "better": "up"}}}}}

    (tmp_path / "2026-09").mkdir()
    (tmp_path / "2026-09" / "metrics.json").write_text(json.dumps(metrics("2026-09", 100)))
    (tmp_path / "2026-10").mkdir()
    page = write_index(tmp_path / "2026-10", metrics("2026-10", 125), tmp_path, 1.0).read_text()
    assert "▲ 25 (+25.0%)" in page
    assert "#1a7f37" in page  # up is good here: green
    assert previous_month("2026-01") == "2025-12"
    shutil.rmtree(tmp_path / "2026-09")
    page = write_index(tmp_path / "2026-10", metrics("2026-10", 125), tmp_path, 1.0).read_text()
    assert "No report for 2026-09" in page


class _Tables(HTMLParser):
    """Every <table> of an HTML page as a list of rows of cell texts (stdlib only)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._depth = 0
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._depth += 1
            self.tables.append([])
        elif tag == "tr" and self._depth:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table" and self._depth:
            self._depth -= 1
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _html_tables(text: str) -> list[pd.DataFrame]:
    parser = _Tables()
    parser.feed(text)
    out = []
    for rows in parser.tables:
        if len(rows) < 2:
            continue
        width = max(len(r) for r in rows)
        out.append(pd.DataFrame([r + [""] * (width - len(r)) for r in rows[1:]],
                                columns=[f"c{i}" for i in range(width)]).replace("", None))
    return out


def _flagged(df: pd.DataFrame) -> pd.DataFrame:
    found = scan_pii(df)
    return found[found["pii_type"] != "masked_phone"]  # masked values are what reports show


def test_report_table_scan_catches_planted_pii():
    html = ("<table><tr><th>who</th><th>phone</th><th>mail</th></tr>"
            + "".join(f"<tr><td>张伟{i}</td><td>138 0013 {8000 + i}</td><td>u{i}@example.com</td></tr>"
                      for i in range(5))
            + "</table>")
    (df,) = _html_tables(html)
    assert set(_flagged(df)["pii_type"]) >= {"phone", "email"}


def test_pii_scan_flags_nothing_in_any_report_table(report_dir):
    """The pattern scanner (the one behind the audit's PII inventory) finds no raw phone, email,
    ID-card number, Chinese name or address in any table of any report."""
    n_tables = 0
    for html in sorted(report_dir.glob("*.html")):
        for df in _html_tables(html.read_text()):
            n_tables += 1
            found = _flagged(df)
            assert found.empty, f"{html.name}: table {n_tables} has {found.to_dict('records')}"
    assert n_tables > 50  # the reports are table-heavy; a parser failure must not pass silently
