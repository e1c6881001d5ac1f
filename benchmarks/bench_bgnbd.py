"""Benchmark omni's BG/NBD fit against lifetimes' ``BetaGeoFitter`` on the same weighted rows.

Simulates a BG/NBD population (CDNOW parameters) the way ``bench_clv.py`` does: customers
acquired uniformly over two years, ages and recency in weeks on a day grid; collapses it to the
unique (frequency, recency, T) rows with their counts (``unique_rows``, as ``CLVModel.fit``
does) and times, side by side in one process, ``omni.value.clv.bgnbd.fit`` and
``BetaGeoFitter(penalizer_coef=...).fit(..., weights=...)`` on those rows. Each fit runs
``--repeats`` times, alternating, and the best time of each is reported (the machine is shared,
so the minimum is the least disturbed run); the ratio is lifetimes' time over omni's.

    .venv/bin/python benchmarks/bench_bgnbd.py                  # 1M customers, ~330k rows
    .venv/bin/python benchmarks/bench_bgnbd.py --sizes 50000 --repeats 5
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from omni.value.clv import bgnbd, simulate_summary
from omni.value.clv._base import lifetimes_module, unique_rows

TRUTH = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def _lifetimes_fit(x, tx, T, w, penalizer: float) -> dict[str, float]:
    lt = lifetimes_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = lt.BetaGeoFitter(penalizer_coef=penalizer).fit(x, tx, T, weights=w)
    return {k: float(v) for k, v in m.params_.items()}


def _omni_fit(x, tx, T, w, penalizer: float) -> dict[str, float]:
    sink: list[str] = []
    out = bgnbd.fit(x, tx, T, w, penalizer, sink)
    if sink:
        print(f"    omni warnings: {sink}")
    return out


def run(n: int, seed: int, repeats: int, penalizer: float) -> float:
    """Time both fits on n simulated customers; return lifetimes' best time / omni's best time."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 2 * 365, size=n) / 7.0  # age in weeks, day resolution
    s = simulate_summary(n, "bgnbd", TRUTH, T=T, time_grid=1 / 7, seed=seed)
    x, tx, T, w, _ = unique_rows(s)
    times: dict[str, list[float]] = {"omni": [], "lifetimes": []}
    params: dict[str, dict[str, float]] = {}
    for _ in range(repeats):
        for name, fn in (("lifetimes", _lifetimes_fit), ("omni", _omni_fit)):
            t0 = time.perf_counter()
            params[name] = fn(x, tx, T, w, penalizer)
            times[name].append(time.perf_counter() - t0)
    best = {k: min(v) for k, v in times.items()}
    ratio = best["lifetimes"] / best["omni"]
    rel = {k: params["omni"][k] / params["lifetimes"][k] - 1 for k in TRUTH}
    ll = {k: bgnbd.loglik_total(tuple(p.values()), x, tx, T, w) for k, p in params.items()}
    print(f"n={n:,} customers, {len(x):,} unique rows, penalizer={penalizer:g}, {repeats} repeats")
    for k in ("lifetimes", "omni"):
        shown = " ".join(f"{p}={v:.6g}" for p, v in params[k].items())
        runs = ", ".join(f"{t:.2f}" for t in times[k])
        print(f"  {k:<9} best {best[k]:6.3f} s (runs {runs}) | {shown} | LL {ll[k]:,.4f}")
    print(
        f"  ratio lifetimes/omni {ratio:.1f}x | max rel param diff "
        f"{max(abs(v) for v in rel.values()):.1e} ("
        + " ".join(f"{k} {v:+.1e}" for k, v in rel.items())
        + f") | LL diff {ll['omni'] - ll['lifetimes']:+.2e}"
    )
    return ratio


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--penalizer", type=float, default=0.0)
    args = ap.parse_args()
    for n in args.sizes:
        run(n, args.seed, args.repeats, args.penalizer)


if __name__ == "__main__":
    main()
