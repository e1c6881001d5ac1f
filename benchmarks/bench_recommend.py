"""Recommendations at scale: fit every model and make the top-20 of every person, with the accuracy.

    python benchmarks/bench_recommend.py --persons 200000 [--out /tmp/rec19/w200k] [--month 2026-10]

Synthesizes a world under ``--out`` when it has none (products and line items included), resolves
it, then times (1) loading the interactions, (2) choosing the blend's weights on the month (on at
most ``EVAL_PEOPLE`` people, as ``recommend_lists`` does), (3) fitting the models the blend weighs on
everyone up to the month end and making the top-20 list of every person with a profile (business
rules applied): (3) is the target's "fit plus top-20". It reports the peak RSS of the process and the evaluation figures of ``omni.recommend.analyse_month`` (recall@20 per model,
lift over popularity, oracle gap closed, omnichannel vs single channel). Heavy sizes (over ~200k
persons): run under ``flock /work/wt/heavy.lock``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=None)
    ap.add_argument("--month", default="2026-10")
    ap.add_argument("--no-eval", action="store_true", help="only time the fit and the lists")
    args = ap.parse_args()
    out = Path(args.out or f"/tmp/bench_recommend/w{args.persons}")
    import omni
    from omni.recommend.analysis import (
        EVAL_PEOPLE,
        _evaluation_people,
        _segments,
        _weights_on,
        load_interactions,
        recommender_at,
        used_components,
    )
    from omni.recommend.topk import topk_table

    if not (out / "raw" / "sources.yaml").exists():
        from omni.synth import generate_world

        t = time.perf_counter()
        generate_world(out, persons=args.persons, seed=args.seed)
        print(f"synth: {time.perf_counter() - t:.1f} s")
    ws = omni.open(out)
    t = time.perf_counter()
    ws.resolve(as_of=args.month)
    print(f"resolve: {time.perf_counter() - t:.1f} s (peak {_peak_gb():.2f} GB)")
    from omni.core.month import Month

    month = Month.parse(args.month)
    t0 = time.perf_counter()
    inter, profiles = load_interactions(ws, month)
    t1 = time.perf_counter()
    seg = _segments(profiles, inter.users)
    fit = {"factors": 32, "iterations": 15, "half_life_days": 60.0, "seed": 7, "threads": 1}
    # the blend's weights, as recommend_lists chooses them (on at most EVAL_PEOPLE people)
    ev, ev_seg = _evaluation_people(inter, profiles, seg, EVAL_PEOPLE, 7)
    weights = _weights_on(ev, ev_seg, month, 20, fit)
    t_w = time.perf_counter()
    rec = recommender_at(inter, seg, month.next, components=used_components(weights), **fit)  # what the lists read
    rec.weights = weights
    t2 = time.perf_counter()
    table, _ = topk_table(rec, inter, profiles, month.next, k=20)
    t3 = time.perf_counter()
    fig = {"persons": args.persons, "people_with_lists": int(table["oneid"].nunique()), "skus": inter.catalogue.n,
           "purchase_lines": len(inter.purchases), "views": len(inter.views),
           "load_s": round(t1 - t0, 1), "weights_s": round(t_w - t1, 1), "weights": weights,
           "fit_s": round(t2 - t_w, 1), "top20_s": round(t3 - t2, 1),
           "fit_plus_top20_s": round(t3 - t_w, 1), "peak_gb": round(_peak_gb(), 2)}
    print(json.dumps(fig))
    if not args.no_eval:
        from omni.recommend import analyse_month

        t = time.perf_counter()
        r = analyse_month(ws, month, n_boot=100, write_table=False)
        m = r.tables["models"]
        print(json.dumps({"eval_s": round(time.perf_counter() - t, 1), "weights": r.weights,
                          "recall@20": m["recall@20"].round(4).to_dict(), "lift@20": m["lift@20"].round(4).to_dict(),
                          "gap_closed": r.tables.get("oracle_gap", m)["gap closed"].round(3).to_dict()
                          if "oracle_gap" in r.tables else None,
                          "single_channel": r.tables["single_channel"].round(3).to_dict("records"),
                          "peak_gb": round(_peak_gb(), 2)}, default=str))


if __name__ == "__main__":
    main()
