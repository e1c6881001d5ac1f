"""The mix's inputs: media spend and regional sales checked against each other, as a daily panel.

The contract's loader has already quarantined rows that break a source's own rules (a negative
spend, a missing date). :func:`check_spend` quarantines what only the mix sees: a second row for
the same day, region and channel (the first is kept), and spend on a day or in a region without
sales data. :func:`build_panel` turns the accepted rows into arrays (day x region [x channel]).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from omni.io.validate import QUARANTINE_COLUMNS

__all__ = ["MIX_REASONS", "MixPanel", "build_panel", "check_spend", "file_rows"]

#: Reasons :func:`check_spend` gives.
MIX_REASONS: dict[str, str] = {
    "duplicate_cell": "a second spend row for the same day, region and channel",
    "no_sales_day": "spend on a day outside the sales data",
    "unknown_region": "spend in a region without sales data",
}


@dataclass
class MixPanel:
    """Daily sales and spend per region (and channel).

    Attributes
    ----------
    dates : ndarray of datetime64[D]
        Every day from the first to the last day of the sales data (T).
    regions, channels : list of str
        R regions (by sales, largest first), C channels (by spend, largest first).
    spend : ndarray
        T x R x C spend (0 where no row).
    orders, revenue, price : ndarray
        T x R orders, revenue and price index (1 where the data has none).
    """

    dates: np.ndarray
    regions: list[str]
    channels: list[str]
    spend: np.ndarray
    orders: np.ndarray
    revenue: np.ndarray
    price: np.ndarray

    @property
    def aov(self) -> np.ndarray:
        """Revenue per order per day and region (the region's mean on a day without orders)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            daily = self.revenue / self.orders
            mean = self.revenue.sum(axis=0) / np.maximum(self.orders.sum(axis=0), 1)
        return np.where(self.orders > 0, daily, mean[None, :])

    def day_index(self, dates: pd.Series | np.ndarray) -> np.ndarray:
        """Positions of ``dates`` in :attr:`dates` (-1 outside)."""
        d = np.asarray(pd.to_datetime(dates).values.astype("datetime64[D]"))
        k = (d - self.dates[0]).astype(int)
        return np.where((k >= 0) & (k < len(self.dates)), k, -1)


def file_rows(table: pd.DataFrame, quarantine: pd.DataFrame, rows_in: int) -> np.ndarray:
    """File row numbers of a loaded source's accepted rows (the loader keeps file order)."""
    dropped = pd.to_numeric(quarantine["row"], errors="coerce").dropna().astype(int).unique()
    rows = np.setdiff1d(np.arange(1, rows_in + 1), dropped)
    return rows if len(rows) == len(table) else np.full(len(table), -1)


def check_spend(spend: pd.DataFrame, sales: pd.DataFrame, rows: np.ndarray | None = None,
                file: str = "media_spend") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Quarantine the spend rows the mix cannot use.

    Parameters
    ----------
    spend : DataFrame
        Accepted ``media_spend`` rows (``spend_id``, ``date``, ``region``, ``channel``, ``spend``).
    sales : DataFrame
        Accepted ``regional_sales`` rows (``date``, ``region``).
    rows : ndarray, optional
        File row number of each spend row (:func:`file_rows`).
    file : str
        The spend file's name, for the quarantine.

    Returns
    -------
    (DataFrame, DataFrame)
        The usable rows and the quarantined ones (the contract's quarantine columns, a reason of
        :data:`MIX_REASONS`); ``len(spend) == len(usable) + len(quarantined)``.
    """
    missing = [c for c in ("date", "region", "channel", "spend") if c not in spend.columns]
    if missing:
        raise ValueError(f"media_spend is missing column(s) {missing}")
    dates = pd.to_datetime(spend["date"]).dt.normalize()
    sd = pd.to_datetime(sales["date"]).dt.normalize()
    reason = pd.Series("", index=spend.index, dtype=object)
    column = pd.Series("", index=spend.index, dtype=object)
    dup = pd.DataFrame({"d": dates, "r": spend["region"].astype(str),
                        "c": spend["channel"].astype(str)}).duplicated(keep="first")
    reason[dup], column[dup] = "duplicate_cell", "channel"
    outside = ~((dates >= sd.min()) & (dates <= sd.max())) & (reason == "")
    reason[outside], column[outside] = "no_sales_day", "date"
    unknown = ~spend["region"].astype(str).isin(set(sales["region"].astype(str))) & (reason == "")
    reason[unknown], column[unknown] = "unknown_region", "region"
    bad = (reason != "").to_numpy()
    row = rows if rows is not None else np.full(len(spend), -1)
    key = spend["spend_id"].astype(str) if "spend_id" in spend.columns else pd.Series("", index=spend.index)
    q = pd.DataFrame({
        "source": "media_spend", "file": file, "row": row[bad],
        "record_key": ("media_spend:" + key[bad]).to_numpy(),
        "column": column[bad].to_numpy(),
        "value": [str(spend.at[i, c]) for i, c in zip(spend.index[bad], column[bad], strict=True)],
        "reason": reason[bad].to_numpy(),
    })[list(QUARANTINE_COLUMNS)]
    return spend.loc[~bad], q


def build_panel(sales: pd.DataFrame, spend: pd.DataFrame,
                channels: list[str] | None = None) -> MixPanel:
    """Daily arrays from the accepted sales and (checked) spend rows.

    Parameters
    ----------
    sales : DataFrame
        ``date``, ``region``, ``orders``, ``revenue`` and optionally ``price_index``.
    spend : DataFrame
        ``date``, ``region``, ``channel``, ``spend`` (after :func:`check_spend`).
    channels : list of str, optional
        Channels to keep, in this order (default every channel, by total spend).

    Returns
    -------
    MixPanel

    Raises
    ------
    ValueError
        No sales rows, a region-day listed twice in the sales, or fewer than 26 weeks of sales.
    """
    if sales.empty:
        raise ValueError("regional_sales has no accepted row: nothing to model")
    sd = pd.to_datetime(sales["date"]).values.astype("datetime64[D]")
    first, last = sd.min(), sd.max()
    n_days = int((last - first).astype(int)) + 1
    if n_days < 182:
        raise ValueError(f"regional_sales covers {n_days} days: a mix model needs at least 26 weeks")
    regions = (sales.groupby(sales["region"].astype(str), observed=True)["orders"].sum()
               .sort_values(ascending=False).index.tolist())
    rix = {r: k for k, r in enumerate(regions)}
    t = (sd - first).astype(int)
    r = sales["region"].astype(str).map(rix).to_numpy()
    if pd.Series(t * len(regions) + r).duplicated().any():
        raise ValueError("regional_sales: a region has two rows for the same day")
    orders = np.zeros((n_days, len(regions)))
    revenue = np.zeros_like(orders)
    price = np.ones_like(orders)
    orders[t, r] = sales["orders"].to_numpy(float)
    revenue[t, r] = sales["revenue"].to_numpy(float)
    if "price_index" in sales.columns:
        p = sales["price_index"].to_numpy(float)
        price[t, r] = np.where(np.isfinite(p) & (p > 0), p, 1.0)
    totals = spend.groupby(spend["channel"].astype(str), observed=True)["spend"].sum()
    chans = list(channels) if channels is not None else totals.sort_values(ascending=False).index.tolist()
    cix = {c: k for k, c in enumerate(chans)}
    s = spend[spend["channel"].astype(str).isin(cix)]
    st = (pd.to_datetime(s["date"]).values.astype("datetime64[D]") - first).astype(int)
    sr = s["region"].astype(str).map(rix).to_numpy()
    sc = s["channel"].astype(str).map(cix).to_numpy()
    cube = np.zeros((n_days, len(regions), len(chans)))
    np.add.at(cube, (st, sr, sc), s["spend"].to_numpy(float))
    dates = first + np.arange(n_days)
    return MixPanel(dates, regions, chans, cube, orders, revenue, price)
