"""The uplift report's sections, in reading order: narrative, tables and figures as blocks.

The notebook shows the blocks (:func:`omni.reporting.display.show`); this module only puts
``omni.uplift.narrative``, ``omni.uplift.tables`` and ``omni.uplift.plots`` in order, and runs the
per-arm checks (model validation, budget curve) whose results are shown.
"""

from __future__ import annotations

from collections.abc import Iterator

from omni.core.blocks import Block, figure, figure_of, markdown
from omni.core.i18n import term
from omni.uplift import narrative as N
from omni.uplift import plots as P
from omni.uplift import tables as T
from omni.uplift.campaign import CampaignAnalysis
from omni.uplift.result import UpliftResult, UpliftTruth

__all__ = ["Block", "budget_section", "campaign_section", "campaign_sections", "comparison_section", "identity_section",
           "overview_section", "truth_section", "validation_section"]

_MONEY = "{:,.0f}"


def _design(an: CampaignAnalysis) -> list[Block]:
    return [Block("markdown", term(N.DESIGN_HEAD)),
            Block("table", T.arms_table(an), T.arms_formats(an), "Arms"),
            Block("table", T.checks_table(an), None, "Checks"),
            Block("markdown", N.checks_verdict(an))]


def _effect(an: CampaignAnalysis, margin: float, alpha: float) -> list[Block]:
    out = [Block("markdown", N.effect_head(an)),
           Block("figure", figure_of(P.plot_effects(an, alpha=alpha))),
           Block("table", T.effects_shown(an), {"p-value": "{:.3g}"}),
           Block("markdown", N.effect_summary(an, margin)),
           Block("markdown", N.cuped_head(an))]
    if len(an.cuped_table):
        out += [Block("figure", figure_of(P.plot_cuped(an))),
                Block("table", T.cuped_shown(an), {"variance removed": "{:.1%}",
                                                   "interval narrower by": "{:.1%}"})]
    text = N.cuped_summary(an)
    return out + ([Block("markdown", text)] if text else [])


def _segments(an: CampaignAnalysis, alpha: float) -> list[Block]:
    out = [Block("markdown", term(N.SEGMENTS_HEAD))]
    fig = figure_of(P.plot_segments(an))
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
        out += [Block("figure", figure_of(P.plot_qini(an))),
                Block("table", T.qini_table(an), {"Qini coefficient": "{:+.3f}"}),
                Block("markdown", N.qini_summary(an))]
    skipped = N.model_skipped(an)
    if skipped:
        out.append(Block("markdown", skipped))
    out.append(Block("markdown", N.recommendation_head(an)))
    fig = figure_of(P.plot_targeting(an))
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


def campaign_sections(result: UpliftResult, margin: float | None = None) -> Iterator[Block]:
    """Every campaign's section (:func:`campaign_section`), one campaign after the other.

    A generator: a campaign's figures are drawn when its blocks are reached, so a report of many
    campaigns does not hold every campaign's figures open at once.
    """
    for an in result.campaigns:
        yield from campaign_section(an, margin=result.margin if margin is None else margin)


def comparison_section(result: UpliftResult) -> list[Block]:
    """This month against the previous month: the table of the same figures, and the change."""
    return [Block("table", T.month_comparison(result), None, N.comparison_caption(result)),
            Block("markdown", N.comparison(result))]


def overview_section(result: UpliftResult) -> list[Block]:
    """Campaigns at a glance: one line per campaign, the overview chart and which campaigns paid
    (nothing when no campaign is reported)."""
    if not result.campaigns:
        return []
    return [Block("table", T.overview_table(result.campaigns),
                  {"cost (CNY)": _MONEY, "incremental profit (CNY)": _MONEY}),
            *figure(P.plot_overview(result)), Block("markdown", N.overview(result))]


def identity_section(result: UpliftResult) -> list[Block]:
    """Observed effects against those adjusted for identity capture (nothing without captures)."""
    if not (result.campaigns and result.captures):
        return []
    return [Block("table", N.identity_table(result), None,
                  "Observed effect vs effect adjusted for identity capture (95%)"),
            Block("markdown", N.identity_summary(result))]


def validation_section(result: UpliftResult, seed: int = 7) -> Iterator[Block]:
    """Each arm's uplift model checked on its held-out people
    (:func:`omni.uplift.validation.validate_cate`): the tests' table and the verdict per arm, or a
    note that no campaign had a model; after the introduction of what is tested."""
    from omni.uplift.validation import validate_cate

    yield Block("markdown", N.validation_intro())
    for an in result.campaigns:
        for arm, m in an.model.items():
            v = validate_cate(m["test"]["converted"], m["test"]["treated"], m["score"], seed=seed)
            yield Block("table", N.validation_table(v), None, N.validation_caption(an.campaign_id, arm))
            yield Block("markdown", N.validation_verdict(v))
    if not any(an.model for an in result.campaigns):
        yield Block("markdown", N.no_model_to_check())


def budget_section(result: UpliftResult, margin: float | None = None) -> Iterator[Block]:
    """Each arm's budget curve (:func:`omni.uplift.budget.budget_curve` on the held-out ranking,
    corrected for identity capture): the chart, the table and the best share, or a note that no
    campaign had a model to rank people with."""
    from omni.uplift.budget import best_share, budget_curve

    margin = result.margin if margin is None else margin
    for an in result.campaigns:
        for arm, m in an.model.items():
            curve = budget_curve(m["test"], m["score"], coupon_value=an.info["coupon_value"].get(arm, 0.0),
                                 margin=margin, cost_per_contact=an.info["cost_per_contact"],
                                 population=an.info["n_people"], capture=result.captures.get(an.campaign_id))
            yield from figure(P.plot_budget_curve(curve, title=N.budget_curve_title(an.campaign_id, arm)))
            yield Block("table", N.budget_table(curve), None, N.budget_caption(an.campaign_id, arm))
            yield Block("markdown", N.budget_summary(an.campaign_id, arm, best_share(curve)))
    if not any(an.model for an in result.campaigns):
        yield Block("markdown", N.no_model_to_rank())


def truth_section(result: UpliftResult, check: UpliftTruth | None) -> list[Block]:
    """The reported intervals against the true effects (``check``: :meth:`UpliftResult.truth_check`),
    or a note that there is no truth."""
    if check is None:
        return [Block("markdown", N.no_truth())]
    out = [Block("table", T.truth_table(check), None, "True intention-to-treat effect vs reported 95% intervals")]
    if len(check.segments):
        out.append(Block("table", T.segment_coverage(check), {"share covered": "{:.0%}"},
                         "Segment intervals (conversion) containing the true segment effect"))
    out.append(Block("markdown", N.truth_summary(check)))
    if result.captures:
        out += markdown(N.identity_coverage_summary(result.identity_coverage(check)))
    return out
