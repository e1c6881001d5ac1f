"""Health of a resolution that needs no truth: how records came together and what the rules held back.

Every function reads the tables of one resolution (``omni.workspace.Resolved`` and its
:class:`omni.oneid.resolve.Resolution` view) and returns a table in which no raw identifier appears:
sources, identifier types, rule names and counts, OneIDs shortened, identifier values masked
(:func:`omni.oneid.explain.mask_value`).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from omni.oneid.explain import mask_value
from omni.oneid.graph import unique_pairs
from omni.oneid.resolve import Resolution

__all__ = [
    "CHANGE_KINDS",
    "SIZE_BINS",
    "SIZE_LABELS",
    "cluster_edges",
    "distinct_per_group",
    "cluster_size_distribution",
    "identifiers_per_profile",
    "labels",
    "largest_clusters",
    "limit_removals",
    "linkage_summary",
    "merge_rates",
    "oneid_changes",
    "records_by_source",
    "rule_impact",
    "short_oneid",
]

SIZE_BINS = [0, 1, 2, 5, 10, 20, 50, 100, 1000, np.inf]
SIZE_LABELS = ["1", "2", "3-5", "6-10", "11-20", "21-50", "51-100", "101-1000", ">1000"]
#: How a OneID relates to last month's (``Resolved.changes``), in reading order.
CHANGE_KINDS = ["kept", "new", "merged_into", "split_from", "retired"]
_LINKING = ["strong", "weak"]


def labels(col: pd.Series) -> np.ndarray:
    """A column's values as an object array of strings, fast for categoricals (the categories'
    strings taken by code: no string is made per row, which at 20 M records takes seconds)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = np.asarray(col.cat.categories.astype(str), dtype=object)
        codes = col.cat.codes.to_numpy()
        return np.where(codes >= 0, cats[np.maximum(codes, 0)] if len(cats) else None, "nan")
    return col.astype(str).to_numpy()


def short_oneid(oneid: str) -> str:
    """A OneID shortened for display (its first four characters and an ellipsis)."""
    return str(oneid)[:4] + "…"


def records_by_source(record_oneid: pd.DataFrame, cluster: np.ndarray | None = None) -> pd.DataFrame:
    """Records per source, the OneIDs they belong to, and how they were linked.

    Parameters
    ----------
    record_oneid : DataFrame
        ``record_key``, ``oneid``, ``source``, ``how`` per record.
    cluster : ndarray of int, optional
        The OneID of each record as an integer code (``Resolution.records["cluster"]``): counts
        distinct OneIDs without hashing 20 M strings.

    Returns
    -------
    DataFrame
        ``source``, ``records``, ``oneids``, then one count column per ``how`` value (``strong``,
        ``weak``, ``probabilistic``, ``account``, ``none``: linked only by a platform account not
        bound to a person, or by nothing).
    """
    ro = record_oneid
    if cluster is None or not isinstance(ro["source"].dtype, pd.CategoricalDtype):
        out = ro.assign(how=ro["how"].astype(str)).pivot_table(
            index="source", columns="how", values="record_key", aggfunc="count", fill_value=0, observed=True)
        out.insert(0, "records", out.sum(axis=1))
        out.insert(1, "oneids", ro.groupby("source", observed=True)["oneid"].nunique())
        return out.reset_index()
    # the same table from integer codes: counts per (source, how) and distinct (source, OneID) pairs
    src = ro["source"].cat.codes.to_numpy().astype(np.int64)
    h_codes, h_names = pd.factorize(labels(ro["how"]))
    k_h = max(len(h_names), 1)
    cnt = np.bincount(src * k_h + h_codes, minlength=len(ro["source"].cat.categories) * k_h)
    small = pd.DataFrame({
        "source": pd.Categorical.from_codes(np.repeat(np.arange(len(ro["source"].cat.categories)), k_h),
                                            dtype=ro["source"].dtype),
        "how": np.tile(np.asarray(h_names, dtype=object), len(ro["source"].cat.categories)) if len(h_names)
        else np.array([], dtype=object),
        "n": cnt,
    })
    small = small[small["n"] > 0]
    out = small.pivot_table(index="source", columns="how", values="n", aggfunc="sum", fill_value=0, observed=True)
    out = out.astype(np.int64)
    out.insert(0, "records", out.sum(axis=1))
    per_src = distinct_per_group(src, np.asarray(cluster, dtype=np.int64), len(ro["source"].cat.categories))
    out.insert(1, "oneids", pd.Series(per_src[out.index.codes], index=out.index))
    return out.reset_index()


def distinct_per_group(group: np.ndarray, value: np.ndarray, n_groups: int) -> np.ndarray:
    """Distinct ``value`` (non-negative ints) per ``group`` code (0..n_groups-1): by marks on a
    groups x values boolean table when it is small (at 1M persons 10 sources x 3 M OneIDs: 30 MB,
    where numpy's ``np.unique`` of 20 M pairs took 8 s), else by a sort of the pairs
    (:func:`omni.oneid.graph.unique_pairs`)."""
    width = int(value.max()) + 1 if len(value) else 1
    if n_groups * width <= 1 << 28:
        seen = np.zeros(n_groups * width, dtype=bool)
        seen[group.astype(np.int64) * width + value] = True
        return seen.reshape(n_groups, width).sum(axis=1)
    return np.bincount(unique_pairs(group, value, width)[0], minlength=n_groups)


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


def _linking_edges(res: Resolution) -> pd.DataFrame:
    """The edges on a linking (strong or weak) value; computed once per resolution and kept on it
    (three tables read them: at 1M persons there are 28 M edges)."""
    cached = res.__dict__.get("_linking_edges")
    if cached is not None:
        return cached
    linking = np.isin(labels(res.values["status"]), _LINKING)
    out = res.edges[linking[res.edges["val"].to_numpy()]]
    res.__dict__["_linking_edges"] = out
    return out


def identifiers_per_profile(res: Resolution, oneid: pd.Series | None = None) -> pd.DataFrame:
    """Distinct linking identifier values per profile, by type.

    Returns
    -------
    DataFrame
        per ``id_type``: ``profiles_with`` (profiles holding at least one), ``mean``, ``p50``,
        ``p99``, ``max`` (over profiles holding one), ``share_more_than_one``.
    """
    cl = res.records["cluster"].to_numpy() if oneid is None else pd.factorize(np.asarray(oneid))[0]
    e = _linking_edges(res)
    df = pd.DataFrame({"cl": cl[e["rec"].to_numpy()], "val": e["val"].to_numpy()})
    width = int(df["val"].max()) + 1 if len(df) else 1
    if len(df) and int(df["cl"].max()) < (2**62) // width:  # one integer per (profile, value) pair
        df = df[~pd.Series(df["cl"].to_numpy(np.int64) * np.int64(width) + df["val"].to_numpy(np.int64)).duplicated()
                .to_numpy()]
    else:
        df = df.drop_duplicates()
    df["id_type"] = labels(res.values["id_type"])[df["val"].to_numpy()]
    n = df.groupby(["id_type", "cl"]).size()
    g = n.groupby(level="id_type")
    return pd.DataFrame({
        "profiles_with": g.size(),
        "mean": g.mean(),
        "p50": g.quantile(0.5),
        "p99": g.quantile(0.99),
        "max": g.max(),
        "share_more_than_one": (n > 1).groupby(level="id_type").mean().astype(float),
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
    if isinstance(getattr(source, "dtype", None), pd.CategoricalDtype):  # codes in first-appearance order
        s, first = pd.factorize(source.cat.codes.to_numpy())
        names = pd.Index(np.asarray(source.cat.categories.astype(str), dtype=object)[first])
    else:
        s, names = pd.factorize(np.asarray(source))
    k = len(names)
    counts = csr_matrix((np.ones(len(o)), (o, s)), shape=(int(o.max()) + 1 if len(o) else 0, k))
    present = counts.copy()
    present.data = np.ones_like(present.data)
    both = (counts.T @ present).toarray()
    # diagonal: records in profiles with >= 2 records of that source
    diag = np.asarray(counts.multiply(counts >= 2).sum(axis=0)).ravel()
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
    e = _linking_edges(res)
    e_cl = cl[e["rec"].to_numpy()]
    vtype = labels(res.values["id_type"])
    src = labels(res.records["source"])
    rows = []
    for c, n in sizes.items():  # k profiles
        ee = e[e_cl == c]
        g = nx.Graph()
        g.add_edges_from(zip(("r" + ee["rec"].astype(str)).tolist(), ("v" + ee["val"].astype(str)).tolist(), strict=True))
        bridges = sorted(int(x[1:]) for x in nx.articulation_points(g) if x[0] == "v") if len(ee) else []
        row = {"cluster": int(c), "records": int(n), "sources": ", ".join(sorted(set(src[cl == c])))}
        for t, cnt in pd.Series(vtype[np.unique(ee["val"].to_numpy())]).value_counts().items():
            row[t] = int(cnt)
        row["bridges"] = [(vtype[b], b) for b in bridges]
        row["n_bridges"] = len(bridges)
        rows.append(row)
    out = pd.DataFrame(rows)
    counts = [c for c in out.columns if c not in ("cluster", "records", "sources", "bridges", "n_bridges")]
    out[counts] = out[counts].fillna(0).astype(int)
    return out


def cluster_edges(res: Resolution, cluster: int) -> pd.DataFrame:
    """The record-identifier edges of one profile, identifiers masked: what its drawing shows.

    Parameters
    ----------
    res : Resolution
    cluster : int
        The profile (``res.records["cluster"]``).

    Returns
    -------
    DataFrame
        One row per linking edge: ``record`` (node name ``r<index>``), ``source``, ``identifier``
        (node name ``v<index>``), ``id_type``, ``label`` (type and masked value).
    """
    recs = np.flatnonzero(res.records["cluster"].to_numpy() == cluster)
    e = _linking_edges(res)
    e = e[e["rec"].isin(recs)]
    rec, val = e["rec"].to_numpy(), e["val"].to_numpy()
    all_types = labels(res.values["id_type"])
    vtype = all_types[val]
    uniq = np.unique(val)  # each identifier masked once (one profile: tens of values)
    utype = all_types[uniq]
    umask = [mask_value(t, v) for t, v in zip(utype, res.values["value"].to_numpy()[uniq], strict=True)]
    masked = np.asarray(umask, dtype=object)[np.searchsorted(uniq, val)] if len(uniq) else np.array([], dtype=object)
    return pd.DataFrame({
        "record": ["r" + str(r) for r in rec],
        "source": labels(res.records["source"])[rec],
        "identifier": ["v" + str(v) for v in val],
        "id_type": vtype,
        "label": [f"{t}\n{m}" for t, m in zip(vtype, masked, strict=True)],
    })


def rule_impact(res: Resolution) -> pd.DataFrame:
    """What each rule held back: values by status and reason, and the records they sit on.

    Returns
    -------
    DataFrame
        ``status``, ``reason``, ``id_type``, ``values``, ``records`` (identifier occurrences).
    """
    v = res.values
    held = v[~np.isin(labels(v["status"]), _LINKING)]
    out = (held.assign(reason=held["reason"].fillna(""))
           .groupby(["status", "reason", "id_type"], observed=True)
           .agg(values=("value", "size"), records=("n_records", "sum")).reset_index())
    if len(res.invalid):
        inv = (res.invalid.assign(reason=res.invalid["reason"].fillna("invalid"))
               .groupby(["reason", "id_type"]).size().rename("records").reset_index())
        inv["status"] = "invalid"  # counted by occurrence: ``values`` stays empty (NaN)
        out = pd.concat([out, inv[[c for c in out.columns if c != "values"]]], ignore_index=True)
        out["values"] = out["values"].astype(float)
    return out.sort_values("records", ascending=False).reset_index(drop=True)


def limit_removals(removals: pd.DataFrame) -> pd.DataFrame:
    """Identifier values removed to keep profiles within their per-type limits, by rule.

    Returns
    -------
    DataFrame
        ``rule``, ``id_type``, ``limit_type``, ``values removed`` (empty when nothing was removed).
    """
    cols = ["rule", "id_type", "limit_type"]
    if not len(removals):
        return pd.DataFrame(columns=[*cols, "values removed"])
    return removals.groupby(cols).size().rename("values removed").reset_index()


def linkage_summary(record_oneid: pd.DataFrame, source: str = "ecom_orders") -> pd.DataFrame:
    """How the platform orders reached a person: by rule, by probability, or not at all.

    Parameters
    ----------
    record_oneid : DataFrame
        ``source`` and ``how`` per record (``Resolved.record_oneid``).
    source : str
        The platform-order source.

    Returns
    -------
    DataFrame
        ``linked`` (``by rule``: a person-level identifier or a bound account; ``by
        probability``; ``not linked``: an unbound account that stays a profile of its own;
        ``no identifier``), ``records``, ``share``.
    """
    for c in ("source", "how"):
        if c not in record_oneid.columns:
            raise ValueError(f"record_oneid has no {c!r} column")
    src = record_oneid["source"]
    if isinstance(src.dtype, pd.CategoricalDtype):
        cats = [str(c) for c in src.cat.categories]
        mine = src.cat.codes.to_numpy() == (cats.index(source) if source in cats else -2)
    else:
        mine = src.astype(str).to_numpy() == source
    how = pd.Series(labels(record_oneid["how"])[mine])
    label = how.map({"strong": "by rule", "weak": "by rule", "probabilistic": "by probability",
                     "account": "not linked", "none": "no identifier"})
    order = ["by rule", "by probability", "not linked", "no identifier"]
    n = label.value_counts().reindex(order, fill_value=0)
    return pd.DataFrame({"linked": order, "records": n.to_numpy(),
                         "share": n.to_numpy() / max(int(n.sum()), 1)})


def oneid_changes(changes: pd.DataFrame) -> pd.DataFrame:
    """OneIDs by how they relate to last month's (``Resolved.changes``).

    Returns
    -------
    DataFrame
        ``change`` (:data:`CHANGE_KINDS`, in that order) and ``OneIDs``.
    """
    ch = changes["change"].value_counts().reindex(CHANGE_KINDS, fill_value=0)
    return ch.rename("OneIDs").rename_axis("change").reset_index()
