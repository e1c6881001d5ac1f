"""Campaign conversion lift through the full path, against the generator's truth, over many seeds.

For each seed: ``omni synth`` writes a world, ``omni.open`` resolves it (OneID, unified tables),
every campaign's outcomes come from :func:`omni.uplift.campaign_outcomes` (as notebook 05 does:
pre-period 365 days, first assignment kept), then

* the plain lift ``lift(outcomes, "converted")``,
* the capture-adjusted lift ``adjusted_lift(outcomes, capture_rate(ws, campaign))``,

each compared with the true intention-to-treat effect of the arm: mean(contacted x uplift_conv)
over the arm's analysed people minus the same over the holdout (``truth/campaign_truth.parquet``
mapped to OneIDs through the resolution). Per seed it prints the arms whose 95% interval covers
the truth (plain and adjusted) and the sum of the estimates over arms / the sum of the true effects.

The estimate is split, with the generator's ``orders_cause``, into the realized effect R (the
same lift minus the lift measured without the campaign's own caused orders) and the
randomization noise B (that lift without them: the arms' baseline difference, mean 0). R / truth
shows the bias without most of the sampling noise ("realized" columns: plain and adjusted).

Targets (issue #21): adjusted coverage >= 90% of arms; summed estimates within +-15% of the truth
on average over seeds.

Usage: .venv/bin/python benchmarks/bench_uplift_identity.py --seeds 20 --persons 20000
       [--first-seed 101] [--workdir /tmp/bench_uplift_identity] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import omni
from omni.synth.world import generate_world
from omni.uplift.capture import adjusted_lift, capture_rate
from omni.uplift.effects import lift
from omni.uplift.outcomes import campaign_outcomes


def true_itt(ws, record_oneid: pd.DataFrame, cid: str, out: pd.DataFrame) -> dict[str, float]:
    """True ITT effect per treatment arm over the analysed people (as ``truth_check``)."""
    ct = ws.truth("campaign_truth")
    ct = ct[ct["campaign_id"].astype(str) == cid]
    oid = pd.Series(record_oneid["oneid"].to_numpy(), index=record_oneid["record_key"].astype(str))
    t = pd.DataFrame({"oneid": oid.reindex(ct["record_key"].astype(str)).to_numpy(),
                      "u": ct["contacted"].to_numpy(bool) * ct["uplift_conv"].to_numpy(float)})
    t = t.dropna(subset=["oneid"]).drop_duplicates("oneid").set_index("oneid")["u"]
    u = t.reindex(out["oneid"].astype(str)).to_numpy()
    means = pd.Series(u).groupby(out["arm"].astype(str).to_numpy()).mean()
    return {a: float(means[a] - means["control"]) for a in means.index if a != "control"}


def one_seed(seed: int, persons: int, workdir: Path, keep: bool) -> pd.DataFrame:
    path = workdir / f"w{seed}"
    if not (path / "raw" / "sources.yaml").exists():
        generate_world(path, persons=persons, seed=seed)
    ws = omni.open(path)
    res = ws.resolve()
    campaigns = ws.dataset.tables["campaigns"]
    oc = ws.truth("orders_cause")
    caused = pd.Series(oc["campaign_id"].to_numpy(), index=oc["record_key"].astype(str))
    rows = []
    for cid in campaigns["campaign_id"].astype(str):
        out = campaign_outcomes(res["campaign_assignments"], res["orders"], campaigns, cid,
                                pre_days=365, on_duplicate="first")
        plain = lift(out, "converted").set_index("arm")
        own = caused.reindex(res["orders"]["order_key"].astype(str)).to_numpy() == cid
        base = lift(campaign_outcomes(res["campaign_assignments"], res["orders"].loc[~own], campaigns, cid,
                                      pre_days=365, on_duplicate="first"), "converted").set_index("arm")
        cap = capture_rate(ws, cid)
        adj = adjusted_lift(out, cap, "converted").set_index("arm")
        truth = true_itt(ws, res.record_oneid, cid, out)
        for arm, tr in truth.items():
            p, a = plain.loc[arm], adj.loc[arm]
            realized = p["abs_lift"] - base.loc[arm, "abs_lift"]
            h = a["abs_lift"] / p["abs_lift"] if p["abs_lift"] else np.nan
            rows.append({"seed": seed, "campaign": cid, "arm": arm, "truth": tr,
                         "plain": p["abs_lift"], "plain_lo": p["abs_ci_low"], "plain_hi": p["abs_ci_high"],
                         "adjusted": a["abs_lift"], "adj_lo": a["abs_ci_low"], "adj_hi": a["abs_ci_high"],
                         "capture": a["capture"], "realized": realized, "realized_adj": realized * h})
    if not keep:
        shutil.rmtree(path, ignore_errors=True)
    return pd.DataFrame(rows)


def summarize(d: pd.DataFrame) -> pd.DataFrame:
    d = d.assign(plain_in=(d.plain_lo <= d.truth) & (d.truth <= d.plain_hi),
                 adj_in=(d.adj_lo <= d.truth) & (d.truth <= d.adj_hi))
    return d.groupby("seed").apply(lambda g: pd.Series({
        "arms": len(g), "plain_covered": int(g.plain_in.sum()), "adj_covered": int(g.adj_in.sum()),
        "plain_sum_ratio": g.plain.sum() / g.truth.sum(),
        "adj_sum_ratio": g.adjusted.sum() / g.truth.sum(), "capture": g.capture.mean(),
        "realized_ratio": g.realized.sum() / g.truth.sum(),
        "realized_adj_ratio": g.realized_adj.sum() / g.truth.sum()}),
        include_groups=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--first-seed", type=int, default=101)
    ap.add_argument("--workdir", default="/tmp/bench_uplift_identity")
    ap.add_argument("--keep", action="store_true", help="keep the generated worlds")
    ap.add_argument("--csv", help="write the per-arm rows here")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    parts = []
    t0 = time.perf_counter()
    print(f"{args.seeds} seeds x {args.persons:,} persons; truth = true ITT of each arm", flush=True)
    print(f"{'seed':>5} {'arms':>4} {'plain cov':>9} {'adj cov':>8} {'plain sum/truth':>15} "
          f"{'adj sum/truth':>13} {'capture':>7} {'realized':>8} {'real. adj':>9} {'s':>5}", flush=True)
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        ts = time.perf_counter()
        d = one_seed(seed, args.persons, workdir, args.keep)
        parts.append(d)
        s = summarize(d).iloc[0]
        print(f"{seed:>5} {int(s.arms):>4} {int(s.plain_covered):>9} {int(s.adj_covered):>8} "
              f"{s.plain_sum_ratio:>15.3f} {s.adj_sum_ratio:>13.3f} {s.capture:>7.3f} "
              f"{s.realized_ratio:>8.3f} {s.realized_adj_ratio:>9.3f} {time.perf_counter() - ts:>5.0f}",
              flush=True)
        if args.csv:
            pd.concat(parts).to_csv(args.csv, index=False)
    d = pd.concat(parts, ignore_index=True)
    s = summarize(d)
    n = int(s.arms.sum())
    print(f"\nall: {n} arms; plain coverage {s.plain_covered.sum() / n:.1%}, adjusted coverage "
          f"{s.adj_covered.sum() / n:.1%}")
    print(f"sum over arms / truth, mean over seeds: plain {s.plain_sum_ratio.mean():.3f} "
          f"(sd {s.plain_sum_ratio.std():.3f}), adjusted {s.adj_sum_ratio.mean():.3f} "
          f"(sd {s.adj_sum_ratio.std():.3f}); pooled (all seeds' sums): plain "
          f"{d.plain.sum() / d.truth.sum():.3f}, adjusted {d.adjusted.sum() / d.truth.sum():.3f}")
    print(f"realized effect (randomization noise of the baseline removed) / truth, pooled: plain "
          f"{d.realized.sum() / d.truth.sum():.3f}, adjusted {d.realized_adj.sum() / d.truth.sum():.3f}")
    print(f"mean capture {d.capture.mean():.3f}; {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
