"""The oracle (synthetic data only): each person's best achievable list from the tastes the
generator recorded (``truth/taste.parquet``: expected lines per order of each SKU of her taste).

A OneID is the person most of its order records belong to (``truth/record_person``). Her SKUs are
ranked by their weight times their sale weight in the test month (1 in season, 0.15 out of it, 0
before the launch, x2 in the 60 days after it: the generator's rules); the list is filled up with
the most popular SKUs. No model can know more than this about the month's purchases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from omni.core.month import Month
from omni.recommend.rules import in_season

__all__ = ["OUT_OF_SEASON", "oracle_lists"]

OUT_OF_SEASON = 0.15
LAUNCH_BOOST_DAYS, LAUNCH_BOOST = 60, 2.0
#: The sources of order records, whose people the oracle reads.
ORDER_SOURCES = ("ecom_orders", "pos_orders")


def _persons(ws, month: Month, oneids: np.ndarray) -> pd.Series:
    """OneID -> the person with most of its order records (OneIDs without truth left out)."""
    res = ws.resolve(as_of=str(month))
    # the evaluated people's order records only, filtered as the map is read (at 5M persons the
    # whole map's keys and OneIDs are 5 GB, for a few thousand people)
    ro = res.read("record_oneid", columns=["record_key", "oneid"],
                  filters=[("source", "in", list(ORDER_SOURCES)), ("oneid", "in", [str(o) for o in oneids])])
    ro = ro.loc[ro["record_key"].astype(str).str.contains(r"^(?:ecom|pos)_orders:", regex=True).to_numpy()]
    rp = pq.read_table(ws.truth_path("record_person"),
                       filters=pc.field("record_key").isin(pa.array(ro["record_key"].astype(str).unique())))
    m = ro.merge(rp.to_pandas(), on="record_key")
    cnt = m.groupby(["oneid", "person_id"], observed=True).size().rename("n").reset_index()
    cnt = cnt.sort_values(["oneid", "n", "person_id"], ascending=[True, False, True], kind="stable")
    return cnt.drop_duplicates("oneid").set_index("oneid")["person_id"]


def oracle_lists(ws, month: Month, inter, users: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` item codes per evaluated user from the truth's tastes, and whether the user was
    mapped to a person."""
    oneids = inter.users[users].to_numpy()
    person = _persons(ws, month, oneids)
    taste = pq.read_table(ws.truth_path("taste"),
                          filters=pc.field("person_id").isin(pa.array(person.unique().astype(str)))).to_pandas()
    cat = inter.catalogue
    item = cat.codes(taste["sku"])
    launch = cat.launch
    start = np.datetime64(month.start, "ns")
    days_in = (np.datetime64(month.start + pd.Timedelta(days=15), "ns") - launch) / np.timedelta64(1, "D")
    sale = np.where(in_season(cat.column("season", "all_year"), month.month), 1.0, OUT_OF_SEASON)
    sale = np.where(launch >= np.datetime64(month.end, "ns"), 0.0, sale)
    sale = np.where((days_in >= 0) & (days_in < LAUNCH_BOOST_DAYS) & (launch >= start - np.timedelta64(LAUNCH_BOOST_DAYS, "D")),
                    sale * LAUNCH_BOOST, sale)
    ok = item >= 0
    taste = taste.loc[ok].assign(item=item[ok])
    taste["score"] = taste["weight"].to_numpy() * sale[taste["item"].to_numpy()]
    pop_order = np.argsort(-np.asarray(inter.purchases.groupby("item").size().reindex(range(cat.n)).fillna(0)),
                           kind="stable")
    out = np.tile(pop_order[:k], (len(users), 1))
    pidx = pd.Index(person.reindex(oneids).astype("string").fillna("").to_numpy())
    mapped = person.reindex(oneids).notna().to_numpy()
    taste = taste.sort_values(["person_id", "score", "item"], ascending=[True, False, True], kind="stable")
    groups = taste.groupby("person_id", sort=False)["item"].apply(lambda s: s.to_numpy()[:k])
    lists = groups.reindex(pidx)
    for r in np.flatnonzero(mapped):  # evaluated buyers of one month: thousands, not millions
        own = lists.iloc[r]
        if isinstance(own, np.ndarray) and len(own):
            fill = pop_order[~np.isin(pop_order, own)][: k - len(own)]
            out[r] = np.concatenate([own, fill])[:k]
    return out, mapped
