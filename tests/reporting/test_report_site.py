"""The report site without a browser: heading ids, sidebar, contents, headline links, the CSP's hash."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from omni.core.markup import CSP, CSP_META, SITE_SCRIPT, SITE_SCRIPT_HASH, SITE_SCRIPT_TAG
from omni.reporting.index import write_index
from omni.reporting.runner import kernel_config
from omni.reporting.site import build_site, page_sections, sidebar_html, toc_html

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "<img src=x onerror=alert(1)> & \"q\""

PAGE = f"""<!DOCTYPE html><html><head>{CSP_META}</head>
<body class="jp-Notebook" data-jp-theme-light="true">
<main><div class="omni-header"><h1>Identity</h1></div>
<h1 id="Identity">Identity<a class="anchor-link" href="#Identity">¶</a></h1>
<h3>OneID, records up to 2026-10</h3><div class="omni-headline" id="kpi-aaa"><div class="omni-kpi">1</div></div>
<h2 id="Records-by-source">Records by source<a class="anchor-link" href="#Records-by-source">¶</a></h2>
<p>text</p>
<h3>{HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")}</h3>
<div class="omni-headline" id="kpi-bbb"></div>
<h2>Records by source</h2>
</main>{SITE_SCRIPT_TAG}</body></html>"""


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "a":
            self.hrefs.append(dict(attrs)["href"])

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Links:
    p = _Links()
    p.feed(html)
    return p


def test_every_heading_gets_an_id_and_sections_are_the_h2_and_h3():
    html, sections, anchors = page_sections(PAGE)
    assert [(s.level, s.id, s.title) for s in sections] == [
        (3, "OneID,-records-up-to-2026-10", "OneID, records up to 2026-10"),
        (2, "Records-by-source", "Records by source"),
        (3, "<img-src=x-onerror=alert(1)>-&-\"q\"", "<img src=x onerror=alert(1)> & \"q\""),
        (2, "Records-by-source-2", "Records by source"),  # ids stay unique
    ]
    ids = re.findall(r'<h[1-3] id="([^"]*)"', html)
    assert len(ids) == 6 and len(set(ids)) == 6  # the header's h1 too
    assert '<h3 id="&lt;img-src=x-onerror=alert(1)&gt;-&amp;-&quot;q&quot;">' in html  # escaped in the attribute
    # a headline points at the nearest heading before it: its own title, or the section it sits in
    assert anchors == {"kpi-aaa": "OneID,-records-up-to-2026-10", "kpi-bbb": sections[2].id}


def test_sidebar_and_contents_escape_heading_text_and_encode_fragments():
    from omni.reporting.site import Page

    _, sections, _ = page_sections(PAGE)
    nav = sidebar_html([Page("02_identity", "Identity <b>", sections), Page("01_audit", "Audit", [])],
                       current="02_identity", month="2026-10")
    toc = toc_html(sections)
    for part in (nav, toc):
        parsed = _parse(part)
        assert "img" not in parsed.tags and "b" not in parsed.tags  # data-borne text stays text
        assert HOSTILE in "".join(parsed.text)
    assert _parse(nav).hrefs[:3] == ["index.html", "02_identity.html", "02_identity.html#OneID,-records-up-to-2026-10"]
    assert "02_identity.html#%3Cimg-src=x-onerror=alert(1)%3E-%26-%22q%22" in _parse(nav).hrefs
    assert '<details open><summary><a href="02_identity.html" aria-current="page">' in nav
    assert '<li class="nb"><a href="01_audit.html">Audit</a></li>' in nav  # no sections: no fold
    assert toc_html([]) == ""


def test_build_site_adds_navigation_to_every_page_and_a_section_to_every_headline(tmp_path):
    (tmp_path / "02_identity.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "03_value.html").write_text(PAGE.replace("Records by source", "Value"), encoding="utf-8")
    metrics = {"month": "2026-10", "dataset": "w", "data_fingerprint": "f" * 64, "seed": 7, "notebooks": {
        "02_identity": {"title": "Identity", "seconds": 1.0, "metrics": {
            "records": {"key": "records", "label": "records", "value": 5, "anchor": "kpi-aaa"},
            "people": {"key": "people", "label": "people", "value": 3, "anchor": "kpi-bbb"},
            "old": {"key": "old", "label": "no anchor", "value": 1}}},
        "03_value": {"title": "Value", "seconds": 1.0, "metrics": {}},
    }}
    nav = build_site(tmp_path, metrics)
    got = metrics["notebooks"]["02_identity"]["metrics"]
    assert got["records"]["section"] == "02_identity.html#OneID,-records-up-to-2026-10"
    assert got["people"]["section"] == "02_identity.html#%3Cimg-src=x-onerror=alert(1)%3E-%26-%22q%22"
    assert "section" not in got["old"]
    for name in ("02_identity", "03_value"):
        page = (tmp_path / f"{name}.html").read_text(encoding="utf-8")
        assert page.count('<nav class="omni-sidebar"') == 1 and page.count('<nav class="omni-toc"') == 1
        assert '<body class="jp-Notebook omni-site omni-has-toc" data-jp-theme-light="true"><nav' in page
        assert f'href="{name}.html" aria-current="page"' in page
        assert page.count(SITE_SCRIPT_TAG) == 1
    assert 'href="index.html" aria-current="page"' in nav
    index = write_index(tmp_path, metrics, tmp_path.parent, total_seconds=3.0, nav=nav).read_text(encoding="utf-8")
    assert '<body class="omni-site">\n<nav class="omni-sidebar"' in index
    assert ('<a class="omni-kpi-link" href="02_identity.html#OneID,-records-up-to-2026-10" '
            'title="the section this number comes from">5</a>') in index
    assert "<td>1</td>" in index  # a metric without a section is shown unlinked
    assert index.count(CSP_META) == 1


def test_csp_allows_only_the_shipped_script_by_its_hash():
    shipped = (ROOT / "omni" / "templates" / "omni_report" / "omni_site.js").read_text(encoding="utf-8")
    assert SITE_SCRIPT == shipped
    digest = base64.b64encode(hashlib.sha256(shipped.encode("utf-8")).digest()).decode()
    assert SITE_SCRIPT_HASH == f"'sha256-{digest}'"
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["script-src"] == SITE_SCRIPT_HASH  # nothing else: no 'unsafe-inline', no source
    assert directives["default-src"] == "'none'" and directives["connect-src"] == "'none'"
    assert directives["img-src"] == "data:" and directives["object-src"] == "'none'"
    assert "</" not in SITE_SCRIPT and SITE_SCRIPT_TAG == f"<script>{SITE_SCRIPT}</script>"
    # the script fetches nothing and evaluates nothing
    for word in ("fetch(", "XMLHttpRequest", "eval(", "new Function", "innerHTML", "import(", "src="):
        assert word not in SITE_SCRIPT, word


def test_kernels_talk_over_ipc_not_tcp():
    import os

    cfg, other = kernel_config(), kernel_config()
    if os.name == "posix":
        assert cfg.KernelManager.transport == "ipc"
        # sockets of their own for every kernel, in the private runtime folder, short enough for a socket
        assert cfg.KernelManager.ip != other.KernelManager.ip and Path(cfg.KernelManager.ip).is_absolute()
        assert len(cfg.KernelManager.ip) + len("-65535") < 104


def test_metrics_json_of_a_site_keeps_anchor_and_section(tmp_path):
    """The section link is part of metrics.json (what the index and later months read)."""
    (tmp_path / "02_identity.html").write_text(PAGE, encoding="utf-8")
    metrics = {"month": "2026-10", "notebooks": {"02_identity": {"title": "I", "metrics": {
        "records": {"key": "records", "value": 5, "anchor": "kpi-aaa"}}}}}
    build_site(tmp_path, metrics)
    back = json.loads(json.dumps(metrics))
    assert back["notebooks"]["02_identity"]["metrics"]["records"]["section"].startswith("02_identity.html#")


@pytest.mark.parametrize("missing", ["03_value"])
def test_a_notebook_without_a_page_is_left_out_of_the_sidebar(tmp_path, missing):
    (tmp_path / "02_identity.html").write_text(PAGE, encoding="utf-8")
    metrics = {"month": "2026-10", "notebooks": {"02_identity": {"title": "I", "metrics": {}},
                                                 missing: {"title": "V", "metrics": {}}}}
    nav = build_site(tmp_path, metrics)
    assert f"{missing}.html" not in nav and "02_identity.html" in nav


@pytest.mark.parametrize("ci", ["true", ""])
def test_browser_test_without_chromium_skips_loudly_and_fails_under_ci(ci, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "OMNI_CHROMIUM": str(tmp_path / "no-chromium"), "CI": ci}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-k", "policy",
                          str(ROOT / "tests" / "reporting" / "test_report_browser.py")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    out = run.stdout + run.stderr
    assert "NO BROWSER: Chromium was not found" in out
    if ci:
        assert run.returncode == 1 and ("1 error" in out or "1 failed" in out) and "CI=true requires it" in out
    else:
        assert run.returncode == 0 and "1 skipped" in out and "SKIPPED" in out
