"""A paper model of the monthly report's time and memory against the number of records.

Reads the ``bench.json`` of two or more ``bench_report.py`` runs on worlds of different sizes,
fits each part of the run (each resolution stage, each notebook, the synthetic world) with a
straight line in the records, time = a + b x records and peak memory = c + d x records (least
squares; with two runs the line through both), and prints the lines and what they predict at
other sizes (5M persons, about 100 M records, by default), against the machine's memory.

    python benchmarks/bench_report.py --persons 50000 --out /tmp/w50k
    python benchmarks/bench_report.py --persons 250000 --out /tmp/w250k
    python benchmarks/bench_report.py --persons 1000000 --out /tmp/w1m --month 2026-10
    python benchmarks/paper_model.py /tmp/w50k_reports/bench.json /tmp/w250k_reports/bench.json \\
        /tmp/w1m_reports/bench.json --at 5000000

The report's wall time is modelled as the resolution (both months, one after the other) plus the
notebooks after it: each notebook whose predicted peak passes half the machine (the report's
default memory budget) alone, the others on ``--jobs`` slots (the longer of the longest one and
their summed time over the slots; the audit, which runs beside the resolution, is left out). The
notebooks' times are measured inside reports, beside other kernels, so small runs are noisy; the
memory lines are the firmer part (the lines through 50k and 250k came within 0.65 GB of every
peak measured at 1M persons).

Not part of ``make test``: it fits measurements, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

#: Records of a synthetic world per person (20.1 M at 1M persons).
RECORDS_PER_PERSON = 20.1


def line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares intercept and slope of ``y`` against ``x`` (the slope alone, through the
    origin, with one point)."""
    if len(x) == 1:
        return 0.0, float(y[0] / x[0])
    slope, intercept = np.polyfit(x, y, 1)
    return float(intercept), float(slope)


def parts(run: dict) -> dict[str, tuple[float | None, float | None]]:
    """Part of a run -> (seconds, peak GB): the synthetic world, each resolution stage summed over
    the months resolved, each notebook, the report."""
    out: dict[str, tuple[float | None, float | None]] = {}
    if run.get("synth"):
        out["synth (the world)"] = (run["synth"]["seconds"], run["synth"]["peak_gb"])
    stages: dict[str, float] = {}
    for r in run.get("resolutions", []):
        for k, v in (r.get("stage_seconds") or {}).items():
            stages[k] = stages.get(k, 0.0) + float(v)
    for k, v in stages.items():
        out[f"resolution: {k}"] = (v, None)
    total = sum(float(r.get("seconds") or 0) for r in run.get("resolutions", []))
    out["resolution (both months)"] = (total, run.get("resolution_peak_gb"))
    for nb, v in sorted(run.get("notebooks", {}).items()):
        out[nb] = (v.get("seconds"), v.get("peak_gb"))
    out["report (wall, process tree)"] = (run.get("seconds"), run.get("tree_peak_gb"))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path, help="bench.json files of bench_report.py")
    ap.add_argument("--at", type=int, nargs="+", default=[5_000_000], help="persons to predict for")
    ap.add_argument("--jobs", type=int, default=2, help="notebooks side by side (the machine's cores)")
    ap.add_argument("--memory", type=float, default=24.0, help="the machine's memory, GB")
    args = ap.parse_args(argv)
    try:
        runs = [json.loads(p.read_text(encoding="utf-8")) for p in args.runs]
    except (OSError, ValueError) as err:
        print(f"paper_model: cannot read a run: {err}", file=sys.stderr)
        return 2
    runs = sorted((r for r in runs if r.get("exit") == 0 and r.get("records")), key=lambda r: r["records"])
    if len({r["records"] for r in runs}) < 2:
        print("paper_model: need completed runs at two sizes or more", file=sys.stderr)
        return 2
    table = [parts(r) for r in runs]
    names = list(dict.fromkeys(n for t in table for n in t))
    records = np.array([r["records"] for r in runs], dtype=float)
    targets = [(p, p * RECORDS_PER_PERSON) for p in args.at]
    sizes = " | ".join(f"{r['persons']:,}" for r in runs)
    print(f"runs: {sizes} persons ({' | '.join(f'{x / 1e6:.1f} M' for x in records)} records)")
    head = "| part | " + " | ".join(f"{r['persons'] // 1000:,}k s" for r in runs) + \
        " | s per M records | " + " | ".join(f"{p // 1000:,}k s" for p, _ in targets) + \
        " | " + " | ".join(f"{r['persons'] // 1000:,}k GB" for r in runs) + " | GB per M records | " + \
        " | ".join(f"{p // 1000:,}k GB" for p, _ in targets) + " |"
    print(head)
    print("|" + " --- |" * (head.count("|") - 1))
    predicted: dict[str, list[tuple[float | None, float | None]]] = {}
    for name in names:
        cells, pred = [], []
        for k in (0, 1):  # time, memory
            got = [(x, t[name][k]) for x, t in zip(records, table, strict=True)
                   if name in t and t[name][k] is not None]
            if len({x for x, _ in got}) < 2:
                cells.append((["-"] * len(runs), "-", ["-"] * len(targets)))
                pred.append([None] * len(targets))
                continue
            x, y = np.array([g[0] for g in got]), np.array([float(g[1]) for g in got])
            a, b = line(x, y)
            at = [max(a + b * rec, 0.0) for _, rec in targets]
            shown = {xx: yy for xx, yy in got}
            fmt = "{:.0f}" if k == 0 else "{:.2f}"
            cells.append(([fmt.format(shown[r]) if r in shown else "-" for r in records], f"{b * 1e6:.2f}" if k == 0
                          else f"{b * 1e6:.3f}", [fmt.format(v) for v in at]))
            pred.append(at)
        predicted[name] = list(zip(pred[0], pred[1], strict=True))
        (ts, tb, tp), (ms, mb, mp) = cells
        print(f"| {name} | " + " | ".join(ts) + f" | {tb} | " + " | ".join(tp) + " | " + " | ".join(ms) +
              f" | {mb} | " + " | ".join(mp) + " |")
    # the schedule: the resolution, then the notebooks (but the audit) on the slots
    for i, (persons, rec) in enumerate(targets):
        res = predicted.get("resolution (both months)", [(None, None)] * len(targets))[i]
        nbs = {n: v[i] for n, v in predicted.items() if n[:2].isdigit()}
        mem = {n: m for n, (_, m) in nbs.items() if m is not None}
        over = [n for n, m in sorted(mem.items()) if m > args.memory / 2]
        # after the resolution: a notebook above half the machine (the report's default budget)
        # runs alone, the others side by side on the slots
        alone = [t for n, (t, _) in nbs.items() if t is not None and not n.startswith("01") and n in over]
        after = [t for n, (t, _) in nbs.items() if t is not None and not n.startswith("01") and n not in over]
        if res[0] is None or not (after or alone):
            continue
        wall = res[0] + sum(alone) + (max(max(after), sum(after) / args.jobs) if after else 0.0)
        child = f"; the resolving child about {res[1]:.1f} GB" if res[1] is not None else ""
        print(f"\n{persons:,} persons ({rec / 1e6:.0f} M records): the report about {wall / 60:.0f} min "
              f"(resolution {res[0] / 60:.0f} min, then the notebooks on {args.jobs} slots){child}")
        for n, m in sorted(mem.items(), key=lambda kv: -kv[1]):
            flag = " (more than the machine)" if m > args.memory else " (more than half the machine)" if m > args.memory / 2 else ""
            print(f"  {n}: {m:.1f} GB{flag}")
        if res[1] is not None and res[1] > args.memory:
            print(f"  the resolution ({res[1]:.1f} GB) does not fit in {args.memory:.0f} GB: it needs an out-of-core engine")
        if over:
            print(f"  {len(over)} notebook(s) above half the machine run one at a time: {', '.join(over)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
