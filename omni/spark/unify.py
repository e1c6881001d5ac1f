"""The unified tables and profiles of a Spark resolution, built on Spark.

The Spark twin of :mod:`omni.unify`: the same tables, row for row and value for value, made by
DataFrame steps on the executors from the source columns the loader tasks staged
(:meth:`omni.spark.load.SparkInputs.table_frame`, ``row`` = the position in the source table) joined
to each resolved record's OneID number. Nothing per record reaches the driver: it collects the
distinct values of the categorical columns (for their categories), the sources present, a few
counts and the latest record time.

The rules are :mod:`omni.unify`'s, read from its definitions, not copied:

- which source feeds which table and how its columns map (:func:`omni.unify.source_roles`,
  :data:`~omni.unify.UNIFIED_COLUMNS`, :data:`~omni.unify.KEY_NAME`); rows in time order, stable
  (sources in spec order, then table order; missing times last);
- the dtypes of every output column: the embedded functions themselves run on zero-row frames of
  the staged columns' dtypes (:func:`unified_template`, :func:`profiles_template`), and the
  categories are the values present, sorted by :func:`omni.unify.sorted_categories`;
- survivorship (:data:`~omni.unify.PROFILE_ATTRIBUTES`: the most trusted source with a value, its
  latest record, missing times as oldest, equal times the first row), the any-true consent
  attributes (:data:`~omni.unify.ANY_TRUE_ATTRIBUTES`), the order columns
  (:data:`~omni.unify.PAID_STATUS`, :data:`~omni.unify.STORE_CHANNEL`,
  :data:`~omni.unify.CHANNEL_MIX`, :data:`~omni.unify.MISSING_LABEL`) and the derived columns
  (:func:`omni.privacy.mask_name`, :func:`omni.core.reference.age_band`,
  :func:`omni.core.reference.city_tier`, applied per batch by ``mapInPandas``);
- the opt-outs of quarantined duplicates (:func:`omni.consent.apply_quarantined_opt_outs`'s rule:
  a quarantined row whose record key is a resolved record's opts its person out).

The frames come back as ``(DataFrame, template, order)`` like the record-level ones
(:class:`omni.spark.pipeline.SparkOutputs`), checkpointed (they no longer read the staging folder),
and are written into the cache by :func:`omni.spark.output.write_frame`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import to_arrow_type

from omni.consent import QuarantinedOptOuts
from omni.core.reference import age_band, city_tier
from omni.io.errors import DataContractError
from omni.privacy import mask_name
from omni.spark.output import ARROW_TYPES, NA_VALUES
from omni.spark.stable import format_oneid_col
from omni.unify import (
    ANY_TRUE_ATTRIBUTES,
    CATEGORY_COLUMNS,
    CHANNEL_MIX,
    KEY_NAME,
    MISSING_LABEL,
    PAID_STATUS,
    PROFILE_ATTRIBUTES,
    STORE_CHANNEL,
    UNIFIED_COLUMNS,
    RowMap,
    build_profiles,
    sorted_categories,
    source_roles,
    unified_table,
)

__all__ = ["UNIFIED_ORDER", "SparkUnified", "build_profiles_spark", "latest_value", "profiles_template",
           "unified_table_spark", "unified_template", "unify_outputs"]

#: The write order of a unified table: time (missing: last), source position in spec order, row.
UNIFIED_ORDER = ("_t", "_p", "row")
_MIN = int(np.iinfo(np.int64).min)  # NaT as int64: a missing time, the oldest in survivorship
_MAX = int(np.iinfo(np.int64).max)
_ORDER_COLUMNS = ("channel_pref", "channel_mix", "top_category")


@dataclass
class SparkUnified:
    """The unified tables and the profiles of one Spark resolution.

    Attributes
    ----------
    frames : dict
        Name -> (Spark DataFrame, zero-row pandas template, order column or columns): the
        unified tables (:data:`omni.unify.UNIFIED_COLUMNS`) and ``profiles``.
    opt_outs_from_quarantine : int
        People the quarantined rows' opt-outs turned to opted out.
    """

    frames: dict[str, tuple[DataFrame, pd.DataFrame, Any]] = field(default_factory=dict)
    opt_outs_from_quarantine: int = 0


# -- templates: the embedded functions on zero rows -----------------------------------------------

def _empty_rowmap(names: list[str]) -> RowMap:
    """A row map of no record over the sources ``names`` (each with zero rows)."""
    none = np.empty(0, dtype=np.int64)
    return RowMap(oneids=pd.array([], dtype="string[pyarrow]"), codes={n: none for n in names},
                  keys={n: pd.array([], dtype="string[pyarrow]") for n in names},
                  times={n: np.empty(0, dtype="datetime64[ns]") for n in names}, numbers=none)


def unified_template(role: str, templates: Mapping[str, pd.DataFrame], spec: Any,
                     with_nulls: Mapping[str, set[str]] | None = None,
                     categories: Mapping[str, list] | None = None) -> pd.DataFrame:
    """Zero rows of the unified table ``role`` with the embedded engine's dtypes.

    :func:`omni.unify.unified_table` itself runs on the zero-row source ``templates``. The dtype
    of a plain column depends on the data in one way, which ``with_nulls`` supplies: a nullable
    (masked) source column with a missing value anywhere in its table becomes an object column
    (``Series.to_numpy``). ``categories`` gives the categorical columns their categories (the
    values present, in :func:`omni.unify.sorted_categories` order).
    """
    with_nulls = with_nulls or {}
    tabs = {}
    for name, t in templates.items():
        t = t.copy()
        for c in with_nulls.get(name, ()):
            if isinstance(t[c].dtype, pd.api.extensions.ExtensionDtype) and \
                    t[c].dtype.kind in "biuf" and not isinstance(t[c].dtype, pd.CategoricalDtype):
                t[c] = t[c].astype(object)
        tabs[name] = t
    out = unified_table(role, tabs, spec, _empty_rowmap(list(tabs)))
    for c, values in (categories or {}).items():
        out[c] = pd.Categorical([], categories=pd.Index(values, dtype=object if not values else None))
    return out


def profiles_template(templates: Mapping[str, pd.DataFrame], present: list[str], with_orders: bool) -> pd.DataFrame:
    """Zero rows of the profiles with the embedded engine's columns and dtypes:
    :func:`omni.unify.build_profiles` on the zero-row source templates of the sources with
    records (``present``), and the order columns (objects) when there are orders."""
    tabs = {n: templates[n] for n in present if n in templates}
    out = build_profiles(tabs, _empty_rowmap(present), as_of=pd.Timestamp(0))
    for c in _ORDER_COLUMNS if with_orders else ():
        out[c] = pd.Series([], dtype=object)
    # missing values as the embedded profiles hold them: NaN (an attribute no record has, the order
    # columns of people without paid orders), NA for an attribute no source has
    out.attrs[NA_VALUES] = {c: pd.NA if c in PROFILE_ATTRIBUTES and not _sourced(c, tabs) else np.nan
                            for c in out.columns if out[c].dtype == object}
    return out


def _sourced(attr: str, tables: Mapping[str, pd.DataFrame]) -> bool:
    """Whether any candidate source of a profile attribute has its column."""
    return any(s in tables and c in tables[s].columns for s, c in PROFILE_ATTRIBUTES[attr])


# -- unified tables -------------------------------------------------------------------------------

def _masked_nulls(tables: Mapping[str, DataFrame], templates: Mapping[str, pd.DataFrame],
                  names: list[str]) -> dict[str, set[str]]:
    """Per source, its nullable (masked) numeric or boolean columns that miss a value somewhere."""
    out: dict[str, set[str]] = {}
    for name in names:
        t = templates[name]
        cols = [c for c in t.columns if isinstance(t[c].dtype, pd.api.extensions.ExtensionDtype)
                and t[c].dtype.kind in "biuf" and not isinstance(t[c].dtype, pd.CategoricalDtype)]
        if not cols:
            continue
        row = tables[name].agg(*[F.max(F.col(c).isNull().cast("int")).alias(c) for c in cols]).collect()[0]
        out[name] = {c for c in cols if row[c]}
    return out


def unified_table_spark(role: str, spec: Any, tables: Mapping[str, DataFrame], templates: Mapping[str, pd.DataFrame],
                        resolved: DataFrame, names: list[str], present: set[str]
                        ) -> tuple[DataFrame, pd.DataFrame, tuple[str, ...]]:
    """One unified table on Spark (:func:`omni.unify.unified_table`'s rows, values and dtypes).

    Parameters
    ----------
    role : str
        ``orders``, ``events``, ``touchpoints`` or ``campaign_assignments``.
    spec : DatasetSpec
    tables : mapping
        Source -> its staged columns (``row`` and the template's columns).
    templates : mapping
        Source -> zero rows of its staged columns' pandas dtypes.
    resolved : DataFrame
        The resolved records: ``src`` (position in ``names``), ``row``, ``record_key``,
        ``number`` (OneID number).
    names : list of str
        The record sources.
    present : set of str
        The sources with resolved records (the others feed nothing, as in the embedded row map).

    Returns
    -------
    DataFrame, template, order
        The table with the template's columns and :data:`UNIFIED_ORDER`.
    """
    if role not in UNIFIED_COLUMNS:
        raise ValueError(f"unknown role {role!r}; known: {list(UNIFIED_COLUMNS)}")
    key_col = KEY_NAME[role]
    parts = [(name, mapping) for name, (r, mapping) in source_roles(spec).items()
             if r == role and name in tables and name in present]
    time_col = next((c for c in UNIFIED_COLUMNS[role] if c.endswith("_time")), None)
    kinds: dict[str, Any] = {}  # the Spark type of each unified column, from the sources that have it
    for name, mapping in parts:
        fields = {f.name: f.dataType for f in tables[name].schema.fields}
        for col in UNIFIED_COLUMNS[role]:
            src = mapping.get(col, col)
            if not src.startswith("=") and src in fields:
                kinds.setdefault(col, fields[src])
    frames = []
    for name, mapping in parts:
        t = tables[name]
        if time_col is not None:
            src = mapping.get(time_col, time_col)
            if src.startswith("=") or src not in t.columns or templates[name][src].dtype.kind != "M":
                raise DataContractError(
                    f"source {name!r}: the {role} table's time column {time_col!r} must be a datetime column "
                    "of the source on the Spark engine", hint="declare the column with type datetime in "
                    "raw/sources.yaml, or resolve with the embedded engine")
        i = names.index(name)
        recs = resolved.where(F.col("src") == i).select("row", "record_key", "number")
        cols: list[Column] = [F.col("record_key").alias(key_col), F.lit(name).alias("source"),
                              format_oneid_col(F.col("number")).alias("oneid")]
        for col in UNIFIED_COLUMNS[role]:
            src = mapping.get(col, col)
            if not src.startswith("=") and src in t.columns:
                e = F.col(src)
            else:  # a constant, or no such column (missing): the type the other sources give it
                e = F.lit(src[1:] if src.startswith("=") else None).cast(kinds.get(col, T.StringType()))
            cols.append(e.alias(col))
        t_key = F.coalesce(F.col(mapping.get(time_col, time_col)), F.lit(_MAX)) if time_col else F.lit(0).cast("long")
        frames.append(t.join(recs, "row").select(*cols, t_key.alias("_t"), F.lit(i).alias("_p"), "row", "number"))
    if not frames:
        return _empty_frame(resolved.sparkSession, unified_template(role, {}, spec)), \
            unified_template(role, {}, spec), UNIFIED_ORDER
    df = reduce(lambda a, b: a.unionByName(b), frames)
    if time_col is not None:  # NaT travels as int64's minimum: a long without nulls, read back exactly
        df = df.withColumn(time_col, F.coalesce(F.col(time_col), F.lit(_MIN)))
    df = df.localCheckpoint(eager=True)
    cats = [c for c in ["source", *UNIFIED_COLUMNS[role]] if c in CATEGORY_COLUMNS]
    row = df.agg(*[F.collect_set(c).alias(c) for c in cats]).collect()[0]
    categories = {c: sorted_categories(list(row[c])) for c in cats}
    with_nulls = _masked_nulls(tables, templates, [n for n, _ in parts])
    template = unified_template(role, {n: templates[n] for n, _ in parts}, spec, with_nulls, categories)
    # an object column of booleans or numbers (a missing value in a nullable column, or a source
    # without the column): pandas writes the values' type, so does the writer task
    types = {f.name: f.dataType for f in df.schema.fields}
    template.attrs[ARROW_TYPES] = {c: to_arrow_type(types[c]) for c in template.columns
                                   if template[c].dtype == object and not isinstance(types[c], T.StringType)}
    # NA as the embedded table holds it (a nullable column's values, or a column no source has)
    template.attrs[NA_VALUES] = {c: pd.NA for c in template.columns if template[c].dtype == object}
    return df, template, UNIFIED_ORDER


def _empty_frame(spark: SparkSession, template: pd.DataFrame) -> DataFrame:
    """A Spark frame of no row with the template's columns (as strings) and the write order."""
    schema = T.StructType([T.StructField(c, T.StringType()) for c in template.columns] +
                          [T.StructField(c, T.LongType()) for c in (*UNIFIED_ORDER, "number")])
    return spark.createDataFrame([], schema)


# -- profiles -------------------------------------------------------------------------------------

def latest_value(value: Column) -> Column:
    """The survivorship rule as one aggregate over a person's records (``time_ns``, ``row`` and
    ``value`` columns): the value of the latest record that has one (missing times count as the
    oldest; equal times: the first row), as :func:`omni.unify.build_profiles` picks it. Null when
    no record has a value."""
    key = F.struct(F.coalesce(F.col("time_ns"), F.lit(_MIN)).alias("t"), (-F.col("row")).alias("r"),
                   value.alias("v"))
    return F.max(F.when(value.isNotNull(), key))["v"]


def _order_columns(orders: DataFrame) -> DataFrame:
    """``channel_pref``, ``top_category`` (the most frequent label among the paid orders; ties: the
    first label in sort order; a missing value is the label :data:`omni.unify.MISSING_LABEL`) and
    ``channel_mix`` per number of the people with a paid order: two aggregations."""
    paid = orders.where(F.col("status").cast("string") == PAID_STATUS)
    labels = {"channel": "channel_pref", "category": "top_category"}
    pairs = F.explode(F.array(*[F.struct(F.lit(c).alias("kind"),
                                         F.coalesce(F.col(c).cast("string"), F.lit(MISSING_LABEL)).alias("lab"))
                                for c in labels]))
    counted = (paid.select("number", pairs.alias("p")).groupBy("number", F.col("p.kind").alias("kind"),
                                                             F.col("p.lab").alias("lab")).count())
    is_ch = F.col("kind") == "channel"
    agg = counted.groupBy("number").agg(
        *[F.min(F.when(F.col("kind") == c, F.struct((-F.col("count")).alias("c"), F.col("lab"))))["lab"].alias(out)
          for c, out in labels.items()],
        F.sum(F.when(is_ch, F.col("count"))).alias("n_paid"),
        F.sum(F.when(is_ch & (F.col("lab") != STORE_CHANNEL), F.col("count")).otherwise(0)).alias("n_online"))
    mix = (F.when(F.col("n_online") == F.col("n_paid"), F.lit(CHANNEL_MIX[1]))
           .when(F.col("n_online") == 0, F.lit(CHANNEL_MIX[2])).otherwise(F.lit(CHANNEL_MIX[3])))
    return agg.select("number", "channel_pref", mix.alias("channel_mix"), "top_category")


def _derive(ref_year: int, columns: list[str]):
    """The body of the ``mapInPandas`` that adds ``name_masked``, ``age_band`` and ``city_tier``
    by the embedded functions (per batch: each is a function of one value) and drops ``name``.
    An attribute no source has is a column of nulls here, as it is in the embedded profiles."""

    def run(batches):
        for b in batches:
            if "name_masked" in columns:
                name = b["name"].astype(object)
                masked = mask_name(name.where(name.notna(), None).astype("string"))
                b["name_masked"] = masked.astype(object).where(masked.notna(), None)
            bands = age_band(pd.to_numeric(b["birth_year"], errors="coerce").astype("Int64"), int(ref_year))
            b["age_band"] = bands.astype(object).where(bands.notna(), None)
            city = b["city"].astype(object)
            tiers = city_tier(city.where(city.notna(), np.nan))
            b["city_tier"] = tiers.astype(object).where(tiers.notna(), None)
            yield b[columns]

    return run


def _candidates(tables: Mapping[str, DataFrame], templates: Mapping[str, pd.DataFrame], present: list[str]
                ) -> dict[str, list[tuple[str, str]]]:
    """Per profile attribute, its candidate (source, column) pairs that exist, in order of trust."""
    out = {}
    for attr, cands in PROFILE_ATTRIBUTES.items():
        out[attr] = [(s, c) for s, c in cands if s in tables and s in present and c in templates[s].columns]
        for s, c in out[attr] if attr in ANY_TRUE_ATTRIBUTES else ():
            if not pd.api.types.is_bool_dtype(templates[s][c].dtype):
                raise DataContractError(f"source {s!r}: column {c!r} is not boolean (true/false) but "
                                        f"{templates[s][c].dtype} on the Spark engine",
                                        hint="declare the column with type bool in raw/sources.yaml")
    return out


def build_profiles_spark(spark: SparkSession, tables: Mapping[str, DataFrame],
                         templates: Mapping[str, pd.DataFrame], resolved: DataFrame, names: list[str],
                         present: list[str], as_of: pd.Timestamp | None = None, orders: DataFrame | None = None,
                         quarantined: QuarantinedOptOuts | None = None) -> tuple[DataFrame, pd.DataFrame, str, int]:
    """One golden record per OneID on Spark (:func:`omni.unify.build_profiles`, then
    :func:`omni.consent.apply_quarantined_opt_outs`).

    Every record contributes one row (its source, time, row and, for the sources that are
    candidates of an attribute, the candidate columns): one aggregation per OneID number gives the
    first and last seen, the counts, each candidate's surviving value (:func:`latest_value`) and
    the any-true attributes; the paid orders give the order columns (:func:`_order_columns`).

    Parameters
    ----------
    spark : SparkSession
    tables, templates : mapping
        Source -> staged columns (Spark) and their zero-row pandas template.
    resolved : DataFrame
        ``src``, ``row``, ``record_key``, ``time_ns``, ``number`` of every resolved record.
    names : list of str
        The record sources (``src`` is a position in it).
    present : list of str
        The sources with resolved records.
    as_of : Timestamp, optional
        Reference date for age bands (default: the latest record).
    orders : DataFrame, optional
        The unified orders table on Spark, with ``number``.
    quarantined : QuarantinedOptOuts, optional
        Opt-outs of quarantined rows.

    Returns
    -------
    DataFrame, template, order, opt_outs_from_quarantine
    """
    present = sorted(present)
    cands = _candidates(tables, templates, present)
    slots = [(attr, k, s, c) for attr, cs in cands.items() for k, (s, c) in enumerate(cs)]
    recs = resolved.select("src", "row", "time_ns", "number")
    parts = []
    for s in present:  # the records of each source, with the columns it is a candidate for
        mine = [(f"_{attr}_{k}", c) for attr, k, src, c in slots if src == s]
        r = recs.where(F.col("src") == names.index(s))
        if mine:
            r = r.join(tables[s].select("row", *{c for _, c in mine}), "row")
        parts.append((r, dict(mine)))
    kinds = {slot: tables[s].schema[c].dataType for attr, k, s, c in slots for slot in [f"_{attr}_{k}"]}
    rows = reduce(lambda a, b: a.unionByName(b), [
        r.select("number", "src", "row", "time_ns",
                 *[(F.col(mine[slot]) if slot in mine else F.lit(None).cast(kind)).alias(slot)
                   for slot, kind in kinds.items()])
        for r, mine in parts])
    aggs = [F.min("time_ns").alias("first_seen"), F.max("time_ns").alias("last_seen"),
            F.count(F.lit(1)).alias("n_records"),
            *[F.sum((F.col("src") == names.index(s)).cast("long")).alias(f"n_{s}") for s in present]]
    for attr, cs in cands.items():
        slot_cols = [F.col(f"_{attr}_{k}") for k in range(len(cs))]
        if attr in ANY_TRUE_ATTRIBUTES:
            said = reduce(lambda x, y: x | y, [F.coalesce(c, F.lit(False)) for c in slot_cols], F.lit(False))
            aggs.append(F.coalesce(F.bool_or(said), F.lit(False)).alias(attr))  # any record says true
            continue
        if not cs:
            aggs.append(F.lit(None).cast("string").alias(attr))
            continue
        numeric = all(pd.api.types.is_numeric_dtype(templates[s][c].dtype)
                      and not pd.api.types.is_bool_dtype(templates[s][c].dtype) for s, c in cs)
        value = F.coalesce(*[latest_value(c) for c in slot_cols])  # the most trusted source with a value
        aggs.append((value.cast("double") if numeric else value).alias(attr))
    prof = rows.groupBy("number").agg(*aggs).withColumns(
        {c: F.coalesce(F.col(c), F.lit(_MIN)) for c in ("first_seen", "last_seen")})
    with_orders = orders is not None and not orders.isEmpty()
    if with_orders:
        prof = prof.join(_order_columns(orders), "number", "left").withColumn(
            "channel_mix", F.coalesce(F.col("channel_mix"), F.lit(CHANNEL_MIX[0])))
    new = 0
    keys = quarantined.rows["record_key"].dropna() if quarantined is not None else pd.Series([], dtype=object)
    if len(keys) and "marketing_opt_out" in prof.columns:
        k = spark.createDataFrame(pd.DataFrame({"record_key": keys.astype(object).to_numpy()}),
                                  "record_key string").distinct()
        who = resolved.join(F.broadcast(k), "record_key").select("number").distinct().withColumn("_q", F.lit(True))
        prof = prof.join(who, "number", "left").localCheckpoint(eager=True)
        new = prof.where(F.col("_q") & ~F.col("marketing_opt_out")).count()
        prof = prof.withColumn("marketing_opt_out", F.col("marketing_opt_out") | F.coalesce(F.col("_q"), F.lit(False))) \
            .drop("_q")
    if as_of is not None:
        ref_year = as_of.year
    else:
        latest = resolved.agg(F.max("time_ns")).collect()[0][0]
        ref_year = pd.Timestamp(latest if latest is not None else pd.NaT).year
    template = profiles_template(templates, present, with_orders)
    prof = prof.withColumn("oneid", format_oneid_col(F.col("number")))
    kept = [f for f in prof.schema.fields if f.name in template.columns or f.name == "number"]
    derived = [T.StructField(c, T.StringType()) for c in ("name_masked", "age_band", "city_tier")
               if c in template.columns and c not in prof.columns]
    schema = T.StructType(kept + derived)
    prof = prof.mapInPandas(_derive(ref_year, [f.name for f in schema.fields]), schema)
    return prof.localCheckpoint(eager=True), template, "number", int(new)


def unify_outputs(spark: SparkSession, spec: Any, inputs: Any, resolved: DataFrame, names: list[str],
                  as_of: pd.Timestamp | None = None) -> SparkUnified:
    """The four unified tables and the profiles of a Spark resolution, on Spark.

    Parameters
    ----------
    spark : SparkSession
    spec : DatasetSpec
    inputs : SparkInputs
        The loaded sources (:func:`omni.spark.load.load_inputs`): their staged columns, templates
        and the quarantined rows' opt-outs. The returned frames no longer read its staging folder.
    resolved : DataFrame
        ``src``, ``row``, ``record_key``, ``time_ns``, ``number`` of every resolved record
        (:attr:`omni.spark.pipeline.SparkOutputs.resolved`).
    names : list of str
        The record sources.
    as_of : Timestamp, optional
        The end of the as-of month (the age bands' reference; default: the latest record).

    Returns
    -------
    SparkUnified
    """
    present_src = {int(r[0]) for r in resolved.select("src").distinct().collect()}
    present = [n for i, n in enumerate(names) if i in present_src]
    tables = {n: inputs.table_frame(spark, n) for n in present}
    templates = inputs.templates
    out = SparkUnified()
    for role in UNIFIED_COLUMNS:
        out.frames[role] = unified_table_spark(role, spec, tables, templates, resolved, names, set(present))
    orders = out.frames["orders"][0]
    prof, template, order, new = build_profiles_spark(spark, tables, templates, resolved, names, present, as_of,
                                                      orders, inputs.opt_outs)
    out.frames["profiles"] = (prof, template, order)
    out.opt_outs_from_quarantine = new
    return out
