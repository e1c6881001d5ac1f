"""OneID benchmark: time, peak memory and accuracy at 10k, 100k and 1M persons.

Each size runs in its own process (clean peak RSS), as `omni resolve` runs it: the sources loaded,
validated, normalized and trimmed one at a time ("inputs"), then the OneID pipeline the issue's
target is about, from the lean identifier table to the outputs (rules: edges, shared values,
components, limits, weak attachment; stable OneIDs; unified tables; profiles). Printed: the time of
each, the resident-memory peak of each phase and the whole process's peak (VmHWM). The
probabilistic stage (issue #9, own target) runs after, timed separately. Also the same graph's
connected components through networkx for comparison (skipped above --nx-max persons, where it
takes minutes), and the naive connect-every-value graph's accuracy.

The process peak is the kernel's high-water mark (VmHWM); the per-phase peaks come from a thread
sampling VmRSS every 50 ms; the probabilistic stage's peak from VmHWM reset through
/proc/self/clear_refs (Linux).

    python benchmarks/bench_oneid.py                 # 10k, 100k, 1M
    python benchmarks/bench_oneid.py --sizes 10000   # one size
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def _rss_gb() -> tuple[float, float]:
    """Current and peak resident memory of this process (GB)."""
    d = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(d["VmRSS"].split()[0]) / 1e6, int(d["VmHWM"].split()[0]) / 1e6


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def run_one(persons: int, workdir: Path, nx_max: int, eval_max: int = 100_000) -> dict:
    import threading

    import networkx as nx
    import numpy as np
    import pandas as pd

    from omni.normalize import link_table
    from omni.oneid import OneIDConfig, evaluate_against_truth
    from omni.oneid.baseline import naive_clusters
    from omni.oneid.resolve import resolve_identities
    from omni.synth import generate_world
    from omni.workspace import Workspace

    world = workdir / f"world_{persons}"
    if not (world / "raw" / "sources.yaml").exists():
        t = time.perf_counter()
        generate_world(out=world, persons=persons, seed=7, progress=False)
        print(f"  generated {persons:,} persons in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    out: dict = {"persons": persons}
    # The run a user gets from `omni resolve` (rules only): the sources loaded, normalized and
    # trimmed one at a time, then the OneID pipeline, in a fresh process. A sampler thread
    # splits the peak between the two phases; VmHWM gives the exact whole-process peak.
    ws = Workspace(world, config=OneIDConfig(probabilistic=False))
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    t0 = time.perf_counter()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.perf_counter() - t0, _rss_gb()[0]))
            stop.wait(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    full = ws._resolve_now(None, None)
    stop.set()
    th.join()
    st = full.summary["stage_seconds"]
    out["records"] = full.summary["records"]
    out["identifiers"] = full.summary["identifiers"]
    out["inputs_s"] = st["inputs"]  # load + validate + normalize + encode, one source at a time
    out["oneid_end_to_end_s"] = round(sum(v for k, v in st.items() if k != "inputs"), 2)
    out.update({f"  {k}_s": v for k, v in st.items() if k != "inputs"})
    out["inputs_peak_gb"] = max((v for t, v in samples if t <= st["inputs"]), default=0.0)
    out["oneid_peak_gb"] = max((v for t, v in samples if t > st["inputs"]), default=0.0)
    out["process_peak_gb"] = _rss_gb()[1]
    out["profiles"] = int(full.record_oneid["oneid"].nunique())
    ro = full.record_oneid[["record_key", "oneid", "how"]]
    del full
    # the probabilistic stage on top (its own target: issue #9), from the loaded dataset
    from omni.oneid.linkage import link_accounts

    records = ws.records()
    ids = link_table(ws.dataset)
    res = resolve_identities(ids, records[["record_key", "source", "row"]], times=records["time"])
    quasi = ws.quasi
    _reset_peak()
    t = time.perf_counter()
    _, links = link_accounts(res, quasi, None, OneIDConfig())
    out["probabilistic_s"] = time.perf_counter() - t
    out["probabilistic_links"] = len(links)
    out["probabilistic_peak_gb"] = _rss_gb()[1]
    del res, links, ids
    print(json.dumps(out), file=sys.stderr, flush=True)
    if persons > eval_max:
        out["accuracy"] = f"not evaluated above {eval_max:,} persons (see the smaller sizes)"
        return out
    truth = ws.truth()
    s = evaluate_against_truth(ro, truth, strong_only=True)
    out.update({f"strong_{k}": round(v, 5) for k, v in s.items() if k in ("precision", "recall", "f1", "bcubed_f1")})
    s = evaluate_against_truth(ro, truth, strong_only=False)
    out.update({f"all_{k}": round(v, 5) for k, v in s.items() if k in ("precision", "recall", "f1")})
    naive = naive_clusters(ws.ids, records[["record_key"]])
    s = evaluate_against_truth(ro.assign(oneid=naive), truth, strong_only=True)
    out["naive_strong_precision"] = round(s["precision"], 5)
    out["naive_strong_recall"] = round(s["recall"], 5)
    out["naive_largest_cluster"] = int(np.bincount(naive).max())
    if persons <= nx_max:
        valid = ws.ids[ws.ids["valid"]]
        g = nx.Graph()
        g.add_edges_from(zip(valid["record_key"], valid["id_type"].astype(str) + ":" + valid["value"], strict=True))
        g.add_nodes_from(records["record_key"])
        t = time.perf_counter()
        n_cc = nx.number_connected_components(g)
        out["networkx_components_s"] = time.perf_counter() - t
        out["networkx_components"] = n_cc
        del g
        from omni.oneid.graph import bipartite_components

        rec = pd.Index(records["record_key"]).get_indexer(valid["record_key"])
        vcode, vuniq = pd.factorize(valid["id_type"].astype(str) + ":" + valid["value"])
        t = time.perf_counter()
        labels = bipartite_components(rec, vcode, len(records), len(vuniq))
        out["scipy_components_s"] = time.perf_counter() - t
        out["scipy_components"] = int(len(np.unique(labels)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--workdir", default="/tmp/omni_bench")
    ap.add_argument("--nx-max", type=int, default=100_000)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    wd = Path(args.workdir)
    wd.mkdir(parents=True, exist_ok=True)
    if args.one:
        print(json.dumps(run_one(args.one, wd, args.nx_max)))
        return
    for n in [int(x) for x in args.sizes.split(",")]:
        p = subprocess.run([sys.executable, __file__, "--one", str(n), "--workdir", str(wd), "--nx-max", str(args.nx_max)],
                           capture_output=True, text=True)
        if p.returncode:
            print(p.stderr, file=sys.stderr)
            raise SystemExit(f"benchmark for {n:,} persons failed")
        r = json.loads(p.stdout.strip().splitlines()[-1])
        print(f"\n== {n:,} persons: {r['records']:,} records, {r['identifiers']:,} identifier rows -> {r['profiles']:,} OneIDs")
        for k, v in r.items():
            if k not in ("persons",):
                if isinstance(v, float):
                    print(f"  {k:<32} {v:,.3f}")
                elif isinstance(v, int):
                    print(f"  {k:<32} {v:,}")
                else:
                    print(f"  {k:<32} {v}")


if __name__ == "__main__":
    main()
