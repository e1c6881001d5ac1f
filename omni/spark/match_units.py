"""Matching units of the probabilistic stage on Spark DataFrames (the twin of
:func:`omni.oneid.match_features.match_units`).

The inputs are the embedded engine's frames, as Spark DataFrames (or pandas frames, converted):

``records``
    One row per record: ``record_key``, ``cluster`` (long: any label, not necessarily dense),
    ``how`` (``strong`` / ``account`` / ``weak`` / ``none``), optionally ``rec`` (the record's
    position, for "first record of a cluster"; the record key orders them otherwise).
``quasi``
    The quasi-identifier table of :func:`omni.oneid.match_features.quasi_fields`:
    ``record_key``, ``value``, ``valid`` and ``field`` (or ``id_type`` and ``column``, from which
    the field is derived as the embedded engine does).
``edges``
    The usable (record, identifier value) pairs with the status the rules gave the value:
    ``record_key``, ``id_type``, ``value``, ``status`` (:func:`linking_edges` builds it from the
    identifier table and the values table; :func:`resolution_frames` from an embedded
    :class:`~omni.oneid.resolve.Resolution`).

Every step is the embedded stage's, in Spark SQL functions: quasi values normalized with the same
regular expressions (:data:`omni.oneid.match_features.NORMALIZE_SQL`, written for Java's regex
engine here), names read as pinyin by the same function (:func:`~omni.oneid.match_features.name_pinyin`,
once per distinct name, on the driver), the profile's own phones masked and ranked first, the
mode (most weight, ties: smallest value) and the sorted distinct values of every feature.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from omni.oneid.match_features import _MODES, _WIDE, FIELDS, PHONE_PRIORITY, address_role

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from omni.oneid.resolve import Resolution

__all__ = ["PROVINCE_SUFFIX", "ROAD_RE", "as_spark", "linking_edges", "mask_phones", "match_units_spark",
           "normalize_values", "resolution_frames"]

#: The administrative suffixes dropped from provinces and cities (as in ``NORMALIZE_SQL``).
PROVINCE_SUFFIX = "(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$"
CITY_SUFFIX = "(市|地区|盟)$"
#: Road, house number and the rest of a street line (``match_features._ROAD_RE``).
ROAD_RE = r"^(?:[^0-9]*?(?:区|县|旗))?([^0-9]+?(?:大道|路|街|道|巷|弄|胡同))([0-9]+)号(.*)$"
MOBILE_RE = r"^\+861[3-9][0-9]{9}$"


def as_spark(spark: SparkSession, frame: Any) -> DataFrame:
    """A Spark DataFrame of ``frame`` (a Spark DataFrame is returned as is; categoricals of a
    pandas frame become strings, so Arrow converts them)."""
    if hasattr(frame, "rdd"):
        return frame
    df = pd.DataFrame(frame).copy()
    for c in df.columns:
        if isinstance(df[c].dtype, pd.CategoricalDtype | pd.StringDtype):
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return spark.createDataFrame(df)


def resolution_frames(res: Resolution) -> dict[str, pd.DataFrame]:
    """The ``records`` and ``edges`` frames of an embedded resolution, in the shape the Spark
    stage reads (see the module notes): what the Spark engine's deterministic rules hand over.

    ``records``: ``record_key``, ``source``, ``cluster``, ``how``, ``rec`` (position).
    ``edges``: ``record_key``, ``id_type``, ``value``, ``status`` of every usable edge.
    """
    rec = res.records
    vals = res.values
    e_rec = res.edges["rec"].to_numpy()
    e_val = res.edges["val"].to_numpy()
    keys = rec["record_key"].astype(object).to_numpy()
    records = pd.DataFrame({
        "record_key": keys,
        "source": rec["source"].astype(str).to_numpy() if "source" in rec else None,
        "cluster": rec["cluster"].to_numpy(np.int64),
        "how": rec["how"].astype(str).to_numpy(),
        "rec": np.arange(len(rec), dtype=np.int64),
    })
    edges = pd.DataFrame({
        "record_key": keys[e_rec],
        "id_type": vals["id_type"].astype(str).to_numpy()[e_val],
        "value": vals["value"].astype(object).to_numpy()[e_val],
        "status": vals["status"].astype(str).to_numpy()[e_val],
    })
    return {"records": records, "edges": edges}


def linking_edges(ids: DataFrame, values: DataFrame) -> DataFrame:
    """The usable edges with their value's status, from the identifier table (``record_key``,
    ``id_type``, ``value``, ``valid``) and the values table (``id_type``, ``value``, ``status``).

    Only valid rows; one row per distinct (record, type, value).
    """
    from pyspark.sql import functions as F

    v = values.select("id_type", "value", "status")
    return (ids.where(F.col("valid")).select("record_key", "id_type", "value").distinct()
            .join(v, ["id_type", "value"]).select("record_key", "id_type", "value", "status"))


def mask_phones(col: Any) -> Any:
    """First 3 + last 4 digits of a normalized mainland mobile (``+8613800138000`` ->
    ``138****8000``); null for any other phone (:func:`omni.oneid.match_features.mask_phone_values`)."""
    from pyspark.sql import functions as F

    masked = F.concat(F.substring(col, 4, 3), F.lit("****"), F.substring(col, -4, 4))
    return F.when(col.rlike(MOBILE_RE), masked)


def normalize_values(df: DataFrame) -> DataFrame:
    """Comparison form of quasi values: ``df`` has ``field`` and ``v``; adds ``nv`` and ``road``.

    The rules of :data:`omni.oneid.match_features.NORMALIZE_SQL` (province and city suffixes,
    district trimmed, the street line reduced to road + number + the numbers after it).
    """
    from pyspark.sql import functions as F

    v, field = F.col("v"), F.col("field")
    t = F.regexp_replace(v, r"\s+", "")
    road = F.regexp_extract(F.col("_t"), ROAD_RE, 1)
    num = F.regexp_extract(F.col("_t"), ROAD_RE, 2)
    rest = F.regexp_extract(F.col("_t"), ROAD_RE, 3)
    df = df.withColumn("_t", t).withColumn("_road", road).withColumn("_num", num).withColumn("_rest", rest)
    has_road = F.col("_road") != ""
    street = F.when(has_road, F.concat(F.col("_road"), F.col("_num"), F.lit("号|"),
                                       F.array_join(F.regexp_extract_all(F.col("_rest"), F.lit("([0-9]+)"), 1),
                                                    "-"))).otherwise(F.col("_t"))
    nv = (F.when(field.isin("name", "masked_phone"), v)
          .when(field == "province", F.regexp_replace(F.trim(v), PROVINCE_SUFFIX, ""))
          .when(field == "city", F.regexp_replace(F.trim(v), CITY_SUFFIX, ""))
          .when(field == "district", F.trim(v))
          .when(field == "street", street))
    rd = F.when((field == "street") & has_road, F.concat(F.col("_road"), F.col("_num"), F.lit("号")))
    return df.withColumn("nv", nv).withColumn("road", rd).drop("_t", "_road", "_num", "_rest")


def _pinyin(spark: SparkSession, names: DataFrame) -> DataFrame:
    """``v`` -> ``py``: tone-less pinyin of the distinct names (:func:`~omni.oneid.match_features.name_pinyin`).

    Read on the driver: the distinct names are bounded by the name space (a few hundred thousand
    at a million persons), not by the records, and the executors then need no Python of omni's.
    """
    from omni.oneid.match_features import name_pinyin

    v = names.toPandas()["v"]
    py = name_pinyin(v.astype("string"))
    frame = pd.DataFrame({"v": v.astype(object), "py": py.astype(object).where(py.notna(), None)})
    return spark.createDataFrame(frame, "v string, py string")


def _quasi_rows(spark: SparkSession, quasi: DataFrame) -> DataFrame:
    """``record_key``, ``field``, ``v`` of the valid quasi rows of the compared fields."""
    from pyspark.sql import functions as F

    missing = [c for c in ("record_key", "value", "valid") if c not in quasi.columns]
    if "field" not in quasi.columns and not {"id_type", "column"} <= set(quasi.columns):
        missing.append("field (or id_type and column)")
    if missing:
        raise ValueError(f"quasi table is missing column(s) {missing}")
    q = quasi
    if "field" not in q.columns:  # role of every (id_type, column): a handful, mapped on the driver
        combos = q.select("id_type", "column").distinct().collect()
        roles = spark.createDataFrame(
            [(r["id_type"], r["column"], address_role(str(r["column"]).split(".", 1)[-1])
              if str(r["id_type"]) == "address" else str(r["id_type"])) for r in combos],
            "id_type string, column string, field string")
        q = q.join(F.broadcast(roles), ["id_type", "column"])
    return (q.where(F.coalesce(F.col("valid"), F.lit(False)) & F.col("value").isNotNull()
                    & F.col("field").isin(*FIELDS))
            .select("record_key", F.col("field").cast("string").alias("field"),
                    F.col("value").cast("string").alias("v")))


def _strong_values(edges: DataFrame, recs: DataFrame, id_type: str) -> DataFrame:
    """Linking values of one type per unit: ``unit``, ``side``, ``value``, ``n`` (records)."""
    from pyspark.sql import functions as F

    e = edges.where((F.col("id_type") == id_type) & (F.col("status") == "strong"))
    return (e.join(recs, "record_key").groupBy("unit", "side", "value")
            .agg(F.count(F.lit(1)).alias("n")))


def match_units_spark(records: Any, quasi: Any, edges: Any, spark: SparkSession | None = None
                      ) -> tuple[DataFrame, DataFrame]:
    """The two sides of the probabilistic stage, one row per unit, on Spark.

    Parameters
    ----------
    records, quasi, edges : Spark or pandas DataFrame
        See the module notes.
    spark : SparkSession, optional
        Default: :func:`omni.spark.session.get_session`.

    Returns
    -------
    accounts, profiles : pyspark.sql.DataFrame
        As :func:`omni.oneid.match_features.match_units`: ``unique_id`` (the cluster), the mode
        columns ``name``, ``mphone``, ``city``, ``street`` and the sorted list columns ``names``,
        ``names_py``, ``mphones``, ``provinces``, ``cities``, ``districts``, ``streets``,
        ``roads``. Accounts also have ``account``, ``platform``, ``n_records`` (every account
        unit is listed); profiles have ``accounts_<platform>`` (only profiles with a feature).
    """
    from pyspark.sql import functions as F

    if spark is None:
        from omni.spark.session import get_session

        spark = get_session()
    records, quasi, edges = (as_spark(spark, f) for f in (records, quasi, edges))
    for name, df, need in (("records", records, {"record_key", "cluster", "how"}),
                           ("edges", edges, {"record_key", "id_type", "value", "status"})):
        if missing := sorted(need - set(df.columns)):
            raise ValueError(f"{name} table is missing column(s) {missing}")
    how = F.col("how").cast("string")
    kinds = (records.groupBy("cluster")
             .agg(F.max((how == "strong").cast("int")).alias("strong"),
                  F.max((how == "account").cast("int")).alias("account"),
                  F.count(F.lit(1)).alias("n_records"))
             .withColumn("side", F.when(F.col("strong") == 1, 2).when(F.col("account") == 1, 1)
                         .otherwise(0).cast("tinyint"))
             .where(F.col("side") > 0)
             .select(F.col("cluster").cast("long").alias("unit"), "side", "n_records"))
    recs = (records.select("record_key", F.col("cluster").cast("long").alias("unit"))
            .join(kinds.select("unit", "side"), "unit"))
    q = _quasi_rows(spark, quasi)
    raw = (q.join(recs, "record_key").groupBy("side", "unit", "field", "v")
           .agg(F.count(F.lit(1)).alias("w")))
    raw = raw.persist()
    dv = normalize_values(raw.select("field", "v").distinct())
    names = _pinyin(spark, raw.where(F.col("field") == "name").select("v").distinct())
    rj = raw.join(dv, ["field", "v"])
    feat = (
        rj.where(F.col("nv").isNotNull() & (F.col("nv") != ""))
        .select("side", "unit",
                F.when(F.col("field") == "masked_phone", "mphone").otherwise(F.col("field")).alias("f"),
                F.col("nv").alias("v"), "w")
        .unionByName(rj.where((F.col("field") == "street") & F.col("road").isNotNull())
                     .select("side", "unit", F.lit("road").alias("f"), F.col("road").alias("v"), "w"))
        .unionByName(raw.where(F.col("field") == "name").join(names, "v")
                     .select("side", "unit", F.lit("name_py").alias("f"), F.col("py").alias("v"), "w"))
    )
    # profiles: their own phones, masked like a platform export, rank before receiver phones
    ph = (_strong_values(edges, recs, "phone").where(F.col("side") == 2)
          .withColumn("masked", mask_phones(F.col("value"))).where(F.col("masked").isNotNull())
          .select("side", "unit", F.lit("mphone").alias("f"), F.col("masked").alias("v"),
                  (F.col("n") + F.lit(PHONE_PRIORITY)).alias("w")))
    feat = feat.unionByName(ph).where(F.col("v").isNotNull())
    per_v = feat.groupBy("side", "unit", "f", "v").agg(F.sum("w").alias("n"))
    # mode: most weight, ties the smallest value; vals: the sorted distinct values
    g = per_v.groupBy("side", "unit", "f").agg(
        F.array_min(F.collect_list(F.struct((-F.col("n")).alias("k"), F.col("v").alias("v")))).alias("m"),
        F.array_sort(F.collect_list("v")).alias("vals"))
    aggs = []
    for a, b in _WIDE:
        if a in _MODES:
            aggs.append(F.first(F.when(F.col("f") == a, F.col("m.v")), ignorenulls=True).alias(a))
        aggs.append(F.first(F.when(F.col("f") == a, F.col("vals")), ignorenulls=True).alias(b))
    wide = g.groupBy("side", "unit").agg(*aggs).persist()
    order = ["unique_id", *[c for a, b in _WIDE for c in ((a, b) if a in _MODES else (b,))]]

    # accounts: the scoped buyer id with most records (ties: smallest), its platform, size
    acct = _strong_values(edges, recs, "platform_buyer").withColumn(
        "platform", F.split(F.col("value"), ":", 2).getItem(0))
    best = (acct.where(F.col("side") == 1).groupBy("unit")
            .agg(F.array_min(F.collect_list(F.struct((-F.col("n")).alias("k"), F.col("value").alias("v"))))
                 .alias("b"))
            .select("unit", F.col("b.v").alias("account"),
                    F.split(F.col("b.v"), ":", 2).getItem(0).alias("platform")))
    left = (kinds.where(F.col("side") == 1).select("unit", "n_records")
            .join(wide.where(F.col("side") == 1).drop("side"), "unit", "left")
            .join(best, "unit", "left")
            .withColumnRenamed("unit", "unique_id")
            .select(*order, "account", "platform", F.col("n_records").cast("long")))
    right = wide.where(F.col("side") == 2).drop("side").withColumnRenamed("unit", "unique_id").select(*order)
    held = acct.where(F.col("side") == 2)
    platforms = sorted(r["platform"] for r in held.select("platform").distinct().collect())
    if platforms:
        counts = (held.groupBy("unit").pivot("platform", platforms).agg(F.count(F.lit(1)))
                  .withColumnRenamed("unit", "unique_id"))
        right = right.join(counts, "unique_id", "left")
        for p in platforms:
            right = right.withColumn(f"accounts_{p}", F.coalesce(F.col(p), F.lit(0)).cast("long")).drop(p)
    return left, right

