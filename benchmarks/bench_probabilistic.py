"""Probabilistic OneID stage: time, peak memory and accuracy of linking unbound platform accounts.

Each world runs in two child processes, so the stage's peak memory is not mixed with loading:

* ``prepare``: load, normalize, deterministic OneID and the quasi-identifier table, written as
  parquet under ``<world>/processed/bench_probabilistic/``;
* ``stage``: read those tables, run the stage (:func:`omni.oneid.linkage.match_accounts`:
  unit features, Splink fit, predict, decisions) and report its wall time, the process peak RSS
  (``resource.getrusage``: DuckDB allocates outside Python, so tracemalloc would not see it) and
  the RSS of the inputs alone; then, where the world has ground truth, precision and recall of the
  links and end-to-end pairwise F1 with and without the stage.

    python benchmarks/bench_probabilistic.py --world data/sample             # an existing world
    python benchmarks/bench_probabilistic.py --world data/sample --curve     # + P/R by threshold
    python benchmarks/bench_probabilistic.py --sizes 100000                  # /tmp/omni_bench
    python benchmarks/bench_probabilistic.py --sizes 1000000 --exclude-sources web_events touchpoints
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

TARGET_SECONDS = 180.0
TARGET_GB = 8.0


def _rss_gb() -> float:
    """Peak resident set size of this process so far, in GB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _current_rss_gb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 1024**3


def prepare(world: Path, exclude: list[str]) -> dict:
    """Deterministic resolution and quasi table of a world, saved for the stage process.

    ``exclude`` leaves sources out of the resolution (at 1M persons the behaviour sources,
    web_events and touchpoints, are 15 of the 20 million records; their records carry one strong
    id each or only weak ids, so they never join two profiles or an account to a profile, and
    leaving them out changes neither side of the stage)."""
    from omni.io import load_dataset
    from omni.oneid.match_features import quasi_fields
    from omni.oneid.resolve import resolve_identities
    from omni.workspace import Workspace

    out_dir = world / "processed" / "bench_probabilistic"
    out_dir.mkdir(parents=True, exist_ok=True)
    ws = Workspace(world)
    t = time.perf_counter()
    if exclude:
        ws._dataset = load_dataset(ws.path, sources=[s for s in ws.spec.sources if s not in exclude])
    records = ws.records()
    ids = ws.ids
    res = resolve_identities(ids, records[["record_key", "source", "row"]], ws.config,
                             times=records["time"])
    t_resolve = time.perf_counter() - t
    t = time.perf_counter()
    quasi = quasi_fields(ws.dataset)
    t_quasi = time.perf_counter() - t
    res.records.to_parquet(out_dir / "records.parquet", index=False)
    res.values.to_parquet(out_dir / "values.parquet", index=False)
    res.edges.to_parquet(out_dir / "edges.parquet", index=False)
    quasi.to_parquet(out_dir / "quasi.parquet", index=False)
    return {"records": len(records), "excluded_sources": exclude, "identifiers": len(ids),
            "quasi_rows": len(quasi),
            "load_normalize_resolve_s": round(t_resolve, 1), "quasi_fields_s": round(t_quasi, 1),
            "prepare_peak_rss_gb": round(_rss_gb(), 2)}


def stage(world: Path, curve: bool) -> dict:
    """Run the probabilistic stage on the prepared tables; accuracy where truth exists."""
    import pandas as pd

    from omni.oneid.config import OneIDConfig
    from omni.oneid.evaluate import pairwise_scores
    from omni.oneid.linkage import choose_links, evaluate_links, match_accounts, merge_links
    from omni.oneid.resolve import Resolution

    d = world / "processed" / "bench_probabilistic"
    # only the columns the stage reads (the raw values and reasons stay on disk)
    records = pd.read_parquet(d / "records.parquet")
    res = Resolution(records=records,
                     values=pd.read_parquet(d / "values.parquet", columns=["id_type", "value", "status"]),
                     edges=pd.read_parquet(d / "edges.parquet"), removals=pd.DataFrame(),
                     invalid=pd.DataFrame())
    quasi = pd.read_parquet(d / "quasi.parquet", columns=["source", "record_key", "id_type", "value",
                                                          "valid", "column", "field"])
    for c in ("record_key", "value"):  # Arrow-backed strings, as omni.normalize builds them
        quasi[c] = quasi[c].astype("string[pyarrow]")
    config = OneIDConfig()
    rss_inputs = _current_rss_gb()
    t = time.perf_counter()
    out = match_accounts(res, quasi, None, config)
    t_merge = time.perf_counter()
    after, _ = merge_links(res, out)  # together: what link_accounts does
    seconds = time.perf_counter() - t
    out.seconds["merge"] = time.perf_counter() - t_merge
    peak = _rss_gb()
    m = out.matcher
    result = {
        "accounts": out.n_accounts, "profiles": out.n_profiles,
        "candidate_pairs": int(len(out.pairs)) if out.pairs is not None else 0,
        "links": int(len(out.links)),
        "decisions": out.decisions["decision"].value_counts().to_dict(),
        "stage_s": round(seconds, 1),
        "steps_s": {k: round(v, 1) for k, v in out.seconds.items()},
        "splink_s": {k: round(v, 1) for k, v in (m.timings_ if m else {}).items()},
        "inputs_rss_gb": round(rss_inputs, 2), "stage_peak_rss_gb": round(peak, 2),
        "time_target_met": seconds < TARGET_SECONDS, "memory_target_met": peak < TARGET_GB,
        "threshold": config.match_threshold, "margin": config.match_margin,
    }
    if m is not None:
        result["prior"] = m.probability_two_random_records_match_
        result["model_parameters"] = (
            m.model_parameters_[["comparison", "label", "m_probability", "u_probability",
                                 "match_weight"]].round(6).to_dict("records"))
    truth_path = world / "truth" / "record_person.parquet"
    if truth_path.exists():
        truth = pd.read_parquet(truth_path)
        result["links_vs_truth"] = {k: (round(v, 4) if isinstance(v, float) else v)
                                    for k, v in evaluate_links(res, out.decisions, truth).items()}
        person = truth.set_index("record_key")["person_id"].reindex(records["record_key"]).to_numpy()
        ecom = (records["source"].astype(str) == "ecom_orders").to_numpy()
        for name, r in (("without_stage", res), ("with_stage", after)):
            cl = r.records["cluster"].to_numpy()
            s_all = pairwise_scores(cl, person)
            s_ecom = pairwise_scores(cl[ecom], person[ecom])
            result[f"pairwise_{name}"] = {
                "all_precision": round(s_all["precision"], 4), "all_recall": round(s_all["recall"], 4),
                "all_f1": round(s_all["f1"], 4), "ecom_f1": round(s_ecom["f1"], 4)}
        if curve and out.pairs is not None:
            rows = []
            for thr in (0.3, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999):
                for margin in (0.0, 2.0, 4.0):
                    dec = choose_links(out.pairs, out.accounts, out.profiles, thr, margin,
                                       config.max_accounts_per_platform,
                                       config.max_per_profile.get("platform_buyer"))
                    e = evaluate_links(res, dec, truth)
                    rows.append({"threshold": thr, "margin": margin, "links": e["links"],
                                 "precision": round(e["precision"], 4),
                                 "recall": round(e["recall"], 4),
                                 "crm_precision": round(e["crm_precision"], 4),
                                 "crm_recall": round(e["crm_recall"], 4)})
            result["curve"] = rows
    return result


def _child(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"child {args} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_world(world: Path, curve: bool, exclude: list[str]) -> dict:
    print(f"== {world}", file=sys.stderr)
    prep = _child(["--child", "prepare", "--world", str(world)]
                  + (["--exclude-sources", *exclude] if exclude else []))
    print(f"  prepared: {prep}", file=sys.stderr)
    st = _child(["--child", "stage", "--world", str(world)] + (["--curve"] if curve else []))
    return {"world": str(world), **prep, **st}


def _print(r: dict) -> None:
    excl = f" (without {', '.join(r['excluded_sources'])})" if r.get("excluded_sources") else ""
    print(f"\n{r['world']}: {r['records']:,} records{excl}, {r['accounts']:,} unbound accounts, "
          f"{r['profiles']:,} profiles with features, {r['candidate_pairs']:,} candidate pairs")
    print(f"  stage {r['stage_s']} s  (steps {r['steps_s']}, splink {r['splink_s']})"
          f"  target < {TARGET_SECONDS:.0f} s: {'met' if r['time_target_met'] else 'MISSED'}")
    print(f"  peak RSS {r['stage_peak_rss_gb']} GB (inputs alone {r['inputs_rss_gb']} GB)"
          f"  target < {TARGET_GB:.0f} GB: {'met' if r['memory_target_met'] else 'MISSED'}")
    print(f"  decisions {r['decisions']}  (threshold {r['threshold']}, margin {r['margin']})")
    if "links_vs_truth" in r:
        e = r["links_vs_truth"]
        print(f"  links vs truth: precision {e['precision']}, recall {e['recall']} "
              f"(of {e['linkable']:,} accounts whose person has a profile); CRM persons: "
              f"precision {e['crm_precision']}, recall {e['crm_recall']} "
              f"(of {e['crm_linkable']:,})")
        for k in ("pairwise_without_stage", "pairwise_with_stage"):
            print(f"  {k}: {r[k]}")
    for row in r.get("curve", []):
        print(f"    threshold {row['threshold']:<6} margin {row['margin']:<4} links {row['links']:>8,}"
              f"  P {row['precision']:.4f}  R {row['recall']:.4f}"
              f"  CRM P {row['crm_precision']:.4f}  CRM R {row['crm_recall']:.4f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", action="append", default=[], help="existing dataset folder(s)")
    ap.add_argument("--sizes", type=int, nargs="*", default=[],
                    help="persons; worlds under --workdir, generated (seed 7) when missing")
    ap.add_argument("--workdir", default="/tmp/omni_bench")
    ap.add_argument("--curve", action="store_true", help="precision/recall by threshold and margin")
    ap.add_argument("--exclude-sources", nargs="*", default=[],
                    help="leave these sources out of the deterministic resolution (memory at 1M)")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--child", choices=["prepare", "stage"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        world = Path(a.world[0])
        out = prepare(world, a.exclude_sources) if a.child == "prepare" else stage(world, a.curve)
        print(json.dumps(out, default=str))
        return
    worlds = [Path(w) for w in a.world]
    for n in a.sizes:
        w = Path(a.workdir) / f"world_{n}"
        if not (w / "raw" / "sources.yaml").exists():
            from omni.synth import generate_world

            t = time.perf_counter()
            generate_world(out=w, persons=n, seed=7, progress=True)
            print(f"  generated {n:,} persons in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        worlds.append(w)
    if not worlds:
        worlds = [Path("data/sample")]
    results = [run_world(w, a.curve, a.exclude_sources) for w in worlds]
    for r in results:
        _print(r)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
