"""The Spark engine against the embedded engine, in one run: time, peak memory (process tree, JVM
included) and their ratio, and a check that both give the same record partition.

Each engine runs in its own child process, sampled with :func:`bench_report.run_sampled` (the
resident memory summed over the child and its descendants: for Spark, the Python driver and the
JVM that ``pyspark`` starts):

* ``embedded``: :meth:`omni.workspace.Workspace.resolve` of the whole world, from raw files, with
  the probabilistic stage on (``OneIDConfig(probabilistic=True)``);
* ``spark``: the same resolution with ``Workspace(..., engine="spark", master=master)``, as
  ``omni resolve --engine spark`` runs it (rules, probabilistic stage trained on Spark, stable
  numbering, the unified tables, the profiles and every cache file on Spark).

The world is read, never written: each child resolves a work folder whose ``raw`` holds hard links
to the world's files (the cache and the Spark staging go there), so a shared world such as
``/tmp/r1m/w`` is left as it is.

``--stages`` measures the Spark-native probabilistic stage and stable numbering alone,
on the embedded engine's deterministic resolution: the probabilistic stage (:func:`omni.spark.linkage.link_accounts_spark`
against :func:`omni.oneid.linkage.link_accounts`) and the stable numbering
(:func:`omni.spark.stable.assign_oneids_spark` against :func:`omni.oneid.stable.assign_oneid_numbers`),
the input preparation untimed in both.

    python benchmarks/bench_spark.py --persons 100000 1000000
    python benchmarks/bench_spark.py --data data/test_world --stages
    python benchmarks/bench_spark.py --persons 100000 --master local[2] --driver-memory 12g

Not part of ``make test``: a benchmark measures, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_report import run_sampled  # noqa: E402


def _write_partition(path: Path, keys, labels) -> None:
    import pandas as pd

    pd.DataFrame({"record_key": pd.array(keys, dtype="string"), "label": labels}).to_parquet(path, index=False)


# ------------------------------------------------------------------------------------ children


def child_embedded(world: Path, out: Path) -> dict:
    from omni.oneid.config import OneIDConfig
    from omni.workspace import Workspace

    shutil.rmtree(world / "processed", ignore_errors=True)
    t = time.perf_counter()
    ws = Workspace(world, OneIDConfig(probabilistic=True))
    res = ws.resolve(None)
    seconds = time.perf_counter() - t
    ro = res.read("record_oneid", columns=["record_key", "oneid"])
    _write_partition(out, ro["record_key"].to_numpy(dtype=object), ro["oneid"].to_numpy(dtype=object))
    return {"seconds": seconds, "records": len(ro), "links": int(res.summary.get("probabilistic_links", 0))}


def child_spark(world: Path, out: Path, master: str) -> dict:
    """The whole resolution on Spark, as ``omni resolve --engine spark`` runs it (inputs and rules on
    Spark, the rest shared with the embedded engine: see docs/design.md, "The Spark engine")."""
    from omni.oneid.config import OneIDConfig
    from omni.workspace import Workspace

    shutil.rmtree(world / "processed", ignore_errors=True)
    t = time.perf_counter()
    ws = Workspace(world, OneIDConfig(probabilistic=True), engine="spark", master=master)
    res = ws.resolve(None)
    seconds = time.perf_counter() - t
    ro = res.read("record_oneid", columns=["record_key", "oneid"])
    _write_partition(out, ro["record_key"].to_numpy(dtype=object), ro["oneid"].to_numpy(dtype=object))
    return {"seconds": seconds, "records": len(ro), "links": int(res.summary.get("probabilistic_links", 0)),
            "stage_seconds": res.summary.get("stage_seconds", {}),
            "probabilistic_seconds": res.summary.get("probabilistic", {}).get("seconds", {}),
            "component_rounds": res.summary.get("spark_component_rounds", [])}


def _stage_inputs(world: Path):
    """The embedded deterministic resolution and quasi table (untimed by both stage children)."""
    from omni.oneid.resolve import resolve_identities
    from omni.workspace import Workspace

    ws = Workspace(world)
    records = ws.records()
    res = resolve_identities(ws.ids, records[["record_key", "source", "row"]], ws.config, times=records["time"])
    return ws, res, ws.quasi


def child_stages_embedded(world: Path, out: Path) -> dict:
    from omni.oneid.config import OneIDConfig
    from omni.oneid.linkage import link_accounts
    from omni.oneid.stable import assign_oneid_numbers

    ws, res, quasi = _stage_inputs(world)
    t = time.perf_counter()
    merged, links = link_accounts(res, quasi, None, OneIDConfig())
    t_link = time.perf_counter() - t
    t = time.perf_counter()
    numbers, codes, _ = assign_oneid_numbers(merged.records[["record_key", "cluster"]])
    t_num = time.perf_counter() - t
    _write_partition(out, merged.records["record_key"].to_numpy(dtype=object), numbers[codes])
    return {"seconds": t_link + t_num, "linkage_seconds": t_link, "numbering_seconds": t_num,
            "records": len(merged.records), "links": len(links)}


def child_stages_spark(world: Path, out: Path, master: str) -> dict:
    from omni.oneid.config import OneIDConfig
    from omni.spark.linkage import link_accounts_spark
    from omni.spark.match_units import as_spark, resolution_frames
    from omni.spark.session import get_session
    from omni.spark.stable import assign_oneids_spark

    ws, res, quasi = _stage_inputs(world)
    frames = resolution_frames(res)
    spark = get_session(master)
    records = as_spark(spark, frames["records"]).persist()
    edges = as_spark(spark, frames["edges"]).persist()
    q = as_spark(spark, quasi[["record_key", "value", "valid", "field"]]).persist()
    n = records.count() + edges.count() + q.count()
    del res, quasi, frames
    t = time.perf_counter()
    out_link = link_accounts_spark(records, q, edges, OneIDConfig(), spark=spark)
    t_link = time.perf_counter() - t
    t = time.perf_counter()
    ro, _ = assign_oneids_spark(out_link.records.select("record_key", "cluster", "rec"), None, spark)
    pdf = ro.select("record_key", "oneid").toPandas()
    t_num = time.perf_counter() - t
    _write_partition(out, pdf["record_key"].to_numpy(dtype=object), pdf["oneid"].to_numpy(dtype=object))
    return {"seconds": t_link + t_num, "linkage_seconds": t_link, "numbering_seconds": t_num,
            "records": len(pdf), "links": len(out_link.links), "input_rows": n,
            "stage": {k: out_link.stage[k] for k in ("candidate_pairs", "decisions", "seconds")}}


# --------------------------------------------------------------------------------------- driver


def same_partition(a: Path, b: Path) -> tuple[bool, int]:
    """Whether two record -> label files hold the same partition, and how many records sit in
    clusters that do not correspond one to one (split or merged differently)."""
    import pandas as pd

    x, y = pd.read_parquet(a), pd.read_parquet(b)
    m = x.merge(y, on="record_key", how="outer", suffixes=("_a", "_b"), indicator=True)
    only = int((m["_merge"] != "both").sum())
    m = m[m["_merge"] == "both"]
    pairs = m[["label_a", "label_b"]].drop_duplicates()
    bad_a = pairs["label_a"][pairs["label_a"].duplicated()].unique()
    bad_b = pairs["label_b"][pairs["label_b"].duplicated()].unique()
    diff = int((m["label_a"].isin(bad_a) | m["label_b"].isin(bad_b)).sum()) + only
    return diff == 0, diff


def _work_world(world: Path, work: Path) -> Path:
    """A folder whose ``raw`` holds hard links to the world's files (a copy across file systems):
    what the children resolve and write into. (Not a symbolic link: the workspace resolves the
    path of ``sources.yaml`` and would write next to the world's own ``raw``.)"""
    w = work / "world"
    raw = w / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for f in (world / "raw").iterdir():
        if f.is_file() and not (raw / f.name).exists():
            try:
                os.link(f, raw / f.name)
            except OSError:
                shutil.copy2(f, raw / f.name)
    return w


def run_world(world: Path, stages: bool, master: str, interval: float) -> dict:
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_spark_{world.name}"
    work.mkdir(parents=True, exist_ok=True)
    resolved = _work_world(world, work)
    kinds = ("stages_embedded", "stages_spark") if stages else ("embedded", "spark")
    out: dict = {"world": str(world), "mode": "stages" if stages else "resolve", "master": master}
    for kind in kinds:
        part = work / f"{kind}.parquet"
        cmd = [sys.executable, __file__, "--child", kind, "--data", str(resolved), "--part", str(part),
               "--master", master]
        code, seconds, peak, err = run_sampled(cmd, interval=interval)
        res = {"exit": code, "wall_seconds": round(seconds, 1), "peak_gb": round(peak / 1e9, 2)}
        if code == 0:
            res.update(json.loads((work / f"{kind}.json").read_text()))
        else:
            res["error"] = err.strip().splitlines()[-1] if err.strip() else f"exit {code}"
        out[kind.replace("stages_", "")] = res
    e, s = out["embedded"], out["spark"]
    if e["exit"] == 0 and s["exit"] == 0:
        same, diff = same_partition(work / f"{kinds[0]}.parquet", work / f"{kinds[1]}.parquet")
        out["same_partition"], out["records_differing"] = same, diff
        out["time_ratio"] = round(s["seconds"] / max(e["seconds"], 1e-9), 2)
        out["memory_ratio"] = round(s["peak_gb"] / max(e["peak_gb"], 1e-9), 2)
    return out


def _print(r: dict) -> None:
    print(f"\n{r['world']} ({r['mode']}, {r['master']})")
    for k in ("embedded", "spark"):
        v = r[k]
        if v["exit"]:
            print(f"  {k:9s} FAILED: {v['error']}")
            continue
        extra = "".join(f", {n} {v[n]:.1f} s" for n in ("linkage_seconds", "numbering_seconds") if n in v)
        print(f"  {k:9s} {v['seconds']:8.1f} s{extra}  (child wall {v['wall_seconds']} s)  "
              f"peak {v['peak_gb']:.2f} GB  {v['records']:,} records")
    if "time_ratio" in r:
        print(f"  spark / embedded: time x{r['time_ratio']}, memory x{r['memory_ratio']}; "
              f"same partition: {r['same_partition']} ({r['records_differing']} records differ)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, nargs="*", default=[100_000])
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--data", default=None, help="an existing world instead of synthesizing")
    ap.add_argument("--stages", action="store_true",
                    help="the Spark stages on the embedded deterministic resolution")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--driver-memory", default=None, help="spark.driver.memory (local mode)")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--json", default=None, help="write the results here")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--part", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.driver_memory:
        os.environ["OMNI_SPARK_DRIVER_MEMORY"] = args.driver_memory

    if args.child:
        world, part = Path(args.data), Path(args.part)
        fn = {"embedded": lambda: child_embedded(world, part),
              "spark": lambda: child_spark(world, part, args.master),
              "stages_embedded": lambda: child_stages_embedded(world, part),
              "stages_spark": lambda: child_stages_spark(world, part, args.master)}[args.child]
        res = fn()
        part.with_suffix(".json").write_text(json.dumps(res, default=str))
        return 0

    stages = args.stages
    worlds = []
    if args.data:
        worlds.append(Path(args.data))
    else:
        from omni.synth import generate_world

        for n in args.persons:
            w = Path(f"/tmp/omni_bench_spark_{n}")
            if not (w / "raw" / "sources.yaml").exists():
                generate_world(out=w, persons=n, seed=args.seed, progress=True)
            worlds.append(w)
    results = []
    for w in worlds:
        r = run_world(w, stages, args.master, args.interval)
        _print(r)
        results.append(r)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
