"""Benchmark ``omni synth``: wall time, peak memory and fidelity for 10k, 100k and 1M persons.

Usage::

    .venv/bin/python benchmarks/bench_synth.py                 # 10k, 100k, 1M
    .venv/bin/python benchmarks/bench_synth.py --sizes 10000   # one size
    .venv/bin/python benchmarks/bench_synth.py --keep DIR      # keep the datasets under DIR

Each size runs in its own subprocess so the peak resident memory (``ru_maxrss``) belongs to that
size alone. Target: 1M persons in under 3 minutes on a 2-core machine, files included.
"Accuracy" here is fidelity of the world to its configuration: realized organic repeat purchases
vs the latent process' expectation, mean purchase rate vs the configured mean, POS walk-in share
vs configured, campaign control shares vs planned, and rows per person.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_1M_SECONDS = 180.0


def run_one(persons: int, out: Path, seed: int) -> dict:
    """Generate one world in this process and measure it."""
    from omni.synth import SynthConfig, generate_world

    t0 = time.perf_counter()
    summary = generate_world(out=out, persons=persons, seed=seed, progress=True)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    params = json.loads((out / "truth" / "params.json").read_text(encoding="utf-8"))
    lp = params["latent_process"]
    cfg = SynthConfig()
    camps = params["campaigns"]
    size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
    return {
        "persons": persons,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak_mb),
        "files_mb": round(size_mb),
        "records": sum(summary["rows"].values()),
        "rows_per_person": {
            k: round(v / persons, 3)
            for k, v in summary["rows"].items()
            if k not in ("campaigns", "market_panel", "channel_spend")
        },
        "repeat_orders_realized_over_expected": round(
            lp["organic_repeat_orders"] / lp["expected_organic_repeat_orders"], 4
        ),
        "mean_purchase_rate": round(lp["mean_purchase_rate"], 4),
        "configured_purchase_rate": cfg.purchase_rate_mean,
        "pos_walkin_share": round(params["hard_cases"]["pos_walkin_share"], 4),
        "configured_walkin_share": cfg.pos_walkin_share,
        "max_control_share_error": round(
            max(abs(c["control_share"] - c["planned_control_share"]) for c in camps), 4
        ),
        "touch_caused_share": round(
            1 - params["orders_by_cause"]["organic"] / sum(params["orders_by_cause"].values()), 4
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=None, help="keep datasets under this folder")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one is not None:  # child process: one size
        print(json.dumps(run_one(args.one, args.out, args.seed)), flush=True)
        return 0

    base = args.keep or Path(tempfile.mkdtemp(prefix="bench_synth_"))
    results = []
    try:
        for n in args.sizes:
            out = base / f"synth_{n}"
            print(f"== {n:,} persons -> {out}", flush=True)
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--one",
                    str(n),
                    "--out",
                    str(out),
                    "--seed",
                    str(args.seed),
                ],
                stdout=subprocess.PIPE,
                text=True,
                check=True,
            )
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            results.append(res)
            print(json.dumps(res, ensure_ascii=False), flush=True)
            if args.keep is None:
                shutil.rmtree(out, ignore_errors=True)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)

    print("\npersons     seconds  peak MB  files MB   records  repeat r/e  walk-in  ctrl err")
    for r in results:
        print(
            f"{r['persons']:>9,}  {r['seconds']:>8.1f}  {r['peak_rss_mb']:>7,}  "
            f"{r['files_mb']:>8,}  {r['records']:>9,}  "
            f"{r['repeat_orders_realized_over_expected']:>10.4f}"
            f"  {r['pos_walkin_share']:>7.3f}  {r['max_control_share_error']:>8.4f}"
        )
    big = [r for r in results if r["persons"] == 1_000_000]
    if big:
        verdict = "met" if big[0]["seconds"] < TARGET_1M_SECONDS else "MISSED"
        print(
            f"target 1M persons < {TARGET_1M_SECONDS:.0f} s: {verdict} "
            f"({big[0]['seconds']:.0f} s; machine load affects this)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
