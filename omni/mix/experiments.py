"""Geo lift experiments measured from the data: a channel dark in some regions for some weeks.

For each experiment the regions that went dark are compared with the regions that did not
(a ratio estimator, as in synthetic-control geo tests): a dark region's expected orders in the test
window are its orders in the 8 weeks before times the control regions' growth from those weeks to
the window. The window runs ``TAIL_DAYS`` past the last dark day, so that the carryover lost after
it is counted. The lift is the expected orders minus the orders seen (the orders the channel would
have brought), with a standard error from placebo tests: the same estimate for each control region
against the others, where the true effect is zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omni.mix.inputs import MixPanel

__all__ = ["PRE_DAYS", "TAIL_DAYS", "counterfactual_spend", "experiment_design", "measure_lifts"]

#: Days before a test used as its baseline, and days after it still counted.
PRE_DAYS, TAIL_DAYS = 56, 14


def experiment_design(experiments: pd.DataFrame, panel: MixPanel) -> list[dict]:
    """Each experiment's channel, dark regions (panel positions) and days (panel positions).

    Experiments on a channel or in regions the panel does not have, or outside its days, are
    left out (they cannot be measured).
    """
    need = ["experiment_id", "channel", "region", "arm", "start_date", "end_date"]
    missing = [c for c in need if c not in experiments.columns]
    if missing:
        raise ValueError(f"geo_experiments is missing column(s) {missing}")
    out = []
    rix = {r: k for k, r in enumerate(panel.regions)}
    for eid, g in experiments.groupby(experiments["experiment_id"].astype(str), sort=True):
        ch = str(g["channel"].iloc[0])
        s0 = int(panel.day_index(g["start_date"].iloc[:1])[0])
        s1 = int(panel.day_index(g["end_date"].iloc[:1])[0])
        dark = sorted({rix[r] for r in g.loc[g["arm"].astype(str) == "dark", "region"].astype(str) if r in rix})
        if ch not in panel.channels or s0 < PRE_DAYS or s1 < s0 or not dark:
            continue
        end = min(s1 + TAIL_DAYS, len(panel.dates) - 1)
        control = [k for k in range(len(panel.regions)) if k not in dark]
        if len(control) < 3:
            continue
        out.append({"experiment_id": eid, "channel": ch, "start": s0, "end": s1, "window_end": end,
                    "dark": dark, "control": control})
    return out


def counterfactual_spend(panel: MixPanel, e: dict) -> np.ndarray:
    """The spend the dark regions would have had (T x dark regions): their daily spend in the
    8 weeks before, scaled by the control regions' change from then to the dark days."""
    k = panel.channels.index(e["channel"])
    s = panel.spend[:, :, k]
    pre = slice(e["start"] - PRE_DAYS, e["start"])
    on = slice(e["start"], e["end"] + 1)
    c = e["control"]
    growth = s[on][:, c].sum() / max(s[pre][:, c].sum(), 1e-9) * PRE_DAYS / (e["end"] + 1 - e["start"])
    rate = s[pre][:, e["dark"]].sum(axis=0) / PRE_DAYS * growth
    out = s[:, e["dark"]].copy()
    out[on] = rate[None, :]
    return out


def _ratio_lift(y: np.ndarray, pre: slice, win: slice, treated: list[int], control: list[int]) -> float:
    growth = y[win][:, control].sum() / max(y[pre][:, control].sum(), 1e-9)
    return float((y[pre][:, treated].sum(axis=0) * growth - y[win][:, treated].sum(axis=0)).sum())


def measure_lifts(experiments: pd.DataFrame, panel: MixPanel) -> pd.DataFrame:
    """Measured incremental orders and revenue of each experiment, with standard errors.

    Parameters
    ----------
    experiments : DataFrame
        ``geo_experiments`` rows: ``experiment_id``, ``channel``, ``region``, ``arm``
        (``dark`` or ``control``), ``start_date``, ``end_date``.
    panel : MixPanel

    Returns
    -------
    DataFrame
        One row per measurable experiment: ``experiment_id``, ``channel``, ``start_date``,
        ``end_date``, ``window_end``, ``dark_regions``, ``withheld_spend`` (the counterfactual
        spend not made), ``lift_orders``, ``se_orders``, ``lift_revenue``, ``se_revenue``,
        ``iroas`` (lift revenue per unit of withheld spend), ``iroas_se``.
    """
    rows = []
    for e in experiment_design(experiments, panel):
        pre = slice(e["start"] - PRE_DAYS, e["start"])
        win = slice(e["start"], e["window_end"] + 1)
        cf = counterfactual_spend(panel, e)
        withheld = float(cf[e["start"]:e["end"] + 1].sum() - panel.spend[e["start"]:e["end"] + 1, e["dark"],
                                                                       panel.channels.index(e["channel"])].sum())
        out = {"experiment_id": e["experiment_id"], "channel": e["channel"],
               "start_date": pd.Timestamp(panel.dates[e["start"]]), "end_date": pd.Timestamp(panel.dates[e["end"]]),
               "window_end": pd.Timestamp(panel.dates[e["window_end"]]), "dark_regions": len(e["dark"]),
               "withheld_spend": withheld}
        for what, y in (("orders", panel.orders), ("revenue", panel.revenue)):
            lift = _ratio_lift(y, pre, win, e["dark"], e["control"])
            # placebo: each control region treated as if dark, against the other controls
            rel = np.array([_ratio_lift(y, pre, win, [j], [k for k in e["control"] if k != j])
                            / max(y[pre][:, j].sum(), 1e-9) for j in e["control"]])
            base = y[pre][:, e["dark"]].sum(axis=0)
            se = float(np.sqrt((base**2).sum()) * rel.std(ddof=1) * np.sqrt(1 + 1 / len(rel)))
            out[f"lift_{what}"], out[f"se_{what}"] = lift, se
        out["iroas"] = out["lift_revenue"] / withheld if withheld > 0 else np.nan
        out["iroas_se"] = out["se_revenue"] / withheld if withheld > 0 else np.nan
        rows.append(out)
    cols = ["experiment_id", "channel", "start_date", "end_date", "window_end", "dark_regions",
            "withheld_spend", "lift_orders", "se_orders", "lift_revenue", "se_revenue", "iroas", "iroas_se"]
    return pd.DataFrame(rows, columns=cols)
