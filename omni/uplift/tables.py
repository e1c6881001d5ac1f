"""The uplift report's tables: a result's frames made readable (labels, units, intervals as text).

Each function takes a result (or a campaign of it) and returns a DataFrame for
``omni.reporting.display.table``; no computation beyond formatting, no person-level rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from omni.core.i18n import term, tr
from omni.privacy import suppress_small
from omni.uplift._common import CONTROL
from omni.uplift.campaign import CampaignAnalysis
from omni.uplift.result import MONTH_FIGURES, UpliftResult, UpliftTruth
from omni.value.rfm import SEGMENTS

__all__ = [
    "CHECK_LABELS",
    "SEGMENT_LABELS",
    "arms_formats",
    "arms_table",
    "checks_table",
    "ci",
    "cuped_shown",
    "effects_shown",
    "month_comparison",
    "options_table",
    "overview_table",
    "power_shown",
    "pp",
    "qini_table",
    "segment_coverage",
    "segments_shown",
    "target_profile_shown",
    "truth_table",
]

SEGMENT_LABELS = {
    "rfm_segment": "RFM class",
    "clv_tier": "CLV tier",
    "pre_channel_mix": "channel mix before the campaign",
    "city_tier": "city tier",
    "age_band": "age band",
}
#: Design check key -> what it checks.
CHECK_LABELS = {
    "sample_ratio": "Split matches the plan (sample ratio)",
    "balance": "Arms alike before the campaign (balance)",
    "holdout_untouched": "Holdout left alone (control not contacted)",
    "treated_reached": "Treated people reached",
    "one_assignment": "One assignment per person",
}


def pp(x: float) -> str:
    """A share as signed percentage points (``+1.23 pp``), ``–`` when not finite."""
    return "–" if not np.isfinite(x) else f"{100 * x:+.2f}" + _PP()


def ci(lo: float, hi: float, scale: float = 1.0, fmt: str = "{:+.2f}") -> str:
    """An interval as ``[lo, hi]`` (scaled), ``–`` when a bound is not finite."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "–"
    return "[" + fmt.format(lo * scale) + ", " + fmt.format(hi * scale) + "]"


def _CNY() -> str:  # noqa: N802
    """The money unit after a value: `` CNY`` (English) or ``元``."""
    return tr(" CNY", " 元")


def _PP() -> str:  # noqa: N802
    """The percentage-point unit after a value: `` pp`` (English) or `` 个百分点``."""
    return tr(" pp", " 个百分点")


def _pct(x: float, fmt: str) -> str:
    return "–" if not np.isfinite(x) else fmt.format(x)


# -- the month ---------------------------------------------------------------------------------
def month_comparison(result: UpliftResult) -> pd.DataFrame:
    """This month's figures beside the previous period's, with the change (text columns)."""
    cmp = result.compare(result.previous)
    rows = []
    for (label, fmt, _better), r in zip(MONTH_FIGURES.values(), cmp.itertuples(), strict=True):
        cur, prev = r.this_month, r.previous_month
        change = ""
        if prev is not None:
            d = cur - prev
            change = (tr("no change", "无变化") if np.isclose(d, 0) else
                      fmt.format(d) if d < 0 else "+" + fmt.format(d))
            if prev and not np.isclose(d, 0):
                change += f" ({d / abs(prev):+.0%})"
        rows.append({"figure": term(label), "this month": fmt.format(cur),
                     "previous": "–" if prev is None else fmt.format(prev),
                     "change": change or "–"})
    return pd.DataFrame(rows)


def overview_table(campaigns: Sequence[CampaignAnalysis]) -> pd.DataFrame:
    """One line per campaign: design, checks, effect as run, recommendation."""
    rows = []
    for an in campaigns:
        f, i, rec = an.figures, an.info, an.recommendation
        checks = (tr("FAIL", "未通过") if f["checks_failed"] else
                  tr(f"pass ({f['checks_warned']} to look at)", f"通过（{f['checks_warned']} 项需留意）")
                  if f["checks_warned"] else tr("pass", "通过"))
        who = tr("everyone", "所有人") if rec["basis"] == "everyone" else tr(f"top {rec['top_k']:.0%}", f"前 {rec['top_k']:.0%}")
        rows.append({
            "campaign": an.campaign_id, "name": i["name"], "channel": i["channel"],
            "ended": f"{i['end_date']:%Y-%m-%d}", "people": f["n_people"],
            "arms": ", ".join(an.arms), "checks": checks,
            "bought: treated vs control": f"{f['conversion_treated']:.2%} vs {f['conversion_control']:.2%}",
            "incremental buyers": f"{f['inc_conversions']:,.0f} "
                                  + ci(f["inc_conversions_ci_low"], f["inc_conversions_ci_high"], 1, "{:,.0f}"),
            "incremental revenue (CNY)": f"{f['inc_revenue']:,.0f} "
                                         + ci(f["inc_revenue_ci_low"], f["inc_revenue_ci_high"], 1, "{:,.0f}"),
            "cost (CNY)": f["cost"], "incremental profit (CNY)": f["inc_profit"],
            "next time": (tr(f"{rec['arm']} to {who}", f"{rec['arm']} 发给{who}") if rec["worth_it"]
                          else tr("do not repeat as run", "不按原样重复")),
        })
    return pd.DataFrame(rows)


def truth_table(truth: UpliftTruth) -> pd.DataFrame:
    """True effect, the reported interval and whether it contains the truth; the same estimate
    made with the true identities where available."""
    overall, perfect = truth.overall, truth.perfect
    if len(overall) == 0:
        return pd.DataFrame()
    conv = (overall["metric"] == "conversion").to_numpy()
    sc = np.where(conv, 100.0, 1.0)
    unit = np.where(conv, _PP(), _CNY())

    def est(e: pd.Series, lo: pd.Series, hi: pd.Series) -> list[str]:
        return [f"{x * k:+.2f}{u} " + ci(a, b, k) for x, a, b, k, u in
                zip(e, lo, hi, sc, unit, strict=True)]

    shown = pd.DataFrame({
        "campaign": overall["campaign_id"], "arm": overall["arm"], "metric": overall["metric"],
        "true effect": [f"{x * k:+.2f}{u}" for x, k, u in zip(overall["true_effect"], sc, unit, strict=True)],
        "reported (OneID)": est(overall["estimate"], overall["ci_low"], overall["ci_high"]),
        "contains truth": np.where(overall["inside"], tr("yes", "是"), tr("NO", "否")),
    })
    if perfect is not None and len(perfect):
        p = overall[["campaign_id", "arm", "metric"]].merge(
            perfect, on=["campaign_id", "arm", "metric"], how="left")
        shown["with true identities"] = est(p["estimate"], p["ci_low"], p["ci_high"])
        inside = (p["ci_low"] <= overall["true_effect"].to_numpy()) & (
            overall["true_effect"].to_numpy() <= p["ci_high"])
        shown["contains truth (true identities)"] = np.where(inside, tr("yes", "是"), tr("NO", "否"))
        shown["buyers seen by OneID"] = [f"{x:.0%}" if np.isfinite(x) else "–" for x in p["buyers_seen"]]
    return shown


def segment_coverage(truth: UpliftTruth) -> pd.DataFrame:
    """Segment intervals containing the true segment effect, by segmentation."""
    cov = truth.segments.groupby("segment_by")[["segments", "covered"]].sum().reset_index()
    cov["share covered"] = cov["covered"] / cov["segments"]
    return cov


# -- one campaign ------------------------------------------------------------------------------
def arms_table(an: CampaignAnalysis) -> pd.DataFrame:
    """People, planned and actual share, contact, purchase and spend of each arm."""
    out, pre_days = an.outcomes, an.info["pre_days"]
    d = out.groupby("arm").agg(people=("oneid", "size"), contacted=("contacted", "mean"),
                               bought=("converted", "mean"), revenue=("revenue", "mean"),
                               pre_revenue=("pre_revenue", "mean")).reindex([CONTROL, *an.arms])
    d.insert(1, "planned share", an.srm.set_index("arm")["planned_share"].reindex(d.index))
    d.insert(2, "actual share", d["people"] / d["people"].sum())
    return d.reset_index().rename(columns={
        "pre_revenue": _pre_spend(pre_days),
        "revenue": "revenue in the window (CNY/person)", "bought": "bought in the window",
        "contacted": "contacted"})


def arms_formats(an: CampaignAnalysis) -> dict[str, str]:
    """Formats of :func:`arms_table`."""
    return {"planned share": "{:.1%}", "actual share": "{:.1%}", "contacted": "{:.1%}",
            "bought in the window": "{:.2%}", "revenue in the window (CNY/person)": "{:.2f}",
            _pre_spend(an.info["pre_days"]): "{:.2f}"}


def _pre_spend(pre_days: int) -> str:
    """The arms table's column of spend before the campaign."""
    return tr(f"spend in the {pre_days} days before (CNY/person)", f"活动前 {pre_days} 天消费（元/人）")


def _check_details(an: CampaignAnalysis) -> dict[str, str]:
    srm, balance, contamination = an.srm, an.balance, an.contamination
    s = srm.iloc[0]
    parts = tr(", ", "，").join(tr(f"{r.arm} {r.share:.1%} (plan {r.planned_share:.1%})",
                                   f"{r.arm} {r.share:.1%}（计划 {r.planned_share:.1%}）") for r in srm.itertuples())
    flagged = balance[balance["flag"]]
    if len(flagged):
        w = balance.loc[balance["smd"].abs().idxmax()]
        lev = f" = {term(w['level'])}" if w["level"] is not None and pd.notna(w["level"]) else ""
        bal = tr(f"{len(flagged)} of {len(balance)} covariate levels differ by |SMD| > 0.1; largest "
                 f"{w['covariate']}{lev} in {w['arm']} (SMD {w['smd']:+.2f}); estimates are "
                 "adjusted for pre-period spend",
                 f"{len(balance)} 个协变量水平中有 {len(flagged)} 个的 |SMD| > 0.1；最大的是 {w['arm']} 中的 "
                 f"{w['covariate']}{lev}（SMD {w['smd']:+.2f}）；估计已按活动前消费调整")
    else:
        bal = tr(f"all {len(balance)} covariate levels within |SMD| <= 0.1",
                 f"全部 {len(balance)} 个协变量水平的 |SMD| <= 0.1")
    c = contamination[contamination["role"] == "control"].iloc[0]
    t = contamination[contamination["role"] == "treatment"]
    worst = t.loc[t["problem_share"].idxmax()]
    dup, n = an.n_duplicates, an.info["n_people"]
    return {
        "sample_ratio": f"p = {s['p_value']:.2g}{tr('; ', '；')}{parts}",
        "balance": bal,
        "holdout_untouched": tr(f"{int(c['n_contacted']):,} of {int(c['n']):,} control people contacted "
                                f"({c['share_contacted']:.2%}; limit {c['threshold']:.0%})",
                                f"对照组 {int(c['n']):,} 人中有 {int(c['n_contacted']):,} 人被触达"
                                f"（{c['share_contacted']:.2%}；上限 {c['threshold']:.0%}）"),
        "treated_reached": tr(f"{worst['problem_share']:.1%} of arm {worst['arm']} not contacted "
                              f"(limit {worst['threshold']:.0%}); effects are per assigned person (ITT)",
                              f"{worst['arm']} 组有 {worst['problem_share']:.1%} 未被触达"
                              f"（上限 {worst['threshold']:.0%}）；效果按每个被分配的人计算（意向性分析）"),
        "one_assignment": (tr(f"{dup:,} people assigned twice (member records merged by OneID); first "
                              "assignment kept", f"{dup:,} 人被分配两次（会员记录经 OneID 合并）；保留首次分配")
                           if dup else tr(f"{n:,} people, each assigned once", f"{n:,} 人，每人只分配一次")),
    }


def checks_table(an: CampaignAnalysis) -> pd.DataFrame:
    """The design checks in plain words: check, result (PASS/WARN/FAIL), detail."""
    details = _check_details(an)
    return pd.DataFrame({
        "check": [term(CHECK_LABELS[k]) for k in an.checks["check"]],
        "result": an.checks["result"].str.upper().to_numpy(),
        "detail": [details[k] for k in an.checks["check"]],
    })


def effects_shown(an: CampaignAnalysis) -> pd.DataFrame:
    """Each arm's conversion and revenue lift, unadjusted, with intervals as text."""
    e = an.effects[an.effects["adjustment"] == "none"]
    conv = (e["metric"] == "conversion").to_numpy()

    def value(x: float, c: bool) -> str:
        return f"{x:.2%}" if c else f"{x:.2f}" + _CNY()

    return pd.DataFrame({
        "arm": e["arm"], "metric": e["metric"],
        "treated": [value(x, c) for x, c in zip(e["mean_treat"], conv, strict=True)],
        "control": [value(x, c) for x, c in zip(e["mean_control"], conv, strict=True)],
        "lift": [pp(x) if c else f"{x:+.2f}" + _CNY() for x, c in zip(e["abs_lift"], conv, strict=True)],
        "95% interval": [ci(lo, hi, 100) + _PP() if c else ci(lo, hi) + _CNY()
                         for lo, hi, c in zip(e["abs_ci_low"], e["abs_ci_high"], conv, strict=True)],
        "relative lift": [_pct(x, "{:+.0%}") for x in e["rel_lift"]],
        "p-value": e["p_value"],
    })


def cuped_shown(an: CampaignAnalysis) -> pd.DataFrame:
    """Lifts and intervals before and after CUPED, the variance removed and the gain in width."""
    ct = an.cuped_table
    conv = ct["metric"] == "conversion"
    sc = np.where(conv, 100.0, 1.0)
    unit = np.where(conv, _PP(), _CNY())
    return pd.DataFrame({
        "arm": ct["arm"], "metric": ct["metric"],
        "lift before": [f"{x * s:+.2f}{u}" for x, s, u in zip(ct["lift_before"], sc, unit, strict=True)],
        "interval before": [ci(lo, hi, s) for lo, hi, s in zip(ct["ci_low_before"], ct["ci_high_before"], sc, strict=True)],
        "lift after": [f"{x * s:+.2f}{u}" for x, s, u in zip(ct["lift_after"], sc, unit, strict=True)],
        "interval after": [ci(lo, hi, s) for lo, hi, s in zip(ct["ci_low_after"], ct["ci_high_after"], sc, strict=True)],
        "variance removed": ct["variance_reduction"],
        "interval narrower by": 1 - ct["se_after"] / ct["se_before"],
    })


def segments_shown(seg: pd.DataFrame, col: str, k: int = 10) -> pd.DataFrame:
    """Segment table for publication: counts below ``k`` blanked, estimates as text."""
    d = seg.copy()
    d["n_min"] = np.minimum(d["n_treat"], d["n_control"])
    d = suppress_small(d, "n_min", k=k, cols=["n_treat", "n_control"], flag_col="small")
    few_events = d["few_events"].astype(bool) if "few_events" in d else np.zeros(len(d), dtype=bool)
    shown = pd.DataFrame({
        SEGMENT_LABELS.get(col, col): d[col].astype(str),
        "arm": d["arm"],
        "treated": d["n_treat"],
        "control": d["n_control"],
        "buyers treated": [_pct(x, "{:.1%}") for x in d["mean_treat"]],
        "buyers control": [_pct(x, "{:.1%}") for x in d["mean_control"]],
        "conversion lift": [pp(x) for x in d["abs_lift"]],
        "95% interval (pp)": [ci(lo, hi, 100) for lo, hi in zip(d["abs_ci_low"], d["abs_ci_high"], strict=True)],
        "revenue lift (CNY/person)": [_pct(x, "{:+.2f}") for x in d["rev_lift"]],
        "note": np.where(d["small"], tr("fewer than 10 people: counts hidden", "少于 10 人：人数已隐藏"),
                         np.where(~d["suppressed"].astype(bool), "",
                                  np.where(few_events, tr("too few buyers for an estimate", "买家太少，无法估计"),
                                           tr("too few people for an estimate", "人数太少，无法估计")))),
    })
    if col == "rfm_segment":
        zh = {en: z for z, en in SEGMENTS.values()}
        shown.insert(1, "RFM 分类", d[col].astype(str).map(zh).fillna("无购买").to_numpy())
    return shown


def qini_table(an: CampaignAnalysis) -> pd.DataFrame:
    """Each arm's uplift model: Qini coefficient, its bootstrap interval, sizes, verdict."""
    return pd.DataFrame([
        {"arm": a, "Qini coefficient": m["qini"],
         "95% bootstrap interval": ci(m["qini_ci_low"], m["qini_ci_high"], 1, "{:+.3f}"),
         "resamples": m["n_boot"], "people fitted": m["n_train"], "people held out": m["n_test"],
         "verdict": (tr("ranks better than random", "排序优于随机") if m["better_than_random"] else
                     tr("not distinguishable from random", "与随机无法区分"))}
        for a, m in an.model.items()])


def options_table(an: CampaignAnalysis) -> pd.DataFrame:
    """The targeting options compared for next time (everyone, top share by the model)."""
    opt = an.recommendation["options"]
    return pd.DataFrame({
        "arm": opt["arm"],
        "send to": [(tr("everyone", "所有人") if b == "everyone" else
                     tr(f"top {k:.0%} by predicted uplift", f"预测增量最高的前 {k:.0%}"))
                    for b, k in zip(opt["basis"], opt["top_k"], strict=True)],
        "people": opt["n_targeted"],
        "incremental buyers": opt["inc_conversions"],
        "incremental revenue (CNY)": opt["inc_revenue"],
        "95% interval (CNY)": [ci(lo, hi, 1, "{:,.0f}") for lo, hi in
                               zip(opt["inc_revenue_ci_low"], opt["inc_revenue_ci_high"], strict=True)],
        "cost (CNY)": opt["cost"],
        "incremental profit (CNY)": opt["inc_profit"],
    })


def target_profile_shown(an: CampaignAnalysis) -> pd.DataFrame | None:
    """RFM classes of the recommended target group against everyone (None without a model)."""
    tp = an.recommendation.get("target_profile")
    if tp is None or not len(tp):
        return None
    return tp.drop(columns=["suppressed"]).rename(columns={"segment": "RFM class"})


def power_shown(an: CampaignAnalysis) -> pd.DataFrame:
    """Detectable lifts at 80% power next to the measured lift."""
    p = an.power
    return pd.DataFrame({
        "arm": p["arm"], "treated": p["n_treat"], "control": p["n_control"],
        "control conversion": p["baseline_conversion"],
        "detectable conversion lift": [pp(x) for x in p["mde_conversion"]],
        "relative": p["mde_relative"],
        "measured lift": [pp(x) for x in p["observed_lift"]],
        "detectable revenue lift (CNY/person, CUPED)": p["mde_revenue_cuped"].fillna(p["mde_revenue"]),
    })
