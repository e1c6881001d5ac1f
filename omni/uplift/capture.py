"""What OneID captures of an assigned person's orders, and the lift corrected for it.

A campaign is measured on the assigned member's OneID. Orders OneID cannot tie to the member
(a store walk-in who showed no card, a platform account that was never bound and that the
probabilistic stage did not link) land elsewhere, in both arms: the measured effect is the true
effect times about the share captured. :func:`capture_rate` estimates that share by channel from
what the data shows (never from a synthetic world's truth); :func:`adjusted_lift` divides it
out, with the capture's uncertainty in the interval. Formulas: docs/uplift.md, "Identity capture".
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from omni.core.orders import paid_order_mask
from omni.engine import lookup
from omni.uplift._common import check_alpha, require_columns
from omni.uplift.effects import lift
from omni.uplift.outcomes import campaign_row
from omni.workspace import PROCESSED

__all__ = ["CAPTURE_COLUMNS", "adjusted_lift", "capture_rate", "linkage_recall"]

#: Columns of :func:`capture_rate` (one row per channel, then ``all``).
CAPTURE_COLUMNS = ("channel", "orders", "capture", "se", "ci_low", "ci_high", "basis")
STORE_CHANNELS = ("store",)
SITE_CHANNELS = ("site",)


def linkage_recall(stage: dict[str, Any]) -> tuple[float, float, float, float]:
    """Recall of the probabilistic account-linking stage, estimated from its own report.

    Two bounds from what the stage saw: ``low`` = linked / (linked + below threshold + ambiguous)
    counts every account that had a candidate profile as a true match (too pessimistic: most
    below-threshold candidates are other people), ``high`` = the Fellegi-Sunter model's own recall,
    P(posterior >= threshold | match) summed over the comparison levels with the fitted
    m-probabilities (too optimistic: it assumes every true match was a candidate). The estimate is
    their midpoint, with the uncertainty of a uniform distribution over the range.

    Parameters
    ----------
    stage : dict
        ``Resolved.summary["probabilistic"]``: decisions, threshold, prior, model_parameters.

    Returns
    -------
    (recall, se, low, high): floats, all NaN when the stage did not run.
    """
    dec = stage.get("decisions") or {}
    params = stage.get("model_parameters") or []
    if not dec or not params or stage.get("status") == "failed":
        return (np.nan, np.nan, np.nan, np.nan)
    linked = float(dec.get("linked", 0))
    seen = linked + float(dec.get("below_threshold", 0)) + float(dec.get("ambiguous", 0))
    low = linked / seen if seen else np.nan
    p = pd.DataFrame(params)
    p = p[(p["level"] >= 0) & p["m_probability"].notna()]
    prior, threshold = float(stage["prior"]), float(stage.get("threshold", 0.95))
    need = np.log2((1 - prior) / prior) + np.log2(threshold / (1 - threshold))  # weight to link
    levels = [list(zip(g["m_probability"], g["match_weight"], strict=True))
              for _, g in p.groupby("comparison", sort=True)]
    hit = total = 0.0
    for combo in itertools.product(*levels):  # a few hundred level combinations
        m = float(np.prod([c[0] for c in combo]))
        total += m
        hit += m * (sum(c[1] for c in combo) >= need)
    high = hit / total if total else np.nan
    lo, hi = (min(low, high), max(low, high)) if np.isfinite(low) and np.isfinite(high) else (low, high)
    return ((lo + hi) / 2, (hi - lo) / np.sqrt(12), lo, hi)


def _orders_of(orders: pd.DataFrame, how: np.ndarray, oneids: pd.Index, lo: pd.Timestamp,
               hi: pd.Timestamp) -> pd.DataFrame:
    """Paid orders of ``oneids`` in ``[lo, hi)`` with the resolution stage that placed them
    (``how``: one per row of ``orders``)."""
    keep = np.asarray(paid_order_mask(orders), dtype=bool) & orders["oneid"].notna().to_numpy()
    t = pd.to_datetime(orders["order_time"], errors="coerce")
    keep &= ((t >= lo) & (t < hi)).to_numpy()
    keep[keep] = oneids.get_indexer(orders.loc[keep, "oneid"].astype(str)) >= 0
    return pd.DataFrame({"channel": orders.loc[keep, "channel"].astype(str).to_numpy(),
                         "how": how[keep]})


def _channels(orders: pd.DataFrame) -> tuple[np.ndarray, set[str]]:
    """Every order's channel as text, and the set of them (hashed, not sorted: 5 M orders at 1M)."""
    channel = orders["channel"].astype(str).to_numpy()
    return channel, set(pd.unique(channel))


def capture_rate(workspace: Any, campaign_id: str, *, as_of: str | None = None, pre_days: int = 365,
                 alpha: float = 0.05) -> pd.DataFrame:
    """Share of an assigned person's orders that their OneID captures, by channel, with intervals.

    Estimated from the data only:

    * **store**: 1 - the share of all store orders that carry no identifier at all (no card,
      no usable phone: the resolution placed them ``how == "none"``), a binomial proportion.
      Assumes members walk in without a card as often as everyone else.
    * **platforms** (every channel that is neither store nor site): an assigned member's
      platform order is captured when it was tied deterministically (receiver phone, bound
      account) or its account was linked by the probabilistic stage, which misses a share
      1 - r of the accounts it should link (:func:`linkage_recall`). With p_L the share of the
      member's captured platform orders that came through the stage, the missed orders are
      p_L (1/r - 1) per captured one: capture = 1 / (1 + p_L (1/r - 1)).
    * **site**: 1 - the share of site orders placed ``how == "none"`` (normally 1: logged in).

    The ``all`` row weights the channels by the assigned people's orders, each channel's count
    scaled up by its capture (what they really bought there): capture_all = sum n / sum (n / c),
    with a delta-method standard error.

    Parameters
    ----------
    workspace : omni.workspace.Workspace
        The opened dataset (its :meth:`resolve` is used).
    campaign_id : str
        The campaign whose assigned people are looked at.
    as_of : str, optional
        Resolution month ``YYYY-MM`` (all records when None), as the analysis used.
    pre_days : int
        The assigned people's paid orders in ``[start - pre_days, end + 1 day)`` give the channel
        mix and p_L.
    alpha : float
        1 - confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        :data:`CAPTURE_COLUMNS`: channel, orders (assigned people's observed paid orders), capture,
        se, ci_low, ci_high and basis (how it was estimated); the last row is ``all``.
    """
    check_alpha(alpha)
    res = workspace.resolve(as_of)
    orders, assignments = res["orders"], res["campaign_assignments"]
    require_columns(orders, ["order_key", "oneid", "channel", "order_time", "status", "amount"], "orders")
    camp = campaign_row(workspace.source("campaigns"), campaign_id)
    start = pd.Timestamp(camp["start_date"]).normalize()
    end = pd.Timestamp(camp["end_date"]).normalize() + pd.Timedelta(days=1)
    # the stage that placed each order: its key looked up in record_oneid by the engine (at 1M
    # persons record_oneid has 20 M rows; the orders are a quarter of them), once per resolution
    # for every campaign of the month (about 7 s each at 1M)
    every_how = workspace.memo(("uplift.order_how", as_of), lambda: lookup(
        orders["order_key"], res.engine_table("record_oneid"), "record_key", "how", "record_oneid",
        temp_dir=workspace.path / PROCESSED / ".engine").astype(str))
    sel = assignments["campaign_id"].astype(str) == str(campaign_id)
    people = pd.Index(assignments.loc[sel, "oneid"].dropna().astype(str).unique())
    if len(people) == 0:
        raise ValueError(f"campaign {campaign_id!r} has no assigned people in this resolution")
    mine = _orders_of(orders, every_how, people, start - pd.Timedelta(days=int(pre_days)), end)
    # every order's channel as text and the channels there are, once per resolution too
    channel, channels = workspace.memo(("uplift.order_channels", as_of), lambda: _channels(orders))
    recall, se_r, r_lo, r_hi = linkage_recall(res.summary.get("probabilistic") or {})
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for ch in sorted(set(mine["channel"]) | channels):
        n_mine = int((mine["channel"] == ch).sum())
        if ch in STORE_CHANNELS or ch in SITE_CHANNELS:
            on = channel == ch
            n = int(on.sum())
            none = float((every_how[on] == "none").mean()) if n else 0.0
            c, se = 1 - none, (np.sqrt(none * (1 - none) / n) if n else np.nan)
            basis = (f"1 - share of {n:,} {ch} orders without any identifier ({none:.1%})")
        else:
            m = mine[mine["channel"] == ch]
            p_l = float((m["how"] == "probabilistic").mean()) if len(m) else 0.0
            if not np.isfinite(recall) or p_l == 0:
                c, se = 1.0, 0.0
                basis = ("no account linked by probability (stage off or unused): "
                         "unbound accounts cannot be measured, capture taken as 1")
            else:
                k = 1 / recall - 1
                c = 1 / (1 + p_l * k)
                var_pl = p_l * (1 - p_l) / max(len(m), 1)
                dc_dr = c ** 2 * p_l / recall ** 2
                dc_dpl = -(c ** 2) * k
                se = float(np.sqrt(dc_dr ** 2 * se_r ** 2 + dc_dpl ** 2 * var_pl))
                basis = (f"{p_l:.1%} of the assigned people's {ch} orders linked by probability; "
                         f"stage recall {recall:.1%} (between {r_lo:.1%} and {r_hi:.1%})")
        rows.append({"channel": ch, "orders": n_mine, "capture": float(c), "se": float(se),
                     "basis": basis})
    out = pd.DataFrame(rows)
    out = pd.concat([out, _overall(out)], ignore_index=True)
    out["ci_low"] = (out["capture"] - z * out["se"]).clip(upper=1.0)
    out["ci_high"] = (out["capture"] + z * out["se"]).clip(upper=1.0)
    return out[list(CAPTURE_COLUMNS)]


def _overall(by_channel: pd.DataFrame) -> pd.DataFrame:
    """The ``all`` row: capture_all = sum n / sum (n / c), delta-method standard error."""
    n = by_channel["orders"].to_numpy(dtype="float64")
    c = by_channel["capture"].to_numpy(dtype="float64")
    se = np.nan_to_num(by_channel["se"].to_numpy(dtype="float64"))
    ok = (n > 0) & (c > 0)
    if not ok.any():
        return pd.DataFrame([{"channel": "all", "orders": 0, "capture": np.nan, "se": np.nan,
                              "basis": "no orders of the assigned people"}])
    n, c, se = n[ok], c[ok], se[ok]
    total = float(n.sum() / (n / c).sum())
    grad = total ** 2 * n / (c ** 2 * n.sum())
    return pd.DataFrame([{"channel": "all", "orders": int(n.sum()), "capture": total,
                          "se": float(np.sqrt((grad ** 2 * se ** 2).sum())),
                          "basis": "channels weighted by the assigned people's orders / capture"}])


def _capture_value(capture: pd.DataFrame | float | tuple[float, float]) -> tuple[float, float]:
    """(capture, se) from a :func:`capture_rate` frame (its ``all`` row), a number or a pair."""
    if isinstance(capture, pd.DataFrame):
        require_columns(capture, ["channel", "capture", "se"], "capture")
        row = capture[capture["channel"].astype(str) == "all"]
        if len(row) != 1:
            raise ValueError("capture has no single 'all' row (pass capture_rate(...) or a number)")
        c, se = float(row["capture"].iloc[0]), float(row["se"].iloc[0])
    elif isinstance(capture, tuple):
        c, se = float(capture[0]), float(capture[1])
    else:
        c, se = float(capture), 0.0
    if not (np.isfinite(c) and 0 < c <= 1) or not (np.isfinite(se) and se >= 0):
        raise ValueError(f"capture must be in (0, 1] with a standard error >= 0, got {c!r}, {se!r}")
    return c, se


def adjusted_lift(outcomes: pd.DataFrame, capture: pd.DataFrame | float | tuple[float, float],
                  metric: str = "converted", alpha: float = 0.05, **kw: Any) -> pd.DataFrame:
    """:func:`omni.uplift.lift` corrected for the orders OneID does not capture.

    Each order of an assigned person lands on their OneID with probability c. For counts and
    sums (``n_orders``, ``revenue``) the measured effect is c times the true one: d = d_obs / c.
    For ``converted`` (any paid order), with orders arriving as a Poisson process and each
    captured independently, the control group's measured non-conversion 1 - p_c is
    exp(-c Lambda) while the true one is exp(-Lambda), and the measured effect is
    pi c (1 - p_c) for a true pi (1 - p_c)^(1/c):

        d = d_obs / c x (1 - p_c)^(1/c - 1)

    The standard error adds the capture's uncertainty by the delta method:
    se^2 = h^2 se_obs^2 + (d_obs dh/dc)^2 se_c^2, h = d / d_obs. The relative lift is against the
    corrected control mean (1 - (1 - p_c)^(1/c) for conversion, m_c / c otherwise).

    Parameters
    ----------
    outcomes : DataFrame
        :func:`omni.uplift.campaign_outcomes` rows.
    capture : DataFrame, float or (float, float)
        :func:`capture_rate` (its ``all`` row is used), a capture share, or (share, standard error).
    metric : str
        Outcome column, as in :func:`lift`.
    alpha : float
        1 - confidence level.
    **kw
        Passed to :func:`lift` (``arm``, ``control``, ``correction``).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`lift` (abs_lift, se, abs_ci_low, abs_ci_high, p_value, rel_lift, ...)
        for the corrected effect, plus ``capture``, ``capture_se``, ``observed_lift`` and
        ``observed_ci_low`` / ``observed_ci_high``.
    """
    c, se_c = _capture_value(capture)
    obs = lift(outcomes, metric, alpha=alpha, **kw)
    z = stats.norm.ppf(1 - alpha / 2)
    d = obs["abs_lift"].to_numpy(dtype="float64")
    if obs["test"].iloc[0] == "two-proportion z":
        q = 1 - float(obs["mean_control"].iloc[0])  # measured non-conversion in the holdout
        q = min(max(q, 1e-12), 1.0)
        h = q ** (1 / c - 1) / c
        dlogh = -np.log(q) / c ** 2 - 1 / c
        base = 1 - q ** (1 / c)
    else:
        h, dlogh = 1 / c, -1 / c
        base = float(obs["mean_control"].iloc[0]) / c
    out = obs.copy()
    out["observed_lift"] = d
    out["observed_ci_low"], out["observed_ci_high"] = obs["abs_ci_low"], obs["abs_ci_high"]
    est = d * h
    se = np.sqrt((h * obs["se"].to_numpy(dtype="float64")) ** 2 + (est * dlogh * se_c) ** 2)
    out["abs_lift"], out["se"] = est, se
    # the critical value lift used (normal for proportions, Welch's t for numeric metrics)
    with np.errstate(divide="ignore", invalid="ignore"):
        crit = np.where(obs["se"] > 0, (obs["abs_ci_high"] - d) / obs["se"], z)
    out["abs_ci_low"], out["abs_ci_high"] = est - crit * se, est + crit * se
    out["mean_control"] = base
    out["mean_treat"] = base + est
    with np.errstate(divide="ignore", invalid="ignore"):
        out["p_value"] = 2 * stats.norm.sf(np.abs(est / se))
        out["rel_lift"] = est / base if base > 0 else np.nan
        out["rel_ci_low"] = out["abs_ci_low"] / base if base > 0 else np.nan
        out["rel_ci_high"] = out["abs_ci_high"] / base if base > 0 else np.nan
    if "p_value_adj" in out:
        from statsmodels.stats.multitest import multipletests
        method = {"holm": "holm", "bonferroni": "bonferroni"}[kw.get("correction") or "holm"]
        out["p_value_adj"] = multipletests(out["p_value"].to_numpy(), method=method)[1]
        out["significant"] = out["p_value_adj"] < alpha
    else:
        out["significant"] = out["p_value"] < alpha
    out["test"] = out["test"] + ", capture-adjusted"
    out["capture"], out["capture_se"] = c, se_c
    if "verdict" in out:
        out["verdict"] = [
            (f"{'significant' if s else 'not significant'} after correcting for capture "
             f"{c:.0%} (p = {p:.3g})") for s, p in zip(out["significant"], out["p_value"], strict=True)]
    return out
