"""Benchmark of audiences and exports: the default audiences built and exported to every platform.

Steps timed: resolution (read from the cache when present, else computed and cached), consent,
features + audiences (the CLV fit dominates), the identifier table (omni.normalize, shared with
OneID), contact identifiers of the audiences' members, and the export (platform normalization, MD5/SHA-256/HMAC, CSV files, log). Prints wall time per
step, the process peak RSS after each step, sizes, and checks: counts reconcile, a sample of
exported Tencent phone hashes recomputed with hashlib, and no hash of an opted-out member's phone
in any file.

Usage:
    .venv/bin/python benchmarks/bench_audience.py [--data /tmp/omni_bench/world_100000] [--month 2026-10]
    .venv/bin/python benchmarks/bench_audience.py --persons 100000   # generates /tmp/omni_bench/world_100000
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="dataset folder (default /tmp/omni_bench/world_<persons>)")
    ap.add_argument("--persons", type=int, default=100_000, help="world size when --data is not given")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--month", default=None, help="YYYY-MM (default: last complete month)")
    ap.add_argument("--keep", default=None, help="write the export here and keep it (default: a temp folder)")
    args = ap.parse_args()

    from omni.audience import (
        contact_identifiers,
        export_audiences,
        platform_hash,
        prepare_audiences,
    )
    from omni.workspace import Workspace

    data = Path(args.data or f"/tmp/omni_bench/world_{args.persons}")
    if not (data / "raw" / "sources.yaml").exists():
        from omni.synth import generate_world

        t = time.perf_counter()
        generate_world(out=data, persons=args.persons, seed=args.seed, progress=False)
        print(f"generated {data} in {time.perf_counter() - t:.1f} s (not part of the benchmark)")
    os.environ.setdefault("OMNI_PSEUDONYM_KEY", "bench-" + "0" * 58)
    out = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="omni_aud_"))

    print(f"== {data}")
    t0 = time.perf_counter()
    ws = Workspace(data)
    month = args.month or ws.last_complete_month()
    t = time.perf_counter()
    ws.resolve(as_of=month)
    print(f"  {'resolve (cache or compute)':<32s} {time.perf_counter() - t:8.2f} s   rss {rss_mib():8.0f} MiB")
    t = time.perf_counter()
    run = prepare_audiences(data, month, workspace=ws)
    secs = run.seconds
    print(f"  {'consent':<32s} {secs['consent']:8.2f} s")
    print(f"  {'features + audiences':<32s} {secs['audiences']:8.2f} s   rss {rss_mib():8.0f} MiB")
    t = time.perf_counter()
    n_ids = len(ws.ids)
    print(f"  {'normalize identifiers (omni)':<32s} {time.perf_counter() - t:8.2f} s   rss {rss_mib():8.0f} MiB"
          f"   ({n_ids:,} rows; cached per workspace)")
    contacts = run.contacts()
    print(f"  {'contact identifiers':<32s} {run.seconds['contacts']:8.2f} s   rss {rss_mib():8.0f} MiB"
          f"   ({len(contacts):,} ids of {contacts['oneid'].nunique():,} people)")
    suppressed = run.suppressed()
    print(f"  {'suppression by identifier':<32s} {run.seconds['suppression']:8.2f} s   rss {rss_mib():8.0f} MiB"
          f"   ({suppressed.attrs['values']:,} opted-out identifier values)")
    t = time.perf_counter()
    results = export_audiences(run.audiences, contacts, out, context=run.context, suppressed=suppressed)
    dt_export = time.perf_counter() - t
    print(f"  {'export (4 platforms)':<32s} {dt_export:8.2f} s   rss {rss_mib():8.0f} MiB")
    total = time.perf_counter() - t0
    print(f"  {'total':<32s} {total:8.2f} s   peak rss {rss_mib():8.0f} MiB")

    aset = run.audiences
    print(f"\n  profiles {len(aset.people):,}; opted out {int(run.opted_out.sum()):,} "
          f"({run.opted_out.attrs['from_records_only']:,} only on an older record)")
    print(aset.sizes()[["audience", "size", "opted_out", "eligible"]].to_string(index=False))
    res = pd.DataFrame([r.as_dict() for r in results])
    ok = (res["in_audience"] == res["exported"] + res["opted_out_removed"] + res["opted_out_identifier_removed"]
          + res["no_identifier"]).all()
    print(f"\n  counts reconcile: {ok}; removed by identifier (oneid platform): "
          f"{int(res.loc[res['platform'] == 'oneid', 'opted_out_identifier_removed'].sum()):,}")
    print(res.pivot(index="audience", columns="platform", values="exported").to_string())
    size_mb = sum(p.stat().st_size for p in out.iterdir()) / 2**20
    print(f"  {len(list(out.glob('*.csv')))} files, {size_mb:.1f} MiB")

    # hashes recomputed independently for a sample of exported phones
    phones = contacts.loc[contacts["id_type"] == "phone", ["oneid", "value"]]
    name = res.groupby("audience")["exported"].max().idxmax()
    members = set(aset.members(name, eligible=True))
    sample = phones.loc[phones["oneid"].isin(members) & phones["value"].str.startswith("+86")].head(1000)
    f = out / f"{name}.tencent.HASH_MOBILE_PHONE.csv"
    lines = set(f.read_text().split()) if f.exists() else set()
    recomputed = {hashlib.md5(v[3:].encode()).hexdigest() for v in sample["value"]}
    print(f"  {len(recomputed)} sampled phones of {name}: all in the Tencent file: {recomputed <= lines}")
    oo = aset.people[aset.union() & aset.opted_out]
    theirs = contact_identifiers(ws.ids, run.resolved.record_oneid, people=oo)
    oo_hashes = set(platform_hash("tencent", "HASH_MOBILE_PHONE",
                                  theirs.loc[theirs["id_type"] == "phone", "value"]).dropna())
    leaked = sum(len(oo_hashes & set(p.read_text().split())) for p in out.glob("*.tencent.HASH_MOBILE_PHONE.csv"))
    print(f"  opted-out members' phone hashes found in Tencent files: {leaked} (of {len(oo_hashes):,} checked)")
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
