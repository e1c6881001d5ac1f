"""Unified tables keyed by OneID: orders, events, touchpoints, campaign assignments and profiles.

Which source feeds which unified table is set by the source's ``role`` in sources.yaml (with an
optional ``map`` of unified column -> source column); the synthetic world's source names have
defaults below, so its sources.yaml needs neither.
"""

from __future__ import annotations

from collections.abc import Mapping

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
    """``<source>:<key>`` for every row."""
    return source + ":" + table[key].astype("string")


def unified_table(
    role: str,
    tables: Mapping[str, pd.DataFrame],
    spec,
    oneid_of: pd.Series,
    drop_unresolved: bool = False,
) -> pd.DataFrame:
    """Stack every source of one role into the unified table, keyed by OneID.

    Parameters
    ----------
    role : str
        ``orders``, ``events``, ``touchpoints`` or ``campaign_assignments``.
    tables : dict
        Accepted source tables (from :func:`omni.io.load_dataset`).
    spec : DatasetSpec
    oneid_of : Series
        OneID indexed by record key.
    drop_unresolved : bool
        Drop rows whose record has no OneID (records after an as-of cut) instead of raising.
    """
    parts = []
    for name, (r, mapping) in source_roles(spec).items():
        if r != role or name not in tables:
            continue
        t = tables[name]
        s = spec.sources[name]
        keys = record_keys(name, t, s.key)
        part = pd.DataFrame({KEY_NAME[role]: keys.to_numpy(), "source": name})
        part["oneid"] = oneid_of.reindex(keys.to_numpy()).to_numpy()
        for col in UNIFIED_COLUMNS[role]:
            src = mapping.get(col, col)
            if src.startswith("="):
                part[col] = src[1:]
            elif src in t.columns:
                part[col] = t[src].to_numpy()
            else:
                part[col] = pd.NA
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=[KEY_NAME[role], "source", "oneid", *UNIFIED_COLUMNS[role]])
    out = pd.concat(parts, ignore_index=True)
    for col in ("source", "channel", "status", "category", "event_type", "touch_type", "arm"):
        if col in out.columns:
            out[col] = out[col].astype("category")
    if drop_unresolved:
        out = out[out["oneid"].notna()]
    if out["oneid"].isna().any():
        raise ValueError(f"{int(out['oneid'].isna().sum())} {role} rows have no OneID: resolve all records first")
    time_col = next((c for c in UNIFIED_COLUMNS[role] if c.endswith("_time")), None)
    if time_col is not None:
        out = out.sort_values([time_col, KEY_NAME[role]], kind="stable").reset_index(drop=True)
    return out


def build_profiles(
    record_oneid: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    spec,
    times: pd.Series,
    as_of: pd.Timestamp | None = None,
    orders: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One golden record per OneID by survivorship.

    Each attribute takes the most recent non-null value from the most trusted source that has one
    (order of :data:`PROFILE_ATTRIBUTES`). Also: first/last seen, records per source, identifier
    presence, preferred sales channel and category from orders. Names are stored masked only.

    Parameters
    ----------
    record_oneid : DataFrame
        ``record_key``, ``source``, ``oneid``.
    times : Series
        Record time indexed by record key (NaT where a source has none).
    """
    from omni.privacy import mask_name
    from omni.tgi import age_band

    ro = record_oneid[["record_key", "source", "oneid"]]
    prof = pd.DataFrame(index=pd.Index(np.sort(ro["oneid"].unique()), name="oneid"))
    t = times.reindex(ro["record_key"].to_numpy()).to_numpy()
    tt = pd.DataFrame({"oneid": ro["oneid"].to_numpy(), "t": t})
    g = tt.groupby("oneid")["t"]
    prof["first_seen"] = g.min()
    prof["last_seen"] = g.max()
    prof["n_records"] = ro.groupby("oneid").size()
    counts = pd.crosstab(ro["oneid"], ro["source"].astype(str))
    counts.columns = [f"n_{c}" for c in counts.columns]
    prof = prof.join(counts)
    oneid_of = pd.Series(ro["oneid"].to_numpy(), index=pd.Index(ro["record_key"].to_numpy()))
    for attr, candidates in PROFILE_ATTRIBUTES.items():
        cand = []
        for rank, (src, col) in enumerate(candidates):
            if src not in tables or col not in tables[src].columns:
                continue
            tab = tables[src]
            keys = record_keys(src, tab, spec.sources[src].key).to_numpy()
            c = pd.DataFrame({"oneid": oneid_of.reindex(keys).to_numpy(), "v": tab[col].to_numpy(),
                              "rank": rank, "t": times.reindex(keys).to_numpy()})
            cand.append(c[c["v"].notna()])
        if not cand:
            prof[attr] = pd.NA
            continue
        c = pd.concat(cand, ignore_index=True).sort_values(["oneid", "rank", "t"], ascending=[True, True, False])
        prof[attr] = c.drop_duplicates("oneid").set_index("oneid")["v"]
    prof["name_masked"] = mask_name(prof["name"].astype("string")) if "name" in prof else pd.NA
    prof = prof.drop(columns=["name"], errors="ignore")
    ref_year = (as_of or pd.Timestamp(prof["last_seen"].max())).year
    prof["age_band"] = age_band(pd.to_numeric(prof["birth_year"], errors="coerce"), ref_year)
    from omni.geo import city_tier

    prof["city_tier"] = city_tier(prof["city"])
    prof["marketing_opt_out"] = prof["marketing_opt_out"].astype("boolean").fillna(False).astype(bool)
    if orders is not None and len(orders):
        paid = orders[orders["status"].astype(str) == "paid"]
        ch = paid.groupby(["oneid", "channel"], observed=True).size().rename("n").reset_index()
        ch = ch.sort_values(["oneid", "n", "channel"], ascending=[True, False, True]).drop_duplicates("oneid")
        prof["channel_pref"] = ch.set_index("oneid")["channel"].astype(str)
        online = paid["channel"].astype(str) != "store"
        kinds = paid.assign(online=online).groupby("oneid")["online"].agg(["any", "all"])
        mix = pd.Series(
            np.select([kinds["all"], ~kinds["any"]], ["online only", "store only"], "omnichannel"),
            index=kinds.index,
        )
        prof["channel_mix"] = mix.reindex(prof.index).fillna("no purchase")
        cat = paid.groupby(["oneid", "category"], observed=True).size().rename("n").reset_index()
        cat = cat.sort_values(["oneid", "n", "category"], ascending=[True, False, True]).drop_duplicates("oneid")
        prof["top_category"] = cat.set_index("oneid")["category"].astype(str)
    return prof.reset_index()
