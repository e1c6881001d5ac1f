"""Consent: who opted out of personalised marketing (PIPL Art. 24: the right to refuse).

The unified profile's ``marketing_opt_out`` is already conservative: true when any of the person's
CRM records opted out (:func:`omni.unify.build_profiles`), so a newer duplicate member record never
undoes an opt-out. :func:`opted_out` applies the same rule again over every source with a consent
column (not only the CRM), and marks a person opted out if the profile says so **or any record**
says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["CONSENT_COLUMNS", "opted_out"]

#: Source columns that record an opt-out from marketing (true = opted out).
CONSENT_COLUMNS: tuple[str, ...] = ("marketing_opt_out",)

_TRUE = {"true", "1", "yes", "y", "t"}


def _truthy(col: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.fillna(False).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(col.dtype):
        return (col.fillna(0) != 0).to_numpy(dtype=bool)
    return col.astype("string").str.strip().str.lower().isin(_TRUE).to_numpy(dtype=bool, na_value=False)


def opted_out(
    profiles: pd.DataFrame,
    record_oneid: pd.DataFrame | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    keys: Mapping[str, str] | None = None,
    columns: Sequence[str] = CONSENT_COLUMNS,
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

    Returns
    -------
    Series of bool
        Indexed by oneid in profile order, named ``marketing_opt_out``. ``attrs`` hold
        ``from_profile`` (people the profile marks) and ``from_records_only`` (people only a
        record marks: the profile's survivorship picked a newer record that did not opt out).
    """
    if "oneid" not in profiles.columns:
        raise ValueError(f"profiles is missing column 'oneid'; it has {list(profiles.columns)}")
    people = pd.Index(profiles["oneid"].astype(str).to_numpy(), name="oneid")
    flag = np.zeros(len(people), dtype=bool)
    for c in columns:
        if c in profiles.columns:
            flag |= _truthy(profiles[c])
    from_profile = int(flag.sum())
    if tables is not None and record_oneid is not None:
        from omni.unify import record_keys

        need = [c for c in ("record_key", "oneid") if c not in record_oneid.columns]
        if need:
            raise ValueError(f"record_oneid is missing column(s) {need}")
        keys = dict(keys or {})
        opted_keys = []
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
                opted_keys.append(record_keys(name, t.loc[hit], keys[name]))
        if opted_keys:
            k = pd.concat(opted_keys, ignore_index=True).astype("string[pyarrow]")
            rk = record_oneid["record_key"].astype("string[pyarrow]")
            hit_oneids = record_oneid.loc[rk.isin(k).to_numpy(dtype=bool, na_value=False), "oneid"]
            pos = people.get_indexer(hit_oneids.astype(str).to_numpy())
            flag[pos[pos >= 0]] = True
    out = pd.Series(flag, index=people, name="marketing_opt_out")
    out.attrs["from_profile"] = from_profile
    out.attrs["from_records_only"] = int(flag.sum()) - from_profile
    return out
