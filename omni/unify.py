"""Unified tables keyed by OneID: orders, events, touchpoints, campaign assignments and profiles.

Which source feeds which unified table is set by the source's ``role`` in sources.yaml (with an
optional ``map`` of unified column -> source column); the synthetic world's source names have
defaults below, so its sources.yaml needs neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

# role -> unified columns (besides <role>_key, source, oneid)
UNIFIED_COLUMNS: dict[str, list[str]] = {
    "orders": ["channel", "order_time", "amount", "status", "category"],
    "events": ["event_time", "event_type", "category"],
    "touchpoints": ["touch_time", "channel", "touch_type", "campaign_id"],
    "campaign_assignments": ["campaign_id", "arm", "assigned_time", "contacted"],
}
KEY_NAME = {"orders": "order_key", "events": "event_key", "touchpoints": "touch_key",
            "campaign_assignments": "assignment_key"}

# defaults for the synthetic world's sources: source -> (role, {unified column: source column or =constant})
DEFAULT_ROLES: dict[str, tuple[str, dict[str, str]]] = {
    "ecom_orders": ("orders", {"channel": "platform"}),
    "pos_orders": ("orders", {"channel": "=store"}),
    "web_events": ("events", {}),
    "touchpoints": ("touchpoints", {}),
    "campaign_assignments": ("campaign_assignments", {}),
}

# profile attributes: (source, column) candidates in order of trust
PROFILE_ATTRIBUTES: dict[str, list[tuple[str, str]]] = {
    "name": [("crm_members", "name"), ("ecom_orders", "receiver_name")],
    "gender": [("crm_members", "gender")],
    "birth_year": [("crm_members", "birth_year")],
    "city": [("crm_members", "city"), ("ecom_orders", "city")],
    "marketing_opt_out": [("crm_members", "marketing_opt_out")],
}


def source_roles(spec) -> dict[str, tuple[str, dict[str, str]]]:
    """Role and column map of every source that feeds a unified table."""
    out = {}
    for name, s in spec.sources.items():
        extra = getattr(s, "extra", {}) or {}
        if "role" in extra:
            role = str(extra["role"])
            if role not in UNIFIED_COLUMNS:
                raise ValueError(f"source {name!r}: unknown role {role!r}; known: {list(UNIFIED_COLUMNS)}")
            out[name] = (role, dict(extra.get("map") or {}))
        elif name in DEFAULT_ROLES:
            out[name] = DEFAULT_ROLES[name]
    return out


def record_time_column(source_spec) -> str | None:
    """The column that dates a record: declared ``time`` or the first datetime column."""
    extra = getattr(source_spec, "extra", {}) or {}
    if extra.get("time"):
        return str(extra["time"])
    for c, t in source_spec.columns.items():
        if t in ("datetime", "date"):
            return c
    return None


def record_keys(source: str, table: pd.DataFrame, key: str) -> pd.Series:
    """``<source>:<key>`` for every row (Arrow-backed strings: a fraction of object memory)."""
    return (source + ":") + table[key].astype("string[pyarrow]")


@dataclass
class RowMap:
    """OneIDs aligned with the rows of every source table (no string lookups downstream).

    Attributes
    ----------
    oneids : ndarray of object
        Sorted distinct OneIDs; a code is a position in it.
    codes : dict
        Source -> int64 array, one code per row of the accepted table (-1: row not resolved, e.g.
        after an as-of cut).
    keys : dict
        Source -> record keys (``<source>:<key>``) per row, Arrow-backed strings.
    times : dict
        Source -> record time per row (datetime64, NaT where the source has none).
    """

    oneids: np.ndarray
    codes: dict[str, np.ndarray]
    keys: dict[str, np.ndarray]
    times: dict[str, np.ndarray]

    @classmethod
    def from_records(cls, records: pd.DataFrame, oneid, tables: Mapping[str, pd.DataFrame]) -> RowMap:
        """Build from the resolved records (``record_key``, ``source``, ``row``, ``time``) and their OneIDs."""
        codes_all, uniq = pd.factorize(oneid, sort=True)
        sc = records["source"].astype("category")
        src = np.asarray(sc.cat.categories.astype(str), dtype=object)[sc.cat.codes.to_numpy()]
        rows = records["row"].to_numpy()
        codes, keys, times = {}, {}, {}
        bounds = np.flatnonzero(np.r_[True, src[1:] != src[:-1], True])
        key_arr = records["record_key"].astype("string[pyarrow]").array
        time_arr = records["time"].to_numpy()
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            name = src[a]
            n = len(tables[name])
            c = np.full(n, -1, dtype=np.int64)
            c[rows[a:b]] = codes_all[a:b]
            take = np.full(n, -1, dtype=np.int64)
            take[rows[a:b]] = np.arange(a, b)
            t = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
            t[rows[a:b]] = time_arr[a:b]
            codes[name], times[name] = c, t
            keys[name] = key_arr.take(take, allow_fill=True)
        return cls(oneids=np.asarray(uniq, dtype=object), codes=codes, keys=keys, times=times)


def unified_table(role: str, tables: Mapping[str, pd.DataFrame], spec, rowmap: RowMap) -> pd.DataFrame:
    """Stack every source of one role into the unified table, keyed by OneID.

    Rows whose record is not resolved (after an as-of cut) are left out.

    Parameters
    ----------
    role : str
        ``orders``, ``events``, ``touchpoints`` or ``campaign_assignments``.
    tables : dict
        Accepted source tables (from :func:`omni.io.load_dataset`).
    spec : DatasetSpec
    rowmap : RowMap
        OneIDs aligned with the table rows.
    """
    parts = []
    for name, (r, mapping) in source_roles(spec).items():
        if r != role or name not in tables or name not in rowmap.codes:
            continue
        t = tables[name]
        keep = rowmap.codes[name] >= 0
        part = pd.DataFrame({KEY_NAME[role]: rowmap.keys[name][keep], "source": name,
                             "oneid": rowmap.oneids[rowmap.codes[name][keep]]})
        for col in UNIFIED_COLUMNS[role]:
            src = mapping.get(col, col)
            if src.startswith("="):
                part[col] = src[1:]
            elif src in t.columns:
                part[col] = t[src].to_numpy()[keep]
            else:
                part[col] = pd.NA
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=[KEY_NAME[role], "source", "oneid", *UNIFIED_COLUMNS[role]])
    out = pd.concat(parts, ignore_index=True)
    for col in ("source", "channel", "status", "category", "event_type", "touch_type", "arm"):
        if col in out.columns:
            out[col] = out[col].astype("category")
    time_col = next((c for c in UNIFIED_COLUMNS[role] if c.endswith("_time")), None)
    if time_col is not None:
        order = np.argsort(out[time_col].to_numpy(), kind="stable")
        out = out.iloc[order].reset_index(drop=True)
    return out


def _top_per_code(codes: np.ndarray, labels: pd.Series, n_codes: int) -> pd.Series:
    """Most frequent label per code (ties: the first label in sort order); index = code."""
    lab_codes, lab_uniq = pd.factorize(labels, sort=True)
    k = max(len(lab_uniq), 1)
    counts = np.bincount(codes * k + lab_codes, minlength=n_codes * k).reshape(n_codes, k)
    has = counts.sum(axis=1) > 0
    best = counts.argmax(axis=1)
    return pd.Series(np.asarray(lab_uniq, dtype=object)[best], index=np.arange(n_codes)).where(has)


def build_profiles(
    tables: Mapping[str, pd.DataFrame],
    rowmap: RowMap,
    as_of: pd.Timestamp | None = None,
    orders: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One golden record per OneID by survivorship.

    Each attribute takes the most recent non-null value from the most trusted source that has one
    (order of :data:`PROFILE_ATTRIBUTES`). Also: first/last seen, records per source, preferred
    sales channel, channel mix and top category from paid orders. Names are stored masked only.

    Parameters
    ----------
    tables : dict
        Accepted source tables.
    rowmap : RowMap
        OneIDs aligned with the table rows.
    as_of : Timestamp, optional
        Reference date for age bands (default: the latest record).
    orders : DataFrame, optional
        The unified orders table.
    """
    from omni.geo import city_tier
    from omni.privacy import mask_name
    from omni.tgi import age_band

    n = len(rowmap.oneids)
    names = sorted(rowmap.codes)
    all_codes = np.concatenate([rowmap.codes[s] for s in names])
    all_times = np.concatenate([rowmap.times[s] for s in names])
    all_src = np.concatenate([np.full(len(rowmap.codes[s]), i) for i, s in enumerate(names)])
    ok = all_codes >= 0
    c, t, si = all_codes[ok], all_times[ok], all_src[ok]
    prof = pd.DataFrame(index=pd.RangeIndex(n))
    tv = ~np.isnat(t)
    ts = pd.Series(t[tv]).groupby(c[tv])
    prof["first_seen"] = ts.min()
    prof["last_seen"] = ts.max()
    prof["n_records"] = np.bincount(c, minlength=n)
    per_src = np.bincount(c * len(names) + si, minlength=n * len(names)).reshape(n, len(names))
    for i, s in enumerate(names):
        prof[f"n_{s}"] = per_src[:, i]
    for attr, candidates in PROFILE_ATTRIBUTES.items():
        cand = []
        for rank, (src, col) in enumerate(candidates):
            if src not in tables or col not in tables[src].columns or src not in rowmap.codes:
                continue
            v = tables[src][col]
            keep = (rowmap.codes[src] >= 0) & v.notna().to_numpy()
            cand.append(pd.DataFrame({"code": rowmap.codes[src][keep], "v": v.to_numpy()[keep],
                                      "rank": rank, "t": rowmap.times[src][keep]}))
        if not cand:
            prof[attr] = pd.NA
            continue
        cc = pd.concat(cand, ignore_index=True).sort_values(["code", "rank", "t"], ascending=[True, True, False],
                                                            kind="stable")
        prof[attr] = cc.drop_duplicates("code").set_index("code")["v"]
    if "name" in prof:
        prof["name_masked"] = mask_name(prof["name"].astype("string"))
        prof = prof.drop(columns=["name"])
    ref_year = (as_of or pd.Timestamp(prof["last_seen"].max())).year
    prof["age_band"] = age_band(pd.to_numeric(prof.get("birth_year"), errors="coerce").astype("Int64"), int(ref_year))
    prof["city_tier"] = city_tier(prof["city"]) if "city" in prof else "unknown"
    prof["marketing_opt_out"] = prof["marketing_opt_out"].astype("boolean").fillna(False).astype(bool)
    if orders is not None and len(orders):
        paid = orders[orders["status"].astype(str) == "paid"]
        pcode = pd.Index(rowmap.oneids).get_indexer(paid["oneid"].to_numpy())
        prof["channel_pref"] = _top_per_code(pcode, paid["channel"].astype(str), n)
        online = (paid["channel"].astype(str) != "store").to_numpy()
        n_paid = np.bincount(pcode, minlength=n)
        n_online = np.bincount(pcode, weights=online, minlength=n)
        prof["channel_mix"] = np.select(
            [n_paid == 0, n_online == n_paid, n_online == 0],
            ["no purchase", "online only", "store only"], "omnichannel")
        prof["top_category"] = _top_per_code(pcode, paid["category"].astype(str), n)
    prof.insert(0, "oneid", rowmap.oneids)
    return prof.reset_index(drop=True)
