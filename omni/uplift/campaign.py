"""One randomized campaign analysed: design checks, effects, CUPED, segments, power, the uplift
model and the recommendation, and the campaign's figures as it ran (all arms against the holdout).

Everything here returns frames, numbers and flags; the words and pictures are in
``omni.uplift.narrative``, ``omni.uplift.tables`` and ``omni.uplift.plots``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from omni.core.month import Month
from omni.uplift._common import CONTROL, require_columns
from omni.uplift.checks import (
    balance_check,
    contamination_check,
    planned_shares,
    sample_ratio_check,
)
from omni.uplift.covariates import pre_period_covariates
from omni.uplift.effects import complier_lift, cuped, lift
from omni.uplift.hte import heterogeneity_test, uplift_by_segment
from omni.uplift.outcomes import campaign_outcomes, campaign_row, parse_arms
from omni.uplift.power import minimum_detectable_effect, required_sample_size
from omni.uplift.targeting import (
    MODEL_FEATURES,
    ModelSkipped,
    fit_arm_model,
    recommend,
    target_profile,
)
from omni.workspace import Workspace

__all__ = [
    "CHECKS",
    "MIN_SEGMENT_EVENTS",
    "CampaignAnalysis",
    "analyse_campaign",
    "arm_values",
    "suppress_few_events",
]

#: Buyers (and non-buyers) needed in each arm of a segment for its interval to be shown.
MIN_SEGMENT_EVENTS = 5
#: The design checks, in reading order (keys of :attr:`CampaignAnalysis.checks`).
CHECKS = ("sample_ratio", "balance", "holdout_untouched", "treated_reached", "one_assignment")


@dataclass
class CampaignAnalysis:
    """Everything the report shows about one campaign (see :func:`analyse_campaign`).

    Frames are aggregated (no person-level rows) except ``outcomes``, which stays in memory for
    further analysis and is never displayed.

    Attributes
    ----------
    checks : DataFrame
        ``check`` (one of :data:`CHECKS`) and ``result`` (``pass``, ``warn`` or ``fail``); the
        numbers behind each are in ``srm``, ``balance``, ``contamination`` and ``info``.
    model : dict of str to dict
        Arm -> fitted uplift model (:func:`omni.uplift.targeting.fit_arm_model`).
    skipped_models : list of ModelSkipped
        Arms without an uplift model and why.
    warnings : list of str
        Problems met on the way (one line each), shown as notes.
    """

    campaign_id: str
    info: dict[str, Any]
    arms: list[str]
    outcomes: pd.DataFrame
    checks: pd.DataFrame
    srm: pd.DataFrame
    balance: pd.DataFrame
    contamination: pd.DataFrame
    effects: pd.DataFrame
    cuped_table: pd.DataFrame
    cace: pd.DataFrame
    segments: dict[str, pd.DataFrame]
    heterogeneity: pd.DataFrame
    power: pd.DataFrame
    figures: dict[str, Any]
    model: dict[str, Any] = field(default_factory=dict)
    skipped_models: list[ModelSkipped] = field(default_factory=list)
    recommendation: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def n_duplicates(self) -> int:
        """People assigned more than once (first assignment kept)."""
        return int(self.info.get("n_assignment_rows", 0)) - int(self.info.get("n_people", 0))


def arm_values(row: pd.Series | Mapping[str, Any], column: str, arms: Sequence[str]) -> dict[str, float]:
    """Per-arm numbers of a campaign column such as ``coupon_value`` (``"20|50"``).

    One value applies to every treatment arm; several values (``|``, ``,`` or ``;`` separated)
    are matched to ``arms`` in order. Missing means 0.

    Raises
    ------
    ValueError
        Values that are not numbers, negative, or not one per arm.
    """
    raw = row.get(column) if hasattr(row, "get") else None
    if raw is None or (not isinstance(raw, str) and pd.isna(raw)):
        return {a: 0.0 for a in arms}
    parts = [p.strip() for p in re.split(r"[|,;]", str(raw)) if p.strip()]
    try:
        vals = [float(p) for p in parts]
    except ValueError as exc:
        raise ValueError(f"campaign {row.get('campaign_id')!r}: {column} {raw!r} is not numeric") from exc
    if len(vals) == 1:
        vals = vals * len(arms)
    if len(vals) != len(arms):
        raise ValueError(
            f"campaign {row.get('campaign_id')!r}: {column} has {len(vals)} values ({raw!r}) "
            f"for {len(arms)} treatment arms {list(arms)}"
        )
    if any(not np.isfinite(v) or v < 0 for v in vals):
        raise ValueError(f"campaign {row.get('campaign_id')!r}: {column} must be >= 0, got {raw!r}")
    return dict(zip(arms, vals, strict=True))


def suppress_few_events(seg: pd.DataFrame, outcomes: pd.DataFrame, segment_col: str,
                        min_events: int = MIN_SEGMENT_EVENTS, metric: str = "converted",
                        control: str = CONTROL) -> pd.DataFrame:
    """Also suppress segment estimates (:func:`omni.uplift.uplift_by_segment` rows) where an arm
    has fewer than ``min_events`` buyers or non-buyers: the normal-approximation interval is
    not reliable there (with no buyer in the holdout its variance is 0 and the interval is far
    too narrow), and such a segment would dominate Cochran's Q.

    Returns
    -------
    pandas.DataFrame
        A copy with those rows' estimates set to NaN, ``suppressed`` and ``few_events`` True and
        the reason in ``verdict``.
    """
    require_columns(outcomes, [segment_col, "arm", metric], "outcomes")
    require_columns(seg, [segment_col, "arm", "suppressed"], "segment frame")
    lev = outcomes[segment_col].astype("object").where(outcomes[segment_col].notna(),
                                                       "(missing)").astype(str)
    y = outcomes[metric].astype(bool)
    g = pd.DataFrame({"s": lev.to_numpy(), "a": outcomes["arm"].astype(str).to_numpy(),
                      "y": y.to_numpy()}).groupby(["s", "a"])["y"].agg(["sum", "size"])
    events = np.minimum(g["sum"], g["size"] - g["sum"])
    s_lev = seg[segment_col].astype(str).to_numpy()
    ev_t = events.reindex(pd.MultiIndex.from_arrays([s_lev, seg["arm"].astype(str).to_numpy()]))
    ev_c = events.reindex(pd.MultiIndex.from_arrays([s_lev, np.full(len(seg), control)]))
    few = (np.minimum(ev_t.fillna(0).to_numpy(), ev_c.fillna(0).to_numpy()) < min_events) & ~seg[
        "suppressed"].to_numpy(dtype=bool)
    out = seg.copy()
    est = [c for c in ("mean_treat", "mean_control", "abs_lift", "se", "abs_ci_low", "abs_ci_high",
                       "p_value", "rel_lift", "rel_ci_low", "rel_ci_high", "rev_lift",
                       "rev_ci_low", "rev_ci_high") if c in out.columns]
    out.loc[few, est] = np.nan
    out.loc[few, "suppressed"] = True
    out["few_events"] = few
    if "verdict" in out.columns:
        out.loc[few, "verdict"] = (f"suppressed: fewer than {min_events} buyers or non-buyers "
                                   "in an arm")
    return out


def _checks(srm: pd.DataFrame, balance: pd.DataFrame, contamination: pd.DataFrame,
            n_duplicates: int) -> pd.DataFrame:
    """Pass / warn / fail of each design check (:data:`CHECKS`)."""
    ctrl = contamination[contamination["role"] == "control"].iloc[0]
    treat = contamination[contamination["role"] == "treatment"]
    results = {
        "sample_ratio": "fail" if srm.iloc[0]["srm"] else "pass",
        "balance": "warn" if balance["flag"].any() else "pass",
        "holdout_untouched": "warn" if ctrl["flag"] else "pass",
        "treated_reached": "warn" if treat["flag"].any() else "pass",
        "one_assignment": "warn" if n_duplicates else "pass",
    }
    return pd.DataFrame({"check": list(CHECKS), "result": [results[k] for k in CHECKS]})


def _effects_table(lc: pd.DataFrame, lr: pd.DataFrame, cc: pd.DataFrame | None,
                   cr: pd.DataFrame | None) -> pd.DataFrame:
    """Long table: arm x metric x adjustment with estimate and interval."""
    parts = []
    for frame, metric, adj in ((lc, "conversion", "none"), (lr, "revenue per person", "none"),
                               (cc, "conversion", "CUPED"), (cr, "revenue per person", "CUPED")):
        if frame is None:
            continue
        f = frame[["arm", "n_treat", "n_control", "mean_treat", "mean_control", "abs_lift", "se",
                   "abs_ci_low", "abs_ci_high", "p_value", "rel_lift", "rel_ci_low",
                   "rel_ci_high", "significant"]].copy()
        if "p_value_adj" in frame:
            f["p_value"] = frame["p_value_adj"].to_numpy()
        f.insert(1, "metric", metric)
        f.insert(2, "adjustment", adj)
        f["variance_reduction"] = frame["variance_reduction"].to_numpy() if "variance_reduction" in frame else np.nan
        parts.append(f)
    return pd.concat(parts, ignore_index=True)


def _safe_cuped(out: pd.DataFrame, metric: str, covariate: str, correction: str | None,
                alpha: float, notes: list[str]) -> pd.DataFrame | None:
    if float(np.var(out[covariate].to_numpy(dtype="float64"))) == 0.0:
        notes.append(f"CUPED for {metric} skipped: {covariate} is the same for everyone")
        return None
    return cuped(out, metric, covariate=covariate, alpha=alpha, correction=correction)


def _cuped_table(pairs: Sequence[tuple[pd.DataFrame | None, pd.DataFrame]]) -> pd.DataFrame:
    """Each arm's lift before and after CUPED (``pairs``: (CUPED frame, unadjusted frame))."""
    rows = []
    for adj, base in pairs:
        if adj is None:
            continue
        for (_, x), (_, b) in zip(adj.iterrows(), base.iterrows(), strict=True):
            rows.append({
                "arm": x["arm"], "metric": "conversion" if x["metric"] == "converted" else "revenue per person",
                "lift_before": b["abs_lift"], "ci_low_before": b["abs_ci_low"],
                "ci_high_before": b["abs_ci_high"], "se_before": b["se"],
                "lift_after": x["abs_lift"], "ci_low_after": x["abs_ci_low"],
                "ci_high_after": x["abs_ci_high"], "se_after": x["se"],
                "variance_reduction": x["variance_reduction"], "theta": x["theta"],
            })
    return pd.DataFrame(rows)


def _power_row(out: pd.DataFrame, ctrl: pd.DataFrame, a: str, e: pd.DataFrame, rev_sd: float,
               alpha: float, power: float) -> dict[str, Any]:
    base = float(ctrl["converted"].mean())
    n_t, n_c = int((out["arm"] == a).sum()), len(ctrl)
    obs = float(e.loc[(a, "conversion", "none"), "abs_lift"])
    try:
        mde = minimum_detectable_effect(n_t, n_c, base, alpha=alpha, power=power)
    except ValueError:
        mde = np.nan
    need_t = need_c = np.nan
    if 0 < base < 1 and obs > 0 and base + obs < 1:
        ss = required_sample_size(base, obs, ratio=n_c / n_t, alpha=alpha, power=power)
        need_t, need_c = ss.n_treat, ss.n_control
    vr = np.nan
    if (a, "revenue per person", "CUPED") in e.index:
        vr = float(e.loc[(a, "revenue per person", "CUPED"), "variance_reduction"])
    mde_rev = mde_rev_cuped = np.nan
    if rev_sd > 0:
        mde_rev = minimum_detectable_effect(n_t, n_c, float(ctrl["revenue"].mean()),
                                            alpha=alpha, power=power, metric="mean", sd=rev_sd)
        if np.isfinite(vr):
            mde_rev_cuped = mde_rev * np.sqrt(max(1.0 - vr, 0.0))
    return {
        "arm": a, "n_treat": n_t, "n_control": n_c, "baseline_conversion": base,
        "mde_conversion": mde, "mde_relative": mde / base if base > 0 else np.nan,
        "observed_lift": obs, "needed_treat": need_t, "needed_control": need_c,
        "mde_revenue": mde_rev, "mde_revenue_cuped": mde_rev_cuped,
    }


def _power_table(out: pd.DataFrame, arms: Sequence[str], effects: pd.DataFrame,
                 alpha: float, power: float) -> pd.DataFrame:
    """Smallest detectable lift of each arm (conversion; revenue, with CUPED where applied)."""
    ctrl = out[out["arm"] == CONTROL]
    rev_sd = float(out["revenue"].std(ddof=1))
    e = effects.set_index(["arm", "metric", "adjustment"])
    return pd.DataFrame([_power_row(out, ctrl, a, e, rev_sd, alpha, power) for a in arms])


def _segments(out: pd.DataFrame, segment_by: Sequence[str], alpha: float, min_n: int,
              notes: list[str]) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Conversion (and revenue) lift by segment, and Cochran's Q for each segmentation."""
    segments, het = {}, []
    for col in segment_by:
        if col not in out.columns:
            notes.append(f"segment column {col!r} not available")
            continue
        seg = uplift_by_segment(out, col, "converted", alpha=alpha, min_n=min_n)
        seg_rev = uplift_by_segment(out, col, "revenue", alpha=alpha, min_n=min_n)
        seg["rev_lift"] = seg_rev["abs_lift"].to_numpy()
        seg["rev_ci_low"] = seg_rev["abs_ci_low"].to_numpy()
        seg["rev_ci_high"] = seg_rev["abs_ci_high"].to_numpy()
        seg = suppress_few_events(seg, out, col)
        segments[col] = seg
        h = heterogeneity_test(seg)
        h.insert(0, "segment_by", col)
        het.append(h)
    return segments, (pd.concat(het, ignore_index=True) if het else pd.DataFrame())


def _campaign_info(row: pd.Series, cid: str, out: pd.DataFrame, coupon: dict[str, float],
                   cpc: float, n_rows: int, pre_days: int) -> dict[str, Any]:
    start, end = pd.Timestamp(row["start_date"]), pd.Timestamp(row["end_date"])
    return {
        "campaign_id": cid,
        "name": str(row["name"]) if "name" in row.index else cid,
        "channel": str(row["channel"]) if "channel" in row.index else "",
        "start_date": start, "end_date": end, "days": int((end - start).days) + 1,
        "control_share": float(row["control_share"]) if "control_share" in row.index else np.nan,
        "cost_per_contact": cpc, "coupon_value": coupon, "n_people": len(out),
        "n_assignment_rows": n_rows, "pre_days": pre_days,
    }


def _as_run(out: pd.DataFrame, arms: Sequence[str], lc: pd.DataFrame, revenue_cuped: bool,
            checks: pd.DataFrame, cpc: float, coupon: Mapping[str, float], margin: float,
            alpha: float) -> dict[str, Any]:
    """The campaign as it ran: all arms pooled against the holdout, scaled to the treated people.

    Incremental buyers and revenue are the pooled lift (conversion; revenue per person with
    CUPED where it applies) times the treated people; cost is contacts x cost per contact plus
    the coupon of every treated buyer; profit = margin x incremental revenue - cost.
    """
    pooled = out.assign(arm=np.where(out["treated"], "any treatment", CONTROL))
    pc = lift(pooled, "converted", alpha=alpha).iloc[0]
    rev_frame = _safe_cuped(pooled, "revenue", "pre_revenue", None, alpha, []) if revenue_cuped else None
    pr = (rev_frame if rev_frame is not None else lift(pooled, "revenue", alpha=alpha)).iloc[0]
    n_treated = int(out["treated"].sum())
    cost = cpc * int(out["contacted"].sum()) + sum(
        coupon[x] * int(out.loc[out["arm"] == x, "converted"].sum()) for x in arms)
    inc_rev = float(pr["abs_lift"]) * n_treated
    return {
        "n_people": len(out), "n_treated": n_treated, "n_control": len(out) - n_treated,
        "n_arms": len(arms), "checks_failed": int((checks["result"] == "fail").sum()),
        "checks_warned": int((checks["result"] == "warn").sum()),
        "inc_conversions": float(pc["abs_lift"]) * n_treated,
        "inc_conversions_ci_low": float(pc["abs_ci_low"]) * n_treated,
        "inc_conversions_ci_high": float(pc["abs_ci_high"]) * n_treated,
        "inc_revenue": inc_rev,
        "inc_revenue_ci_low": float(pr["abs_ci_low"]) * n_treated,
        "inc_revenue_ci_high": float(pr["abs_ci_high"]) * n_treated,
        "cost": cost, "inc_profit": margin * inc_rev - cost,
        "conversion_control": float(pc["mean_control"]), "conversion_treated": float(pc["mean_treat"]),
        "significant_arms": int(lc["significant"].sum()),
    }


def _outcomes(assignments: pd.DataFrame, orders: pd.DataFrame, campaigns: pd.DataFrame,
              row: pd.Series, covariates: pd.DataFrame | None, profiles: pd.DataFrame | None,
              pre_days: int, clv: bool, notes: list[str], workspace: Workspace | None,
              resolution: Month | str | None) -> tuple[pd.DataFrame, int]:
    """Per-person outcomes with the pre-period covariates, and the number of assignment rows."""
    cid = str(row["campaign_id"])
    require_columns(assignments, ["campaign_id", "oneid", "arm", "contacted"], "campaign_assignments")
    a = assignments[assignments["campaign_id"].astype(str) == cid]
    if len(a) == 0:
        raise ValueError(f"campaign {cid!r} has no rows in campaign_assignments")
    if covariates is None:
        if workspace is None:
            raise ValueError(f"campaign {cid!r}: pass covariates= or the workspace= to read them from")
        people = pd.unique(a["oneid"].astype(str))
        covariates = pre_period_covariates(workspace, row["start_date"], people, resolution=resolution,
                                           profiles=profiles, clv=clv)
    notes.extend(covariates.attrs.get("warnings", []))
    out = campaign_outcomes(a, orders, campaigns, cid, pre_days=pre_days, covariates=covariates,
                            on_duplicate="first")
    return out, len(a)


def _arms(row: pd.Series, out: pd.DataFrame) -> list[str]:
    """Treatment arms in the campaign's order (or sorted), those with people only."""
    arms_all = parse_arms(row["arms"]) if "arms" in row.index else None
    arms = [x for x in (arms_all or sorted(out["arm"].unique())) if x != CONTROL]
    return [x for x in arms if (out["arm"] == x).any()]


def _lifts(out: pd.DataFrame, arms: Sequence[str], alpha: float, notes: list[str]
           ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """Conversion and revenue lifts, unadjusted and with CUPED (Holm-adjusted with several arms)."""
    correction = "holm" if len(arms) > 1 else None
    lc = lift(out, "converted", alpha=alpha, correction=correction)
    lr = lift(out, "revenue", alpha=alpha, correction=correction)
    cc = _safe_cuped(out, "converted", "pre_orders", correction, alpha, notes)
    cr = _safe_cuped(out, "revenue", "pre_revenue", correction, alpha, notes)
    return lc, lr, cc, cr


def _complier(out: pd.DataFrame, alpha: float, notes: list[str]) -> pd.DataFrame:
    """The effect on the people actually contacted (empty, with a note, when not estimable)."""
    try:
        return complier_lift(out, "converted", alpha=alpha)
    except ValueError as exc:
        notes.append(f"effect on the contacted not estimable: {exc}")
        return pd.DataFrame()


def _fit_models(out: pd.DataFrame, arms: Sequence[str], model_features: Sequence[str], s: dict,
                population: int, cpc: float, coupon: Mapping[str, float], notes: list[str]
                ) -> tuple[dict[str, dict], list[ModelSkipped]]:
    features = [f for f in model_features if f in out.columns or f == "log_pre_revenue"]
    models, skipped = {}, []
    for arm in arms:
        m = fit_arm_model(out, arm, features, s["test_share"], s["seed"], s["n_boot"],
                          s["model_min_n"], population, cpc, coupon[arm], s["margin"],
                          s["alpha"], notes)
        if isinstance(m, ModelSkipped):
            skipped.append(m)
        else:
            models[arm] = m
    return models, skipped


def _design_checks(out: pd.DataFrame, campaigns: pd.DataFrame, cid: str,
                   segment_by: Sequence[str], n_rows: int) -> tuple[pd.DataFrame, ...]:
    """Sample ratio, balance and contamination, and their pass / warn / fail summary."""
    srm = sample_ratio_check(out, planned_shares(campaigns, cid))
    balance = balance_check(out, ["pre_revenue", "pre_orders"] + [c for c in segment_by if c in out.columns])
    contamination = contamination_check(out)
    return srm, balance, contamination, _checks(srm, balance, contamination, n_rows - len(out))


def _recommendation(arms: Sequence[str], effects: pd.DataFrame, models: Mapping[str, dict],
                    out: pd.DataFrame, margin: float, population: int, cpc: float,
                    coupon: Mapping[str, float]) -> dict[str, Any]:
    """:func:`omni.uplift.targeting.recommend`, with the RFM profile of a model-chosen target group."""
    rec = recommend(arms, effects, models, out, margin, population, cpc, coupon)
    if rec["basis"] == "model" and "rfm_segment" in out.columns:
        m = models[rec["arm"]]
        rec["target_profile"] = target_profile(m["test"], m["score"], rec["top_k"], "rfm_segment")
    return rec


def _average_effects(out: pd.DataFrame, arms: list[str], segment_by: Sequence[str], segment_min_n: int,
                     alpha: float, power: float, notes: list[str]) -> tuple:
    """Lifts (plain and CUPED, conversion and revenue), their table, the complier effect, the
    segment breakdown and the power table of one campaign."""
    lifts = _lifts(out, arms, alpha, notes)
    effects = _effects_table(*lifts)
    cace = _complier(out, alpha, notes)
    segments = _segments(out, segment_by, alpha, segment_min_n, notes)
    return lifts, effects, cace, segments, _power_table(out, arms, effects, alpha, power)


def analyse_campaign(
    assignments: pd.DataFrame,
    orders: pd.DataFrame,
    campaigns: pd.DataFrame,
    campaign_id: str,
    profiles: pd.DataFrame | None = None,
    covariates: pd.DataFrame | None = None,
    pre_days: int = 365,
    margin: float = 0.4,
    segment_by: Sequence[str] = ("rfm_segment", "clv_tier", "city_tier"),
    segment_min_n: int = 100,
    uplift_model: bool = True,
    model_features: Sequence[str] = MODEL_FEATURES,
    model_min_n: int = 200,
    test_share: float = 0.3,
    n_boot: int = 200,
    rollout_size: int | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    seed: int = 7,
    clv: bool = True,
    workspace: Workspace | None = None,
    resolution: Month | str | None = None,
) -> CampaignAnalysis:
    """Analyse one randomized campaign.

    Parameters
    ----------
    assignments, orders : DataFrame
        Unified ``campaign_assignments`` and ``orders`` (keyed by oneid).
    campaigns : DataFrame
        The ``campaigns`` source (campaign_id, name, channel, start_date, end_date, arms,
        control_share, cost_per_contact, coupon_value); ``campaign_id`` picks the campaign.
    campaign_id : str
    profiles : DataFrame, optional
        Unified profiles (city_tier, age_band) for segments.
    covariates : DataFrame, optional
        Pre-computed :func:`omni.uplift.covariates.pre_period_covariates` (read from
        ``workspace`` when None).
    pre_days : int
        Pre-period of ``pre_orders`` / ``pre_revenue`` (CUPED covariates, balance check).
    margin : float
        Gross margin on incremental revenue, for profit.
    segment_by, segment_min_n : sequence of str, int
        Covariates to break the conversion lift down by; segments where an arm has fewer than
        ``segment_min_n`` people are suppressed (estimates not shown).
    uplift_model : bool
        Fit the T-learner, Qini curve and targeting value (False: only average effects, e.g.
        for the previous month's comparison figures).
    model_features, model_min_n, test_share, n_boot
        Uplift model features, minimum people per arm in the training part, held-out share and
        bootstrap resamples for the Qini interval.
    rollout_size : int, optional
        Audience size of the next campaign for the expected incremental revenue (default:
        the number of people assigned to this one).
    alpha, power : float
        Significance level (intervals are 1 - alpha) and power for the power table.
    seed : int
        Seed of the held-out split and the bootstrap.
    clv : bool
        Compute CLV tiers (a CLV model fit per campaign start).
    workspace : Workspace, optional
        Where the covariates are read from when ``covariates`` is None
        (:func:`omni.uplift.covariates.pre_period_covariates`; customer value memoized on it).
    resolution : Month or str, optional
        The month whose resolution the covariates read (the report month).

    Returns
    -------
    CampaignAnalysis
    """
    t0 = time.perf_counter()
    if not 0.0 < margin <= 1.0:
        raise ValueError(f"margin must be in (0, 1], got {margin!r}")
    row = campaign_row(campaigns, campaign_id)
    cid = str(row["campaign_id"])
    notes: list[str] = []
    out, n_rows = _outcomes(assignments, orders, campaigns, row, covariates, profiles, pre_days,
                            clv, notes, workspace, resolution)
    arms = _arms(row, out)
    coupon = arm_values(row, "coupon_value", arms)
    cpc = float(row["cost_per_contact"]) if pd.notna(row.get("cost_per_contact")) else 0.0
    info = _campaign_info(row, cid, out, coupon, cpc, n_rows, pre_days)

    srm, balance, contamination, checks = _design_checks(out, campaigns, cid, segment_by, n_rows)

    (lc, lr, cc, cr), effects, cace, (segments, heterogeneity), power_tab = _average_effects(
        out, arms, segment_by, segment_min_n, alpha, power, notes)

    population = int(rollout_size) if rollout_size is not None else len(out)
    settings = {"test_share": test_share, "seed": seed, "n_boot": n_boot,
                "model_min_n": model_min_n, "margin": margin, "alpha": alpha}
    models, skipped = (_fit_models(out, arms, model_features, settings, population, cpc, coupon, notes)
                       if uplift_model else ({}, []))
    rec = _recommendation(arms, effects, models, out, margin, population, cpc, coupon)

    figures = _as_run(out, arms, lc, cr is not None, checks, cpc, coupon, margin, alpha)
    return CampaignAnalysis(
        campaign_id=cid, info=info, arms=arms, outcomes=out, checks=checks, srm=srm,
        balance=balance, contamination=contamination, effects=effects,
        cuped_table=_cuped_table(((cc, lc), (cr, lr))), cace=cace, segments=segments,
        heterogeneity=heterogeneity, power=power_tab, figures=figures, model=models,
        skipped_models=skipped, recommendation=rec, warnings=notes,
        seconds=time.perf_counter() - t0,
    )
