"""Synthetic data only: do the reported intervals contain the generator's true effects, and what
does identity resolution lose (the same lifts measured with the true person ids)?"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from omni.uplift._common import CONTROL, require_columns
from omni.uplift.campaign import CampaignAnalysis
from omni.uplift.effects import cuped, lift
from omni.uplift.outcomes import campaign_outcomes

__all__ = ["perfect_identity_lift", "truth_check"]


def _true_itt(values: np.ndarray, arm: np.ndarray, group: np.ndarray | None, arms: Sequence[str]
              ) -> pd.DataFrame:
    """Mean of ``values`` per arm (and group) minus the control mean: the true ITT effect."""
    g = pd.DataFrame({"v": values, "arm": arm, "g": "all" if group is None else group})
    means = g.groupby(["g", "arm"])["v"].mean().unstack("arm")
    rows = []
    for a in arms:
        if a in means and CONTROL in means:
            d = (means[a] - means[CONTROL]).rename("true_effect").reset_index()
            d["arm"] = a
            rows.append(d)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["g", "true_effect", "arm"])


def perfect_identity_lift(
    analyses: Sequence[CampaignAnalysis],
    assignments: pd.DataFrame,
    orders: pd.DataFrame,
    campaigns: pd.DataFrame,
    record_person: pd.DataFrame,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The same lifts measured with the generator's true person ids instead of OneIDs
    (synthetic data only): separates what identity resolution loses from estimation error.

    Assignments and orders are re-keyed through ``record_person`` (record_key -> person_id);
    outcomes, the conversion lift and the CUPED revenue lift are computed as in
    :func:`analyse_campaign` (same pre-period).

    Returns
    -------
    pandas.DataFrame
        campaign_id, arm, metric, estimate, ci_low, ci_high (true identities), and
        buyers_seen: buyers in the window seen through OneID / true buyers (all arms).
    """
    require_columns(record_person, ["record_key", "person_id"], "record_person")
    require_columns(assignments, ["assignment_key"], "campaign_assignments")
    require_columns(orders, ["order_key"], "orders")
    pid = pd.Series(record_person["person_id"].astype(str).to_numpy(),
                    index=pd.Index(record_person["record_key"].astype(str)))
    a = assignments.assign(oneid=pid.reindex(assignments["assignment_key"].astype(str)).to_numpy())
    o = orders.assign(oneid=pid.reindex(orders["order_key"].astype(str)).to_numpy())
    rows = []
    for an in analyses:
        sub = a[(a["campaign_id"].astype(str) == an.campaign_id) & a["oneid"].notna()]
        out = campaign_outcomes(sub, o, campaigns, an.campaign_id, pre_days=an.info["pre_days"],
                                on_duplicate="first")
        seen = float(an.outcomes["converted"].mean() / out["converted"].mean()) if out[
            "converted"].any() else np.nan
        lc = lift(out, "converted", arm=an.arms, alpha=alpha)
        lr = (cuped(out, "revenue", "pre_revenue", arm=an.arms, alpha=alpha)
              if out["pre_revenue"].var() > 0 else lift(out, "revenue", arm=an.arms, alpha=alpha))
        for frame, metric in ((lc, "conversion"), (lr, "revenue per person")):
            for r in frame.itertuples():
                rows.append({"campaign_id": an.campaign_id, "arm": r.arm, "metric": metric,
                             "estimate": r.abs_lift, "ci_low": r.abs_ci_low,
                             "ci_high": r.abs_ci_high, "buyers_seen": seen})
    return pd.DataFrame(rows)


def truth_check(
    analyses: Sequence[CampaignAnalysis],
    campaign_truth: pd.DataFrame,
    record_oneid: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Do the reported intervals contain the generator's true effects? (synthetic data only)

    The truth (``truth/campaign_truth.parquet``: per assignment record ``uplift_conv`` and
    ``uplift_revenue``, the effect on the person if contacted, and ``contacted``) is mapped to
    oneids through ``record_oneid``. The true intention-to-treat effect of an arm is
    mean(contacted x uplift | arm) - mean(contacted x uplift | control) over the people analysed,
    the quantity the lift estimates.

    Returns
    -------
    (overall, segments)
        overall: campaign_id, arm, metric, estimate, ci_low, ci_high, true_effect, inside,
        mapped_share. segments: campaign_id, segment_by, arm, segments (checked), covered.
    """
    require_columns(campaign_truth, ["campaign_id", "record_key", "contacted", "uplift_conv",
                                     "uplift_revenue"], "campaign_truth")
    require_columns(record_oneid, ["record_key", "oneid"], "record_oneid")
    oneid_of = pd.Series(record_oneid["oneid"].to_numpy(),
                         index=pd.Index(record_oneid["record_key"].astype(str)))
    overall, seg_rows = [], []
    for an in analyses:
        t = campaign_truth[campaign_truth["campaign_id"].astype(str) == an.campaign_id]
        t = t.assign(oneid=oneid_of.reindex(t["record_key"].astype(str).to_numpy()).to_numpy())
        t = t[t["oneid"].notna()]
        c = t["contacted"].astype(bool).to_numpy()
        per = pd.DataFrame({
            "oneid": t["oneid"].astype(str).to_numpy(),
            "conv": c * t["uplift_conv"].to_numpy(dtype="float64"),
            "rev": c * t["uplift_revenue"].to_numpy(dtype="float64"),
        }).drop_duplicates("oneid")
        out = an.outcomes
        pos = pd.Index(per["oneid"]).get_indexer(out["oneid"].astype(str))
        found = pos >= 0
        mapped = float(found.mean()) if len(found) else np.nan
        arm = out["arm"].astype(str).to_numpy()[found]
        e = an.effects.set_index(["arm", "metric", "adjustment"])
        for metric, col, adj in (("conversion", "conv", "none"),
                                 ("revenue per person", "rev", "CUPED")):
            vals = per[col].to_numpy()[pos[found]]
            tr = _true_itt(vals, arm, None, an.arms)
            for r in tr.itertuples():
                key = (r.arm, metric, adj) if (r.arm, metric, adj) in e.index else (
                    r.arm, metric, "none")
                est = e.loc[key]
                overall.append({
                    "campaign_id": an.campaign_id, "arm": r.arm, "metric": metric,
                    "adjustment": key[2], "estimate": float(est["abs_lift"]),
                    "ci_low": float(est["abs_ci_low"]), "ci_high": float(est["abs_ci_high"]),
                    "true_effect": float(r.true_effect),
                    "inside": bool(est["abs_ci_low"] <= r.true_effect <= est["abs_ci_high"]),
                    "mapped_share": mapped,
                })
            if metric != "conversion":
                continue
            for col_name, seg in an.segments.items():
                groups = out[col_name].astype("object").where(out[col_name].notna(),
                                                              "(missing)").astype(str)
                tr = _true_itt(vals, arm, groups.to_numpy()[found], an.arms)
                tr = tr.rename(columns={"g": col_name})
                est = seg[~seg["suppressed"]]
                if len(est) == 0:
                    continue
                m = est.assign(**{col_name: est[col_name].astype(str)}).merge(
                    tr, on=[col_name, "arm"], how="inner")
                inside = (m["abs_ci_low"] <= m["true_effect"]) & (m["true_effect"] <= m["abs_ci_high"])
                for a, g in m.assign(inside=inside).groupby("arm"):
                    seg_rows.append({"campaign_id": an.campaign_id, "segment_by": col_name,
                                     "arm": a, "segments": len(g), "covered": int(g["inside"].sum())})
    return pd.DataFrame(overall), pd.DataFrame(
        seg_rows, columns=["campaign_id", "segment_by", "arm", "segments", "covered"])
