"""Health checks of a resolution that need no truth, and the naive baseline for comparison."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from omni.oneid.graph import bipartite_components
from omni.oneid.resolve import Resolution

SIZE_BINS = [0, 1, 2, 5, 10, 20, 50, 100, 1000, np.inf]
SIZE_LABELS = ["1", "2", "3-5", "6-10", "11-20", "21-50", "51-100", "101-1000", ">1000"]


def cluster_size_distribution(oneid: pd.Series) -> pd.DataFrame:
    """Profiles and records by profile size (records per OneID).

    Returns
    -------
    DataFrame
        ``size`` bucket, ``profiles``, ``records``, ``share_profiles``, ``share_records``.
    """
    sizes = pd.Series(oneid).value_counts()
    bucket = pd.cut(sizes, SIZE_BINS, labels=SIZE_LABELS)
    out = pd.DataFrame({"profiles": sizes.groupby(bucket, observed=False).size(),
                        "records": sizes.groupby(bucket, observed=False).sum()})
    out["share_profiles"] = out["profiles"] / max(out["profiles"].sum(), 1)
    out["share_records"] = out["records"] / max(out["records"].sum(), 1)
    return out.rename_axis("size").reset_index()


def identifiers_per_profile(res: Resolution, oneid: pd.Series | None = None) -> pd.DataFrame:
    """Distinct linking identifier values per profile, by type.

    Returns
    -------
    DataFrame
        per ``id_type``: ``profiles_with`` (profiles holding at least one), ``mean``, ``p50``,
        ``p99``, ``max`` (over profiles holding one), ``share_more_than_one``.
    """
    cl = res.records["cluster"].to_numpy() if oneid is None else pd.factorize(np.asarray(oneid))[0]
    status = res.values["status"].astype(str).to_numpy()
    e = res.edges[np.isin(status[res.edges["val"].to_numpy()], ["strong", "weak"])]
    df = pd.DataFrame({"cl": cl[e["rec"].to_numpy()], "val": e["val"].to_numpy()}).drop_duplicates()
    df["id_type"] = res.values["id_type"].astype(str).to_numpy()[df["val"].to_numpy()]
    n = df.groupby(["id_type", "cl"]).size()
    g = n.groupby(level="id_type")
    return pd.DataFrame({
        "profiles_with": g.size(),
        "mean": g.mean(),
        "p50": g.quantile(0.5),
        "p99": g.quantile(0.99),
        "max": g.max(),
        "share_more_than_one": g.apply(lambda s: float((s > 1).mean())),
    }).reset_index()


def merge_rates(oneid: pd.Series, source: pd.Series) -> pd.DataFrame:
    """Share of records of source *row* whose OneID also holds a record from source *column*.

    Returns
    -------
    DataFrame
        Square, sources x sources, values in [0, 1]; the diagonal is the share of records whose
        profile holds another record of the same source.
    """
    o, _ = pd.factorize(np.asarray(oneid))
    s, names = pd.factorize(np.asarray(source))
    k = len(names)
    counts = csr_matrix((np.ones(len(o)), (o, s)), shape=(int(o.max()) + 1 if len(o) else 0, k))
    present = counts.copy()
    present.data = np.ones_like(present.data)
    both = (counts.T @ present).toarray()
    # diagonal: records in profiles with >= 2 records of that source
    c = counts.toarray() if counts.shape[0] < 2_000_000 else None
    diag = (np.where(c >= 2, c, 0).sum(axis=0) if c is not None
            else np.asarray(counts.multiply(counts >= 2).sum(axis=0)).ravel())
    np.fill_diagonal(both, diag)
    total = np.asarray(counts.sum(axis=0)).ravel()
    rates = both / np.where(total == 0, 1, total)[:, None]
    return pd.DataFrame(rates, index=pd.Index(names, name="source"), columns=pd.Index(names, name="with"))


def largest_clusters(res: Resolution, oneid: pd.Series | None = None, k: int = 10) -> pd.DataFrame:
    """The ``k`` largest profiles with their identifier counts and bridging identifiers.

    A bridging identifier is an articulation point of the profile's record-identifier graph: removing
    it would split the profile. These are where an over-merge would come from.

    Returns
    -------
    DataFrame
        ``cluster``, ``records``, ``sources``, ``<type>`` counts, ``bridges`` (list of
        ``(id_type, value index)``), ``n_bridges``.
    """
    cl = res.records["cluster"].to_numpy() if oneid is None else pd.factorize(np.asarray(oneid))[0]
    sizes = pd.Series(cl).value_counts().head(k)
    status = res.values["status"].astype(str).to_numpy()
    linking = np.isin(status, ["strong", "weak"])
    e = res.edges[linking[res.edges["val"].to_numpy()]]
    e_cl = cl[e["rec"].to_numpy()]
    vtype = res.values["id_type"].astype(str).to_numpy()
    src = res.records["source"].astype(str).to_numpy()
    rows = []
    for c, n in sizes.items():
        ee = e[e_cl == c]
        g = nx.Graph()
        g.add_edges_from(zip(("r" + ee["rec"].astype(str)).tolist(), ("v" + ee["val"].astype(str)).tolist(), strict=True))
        bridges = sorted(int(x[1:]) for x in nx.articulation_points(g) if x[0] == "v") if len(ee) else []
        row = {"cluster": int(c), "records": int(n),
               "sources": ", ".join(sorted(set(src[cl == c])))}
        for t, cnt in pd.Series(vtype[np.unique(ee["val"].to_numpy())]).value_counts().items():
            row[t] = int(cnt)
        row["bridges"] = [(vtype[b], b) for b in bridges]
        row["n_bridges"] = len(bridges)
        rows.append(row)
    out = pd.DataFrame(rows)
    counts = [c for c in out.columns if c not in ("cluster", "records", "sources", "bridges", "n_bridges")]
    out[counts] = out[counts].fillna(0).astype(int)
    return out


def rule_impact(res: Resolution) -> pd.DataFrame:
    """What each rule held back: values by status and reason, and the records they sit on.

    Returns
    -------
    DataFrame
        ``status``, ``reason``, ``id_type``, ``values``, ``records`` (identifier occurrences).
    """
    v = res.values
    held = v[~v["status"].astype(str).isin(["strong", "weak"])]
    out = (held.assign(reason=held["reason"].fillna(""))
           .groupby(["status", "reason", "id_type"], observed=True)
           .agg(values=("value", "size"), records=("n_records", "sum")).reset_index())
    if len(res.invalid):
        inv = (res.invalid.assign(reason=res.invalid["reason"].fillna("invalid"))
               .groupby(["reason", "id_type"]).size().rename("records").reset_index())
        inv["status"] = "invalid"
        inv["values"] = np.nan
        out = pd.concat([out, inv[out.columns]], ignore_index=True)
    return out.sort_values("records", ascending=False).reset_index(drop=True)


def naive_clusters(ids: pd.DataFrame, records: pd.DataFrame) -> np.ndarray:
    """Baseline: connect every record pair that shares any non-empty identifier string.

    Uses the normalized value where there is one and the trimmed, lower-cased raw value otherwise
    (so ``null``, ``13800000000`` and a kiosk device glue records together, as a naive join does).

    Returns
    -------
    ndarray
        Cluster label per row of ``records``.
    """
    keys = pd.Index(records["record_key"])
    raw = ids["raw"].astype("string").str.strip().str.lower()
    val = ids["value"].astype("string").fillna(raw)
    ok = val.notna() & (val != "")
    key = ids.loc[ok, "id_type"].astype(str) + "\x1f" + val[ok].astype(str)
    vcode, uniq = pd.factorize(key)
    rec = keys.get_indexer(ids.loc[ok, "record_key"])
    return bipartite_components(rec, vcode, len(keys), len(uniq))
