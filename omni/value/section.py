"""The customer value report's sections, in reading order: narrative, tables and figures as blocks.

Each function returns what one section of notebook 03 shows after its heading (the notebook shows
them with :func:`omni.reporting.display.show`): the section's chart, its tables and its note, with
the longer introductions first. This module only puts ``omni.value.narrative`` and
``omni.value.plots`` in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omni.core.blocks import Block, figure, markdown, table
from omni.value import narrative as N
from omni.value import plots as P
from omni.value.result import ValueResult

__all__ = ["churn", "comparison", "model", "panel", "rfm", "segments", "tgi_top", "tiers", "truth"]


def _section(chart: Any, tables: Sequence[dict[str, Any]], text: str, intro: str | None = None) -> list[Block]:
    """The introduction (if any), the chart (what a ``plot_*`` returned), the tables and the note."""
    return [*markdown(intro), *figure(chart), *(b for t in tables for b in table(t)), Block("markdown", text)]


def rfm(result: ValueResult) -> list[Block]:
    """Recency, frequency and spend: their distributions and what they say."""
    return _section(P.plot_rfm_distribution(result), [], N.rfm(result))


def segments(result: ValueResult) -> list[Block]:
    """The 8 RFM classes: their shares, size and value."""
    return _section(P.plot_segment_shares(result), [N.segments_table(result)], N.segments(result))


def model(result: ValueResult) -> list[Block]:
    """How the purchase model is checked on the held-out weeks, the check, the fitted parameters."""
    return _section(P.plot_holdout(result), N.model_tables(result), N.model(result), N.intro("model"))


def tiers(result: ValueResult) -> list[Block]:
    """CLV and the value tiers."""
    return _section(P.plot_clv_distribution(result), [N.tiers_table(result)], N.tiers(result))


def churn(result: ValueResult) -> list[Block]:
    """What P(alive) and the watch list are, the chart of last month's top tier, the watch list."""
    return _section(P.plot_churn(result), N.churn_tables(result), N.churn(result), N.intro("churn"))


def tgi_top(result: ValueResult) -> list[Block]:
    """What TGI is, and the traits of the top value tier against all customers."""
    return _section(P.plot_tgi_top(result), N.tgi_top_tables(result), N.tgi_top(result), N.intro("tgi_top"))


def panel(result: ValueResult) -> list[Block]:
    """The customer base against the market panel (TGI)."""
    return _section(P.plot_tgi_panel(result), N.panel_tables(result), N.panel(result), N.intro("panel"))


def comparison(result: ValueResult) -> list[Block]:
    """The previous month end's figures, the RFM migration chart and what changed (tables first)."""
    return [*(b for t in N.comparison_tables(result) for b in table(t)), *figure(P.plot_migration(result)),
            Block("markdown", N.comparison(result))]


def truth(result: ValueResult) -> list[Block]:
    """How predictions are compared with the synthetic truth, the calibration chart and the scores."""
    return _section(P.plot_truth_calibration(result), N.truth_tables(result), N.truth(result), N.intro("truth"))
