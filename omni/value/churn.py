"""Churn risk: high-value customers whose P(alive) fell since an earlier date."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from omni.value.customer import CustomerValue

__all__ = ["churn_watchlist", "short_id", "tier_then_and_now"]


def _require(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {missing}; has {list(df.columns)}")


def short_id(ids: pd.Series | Sequence[object], keep: int = 4) -> pd.Series:
    """Shortened ids for reports: the first ``keep`` characters and an ellipsis (``O000…``)."""
    s = pd.Series(ids) if not isinstance(ids, pd.Series) else ids
    return s.astype("string").str.slice(0, keep) + "…"



def _aligner(index: pd.Index, target: pd.Index):
    """``obj.reindex(target)`` for frames and series indexed by ``index``, with the positions
    looked up once (each reindex hashes every customer's OneID again)."""
    pos = index.get_indexer(target) if index.is_unique else None
    found = pos is not None and bool((pos >= 0).all())

    def align(obj):
        if found and obj.index is index:
            out = obj.iloc[pos]
            out.index = target
            return out
        return obj.reindex(target)

    return align


def churn_watchlist(
    current: CustomerValue,
    previous_restated: pd.DataFrame,
    profiles: pd.DataFrame | None = None,
    tier: str = "A",
    min_drop: float = 0.05,
    n: int = 20,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """High-value customers whose P(alive) fell since the previous month end.

    High value = in value ``tier`` at the previous month end. Both dates use this month's model
    (``previous_restated`` = :func:`omni.value.customer.restate` of the previous month), so the fall is the customer's
    own silence, not a refit. Sorted by the CLV lost.

    Parameters
    ----------
    current : CustomerValue
    previous_restated : DataFrame
        This month's model's predictions at the previous month end (index oneid).
    profiles : DataFrame, optional
        ``Resolved.profiles`` (``oneid``, ``channel_pref``, ``marketing_opt_out``) for context.
    tier : str
        Value tier that counts as high value.
    min_drop : float
        Minimum fall of P(alive) (absolute, 0..1).
    n : int
        Rows returned (1..20 for a report).

    Returns
    -------
    (DataFrame, dict)
        The list (``customer`` shortened id, RFM class, tiers, orders, revenue, days since the
        last purchase, P(alive) then and now, CLV then and now, preferred channel, opt-out) and
        figures: ``high_value`` (customers in the tier a month ago), ``falling`` (of them, P(alive)
        down by ``min_drop`` or more), ``clv_at_risk`` (their CLV now), ``clv_lost`` (CLV lost
        since), ``contactable`` (of them, not opted out; NaN without profiles).
    """
    if not 0 < min_drop < 1:
        raise ValueError(f"min_drop must be in (0, 1), got {min_drop!r}")
    if not isinstance(n, int | np.integer) or not 1 <= n <= 20:
        raise ValueError(f"n must be an integer from 1 to 20, got {n!r}")
    _require(previous_restated, ["p_alive", "value_tier", current.clv_col], "previous_restated")
    prev = previous_restated
    if tier not in set(prev["value_tier"].astype(str)):
        raise ValueError(
            f"tier {tier!r} is not among the value tiers {sorted(set(prev['value_tier'].astype(str)))}"
        )
    align = _aligner(current.summary.index, prev.index)
    cur = align(current.predictions)
    if cur["p_alive"].isna().any():
        raise ValueError("previous_restated has customers that are not in the current month")
    summ = align(current.summary)
    clv = current.clv_col
    d = pd.DataFrame(
        {
            "oneid": prev.index.to_numpy(),
            "segment": align(current.segments["segment"]).to_numpy(),
            "tier_then": prev["value_tier"].astype(str).to_numpy(),
            "tier_now": cur["value_tier"].astype(str).to_numpy(),
            "orders": summ["n_orders"].to_numpy(),
            "revenue": summ["revenue"].to_numpy(),
            "days_since_last": summ["days_since_last"].to_numpy(),
            "p_alive_then": prev["p_alive"].to_numpy(),
            "p_alive_now": cur["p_alive"].to_numpy(),
            "clv_then": prev[clv].to_numpy(),
            "clv_now": cur[clv].to_numpy(),
        }
    )
    d["p_alive_change"] = d["p_alive_now"] - d["p_alive_then"]
    d["clv_lost"] = d["clv_then"] - d["clv_now"]
    high = d["tier_then"] == tier
    falling = high & (d["p_alive_change"] <= -min_drop)
    hit = d[falling.to_numpy()].copy()
    contactable = np.nan
    if profiles is not None:
        _require(profiles, ["oneid"], "profiles")
        # only the listed customers' rows (the profiles hold every OneID: millions at scale)
        pr = profiles.loc[profiles["oneid"].isin(hit["oneid"]).to_numpy()].set_index("oneid")
        for col in ("channel_pref", "marketing_opt_out"):
            hit[col] = pr[col].reindex(hit["oneid"]).to_numpy() if col in pr.columns else pd.NA
        if "marketing_opt_out" in pr.columns:
            contactable = float((~hit["marketing_opt_out"].astype("boolean").fillna(False)).sum())
    figures = {
        "high_value": float(high.sum()),
        "falling": float(falling.sum()),
        "clv_at_risk": float(hit["clv_now"].sum()),
        "clv_lost": float(hit["clv_lost"].sum()),
        "contactable": contactable,
    }
    hit = hit.sort_values(["clv_lost", "oneid"], ascending=[False, True], kind="stable").head(n)
    hit.insert(0, "customer", short_id(hit["oneid"]).to_numpy())
    hit = hit.drop(columns=["oneid"]).reset_index(drop=True)
    hit.insert(0, "rank", np.arange(1, len(hit) + 1))
    return hit, figures


def tier_then_and_now(current: CustomerValue, previous_restated: pd.DataFrame, tier: str) -> pd.DataFrame:
    """Customers in value ``tier`` at the earlier date: P(alive) then and now, and whether they bought.

    Returns
    -------
    DataFrame
        Indexed by oneid: ``then``, ``now`` (P(alive) by this model at both dates) and ``bought``
        (a purchase in the month of ``current.end``).
    """
    was_top = (previous_restated["value_tier"].astype(str) == tier).to_numpy()
    then = previous_restated["p_alive"][was_top]
    start = current.end.to_period("M").start_time
    bought = (current.summary["last_purchase"].reindex(then.index) >= start).to_numpy()
    return pd.DataFrame({"then": then.to_numpy(), "now": current.predictions["p_alive"].reindex(then.index).to_numpy(),
                         "bought": bought}, index=then.index)
