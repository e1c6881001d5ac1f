"""omni.core.markup: data-borne text renders as typed, never as markup, in the renderer nbconvert uses."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from omni.core.markup import (
    CSP,
    CSP_META,
    escape_html,
    escape_md,
    md,
    md_join,
    md_table,
    render_markdown,
)

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "![x](javascript:alert(1))",
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "<a href='javascript:alert(1)'>x</a>",
    "<http://evil.example/>",
    "https://evil.example/x",
    "www.evil.example",
    "$\\alpha$",
    "$$x$$",
    "{0}",
    "{name}",
    "**bold** _it_ `code` ~~del~~",
    "# heading",
    "- item",
    "1. item",
    "> quote",
    "a | b",
    "line one\n# two\n<div onclick=x>",
    "back\\slash \\*",
    "&lt;already&gt; &amp; &#x27;",
    "双11 <b>促销</b>",
]


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Html:
    p = _Html()
    p.feed(html)
    p.close()
    return p


def _visible(html: str) -> str:
    return re.sub(r"\s+", " ", "".join(_parse(html).text)).strip()


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("render", [markdown2html_mistune, render_markdown], ids=["nbconvert", "render_markdown"])
def test_escape_md_renders_the_value_as_typed_and_nothing_else(value, render):
    html = render(escape_md(value))
    tags = _parse(html).tags
    assert [t for t, _ in tags] == ["p"], f"{value!r} became markup: {html}"
    assert _visible(html) == re.sub(r"\s+", " ", value).strip()


@pytest.mark.parametrize("value", HOSTILE)
def test_md_keeps_the_template_markup_and_escapes_each_value(value):
    text = md("**{name}** lifted {x:.1%} in {month}, {n:,} people", name=value, x=-0.0123, month="2026-10", n=12345)
    html = markdown2html_mistune(text)
    tags = [t for t, _ in _parse(html).tags]
    assert tags == ["p", "strong"], html
    assert _visible(html) == re.sub(r"\s+", " ", f"{value} lifted -1.2% in 2026-10, 12,345 people").strip()
    # numbers formatted by the template's spec stay readable in the Markdown source
    assert "-1.2%" in text and "12,345" in text


def test_md_positional_fields_conversions_and_literal_braces():
    assert md("{} and {!r} {{x}}", "a*b", "c") == "a\\*b and &#x27;c&#x27; {x}"
    assert md("{0}/{0}", "_") == "\\_/\\_"
    # a value that looks like a field is not formatted again
    assert markdown2html_mistune(md("{v}", v="{0} {v}")).strip() == "<p>{0} {v}</p>"
    assert md("{d:%Y-%m}", d=__import__("datetime").date(2026, 10, 1)) == "2026-10"
    assert md("{b}", b=True) == "True"


def test_md_join_and_md_table():
    assert md_join(["a_b", "<c>"], wrap="**") == "**a\\_b**, **&lt;c&gt;**"
    table = md_table([{"channel": "a|b", "share": "<img src=x onerror=alert(1)>"}, {"channel": "[x](javascript:y)", "share": 1}])
    html = markdown2html_mistune(table)
    tags = {t for t, _ in _parse(html).tags}
    assert tags == {"table", "thead", "tbody", "tr", "th", "td"}, html
    cells = [c for c in _parse(html).text if c.strip()]
    assert cells == ["channel", "share", "a|b", "<img src=x onerror=alert(1)>", "[x](javascript:y)", "1"]
    assert md_table([]) == ""


def test_escape_html_escapes_quotes_for_attributes():
    assert escape_html('"><svg onload=alert(1)>') == "&quot;&gt;&lt;svg onload=alert(1)&gt;"
    assert escape_html("it's & <b>") == "it&#x27;s &amp; &lt;b&gt;"
    assert escape_html(None) == "None"
    page = _parse(f"<a title='{escape_html(chr(39) + ' onmouseover=alert(1) x=' + chr(39))}'>t</a>")
    assert page.tags == [("a", {"title": "' onmouseover=alert(1) x='"})]


def test_render_markdown_is_a_backstop_for_unescaped_text():
    html = render_markdown("**ok** <img src=x onerror=alert(1)> [x](javascript:alert(1)) ![i](javascript:alert(2))\n\n"
                           "<div onclick=alert(1)>y</div>\n\n<script>alert(1)</script>")
    tags = _parse(html).tags
    assert {t for t, _ in tags} <= {"p", "strong", "a", "img"}
    for _, attrs in tags:
        assert not any(k.startswith("on") for k in attrs)
        assert not any(str(v).startswith("javascript:") for v in attrs.values())
    assert "<img src=x onerror=alert(1)>" in _visible(html)
    assert "<script>alert(1)</script>" in _visible(html)
    # escaped text keeps its entities (one character each), the template's markup stays live
    assert render_markdown(md("**{v}**", v="<b>&")).strip() == "<p><strong>&lt;b&gt;&amp;</strong></p>"


def test_csp_allows_only_the_reports_script_and_inline_images_and_styles():
    from omni.core.markup import SITE_SCRIPT_HASH

    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["default-src"] == "'none'" and directives["script-src"] == SITE_SCRIPT_HASH
    assert directives["connect-src"] == "'none'"
    assert directives["img-src"] == "data:" and directives["style-src"] == "'unsafe-inline'"
    assert directives["base-uri"] == "'none'" and directives["form-action"] == "'none'"
    meta = _parse(CSP_META).tags
    assert meta == [("meta", {"http-equiv": "Content-Security-Policy", "content": CSP})]


def test_report_figures_draw_a_dollar_sign_in_data_labels():
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from omni.reporting.display import use_report_style

    with matplotlib.rc_context():
        use_report_style()
        fig, ax = plt.subplots()
        ax.set_title("$\\frac$ campaign")  # would not parse as mathtext
        ax.set_yticks([0, 1], ["$\\alpha$", "50$ off"])
        fig.savefig(io.BytesIO(), format="png")
        assert ax.title.get_text() == "$\\frac$ campaign"
        plt.close(fig)


def test_note_escapes_values_and_renders_safe_html(monkeypatch):
    import IPython.display

    from omni.reporting.display import note

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append(obj))
    note("**{c}** leads with {x:.1%}", c="<img src=x onerror=alert(1)> [x](javascript:alert(1))", x=0.5)
    note("unescaped <script>alert(1)</script> [x](javascript:alert(1))")  # the backstop
    first, second = shown
    assert first["text/plain"] == "<img src=x onerror=alert(1)> [x](javascript:alert(1)) leads with 50.0%"
    assert [t for t, _ in _parse(first["text/html"]).tags] == ["div", "p", "strong"]
    assert [t for t, _ in _parse(markdown2html_mistune(first["text/markdown"])).tags] == ["p", "strong"]
    tags = _parse(second["text/html"]).tags
    assert [t for t, _ in tags] == ["div", "p", "a"] and tags[-1][1]["href"] == "#harmful-link"
    assert "<script>alert(1)</script>" in second["text/plain"]
