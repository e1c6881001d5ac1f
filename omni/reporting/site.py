"""The month's report as a small offline site: a sidebar on every page, a table of contents per notebook.

The sidebar lists every notebook of the run and its sections (``h2``/``h3`` headings), so it is known
only once all notebooks ran: :func:`build_site` post-processes the exported pages then. Everything
stays static HTML in one self-contained file per page: no fetch, no frame, no external file. The
pages' only script is :data:`omni.core.markup.SITE_SCRIPT` (sortable, searchable large tables),
allowed by its hash in the Content-Security-Policy.

Headline tiles (:func:`omni.reporting.display.headline`) carry an anchor id; :func:`build_site` finds
the section each comes from (the nearest heading before it) and records it in the metrics, so the
index links every headline number to its section.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from omni.core.i18n import month_label, tr
from omni.core.markup import escape_html

__all__ = ["NAV_MARK", "SITE_CSS", "Page", "Section", "build_site", "page_sections", "sidebar_html", "toc_html"]

#: Styles of the site (sidebar, table of contents, sortable tables, print), shared by every page.
SITE_CSS: str = (Path(__file__).resolve().parent.parent / "templates" / "omni_report" / "omni_site.css").read_text(
    encoding="utf-8")
#: Where a page wants its navigation (written by the template and the index; replaced by :func:`build_site`).
NAV_MARK = "<!--omni:nav-->"

_HEADING = re.compile(r"<h([1-3])(\s[^>]*)?>(.*?)</h\1\s*>", re.S | re.I)
_ID_ATTR = re.compile(r"""\sid\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_ANCHOR = re.compile(r"""<div class="omni-headline" id="([A-Za-z0-9_-]+)\"""")
_TAG = re.compile(r"<[^>]*>")
_BODY = re.compile(r"<body([^>]*)>", re.I)
_FRAGMENT_SAFE = "-_.~!$'()*+,;=:@/?"  # kept as typed in a fragment; anything else percent-encoded


@dataclass(frozen=True)
class Section:
    """A heading of a page: its level (2 or 3), its id and its visible text."""

    level: int
    id: str
    title: str


@dataclass
class Page:
    """A notebook page of the site: file name without ``.html``, title, sections, headline anchors."""

    name: str
    title: str
    sections: list[Section] = field(default_factory=list)
    #: headline anchor id -> id of the section it sits in (the nearest heading before it)
    anchors: dict[str, str] = field(default_factory=dict)


def _heading_text(inner: str) -> str:
    """Visible text of a heading's inner HTML (tags and the ``¶`` anchor link dropped, entities read)."""
    inner = re.sub(r"<a\b[^>]*class=\"anchor-link\"[^>]*>.*?</a>", "", inner, flags=re.S)
    return " ".join(html.unescape(_TAG.sub("", inner)).split())


def _href(page: str, anchor: str | None = None) -> str:
    """An escaped ``href`` value: ``page.html`` or ``page.html#anchor`` (the anchor percent-encoded)."""
    target = f"{quote(page)}.html" + (f"#{quote(anchor, safe=_FRAGMENT_SAFE)}" if anchor else "")
    return escape_html(target)


def page_sections(page_html: str) -> tuple[str, list[Section], dict[str, str]]:
    """Give every ``h1``-``h3`` an id and list the page's sections and headline anchors.

    Parameters
    ----------
    page_html : str
        An exported notebook page.

    Returns
    -------
    html : str
        The page with an id on every heading (where a heading had none: its text with dashes for
        spaces, made unique).
    sections : list of Section
        The ``h2`` and ``h3`` headings in page order.
    anchors : dict of str to str
        Headline anchor (``<div class="omni-headline" id=...>``) -> id of the nearest heading before it
        (any level, so a headline under the page title points at the title).
    """
    used = set(_ID_ATTR.findall(page_html))
    used = {a or b for a, b in used}
    sections: list[Section] = []
    out: list[str] = []
    last = 0
    marks: list[tuple[int, str]] = []  # (position, heading id) of every heading, to place the anchors
    for m in _HEADING.finditer(page_html):
        level, attrs, inner = int(m.group(1)), m.group(2) or "", m.group(3)
        found = _ID_ATTR.search(attrs)
        if found:
            hid = html.unescape(found.group(1) if found.group(1) is not None else found.group(2))
            tag = m.group(0)
        else:  # like nbconvert's ids: the text with dashes for spaces; made unique
            base = "-".join(_heading_text(inner).split()) or "section"
            hid, n = base, 1
            while hid in used:
                n += 1
                hid = f"{base}-{n}"
            used.add(hid)
            tag = f'<h{level} id="{escape_html(hid)}"{attrs}>{inner}</h{level}>'
        out.append(page_html[last:m.start()])
        out.append(tag)
        last = m.end()
        marks.append((m.start(), hid))
        title = _heading_text(inner)
        if level >= 2 and title:
            sections.append(Section(level, hid, title))
    out.append(page_html[last:])
    anchors: dict[str, str] = {}
    for a in _ANCHOR.finditer(page_html):
        before = [hid for pos, hid in marks if pos < a.start()]
        anchors[a.group(1)] = before[-1] if before else a.group(1)
    return "".join(out), sections, anchors


def sidebar_html(pages: Sequence[Page], current: str | None = None, month: str = "") -> str:
    """The sidebar: a link to the index, then every notebook and its ``h2``/``h3`` sections.

    A notebook's sections fold (``<details>``, no script needed): open on that notebook's page.

    Parameters
    ----------
    pages : sequence of Page
    current : str, optional
        Name of the page the sidebar is on (``"index"`` for the index), marked ``aria-current``.
    month : str
        Shown in the link to the index.
    """
    home_cur = ' aria-current="page"' if current == "index" else ""
    items = []
    for p in pages:
        cur = ' aria-current="page"' if p.name == current else ""
        subs = "".join(
            f'<li class="h{s.level}"><a href="{_href(p.name, s.id)}">{escape_html(s.title)}</a></li>'
            for s in p.sections
        )
        link = f'<a href="{_href(p.name)}"{cur}>{escape_html(p.title)}</a>'
        if subs:  # sections fold away (no script: <details>), open on the notebook's own page
            link = f'<details{" open" if cur else ""}><summary>{link}</summary><ul>{subs}</ul></details>'
        items.append(f'<li class="nb">{link}</li>')
    name = tr("omni report", "omni 报告")
    label = f"{name} · {escape_html(month_label(month) if month else '')}" if month else name
    return (f'<nav class="omni-sidebar" aria-label="{tr("Report", "报告")}"><a class="omni-home" href="index.html"{home_cur}>'
            f'{label}</a><ul>{"".join(items)}</ul></nav>')


def toc_html(sections: Sequence[Section]) -> str:
    """The sticky table of contents of one page (empty when it has no sections)."""
    if not sections:
        return ""
    items = "".join(
        f'<li class="h{s.level}"><a href="#{escape_html(quote(s.id, safe=_FRAGMENT_SAFE))}">{escape_html(s.title)}</a></li>'
        for s in sections
    )
    here = tr("On this page", "本页目录")
    return f'<nav class="omni-toc" aria-label="{here}"><div class="omni-toc-title">{here}</div><ul>{items}</ul></nav>'


def _with_nav(page_html: str, nav: str, classes: str) -> str:
    """Put ``nav`` at :data:`NAV_MARK` (or right after ``<body>``) and add ``classes`` to ``<body>``."""
    m = _BODY.search(page_html)
    if m is None:
        raise ValueError("the page has no <body> element")
    attrs = m.group(1)
    cls = re.search(r'class="([^"]*)"', attrs)
    new_attrs = (attrs[:cls.start()] + f'class="{cls.group(1)} {classes}"' + attrs[cls.end():] if cls
                 else f'{attrs} class="{classes}"')
    page_html = page_html[:m.start()] + f"<body{new_attrs}>" + page_html[m.end():]
    if NAV_MARK in page_html:
        return page_html.replace(NAV_MARK, nav, 1)
    m = _BODY.search(page_html)
    return page_html[:m.end()] + nav + page_html[m.end():]


def build_site(month_dir: Path, metrics: Mapping[str, Any]) -> str:
    """Link the month's pages into a site; returns the sidebar for the index.

    Each notebook page (``<name>.html`` for every notebook of ``metrics["notebooks"]``) gets ids on its
    headings, the sidebar and its table of contents. Every headline metric with an ``anchor`` gains a
    ``section`` (``"<name>.html#<heading id>"``, relative to the month folder): where the index links it.

    Parameters
    ----------
    month_dir : Path
        The month's report folder.
    metrics : mapping
        The run's metrics (``month``, ``notebooks`` -> name -> ``title``, ``metrics``); updated in place.

    Returns
    -------
    str
        The sidebar HTML for ``index.html``.
    """
    pages: list[Page] = []
    texts: dict[str, str] = {}
    for name, nb in metrics["notebooks"].items():
        path = month_dir / f"{name}.html"
        if not path.exists():
            continue
        text, sections, anchors = page_sections(path.read_text(encoding="utf-8"))
        pages.append(Page(name, nb.get("title") or name, sections, anchors))
        texts[name] = text
    month = str(metrics.get("month", ""))
    for p in pages:
        toc = toc_html(p.sections)
        nav = sidebar_html(pages, current=p.name, month=month) + toc
        page = _with_nav(texts[p.name], nav, "omni-site omni-has-toc" if toc else "omni-site")
        (month_dir / f"{p.name}.html").write_text(page, encoding="utf-8")
        for m in metrics["notebooks"][p.name].get("metrics", {}).values():
            anchor = m.get("anchor")
            if anchor:
                m["section"] = f"{quote(p.name)}.html#{quote(p.anchors.get(anchor, anchor), safe=_FRAGMENT_SAFE)}"
    return sidebar_html(pages, current="index", month=month)
