"""Triangulation: the mix model, the lift experiments and the path models, per channel.

Three views of a channel's incrementality, side by side: the MMM's share of media-caused orders
(with its interval), the experiments' measured lift against the MMM's effect for the same test,
and the path models' shares of conversions. The path models see only the channels with touches
(no TV, no outdoor), so their shares are compared with the MMM's shares renormalised over those
channels. The calibrated path attribution keeps the path model's split within a channel and scales
the channel's total to the MMM's incremental orders.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["calibrated_paths", "triangulate"]


def triangulate(mmm: pd.DataFrame, lifts: pd.DataFrame | None = None,
                path_shares: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per channel with every method's view.

    Parameters
    ----------
    mmm : DataFrame
        :meth:`MarketingMixModel.channel_totals` (indexed by channel: ``share``, ``share_lo``,
        ``share_hi``, ``roas``, ``roas_lo``, ``roas_hi``).
    lifts : DataFrame, optional
        The model's ``lifts_`` (``channel``, ``lift_orders``, ``se_orders``, ``model_orders``,
        ``iroas``).
    path_shares : DataFrame, optional
        ``channel``, ``model``, ``share`` (each model's share of the marketing-credited
        conversions, summing to 1 per model over its channels).

    Returns
    -------
    DataFrame
        Indexed by channel: ``mmm_share`` (+ ``_lo``/``_hi``), ``mmm_roas`` (+ interval),
        ``mmm_share_touch`` (renormalised over the channels the path models see),
        ``experiments``, ``lift_orders``, ``lift_se``, ``mmm_lift_orders``, ``lift_z`` (the
        MMM's effect minus the measured lift, in standard errors), ``experiment_iroas``,
        ``path_min``, ``path_max``, ``path_markov`` and ``path_gap`` (the path share minus the
        MMM's touch-channel share, Markov model, in share points), ``verdict``.
    """
    out = pd.DataFrame(index=mmm.index.copy())
    for c in ("share", "share_lo", "share_hi", "roas", "roas_lo", "roas_hi"):
        out[f"mmm_{c}"] = mmm[c]
    out["experiments"] = 0
    for c in ("lift_orders", "lift_se", "mmm_lift_orders", "lift_z", "experiment_iroas"):
        out[c] = np.nan
    if lifts is not None and len(lifts):
        g = lifts.groupby("channel")
        out["experiments"] = g.size().reindex(out.index).fillna(0).astype(int)
        out["lift_orders"] = g["lift_orders"].sum()
        out["lift_se"] = np.sqrt(g["se_orders"].apply(lambda s: (s**2).sum()))
        out["mmm_lift_orders"] = g["model_orders"].sum()
        out["lift_z"] = (out["mmm_lift_orders"] - out["lift_orders"]) / out["lift_se"]
        if "iroas" in lifts.columns:
            out["experiment_iroas"] = g["iroas"].mean()
    seen = list(out.index)
    for c in ("path_min", "path_max", "path_markov", "path_gap"):
        out[c] = np.nan
    if path_shares is not None and len(path_shares):
        seen = [c for c in out.index if c in set(path_shares["channel"])]
        p = path_shares[path_shares["channel"].isin(seen)]
        g = p.groupby("channel")["share"]
        out["path_min"], out["path_max"] = g.min(), g.max()
        mk = p[p["model"] == "markov"].set_index("channel")["share"]
        out["path_markov"] = mk
    touch = out.loc[seen, "mmm_share"]
    out["mmm_share_touch"] = touch / max(touch.sum(), 1e-12)
    out["path_gap"] = out["path_markov"] - out["mmm_share_touch"]
    out["verdict"] = [_verdict(r) for r in out.itertuples()]
    return out


def _verdict(r) -> str:
    parts = []
    if np.isfinite(r.lift_z):
        parts.append("experiments agree" if abs(r.lift_z) <= 2 else
                     ("MMM above experiments" if r.lift_z > 0 else "MMM below experiments"))
    if np.isfinite(r.path_gap):
        if r.path_gap > 0.05:
            parts.append("paths over-credit")
        elif r.path_gap < -0.05:
            parts.append("paths under-credit")
        else:
            parts.append("paths agree")
    elif np.isnan(r.path_markov):
        parts.append("not seen by paths")
    return "; ".join(parts)


def calibrated_paths(credit: pd.DataFrame, mmm_orders: pd.Series) -> pd.DataFrame:
    """Path credit within each channel, scaled to the MMM's incremental orders of the channel.

    Parameters
    ----------
    credit : DataFrame
        ``channel``, ``unit`` (whatever the path model splits a channel into: a campaign, a touch
        type, a sales channel) and ``credit`` (conversions credited).
    mmm_orders : Series
        The MMM's incremental orders per channel over the same period.

    Returns
    -------
    DataFrame
        ``channel``, ``unit``, ``credit``, ``within_channel`` (the unit's part of the channel's
        path credit), ``calibrated_orders`` (that part of the MMM's orders) and ``factor`` (MMM
        orders per path-credited conversion of the channel; NaN where the MMM has no estimate).
    """
    c = credit.copy()
    tot = c.groupby("channel")["credit"].transform("sum")
    c["within_channel"] = np.where(tot > 0, c["credit"] / tot.where(tot > 0, 1.0), np.nan)
    m = c["channel"].map(mmm_orders)
    c["calibrated_orders"] = c["within_channel"] * m
    c["factor"] = m / tot.where(tot > 0)
    return c.reset_index(drop=True)
