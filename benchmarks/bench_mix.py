"""Benchmark: the marketing mix model against the synthetic truth over many seeds.

Each seed simulates the mix world (omni.synth.mix: 2 years 10 months x 30 regions x 8 channels, six
geo lift experiments), measures the experiments, fits the calibrated MMM and checks it against the
truth. Targets (issue 20): total incremental orders within +-15 %; channel shares' total absolute
deviation <= 0.20; the 90 % intervals hold the true channel contributions for >= 80 % of
channel-seeds; the optimiser's plan earns >= 90 % of the truth-optimal incremental revenue at the
same spend (last 52 weeks, budgets 0.5x-2x); fit <= 2 min. The coverage of the plain Laplace
covariance on the same fits is printed next to the default (Driscoll-Kraay) one.

    .venv/bin/python benchmarks/bench_mix.py --seeds 20
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from omni.mix import MarketingMixModel, allocate, build_panel, measure_lifts
from omni.mix.analysis import true_responses
from omni.synth.mix import MixConfig, simulate_mix


def one(seed: int, cfg: MixConfig) -> dict:
    m = simulate_mix(seed, "2024-01-01", "2026-10-31", cfg)
    sales, spend, exp = m.frames()
    panel = build_panel(sales, spend, channels=list(m.channels))
    lifts = measure_lifts(exp, panel)
    t0 = time.perf_counter()
    model = MarketingMixModel(n_draws=200, seed=seed).fit(panel, exp, lifts)
    fit_s = time.perf_counter() - t0
    tot = model.channel_totals(panel)
    true = m.incremental.sum(axis=(0, 1))
    share, tshare = tot["orders"].to_numpy() / tot["orders"].sum(), true / true.sum()
    covered = (true >= tot["orders_lo"].to_numpy()) & (true <= tot["orders_hi"].to_numpy())
    se = model._sims["orders"].std(axis=0)
    # the plain Laplace covariance on the same fit, for comparison (ignores common weekly shocks)
    model.covariance = "laplace"
    model._laplace(panel)
    lap = model.channel_totals(panel)
    lap_cov = (true >= lap["orders_lo"].to_numpy()) & (true <= lap["orders_hi"].to_numpy())
    lap_se = model._sims["orders"].std(axis=0)
    model.covariance = "driscoll_kraay"
    model._laplace(panel)
    days = slice(len(panel.dates) - 364, len(panel.dates))
    cur = panel.spend[days].sum(axis=(0, 1))
    fit_f, true_f = model.responses(panel, days), true_responses(m.params, panel, days)
    rec = allocate(lambda c, b: fit_f[c](b), cur, list(m.channels))["recommended"].to_numpy()
    best = allocate(lambda c, b: true_f[c](b), cur, list(m.channels))
    got = sum(float(f(rec[c:c + 1])[0]) for c, f in enumerate(true_f))
    return {"seed": seed, "total_ratio": tot["orders"].sum() / true.sum(), "tad": np.abs(share - tshare).sum(),
            "coverage": covered.mean(), "covered": int(covered.sum()), "channels": len(true),
            "covered_laplace": int(lap_cov.sum()), "z": (tot["orders"].to_numpy() - true) / se,
            "z_laplace": (tot["orders"].to_numpy() - true) / lap_se,
            "plan_vs_optimal": got / best["response_recommended"].sum(),
            "current_vs_optimal": best["response_current"].sum() / best["response_recommended"].sum(),
            "fit_s": fit_s}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first", type=int, default=1)
    args = ap.parse_args(argv)
    cfg = MixConfig()
    rows = []
    for s in range(args.first, args.first + args.seeds):
        r = one(s, cfg)
        rows.append(r)
        print(f"seed {s:3d}: total {r['total_ratio'] - 1:+6.1%}  TAD {r['tad']:.3f}  coverage {r['covered']}/{r['channels']}"
              f" (Laplace {r['covered_laplace']})  plan {r['plan_vs_optimal']:.1%} (current {r['current_vs_optimal']:.1%})  fit {r['fit_s']:.1f} s",
              flush=True)
    d = pd.DataFrame(rows)
    within = (d["total_ratio"] - 1).abs() <= 0.15
    print(f"\n{len(d)} seeds, {cfg.regions} regions x {len(cfg.channels)} channels, 2024-01-01..2026-10-31")
    print(f"total incremental within +-15 %: {within.sum()}/{len(d)} seeds (median error "
          f"{(d['total_ratio'] - 1).abs().median():.1%}, worst {(d['total_ratio'] - 1).abs().max():.1%})  target: all")
    print(f"channel share TAD: median {d['tad'].median():.3f}, mean {d['tad'].mean():.3f}, worst {d['tad'].max():.3f};"
          f" <= 0.20 in {(d['tad'] <= 0.20).sum()}/{len(d)} seeds  target: <= 0.20")
    n_cs = d["channels"].sum()
    z, zl = np.concatenate(d["z"].to_list()), np.concatenate(d["z_laplace"].to_list())
    print(f"90 % interval coverage: {d['covered'].sum() / n_cs:.1%} of channel-seeds ({d['covered'].sum()}/{n_cs};"
          f" plain Laplace {d['covered_laplace'].sum() / n_cs:.1%})  target: >= 80 %")
    print(f"(estimate - truth) / posterior sd: sd {z.std():.2f} (plain Laplace {zl.std():.2f}; 1 if the intervals"
          f" are honest)")
    print(f"optimiser: {d['plan_vs_optimal'].mean():.1%} of the truth-optimal revenue on average, worst "
          f"{d['plan_vs_optimal'].min():.1%} (current plan {d['current_vs_optimal'].mean():.1%})  target: >= 90 %")
    print(f"fit time: median {d['fit_s'].median():.1f} s, worst {d['fit_s'].max():.1f} s  target: <= 120 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
