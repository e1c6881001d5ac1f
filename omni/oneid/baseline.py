"""The naive baseline a resolution is measured against: connect every record pair sharing a value.

Used by ``omni resolve --evaluate``, the OneID benchmark and the identity report (how much the rules
hold back). The report's own health summaries live in :mod:`omni.identity.health`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omni.oneid.graph import bipartite_components, dense_codes

__all__ = ["naive_clusters", "naive_labels"]


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


def naive_labels(ids: pd.DataFrame, records: pd.DataFrame) -> np.ndarray:
    """:func:`naive_clusters` on the lean identifier table (:func:`omni.normalize.link_table`).

    Records are ``(source, row)`` here, not keys: ``records`` has ``source`` (categorical) and
    ``row``, and identifier rows of records not in ``records`` (cut by an as-of date) are left
    out. The same partition as :func:`naive_clusters` on the full identifier table: the
    normalized value where there is one, the trimmed, lower-cased raw value otherwise, keyed by
    type. Works on integer codes (the lean table's value dictionary), so it costs seconds at 20 M
    records; the resolution computes it once and caches it for the identity report.

    Returns
    -------
    ndarray of int64
        Cluster label per row of ``records``.
    """
    # 32-bit positions and codes where they fit (records and values number in the tens of millions
    # at 1M persons): every scratch array is half the size, and each goes once its last user is done
    idx = np.int32 if max(len(ids), len(records)) < 2**31 - 1 else np.int64
    rec_names = [str(c) for c in records["source"].cat.categories]
    sizes = np.zeros(len(rec_names), dtype=np.int64)
    r_src = records["source"].cat.codes.to_numpy()
    r_row = records["row"].to_numpy(np.int64)
    np.maximum.at(sizes, r_src, r_row + 1) if len(r_row) else None
    offset = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    pos = np.full(int(sizes.sum()), -1, dtype=idx)
    pos[offset[r_src] + r_row] = np.arange(len(records), dtype=idx)
    del r_src, r_row
    # identifier rows -> record positions (-1: the record is not in ``records``)
    id_names = [str(c) for c in ids["source"].cat.categories]
    to_rec = np.array([rec_names.index(n) if n in rec_names else -1 for n in id_names] + [-1], dtype=np.int64)
    i_src = to_rec[ids["source"].cat.codes.to_numpy()]
    i_row = ids["row"].to_numpy(np.int64)
    known = i_src >= 0
    known[known] = i_row[known] < sizes[i_src[known]]
    rec = np.full(len(ids), -1, dtype=idx)
    rec[known] = pos[offset[i_src[known]] + i_row[known]]
    del pos, i_src, i_row, known
    # the value's string: normalized value, else the trimmed lower-cased raw value; strings are
    # compared in Arrow (the value dictionary has millions of entries: no Python string per entry)
    import pyarrow as pa
    import pyarrow.compute as pc

    value = ids["value"]
    arr = value.array.__arrow_array__() if hasattr(value.array, "__arrow_array__") else None
    if arr is not None and str(arr.type).startswith("dictionary"):
        combined = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        v_codes = pc.fill_null(combined.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        v_codes[combined.is_null().to_numpy(zero_copy_only=False)] = -1
        v_dict = combined.dictionary
        del combined
    else:
        codes, uniq = pd.factorize(value.astype("string"), use_na_sentinel=True)
        v_codes, v_dict = codes.astype(np.int64), pa.array(np.asarray(uniq, dtype=object), type=pa.large_string())
        del codes, uniq
    del arr
    if pa.types.is_string(v_dict.type):
        v_dict = v_dict.cast(pa.large_string())
    missing = np.flatnonzero(v_codes < 0)
    # only the rows without a normalized value (invalid ones: 5 % of the rows) become Python strings
    raw_lower = ids["raw"].iloc[missing].astype("string").str.strip().str.lower()
    r_codes, r_strings = pd.factorize(raw_lower, use_na_sentinel=True)
    del raw_lower
    r_arrow = pa.array(np.asarray(r_strings, dtype=object), type=pa.large_string())
    r_map = pc.fill_null(pc.index_in(r_arrow, value_set=v_dict), -1).to_numpy(zero_copy_only=False).astype(np.int64)
    fresh = r_map < 0
    r_map[fresh] = len(v_dict) + np.arange(int(fresh.sum()))
    s_code = v_codes  # the value's string code, in place
    s_code[missing] = np.where(r_codes >= 0, r_map[np.maximum(r_codes, 0)], -1)
    del missing, r_codes
    v_strings_len = len(v_dict)
    n_str = v_strings_len + int(fresh.sum())
    empty = np.zeros(n_str + 1, dtype=bool)  # codes of the empty string (never a link)
    empty[:v_strings_len] = pc.equal(v_dict, "").fill_null(False).to_numpy(zero_copy_only=False)
    empty[v_strings_len:n_str] = np.asarray(r_strings, dtype=object)[fresh] == ""
    del v_dict, r_arrow, r_strings
    ok = (s_code >= 0) & (rec >= 0)
    ok[ok] = ~empty[s_code[ok]]
    key = ids["id_type"].cat.codes.to_numpy(np.int64)[ok] * np.int64(n_str + 1) + s_code[ok]
    del s_code
    rec = rec[ok]
    del ok
    vcode, uniq = dense_codes(key)
    del key
    return bipartite_components(rec, vcode, len(records), len(uniq))
