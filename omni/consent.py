"""Consent: who opted out of personalised marketing (PIPL Art. 24: the right to refuse).

Consent is a **ratchet**: any evidence of an opt-out wins, and nothing undoes it.

* **Records.** The unified profile's ``marketing_opt_out`` is true when any of the person's CRM
  records opted out (:func:`omni.unify.build_profiles`), so a newer member record never undoes an
  opt-out. :func:`opted_out` applies the same rule again over every source with a consent column
  (not only the CRM).
* **Quarantined rows.** A row the loader quarantined still carries its opt-out
  (:func:`quarantined_opt_outs`): a duplicate member row (``duplicate_key``), a row with a bad
  date or a missing required value, all the same. When the row's key is the key of an accepted
  record of the same source (a duplicate), the opt-out belongs to that record's person
  (:func:`apply_quarantined_opt_outs`, applied to the profiles by ``Workspace.resolve``). A consent
  value that cannot be read (``unparseable_bool`` in the consent column) counts as an opt-out: a
  value nobody can read is no consent. Rows whose line could not be split into columns
  (``bad_column_count``) carry no readable value; they are counted, nothing else can be done.
* **Identifiers.** An opted-out record's own phone, email, device id, unionid, openid and member
  id are never exported, whoever holds them: OneID may not have joined that record to the person's
  other records (a rule split them, a record after the month end, a quarantined row). Every
  person whose records carry one of these values is removed from the exports
  (:func:`opt_out_identifiers`, :func:`suppressed_by_identifier`); exports count them apart from the
  people removed because their OneID opted out.

Identifiers of quarantined rows are normalized exactly like accepted rows' (the same
:func:`omni.normalize.identifier_table`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from omni.io.cast import TRUE_TOKENS, cast_column
from omni.io.read import read_raw
from omni.io.validate import validate_source
from omni.normalize import identifier_table
from omni.unify import record_keys

if TYPE_CHECKING:
    from omni.io.spec import DatasetSpec

__all__ = [
    "CONSENT_COLUMNS",
    "SUPPRESSION_TYPES",
    "QuarantinedOptOuts",
    "apply_quarantined_opt_outs",
    "opt_out_identifiers",
    "opted_out",
    "quarantined_opt_outs",
    "suppressed_by_identifier",
]

#: Source columns that record an opt-out from marketing (true = opted out).
CONSENT_COLUMNS: tuple[str, ...] = ("marketing_opt_out",)

#: Identifier types of an opted-out record that are suppressed for everyone: what an export can
#: emit (phone, email, device ids) and the strong ids that name the same person (unionid, openid,
#: member id).
SUPPRESSION_TYPES: tuple[str, ...] = ("phone", "email", "device_id", "unionid", "openid", "member_id")

_ROW_KEY = "__omni_file_row"
_STRING = pd.StringDtype("pyarrow")


def _truthy(col: pd.Series) -> np.ndarray:
    """True where a consent value says opted out (text read as the loader reads a bool column)."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.fillna(False).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(col.dtype):
        return (col.fillna(0) != 0).to_numpy(dtype=bool)
    return col.astype("string").str.strip().str.lower().isin(TRUE_TOKENS).to_numpy(dtype=bool, na_value=False)


def _arrow(s: pd.Series | pd.Index) -> pa.Array:
    """Strings as one pyarrow string array."""
    arr = pa.array(pd.array(s, dtype=_STRING))
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.string()) if arr.type != pa.string() else arr


def _isin(arr: pa.Array, values: pa.Array) -> np.ndarray:
    return pc.is_in(arr, value_set=values).to_numpy(zero_copy_only=False).astype(bool)


# ------------------------------------------------------------------------- quarantined rows


def _joined_reasons(rows: np.ndarray, reasons: np.ndarray) -> pd.Series:
    """Each row's distinct reasons ``;``-joined (in first-seen order), indexed by sorted row."""
    d = pd.DataFrame({"row": rows, "reason": reasons}).drop_duplicates(ignore_index=True)
    d = d.iloc[np.argsort(d["row"].to_numpy(), kind="stable")]
    r = d["row"].to_numpy()
    starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]]) if len(r) else np.zeros(0, dtype=np.int64)
    offsets = pa.array(np.r_[starts, len(r)].astype(np.int32))
    lists = pa.ListArray.from_arrays(offsets, pa.array(d["reason"].to_numpy(dtype=object), type=pa.string()))
    joined = pc.binary_join(lists, ";").to_pandas()
    return pd.Series(joined.to_numpy(dtype=object), index=pd.Index(r[starts], name="row"), name="reasons")


@dataclass
class QuarantinedOptOuts:
    """Opt-outs carried by quarantined rows (:func:`quarantined_opt_outs`).

    Attributes
    ----------
    rows : DataFrame
        One row per quarantined row that opted out: ``source``, ``row`` (1-based data row of the
        file), ``record_key`` (``<source>:<key>``; null when the key is empty or unreadable),
        ``reasons`` (the row's quarantine reasons, ``;``-joined), ``unreadable`` (the consent value
        could not be read and counts as an opt-out).
    ids : DataFrame
        Their valid normalized identifiers: ``source``, ``row``, ``id_type``, ``value``.
    unreadable_rows : int
        Quarantined rows of consent sources whose line could not be split into columns
        (``bad_column_count``): no value, so no opt-out, can be read from them.
    """

    rows: pd.DataFrame
    ids: pd.DataFrame
    unreadable_rows: int = 0

    @classmethod
    def empty(cls) -> QuarantinedOptOuts:
        return cls(
            rows=pd.DataFrame({"source": pd.Series([], dtype=object), "row": pd.Series([], dtype="int64"),
                               "record_key": pd.Series([], dtype=_STRING),
                               "reasons": pd.Series([], dtype=object), "unreadable": pd.Series([], dtype=bool)}),
            ids=pd.DataFrame({"source": pd.Series([], dtype=object), "row": pd.Series([], dtype="int64"),
                              "id_type": pd.Series([], dtype=object), "value": pd.Series([], dtype=_STRING)}),
        )

    def __len__(self) -> int:
        return len(self.rows)


def quarantined_opt_outs(
    spec: DatasetSpec,
    quarantine: pd.DataFrame | None = None,
    columns: Sequence[str] = CONSENT_COLUMNS,
) -> QuarantinedOptOuts:
    """The opt-outs of quarantined rows, with their normalized identifiers.

    The quarantine table keeps only each problem cell (masked), so the rows are read again from
    the raw file of every source with a consent column that has quarantined rows (only those
    files), picked by their row numbers and cast column by column: a bad cell becomes null, the
    rest of the row stays usable.

    Parameters
    ----------
    spec : DatasetSpec
        The dataset's ``sources.yaml``.
    quarantine : DataFrame, optional
        ``Dataset.quarantine`` when the dataset is loaded (sources without quarantined rows are
        then not read again); default: the consent sources are read and validated here.
    columns : sequence of str
        Consent columns (true = opted out).

    Returns
    -------
    QuarantinedOptOuts
    """
    rows, idparts = [], []
    unreadable_rows = 0
    for name, src in spec.sources.items():
        cols = [c for c in columns if c in src.columns]
        if not cols:
            continue
        if quarantine is not None:
            q = quarantine.loc[(quarantine["source"].astype(str) == name).to_numpy()]
            if not len(q):
                continue
            raw = read_raw(src, spec.file_path(name))
        else:
            raw = read_raw(src, spec.file_path(name))
            _, q = validate_source(raw, src, spec.timezone)
            if not len(q):
                continue
        unreadable_rows += int((q["reason"].astype(str) == "bad_column_count").sum())
        cell = q.loc[q["row"].notna().to_numpy() & (q["reason"].astype(str) != "bad_column_count").to_numpy()]
        if not len(cell):
            continue
        reasons = _joined_reasons(cell["row"].to_numpy(dtype="int64"), cell["reason"].astype(str).to_numpy())
        pos = pd.Index(raw.rows).get_indexer(reasons.index.to_numpy())
        if (pos < 0).any():  # the file changed since the quarantine was made
            raise ValueError(f"{src.where}: quarantined row {int(reasons.index[pos < 0][0])} is not in the file; "
                             "reload the dataset")
        sub = raw.frame.iloc[pos].reset_index(drop=True)
        flag = np.zeros(len(sub), dtype=bool)
        unreadable = np.zeros(len(sub), dtype=bool)
        for c in cols:
            typed, bad = cast_column(sub[c], src.columns[c], src.timezone, spec.timezone)
            flag |= _truthy(typed)
            unreadable |= np.asarray(bad, dtype=bool)
        hit = np.flatnonzero(flag | unreadable)
        if not hit.size:
            continue
        sub = sub.iloc[hit].reset_index(drop=True)
        file_rows = reasons.index.to_numpy()[hit]
        typed = {}
        for c, typ in src.columns.items():
            typed[c] = cast_column(sub[c], typ, src.timezone, spec.timezone)[0]
        t = pd.DataFrame(typed)
        if src.key:
            rk = record_keys(name, t, src.key)
        else:
            rk = pd.Series(pd.NA, index=t.index, dtype=_STRING)
        rows.append(pd.DataFrame({"source": name, "row": file_rows.astype("int64"),
                                  "record_key": rk.astype(_STRING).to_numpy(),
                                  "reasons": reasons.to_numpy()[hit],
                                  "unreadable": unreadable[hit] & ~flag[hit]}))
        if src.identifiers:
            t[_ROW_KEY] = pd.array(file_rows.astype(str), dtype=_STRING)
            ids = identifier_table({name: t}, {name: replace(src, key=_ROW_KEY)}, sources=[name])
            ids = ids.loc[ids["valid"].to_numpy(dtype=bool)]
            idparts.append(pd.DataFrame({"source": name, "row": file_rows[ids["row"].to_numpy()].astype("int64"),
                                         "id_type": ids["id_type"].astype(str).to_numpy(),
                                         "value": ids["value"].astype(_STRING).to_numpy()}))
    out = QuarantinedOptOuts.empty()
    if rows:
        out.rows = pd.concat(rows, ignore_index=True)
    if idparts:
        out.ids = pd.concat(idparts, ignore_index=True)
    out.unreadable_rows = unreadable_rows
    return out


def apply_quarantined_opt_outs(
    profiles: pd.DataFrame,
    record_oneid: pd.DataFrame,
    quarantined: QuarantinedOptOuts,
    column: str = "marketing_opt_out",
) -> pd.DataFrame:
    """Profiles with the opt-outs of quarantined duplicates of their records set.

    A quarantined row whose key is the key of a resolved record (a duplicate member row) is the
    same record: its opt-out is the person's. ``attrs["opt_outs_from_quarantine"]`` counts the
    people it turned to opted out.

    Parameters
    ----------
    profiles : DataFrame
        ``oneid`` and ``column`` (bool).
    record_oneid : DataFrame
        ``record_key``, ``oneid``.
    quarantined : QuarantinedOptOuts
    column : str
        The profile's consent column.

    Returns
    -------
    DataFrame
        ``profiles`` (the same object when nothing changes, else a copy).
    """
    keys = quarantined.rows["record_key"].dropna()
    if not len(keys) or not len(record_oneid):
        profiles.attrs["opt_outs_from_quarantine"] = 0
        return profiles
    hit = _isin(_arrow(record_oneid["record_key"]), _arrow(keys))
    # only the hit rows become Python strings (at 1M persons the whole column is 20 M of them)
    who = pd.Index(pd.unique(record_oneid["oneid"].iloc[np.flatnonzero(hit)].to_numpy())).astype(str)
    mark = profiles["oneid"].astype(str).isin(who).to_numpy()
    before = profiles[column].fillna(False).to_numpy(dtype=bool) if column in profiles else np.zeros(len(profiles), bool)
    new = int((mark & ~before).sum())
    if new:
        profiles = profiles.copy()
        profiles[column] = before | mark
    profiles.attrs["opt_outs_from_quarantine"] = new
    return profiles


# ------------------------------------------------------------------------------------ people


def _opted_out_keys(tables: Mapping[str, pd.DataFrame], keys: Mapping[str, str],
                    columns: Sequence[str]) -> pd.Series:
    """Record keys of the accepted records that opted out."""
    parts = []
    for name, t in tables.items():
        cols = [c for c in columns if c in t.columns]
        if not cols:
            continue
        if name not in keys or keys[name] not in t.columns:
            raise ValueError(f"source {name!r} has a consent column but no key column was given "
                             "(pass keys={source: key column})")
        hit = np.zeros(len(t), dtype=bool)
        for c in cols:
            hit |= _truthy(t[c])
        if hit.any():
            parts.append(record_keys(name, t.loc[hit], keys[name]))
    if not parts:
        return pd.Series([], dtype=_STRING)
    return pd.concat(parts, ignore_index=True).astype(_STRING)


def opted_out(
    profiles: pd.DataFrame,
    record_oneid: pd.DataFrame | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    keys: Mapping[str, str] | None = None,
    columns: Sequence[str] = CONSENT_COLUMNS,
    quarantined: QuarantinedOptOuts | None = None,
) -> pd.Series:
    """Who opted out of marketing, conservatively.

    Parameters
    ----------
    profiles : DataFrame
        ``oneid`` and (optionally) ``marketing_opt_out``.
    record_oneid : DataFrame, optional
        ``record_key``, ``oneid`` (``Resolved.record_oneid``).
    tables : mapping, optional
        Source name -> accepted source table (``Workspace.dataset.tables``). Every table with one
        of ``columns`` is read.
    keys : mapping, optional
        Source name -> key column (``spec.sources[name].key``), to build record keys
        ``<source>:<key>``.
    columns : sequence of str
        Consent columns (true = opted out).
    quarantined : QuarantinedOptOuts, optional
        Opt-outs of quarantined rows (:func:`quarantined_opt_outs`): a row whose key is a resolved
        record's key marks that record's person (needs ``record_oneid``).

    Returns
    -------
    Series of bool
        Indexed by oneid in profile order, named ``marketing_opt_out``. ``attrs`` hold
        ``from_profile`` (people the profile marks), ``from_records_only`` (people only an
        accepted record marks) and ``from_quarantine_only`` (people only a quarantined row marks).
    """
    if "oneid" not in profiles.columns:
        raise ValueError(f"profiles is missing column 'oneid'; it has {list(profiles.columns)}")
    people = pd.Index(profiles["oneid"].astype(str).to_numpy(), name="oneid")
    flag = np.zeros(len(people), dtype=bool)
    for c in columns:
        if c in profiles.columns:
            flag |= _truthy(profiles[c])
    from_profile = int(flag.sum())
    if record_oneid is not None and (tables is not None or quarantined is not None):
        need = [c for c in ("record_key", "oneid") if c not in record_oneid.columns]
        if need:
            raise ValueError(f"record_oneid is missing column(s) {need}")

    def mark(k: pd.Series) -> None:
        if not len(k):
            return
        hit = _isin(_arrow(record_oneid["record_key"]), _arrow(k))
        pos = people.get_indexer(record_oneid["oneid"].to_numpy()[hit].astype(str))
        flag[pos[pos >= 0]] = True

    if tables is not None and record_oneid is not None:
        mark(_opted_out_keys(tables, dict(keys or {}), columns))
    from_records = int(flag.sum())
    if quarantined is not None and record_oneid is not None:
        mark(quarantined.rows["record_key"].dropna())
    out = pd.Series(flag, index=people, name="marketing_opt_out")
    out.attrs["from_profile"] = from_profile
    out.attrs["from_records_only"] = from_records - from_profile
    out.attrs["from_quarantine_only"] = int(flag.sum()) - from_records
    return out


# ------------------------------------------------------------------------------- identifiers


def opt_out_identifiers(
    ids: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame] | None = None,
    keys: Mapping[str, str] | None = None,
    quarantined: QuarantinedOptOuts | None = None,
    columns: Sequence[str] = CONSENT_COLUMNS,
    id_types: Sequence[str] = SUPPRESSION_TYPES,
) -> pd.DataFrame:
    """The identifier values carried by opted-out records, accepted or quarantined.

    Parameters
    ----------
    ids : DataFrame
        The normalized identifier table of the accepted records (``Workspace.ids``:
        ``record_key``, ``id_type``, ``value``, ``valid``).
    tables : mapping, optional
        Accepted source tables; the records of those with a consent column set to true count.
    keys : mapping, optional
        Source name -> key column.
    quarantined : QuarantinedOptOuts, optional
        Opt-outs of quarantined rows, with their normalized identifiers.
    columns : sequence of str
        Consent columns.
    id_types : sequence of str
        Identifier types to suppress (valid values only: junk never glues people together, and is
        never exported anyway).

    Returns
    -------
    DataFrame
        Distinct ``id_type``, ``value`` (normalized). ``attrs``: ``records`` (opted-out accepted
        records), ``quarantined_records`` (opted-out quarantined rows), ``values`` (rows).
    """
    need = [c for c in ("record_key", "id_type", "value", "valid") if c not in ids.columns]
    if need:
        raise ValueError(f"identifier table is missing column(s) {need}; it has {list(ids.columns)}")
    types = list(id_types)
    parts = []
    n_records = 0
    if tables is not None:
        k = _opted_out_keys(tables, dict(keys or {}), columns)
        n_records = int(k.nunique())
        if len(k):
            sel = _isin(_arrow(ids["record_key"]), _arrow(k))
            sel &= ids["valid"].to_numpy(dtype=bool) & ids["id_type"].isin(types).to_numpy(dtype=bool)
            sub = ids.loc[sel]
            parts.append(pd.DataFrame({"id_type": sub["id_type"].astype(str).to_numpy(),
                                       "value": sub["value"].astype(_STRING).to_numpy()}))
    n_q = 0
    if quarantined is not None and len(quarantined):
        n_q = len(quarantined.rows)
        q = quarantined.ids
        q = q.loc[q["id_type"].isin(types).to_numpy(dtype=bool) & q["value"].notna().to_numpy(dtype=bool)]
        parts.append(pd.DataFrame({"id_type": q["id_type"].astype(str).to_numpy(),
                                   "value": q["value"].astype(_STRING).to_numpy()}))
    if parts:
        out = pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)
        out = out.sort_values(["id_type", "value"], kind="stable", ignore_index=True)
    else:
        out = pd.DataFrame({"id_type": pd.Series([], dtype=object), "value": pd.Series([], dtype=_STRING)})
    out.attrs.update(records=n_records, quarantined_records=n_q, values=int(len(out)))
    return out


def suppressed_by_identifier(
    ids: pd.DataFrame,
    record_oneid: pd.DataFrame,
    values: pd.DataFrame,
    people: Sequence[str] | pd.Index | None = None,
) -> pd.Series:
    """People whose records carry an opted-out identifier (:func:`opt_out_identifiers`).

    A person is suppressed when any of their records (valid values, same identifier type) carries
    one of ``values``, whether or not OneID joined them to the opted-out record: they may be the
    same person split by a rule, or share the phone; either way they are not exported.

    Parameters
    ----------
    ids : DataFrame
        The normalized identifier table (``record_key``, ``id_type``, ``value``, ``valid``).
    record_oneid : DataFrame
        ``record_key``, ``oneid``.
    values : DataFrame
        ``id_type``, ``value``.
    people : list-like of str, optional
        The OneIDs of the result (e.g. ``AudienceSet.people``); default every OneID of
        ``record_oneid``.

    Returns
    -------
    Series of bool
        Indexed by oneid, named ``suppressed_by_identifier``; ``attrs``: ``values`` (how many
        identifier values were checked) and the ``records`` / ``quarantined_records`` counts of
        ``values.attrs``.
    """
    idx = pd.Index(pd.unique(record_oneid["oneid"].astype(str).to_numpy()) if people is None
                   else pd.Index(people).astype(str), name="oneid")
    flag = np.zeros(len(idx), dtype=bool)
    if len(values) and len(ids):
        it = ids["id_type"]
        codes, cats = (it.cat.codes.to_numpy(), list(it.cat.categories.astype(str))) \
            if isinstance(it.dtype, pd.CategoricalDtype) else pd.factorize(it.astype(str))
        cats = list(cats)
        valid = ids["valid"].to_numpy(dtype=bool)
        value = _arrow(ids["value"])
        hit = np.zeros(len(ids), dtype=bool)
        for typ, vs in values.groupby("id_type", sort=True)["value"]:
            if typ not in cats:
                continue
            sel = np.flatnonzero((codes == cats.index(typ)) & valid)
            if sel.size:
                hit[sel] = _isin(value.take(pa.array(sel)), _arrow(vs))
        if hit.any():
            rk = _arrow(ids["record_key"]).filter(pa.array(hit))
            own = _isin(_arrow(record_oneid["record_key"]), pc.unique(rk))
            pos = idx.get_indexer(pd.unique(record_oneid["oneid"].to_numpy()[own].astype(str)))
            flag[pos[pos >= 0]] = True
    out = pd.Series(flag, index=idx, name="suppressed_by_identifier")
    out.attrs.update({k: v for k, v in values.attrs.items() if k in ("records", "quarantined_records")})
    out.attrs["values"] = int(len(values))
    return out
