"""The campaign uplift result of a month: the campaigns analysed, the month's figures, the headline,
the comparison with the previous period and the truth check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from omni.core.figures import compare_figures
from omni.core.result import Figure, MonthResult
from omni.uplift.campaign import CampaignAnalysis
from omni.uplift.capture import adjusted_lift
from omni.uplift.selection import CampaignSelection
from omni.uplift.truth import perfect_identity_lift, truth_check
from omni.workspace import PROCESSED

__all__ = ["MONTH_FIGURES", "UpliftResult", "UpliftTruth", "identity_effects", "month_figures"]

#: Month figures: key -> (label, format, better).
MONTH_FIGURES = {
    "campaigns": ("campaigns reported", "{:,.0f}", None),
    "people": ("people in the experiments", "{:,.0f}", None),
    "checks_passed": ("campaigns passing the design checks", "{:,.0f}", "up"),
    "significant_arms": ("arms with a significant conversion lift", "{:,.0f}", "up"),
    "inc_conversions": ("incremental buyers", "{:,.0f}", "up"),
    "inc_revenue": ("incremental revenue (CNY)", "{:,.0f}", "up"),
    "cost": ("campaign cost (CNY)", "{:,.0f}", "down"),
    "inc_profit": ("incremental profit (CNY)", "{:,.0f}", "up"),
}


def month_figures(campaigns: Sequence[CampaignAnalysis]) -> dict[str, Any]:
    """Key figures of a set of campaigns (summed over campaigns).

    Incremental buyers and revenue are each campaign's pooled treatment-vs-control lift
    (conversion; revenue per person with CUPED) times its treated people; cost is contacts x
    cost per contact plus the coupon value of every treated buyer; profit = margin x incremental
    revenue - cost.
    """
    f = [a.figures for a in campaigns]
    return {
        "campaigns": len(f),
        "people": sum(x["n_people"] for x in f),
        "arms": sum(x["n_arms"] for x in f),
        "checks_passed": sum(x["checks_failed"] == 0 for x in f),
        "significant_arms": sum(x["significant_arms"] for x in f),
        "inc_conversions": float(sum(x["inc_conversions"] for x in f)),
        "inc_revenue": float(sum(x["inc_revenue"] for x in f)),
        "cost": float(sum(x["cost"] for x in f)),
        "inc_profit": float(sum(x["inc_profit"] for x in f)),
    }


def identity_effects(campaigns: Sequence[CampaignAnalysis], captures: Mapping[str, pd.DataFrame],
                     alpha: float = 0.05) -> pd.DataFrame:
    """Observed and capture-adjusted effects side by side, per campaign, arm and metric.

    The observed effect is :func:`omni.uplift.lift` on the campaign's outcomes (what OneID sees);
    the adjusted one is :func:`omni.uplift.capture.adjusted_lift` with the campaign's
    :func:`omni.uplift.capture.capture_rate` (the orders OneID cannot tie to the assigned person
    put back, the capture's uncertainty in the interval).

    Returns
    -------
    pandas.DataFrame
        campaign_id, arm, metric (conversion, revenue per person), capture, capture_ci_low,
        capture_ci_high, observed, observed_ci_low, observed_ci_high, adjusted, adjusted_ci_low,
        adjusted_ci_high.
    """
    rows = []
    for an in campaigns:
        cap = captures.get(an.campaign_id)
        if cap is None:
            continue
        whole = cap[cap["channel"] == "all"].iloc[0]
        for col, metric in (("converted", "conversion"), ("revenue", "revenue per person")):
            adj = adjusted_lift(an.outcomes, cap, col, alpha=alpha, arm=an.arms)
            for r in adj.itertuples():
                rows.append({"campaign_id": an.campaign_id, "arm": r.arm, "metric": metric,
                             "capture": float(whole["capture"]),
                             "capture_ci_low": float(whole["ci_low"]),
                             "capture_ci_high": float(whole["ci_high"]),
                             "observed": r.observed_lift, "observed_ci_low": r.observed_ci_low,
                             "observed_ci_high": r.observed_ci_high, "adjusted": r.abs_lift,
                             "adjusted_ci_low": r.abs_ci_low, "adjusted_ci_high": r.abs_ci_high})
    cols = ["campaign_id", "arm", "metric", "capture", "capture_ci_low", "capture_ci_high",
            "observed", "observed_ci_low", "observed_ci_high", "adjusted", "adjusted_ci_low",
            "adjusted_ci_high"]
    return pd.DataFrame(rows, columns=cols)


@dataclass
class UpliftTruth:
    """The truth check of a month's campaigns (synthetic data only).

    Attributes
    ----------
    overall : DataFrame
        campaign_id, arm, metric, adjustment, estimate, ci_low, ci_high, true_effect, inside,
        mapped_share.
    segments : DataFrame
        campaign_id, segment_by, arm, segments (checked), covered.
    perfect : DataFrame
        The same lifts measured with the true person ids (campaign_id, arm, metric, estimate,
        ci_low, ci_high, buyers_seen).
    """

    overall: pd.DataFrame
    segments: pd.DataFrame
    perfect: pd.DataFrame

    @property
    def n_inside(self) -> int:
        """Reported intervals that contain the true effect."""
        return int(self.overall["inside"].sum())

    @property
    def n_inside_perfect(self) -> int:
        """Intervals measured with the true identities that contain the true effect."""
        ok = self.perfect.merge(self.overall[["campaign_id", "arm", "metric", "true_effect"]],
                                on=["campaign_id", "arm", "metric"])
        return int(((ok["ci_low"] <= ok["true_effect"]) & (ok["true_effect"] <= ok["ci_high"])).sum())

    @property
    def n_perfect(self) -> int:
        """Intervals measured with the true identities that have a true effect to check."""
        return len(self.perfect.merge(self.overall[["campaign_id", "arm", "metric"]],
                                      on=["campaign_id", "arm", "metric"]))

    @property
    def buyers_seen(self) -> pd.Series:
        """Per campaign: buyers in the window seen through OneID / true buyers."""
        return self.perfect.drop_duplicates("campaign_id")["buyers_seen"]


@dataclass
class UpliftResult(MonthResult):
    """Campaign uplift of a month (see :func:`omni.uplift.analyse_month`).

    Attributes
    ----------
    selection : CampaignSelection
        Which campaigns and why.
    campaigns : list of CampaignAnalysis
        One analysis per selected campaign.
    previous : UpliftResult or None
        The previous month's campaigns (or the latest before it), measured with this month's
        identity resolution and without uplift models; the same object's campaigns when the
        previous month shows the same campaigns.
    inputs : dict
        The unified tables the campaigns were measured on (assignments, orders, campaigns) and
        the resolution's ``record_oneid`` (its Parquet file when the resolution is cached: read
        by the engine, never whole), kept for :meth:`truth_check`; never shown.
    captures : dict
        Campaign id -> :func:`omni.uplift.capture.capture_rate` (share of the assigned people's
        orders their OneID captures, by channel); empty when not measured.
    """

    selection: CampaignSelection | None = None
    campaigns: list[CampaignAnalysis] = field(default_factory=list)
    previous: UpliftResult | None = None
    inputs: dict[str, Any] = field(default_factory=dict, repr=False)
    captures: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def identity_effects(self) -> pd.DataFrame:
        """Observed and capture-adjusted effects side by side (:func:`identity_effects`)."""
        return identity_effects(self.campaigns, self.captures)

    def identity_coverage(self, truth: UpliftTruth) -> pd.DataFrame:
        """Synthetic data only: do the observed and the adjusted conversion intervals contain the
        true effect? One row per arm (campaign_id, arm, true_effect, observed_inside,
        adjusted_inside)."""
        eff = self.identity_effects()
        eff = eff[eff["metric"] == "conversion"]
        t = truth.overall[truth.overall["metric"] == "conversion"][["campaign_id", "arm", "true_effect"]]
        m = eff.merge(t, on=["campaign_id", "arm"])
        tr = m["true_effect"].to_numpy()
        return m.assign(
            observed_inside=(m["observed_ci_low"].to_numpy() <= tr) & (tr <= m["observed_ci_high"].to_numpy()),
            adjusted_inside=(m["adjusted_ci_low"].to_numpy() <= tr) & (tr <= m["adjusted_ci_high"].to_numpy()),
        )[["campaign_id", "arm", "true_effect", "observed", "adjusted", "observed_inside",
           "adjusted_inside"]]

    @property
    def margin(self) -> float:
        """Gross margin used for profit."""
        return float(self.settings.get("margin", 0.4))

    @property
    def previous_is_same(self) -> bool:
        """The previous period shows the same campaigns as this month."""
        return (self.previous is not None and self.selection is not None
                and self.previous.selection is not None
                and self.previous.selection.campaign_ids == self.selection.campaign_ids)

    def month_figures(self) -> dict[str, Any]:
        """The month's figures (:func:`month_figures`)."""
        return month_figures(self.campaigns)

    def best_campaign(self) -> CampaignAnalysis | None:
        """The campaign with the highest incremental profit (None without campaigns)."""
        return max(self.campaigns, key=lambda a: a.figures["inc_profit"]) if self.campaigns else None

    def figures_list(self) -> list[Figure]:
        """Headline: campaigns, people, checks passed, significant arms, incremental buyers,
        revenue and profit."""
        f = self.month_figures()
        cny = {"fmt": "{:,.0f}", "unit": "CNY", "better": "up"}
        return [
            Figure("campaigns", "campaigns reported", f["campaigns"]),
            Figure("people", "people in the experiments", f["people"]),
            Figure("checks_passed", "campaigns passing the design checks",
                   f"{f['checks_passed']} of {f['campaigns']}"),
            Figure("significant_arms", "arms with a significant conversion lift",
                   f"{f['significant_arms']} of {f['arms']}"),
            Figure("inc_conversions", "incremental buyers", f["inc_conversions"], fmt="{:,.0f}",
                   better="up"),
            Figure("inc_revenue", "incremental revenue", f["inc_revenue"], **cny),
            Figure("inc_profit", f"incremental profit at a {self.margin:.0%} margin",
                   f["inc_profit"], **cny),
        ]

    def previous_headline(self) -> dict[str, Any]:
        """The previous month's headline figures, from :attr:`previous` (the campaigns its report
        shows, measured with this month's identity resolution); none when it has no campaign or
        when this month's campaigns were chosen by hand."""
        if self.previous is None or not self.previous.campaigns or self.settings.get("campaigns"):
            return {}
        return self.previous.figures()

    def compare(self, previous: MonthResult | Mapping[str, Any] | None,
                keys: Sequence[str] | None = None) -> pd.DataFrame:
        """The month's figures (:data:`MONTH_FIGURES`) against ``previous``'s.

        Parameters
        ----------
        previous : UpliftResult, mapping or None
            Usually :attr:`previous` (one without campaigns counts as None).
        keys : sequence of str, optional
            Figures to compare (default: every month figure).

        Returns
        -------
        DataFrame
            See :func:`omni.core.figures.compare_figures`.
        """
        if isinstance(previous, UpliftResult):  # a period without campaigns has no figures
            prev = previous.month_figures() if previous.campaigns else None
        else:
            prev = previous.figures() if isinstance(previous, MonthResult) else previous
        labels = {k: MONTH_FIGURES[k][0] for k in (keys or MONTH_FIGURES)}
        return compare_figures(self.month_figures(), prev, labels)

    def truth_check(self, truth: Any) -> UpliftTruth | None:
        """Do the reported intervals contain the generator's true effects?

        Parameters
        ----------
        truth : Workspace, mapping or None
            The workspace (its ``truth/`` Parquet files are read by the embedded engine, never
            whole: what a report does at any size), or a mapping of ``campaign_truth`` and
            ``record_person`` (the synthetic world's truth tables, as frames or Parquet files).

        Returns
        -------
        UpliftTruth or None
            None without truth or without campaigns.
        """
        temp_dir = None
        if hasattr(truth, "truth_path"):  # a workspace
            if not truth.has_truth():
                return None
            temp_dir = truth.path / PROCESSED / ".engine"
            truth = {name: truth.truth_path(name) for name in ("campaign_truth", "record_person")}
        if not truth or not self.campaigns:
            return None
        overall, segments = truth_check(self.campaigns, truth["campaign_truth"],
                                        self.inputs["record_oneid"], temp_dir=temp_dir)
        perfect = perfect_identity_lift(self.campaigns, self.inputs["assignments"],
                                        self.inputs["orders"], self.inputs["campaigns"],
                                        truth["record_person"], temp_dir=temp_dir)
        return UpliftTruth(overall, segments, perfect)
