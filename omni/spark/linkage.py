"""The probabilistic OneID stage on Splink's Spark backend (the twin of :mod:`omni.oneid.linkage`).

The same model as the embedded stage, not a second one written for Spark:

- the units are built on Spark DataFrames (:func:`omni.spark.match_units.match_units_spark`, tested
  equal to :func:`omni.oneid.match_features.match_units` on the test world);
- the comparisons, blocking rules, training blocks and prior rule are the embedded stage's Splink
  settings (:mod:`omni.oneid.linkage.comparisons`), translated from DuckDB's SQL to Spark's by
  sqlglot (:func:`to_spark_sql`: ``list_has_any`` becomes ``arrays_overlap``, quoted identifiers
  become back-quoted); the estimator is :class:`~omni.oneid.linkage.matcher.FellegiSunterMatcher`
  with Splink's :class:`~splink.backends.spark.SparkAPI` underneath (which registers the
  similarity functions of Splink's Scala jar, added to the session by
  :func:`omni.spark.session.get_session`);
- the decisions are :func:`omni.oneid.linkage.decisions.choose_links` (threshold, margin over the
  runner-up, per-profile limits) on the two best candidates of every account, which Spark keeps
  before anything reaches the driver (the decisions read nothing else);
- the merge relabels the linked account clusters with their profile's cluster on Spark.

A trained model (the embedded stage's ``matcher.model_``, or last month's) can be passed to score
without training: the Spark scoring and decisions are then checked exactly against the embedded
ones. Training on Spark samples its u pairs with Spark's sampler, so its parameters differ from
DuckDB's by sampling noise (measured in docs/scale_out.md).
"""

from __future__ import annotations

import copy
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from omni.oneid.config import OneIDConfig
from omni.oneid.linkage.decisions import LINK_COLUMNS, agreement, decide, empty_links
from omni.oneid.linkage.matcher import (
    LEFT_NAME,
    RIGHT_NAME,
    U_NOT_OBSERVED,
    FellegiSunterMatcher,
    account_matcher,
    fill_unobserved_u,
    model_parameters,
)
from omni.oneid.linkage.result import AccountLinking
from omni.oneid.linkage.stage import stage_report
from omni.spark.match_units import as_spark, match_units_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SparkFellegiSunterMatcher", "SparkLinking", "jaro_winkler_check", "link_accounts_spark",
           "spark_account_matcher", "spark_model", "to_spark_sql"]

#: Columns of a unit table the matcher reads (the list columns follow).
MATCH_COLUMNS = ("unique_id", "name", "mphone", "city", "street")
LIST_COLUMNS = ("names", "names_py", "mphones", "provinces", "cities", "districts", "streets", "roads")


def to_spark_sql(sql: str) -> str:
    """A SQL condition of the embedded (DuckDB) settings in Spark SQL.

    ``list_has_any(a, b)`` -> ``arrays_overlap(a, b)`` (sqlglot would write ``a && b``, which
    Spark does not parse); ``"col"`` -> `` `col` ``; ``levenshtein``, ``length`` and ``left``
    count characters in both engines. ``ELSE`` is kept.
    """
    import sqlglot
    from sqlglot import exp

    if sql.strip().upper() == "ELSE":
        return sql

    def overlap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.ArrayOverlaps):
            return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
        return node

    return sqlglot.parse_one(sql, read="duckdb").transform(overlap).sql(dialect="spark")


def spark_model(model: dict[str, Any]) -> dict[str, Any]:
    """A copy of a Splink settings dict or trained model for Splink's Spark backend.

    A model already in Spark's dialect is returned as a copy; a DuckDB one has every comparison
    level and blocking rule translated (:func:`to_spark_sql`) and its dialect set to ``spark``.
    m and u probabilities are kept as they are.
    """
    out = copy.deepcopy(model)
    if out.get("sql_dialect", "duckdb") == "spark":
        return out
    for comp in out["comparisons"]:
        for lv in comp["comparison_levels"]:
            lv["sql_condition"] = to_spark_sql(lv["sql_condition"])
    rules = []
    for br in out.get("blocking_rules_to_generate_predictions", []):
        if isinstance(br, dict):
            br = {**br, "blocking_rule": to_spark_sql(br["blocking_rule"]), "sql_dialect": "spark"}
        else:
            br = to_spark_sql(br)
        rules.append(br)
    out["blocking_rules_to_generate_predictions"] = rules
    out["sql_dialect"] = "spark"
    return out


class SparkFellegiSunterMatcher(FellegiSunterMatcher):
    """:class:`~omni.oneid.linkage.matcher.FellegiSunterMatcher` on Splink's Spark backend.

    Takes the same settings (in DuckDB's SQL: they are translated) and Spark (or pandas / Arrow)
    tables. :meth:`predict` keeps only the ``keep_top`` best candidates of every left record on
    Spark before collecting them (None: all pairs).

    Parameters
    ----------
    spark : SparkSession
    keep_top : int or None
        Candidates kept per left record (2: the best and the runner-up, all the decisions read).
    break_lineage_method : str, optional
        How Splink materializes its intermediate tables (``parquet``, its default outside
        Databricks, in the checkpoint directory; ``persist``; ``checkpoint``; ``delta_lake_table``).
    **kwargs
        As :class:`~omni.oneid.linkage.matcher.FellegiSunterMatcher`.
    """

    def __init__(self, *args: Any, spark: SparkSession, keep_top: int | None = 2,
                 break_lineage_method: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, keep_top=keep_top, **kwargs)
        self.spark = spark
        self.break_lineage_method = break_lineage_method
        self.training_rules = [to_spark_sql(r) for r in self.training_rules]
        self.deterministic_rules = [to_spark_sql(r) for r in self.deterministic_rules]

    def _n_rows(self, table: Any) -> int:
        return int(table.count()) if hasattr(table, "rdd") else len(table)

    def _linker(self, left: Any, right: Any, settings: Any):
        from splink import Linker, SettingsCreator
        from splink.backends.spark import SparkAPI

        for name, t in (("left", left), ("right", right)):
            cols = t.columns if hasattr(t, "rdd") else getattr(t, "column_names", getattr(t, "columns", []))
            if self.unique_id not in cols:
                raise ValueError(f"{name} table has no {self.unique_id!r} column")
        if isinstance(settings, SettingsCreator):
            settings = settings.create_settings_dict("duckdb")
        # registers the similarity jar's functions
        db = SparkAPI(spark_session=self.spark, break_lineage_method=self.break_lineage_method)
        # temporary views are the session's: each linker registers its inputs under its own names
        tag = uuid.uuid4().hex[:8]
        l_df = db.register(as_spark(self.spark, left), dataset_display_name=LEFT_NAME,
                           table_name=f"omni_{LEFT_NAME}_{tag}")
        r_df = db.register(as_spark(self.spark, right), dataset_display_name=RIGHT_NAME,
                           table_name=f"omni_{RIGHT_NAME}_{tag}")
        return Linker([l_df, r_df], spark_model(settings), log_level=None)

    def use_model(self, model: dict[str, Any], left: Any, right: Any) -> SparkFellegiSunterMatcher:
        """Take a trained model (Splink's JSON, from either backend) instead of fitting one.

        Parameters
        ----------
        model : dict
            ``FellegiSunterMatcher.model_`` of an earlier fit (m already floored).
        left, right : tables
            What :meth:`predict` scores by default.

        Returns
        -------
        self
        """
        model, self.u_not_observed_ = fill_unobserved_u(model, max(U_NOT_OBSERVED, 1.0 / self.u_max_pairs))
        self.model_ = spark_model(model)
        self.probability_two_random_records_match_ = float(model["probability_two_random_records_match"])
        self.model_parameters_ = model_parameters(self.model_)
        self.timings_ = {}
        self._fitted = (left, right, None)
        return self

    def predict(self, left: Any = None, right: Any = None,
                threshold_match_weight: float | None = None) -> pd.DataFrame:
        """Score the blocked candidate pairs on Spark; see
        :meth:`FellegiSunterMatcher.predict <omni.oneid.linkage.matcher.FellegiSunterMatcher.predict>`.

        Only the ``keep_top`` best candidates of every left record are returned (ties: lowest
        right id, the order of :func:`~omni.oneid.linkage.decisions.choose_links`);
        ``n_pairs_`` counts all of them.
        """
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        t = time.perf_counter()
        pred = self._prediction(left, right, threshold_match_weight)
        sdf = pred.as_spark_dataframe()
        uid = self.unique_id
        swap = F.col("source_dataset_l") == F.lit(RIGHT_NAME)
        mw = [c for c in sdf.columns if c.startswith("mw_")]
        pairs = sdf.select(
            F.when(swap, F.col(f"{uid}_r")).otherwise(F.col(f"{uid}_l")).alias(f"{uid}_l"),
            F.when(swap, F.col(f"{uid}_l")).otherwise(F.col(f"{uid}_r")).alias(f"{uid}_r"),
            F.col("match_weight").cast("double").alias("match_weight"),
            F.col("match_probability").cast("double").alias("match_probability"),
            *[F.col(c).cast("double").alias(c) for c in mw])
        self.n_pairs_ = int(pairs.count()) if threshold_match_weight is None else None
        if self.keep_top is not None:
            w = Window.partitionBy(f"{uid}_l").orderBy(F.col("match_weight").desc(), F.col(f"{uid}_r").asc())
            pairs = (pairs.withColumn("_rank", F.row_number().over(w))
                     .where(F.col("_rank") <= self.keep_top).drop("_rank"))
        df = pairs.toPandas()
        pred.drop_table_from_database_and_remove_from_cache()
        self.timings_["predict"] = time.perf_counter() - t
        return self._pairs_frame(df)


def spark_account_matcher(spark: SparkSession, seed: int = 7, u_max_pairs: float = 3e6,
                          em_max_pairs: float = 5e5, keep_top: int | None = 2,
                          break_lineage_method: str | None = None) -> SparkFellegiSunterMatcher:
    """The embedded stage's account matcher (:func:`omni.oneid.linkage.account_matcher`) on Spark."""
    return account_matcher(seed=seed, u_max_pairs=u_max_pairs, em_max_pairs=em_max_pairs,
                           matcher_class=SparkFellegiSunterMatcher, spark=spark, keep_top=keep_top,
                           break_lineage_method=break_lineage_method)


@dataclass
class SparkLinking:
    """What :func:`link_accounts_spark` produced.

    Attributes
    ----------
    records : pyspark.sql.DataFrame
        The input records with every linked account's records moved into its profile's cluster
        (``cluster`` = the profile's cluster label) and ``how = "probabilistic"``.
    links : DataFrame
        One row per link, the columns of :func:`omni.oneid.linkage.link_accounts`'s links table
        (``target_cluster`` is the profile's cluster label in ``records``).
    decisions : DataFrame
        One row per account unit (:func:`~omni.oneid.linkage.decisions.choose_links`, with the
        ``gamma_<comparison>`` levels of its best candidate).
    matcher : SparkFellegiSunterMatcher or None
    stage : dict
        :func:`omni.oneid.linkage.stage_report`, ``candidate_pairs`` counted on Spark.
    accounts, profiles : pyspark.sql.DataFrame or None
        The unit tables (:func:`omni.spark.match_units.match_units_spark`), with ``keep_units``.
    """

    records: Any
    links: pd.DataFrame
    decisions: pd.DataFrame
    matcher: SparkFellegiSunterMatcher | None
    stage: dict = field(default_factory=dict)
    accounts: Any = None
    profiles: Any = None


def _first_records(records: DataFrame, clusters: np.ndarray, how: str | None, spark: SparkSession
                   ) -> pd.Series:
    """Key of the first record (by ``rec``, else by key) of each cluster, optionally of one ``how``."""
    from pyspark.sql import functions as F

    order = "rec" if "rec" in records.columns else "record_key"
    want = spark.createDataFrame(pd.DataFrame({"cluster": np.unique(clusters).astype(np.int64)}))
    r = records if how is None else records.where(F.col("how") == how)
    first = (r.join(F.broadcast(want), "cluster")
             .groupBy("cluster").agg(F.min(F.struct(F.col(order).alias("o"), F.col("record_key").alias("k")))
                                     .alias("f"))
             .select("cluster", F.col("f.k").alias("record_key")).toPandas())
    return first.set_index("cluster")["record_key"].reindex(clusters)


def link_accounts_spark(records: Any, quasi: Any, edges: Any, config: OneIDConfig | None = None,
                        spark: SparkSession | None = None, model: dict[str, Any] | None = None,
                        break_lineage_method: str | None = None, keep_units: bool = False) -> SparkLinking:
    """Link unbound platform accounts to existing profiles on Spark (the probabilistic stage).

    Parameters
    ----------
    records, quasi, edges : Spark or pandas DataFrame
        The deterministic resolution's records, the quasi table and the usable edges with their
        status (see :mod:`omni.spark.match_units`).
    config : OneIDConfig, optional
        ``match_threshold``, ``match_margin``, ``max_accounts_per_platform``,
        ``max_per_profile["platform_buyer"]`` and ``match_seed``, as in the embedded stage.
    spark : SparkSession, optional
        Default :func:`omni.spark.session.get_session`.
    model : dict, optional
        A trained model to score with instead of training (Splink's JSON of
        ``FellegiSunterMatcher.model_``, DuckDB or Spark dialect).
    break_lineage_method : str, optional
        How Splink materializes its intermediate tables (:class:`SparkFellegiSunterMatcher`).
    keep_units : bool
        Return the unit tables too (kept cached; the caller unpersists them).

    Returns
    -------
    SparkLinking
    """
    from pyspark.sql import functions as F

    logging.getLogger("splink").setLevel(logging.ERROR)
    config = config or OneIDConfig()
    if spark is None:
        from omni.spark.session import get_session

        spark = get_session()
    records = as_spark(spark, records)
    t0 = time.perf_counter()
    accounts, profiles = match_units_spark(records, quasi, edges, spark)
    accounts, profiles = accounts.persist(), profiles.persist()
    acc = accounts.select("unique_id", "account", "platform", "n_records").toPandas()
    held = [c for c in profiles.columns if c.startswith("accounts_")]
    prof = profiles.select("unique_id", *held).toPandas()
    n_acc, n_prof = len(acc), len(prof)
    seconds = {"features": time.perf_counter() - t0}
    if n_acc == 0 or n_prof == 0:
        out = AccountLinking(empty_links(), pd.DataFrame(), None, n_acc, n_prof, seconds)
        return SparkLinking(records, empty_links(), pd.DataFrame(), None, stage_report(out, config),
                            accounts if keep_units else None, profiles if keep_units else None)
    cols = [*MATCH_COLUMNS, *LIST_COLUMNS]
    left, right = accounts.select(*cols), profiles.select(*cols)
    matcher = spark_account_matcher(spark, seed=config.match_seed, break_lineage_method=break_lineage_method)
    t = time.perf_counter()
    if model is None:
        matcher.fit(left, right)
    else:
        matcher.use_model(model, left, right)
    seconds["fit"] = time.perf_counter() - t
    t = time.perf_counter()
    pairs = matcher.predict()
    seconds["predict"] = time.perf_counter() - t
    t = time.perf_counter()
    decisions = decide(pairs, acc, prof, config)
    linked = decisions[decisions["decision"] == "linked"].reset_index(drop=True)
    links = empty_links()
    if len(linked):
        a_ids = linked["left_id"].to_numpy(np.int64)
        r_ids = linked["right_id"].to_numpy(np.int64)
        a = acc.set_index("unique_id")
        links = pd.DataFrame({
            "account": a["account"].reindex(a_ids).to_numpy(),
            "platform": a["platform"].reindex(a_ids).to_numpy(),
            "account_record": _first_records(records, a_ids, None, spark).to_numpy(),
            "target_record": _first_records(records, r_ids, "strong", spark).to_numpy(),
            "target_cluster": r_ids,
            "n_records": a["n_records"].reindex(a_ids).to_numpy(np.int64),
            "match_probability": linked["match_probability"].to_numpy(),
            "match_weight": linked["match_weight"].to_numpy(),
            "second_weight": linked["second_weight"].to_numpy(),
            "margin": linked["margin"].to_numpy(),
        })
        ag = agreement(linked, matcher.model_parameters_)
        links["agreement"] = ag["agreement"].to_numpy() if "agreement" in ag else ""
        for c in ag.columns:
            if c.endswith("_level"):
                links[c] = ag[c].to_numpy()
        moves = spark.createDataFrame(pd.DataFrame({"cluster": a_ids, "_to": r_ids}))
        records = (records.join(F.broadcast(moves), "cluster", "left")
                   .withColumn("how", F.when(F.col("_to").isNotNull(), F.lit("probabilistic"))
                               .otherwise(F.col("how")))
                   .withColumn("cluster", F.coalesce(F.col("_to"), F.col("cluster")))
                   .drop("_to"))
    seconds["decide"] = time.perf_counter() - t
    report = stage_report(AccountLinking(links, decisions, matcher, n_acc, n_prof, seconds), config)
    report["candidate_pairs"] = int(matcher.n_pairs_ or 0)
    report["engine"] = "spark"
    if not keep_units:
        accounts, profiles = accounts.unpersist(), profiles.unpersist()
    return SparkLinking(records, links[[*LINK_COLUMNS, *[c for c in links.columns if c not in LINK_COLUMNS]]],
                        decisions, matcher, report, accounts if keep_units else None,
                        profiles if keep_units else None)


def jaro_winkler_check(spark: SparkSession) -> float:
    """Jaro-Winkler of ``MARTHA`` / ``MARHTA`` computed by Splink's Scala jar through Spark
    (0.9611 when the jar matches the running Spark; raises when the functions do not load)."""
    from splink.backends.spark import SparkAPI

    SparkAPI(spark_session=spark)  # registers the jar's functions
    return float(spark.sql("SELECT jaro_winkler('MARTHA', 'MARHTA') AS s").collect()[0]["s"])
