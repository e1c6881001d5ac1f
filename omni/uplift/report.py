"""Campaign uplift for the monthly report: which campaigns to report, pre-period covariates,
one analysis per campaign (design checks, effects, CUPED, segments, Qini, recommendation,
power), month figures, the truth check, and the rendering of a campaign's report section.

The computations are plain functions returning frames and dataclasses (tested in
``tests/test_uplift_report.py``); :func:`render_campaign` only displays them (tables, charts
and plain-words notes), so the notebook stays a loop over campaigns.

Typical use::

    sel = select_campaigns(campaign_table, "2026-10")
    for cid in sel.campaign_ids:
        a = analyse_campaign(r["campaign_assignments"], r["orders"], campaign_table, cid,
                             profiles=r.profiles, seed=7)
        render_campaign(a)
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from omni.core.markup import escape_md, md, md_join
from omni.uplift._common import CONTROL, require_columns
from omni.uplift.checks import (
    balance_check,
    contamination_check,
    planned_shares,
    sample_ratio_check,
)
from omni.uplift.effects import complier_lift, cuped, lift
from omni.uplift.hte import (
    TwoModelUplift,
    heterogeneity_test,
    holdout_split,
    qini_coefficient,
    qini_curve,
    targeting_value,
    uplift_by_decile,
    uplift_by_segment,
)
from omni.uplift.outcomes import campaign_outcomes, campaign_row, parse_arms
from omni.uplift.power import minimum_detectable_effect, required_sample_size

NO_PURCHASE = "no purchase"
#: Days since the last purchase are capped here (and people who never bought get the cap).
RECENCY_CAP_DAYS = 1095
#: Segment columns produced by :func:`pre_period_covariates`.
SEGMENT_COLUMNS = ("rfm_segment", "clv_tier", "pre_channel_mix", "city_tier")
#: Features of the uplift model (categorical and numeric columns of the outcomes).
MODEL_FEATURES = ("log_recency", "log_frequency", "log_monetary", "log_clv", "log_pre_revenue")
#: Buyers needed in each arm of the training part before an uplift model is fitted.
MIN_BUYERS = 20
#: Buyers (and non-buyers) needed in each arm of a segment for its interval to be shown.
MIN_SEGMENT_EVENTS = 5
SEGMENT_LABELS = {
    "rfm_segment": "RFM class",
    "clv_tier": "CLV tier",
    "pre_channel_mix": "channel mix before the campaign",
    "city_tier": "city tier",
    "age_band": "age band",
}
_BOOT_STREAM = 0xB0075
_TOP_K = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


# ---------------------------------------------------------------------------------------------
# which campaigns
# ---------------------------------------------------------------------------------------------
@dataclass
class CampaignSelection:
    """The campaigns a report covers and why.

    Attributes
    ----------
    month : str
        Report month ``YYYY-MM``.
    campaign_ids : list of str
        Campaigns to report, by end date.
    fallback : bool
        True when no campaign ended in the month and the most recent ended campaign is shown.
    message : str
        One plain sentence saying what is reported.
    """

    month: str
    campaign_ids: list[str]
    fallback: bool
    message: str


def _period(month: str) -> pd.Period:
    if not isinstance(month, str) or not re.fullmatch(r"\d{4}-\d{2}", month):
        raise ValueError(f"month must be 'YYYY-MM', got {month!r}")
    return pd.Period(month, freq="M")


def _campaign_dates(campaigns: pd.DataFrame) -> pd.DataFrame:
    require_columns(campaigns, ["campaign_id", "start_date", "end_date"], "campaigns")
    c = campaigns.copy()
    c["campaign_id"] = c["campaign_id"].astype(str)
    for col in ("start_date", "end_date"):
        c[col] = pd.to_datetime(c[col], errors="coerce")
        if c[col].isna().any():
            bad = c.loc[c[col].isna(), "campaign_id"].iloc[0]
            raise ValueError(f"campaigns.{col} is missing or unreadable for campaign {bad!r}")
    late = c["end_date"] < c["start_date"]
    if late.any():
        raise ValueError(
            f"campaign {c.loc[late, 'campaign_id'].iloc[0]!r} ends before it starts"
        )
    return c.sort_values(["end_date", "start_date", "campaign_id"], kind="stable")


def select_campaigns(
    campaigns: pd.DataFrame | None, month: str, campaign_ids: Sequence[str] | str | None = None
) -> CampaignSelection:
    """Campaigns to report for a month.

    Parameters
    ----------
    campaigns
        The ``campaigns`` source (campaign_id, start_date, end_date; name used in messages);
        None or empty when the dataset has none (an empty selection says so).
    month
        Report month ``YYYY-MM``.
    campaign_ids
        Explicit campaign ids (validated), or None for every campaign whose ``end_date`` falls in
        the month. When none ended in the month, the most recent campaign(s) that ended before
        it are chosen instead (``fallback=True``), so the report is never empty while any
        campaign has ended.

    Returns
    -------
    CampaignSelection
    """
    period = _period(month)
    if campaigns is None or len(campaigns) == 0:
        return CampaignSelection(month, [], True, "This dataset has no campaigns.")
    c = _campaign_dates(campaigns)
    name = c.set_index("campaign_id")["name"] if "name" in c else None

    def label(cid: str) -> str:
        return f"{cid} ({name[cid]})" if name is not None else cid

    if campaign_ids is not None:
        wanted = [campaign_ids] if isinstance(campaign_ids, str) else [str(x) for x in campaign_ids]
        if not wanted:
            raise ValueError("campaign_ids is empty: pass None for the month's campaigns")
        unknown = [x for x in wanted if x not in set(c["campaign_id"])]
        if unknown:
            raise ValueError(
                f"unknown campaign id(s) {unknown} (known: {c['campaign_id'].tolist()[:20]})"
            )
        ids = [x for x in c["campaign_id"] if x in set(wanted)]
        return CampaignSelection(month, ids, False,
                                 "Campaigns chosen by parameter: " + ", ".join(map(label, ids)) + ".")
    ended = c[c["end_date"].dt.to_period("M") == period]
    if len(ended):
        ids = ended["campaign_id"].tolist()
        return CampaignSelection(
            month, ids, False,
            f"{len(ids)} campaign(s) ended in {month}: " + ", ".join(map(label, ids)) + ".",
        )
    before = c[c["end_date"] < period.start_time]
    if len(before) == 0:
        return CampaignSelection(month, [], True, f"No campaign had ended by the end of {month}.")
    last_end = before["end_date"].max()
    ids = before.loc[before["end_date"] == last_end, "campaign_id"].tolist()
    return CampaignSelection(
        month, ids, True,
        f"No campaign ended in {month}. Shown instead: the most recent campaign that had ended, "
        + ", ".join(map(label, ids)) + f", which ended on {last_end:%Y-%m-%d}.",
    )


# ---------------------------------------------------------------------------------------------
# covariates measured before the campaign
# ---------------------------------------------------------------------------------------------
def arm_values(row: pd.Series | Mapping[str, Any], column: str, arms: Sequence[str]) -> dict[str, float]:
    """Per-arm numbers of a campaign column such as ``coupon_value`` (``"20|50"``).

    One value applies to every treatment arm; several values (``|``, ``,`` or ``;`` separated)
    are matched to ``arms`` in order. Missing means 0.
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


def pre_period_covariates(
    orders: pd.DataFrame,
    start_date: object,
    profiles: pd.DataFrame | None = None,
    people: Sequence[str] | pd.Index | None = None,
    clv: bool = True,
    clv_months: int = 12,
) -> pd.DataFrame:
    """Covariates of each person measured strictly before a campaign starts.

    RFM class: the 8-class scheme of :func:`omni.rfm.rfm_segments` (mean thresholds) on
    :func:`omni.rfm.rfm_summary` of every paid order before ``start_date`` (all customers, so
    the classes mean what they mean in the CRM); CLV tier: :class:`omni.clv.CLVModel`
    (BG/NBD + Gamma-Gamma, weeks) fitted on the same summary, 12-month discounted CLV cut by
    :func:`omni.clv.value_tiers` (A top 10%, B next 20%, C next 30%, D rest); channel mix of
    those orders (online only / store only / omnichannel). People without an order before the
    start are ``"no purchase"`` everywhere. ``city_tier`` and ``age_band`` come from
    ``profiles`` (stable attributes); the profiles' own channel columns are not used because
    they include orders placed during the campaign (a post-treatment variable).

    Parameters
    ----------
    orders
        Unified ``orders`` (oneid, order_time, amount, status, channel).
    start_date
        Campaign start; orders on or after its day are ignored.
    profiles
        Unified profiles (oneid, city_tier, age_band), optional.
    people
        Oneids to return (default: everyone with an order or a profile).
    clv
        Fit the CLV model (a few seconds); False leaves ``clv_tier`` and ``log_clv`` out.
    clv_months
        CLV horizon in months.

    Returns
    -------
    pandas.DataFrame
        One row per oneid: rfm_segment, clv_tier, log_clv, pre_channel_mix, city_tier,
        age_band (where available). ``attrs["warnings"]`` lists problems met (e.g. a CLV fit
        that failed), ``attrs["rfm_thresholds"]`` the RFM thresholds.
    """
    from omni.value.clv import CLVModel, value_tiers
    from omni.value.rfm import rfm_segments, rfm_summary

    require_columns(orders, ["oneid", "order_time", "amount", "status"], "orders")
    start = pd.Timestamp(start_date).normalize()
    notes: list[str] = []
    times = pd.to_datetime(orders["order_time"], errors="coerce")
    pre = orders.loc[(times < start).to_numpy() & orders["oneid"].notna().to_numpy()]
    amount = pd.to_numeric(pre["amount"], errors="coerce")
    bad = (amount < 0).to_numpy(dtype=bool, na_value=False) | amount.isna().to_numpy()
    if bad.any():  # a data problem for the audit; RFM and CLV need non-negative amounts
        notes.append(f"{int(bad.sum()):,} order(s) before {start:%Y-%m-%d} with a negative or "
                     "missing amount left out of the RFM and CLV covariates")
        pre = pre.loc[~bad]
    paid_pre = pre[pre["status"].astype(str) == "paid"]
    if people is None:
        ids = pd.Index(pd.unique(orders["oneid"].dropna().astype(str)))
        if profiles is not None:
            ids = ids.union(pd.Index(profiles["oneid"].astype(str)))
    else:
        ids = pd.Index(pd.unique(np.asarray(people, dtype=object).astype(str)))
    out = pd.DataFrame(index=ids.rename("oneid"))

    summary = None
    if len(paid_pre):
        summary = rfm_summary(pre, observation_end=start - pd.Timedelta(days=1), freq="W")
        summary.index = summary.index.astype(str)
        seg = rfm_segments(summary)
        out["rfm_segment"] = seg["segment_en"].astype(str).reindex(ids).fillna(NO_PURCHASE)
        # the R, F, M numbers themselves, on a log scale, for the uplift model
        days = summary["days_since_last"].reindex(ids).to_numpy(dtype="float64")
        out["log_recency"] = np.log1p(np.where(np.isnan(days), RECENCY_CAP_DAYS,
                                               np.minimum(days, RECENCY_CAP_DAYS)))
        out["log_frequency"] = np.log1p(summary["n_orders"].reindex(ids).fillna(0).to_numpy(
            dtype="float64"))
        out["log_monetary"] = np.log1p(summary["revenue"].reindex(ids).fillna(0).to_numpy(
            dtype="float64"))
        out.attrs["rfm_thresholds"] = seg.attrs.get("thresholds")
    else:
        out["rfm_segment"] = NO_PURCHASE
        out["log_recency"] = np.log1p(RECENCY_CAP_DAYS)
        out["log_frequency"] = 0.0
        out["log_monetary"] = 0.0
        notes.append(f"no paid order before {start:%Y-%m-%d}: RFM classes are all 'no purchase'")
    if clv:
        tier = pd.Series(NO_PURCHASE, index=ids, dtype=object)
        log_clv = pd.Series(0.0, index=ids)
        if summary is not None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = CLVModel(model="bgnbd", freq="W").fit(summary)
                    value = model.clv(summary, months=clv_months)
                notes.extend(f"CLV: {w}" for w in model.warnings_)
                ok = np.isfinite(value.to_numpy(dtype="float64"))
                value = value.where(ok, 0.0).clip(lower=0.0)
                tiers = value_tiers(value).astype(str)
                tier.loc[tiers.index.intersection(ids)] = tiers.reindex(ids).dropna()
                log_clv = np.log1p(value).reindex(ids).fillna(0.0)
            except (ValueError, RuntimeError, np.linalg.LinAlgError) as exc:
                notes.append(f"CLV model not fitted before {start:%Y-%m-%d}: {exc}")
                tier[:] = np.nan
                log_clv[:] = 0.0
        out["clv_tier"] = tier
        out["log_clv"] = log_clv.astype("float64")
    if "channel" in paid_pre.columns and len(paid_pre):
        online = (paid_pre["channel"].astype(str) != "store").to_numpy()
        kinds = (
            pd.DataFrame({"oneid": paid_pre["oneid"].astype(str).to_numpy(), "online": online})
            .groupby("oneid")["online"].agg(["any", "all"])
        )
        mix = pd.Series(
            np.select([kinds["all"], ~kinds["any"]], ["online only", "store only"], "omnichannel"),
            index=kinds.index,
        )
        out["pre_channel_mix"] = mix.reindex(ids).fillna(NO_PURCHASE)
    if profiles is not None:
        require_columns(profiles, ["oneid"], "profiles")
        prof = profiles.set_index(profiles["oneid"].astype(str))
        for col in ("city_tier", "age_band"):
            if col in prof.columns:
                out[col] = prof[col].astype("object").reindex(ids).to_numpy()
    out.attrs["warnings"] = notes
    return out.reset_index()


# ---------------------------------------------------------------------------------------------
# one campaign
# ---------------------------------------------------------------------------------------------
@dataclass
class CampaignAnalysis:
    """Everything the report shows about one campaign (see :func:`analyse_campaign`).

    Frames are aggregated (no person-level rows) except ``outcomes``, which stays in memory for
    further analysis and is never displayed.
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
    recommendation: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


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
        A copy with those rows' estimates set to NaN, ``suppressed`` True and the reason in
        ``verdict``.
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
    if "verdict" in out.columns:
        out.loc[few, "verdict"] = (f"suppressed: fewer than {min_events} buyers or non-buyers "
                                   "in an arm")
    return out


def _checks_table(
    srm: pd.DataFrame, balance: pd.DataFrame, contamination: pd.DataFrame,
    n_rows: int, n_people: int,
) -> pd.DataFrame:
    """Plain-words pass / warn / fail summary of the design checks."""
    rows = []
    s = srm.iloc[0]
    parts = ", ".join(f"{r.arm} {r.share:.1%} (plan {r.planned_share:.1%})" for r in srm.itertuples())
    rows.append(("Split matches the plan (sample ratio)", "fail" if s["srm"] else "pass",
                 f"p = {s['p_value']:.2g}; {parts}"))
    flagged = balance[balance["flag"]]
    if len(flagged):
        w = balance.loc[balance["smd"].abs().idxmax()]
        lev = f" = {w['level']}" if w["level"] is not None and pd.notna(w["level"]) else ""
        text = (f"{len(flagged)} of {len(balance)} covariate levels differ by |SMD| > 0.1; largest "
                f"{w['covariate']}{lev} in {w['arm']} (SMD {w['smd']:+.2f}); estimates are "
                "adjusted for pre-period spend")
        status = "warn"
    else:
        text = f"all {len(balance)} covariate levels within |SMD| <= 0.1"
        status = "pass"
    rows.append(("Arms alike before the campaign (balance)", status, text))
    c = contamination[contamination["role"] == "control"].iloc[0]
    rows.append(("Holdout left alone (control not contacted)", "warn" if c["flag"] else "pass",
                 f"{int(c['n_contacted']):,} of {int(c['n']):,} control people contacted "
                 f"({c['share_contacted']:.2%}; limit {c['threshold']:.0%})"))
    t = contamination[contamination["role"] == "treatment"]
    worst = t.loc[t["problem_share"].idxmax()]
    rows.append(("Treated people reached", "warn" if t["flag"].any() else "pass",
                 f"{worst['problem_share']:.1%} of arm {worst['arm']} not contacted "
                 f"(limit {worst['threshold']:.0%}); effects are per assigned person (ITT)"))
    dup = n_rows - n_people
    rows.append(("One assignment per person", "warn" if dup else "pass",
                 f"{dup:,} people assigned twice (member records merged by OneID); first "
                 "assignment kept" if dup else f"{n_people:,} people, each assigned once"))
    return pd.DataFrame(rows, columns=["check", "result", "detail"])


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


def _power_table(out: pd.DataFrame, arms: Sequence[str], effects: pd.DataFrame,
                 alpha: float, power: float) -> pd.DataFrame:
    rows = []
    ctrl = out[out["arm"] == CONTROL]
    base = float(ctrl["converted"].mean())
    rev_sd = float(out["revenue"].std(ddof=1))
    for a in arms:
        n_t = int((out["arm"] == a).sum())
        n_c = len(ctrl)
        e = effects.set_index(["arm", "metric", "adjustment"])
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
        rows.append({
            "arm": a, "n_treat": n_t, "n_control": n_c, "baseline_conversion": base,
            "mde_conversion": mde, "mde_relative": mde / base if base > 0 else np.nan,
            "observed_lift": obs, "needed_treat": need_t, "needed_control": need_c,
            "mde_revenue": mde_rev, "mde_revenue_cuped": mde_rev_cuped,
        })
    return pd.DataFrame(rows)


def _features(out: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    X = pd.DataFrame(index=out.index)
    for f in features:
        if f == "log_pre_revenue":
            X[f] = np.log1p(out["pre_revenue"].to_numpy(dtype="float64"))
        elif f in out.columns:
            X[f] = out[f]
    return X


def _weighted_qini_area(y: np.ndarray, t: np.ndarray, order: np.ndarray, ends: np.ndarray,
                        w: np.ndarray) -> np.ndarray:
    """Qini area (curve minus random line) for each row of weights ``w`` (replicates x people),
    people ranked by the fixed ``order`` and the curve evaluated at the tie-block ``ends``."""
    ys, ts = y[order], t[order]
    ws = w[:, order]
    cum_n = np.cumsum(ws, axis=1)[:, ends]
    cum_t = np.cumsum(ws * ts, axis=1)[:, ends]
    cum_c = cum_n - cum_t
    cum_yt = np.cumsum(ws * (ys * ts), axis=1)[:, ends]
    cum_yc = np.cumsum(ws * (ys * (1.0 - ts)), axis=1)[:, ends]
    ratio = np.divide(cum_t, cum_c, out=np.zeros_like(cum_t), where=cum_c > 0)
    q = np.concatenate([np.zeros((len(w), 1)), cum_yt - cum_yc * ratio], axis=1)
    frac = np.concatenate([np.zeros((len(w), 1)), cum_n / cum_n[:, -1:]], axis=1)
    return np.trapezoid(q - q[:, -1:] * frac, frac, axis=1)


def bootstrap_qini(y: object, treatment: object, score: object, n_boot: int = 200,
                   seed: int = 0, max_cells: int = 4_000_000) -> np.ndarray:
    """Qini coefficients (:func:`omni.uplift.qini_coefficient`) of ``n_boot`` bootstrap
    resamples, stratified by arm (treated and control people resampled separately).

    Vectorized: a resample is a vector of multinomial counts used as weights on the people,
    whose ranking (by score, and by the optimal score y x (2T - 1)) does not change, so every
    replicate is a few cumulative sums; replicates are processed in blocks of at most
    ``max_cells`` weights. Replicates without a positive optimal area are NaN.

    Returns
    -------
    numpy.ndarray
        ``n_boot`` coefficients (same seed, same values).
    """
    y_arr = np.asarray(y, dtype="float64")
    t = np.asarray(treatment).astype("float64")
    s = np.asarray(score, dtype="float64")
    if not (len(y_arr) == len(t) == len(s)) or len(s) == 0:
        raise ValueError("y, treatment and score must be non-empty and of equal length")
    if not (isinstance(n_boot, int | np.integer) and n_boot >= 1):
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    idx_t, idx_c = np.flatnonzero(t == 1), np.flatnonzero(t == 0)
    if len(idx_t) == 0 or len(idx_c) == 0:
        raise ValueError("need both treated and control people")
    p_t, p_c = np.full(len(idx_t), 1.0 / len(idx_t)), np.full(len(idx_c), 1.0 / len(idx_c))
    rankings = []
    for sc in (s, y_arr * (2.0 * t - 1.0)):
        order = np.argsort(-sc, kind="stable")
        srt = sc[order]
        rankings.append((order, np.r_[np.flatnonzero(np.diff(srt) != 0), len(srt) - 1]))
    out = np.empty(n_boot)
    block = max(1, int(max_cells // len(s)))
    for b0 in range(0, n_boot, block):  # blocks of replicates, each fully vectorized
        nb = min(block, n_boot - b0)
        w = np.zeros((nb, len(s)))
        for j in range(nb):  # one random stream per replicate: results do not depend on blocks
            rng = np.random.default_rng([int(seed), _BOOT_STREAM, b0 + j])
            w[j, idx_t] = rng.multinomial(len(idx_t), p_t)
            w[j, idx_c] = rng.multinomial(len(idx_c), p_c)
        area = _weighted_qini_area(y_arr, t, *rankings[0], w)
        best = _weighted_qini_area(y_arr, t, *rankings[1], w)
        out[b0:b0 + nb] = np.where(best > 0, area / np.where(best > 0, best, 1.0), np.nan)
    return out


def _fit_arm_model(out: pd.DataFrame, arm: str, features: Sequence[str], test_share: float,
                   seed: int, n_boot: int, min_n: int, population: int, cost_per_contact: float,
                   coupon: float, margin: float, alpha: float, notes: list[str]) -> dict | None:
    """T-learner for one arm vs control: fitted on one part of the people, Qini curve, its
    bootstrap interval, calibration by quintile and targeting value on the held-out part.

    The share to target is chosen on the training part (in-sample scores) and valued on the
    held-out part, so the reported value is not the maximum of noisy held-out figures.
    """
    sub = out[(out["arm"] == arm) | (out["arm"] == CONTROL)]
    train, test = holdout_split(sub, test_share=test_share, seed=seed)
    sizes = {
        "control people": int((~train["treated"]).sum()),
        "treated people": int(train["treated"].sum()),
        "control buyers": int(train.loc[~train["treated"], "converted"].sum()),
        "treated buyers": int(train.loc[train["treated"], "converted"].sum()),
    }
    short = [k for k, v in sizes.items() if v < (min_n if k.endswith("people") else MIN_BUYERS)]
    if short:
        notes.append(
            f"{arm}: no uplift model — the training part has "
            + ", ".join(f"{sizes[k]:,} {k}" for k in short)
            + f" (needs {min_n:,} people and {MIN_BUYERS} buyers in each arm)"
        )
        return None
    X_train, X_test = _features(train, features), _features(test, features)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = TwoModelUplift().fit(X_train, train["converted"], train["treated"])
        score = model.predict_uplift(X_test)
        score_train = model.predict_uplift(X_train)
    for w in caught:
        msg = f"{arm} model: {w.message}"
        if msg not in notes:
            notes.append(msg)
    y = test["converted"].to_numpy(dtype="float64")
    t = test["treated"].to_numpy().astype("int8")
    curve = qini_curve(y, t, score)
    try:
        coef = qini_coefficient(y, t, score)
    except ValueError:
        coef = np.nan
    boot = bootstrap_qini(y, t, score, n_boot=n_boot, seed=seed)
    ok = boot[np.isfinite(boot)]
    lo, hi = (np.quantile(ok, [alpha / 2, 1 - alpha / 2]) if len(ok) >= 20 else (np.nan, np.nan))
    deciles = uplift_by_decile(y, t, score, n_bins=5, alpha=alpha)
    kw = {"top_k": _TOP_K, "cost_per_contact": cost_per_contact, "margin": margin,
          "coupon_value": coupon, "population": population, "alpha": alpha}
    try:
        tv = targeting_value(test, score, **kw)
        tv_train = targeting_value(train, score_train, **kw)
        best_k = float(tv_train.loc[tv_train["inc_profit"].idxmax(), "top_k"])
    except ValueError as exc:  # a top-k group without treated or control people
        notes.append(f"{arm}: targeting value not computed: {exc}")
        tv, best_k = None, 1.0
    return {
        "arm": arm, "features": list(features), "n_train": len(train), "n_test": len(test),
        "converged": bool(model.converged_), "qini": float(coef), "qini_ci_low": float(lo),
        "qini_ci_high": float(hi), "n_boot": int(len(ok)), "curve": curve, "deciles": deciles,
        "targeting": tv, "best_k": best_k, "test": test, "score": score,
    }


def _target_profile(test: pd.DataFrame, score: np.ndarray, top_k: float, column: str,
                    k_min: int = 10) -> pd.DataFrame:
    """Share of each segment among the top-k scored held-out people vs all held-out people;
    segments with fewer than ``k_min`` people targeted are suppressed."""
    from omni.privacy import suppress_small

    order = np.argsort(-np.asarray(score), kind="stable")
    n_top = max(int(round(top_k * len(order))), 1)
    top = np.zeros(len(order), dtype=bool)
    top[order[:n_top]] = True
    seg = test[column].astype("object").where(test[column].notna(), "(missing)").astype(str)
    counts = pd.DataFrame({"segment": seg.to_numpy(), "top": top}).groupby("segment")["top"].agg(
        ["size", "sum"])
    prof = pd.DataFrame({
        "segment": counts.index,
        "people_targeted": counts["sum"].to_numpy(),
        "share_targeted": counts["sum"].to_numpy() / n_top,
        "share_everyone": counts["size"].to_numpy() / len(order),
    })
    prof["index"] = 100 * prof["share_targeted"] / prof["share_everyone"]
    prof = prof.sort_values(["share_targeted", "segment"], ascending=[False, True], kind="stable")
    return suppress_small(prof, "people_targeted", k=k_min).reset_index(drop=True)


def _everyone_option(arm: str, effects: pd.DataFrame, out: pd.DataFrame, margin: float,
                     population: int, cost_per_contact: float, coupon: float) -> dict:
    """Send the arm to everyone: the average effect of the whole experiment, scaled."""
    e = effects.set_index(["arm", "metric", "adjustment"])
    rev_key = (arm, "revenue per person", "CUPED")
    if rev_key not in e.index:
        rev_key = (arm, "revenue per person", "none")
    r = e.loc[rev_key]
    conv = e.loc[(arm, "conversion", "none")]
    treated_rate = float(out.loc[out["arm"] == arm, "converted"].mean())
    cost = population * (cost_per_contact + coupon * treated_rate)
    inc_rev = float(r["abs_lift"]) * population
    return {
        "arm": arm, "basis": "everyone", "top_k": 1.0, "n_targeted": int(population),
        "inc_conversions": float(conv["abs_lift"]) * population,
        "inc_revenue": inc_rev,
        "inc_revenue_ci_low": float(r["abs_ci_low"]) * population,
        "inc_revenue_ci_high": float(r["abs_ci_high"]) * population,
        "cost": cost, "inc_profit": margin * inc_rev - cost,
    }


def _recommend(arms: Sequence[str], effects: pd.DataFrame, models: Mapping[str, dict],
               out: pd.DataFrame, margin: float, population: int, cost_per_contact: float,
               coupon: Mapping[str, float]) -> dict:
    """Who to send to next time and the expected incremental revenue.

    For each arm: everyone (the experiment's average effect) and, where the uplift model ranks
    better than random (Qini interval above 0), the top share by predicted uplift (share chosen
    on the training part, valued on the held-out part). The option with the highest expected
    incremental profit wins.
    """
    options = []
    for a in arms:
        every = _everyone_option(a, effects, out, margin, population, cost_per_contact,
                                 coupon.get(a, 0.0))
        options.append(every)
        m = models.get(a)
        if m is None or m["targeting"] is None or m["best_k"] >= 1.0:
            continue
        if not (np.isfinite(m["qini_ci_low"]) and m["qini_ci_low"] > 0):
            continue
        tv = m["targeting"]
        row = tv.loc[np.isclose(tv["top_k"], m["best_k"])].iloc[0]
        options.append({
            "arm": a, "basis": "model", "top_k": float(row["top_k"]),
            "n_targeted": int(row["n_targeted"]),
            "inc_conversions": float(row["inc_conversions"]),
            "inc_revenue": float(row["inc_revenue"]),
            "inc_revenue_ci_low": float(row["inc_revenue_ci_low"]),
            "inc_revenue_ci_high": float(row["inc_revenue_ci_high"]),
            "cost": float(row["cost"]), "inc_profit": float(row["inc_profit"]),
        })
    table = pd.DataFrame(options)
    table["roi"] = np.where(table["cost"] > 0, table["inc_profit"] / table["cost"].where(
        table["cost"] > 0, 1.0), np.nan)
    best = table.loc[table["inc_profit"].idxmax()].to_dict()
    best["profit_everyone"] = float(
        table.loc[(table["arm"] == best["arm"]) & (table["basis"] == "everyone"), "inc_profit"].iloc[0])
    best["worth_it"] = bool(best["inc_profit"] > 0)
    best["population"] = int(population)
    return {"options": table, **best}


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
) -> CampaignAnalysis:
    """Analyse one randomized campaign for the report.

    Parameters
    ----------
    assignments, orders
        Unified ``campaign_assignments`` and ``orders`` (keyed by oneid).
    campaigns
        The ``campaigns`` source (campaign_id, name, channel, start_date, end_date, arms,
        control_share, cost_per_contact, coupon_value).
    campaign_id
        The campaign.
    profiles
        Unified profiles (city_tier, age_band) for segments.
    covariates
        Pre-computed :func:`pre_period_covariates` (computed here when None).
    pre_days
        Pre-period of ``pre_orders`` / ``pre_revenue`` (CUPED covariates, balance check).
    margin
        Gross margin on incremental revenue, for profit.
    segment_by
        Covariates to break the conversion lift down by.
    segment_min_n
        Segments where an arm has fewer people are suppressed (estimates not shown).
    uplift_model
        Fit the T-learner, Qini curve and targeting value (False: only average effects, e.g.
        for the previous month's comparison figures).
    model_features, model_min_n, test_share, n_boot
        Uplift model features, minimum people per arm in the training part, held-out share and
        bootstrap resamples for the Qini interval.
    rollout_size
        Audience size of the next campaign for the expected incremental revenue (default:
        the number of people assigned to this one).
    alpha, power
        Significance level (intervals are 1 - alpha) and power for the power note.
    seed
        Seed of the held-out split and the bootstrap.
    clv
        Compute CLV tiers (a CLV model fit per campaign start).

    Returns
    -------
    CampaignAnalysis
    """
    t0 = time.perf_counter()
    if not 0.0 < margin <= 1.0:
        raise ValueError(f"margin must be in (0, 1], got {margin!r}")
    row = campaign_row(campaigns, campaign_id)
    cid = str(row["campaign_id"])
    arms_all = parse_arms(row["arms"]) if "arms" in row.index else None
    require_columns(assignments, ["campaign_id", "oneid", "arm", "contacted"], "campaign_assignments")
    a = assignments[assignments["campaign_id"].astype(str) == cid]
    if len(a) == 0:
        raise ValueError(f"campaign {cid!r} has no rows in campaign_assignments")
    n_rows = len(a)
    people = pd.unique(a["oneid"].astype(str))
    notes: list[str] = []
    if covariates is None:
        covariates = pre_period_covariates(orders, row["start_date"], profiles, people, clv=clv)
    notes.extend(covariates.attrs.get("warnings", []))
    out = campaign_outcomes(a, orders, campaigns, cid, pre_days=pre_days, covariates=covariates,
                            on_duplicate="first")
    arms = [x for x in (arms_all or sorted(out["arm"].unique())) if x != CONTROL]
    arms = [x for x in arms if (out["arm"] == x).any()]
    coupon = arm_values(row, "coupon_value", arms)
    cpc = float(row["cost_per_contact"]) if "cost_per_contact" in row.index and pd.notna(
        row["cost_per_contact"]) else 0.0
    info = {
        "campaign_id": cid,
        "name": str(row["name"]) if "name" in row.index else cid,
        "channel": str(row["channel"]) if "channel" in row.index else "",
        "start_date": pd.Timestamp(row["start_date"]), "end_date": pd.Timestamp(row["end_date"]),
        "days": int((pd.Timestamp(row["end_date"]) - pd.Timestamp(row["start_date"])).days) + 1,
        "control_share": float(row["control_share"]) if "control_share" in row.index else np.nan,
        "cost_per_contact": cpc, "coupon_value": coupon, "n_people": len(out),
        "n_assignment_rows": n_rows, "pre_days": pre_days,
    }

    # design checks
    srm = sample_ratio_check(out, planned_shares(campaigns, cid))
    bal_cols = ["pre_revenue", "pre_orders"] + [c for c in segment_by if c in out.columns]
    balance = balance_check(out, bal_cols)
    contamination = contamination_check(out)
    checks = _checks_table(srm, balance, contamination, n_rows, len(out))

    # average effects
    correction = "holm" if len(arms) > 1 else None
    lc = lift(out, "converted", alpha=alpha, correction=correction)
    lr = lift(out, "revenue", alpha=alpha, correction=correction)
    cc = _safe_cuped(out, "converted", "pre_orders", correction, alpha, notes)
    cr = _safe_cuped(out, "revenue", "pre_revenue", correction, alpha, notes)
    effects = _effects_table(lc, lr, cc, cr)
    cuped_rows = []
    for adj, base in ((cc, lc), (cr, lr)):
        if adj is None:
            continue
        for (_, x), (_, b) in zip(adj.iterrows(), base.iterrows(), strict=True):
            cuped_rows.append({
                "arm": x["arm"], "metric": "conversion" if x["metric"] == "converted" else "revenue per person",
                "lift_before": b["abs_lift"], "ci_low_before": b["abs_ci_low"],
                "ci_high_before": b["abs_ci_high"], "se_before": b["se"],
                "lift_after": x["abs_lift"], "ci_low_after": x["abs_ci_low"],
                "ci_high_after": x["abs_ci_high"], "se_after": x["se"],
                "variance_reduction": x["variance_reduction"], "theta": x["theta"],
            })
    cuped_table = pd.DataFrame(cuped_rows)
    try:
        cace = complier_lift(out, "converted", alpha=alpha)
    except ValueError as exc:
        notes.append(f"effect on the contacted not estimable: {exc}")
        cace = pd.DataFrame()

    # heterogeneity
    segments = {}
    het = []
    for col in segment_by:
        if col not in out.columns:
            notes.append(f"segment column {col!r} not available")
            continue
        seg = uplift_by_segment(out, col, "converted", alpha=alpha, min_n=segment_min_n)
        seg_rev = uplift_by_segment(out, col, "revenue", alpha=alpha, min_n=segment_min_n)
        seg["rev_lift"] = seg_rev["abs_lift"].to_numpy()
        seg["rev_ci_low"] = seg_rev["abs_ci_low"].to_numpy()
        seg["rev_ci_high"] = seg_rev["abs_ci_high"].to_numpy()
        seg = suppress_few_events(seg, out, col)
        segments[col] = seg
        h = heterogeneity_test(seg)
        h.insert(0, "segment_by", col)
        het.append(h)
    heterogeneity = pd.concat(het, ignore_index=True) if het else pd.DataFrame()

    power_tab = _power_table(out, arms, effects, alpha, power)

    # uplift model, Qini and recommendation
    population = int(rollout_size) if rollout_size is not None else len(out)
    models: dict[str, dict] = {}
    if uplift_model:
        for arm in arms:
            m = _fit_arm_model(out, arm, [f for f in model_features if f in out.columns or
                                          f == "log_pre_revenue"], test_share, seed, n_boot,
                               model_min_n, population, cpc, coupon[arm], margin, alpha, notes)
            if m is not None:
                models[arm] = m
    rec = _recommend(arms, effects, models, out, margin, population, cpc, coupon)
    if rec["basis"] == "model" and "rfm_segment" in out.columns:
        m = models[rec["arm"]]
        rec["target_profile"] = _target_profile(m["test"], m["score"], rec["top_k"], "rfm_segment")

    # the campaign as it ran (pooled arms vs control)
    pooled = out.assign(arm=np.where(out["treated"], "any treatment", CONTROL))
    pc = lift(pooled, "converted", alpha=alpha).iloc[0]
    rev_frame = _safe_cuped(pooled, "revenue", "pre_revenue", None, alpha, []) if cr is not None else None
    pr = (rev_frame if rev_frame is not None else lift(pooled, "revenue", alpha=alpha)).iloc[0]
    n_treated = int(out["treated"].sum())
    cost = cpc * int(out["contacted"].sum()) + sum(
        coupon[x] * int(out.loc[out["arm"] == x, "converted"].sum()) for x in arms)
    inc_rev = float(pr["abs_lift"]) * n_treated
    figures = {
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
    return CampaignAnalysis(
        campaign_id=cid, info=info, arms=arms, outcomes=out, checks=checks, srm=srm,
        balance=balance, contamination=contamination, effects=effects, cuped_table=cuped_table,
        cace=cace, segments=segments, heterogeneity=heterogeneity, power=power_tab,
        figures=figures, model=models, recommendation=rec, warnings=notes,
        seconds=time.perf_counter() - t0,
    )


# ---------------------------------------------------------------------------------------------
# the month: figures, comparison, truth check
# ---------------------------------------------------------------------------------------------
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


def month_figures(analyses: Sequence[CampaignAnalysis]) -> dict[str, float]:
    """Key figures of a set of campaigns (summed over campaigns).

    Incremental buyers and revenue are each campaign's pooled treatment-vs-control lift
    (conversion; revenue per person with CUPED) times its treated people; cost is contacts x
    cost per contact plus the coupon value of every treated buyer; profit = margin x incremental
    revenue - cost.
    """
    f = [a.figures for a in analyses]
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


def compare_months(current: Mapping[str, float], previous: Mapping[str, float] | None) -> pd.DataFrame:
    """This month's figures beside the previous month's, with the change (text columns)."""
    rows = []
    for key, (label, fmt, _better) in MONTH_FIGURES.items():
        cur = current.get(key)
        prev = None if previous is None else previous.get(key)
        change = ""
        if cur is not None and prev is not None:
            d = cur - prev
            change = ("no change" if np.isclose(d, 0) else
                      fmt.format(d) if d < 0 else "+" + fmt.format(d))
            if prev and not np.isclose(d, 0):
                change += f" ({d / abs(prev):+.0%})"
        rows.append({"figure": label,
                     "this month": "–" if cur is None else fmt.format(cur),
                     "previous": "–" if prev is None else fmt.format(prev),
                     "change": change or "–"})
    return pd.DataFrame(rows)


def overview_table(analyses: Sequence[CampaignAnalysis]) -> pd.DataFrame:
    """One line per campaign for the report: design, checks, effect as run, recommendation."""
    rows = []
    for an in analyses:
        f, i, rec = an.figures, an.info, an.recommendation
        checks = ("FAIL" if f["checks_failed"] else
                  f"pass ({f['checks_warned']} to look at)" if f["checks_warned"] else "pass")
        who = "everyone" if rec["basis"] == "everyone" else f"top {rec['top_k']:.0%}"
        rows.append({
            "campaign": an.campaign_id, "name": i["name"], "channel": i["channel"],
            "ended": f"{i['end_date']:%Y-%m-%d}", "people": f["n_people"],
            "arms": ", ".join(an.arms), "checks": checks,
            "bought: treated vs control": f"{f['conversion_treated']:.2%} vs {f['conversion_control']:.2%}",
            "incremental buyers": f"{f['inc_conversions']:,.0f} "
                                  + _ci(f["inc_conversions_ci_low"], f["inc_conversions_ci_high"], 1, "{:,.0f}"),
            "incremental revenue (CNY)": f"{f['inc_revenue']:,.0f} "
                                         + _ci(f["inc_revenue_ci_low"], f["inc_revenue_ci_high"], 1, "{:,.0f}"),
            "cost (CNY)": f["cost"], "incremental profit (CNY)": f["inc_profit"],
            "next time": f"{rec['arm']} to {who}" if rec["worth_it"] else "do not repeat as run",
        })
    return pd.DataFrame(rows)


def truth_table(overall: pd.DataFrame, perfect: pd.DataFrame | None = None) -> pd.DataFrame:
    """The truth check for display: true effect, the reported interval and whether it contains
    the truth; with ``perfect`` (:func:`perfect_identity_lift`) also the same estimate made with
    the true identities."""
    if len(overall) == 0:
        return pd.DataFrame()
    conv = (overall["metric"] == "conversion").to_numpy()
    sc = np.where(conv, 100.0, 1.0)
    unit = np.where(conv, " pp", " CNY")

    def est(e: pd.Series, lo: pd.Series, hi: pd.Series) -> list[str]:
        return [f"{x * k:+.2f}{u} " + _ci(a, b, k) for x, a, b, k, u in
                zip(e, lo, hi, sc, unit, strict=True)]

    shown = pd.DataFrame({
        "campaign": overall["campaign_id"], "arm": overall["arm"], "metric": overall["metric"],
        "true effect": [f"{x * k:+.2f}{u}" for x, k, u in zip(overall["true_effect"], sc, unit, strict=True)],
        "reported (OneID)": est(overall["estimate"], overall["ci_low"], overall["ci_high"]),
        "contains truth": np.where(overall["inside"], "yes", "NO"),
    })
    if perfect is not None and len(perfect):
        p = overall[["campaign_id", "arm", "metric"]].merge(
            perfect, on=["campaign_id", "arm", "metric"], how="left")
        shown["with true identities"] = est(p["estimate"], p["ci_low"], p["ci_high"])
        inside = (p["ci_low"] <= overall["true_effect"].to_numpy()) & (
            overall["true_effect"].to_numpy() <= p["ci_high"])
        shown["contains truth (true identities)"] = np.where(inside, "yes", "NO")
        shown["buyers seen by OneID"] = [f"{x:.0%}" if np.isfinite(x) else "–" for x in p["buyers_seen"]]
    return shown


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


# ---------------------------------------------------------------------------------------------
# the report section of one campaign
# ---------------------------------------------------------------------------------------------
@dataclass
class Block:
    """One piece of a report section: ``kind`` is ``"markdown"`` (text), ``"table"`` (frame,
    formats, caption) or ``"figure"`` (a matplotlib Figure)."""

    kind: str
    content: Any
    formats: dict[str, str] | None = None
    caption: str | None = None


def _pp(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{100 * x:+.2f} pp"


def _ci(lo: float, hi: float, scale: float = 1.0, fmt: str = "{:+.2f}") -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "–"
    return "[" + fmt.format(lo * scale) + ", " + fmt.format(hi * scale) + "]"


def _events(rate: float, n: float) -> float:
    """Buyers or non-buyers, whichever is fewer, of a group with conversion ``rate``."""
    k = rate * n
    return float(min(k, n - k)) if np.isfinite(k) else 0.0


def _cny(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{x:,.0f} CNY"


def _publish_segments(seg: pd.DataFrame, col: str, k: int = 10) -> pd.DataFrame:
    """Segment table for publication: counts below ``k`` blanked, estimates as text."""
    from omni.privacy import suppress_small

    d = seg.copy()
    d["n_min"] = np.minimum(d["n_treat"], d["n_control"])
    d = suppress_small(d, "n_min", k=k, cols=["n_treat", "n_control"], flag_col="small")
    shown = pd.DataFrame({
        SEGMENT_LABELS.get(col, col): d[col].astype(str),
        "arm": d["arm"],
        "treated": d["n_treat"],
        "control": d["n_control"],
        "buyers treated": [("–" if not np.isfinite(x) else f"{x:.1%}") for x in d["mean_treat"]],
        "buyers control": [("–" if not np.isfinite(x) else f"{x:.1%}") for x in d["mean_control"]],
        "conversion lift": [_pp(x) for x in d["abs_lift"]],
        "95% interval (pp)": [_ci(lo, hi, 100) for lo, hi in zip(d["abs_ci_low"], d["abs_ci_high"], strict=True)],
        "revenue lift (CNY/person)": [("–" if not np.isfinite(x) else f"{x:+.2f}") for x in d["rev_lift"]],
        "note": np.where(d["small"], "fewer than 10 people: counts hidden",
                         np.where(~d["suppressed"].astype(bool), "",
                                  np.where(d["verdict"].astype(str).str.contains("buyers"),
                                           "too few buyers for an estimate",
                                           "too few people for an estimate"))),
    })
    if col == "rfm_segment":
        from omni.value.rfm import SEGMENTS

        zh = {en: z for z, en in SEGMENTS.values()}
        shown.insert(1, "RFM 分类", d[col].astype(str).map(zh).fillna("无购买").to_numpy())
    return shown


def _fig_effects(an: CampaignAnalysis, alpha: float = 0.05):
    import matplotlib.pyplot as plt
    from scipy import stats

    z = stats.norm.ppf(1 - alpha / 2)
    out = an.outcomes
    groups = [CONTROL, *an.arms]
    g = out.groupby("arm")["converted"].agg(["mean", "size"]).reindex(groups)
    se = np.sqrt(g["mean"] * (1 - g["mean"]) / g["size"])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    colors = ["#8c8c8c"] + ["#4c72b0", "#dd8452", "#55a868", "#c44e52"][: len(an.arms)]
    ax1.bar(groups, 100 * g["mean"].to_numpy(), yerr=100 * z * se.to_numpy(), color=colors,
            capsize=4)
    ax1.set_ylabel("bought in the campaign window (%)")
    ax1.set_xlabel("arm")
    ax1.set_title(f"{an.campaign_id}: conversion by arm (95% CI)")
    e = an.effects[(an.effects["metric"] == "conversion") & (an.effects["adjustment"] == "none")]
    y = np.arange(len(e))
    lift_, lo_, hi_ = (e[c].to_numpy(dtype="float64") for c in ("abs_lift", "abs_ci_low", "abs_ci_high"))
    ax2.errorbar(100 * lift_, y, xerr=np.vstack([100 * (lift_ - lo_), 100 * (hi_ - lift_)]),
                 fmt="o", color="#4c72b0", capsize=4)
    ax2.axvline(0, color="black", lw=0.8)
    ax2.set_yticks(y, e["arm"])
    ax2.set_ylim(-0.8, len(e) - 0.2)
    ax2.set_xlabel("conversion lift vs control (percentage points)")
    ax2.set_ylabel("arm")
    ax2.set_title(f"{an.campaign_id}: lift vs control (95% CI)")
    fig.tight_layout()
    return fig


def _fig_cuped(an: CampaignAnalysis):
    import matplotlib.pyplot as plt

    ct = an.cuped_table
    metrics = [m for m in ("conversion", "revenue per person") if (ct["metric"] == m).any()]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 0.6 + 0.9 * len(an.arms) + 1.6))
    axes = np.atleast_1d(axes)
    for ax, metric in zip(axes, metrics, strict=True):
        d = ct[ct["metric"] == metric].reset_index(drop=True)
        scale = 100.0 if metric == "conversion" else 1.0
        for i, r in d.iterrows():
            for off, pre, color, lab in ((0.15, "before", "#8c8c8c", "unadjusted"),
                                         (-0.15, "after", "#4c72b0", "CUPED")):
                est = float(r[f"lift_{pre}"])
                ax.errorbar([scale * est], [i + off],
                            xerr=[[scale * (est - float(r[f"ci_low_{pre}"]))],
                                  [scale * (float(r[f"ci_high_{pre}"]) - est)]],
                            fmt="o", color=color, capsize=3, label=lab if i == 0 else None)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(range(len(d)), d["arm"])
        ax.set_ylim(-0.7, len(d) - 0.3)
        ax.set_ylabel("arm")
        ax.set_xlabel("conversion lift vs control (percentage points)" if metric == "conversion"
                      else "revenue lift vs control (CNY per person)")
        ax.set_title(metric)
        ax.legend(fontsize=8, loc="best")
    fig.suptitle(f"{an.campaign_id}: lift before and after CUPED (95% CI)", fontweight="bold")
    fig.tight_layout()
    return fig


def _fig_segments(an: CampaignAnalysis, overall: Mapping[str, float]):
    import matplotlib.pyplot as plt

    cols = [c for c, s in an.segments.items() if (~s["suppressed"]).any()]
    if not cols:
        return None
    fig, axes = plt.subplots(1, len(cols), figsize=(4.2 * len(cols), 4.2), squeeze=False)
    palette = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
    for ax, col in zip(axes[0], cols, strict=True):
        s = an.segments[col]
        levels = sorted(s.loc[~s["suppressed"], col].astype(str).unique())
        k = len(an.arms)
        for j, a in enumerate(an.arms):
            d = s[(s["arm"] == a) & ~s["suppressed"]]
            d = d.set_index(d[col].astype(str)).reindex(levels)
            y = np.arange(len(levels)) + (j - (k - 1) / 2) * 0.25
            lift_, lo_, hi_ = (d[c].to_numpy(dtype="float64")
                               for c in ("abs_lift", "abs_ci_low", "abs_ci_high"))
            ok = np.isfinite(lift_)
            ax.errorbar(100 * lift_[ok], y[ok],
                        xerr=np.vstack([100 * (lift_ - lo_)[ok], 100 * (hi_ - lift_)[ok]]),
                        fmt="o", color=palette[j % 4], capsize=3, label=a)
            ax.axvline(100 * overall.get(a, np.nan), color=palette[j % 4], ls="--", lw=0.8,
                       label=f"{a}: all people")
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(range(len(levels)), levels, fontsize=8)
        ax.set_xlabel("conversion lift (percentage points)")
        ax.set_ylabel(SEGMENT_LABELS.get(col, col))
        ax.set_title(f"{an.campaign_id}: lift by {SEGMENT_LABELS.get(col, col)}", fontsize=10)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def _fig_qini(an: CampaignAnalysis):
    import matplotlib.pyplot as plt

    if not an.model:
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    palette = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
    k = len(an.model)
    for j, (a, m) in enumerate(an.model.items()):
        c = m["curve"]
        ax1.plot(100 * c["fraction"], c["qini"], color=palette[j % 4],
                 label=f"{a}: uplift model (Qini {m['qini']:.2f})")
        ax1.plot(100 * c["fraction"], c["random"], color=palette[j % 4], ls="--", lw=0.9,
                 label=f"{a}: random targeting")
        d = m["deciles"]
        x = d["bin"].to_numpy() + (j - (k - 1) / 2) * 0.3
        up, lo_, hi_ = (d[c].to_numpy(dtype="float64") for c in ("uplift", "ci_low", "ci_high"))
        ax2.bar(x, 100 * up, width=0.3 if k > 1 else 0.6, color=palette[j % 4],
                yerr=np.vstack([100 * (up - lo_), 100 * (hi_ - up)]),
                capsize=3, label=a, alpha=0.85)
    ax1.set_xlabel("people targeted, highest predicted uplift first (% of held-out)")
    ax1.set_ylabel("incremental buyers (held-out people)")
    ax1.set_title(f"{an.campaign_id}: Qini curve on held-out people")
    ax1.legend(fontsize=7)
    ax2.axhline(0, color="black", lw=0.8)
    ax2.set_xticks(range(1, 6), ["top 20%", "2", "3", "4", "bottom 20%"])
    ax2.set_xlabel("quintile of predicted uplift")
    ax2.set_ylabel("observed conversion lift (pp)")
    ax2.set_title(f"{an.campaign_id}: observed lift by predicted quintile")
    if k > 1:
        ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _fig_targeting(an: CampaignAnalysis):
    import matplotlib.pyplot as plt

    models = {a: m for a, m in an.model.items() if m["targeting"] is not None}
    if not models:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.6))
    palette = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
    for j, (a, m) in enumerate(models.items()):
        tv = m["targeting"]
        ax.plot(100 * tv["top_k"], tv["inc_profit"] / 1000, marker="o", color=palette[j % 4],
                label=a)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("share of the audience sent to, highest predicted uplift first (%)")
    ax.set_ylabel("expected incremental profit (thousand CNY)")
    ax.set_title(f"{an.campaign_id}: profit by share targeted (held-out estimate)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def campaign_blocks(an: CampaignAnalysis, margin: float = 0.4, alpha: float = 0.05) -> list[Block]:
    """The report section of one campaign as a list of blocks (text, tables, figures).

    Only aggregates are shown: no person-level rows, no ids; segment counts under 10 hidden.
    """
    info, f = an.info, an.figures
    blocks: list[Block] = []

    def say(text: str) -> None:
        # Markdown: every data-borne value in it went through md()/escape_md (omni.core.markup)
        blocks.append(Block("markdown", text))

    say(md("## {} · {}", an.campaign_id, info["name"]))
    coupons = ", ".join(md("{} {:g} CNY", a, v) for a, v in info["coupon_value"].items() if v > 0)
    say(md("{} campaign from {:%Y-%m-%d} to {:%Y-%m-%d} ({} days), {:,} people randomized into {} and a "
           "{:.0%} holdout (control); {:g} CNY per contact", info["channel"], info["start_date"], info["end_date"],
           info["days"], f["n_people"], ", ".join(an.arms), info["control_share"], info["cost_per_contact"])
       + (f", coupons {coupons}" if coupons else "")
       + ". Outcome: any paid order in any channel during the campaign window, per assigned person "
       "(intention to treat).")

    # design and checks
    say("### Design and checks\nWere people split as planned, alike before the campaign, and was "
       "the holdout left alone?")
    out = an.outcomes
    d = out.groupby("arm").agg(people=("oneid", "size"), contacted=("contacted", "mean"),
                               bought=("converted", "mean"), revenue=("revenue", "mean"),
                               pre_revenue=("pre_revenue", "mean")).reindex([CONTROL, *an.arms])
    d.insert(1, "planned share", an.srm.set_index("arm")["planned_share"].reindex(d.index))
    d.insert(2, "actual share", d["people"] / d["people"].sum())
    blocks.append(Block("table", d.reset_index().rename(columns={
        "pre_revenue": f"spend in the {info['pre_days']} days before (CNY/person)",
        "revenue": "revenue in the window (CNY/person)", "bought": "bought in the window",
        "contacted": "contacted"}),
        {"planned share": "{:.1%}", "actual share": "{:.1%}", "contacted": "{:.1%}",
         "bought in the window": "{:.2%}", "revenue in the window (CNY/person)": "{:.2f}",
         f"spend in the {info['pre_days']} days before (CNY/person)": "{:.2f}"}, "Arms"))
    checks = an.checks.assign(result=an.checks["result"].str.upper())
    blocks.append(Block("table", checks, None, "Checks"))
    fails = an.checks[an.checks["result"] == "fail"]["check"].tolist()
    warns = an.checks[an.checks["result"] == "warn"]["check"].tolist()
    say("**All checks pass**: the comparison between arms can be trusted." if not fails and not warns
        else (md("**Failed: {}.** Do not act on the effects below until the cause is found.", ", ".join(fails))
              if fails else
              md("No check failed; worth a look: {}. The effects below stand, with the caveat stated in "
                 "the table.", ", ".join(warns).lower())))

    # effect
    say("### Effect\nDifference between each arm and the holdout in the share of people who bought, "
       "with 95% intervals" + (" (p-values Holm-adjusted across arms)" if len(an.arms) > 1 else "")
       + ".")
    blocks.append(Block("figure", _fig_effects(an, alpha)))
    e = an.effects[an.effects["adjustment"] == "none"]
    shown = pd.DataFrame({
        "arm": e["arm"], "metric": e["metric"],
        "treated": [f"{x:.2%}" if m == "conversion" else f"{x:.2f} CNY" for x, m in zip(e["mean_treat"], e["metric"], strict=True)],
        "control": [f"{x:.2%}" if m == "conversion" else f"{x:.2f} CNY" for x, m in zip(e["mean_control"], e["metric"], strict=True)],
        "lift": [_pp(x) if m == "conversion" else f"{x:+.2f} CNY" for x, m in zip(e["abs_lift"], e["metric"], strict=True)],
        "95% interval": [_ci(lo, hi, 100) + " pp" if m == "conversion" else _ci(lo, hi) + " CNY"
                         for lo, hi, m in zip(e["abs_ci_low"], e["abs_ci_high"], e["metric"], strict=True)],
        "relative lift": [("–" if not np.isfinite(x) else f"{x:+.0%}") for x in e["rel_lift"]],
        "p-value": e["p_value"],
    })
    blocks.append(Block("table", shown, {"p-value": "{:.3g}"}))
    lines = []
    for r in e[e["metric"] == "conversion"].itertuples():
        verdict = ("a clear increase" if r.significant and r.abs_lift > 0 else
                   "a clear decrease" if r.significant else "no difference distinguishable from chance")
        few = min(_events(r.mean_treat, r.n_treat), _events(r.mean_control, r.n_control))
        caution = (f" Caution: an arm has only {few:.0f} buyers (or non-buyers), too few for the "
                   "normal approximation behind the interval and test; read the figures as "
                   "indicative." if few < MIN_SEGMENT_EVENTS else "")
        lines.append(f"**{escape_md(r.arm)}**: {r.mean_treat:.2%} bought vs {r.mean_control:.2%} in the holdout, "
                     f"{_pp(r.abs_lift)} {_ci(r.abs_ci_low, r.abs_ci_high, 100)} — {verdict}.{caution}")
    if len(an.cace):
        cc = an.cace.iloc[0] if len(an.cace) == 1 else None
        if cc is not None:
            lines.append(f"Among people actually contacted ({cc['contact_rate_treat']:.1%} of the arm) "
                         f"the effect is {_pp(cc['cace'])} {_ci(cc['cace_ci_low'], cc['cace_ci_high'], 100)}.")
    lines.append(f"Over the campaign: {f['inc_conversions']:,.0f} incremental buyers "
                 f"{_ci(f['inc_conversions_ci_low'], f['inc_conversions_ci_high'], 1, '{:,.0f}')} and "
                 f"{_cny(f['inc_revenue'])} incremental revenue "
                 f"{_ci(f['inc_revenue_ci_low'], f['inc_revenue_ci_high'], 1, '{:,.0f}')}, for a cost of "
                 f"{_cny(f['cost'])}: incremental profit {_cny(f['inc_profit'])} at a {margin:.0%} margin.")
    say(" ".join(lines))

    # CUPED
    say("### CUPED: the same effect with pre-campaign behaviour taken into account\nPeople's "
       f"orders in the {info['pre_days']} days before the start predict what they buy during it; "
       "subtracting that predictable part (CUPED, Deng et al. 2013) narrows the intervals "
       "without moving the expected effect.")
    if len(an.cuped_table):
        blocks.append(Block("figure", _fig_cuped(an)))
        ct = an.cuped_table
        conv = ct["metric"] == "conversion"
        sc = np.where(conv, 100.0, 1.0)
        unit = np.where(conv, " pp", " CNY")
        shown = pd.DataFrame({
            "arm": ct["arm"], "metric": ct["metric"],
            "lift before": [f"{x * s:+.2f}{u}" for x, s, u in zip(ct["lift_before"], sc, unit, strict=True)],
            "interval before": [_ci(lo, hi, s) for lo, hi, s in zip(ct["ci_low_before"], ct["ci_high_before"], sc, strict=True)],
            "lift after": [f"{x * s:+.2f}{u}" for x, s, u in zip(ct["lift_after"], sc, unit, strict=True)],
            "interval after": [_ci(lo, hi, s) for lo, hi, s in zip(ct["ci_low_after"], ct["ci_high_after"], sc, strict=True)],
            "variance removed": ct["variance_reduction"],
            "interval narrower by": 1 - ct["se_after"] / ct["se_before"],
        })
        blocks.append(Block("table", shown, {"variance removed": "{:.1%}", "interval narrower by": "{:.1%}"}))
        rev = ct[~conv]
        if len(rev):
            r = rev.iloc[0]
            gain = 1 - r["se_after"] / r["se_before"]
            say(f"Pre-campaign spend explains {r['variance_reduction']:.1%} of the variance of revenue "
               f"in the window, so the revenue interval is {abs(gain):.1%} "
               f"{'narrower' if gain >= 0 else 'wider (on samples this small the arms differ by chance in how well the past predicts)'}"
               f" ({escape_md(r['arm'])}: {r['lift_after']:+.2f} CNY per person "
               f"{_ci(r['ci_low_after'], r['ci_high_after'])} after vs {r['lift_before']:+.2f} "
               f"{_ci(r['ci_low_before'], r['ci_high_before'])} before)."
               + (" Small gains mean purchases in the window are mostly not predictable from "
                  "the past year." if r["variance_reduction"] < 0.1 else ""))
    else:
        say("CUPED was not applied: the pre-period covariates are constant.")

    # segments
    say("### Uplift by segment\nThe conversion lift within RFM classes, CLV tiers and city tiers "
       "(all measured before the campaign). Segments where an arm has too few people are not "
       "estimated.")
    overall = {r.arm: r.abs_lift for r in e[e["metric"] == "conversion"].itertuples()}
    fig = _fig_segments(an, overall)
    if fig is not None:
        blocks.append(Block("figure", fig))
    main = next(iter(an.segments), None)
    if main is not None:
        blocks.append(Block("table", _publish_segments(an.segments[main], main), None,
                            f"Conversion lift by {SEGMENT_LABELS.get(main, main)}"))
    het = an.heterogeneity
    if len(het) and het["p_value"].notna().any():
        h = het.dropna(subset=["p_value"])
        differ = h[h["p_value"] < alpha]
        est = [s.loc[~s["suppressed"]] for s in an.segments.values()]
        best = pd.concat(est).sort_values("abs_lift", ascending=False).head(1) if any(len(x) for x in est) else None
        txt = (f"The lift differs between segments for {md_join(sorted({f'{SEGMENT_LABELS.get(r.segment_by, r.segment_by)} ({r.arm}, p = {r.p_value:.2g})' for r in differ.itertuples()}))}."
               if len(differ) else
               "No segmentation shows lifts that differ more than chance would produce "
               f"(Cochran's Q, smallest p = {h['p_value'].min():.2g}).")
        if len(differ) and best is not None and len(best) and best["abs_lift"].iloc[0] > 0:
            b = best.iloc[0]
            col = next(c for c in an.segments if c in b.index and pd.notna(b[c]))
            txt += (f" Largest estimated lift: {escape_md(SEGMENT_LABELS.get(col, col))} '{escape_md(b[col])}' with "
                    f"{escape_md(b['arm'])}, {_pp(b['abs_lift'])} {_ci(b['abs_ci_low'], b['abs_ci_high'], 100)}.")
        say(txt)
    else:
        say("Too few people per segment to estimate segment lifts reliably: every segment has "
           "fewer than the minimum in an arm.")

    # Qini
    say("### Qini curve: can we find the people who respond?\nAn uplift model (two logistic "
       "regressions on recency, frequency, spend and CLV before the campaign) is fitted on "
       "70% of the people and ranks the other 30%; the Qini curve counts the incremental buyers "
       "reached when the highest-ranked are targeted first, against random targeting.")
    fig = _fig_qini(an)
    if fig is not None:
        blocks.append(Block("figure", fig))
        rows = [{"arm": a, "Qini coefficient": m["qini"],
                 "95% bootstrap interval": _ci(m["qini_ci_low"], m["qini_ci_high"], 1, "{:+.3f}"),
                 "resamples": m["n_boot"], "people fitted": m["n_train"],
                 "people held out": m["n_test"],
                 "verdict": ("ranks better than random" if m["qini_ci_low"] > 0 else
                             "not distinguishable from random")}
                for a, m in an.model.items()]
        blocks.append(Block("table", pd.DataFrame(rows), {"Qini coefficient": "{:+.3f}"}))
        good = [r["arm"] for r in rows if r["verdict"] == "ranks better than random"]
        say((f"The model ranks people better than random for {md_join(good)}: targeting by it "
            "reaches more incremental buyers per message. " if good else
            "The model does not rank people better than random on held-out data: there is no "
            "reliable way yet to pick the responders, so targeting should not rely on it. ")
           + "A Qini coefficient of 1 would be the best ranking possible on this sample, 0 is random.")
    skipped = [w for w in an.warnings if "no uplift model" in w]
    if skipped:
        say("No uplift model: " + md_join([w.split("— ", 1)[-1] for w in skipped], "; ") + ".")

    # recommendation
    rec = an.recommendation
    say("### Recommendation: who to send to next time\nExpected incremental revenue and profit "
       f"for an audience of {rec['population']:,} people like this campaign's, "
       + ("sending to everyone or only to the share the uplift model ranks highest."
          if an.model else "sending to everyone (no uplift model could be fitted)."))
    fig = _fig_targeting(an)
    if fig is not None:
        blocks.append(Block("figure", fig))
    opt = rec["options"]
    shown = pd.DataFrame({
        "arm": opt["arm"],
        "send to": [("everyone" if b == "everyone" else f"top {k:.0%} by predicted uplift")
                    for b, k in zip(opt["basis"], opt["top_k"], strict=True)],
        "people": opt["n_targeted"],
        "incremental buyers": opt["inc_conversions"],
        "incremental revenue (CNY)": opt["inc_revenue"],
        "95% interval (CNY)": [_ci(lo, hi, 1, "{:,.0f}") for lo, hi in zip(opt["inc_revenue_ci_low"], opt["inc_revenue_ci_high"], strict=True)],
        "cost (CNY)": opt["cost"],
        "incremental profit (CNY)": opt["inc_profit"],
    })
    blocks.append(Block("table", shown, {"incremental buyers": "{:,.0f}", "incremental revenue (CNY)": "{:,.0f}",
                                         "cost (CNY)": "{:,.0f}", "incremental profit (CNY)": "{:,.0f}"}))
    who = ("everyone eligible" if rec["basis"] == "everyone" else
           f"the top {rec['top_k']:.0%} by predicted uplift ({rec['n_targeted']:,} people)")
    text = (f"**Send {escape_md(rec['arm'])} to {who}.** Expected: {rec['inc_conversions']:,.0f} incremental buyers and "
            f"{_cny(rec['inc_revenue'])} incremental revenue "
            f"{_ci(rec['inc_revenue_ci_low'], rec['inc_revenue_ci_high'], 1, '{:,.0f}')}, cost "
            f"{_cny(rec['cost'])}, incremental profit {_cny(rec['inc_profit'])}"
            + (f" (vs {_cny(rec['profit_everyone'])} sending it to everyone)." if rec["basis"] == "model" else ".")
            if rec["worth_it"] else
            f"**Do not repeat this campaign as it ran.** Its best option ({escape_md(rec['arm'])} to {who}) "
            f"is expected to lose money: incremental revenue {_cny(rec['inc_revenue'])} "
            f"{_ci(rec['inc_revenue_ci_low'], rec['inc_revenue_ci_high'], 1, '{:,.0f}')} at a "
            f"{margin:.0%} margin does not cover the cost of {_cny(rec['cost'])}.")
    if rec["worth_it"] and rec["inc_revenue_ci_low"] < 0:
        text += (" The interval includes a loss: treat this as the best guess, and keep a "
                 "holdout next time.")
    say(text)
    if "target_profile" in rec and len(rec["target_profile"]):
        tp = rec["target_profile"].drop(columns=["suppressed"])
        blocks.append(Block("table", tp.rename(columns={"segment": "RFM class"}),
                            {"share_targeted": "{:.1%}", "share_everyone": "{:.1%}",
                             "index": "{:.0f}", "people_targeted": "{:,.0f}"},
                            "Who is in the target group (held-out people; index 100 = as in everyone)"))

    # power
    say("### Power: how large an effect could this campaign see?\nThe smallest lift the design "
       "detects with 80% power at the 5% level, given its size and split.")
    p = an.power
    shown = pd.DataFrame({
        "arm": p["arm"], "treated": p["n_treat"], "control": p["n_control"],
        "control conversion": p["baseline_conversion"],
        "detectable conversion lift": [_pp(x) for x in p["mde_conversion"]],
        "relative": p["mde_relative"],
        "measured lift": [_pp(x) for x in p["observed_lift"]],
        "detectable revenue lift (CNY/person, CUPED)": p["mde_revenue_cuped"].fillna(p["mde_revenue"]),
    })
    blocks.append(Block("table", shown, {"control conversion": "{:.2%}", "relative": "{:.0%}",
                                         "detectable revenue lift (CNY/person, CUPED)": "{:.2f}"}))
    notes = []
    for r in p.itertuples():
        if not np.isfinite(r.mde_conversion):
            notes.append(f"**{escape_md(r.arm)}**: the holdout's conversion ({r.baseline_conversion:.2%} of "
                         f"{r.n_control:,} people) gives no baseline to plan on; a larger holdout is "
                         "needed before the detectable lift can be stated.")
            continue
        s = (f"**{escape_md(r.arm)}**: with {r.n_treat:,} treated and {r.n_control:,} in the holdout and a "
             f"{r.baseline_conversion:.2%} control conversion, lifts of {_pp(r.mde_conversion)} "
             f"({r.mde_relative:.0%} relative) or more are detected 80% of the time.")
        if np.isfinite(r.observed_lift) and r.observed_lift > 0 and np.isfinite(r.needed_control):
            if r.observed_lift >= r.mde_conversion:
                s += f" The measured lift, {_pp(r.observed_lift)}, is above that: the test was large enough."
            else:
                s += (f" The measured lift, {_pp(r.observed_lift)}, is below it: confirming a lift "
                      f"of that size needs about {r.needed_treat:,.0f} treated and "
                      f"{r.needed_control:,.0f} control people at the same split.")
        elif np.isfinite(r.observed_lift):
            s += " No positive lift was measured; a larger holdout would be needed to rule out a small effect."
        notes.append(s)
    say(" ".join(notes))
    other = [w for w in an.warnings if "no uplift model" not in w]
    if other:
        say("*Notes: " + md_join(other, "; ") + ".*")
    return blocks


def render_campaign(an: CampaignAnalysis, margin: float = 0.4, alpha: float = 0.05) -> None:
    """Display a campaign's report section in a notebook (see :func:`campaign_blocks`)."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    from omni.reporting.display import note, table

    for b in campaign_blocks(an, margin=margin, alpha=alpha):
        if b.kind == "markdown":
            note(b.content)
        elif b.kind == "table":
            table(b.content, formats=b.formats, caption=b.caption)
        else:
            display(b.content)
            plt.close(b.content)
