"""Benchmark omni.value.clv: fit/predict time, peak memory and parameter recovery at scale.

Simulates day-level customer summaries (in weeks, recency on a 1/7 grid, customers acquired
uniformly over two years, 26-week holdout, Gamma-Gamma spend) from BG/NBD and Pareto/NBD with
known parameters, fits ``CLVModel(model="auto")`` and prints, per size and generating model:
simulation, fit and predict wall time, peak traced memory of fit and of predict, unique rows
fitted, the parameter recovery error of the generating model, the chosen model and the holdout
error.

    .venv/bin/python benchmarks/bench_clv.py                 # 100k and 1M customers
    .venv/bin/python benchmarks/bench_clv.py --sizes 20000 --orders 100000   # quick

It also times ``rfm_summary`` on synthetic orders tables (1M and 4M orders by default).
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd

from omni.value.clv import CLVModel, simulate_summary
from omni.value.rfm import rfm_summary

TRUTH = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "paretonbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
}
GG = {"p": 6.25, "q": 3.74, "v": 15.44}


def _traced(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    secs = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, secs, peak / 2**20


def run(n: int, model: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    T = rng.integers(1, 2 * 365, size=n) / 7.0  # age in weeks, day resolution
    summary = simulate_summary(
        n, model, TRUTH[model], T=T, holdout=26.0, gg_params=GG, time_grid=1 / 7, seed=seed
    )
    summary = summary.drop(columns=[c for c in summary.columns if c.startswith("true_")])
    summary.attrs["freq"] = "W"
    sim_s = time.perf_counter() - t0

    m, fit_s, fit_mb = _traced(lambda: CLVModel(model="auto", freq="W").fit(summary))
    pred, pred_s, pred_mb = _traced(lambda: m.predict(summary))

    est = m.candidate_params_.get(model, {})
    rel = {k: abs(est[k] / v - 1) for k, v in TRUTH[model].items()} if est else {}
    gg_rel = {k: abs(m.gg_params_[k] / v - 1) for k, v in GG.items()} if m.gg_params_ else {}
    sc = m.model_choice_["scores"][m.model_]
    fit_parts = ", ".join(f"{k} {v:.1f}s" for k, v in m.fit_seconds_.items())
    print(
        f"n={n:>9,} truth={model:<9} sim {sim_s:5.1f}s | fit {fit_s:5.1f}s ({fit_parts}; "
        f"{m.n_unique_:,} unique rows) peak {fit_mb:6.0f} MiB | predict {pred_s:5.1f}s "
        f"peak {pred_mb:6.0f} MiB"
    )
    print(
        f"    recovery max rel err {max(rel.values()):.3f} "
        + " ".join(f"{k}={est[k]:.3f}({rel[k]:.1%})" for k in TRUTH[model])
        + f" | GG max rel err {max(gg_rel.values()) if gg_rel else float('nan'):.3f}"
        + f" | chose {m.model_} ({m.model_choice_['criterion']}), holdout total err "
        f"{sc['total_error_pct']:+.2f}% | clv finite {bool(np.isfinite(pred['clv_12m']).all())}"
        + (f" | warnings: {m.warnings_}" if m.warnings_ else "")
    )


def run_summary(n_orders: int, seed: int) -> None:
    """Time rfm_summary (with a calibration/holdout split) on a synthetic orders table."""
    rng = np.random.default_rng(seed)
    n_cust = max(n_orders // 4, 1)
    start = np.datetime64("2024-01-01T00:00", "s")
    orders = pd.DataFrame(
        {
            "oneid": pd.array([f"O{i:09d}" for i in rng.integers(0, n_cust, n_orders)], "string"),
            "order_time": start + rng.integers(0, 730 * 86400, n_orders).astype("timedelta64[s]"),
            "amount": np.round(rng.gamma(2.0, 80.0, n_orders), 2),
            "status": rng.choice(["paid", "refunded", "cancelled"], n_orders, p=[0.9, 0.06, 0.04]),
        }
    )
    out, secs, mb = _traced(
        lambda: rfm_summary(orders, "2025-12-31", calibration_end="2025-06-30", freq="W")
    )
    print(
        f"rfm_summary: {n_orders:,} orders -> {len(out):,} customers in {secs:.1f}s, "
        f"peak traced {mb:.0f} MiB"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--models", nargs="+", default=["bgnbd", "paretonbd"])
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--orders", type=int, nargs="*", default=[1_000_000, 4_000_000])
    args = ap.parse_args()
    for n in args.orders:
        run_summary(n, args.seed)
    for n in args.sizes:
        for model in args.models:
            run(n, model, args.seed)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
