"""Explain why two records share a OneID, or which rule kept them apart."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from omni import privacy
from omni.core.i18n import tr
from omni.oneid.resolve import Resolution

__all__ = ["Explanation", "LINKING", "explain", "mask_record_key", "mask_value"]

LINKING = {"strong", "weak", "probabilistic"}
#: Node type of a probabilistic link (omni.oneid.linkage) in an explanation chain.
PROBABILISTIC_LINK = "probabilistic_link"


def mask_value(id_type: str, value: object) -> str:
    """Masked form of an identifier value for explanations and reports (scope prefix kept)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if id_type == PROBABILISTIC_LINK:  # probability and field agreement levels: no personal data
        return str(value)
    v = str(value)
    scope = ""
    if id_type in ("openid", "platform_buyer") and ":" in v:
        scope, v = v.split(":", 1)
        scope += ":"
    kind = id_type if id_type in privacy.MASK_TYPES else "id"
    return scope + str(privacy.mask_by_type(v, kind))


def mask_record_key(key: str) -> str:
    """``source:key`` with the key part masked."""
    source, _, rest = str(key).partition(":")
    return f"{source}:{privacy.mask_id(rest)}"


@dataclass
class Explanation:
    """Why two records do or do not share a OneID.

    Attributes
    ----------
    same_oneid : bool
    path : DataFrame
        The shortest chain of records and identifiers between the two records, preferring linking
        identifiers: ``step``, ``kind`` (record / identifier), ``label`` (masked), ``id_type``,
        ``status``, ``reason``. Empty when no chain exists within ``max_hops``.
    blockers : DataFrame
        The identifiers on that chain that do not link, with the rule that stops them.
    verdict : str
        One sentence.
    """

    same_oneid: bool
    path: pd.DataFrame
    blockers: pd.DataFrame
    verdict: str

    def __str__(self) -> str:
        lines = [self.verdict]
        kinds = {"record": tr("record", "记录"), "identifier": tr("identifier", "标识符")}
        for row in self.path.itertuples():
            extra = f" [{row.status}{': ' + row.reason if row.reason else ''}]" if row.kind == "identifier" else ""
            lines.append(f"  {row.step:>2}. {kinds.get(row.kind, row.kind):<10} {row.label}{extra}")
        return "\n".join(lines)


def _link_nodes(res: Resolution, links: pd.DataFrame, offset: int
                ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One node per probabilistic link, joined to the account's record and the profile's record."""
    keys = pd.Index(res.records["record_key"])
    a = keys.get_indexer(links["account_record"])
    b = keys.get_indexer(links["target_record"])
    ok = (a >= 0) & (b >= 0)
    lk = links[ok]
    value = ("p=" + lk["match_probability"].map("{:.4f}".format) + ", weight "
             + lk["match_weight"].map("{:.1f}".format))
    nodes = pd.DataFrame({"id_type": PROBABILISTIC_LINK, "value": value.to_numpy(),
                          "status": "probabilistic", "reason": lk["agreement"].fillna("").to_numpy()})
    idx = offset + np.arange(len(lk))
    return nodes, np.r_[a[ok], b[ok]], np.r_[idx, idx]


def _node_tables(res: Resolution, links: pd.DataFrame | None = None
                 ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """All identifier nodes (valid values and invalid raw values, and probabilistic links when
    given) and their edges to records."""
    vals = res.values[["id_type", "value", "status", "reason"]].copy()
    vals["status"] = vals["status"].astype(str)
    inv = res.invalid
    if len(inv):
        key = inv["id_type"].astype(str) + "\x1f" + inv["raw"].astype(str).str.strip().str.lower()
        codes, uniq = pd.factorize(key)
        first = pd.Series(np.arange(len(inv))).groupby(codes).first().to_numpy()
        inv_nodes = pd.DataFrame(
            {
                "id_type": inv["id_type"].to_numpy()[first],
                "value": inv["raw"].to_numpy()[first],
                "status": "invalid",
                "reason": inv["reason"].to_numpy()[first],
            }
        )
        rec = np.r_[res.edges["rec"].to_numpy(), inv["rec"].to_numpy()]
        val = np.r_[res.edges["val"].to_numpy(), len(vals) + codes]
        vals = pd.concat([vals, inv_nodes], ignore_index=True)
    else:
        rec, val = res.edges["rec"].to_numpy(), res.edges["val"].to_numpy()
    if links is not None and len(links):
        nodes, l_rec, l_val = _link_nodes(res, links, len(vals))
        vals = pd.concat([vals, nodes], ignore_index=True)
        rec, val = np.r_[rec, l_rec], np.r_[val, l_val]
    return vals, rec, val


def _positions(keys: pd.Series, wanted: list[str]) -> list[int]:
    """Positions of a few record keys in a long key column (-1: absent), by a vectorized scan:
    no hash index over millions of keys is built for two lookups."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from omni.core.strings import arrow_strings

    arr = arrow_strings(keys)
    return [int(pc.index(arr, pa.scalar(str(k), type=arr.type)).as_py()) for k in wanted]


def _graph(res: Resolution, links: pd.DataFrame | None):
    """(node table, record->node CSR, node->record CSR) of a resolution, built once per
    (resolution, links) pair and kept on the resolution: a report explains two pairs of one
    resolution, and at 20 M records the graph takes seconds to build."""
    cached = res.__dict__.get("_explain_graph")
    if cached is not None and cached[0] is links:
        return cached[1]
    vals, rec, val = _node_tables(res, links)
    r2v = csr_matrix((np.ones(len(rec), dtype=np.int8), (rec, val)), shape=(len(res.records), len(vals)))
    got = (vals, r2v, r2v.T.tocsr())
    res.__dict__["_explain_graph"] = (links, got)
    return got


def explain(res: Resolution, record_a: str, record_b: str, max_hops: int = 4,
            links: pd.DataFrame | None = None) -> Explanation:
    """Explain the link (or the absence of one) between two records.

    Parameters
    ----------
    res : Resolution
        Output of :func:`omni.oneid.resolve.resolve_identities` (or of
        :func:`omni.oneid.linkage.link_accounts`).
    record_a, record_b : str
        Record keys (``<source>:<key>``).
    max_hops : int
        How many identifiers a chain may pass through.
    links : DataFrame, optional
        The probabilistic stage's links (``Resolved.links``): each becomes a chain step between
        the account's record and the profile's record, labelled with its match probability,
        weight and the fields that agreed.

    Returns
    -------
    Explanation
    """
    keys = res.records["record_key"]
    ia, ib = _positions(keys, [record_a, record_b])
    for k, i in ((record_a, ia), (record_b, ib)):
        if i < 0:
            raise KeyError(f"record {mask_record_key(k)} is not in this resolution")
    cluster = res.records["cluster"].to_numpy()
    same = bool(cluster[ia] == cluster[ib])
    vals, r2v, v2r = _graph(res, links)

    # ego networks of both records, max_hops identifiers deep (values with huge degree are kept
    # as nodes but not expanded through, so a kiosk shows up as the blocker without pulling in
    # thousands of records)
    def ego(start: int) -> tuple[set[int], set[int]]:
        recs, seen_v = {start}, set()
        frontier = np.array([start])
        for _ in range(max_hops):
            v = np.unique(r2v[frontier].indices)
            v = v[~np.isin(v, list(seen_v))] if seen_v else v
            seen_v.update(v.tolist())
            small = v[np.diff(v2r.indptr)[v] <= 200]
            r = np.unique(v2r[small].indices) if len(small) else np.array([], dtype=int)
            r = r[~np.isin(r, list(recs))]
            if len(r) == 0:
                break
            recs.update(r.tolist())
            frontier = r
        return recs, seen_v

    ra, va = ego(ia)
    rb, vb = ego(ib)
    g = nx.Graph()
    all_v = np.array(sorted(va | vb), dtype=np.int64)
    status = vals["status"].to_numpy()
    if len(all_v):
        sub = v2r[all_v]
        for pos, v in enumerate(all_v):
            rs = sub.indices[sub.indptr[pos]: sub.indptr[pos + 1]]
            rs = rs[np.isin(rs, list(ra | rb))]
            w = 1.0 if status[v] in LINKING else 1000.0
            g.add_edges_from(((("r", int(r)), ("v", int(v))) for r in rs), weight=w)
    try:
        nodes = nx.shortest_path(g, ("r", int(ia)), ("r", int(ib)), weight="weight")
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        nodes = []
    rows = []
    for step, (kind, i) in enumerate(nodes):
        if kind == "r":
            rows.append({"step": step, "kind": "record", "label": mask_record_key(keys.iloc[i]),
                         "id_type": "", "status": "", "reason": ""})
        else:
            t = str(vals.at[i, "id_type"])
            rows.append({"step": step, "kind": "identifier", "label": f"{t}={mask_value(t, vals.at[i, 'value'])}",
                         "id_type": t, "status": str(status[i]), "reason": vals.at[i, "reason"] or ""})
    path = pd.DataFrame(rows, columns=["step", "kind", "label", "id_type", "status", "reason"])
    blockers = path[(path["kind"] == "identifier") & ~path["status"].isin(LINKING)]
    a, b = mask_record_key(record_a), mask_record_key(record_b)
    if same:
        verdict = tr(f"{a} and {b} share a OneID: linked through {len(path) // 2} identifier(s).",
                     f"{a} 与 {b} 共享一个 OneID：通过 {len(path) // 2} 个标识符相连。")
        if path.empty or len(blockers):
            verdict = tr(f"{a} and {b} share a OneID (their chain is longer than {max_hops} identifiers).",
                         f"{a} 与 {b} 共享一个 OneID（它们之间的链长于 {max_hops} 个标识符）。")
    elif path.empty:
        verdict = tr(f"{a} and {b} have different OneIDs: no identifier chain joins them within {max_hops} hops.",
                     f"{a} 与 {b} 属于不同的 OneID：{max_hops} 跳之内没有标识符链把它们连起来。")
    else:
        rules = tr(", ", "；").join(sorted({tr(f"{r.label} is {r.status} ({r.reason})", f"{r.label} 为 {r.status}（{r.reason}）")
                                          for r in blockers.itertuples()}))
        verdict = tr(f"{a} and {b} have different OneIDs: the chain between them is cut because {rules}.",
                     f"{a} 与 {b} 属于不同的 OneID：它们之间的链被切断，因为 {rules}。")
    return Explanation(same_oneid=same, path=path, blockers=blockers.reset_index(drop=True), verdict=verdict)
