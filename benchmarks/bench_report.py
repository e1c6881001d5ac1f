"""The monthly report end to end: wall time per stage and notebook, summed RSS of the process tree.

Builds (or reuses) a synthetic world of ``--persons`` people, then runs ``omni report`` on it in a
child process from raw files (the world's ``processed/`` cache is removed first unless
``--keep-cache``), sampling the resident memory of the runner and every kernel it starts (psutil,
summed over the process tree) until it ends. Prints the headline figures too, so that two runs
(for example two code versions) can be compared figure by figure.

    python benchmarks/bench_report.py --persons 50000
    python benchmarks/bench_report.py --persons 1000000 --out /tmp/w1m --month 2026-10

The run is also written to ``<world>_reports/bench.json`` (wall time, the tree's peak, each
resolution's stages, each notebook's time and kernel peak), which ``paper_model.py`` reads.

Not part of ``make test``: a benchmark measures, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil


def tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of ``proc`` and all its descendants (processes that vanish count 0)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def role(cmdline: list[str]) -> str:
    """What a process of the report's tree is, from its command line."""
    line = " ".join(cmdline)
    if "ipykernel" in line:
        return "kernel"
    if "multiprocessing.spawn" in line:
        return "resolving"
    if "omni.reporting.prepare" in line:
        return "prepare"
    if " report " in f" {line} ":
        return "runner"  # not exec'd yet
    return "other"


def tree_cpu(proc: psutil.Process, seen: dict, t0: float) -> None:
    """Record the CPU seconds (user + system) of ``proc`` and its descendants in ``seen`` (pid ->
    role, start second, CPU seconds); a process that ends keeps its last sample (up to one
    interval short)."""
    for p in [proc, *proc.children(recursive=True)]:
        try:
            with p.oneshot():
                cpu = p.cpu_times()
                if p.pid not in seen:
                    seen[p.pid] = {"role": "runner", "start": round(time.perf_counter() - t0, 1)}
                if p.pid != proc.pid and seen[p.pid]["role"] in ("runner", "other"):
                    # a child forked a moment ago still shows the runner's command line until it execs
                    seen[p.pid]["role"] = role(p.cmdline())
                seen[p.pid]["cpu"] = cpu.user + cpu.system
        except psutil.Error:
            pass


def run_sampled(cmd: list[str], interval: float = 1.0, samples: list | None = None,
                cpu: dict | None = None) -> tuple[int, float, int, str]:
    """Run ``cmd``; return (exit code, seconds, peak summed RSS of its process tree, stderr tail).
    ``samples``, when given, receives ``(seconds, bytes)`` of every sample; ``cpu`` the CPU
    seconds of every process of the tree (:func:`tree_cpu`)."""
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc = psutil.Process(child.pid)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            try:
                rss = tree_rss(proc)
                peak[0] = max(peak[0], rss)
                if samples is not None:
                    samples.append((round(time.perf_counter() - t0, 1), rss))
                if cpu is not None:
                    tree_cpu(proc, cpu, t0)
            except psutil.Error:
                pass
            done.wait(interval)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = child.communicate()
    done.set()
    th.join()
    return child.returncode, time.perf_counter() - t0, peak[0], (err or "")[-4000:]


def cpu_summary(cpu: dict[int, dict], seconds: float) -> dict:
    """CPU seconds of the report's processes by role (the kernels one by one, in the order they
    started), and how busy that kept the machine's cores over the wall time."""
    by_role: dict[str, float] = {}
    for v in cpu.values():
        by_role[v["role"]] = by_role.get(v["role"], 0.0) + v.get("cpu", 0.0)
    kernels = [round(v.get("cpu", 0.0)) for v in sorted(cpu.values(), key=lambda v: v["start"]) if v["role"] == "kernel"]
    total = sum(by_role.values())
    cores = psutil.cpu_count() or 1
    busy = total / max(seconds * cores, 1e-9)
    line = (f"CPU: {total:.0f} CPU-s in {seconds:.0f} s on {cores} cores ({busy:.0%} of them busy): "
            + ", ".join(f"{k} {v:.0f}" for k, v in sorted(by_role.items(), key=lambda kv: -kv[1]) if k != "kernel" and v >= 0.5)
            + f", kernels {by_role.get('kernel', 0.0):.0f} ({', '.join(map(str, kernels))} in the order they started)")
    return {"cpu_seconds": round(total, 1), "cores": cores, "busy_share": round(busy, 3),
            "by_role": {k: round(v, 1) for k, v in by_role.items()}, "kernels": kernels, "line": line}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--out", default=None, help="world folder (default /tmp/omni_bench_<persons>)")
    ap.add_argument("--month", default=None, help="report month YYYY-MM (default: last complete)")
    ap.add_argument("--keep-cache", action="store_true", help="reuse processed/ (default: from raw)")
    ap.add_argument("--interval", type=float, default=1.0, help="memory sampling interval, seconds")
    ap.add_argument("--jobs", type=int, default=None, help="notebooks at once (omni report --jobs)")
    ap.add_argument("--memory-budget", default=None, help="omni report --memory-budget (default: the runner's)")
    args = ap.parse_args()

    omni = [sys.executable, "-m", "omni"]
    world = Path(args.out or f"/tmp/omni_bench_{args.persons}")
    if not (world / "raw" / "sources.yaml").exists():
        rc, secs, peak, err = run_sampled([*omni, "synth", "--out", str(world), "--persons",
                                           str(args.persons), "--seed", str(args.seed), "--quiet"])
        if rc:
            print(err, file=sys.stderr)
            return rc
        print(f"synth {args.persons:,} persons: {secs:.0f} s, peak {peak / 1e9:.2f} GB")
        synth = {"seconds": round(secs, 1), "peak_gb": round(peak / 2**30, 2)}
    else:
        synth = None
    if not args.keep_cache:
        shutil.rmtree(world / "processed", ignore_errors=True)
    reports = world.parent / f"{world.name}_reports"
    shutil.rmtree(reports, ignore_errors=True)
    notebooks = Path(__file__).resolve().parents[1] / "notebooks"
    cmd = [*omni, "report", "--data", str(world), "--out", str(reports), "--notebooks", str(notebooks)]
    if args.month:
        cmd += ["--month", args.month]
    if args.jobs:
        cmd += ["--jobs", str(args.jobs)]
    if args.memory_budget:
        cmd += ["--memory-budget", args.memory_budget]
    samples: list[tuple[float, int]] = []
    cpu: dict[int, dict] = {}
    rc, secs, peak, err = run_sampled(cmd, args.interval, samples, cpu)
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "memory.csv").write_text("seconds,rss_bytes\n" + "".join(f"{t},{b}\n" for t, b in samples),
                                        encoding="utf-8")
    stages = [line.strip() for line in err.splitlines()
              if line.strip().startswith(("resolved", "linked", "unified", "loaded", "[", "done in", "omni"))]
    run = {"persons": args.persons, "seed": args.seed, "exit": rc, "seconds": round(secs, 1),
           "tree_peak_gb": round(peak / 2**30, 2), "keep_cache": args.keep_cache, "resolutions": [],
           **({"synth": synth} if synth else {})}
    for summary in sorted((world / "processed").glob("oneid-*/summary.json")):
        got = json.loads(summary.read_text(encoding="utf-8"))
        run["resolutions"].append({k: got.get(k) for k in ("as_of", "records", "seconds", "stage_seconds")})
        stages.append(f"resolution as of {got.get('as_of')}: {got.get('seconds')} s "
                      + ", ".join(f"{k} {v}" for k, v in got.get("stage_seconds", {}).items()))
    print(f"omni report on {args.persons:,} persons: exit {rc}, {secs:.0f} s wall, "
          f"peak {peak / 1e9:.2f} GB summed over the process tree")
    run["cpu"] = cpu_summary(cpu, secs)
    print("  " + run["cpu"]["line"])
    for line in stages[-30:]:
        print("  " + line)
    if rc:
        print(err, file=sys.stderr)
        return rc
    month_dir = max(p for p in reports.iterdir() if p.is_dir())
    metrics = json.loads((month_dir / "metrics.json").read_text(encoding="utf-8"))
    # the run in one file, for benchmarks/paper_model.py (time and memory against the records)
    run.update({"month": metrics["month"], "records": metrics.get("records"),
                "resolution_peak_gb": metrics.get("resolution_peak_gb"),
                "notebooks": {nb: {k: v.get(k) for k in ("seconds", "peak_gb")} for nb, v in metrics["notebooks"].items()}})
    (reports / "bench.json").write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
    print(f"month {metrics['month']}, memory budget {metrics.get('memory_budget_gb', '-')} GB, runner's peak "
          f"while resolving {metrics.get('resolution_peak_gb', '-')} GB")
    for nb, v in metrics["notebooks"].items():
        print(f"{nb}: {v['seconds']:.1f} s, kernel peak {v.get('peak_gb', '-')} GB")
        for key, m in v["metrics"].items():
            print(f"    {key} = {m['value']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
