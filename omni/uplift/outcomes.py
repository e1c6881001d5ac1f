"""Per-person campaign outcomes from the unified tables (campaign_assignments, orders, campaigns)."""

from __future__ import annotations

import json
import re
from typing import Literal

import numpy as np
import pandas as pd

from omni.core.orders import is_paid, usable_amount
from omni.uplift._common import CONTROL, first_bad_row, masked_list, require_columns

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "CAMPAIGN_COLUMNS",
    "ORDER_COLUMNS",
    "campaign_outcomes",
    "campaign_row",
    "parse_arms",
]

ASSIGNMENT_COLUMNS = ("campaign_id", "oneid", "arm", "contacted")
ORDER_COLUMNS = ("oneid", "order_time", "amount", "status")
CAMPAIGN_COLUMNS = ("campaign_id", "start_date", "end_date")

_BOOL_STRINGS = {
    "true": True, "false": False, "1": True, "0": False, "yes": True, "no": False,
    "t": True, "f": False, "y": True, "n": False,
}


def parse_arms(value: object, control: str = CONTROL) -> list[str]:
    """Arm names of a campaign from the ``arms`` column.

    Accepts a list/tuple, a JSON list (``'["control", "sms"]'``) or a string separated by ``|``,
    ``,``, ``;`` or whitespace (``"control|sms"``). The control arm is always included (first).
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return [control]
    if isinstance(value, list | tuple | np.ndarray):
        names = [str(v).strip() for v in value]
    else:
        text = str(value).strip()
        names = None
        if text.startswith("["):
            try:
                names = [str(v).strip() for v in json.loads(text)]
            except json.JSONDecodeError:
                names = None
        if names is None:
            names = [p.strip().strip("'\"") for p in re.split(r"[|,;\s]+", text.strip("[]"))]
    names = [n for n in names if n]
    arms = [control] + [n for n in dict.fromkeys(names) if n != control]
    return arms


def campaign_row(campaigns: pd.DataFrame, campaign_id: object) -> pd.Series:
    """The single row of ``campaigns`` for ``campaign_id`` (ValueError if absent or repeated)."""
    require_columns(campaigns, ["campaign_id"], "campaigns")
    rows = campaigns[campaigns["campaign_id"].astype(str) == str(campaign_id)]
    if len(rows) == 0:
        known = campaigns["campaign_id"].astype(str).tolist()
        raise ValueError(
            f"campaign_id {campaign_id!r} not found in campaigns (known: {known[:20]})"
        )
    if len(rows) > 1:
        raise ValueError(f"campaign_id {campaign_id!r} appears {len(rows)} times in campaigns")
    return rows.iloc[0]


def _to_bool(col: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(col) and not col.isna().any():
        return col.astype(bool)
    if col.isna().any():
        raise ValueError(f"{name} has missing values: {first_bad_row(col.isna(), col.index)}")
    if pd.api.types.is_numeric_dtype(col):
        ok = col.isin([0, 1])
        if not ok.all():
            raise ValueError(f"{name} must be boolean or 0/1: {first_bad_row(~ok, col.index)}")
        return col.astype(bool)
    mapped = col.astype(str).str.strip().str.lower().map(_BOOL_STRINGS)
    if mapped.isna().any():
        raise ValueError(
            f"{name} must be boolean (true/false/1/0/yes/no): "
            f"{first_bad_row(mapped.isna(), col.index)}"
        )
    return mapped.astype(bool)


def _window(camp: pd.Series, campaign_id: object, pre_days: int
            ) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    """Campaign start, exclusive end (day after end_date) and pre-period start."""
    try:
        start = pd.Timestamp(camp["start_date"]).normalize()
        end_excl = pd.Timestamp(camp["end_date"]).normalize() + pd.Timedelta(days=1)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"campaign {campaign_id!r} has an unreadable start_date/end_date") from exc
    if pd.isna(start) or pd.isna(end_excl) or end_excl <= start:
        raise ValueError(
            f"campaign {campaign_id!r}: end_date must be on or after start_date "
            f"(got {camp['start_date']} .. {camp['end_date']})"
        )
    pre_start = start - pd.Timedelta(days=int(pre_days))
    return start, end_excl, pre_start


def _assigned(assignments: pd.DataFrame, campaigns: pd.DataFrame, camp: pd.Series,
              campaign_id: object, control: str, on_duplicate: str) -> pd.DataFrame:
    """The campaign's assignments (oneid, arm, contacted), validated, one row per person."""
    cid = assignments["campaign_id"]
    sel = (cid == campaign_id).to_numpy(dtype=bool, na_value=False)
    if not sel.any():
        sel = (cid.astype(str) == str(campaign_id)).to_numpy()
    a = assignments.loc[sel]
    if len(a) == 0:
        raise ValueError(f"campaign_assignments has no rows for campaign_id {campaign_id!r}")
    if a["oneid"].isna().any():
        raise ValueError(
            f"campaign_assignments for {campaign_id!r} has rows without oneid: "
            f"{first_bad_row(a['oneid'].isna(), a.index)}"
        )
    if a["arm"].isna().any():
        raise ValueError(
            f"campaign_assignments for {campaign_id!r} has rows without arm: "
            f"{first_bad_row(a['arm'].isna(), a.index)}"
        )
    cols = ["oneid", "arm", "contacted"] + (["assigned_time"] if "assigned_time" in a else [])
    a = a[cols].copy()
    a["oneid"] = a["oneid"].astype(str)
    a["arm"] = a["arm"].astype(str)
    a["contacted"] = _to_bool(a["contacted"], "campaign_assignments.contacted")

    if "arms" in campaigns.columns and not pd.isna(camp["arms"]):
        allowed = parse_arms(camp["arms"], control=control)
        unknown = sorted(set(a["arm"].unique()) - set(allowed))
        if unknown:
            raise ValueError(
                f"unknown arm(s) {unknown} in campaign_assignments for campaign {campaign_id!r} "
                f"(campaign arms: {allowed})"
            )

    if a["oneid"].nunique() < len(a):
        dup = a["oneid"].duplicated(keep=False)
        people = pd.unique(a.loc[dup, "oneid"])
        if on_duplicate == "raise":
            raise ValueError(
                f"{len(people)} person(s) assigned more than once to campaign {campaign_id!r}: "
                f"{masked_list(people)}; deduplicate the assignments or pass "
                "on_duplicate='drop' or 'first'"
            )
        if on_duplicate == "drop":
            a = a.loc[~dup]
        else:
            if "assigned_time" in a:
                a = a.sort_values("assigned_time", kind="stable")
            a = a.loc[~a["oneid"].duplicated(keep="first")].sort_index()
    return a


def _paid_in_window(orders: pd.DataFrame, people: pd.Index, pre_start: pd.Timestamp,
                    start: pd.Timestamp, end_excl: pd.Timestamp
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Paid orders of ``people`` in ``[pre_start, end_excl)``: person position, amount and
    whether the order is in the campaign window (else the pre-period)."""
    # paid orders in [pre_start, end_excl) of assigned people -> person position, then bincount
    paid = is_paid(orders["status"])  # the one paid-order rule (omni.core.orders)
    o = orders.loc[paid & orders["oneid"].notna().to_numpy(), list(ORDER_COLUMNS)]
    times = pd.to_datetime(o["order_time"], errors="coerce")
    if times.isna().any():
        raise ValueError(f"orders has unreadable order_time in paid orders: "
                         f"{first_bad_row(times.isna(), o.index)}")
    keep = ((times >= pre_start) & (times < end_excl)).to_numpy()
    o, times = o.loc[keep], times.loc[keep]
    pos = people.get_indexer(o["oneid"].astype(str))
    mine = pos >= 0
    o, times, pos = o.loc[mine], times.loc[mine], pos[mine]
    amount = pd.to_numeric(o["amount"], errors="coerce")
    if amount.isna().any():
        key = "order_key" if "order_key" in orders.columns else None
        first = orders.loc[amount.index[amount.isna()][0], key] if key else amount.index[amount.isna()][0]
        raise ValueError(
            f"orders has {int(amount.isna().sum())} paid order(s) with missing/non-numeric amount "
            f"in the analysis window, first: {first!r}"
        )
    usable = usable_amount(amount)  # negative or infinite amounts never count (omni.core.orders)
    o, times, pos, amount = o.loc[usable], times.loc[usable], pos[usable], amount.loc[usable]
    amt = amount.to_numpy(dtype="float64")
    in_window = (times >= start).to_numpy()
    return pos, amt, in_window


def _join_covariates(out: pd.DataFrame, covariates: pd.DataFrame, people: pd.Index) -> pd.DataFrame:
    """``out`` with the covariate columns left-joined on oneid."""
    require_columns(covariates, ["oneid"], "covariates")
    cov_ids = pd.Index(covariates["oneid"].astype(str).to_numpy())
    if not cov_ids.is_unique:
        rep = cov_ids[cov_ids.duplicated()].unique()
        raise ValueError(
            f"covariates must have one row per oneid; {len(rep)} oneid(s) repeat: "
            f"{masked_list(rep)}"
        )
    extra = [c for c in covariates.columns if c != "oneid"]
    clash = [c for c in extra if c in out.columns]
    if clash:
        raise ValueError(f"covariates columns clash with outcome columns: {clash}")
    # left join on oneid through one hash lookup (no sort, no merge validation pass)
    where = cov_ids.get_indexer(people)
    found = where >= 0
    for c in extra:
        col = covariates[c]
        vals = col.to_numpy()[np.where(found, where, 0)]
        joined = pd.Series(vals, index=out.index, dtype=col.dtype)
        out[c] = joined.where(found) if not found.all() else joined
    return out


def campaign_outcomes(
    assignments: pd.DataFrame,
    orders: pd.DataFrame,
    campaigns: pd.DataFrame,
    campaign_id: object,
    pre_days: int = 90,
    covariates: pd.DataFrame | None = None,
    control: str = CONTROL,
    on_duplicate: Literal["raise", "drop", "first"] = "raise",
) -> pd.DataFrame:
    """Outcomes of one campaign, one row per assigned person.

    Parameters
    ----------
    assignments
        Unified ``campaign_assignments`` (campaign_id, oneid, arm, contacted; assigned_time
        used by ``on_duplicate="first"``).
    orders
        Unified ``orders`` (oneid, order_time, amount, status). Only paid orders count
        (:mod:`omni.core.orders`: status ``paid`` after trimming and lower-casing, amount
        finite and not negative), in every channel. Orders without a oneid are ignored.
    campaigns
        Unified ``campaigns`` (campaign_id, start_date, end_date; arms used to validate the arms
        found in the assignments).
    campaign_id
        The campaign to analyse.
    pre_days
        Length of the pre-period: ``[start_date - pre_days, start_date)``.
    covariates
        Optional per-oneid covariates (one row per oneid, e.g. rfm_segment, clv_tier,
        channel_pref, city_tier), left-joined on ``oneid``.
    control
        Label of the control arm.
    on_duplicate
        People assigned more than once to the campaign: ``"raise"`` (default, ValueError naming
        them, masked), ``"drop"`` (remove every row of those people) or ``"first"`` (keep the
        earliest assignment by assigned_time, then input order).

    Returns
    -------
    pandas.DataFrame
        campaign_id, oneid, arm, treated (arm != control), contacted, converted (any paid order
        with ``start_date <= order_time < end_date + 1 day``), n_orders and revenue in that
        window, pre_orders and pre_revenue in the pre-period, then the covariate columns. Rows
        keep the order of the assignments.
    """
    require_columns(assignments, ASSIGNMENT_COLUMNS, "campaign_assignments")
    require_columns(orders, ORDER_COLUMNS, "orders")
    require_columns(campaigns, CAMPAIGN_COLUMNS, "campaigns")
    if not isinstance(pre_days, int | np.integer) or pre_days < 0:
        raise ValueError(f"pre_days must be a non-negative integer, got {pre_days!r}")
    if on_duplicate not in ("raise", "drop", "first"):
        raise ValueError(f"on_duplicate must be 'raise', 'drop' or 'first', got {on_duplicate!r}")

    camp = campaign_row(campaigns, campaign_id)
    start, end_excl, pre_start = _window(camp, campaign_id, pre_days)
    a = _assigned(assignments, campaigns, camp, campaign_id, control, on_duplicate)
    people = pd.Index(a["oneid"].to_numpy())  # unique now: one hash table for every lookup
    # paid orders in [pre_start, end_excl) of assigned people -> person position, then bincount
    pos, amt, in_window = _paid_in_window(orders, people, pre_start, start, end_excl)
    n_people = len(people)

    def _count(sel: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = None if weights is None else weights[sel]
        return np.bincount(pos[sel], weights=w, minlength=n_people)

    out = pd.DataFrame(
        {
            "campaign_id": camp["campaign_id"],
            "oneid": people.to_numpy(),
            "arm": a["arm"].to_numpy(),
            "treated": (a["arm"] != control).to_numpy(),
            "contacted": a["contacted"].to_numpy(),
        }
    )
    out["n_orders"] = _count(in_window).astype("int64")
    out["revenue"] = _count(in_window, amt)
    out["converted"] = out["n_orders"] > 0
    out["pre_orders"] = _count(~in_window).astype("int64")
    out["pre_revenue"] = _count(~in_window, amt)
    out = out[
        ["campaign_id", "oneid", "arm", "treated", "contacted", "converted", "n_orders",
         "revenue", "pre_orders", "pre_revenue"]
    ]

    return out if covariates is None else _join_covariates(out, covariates, people)
