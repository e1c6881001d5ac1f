"""The report language: which one is in force, how words and numbers are put in it.

Reports are written in English (``"en"``, the default) or Chinese (``"zh"``). The mechanism lives
here once; the words live with the code that writes them:

- running text is written in both languages side by side, ``tr("Completeness by source",
  "各数据源完整度")``, in each domain's ``narrative.py`` (notes) and ``plots.py`` (chart labels);
- short terms that the shared display code shows (headline labels, table column names, units) are
  registered by each domain's ``narrative.py`` with :func:`add_terms` and looked up with :func:`term`;
- numbers and months are formatted by :func:`short_number` (``1.2万``, ``3.4亿``) and
  :func:`month_label` (``2026年10月``).

Escaping is not done here: a translated template goes through :func:`omni.core.markup.md` like the
English one.

>>> with using_lang("zh"):
...     short_number(12_345), month_label("2026-10"), tr("month", "月份")
('1.2万', '2026年10月', '月份')
>>> short_number(12_345)
'12,345'
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from omni.core.errors import OmniError

__all__ = ["DEFAULT_LANG", "LANGS", "LanguageError", "add_terms", "check_lang", "current_lang", "month_label",
           "relabel", "short_number", "term", "tr", "unit", "using_lang", "set_lang"]

#: The report languages.
LANGS: tuple[str, ...] = ("en", "zh")
DEFAULT_LANG = "en"

_current = DEFAULT_LANG
_TERMS: dict[str, dict[str, str]] = {lang: {} for lang in LANGS if lang != DEFAULT_LANG}

#: Units of headline figures in Chinese (``Figure.unit``), and whether a space separates them.
_UNITS_ZH = {"CNY": "元", "RMB": "元", "days": "天", "day": "天", "pp": "个百分点", "people": "人",
             "profiles": "个", "orders": "单", "x": "倍", "h": "小时", "hours": "小时", "months": "个月"}


class LanguageError(OmniError, ValueError):
    """A language that reports are not written in."""

    default_hint = "use --lang en or --lang zh (or report: {lang: zh} in sources.yaml)"


def check_lang(lang: Any, where: str = "language") -> str:
    """``lang`` if reports are written in it (case and surrounding space ignored).

    Raises
    ------
    LanguageError
        Any other value, in one line naming ``where`` and the known languages.
    """
    text = str(lang).strip().lower() if lang is not None else ""
    if text not in LANGS:
        raise LanguageError(f"{where}: unknown report language {lang!r}; known: {', '.join(LANGS)}")
    return text


def current_lang() -> str:
    """The language reports are being written in (``"en"`` unless set)."""
    return _current


def set_lang(lang: str | None) -> str:
    """Write reports in ``lang`` from now on (None: the default); returns the language set."""
    global _current
    _current = check_lang(lang) if lang is not None else DEFAULT_LANG
    return _current


@contextlib.contextmanager
def using_lang(lang: str) -> Iterator[str]:
    """Within the block, write in ``lang``; the language before is restored after it."""
    before = _current
    set_lang(lang)
    try:
        yield _current
    finally:
        set_lang(before)


def tr(en: str, zh: str) -> str:
    """The text in the current language: ``en`` or ``zh``."""
    return zh if _current == "zh" else en


def add_terms(lang: str, terms: Mapping[str, str]) -> None:
    """Register translations of short English terms (headline labels, table columns) into ``lang``.

    Each domain's ``narrative.py`` registers its own at import. A term registered twice keeps the
    last translation.
    """
    lang = check_lang(lang)
    if lang == DEFAULT_LANG:
        raise LanguageError(f"terms are written in {DEFAULT_LANG!r} already: register translations into another language")
    _TERMS[lang].update({str(k): str(v) for k, v in terms.items()})


def term(text: Any) -> str:
    """``text`` in the current language where a translation is registered, else as given."""
    text = str(text)
    if _current == DEFAULT_LANG:
        return text
    return _TERMS.get(_current, {}).get(text, text)


def unit(text: str | None) -> str:
    """A figure's unit as shown after its value: ``" CNY"`` in English, ``"元"`` in Chinese."""
    if not text:
        return ""
    if _current == "zh":
        return _UNITS_ZH.get(text, term(text))
    return f" {text}"


def short_number(value: float) -> str | None:
    """A large number the way the current language writes it on a headline tile.

    English: thousands separators (``12,345``; ``12,345.7`` for a fraction). Chinese: from 10,000
    on in 万 (10^4) or 亿 (10^8) with one decimal (``1.2万``, ``3.4亿``); smaller numbers as in English.

    Returns
    -------
    str or None
        None for a value that is not a finite number (the caller shows it its own way).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        return None
    v = float(value)
    if not math.isfinite(v):
        return None
    if _current == "zh" and abs(v) >= 1e4:
        scale, suffix = (1e8, "亿") if abs(round(v / 1e4, 1)) >= 1e4 else (1e4, "万")
        return f"{v / scale:,.1f}".removesuffix(".0") + suffix
    if float(v).is_integer():
        return f"{int(v):,}"
    return f"{v:,.3g}" if abs(v) < 1 else f"{v:,.1f}"


def month_label(month: Any) -> str:
    """A ``YYYY-MM`` month as the current language writes it: ``2026-10`` or ``2026年10月``."""
    text = str(month)
    if _current == "zh" and len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit():
        return f"{int(text[:4])}年{int(text[5:])}月"
    return text


def relabel(figures: Iterable[Any], labels: Mapping[str, str]) -> list[Any]:
    """Headline figures with their labels in the current language.

    Parameters
    ----------
    figures : iterable of Figure
        A result's ``headline`` (any frozen dataclass with ``key`` and ``label``).
    labels : mapping
        Figure key -> the label in Chinese; used only when the current language is Chinese (a key
        without a label keeps its English one).
    """
    figures = list(figures)
    if _current != "zh":
        return figures
    out = []
    for f in figures:
        if f.key in labels:
            f = dataclasses.replace(f, label=labels[f.key])
        if isinstance(getattr(f, "value", None), str):  # a named value: "sms", "time decay (0.60)"
            f = dataclasses.replace(f, value=_named_value(f.value))
        if isinstance(getattr(f, "previous", None), str):
            f = dataclasses.replace(f, previous=_named_value(f.previous))
        out.append(f)
    return out


def _named_value(text: str) -> str:
    """A headline's text value in the current language: its name as a registered term, a trailing
    parenthesis kept (``time decay (0.60)`` -> ``时间衰减（0.60）``)."""
    head, sep, tail = text.partition(" (")
    if sep and tail.endswith(")"):
        return f"{term(head)}（{tail[:-1]}）"
    return term(text)
