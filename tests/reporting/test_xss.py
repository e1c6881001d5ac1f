"""Stored XSS: hostile text in every free-text column of a world never becomes live markup in a report.

A small world gets payloads planted in its campaign names, arm names, channels, platforms,
categories, cities, addresses, topics and names (identifiers and keys stay valid, so the world still
resolves). The whole report runs on it; every HTML page and every output of every executed notebook
is parsed: no script element, no ``on*`` attribute, no ``javascript:`` URL, images only inline, the
Content-Security-Policy on every page, and the payloads shown as visible text (so the test cannot
pass by dropping the data).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from itertools import cycle
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from omni.core.markup import CSP, SITE_SCRIPT, SITE_SCRIPT_HASH
from omni.reporting.runner import run_report

ROOT = Path(__file__).resolve().parents[2]
N_NOTEBOOKS = len(list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "$\\alpha$",
    "{0}",
    "**bold**",
]

pytestmark = pytest.mark.slow

# (source, column): free text that is not an identifier or a key. A whole-value map keeps distinct values
# distinct (categories, channels); "rows" prefixes a share of the rows (free text where any value goes).
CATEGORY_COLUMNS = [
    ("ecom_orders", "category"),
    ("pos_orders", "category"),
    ("web_events", "category"),
    ("pos_orders", "city"),
    ("crm_members", "register_channel"),
    ("service_tickets", "topic"),
    ("products", "category"),
    ("products", "product_line"),
]
ROW_COLUMNS = [
    ("crm_members", "city"),
    ("crm_members", "name"),
    ("ecom_orders", "province"),
    ("ecom_orders", "city"),
    ("ecom_orders", "district"),
    ("ecom_orders", "address"),
    ("ecom_orders", "receiver_name"),
]
# the same value in several sources: mapped alike so the sources still join. Channel names may not
# hold ">" (it separates the steps of a touch path; attribution refuses such a name with a clear error)
SHARED_COLUMNS = {
    "channel": [("touchpoints", "channel"), ("channel_spend", "channel"), ("campaigns", "channel")],
    "platform": [("ecom_orders", "platform"), ("platform_members", "platform")],
}
# the marketing-mix dataset beside the world (``<world>/mix``): its channels are the world's (mapped
# alike, so the triangulation still lines the two up) and its regions are shared by its three sources
MIX_SHARED_COLUMNS = {
    "channel": [("media_spend", "channel"), ("geo_experiments", "channel")],
    "region": [("media_spend", "region"), ("regional_sales", "region"), ("geo_experiments", "region")],
}


def _read(raw: Path, spec: dict, name: str) -> pd.DataFrame:
    src = spec["sources"][name]
    if src["format"] == "parquet":
        return pd.read_parquet(raw / src["file"])
    return pd.read_csv(raw / src["file"], dtype=str, keep_default_na=False, encoding=src.get("encoding", "utf-8"))


def _write(raw: Path, spec: dict, name: str, df: pd.DataFrame) -> None:
    src = spec["sources"][name]
    if src["format"] == "parquet":
        df.to_parquet(raw / src["file"], index=False)
    else:
        df.to_csv(raw / src["file"], index=False, encoding=src.get("encoding", "utf-8"))


def _hostile(values: pd.Series, payloads) -> dict[str, str]:
    """Each distinct non-empty value -> a payload followed by the value (distinct stays distinct)."""
    return {v: f"{next(payloads)} {v}" for v in sorted(values.dropna().astype(str).unique()) if v}


def plant(world: Path) -> dict[str, int]:
    """Plant :data:`PAYLOADS` into every free-text column of the world; returns cells changed per column."""
    raw = world / "raw"
    spec = yaml.safe_load((raw / "sources.yaml").read_text(encoding="utf-8"))
    frames = {name: _read(raw, spec, name) for name in spec["sources"]}
    payloads = cycle(PAYLOADS)
    changed: dict[str, int] = {}

    def apply(name: str, col: str, mapping: dict[str, str]) -> None:
        df = frames[name]
        s = df[col].astype("string")
        new = s.map(lambda v: mapping.get(v, v) if isinstance(v, str) else v)
        changed[f"{name}.{col}"] = int((new != s).fillna(False).sum())
        df[col] = new.astype(object).where(new.notna(), None) if spec["sources"][name]["format"] == "parquet" else new

    for name, col in CATEGORY_COLUMNS:
        apply(name, col, _hostile(frames[name][col].astype("string"), payloads))
    mix_raw = world / "mix" / "raw"
    mix_spec = yaml.safe_load((mix_raw / "sources.yaml").read_text(encoding="utf-8"))
    mix = {name: _read(mix_raw, mix_spec, name) for name in mix_spec["sources"]}
    renamed: dict[str, str] = {}  # the mix's channels and regions, also renamed in its truth
    for key, columns in SHARED_COLUMNS.items():
        values = pd.concat([frames[n][c].astype("string") for n, c in columns]
                           + [mix[n][c].astype("string") for n, c in MIX_SHARED_COLUMNS.get(key, [])])
        mapping = _hostile(values, cycle([p for p in PAYLOADS if ">" not in p]))
        for name, col in columns:
            apply(name, col, mapping)
        if key in MIX_SHARED_COLUMNS:
            renamed.update(mapping)
    regions = pd.concat([mix[n][c].astype("string") for n, c in MIX_SHARED_COLUMNS["region"]])
    renamed.update(_hostile(regions, cycle(PAYLOADS)))
    for name, col in [c for cols in MIX_SHARED_COLUMNS.values() for c in cols]:
        old = mix[name][col].astype("string")
        new = old.map(lambda v: renamed.get(v, v))
        changed[f"mix.{name}.{col}"] = int((new != old).sum())
        mix[name][col] = new
    truth = world / "mix" / "truth"
    contrib = pd.read_parquet(truth / "mix_contributions.parquet")
    for col in ("region", "channel"):
        contrib[col] = contrib[col].map(lambda v: renamed.get(v, v))
    contrib.to_parquet(truth / "mix_contributions.parquet", index=False)

    def rename(x):
        if isinstance(x, dict):
            return {renamed.get(k, k): rename(v) for k, v in x.items()}
        if isinstance(x, list):
            return [rename(v) for v in x]
        return renamed.get(x, x) if isinstance(x, str) else x

    params = json.loads((truth / "mix_params.json").read_text(encoding="utf-8"))
    (truth / "mix_params.json").write_text(json.dumps(rename(params), ensure_ascii=False), encoding="utf-8")
    for name, df in mix.items():
        _write(mix_raw, mix_spec, name, df)
    for name, col in ROW_COLUMNS:
        df = frames[name]
        s = df[col].astype("string")
        pick = s.notna() & (s != "") & (pd.RangeIndex(len(df)) % 4 == 0)
        prefix = pd.Series([PAYLOADS[i % len(PAYLOADS)] for i in range(len(df))], index=df.index)
        df[col] = s.where(~pick, prefix + " " + s)
        changed[f"{name}.{col}"] = int(pick.sum())

    # campaign names, and arm names (JSON list, so no separator in a payload splits an arm)
    camp = frames["campaigns"]
    camp["name"] = [" ".join(PAYLOADS) + f" {n}" for n in camp["name"]]  # every payload in the narrative
    changed["campaigns.name"] = len(camp)
    arm_map: dict[str, str] = {}
    arms_json = []
    for value in camp["arms"]:
        names = [a for a in str(value).split("|") if a]
        for a in names:
            arm_map.setdefault(a, f"{PAYLOADS[len(arm_map) % len(PAYLOADS)]} {a}")
        arms_json.append(json.dumps([arm_map[a] for a in names], ensure_ascii=False))
    camp["arms"] = arms_json
    changed["campaigns.arms"] = len(camp)
    apply("campaign_assignments", "arm", arm_map)

    for name, df in frames.items():
        _write(raw, spec, name, df)
    return changed


class _Page(HTMLParser):
    """Collects what makes HTML live: elements, attributes, URLs; and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self.csp: list[str] = []
        self.images = 0
        self.scripts = 0  # the report's own script (omni.core.markup.SITE_SCRIPT), the only one allowed
        self._script: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            if attrs:
                self.problems.append(f"<script> element with attributes: {attrs}")
            self._script = []
        for k, v in attrs:
            v = (v or "").strip()
            if k.startswith("on"):
                self.problems.append(f"<{tag} {k}=...> event handler")
            if k in ("href", "src", "action", "formaction", "xlink:href", "data") and v.lower().replace(
                    "\t", "").replace("\n", "").startswith(("javascript:", "vbscript:")):
                self.problems.append(f"<{tag} {k}={v!r}>")
        if tag == "img":
            self.images += 1
            src = dict(attrs).get("src") or ""
            if not src.startswith("data:image/"):
                self.problems.append(f"<img src={src[:60]!r}> is not an inline image")
        if tag in ("iframe", "object", "embed", "svg", "form", "base"):
            self.problems.append(f"<{tag}> element")
        if tag == "meta" and (dict(attrs).get("http-equiv") or "").lower() == "content-security-policy":
            self.csp.append(dict(attrs).get("content") or "")

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)
        else:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            body, self._script = "".join(self._script), None
            if body == SITE_SCRIPT:
                self.scripts += 1
            else:
                self.problems.append(f"<script> element that is not the report's own: {body[:80]!r}")


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    world = tmp_path_factory.mktemp("xss") / "world"
    subprocess.run([sys.executable, "-m", "omni", "synth", "--out", str(world), "--persons", "1000", "--seed", "5",
                    "--quiet"], check=True, cwd=ROOT)
    changed = plant(world)
    out = world.parent / "reports"
    month_dir = run_report(data=world, notebooks=ROOT / "notebooks", out=out, progress=False)
    yield month_dir, changed
    shutil.rmtree(world.parent, ignore_errors=True)


def test_payloads_planted_in_every_free_text_column(hostile_report):
    _, changed = hostile_report
    missing = [c for c, n in changed.items() if n == 0]
    assert not missing, f"no payload planted in {missing}"
    assert len(changed) >= 18


def test_no_html_page_has_live_markup_and_every_page_has_the_csp(hostile_report):
    month_dir, _ = hostile_report
    pages = sorted(month_dir.glob("*.html"))
    assert len(pages) == N_NOTEBOOKS + 1  # every notebook and the index
    visible = []
    for path in pages:
        page = _parse(path.read_text(encoding="utf-8"))
        assert not page.problems, f"{path.name}: {page.problems[:5]}"
        assert page.csp == [CSP], f"{path.name}: Content-Security-Policy {page.csp}"
        # one script allowed, by its hash: no 'unsafe-inline', no source, no network
        assert f"script-src {SITE_SCRIPT_HASH};" in CSP and "default-src 'none'" in CSP
        assert "unsafe" not in CSP.split("script-src")[1].split(";")[0] and "connect-src 'none'" in CSP
        if path.name != "index.html":
            assert page.images > 0, f"{path.name} shows no figure"
            assert page.scripts == 1, f"{path.name}: {page.scripts} copies of the report's script"
        visible.append("".join(page.text))
    text = "\n".join(visible)
    for p in PAYLOADS:
        assert p in text, f"payload {p!r} is not shown as text in any page"
    uplift = visible[[p.name for p in pages].index("05_campaign_uplift.html")]
    for p in PAYLOADS:  # campaign and arm names in the narrative (Markdown) are shown as typed
        assert p in uplift, f"payload {p!r} missing from the uplift report's text"


def test_no_notebook_output_has_live_markup(hostile_report):
    month_dir, _ = hostile_report
    notebooks = sorted(month_dir.glob("*.ipynb"))
    assert len(notebooks) == N_NOTEBOOKS
    shown = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        n_out = 0
        for i, cell in enumerate(nb.cells):
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                for mime, render in (("text/html", str), ("text/markdown", markdown2html_mistune)):
                    if mime in data:
                        n_out += 1
                        page = _parse(render("".join(data[mime])))
                        assert not page.problems, f"{path.name} cell {i} {mime}: {page.problems[:5]}"
                        shown.append("".join(page.text))
        assert n_out > 5, f"{path.name}: only {n_out} rich outputs"
    text = "\n".join(shown)
    for p in PAYLOADS:
        assert p in text, f"payload {p!r} is not shown as text in any notebook output"
