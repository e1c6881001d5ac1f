"""The Fellegi-Sunter estimator: Splink on DuckDB, trained without labels.

:class:`FellegiSunterMatcher` follows scikit-learn's conventions: the constructor only stores
settings, :meth:`~FellegiSunterMatcher.fit` returns ``self`` and sets the fitted attributes (their
names end in ``_``), :meth:`~FellegiSunterMatcher.predict` scores the blocked candidate pairs.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from omni.oneid.linkage.comparisons import (
    account_blocking_rules,
    account_comparisons,
    account_deterministic_rules,
    account_training_rules,
)

__all__ = ["LEFT_NAME", "RIGHT_NAME", "U_NOT_OBSERVED", "FellegiSunterMatcher", "account_matcher",
           "fill_unobserved_u", "floor_m", "model_parameters", "to_arrow"]

LEFT_NAME, RIGHT_NAME = "left_input", "right_input"


def to_arrow(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """An Arrow table of a frame (a table is returned as is); Splink registers Arrow tables."""
    if isinstance(frame, pa.Table):
        return frame
    return pa.Table.from_pandas(frame, preserve_index=False)


class FellegiSunterMatcher:
    """Fellegi-Sunter linkage of two tables with Splink on DuckDB, trained without labels.

    Parameters
    ----------
    comparisons : sequence
        Splink comparisons (``splink.comparison_library`` objects or comparison dicts).
    blocking_rules : sequence
        Rules that generate the candidate pairs scored by :meth:`predict`.
    training_rules : sequence of str
        Blocking rules for expectation maximisation, one EM session each.
    deterministic_rules : sequence of str
        Rules with very few false positives, used with ``deterministic_recall`` to estimate the
        prior probability that two random records match.
    deterministic_recall : float
        Assumed recall of ``deterministic_rules``.
    u_max_pairs : float
        Random pairs sampled to estimate the u probabilities.
    seed : int
        Seed of the u sampling (results are reproducible).
    unique_id : str
        Column that identifies a record in each table.
    em_max_iterations, em_convergence
        EM settings.
    em_max_pairs : float, optional
        Cap on the pairs of each EM training block (Splink samples records to reach it).
    m_floor : float
        Smallest m probability of any comparison level after training (the level's m values are
        then renormalized). EM on clean data drives the m of disagreement levels to ~0 (nobody in
        a synthetic world changes city), which would let one disagreement veto any link; real
        data has errors, so every level keeps at least this probability among matches.
    keep_top : int, optional
        Candidates :meth:`predict` returns per left record: the best ``keep_top`` by match weight
        (ties: lowest right id), chosen inside the engine, so that only they reach pandas (2: the
        best and the runner-up, all the link decisions read; at 5M persons the whole table of
        candidate pairs does not fit in memory as a pandas frame). None (default): every pair.

    Attributes
    ----------
    model_parameters_ : DataFrame
        One row per comparison level: ``comparison``, ``level`` (comparison vector value),
        ``label``, ``m_probability``, ``u_probability``, ``bayes_factor``, ``match_weight``
        (log2 Bayes factor); null levels have no parameters.
    probability_two_random_records_match_ : float
    model_ : dict
        The trained Splink model (settings with parameters; loads into ``splink.Linker``).
    u_not_observed_ : list of dict
        The levels (``comparison``, ``label``) that no randomly sampled pair reached; their u is
        ``max(U_NOT_OBSERVED, 1 / u_max_pairs)`` (:func:`fill_unobserved_u`).
    n_pairs_ : int
        Candidate pairs scored by the last :meth:`predict` (all of them, also with ``keep_top``).
    timings_ : dict
        Seconds spent in each step.
    """

    def __init__(
        self,
        comparisons: Sequence[Any],
        blocking_rules: Sequence[Any],
        training_rules: Sequence[str],
        deterministic_rules: Sequence[str],
        deterministic_recall: float = 0.7,
        u_max_pairs: float = 3e6,
        seed: int = 7,
        unique_id: str = "unique_id",
        em_max_iterations: int = 25,
        em_convergence: float = 1e-4,
        em_max_pairs: float | None = 2e6,
        m_floor: float = 1e-3,
        keep_top: int | None = None,
    ) -> None:
        if not 0 < deterministic_recall <= 1:
            raise ValueError(f"deterministic_recall must be in (0, 1], got {deterministic_recall}")
        if u_max_pairs < 1:
            raise ValueError(f"u_max_pairs must be >= 1, got {u_max_pairs}")
        self.comparisons = list(comparisons)
        self.blocking_rules = list(blocking_rules)
        self.training_rules = list(training_rules)
        self.deterministic_rules = list(deterministic_rules)
        self.deterministic_recall = deterministic_recall
        self.u_max_pairs = u_max_pairs
        self.seed = seed
        self.unique_id = unique_id
        self.em_max_iterations = em_max_iterations
        self.em_convergence = em_convergence
        self.em_max_pairs = em_max_pairs
        if not 0 <= m_floor < 0.5:
            raise ValueError(f"m_floor must be in [0, 0.5), got {m_floor}")
        self.m_floor = m_floor
        if keep_top is not None and keep_top < 1:
            raise ValueError(f"keep_top must be >= 1 or None, got {keep_top}")
        self.keep_top = keep_top

    # -- internals ----------------------------------------------------------------------------
    def _settings(self) -> dict[str, Any]:
        from splink import SettingsCreator

        return SettingsCreator(
            link_type="link_only",
            unique_id_column_name=self.unique_id,
            comparisons=self.comparisons,
            blocking_rules_to_generate_predictions=self.blocking_rules,
            retain_matching_columns=False,
            retain_intermediate_calculation_columns=True,
            max_iterations=self.em_max_iterations,
            em_convergence=self.em_convergence,
        )

    def _linker(self, left: pd.DataFrame | pa.Table, right: pd.DataFrame | pa.Table,
                settings: Any):
        from splink import DuckDBAPI, Linker

        for name, t in (("left", left), ("right", right)):
            if self.unique_id not in getattr(t, "column_names", getattr(t, "columns", [])):
                raise ValueError(f"{name} table has no {self.unique_id!r} column")
        from omni.engine import LINKAGE_MEMORY_LIMIT, connect

        # Splink's DuckDB within a fixed memory limit (it spills above it), order kept as DuckDB's default
        db = DuckDBAPI(connection=connect(preserve_order=True, memory_limit=LINKAGE_MEMORY_LIMIT))
        l_df = db.register(to_arrow(left), dataset_display_name=LEFT_NAME)
        r_df = db.register(to_arrow(right), dataset_display_name=RIGHT_NAME)
        return Linker([l_df, r_df], settings, log_level=None)

    def _n_rows(self, table: pd.DataFrame | pa.Table) -> int:
        """Rows of an input table (a subclass on another backend counts its own tables)."""
        return len(table)

    @staticmethod
    def _quiet() -> None:
        logging.getLogger("splink").setLevel(logging.ERROR)

    # -- API ----------------------------------------------------------------------------------
    def fit(self, left: pd.DataFrame | pa.Table, right: pd.DataFrame | pa.Table
            ) -> FellegiSunterMatcher:
        """Estimate the model from the two tables without labels.

        Parameters
        ----------
        left, right : DataFrame or pyarrow.Table
            Records to link (same comparison columns, ``unique_id`` in each).

        Returns
        -------
        self
        """
        self._quiet()
        n_left, n_right = self._n_rows(left), self._n_rows(right)
        if n_left == 0 or n_right == 0:
            raise ValueError(f"cannot fit on empty tables (left {n_left}, right {n_right})")
        t = time.perf_counter()
        linker = self._linker(left, right, self._settings())
        timings = {"register": time.perf_counter() - t}
        t = time.perf_counter()
        linker.training.estimate_probability_two_random_records_match(
            self.deterministic_rules, recall=self.deterministic_recall)
        timings["prior"] = time.perf_counter() - t
        t = time.perf_counter()
        linker.training.estimate_u_using_random_sampling(max_pairs=self.u_max_pairs, seed=self.seed)
        timings["u"] = time.perf_counter() - t
        t = time.perf_counter()
        for rule in self.training_rules:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, max_pairs=self.em_max_pairs)
        timings["em"] = time.perf_counter() - t
        model, self.u_not_observed_ = fill_unobserved_u(linker.misc.save_model_to_json(),
                                                        max(U_NOT_OBSERVED, 1.0 / self.u_max_pairs))
        self.model_ = floor_m(model, self.m_floor)
        self.probability_two_random_records_match_ = float(
            self.model_["probability_two_random_records_match"])
        self.model_parameters_ = model_parameters(self.model_)
        self.timings_ = timings
        self._fitted = (left, right, None)
        return self

    def _prediction(self, left: Any, right: Any, threshold_match_weight: float | None) -> Any:
        """Splink's prediction of the fitted model on ``left`` x ``right`` (default: the tables it was
        fitted on, whose linker is reused); the backend's own table (``predict`` reads it)."""
        if not hasattr(self, "model_"):
            raise ValueError("the matcher is not fitted: call fit(left, right) first")
        self._quiet()
        f_left, f_right, linker = self._fitted
        left = f_left if left is None else left
        right = f_right if right is None else right
        if linker is None or left is not f_left or right is not f_right:
            linker = self._linker(left, right, self.model_)
            if left is f_left and right is f_right:
                self._fitted = (left, right, linker)
        return linker.inference.predict(threshold_match_weight=threshold_match_weight, warning_mode="never")

    def predict(self, left: pd.DataFrame | pa.Table | None = None,
                right: pd.DataFrame | pa.Table | None = None,
                threshold_match_weight: float | None = None) -> pd.DataFrame:
        """Score the blocked candidate pairs.

        Parameters
        ----------
        left, right : DataFrame or pyarrow.Table, optional
            Tables to link (default: the tables the model was fitted on).
        threshold_match_weight : float, optional
            Keep only pairs at or above this match weight.

        Returns
        -------
        DataFrame
            ``left_id``, ``right_id``, ``match_weight``, ``match_probability`` and one
            ``gamma_<comparison>`` column per comparison (the level reached; -1 = missing).
            Sorted by ``left_id``, descending ``match_weight``, ``right_id``; with ``keep_top``,
            only the first ``keep_top`` rows of each ``left_id``.
        """
        t = time.perf_counter()
        pred = self._prediction(left, right, threshold_match_weight)
        df, n_pairs = self._fetch_pairs(pred)
        pred.drop_table_from_database_and_remove_from_cache()
        self.n_pairs_ = n_pairs if threshold_match_weight is None else None
        out = self._pairs_frame(df)
        del df
        if self.keep_top is not None and len(out):  # a backend that did not choose them itself
            out = out[out.groupby("left_id", sort=False).cumcount().to_numpy() < self.keep_top].reset_index(drop=True)
        self.timings_["predict"] = time.perf_counter() - t
        return out

    def score_pairs(self, left_records: Sequence[dict[str, Any]],
                    right_records: Sequence[dict[str, Any]]) -> pd.DataFrame:
        """Score every pair of the given records, without blocking.

        Term frequencies come from the tables the model was fitted on, so a name scores as rare
        or as common as it is there. Useful to ask "what would this pair score?" (tests,
        explanations of pairs the blocking never proposed).

        Parameters
        ----------
        left_records, right_records : sequence of dict
            Records with ``unique_id`` and every comparison column (lists as Python lists).

        Returns
        -------
        DataFrame
            As :meth:`predict`, one row per (left, right) pair.
        """
        if not hasattr(self, "model_"):
            raise ValueError("the matcher is not fitted: call fit(left, right) first")
        if not left_records or not right_records:
            raise ValueError("score_pairs needs at least one record on each side")
        self._quiet()
        f_left, f_right, linker = self._fitted
        if linker is None:
            linker = self._linker(f_left, f_right, self.model_)
            self._fitted = (f_left, f_right, linker)
        tf_cols = sorted({lv.get("tf_adjustment_column") for c in self.model_["comparisons"]
                          for lv in c["comparison_levels"] if lv.get("tf_adjustment_column")})
        for col in tf_cols:  # term frequencies of the fitted data, looked up per value
            linker.table_management.compute_tf_table(col)
        scored = linker.inference.score_pairs(list(left_records), list(right_records))
        df = scored.as_pandas_dataframe()
        scored.drop_table_from_database_and_remove_from_cache()
        return self._pairs_frame(df)

    def _fetch_pairs(self, pred: Any) -> tuple[pd.DataFrame, int]:
        """What :meth:`_pairs_frame` reads of Splink's prediction, and how many pairs it holds.

        On DuckDB only the columns the pairs are made of are read: the two ids (each pair's left
        id first), the weight, the probability and each comparison's weight; not the datasets'
        names as a Python string per pair, nor the term frequencies. At 5M persons pandas took the
        process past 21.5 GB converting Splink's whole table. With ``keep_top`` the best pairs of
        each left record are chosen in DuckDB, which spills to disk within its memory limit (the
        order of :meth:`predict`: descending weight, then lowest right id).
        """
        from splink.internals.duckdb.dataframe import DuckDBDataFrame

        if not isinstance(pred, DuckDBDataFrame):  # another backend: its own frame
            df = pred.as_pandas_dataframe()
            return df, int(len(df))
        uid = self.unique_id
        rel = pred.as_duckdbpyrelation()
        names = set(rel.columns)

        def q(c: str) -> str:
            return '"' + c.replace('"', '""') + '"'

        comps = [q(f"mw_{c}") for c in dict.fromkeys(self.model_parameters_["comparison"]) if f"mw_{c}" in names]
        l_col, r_col = q(f"{uid}_l"), q(f"{uid}_r")
        if "source_dataset_l" in names:  # each pair's left-table id first
            swap = f"coalesce(CAST(source_dataset_l AS VARCHAR) = '{RIGHT_NAME.replace(chr(39), chr(39) * 2)}', false)"
            ids = (f"CASE WHEN {swap} THEN {r_col} ELSE {l_col} END AS {l_col}, "
                   f"CASE WHEN {swap} THEN {l_col} ELSE {r_col} END AS {r_col}")
        else:
            ids = f"{l_col}, {r_col}"
        pairs = rel.select(", ".join([ids, "match_weight", "match_probability", *comps]))
        n_pairs = int(pairs.aggregate("count(*)").fetchall()[0][0])
        if self.keep_top is None:
            return pairs.df(), n_pairs
        ranked = pairs.select(f"*, row_number() OVER (PARTITION BY {l_col} ORDER BY match_weight DESC, "
                              f"{r_col} ASC) AS _rank")
        return ranked.filter(f"_rank <= {int(self.keep_top)}").select(", ".join([l_col, r_col, "match_weight",
                                                                                 "match_probability", *comps])).df(), n_pairs

    def _pairs_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """Splink's scored pairs as ``left_id``, ``right_id``, weights and comparison levels."""
        uid = self.unique_id
        if "swap" in df.columns:  # :meth:`_fetch_pairs`
            swap = df["swap"].to_numpy(dtype=bool)
        elif "source_dataset_l" in df.columns:
            swap = df["source_dataset_l"].astype(str).to_numpy() == RIGHT_NAME
        else:
            swap = np.zeros(len(df), dtype=bool)
        l_id = np.where(swap, df[f"{uid}_r"].to_numpy(), df[f"{uid}_l"].to_numpy())
        r_id = np.where(swap, df[f"{uid}_l"].to_numpy(), df[f"{uid}_r"].to_numpy())
        out = pd.DataFrame({"left_id": l_id, "right_id": r_id,
                            "match_weight": df["match_weight"].to_numpy(np.float64),
                            "match_probability": df["match_probability"].to_numpy(np.float64)})
        # the level each comparison reached: Splink returns each comparison's match weight
        # (mw_<comparison>, before term-frequency adjustment), which is the weight of exactly one
        # level (null levels weigh 0)
        params = self.model_parameters_
        for comp, g in params.groupby("comparison", sort=False):
            col = f"mw_{comp}"
            if col not in df.columns:
                continue
            w = g["match_weight"].fillna(0.0).to_numpy(np.float64)
            lv = g["level"].to_numpy(np.int8)
            mw = df[col].to_numpy(np.float64)
            out[f"gamma_{comp}"] = lv[np.abs(mw[:, None] - w[None, :]).argmin(axis=1)]
        out = out.sort_values(["left_id", "match_weight", "right_id"],
                              ascending=[True, False, True], kind="stable")
        return out.reset_index(drop=True)


#: Smallest u given to a comparison level that no randomly sampled pair reached (the value Splink
#: itself gives a level marked "not observed in training dataset"). Splink's saved model leaves
#: such a level's u out, and a linker loaded from it falls back to a stand-in u by the level's
#: position (about 1e-3 for a top level, where a real u is near 1e-6): the level's evidence shrinks
#: by some ten bits. In our runs no candidate pair then came out at that level at all (the test
#: world with a 300-pair u sample: 0 pairs on the same full address instead of 582; 1M persons,
#: 2026-10, where the 3 M-pair sample missed "a masked phone shared" and "same road, number and
#: room": 0 links on the full address against 164,080 the month before). Rare agreement levels get
#: there as the profiles grow: about one random pair in a million agrees on them.
U_NOT_OBSERVED = 1e-6


def fill_unobserved_u(model: dict[str, Any], u: float = U_NOT_OBSERVED) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """A copy of a Splink model in which every level but the null and the ``ELSE`` ones has a u
    probability.

    Parameters
    ----------
    model : dict
        Splink's saved model (``linker.misc.save_model_to_json()``).
    u : float
        The u of a level the sampling never reached: with ``n`` pairs sampled and none at the
        level, u is below about ``1/n``; :meth:`FellegiSunterMatcher.fit` gives
        ``max(U_NOT_OBSERVED, 1 / u_max_pairs)``.

    Returns
    -------
    model : dict
        The copy; levels with a u keep it unchanged.
    filled : list of dict
        ``comparison`` and ``label`` of every level that got ``u``.
    """
    import copy

    out = copy.deepcopy(model)
    filled = []
    for comp in out["comparisons"]:
        for lv in comp["comparison_levels"]:
            if (lv.get("is_null_level") or isinstance(lv.get("u_probability"), int | float)
                    or str(lv.get("sql_condition", "")).strip().upper() == "ELSE"):
                continue
            lv["u_probability"] = float(u)
            filled.append({"comparison": comp["output_column_name"],
                           "label": lv.get("label_for_charts", lv["sql_condition"])})
    return out, filled


def floor_m(model: dict[str, Any], floor: float) -> dict[str, Any]:
    """A copy of a Splink model whose m probabilities are at least ``floor`` per level
    (renormalized to sum to 1 within each comparison); levels EM never saw get ``floor``."""
    import copy

    out = copy.deepcopy(model)
    for comp in out["comparisons"]:
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        m = np.array([lv.get("m_probability") or 0.0 for lv in levels], dtype=np.float64)
        m = np.maximum(m, floor)
        m = m / m.sum()
        for lv, v in zip(levels, m, strict=True):
            lv["m_probability"] = float(v)
    return out


def model_parameters(model: dict[str, Any]) -> pd.DataFrame:
    """m and u of every comparison level of a trained Splink model (its settings dict)."""
    rows = []
    for comp in model["comparisons"]:
        levels = comp["comparison_levels"]
        n = len([lv for lv in levels if not lv.get("is_null_level")])
        k = n - 1
        for lv in levels:
            null = bool(lv.get("is_null_level"))
            m, u = lv.get("m_probability"), lv.get("u_probability")
            bf = m / u if (m is not None and u) else None
            rows.append({
                "comparison": comp["output_column_name"],
                "level": -1 if null else k,
                "label": lv.get("label_for_charts", lv["sql_condition"]),
                "m_probability": None if null else m,
                "u_probability": None if null else u,
                "bayes_factor": None if null else bf,
                "match_weight": (math.log2(bf) if bf else None) if not null else None,
                "tf_adjusted": bool(lv.get("tf_adjustment_column")),
            })
            if not null:
                k -= 1
    return pd.DataFrame(rows)


def account_matcher(seed: int = 7, u_max_pairs: float = 3e6, em_max_pairs: float = 5e5,
                    matcher_class: type | None = None, keep_top: int | None = None,
                    **backend: Any) -> FellegiSunterMatcher:
    """The matcher for platform accounts against profiles.

    u from 3 million random pairs; each EM block capped at 500,000 pairs (at a million persons
    the same-phone block holds about a million; a sample of that size gives the same m to three
    decimals at a third of the time). ``keep_top``: the candidates kept per account
    (:class:`FellegiSunterMatcher`). ``matcher_class`` and ``backend`` give the same settings to
    another backend's matcher (:func:`omni.spark.linkage.spark_account_matcher`).
    """
    return (matcher_class or FellegiSunterMatcher)(
        comparisons=account_comparisons(),
        blocking_rules=account_blocking_rules(),
        training_rules=account_training_rules(),
        deterministic_rules=account_deterministic_rules(),
        deterministic_recall=0.7,
        u_max_pairs=u_max_pairs,
        seed=seed,
        em_max_pairs=em_max_pairs,
        keep_top=keep_top,
        **backend,
    )
