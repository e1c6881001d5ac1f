"""``analyse_month``: fit, choose the blend, evaluate against popularity and the oracle, and write
the per-OneID top-k table.

Protocol for report month ``M`` (never leave-one-out):

* blend weights are chosen on a validation month: models fitted on everything before ``M-1``,
  scored on the purchases of ``M-1``;
* the comparison: models fitted on everything before ``M``, scored on the purchases of ``M``
  (every model, the truth's oracle, single-channel fits), with paired bootstrap intervals;
* the lists: fitted on everything up to the end of ``M``, for ``M+1``, business rules applied.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from omni.core.month import Month
from omni.core.strings import index_in
from omni.recommend.data import Interactions, build_interactions, catalogue_from
from omni.recommend.evaluation import list_metrics, paired_bootstrap, per_user_metrics, truth_matrix
from omni.recommend.models import (
    COMPONENTS,
    FitStopped,
    History,
    Recommender,
    fit_factors,
    fit_recommender,
    history_at,
    in_chunks,
    reserve_core,
    top_k,
)
from omni.recommend.result import RecommendResult
from omni.recommend.topk import Lists, lists_blocks, lists_table, topk_lists, topk_table, write_topk
from omni.recommend.truth import oracle_lists
from omni.workspace import Workspace

__all__ = ["analyse_month", "prepare_month", "choose_weights", "load_interactions", "recommend_lists", "recommender_at", "used_components",
           "segment_labels", "segment_labels_at"]

WEIGHT_GRID = (0.0, 0.5, 1.0, 2.0)
#: People the models are compared on (and the blend's weights chosen on): a random sample above it.
EVAL_PEOPLE = 100_000
SINGLE_CHANNELS = ("tmall", "jd", "douyin", "site", "store")



def prepare_month(ws: Workspace, month: Month | str | None = None) -> None:
    """Make what :func:`analyse_month` reads from the sources alone: the order lines, the
    catalogue and the product views, loaded and validated (:meth:`omni.workspace.Workspace.loaded_source`).

    In a workspace opened with ``share`` they go to the dataset's ``processed/memo/``, where the
    report's kernel reads them; ``omni report`` calls this while the month is being resolved
    (:mod:`omni.reporting.prepare`). ``month`` is not read: the sources cover every month.
    """
    del month
    for name in ("order_lines", "products", "product_views"):
        if name in ws.spec.sources:
            ws.loaded_source(name)

def load_interactions(ws: Workspace, month: Month) -> tuple[Interactions, pd.DataFrame]:
    """Paid order lines and views per OneID up to the end of ``month`` (its resolution), and the
    profiles."""
    for name in ("products", "order_lines"):
        if name not in ws.spec.sources:
            raise ValueError(f"the dataset has no {name!r} source: recommendations need the product "
                             "catalogue and order line items (docs/data_contract.md)")
    res = ws.resolve(as_of=str(month))
    loaded = ws.loaded_source("order_lines")
    lines = loaded.table
    cat = catalogue_from(ws.source("products"))
    orders = res.read("orders", columns=["order_key", "oneid", "order_time", "channel", "amount", "status"])
    events = views = None
    if "product_views" in ws.spec.sources:
        views = ws.source("product_views")
        events = res.read("events", columns=["event_key", "oneid", "event_time"])
    inter = build_interactions(orders, lines, cat, events, views, rows_in=loaded.rows_in,
                               quarantined=loaded.quarantined)
    have = res.columns("profiles") or []  # only what the segments, the rules and the top-3 table read
    return inter, res.read("profiles", [c for c in have if c in PROFILE_COLUMNS])


#: The profile columns the recommendations read (segments, the opt-out rule, the top-3 table).
PROFILE_COLUMNS = ("oneid", "gender", "age_band", "channel_mix", "marketing_opt_out")


def segment_labels(profiles: pd.DataFrame, oneids) -> np.ndarray:
    """Popularity segment of each OneID: gender x age band from its profile (unknown: ``?``)."""
    rows = index_in(pd.Index(oneids).astype(str), profiles["oneid"].astype(str))
    return segment_labels_at(profiles, rows)


def segment_labels_at(profiles: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """The segment label (``gender|age_band``) of the profiles' rows ``rows`` (-1: no profile)."""
    have = rows >= 0

    def part(col: str) -> tuple[np.ndarray, np.ndarray]:  # code per row, and the spelled values
        v = pd.Series("?", index=np.arange(len(rows)), dtype="string")
        if col in profiles:
            v[have] = profiles[col].iloc[rows[have]].astype("string").fillna("?").to_numpy()
        codes, names = pd.factorize(v)
        return codes, np.asarray(names, dtype=object)

    g, gn = part("gender")
    a, an = part("age_band")
    combo, inverse = np.unique(g * len(an) + a, return_inverse=True)
    labels = np.array([gn[c // len(an)] + "|" + an[c % len(an)] for c in combo], dtype=object)  # a few dozen
    return labels[inverse] if len(rows) else np.empty(0, dtype=object)


def _segments(profiles: pd.DataFrame, users: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    codes, names = pd.factorize(segment_labels(profiles, users), sort=True)
    return codes.astype(np.int64), np.asarray(names, dtype=object)


def _allowed(inter: Interactions, target: Month) -> np.ndarray:
    """On sale in the target month: launched by its end (the catalogue lists planned launches)."""
    launch = inter.catalogue.launch
    return ~(launch >= np.datetime64(target.end, "ns"))


def recommender_at(inter: Interactions, segment: tuple[np.ndarray, np.ndarray], end: Month, *, channel: str | None = None,
                   factors: int = 32, iterations: int = 15, half_life_days: float = 60.0, seed: int = 7,
                   threads: int = 1, components: Sequence[str] = COMPONENTS, history: History | None = None,
                   fitted: Mapping[str, Callable[[], tuple[np.ndarray, np.ndarray] | None]] | None = None
                   ) -> Recommender:
    """The models fitted on the interactions before the start of ``end`` (for month ``end``):
    every one, or only ``components`` (a blend's lists need only the models it weighs).
    ``history``: that history when the caller made it already; ``fitted``: factor models fitted
    elsewhere (:func:`omni.recommend.models.fit_recommender`)."""
    h = history if history is not None else history_at(inter.purchases, inter.views, inter.n_users,
                                                       inter.catalogue.n, end.start,
                                                       half_life_days=half_life_days, channel=channel)
    line = inter.catalogue.column("product_line")
    line_codes = pd.factorize(pd.Series(line).astype("string"))[0] if line[0] is not None else None
    rec = fit_recommender(h, segment[0], inter.catalogue.repeat, _allowed(inter, end), line_codes,
                          factors=factors, iterations=iterations, seed=seed, threads=threads,
                          components=components, fitted=fitted)
    rec.segment_names = segment[1]
    return rec


def recommend_lists(ws: Workspace, month: Month | str, *, k: int = 20, factors: int = 32, iterations: int = 15,
                    half_life_days: float = 60.0, exclude_days: float = 30.0, max_per_category: int = 4,
                    seed: int = 7, threads: int = 1, eval_people: int | None = EVAL_PEOPLE) -> pd.DataFrame:
    """Only the lists (no evaluation): blend weights from the validation month (on at most
    ``eval_people`` people, see :func:`analyse_month`), models fitted up to the end of ``month``
    on everyone, rules applied, the table written to the cache and returned."""
    month = Month.parse(month)
    inter, profiles = load_interactions(ws, month)
    segment = _segments(profiles, inter.users)
    fit = {"factors": factors, "iterations": iterations, "half_life_days": half_life_days, "seed": seed,
           "threads": threads}
    ev, ev_segment = _evaluation_people(inter, profiles, segment, eval_people, seed)
    weights = _weights_on(ev, ev_segment, month, k, fit)
    final = recommender_at(inter, segment, month.next, components=used_components(weights), **fit)
    final.weights = weights
    table, _ = topk_table(final, inter, profiles, month.next, k=k, exclude_days=exclude_days,
                          max_per_category=max_per_category)
    write_topk(ws, month, table, {"weights": weights, "k": k, **fit, "exclude_days": exclude_days,
                                  "max_per_category": max_per_category, "eval_people": eval_people})
    return table


def _evaluation_people(inter: Interactions, profiles: pd.DataFrame, segment: tuple[np.ndarray, np.ndarray],
                       eval_people: int | None, seed: int) -> tuple[Interactions, tuple[np.ndarray, np.ndarray]]:
    """Everyone's interactions, or those of ``eval_people`` people drawn at random (``seed``) when
    more people have any, with their popularity segments."""
    ev = inter.sample(eval_people, seed) if eval_people else inter
    return ev, (segment if ev is inter else _segments(profiles, ev.users))


def _weights_on(inter: Interactions, segment: tuple[np.ndarray, np.ndarray], month: Month, k: int,
                fit: Mapping) -> dict[str, float]:
    """The blend's weights chosen on the buyers of ``month`` (models fitted before it)."""
    users, truth = _test_truth(inter, month)
    if not len(users):
        return {"popularity": 1.0}
    return choose_weights(recommender_at(inter, segment, month, **fit), users, truth, k=k)


def used_components(weights: Mapping[str, float]) -> list[str]:
    """The models a blend with these weights reads (non-zero weight)."""
    return [c for c in COMPONENTS if weights.get(c)]


def _test_truth(inter: Interactions, month: Month):
    p = inter.purchases
    sel = (p["time"].to_numpy() >= np.datetime64(month.start, "ns")) & (p["time"].to_numpy() < np.datetime64(month.end, "ns"))
    users = np.unique(p["user"].to_numpy()[sel])
    t = truth_matrix(p["user"].to_numpy()[sel], p["item"].to_numpy()[sel], inter.n_users, inter.catalogue.n)
    return users, t[users]


def choose_weights(rec: Recommender, users: np.ndarray, truth, k: int = 20,
                   grid: Sequence[float] = WEIGHT_GRID, chunk: int = 20_000) -> dict[str, float]:
    """Blend weights by coordinate ascent on recall@``k`` (two passes over the models, the grid
    ``grid`` for each, popularity's weight starting at 1)."""
    comps = [c for c in COMPONENTS if rec.fitted(c)]
    parts = rec.blend_parts(users, components=comps)
    w = dict.fromkeys(comps, 0.0)
    w["popularity"] = 1.0

    def score(weights):
        lists = np.empty((len(users), min(k, rec.history.n_items)), np.int64)

        def one(s: int) -> None:
            lists[s:s + chunk] = top_k(parts.scores(weights, slice(s, s + chunk)), k)

        in_chunks(one, range(0, len(users), chunk))
        return per_user_metrics(lists, truth)[f"recall@{k}"].mean()

    best = score(w)
    for _ in range(2):
        for c in comps:
            for g in grid:
                trial = {**w, c: g}
                if not any(trial.values()):
                    continue
                v = score(trial)
                if v > best + 1e-12:
                    best, w = v, trial
    return {c: float(v) for c, v in w.items() if v}


def _eval_segments(inter: Interactions, users: np.ndarray, month: Month, rfm: pd.Series | None) -> pd.DataFrame:
    p = inter.purchases
    before = p.loc[p["time"].to_numpy() < np.datetime64(month.start, "ns")]
    n_ch = before.groupby("user")["channel"].nunique().reindex(users).fillna(0).to_numpy()
    mix = np.where(n_ch == 0, "new", np.where(n_ch == 1, "single-channel", "omnichannel"))
    out = pd.DataFrame({"new_vs_returning": np.where(n_ch == 0, "new", "returning"), "channel_mix": mix})
    out["rfm_class"] = (rfm.reindex(inter.users[users]).fillna("new").to_numpy() if rfm is not None else "n/a")
    return out


def analyse_month(
    workspace: Workspace,
    month: Month | str | None = None,
    *,
    k: int = 20,
    factors: int = 32,
    iterations: int = 15,
    half_life_days: float = 60.0,
    exclude_days: float = 30.0,
    max_per_category: int = 4,
    n_boot: int = 200,
    seed: int = 7,
    single_channels: Sequence[str] = SINGLE_CHANNELS,
    threads: int = 1,
    write_table: bool = True,
    eval_people: int | None = EVAL_PEOPLE,
) -> RecommendResult:
    """Recommendations at the end of ``month``: models compared on ``month``, lists for the next.

    Parameters
    ----------
    workspace : Workspace
    month : Month or str, optional
        ``YYYY-MM``; default the last complete month.
    k : int
        List length (the top-k table and recall@k).
    factors, iterations : int
        ALS/BPR latent factors and iterations.
    half_life_days : float
        Recency half-life of purchases (views: half of it).
    exclude_days : float
        Business rule: nothing bought in the last days (except repeat items).
    max_per_category : int
        Business rule: at most this many SKUs of one category per list.
    n_boot, seed : int
        Paired bootstrap replicates over people and their seed (also ALS/BPR's ``random_state``).
    single_channels : sequence of str
        Channels of the omnichannel-vs-single-channel comparison.
    threads : int
        Threads of ``implicit`` (0: all cores; 1 is fastest on a busy 2-core machine).
    write_table : bool
        Write the top-k table to the cache (:func:`omni.recommend.topk.write_topk`).
    eval_people : int or None
        The comparison, the blend's weights and the single-channel fits use at most this many
        people with any purchase or view, drawn at random (``seed``) with all their history; the
        lists are always fitted on everyone. ``None``: everyone.
    """
    t0 = time.perf_counter()
    month = Month.parse(month or workspace.last_complete_month())
    inter, profiles = load_interactions(workspace, month)
    segment = _segments(profiles, inter.users)
    fit = {"factors": factors, "iterations": iterations, "half_life_days": half_life_days, "seed": seed,
           "threads": threads}
    # 3. (started first) BPR for the lists, the longest fit, on everyone on a thread of its own
    # while the weights are chosen and the models compared on the sample; stopped after its next
    # epoch if the weights leave it out. Each fit is deterministic on its own threads (see
    # fit_recommender), and BLAS stays on one thread per caller throughout.
    final_h = history_at(inter.purchases, inter.views, inter.n_users, inter.catalogue.n, month.next.start,
                         half_life_days=half_life_days)
    stop = threading.Event()
    with threadpool_limits(1, "blas"), ThreadPoolExecutor(1) as background:
        _import_implicit()
        bpr = background.submit(fit_factors, "bpr", final_h, factors=factors, iterations=iterations, seed=seed,
                                threads=threads, stop=stop)
        # the rest runs on the other core(s) until BPR is done, so that BPR (the longest path) keeps one
        release = reserve_core()
        bpr.add_done_callback(lambda _: release())
        try:
            ev, ev_segment = _evaluation_people(inter, profiles, segment, eval_people, seed)
            # 1. validation month: the blend's weights
            weights = _weights_on(ev, ev_segment, month.previous, k, fit)
            used = used_components(weights)
            if "bpr" not in used:
                stop.set()
            # 2. test month: every model, the oracle, per segment, single channel
            result = _compare(workspace, month, inter, ev, ev_segment, weights, k, fit, exclude_days,
                              max_per_category, n_boot, seed, single_channels, eval_people)
            # 3. the lists' other models (ALS beside BPR's last epochs); BPR's factors waited for
            final = recommender_at(inter, segment, month.next, components=used, history=final_h,
                                   fitted={"bpr": bpr.result} if "bpr" in used else None, **fit)
        finally:
            stop.set()  # a no-op once BPR is done; otherwise (an error above) it ends within an epoch
            release()
        if "bpr" not in used:
            with contextlib.suppress(FitStopped):
                bpr.result()
    del final_h
    final.weights = weights
    lists = topk_lists(final, inter, profiles, month.next, k=k, exclude_days=exclude_days,
                       max_per_category=max_per_category)
    del final
    result.opted_out = lists.opted_out
    result.tables["by_segment_category"] = _what_is_recommended(lists, inter.catalogue, profiles)
    result.examples = _examples(inter, lists, month)
    if write_table:  # block by block, never whole (at 5M persons about 320 M rows)
        result.topk_path = write_topk(workspace, month, lists_blocks(lists, inter.catalogue),
                                      {"weights": weights, **result.settings},
                                      people=int((lists.items >= 0).any(axis=1).sum()))
    else:
        result.topk_table = lists_table(lists, inter.catalogue)
    result.seconds = time.perf_counter() - t0
    return result


def _compare(workspace: Workspace, month: Month, inter: Interactions, ev: Interactions,
             ev_segment: tuple[np.ndarray, np.ndarray], weights: dict[str, float], k: int, fit: Mapping,
             exclude_days: float, max_per_category: int, n_boot: int, seed: int,
             single_channels: Sequence[str], eval_people: int | None) -> RecommendResult:
    """2. The test month ``month`` on the evaluation people ``ev``: every model, the oracle, per
    segment, single channel (the result without the lists)."""
    rec = recommender_at(ev, ev_segment, month, **fit)
    rec.weights = weights
    users, truth = _test_truth(ev, month)
    models = [c for c in COMPONENTS if rec.fitted(c)]
    recs = {m: rec.recommend(m, users, k) for m in [*models, "blend"]}
    train_counts = np.asarray(rec.history.count.sum(axis=0)).ravel()
    oracle, mapped = (None, None)
    if workspace.has_truth():
        oracle, mapped = oracle_lists(workspace, month, ev, users, k)
        recs["oracle"] = oracle
    per_user = {m: per_user_metrics(r, truth) for m, r in recs.items()}
    rfm = _rfm(workspace, month)
    seg = _eval_segments(ev, users, month, rfm)
    result = RecommendResult(month=month, settings={"k": k, **fit, "exclude_days": exclude_days,
                                                    "max_per_category": max_per_category, "n_boot": n_boot,
                                                    "eval_people": eval_people},
                             weights=weights, n_users=len(users), n_items=inter.catalogue.n,
                             eval_people=ev.n_users, all_people=inter.n_users)
    result.tables["reconciliation"] = inter.reconciliation
    result.tables["models"] = _model_table(per_user, recs, inter.catalogue.n, train_counts, n_boot, seed)
    result.tables["segments"] = _segment_table(per_user, seg, ["popularity", "blend"])
    if oracle is not None:
        result.tables["oracle_gap"] = _gap_table(result.tables["models"])
        result.oracle_mapped = float(mapped.mean()) if len(mapped) else float("nan")
    result.tables["single_channel"] = _single_channel(ev, ev_segment, month, users, truth, rec, k, fit,
                                                      single_channels, n_boot, seed)
    return result


def _import_implicit() -> None:
    """Import ``implicit``'s CPU models in this thread, before threads fit them (two threads
    importing one module at once can deadlock)."""
    import implicit.cpu.als
    import implicit.cpu.bpr  # noqa: F401


def _rfm(ws: Workspace, month: Month) -> pd.Series | None:
    try:
        from omni.value.customer import customer_rfm

        seg = customer_rfm(ws, month.previous, resolution=month).segments
        return seg["segment_en"].astype(str)
    except (ValueError, KeyError):  # no paid order before the month
        return None


def _model_table(per_user, recs, n_items, train_counts, n_boot, seed) -> pd.DataFrame:
    rows = []
    boots = {m: paired_bootstrap({x: per_user[x][m].to_numpy() for x in per_user}, "popularity",
                                 n_boot=n_boot, seed=seed) for m in per_user["popularity"].columns}
    for model in per_user:
        row = {"model": model}
        for metric, b in boots.items():
            row[metric] = b.loc[model, "mean"]
            row[f"{metric} low"], row[f"{metric} high"] = b.loc[model, "ci_low"], b.loc[model, "ci_high"]
        b = boots["recall@20"]
        row["lift@20"], row["lift@20 low"], row["lift@20 high"] = (b.loc[model, "lift"], b.loc[model, "lift_low"],
                                                                   b.loc[model, "lift_high"])
        row.update(list_metrics(recs[model], n_items, train_counts))
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")


def _gap_table(models: pd.DataFrame) -> pd.DataFrame:
    pop, orc = models.loc["popularity", "recall@20"], models.loc["oracle", "recall@20"]
    gap = orc - pop
    out = pd.DataFrame({"recall@20": models["recall@20"]})
    out["gap closed"] = (models["recall@20"] - pop) / gap if gap > 0 else np.nan
    return out.drop(index="oracle")


def _segment_table(per_user, seg: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    rows = []
    for col in seg.columns:
        for value, idx in seg.groupby(col).indices.items():
            row = {"segment": col, "value": value, "people": len(idx)}
            for m in models:
                row[f"{m} recall@20"] = per_user[m]["recall@20"].to_numpy()[idx].mean()
            rows.append(row)
    return pd.DataFrame(rows)


def _single_channel(inter, segment, month, users, truth, omni_rec, k, fit, channels, n_boot, seed) -> pd.DataFrame:
    """The blend fitted on one channel's orders only against the omnichannel blend (``omni_rec``,
    the test month's recommender with the blend's weights), on the people with an order in that
    channel before the month (paired, same truth: all their purchases)."""
    p = inter.purchases
    before = p.loc[p["time"].to_numpy() < np.datetime64(month.start, "ns")]
    weights = omni_rec.weights
    single_weights = {c: w for c, w in weights.items() if c != "coview"}
    rows = []
    for ch in channels:
        had = np.unique(before.loc[before["channel"].to_numpy() == ch, "user"].to_numpy())
        sel = np.isin(users, had)
        if sel.sum() < 5:
            continue
        u = users[sel]
        single = recommender_at(inter, segment, month, channel=ch, components=used_components(single_weights), **fit)
        single.weights = single_weights
        r_omni = per_user_metrics(omni_rec.recommend("blend", u, k), truth[np.flatnonzero(sel)])
        r_single = per_user_metrics(single.recommend("blend", u, k), truth[np.flatnonzero(sel)])
        b = paired_bootstrap({"single": r_single["recall@20"].to_numpy(), "omni": r_omni["recall@20"].to_numpy()},
                             "single", n_boot=n_boot, seed=seed)
        rows.append({"channel": ch, "people": int(sel.sum()), "single-channel recall@20": b.loc["single", "mean"],
                     "omnichannel recall@20": b.loc["omni", "mean"], "lift": b.loc["omni", "lift"],
                     "lift low": b.loc["omni", "lift_low"], "lift high": b.loc["omni", "lift_high"]})
    return pd.DataFrame(rows)


def _what_is_recommended(lists: Lists, catalogue, profiles: pd.DataFrame) -> pd.DataFrame:
    """Share of each category among the top 3 of the lists, per channel mix (``all`` without it):
    the crosstab of the top-3 rows of the top-k table, from the item codes per person."""
    top3 = lists.items[:, :3]
    listed = top3 >= 0
    if not listed.any():
        return pd.DataFrame()
    if "channel_mix" in profiles:
        seg = pd.Series(profiles["channel_mix"].to_numpy()[lists.profile_row]).astype(str).to_numpy()
    else:
        seg = np.full(len(lists.people), "all", dtype=object)
    seg_codes, seg_names = pd.factorize(seg, sort=True)
    cat_codes, cat_names = catalogue.category_codes
    person = np.broadcast_to(seg_codes[:, None], top3.shape)[listed]
    category = cat_codes[top3[listed]]
    counts = np.bincount(person * len(cat_names) + category, minlength=len(seg_names) * len(cat_names))
    counts = counts.reshape(len(seg_names), len(cat_names))
    rows, cols = np.flatnonzero(counts.sum(axis=1) > 0), np.flatnonzero(counts.sum(axis=0) > 0)
    counts = counts[np.ix_(rows, cols)]
    out = pd.DataFrame(counts / counts.sum(axis=1, keepdims=True),
                       index=pd.Index(np.asarray(seg_names, dtype=object)[rows], name="segment"),
                       columns=pd.Index(np.asarray(cat_names, dtype=object)[cols], name="category"))
    return out


def _examples(inter: Interactions, lists: Lists, month: Month, n: int = 3) -> pd.DataFrame:
    """Three people with the longest histories: masked OneID, their recent categories, their top-5."""
    from omni.privacy import mask_id

    p = inter.purchases
    counts = p.groupby("user").size().sort_values(ascending=False, kind="stable")
    people = lists.people.to_numpy()  # sorted: a person's row by binary search
    rows = []
    cat = inter.catalogue.table
    skus, cats = cat["sku"].astype(str).to_numpy(), cat["category"].astype(str).to_numpy()
    for u in counts.index:
        oid = inter.users[u]
        row = int(np.searchsorted(people, oid))
        if row == len(people) or people[row] != oid or not (lists.items[row] >= 0).any():
            continue  # no list (opted out, or no SKU may be shown)
        hist = p.loc[p["user"].to_numpy() == u].sort_values("time").tail(5)
        top = lists.items[row][lists.items[row] >= 0][:5]
        rows.append({"person": mask_id(pd.Series([oid])).iloc[0], "orders to date": int(counts[u]),
                     "recent purchases": ", ".join(cat["sku"].to_numpy()[hist["item"]] + " (" +
                                                   cat["category"].astype(str).to_numpy()[hist["item"]] + ")"),
                     "recommended next": ", ".join(skus[top] + " (" + cats[top] + ")")})
        if len(rows) >= n:
            break
    return pd.DataFrame(rows)
