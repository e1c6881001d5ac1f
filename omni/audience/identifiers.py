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

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from omni.audience.hashing import PLATFORM_FIELDS

__all__ = ["CONTACT_TYPES", "contact_identifiers", "device_kind", "platform_values"]

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
    uuid = v.str.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").to_numpy(
        dtype=bool, na_value=False)
    imei = v.str.fullmatch(r"[0-9a-z]{14,15}").to_numpy(dtype=bool, na_value=False)
    long_id = v.str.fullmatch(r"[0-9a-z\-]{16,64}").to_numpy(dtype=bool, na_value=False)
    kind = np.select([imei, uuid, long_id], ["imei", "oaid", "oaid"], "other").astype(object)
    if raw is not None and uuid.any():
        r = raw.astype(_STRING).str.strip()
        upper = ((r == r.str.upper()) & (r != r.str.lower())).to_numpy(dtype=bool, na_value=False)
        lower = ((r == r.str.lower()) & (r != r.str.upper())).to_numpy(dtype=bool, na_value=False)
        codes, _ = pd.factorize(v)
        n = int(codes.max()) + 1 if len(codes) else 0
        ok = codes >= 0
        up = np.bincount(codes[ok], weights=upper[ok], minlength=n)
        lo = np.bincount(codes[ok], weights=lower[ok], minlength=n)
        is_idfa = np.zeros(len(v), dtype=bool)
        is_idfa[ok] = (up > lo)[codes[ok]]
        kind[uuid & is_idfa] = "idfa"
    return pd.Series(kind, index=values.index, dtype=object)


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
        The normalized identifier table (``Workspace.ids``: record_key, id_type, raw, value, valid).
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
    need = [c for c in ("record_key", "id_type", "value", "valid") if c not in ids.columns]
    if need:
        raise ValueError(f"identifier table is missing column(s) {need}; it has {list(ids.columns)}")
    need = [c for c in ("record_key", "oneid") if c not in record_oneid.columns]
    if need:
        raise ValueError(f"record_oneid is missing column(s) {need}")
    keep = ids["id_type"].isin(list(id_types)).to_numpy(dtype=bool) & ids["valid"].to_numpy(dtype=bool)
    idf = ids.loc[keep]
    value = _arrow(idf["value"])
    rkey = _arrow(idf["record_key"])
    raw = _arrow(idf["raw"]) if "raw" in idf.columns else None
    it = idf["id_type"]
    if isinstance(it.dtype, pd.CategoricalDtype):
        id_type = np.asarray(it.cat.categories.astype(str), dtype=object)[it.cat.codes.to_numpy()]
    else:
        id_type = it.astype(str).to_numpy(dtype=object)
    ro_key = _arrow(record_oneid["record_key"])
    ro_oneid = _arrow(record_oneid["oneid"])
    if people is not None:
        # values carried by the people's records, then every record carrying those values
        mine = _isin(ro_oneid, _arrow(pd.Series(pd.Index(people).astype(str))))
        own = _isin(rkey, ro_key.filter(pa.array(mine)))
        sel = _isin(value, pc.unique(value.filter(pa.array(own))))
        value, rkey, id_type = value.filter(pa.array(sel)), rkey.filter(pa.array(sel)), id_type[sel]
        raw = raw.filter(pa.array(sel)) if raw is not None else None
    ro_sel = pa.array(_isin(ro_key, pc.unique(rkey)))
    ro = pd.DataFrame({"record_key": ro_key.filter(ro_sel).to_pandas(types_mapper=pd.ArrowDtype),
                       "oneid": ro_oneid.filter(ro_sel).to_numpy(zero_copy_only=False)})
    df = pd.DataFrame({"record_key": rkey.to_pandas(types_mapper=pd.ArrowDtype), "id_type": id_type,
                       "value": value.to_pandas(types_mapper=pd.ArrowDtype),
                       "raw": raw.to_pandas(types_mapper=pd.ArrowDtype) if raw is not None else pd.NA})
    df = df.merge(ro, on="record_key", how="inner")
    df["value"] = df["value"].astype(_STRING)
    df["device_kind"] = None
    dev = (df["id_type"] == "device_id").to_numpy()
    if dev.any():
        df.loc[dev, "device_kind"] = device_kind(df.loc[dev, "value"],
                                                 df.loc[dev, "raw"] if raw is not None else None).to_numpy()
    per = (df.groupby(["oneid", "id_type", "value"], observed=True, sort=False)
             .agg(n_records=("record_key", "size"), device_kind=("device_kind", "first")).reset_index())
    holders = per.groupby(["id_type", "value"], observed=True)["oneid"].transform("size").to_numpy()
    shared = holders > 1
    blocked = np.zeros(len(per), dtype=bool)
    if opted_out is not None:
        oo = opted_out.astype(bool)
        flagged = pd.Index(oo.index[oo.to_numpy()]).astype(str)
        held_by_oo = per["oneid"].isin(flagged).to_numpy()
        if held_by_oo.any():
            bad = per.loc[held_by_oo, ["id_type", "value"]].drop_duplicates()
            key = per["id_type"] + "\x1f" + per["value"].astype(str)
            blocked = key.isin(bad["id_type"] + "\x1f" + bad["value"].astype(str)).to_numpy()
    n_shared = per.loc[shared, ["id_type", "value"]].drop_duplicates().shape[0]
    n_blocked = per.loc[blocked & ~shared, ["id_type", "value"]].drop_duplicates().shape[0]
    out = per.loc[~shared & ~blocked]
    if people is not None:
        out = out.loc[out["oneid"].isin(pd.Index(people).astype(str)).to_numpy()]
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
