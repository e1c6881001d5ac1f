"""Purchases and product views per OneID: order lines joined to their orders' OneIDs.

Line items arrive as their own source (``order_lines``: ``order_source``, ``order_id``, ``sku``,
``quantity``, ``amount``), loaded through the io contract like every source (rows failing it are
quarantined with a reason). A line reaches a person through its order's record: the unified
orders carry ``order_key`` (``<source>:<order id>``) and the order's OneID, so no raw identifier is
read here. Views (``product_views``: ``event_id``, ``sku``) reach a person through their web
event the same way.

:func:`line_reconciliation` counts every line: rows in = accepted + quarantined; accepted = joined
to a paid order + to an unpaid order (refunded, cancelled) + order not accepted + unknown SKU.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from omni.core.orders import paid_order_mask
from omni.core.strings import arrow_strings

__all__ = ["Catalogue", "Interactions", "build_interactions", "catalogue_from", "line_reconciliation"]

#: What the catalogue source must have.
CATALOGUE_COLUMNS = ("sku", "category")


@dataclass
class Catalogue:
    """The SKUs (index = item code) with their attributes."""

    table: pd.DataFrame  # sku, category, product_line, price_tier, launch_date, season, repeat_item

    @property
    def n(self) -> int:
        return len(self.table)

    @property
    def skus(self) -> np.ndarray:
        return self.table["sku"].to_numpy(dtype=object)

    def codes(self, skus: pd.Series) -> np.ndarray:
        """Item code of each SKU (-1: not in the catalogue)."""
        return pd.Index(self.table["sku"]).get_indexer(pd.Index(skus.astype(str)))

    def column(self, name: str, default=None) -> np.ndarray:
        if name in self.table:
            return self.table[name].to_numpy()
        return np.full(self.n, default, dtype=object)

    @property
    def repeat(self) -> np.ndarray:
        r = self.table["repeat_item"] if "repeat_item" in self.table else pd.Series(False, index=self.table.index)
        return r.fillna(False).to_numpy(dtype=bool)

    @property
    def category_codes(self) -> tuple[np.ndarray, list[str]]:
        codes, names = pd.factorize(self.table["category"].astype(str), sort=True)
        return codes.astype(np.int64), list(names)

    @property
    def launch(self) -> np.ndarray:
        if "launch_date" not in self.table:
            return np.full(self.n, np.datetime64("NaT"), "datetime64[ns]")
        return pd.to_datetime(self.table["launch_date"], errors="coerce").to_numpy("datetime64[ns]")


def catalogue_from(products: pd.DataFrame) -> Catalogue:
    """The ``products`` source as a :class:`Catalogue` (sorted by SKU; duplicates kept once).

    Raises
    ------
    ValueError
        When a column the recommender needs is missing.
    """
    missing = [c for c in CATALOGUE_COLUMNS if c not in products.columns]
    if missing:
        raise ValueError(f"source products: missing column(s) {missing}; it has {list(products.columns)}")
    t = products.copy()
    t["sku"] = t["sku"].astype(str)
    t = t.drop_duplicates("sku").sort_values("sku", kind="stable").reset_index(drop=True)
    return Catalogue(t)


@dataclass
class Interactions:
    """Paid purchases and views as integer codes.

    Attributes
    ----------
    users : Index
        OneIDs (user code = position).
    purchases : DataFrame
        ``user``, ``item``, ``time`` (datetime64), ``channel`` (str), ``quantity``: one row per paid
        order line.
    views : DataFrame
        ``user``, ``item``, ``time``.
    reconciliation : DataFrame
        :func:`line_reconciliation`.
    """

    users: pd.Index
    purchases: pd.DataFrame
    views: pd.DataFrame
    catalogue: Catalogue
    reconciliation: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def n_users(self) -> int:
        return len(self.users)

    def sample(self, n: int, seed: int) -> Interactions:
        """The interactions of ``n`` people drawn at random (``seed``) among everyone with any,
        renumbered; the catalogue and the reconciliation are unchanged. ``n >= n_users``: self."""
        if n >= self.n_users:
            return self
        keep = np.sort(np.random.default_rng(seed).choice(self.n_users, size=n, replace=False))
        code = np.full(self.n_users, -1, np.int64)
        code[keep] = np.arange(n)

        def sub(t: pd.DataFrame) -> pd.DataFrame:
            c = code[t["user"].to_numpy()]
            return t.loc[c >= 0].assign(user=c[c >= 0]).reset_index(drop=True)

        return Interactions(self.users[keep], sub(self.purchases), sub(self.views), self.catalogue, self.reconciliation)


def line_reconciliation(rows_in: int, quarantined: int, accepted: int, paid: int, unpaid: int,
                        no_order: int, unknown_sku: int, amount_mismatch: int) -> pd.DataFrame:
    """Where every line went (``check`` rows: counts reconcile, see the module docstring)."""
    rows = [("lines in the file", rows_in), ("quarantined by the contract", quarantined),
            ("accepted", accepted), ("joined to a paid order", paid),
            ("joined to a refunded or cancelled order", unpaid), ("order not accepted (quarantined or missing)", no_order),
            ("SKU not in the catalogue", unknown_sku),
            ("orders whose line amounts do not sum to the order amount", amount_mismatch)]
    out = pd.DataFrame(rows, columns=["lines", "count"])
    out.attrs["reconciles"] = (rows_in == accepted + quarantined) and (accepted == paid + unpaid + no_order + unknown_sku)
    return out


def build_interactions(orders: pd.DataFrame, lines: pd.DataFrame, catalogue: Catalogue,
                       events: pd.DataFrame | None = None, views: pd.DataFrame | None = None,
                       rows_in: int | None = None, quarantined: int = 0) -> Interactions:
    """Join line items to the unified orders (and views to the unified events) by record key.

    Parameters
    ----------
    orders : DataFrame
        Unified orders: ``order_key``, ``oneid``, ``order_time``, ``channel``, ``amount``, ``status``.
    lines : DataFrame
        Accepted rows of ``order_lines``: ``order_source``, ``order_id``, ``sku``, ``quantity``,
        ``amount``.
    catalogue : Catalogue
    events, views : DataFrame, optional
        Unified events (``event_key``, ``oneid``, ``event_time``) and the ``product_views`` source
        (``event_id``, ``sku``).
    rows_in, quarantined : int
        The contract's counts of ``order_lines`` (for the reconciliation).
    """
    # the joins run on Arrow strings (hash lookups in C++, no Python string per line); a key with a
    # missing part joins nothing, like a key no order has
    colon = pa.scalar(":", pa.large_string())
    key = pc.binary_join_element_wise(arrow_strings(lines["order_source"]), arrow_strings(lines["order_id"]), colon)
    o = orders[["order_key", "oneid", "order_time", "channel", "amount", "status"]]
    o = o.loc[o["oneid"].notna().to_numpy()]
    pos = _positions(key, arrow_strings(o["order_key"]))
    skus = pa.array(catalogue.skus.astype(str), pa.large_string())
    item = _positions(arrow_strings(lines["sku"]), skus)
    found = pos >= 0
    paid_orders = paid_order_mask(o)
    is_paid = np.zeros(len(lines), bool)
    is_paid[found] = paid_orders[pos[found]]
    known = item >= 0
    n_lines = len(lines)
    # amounts: lines of an accepted order sum to its amount (within a cent)
    la = pd.to_numeric(lines["amount"], errors="coerce").to_numpy(dtype=float)
    sums = np.bincount(pos[found], weights=la[found], minlength=len(o))
    has = np.bincount(pos[found], minlength=len(o)) > 0
    oa = pd.to_numeric(o["amount"], errors="coerce").to_numpy(dtype=float)
    mismatch = int((has & (np.abs(sums - oa) > 0.005)).sum())
    rec = line_reconciliation(
        rows_in if rows_in is not None else n_lines + quarantined, quarantined, n_lines,
        int((found & known & is_paid).sum()), int((found & known & ~is_paid).sum()), int((~found).sum()),
        int((found & ~known).sum()), mismatch)
    sel = found & known & is_paid
    at = pos[sel]  # the order of each purchase line
    e = None if events is None else events.loc[events["oneid"].notna().to_numpy()]
    users, ucode = _users(arrow_strings(o["oneid"]).take(pa.array(at)), None if e is None else arrow_strings(e["oneid"]))
    purchases = pd.DataFrame({
        "user": ucode[: len(at)],
        "item": item[sel].astype(np.int64),
        "time": pd.to_datetime(o["order_time"]).to_numpy("datetime64[ns]")[at],
        "channel": o["channel"].astype(str).to_numpy()[at],
        "quantity": pd.to_numeric(lines["quantity"], errors="coerce").fillna(1).to_numpy()[sel],
    })
    vdf = pd.DataFrame({"user": np.empty(0, np.int64), "item": np.empty(0, np.int64),
                        "time": np.empty(0, "datetime64[ns]")})
    if e is not None and views is not None and len(views):
        vpos = _positions(pc.binary_join_element_wise(pa.scalar("web_events", pa.large_string()),
                                                    arrow_strings(views["event_id"]), colon),
                          arrow_strings(e["event_key"]))
        vitem = _positions(arrow_strings(views["sku"]), skus)
        vs = (vpos >= 0) & (vitem >= 0)
        vdf = pd.DataFrame({"user": ucode[len(at):][vpos[vs]], "item": vitem[vs].astype(np.int64),
                            "time": pd.to_datetime(e["event_time"]).to_numpy("datetime64[ns]")[vpos[vs]]})
    return Interactions(users, purchases, vdf, catalogue, rec)


def _positions(values: pa.Array, of: pa.Array) -> np.ndarray:
    """Position of each value in ``of`` (its values unique; -1: not there or missing)."""
    return np.asarray(pc.fill_null(pc.index_in(values, value_set=of), -1), dtype=np.int64)


def _users(buyers: pa.Array, viewers: pa.Array | None) -> tuple[pd.Index, np.ndarray]:
    """OneIDs of the buyers and the viewers, sorted (user code = position), and the code of each
    of the buyers then of the viewers."""
    allv = buyers if viewers is None else pa.concat_arrays([buyers, viewers])
    enc = allv.dictionary_encode()
    order = np.asarray(pc.array_sort_indices(enc.dictionary))  # code point order, as Python sorts str
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    codes = rank[np.asarray(enc.indices, dtype=np.int64)]
    uniques = enc.dictionary.take(pa.array(order)).to_numpy(zero_copy_only=False)
    return pd.Index(uniques.astype(object), name="oneid"), codes
