"""The deterministic OneID rules of :mod:`omni.oneid.rules` on Spark DataFrames.

Same rules, same order, same outcome as the embedded engine (the parity tests compare them):

1. :func:`mark_shared_values` needs global counts (distinct co-occurring values of each type per
   value, records per value): DataFrame joins and aggregations. The join of every edge with the
   partner edges of its record costs the sum over records of their identifiers squared (a record
   has a handful), never a value's records squared.
2. :func:`strong_components`: connected components of records <-> strong values
   (:mod:`omni.spark.components`).
3. :func:`split_over_limits` only ever looks inside one component at a time: the components over a
   type's limit are found with an aggregation, and each of them is split by the embedded rule
   itself (:func:`omni.oneid.rules.split_over_limits` on a small :class:`GraphState` of the
   component, ``applyInPandas`` grouped by component), with the global per-value figures it reads
   (co-occurrence, records per value) and the record times. One place for the rule.
4. :func:`join_bridging_values`: aggregations, then components of (component, bridging value)
   edges, then the limits again.
5. :func:`mark_unbound_accounts` and 6. :func:`attach_weak_values`: joins and aggregations, and
   components of the weak-only records.

Giant components: a component over a limit is split by one task holding its edges in memory. The
shared-value rule cuts the values that make giant components (kiosk devices, default numbers, a
value on more records than its type's ``max_records``) before any component exists, and the limit
split only receives components over a limit, so a task holds one suspicious person's records, not a
kiosk's; a component of millions of records would still be one task (and one NumPy graph): raise
``spark.executor.memory`` or lower ``max_records``. The other rules never collect a component.

Labels: a component is labelled by its smallest record position, so labels never need renumbering
between rules; the final cluster numbers (dense, in record order) are made from them at the end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from omni.oneid import rules as embedded
from omni.oneid.graph import unique_pairs
from omni.oneid.state import (
    HOW_ACCOUNT,
    HOW_NONE,
    HOW_STRONG,
    HOW_WEAK,
    REMOVAL_COLUMNS,
    STATUS_AMBIGUOUS,
    STATUS_BRIDGE,
    STATUS_OVER_LIMIT,
    STATUS_SHARED,
    STATUS_STRONG,
    STATUS_WEAK,
    GraphState,
)
from omni.spark.components import bipartite_labels
from omni.spark.graph import SparkGraph, by_type

__all__ = ["RULES", "attach_weak_values", "join_bridging_values", "mark_shared_values", "mark_unbound_accounts",
           "split_over_limits", "strong_components"]

_LINKING = (STATUS_STRONG, STATUS_BRIDGE)
_NAT = int(np.iinfo(np.int64).min)


def _checkpoint(df: DataFrame) -> DataFrame:
    """Cut the lineage (materialized by the first action that reads it: no job of its own)."""
    return df.localCheckpoint(eager=False)


def _linking_edges(g: SparkGraph) -> DataFrame:
    return g.edges.join(g.values.where(F.col("status").isin(*_LINKING)).select("val"), "val")


def _greatest(cols: list[str]):
    if not cols:
        return F.lit(0)
    return F.col(cols[0]) if len(cols) == 1 else F.greatest(*[F.col(c) for c in cols])


# ------------------------------------------------------------------------ 1. shared values


def mark_shared_values(g: SparkGraph) -> SparkGraph:
    """:func:`omni.oneid.rules.mark_shared_values`: co-occurrence counts by aggregation; adds the
    ``c<t>`` columns to ``g.values``."""
    m, config = g.masks, g.config
    partner_types = [i for i in range(g.n_types) if m.strong_type_mask[i] or m.weak_type_mask[i]]
    vt = g.values.select("val", "t")
    partners = (g.edges.join(vt.where(F.col("t").isin(*partner_types)), "val")
                .select("rec", F.col("val").alias("pval"), F.col("t").alias("pt")))
    pairs = (g.edges.join(partners, "rec").where(F.col("val") != F.col("pval"))
             .select("val", "pval", "pt").distinct())
    cooc = (pairs.groupBy("val").pivot("pt", list(range(g.n_types))).agg(F.count("pval"))
            if g.n_types else pairs.select("val").distinct())
    cols = [f"c{i}" for i in range(g.n_types)]
    cooc = cooc.select("val", *[F.col(str(i)).alias(f"c{i}") for i in range(g.n_types)])
    v = g.values.join(cooc, "val", "left").fillna(0, subset=cols)
    strong_max = _greatest([c for c, s in zip(cols, m.strong_cols, strict=True) if s])
    weak_max = _greatest([c for c, w in zip(cols, m.weak_type_mask, strict=True) if w])
    cap = by_type([int(x) for x in m.per_type(config.max_records)])
    why = (F.when(strong_max > config.max_cooccurring, 1).when(weak_max > config.max_cooccurring_weak, 2)
           .when(F.col("n_records") > cap, 3).otherwise(0))
    hit = (why > 0) & F.col("status").isin(STATUS_STRONG, STATUS_WEAK)
    names = F.array(*[F.lit(x) for x in embedded._SHARED_WHY[1:]])
    v = (v.withColumn("_why", why).withColumn("_hit", hit)
         .withColumn("status", F.when(F.col("_hit"), F.lit(STATUS_SHARED)).otherwise(F.col("status")))
         .withColumn("reason", F.when(F.col("_hit"), F.element_at(names, F.col("_why"))).otherwise(F.col("reason"))))
    v = _checkpoint(v)
    g.count("shared_values", v.where("_hit").count())
    g.values = v.drop("_why", "_hit")
    return g


# --------------------------------------------------------------------- 2. strong components


def strong_components(g: SparkGraph) -> SparkGraph:
    """Components of records <-> linking values: ``g.labels`` (smallest record of each)."""
    g.labels = _checkpoint(bipartite_labels(_linking_edges(g), g.n_rec))
    return g


# ------------------------------------------------------------------------ 3. profile limits

_SPLIT_SCHEMA = ("kind int, comp long, rec long, sub long, round int, val long, id_type string, "
                 "limit_type string, rule string, component_size long, rounds int")


def _split_component(types: list[str], config, n_types: int):
    """The embedded limit rule on one component (an ``applyInPandas`` function)."""

    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        comp = int(pdf["comp"].iloc[0])
        recs = np.unique(pdf["rec"].to_numpy(np.int64))
        vals = np.unique(pdf["val"].to_numpy(np.int64))
        rl, vl = unique_pairs(np.searchsorted(recs, pdf["rec"].to_numpy(np.int64)),
                              np.searchsorted(vals, pdf["val"].to_numpy(np.int64)), len(vals))
        per_val = pdf.drop_duplicates("val").set_index("val").loc[vals]
        per_rec = pdf.drop_duplicates("rec").set_index("rec").loc[recs]
        # int64 nanoseconds, NaT as int64's minimum (as GraphState.record_times reads them)
        times = pd.Series(per_rec["time_ns"].to_numpy(np.int64).view("datetime64[ns]"))
        state = GraphState.from_edges(rl, vl, len(recs), per_val["t"].to_numpy(np.int64), types, config,
                                      times=times)
        state.n_records_per_val = per_val["n_records"].to_numpy(np.int64)
        state.status = per_val["status"].to_numpy(np.int8)
        state.cooc = per_val[[f"c{i}" for i in range(n_types)]].to_numpy(np.int32).reshape(len(vals), n_types)
        state.labels = np.zeros(len(recs), dtype=np.int64)
        state = embedded.split_over_limits(state)
        rounds = int(state.counts.get("split_rounds", 0))
        out = [pd.DataFrame({"kind": 0, "comp": comp, "rec": recs, "sub": state.labels, "rounds": rounds})]
        rem = state.removals_frame()
        if len(rem):
            out.append(pd.DataFrame({"kind": 1, "comp": comp, "round": rem["round"].to_numpy(np.int32),
                                     "val": vals[rem["val"].to_numpy(np.int64)],
                                     "id_type": rem["id_type"].astype(str), "limit_type": rem["limit_type"].astype(str),
                                     "rule": rem["rule"].astype(str),
                                     "component_size": rem["component_size"].to_numpy(np.int64)}))
        res = pd.concat(out, ignore_index=True)
        for c, typ in (("kind", "int32"), ("comp", "Int64"), ("rec", "Int64"), ("sub", "Int64"), ("round", "Int32"),
                       ("val", "Int64"), ("component_size", "Int64"), ("rounds", "Int32")):
            res[c] = res[c].astype(typ) if c in res else pd.array([pd.NA] * len(res), dtype=typ)
        for c in ("id_type", "limit_type", "rule"):
            res[c] = res[c].astype(object) if c in res else None
        return res[["kind", "comp", "rec", "sub", "round", "val", "id_type", "limit_type", "rule",
                    "component_size", "rounds"]]

    return run


def split_over_limits(g: SparkGraph) -> SparkGraph:
    """:func:`omni.oneid.rules.split_over_limits`: the components over a type's limit are found
    by aggregation, and each is split by the embedded rule in a task of its own."""
    m = g.masks
    limits = [int(x) for x in m.per_type(g.config.max_per_profile)]
    link = _linking_edges(g).join(g.labels, "rec")
    comp_val = link.select(F.col("label").alias("comp"), "val").distinct().join(g.values.select("val", "t"), "val")
    over = (comp_val.groupBy("comp", "t").agg(F.count("*").alias("n"))
            .where(F.col("n") > by_type(limits)).select("comp").distinct())
    over = _checkpoint(over)
    if over.limit(1).count() == 0:
        return g
    cols = ["val", "t", "n_records", "status"] + [f"c{i}" for i in range(g.n_types)]
    data = (link.withColumnRenamed("label", "comp").join(over, "comp")
            .join(g.values.select(*cols), "val")
            .join(g.times.select("rec", F.coalesce("time_ns", F.lit(_NAT)).alias("time_ns")), "rec"))
    out = _checkpoint(data.groupBy("comp").applyInPandas(_split_component(g.types, g.config, g.n_types),
                                                         _SPLIT_SCHEMA))
    subs = out.where("kind = 0")
    new = subs.groupBy("comp", "sub").agg(F.min("rec").alias("label"))
    relabel = subs.join(new, ["comp", "sub"]).select("rec", "label")
    g.labels = _checkpoint(g.labels.join(relabel.select("rec"), "rec", "left_anti").unionByName(relabel))
    removed = out.where("kind = 1")
    rem = removed.select(*REMOVAL_COLUMNS).toPandas()
    rounds = int(subs.agg(F.max("rounds")).collect()[0][0] or 0)
    if rounds:
        g.count("split_rounds", rounds)
        g.count("removed_bridge", (rem["rule"] == "bridge").sum())
        g.count("removed_beyond_limit", (rem["rule"] == "beyond_limit").sum())
    if len(rem):
        g.removals.append(rem)
        hit = removed.select("val", F.concat(F.lit("profile_limit_"), F.col("limit_type")).alias("_why")).distinct()
        v = g.values.join(hit, "val", "left")
        g.values = _checkpoint(
            v.withColumn("status", F.when(F.col("_why").isNotNull(), F.lit(STATUS_OVER_LIMIT)).otherwise(F.col("status")))
            .withColumn("reason", F.coalesce(F.col("_why"), F.col("reason"))).drop("_why"))
    return g


# ---------------------------------------------------------------------- 4. bridging values


def join_bridging_values(g: SparkGraph) -> SparkGraph:
    """:func:`omni.oneid.rules.join_bridging_values`: bridging weak values seen with 2 to
    ``max_bridge_profiles`` strong components join them; then the limits again."""
    m, config = g.masks, g.config
    bridge_codes = m.type_codes(config.bridging_types)
    if not bridge_codes:
        return g
    in_comp = g.edges.join(g.values.where(F.col("status") == STATUS_STRONG).select("val"), "val").select("rec").distinct()
    bvals = g.values.where(F.col("t").isin(*bridge_codes) & (F.col("status") == STATUS_WEAK)).select("val")
    seen = (g.edges.join(bvals, "val").join(in_comp, "rec").join(g.labels, "rec")
            .select("val", "label").distinct().groupBy("val").agg(F.count("*").alias("n_b")))
    joins = _checkpoint(seen.where((F.col("n_b") >= 2) & (F.col("n_b") <= config.max_bridge_profiles)).select("val"))
    n_joins = joins.count()
    if not n_joins:
        return g
    v = g.values.join(joins.withColumn("_j", F.lit(True)), "val", "left")
    g.values = _checkpoint(
        v.withColumn("status", F.when(F.col("_j"), F.lit(STATUS_BRIDGE)).otherwise(F.col("status")))
        .withColumn("reason", F.when(F.col("_j"), F.lit("joins_profiles")).otherwise(F.col("reason"))).drop("_j"))
    g.count("bridge_values", n_joins)
    # components of (component label, bridging value) edges: labels are record positions, so the
    # merged label is again the smallest record of the merged component
    b_edges = g.edges.join(joins, "val")
    lab = (b_edges.join(g.labels, "rec", "left")
           .select(F.coalesce("label", "rec").alias("lab"), "val"))
    merged = bipartite_labels(lab, g.n_rec, rec="lab").withColumnRenamed("rec", "lab")
    members = _linking_edges(g).select("rec").distinct().join(g.labels, "rec", "left") \
        .select("rec", F.coalesce("label", "rec").alias("lab"))
    g.labels = _checkpoint(members.join(merged, "lab", "left")
                           .select("rec", F.coalesce("label", "lab").alias("label")))
    return split_over_limits(g)


# ----------------------------------------------------------------------- 5. unbound accounts


def mark_unbound_accounts(g: SparkGraph) -> SparkGraph:
    """:func:`omni.oneid.rules.mark_unbound_accounts`: ``g.how`` of every record and
    ``g.has_strong``."""
    m, config = g.masks, g.config
    account_types = m.type_codes(config.account_types)
    person_level = F.lit(True)
    if account_types:
        other = m.strong_type_mask.copy()
        other[account_types] = False
        cols = [F.col(f"c{i}") for i in range(g.n_types) if other[i] and m.strong_cols[i]]
        bound = (sum(cols[1:], cols[0]) > 0) if cols else F.lit(False)
        person_level = ~F.col("t").isin(*account_types) | bound
    g.has_strong = _checkpoint(_linking_edges(g).select("rec").distinct())
    strong = (g.edges.join(g.values.where(F.col("status") == STATUS_STRONG)
                           .select("val", person_level.alias("pl")), "val")
              .groupBy("rec").agg(F.max(F.col("pl").cast("int")).alias("person"),
                                  F.max((~F.col("pl")).cast("int")).alias("account")))
    recs = g.times.select("rec")
    how = (recs.join(strong, "rec", "left").join(g.has_strong.withColumn("hs", F.lit(1)), "rec", "left")
           .select("rec", F.when(F.col("person") == 1, HOW_STRONG).when(F.col("account") == 1, HOW_ACCOUNT)
                   .when(F.col("hs") == 1, HOW_WEAK).otherwise(HOW_NONE).alias("how")))
    g.how = _checkpoint(how)
    g.count("account_records", g.how.where(F.col("how") == HOW_ACCOUNT).count())
    return g


# -------------------------------------------------------------------------- 6. weak values


def attach_weak_values(g: SparkGraph) -> SparkGraph:
    """:func:`omni.oneid.rules.attach_weak_values`: weak values seen with exactly one strong
    component anchor to it, with two or more they are ambiguous; weak-only records are grouped
    through unambiguous weak values and join the one component their group reaches."""
    weak = g.edges.join(g.values.where(F.col("status") == STATUS_WEAK).select("val"), "val")
    anchored = (weak.join(g.has_strong, "rec").join(g.labels, "rec").select("val", "label").distinct()
                .groupBy("val").agg(F.count("*").alias("n"), F.min("label").alias("anchor")))
    anchored = _checkpoint(anchored)
    ambiguous = anchored.where(F.col("n") >= 2).select("val")
    anchor_of_val = anchored.where(F.col("n") == 1).select("val", "anchor")
    v = g.values.join(ambiguous.withColumn("_a", F.lit(True)), "val", "left")
    g.values = _checkpoint(
        v.withColumn("status", F.when(F.col("_a"), F.lit(STATUS_AMBIGUOUS)).otherwise(F.col("status")))
        .withColumn("reason", F.when(F.col("_a"), F.lit("weak_id_seen_with_several_profiles"))
                    .otherwise(F.col("reason"))).drop("_a"))
    g.count("ambiguous_weak_values", ambiguous.count())
    wo = _checkpoint(weak.join(g.has_strong, "rec", "left_anti").join(ambiguous, "val", "left_anti"))
    if wo.limit(1).count() == 0:
        return g
    grp = _checkpoint(bipartite_labels(wo, g.n_rec).withColumnRenamed("label", "grp"))
    reach = (wo.join(grp, "rec").join(anchor_of_val, "val").select("grp", "anchor").distinct()
             .groupBy("grp").agg(F.count("*").alias("n"), F.min("anchor").alias("target")))
    target = reach.where(F.col("n") == 1).select("grp", "target")
    weak_recs = _checkpoint(grp.join(target, "grp", "left")
                            .select("rec", F.coalesce("target", "grp").alias("label"),
                                    F.col("target").isNotNull().alias("joined")))
    n_join = weak_recs.where("joined").count()
    g.count("weak_records_attached", n_join)
    g.count("weak_records_grouped", weak_recs.count() - n_join)
    g.labels = _checkpoint(g.labels.join(weak_recs.select("rec"), "rec", "left_anti")
                           .unionByName(weak_recs.select("rec", "label")))
    g.how = _checkpoint(g.how.join(weak_recs.select("rec", F.lit(HOW_WEAK).alias("w")), "rec", "left")
                        .select("rec", F.coalesce("w", "how").alias("how")))
    return g


#: The rules in the order :func:`omni.spark.resolve.resolve_graph` runs them.
RULES = (mark_shared_values, strong_components, split_over_limits, join_bridging_values,
         mark_unbound_accounts, attach_weak_values)
