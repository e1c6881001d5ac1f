"""Benchmark: ~1M journeys through build_journeys and every attribution model.

Simulates touches and orders with known causes (omni.attribution.simulate, vectorized), then times
build_journeys, each model, the ROI table and a Markov bootstrap, printing wall time, the process'
peak resident memory (resource.getrusage) and the accuracy of every model against the true shares.

Target (brief): all models on 1M journeys in under 30 s.

    .venv/bin/python benchmarks/bench_attribution.py            # ~1M journeys
    .venv/bin/python benchmarks/bench_attribution.py --persons 100000
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import pandas as pd

from omni import attribution as at

# lighter touch volumes than DEFAULT_CHANNELS so that 1M journeys fit a laptop
BENCH_CHANNELS = pd.DataFrame(
    {
        "channel": ["search", "display", "sms", "email", "social_kol", "wechat_push"],
        "reach": [0.20, 0.50, 0.25, 0.30, 0.10, 0.20],
        "touches": [1.5, 2.5, 1.5, 2.0, 1.5, 1.5],
        "trigger": [0.10, 0.00, 0.03, 0.01, 0.05, 0.02],
        "touch_type": ["click", "click", "send", "open", "click", "open"],
        "cost_per_touch": [1.5, 0.05, 0.05, 0.01, 2.0, 0.02],
    }
)


def peak_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Timer:
    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float]] = []

    def run(self, label: str, fn):
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        self.rows.append((label, dt, peak_mb()))
        print(f"  {label:<28} {dt:7.2f} s   peak RSS {peak_mb():8.0f} MB", flush=True)
        return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=800_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-boot", type=int, default=50)
    args = ap.parse_args(argv)

    print(f"simulating {args.persons:,} persons ...", flush=True)
    timer = Timer()
    sim = timer.run(
        "simulate",
        lambda: at.simulate_attribution_data(
            args.persons, channels=BENCH_CHANNELS, days=180, organic_rate=1.0, seed=args.seed
        ),
    )
    print(f"  touches {len(sim.touchpoints):,}, orders {len(sim.orders):,}")

    t_models = time.perf_counter()
    j = timer.run("build_journeys", lambda: at.build_journeys(sim.touchpoints, sim.orders))
    paths = j.paths()
    print(
        f"  journeys {j.n_journeys:,} (converting {j.n_conversions:,}), "
        f"unique paths {paths.n_paths:,}, touches kept {len(j.touches):,}"
    )
    frames: dict[str, pd.DataFrame] = {}
    frames["first_touch"] = timer.run("first_touch", lambda: at.first_touch(j))
    frames["last_touch"] = timer.run("last_touch", lambda: at.last_touch(j))
    frames["last_non_direct"] = timer.run("last_non_direct", lambda: at.last_non_direct(j))
    frames["linear"] = timer.run("linear", lambda: at.linear(j))
    frames["time_decay"] = timer.run("time_decay", lambda: at.time_decay(j))
    frames["position_based"] = timer.run("position_based", lambda: at.position_based(j))
    frames["markov"] = timer.run("markov order 1", lambda: at.markov_attribution(j, order=1))
    frames["markov_2"] = timer.run("markov order 2", lambda: at.markov_attribution(j, order=2))
    frames["markov_3"] = timer.run("markov order 3", lambda: at.markov_attribution(j, order=3))
    frames["shapley"] = timer.run("shapley (conversions)", lambda: at.shapley_attribution(j))
    frames["shapley_rate"] = timer.run(
        "shapley (conversion_rate)", lambda: at.shapley_attribution(j, "conversion_rate")
    )
    total_models = time.perf_counter() - t_models
    status = "met" if total_models < 30 else "MISSED"
    print(f"  => build_journeys + all models: {total_models:.1f} s (target < 30 s: {status})")

    roi = timer.run("channel_roi", lambda: at.channel_roi(frames, sim.channel_spend))
    ci = timer.run(
        f"bootstrap markov x{args.n_boot}",
        lambda: at.bootstrap(at.markov_attribution, paths, n_boot=args.n_boot, seed=0),
    )

    for name, frame in frames.items():
        if abs(frame["conversions"].sum() - j.n_conversions) > 1e-6 * j.n_conversions:
            print(f"ERROR: {name} does not add up to the conversions", file=sys.stderr)
            return 1

    truth = at.true_channel_shares(
        sim.causes, sim.orders, channels=BENCH_CHANNELS["channel"].tolist()
    )
    print("\naccuracy against the simulated truth (channel shares of touch-caused conversions):")
    print(at.compare_to_truth(frames, truth).round(3).to_string())
    shares = pd.DataFrame({m: f.set_index("channel")["share"] for m, f in frames.items()})
    shares["truth"] = truth
    print("\nshares:")
    print(shares.round(3).to_string())
    print("\nmarkov share 95% bootstrap interval:")
    print(ci[["channel", "share", "share_lo", "share_hi"]].round(4).to_string(index=False))
    print("\nROI (markov):")
    print(roi[roi["model"] == "markov"].round(2).to_string(index=False))
    return 0  # timing depends on the machine: reported above, not enforced


if __name__ == "__main__":
    raise SystemExit(main())
