r"""Escaping for reports: data-borne text is shown as text, never as markup.

Every value that comes from the data (a campaign name, a category, a city, a channel) and ends up in a
report passes through this module on its way into Markdown or HTML. Templates written in the code may
use markup (``**bold**``); the values substituted into them may not:

>>> md("**{name}** lifted {x:.1%}", name="<img src=x onerror=alert(1)>", x=0.123)
'**&lt;img src\\=x onerror\\=alert\\(1\\)&gt;** lifted 12.3%'

:func:`render_markdown` is the backstop: it turns Markdown into HTML with raw HTML escaped and
``javascript:`` (and other harmful) link targets dropped, so a value that skipped :func:`md` still
cannot become live markup. The report pages also carry :data:`CSP`, a Content-Security-Policy that
allows exactly one script, the package's own table sorter (:data:`SITE_SCRIPT`, inlined and allowed
by its SHA-256), and forbids every other script, every network request and every external resource. Figures are images, not markup; their labels carry data too, so report figures
switch matplotlib's mathtext off (``text.parse_math``, :func:`omni.reporting.display.use_report_style`):
a ``$`` in a category name is drawn as a dollar sign instead of starting TeX.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import numbers
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["CSP", "CSP_META", "SITE_SCRIPT", "SITE_SCRIPT_HASH", "SITE_SCRIPT_TAG", "MarkdownFormatter", "escape_html", "escape_md", "md", "md_join",
           "md_table", "render_markdown"]

#: The one script a report page may run: sorts, filters and searches large tables offline
#: (``omni/templates/omni_report/omni_site.js``, shipped in the package, inlined into each page).
SITE_SCRIPT: str = (Path(__file__).resolve().parent.parent / "templates" / "omni_report" / "omni_site.js").read_text(
    encoding="utf-8")
if "</" in SITE_SCRIPT:  # it could close its own <script> element
    raise RuntimeError("omni_site.js must not contain '</'")
#: CSP source of :data:`SITE_SCRIPT`: its SHA-256, computed here from the very text that is inlined.
SITE_SCRIPT_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(SITE_SCRIPT.encode("utf-8")).digest()).decode() + "'"
#: The inline ``<script>`` element of :data:`SITE_SCRIPT` (byte for byte what the hash covers).
SITE_SCRIPT_TAG = f"<script>{SITE_SCRIPT}</script>"

#: Content-Security-Policy of every report page: offline (no request of any kind), images and fonts
#: inline, and no script but :data:`SITE_SCRIPT` (no ``'unsafe-inline'``, no ``eval``, no source).
CSP = (
    f"default-src 'none'; script-src {SITE_SCRIPT_HASH}; img-src data:; style-src 'unsafe-inline'; "
    "font-src data:; connect-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'"
)
#: The ``<meta>`` element that applies :data:`CSP` to a page (put it first in ``<head>``).
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'

# Characters HTML gives a meaning to: replaced by entities (CommonMark renders entities as the character).
_HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
# Markdown specials (emphasis, links, images, code, headings, lists, tables, math, autolinks, escapes):
# backslash-escaped, which CommonMark defines for every ASCII punctuation character.
_MD_SPECIALS = "\\`*_{}[]()#+-.!|~$^:@="
_MD_TABLE = str.maketrans({**_HTML_ENTITIES, **{c: "\\" + c for c in _MD_SPECIALS}})
_NEWLINES = str.maketrans({"\r": " ", "\n": " ", "\t": " ", "\v": " ", "\f": " "})


def escape_html(value: Any) -> str:
    """Text for HTML: ``& < > " '`` become entities, so the value shows as typed.

    Parameters
    ----------
    value : Any
        Converted with ``str`` first (``None`` becomes ``"None"``).

    Returns
    -------
    str
        Safe inside element content and inside quoted attribute values.
    """
    return html.escape(str(value), quote=True)


def escape_md(value: Any) -> str:
    """Text for Markdown that renders literally, in any CommonMark renderer.

    HTML characters (``& < > " '``) become entities, so no tag or autolink (``<http://...>``) can
    form; Markdown specials (``\\ ` * _ { } [ ] ( ) # + - . ! | ~ $ ^ : @ =``) are backslash-escaped, so
    no emphasis, link, image, code span, heading, list, table cell, math or bare-URL autolink can form;
    line breaks become spaces, so a value cannot start a new block.

    Parameters
    ----------
    value : Any
        Converted with ``str`` first.

    Returns
    -------
    str
        Markdown source whose rendering is the text of ``value``.
    """
    return str(value).translate(_NEWLINES).translate(_MD_TABLE)


def _passes_through(value: Any) -> bool:
    # a number or a date formatted by the template's own spec is not data-borne text
    if isinstance(value, bool):
        return False
    return isinstance(value, (numbers.Number, dt.date, dt.datetime))


class MarkdownFormatter(string.Formatter):
    """A :class:`string.Formatter` that escapes every substituted value for Markdown.

    The template (code) keeps its markup; each field is formatted with its format spec first and the
    result escaped with :func:`escape_md`. Numbers and dates are formatted by the template's spec and
    passed through (``-3.5%`` stays readable in the notebook source); anything else is escaped.
    """

    def format_field(self, value: Any, format_spec: str) -> str:
        """Format ``value`` with ``format_spec``, then escape it unless it is a number or date."""
        out = format(value, format_spec)
        return out if _passes_through(value) else escape_md(out)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        """Apply ``!r``/``!s``/``!a``; the converted text is escaped like any other value."""
        return value if conversion is None else str(super().convert_field(value, conversion))


_FORMATTER = MarkdownFormatter()


def md(template: str, /, *args: Any, **kwargs: Any) -> str:
    """Fill a Markdown template like :meth:`str.format`, escaping every substituted value.

    Parameters
    ----------
    template : str
        Markdown written in the code, with ``str.format`` fields (``"**{name}** lifted {x:.1%}"``).
    *args, **kwargs
        The values; each is formatted with its field's spec, then escaped with :func:`escape_md`.

    Returns
    -------
    str
        Markdown in which only the template's own markup is live.
    """
    return _FORMATTER.vformat(template, args, kwargs)


def md_join(values: Sequence[Any], sep: str = ", ", wrap: str = "") -> str:
    """Escape each value, wrap it (``wrap="**"`` for bold) and join: a Markdown list in running text.

    Parameters
    ----------
    values : sequence
        Data-borne values.
    sep : str
        Separator (code, not escaped).
    wrap : str
        Markup put on both sides of each escaped value (code, not escaped).
    """
    return sep.join(f"{wrap}{escape_md(v)}{wrap}" for v in values)


def md_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A Markdown (GFM) table of escaped cells; headers are escaped too.

    Parameters
    ----------
    rows : sequence of mapping
        One mapping per row.
    columns : sequence of str, optional
        Column order; defaults to the keys of the first row.
    """
    cols = list(columns if columns is not None else (rows[0].keys() if rows else []))
    if not cols:
        return ""
    head = "| " + " | ".join(escape_md(c) for c in cols) + " |"
    rule = "|" + "|".join("---" for _ in cols) + "|"
    body = ["| " + " | ".join(escape_md(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def render_markdown(text: str) -> str:
    """Markdown to HTML with raw HTML shown as text and harmful link targets dropped.

    The backstop for narrative text: whatever a template or value contains, the result has no tag
    other than those Markdown itself produces and no ``javascript:``/``vbscript:``/``data:`` link.

    Parameters
    ----------
    text : str
        Markdown.

    Returns
    -------
    str
        HTML.
    """
    import mistune
    from mistune.util import escape as escape_text

    class _Renderer(mistune.HTMLRenderer):
        # text keeps its entities (&lt; from escape_md stays one character); raw HTML is shown as text
        def inline_html(self, html: str) -> str:
            return escape_text(html)

        def block_html(self, html: str) -> str:
            return "<p>" + escape_text(html.strip()) + "</p>\n"

    renderer = _Renderer(escape=False, allow_harmful_protocols=False)
    return str(mistune.create_markdown(renderer=renderer, plugins=["strikethrough", "table"])(text))
