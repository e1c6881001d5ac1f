"""The recommendations report's result: the model comparison, the oracle gap, the lists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omni.core.result import Figure, MonthResult

__all__ = ["RecommendResult"]


@dataclass
class RecommendResult(MonthResult):
    """Recommendations at the end of ``month`` (:func:`omni.recommend.analyse_month`).

    Attributes
    ----------
    weights : dict
        The blend's weights, chosen on the validation month (the month before).
    n_users, n_items : int
        People scored in the test month (buyers of ``month``) and SKUs in the catalogue.
    eval_people, all_people : int
        People with any purchase or view the models were compared on, and in all (the lists
        cover everyone; the comparison a random sample when ``eval_people < all_people``).
    topk : DataFrame
        The lists for the next month (``oneid``, ``rank``, ``sku``, ``category``), rules applied:
        read from ``topk_path`` when they were written there (at 5M persons 320 M rows, which
        the result does not hold), else the table made in memory.
    topk_path : Path or None
        Where the lists are cached.
    opted_out : int
        People left without a list (marketing opt-out).
    oracle_mapped : float
        Share of the scored OneIDs mapped to a true person (synthetic data only).
    examples : DataFrame
        Masked single people: history and list.
    tables : dict
        ``reconciliation``, ``models`` (every model's metrics with paired-bootstrap intervals and
        the lift over popularity), ``oracle_gap``, ``segments``, ``single_channel``,
        ``by_segment_category``.
    """

    weights: dict[str, float] = field(default_factory=dict)
    n_users: int = 0
    n_items: int = 0
    eval_people: int = 0
    all_people: int = 0
    topk_table: pd.DataFrame | None = field(default=None, repr=False)
    topk_path: Path | None = None
    opted_out: int = 0
    oracle_mapped: float = float("nan")
    examples: pd.DataFrame = field(default_factory=pd.DataFrame)
    seconds: float = float("nan")

    @property
    def topk(self) -> pd.DataFrame:
        """The lists (see the class's attributes): read from the cache on each access when written."""
        if self.topk_table is not None:
            return self.topk_table
        return pd.read_parquet(self.topk_path) if self.topk_path is not None else pd.DataFrame()

    @property
    def best_model(self) -> str:
        """The model (not the oracle) with the highest recall@20."""
        m = self.tables["models"].drop(index="oracle", errors="ignore")
        return str(m["recall@20"].idxmax())

    @property
    def sampled(self) -> bool:
        """Whether the models were compared on a random sample of the people (``eval_people``)."""
        return bool(self.all_people) and self.eval_people < self.all_people

    @property
    def _in_sample(self) -> str:
        return f" among {self.eval_people:,} sampled people" if self.sampled else ""

    def figures_list(self) -> list[Figure]:
        """The headline: recall@20 of popularity and the best model, the lift, the gap closed."""
        m = self.tables["models"]
        best = self.best_model
        figs = [
            Figure("rec_people", f"people scored (buyers of {self.month}{self._in_sample})", self.n_users, fmt="{:,}"),
            Figure("rec_recall20_popularity", "recall@20, time-aware popularity", m.loc["popularity", "recall@20"],
                   fmt="{:.3f}", better="up"),
            Figure("rec_best_model", "best model (recall@20)", best),
            Figure("rec_recall20_best", "recall@20, best model", m.loc[best, "recall@20"], fmt="{:.3f}", better="up"),
            Figure("rec_lift_recall20", "lift of the best model over popularity (recall@20)", m.loc[best, "lift@20"],
                   fmt="{:+.1%}", better="up"),
        ]
        if "oracle_gap" in self.tables:
            figs.append(Figure("rec_recall20_oracle", "recall@20, the truth's oracle", m.loc["oracle", "recall@20"],
                               fmt="{:.3f}"))
            figs.append(Figure("rec_gap_closed", "share of the gap to the oracle the best model closes",
                               self.tables["oracle_gap"].loc[best, "gap closed"], fmt="{:.1%}", better="up"))
        sc = self.tables.get("single_channel")
        if sc is not None and len(sc):
            figs.append(Figure("rec_omni_lift", "omnichannel over single-channel fits (recall@20, mean lift)",
                               float(np.mean(sc["lift"])), fmt="{:+.1%}", better="up"))
        figs.append(Figure("rec_coverage", "catalogue coverage of the best model's lists", m.loc[best, "coverage"],
                           fmt="{:.1%}"))
        return figs

    def truth_check(self, truth: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame | None:
        """The models against the oracle (the ``oracle_gap`` table; None without truth)."""
        return self.tables.get("oracle_gap")

    def as_metrics(self) -> dict[str, Any]:
        """The headline as a plain mapping (benchmarks)."""
        return {f.key: f.value for f in self.headline}
