"""Stable OneIDs: a new run keeps last run's ids where the person is the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from omni.core.oneid_codec import format_oneids, parse_oneids
from omni.core.strings import arrow_strings, index_in
from omni.oneid.graph import dense_codes, sorted_unique

__all__ = ["assign_oneid_numbers", "assign_oneids", "format_oneid", "format_oneid_arrow",
           "parse_oneid"]


def format_oneid_arrow(numbers: np.ndarray) -> pa.Array:
    """OneIDs of ``numbers`` as an Arrow string array (see :mod:`omni.core.oneid_codec`)."""
    return format_oneids(numbers)


def format_oneid(numbers: np.ndarray) -> np.ndarray:
    """OneIDs of ``numbers`` as an object array of Python strings."""
    return format_oneids(numbers).to_numpy(zero_copy_only=False).astype(object)


def parse_oneid(oneids: pd.Series) -> np.ndarray:
    """The numbers of OneIDs (inverse of :func:`format_oneid`), naming the first bad row."""
    return parse_oneids(oneids)


def _other_ids(other: np.ndarray) -> np.ndarray:
    """OneIDs of the ``other`` column (-1: none) without formatting every row."""
    out = np.full(len(other), None, dtype=object)
    has = other >= 0
    out[has] = format_oneid(other[has])
    return out


def assign_oneids(
    clusters: pd.DataFrame, previous: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Give every cluster a OneID, keeping the previous run's ids for the same people.

    Rules: a previous id goes to the cluster that holds most of its records (ties: the cluster
    that comes first). A cluster that receives several previous ids (a merge) keeps the oldest
    (lowest number) and the others are retired as merged. A previous id whose records now sit in
    several clusters is a split: the largest part keeps the id, the others get new ids. Clusters
    with no previous id get new ids numbered after the largest id ever issued, in record order.

    Parameters
    ----------
    clusters : DataFrame
        ``record_key`` and ``cluster`` (int) for every record of this run.
    previous : DataFrame, optional
        ``record_key`` and ``oneid`` of the previous run (its ``record_oneid`` table).

    Returns
    -------
    record_oneid : DataFrame
        ``record_key``, ``oneid``, in the order of ``clusters``.
    changes : DataFrame
        One row per OneID event: ``oneid``, ``change`` (kept, new, merged_into, split_from,
        retired), ``other`` (the id merged into or split from), ``n_records``.
    """
    numbers, codes, changes = assign_oneid_numbers(clusters, previous)
    names = pd.array(format_oneid_arrow(numbers), dtype="string[pyarrow]")
    out = pd.DataFrame({"record_key": clusters["record_key"].array, "oneid": names.take(codes)})
    return out, changes


def _own_arrow(values: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A string column's own Arrow data (no copy) when it has some, else converted once."""
    arr = getattr(values, "array", values)
    if isinstance(arr, pd.arrays.ArrowStringArray | pd.arrays.ArrowExtensionArray):
        return arr.__arrow_array__()
    return arrow_strings(values)


def _combined(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One ``large_string`` array of a (small) slice."""
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return arr.cast(pa.large_string()) if arr.type != pa.large_string() else arr


def _equal_at(here: pa.Array | pa.ChunkedArray, at: np.ndarray, there: pa.Array | pa.ChunkedArray) -> bool:
    """Whether ``here[at[i]] == there[i]`` for every ``i`` (``at`` increasing, not empty): one
    block of the aligned check, on a slice of ``here`` (never the whole column cast)."""
    a = _combined(here.slice(int(at[0]), int(at[-1] - at[0]) + 1)).take(pa.array(at - at[0]))
    return bool(pc.all(pc.equal(a, _combined(there))).as_py())


def _same_keys_at(keys: pd.Series, previous_keys: pd.Series, aligned: np.ndarray, block: int = 1 << 20) -> bool:
    """Whether ``keys[aligned[i]] == previous_keys[i]`` for every ``i`` (no missing key; ``aligned``
    increasing), compared a block at a time: the whole columns taken and cast at once held three copies of 20 M keys
    (about 2 GB at 1M persons) at the resolution's peak."""
    here, there = _own_arrow(keys), _own_arrow(previous_keys)
    if here.null_count or there.null_count:
        return False
    if len(aligned) > 1 and not (np.diff(aligned) > 0).all():
        return False  # the rows of records in time order, as the caller builds them, increase
    for i in range(0, len(aligned), block):
        at = aligned[i:i + block]
        if not _equal_at(here, at, there.slice(i, len(at))):
            return False
    return True


#: Rows of the previous map read at once when it is given as its Parquet file (:func:`_read_previous`).
PREVIOUS_BATCH_ROWS = 1 << 20


def _read_previous(path: Path, keys: pd.Series, aligned: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """From the previous map's Parquet file (``record_key``, ``oneid``): each of its rows' OneID
    number, and each record's row in it (-1: not there).

    Read :data:`PREVIOUS_BATCH_ROWS` rows at a time: the numbers are parsed and, with ``aligned``
    (see :func:`_previous_positions`), the keys compared batch by batch, so that neither column
    is ever held whole (at 5M persons the whole map, 94 M keys and OneIDs as strings, took the
    second month's resolution past 21.5 GB at its numbering). Without ``aligned``, or on any
    difference, the key column is read whole and joined as :func:`_previous_positions` does.
    """
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    n = f.metadata.num_rows
    nums = np.empty(n, dtype=np.int64)
    here = _own_arrow(keys)
    same = (aligned is not None and len(aligned) == n and n > 0 and not here.null_count
            and (n == 1 or bool((np.diff(aligned) > 0).all())))
    i = 0
    for batch in f.iter_batches(batch_size=PREVIOUS_BATCH_ROWS, columns=["record_key", "oneid"] if same else ["oneid"]):
        k = batch.num_rows
        nums[i:i + k] = parse_oneids(batch.column("oneid"), first_row=i)
        if same and k:
            at = aligned[i:i + k]
            there = batch.column("record_key")
            same = not there.null_count and _equal_at(here, at, there)
        i += k
    if same or n == 0:
        small = np.int32 if n < 2**31 else np.int64  # positions in the map: half the memory (0.4 GB at 5M)
        pos = np.full(len(keys), -1, dtype=small)
        if n:
            pos[aligned] = np.arange(n, dtype=small)
        return nums, pos
    return nums, index_in(keys, pd.Series(pd.arrays.ArrowStringArray(
        f.read(columns=["record_key"]).column(0).cast(pa.large_string()))))


def _previous_positions(keys: pd.Series, previous_keys: pd.Series, aligned: np.ndarray | None) -> np.ndarray:
    """Each record's row in the previous map (-1: not there). ``aligned``, when given, says where
    the previous map's records should be (its rows in order); it is used only if every key there
    is the previous map's key, else (and without it) a hash join on the keys finds them."""
    if (aligned is not None and len(aligned) == len(previous_keys) and len(aligned)
            and _same_keys_at(keys, previous_keys, aligned)):
        pos = np.full(len(keys), -1, dtype=np.int64)
        pos[aligned] = np.arange(len(aligned), dtype=np.int64)
        return pos
    return index_in(keys, previous_keys)


def _absent(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """The distinct ``values`` not in ``present``, sorted (``np.setdiff1d``), for non-negative
    integers: by marks on a boolean array when the largest value is not much more than the
    values' count (OneID numbers: ``np.setdiff1d`` of 20 M of them at 1M persons took 7 s), else
    by a sort (:func:`omni.oneid.graph.sorted_unique`)."""
    top = int(max(values.max(initial=-1), present.max(initial=-1)))
    if values.min(initial=0) < 0 or present.min(initial=0) < 0 or top > 4 * (len(values) + len(present)) + (1 << 20):
        u = sorted_unique(values)  # numpy's own np.unique (and so setdiff1d) hashes: far slower
        return u[~np.isin(u, present)]
    seen = np.zeros(top + 1, dtype=bool)
    seen[values] = True
    seen[present] = False
    return np.flatnonzero(seen).astype(values.dtype, copy=False)


def _counted(prev_num: np.ndarray, pos: np.ndarray, has: np.ndarray, codes: np.ndarray,
             n_cl: int, block: int = 1 << 22) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(prev_num[pos[has]] * n_cl + codes[has], return_counts=True)`` with one
    whole-length array: the key is made a block of rows at a time into it, sorted where it is
    and counted by its runs (the whole-length temporaries of ``pos[has]``, ``prev_num[...]`` and
    ``codes[has]`` were 2.2 GB at 100 M records, where the 5M second month's numbering stopped)."""
    prev_num = prev_num.astype(np.int64, copy=False)
    key = np.empty(int(np.count_nonzero(has)), dtype=np.int64)
    at = 0
    for s in range(0, len(pos), block):
        h = has[s:s + block]
        got = pos[s:s + block][h]
        part = key[at:at + len(got)]
        np.take(prev_num, got, out=part)
        part *= np.int64(n_cl)
        part += codes[s:s + block][h]
        at += len(got)
    key.sort()
    if not len(key):
        return key, np.zeros(0, dtype=np.intp)
    starts = np.empty(len(key), dtype=bool)
    starts[0] = True
    np.not_equal(key[1:], key[:-1], out=starts[1:])
    first = np.flatnonzero(starts)
    del starts
    n = np.diff(np.append(first, len(key))).astype(np.intp, copy=False)
    return key[first], n


def assign_oneid_numbers(
    clusters: pd.DataFrame, previous: pd.DataFrame | str | Path | None = None, aligned: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """:func:`assign_oneids` without the strings: the OneID number of every cluster.

    ``previous`` may be the previous map's Parquet file (a cached ``record_oneid.parquet``): it is
    then read a batch of rows at a time (:func:`_read_previous`).

    ``aligned`` (optional): the rows of ``clusters`` that hold the previous map's records, in its
    order, when the caller knows them (last month resolved from the same files: the records
    before its end). Checked key by key; on any difference the keys are joined as without it.

    Returns
    -------
    numbers : ndarray of int64
        OneID number of each dense cluster code (``format_oneid`` turns it into the id).
    codes : ndarray of int64
        Dense cluster code of every record (first appearance order).
    changes : DataFrame
        As in :func:`assign_oneids`.
    """
    cl = clusters["cluster"].to_numpy()
    codes, _ = dense_codes(cl) if len(cl) else (np.zeros(0, dtype=np.int64), None)  # dense, in record order
    n_cl = int(codes.max()) + 1 if len(codes) else 0
    size = np.bincount(codes, minlength=n_cl)
    assigned = np.full(n_cl, -1, dtype=np.int64)
    events: list[pd.DataFrame] = []
    next_number = 1
    prev_num = pos = None
    if isinstance(previous, str | Path):
        prev_num, pos = _read_previous(Path(previous), clusters["record_key"], aligned)
    elif previous is not None and len(previous):
        prev_num = parse_oneid(previous["oneid"])
        # each record's previous OneID number: a hash join in Arrow on the record keys (first row
        # of a key, as drop_duplicates kept it); at 20 M records pandas' reindex on string keys took
        # minutes and several GB of Python strings
        pos = _previous_positions(clusters["record_key"], previous["record_key"], aligned)
    del previous  # its strings (0.7 GB at 1M persons) are done with; the caller hands it over
    had_previous = prev_num is not None and len(prev_num) > 0
    if had_previous:
        prev_num = pd.Series(prev_num)
        next_number = int(prev_num.max()) + 1
        has = pos >= 0
        # records per (previous id, cluster): one int64 key per pair, counted by a sort (pandas'
        # two-column value_counts took several GB at 20 M records), made and sorted in place:
        # np.unique's whole-length copies (about 0.75 GB each at 94 M records) were the peak of
        # the second month's numbering at 5M persons
        pair, n = _counted(prev_num.to_numpy(), pos, has, codes, n_cl)
        del pos, has
        cell = pd.DataFrame({"prev": pair // n_cl, "cl": pair % n_cl, "n": n})
        # each previous id goes to the cluster holding most of its records
        cell = cell.sort_values(["prev", "n", "cl"], ascending=[True, False, True])
        home = cell.drop_duplicates("prev")
        # each cluster keeps the oldest previous id it received
        keep = home.sort_values(["cl", "prev"]).drop_duplicates("cl")
        assigned[keep["cl"].to_numpy()] = keep["prev"].to_numpy()
        # (as integer arrays: a set of 14 M Python ints was a GB at 5M persons)
        merged = home[~np.isin(home["prev"].to_numpy(), keep["prev"].to_numpy())].merge(
            keep[["cl", "prev"]].rename(columns={"prev": "into"}), on="cl"
        )
        split = cell.merge(home[["prev", "cl"]], on=["prev", "cl"], how="left", indicator=True)
        split = split[split["_merge"] == "left_only"]
        retired = _absent(prev_num.to_numpy(), cell["prev"].to_numpy())
        events += [
            pd.DataFrame({"num": keep["prev"].to_numpy(), "change": "kept", "other": -1, "n_records": keep["n"].to_numpy()}),
            pd.DataFrame({"num": merged["prev"].to_numpy(), "change": "merged_into", "other": merged["into"].to_numpy(), "n_records": merged["n"].to_numpy()}),
            pd.DataFrame({"num": retired, "change": "retired", "other": -1, "n_records": 0}),
        ]
    new_cl = np.flatnonzero(assigned < 0)
    assigned[new_cl] = next_number + np.arange(len(new_cl))
    new_events = pd.DataFrame({"num": assigned[new_cl], "change": "new", "other": -1, "n_records": size[new_cl]})
    if had_previous and len(split):
        # clusters that took part of a previous id's records but not the id: new ids split off it
        split_cl = split[["cl", "prev"]].drop_duplicates("cl")
        split_cl = split_cl[np.isin(split_cl["cl"].to_numpy(), new_cl)]
        new_events.loc[new_events["num"].isin(assigned[split_cl["cl"].to_numpy()]), "change"] = "split_from"
        other = pd.Series(split_cl["prev"].to_numpy(), index=assigned[split_cl["cl"].to_numpy()])
        mask = new_events["change"] == "split_from"
        new_events.loc[mask, "other"] = other.reindex(new_events.loc[mask, "num"]).to_numpy()
    events.append(new_events)
    ev = pd.concat(events, ignore_index=True)
    changes = pd.DataFrame(
        {
            "oneid": pd.array(format_oneid_arrow(ev["num"].to_numpy()), dtype="string[pyarrow]"),
            "change": ev["change"].to_numpy(),
            "other": _other_ids(ev["other"].to_numpy()),
            "n_records": ev["n_records"].to_numpy(),
        }
    )
    return assigned, codes, changes
