"""Identifier checks: validity, junk values, ids unknown to the master source, overlap between sources.

Each function takes the normalized identifier table (:func:`omni.normalize.identifier_table`:
``source``, ``id_type``, ``value``, ``valid``, ``reason``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "identifier_counts", "identifier_overlap", "identifier_validity", "junk_of", "junk_values",
    "referential_integrity", "validity_of",
]


def identifier_counts(ids: pd.DataFrame) -> pd.DataFrame:
    """Identifier values per ``source``, ``id_type``, ``valid`` and ``reason``: the small table
    :func:`validity_of` and :func:`junk_of` read (``n``: values; no value itself).

    Counts of different sources' identifier tables can be stacked (in spec order) and read as one.
    """
    return (ids.groupby(["source", "id_type", "valid", "reason"], observed=True, dropna=False)
            .size().rename("n").reset_index())


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
    return validity_of(identifier_counts(ids))


def validity_of(counts: pd.DataFrame) -> pd.DataFrame:
    """:func:`identifier_validity` from :func:`identifier_counts`."""
    reason = counts["reason"].astype(str)
    c = counts.assign(nv=counts["n"] * counts["valid"], nl=counts["n"] * (reason == "null_like"))
    out = (c.groupby(["source", "id_type"], observed=True)
           .agg(values=("n", "sum"), valid=("nv", "sum"), null_like=("nl", "sum")).reset_index())
    out.insert(4, "valid_share", out["valid"] / out["values"])
    out["null_like"] = out["null_like"].astype(int)
    out["invalid_other"] = out["values"] - out["valid"] - out["null_like"]
    inv = counts[~counts["valid"].astype(bool) & (reason != "null_like")]
    if len(inv):
        top = (inv.groupby(["source", "id_type", "reason"], observed=True)["n"].sum().reset_index()
               .sort_values("n", ascending=False).drop_duplicates(["source", "id_type"]))
        out = out.merge(top.rename(columns={"reason": "top_invalid_reason", "n": "top_invalid_n"}),
                        on=["source", "id_type"], how="left")
    return out


def junk_values(ids: pd.DataFrame) -> pd.DataFrame:
    """Invalid identifier values by reason and type: ``occurrences`` and in how many ``sources``."""
    return junk_of(identifier_counts(ids))


def junk_of(counts: pd.DataFrame) -> pd.DataFrame:
    """:func:`junk_values` from :func:`identifier_counts`."""
    inv = counts[~counts["valid"].astype(bool)]
    return (inv.groupby(["reason", "id_type"], observed=True)
            .agg(occurrences=("n", "sum"), sources=("source", "nunique"))
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
    known = pd.Index(v.loc[(v["source"] == master).to_numpy(), "value"].unique())
    rows = []
    for src, g in v[v["source"] != master].groupby("source", observed=True):
        unknown = int((known.get_indexer(g["value"]) < 0).sum())
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
    src = v["source"].astype(str).to_numpy()
    names = np.unique(src)
    codes = pd.factorize(v["value"])[0]
    col = np.searchsorted(names, src)
    has = np.zeros((len(names), codes.max() + 1), dtype=bool)  # source x distinct value
    has[col, codes] = True
    both = np.array([[int(np.count_nonzero(a & b)) for b in has] for a in has], dtype=np.int64)
    axis = pd.Index(names, name="source")
    return pd.DataFrame(both, index=axis, columns=axis).div(np.diag(both), axis=0)
