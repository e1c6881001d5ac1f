"""Publishable counts of audiences: sizes, overlaps, reach per platform, consent removals.

Counts of fewer than ``k`` people (default 10) are blanked cell by cell (zero stays: "nobody" names
no one); no identifier of any person appears. These are the numbers of the ``06_audiences`` report
(:func:`omni.audience.analyse_month`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from omni.audience.export import reach_table
from omni.audience.hashing import AD_PLATFORMS, PLATFORM_FIELDS
from omni.audience.identifiers import platform_values
from omni.audience.rules import AudienceSet

__all__ = ["audience_counts", "most_similar_pair", "overlap_shares", "overlap_table", "reach_memberships",
           "reach_summary", "size_table", "suppress_cells"]


def suppress_cells(df: pd.DataFrame, cols: Sequence[str], k: int = 10) -> pd.DataFrame:
    """Blank counts ``0 < n < k`` in ``cols`` (nullable integers; zeros stay).

    Parameters
    ----------
    df : DataFrame
    cols : sequence of str
        Count columns of ``df``.
    k : int
        Smallest count shown.

    Returns
    -------
    DataFrame
        A copy with ``cols`` as ``Int64``, small counts ``<NA>``.
    """
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    out = df.copy()
    for c in cols:
        if c not in out.columns:
            raise ValueError(f"column {c!r} not in the frame; it has {list(out.columns)}")
        v = pd.to_numeric(out[c], errors="coerce").astype("Int64")
        out[c] = v.mask((v > 0) & (v < k))
    return out


def size_table(aset: AudienceSet, k: int = 10) -> pd.DataFrame:
    """One row per audience: ``audience``, ``what it selects``, ``people``, ``opted out``, ``eligible``.

    Counts under ``k`` are blanked, and since ``people = opted out + eligible``, blanking one of
    the two parts blanks the other as well (else it could be recovered by subtraction).
    """
    s = aset.sizes()
    t = pd.DataFrame({"audience": s["audience"], "what it selects": s["description"],
                      "people": s["size"], "opted out": s["opted_out"], "eligible": s["eligible"]})
    t = suppress_cells(t, ["people", "opted out", "eligible"], k)
    either = (t["opted out"].isna() | t["eligible"].isna()).to_numpy()
    t.loc[either, ["opted out", "eligible"]] = pd.NA
    return t


def overlap_table(aset: AudienceSet, k: int = 10, eligible: bool = False) -> pd.DataFrame:
    """Pairwise overlap counts (everyone selected, or only eligible members), cells < k blanked."""
    m = aset.overlap(eligible=eligible)
    return m.mask((m > 0) & (m < k)).astype("Int64")


def overlap_shares(counts: pd.DataFrame) -> pd.DataFrame:
    """People two audiences share as a share of the row audience (the diagonal), from the blanked
    counts of :func:`overlap_table`: a blanked cell or a blanked row audience stays NaN."""
    c = counts.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = c / np.diag(c)[:, None]
    return pd.DataFrame(share, index=counts.index, columns=counts.columns)


def most_similar_pair(aset: AudienceSet) -> dict[str, Any] | None:
    """The two distinct audiences with the highest Jaccard index (``a``, ``b``, ``jaccard``), or
    None when there are fewer than two audiences or no two share anyone."""
    if len(aset.names) < 2:
        return None
    jac = aset.overlap("jaccard")
    v = jac.to_numpy(dtype="float64", copy=True)
    np.fill_diagonal(v, np.nan)
    if not np.isfinite(v).any():
        return None
    i, j = np.unravel_index(np.nanargmax(v), v.shape)
    if not v[i, j] > 0:
        return None
    return {"a": str(jac.index[i]), "b": str(jac.columns[j]), "jaccard": float(v[i, j])}


def reach_summary(aset: AudienceSet, contacts: pd.DataFrame, k: int = 10,
                  platforms: Sequence[str] = AD_PLATFORMS) -> pd.DataFrame:
    """Eligible people per audience each platform can reach and through which identifier.

    Returns
    -------
    DataFrame
        ``audience``, ``eligible``, per platform ``<platform> (any)`` and ``<platform> <field>``,
        and ``any platform``; counts under ``k`` blanked, ``eligible`` blanked where the size
        table blanks it.
    """
    r = reach_table(aset, contacts, platforms)
    cols = {"audience": "audience", "eligible": "eligible"}
    for p in platforms:
        cols[p] = f"{p} (any)"
        for f in PLATFORM_FIELDS[p]:
            cols[f"{p} {f.field}"] = f"{p} {f.field}"
    cols["any platform"] = "any platform"
    r = r[list(cols)].rename(columns=cols)
    r = suppress_cells(r, [c for c in r.columns if c != "audience"], k)
    # the size table blanks "eligible" where it would reveal a small opted-out count: same here
    r["eligible"] = r["eligible"].where(size_table(aset, k)["eligible"].notna().to_numpy())
    return r


def audience_counts(aset: AudienceSet, contacts: pd.DataFrame, opted_out: pd.Series,
                    suppressed: pd.Series | None = None,
                    platforms: Sequence[str] = AD_PLATFORMS) -> dict[str, Any]:
    """The report's counts (unblanked): audiences, people, eligible, reachable, consent removals.

    Parameters
    ----------
    aset : AudienceSet
    contacts : DataFrame
        :func:`omni.audience.contact_identifiers` of the audiences' members.
    opted_out : Series of bool
        :func:`omni.consent.opted_out` (indexed by oneid; ``attrs["from_records_only"]``).
    suppressed : Series of bool, optional
        :func:`omni.consent.suppressed_by_identifier` over ``aset.people``.
    platforms : sequence of str
        Ad platforms counted for reach.

    Returns
    -------
    dict
        ``audiences``, ``people_in_audiences``, ``eligible``, ``reachable``, ``reach_share``,
        ``opted_out_removed`` (members removed by OneID), ``opted_out_total``,
        ``opted_out_records_only`` and ``identifier_removed`` (eligible
        members the export also removes by identifier; 0 without ``suppressed``).
    """
    union_all = aset.union()
    union_elig = aset.union(eligible=True)
    reach_any = np.zeros(len(aset.people), dtype=bool)
    for p in platforms:
        pos = aset.people.get_indexer(platform_values(contacts, p)["oneid"].astype(str).to_numpy())
        reach_any[pos[pos >= 0]] = True
    sup = np.zeros(len(aset.people), dtype=bool) if suppressed is None else \
        suppressed.reindex(aset.people, fill_value=False).to_numpy(dtype=bool)
    return {
        "audiences": len(aset.names),
        "people_in_audiences": int(union_all.sum()),
        "eligible": int(union_elig.sum()),
        "reachable": int((union_elig & reach_any).sum()),
        "opted_out_removed": int((union_all & aset.opted_out).sum()),
        "opted_out_total": int(opted_out.sum()),
        "opted_out_records_only": int(opted_out.attrs.get("from_records_only", 0)),
        "reach_share": float((union_elig & reach_any).sum() / max(int(union_elig.sum()), 1)),
        "identifier_removed": int((union_elig & sup).sum()),
    }


def reach_memberships(aset: AudienceSet, contacts: pd.DataFrame,
                      platforms: Sequence[str] = AD_PLATFORMS) -> dict[str, int]:
    """:func:`~omni.audience.export.reach_table` summed over the audiences (memberships, not
    people): ``eligible``, ``<platform>``, ``<platform> <field>``, ``any platform``."""
    tot = reach_table(aset, contacts, platforms).sum(numeric_only=True)
    return {str(c): int(v) for c, v in tot.items()}
