"""``analyse_month``: resolve a month's records to people and measure how it went."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omni.core.month import Month
from omni.core.strings import equals_text
from omni.engine import query
from omni.identity import accuracy, health
from omni.identity.result import KNOWN_HOW, IdentityResult
from omni.memory import release_memory
from omni.oneid.baseline import naive_clusters
from omni.oneid.explain import Explanation, explain
from omni.oneid.resolve import Resolution
from omni.workspace import Resolved, Workspace

__all__ = ["MODEL_PARAMETER_COLUMNS", "analyse_month", "previous_figures"]

#: Columns of the ``model_parameters`` table (one row per comparison level).
MODEL_PARAMETER_COLUMNS = ["comparison", "label", "m_probability", "u_probability", "match_weight"]


def analyse_month(workspace: Workspace, month: str | Month | None = None, *, largest: int = 8,
                  platform_source: str = "ecom_orders") -> IdentityResult:
    """Resolve the records up to the end of ``month`` and describe the resolution.

    Parameters
    ----------
    workspace : Workspace
        The dataset (``omni.open(path)``).
    month : str or Month, optional
        Report month ``YYYY-MM``; the last complete month in the data when None.
    largest : int
        How many of the largest OneIDs the ``largest`` table lists.
    platform_source : str
        The platform-order source whose linkage (by rule, by probability, not at all) is shown.

    Returns
    -------
    IdentityResult
        Headline counts, the tables of :data:`omni.identity.result.TABLES` (the accuracy tables only
        when the dataset has a truth), the resolution's warnings and two explained examples.
    """
    month = Month.parse(month if month is not None else workspace.last_complete_month())
    r = workspace.resolve(as_of=str(month))
    # one read of record_oneid: the view's records (key, source, how and the OneID as an integer
    # code) stand for it everywhere below; the OneID strings (20 M at 1M persons) are never held
    res = r.resolution()
    ro = res.records
    cl = ro["cluster"].to_numpy()  # the OneID of each record as an integer code
    n_rec = len(ro)
    how_rec = health.labels(ro["how"])
    n_none = int((how_rec == "none").sum())
    n_profiles = int(cl.max()) + 1 if len(cl) else 0
    # each OneID once: known (a person-level strong id), platform-only (an unbound platform account) or anonymous
    known = _clusters_of(cl, np.isin(how_rec, list(KNOWN_HOW)), n_profiles)
    account = _clusters_of(cl, how_rec == "account", n_profiles)
    del how_rec
    platform_only = int(len(np.setdiff1d(account, known, assume_unique=True)))
    naive = _naive(workspace, r, res)
    tables = _health_tables(r, res, largest, platform_source)
    res.__dict__.pop("_linking_edges", None)  # the health tables' cache (28 M edges at 1M persons)
    release_memory()
    tables["naive_comparison"] = _naive_comparison(cl, naive)
    result = IdentityResult(
        month=month,
        settings={"largest": largest, "platform_source": platform_source},
        tables=tables,
        records=n_rec,
        profiles=n_profiles,
        known_people=len(known),
        platform_only=platform_only,
        anonymous_profiles=int(n_profiles - len(known) - platform_only),
        multi_source_share=_multi_source_share(cl, ro["source"]),
        anonymous_share=float(n_none / n_rec),
        warnings=list(r.summary.get("warnings", [])),
        probabilistic=dict(r.summary.get("probabilistic") or {}),
        examples=_examples(res, int(tables["largest"]["cluster"].iloc[0])) if len(tables["largest"]) else [],
        resolved=r,
        resolution=res,
    )
    release_memory()  # the examples' scratch, before the truth scoring
    result.previous_figures = previous_figures(workspace, month.previous)
    result.tables.update(_truth_tables(result, workspace, naive))
    result.tables["largest"] = _shown_largest(tables["largest"], r, res)
    return result


def previous_figures(workspace: Workspace, month: Month) -> dict[str, Any] | None:
    """The counts of the headline (records, known people, platform-only buyers, anonymous
    profiles, OneIDs, records per OneID, multi-source and anonymous shares) of the resolution as of
    ``month`` when one was made already (the previous month's, built for stable OneIDs), without
    the truth scoring; None when there is none (a month is never resolved for this).

    A few engine queries over the resolution's files: the OneIDs of the strong- and account-linked
    records, a count of the records, and the per-source counts of ``profiles`` (one row per OneID).
    """
    r = workspace.cached_resolution(str(month))
    if r is None:
        return None
    ro = {"ro": r.engine_table("record_oneid")}
    strong = ", ".join("'" + h.replace("'", "''") + "'" for h in KNOWN_HOW)
    # known people and platform-only buyers: the OneIDs of the strong- and account-linked records only
    ids = query(f"""
        SELECT count(DISTINCT oneid) FILTER (WHERE how IN ({strong})) AS known, count(DISTINCT oneid) AS either
        FROM ro WHERE how IN ({strong}, 'account')""", ro).iloc[0]
    recs = query("SELECT count(*) AS n, count(*) FILTER (WHERE how = 'none') AS n_none FROM ro", ro).iloc[0]
    profiles = r.engine_table("profiles")
    per_source = _profile_source_columns(profiles)
    if per_source:  # one row per OneID with its records per source: no aggregate over the records
        multi = " + ".join(f'("{c}" > 0)::INT' for c in per_source)
        got = query(f"SELECT count(*) AS profiles, avg(({multi} >= 2)::INT) AS multi FROM p", {"p": profiles}).iloc[0]
    else:
        got = query("""SELECT count(*) AS profiles, avg(multi) AS multi FROM (
                           SELECT (min(source) <> max(source))::INT AS multi FROM ro GROUP BY oneid)""", ro).iloc[0]
    n_rec, n_prof = int(recs["n"]), int(got["profiles"])
    if not n_rec or not n_prof:
        return None
    known_n = int(ids["known"])
    platform = int(ids["either"]) - known_n
    return {"records": n_rec, "profiles": n_prof, "known_people": known_n, "platform_only": platform,
            "anonymous_profiles": n_prof - known_n - platform, "records_per_profile": n_rec / n_prof,
            "multi_source_share": float(got["multi"]), "anonymous_share": int(recs["n_none"]) / n_rec}


def _profile_source_columns(profiles: Path | pd.DataFrame) -> list[str]:
    """The per-source record counts (``n_<source>``) of a resolution's ``profiles`` table (none
    when it has no ``n_records``: an older layout)."""
    if isinstance(profiles, pd.DataFrame):
        names = list(profiles.columns)
    else:
        import pyarrow.parquet as pq

        try:
            names = pq.read_schema(profiles).names
        except (OSError, ValueError):
            return []
    if "n_records" not in names:
        return []
    return [c for c in names if c.startswith("n_") and c != "n_records"]


def _naive(workspace: Workspace, r: Resolved, res: Resolution) -> np.ndarray:
    """The naive baseline's cluster per record: computed with the resolution (``r.naive``); for a
    resolution made without it (a report's previous month), from the loaded dataset's identifier
    table when the workspace holds it, else from the sources one at a time
    (:meth:`omni.workspace.Workspace.naive_baseline`)."""
    ro = res.records
    if len(r.naive) == len(ro) and "naive" in r.naive.columns:
        return r.naive["naive"].to_numpy()
    if workspace._dataset is None and r.summary.get("records") == len(ro):
        return workspace.naive_baseline(r.summary.get("as_of"))
    return naive_clusters(workspace.ids[workspace.ids["record_key"].isin(ro["record_key"])], ro[["record_key"]])


def _health_tables(r: Resolved, res: Resolution, largest: int, platform_source: str) -> dict[str, pd.DataFrame]:
    # the view's records (record_key, source, how, cluster) serve for record_oneid; the OneID
    # strings only where the source column is not categorical (records_by_source counts them)
    ro = res.records if isinstance(res.records["source"].dtype, pd.CategoricalDtype) else r.record_oneid
    big = health.largest_clusters(res, k=largest)
    stage = r.summary.get("probabilistic") or {}
    mu = pd.DataFrame(stage.get("model_parameters", []) if stage.get("status") != "failed" else [])
    mu = (mu.dropna(subset=["m_probability"])[MODEL_PARAMETER_COLUMNS] if len(mu)
          else pd.DataFrame(columns=MODEL_PARAMETER_COLUMNS))
    cl = res.records["cluster"].to_numpy()
    return {
        "by_source": health.records_by_source(ro, cluster=cl),
        "merge_rates": health.merge_rates(cl, ro["source"]),
        "profile_sizes": health.cluster_size_distribution(cl),
        "identifiers_per_profile": health.identifiers_per_profile(res),
        "largest": big,
        "cluster_edges": health.cluster_edges(res, int(big["cluster"].iloc[0])) if len(big) else pd.DataFrame(),
        "rule_impact": health.rule_impact(res),
        "limit_removals": health.limit_removals(r.removals),
        "platform_linkage": health.linkage_summary(ro, platform_source),
        "model_parameters": mu,
        "oneid_changes": health.oneid_changes(_columns(r, "changes", ["change"])),
    }


def _columns(r: Resolved, name: str, columns: list[str]) -> pd.DataFrame:
    """Some columns of one of ``r``'s frames (the whole frame when it lacks one of them), read
    without holding the rest (``changes`` and ``links`` carry a OneID string per row)."""
    src = r.engine_table(name)
    if isinstance(src, pd.DataFrame):
        have = list(src.columns)
    else:
        import pyarrow.parquet as pq

        have = pq.read_schema(src).names if src.exists() else []
    return r.read(name, columns) if all(c in have for c in columns) else r[name]


def _shown_largest(big: pd.DataFrame, r: Resolved, res: Resolution) -> pd.DataFrame:
    """The largest profiles as shown: the OneID shortened in place of the cluster number, no bridge list."""
    show = big.drop(columns=["bridges"]).copy()
    cl = res.records["cluster"].to_numpy()
    first = pd.Series(np.arange(len(cl))).groupby(cl).first()
    keys = [str(res.records["record_key"].iloc[int(first[c])]) for c in big["cluster"]]
    # the OneIDs of these few records only, filtered as the file is read (not 100 M strings at 5M)
    got = r.read("record_oneid", ["record_key", "oneid"], filters=[("record_key", "in", keys)])
    oneid = dict(zip(got["record_key"].astype(str), got["oneid"].astype(str), strict=True))
    show["cluster"] = [health.short_oneid(oneid[k]) for k in keys]
    return show.rename(columns={"cluster": "oneid"})


def _clusters_of(cl: np.ndarray, mask: np.ndarray, n_clusters: int) -> np.ndarray:
    """The clusters (sorted, each once) of the records ``mask`` selects: ``np.unique`` by a
    flag per cluster, without sorting the records (20 M at 1M persons)."""
    flag = np.zeros(n_clusters, dtype=bool)
    flag[cl[mask]] = True
    return np.flatnonzero(flag)


def _multi_source_share(cl: np.ndarray, source: pd.Series) -> float:
    """Share of OneIDs (integer codes ``cl``) whose records come from two or more sources."""
    if not len(cl):
        return float("nan")
    s = (source.cat.codes.to_numpy() if isinstance(source.dtype, pd.CategoricalDtype)
         else pd.factorize(source)[0]).astype(np.int64)
    per_oneid = health.distinct_per_group(cl.astype(np.int64), s, int(cl.max()) + 1)
    return float((per_oneid > 1).mean())


def _naive_comparison(cl: np.ndarray, naive: np.ndarray) -> pd.DataFrame:
    naive_sizes = pd.Series(naive).value_counts()
    sizes = np.bincount(cl) if len(cl) else np.zeros(1, dtype=np.int64)
    return pd.DataFrame({
        "graph": ["omni rules", "naive: connect every shared value"],
        "profiles": [int((sizes > 0).sum()), len(naive_sizes)],
        "largest profile (records)": [int(sizes.max()), int(naive_sizes.max())],
    })


def _truth_tables(result: IdentityResult, workspace: Workspace, naive: np.ndarray) -> dict[str, pd.DataFrame]:
    """The accuracy tables (empty without a truth); the naive comparison gains precision and recall."""
    if not workspace.has_truth():
        return {}
    r = result.resolved
    truth = workspace.truth_codes(str(result.month))  # integer keys: one join in the engine
    result.true_people = int(np.count_nonzero(np.bincount(truth[truth >= 0])))
    ro = result.resolution.records  # record_key, source, how, cluster: what the scores read of record_oneid
    acc = accuracy.accuracy_table(ro, result.resolution, truth)
    tables: dict[str, Any] = {"accuracy": acc, "source_pairs": accuracy.source_pair_accuracy(
        ro, truth, cluster=ro["cluster"].to_numpy())}
    nv = accuracy.naive_accuracy(ro, naive, truth)
    cmp = result.tables["naive_comparison"]  # rows: the rules (strong-id scores of acc), the naive graph
    cmp["pairwise precision"] = [float(acc["precision"].iloc[0]), nv["precision"]]
    cmp["pairwise recall"] = [float(acc["recall"].iloc[0]), nv["recall"]]
    links = _columns(r, "links", ["account_record", "target_record"])
    if len(links):
        tables["link_accuracy"] = accuracy.link_accuracy(links, workspace.truth_path("record_person"))
    return tables


def _examples(res: Resolution, cluster: int) -> list[Explanation]:
    """Two explained pairs: the first two records of ``cluster`` (linked), and two records on the
    most shared value that the rules kept apart.

    Each pair is explained on the part of the resolution its explanation can reach
    (:func:`_explain_scope`), not on the whole record-identifier graph (at 1M persons, 20 M
    records and 28 M edges: GBs for two explanations)."""
    rk = res.records["record_key"]
    cl = res.records["cluster"].to_numpy()
    recs = np.flatnonzero(cl == cluster)
    pairs = [(int(recs[0]), int(recs[1]))] if len(recs) >= 2 else []
    shared = res.values[equals_text(res.values["status"], "shared")]
    if len(shared):
        v = int(shared["n_records"].idxmax())
        on = res.edges.loc[res.edges["val"] == v, "rec"].to_numpy()
        other = on[cl[on] != cl[on[0]]]
        if len(other):
            pairs.append((int(on[0]), int(other[0])))
    nodes = _explain_nodes(res) if pairs else None  # once for both pairs
    return [explain(_explain_scope(res, [a, b], nodes=nodes), str(rk.iloc[a]), str(rk.iloc[b])) for a, b in pairs]


def _explain_nodes(res: Resolution) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """The nodes of :func:`omni.oneid.explain.explain`'s graph: the valid values, then the invalid
    ones as it makes them (``omni.oneid.explain._node_tables``: by type and lower-cased raw
    text). Returns each invalid row's record and node, the number of nodes, and every node's
    degree (distinct records); made once for all the examples."""
    n_val = len(res.values)
    inv = res.invalid
    if len(inv):
        key = inv["id_type"].astype(str) + "\x1f" + inv["raw"].astype(str).str.strip().str.lower()
        codes = pd.factorize(key)[0]
        i_rec, i_node = inv["rec"].to_numpy(), n_val + codes
        n_nodes = n_val + int(codes.max()) + 1
        pairs = np.unique(i_rec.astype(np.int64) * n_nodes + i_node)  # degrees count distinct records
        degree = np.bincount(pairs % n_nodes, minlength=n_nodes)
        del key, pairs
    else:
        i_rec = i_node = np.zeros(0, dtype=np.int64)
        n_nodes = n_val
        degree = np.zeros(n_nodes, dtype=np.int64)
    degree[:n_val] += np.bincount(res.edges["val"].to_numpy(), minlength=n_val)
    return i_rec, i_node, n_nodes, degree


def _explain_scope(res: Resolution, starts: list[int], max_hops: int = 4, expand_max: int = 200,
                   nodes: tuple[np.ndarray, np.ndarray, int, np.ndarray] | None = None) -> Resolution:
    """The part of ``res`` that :func:`omni.oneid.explain.explain` reads to explain records
    ``starts`` (positions), as a resolution of its own with the same explanation.

    ``explain`` walks at most ``max_hops`` identifiers from each record, through identifiers held
    by at most ``expand_max`` records, over the nodes of ``explain``'s graph (valid values, and
    invalid raw values by type and lower-cased text). The same walk is made here on the edge
    arrays, and the scope keeps every node it meets with all of that node's edges: the nodes'
    degrees, the records met and their order are those of the whole graph, and records and nodes
    keep their relative order (the shortest path's ties break the same way).
    """
    e_rec, e_val = res.edges["rec"].to_numpy(), res.edges["val"].to_numpy()
    n_rec, n_val = len(res.records), len(res.values)
    inv = res.invalid
    i_rec, i_node, n_nodes, degree = nodes if nodes is not None else _explain_nodes(res)
    met = np.zeros(n_nodes, dtype=bool)
    for start in starts:  # explain's ego walk from each record
        seen_r = np.zeros(n_rec, dtype=bool)
        seen_v = np.zeros(n_nodes, dtype=bool)
        seen_r[start] = True
        frontier = np.array([start])
        for _ in range(max_hops):
            at = np.zeros(n_rec, dtype=bool)
            at[frontier] = True
            v = np.unique(np.r_[e_val[at[e_rec]], i_node[at[i_rec]]])
            v = v[~seen_v[v]]
            seen_v[v] = True
            small = np.zeros(n_nodes, dtype=bool)
            small[v[degree[v] <= expand_max]] = True
            r = np.unique(np.r_[e_rec[small[e_val]], i_rec[small[i_node]]])
            r = r[~seen_r[r]]
            if len(r) == 0:
                break
            seen_r[r] = True
            frontier = r
        met |= seen_v
    keep_e = met[:n_val][e_val]
    keep_i = met[i_node] if len(inv) else np.zeros(0, dtype=bool)
    recs = np.unique(np.r_[np.asarray(starts), e_rec[keep_e], i_rec[keep_i]])
    vals = np.flatnonzero(met[:n_val])
    records = res.records.iloc[recs].reset_index(drop=True)
    edges = pd.DataFrame({"rec": np.searchsorted(recs, e_rec[keep_e]), "val": np.searchsorted(vals, e_val[keep_e])})
    invalid = inv.iloc[np.flatnonzero(keep_i)].reset_index(drop=True) if len(inv) else inv
    if len(invalid):
        invalid["rec"] = np.searchsorted(recs, invalid["rec"].to_numpy())
    return Resolution(records=records, values=res.values.iloc[vals].reset_index(drop=True), edges=edges,
                      removals=res.removals, invalid=invalid, config=res.config, rule_counts=res.rule_counts)
