"""Report blocks: what a section of a report shows, in reading order, before it is shown.

A domain's ``section.py`` puts its narrative, tables and figures in order as a list of
:class:`Block`; the notebook shows them with :func:`omni.reporting.display.show`. The blocks can be
checked in a test without a kernel (which texts, which tables, in which order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

__all__ = ["Block", "figure", "figure_of", "markdown", "table"]


@dataclass
class Block:
    """One piece of a report section.

    Attributes
    ----------
    kind : {"markdown", "table", "figure"}
        Escaped Markdown text, a DataFrame (with ``formats``, ``caption`` and ``max_rows``) or a
        matplotlib Figure.
    content : str, DataFrame or Figure
    formats : dict, optional
        Column -> ``str.format`` pattern of a table.
    caption : str, optional
        A table's caption (shown in the report language where the term is registered).
    max_rows : int
        Rows of a table shown.
    index : bool
        Show a table's index as its first column.
    """

    kind: Literal["markdown", "table", "figure"]
    content: Any
    formats: dict[str, str] | None = None
    caption: str | None = None
    max_rows: int = 25
    index: bool = False


def figure_of(axes: Sequence[Any] | Any) -> Any:
    """The matplotlib Figure of what a ``plot_*`` function returned: an Axes, an array of Axes or
    a Figure (None stays None)."""
    if axes is None:
        return None
    first = np.atleast_1d(np.asarray(axes, dtype=object)).ravel()[0]
    return getattr(first, "figure", first)


def markdown(text: str | None) -> list[Block]:
    """A Markdown block, or none for an empty text (a narrative function with nothing to say)."""
    return [Block("markdown", text)] if text else []


def table(shown: Mapping[str, Any] | None, **kwargs: Any) -> list[Block]:
    """A table block from the keyword arguments of :func:`omni.reporting.display.table` (``df``,
    ``formats``, ``caption``, ``max_rows``, ``index``), as the narratives return them (``kwargs``
    override them); none for None."""
    if shown is None:
        return []
    shown = {**shown, **kwargs}
    return [Block("table", shown["df"], shown.get("formats"), shown.get("caption"), shown.get("max_rows", 25),
                  shown.get("index", False))]


def figure(axes: Any) -> list[Block]:
    """A figure block from what a ``plot_*`` function returned; none where it drew nothing (None)."""
    fig = figure_of(axes)
    return [Block("figure", fig)] if fig is not None else []
