"""Synthetic data only: do the reported intervals contain the generator's true effects, and what
does identity resolution lose (the same lifts measured with the true person ids)?"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from omni.engine import lookup
from omni.uplift._common import CONTROL, require_columns
from omni.uplift.campaign import CampaignAnalysis
from omni.uplift.effects import cuped, lift
from omni.uplift.outcomes import _window, campaign_outcomes, campaign_row

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


def _order_window(analyses: Sequence[CampaignAnalysis], campaigns: pd.DataFrame
                  ) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The span of time whose orders the campaigns' outcomes read: from the earliest pre-period
    start to the latest exclusive end (:func:`omni.uplift.outcomes.campaign_outcomes`)."""
    lo, hi = [], []
    for an in analyses:
        start, end_excl, pre_start = _window(campaign_row(campaigns, an.campaign_id), an.campaign_id,
                                             int(an.info["pre_days"]))
        lo.append(pre_start)
        hi.append(end_excl)
    return min(lo), max(hi)


def perfect_identity_lift(
    analyses: Sequence[CampaignAnalysis],
    assignments: pd.DataFrame,
    orders: pd.DataFrame,
    campaigns: pd.DataFrame,
    record_person: pd.DataFrame | Path | str,
    alpha: float = 0.05,
    temp_dir: Path | str | None = None,
) -> pd.DataFrame:
    """The same lifts measured with the generator's true person ids instead of OneIDs
    (synthetic data only): separates what identity resolution loses from estimation error.

    Assignments and orders are re-keyed through ``record_person`` (record_key -> person_id);
    outcomes, the conversion lift and the CUPED revenue lift are computed as in
    :func:`analyse_campaign` (same pre-period). Only the analysed campaigns' assignments and the
    orders of their windows (pre-period included) are looked up, in the embedded engine: with
    ``record_person`` given as its Parquet file (``Workspace.truth_path``) it is never loaded.

    Parameters
    ----------
    analyses : sequence of CampaignAnalysis
        The campaigns.
    assignments, orders, campaigns : DataFrame
        The unified tables the campaigns were measured on.
    record_person : DataFrame or path
        ``record_key``, ``person_id`` (``truth/record_person`` or its Parquet file).
    alpha : float
        1 - the intervals' level.
    temp_dir : path, optional
        The engine's spill folder.

    Returns
    -------
    pandas.DataFrame
        campaign_id, arm, metric, estimate, ci_low, ci_high (true identities), and
        buyers_seen: buyers in the window seen through OneID / true buyers (all arms).
    """
    if isinstance(record_person, pd.DataFrame):
        require_columns(record_person, ["record_key", "person_id"], "record_person")
    require_columns(assignments, ["assignment_key"], "campaign_assignments")
    require_columns(orders, ["order_key"], "orders")
    if not analyses:
        return pd.DataFrame()
    ids = {an.campaign_id for an in analyses}
    a = assignments.loc[assignments["campaign_id"].astype(str).isin(ids).to_numpy()]
    lo, hi = _order_window(analyses, campaigns)
    times = pd.to_datetime(orders["order_time"], errors="coerce")
    # orders outside every window never count; unreadable times stay (campaign_outcomes names them)
    o = orders.loc[(times.isna() | ((times >= lo) & (times < hi))).to_numpy()]
    keys = pd.concat([a["assignment_key"], o["order_key"]], ignore_index=True)
    pid = lookup(keys, record_person, "record_key", "person_id", "record_person", temp_dir)
    a = a.assign(oneid=pid[:len(a)])
    o = o.assign(oneid=pid[len(a):])
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
    campaign_truth: pd.DataFrame | Path | str,
    record_oneid: pd.DataFrame | Path | str,
    temp_dir: Path | str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Do the reported intervals contain the generator's true effects? (synthetic data only)

    The truth (``truth/campaign_truth.parquet``: per assignment record ``uplift_conv`` and
    ``uplift_revenue``, the effect on the person if contacted, and ``contacted``) is mapped to
    oneids through ``record_oneid``. The true intention-to-treat effect of an arm is
    mean(contacted x uplift | arm) - mean(contacted x uplift | control) over the people analysed,
    the quantity the lift estimates.

    Only the analysed campaigns' truth rows are read, and their record keys are looked up in
    ``record_oneid`` in the embedded engine: given as Parquet files (``Workspace.truth_path``,
    ``Resolved.engine_table``) neither table is loaded whole.

    Parameters
    ----------
    analyses : sequence of CampaignAnalysis
        The campaigns.
    campaign_truth : DataFrame or path
        The truth per assignment record (or its Parquet file).
    record_oneid : DataFrame or path
        ``record_key``, ``oneid`` of the resolution the campaigns were measured with (or its
        Parquet file).
    temp_dir : path, optional
        The engine's spill folder.

    Returns
    -------
    (overall, segments)
        overall: campaign_id, arm, metric, estimate, ci_low, ci_high, true_effect, inside,
        mapped_share. segments: campaign_id, segment_by, arm, segments (checked), covered.
    """
    cols = ["campaign_id", "record_key", "contacted", "uplift_conv", "uplift_revenue"]
    ids = [an.campaign_id for an in analyses]
    seg_columns = ["campaign_id", "segment_by", "arm", "segments", "covered"]
    if not ids:
        return pd.DataFrame(), pd.DataFrame(columns=seg_columns)
    if isinstance(campaign_truth, pd.DataFrame):
        require_columns(campaign_truth, cols, "campaign_truth")
        truth = campaign_truth.loc[campaign_truth["campaign_id"].astype(str).isin(ids).to_numpy(), cols]
    else:
        truth = pd.read_parquet(campaign_truth, columns=cols, filters=[("campaign_id", "in", ids)])
    if isinstance(record_oneid, pd.DataFrame):
        require_columns(record_oneid, ["record_key", "oneid"], "record_oneid")
    truth = truth.assign(oneid=lookup(truth["record_key"], record_oneid, "record_key", "oneid",
                                       "record_oneid", temp_dir))
    truth = truth[truth["oneid"].notna()]
    overall, seg_rows = [], []
    for an in analyses:
        t = truth[truth["campaign_id"].astype(str) == an.campaign_id]
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
    return pd.DataFrame(overall), pd.DataFrame(seg_rows, columns=seg_columns)
