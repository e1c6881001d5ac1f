"""Display helpers for report notebooks: headline numbers, readable tables, notes, plot style."""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from omni.core import i18n
from omni.core.blocks import Block
from omni.core.markup import escape_html, md, render_markdown
from omni.core.result import Figure, MonthResult

__all__ = ["CJK_FONT_ENV", "METRICS_MIME", "cjk_font_path", "headline", "note", "show", "table", "use_report_style"]

METRICS_MIME = "application/vnd.omni.metrics+json"


def _fmt(value: Any, fmt: str | None) -> str:
    if value is None or (np.ndim(value) == 0 and not isinstance(value, str) and pd.isna(value)):
        return "–"
    if fmt:
        return fmt.format(value)
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if isinstance(value, (float, np.floating)):
        return f"{value:,.3g}" if abs(value) < 1 else f"{value:,.1f}"
    return str(value)


def _fmt_tile(value: Any, fmt: str | None) -> str:
    """A headline tile's value: as :func:`_fmt`, but large numbers in 万/亿 in Chinese reports."""
    if (i18n.current_lang() == "zh" and not (fmt and "%" in fmt) and not isinstance(value, bool)
            and isinstance(value, (int, float, np.integer, np.floating)) and abs(value) >= 1e4):
        short = i18n.short_number(float(value))
        if short is not None:
            return short
    return _fmt(value, fmt)


def headline(metrics: MonthResult | Sequence[Figure | Mapping[str, Any]], title: str | None = None) -> None:
    """Show headline numbers as cards and hand them to the report runner.

    Parameters
    ----------
    metrics : MonthResult, or sequence of Figure or dict
        An analysis result (its ``headline``), or figures: each with ``key`` (stable name for
        metrics.json), ``label`` (shown), ``value`` (a number or short text), and optionally
        ``unit`` (shown after the value), ``fmt`` (a ``str.format`` pattern such as ``"{:.1%}"``)
        and ``better`` (``"up"`` or ``"down"``, for month-over-month arrows in the index), and
        ``previous`` (the figure for the previous month, where the analysis computed it: the index
        compares with it, marked "computed now", when there is no previous report).
    title : str, optional
        A heading shown above the cards.

    Notes
    -----
    The cards carry an anchor id (from their keys), passed to the runner with each metric
    (``anchor``): the index links every number to the section of the page it comes from.
    """
    from IPython.display import display

    if isinstance(metrics, MonthResult):
        metrics = metrics.headline
    cards = []
    payload = []
    for m in metrics:
        if isinstance(m, Figure):
            m = m.as_dict()
        value = m["value"]
        if isinstance(value, (np.integer,)):
            value = int(value)
        elif isinstance(value, (np.floating,)):
            value = float(value)
        label = i18n.term(m["label"])  # as registered by the domain's narrative (Chinese reports)
        unit = i18n.unit(m.get("unit"))
        shown = _fmt_tile(value, m.get("fmt")) + unit
        cards.append(
            f'<div class="omni-kpi"><div class="v">{escape_html(shown)}</div>'
            f'<div class="l">{escape_html(label)}</div></div>'
        )
        payload.append({k: (value if k == "value" else label if k == "label" else m.get(k))
                        for k in ("key", "label", "value", "unit", "fmt", "better")})
        if m.get("previous") is not None:  # the previous month's figure, where the analysis has it
            prev = m["previous"]
            payload[-1]["previous"] = (int(prev) if isinstance(prev, np.integer) else
                                       float(prev) if isinstance(prev, np.floating) else prev)
    anchor = "kpi-" + hashlib.sha1("|".join(str(p["key"]) for p in payload).encode("utf-8")).hexdigest()[:10]
    for p in payload:
        p["anchor"] = anchor
    head = f"<h3>{escape_html(title)}</h3>" if title else ""
    text = "\n".join(f"{p['label']}: {_fmt_tile(p['value'], p.get('fmt'))}{i18n.unit(p.get('unit'))}" for p in payload)
    display(
        {
            "text/html": head + f'<div class="omni-headline" id="{anchor}">' + "".join(cards) + "</div>",
            "text/plain": text,
            METRICS_MIME: json.loads(json.dumps(payload, default=str)),
        },
        raw=True,
    )


def table(
    df: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    max_rows: int = 25,
    caption: str | None = None,
    index: bool = False,
) -> None:
    """Show a DataFrame as a compact, formatted HTML table (at most ``max_rows`` rows).

    Parameters
    ----------
    df : DataFrame
    formats : dict, optional
        Column -> ``str.format`` pattern (``"{:,.0f}"``, ``"{:.1%}"``). Numbers without a format get
        thousands separators.
    max_rows : int
        Rows shown; a note says how many were left out.
    caption : str, optional
    index : bool
        Show the index as the first column.
    """
    from IPython.display import HTML, display

    formats = dict(formats or {})
    d = df.reset_index() if index else df
    shown = d.head(max_rows)
    head = "".join(f"<th>{escape_html(i18n.term(c))}</th>" for c in shown.columns)
    body = []
    for row in shown.itertuples(index=False):
        cells = []
        for c, v in zip(shown.columns, row, strict=True):
            text = _fmt(v, formats.get(str(c)))
            if isinstance(v, str):  # category labels registered by the domains (Chinese reports)
                text = i18n.term(text)
            cells.append(f"<td>{escape_html(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption style='caption-side:top;text-align:left;font-weight:600'>{escape_html(i18n.term(caption))}</caption>" if caption else ""
    shown_of = i18n.tr(f"Showing {max_rows:,} of {len(d):,} rows.", f"显示 {len(d):,} 行中的前 {max_rows:,} 行。")
    more = f"<p class='omni-note'>{shown_of}</p>" if len(d) > max_rows else ""
    display(HTML(f"<table class='omni-table'>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"))


def note(template: str, /, *args: Any, **kwargs: Any) -> None:
    """Show a short interpretation in Markdown; data-borne values are escaped.

    Parameters
    ----------
    template : str
        Markdown written in the code. With values, a ``str.format`` template filled by
        :func:`omni.core.markup.md` (every value escaped: ``note("**{c}** leads", c=channel)``).
        Without values it is shown as given: build it with ``md``/``escape_md`` when it holds data.
    *args, **kwargs
        Values for the template's fields.

    Notes
    -----
    The note is rendered to HTML here, with raw HTML shown as text and ``javascript:`` links dropped
    (:func:`omni.core.markup.render_markdown`); the Markdown source is kept beside it.
    """
    from IPython.display import display

    text = md(template, *args, **kwargs) if args or kwargs else template
    rendered = render_markdown(text)
    plain = html.unescape(re.sub(r"<[^>]*>", "", rendered)).strip()  # what a reader sees, for consoles
    display({"text/html": f'<div class="omni-md">{rendered}</div>', "text/markdown": text, "text/plain": plain}, raw=True)


def show(blocks: Iterable[Block]) -> None:
    """Show a section's blocks in order: Markdown with :func:`note`, tables with :func:`table`,
    figures as images (each figure closed once shown).

    Parameters
    ----------
    blocks : iterable of omni.core.blocks.Block
        As a domain's ``section.py`` returns them.
    """
    import matplotlib.pyplot as plt
    from IPython.display import display

    for block in blocks:
        if block.kind == "markdown":
            note(block.content)
        elif block.kind == "table":
            table(block.content, formats=block.formats, max_rows=block.max_rows, caption=block.caption,
                  index=block.index)
        elif block.kind == "figure":
            display(block.content)
            plt.close(block.content)
        else:
            raise ValueError(f"show: unknown block kind {block.kind!r} (markdown, table or figure)")


#: Environment variable naming a CJK font file (.ttf/.otf/.ttc) to draw Chinese report charts with.
CJK_FONT_ENV = "OMNI_CJK_FONT"
#: Where the system packages put the CJK fonts reports use, first choice first (docs/reports.md):
#: WenQuanYi Micro Hei (Debian fonts-wqy-microhei, installed by ``make setup`` and ``.ci/run``), then
#: Noto Sans CJK (fonts-noto-cjk).
CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


def cjk_font_path() -> str | None:
    """The CJK font file Chinese charts are drawn with: :data:`CJK_FONT_ENV`, else the first of
    :data:`CJK_FONT_FILES` that exists (None when there is none)."""
    import os

    given = os.environ.get(CJK_FONT_ENV)
    if given:
        if not os.path.isfile(given):
            raise FileNotFoundError(f"{CJK_FONT_ENV}={given}: no such font file")
        return given
    return next((f for f in CJK_FONT_FILES if os.path.isfile(f)), None)


def _cjk_font_family() -> str:
    """Register the CJK font with matplotlib and return its family name.

    Raises
    ------
    FileNotFoundError
        No CJK font is installed: Chinese labels would be drawn as boxes.
    """
    from matplotlib import font_manager

    path = cjk_font_path()
    if path is None:
        raise FileNotFoundError(
            "Chinese report charts need a CJK font and none is installed: run `make setup` (it installs the "
            f"Debian package fonts-wqy-microhei) or set {CJK_FONT_ENV} to a .ttf/.otf/.ttc font file"
        )
    font_manager.fontManager.addfont(path)  # also when matplotlib's font cache predates the install
    return font_manager.FontProperties(fname=path).get_name()


class _SingleWeightFont(logging.Filter):
    """Drops matplotlib's "Failed to find font weight bold" notice: the CJK font has one weight,
    which bold titles then use (nothing is missing from the picture). Other messages pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("findfont: Failed to find font weight")


def _quiet_single_weight_font() -> None:
    log = logging.getLogger("matplotlib.font_manager")
    if not any(isinstance(f, _SingleWeightFont) for f in log.filters):
        log.addFilter(_SingleWeightFont())


def use_report_style(lang: str | None = None) -> None:
    """Matplotlib defaults for reports: readable sizes, CJK-capable fonts, PNG output.

    Parameters
    ----------
    lang : {"en", "zh"}, optional
        The report language (the notebooks' ``lang`` parameter); sets
        :func:`omni.core.i18n.current_lang` for the notes, tables and charts that follow. Chinese
        charts are drawn with the CJK font of :func:`cjk_font_path` (an error when none is installed).
    """
    import matplotlib as mpl

    if lang is not None:
        i18n.set_lang(lang)
    sans = ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "SimHei", "DejaVu Sans"]
    if i18n.current_lang() == "zh":
        sans = [_cjk_font_family(), "DejaVu Sans"]
        _quiet_single_weight_font()
    mpl.rcParams.update(
        {
            "figure.figsize": (8, 4),
            "figure.dpi": 100,
            "axes.titlesize": 12,
            "axes.titleweight": "bold",
            "axes.labelsize": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "font.family": "sans-serif",
            "font.sans-serif": sans,
            "axes.unicode_minus": False,
            "svg.hashsalt": "omni",
            # labels carry data (channel, campaign, category names): a "$" must not start mathtext
            "text.parse_math": False,
        }
    )
