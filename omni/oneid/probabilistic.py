"""Probabilistic OneID stage: link unbound platform accounts to existing profiles.

A platform order carries a platform-scoped buyer id, a receiver name, a masked phone
(``138****5678``) and an address. The deterministic graph links an account's own orders (the
buyer id), and links the account to a person only when the shop membership bound it to a phone.
This stage links the remaining accounts to existing person-level profiles with a Fellegi-Sunter
model (Splink on DuckDB; the same settings run on Splink's Spark backend):

1. Units (:mod:`omni.oneid.match_features`): each unbound account (left) and each profile with a
   person-level strong id (right), with their names, masked phones and address parts.
2. Blocking: pairs that share any masked phone, or any street address. Nothing else is ever
   compared (a name is never a blocking key: every 王伟 would meet every 王伟).
3. Comparisons (:func:`account_comparisons`): masked phone (primary equal with term-frequency
   adjustment / any shared / else), name (primary equal with term-frequency adjustment / any
   shared / same pinyin / one character apart / same surname / else), address as one
   hierarchical comparison (same road, number and room / same road and number / same district /
   same city with the district unknown / same city, other district / same province / else: the
   parts of an address are nested, and counting city, district and street as independent
   evidence would count the same fact three times). Missing values are neutral (null level).
4. Training without labels: u by random sampling of pairs, the prior from a near-deterministic
   rule, m by expectation maximisation on two blocks (same primary masked phone; same primary
   street address) so every comparison is estimated on a block that does not fix it; m is
   floored at 0.001 per level.
5. Decision (:func:`choose_links`): an account links to its best profile when the match
   probability is at least ``match_threshold`` **and** the best match weight beats the second best
   candidate by at least ``match_margin`` (log2 Bayes factor); a profile receives at most
   ``max_accounts_per_platform`` accounts per platform (counting the accounts it already holds)
   and never more platform accounts in all than ``max_per_profile["platform_buyer"]``.

Linked accounts are merged into their profile (their records' ``how`` becomes ``probabilistic``);
the others stay profiles of their own. The links table says, for every link, the probability,
the match weight and the level at which every field agreed.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from omni.oneid.config import OneIDConfig
from omni.oneid.match_features import equals, list_columns, match_units
from omni.oneid.resolve import Resolution

LEFT_NAME, RIGHT_NAME = "left_input", "right_input"
LINK_COLUMNS: tuple[str, ...] = (
    "account", "platform", "account_record", "target_record", "target_cluster", "n_records",
    "match_probability", "match_weight", "second_weight", "margin", "agreement",
)


# ----------------------------------------------------------------------------- comparisons


def _level(sql: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def _null(*cols: str) -> dict[str, Any]:
    cond = " OR ".join(f'"{c}_l" IS NULL OR "{c}_r" IS NULL' for c in cols)
    return _level(cond, "missing", is_null_level=True)


def _else() -> dict[str, Any]:
    return _level("ELSE", "different")


def _overlap(col: str) -> str:
    return f'list_has_any("{col}_l", "{col}_r")'


def account_comparisons() -> list[dict[str, Any]]:
    """Comparisons of an account (left) with a profile (right), as Splink comparison dicts.

    Every level is written symmetrically (``_l`` and ``_r`` can be swapped), so the result does
    not depend on which side Splink puts on the left.
    """
    return [
        {
            "output_column_name": "phone",
            "comparison_description": "masked phone (first 3 + last 4 digits)",
            "comparison_levels": [
                _null("mphones"),
                _level('"mphone_l" = "mphone_r"', "primary masked phone equal",
                       tf_adjustment_column="mphone", tf_adjustment_weight=1.0),
                _level(_overlap("mphones"), "a masked phone shared"),
                _else(),
            ],
        },
        {
            "output_column_name": "name",
            "comparison_description": "receiver / member name",
            "comparison_levels": [
                _null("names"),
                _level('"name_l" = "name_r"', "primary name equal",
                       tf_adjustment_column="name", tf_adjustment_weight=1.0),
                _level(_overlap("names"), "a name shared"),
                _level(_overlap("names_py"), "same pinyin (homophone)"),
                _level('length("name_l") = length("name_r") AND '
                       'levenshtein("name_l", "name_r") = 1',
                       "one character apart"),
                _level('left("name_l", 1) = left("name_r", 1)', "same surname"),
                _else(),
            ],
        },
        {
            "output_column_name": "address",
            "comparison_description": "delivery / member address, most precise part shared",
            "comparison_levels": [
                _null("cities"),
                _level(_overlap("streets"), "same road, number and room"),
                _level(_overlap("roads"), "same road and number"),
                _level(f'{_overlap("districts")} AND {_overlap("cities")}', "same district"),
                _level(f'{_overlap("cities")} AND ("districts_l" IS NULL OR "districts_r" IS NULL)',
                       "same city, district unknown"),
                _level(_overlap("cities"), "same city, other district"),
                _level(_overlap("provinces"), "same province"),
                _else(),
            ],
        },
    ]


def account_blocking_rules() -> list[Any]:
    """Blocking rules that generate candidate pairs: any masked phone shared; any street
    address (road, number, room) shared.

    Names are never a blocking key on their own: 王伟 in Shanghai would pair every account of
    every 王伟 with every profile of every 王伟 (at a million persons, tens of millions of pairs
    that the phone and the address reject anyway). An account whose phone changed is still
    reached through its delivery address when the profile has one.
    """
    from splink import block_on

    return [
        block_on("mphones", arrays_to_explode=["mphones"]),
        block_on("streets", arrays_to_explode=["streets"]),
    ]


def account_training_rules() -> list[str]:
    """EM training blocks: each estimates the m of the comparisons it does not fix.

    The same primary masked phone leaves name and address free; the same primary street
    address (the buyer, or a family member at the same home) leaves phone and name free. A block
    on the name is avoided: among same-name pairs city is the only other signal most profiles
    carry, and EM then mistakes namesakes in one city for matches whose phone differs.
    """
    return ['l."mphone" = r."mphone"', 'l."street" = r."street"']


def account_deterministic_rules() -> list[str]:
    """Near-certain rules for the prior (probability two random records match)."""
    return ['l."mphone" = r."mphone" AND l."name" = r."name"']


# --------------------------------------------------------------------------------- matcher


def _to_arrow(frame: pd.DataFrame | pa.Table) -> pa.Table:
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

    Attributes
    ----------
    model_parameters_ : DataFrame
        One row per comparison level: ``comparison``, ``level`` (comparison vector value),
        ``label``, ``m_probability``, ``u_probability``, ``bayes_factor``, ``match_weight``
        (log2 Bayes factor); null levels have no parameters.
    probability_two_random_records_match_ : float
    model_ : dict
        The trained Splink model (settings with parameters; loads into ``splink.Linker``).
    n_pairs_ : int
        Candidate pairs scored by the last :meth:`predict`.
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
        db = DuckDBAPI()
        l_df = db.register(_to_arrow(left), dataset_display_name=LEFT_NAME)
        r_df = db.register(_to_arrow(right), dataset_display_name=RIGHT_NAME)
        return Linker([l_df, r_df], settings, log_level=None)

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
        if len(left) == 0 or len(right) == 0:
            raise ValueError(f"cannot fit on empty tables (left {len(left)}, right {len(right)})")
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
        self.model_ = floor_m(linker.misc.save_model_to_json(), self.m_floor)
        self.probability_two_random_records_match_ = float(
            self.model_["probability_two_random_records_match"])
        self.model_parameters_ = model_parameters(self.model_)
        self.timings_ = timings
        self._fitted = (left, right, None)
        return self

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
            Sorted by ``left_id``, descending ``match_weight``, ``right_id``.
        """
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
        t = time.perf_counter()
        pred = linker.inference.predict(threshold_match_weight=threshold_match_weight,
                                        warning_mode="never")
        df = pred.as_pandas_dataframe()
        pred.drop_table_from_database_and_remove_from_cache()
        self.timings_["predict"] = time.perf_counter() - t
        self.n_pairs_ = int(len(df)) if threshold_match_weight is None else None
        return self._pairs_frame(df)

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

    def _pairs_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """Splink's scored pairs as ``left_id``, ``right_id``, weights and comparison levels."""
        uid = self.unique_id
        if "source_dataset_l" in df.columns:
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


def account_matcher(seed: int = 7, u_max_pairs: float = 3e6,
                    em_max_pairs: float = 5e5) -> FellegiSunterMatcher:
    """The matcher for platform accounts against profiles.

    u from 3 million random pairs; each EM block capped at 500,000 pairs (at a million persons
    the same-phone block holds about a million; a sample of that size gives the same m to three
    decimals at a third of the time).
    """
    return FellegiSunterMatcher(
        comparisons=account_comparisons(),
        blocking_rules=account_blocking_rules(),
        training_rules=account_training_rules(),
        deterministic_rules=account_deterministic_rules(),
        deterministic_recall=0.7,
        u_max_pairs=u_max_pairs,
        seed=seed,
        em_max_pairs=em_max_pairs,
    )


# -------------------------------------------------------------------------------- decisions


def choose_links(
    pairs: pd.DataFrame,
    accounts: pd.DataFrame,
    profiles: pd.DataFrame,
    threshold: float,
    margin: float,
    max_accounts_per_platform: int,
    max_accounts_per_profile: int | None = None,
) -> pd.DataFrame:
    """Decide which account links to which profile.

    Rules, in order:

    1. Each account's best candidate is the profile with the highest match weight (ties: lowest
       profile id); the runner-up is the next profile (or none).
    2. ``below_threshold``: the best match probability is under ``threshold``.
    3. ``ambiguous``: the best weight beats the runner-up by less than ``margin`` (log2 Bayes
       factor: a margin of 4 means the best profile must be at least 16 times as likely as the
       second).
    4. ``profile_limit``: a profile accepts accounts of one platform, strongest first, only while
       it holds fewer than ``max_accounts_per_platform`` of that platform (its bound accounts
       count) and fewer than ``max_accounts_per_profile`` in all.

    Parameters
    ----------
    pairs : DataFrame
        ``left_id``, ``right_id``, ``match_weight``, ``match_probability`` (from
        :meth:`FellegiSunterMatcher.predict`).
    accounts : DataFrame
        ``unique_id``, ``platform`` of every account.
    profiles : DataFrame
        ``unique_id`` and ``accounts_<platform>`` counts of every profile.
    threshold : float
        Minimum match probability, in (0, 1).
    margin : float
        Minimum match-weight lead over the runner-up, >= 0.
    max_accounts_per_platform : int
        >= 1.
    max_accounts_per_profile : int, optional
        Cap on all platform accounts of a profile.

    Returns
    -------
    DataFrame
        One row per account: ``left_id``, ``right_id`` (best candidate; -1, or None for
        non-integer ids, when none),
        ``match_probability``, ``match_weight``, ``second_weight`` (-inf when none), ``margin``,
        ``decision`` (``linked``, ``below_threshold``, ``ambiguous``, ``profile_limit``,
        ``no_candidate``).
    """
    if not 0 < threshold < 1:
        raise ValueError(f"match threshold must be in (0, 1), got {threshold}")
    if margin < 0:
        raise ValueError(f"match margin must be >= 0, got {margin}")
    if max_accounts_per_platform < 1:
        raise ValueError(f"max_accounts_per_platform must be >= 1, got {max_accounts_per_platform}")
    need = {"left_id", "right_id", "match_weight", "match_probability"}
    if missing := sorted(need - set(pairs.columns)):
        raise ValueError(f"pairs table is missing column(s) {missing}")
    p = pairs.sort_values(["left_id", "match_weight", "right_id"],
                          ascending=[True, False, True], kind="stable")
    rank = p.groupby("left_id", sort=False).cumcount().to_numpy()
    best = p[rank == 0].set_index("left_id")
    second = p[rank == 1].set_index("left_id")["match_weight"]
    ids = accounts["unique_id"].to_numpy()
    out = pd.DataFrame({"left_id": ids})
    r_best = best["right_id"].reindex(ids)
    has = r_best.notna().to_numpy()
    if pd.api.types.is_integer_dtype(pairs["right_id"].dtype):
        out["right_id"] = r_best.fillna(-1).to_numpy(np.int64)
    else:
        out["right_id"] = r_best.astype(object).where(has, None).to_numpy()
    out["match_probability"] = best["match_probability"].reindex(ids).to_numpy()
    out["match_weight"] = best["match_weight"].reindex(ids).to_numpy()
    out["second_weight"] = second.reindex(ids).fillna(-np.inf).to_numpy()
    out["margin"] = out["match_weight"] - out["second_weight"]
    dec = np.where(~has, "no_candidate",
                   np.where(out["match_probability"].to_numpy() < threshold, "below_threshold",
                            np.where(out["margin"].to_numpy() < margin, "ambiguous", "linked")))
    out["decision"] = dec.astype(object)

    # per-profile limits, strongest links first
    plat = accounts.set_index("unique_id")["platform"].reindex(ids).astype(str).to_numpy()
    cand = out[dec == "linked"].assign(platform=plat[dec == "linked"])
    if len(cand):
        cand = cand.sort_values(["right_id", "platform", "match_weight", "left_id"],
                                ascending=[True, True, False, True], kind="stable")
        prof = profiles.set_index("unique_id")
        held = np.zeros(len(cand), dtype=np.int64)
        for platform in pd.unique(cand["platform"]):  # a handful of platforms
            col = f"accounts_{platform}"
            sel = (cand["platform"] == platform).to_numpy()
            if col in prof.columns:
                held[sel] = prof[col].reindex(cand.loc[sel, "right_id"]).fillna(0).to_numpy(np.int64)
        rank_plat = cand.groupby(["right_id", "platform"], sort=False).cumcount().to_numpy()
        ok = held + rank_plat < max_accounts_per_platform
        if max_accounts_per_profile is not None:
            acc_cols = [c for c in prof.columns if c.startswith("accounts_")]
            total = (prof[acc_cols].sum(axis=1).reindex(cand["right_id"]).fillna(0)
                     .to_numpy(np.int64) if acc_cols else np.zeros(len(cand), np.int64))
            c2 = cand[ok].sort_values(["right_id", "match_weight", "left_id"],
                                      ascending=[True, False, True], kind="stable")
            r_all = c2.groupby("right_id", sort=False).cumcount()
            ok_total = pd.Series(True, index=cand.index)
            tot = pd.Series(total, index=cand.index)
            ok_total.loc[c2.index] = (tot.loc[c2.index] + r_all < max_accounts_per_profile).to_numpy()
            ok &= ok_total.to_numpy()
        rejected = cand.index[~ok]
        out.loc[rejected, "decision"] = "profile_limit"
    return out


def _agreement(pairs: pd.DataFrame, params: pd.DataFrame) -> pd.DataFrame:
    """Level label of each comparison for each pair, and a one-line summary of what agreed."""
    out = pd.DataFrame(index=pairs.index)
    parts = []
    for comp in pd.unique(params["comparison"]):
        g = f"gamma_{comp}"
        if g not in pairs.columns:
            continue
        lab = params[params["comparison"] == comp].set_index("level")["label"]
        lv = pairs[g].to_numpy()
        labels = lab.reindex(lv).to_numpy(dtype=object)
        out[f"{comp}_level"] = labels
        top = lab.index.max()
        agree = (lv > 0) & (lv <= top)
        parts.append(np.where(agree, comp + ": " + labels.astype(str), ""))
    if parts:
        s = pd.Series(parts[0], index=pairs.index, dtype=object)
        for p in parts[1:]:
            s = s.str.cat(pd.Series(p, index=pairs.index), sep="; ")
        out["agreement"] = s.str.replace(r"(^(; )+|(; )+$)", "", regex=True).str.replace(
            r"(; )+", "; ", regex=True)
    return out


# ------------------------------------------------------------------------------ the stage


@dataclass
class AccountLinking:
    """Everything the probabilistic stage produced (kept for reports and diagnostics).

    Attributes
    ----------
    links : DataFrame
        Accepted links (see :func:`link_accounts`).
    decisions : DataFrame
        One row per unbound account: best candidate, probability, weight, margin, decision.
    matcher : FellegiSunterMatcher or None
        The fitted matcher (``model_parameters_`` has m and u per level); None when there was
        nothing to match.
    n_accounts, n_profiles : int
    seconds : dict
    pairs : DataFrame or None
        Every scored candidate pair (:meth:`FellegiSunterMatcher.predict`).
    accounts, profiles : DataFrame or None
        The unit tables (:func:`omni.oneid.match_features.match_units`).
    """

    links: pd.DataFrame
    decisions: pd.DataFrame
    matcher: FellegiSunterMatcher | None
    n_accounts: int
    n_profiles: int
    seconds: dict
    pairs: pd.DataFrame | None = None
    accounts: pd.DataFrame | None = None
    profiles: pd.DataFrame | None = None


def empty_links() -> pd.DataFrame:
    """A links table with no rows and the documented columns."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in LINK_COLUMNS})


def match_accounts(
    res: Resolution, quasi: pd.DataFrame, ids: pd.DataFrame | None = None,
    config: OneIDConfig | None = None,
) -> AccountLinking:
    """Score every unbound account against the profiles and decide the links.

    See :func:`link_accounts` (which also applies them); this returns the full diagnostics.
    """
    config = config or OneIDConfig()
    t0 = time.perf_counter()
    accounts, profiles = match_units(res, quasi, ids)
    seconds = {"features": time.perf_counter() - t0}
    n_acc, n_prof = len(accounts), len(profiles)
    decisions = pd.DataFrame(columns=["left_id", "right_id", "match_probability",
                                      "match_weight", "second_weight", "margin", "decision"])
    if n_acc == 0 or n_prof == 0:
        return AccountLinking(empty_links(), decisions, None, n_acc, n_prof, seconds,
                              accounts=accounts, profiles=profiles)
    cols = ["unique_id", "name", "mphone", "city", "street", *list_columns(accounts)]
    left = _to_arrow(accounts[cols])
    right = _to_arrow(profiles[cols])
    matcher = account_matcher(seed=config.match_seed)
    t = time.perf_counter()
    matcher.fit(left, right)
    seconds["fit"] = time.perf_counter() - t
    t = time.perf_counter()
    pairs = matcher.predict()
    seconds["predict"] = time.perf_counter() - t
    t = time.perf_counter()
    decisions = choose_links(
        pairs, accounts, profiles, config.match_threshold, config.match_margin,
        config.max_accounts_per_platform, config.max_per_profile.get("platform_buyer"))
    best = pairs.drop_duplicates("left_id").set_index("left_id")
    gam = [c for c in pairs.columns if c.startswith("gamma_")]
    g = best[gam].reindex(decisions["left_id"]).reset_index(drop=True)
    decisions = pd.concat([decisions, g], axis=1)
    linked = decisions[decisions["decision"] == "linked"].reset_index(drop=True)
    links = _links_table(res, linked, accounts, matcher.model_parameters_)
    seconds["decide"] = time.perf_counter() - t
    return AccountLinking(links, decisions, matcher, n_acc, n_prof, seconds, pairs, accounts,
                          profiles)


def _first_record(res: Resolution, clusters: np.ndarray, how: str | None = None) -> np.ndarray:
    """Key of the first record (in record order) of each cluster, optionally of one ``how``."""
    rec = res.records
    cl = rec["cluster"].to_numpy()
    pos = np.arange(len(rec)) if how is None else np.flatnonzero(equals(rec["how"], how))
    first = np.full(res.n_clusters, len(rec), dtype=np.int64)
    np.minimum.at(first, cl[pos], pos)
    return rec["record_key"].iloc[first[np.asarray(clusters, dtype=np.int64)]].to_numpy()


def _links_table(res: Resolution, linked: pd.DataFrame, accounts: pd.DataFrame,
                 params: pd.DataFrame) -> pd.DataFrame:
    if linked.empty:
        return empty_links()
    acc = accounts.set_index("unique_id")
    a_ids = linked["left_id"].to_numpy()
    r_ids = linked["right_id"].to_numpy(np.int64)
    out = pd.DataFrame({
        "account": acc["account"].reindex(a_ids).to_numpy(),
        "platform": acc["platform"].reindex(a_ids).to_numpy(),
        "account_record": _first_record(res, a_ids),
        "target_record": _first_record(res, r_ids, "strong"),
        "target_cluster": r_ids,
        "n_records": acc["n_records"].reindex(a_ids).to_numpy(np.int64),
        "match_probability": linked["match_probability"].to_numpy(),
        "match_weight": linked["match_weight"].to_numpy(),
        "second_weight": linked["second_weight"].to_numpy(),
        "margin": linked["margin"].to_numpy(),
    })
    ag = _agreement(linked, params)
    out["agreement"] = ag["agreement"].to_numpy() if "agreement" in ag else ""
    for c in ag.columns:
        if c.endswith("_level"):
            out[c] = ag[c].to_numpy()
    return out


def _merge_clusters(res: Resolution, src: np.ndarray, dst: np.ndarray
                    ) -> tuple[Resolution, np.ndarray]:
    """Merge clusters ``src`` into ``dst`` (pairwise); the moved records become probabilistic.

    Returns the new Resolution and the new (dense, record-order) number of every old cluster.
    """
    cl = res.records["cluster"].to_numpy()
    remap = np.arange(res.n_clusters, dtype=np.int64)
    remap[src] = dst
    moved_cl = np.zeros(res.n_clusters, dtype=bool)
    moved_cl[src] = True
    moved = moved_cl[cl]
    codes, _ = pd.factorize(remap[cl])
    new_of_old = np.full(res.n_clusters, -1, dtype=np.int64)
    new_of_old[cl] = codes
    new_of_old[src] = new_of_old[dst]
    records = res.records.copy()
    records["cluster"] = codes.astype(np.int64)
    how = records["how"]
    if not isinstance(how.dtype, pd.CategoricalDtype):
        how = how.astype(pd.CategoricalDtype(["strong", "account", "weak", "probabilistic", "none"]))
    if "probabilistic" not in how.cat.categories:
        how = how.cat.add_categories(["probabilistic"])
    new_codes = np.asarray(how.cat.codes).copy()
    new_codes[moved] = how.cat.categories.get_loc("probabilistic")
    records["how"] = pd.Categorical.from_codes(new_codes, categories=how.cat.categories)
    out = Resolution(records=records, values=res.values, edges=res.edges, removals=res.removals,
                     invalid=res.invalid, config=res.config)
    return out, new_of_old


def apply_links(res: Resolution, links: pd.DataFrame) -> Resolution:
    """A new Resolution with every linked account cluster merged into its profile.

    The account's records get ``how = "probabilistic"``; cluster numbers are re-densified in
    record order; ``links.target_cluster`` is updated to the new numbering.
    """
    if links.empty:
        return res
    keys = pd.Index(res.records["record_key"])
    a_pos = keys.get_indexer(links["account_record"])
    t_pos = keys.get_indexer(links["target_record"])
    if (a_pos < 0).any() or (t_pos < 0).any():
        raise ValueError("links name records that are not in the resolution")
    cl = res.records["cluster"].to_numpy()
    out, new_of_old = _merge_clusters(res, cl[a_pos], cl[t_pos])
    links["target_cluster"] = new_of_old[cl[t_pos]]
    return out


def link_accounts(
    res: Resolution, quasi: pd.DataFrame, ids: pd.DataFrame | None = None,
    config: OneIDConfig | None = None,
) -> tuple[Resolution, pd.DataFrame]:
    """Link unbound platform accounts to existing profiles (the probabilistic OneID stage).

    Parameters
    ----------
    res : Resolution
        Output of :func:`omni.oneid.resolve.resolve_identities`.
    quasi : DataFrame
        Quasi-identifier table with the source ``column`` of every row
        (:func:`omni.oneid.match_features.quasi_fields`).
    ids : DataFrame, optional
        The identifier table (the profile phones are read from ``res``).
    config : OneIDConfig, optional
        ``match_threshold``, ``match_margin``, ``max_accounts_per_platform``,
        ``max_per_profile["platform_buyer"]`` and ``match_seed`` are used.

    Returns
    -------
    resolution : Resolution
        ``res`` with each linked account merged into its profile (records ``how ==
        "probabilistic"``); ``res`` itself when nothing links.
    links : DataFrame
        One row per link: ``account`` (scoped buyer id), ``platform``, ``account_record`` (a
        record of the account), ``target_record`` (a strong record of the profile),
        ``target_cluster`` (cluster in the returned resolution), ``n_records`` (records moved),
        ``match_probability``, ``match_weight``, ``second_weight`` (runner-up, -inf when none),
        ``margin``, ``agreement`` (which fields agreed at which level) and ``<comparison>_level``
        per comparison. ``links.attrs["stage"]`` holds the stage report (:func:`stage_report`:
        units, decisions, prior, m and u per comparison level; JSON-ready).
    """
    config = config or (res.config if isinstance(res.config, OneIDConfig) else OneIDConfig())
    out = match_accounts(res, quasi, ids, config)
    merged, links = merge_links(res, out)
    links.attrs["stage"] = stage_report(out, config)
    return merged, links


def merge_links(res: Resolution, out: AccountLinking) -> tuple[Resolution, pd.DataFrame]:
    """Apply the links of :func:`match_accounts` to the resolution they were made on.

    Like :func:`apply_links`, but by cluster number (no record-key lookups).

    Returns
    -------
    resolution, links
        The merged resolution and a copy of ``out.links`` with ``target_cluster`` renumbered.
    """
    links = out.links.copy()
    if links.empty:
        return res, links
    src = out.decisions.loc[out.decisions["decision"] == "linked", "left_id"].to_numpy(np.int64)
    dst = links["target_cluster"].to_numpy(np.int64)
    if len(src) != len(dst):
        raise ValueError(f"{len(src)} linked decisions but {len(dst)} links")
    merged, new_of_old = _merge_clusters(res, src, dst)
    links["target_cluster"] = new_of_old[dst]
    return merged, links


def stage_report(out: AccountLinking, config: OneIDConfig) -> dict[str, Any]:
    """What the stage did, as plain JSON-ready values (for ``Resolved.summary`` and reports).

    Returns
    -------
    dict
        ``accounts``, ``profiles``, ``candidate_pairs``, ``decisions`` (count per decision),
        ``threshold``, ``margin``, ``max_accounts_per_platform``, ``prior`` (probability two
        random records match), ``model_parameters`` (one dict per comparison level: comparison,
        level, label, m_probability, u_probability, match_weight; None for null levels),
        ``seconds``.
    """
    m = out.matcher
    params = []
    if m is not None:
        mp = m.model_parameters_[["comparison", "level", "label", "m_probability",
                                  "u_probability", "match_weight"]]
        params = [{k: (None if isinstance(v, float) and not np.isfinite(v) else
                       (v.item() if hasattr(v, "item") else v)) for k, v in row.items()}
                  for row in mp.to_dict("records")]
    dec = out.decisions["decision"].value_counts() if len(out.decisions) else pd.Series(dtype=int)
    return {
        "accounts": int(out.n_accounts),
        "profiles": int(out.n_profiles),
        "candidate_pairs": int(len(out.pairs)) if out.pairs is not None else 0,
        "decisions": {str(k): int(v) for k, v in dec.items()},
        "threshold": config.match_threshold,
        "margin": config.match_margin,
        "max_accounts_per_platform": config.max_accounts_per_platform,
        "prior": float(m.probability_two_random_records_match_) if m is not None else None,
        "model_parameters": params,
        "seconds": {k: round(float(v), 2) for k, v in out.seconds.items()},
    }


def linkage_summary(record_oneid: pd.DataFrame, source: str = "ecom_orders") -> pd.DataFrame:
    """How the platform orders reached a person: by rule, by probability, or not at all.

    Parameters
    ----------
    record_oneid : DataFrame
        ``source`` and ``how`` per record (``Resolved.record_oneid``).
    source : str
        The platform-order source.

    Returns
    -------
    DataFrame
        ``linked`` (``by rule``: a person-level identifier or a bound account; ``by
        probability``; ``not linked``: an unbound account that stays a profile of its own;
        ``no identifier``), ``records``, ``share``.
    """
    for c in ("source", "how"):
        if c not in record_oneid.columns:
            raise ValueError(f"record_oneid has no {c!r} column")
    how = record_oneid.loc[record_oneid["source"].astype(str) == source, "how"].astype(str)
    label = how.map({"strong": "by rule", "weak": "by rule", "probabilistic": "by probability",
                     "account": "not linked", "none": "no identifier"})
    order = ["by rule", "by probability", "not linked", "no identifier"]
    n = label.value_counts().reindex(order, fill_value=0)
    return pd.DataFrame({"linked": order, "records": n.to_numpy(),
                         "share": n.to_numpy() / max(int(n.sum()), 1)})


def explain_link(links: pd.DataFrame, record_or_account: str) -> str:
    """Why an account was linked to a profile, in one paragraph (identifiers masked).

    Parameters
    ----------
    links : DataFrame
        The links table of :func:`link_accounts`.
    record_or_account : str
        The scoped account (``tmall:tb_...``), its ``account_record`` or the ``target_record``.
    """
    from omni.oneid.explain import mask_record_key, mask_value

    hit = links[(links["account"] == record_or_account)
                | (links["account_record"] == record_or_account)
                | (links["target_record"] == record_or_account)]
    if hit.empty:
        return f"{mask_record_key(record_or_account)} was not linked by the probabilistic stage."
    lines = []
    for r in hit.itertuples(index=False):
        second = ("no other candidate" if not np.isfinite(r.second_weight)
                  else f"the runner-up scored {r.second_weight:.1f}")
        lines.append(
            f"account {mask_value('platform_buyer', r.account)} ({r.n_records} record(s)) was "
            f"linked to the profile of {mask_record_key(r.target_record)} with match probability "
            f"{r.match_probability:.4f} (match weight {r.match_weight:.1f}; {second}). "
            f"Agreed: {r.agreement or 'nothing'}.")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ evaluation


def evaluate_links(res: Resolution, decisions: pd.DataFrame, truth: pd.DataFrame,
                   accounts: pd.DataFrame | None = None) -> dict[str, float]:
    """Precision and recall of account links against ground truth (synthetic worlds only).

    Parameters
    ----------
    res : Resolution
        The deterministic resolution the links were made on (before :func:`apply_links`).
    decisions : DataFrame
        ``left_id`` (account cluster), ``right_id`` (profile cluster) and ``decision`` per
        account (:func:`choose_links`), or a links table (``account_record``, ``target_record``).
    truth : DataFrame
        ``record_key``, ``person_id``.

    Returns
    -------
    dict
        ``links``, ``correct``, ``precision``; ``accounts`` (unbound accounts), ``linkable``
        (accounts whose person holds a profile) and ``recall`` over them; ``crm_linkable`` (accounts
        whose person has a CRM record) and ``crm_recall``, ``crm_precision`` over those.
        The person of a cluster is the person of most of its records.
    """
    rec = res.records
    m = pd.DataFrame({"cluster": rec["cluster"].to_numpy(), "record_key": rec["record_key"].to_numpy(),
                      "how": rec["how"].astype(str).to_numpy(), "source": rec["source"].astype(str).to_numpy()})
    m["person"] = truth.set_index("record_key")["person_id"].reindex(m["record_key"]).to_numpy()
    if m["person"].isna().any():
        raise ValueError(f"{int(m['person'].isna().sum())} records have no truth row")
    cnt = m.groupby(["cluster", "person"]).size().rename("n").reset_index()
    cnt = cnt.sort_values(["cluster", "n", "person"], ascending=[True, False, True])
    person_of = cnt.drop_duplicates("cluster").set_index("cluster")["person"]
    acc_mask = np.zeros(res.n_clusters, bool)
    acc_mask[m.loc[m["how"] == "account", "cluster"].to_numpy()] = True
    strong = m["how"] == "strong"
    acc_mask[m.loc[strong, "cluster"].to_numpy()] = False
    prof_clusters = np.unique(m.loc[strong, "cluster"].to_numpy())
    prof_persons = set(person_of.reindex(prof_clusters).to_numpy())
    crm_persons = set(m.loc[m["source"] == "crm_members", "person"])
    acc_ids = np.flatnonzero(acc_mask)
    acc_person = person_of.reindex(acc_ids).to_numpy()
    linkable = pd.Series(acc_person).isin(prof_persons).to_numpy()
    in_crm = pd.Series(acc_person).isin(crm_persons).to_numpy()
    if "decision" in decisions.columns:
        d = decisions[decisions["decision"] == "linked"]
        l_id, r_id = d["left_id"].to_numpy(np.int64), d["right_id"].to_numpy(np.int64)
    else:
        keys = pd.Index(rec["record_key"])
        cl = rec["cluster"].to_numpy()
        l_id = cl[keys.get_indexer(decisions["account_record"])]
        r_id = cl[keys.get_indexer(decisions["target_record"])]
    ok = person_of.reindex(l_id).to_numpy() == person_of.reindex(r_id).to_numpy()
    linked_crm = pd.Series(person_of.reindex(l_id).to_numpy()).isin(crm_persons).to_numpy()
    n_links, n_ok = len(l_id), int(ok.sum())
    return {
        "accounts": int(len(acc_ids)),
        "linkable": int(linkable.sum()),
        "crm_linkable": int((linkable & in_crm).sum()),
        "links": int(n_links),
        "correct": n_ok,
        "precision": n_ok / n_links if n_links else 1.0,
        "recall": n_ok / int(linkable.sum()) if linkable.any() else 1.0,
        "crm_precision": int((ok & linked_crm).sum()) / int(linked_crm.sum()) if linked_crm.any() else 1.0,
        "crm_recall": (int((ok & linked_crm).sum()) / int((linkable & in_crm).sum())
                       if (linkable & in_crm).any() else 1.0),
    }
