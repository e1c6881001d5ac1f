"""Who to target next time: the uplift model of one arm (T-learner, Qini with a bootstrap interval,
targeting value on held-out people), the profile of its target group and the recommendation."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from omni.privacy import suppress_small
from omni.uplift._common import CONTROL
from omni.uplift.bootstrap import bootstrap_qini
from omni.uplift.hte import (
    TwoModelUplift,
    holdout_split,
    qini_coefficient,
    qini_curve,
    targeting_value,
    uplift_by_decile,
)

__all__ = [
    "MIN_BUYERS",
    "MODEL_FEATURES",
    "ModelSkipped",
    "everyone_option",
    "fit_arm_model",
    "recommend",
    "target_profile",
]

#: Features of the uplift model (categorical and numeric columns of the outcomes).
MODEL_FEATURES = ("log_recency", "log_frequency", "log_monetary", "log_clv", "log_pre_revenue")
#: Buyers needed in each arm of the training part before an uplift model is fitted.
MIN_BUYERS = 20
_TOP_K = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class ModelSkipped:
    """No uplift model for an arm: its training part is too small.

    Attributes
    ----------
    arm : str
    short : dict of str to int
        The counts under their minimum (``"control people"``, ``"treated buyers"``, ...).
    min_people, min_buyers : int
        The minimums (people and buyers in each arm of the training part).
    """

    arm: str
    short: dict[str, int]
    min_people: int
    min_buyers: int


def _features(out: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    X = pd.DataFrame(index=out.index)
    for f in features:
        if f == "log_pre_revenue":
            X[f] = np.log1p(out["pre_revenue"].to_numpy(dtype="float64"))
        elif f in out.columns:
            X[f] = out[f]
    return X


def fit_arm_model(out: pd.DataFrame, arm: str, features: Sequence[str], test_share: float,
                   seed: int, n_boot: int, min_n: int, population: int, cost_per_contact: float,
                   coupon: float, margin: float, alpha: float, notes: list[str]
                   ) -> dict | ModelSkipped:
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
        return ModelSkipped(arm, {k: sizes[k] for k in short}, min_n, MIN_BUYERS)
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
        "qini_ci_high": float(hi),
        "better_than_random": bool(lo > 0), "n_boot": int(len(ok)), "curve": curve, "deciles": deciles,
        "targeting": tv, "best_k": best_k, "test": test, "score": score,
    }


def target_profile(test: pd.DataFrame, score: np.ndarray, top_k: float, column: str,
                    k_min: int = 10) -> pd.DataFrame:
    """Share of each segment among the top-k scored held-out people vs all held-out people;
    segments with fewer than ``k_min`` people targeted are suppressed."""
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


def everyone_option(arm: str, effects: pd.DataFrame, out: pd.DataFrame, margin: float,
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


def recommend(arms: Sequence[str], effects: pd.DataFrame, models: Mapping[str, dict],
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
        every = everyone_option(a, effects, out, margin, population, cost_per_contact,
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
