"""Benchmark of the campaign-uplift pipeline on simulated campaigns with known effects.

For each size: outcomes from the unified tables, SRM/balance/contamination checks, lift,
CUPED, regression adjustment, uplift by segment, a seeded holdout split, T-learner fit and
scoring, Qini and targeting value. Prints the wall time of each step, its peak memory (a second,
traced run under tracemalloc, so tracing does not slow the timed run), the process peak RSS,
and accuracy against the simulation's truth.

Usage: .venv/bin/python benchmarks/bench_uplift.py [--persons 10000 100000 1000000] [--seed 7]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from omni import uplift as U

COVS = ["rfm_segment", "channel_pref", "city_tier", "clv_tier"]


def step(name: str, fn: Callable[[], Any], log: list, trace: bool = True) -> Any:
    """Run fn untraced for the wall time, then once more under tracemalloc for its peak memory
    (bytes allocated by the step at its high point: numpy/pandas buffers included)."""
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    peak = float("nan")
    if trace:
        tracemalloc.start()
        fn()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    log.append((name, dt, peak))
    print(f"  {name:<28s} {dt:8.2f} s   peak {peak:8.1f} MiB", flush=True)
    return out


def features(frame):
    return frame[COVS].assign(log_pre_revenue=np.log1p(frame["pre_revenue"]))


def run(n: int, seed: int) -> None:
    print(f"== {n:,} persons (seed {seed})")
    log: list = []
    sim = step("simulate (not part of omni)", lambda: U.simulate_campaign(n, seed=seed), log,
               trace=False)
    print(f"     {len(sim.orders):,} order rows")
    out = step(
        "campaign_outcomes",
        lambda: U.campaign_outcomes(
            sim.assignments, sim.orders, sim.campaigns, "C0001", covariates=sim.covariates
        ),
        log,
    )
    plan = U.planned_shares(sim.campaigns, "C0001")
    srm = step("sample_ratio_check", lambda: U.sample_ratio_check(out, plan), log)
    step("balance_check", lambda: U.balance_check(out, ["pre_revenue", "pre_orders", *COVS]), log)
    step("contamination_check", lambda: U.contamination_check(out), log)
    lc = step("lift converted", lambda: U.lift(out, "converted"), log)
    lr = step("lift revenue", lambda: U.lift(out, "revenue"), log)
    cu = step("cuped revenue", lambda: U.cuped(out, "revenue", "pre_revenue"), log)
    rg = step("regression_lift HC2", lambda: U.regression_lift(out, "revenue"), log)
    seg = step("uplift_by_segment", lambda: U.uplift_by_segment(out, "rfm_segment"), log)
    train, test = step("holdout_split", lambda: U.holdout_split(out, 0.3, seed=seed), log)
    model = step(
        "TwoModelUplift.fit (logit)",
        lambda: U.TwoModelUplift().fit(features(train), train["converted"], train["treated"]),
        log,
    )
    score = step("predict_uplift", lambda: model.predict_uplift(features(test)), log)
    q = step(
        "qini_coefficient",
        lambda: U.qini_coefficient(test["converted"], test["treated"], score),
        log,
    )
    step("uplift_by_decile", lambda: U.uplift_by_decile(test["converted"], test["treated"], score),
         log)
    step(
        "targeting_value",
        lambda: U.targeting_value(test, score, cost_per_contact=0.3, margin=0.4),
        log,
    )
    total = sum(t for name, t, _ in log if not name.startswith("simulate"))
    print(f"  {'TOTAL (omni steps)':<28s} {total:8.2f} s   max step peak "
          f"{np.nanmax([m for *_, m in log]):8.1f} MiB")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  process peak RSS so far: {rss:,.0f} MiB")

    # accuracy against the truth (intention-to-treat, assigned people)
    truth = sim.truth
    true_conv = truth["true_uplift_conversion"].mean()
    true_rev = truth["true_uplift_revenue"].mean()
    r = lc.iloc[0]
    print(f"  truth: uplift conversion {true_conv:.4f}, revenue {true_rev:.2f} per person")
    print(f"  lift converted  {r.abs_lift:.4f} [{r.abs_ci_low:.4f}, {r.abs_ci_high:.4f}]"
          f" covers truth: {r.abs_ci_low <= true_conv <= r.abs_ci_high}")
    r = lr.iloc[0]
    print(f"  lift revenue    {r.abs_lift:.2f} [{r.abs_ci_low:.2f}, {r.abs_ci_high:.2f}]"
          f" covers truth: {r.abs_ci_low <= true_rev <= r.abs_ci_high}")
    c, g = cu.iloc[0], rg.iloc[0]
    print(f"  CUPED revenue   {c.abs_lift:.2f} se {c.se:.3f} (unadjusted se {c.se_unadjusted:.3f}, "
          f"variance reduction {c.variance_reduction:.1%}); OLS HC2 {g.abs_lift:.2f} se {g.se:.3f}")
    print(f"  SRM p = {srm['p_value'].iloc[0]:.3f} ({'flag' if srm['srm'].iloc[0] else 'ok'})")
    seg_truth = truth.groupby("rfm_segment")["true_uplift_conversion"].mean()
    print(f"  segment 95% CI coverage of truth: {U.coverage(seg_truth, seg):.2f} "
          f"({len(seg)} segments)")
    t_test = test[["oneid"]].merge(truth, on="oneid", how="left")["true_uplift_conversion"]
    q_true = U.qini_coefficient(test["converted"], test["treated"], t_test.to_numpy())
    rng = np.random.default_rng(seed)
    q_rand = U.qini_coefficient(test["converted"], test["treated"], rng.random(len(test)))
    corr = np.corrcoef(score, t_test.to_numpy())[0, 1]
    print(f"  Qini (normalized): T-learner {q:.4f}, true-uplift score {q_true:.4f}, "
          f"random {q_rand:.4f}; corr(score, true uplift) {corr:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    for n in args.persons:
        run(n, args.seed)


if __name__ == "__main__":
    main()
