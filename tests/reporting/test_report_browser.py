"""The month's report in a real browser: headless Chromium opens the index and every notebook page.

Chromium is driven over the DevTools protocol (a small client on ``websocket-client``, already a
pinned dependency). The test checks what a reader would meet: no console error (a script blocked by
the Content-Security-Policy is one), no network request, every sidebar, table-of-contents and
headline link lands on an element, a large table sorts when its header is clicked and filters when
typed into, the print stylesheet hides the navigation. It writes a screenshot of every page and a
PDF of one notebook to ``tests/output/browser/`` (``OMNI_BROWSER_OUT`` overrides) for a person to
look at.

Without Chromium the tests skip with a loud reason; under CI (``CI=true``) they fail instead.
``OMNI_CHROMIUM`` names the browser when it is not on the PATH as ``chromium``.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from omni.core.markup import CSP_META

ROOT = Path(__file__).resolve().parents[2]
N_NOTEBOOKS = len(list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
MONTH = "2026-10"
OUT = Path(os.environ.get("OMNI_BROWSER_OUT") or ROOT / "tests" / "output" / "browser")

pytestmark = pytest.mark.slow


def chromium_path() -> str | None:
    """The Chromium executable: ``OMNI_CHROMIUM``, else ``chromium``/``chromium-browser``/``google-chrome``."""
    named = os.environ.get("OMNI_CHROMIUM")
    if named:
        return named if Path(named).exists() else shutil.which(named)
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """Headless Chromium and one page, over the DevTools protocol (flattened session on the browser socket)."""

    def __init__(self, exe: str, profile: Path) -> None:
        import websocket

        args = [exe, "--headless=new", "--disable-gpu", "--remote-debugging-port=0", f"--user-data-dir={profile}",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                "--disable-background-networking", "--disable-component-update", "--mute-audio",
                "--hide-scrollbars", "about:blank"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run its sandbox as root
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(ln) for ln in self.proc.stderr], daemon=True).start()
        url, seen, deadline = None, [], time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            seen.append(line)
            if "DevTools listening on " in line:
                url = line.split("DevTools listening on ", 1)[1].strip()
        if url is None:
            self.proc.kill()
            raise RuntimeError(f"Chromium ({exe}) did not start: {''.join(seen)[-2000:]}")
        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True, max_size=None)
        self.next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=1400, height=900, deviceScaleFactor=1, mobile=False)

    def call(self, method: str, session: str | None = None, **params) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def send(self, method: str, **params) -> dict:
        """A command to the page."""
        return self.call(method, session=self.session, **params)

    def pump(self, seconds: float) -> None:
        """Collect the page's events for a while."""
        end = time.monotonic() + seconds
        self.ws.settimeout(0.1)
        try:
            while time.monotonic() < end:
                try:
                    msg = json.loads(self.ws.recv())
                except Exception:  # noqa: BLE001 - a receive timeout: nothing arrived
                    continue
                if "method" in msg:
                    self.events.append(msg)
        finally:
            self.ws.settimeout(60)

    def open(self, url: str, timeout: float = 60) -> list[dict]:
        """Navigate, wait for the load event (and a moment for late events); the page's events."""
        self.events = []
        self.send("Page.navigate", url=url)
        end = time.monotonic() + timeout
        while not any(e["method"] == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > end:
                raise TimeoutError(f"{url} did not load in {timeout} s")
            self.pump(0.2)
        self.pump(0.5)
        return list(self.events)

    def js(self, expression: str):
        """Evaluate an expression in the page; its value (JSON)."""
        r = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression[:80]}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def click(self, x: float, y: float) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except Exception:  # noqa: BLE001 - already gone
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.ws.close()


def problems(events: list[dict], page_url: str) -> tuple[list[str], list[str]]:
    """Console errors (exceptions, console.error, error log entries such as CSP violations) and
    network requests (anything but the page itself and inline ``data:`` URLs) in a page's events."""
    errors, requests = [], []
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.exceptionThrown":
            errors.append(f"exception: {p['exceptionDetails'].get('text')} {p['exceptionDetails'].get('exception', {}).get('description', '')}")
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append("console.error: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
            errors.append(f"{p['entry']['source']}: {p['entry']['text']}")
        elif m == "Network.requestWillBeSent":
            url = p["request"]["url"]
            if url != page_url and not url.startswith("data:"):
                requests.append(url)
    return errors, requests


@pytest.fixture(scope="module")
def report_run(test_world, tmp_path_factory) -> tuple[Path, str]:
    """The test world's report for 2026-10, run as ``omni report`` is; its folder and its stderr."""
    out = tmp_path_factory.mktemp("site")
    run = subprocess.run([sys.executable, "-m", "omni", "report", "--data", str(test_world), "--month", MONTH,
                          "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr[-3000:]
    return out / MONTH, run.stderr


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    exe = chromium_path()
    if exe is None:
        msg = ("NO BROWSER: Chromium was not found (apt-get install chromium, or set OMNI_CHROMIUM); the report was "
               "NOT tested in a real browser")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + " and CI=true requires it", pytrace=False)
        pytest.skip(msg)
    b = Browser(exe, tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def visits(report_run, browser) -> dict[str, dict]:
    """Every page opened once: its events' problems, ids, links and sortable tables; a screenshot each."""
    month_dir, _ = report_run
    OUT.mkdir(parents=True, exist_ok=True)
    pages = sorted(month_dir.glob("*.html"))
    seen = {}
    for path in pages:
        url = path.as_uri()
        events = browser.open(url)
        errors, requests = problems(events, url)
        info = browser.js("""({
            ids: Array.from(document.querySelectorAll('[id]'), e => e.id),
            links: Array.from(document.querySelectorAll('.omni-sidebar a, .omni-toc a, a.omni-kpi-link'), a => a.href),
            sidebar: document.querySelectorAll('.omni-sidebar').length,
            toc: document.querySelectorAll('.omni-toc a').length,
            sortable: document.querySelectorAll('table.omni-sortable').length,
            large: Array.from(document.querySelectorAll('main table')).filter(t => t.tBodies.length && t.tBodies[0].rows.length > 15).length,
            plain_small: Array.from(document.querySelectorAll('main table')).filter(t => t.tBodies.length && t.tBodies[0].rows.length <= 15 && !t.classList.contains('omni-sortable')).length,
        })""")
        browser.screenshot(OUT / f"{path.stem}.png")
        seen[path.name] = {"url": url, "errors": errors, "requests": requests, **info}
    return seen


def test_report_run_prints_no_tcp_kernel_warning(report_run):
    _, stderr = report_run
    assert "[1/6] 01_data_audit" in stderr or "01_data_audit" in stderr  # the run's progress is on stderr
    assert "without encryption" not in stderr and "Kernel is running over TCP" not in stderr
    # shutting the finished kernels down does not interrupt them (runner._kernel_manager_class)
    assert "KeyboardInterrupt" not in stderr


def test_every_page_opens_without_console_errors_or_network_requests(visits):
    assert len(visits) == N_NOTEBOOKS + 1, sorted(visits)  # the index and every notebook
    for name, v in visits.items():
        assert not v["errors"], f"{name}: console errors {v['errors'][:5]}"
        assert not v["requests"], f"{name}: network requests {v['requests'][:5]}"
        assert v["sidebar"] == 1, f"{name} has no sidebar"
        if name != "index.html":
            assert v["toc"] >= 3, f"{name}: table of contents has {v['toc']} links"


def test_every_sidebar_toc_and_headline_link_lands_on_an_element(visits):
    ids = {name: set(v["ids"]) for name, v in visits.items()}
    checked = 0
    for name, v in visits.items():
        assert v["links"], f"{name} has no navigation links"
        for href in v["links"]:
            u = urlparse(href)
            assert u.scheme == "file", f"{name}: link {href} leaves the report"
            target = Path(unquote(u.path)).name
            assert target in ids, f"{name}: link {href} names a page that is not in the report"
            if u.fragment:
                assert unquote(u.fragment) in ids[target], f"{name}: link {href} has no target element"
            checked += 1
    index_links = visits["index.html"]["links"]
    assert sum("#" in h for h in index_links) >= 6 + 20  # every notebook's sections, and the headline numbers
    assert checked > 200


def test_large_tables_get_sorting_and_small_tables_stay_plain(visits):
    large = sum(v["large"] for v in visits.values())
    sortable = sum(v["sortable"] for v in visits.values())
    assert large >= 5, "the test world's report should have large tables"
    assert sortable == large
    assert sum(v["plain_small"] for v in visits.values()) > 20


TABLE = "document.querySelectorAll('table.omni-sortable')[{k}]"


def _column(browser, k: int, col: int) -> list[str]:
    return browser.js(f"Array.from({TABLE.format(k=k)}.tBodies[0].rows, r => r.cells[{col}].textContent.trim())")


def _as_number(text: str) -> float:
    return float(text.replace(",", "").replace("%", "").strip())


def _numeric_column(browser, month_dir: Path, visits: dict) -> tuple[str, int, int, str]:
    """A page, table and column of numbers that are not sorted yet (so a sort shows)."""
    for page, v in visits.items():
        if not v["sortable"]:
            continue
        browser.open((month_dir / page).as_uri())
        for k in range(v["sortable"]):
            heads = browser.js(f"Array.from({TABLE.format(k=k)}.tHead.rows[0].cells, c => c.textContent)")
            for col, head in enumerate(heads):
                try:
                    nums = [_as_number(x) for x in _column(browser, k, col)]
                except ValueError:
                    continue
                if len(set(nums)) > 3 and nums != sorted(nums) and nums != sorted(nums, reverse=True):
                    return page, k, col, head
    raise AssertionError("no large table with an unsorted column of numbers in the report")


def test_a_large_table_sorts_when_its_header_is_clicked_and_filters(visits, report_run, browser):
    month_dir, _ = report_run
    page, k, col, head = _numeric_column(browser, month_dir, visits)
    table = TABLE.format(k=k)
    box = browser.js(f"""(() => {{ const th = {table}.tHead.rows[0].cells[{col}];
        th.scrollIntoView({{block: 'center'}}); const r = th.getBoundingClientRect();
        return [r.left + r.width / 2, r.top + r.height / 2]; }})()""")
    browser.click(*box)  # a real mouse click on the header
    up = [_as_number(x) for x in _column(browser, k, col)]
    assert up == sorted(up), f"{page}: column {head!r} not ascending after a click: {up[:8]}"
    browser.click(*box)
    down = [_as_number(x) for x in _column(browser, k, col)]
    assert down == sorted(down, reverse=True), f"{page}: column {head!r} not descending after a second click"
    assert browser.js(f"{table}.tHead.rows[0].cells[{col}].getAttribute('aria-sort')") == "descending"
    browser.screenshot(OUT / f"{Path(page).stem}-sorted.png")

    # filter: type the first row's first cell; every row left shows it, some rows are hidden
    word = browser.js(f"{table}.tBodies[0].rows[0].cells[0].textContent.trim()")
    browser.js(f"{table}.previousElementSibling.querySelector('input').focus()")
    browser.send("Input.insertText", text=word)
    rows = browser.js(f"Array.from({table}.tBodies[0].rows).map(r => [r.hidden, r.textContent.toLowerCase()])")
    shown = [t for hidden, t in rows if not hidden]
    assert shown and all(word.lower() in t for t in shown)
    assert len(shown) < len(rows), f"filtering by {word!r} hid no row"
    assert not problems(browser.events, (month_dir / page).as_uri())[0]


def test_print_stylesheet_hides_navigation_and_prints_a_pdf(report_run, browser):
    month_dir, _ = report_run
    browser.open((month_dir / "02_identity_resolution.html").as_uri())
    shown = "getComputedStyle(document.querySelector('{}')).display"
    assert browser.js(shown.format(".omni-sidebar")) != "none"
    browser.send("Emulation.setEmulatedMedia", media="print")
    try:
        for sel in (".omni-sidebar", ".omni-toc"):
            assert browser.js(shown.format(sel)) == "none", f"{sel} is printed"
        assert browser.js("getComputedStyle(document.body).marginLeft") == "0px"
    finally:
        browser.send("Emulation.setEmulatedMedia", media="")
    pdf = base64.b64decode(browser.send("Page.printToPDF", printBackground=False, preferCSSPageSize=True)["data"])
    assert pdf.startswith(b"%PDF") and len(pdf) > 50_000
    (OUT / "02_identity_resolution.pdf").write_bytes(pdf)


def test_screenshots_are_written_for_every_page(visits):
    for name in visits:
        shot = OUT / f"{Path(name).stem}.png"
        assert shot.exists() and shot.stat().st_size > 20_000, f"no screenshot of {name}"


def test_the_policy_blocks_any_other_script_and_the_test_sees_it(browser, tmp_path):
    """A page with the report's policy, a script and an image from the network of its own: neither
    runs nor loads, and the console error and request they cause are what the other tests catch."""
    page = tmp_path / "planted.html"
    page.write_text(f"<!DOCTYPE html><html><head>{CSP_META}</head><body><p id=p>plain</p>"
                    "<script>document.getElementById('p').textContent = 'ran';</script>"
                    "<img src='http://example.invalid/x.png'></body></html>", encoding="utf-8")
    events = browser.open(page.as_uri())
    errors, requests = problems(events, page.as_uri())
    assert browser.js("document.getElementById('p').textContent") == "plain"
    assert any("Content Security Policy" in e for e in errors), errors
    # the image is seen as a request (what the other tests count) and blocked by the policy
    assert requests == ["http://example.invalid/x.png"], requests
    blocked = [e["params"].get("blockedReason") for e in events if e["method"] == "Network.loadingFailed"]
    assert "csp" in blocked, blocked


# Every distinct non-ASCII character of the page drawn in the page's own font stack on a canvas (the
# same font fallback as the page's text) and compared with two unassigned code points, which every
# font draws as its missing-glyph box: a character drawn like them is a box for the reader.
_MISSING_GLYPHS_JS = r"""(() => {
  const family = getComputedStyle(document.querySelector('main') || document.body).fontFamily;
  const c = document.createElement('canvas'); c.width = 40; c.height = 40;
  const ctx = c.getContext('2d', {willReadFrequently: true});
  ctx.font = `24px ${family}`; ctx.textBaseline = 'top';
  const draw = ch => { ctx.clearRect(0, 0, 40, 40); ctx.fillText(ch, 4, 4); return ctx.getImageData(0, 0, 40, 40).data.join(','); };
  const boxes = new Set([draw('\u0378'), draw('\u0379')]);
  const chars = [...new Set(document.body.innerText)].filter(ch => ch.codePointAt(0) > 0x2000 && ch.trim());
  return {family, checked: chars.length, cjk: chars.filter(ch => /[\u4e00-\u9fff]/.test(ch)).length,
          missing: chars.filter(ch => boxes.has(draw(ch))), probe_is_box: boxes.has(draw('\u0378'))};
})()"""


@pytest.fixture(scope="module")
def zh_report_run(test_world, tmp_path_factory) -> Path:
    """The test world's report in Chinese (``omni report --lang zh``), as a reader gets it."""
    out = tmp_path_factory.mktemp("site-zh")
    run = subprocess.run([sys.executable, "-m", "omni", "report", "--data", str(test_world), "--month", MONTH,
                          "--out", str(out), "--lang", "zh", "--quiet"], cwd=ROOT, capture_output=True, text=True,
                         timeout=1200)
    assert run.returncode == 0, run.stderr[-3000:]
    return out / MONTH


def test_zh_pages_show_no_missing_glyph_boxes(zh_report_run, browser):
    OUT.mkdir(parents=True, exist_ok=True)
    pages = sorted(zh_report_run.glob("*.html"))
    assert len(pages) == N_NOTEBOOKS + 1
    for path in pages:
        events = browser.open(path.as_uri())
        errors, requests = problems(events, path.as_uri())
        assert not errors and not requests, path.name
        got = browser.js(_MISSING_GLYPHS_JS)
        assert got["probe_is_box"], "the probe must see an unassigned code point as a box"
        assert got["cjk"] > 100, f"{path.name}: hardly any Chinese text ({got['cjk']} characters)"
        assert got["missing"] == [], f"{path.name}: drawn as boxes in {got['family']}: {''.join(got['missing'][:40])}"
        browser.screenshot(OUT / f"zh-{path.stem}.png")
