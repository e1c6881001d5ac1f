"""The per-OneID top-k table: the lists for the month after the report month, business rules
applied, in the cache (``processed/recommend-<month>/topk.parquet``, keyed by OneID).

Audience rules read it (``top_category``: "the top 3 includes category X") through
:func:`load_topk`, so ``omni audience export`` can activate the recommendations.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from omni._version import __version__
from omni.core.month import Month
from omni.core.strings import arrow_strings, index_in
from omni.recommend.models import in_chunks
from omni.recommend.rules import apply_rules, in_season
from omni.workspace import PROCESSED, Workspace, check_manifest, write_manifest

__all__ = ["TOPK_FILE", "Lists", "lists_blocks", "lists_table", "load_topk", "topk_dir", "topk_lists", "topk_table", "write_topk"]

TOPK_FILE = "topk.parquet"


def topk_dir(ws: Workspace, month: Month | str) -> Path:
    """The cache folder of the lists made at the end of ``month``."""
    return ws.path / PROCESSED / f"recommend-{Month.parse(month)}"


@dataclass
class Lists:
    """The lists in compact form (:func:`topk_lists`): one row per person.

    Attributes
    ----------
    people : Index
        OneIDs with a list (everyone with a profile but the opted-out), sorted.
    items : ndarray (people, k)
        Item codes, best first (-1: none).
    profile_row : ndarray
        Each person's row in the profiles.
    opted_out : int
        People left out because they opted out.
    """

    people: pd.Index
    items: np.ndarray
    profile_row: np.ndarray
    opted_out: int


def topk_table(rec, inter, profiles: pd.DataFrame, target: Month, *, k: int = 20, exclude_days: float = 30.0,
               max_per_category: int | None = 4, chunk: int = 20_000) -> tuple[pd.DataFrame, int]:
    """Top-``k`` SKUs of every person with a profile for month ``target``, rules applied.

    People with purchases or views get the blend; the rest (cold start) get the popular list of
    their segment (gender x age band). People who opted out of marketing get no list.

    Returns
    -------
    (DataFrame, int)
        ``oneid``, ``rank`` (1 = best), ``sku``, ``category``, sorted by OneID and rank; and the
        number of people left out because they opted out.
    """
    lists = topk_lists(rec, inter, profiles, target, k=k, exclude_days=exclude_days,
                       max_per_category=max_per_category, chunk=chunk)
    return lists_table(lists, inter.catalogue), lists.opted_out


def topk_lists(rec, inter, profiles: pd.DataFrame, target: Month, *, k: int = 20, exclude_days: float = 30.0,
               max_per_category: int | None = 4, chunk: int = 20_000) -> Lists:
    """The lists of :func:`topk_table` in compact form (item codes per person)."""
    cat = inter.catalogue
    cat_codes, _ = cat.category_codes
    allowed = rec.on_sale & in_season(cat.column("season", "all_year"), target.month)
    opted = (profiles["marketing_opt_out"].fillna(False).to_numpy(dtype=bool)
             if "marketing_opt_out" in profiles else np.zeros(len(profiles), bool))
    listed = np.flatnonzero(~opted)
    # the table's order: OneID (sorted in Arrow: code point order, as Python sorts str), then rank
    oid = profiles["oneid"]
    oneids = arrow_strings(oid if isinstance(oid.dtype, pd.StringDtype) else oid.astype(str)).take(pa.array(listed))
    order = np.asarray(pc.array_sort_indices(oneids), dtype=np.int64)
    people = pd.Index(oneids.take(pa.array(order)).to_numpy(zero_copy_only=False).astype(object))
    rows_of = listed[order]
    pos = index_in(people, inter.users)
    out_items = np.full((len(people), k), -1, np.int32 if cat.n < 2**31 else np.int64)  # 1.3 GB at 5M persons
    warm = np.flatnonzero(pos >= 0)

    cols = np.flatnonzero(allowed)  # the blend is computed for what may be shown only

    def one(s: int) -> None:
        rows = warm[s:s + chunk]
        u = pos[rows]
        scores = rec.blend_parts(u).scores(rec.weights, columns=cols)
        out_items[rows] = _pad(apply_rules(scores, rec.history.last_days[u], cat.repeat, allowed, cat_codes, k,
                                           exclude_days, max_per_category, columns=cols), k)

    in_chunks(one, range(0, len(warm), chunk))
    cold = np.flatnonzero(pos < 0)
    if len(cold):
        from omni.recommend.analysis import segment_labels_at

        labels = segment_labels_at(profiles, rows_of[cold])
        known = pd.Index(rec.segment_names) if getattr(rec, "segment_names", None) is not None else pd.Index([])
        code = known.get_indexer(labels)
        code = np.where(code >= 0, code, 0)
        import scipy.sparse as sp

        for c in np.unique(code):
            s = np.where(allowed, rec.pop_by_segment[c], -np.inf)[None, :]
            lst = _pad(apply_rules(s, sp.csr_matrix((1, cat.n)), cat.repeat, allowed, cat_codes, k, exclude_days,
                                   max_per_category), k)
            out_items[cold[code == c]] = lst[0]
    return Lists(people, out_items, rows_of, int(opted.sum()))


def lists_table(lists: Lists, catalogue, chunk: int = 1 << 19) -> pd.DataFrame:
    """The lists as the top-k table: ``oneid``, ``rank``, ``sku``, ``category`` (no row where a
    list runs short), sorted by OneID and rank: :func:`lists_blocks` in one frame.

    At 5M persons the table has about 320 M rows; :func:`write_topk` writes it block by block
    instead, and this is for lists that fit (tests, ``write_table=False``)."""
    blocks = list(lists_blocks(lists, catalogue, chunk))
    if len(blocks) == 1:
        return blocks[0]
    return pd.concat(blocks, ignore_index=True)


def lists_blocks(lists: Lists, catalogue, chunk: int = 1 << 19) -> Iterator[pd.DataFrame]:
    """The top-k table of :func:`lists_table`, ``chunk`` people at a time (at least one block).

    Built from the smallest integer types: at 1M persons the table has about 50 M rows, and
    whole-length int64 scratch arrays (positions, ranks, codes) took 1.4 GB more than the table
    itself at the notebook's peak; at 5M the OneID column alone (3.2 GB of text) would pass the
    2 GiB an Arrow string array can hold."""
    cat_codes, cat_names = catalogue.category_codes
    n, k = lists.items.shape
    code_type = np.int32 if max(len(catalogue.skus), 1) < 2**31 else np.int64
    skus = catalogue.skus.astype(str)
    codes = np.asarray(cat_codes).astype(np.int32 if len(cat_names) < 2**31 else np.int64)
    people = lists.people.to_numpy()
    for s in range(0, max(n, 1), chunk):
        block = lists.items[s:s + chunk]
        keep = block >= 0
        items = block[keep].astype(code_type, copy=False)
        rank = np.broadcast_to(np.arange(1, k + 1, dtype=np.int16), block.shape)[keep]
        person = np.repeat(np.arange(len(block), dtype=np.int32), keep.sum(axis=1))
        del keep
        oneid = pd.array(pa.array(people[s:s + chunk], pa.string()).take(pa.array(person)), dtype="string[pyarrow]")
        del person
        yield pd.DataFrame({"oneid": oneid, "rank": rank, "sku": pd.Categorical.from_codes(items, categories=skus),
                            "category": pd.Categorical.from_codes(codes[items], categories=cat_names)}, copy=False)
        del items, rank, oneid


def _pad(a: np.ndarray, k: int) -> np.ndarray:
    if a.shape[1] >= k:
        return a[:, :k]
    return np.hstack([a, np.full((a.shape[0], k - a.shape[1]), -1, a.dtype)])


def write_topk(ws: Workspace, month: Month | str, table: pd.DataFrame | Iterable[pd.DataFrame],
               settings: dict[str, Any], people: int | None = None) -> Path:
    """Write the table (Parquet) with ``meta.json`` (data fingerprint, omni version, settings) and a
    manifest, into a temporary folder renamed into place. ``table``: the top-k table, or its
    blocks (:func:`lists_blocks`), written one after another as they come. ``people``: the
    number of OneIDs in the table when the caller knows it (counted otherwise)."""
    d = topk_dir(ws, month)
    tmp = d.with_name(d.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    rows, seen = 0, None if people is not None else set()
    writer = None
    try:
        for block in [table] if isinstance(table, pd.DataFrame) else table:
            t = pa.Table.from_pandas(block, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(tmp / TOPK_FILE, t.schema, compression="zstd")
            writer.write_table(t)
            rows += len(block)
            if seen is not None:
                seen.update(block["oneid"].astype(str).unique())
            del t, block
    except BaseException:
        if writer is not None:
            writer.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if writer is not None:
        writer.close()
    else:
        raise ValueError("write_topk: no table (not even an empty block) was given")
    meta = {"month": str(Month.parse(month)), "fingerprint": ws.fingerprint, "omni": __version__,
            "settings": settings, "rows": rows, "people": len(seen) if seen is not None else int(people)}
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1, default=str), encoding="utf-8")
    write_manifest(tmp)
    shutil.rmtree(d, ignore_errors=True)
    tmp.rename(d)
    return d / TOPK_FILE


def load_topk(ws: Workspace, month: Month | str, **settings: Any) -> pd.DataFrame:
    """The cached top-k table of ``month`` (made now, with the default settings, when the cache has
    none for these files and this omni, or it fails its manifest)."""
    d = topk_dir(ws, month)
    try:
        meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
        fresh = meta.get("fingerprint") == ws.fingerprint and meta.get("omni") == __version__
        if fresh and not check_manifest(d):
            return pd.read_parquet(d / TOPK_FILE)
    except (OSError, ValueError):
        pass
    from omni.recommend.analysis import recommend_lists

    recommend_lists(ws, month, **settings)
    return pd.read_parquet(d / TOPK_FILE)
