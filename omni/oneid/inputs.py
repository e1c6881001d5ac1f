"""From the identifier table to the graph: record positions, value codes and distinct edges.

:func:`build_state` turns the identifier table (one row per identifier found on a record) into a
:class:`~omni.oneid.state.GraphState`: every record a position, every valid (type, value) a value
position, and the distinct (record, value) edges as int32 arrays; the unusable rows are kept
apart to explain why records were not linked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from omni.oneid.config import OneIDConfig
from omni.oneid.graph import dense_codes, sorted_unique, unique_pairs
from omni.oneid.state import GraphState, as_datetime, type_order

__all__ = ["ID_COLUMNS", "as_datetime", "build_state", "check_ids", "factorize_strings", "record_index",
           "record_positions"]

#: Required identifier-table columns; a record is named by ``record_key`` or by ``source`` + ``row``
#: (the lean identifier table of :func:`omni.normalize.link_table` has no key strings).
ID_COLUMNS = ("id_type", "value", "valid")


def check_ids(ids: pd.DataFrame) -> None:
    missing = [c for c in ID_COLUMNS if c not in ids.columns]
    if "record_key" not in ids.columns and not {"source", "row"} <= set(ids.columns):
        missing.append("record_key (or source and row)")
    if missing:
        raise ValueError(
            f"identifier table is missing column(s) {missing}; it has {list(ids.columns)}"
        )


def record_index(ids: pd.DataFrame, records: pd.DataFrame | None) -> pd.DataFrame:
    if records is None:
        if "record_key" not in ids.columns:
            raise ValueError("an identifier table without record_key needs the records to resolve "
                             "(source, row): pass records")
        cols = ["record_key", "source"] if "source" in ids.columns else ["record_key"]
        records = ids[cols].drop_duplicates("record_key")
    elif "record_key" not in records.columns and not {"source", "row"} <= set(records.columns):
        raise ValueError("records must have a 'record_key' column or 'source' and 'row'")
    records = records.reset_index(drop=True)
    if {"source", "row"} <= set(records.columns):
        # integer keys: (source code, row); already strictly increasing in the usual layout
        key = records["source"].astype("category").cat.codes.to_numpy().astype(np.int64)
        row = records["row"].to_numpy()
        key *= np.int64(max(int(row.max(initial=0)), 0) + 1)
        key += row  # in place: one 8-byte array for 20M records
        if len(key) > 1 and not (key[1:] > key[:-1]).all():
            n_dup = len(key) - len(sorted_unique(key))
            if n_dup:
                dup = pd.Series(key).duplicated().to_numpy()
                first = (records.loc[dup, "record_key"].iloc[0] if "record_key" in records.columns
                         else f"{records.loc[dup, 'source'].iloc[0]} row {records.loc[dup, 'row'].iloc[0]}")
                raise ValueError(f"records has {n_dup} duplicated record(s) (same source and row), e.g. row "
                                 f"{int(np.flatnonzero(dup)[0])}: {first!r}")
    else:
        dup = records["record_key"].duplicated()
        if dup.any():
            first = records.loc[dup, "record_key"].iloc[0]
            raise ValueError(f"records has {int(dup.sum())} duplicated record_key(s), e.g. row {int(np.flatnonzero(dup)[0])}: {first!r}")
    if "source" not in records.columns:
        records = records.assign(source=records["record_key"].astype(str).str.split(":", n=1).str[0])
    return records


def record_positions(ids: pd.DataFrame, records: pd.DataFrame, unknown: str = "raise") -> np.ndarray:
    """Position in ``records`` of every identifier row.

    With ``source`` and ``row`` (the record's position in its source table) in both frames this is
    integer arithmetic; otherwise the record keys are looked up.
    """
    if {"source", "row"} <= set(ids.columns) and {"source", "row"} <= set(records.columns):
        # dense table: slot = offset of the source + row, no hashing or sorting
        rs = records["source"].astype("category")
        r_src = rs.cat.codes.to_numpy()
        r_row = records["row"].to_numpy()
        n_src = len(rs.cat.categories)
        size = np.zeros(n_src, dtype=np.int64)
        np.maximum.at(size, r_src, r_row.astype(np.int64) + 1)
        offset = np.r_[0, np.cumsum(size)[:-1]].astype(np.int64)
        pos_type = np.int32 if len(records) < 2**31 - 1 else np.int64
        slot_to_pos = np.full(int(size.sum()), -1, dtype=pos_type)
        r_slot = offset[r_src]
        r_slot += r_row
        slot_to_pos[r_slot] = np.arange(len(records), dtype=pos_type)
        del r_slot
        ic = ids["source"].astype("category")
        to_rec = rs.cat.categories.get_indexer(ic.cat.categories.astype(str))
        # per ids-source category: its offset in the slot table and its size (-1 / 0: unknown),
        # then one int64 slot array for the 30M rows (few large temporaries: page faults are
        # what large arrays cost on small VMs)
        cat_off = np.r_[np.where(to_rec >= 0, offset[np.maximum(to_rec, 0)], -1), -1].astype(np.int64)
        cat_size = np.r_[np.where(to_rec >= 0, size[np.maximum(to_rec, 0)], 0), 0].astype(np.int64)
        codes = ic.cat.codes.to_numpy()
        i_row = ids["row"].to_numpy()
        if not np.issubdtype(i_row.dtype, np.integer):
            i_row = i_row.astype(np.int64)
        slot = cat_off[codes]  # code -1 (missing source) picks the trailing -1
        ok = (slot >= 0) & (i_row >= 0) & (i_row < cat_size[codes])
        slot += i_row
        if ok.all():
            rec_all = slot_to_pos[slot]
        else:
            rec_all = np.full(len(ids), -1, dtype=slot_to_pos.dtype)
            rec_all[ok] = slot_to_pos[slot[ok]]
        del slot
    else:
        if "record_key" not in ids.columns or "record_key" not in records.columns:
            raise ValueError("the rows name their records by source and row, which the records do not "
                             "have (or by record_key, which one of them lacks): give both the same")
        rec_all = pd.Index(records["record_key"]).get_indexer(ids["record_key"])
    if unknown == "raise" and (rec_all < 0).any():
        i = int(np.flatnonzero(rec_all < 0)[0])
        bad = (repr(ids["record_key"].iloc[i]) if "record_key" in ids.columns
               else f"{ids['source'].iloc[i]} row {ids['row'].iloc[i]}")
        raise ValueError(f"identifier row {i} names a record that is not in records: {bad}")
    return rec_all


def factorize_strings(values) -> tuple[np.ndarray, object]:
    """Codes and distinct values of a string array; Arrow strings are dictionary-encoded by
    pyarrow directly (pandas' factorize adds copies around the same kernel). Already encoded
    values (pandas categoricals, Arrow dictionaries sharing one dictionary, as
    :func:`omni.normalize.link_table` makes them) give their codes without hashing."""
    if isinstance(values, pd.Categorical):
        return values.codes.astype(np.int64), values.categories.array
    if not isinstance(values, pd.arrays.ArrowExtensionArray):
        return pd.factorize(values)
    pa_arr = values.__arrow_array__()  # the Arrow data itself (public protocol, no copy)
    if pa.types.is_dictionary(pa_arr.type) and pa_arr.num_chunks:
        d0 = pa_arr.chunk(0).dictionary
        def same(d: pa.Array) -> bool:  # shared buffers (the usual case) or equal values
            return [b.address if b else 0 for b in d.buffers()] == [b.address if b else 0 for b in d0.buffers()] \
                or d.equals(d0)

        if all(same(c.dictionary) for c in pa_arr.chunks[1:]):
            codes = np.concatenate([c.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
                                    for c in pa_arr.chunks])
            return codes, pd.array(d0, dtype="string[pyarrow]")
        pa_arr = pa_arr.cast(d0.type)
    enc = pa_arr.combine_chunks().dictionary_encode() if pa_arr.num_chunks != 1 else pa_arr.chunk(0).dictionary_encode()
    codes = enc.indices.to_numpy(zero_copy_only=False)
    if enc.null_count:
        codes = np.where(enc.is_null().to_numpy(zero_copy_only=False), -1, codes)
    return codes.astype(np.int64), pd.array(enc.dictionary, dtype="string[pyarrow]")


def _value_codes(ids: pd.DataFrame, valid: np.ndarray, config: OneIDConfig
                 ) -> tuple[np.ndarray, np.ndarray, list[str], pd.Series, np.ndarray, np.ndarray]:
    """Dense code of the (type, value) of every valid row.

    Returns
    -------
    vid : ndarray of int64
        Value code of each valid row.
    val_type : ndarray of int64
        Type code of each value (position in ``types``).
    types : list of str
        :func:`omni.oneid.state.type_order` of the types seen on valid rows.
    val_value : Series
        Text of each value.
    it_names, it_codes : ndarray
        Identifier-type categories and the category code of every row (for the invalid rows).
    """
    it = ids["id_type"].astype("category")
    it_names = np.asarray(it.cat.categories.astype(str), dtype=object)
    it_codes = it.cat.codes.to_numpy()
    present = it_names[np.flatnonzero(np.bincount(it_codes[valid & (it_codes >= 0)], minlength=len(it_names)))]
    types = type_order(config, present)
    type_code_of = {t: i for i, t in enumerate(types)}
    cat_to_code = np.array([type_code_of.get(t, -1) for t in it_names], dtype=np.int64)
    tcode = cat_to_code[it_codes[valid]]
    values_arr = ids["value"].array
    if isinstance(values_arr, pd.arrays.NumpyExtensionArray):
        values_arr = values_arr.to_numpy()
    # the whole column is encoded (no masked copy of 30M strings); codes of invalid rows are dropped
    vcodes, vuniques = factorize_strings(values_arr)
    del values_arr
    vcodes = vcodes[valid]
    combo = tcode * np.int64(len(vuniques) + 1) + vcodes
    del vcodes, tcode
    vid, combo_uniques = dense_codes(combo)
    del combo
    val_type = (combo_uniques // np.int64(len(vuniques) + 1)).astype(np.int64)
    val_value = pd.Series(np.asarray(vuniques, dtype=object)[combo_uniques % np.int64(len(vuniques) + 1)]
                          if isinstance(vuniques, np.ndarray)
                          else vuniques.take(combo_uniques % np.int64(len(vuniques) + 1)))
    return vid, val_type, types, val_value, it_names, it_codes


def build_state(
    ids: pd.DataFrame,
    records: pd.DataFrame | None = None,
    config: OneIDConfig | None = None,
    times: pd.Series | None = None,
    unknown_records: str = "raise",
) -> tuple[GraphState, pd.DataFrame, pd.Series, pd.DataFrame]:
    """The graph of an identifier table, ready for the rules.

    Parameters
    ----------
    ids, records, config, times, unknown_records
        As in :func:`omni.oneid.resolve.resolve_identities`.

    Returns
    -------
    state : GraphState
        Distinct edges of the valid rows; statuses by type.
    records : DataFrame
        The record index (``record_key`` and/or ``source``, ``row``), one row per record position.
    values : Series
        Text of each value position.
    invalid : DataFrame
        The unusable rows: ``rec``, ``id_type``, ``raw``, ``reason``.
    """
    config = config or OneIDConfig()
    check_ids(ids)
    records = record_index(ids, records)
    n_rec = len(records)
    rec_all = record_positions(ids, records, unknown_records)
    valid = ids["valid"].fillna(False).to_numpy(dtype=bool) & ids["value"].notna().to_numpy()
    inv = ~valid
    if unknown_records == "drop" and (rec_all < 0).any():
        # rows of records not resolved here (after an as-of cut) are masked out, not copied out:
        # a copy of the table is some 3.5 GB at 5M persons
        known = rec_all >= 0
        valid &= known
        inv &= known
        del known
    vid, val_type, types, val_value, it_names, it_codes = _value_codes(ids, valid, config)
    rec, val = unique_pairs(rec_all[valid], vid, len(val_type))
    del vid
    # the unusable rows, kept to explain why records were not linked; then the per-row arrays go
    invalid = pd.DataFrame(
        {
            "rec": rec_all[inv].astype(np.int64),
            "id_type": it_names[it_codes[inv]],
            "raw": ids["raw"].array[inv] if "raw" in ids.columns else None,
            "reason": (pd.Series(ids["reason"].array[inv]).astype(object).fillna("invalid").to_numpy()
                       if "reason" in ids.columns else "invalid"),
        }
    )
    del rec_all, inv, valid, it_codes, ids
    if max(n_rec, len(val_type)) < 2**31 - 1:  # int32 edge lists: half the memory of every edge array
        rec, val = rec.astype(np.int32), val.astype(np.int32)
    state = GraphState.from_edges(rec, val, n_rec, val_type, types, config, times=times)
    return state, records, val_value, invalid
