"""The deterministic identity graph: records -> clusters of one person, without over-merging.

Algorithm (all steps vectorized over numpy arrays; no loop per record):

1. Usable edges: every valid (record, identifier value) pair of the identifier table.
2. Shared values: a value seen with more than ``max_cooccurring`` distinct values of one strong
   type (a kiosk device with hundreds of member ids), more than ``max_cooccurring_weak`` of one weak
   type, or on more records than its type's ``max_records`` is *shared* and never links.
3. Strong components: connected components of records <-> strong values (scipy sparse graph).
4. Limits: a component holding more distinct values of a type than ``max_per_profile`` allows is
   split by removing the value that bridges the most values of that type (a phone typed for four
   members); with no single bridge, the most recently seen values beyond the limit are removed.
   Repeated for up to ``max_split_rounds`` rounds; every removal is recorded.
5. Weak attachment: a weak value (cookie, device, single-app openid) that appears with exactly one
   strong component attaches records that carry no strong id to it; a weak value seen with two or
   more strong components is *ambiguous* and links nothing. Weak-only records are grouped through
   unambiguous weak values; a group that reaches exactly one strong component joins it, otherwise it
   stays a profile of its own. Weak values never merge two strong components.
6. Records with no usable identifier are profiles of their own (``how = "none"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from omni.oneid.config import OneIDConfig
from omni.oneid.graph import (
    bipartite_components,
    cooccurrence,
    dense_codes,
    group_components,
    sorted_unique,
    unique_pairs,
)

#: Required identifier-table columns; a record is named by ``record_key`` or by ``source`` + ``row``
#: (the lean identifier table of :func:`omni.normalize.link_table` has no key strings).
ID_COLUMNS = ("id_type", "value", "valid")

# Status of an identifier value in the graph: small int codes internally (fast comparisons over
# tens of millions of edges), names in the output.
HOW_NAMES = ("strong", "account", "weak", "probabilistic", "none")
STATUS_NAMES = ("strong", "weak", "shared", "ambiguous_weak", "over_limit", "not_linking", "bridge")
(STATUS_STRONG, STATUS_WEAK, STATUS_SHARED, STATUS_AMBIGUOUS, STATUS_OVER_LIMIT, STATUS_OTHER,
 STATUS_BRIDGE) = range(len(STATUS_NAMES))


@dataclass
class Resolution:
    """Result of :func:`resolve_identities`.

    Attributes
    ----------
    records : DataFrame
        One row per record: ``record_key``, ``source``, ``cluster`` (int, dense, in record order),
        ``how`` (``strong``: carries a person-level strong identifier; ``account``: linked only by
        a platform account id not bound to a person; ``weak``: attached or grouped by a weak
        identifier; ``none``: no usable identifier).
    values : DataFrame
        One row per distinct identifier value: ``id_type``, ``value``, ``n_records``, ``status``
        (strong, weak, shared, ambiguous_weak, over_limit, not_linking) and ``reason``.
    edges : DataFrame
        Distinct (record index, value index) pairs: ``rec``, ``val`` (positions into ``records`` and
        ``values``).
    removals : DataFrame
        What the limit rule removed: ``round``, ``val``, ``id_type``, ``limit_type``, ``rule``,
        ``component_size``.
    invalid : DataFrame
        Identifier rows that were not usable: ``rec`` (record position), ``id_type``, ``raw``,
        ``reason`` (kept to explain why two records were not linked).
    config : OneIDConfig
    """

    records: pd.DataFrame
    values: pd.DataFrame
    edges: pd.DataFrame
    removals: pd.DataFrame
    invalid: pd.DataFrame
    config: OneIDConfig = field(default_factory=OneIDConfig)

    @property
    def n_clusters(self) -> int:
        return int(self.records["cluster"].max()) + 1 if len(self.records) else 0


def _check_ids(ids: pd.DataFrame) -> None:
    missing = [c for c in ID_COLUMNS if c not in ids.columns]
    if "record_key" not in ids.columns and not {"source", "row"} <= set(ids.columns):
        missing.append("record_key (or source and row)")
    if missing:
        raise ValueError(
            f"identifier table is missing column(s) {missing}; it has {list(ids.columns)}"
        )


def _record_index(ids: pd.DataFrame, records: pd.DataFrame | None) -> pd.DataFrame:
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


def _record_positions(ids: pd.DataFrame, records: pd.DataFrame, unknown: str = "raise") -> np.ndarray:
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
        rec_all = pd.Index(records["record_key"]).get_indexer(ids["record_key"])
    if unknown == "raise" and (rec_all < 0).any():
        i = int(np.flatnonzero(rec_all < 0)[0])
        bad = (repr(ids["record_key"].iloc[i]) if "record_key" in ids.columns
               else f"{ids['source'].iloc[i]} row {ids['row'].iloc[i]}")
        raise ValueError(f"identifier row {i} names a record that is not in records: {bad}")
    return rec_all


def _factorize_strings(values) -> tuple[np.ndarray, object]:
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


def _as_datetime(s: pd.Series) -> np.ndarray:
    """datetime64[ns] values of a Series (no parsing cache pass when it is already datetime)."""
    if pd.api.types.is_datetime64_dtype(s.dtype):
        return s.to_numpy("datetime64[ns]")
    return pd.to_datetime(s, cache=False).to_numpy("datetime64[ns]")


def resolve_identities(
    ids: pd.DataFrame,
    records: pd.DataFrame | None = None,
    config: OneIDConfig | None = None,
    times: pd.Series | None = None,
    unknown_records: str = "raise",
) -> Resolution:
    """Cluster records into persons by the rules of :class:`OneIDConfig`.

    Parameters
    ----------
    ids : DataFrame
        The identifier table (``record_key``, ``id_type``, ``value``, ``valid``; see
        docs/data_contract.md). Invalid rows are kept for explanations but never link.
    records : DataFrame, optional
        Every record to resolve (``record_key``, ``source``), including records that carry no
        identifier at all (anonymous walk-ins). Defaults to the records named in ``ids``.
    config : OneIDConfig, optional
        Rules; defaults to ``OneIDConfig()``.
    times : Series, optional
        Record time indexed like ``records`` (used to prefer older values when splitting).
    unknown_records : {"raise", "drop"}
        What to do with identifier rows of records not in ``records`` (``drop``: ignore them, as
        when resolving up to an as-of date).

    Returns
    -------
    Resolution
    """
    config = config or OneIDConfig()
    _check_ids(ids)
    records = _record_index(ids, records)
    n_rec = len(records)
    rec_all = _record_positions(ids, records, unknown_records)
    if unknown_records == "drop" and (rec_all < 0).any():
        keep_rows = rec_all >= 0
        ids = ids[keep_rows].reset_index(drop=True)
        rec_all = rec_all[keep_rows]

    # --- values: (id_type, value) of valid rows --------------------------------------------
    valid = ids["valid"].fillna(False).to_numpy(dtype=bool) & ids["value"].notna().to_numpy()
    types_all = list(config.strong_types) + [t for t in config.weak_types if t not in config.strong_types]
    it = ids["id_type"].astype("category")
    it_names = np.asarray(it.cat.categories.astype(str), dtype=object)
    it_codes = it.cat.codes.to_numpy()
    type_code_of = {t: i for i, t in enumerate(types_all)}
    present = it_names[np.flatnonzero(np.bincount(it_codes[valid & (it_codes >= 0)], minlength=len(it_names)))]
    for t in sorted(set(present) - set(types_all)):
        type_code_of[t] = len(type_code_of)
    all_types = list(type_code_of)
    n_types = len(all_types)
    cat_to_code = np.array([type_code_of.get(t, -1) for t in it_names], dtype=np.int64)
    tcode = cat_to_code[it_codes[valid]]
    values_arr = ids["value"].array
    if isinstance(values_arr, pd.arrays.NumpyExtensionArray):
        values_arr = values_arr.to_numpy()
    # the whole column is encoded (no masked copy of 30M strings); codes of invalid rows are dropped
    vcodes, vuniques = _factorize_strings(values_arr)
    del values_arr
    vcodes = vcodes[valid]
    combo = tcode * np.int64(len(vuniques) + 1) + vcodes
    del vcodes, tcode
    vid, combo_uniques = dense_codes(combo)
    del combo
    n_val = len(combo_uniques)
    val_type = (combo_uniques // np.int64(len(vuniques) + 1)).astype(np.int64)
    val_value = pd.Series(np.asarray(vuniques, dtype=object)[combo_uniques % np.int64(len(vuniques) + 1)]
                          if isinstance(vuniques, np.ndarray)
                          else vuniques.take(combo_uniques % np.int64(len(vuniques) + 1)))

    rec, val = unique_pairs(rec_all[valid], vid, n_val)
    del vid
    # the unusable rows, kept to explain why records were not linked; then the per-row arrays go
    inv = ~valid
    invalid = pd.DataFrame(
        {
            "rec": rec_all[inv].astype(np.int64),
            "id_type": it_names[it_codes[inv]],
            "raw": ids["raw"].array[inv] if "raw" in ids.columns else None,
            "reason": (pd.Series(ids["reason"].array[inv]).astype(object).fillna("invalid").to_numpy()
                       if "reason" in ids.columns else "invalid"),
        }
    )
    del rec_all, inv, valid, it_codes
    if max(n_rec, n_val) < 2**31 - 1:  # int32 edge lists: half the memory of every edge array
        rec, val = rec.astype(np.int32), val.astype(np.int32)
    n_records_per_val = np.bincount(val, minlength=n_val)

    strong_type_mask = np.isin(np.arange(n_types), [type_code_of[t] for t in config.strong_types])
    weak_type_mask = np.isin(np.arange(n_types), [type_code_of[t] for t in config.weak_types if t in type_code_of])
    is_strong_val = strong_type_mask[val_type]
    is_weak_val = weak_type_mask[val_type]

    # --- shared values ---------------------------------------------------------------------
    # distinct co-occurring values per type, in one pass over strong and weak partners; the
    # strong and weak views are column masks (a type is strong or weak, not both)
    cooc = cooccurrence(rec, val, is_strong_val | is_weak_val, val_type, n_val, n_types)
    strong_cols = strong_type_mask & ~weak_type_mask
    cooc_strong_max = cooc[:, strong_cols].max(axis=1) if strong_cols.any() else np.zeros(n_val, np.int32)
    cooc_weak_max = cooc[:, weak_type_mask].max(axis=1) if weak_type_mask.any() else np.zeros(n_val, np.int32)
    status = np.full(n_val, STATUS_OTHER, dtype=np.int8)
    status[is_strong_val] = STATUS_STRONG
    status[is_weak_val] = STATUS_WEAK
    reason = np.full(n_val, None, dtype=object)
    too_many_strong = cooc_strong_max > config.max_cooccurring
    too_many_weak = cooc_weak_max > config.max_cooccurring_weak
    rec_cap = np.array([config.max_records.get(t, np.iinfo(np.int64).max) for t in all_types])
    too_many_records = n_records_per_val > rec_cap[val_type]
    linkable = (status == STATUS_STRONG) | (status == STATUS_WEAK)
    why_names = np.array(["", "seen_with_many_strong_ids", "seen_with_many_weak_ids", "too_many_records"], dtype=object)
    why = np.select([too_many_strong, too_many_weak, too_many_records], [1, 2, 3], 0).astype(np.int8)
    hit = (why > 0) & linkable
    status[hit] = STATUS_SHARED
    reason[hit] = why_names[why[hit]]

    # --- strong components with limit splitting --------------------------------------------
    removals: list[pd.DataFrame] = []
    limits = np.array([config.max_per_profile.get(t, np.iinfo(np.int64).max) for t in all_types])
    t_rec = None
    if times is not None:
        t_rec = _as_datetime(pd.Series(times).reset_index(drop=True)).astype("int64")

    def first_seen(vals: np.ndarray) -> np.ndarray:
        """Earliest record time of each of a few values (only split candidates need it)."""
        if t_rec is None:
            return vals
        pos = np.full(n_val, -1, dtype=np.int64)
        u = sorted_unique(vals)
        pos[u] = np.arange(len(u))
        sel = pos[val] >= 0
        out = np.full(len(u), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(out, pos[val[sel]], t_rec[rec[sel]])
        return out[pos[vals]]

    linking = np.zeros(len(STATUS_NAMES), dtype=bool)
    linking[[STATUS_STRONG, STATUS_BRIDGE]] = True
    idx_type = np.int32 if max(n_rec, n_val) < 2**31 - 1 else np.int64
    rec_local = np.full(n_rec, -1, dtype=idx_type)  # scratch maps for sub-graph recomputation
    val_local = np.full(n_val, -1, dtype=idx_type)

    def recompute(labels: np.ndarray, comps: np.ndarray) -> np.ndarray:
        """Components again inside the given components only (values were removed from them;
        every other component is unchanged)."""
        aff = np.zeros(int(labels.max()) + 1, dtype=bool)
        aff[comps] = True
        r_in = np.flatnonzero(aff[labels])
        e_in = aff[labels[rec]] & linking[status[val]]
        er, ev = rec[e_in], val[e_in]
        vu = sorted_unique(ev)
        rec_local[r_in] = np.arange(len(r_in))
        val_local[vu] = np.arange(len(vu))
        sub = bipartite_components(rec_local[er], val_local[ev], len(r_in), len(vu))
        rec_local[r_in] = -1
        val_local[vu] = -1
        labels = labels.copy()
        labels[r_in] = labels.max() + 1 + sub
        return labels

    def split_over_limits(labels: np.ndarray) -> np.ndarray:
        """Split components that hold more values of a type than its limit allows.

        Returns dense labels (< n_rec): later steps pack (value, label) pairs into int64 keys.
        """
        labels = dense_codes(labels)[0]
        for rnd in range(config.max_split_rounds + 1):
            use = linking[status[val]]
            comp_of_val = np.full(n_val, -1, dtype=np.int64)
            comp_of_val[val[use]] = labels[rec[use]]
            live = np.flatnonzero(comp_of_val >= 0)
            # distinct values per (component, type): run lengths of the sorted (comp, type) keys
            ct = np.sort(comp_of_val[live] * np.int64(n_types) + val_type[live])
            starts = np.flatnonzero(np.r_[True, ct[1:] != ct[:-1]]) if len(ct) else np.zeros(0, dtype=np.int64)
            runs = np.diff(np.r_[starts, len(ct)])
            keys = ct[starts]
            is_over = runs > limits[keys % n_types]
            if not is_over.any() or rnd == config.max_split_rounds:
                return labels
            over = pd.DataFrame({"comp": keys[is_over] // n_types, "t": keys[is_over] % n_types,
                                 "n": runs[is_over]})
            # one type per component per round: the one with most values (ties: type priority)
            over = over.sort_values(["comp", "n", "t"], ascending=[True, False, True]).drop_duplicates("comp")
            cand = pd.DataFrame({"val": live, "comp": comp_of_val[live]}).merge(over, on="comp")
            cand["score"] = cooc[cand["val"].to_numpy(), cand["t"].to_numpy()] * strong_cols[cand["t"].to_numpy()]
            cand["n_rec"] = n_records_per_val[cand["val"].to_numpy()]
            cand["first"] = first_seen(cand["val"].to_numpy())
            cand = cand.sort_values(["comp", "score", "n_rec", "first"], ascending=[True, False, False, False])
            best = cand.drop_duplicates("comp")
            bridge = best[best["score"] >= 2]
            no_bridge_comps = best.loc[best["score"] < 2, "comp"]
            # with no bridging value, drop the values of the offending type beyond the limit,
            # keeping the most used and, among equals, the oldest
            tail = cand[cand["comp"].isin(no_bridge_comps) & (val_type[cand["val"].to_numpy()] == cand["t"].to_numpy())]
            tail = tail.sort_values(["comp", "n_rec", "first"], ascending=[True, False, True])
            tail = tail[tail.groupby("comp").cumcount() >= limits[tail["t"].to_numpy()]]
            comp_size = np.bincount(labels)
            drop = pd.concat(
                [bridge.assign(rule="bridge"), tail.assign(rule="beyond_limit")], ignore_index=True
            )
            status[drop["val"].to_numpy()] = STATUS_OVER_LIMIT
            reason[drop["val"].to_numpy()] = "profile_limit_" + pd.Series(all_types).iloc[drop["t"].to_numpy()].to_numpy()
            removals.append(
                pd.DataFrame(
                    {
                        "round": rnd + 1,
                        "val": drop["val"].to_numpy(),
                        "id_type": np.asarray(all_types, dtype=object)[val_type[drop["val"].to_numpy()]],
                        "limit_type": np.asarray(all_types, dtype=object)[drop["t"].to_numpy()],
                        "rule": drop["rule"].to_numpy(),
                        "component_size": comp_size[drop["comp"].to_numpy()],
                    }
                )
            )
            labels = dense_codes(recompute(labels, over["comp"].to_numpy()))[0]
        return labels

    use = linking[status[val]]
    labels = split_over_limits(bipartite_components(rec[use], val[use], n_rec, n_val))
    # Bridging weak ids (an openid is one person's WeChat account in one app): seen with 2 to
    # max_bridge_profiles strong profiles, they join them; seen with more they stay ambiguous.
    bridge_codes = [type_code_of[t] for t in config.bridging_types if t in type_code_of]
    if bridge_codes:
        is_b = np.isin(val_type[val], bridge_codes) & (status[val] == STATUS_WEAK)
        in_comp = np.zeros(n_rec, dtype=bool)
        in_comp[rec[status[val] == STATUS_STRONG]] = True
        sel = is_b & in_comp[rec]
        bv, bc = unique_pairs(val[sel], labels[rec[sel]], n_rec + n_val)
        n_b = np.bincount(bv, minlength=n_val)
        joins = (n_b >= 2) & (n_b <= config.max_bridge_profiles)
        if joins.any():
            status[joins] = STATUS_BRIDGE
            reason[joins] = "joins_profiles"
            # merge the components each bridging value touches (a graph of components and
            # bridging values), then split again where a merge broke a limit
            b_sel = status[val] == STATUS_BRIDGE
            n_lab = int(labels.max()) + 1
            merged = group_components(labels[rec[b_sel]], val[b_sel], n_lab, n_val)[:n_lab]
            labels = split_over_limits(merged[labels])
    has_strong = np.zeros(n_rec, dtype=bool)
    has_strong[rec[linking[status[val]]]] = True
    # A platform buyer id is an account, not a person, until it is bound to a person-level strong
    # id (the shop-membership binding to a phone): records linked by unbound accounts only are
    # marked "account" (the probabilistic stage links them later).
    account_types = [type_code_of[t] for t in config.account_types if t in type_code_of]
    person_level = np.ones(n_val, dtype=bool)
    if account_types:
        is_account = np.isin(val_type, account_types)
        other_strong = strong_type_mask.copy()
        other_strong[account_types] = False
        bound = cooc[:, other_strong & strong_cols].sum(axis=1) > 0
        person_level = ~is_account | bound
    # the splits are done: their per-value and per-record helpers are not needed any more
    cooc = t_rec = None
    has_person_id = np.zeros(n_rec, dtype=bool)
    has_person_id[rec[(status[val] == STATUS_STRONG) & person_level[val]]] = True

    # --- weak attachment --------------------------------------------------------------------
    weak_edge = status[val] == STATUS_WEAK
    w_rec, w_val = rec[weak_edge], val[weak_edge]
    anchored = has_strong[w_rec]
    a_val, a_comp = unique_pairs(w_val[anchored], labels[w_rec[anchored]], n_rec)
    n_anchor = np.bincount(a_val, minlength=n_val)
    anchor_of_val = np.full(n_val, -1, dtype=np.int64)
    single = n_anchor[a_val] == 1
    anchor_of_val[a_val[single]] = a_comp[single]
    ambiguous = (n_anchor >= 2) & (status == STATUS_WEAK)
    status[ambiguous] = STATUS_AMBIGUOUS
    reason[ambiguous] = "weak_id_seen_with_several_profiles"

    final = labels
    labels_max = int(labels.max()) if len(labels) else -1
    del labels
    has_account = np.zeros(n_rec, dtype=bool)
    has_account[rec[(status[val] == STATUS_STRONG) & ~person_level[val]]] = True
    # codes into HOW_NAMES
    how = np.select([has_person_id, has_account, has_strong], [0, 1, 2], 4).astype(np.int8)
    wo = (~has_strong[w_rec]) & (~ambiguous[w_val])
    wo_rec, wo_val = w_rec[wo], w_val[wo]
    if len(wo_rec):
        # components of the weak-only records and their values, on local indices
        weak_recs = sorted_unique(wo_rec)
        weak_vals = sorted_unique(wo_val)
        rec_local[weak_recs] = np.arange(len(weak_recs))
        val_local[weak_vals] = np.arange(len(weak_vals))
        gl = group_components(rec_local[wo_rec], val_local[wo_val], len(weak_recs), len(weak_vals))
        grp = gl[: len(weak_recs)]
        # anchors reached by each weak group through unambiguous values
        has_anchor = anchor_of_val[wo_val] >= 0
        ga, gc = unique_pairs(gl[len(weak_recs) + val_local[wo_val[has_anchor]]],
                              anchor_of_val[wo_val[has_anchor]], n_rec)
        rec_local[weak_recs] = -1
        val_local[weak_vals] = -1
        n_groups = int(gl.max()) + 1
        n_g_anchor = np.bincount(ga, minlength=n_groups)
        target = np.full(n_groups, -1, dtype=np.int64)
        one = n_g_anchor[ga] == 1
        target[ga[one]] = gc[one]
        joined = target[grp]
        joins = joined >= 0
        # groups with no single anchor become profiles of their own: offset labels past n_rec
        final[weak_recs[joins]] = joined[joins]
        final[weak_recs[~joins]] = labels_max + 1 + grp[~joins]
        how[weak_recs] = 2

    # the per-record and per-edge scratch arrays go before the outputs are built
    del w_rec, w_val, wo_rec, wo_val, anchored, weak_edge
    rec_local = val_local = None  # also held by the split helpers above
    cluster, _ = dense_codes(final)
    del final
    out = records[[c for c in ("record_key", "source", "row") if c in records.columns
                   and (c != "row" or "record_key" not in records.columns)]].copy()
    out["cluster"] = cluster.astype(np.int64)
    out["how"] = pd.Categorical.from_codes(how, categories=list(HOW_NAMES))

    values = pd.DataFrame(
        {
            "id_type": pd.Categorical(np.asarray(all_types, dtype=object)[val_type]),
            "value": val_value,
            "n_records": n_records_per_val,
            "status": pd.Categorical.from_codes(status, categories=list(STATUS_NAMES)),
            "reason": reason,
        }
    )
    removals_df = (
        pd.concat(removals, ignore_index=True)
        if removals
        else pd.DataFrame(columns=["round", "val", "id_type", "limit_type", "rule", "component_size"])
    )
    edges = pd.DataFrame({"rec": rec, "val": val}, copy=False)
    return Resolution(
        records=out, values=values, edges=edges, removals=removals_df, invalid=invalid, config=config
    )
