"""One campaign's report section, in reading order: narrative, tables and figures as blocks.

The notebook shows the blocks (``note``, ``table``, the figure); this module only puts
``omni.uplift.narrative``, ``omni.uplift.tables`` and ``omni.uplift.plots`` in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from omni.core.i18n import term
from omni.uplift import narrative as N
from omni.uplift import plots as P
from omni.uplift import tables as T
from omni.uplift.campaign import CampaignAnalysis

__all__ = ["Block", "campaign_section"]

_MONEY = "{:,.0f}"


@dataclass
class Block:
    """One piece of a report section.

    Attributes
    ----------
    kind : {"markdown", "table", "figure"}
        Escaped Markdown text, a DataFrame (with ``formats`` and ``caption``) or a matplotlib
        Figure.
    content : str, DataFrame or Figure
    """

    kind: Literal["markdown", "table", "figure"]
    content: Any
    formats: dict[str, str] | None = None
    caption: str | None = None


def _design(an: CampaignAnalysis) -> list[Block]:
    return [Block("markdown", term(N.DESIGN_HEAD)),
            Block("table", T.arms_table(an), T.arms_formats(an), "Arms"),
            Block("table", T.checks_table(an), None, "Checks"),
            Block("markdown", N.checks_verdict(an))]


def _effect(an: CampaignAnalysis, margin: float, alpha: float) -> list[Block]:
    out = [Block("markdown", N.effect_head(an)),
           Block("figure", P.figure_of(P.plot_effects(an, alpha=alpha))),
           Block("table", T.effects_shown(an), {"p-value": "{:.3g}"}),
           Block("markdown", N.effect_summary(an, margin)),
           Block("markdown", N.cuped_head(an))]
    if len(an.cuped_table):
        out += [Block("figure", P.figure_of(P.plot_cuped(an))),
                Block("table", T.cuped_shown(an), {"variance removed": "{:.1%}",
                                                   "interval narrower by": "{:.1%}"})]
    text = N.cuped_summary(an)
    return out + ([Block("markdown", text)] if text else [])


def _segments(an: CampaignAnalysis, alpha: float) -> list[Block]:
    out = [Block("markdown", term(N.SEGMENTS_HEAD))]
    fig = P.figure_of(P.plot_segments(an))
    if fig is not None:
        out.append(Block("figure", fig))
    main = next(iter(an.segments), None)
    if main is not None:
        out.append(Block("table", T.segments_shown(an.segments[main], main), None,
                         f"Conversion lift by {T.SEGMENT_LABELS.get(main, main)}"))
    return out + [Block("markdown", N.segments_summary(an, alpha))]


def _targeting(an: CampaignAnalysis, margin: float) -> list[Block]:
    out = [Block("markdown", term(N.QINI_HEAD))]
    if an.model:
        out += [Block("figure", P.figure_of(P.plot_qini(an))),
                Block("table", T.qini_table(an), {"Qini coefficient": "{:+.3f}"}),
                Block("markdown", N.qini_summary(an))]
    skipped = N.model_skipped(an)
    if skipped:
        out.append(Block("markdown", skipped))
    out.append(Block("markdown", N.recommendation_head(an)))
    fig = P.figure_of(P.plot_targeting(an))
    if fig is not None:
        out.append(Block("figure", fig))
    out += [Block("table", T.options_table(an), {
                "incremental buyers": _MONEY, "incremental revenue (CNY)": _MONEY,
                "cost (CNY)": _MONEY, "incremental profit (CNY)": _MONEY}),
            Block("markdown", N.recommendation(an, margin))]
    profile = T.target_profile_shown(an)
    if profile is not None:
        out.append(Block("table", profile, {"share_targeted": "{:.1%}", "share_everyone": "{:.1%}",
                                            "index": "{:.0f}", "people_targeted": "{:,.0f}"},
                         "Who is in the target group (held-out people; index 100 = as in everyone)"))
    return out


def campaign_section(an: CampaignAnalysis, margin: float = 0.4, alpha: float = 0.05) -> list[Block]:
    """The report section of one campaign: design and checks, effect, CUPED, segments, Qini,
    recommendation, power and notes.

    Only aggregates are shown: no person-level rows, no ids; segment counts under 10 hidden.

    Parameters
    ----------
    an : CampaignAnalysis
    margin : float
        Gross margin (named in the profit sentences).
    alpha : float
        Significance level of the intervals drawn and the heterogeneity verdict.

    Returns
    -------
    list of Block
    """
    blocks = [Block("markdown", N.campaign_title(an)), Block("markdown", N.campaign_intro(an)),
              *_design(an), *_effect(an, margin, alpha), *_segments(an, alpha),
              *_targeting(an, margin),
              Block("markdown", term(N.POWER_HEAD)),
              Block("table", T.power_shown(an), {"control conversion": "{:.2%}", "relative": "{:.0%}",
                                                 "detectable revenue lift (CNY/person, CUPED)": "{:.2f}"}),
              Block("markdown", N.power_summary(an))]
    notes = N.campaign_notes(an)
    return blocks + ([Block("markdown", notes)] if notes else [])
