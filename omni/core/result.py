"""The shape every analysis domain returns: headline figures, tables, month-over-month, truth check.

Each domain (``omni.audit``, ``omni.value``, ``omni.attribution``, ``omni.uplift``,
``omni.audience``, ...) has the same doors::

    result = omni.<domain>.analyse_month(workspace, month, **settings)
    result.headline            # list of Figure, the numbers a reader sees first
    result.tables              # name -> DataFrame, everything else the report shows
    result.compare(previous)   # this month's figures against another result's
    result.truth_check(truth)  # synthetic data only: distance from the generator's truth

and presents itself through ``omni.<domain>.plots`` (``plot_*(result, ax=None)``) and
``omni.<domain>.narrative`` (escaped Markdown blocks). A result holds no wording and draws nothing.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from omni.core.figures import compare_figures
from omni.core.month import Month

__all__ = ["Figure", "MonthResult"]


@dataclass(frozen=True)
class Figure:
    """One headline figure.

    Parameters
    ----------
    key : str
        Stable name (the key in ``metrics.json`` and across months).
    label : str
        What a reader sees (plain text; escaped when shown).
    value : number or str
        The figure; NaN where it cannot be computed.
    unit : str, optional
        Shown after the value (``"days"``, ``"CNY"``, ``"pp"``).
    fmt : str, optional
        A ``str.format`` pattern such as ``"{:.1%}"``.
    better : {"up", "down"}, optional
        Which direction is good news (arrows in the index).
    previous : number or str, optional
        The same figure for the previous month, where the analysis computed it anyway (set by
        :attr:`MonthResult.headline` from :meth:`MonthResult.previous_headline`); the report's
        index compares with it when there is no previous report.
    """

    key: str
    label: str
    value: Any
    unit: str | None = None
    fmt: str | None = None
    better: Literal["up", "down"] | None = None
    previous: Any = None

    def as_dict(self) -> dict[str, Any]:
        """The mapping ``omni.reporting.display.headline`` and ``metrics.json`` read."""
        value = self.value
        if isinstance(value, np.integer):
            value = int(value)
        elif isinstance(value, np.floating):
            value = float(value)
        out = {"key": self.key, "label": self.label, "value": value, "unit": self.unit,
               "fmt": self.fmt, "better": self.better}
        if self.previous is not None:
            out["previous"] = _plain(self.previous)
        return out


@dataclass
class MonthResult:
    """Base of every ``analyse_month`` result.

    Subclasses add their own fields and implement :meth:`figures_list`; the rest follows.

    Attributes
    ----------
    month : Month
        The month analysed.
    settings : dict
        The settings the analysis ran with (shown in reports, part of reproducibility).
    tables : dict of str to DataFrame
        Named result tables.
    """

    month: Month
    settings: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    # -- to implement -----------------------------------------------------------------------
    def figures_list(self) -> list[Figure]:
        """The headline figures, in reading order."""
        raise NotImplementedError

    def truth_check(self, truth: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame | None:
        """Distance from the synthetic world's truth (None where there is no truth to check)."""
        return None

    def previous_headline(self) -> dict[str, Any]:
        """Headline figure key -> its value for the previous month, for the figures the analysis
        has for that month without a second analysis (none by default).

        A report's index compares with these ("computed now") when the output folder holds no
        previous month's report.
        """
        return {}

    # -- shared -----------------------------------------------------------------------------
    @property
    def headline(self) -> list[Figure]:
        """The headline figures (see :meth:`figures_list`), each with its :attr:`Figure.previous`
        from :meth:`previous_headline` where there is one."""
        figs = self.figures_list()
        prev = {k: v for k, v in self.previous_headline().items() if _is_number(v) or isinstance(v, str)}
        return [dataclasses.replace(f, previous=prev[f.key]) if f.key in prev else f for f in figs]

    def figures(self) -> dict[str, Any]:
        """Figure key -> value."""
        return {f.key: f.value for f in self.headline}

    def compare(self, previous: MonthResult | Mapping[str, Any] | None,
                keys: Sequence[str] | None = None) -> pd.DataFrame:
        """This month's headline figures against ``previous`` (a result or a key -> value mapping).

        Returns
        -------
        DataFrame
            ``figure``, ``this_month``, ``previous_month``, ``change``, ``relative_change``
            (see :func:`omni.core.figures.compare_figures`), numeric figures only unless ``keys``
            names others.
        """
        figs = self.headline
        prev = previous.figures() if isinstance(previous, MonthResult) else previous
        if keys is None:
            keys = [f.key for f in figs if _is_number(f.value)]
        labels = {f.key: f.label for f in figs}
        return compare_figures(self.figures(), prev, {k: labels[k] for k in keys})


def _plain(x: Any) -> Any:
    """A numpy scalar as the Python number it holds (JSON-ready)."""
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    return x


def _is_number(x: Any) -> bool:
    return (isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)
            and not (isinstance(x, float) and math.isnan(x)))
