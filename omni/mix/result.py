"""The result of a marketing mix analysis: its tables, headline and truth check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from omni.core.result import Figure, MonthResult
from omni.mix.model import MarketingMixModel

__all__ = ["MixResult"]


@dataclass
class MixResult(MonthResult):
    """Marketing mix up to a report month (output of :func:`omni.mix.analyse_month`).

    Attributes
    ----------
    tables : dict of str to DataFrame
        ``channels`` (the last ``plan_weeks`` weeks: spend, incremental orders and revenue, share,
        ROAS, with intervals), ``month_channels`` (the report month), ``span_channels`` (all the
        data), ``decomposition`` (national weekly baseline and channels), ``curves``, ``plan``,
        ``lifts``, ``triangulation``, ``quarantine``, ``counts``; with person-level data
        ``path_shares`` and ``calibrated_paths``; with truth ``truth``.
    model : MarketingMixModel
        The fitted model.
    plan_gain : dict
        The optimiser's expected gain (``gain``, ``gain_lo``, ``gain_hi``, ``current``,
        ``relative``) in revenue over the plan period.
    media_share : float
        Share of the plan period's orders the media caused (MMM).
    truth_summary : dict, optional
        Synthetic data: ``tad`` (total absolute deviation of the channel shares from the truth,
        0-2), ``total_ratio`` (MMM total incremental orders / true), ``coverage`` (share of
        channels whose interval holds the truth), ``plan_vs_optimal`` (true revenue of the
        optimiser's plan / of the truth-optimal plan at the same spend).
    """

    model: MarketingMixModel | None = None
    currency: str = ""
    plan_gain: dict[str, float] = field(default_factory=dict)
    fit_seconds: float = float("nan")
    media_share: float = float("nan")
    truth_summary: dict[str, float] | None = None

    @property
    def channels(self) -> list[str]:
        """Channels by incremental orders over the plan period, largest first."""
        return self.tables["channels"]["orders"].sort_values(ascending=False).index.tolist()

    def figures_list(self) -> list[Figure]:
        """The headline figures of notebook 08 (truth figures on synthetic data)."""
        ch, cur, g = self.tables["channels"], self.currency, self.plan_gain
        weeks = self.settings.get("plan_weeks", 52)
        top = ch["roas"].idxmax() if len(ch) else ""
        lifts = self.tables.get("tri_lifts")
        tri = self.tables["triangulation"]
        tested = tri[tri["experiments"] > 0]
        agree = int((tested["lift_z"].abs() <= 2).sum())
        figs = [
            Figure("media_share", f"orders caused by media, last {weeks} weeks (MMM)", self.media_share,
                   fmt="{:.1%}"),
            Figure("media_roas", f"return on media spend, last {weeks} weeks (MMM)",
                   float(ch["revenue"].sum() / max(ch["spend"].sum(), 1e-9)), fmt="{:.2f}", better="up"),
            Figure("top_roas_channel", "channel with the highest ROAS (MMM)",
                   f"{top} ({ch.loc[top, 'roas']:.2f})" if top else ""),
            Figure("plan_gain", "revenue gain of the optimiser's plan at the same spend",
                   g.get("relative", np.nan), fmt="{:+.1%}", better="up"),
            Figure("experiments_agree", "lift tests the MMM agrees with (within 2 standard errors)",
                   f"{agree} of {len(tested)}"),
        ]
        del lifts
        t = self.truth_summary
        if t:
            figs += [
                Figure("mmm_truth_deviation", "MMM: distance from the true channel shares (0-2)",
                       t["tad"], fmt="{:.2f}", better="down"),
                Figure("mmm_total_vs_truth", "MMM total incremental orders against the truth",
                       t["total_ratio"] - 1, fmt="{:+.1%}"),
                Figure("mmm_interval_coverage", "channels whose 90% interval holds the truth",
                       t["coverage"], fmt="{:.0%}", better="up"),
                Figure("plan_vs_optimal", "optimiser's plan: share of the truth-optimal revenue",
                       t["plan_vs_optimal"], fmt="{:.1%}", better="up"),
            ]
        del cur
        return figs

    def truth_check(self, truth: Mapping[str, Any] | None) -> pd.DataFrame | None:
        """Each channel's MMM incremental orders over the data against the truth.

        Parameters
        ----------
        truth : mapping, optional
            ``mix_params`` (the world's ``truth/mix_params.json``).

        Returns
        -------
        DataFrame or None
            Indexed by channel: ``orders``, ``orders_lo``, ``orders_hi``, ``true_orders``,
            ``covered``, ``share``, ``true_share``, ``abs_dev``.
        """
        if not truth or "mix_params" not in truth:
            return None
        p = truth["mix_params"]
        span = self.tables["span_channels"]
        out = span[["orders", "orders_lo", "orders_hi", "share"]].copy()
        out["true_orders"] = [p["incremental_orders"].get(c, np.nan) for c in out.index]
        out["true_share"] = out["true_orders"] / out["true_orders"].sum()
        out["covered"] = (out["true_orders"] >= out["orders_lo"]) & (out["true_orders"] <= out["orders_hi"])
        out["abs_dev"] = (out["share"] - out["true_share"]).abs()
        return out[["orders", "orders_lo", "orders_hi", "true_orders", "covered", "share", "true_share",
                    "abs_dev"]]

    def truth_summary_of(self, truth: dict[str, Any], panel: Any, plan_days: slice) -> dict[str, float]:
        """The truth figures (see :attr:`truth_summary`)."""
        from omni.mix.analysis import true_responses
        from omni.mix.optimise import allocate

        t = self.tables["truth"]
        true_f = true_responses(truth, panel, plan_days)
        spend = self.tables["plan"]["current"].to_numpy()
        s = self.settings
        best = allocate(lambda c, b: true_f[c](b), spend, list(t.index), s["low"], s["high"])
        rec = self.tables["plan"]["recommended"].to_numpy()
        got = sum(float(f(rec[c:c + 1])[0]) for c, f in enumerate(true_f))
        return {"tad": float(t["abs_dev"].sum()),
                "total_ratio": float(t["orders"].sum() / t["true_orders"].sum()),
                "coverage": float(t["covered"].mean()),
                "plan_vs_optimal": got / float(best["response_recommended"].sum()),
                "current_vs_optimal": float(best["response_current"].sum() / best["response_recommended"].sum())}
