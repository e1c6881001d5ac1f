"""The channel attribution report's sections, in reading order: narrative, tables and figures as blocks.

Each function returns what one section of notebook 04 shows after its heading (the notebook shows
them with :func:`omni.reporting.display.show`); this module only puts ``omni.attribution.narrative``
(its texts and ``*_table`` views) and ``omni.attribution.plots`` in order.
"""

from __future__ import annotations

from omni.attribution import narrative as N
from omni.attribution import plots as P
from omni.attribution.result import AttributionResult
from omni.core.blocks import Block, figure, table

__all__ = ["comparison", "disagreement", "journeys", "markov", "online_to_offline", "roas", "shares", "truth"]


def journeys(result: AttributionResult) -> list[Block]:
    """Journey lengths and times to convert, the most converting paths (where any is large enough
    to show) and what they say."""
    return [*figure(P.plot_journeys(result)), *table(N.paths_table(result)), Block("markdown", N.journeys(result))]


def online_to_offline(result: AttributionResult) -> list[Block]:
    """Orders by sales channel and the online activity before them, the online paths before store
    purchases (or why there are none to show) and what they say."""
    paths = table(N.store_paths_table(result)) or [Block("markdown", N.no_store_paths(result))]
    return [*table(N.conversion_channels_table(result)), *paths, Block("markdown", N.online_to_offline(result))]


def shares(result: AttributionResult) -> list[Block]:
    """Each model's channel shares with their intervals."""
    return [*figure(P.plot_model_shares(result)), *table(N.share_table(result)),
            Block("markdown", N.model_shares(result))]


def markov(result: AttributionResult) -> list[Block]:
    """The Markov chain's transitions and removal effects."""
    return [*figure(P.plot_markov(result)), Block("markdown", N.markov(result))]


def roas(result: AttributionResult) -> list[Block]:
    """CPA and ROAS per channel and model, and their range over the models."""
    return [*figure(P.plot_roas(result)), *table(N.roi_table(result)), *table(N.roi_range_table(result)),
            Block("markdown", N.roi(result))]


def disagreement(result: AttributionResult) -> list[Block]:
    """What the models' disagreement means for budget, each channel's ranks and share range."""
    return [Block("markdown", N.intro("disagreement")), *figure(P.plot_model_ranks(result)),
            *table(N.disagreement_table(result)), Block("markdown", N.disagreement(result))]


def comparison(result: AttributionResult) -> list[Block]:
    """The previous month restated on this month's OneIDs (where there is one): key figures, share
    changes, this month's campaigns; then what changed."""
    out = [Block("markdown", N.intro("comparison"))]
    if result.previous is not None:
        out += [*table(N.comparison_table(result)), *figure(P.plot_share_change(result)),
                *table(N.campaigns_table(result))]
    return out + [Block("markdown", N.month_change(result))]


def truth(result: AttributionResult) -> list[Block]:
    """Each model's shares against the true channel effects (synthetic data only), and the verdict."""
    out = [Block("markdown", N.intro("truth"))]
    if result.true_shares is not None:
        out += [*figure(P.plot_truth_shares(result)), *table(N.truth_table(result)), *table(N.visibility_table(result))]
    return out + [Block("markdown", N.truth(result))]
