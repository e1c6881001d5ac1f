"""Identifier checks: validity, junk values, ids unknown to the master source, overlap between sources.

Each function takes the normalized identifier table (:func:`omni.normalize.identifier_table`:
``source``, ``id_type``, ``value``, ``valid``, ``reason``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["identifier_overlap", "identifier_validity", "junk_values", "referential_integrity"]


def identifier_validity(ids: pd.DataFrame) -> pd.DataFrame:
    """Usable and unusable identifier values per source and identifier type.

    Returns
    -------
    DataFrame
        ``source``, ``id_type``, ``values`` (seen), ``valid``, ``valid_share``, ``null_like``
        (placeholder text for a missing value: "null", "0", "N/A"...), ``invalid_other`` (malformed,
        blocked defaults, all-zero devices, masked phones) and, when any value is invalid,
        ``top_invalid_reason`` and ``top_invalid_n`` (the commonest reason other than null-like).
    """
    g = ids.groupby(["source", "id_type"], observed=True)
    out = g.agg(values=("valid", "size"), valid=("valid", "sum")).reset_index()
    out["valid_share"] = out["valid"] / out["values"]
    nl = (ids["reason"].astype(str) == "null_like").groupby([ids["source"], ids["id_type"]], observed=True).sum()
    out["null_like"] = nl.reindex(pd.MultiIndex.from_frame(out[["source", "id_type"]])).fillna(0).astype(int).to_numpy()
    out["invalid_other"] = out["values"] - out["valid"] - out["null_like"]
    inv = ids[~ids["valid"] & (ids["reason"].astype(str) != "null_like")]
    if len(inv):
        top = (inv.groupby(["source", "id_type", "reason"], observed=True).size().rename("n").reset_index()
               .sort_values("n", ascending=False).drop_duplicates(["source", "id_type"]))
        out = out.merge(top.rename(columns={"reason": "top_invalid_reason", "n": "top_invalid_n"}),
                        on=["source", "id_type"], how="left")
    return out


def junk_values(ids: pd.DataFrame) -> pd.DataFrame:
    """Invalid identifier values by reason and type: ``occurrences`` and in how many ``sources``."""
    inv = ids[~ids["valid"]]
    return (inv.groupby(["reason", "id_type"], observed=True)
            .agg(occurrences=("valid", "size"), sources=("source", "nunique"))
            .reset_index().sort_values("occurrences", ascending=False).reset_index(drop=True))


def referential_integrity(ids: pd.DataFrame, id_type: str = "member_id", master: str | None = None) -> pd.DataFrame:
    """Share of each source's ``id_type`` values that the master source does not know.

    The master is the source holding the most distinct values of the type (the CRM for member ids)
    unless given. An order pointing at a member id that the CRM never issued is an orphan.

    Returns
    -------
    DataFrame
        ``source``, ``master``, ``values`` (distinct valid values), ``unknown_to_master``,
        ``unknown_share``; one row per source other than the master.
    """
    v = ids[(ids["id_type"] == id_type) & ids["valid"]][["source", "value"]].drop_duplicates()
    if v.empty:
        return pd.DataFrame(columns=["source", "master", "values", "unknown_to_master", "unknown_share"])
    master = master or str(v["source"].value_counts().idxmax())
    known = set(v.loc[v["source"] == master, "value"])
    rows = []
    for src, g in v[v["source"] != master].groupby("source", observed=True):
        unknown = int((~g["value"].isin(known)).sum())
        rows.append({"source": src, "master": master, "values": len(g), "unknown_to_master": unknown,
                     "unknown_share": unknown / len(g)})
    return pd.DataFrame(rows)


def identifier_overlap(ids: pd.DataFrame, id_type: str) -> pd.DataFrame:
    """Share of source *row*'s distinct ``id_type`` values also present in source *column*.

    Returns
    -------
    DataFrame
        Sources x sources, shares in [0, 1] (1 on the diagonal); empty without valid values.
    """
    v = ids[(ids["id_type"] == id_type) & ids["valid"]][["source", "value"]].drop_duplicates()
    if v.empty:
        return pd.DataFrame()
    v = v.assign(source=v["source"].astype(str))
    m = pd.crosstab(v["value"], v["source"]).astype(bool).astype(np.int64)
    both = m.T @ m
    return both.div(np.diag(both), axis=0)
