"""Publishable tables and figures of audiences for the ``06_audiences`` report.

Counts of fewer than ``k`` people (default 10) are blanked cell by cell (zero stays: "nobody" names
no one); no identifier of any person appears.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from omni.audience.export import reach_table
from omni.audience.hashing import AD_PLATFORMS, PLATFORM_FIELDS
from omni.audience.rules import AudienceSet

__all__ = ["headline_figures", "overlap_table", "plot_overlap", "reach_summary", "size_table",
           "suppress_cells"]


def suppress_cells(df: pd.DataFrame, cols: Sequence[str], k: int = 10) -> pd.DataFrame:
    """Blank counts ``0 < n < k`` in ``cols`` (nullable integers; zeros stay)."""
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    out = df.copy()
    for c in cols:
        if c not in out.columns:
            raise ValueError(f"column {c!r} not in the frame; it has {list(out.columns)}")
        v = pd.to_numeric(out[c], errors="coerce").astype("Int64")
        out[c] = v.mask((v > 0) & (v < k))
    return out


def size_table(aset: AudienceSet, k: int = 10) -> pd.DataFrame:
    """One row per audience: description, people selected, opted out, eligible.

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


def plot_overlap(aset: AudienceSet, k: int = 10, ax=None, eligible: bool = False):
    """Heat map of the overlap as a share of the row audience, suppressed cells left blank."""
    import matplotlib.pyplot as plt

    counts = overlap_table(aset, k, eligible)
    names = list(counts.index)
    c = counts.to_numpy(dtype="float64", na_value=np.nan)
    size = np.diag(c)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = c / size[:, None]
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 * len(names) + 3, 0.8 * len(names) + 1.5))
    im = ax.imshow(np.ma.masked_invalid(share), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=35, ha="right")
    ax.set_yticks(range(len(names)), names)
    for i in range(len(names)):
        for j in range(len(names)):
            if np.isnan(c[i, j]):
                txt = f"<{k}" if not np.isnan(size[i]) else ""
            else:
                txt = f"{int(c[i, j]):,}"
            ax.text(j, i, txt, ha="center", va="center", fontsize=8,
                    color="white" if np.nan_to_num(share[i, j]) > 0.6 else "black")
    ax.set_xlabel("also in this audience")
    ax.set_ylabel("people of this audience")
    ax.grid(False)
    cb = ax.figure.colorbar(im, ax=ax, fraction=0.03)
    cb.set_label("share of the row audience")
    return ax


def reach_summary(aset: AudienceSet, contacts: pd.DataFrame, k: int = 10) -> pd.DataFrame:
    """Eligible people per audience each platform can reach and through which identifier."""
    r = reach_table(aset, contacts)
    cols = {"audience": "audience", "eligible": "eligible"}
    for p in AD_PLATFORMS:
        cols[p] = f"{p} (any)"
        for f in PLATFORM_FIELDS[p]:
            cols[f"{p} {f.field}"] = f"{p} {f.field}"
    cols["any platform"] = "any platform"
    r = r[list(cols)].rename(columns=cols)
    r = suppress_cells(r, [c for c in r.columns if c != "audience"], k)
    # the size table blanks "eligible" where it would reveal a small opted-out count: same here
    r["eligible"] = r["eligible"].where(size_table(aset, k)["eligible"].notna().to_numpy())
    return r


def headline_figures(aset: AudienceSet, contacts: pd.DataFrame, opted_out: pd.Series) -> dict[str, float]:
    """Numbers for the report's headline cards."""
    r = reach_table(aset, contacts)
    union_all = aset.union()
    union_elig = aset.union(eligible=True)
    from omni.audience.identifiers import platform_values

    people = aset.people
    reach_any = np.zeros(len(people), dtype=bool)
    for p in AD_PLATFORMS:
        pos = people.get_indexer(platform_values(contacts, p)["oneid"].astype(str).to_numpy())
        reach_any[pos[pos >= 0]] = True
    return {
        "audiences": len(aset.names),
        "people_in_audiences": int(union_all.sum()),
        "eligible": int(union_elig.sum()),
        "reachable": int((union_elig & reach_any).sum()),
        "opted_out_removed": int((union_all & aset.opted_out).sum()),
        "opted_out_total": int(opted_out.sum()),
        "opted_out_records_only": int(opted_out.attrs.get("from_records_only", 0)),
        "largest_eligible": int(r["eligible"].max()) if len(r) else 0,
        "reach_share": float((union_elig & reach_any).sum() / max(int(union_elig.sum()), 1)),
    }
