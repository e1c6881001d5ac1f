"""The value report's result: customer value at a month end, the month before, and their tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from omni.core.figures import compare_figures
from omni.core.result import Figure, MonthResult
from omni.value.customer import CustomerValue
from omni.value.truth import truth_check

__all__ = ["MONTH_FIGURES", "ValueResult"]

#: Keys of :func:`omni.value.movement.month_figures` compared month over month, in order.
MONTH_FIGURES = ("customers", "new_customers", "active_customers", "orders_month", "revenue_month",
                 "repeat_share", "clv_total", "clv_mean", "top_share", "at_risk_share",
                 "important_value_share", "expected_purchases_90d")


@dataclass
class ValueResult(MonthResult):
    """Customer value at the end of ``month`` (:func:`omni.value.analyse_month`).

    Attributes
    ----------
    current, previous : CustomerValue
        Customer value at this month end and at the previous one (None when it could not be
        computed: ``previous_error`` says why). Both use this month's OneIDs.
    previous_restated : DataFrame or None
        This month's model's predictions at the previous month end (:func:`omni.value.customer.restate`).
    month_figures, previous_figures : dict
        :func:`omni.value.movement.month_figures` of both month ends.
    watch_figures : dict
        Figures of :func:`omni.value.churn.churn_watchlist` (NaN without a previous month).
    truth_figures : dict or None
        :func:`omni.value.truth.truth_check` figures (synthetic data only).
    attributes : DataFrame
        The customers' profile attributes profiled with TGI.
    revenue_top_share : float
        Share of the revenue to date held by the top ``tier_shares[0]`` of customers.
    top_tier : str
        The best value tier (``"A"``).
    currency : str
        The order currency (``sources.yaml``), shown as it is.
    record_oneid : DataFrame
        The resolution's record -> OneID map (for :meth:`truth_check`).
    tables : dict
        ``segments``, ``tiers``, ``parameters``, ``holdout`` and ``scores`` (with a model check),
        ``previous_parameters``, ``watchlist``, ``migration``, ``tgi_top``, ``tgi_panel`` (with a
        market panel), ``concentration_clv``, ``concentration_revenue``, ``truth_calibration``.
    """

    current: CustomerValue | None = None
    previous: CustomerValue | None = None
    previous_error: str = ""
    previous_restated: pd.DataFrame | None = None
    month_figures: dict[str, Any] = field(default_factory=dict)
    previous_figures: dict[str, Any] | None = None
    watch_figures: dict[str, float] = field(default_factory=dict)
    truth_figures: dict[str, float] | None = None
    attributes: pd.DataFrame = field(default_factory=pd.DataFrame)
    revenue_top_share: float = float("nan")
    top_tier: str = "A"
    currency: str = ""
    record_oneid: pd.DataFrame | None = None

    @property
    def previous_month(self) -> str:
        """The previous month (``YYYY-MM``)."""
        return str(self.month.previous)

    @property
    def top_share(self) -> float:
        """Customer share of the top value tier (the first tier share)."""
        return float(self.current.settings["tier_shares"][0])

    def figures_list(self) -> list[Figure]:
        """The headline: customers, value, risk, the watch list and the model (notebook 03)."""
        f, s = self.month_figures, self.current.settings
        cur, months, top = self.currency, s["clv_months"], self.top_share
        err = f["holdout_error_pct"]
        drop = self.settings.get("churn_min_drop", 0.05)
        figs = [
            Figure("customers", "customers (identified OneIDs with a paid order)", f["customers"], better="up"),
            Figure("active_customers", f"customers who bought in {self.month}", f["active_customers"], better="up"),
            Figure("repeat_share", "customers who bought on 2 or more days", f["repeat_share"], fmt="{:.1%}",
                   better="up"),
            Figure("clv_total", f"predicted value of the next {months} months, all customers (discounted)",
                   f["clv_total"], unit=cur, fmt="{:,.0f}", better="up"),
            Figure("clv_mean", f"mean {months}-month CLV per customer", f["clv_mean"], unit=cur, fmt="{:,.1f}",
                   better="up"),
            Figure("top_tier_value_share", f"share of that value held by the top {top:.0%} of customers",
                   f["top_share"], fmt="{:.1%}"),
            Figure("at_risk_share", "repeat buyers with P(alive) below 50%", f["at_risk_share"], fmt="{:.1%}",
                   better="down"),
            Figure("important_value_share", "重要价值 (important value) customers", f["important_value_share"],
                   fmt="{:.1%}", better="up"),
            Figure("watchlist", f"tier-{self.top_tier} customers whose P(alive) fell {drop * 100:.0f}+ points "
                   "this month", self.watch_figures["falling"], fmt="{:,.0f}", better="down"),
            Figure("model", "purchase model (error of the holdout total)",
                   f["model"] + (f" ({err:+.1f}%)" if np.isfinite(err) else "")),
        ]
        if self.truth_figures is not None:
            figs.append(Figure("truth_rank_corr", "rank correlation of predicted and true purchases (per person)",
                               self.truth_figures["rank_corr_purchases"], fmt="{:.2f}", better="up"))
        return figs

    def previous_headline(self) -> dict[str, Any]:
        """The headline figures at the previous month end that the analysis computed anyway
        (:attr:`previous_figures`: customers, value and risk; on this month's OneIDs)."""
        p = self.previous_figures or {}
        keys = {"customers": "customers", "active_customers": "active_customers", "repeat_share": "repeat_share",
                "clv_total": "clv_total", "clv_mean": "clv_mean", "top_tier_value_share": "top_share",
                "at_risk_share": "at_risk_share", "important_value_share": "important_value_share"}
        return {k: p[v] for k, v in keys.items() if v in p}

    def month_over_month(self) -> pd.DataFrame:
        """:data:`MONTH_FIGURES` at this and the previous month end (``figure`` holds the keys).

        Returns
        -------
        DataFrame
            :func:`omni.core.figures.compare_figures` output; empty without a previous month.
        """
        if self.previous_figures is None:
            return pd.DataFrame(columns=["figure", "this_month", "previous_month", "change", "relative_change"])
        return compare_figures(self.month_figures, self.previous_figures, {k: k for k in MONTH_FIGURES})

    def truth_check(self, truth: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame | None:
        """The model against the generator's latent purchase process (:func:`omni.value.truth.truth_check`).

        Parameters
        ----------
        truth : mapping or None
            ``record_person`` and ``persons`` truth tables.

        Returns
        -------
        DataFrame or None
            ``check``, ``value`` per figure (None without truth); the P(alive) calibration table
            is in ``attrs["calibration"]``.
        """
        if truth is None or self.record_oneid is None:
            return None
        cal, figs = truth_check(self.current, self.record_oneid, truth["record_person"], truth["persons"])
        out = pd.DataFrame({"check": list(figs), "value": list(figs.values())})
        out.attrs["calibration"] = cal
        return out
