"""Truth check (synthetic data only): the model against the generator's latent purchase process."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from omni.value.customer import CustomerValue

__all__ = ["PERSON_COLUMNS", "truth_check"]

#: The columns of the truth's ``persons`` table the check reads.
PERSON_COLUMNS = ("person_id", "purchase_rate", "dropout_rate", "dropout_time", "mean_spend")


def _require(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {missing}; has {list(df.columns)}")


def _best_person(value: CustomerValue, record_oneid: pd.DataFrame, record_person: pd.DataFrame,
                 persons: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each customer OneID's person (most of its records) with the share of its records from them."""
    if isinstance(record_oneid, pd.DataFrame) and isinstance(record_person, pd.DataFrame):
        m = record_oneid[["record_key", "oneid"]].merge(
            record_person[["record_key", "person_id"]], on="record_key"
        )
        m = m[m["oneid"].isin(value.summary.index)]
        if m.empty:
            raise ValueError("no customer's records are in the truth table")
        cnt = m.groupby(["oneid", "person_id"], sort=True).size().rename("n").reset_index()
    else:  # Parquet files (20 M records at 1M persons): the engine joins, only the counts come back
        cnt = _person_counts(value.summary.index, record_oneid, record_person)
    best = _most_records(cnt)
    per = persons.set_index("person_id")
    missing = ~best["person_id"].isin(per.index)
    if missing.any():
        raise ValueError(
            f"persons has no row for person {best['person_id'][missing.to_numpy()].iloc[0]!r}"
        )
    return best, per


def _most_records(cnt: pd.DataFrame) -> pd.DataFrame:
    """Per OneID the person with most records (ties: the first person_id) and its share of them.

    ``cnt`` (``oneid``, ``person_id``, ``n``) is sorted by oneid and person_id, so each OneID's
    rows are contiguous: no sort or string grouping is needed (at 1M persons there are millions
    of rows). Returns ``person_id``, ``n``, ``purity`` indexed by oneid, in oneid order.
    """
    o = cnt["oneid"].to_numpy()
    gid = np.cumsum(np.r_[True, o[1:] != o[:-1]]) - 1 if len(o) else np.zeros(0, dtype=np.int64)
    n = cnt["n"].to_numpy()
    purity = n / np.bincount(gid, weights=n)[gid]
    order = np.lexsort((np.arange(len(n)), -n, gid))  # by OneID, most records first, then person_id
    first = order[np.r_[True, gid[order][1:] != gid[order][:-1]]] if len(n) else order
    best = cnt.iloc[first].copy()
    best["purity"] = purity[first]
    return best.set_index("oneid")


def _person_counts(customers: pd.Index, record_oneid: pd.DataFrame | Path,
                   record_person: pd.DataFrame | Path) -> pd.DataFrame:
    """Records per (customer OneID, true person), joined in the embedded engine: ``oneid``,
    ``person_id``, ``n`` sorted by both, as the pandas merge and groupby give them."""
    from omni.engine import query

    for t, what in ((record_oneid, "record_oneid"), (record_person, "record_person")):
        if isinstance(t, pd.DataFrame):
            _require(t, ["record_key", "oneid"] if what == "record_oneid" else ["record_key", "person_id"], what)
    got = query("SELECT r.oneid, t.person_id, count(*) AS n FROM ro r JOIN rp t ON r.record_key = t.record_key "
                "JOIN cust c ON r.oneid = c.oneid GROUP BY r.oneid, t.person_id ORDER BY r.oneid, t.person_id",
                {"ro": record_oneid, "rp": record_person,
                 "cust": pd.DataFrame({"oneid": customers.astype(str)})})
    if got.empty:
        raise ValueError("no customer's records are in the truth table")
    got["n"] = got["n"].astype(np.int64)
    return got  # sorted by the engine (byte order of UTF-8 = code point order, as pandas sorts)


def _calibration(pa: np.ndarray, alive: np.ndarray, repeat: np.ndarray, bins: int) -> pd.DataFrame:
    """P(alive) against the true alive share: repeat buyers in ``bins`` equal groups, one-time buyers."""
    pr, ar = pa[repeat], alive[repeat]
    parts = []
    if len(pr):
        k = max(min(int(bins), len(pr)), 1)
        b = (stats.rankdata(pr, method="ordinal").astype(np.int64) - 1) * k // len(pr)
        g = (
            pd.DataFrame({"bin": b + 1, "p": pr, "alive": ar})
            .groupby("bin")
            .agg(customers=("p", "size"), mean_p_alive=("p", "mean"), alive_share=("alive", "mean"))
            .reset_index()
        )
        g.insert(0, "group", [f"repeat buyers, P(alive) {i}/{k}" for i in g["bin"]])
        parts.append(g.drop(columns="bin"))
    if (~repeat).any():
        parts.append(
            pd.DataFrame(
                {
                    "group": ["one-time buyers"],
                    "customers": [int((~repeat).sum())],
                    "mean_p_alive": [float(pa[~repeat].mean())],
                    "alive_share": [float(alive[~repeat].mean())],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def truth_check(
    value: CustomerValue,
    record_oneid: pd.DataFrame,
    record_person: pd.DataFrame,
    persons: pd.DataFrame,
    horizon_days: int = 365,
    bins: int = 10,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """The model's predictions against the generator's latent purchase process.

    Each customer OneID is mapped to the person most of its records belong to. For that person
    the generator knows the purchase rate while alive (lambda, per year), the dropout rate (mu,
    per year) and the dropout time, so the true expected number of organic purchases in the next
    ``h`` years is ``1{alive at the month end} * lambda * (1 - exp(-mu h)) / mu`` (the lifetime is
    memoryless); touch- and campaign-caused orders are not part of it. A person whose purchases
    are spread over several OneIDs (unlinked platform accounts) is compared through the sum of
    the predictions of those OneIDs.

    Parameters
    ----------
    value : CustomerValue
    record_oneid : DataFrame
        ``record_key``, ``oneid`` (``Resolved.record_oneid``).
    record_person : DataFrame
        ``record_key``, ``person_id`` (truth).
    persons : DataFrame
        ``person_id``, ``purchase_rate``, ``dropout_rate``, ``dropout_time``, ``mean_spend``
        (truth).
    horizon_days : int
        Horizon of the expected purchases compared.
    bins : int
        Number of P(alive) bins (equal counts) in the calibration table.

    Returns
    -------
    (DataFrame, dict)
        The P(alive) calibration table per customer OneID: repeat buyers in ``bins`` equal
        groups by P(alive), then the one-time buyers (BG/NBD gives them all P(alive) = 1);
        columns ``group``, ``customers``, ``mean_p_alive``, ``alive_share`` (the share whose
        person had not dropped out at the month end). Figures: ``customers`` and ``persons`` matched, ``split_persons`` (share
        of the persons whose purchases are on 2+ OneIDs), ``purity`` (mean share of a OneID's
        records from its person), per person ``rank_corr_purchases`` (Spearman, predicted vs
        true expected purchases), ``rank_corr_clv`` (CLV vs true expected purchases x mean
        spend) and ``rank_corr_rate`` (predicted purchases vs the latent rate, people alive only),
        ``predicted_purchases`` and ``true_purchases`` (totals over the horizon), per customer
        ``mean_p_alive``, ``alive_share``, ``auc_alive`` (how well P(alive) ranks alive above
        dropped-out repeat buyers; 0.5 = chance) and ``auc_alive_all`` (all customers).
    """
    if isinstance(record_oneid, pd.DataFrame):
        _require(record_oneid, ["record_key", "oneid"], "record_oneid")
    if isinstance(record_person, pd.DataFrame):
        _require(record_person, ["record_key", "person_id"], "record_person")
    _require(persons, PERSON_COLUMNS, "persons")
    if not isinstance(horizon_days, int | np.integer) or horizon_days < 1:
        raise ValueError(f"horizon_days must be a positive integer, got {horizon_days!r}")
    best, per = _best_person(value, record_oneid, record_person, persons)
    unit = 7.0 if value.model.freq == "W" else 1.0
    cust = pd.DataFrame({
        "person_id": best["person_id"],
        "e": value.model.expected_purchases(value.summary.reindex(best.index), horizon_days / unit).to_numpy(),
        "clv": value.predictions[value.clv_col].reindex(best.index).to_numpy(),
        "p_alive": value.predictions["p_alive"].reindex(best.index).to_numpy(),
    }, index=best.index)
    ppl = cust.groupby("person_id").agg(e=("e", "sum"), clv=("clv", "sum"), n=("e", "size"))
    ppl = ppl.join(per[["purchase_rate", "dropout_rate", "dropout_time", "mean_spend"]])
    h = horizon_days / 365.25
    limit = value.end + pd.Timedelta(days=1)
    ppl_alive = (pd.to_datetime(ppl["dropout_time"]) >= limit).to_numpy()
    lam = ppl["purchase_rate"].to_numpy(dtype="float64")
    mu = ppl["dropout_rate"].to_numpy(dtype="float64")
    life = np.where(mu > 0, -np.expm1(-mu * h) / np.where(mu > 0, mu, 1.0), h)
    true_e = ppl_alive * lam * life
    true_v = true_e * ppl["mean_spend"].to_numpy(dtype="float64")
    e = ppl["e"].to_numpy()
    alive = cust["person_id"].map(pd.Series(ppl_alive, index=ppl.index)).to_numpy(dtype=bool)
    pa = cust["p_alive"].to_numpy()
    repeat = (value.summary["frequency"].reindex(best.index) > 0).to_numpy()
    rate_corr = np.nan
    if ppl_alive.sum() > 2:
        rate_corr = float(stats.spearmanr(e[ppl_alive], lam[ppl_alive]).statistic)
    figures = {
        "customers": float(len(cust)),
        "persons": float(len(ppl)),
        "split_persons": float((ppl["n"] > 1).mean()),
        "purity": float(best["purity"].mean()),
        "rank_corr_purchases": float(stats.spearmanr(e, true_e).statistic),
        "rank_corr_clv": float(stats.spearmanr(ppl["clv"].to_numpy(), true_v).statistic),
        "rank_corr_rate": rate_corr,
        "predicted_purchases": float(e.sum()),
        "true_purchases": float(true_e.sum()),
        "mean_p_alive": float(pa.mean()),
        "alive_share": float(alive.mean()),
        "auc_alive": _auc(pa[repeat], alive[repeat]),
        "auc_alive_all": _auc(pa, alive),
    }
    return _calibration(pa, alive, repeat, bins), figures


def _auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count half); NaN with one class only."""
    n1 = int(positive.sum())
    n0 = len(positive) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = stats.rankdata(score)
    return float((ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
