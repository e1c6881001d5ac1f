"""The result of a month's channel attribution: its tables, headline, comparison and truth check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from omni.attribution.comparison import touch_channels
from omni.attribution.evaluation import compare_to_truth
from omni.attribution.journeys import Journeys
from omni.attribution.markov import MarkovAttribution
from omni.attribution.models import MODEL_LABELS
from omni.attribution.month import MonthAttribution
from omni.attribution.truth import month_true_shares
from omni.core.figures import compare_figures
from omni.core.result import Figure, MonthResult

__all__ = ["COMPARED_FIGURES", "AttributionResult"]

#: Figures of :func:`~omni.attribution.figures.month_figures` compared month over month, with their
#: labels (``{currency}`` and ``{model}`` filled in by :meth:`AttributionResult.comparison_labels`).
COMPARED_FIGURES: dict[str, str] = {
    "conversions": "conversions",
    "value": "revenue ({currency})",
    "touched_share": "conversions with a touch",
    "mean_touches": "touches per touched conversion",
    "median_days_to_convert": "median days to convert",
    "attributed_to_touches": "credited to marketing ({model})",
    "spend": "spend ({currency})",
    "blended_cpa": "spend per credited conversion ({currency})",
    "blended_roas": "ROAS of paid channels ({model})",
    "top_channel": "top channel ({model})",
}


@dataclass
class AttributionResult(MonthResult):
    """Channel attribution of one month (output of :func:`omni.attribution.analyse_month`).

    Attributes
    ----------
    month : Month
        The report month.
    settings : dict
        ``lookback_days``, ``include_impressions``, ``channel_map``, ``half_life_days``,
        ``markov_order``, ``n_boot``, ``target_roas``, ``headline_model``, ``seed``.
    tables : dict of str to DataFrame
        ``attribution`` (every model, long), ``roi``, ``roi_summary``, ``disagreement``,
        ``ranks``; for the report month also ``lengths``, ``time_to_convert``, ``top_paths``,
        ``conversion_channels``, ``store_paths``, ``bootstrap``, ``campaigns``, ``share_change``
        (with a previous month) and, with truth, ``truth``, ``visibility``, ``touch_shares``.
    attribution : MonthAttribution
        The month's journeys, model table and ROI.
    month_figures : dict
        :func:`~omni.attribution.figures.month_figures` of the headline model.
    stats : dict
        :func:`~omni.attribution.stats.journey_stats` of the month's journeys.
    currency : str
        Currency of amounts and spend (the data contract's, may be empty).
    markov : MarkovAttribution, optional
        The fitted Markov chain of the month (transitions, removal effects).
    true_shares : Series, optional
        True channel shares of the month's touch-caused conversions (synthetic data).
    previous : AttributionResult, optional
        The previous month restated on this month's OneIDs (None when it has no paid order).
    """

    attribution: MonthAttribution | None = None
    month_figures: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, float] = field(default_factory=dict)
    currency: str = ""
    markov: MarkovAttribution | None = None
    true_shares: pd.Series | None = None
    previous: AttributionResult | None = None

    # -- views ------------------------------------------------------------------------------
    @property
    def journeys(self) -> Journeys:
        """The month's journeys."""
        return self.attribution.journeys

    @property
    def headline_model(self) -> str:
        """Name of the model behind the headline channel figures."""
        return self.settings.get("headline_model", "markov")

    @property
    def model_label(self) -> str:
        """Readable name of the headline model."""
        return MODEL_LABELS[self.headline_model]

    @property
    def models(self) -> list[str]:
        """The models run, in order."""
        return list(dict.fromkeys(self.tables["attribution"]["model"]))

    @property
    def channels(self) -> list[str]:
        """Touch channels by the headline model's share, largest first."""
        return touch_channels(self.tables["attribution"], self.headline_model)

    # -- headline ---------------------------------------------------------------------------
    def figures_list(self) -> list[Figure]:
        """The headline figures of notebook 04, in reading order (truth figures with truth)."""
        f, hm, cur = self.month_figures, self.model_label, self.currency
        top = self.tables["disagreement"].iloc[0]
        lookback = self.settings.get("lookback_days", 30)
        figs = [
            Figure("conversions", "conversions (paid orders, all sales channels)", f["conversions"], better="up"),
            Figure("touched_share", f"conversions with a marketing touch in the {lookback} days before",
                   f["touched_share"], fmt="{:.1%}", better="up"),
            Figure("median_days_to_convert", "median time from first touch to order",
                   f["median_days_to_convert"], unit="days", fmt="{:.1f}"),
            Figure("attributed_to_touches", f"conversions credited to marketing ({hm})",
                   f["attributed_to_touches"], fmt="{:.1%}", better="up"),
            Figure("top_channel", f"channel with the largest share ({hm})",
                   f"{f['top_channel']} ({f['top_share']:.1%})"),
            Figure("spend", "marketing spend", f["spend"], unit=cur, fmt="{:,.0f}"),
            Figure("blended_cpa", f"spend per conversion credited to paid channels ({hm})", f["blended_cpa"],
                   unit=cur, fmt="{:,.2f}", better="down"),
            Figure("max_model_gap", "largest gap between models in a channel's share",
                   float(top["spread"] * 100), unit="pp", fmt="{:.1f}", better="down"),
        ]
        truth = self.tables.get("truth")
        if truth is not None:
            best = truth["total_abs_dev"].idxmin()
            figs += [
                Figure("truth_deviation", f"{hm}: distance from the true channel shares (0-2)",
                       float(truth.loc[self.headline_model, "total_abs_dev"]), fmt="{:.2f}", better="down"),
                Figure("truth_best_model", "model closest to the true shares",
                       f"{MODEL_LABELS[best]} ({truth.loc[best, 'total_abs_dev']:.2f})"),
            ]
        return figs

    def previous_headline(self) -> dict[str, Any]:
        """The previous month's headline figures, from :attr:`previous` (attributed with this
        month's, on this month's OneIDs); none without a previous month."""
        if self.previous is None:
            return {}
        return {f.key: f.value for f in self.previous.figures_list() if not f.key.startswith("truth_")}

    # -- month over month -------------------------------------------------------------------
    def comparison_labels(self) -> dict[str, str]:
        """:data:`COMPARED_FIGURES` with the currency and the headline model filled in."""
        return {k: v.format(currency=self.currency, model=self.model_label) for k, v in COMPARED_FIGURES.items()}

    def compare(self, previous: MonthResult | Mapping[str, Any] | None,
                keys: Sequence[str] | None = None) -> pd.DataFrame:
        """This month's key figures against ``previous`` (a result or a figure -> value mapping).

        Parameters
        ----------
        previous : AttributionResult or mapping, optional
            Usually :attr:`previous`; None gives empty previous values.
        keys : sequence of str, optional
            Figures to compare (default :data:`COMPARED_FIGURES`, in that order); headline keys
            such as ``max_model_gap`` are accepted too.

        Returns
        -------
        DataFrame
            ``figure``, ``this_month``, ``previous_month``, ``change``, ``relative_change``.
        """
        def values(r: MonthResult | Mapping[str, Any]) -> dict[str, Any]:
            if isinstance(r, AttributionResult):
                return {**r.figures(), **r.month_figures}
            return r.figures() if isinstance(r, MonthResult) else dict(r)

        labels = {**{f.key: f.label for f in self.headline}, **self.comparison_labels()}
        keys = list(COMPARED_FIGURES) if keys is None else list(keys)
        prev = None if previous is None else values(previous)
        return compare_figures(values(self), prev, {k: labels.get(k, k) for k in keys})

    # -- truth ------------------------------------------------------------------------------
    def truth_check(self, truth: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame | None:
        """Each model's distance from the true channel shares of the month's touch-caused orders.

        Parameters
        ----------
        truth : mapping, optional
            The synthetic world's truth tables; ``orders_cause`` (``record_key``, ``cause``) is used.

        Returns
        -------
        DataFrame or None
            :func:`~omni.attribution.evaluation.compare_to_truth`: one row per model
            (``total_abs_dev``, ``max_abs_dev``, ``max_dev_channel``, ``rank_corr``); None without
            truth.
        """
        if truth is None or "orders_cause" not in truth:
            return None
        shares = month_true_shares(truth["orders_cause"], self.journeys, self.settings.get("channel_map"))
        table = self.tables["attribution"]
        return compare_to_truth({m: g for m, g in table.groupby("model", sort=False)}, shares)
