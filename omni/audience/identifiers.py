"""Contact identifiers per person, from the normalized identifier table, for exports and reach.

Only strong contact ids (phone, email) and device ids are used. A value that belongs to more than
one OneID (a family phone, a shared tablet: OneID refused to merge on it) is never exported: it
would reach someone who is not in the audience, and possibly someone who opted out. A value held
by an opted-out person is never exported either, whoever else holds it.

Device ids carry no OS in the synthetic world (nor in many real exports), so their kind is read
from the value: 14-15 alphanumerics are an IMEI/MEID; a UUID is an IDFA when its raw values are
mostly upper case (Apple's form) and an OAID otherwise (the MSA SDK's lower-case form); 16-64
alphanumerics are taken as an OAID; anything else is left out. With an OS column at hand the kind
should come from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from omni.audience.hashing import PLATFORM_FIELDS

__all__ = ["CONTACT_TYPES", "ContactRows", "contact_identifiers", "contact_rows", "contacts_of_codes", "contacts_of_rows", "device_kind", "oneid_codes", "oneid_codes_of",
           "platform_values", "record_codes"]

CONTACT_TYPES: tuple[str, ...] = ("phone", "email", "device_id")
_STRING = pd.StringDtype("pyarrow")


def _arrow(s: pd.Series) -> pa.Array:
    """A string column as one pyarrow string array (no Python objects per value where avoidable)."""
    arr = pa.array(s.array if isinstance(s.dtype, pd.StringDtype | pd.ArrowDtype) else s.astype(str).to_numpy(),
                   from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.string()) if arr.type != pa.string() else arr


def _isin(arr: pa.Array, values: pa.Array) -> np.ndarray:
    """Vectorized membership test (pandas' isin on Arrow strings goes through Python objects)."""
    return pc.is_in(arr, value_set=values.cast(pa.string())).to_numpy(zero_copy_only=False).astype(bool)


_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def device_kind(values: pd.Series, raw: pd.Series | None = None) -> pd.Series:
    """Kind of each normalized device id: ``imei``, ``idfa``, ``oaid`` or ``other``.

    Parameters
    ----------
    values : Series
        Normalized (lower-case) device ids.
    raw : Series, optional
        The raw values of the same rows. A UUID whose raw forms are mostly upper case is an IDFA;
        without ``raw`` every UUID is taken as an OAID.

    Returns
    -------
    Series of str, same index.
    """
    v = values.astype(_STRING).str.strip().str.lower()
    kind, uuid = _value_kinds(v)
    if raw is not None and uuid.any():
        codes, _ = pd.factorize(v)
        up, lo = _case_votes(codes, pa.array(raw.astype(_STRING).array))
        is_idfa = np.zeros(len(v), dtype=bool)
        ok = codes >= 0
        is_idfa[ok] = (up > lo)[codes[ok]]
        kind[uuid & is_idfa] = "idfa"
    return pd.Series(kind, index=values.index, dtype=object)


def _value_kinds(v: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The kind of stripped, lower-cased device ids read from the value alone (a UUID taken as an
    OAID), and which of them are UUIDs."""
    uuid = v.str.fullmatch(_UUID).to_numpy(dtype=bool, na_value=False)
    imei = v.str.fullmatch(r"[0-9a-z]{14,15}").to_numpy(dtype=bool, na_value=False)
    long_id = v.str.fullmatch(r"[0-9a-z\-]{16,64}").to_numpy(dtype=bool, na_value=False)
    return np.select([imei, uuid, long_id], ["imei", "oaid", "oaid"], "other").astype(object), uuid


def _case_votes(codes: np.ndarray, raw: pa.Array | pa.ChunkedArray, block: int = 1 << 22) -> tuple[np.ndarray, np.ndarray]:
    """Per value code (``codes`` per row, -1: none): how many of its rows' raw forms are upper case,
    and how many lower case (stripped; a form with no cased letter is neither). Read a block of
    rows at a time: each case-mapped copy of 50 M device ids (5M persons) would be 2 GB."""
    n = int(codes.max()) + 1 if len(codes) else 0
    up = np.zeros(n)
    lo = np.zeros(n)
    for start in range(0, len(codes), block):
        r = pc.utf8_trim_whitespace(raw.slice(start, block))
        upper = pc.and_(pc.equal(r, pc.utf8_upper(r)), pc.not_equal(r, pc.utf8_lower(r)))
        lower = pc.and_(pc.equal(r, pc.utf8_lower(r)), pc.not_equal(r, pc.utf8_upper(r)))
        c = codes[start:start + block]
        ok = c >= 0
        up += np.bincount(c[ok], weights=_bools(upper)[ok], minlength=n)
        lo += np.bincount(c[ok], weights=_bools(lower)[ok], minlength=n)
    return up, lo


def _bools(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow array as NumPy, null as False."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    out = [c.fill_null(False).to_numpy(zero_copy_only=False) for c in chunks]
    return np.concatenate(out).astype(bool) if out else np.zeros(0, dtype=bool)


def _chunked(s: pd.Series) -> pa.ChunkedArray:
    """A string column as Arrow chunks, not copied into one array (a 20 M-row column is 0.5 GB)."""
    arr = (pa.array(s.array) if isinstance(s.dtype, pd.StringDtype | pd.ArrowDtype)
           else pa.array(s.astype(str).to_numpy(), from_pandas=True))
    return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])


def _int_codes(arr: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Integer codes (indices of a dictionary array, positions of an index_in) as int32, -1 where null."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    out = [c.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False) for c in chunks]
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int32)


def oneid_codes(oneid: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """A OneID column as integer codes: ``(codes, oneids)``, ``oneids[codes[i]]`` the OneID of row
    ``i`` (codes -1 where null; ``oneids`` each OneID once, in order of first appearance)."""
    enc = _chunked(oneid).dictionary_encode()
    dictionary = enc.chunks[0].dictionary if enc.num_chunks else pa.array([], type=pa.string())
    return _int_codes(pa.chunked_array([c.indices for c in enc.chunks], type=pa.int32())), dictionary.cast(pa.string())


def record_codes(record_oneid: pd.DataFrame) -> tuple[pa.Array, np.ndarray, pa.Array]:
    """A ``record_oneid`` map (``record_key``, ``oneid``) as Arrow keys and integer OneID codes.

    Returns
    -------
    keys : pyarrow.Array
        The record keys, in row order.
    codes : ndarray of int32
        The OneID of each row as a position in ``oneids`` (-1 where null).
    oneids : pyarrow.Array
        Each OneID once (string), in order of first appearance.
    """
    need = [c for c in ("record_key", "oneid") if c not in record_oneid.columns]
    if need:
        raise ValueError(f"record_oneid is missing column(s) {need}")
    codes, oneids = oneid_codes(record_oneid["oneid"])
    return _arrow(record_oneid["record_key"]), codes, oneids


def oneid_codes_of(keys: pd.Series | pa.Array, record_keys: pa.Array, codes: np.ndarray) -> np.ndarray:
    """The OneID code (:func:`record_codes`) of the record of each key in ``keys`` (-1: a record
    not in the map, e.g. one after the resolution's month). One hash of the map's keys."""
    k = keys if isinstance(keys, pa.Array | pa.ChunkedArray) else _chunked(keys)
    pos = _int_codes(pc.index_in(k, value_set=record_keys.cast(pa.large_string())
                                 if pa.types.is_large_string(k.type) else record_keys.cast(pa.string())))
    return np.where(pos >= 0, codes[np.maximum(pos, 0)] if len(codes) else -1, -1).astype(np.int32)


def contact_identifiers(
    ids: pd.DataFrame,
    record_oneid: pd.DataFrame,
    people: Sequence[str] | pd.Index | None = None,
    opted_out: pd.Series | None = None,
    id_types: Sequence[str] = CONTACT_TYPES,
) -> pd.DataFrame:
    """Usable contact identifiers of people, one row per (person, identifier).

    Parameters
    ----------
    ids : DataFrame
        The normalized identifier table (``Workspace.ids``: record_key, id_type, raw, value, valid;
        ``raw`` is read for device ids only).
    record_oneid : DataFrame
        ``record_key``, ``oneid``.
    people : list-like of str, optional
        Only these OneIDs (e.g. the union of the audiences to export); default everyone.
    opted_out : Series of bool indexed by oneid, optional
        Values held by any opted-out person are dropped for everyone.
    id_types : sequence of str
        Identifier types to keep.

    Returns
    -------
    DataFrame
        ``oneid``, ``id_type``, ``value`` (canonical), ``device_kind`` (device ids; else None),
        ``n_records`` (records of the person carrying the value), sorted by oneid, id_type,
        n_records (descending) and value. ``attrs``: ``shared_values`` (values dropped because
        2+ OneIDs hold them), ``opted_out_values`` (dropped because an opted-out person holds them).
    """
    _check_ids(ids)
    keys, codes, oneids = record_codes(record_oneid)
    keep = _contact_rows(ids, id_types)
    code = oneid_codes_of(ids["record_key"].loc[keep], keys, codes)
    del keys, codes
    return contacts_of_codes(ids.loc[keep], code, oneids, people=people, opted_out=opted_out)


def _check_ids(ids: pd.DataFrame, cols: Sequence[str] = ("record_key", "id_type", "value", "valid")) -> None:
    need = [c for c in cols if c not in ids.columns]
    if need:
        raise ValueError(f"identifier table is missing column(s) {need}; it has {list(ids.columns)}")


def _contact_rows(ids: pd.DataFrame, id_types: Sequence[str] = CONTACT_TYPES) -> np.ndarray:
    """The valid rows of ``ids`` of the given types."""
    return ids["id_type"].isin(list(id_types)).to_numpy(dtype=bool) & ids["valid"].to_numpy(dtype=bool)


@dataclass
class ContactRows:
    """The contact rows of an identifier table as integer codes: everything
    :func:`contacts_of_rows` reads, without the table (:func:`contact_rows`).

    At 5M persons the identifier table (85 M rows of strings) is 5-8 GB; these codes are about
    1 GB beside each value once. Only rows of records the resolution holds are kept.

    Attributes
    ----------
    code : ndarray of int32
        Per row: its OneID, a position in ``oneids``.
    oneids : pyarrow.Array
        OneIDs by code.
    tcode : ndarray of int8
        Per row: its identifier type, a position in ``tnames``.
    tnames : ndarray of str
    vcode : ndarray of int32
        Per row: its value, a position in ``values``.
    values : pyarrow.Array
        Each value once (string).
    kcode : ndarray of int8
        Per row: its device kind (:func:`device_kind`), a position in ``knames``; -1 for other types.
    knames : ndarray of str
    """

    code: np.ndarray
    oneids: pa.Array
    tcode: np.ndarray
    tnames: np.ndarray
    vcode: np.ndarray
    values: pa.Array
    kcode: np.ndarray
    knames: np.ndarray


def contact_rows(ids: pd.DataFrame, code: np.ndarray, oneids: pa.Array,
                 id_types: Sequence[str] = CONTACT_TYPES) -> ContactRows:
    """:class:`ContactRows` of an identifier table whose rows have OneID codes.

    Parameters
    ----------
    ids : DataFrame
        Identifier rows (``id_type``, ``value``, ``valid``; ``raw`` for device ids).
    code : ndarray of int
        The OneID code of each row of ``ids`` (a position in ``oneids``; -1: a record the
        resolution does not hold, left out).
    oneids : pyarrow.Array
        OneIDs by code.
    id_types : sequence of str
        Identifier types to keep.
    """
    _check_ids(ids, ("id_type", "value", "valid"))
    if len(code) != len(ids):
        raise ValueError(f"code has {len(code)} rows, ids {len(ids)}")
    # the valid rows of the types kept, of records the resolution holds
    keep = _contact_rows(ids, id_types) & (np.asarray(code) >= 0)
    # only the three columns read, filtered as Arrow chunks (no copy of the other columns)
    mask = pa.array(keep)
    value = _chunked(ids["value"]).filter(mask).combine_chunks()
    raw = _chunked(ids["raw"]).filter(mask).combine_chunks() if "raw" in ids.columns else None
    code = np.asarray(code)[keep].astype(np.int32, copy=False)
    # the type of each row as a small integer code (an object array of 85 M strings at 5M persons
    # was 0.7 GB, and factorizing it as much again)
    it = ids["id_type"]
    if isinstance(it.dtype, pd.CategoricalDtype):
        tnames = np.asarray(it.cat.categories.astype(str), dtype=object)
        tcode = it.cat.codes.to_numpy()[keep]
    else:
        tcode, tnames = pd.factorize(it.astype(str).to_numpy(dtype=object)[keep])
        tnames = np.asarray(tnames, dtype=object)
    tcode = tcode.astype(np.int8 if len(tnames) < 127 else np.int32, copy=False)
    del mask, keep
    enc = value.dictionary_encode()
    del value
    vcode = enc.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    values = enc.dictionary.cast(pa.string())
    del enc
    dev = tcode == (list(tnames).index("device_id") if "device_id" in list(tnames) else -2)
    kcode, knames = _device_kinds(values, vcode, dev, raw)
    return ContactRows(code=code, oneids=oneids, tcode=tcode, tnames=tnames, vcode=vcode, values=values,
                       kcode=kcode, knames=knames)


def _device_kinds(values: pa.Array, vcode: np.ndarray, dev: np.ndarray,
                  raw: pa.Array | None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`device_kind` of the rows ``dev`` (a kind code per row, -1 elsewhere, and the kinds'
    names), read once per value: the value's pattern, and the case of the raw forms of every row
    carrying it. The same kinds as :func:`device_kind` of those rows, without a copy of their
    strings per step (50 M device rows at 5M persons)."""
    kcode = np.full(len(vcode), -1, dtype=np.int8)
    if not dev.any():
        return kcode, np.asarray([], dtype=object)
    dv = vcode[dev]
    used = np.unique(dv)  # the values of device rows, by their position in ``values``
    uv = pd.Series(values.take(pa.array(used)).to_pandas(types_mapper=pd.ArrowDtype), dtype=_STRING).str.strip().str.lower()
    kind, uuid = _value_kinds(uv)
    at = np.searchsorted(used, dv)  # each device row's position in ``used``
    if raw is not None and uuid.any():
        group, _ = pd.factorize(uv)  # values equal once stripped and lower-cased vote together
        up, lo = _case_votes(group[at], raw.filter(pa.array(dev)))
        ok = group >= 0
        is_idfa = np.zeros(len(used), dtype=bool)
        is_idfa[ok] = (up > lo)[group[ok]]
        kind[uuid & is_idfa] = "idfa"
    kc, knames = pd.factorize(kind)
    kcode[dev] = kc[at]
    return kcode, np.asarray(knames, dtype=object)


def contacts_of_codes(
    ids: pd.DataFrame,
    code: np.ndarray,
    oneids: pa.Array,
    people: Sequence[str] | pd.Index | None = None,
    opted_out: pd.Series | None = None,
    id_types: Sequence[str] = CONTACT_TYPES,
) -> pd.DataFrame:
    """:func:`contact_identifiers` from the OneID code of each identifier row.

    The records are joined to their OneIDs once (:func:`oneid_codes_of`), and everything after
    works on integer codes (:func:`contact_rows`, :func:`contacts_of_rows`): no per-row OneID
    string is made but for the rows returned.

    Parameters
    ----------
    ids, code, oneids, id_types
        As :func:`contact_rows`.
    people, opted_out
        As :func:`contact_identifiers`.
    """
    return contacts_of_rows(contact_rows(ids, code, oneids, id_types), people=people, opted_out=opted_out)


def contacts_of_rows(rows: ContactRows, people: Sequence[str] | pd.Index | None = None,
                     opted_out: pd.Series | None = None) -> pd.DataFrame:
    """:func:`contact_identifiers` of :class:`ContactRows` (``people`` and ``opted_out`` as there)."""
    oneids, code, tnames, knames = rows.oneids, rows.code, rows.tnames, rows.knames
    n_codes, nv = len(oneids), max(len(rows.values), 1)
    chosen = None
    if people is not None:
        # values carried by the people's records, then every record carrying those values
        chosen = _isin(oneids, _arrow(pd.Series(pd.Index(people).astype(str))))
        carried = np.zeros(nv, dtype=bool)
        carried[rows.vcode[chosen[code]]] = True
        sel = carried[rows.vcode]
        del carried
    else:
        sel = np.ones(len(code), dtype=bool)
    code = code[sel]
    # one row per (OneID, type, value) from integer keys: OneID code, type code, value code
    pair_all = rows.tcode[sel].astype(np.int64) * nv + rows.vcode[sel]
    kcode = rows.kcode[sel]
    del sel
    span = max(len(tnames), 1) * nv
    ukey, first, n_records = np.unique(code.astype(np.int64) * span + pair_all, return_index=True, return_counts=True)
    pcode, pair = ukey // span, ukey % span
    fk = kcode[first]  # a device id's kind is one per value: the first row's
    dkind = np.full(len(fk), None, dtype=object)
    dkind[fk >= 0] = knames[fk[fk >= 0]]
    del ukey, first, pair_all, kcode, fk, code
    _, pair_id, holders = np.unique(pair, return_inverse=True, return_counts=True)
    shared = holders[pair_id] > 1
    blocked = np.zeros(len(pair), dtype=bool)
    if opted_out is not None:
        oo = opted_out.astype(bool)
        flagged = _isin(oneids, _arrow(pd.Series(pd.Index(oo.index[oo.to_numpy()]).astype(str))))
        held_by_oo = flagged[pcode] if n_codes else np.zeros(len(pair), dtype=bool)
        if held_by_oo.any():
            blocked = np.isin(pair_id, np.unique(pair_id[held_by_oo]))
    n_shared = int((holders > 1).sum())
    n_blocked = len(np.unique(pair_id[blocked & ~shared]))
    ok = ~shared & ~blocked
    if chosen is not None:
        ok &= chosen[pcode] if n_codes else np.zeros(len(pair), dtype=bool)
    pcode, pair = pcode[ok], pair[ok]
    out = pd.DataFrame({
        "oneid": oneids.take(pa.array(pcode)).to_numpy(zero_copy_only=False).astype(object),
        "id_type": np.asarray(tnames, dtype=object)[pair // nv],
        "value": pd.Series(rows.values.take(pa.array(pair % nv)).to_pandas(types_mapper=pd.ArrowDtype), dtype=_STRING),
        "device_kind": dkind[ok],
        "n_records": pd.Series(n_records[ok].astype(np.int64), dtype=pd.ArrowDtype(pa.int64())),  # counts, as on Arrow keys
    })
    out = out.sort_values(["oneid", "id_type", "n_records", "value"], ascending=[True, True, False, True],
                          kind="stable").reset_index(drop=True)
    out = out[["oneid", "id_type", "value", "device_kind", "n_records"]]
    out.attrs["shared_values"] = int(n_shared)
    out.attrs["opted_out_values"] = int(n_blocked)
    return out


def platform_values(contacts: pd.DataFrame, platform: str) -> pd.DataFrame:
    """A platform's normalized (not yet hashed) inputs per person.

    Parameters
    ----------
    contacts : DataFrame
        From :func:`contact_identifiers`.
    platform : str
        ``tencent``, ``google`` or ``meta``.

    Returns
    -------
    DataFrame
        ``oneid``, ``field`` (platform header or id type), ``value`` (platform-normalized),
        ``algo``, ``n_records``; values the platform cannot use are left out.
    """
    if platform not in PLATFORM_FIELDS:
        raise ValueError(f"unknown platform {platform!r}; known: {list(PLATFORM_FIELDS)}")
    parts = []
    for f in PLATFORM_FIELDS[platform]:
        sel = (contacts["id_type"] == f.id_type).to_numpy()
        if f.device_kind is not None:
            sel &= (contacts["device_kind"] == f.device_kind).to_numpy()
        sub = contacts.loc[sel]
        if not len(sub):
            continue
        v = f.normalize(sub["value"].astype(_STRING))
        ok = v.notna().to_numpy()
        parts.append(pd.DataFrame({"oneid": sub["oneid"].to_numpy()[ok], "field": f.field,
                                   "value": v.to_numpy()[ok], "algo": f.algo,
                                   "n_records": sub["n_records"].to_numpy()[ok]}))
    if not parts:
        return pd.DataFrame(columns=["oneid", "field", "value", "algo", "n_records"])
    out = pd.concat(parts, ignore_index=True)
    # two canonical values can normalize to one platform value (gmail dots): keep it once
    out = (out.groupby(["oneid", "field", "value", "algo"], sort=False, observed=True)["n_records"].sum()
              .reset_index())
    return out
