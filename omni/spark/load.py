"""Reading the ``sources.yaml`` contract on Spark: one Spark task per source file runs the
embedded loader and normalization.

Why not Spark's own CSV reader with the casts applied per partition: the embedded loader
(:mod:`omni.io.read`) counts every CSV file's records independently of the parser, works out
quoted values that span lines, quarantines a line opened by an unbalanced quote and reads the
lines it swallowed again, detects mojibake and truncated last lines, and numbers every row by its
line in the file. Those checks need the whole file in order; a split of the file into partitions
would cut quoted values and lose the row numbers, and the duplicate-key quarantine needs every
row of the source. Rewriting them for Spark would be a second copy of every rule. So a task of
the Spark job loads one source with :func:`omni.io.load_source` (read, cast, validate,
quarantine: the one copy of those rules), checks its counts reconcile (rows in = accepted +
quarantined), normalizes its identifiers with :func:`omni.normalize.link_table` (the one copy of
the normalization) and writes three Parquet files to the staging folder:

- ``ids/<source>.parquet``: the lean identifier table of the source plus ``ord`` (the row's
  position in the embedded engine's stacked table, which orders value codes);
- ``records/<source>.parquet``: ``src`` (position of the source among the record sources),
  ``row``, ``record_key``, ``time_ns`` (the record time, local, as int64 nanoseconds; null: none);
- ``tables/<source>.parquet``: the columns the unified tables and profiles read
  (:func:`omni.unify.output_columns`) as Spark reads them (:func:`spark_table`: ``row``, datetimes
  as int64 nanoseconds, categoricals as their values), with ``templates/<source>.parquet``, zero
  rows of their pandas dtypes; and ``quasi/<source>.parquet`` with the probabilistic stage.

The sources are loaded in parallel (one task each, largest file first); the identifier and record
tables are then read by Spark from the staging folder and everything downstream (value codes,
shared values, components, rules) runs on Spark DataFrames. The unit of parallelism of this step is
the file: a source of one huge file is loaded by one task (a cluster's executor needs memory for
that file, as the embedded engine does).

Paths: the staging folder must be visible to the driver and to every executor (local disk in
``local[...]`` mode; a shared mount such as ``/dbfs/...`` or NFS on a cluster: ``staging=``). Source
files are read by the tasks from local (or mounted) paths, or, with ``raw_uri=``, from any Hadoop
file system Spark is configured for (``hdfs://``, ``s3a://``, ``file://``): Spark reads the bytes
of each file (``binaryFiles``) and the task hands them to the same embedded loader through a local
temporary file (see docs/scale_out.md).
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession

from omni.consent import CONSENT_COLUMNS, QuarantinedOptOuts, quarantined_opt_outs
from omni.core.errors import OmniError
from omni.io import load_source
from omni.io.errors import DataContractError
from omni.io.spec import DatasetSpec
from omni.normalize import link_table
from omni.oneid.match_features import concat_quasi_fields, quasi_fields
from omni.oneid.state import as_datetime
from omni.unify import output_columns, record_keys, record_time_column, source_roles

__all__ = ["ORD_SHIFT", "SparkInputs", "load_inputs", "record_sources", "source_uris", "spark_table", "uri_stamp"]

#: ``ord`` of an identifier row = source position << ORD_SHIFT + row position in its source's table.
ORD_SHIFT = 40

#: Explicit Parquet schemas of the staged tables (a column that is null in one source must not
#: become another type there: Spark reads the files of all sources as one table).
_IDS_SCHEMA = pa.schema([("src", pa.int32()), ("row", pa.int64()), ("ord", pa.int64()), ("id_type", pa.string()),
                         ("raw", pa.string()), ("value", pa.string()), ("valid", pa.bool_()),
                         ("reason", pa.string())])
_RECORDS_SCHEMA = pa.schema([("src", pa.int32()), ("row", pa.int64()), ("record_key", pa.string()),
                             ("time_ns", pa.int64())])
_COUNTS_SCHEMA = ("source string, rows_in long, accepted long, quarantined long, file_records long, "
                  "seconds double, error_module string, error_class string, error string, hint string")


def record_sources(spec: DatasetSpec) -> list[str]:
    """Sources whose rows are person records: with identifiers or a unified-table role, and a key
    (as :meth:`omni.workspace.Workspace._record_sources`)."""
    roles = source_roles(spec)
    return [name for name, s in spec.sources.items() if (s.identifiers or name in roles) and s.key]


@dataclass
class SparkInputs:
    """What a Spark resolution runs on.

    Attributes
    ----------
    ids : DataFrame (Spark)
        The lean identifier table of every record source: ``src``, ``row``, ``ord``, ``id_type``,
        ``raw``, ``value``, ``valid``, ``reason``.
    records : DataFrame (Spark)
        ``src``, ``row``, ``record_key``, ``time_ns``.
    names : list of str
        The record sources, in spec order (``src`` is a position in it).
    templates : dict of str to pandas DataFrame
        Zero rows of the columns of each source that the unified tables and profiles read, with
        their pandas dtypes (the data stays in the staging folder: :meth:`table_frame`).
    quasi : pandas DataFrame or None
        The quasi table of the probabilistic stage (None without it).
    counts : pandas DataFrame
        Per source: ``rows_in``, ``accepted``, ``quarantined``, ``file_records``, ``seconds``.
    staging : Path
        The staging folder (removed by :meth:`close`).
    opt_outs : QuarantinedOptOuts
        The opt-outs of quarantined rows of the record sources (:func:`omni.consent.quarantined_opt_outs`,
        found by the task that loaded each source; ``rows`` only).
    """

    ids: DataFrame
    records: DataFrame
    names: list[str]
    templates: dict[str, pd.DataFrame]
    quasi: pd.DataFrame | None
    counts: pd.DataFrame
    staging: Path
    opt_outs: QuarantinedOptOuts | None = None
    owned: bool = field(default=True, repr=False)

    def quasi_frame(self, spark: SparkSession) -> DataFrame | None:
        """The staged quasi table as a Spark DataFrame (``record_key``, ``value``, ``valid``,
        ``field``), for the probabilistic stage on Spark; None without it."""
        folder = self.staging / "quasi"
        if not any(folder.glob("*.parquet")):
            return None
        return spark.read.parquet(str(folder)).select("record_key", "value", "valid", "field")

    def table_frame(self, spark: SparkSession, name: str) -> DataFrame:
        """The staged columns of source ``name`` as a Spark DataFrame (:func:`spark_table`:
        ``row``, the source's position in its table, then the columns of its template)."""
        return spark.read.parquet(str(self.staging / "tables" / f"{name}.parquet"))

    def close(self) -> None:
        """Remove the staging folder (when this run created it)."""
        if self.owned:
            shutil.rmtree(self.staging, ignore_errors=True)


def _load_task(spec: DatasetSpec, names: list[str], staging: str, with_quasi: bool):
    """The body of the Spark tasks: load, validate and normalize the sources of a partition."""

    def run(batches):
        for batch in batches:
            for name in batch["source"]:
                yield _load_one(spec, names, staging, with_quasi, str(name))

    return run


def _load_one(spec: DatasetSpec, names: list[str], staging: str, with_quasi: bool, name: str) -> pd.DataFrame:
    out = {"source": [name], "rows_in": [0], "accepted": [0], "quarantined": [0], "file_records": [None],
           "seconds": [0.0], "error_module": [None], "error_class": [None], "error": [None], "hint": [None]}
    t0 = time.perf_counter()
    try:
        ls = load_source(spec, name)
        t = ls.table
        i = names.index(name)
        stage = Path(staging)
        sspec = spec.sources[name]
        if sspec.identifiers:
            lt = link_table({name: t}, spec, sources=[name], encode=False)
            ids = pd.DataFrame({
                "src": np.full(len(lt), i, dtype=np.int32),
                "row": lt["row"].to_numpy(np.int64),
                "ord": (np.int64(i) << np.int64(ORD_SHIFT)) + np.arange(len(lt), dtype=np.int64),
                "id_type": lt["id_type"].astype(str).to_numpy(dtype=object),
                "raw": lt["raw"].astype(object).where(lt["raw"].notna(), None).to_numpy(dtype=object),
                "value": lt["value"].astype(object).where(lt["value"].notna(), None).to_numpy(dtype=object),
                "valid": lt["valid"].to_numpy(bool),
                "reason": lt["reason"].astype(object).where(lt["reason"].notna(), None).to_numpy(dtype=object),
            })
            pq.write_table(pa.Table.from_pandas(ids, schema=_IDS_SCHEMA, preserve_index=False),
                           stage / "ids" / f"{name}.parquet")
        tc = record_time_column(sspec)
        times = (as_datetime(t[tc]).astype("int64") if tc in t.columns else np.full(len(t), np.iinfo(np.int64).min))
        rec = pd.DataFrame({
            "src": np.full(len(t), i, dtype=np.int32),
            "row": np.arange(len(t), dtype=np.int64),
            "record_key": record_keys(name, t, sspec.key).astype(object).to_numpy(dtype=object),
            "time_ns": pd.array(times, dtype="Int64"),
        })
        rec.loc[times == np.iinfo(np.int64).min, "time_ns"] = pd.NA  # NaT: no record time
        pq.write_table(pa.Table.from_pandas(rec, schema=_RECORDS_SCHEMA, preserve_index=False),
                       stage / "records" / f"{name}.parquet")
        out_cols = t[output_columns(spec, name)]
        pq.write_table(spark_table(out_cols), stage / "tables" / f"{name}.parquet")
        out_cols.iloc[:0].to_parquet(stage / "templates" / f"{name}.parquet", index=False)
        del out_cols
        if with_quasi and sspec.quasi_identifiers:
            quasi_fields({name: t}, spec).to_parquet(stage / "quasi" / f"{name}.parquet", index=False)
        if any(c in sspec.columns for c in CONSENT_COLUMNS) and len(ls.quarantine):
            # opt-outs of quarantined duplicates, read from the file this task holds (the consent rule)
            own = dataclasses.replace(spec, sources={name: sspec})
            quarantined_opt_outs(own, ls.quarantine).rows.to_parquet(stage / "optouts" / f"{name}.parquet",
                                                                     index=False)
        out.update(rows_in=[ls.rows_in], accepted=[ls.accepted], quarantined=[ls.quarantined],
                   file_records=[ls.file_records])
    except (OmniError, ValueError) as err:  # expected errors travel back to the driver, one line
        out.update(error_module=[type(err).__module__], error_class=[type(err).__qualname__],
                   error=[getattr(err, "message", str(err))], hint=[getattr(err, "hint", None)])
    out["seconds"] = [time.perf_counter() - t0]
    return pd.DataFrame(out)


def spark_table(table: pd.DataFrame) -> pa.Table:
    """A source table's columns as Spark reads them back exactly: ``row`` (the position in the
    table, int64) first, datetimes as int64 nanoseconds (null: NaT; Spark's timestamps hold
    microseconds and it does not read Parquet's nanosecond timestamps), categoricals as their
    values, a column with no value as strings (Spark cannot read Parquet's null type)."""
    cols: dict[str, pa.Array] = {"row": pa.array(np.arange(len(table), dtype=np.int64))}
    for c in table.columns:
        s = table[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(s.cat.categories.dtype)
        if s.dtype.kind == "M" and getattr(s.dtype, "tz", None) is None:
            ns = s.to_numpy(dtype="datetime64[ns]").view(np.int64)
            cols[c] = pa.array(ns, mask=s.isna().to_numpy())
            continue
        arr = pa.array(s, from_pandas=True)
        cols[c] = arr.cast(pa.string()) if pa.types.is_null(arr.type) else arr
    return pa.table(cols)


def _raise(row: pd.Series) -> None:
    """Raise on the driver the error a task caught (same class, message and hint)."""
    try:
        cls = getattr(importlib.import_module(row["error_module"]), row["error_class"])
    except (ImportError, AttributeError):
        cls = DataContractError
    if isinstance(cls, type) and issubclass(cls, OmniError):
        raise cls(row["error"], hint=row["hint"])
    raise cls(row["error"])


def _read_stage(folder: Path, names: list[str]) -> dict[str, pd.DataFrame]:
    with pd.option_context("mode.string_storage", "pyarrow"):
        return {n: pd.read_parquet(folder / f"{n}.parquet") for n in names if (folder / f"{n}.parquet").exists()}


def _bytes_task(spec: DatasetSpec, names: list[str], staging: str, with_quasi: bool, where: dict[str, str]):
    """The body of the Spark tasks over ``binaryFiles``: each file's bytes go to a local
    temporary folder under the source's file name and are loaded by the embedded loader
    (:func:`_load_one`), so encodings, quarantine and row numbers are the same rules."""

    def run(pairs):
        for uri, content in pairs:
            name = where.get(uri) or where.get(_plain_path(uri))
            if name is None:  # pragma: no cover - binaryFiles names the files it was given
                raise RuntimeError(f"binaryFiles returned a file that was not asked for: {uri}")
            tmp = Path(tempfile.mkdtemp(prefix="omni-src-"))
            try:
                local = tmp / spec[name].file
                local.parent.mkdir(parents=True, exist_ok=True)
                local.write_bytes(content)
                del content
                out = _load_one(dataclasses.replace(spec, path=tmp / "sources.yaml"), names, staging, with_quasi,
                                name)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            yield out.iloc[0].to_dict()

    return run


def _plain_path(uri: str) -> str:
    """A URI's scheme and path without authority quirks (``file:/x`` and ``file:///x`` alike)."""
    u = urlparse(uri)
    return f"{u.scheme}:{os.path.normpath(u.path)}"


def source_uris(spark: SparkSession, spec: DatasetSpec, names: list[str], raw_uri: str) -> dict[str, tuple[str, int]]:
    """Each source's file under ``raw_uri`` (``hdfs://...``, ``s3a://...``, ``file://...``): its
    URI as the Hadoop file system qualifies it and its size.

    Raises
    ------
    DataContractError
        A missing file, with the embedded engine's message.
    """
    sc = spark.sparkContext
    jvm, conf = sc._jvm, sc._jsc.hadoopConfiguration()
    out = {}
    for n in names:
        uri = f"{raw_uri.rstrip('/')}/{spec[n].file}"
        path = jvm.org.apache.hadoop.fs.Path(uri)
        fs = path.getFileSystem(conf)
        if not fs.isFile(path):
            raise DataContractError(f"{spec[n].where}: file not found at {uri!r}")
        out[n] = (fs.makeQualified(path).toString(), int(fs.getFileStatus(path).getLen()))
    return out


def uri_stamp(spark: SparkSession, spec: DatasetSpec, raw_uri: str) -> bytes:
    """What identifies the source files under ``raw_uri`` for a cache key: each existing file's
    qualified URI, size and modification time (the files are not read)."""
    sc = spark.sparkContext
    jvm, conf = sc._jvm, sc._jsc.hadoopConfiguration()
    parts = [raw_uri]
    for n in spec.sources:
        path = jvm.org.apache.hadoop.fs.Path(f"{raw_uri.rstrip('/')}/{spec[n].file}")
        fs = path.getFileSystem(conf)
        if fs.isFile(path):
            st = fs.getFileStatus(path)
            parts.append(f"{n}\t{fs.makeQualified(path).toString()}\t{st.getLen()}\t{st.getModificationTime()}")
    return "\n".join(parts).encode("utf-8")


def load_inputs(spark: SparkSession, spec: DatasetSpec, *, probabilistic: bool = False,
                staging: str | Path | None = None, quasi_on_driver: bool = True,
                raw_uri: str | None = None) -> SparkInputs:
    """Load, validate and normalize every record source in Spark tasks (one per source).

    Parameters
    ----------
    spark : SparkSession
    spec : DatasetSpec
        The parsed contract.
    probabilistic : bool
        Also build the quasi table of the probabilistic stage.
    staging : path, optional
        A folder visible to the driver and the executors (default: a new temporary folder next
        to the dataset's cache, removed by :meth:`SparkInputs.close`).
    quasi_on_driver : bool
        Also read the quasi table into ``SparkInputs.quasi`` (pandas); the Spark stage reads it
        with :meth:`SparkInputs.quasi_frame` instead.
    raw_uri : str, optional
        Read the source files from this folder of a Hadoop file system (``hdfs://nn/brand/raw``,
        ``s3a://bucket/brand/raw``, ``file:///data/brand/raw``) instead of the folder of
        ``sources.yaml``: Spark reads each file's bytes (``binaryFiles``, with the session's
        Hadoop configuration and credentials) and the task loads them with the embedded loader.
        A file is one task and is held in its memory whole, as the embedded loader holds it.

    Returns
    -------
    SparkInputs

    Raises
    ------
    DataContractError
        A missing source file (checked on the driver before any task starts) or any file-level
        problem a task met (the same one-line error as the embedded engine's).
    """
    names = record_sources(spec)
    uris = source_uris(spark, spec, names, raw_uri) if raw_uri is not None else None
    for n in names if uris is None else []:  # the missing-file error before any task starts
        p = spec.file_path(n)
        if not p.is_file():
            raise DataContractError(f"{spec[n].where}: file not found at {str(p)!r}")
    owned = staging is None
    if staging is None:
        base = spec.raw_dir.parent / "processed"
        base.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".spark-stage-", dir=base))
    stage = Path(staging)
    for sub in ("ids", "records", "tables", "templates", "quasi", "optouts"):
        (stage / sub).mkdir(parents=True, exist_ok=True)
    sizes = ({n: uris[n][1] for n in names} if uris is not None else
             {n: spec.file_path(n).stat().st_size for n in names})
    order = sorted(names, key=lambda n: (-sizes[n], names.index(n)))  # largest file first
    if uris is not None:
        where = {}
        for n in names:
            where[uris[n][0]] = where[_plain_path(uris[n][0])] = n
        files = spark.sparkContext.binaryFiles(",".join(uris[n][0] for n in order), minPartitions=len(order))
        rows = files.mapPartitions(_bytes_task(spec, names, str(stage), probabilistic, where)).collect()
        counts = pd.DataFrame(rows, columns=[c.split()[0] for c in _COUNTS_SCHEMA.split(", ")])
    else:
        jobs = spark.createDataFrame(pd.DataFrame({"source": order})).repartition(len(order), "source") \
            if len(order) > 1 else spark.createDataFrame(pd.DataFrame({"source": order}))
        counts = jobs.mapInPandas(_load_task(spec, names, str(stage), probabilistic), _COUNTS_SCHEMA).toPandas()
    failed = counts[counts["error"].notna()]
    if len(failed):
        first = failed.assign(pos=failed["source"].map(names.index)).sort_values("pos").iloc[0]
        shutil.rmtree(stage, ignore_errors=True) if owned else None
        _raise(first)
    bad = counts[counts["rows_in"] != counts["accepted"] + counts["quarantined"]]
    if len(bad):  # an internal invariant, as in load_source
        raise RuntimeError(f"counts do not reconcile for source(s) {list(bad['source'])}")
    counts = counts.set_index("source").loc[names].reset_index()
    templates = _read_stage(stage / "templates", names)
    opt_outs = QuarantinedOptOuts.empty()
    if parts := list(_read_stage(stage / "optouts", names).values()):
        opt_outs.rows = pd.concat(parts, ignore_index=True)
    quasi = None
    if probabilistic and quasi_on_driver:
        parts = _read_stage(stage / "quasi", names)
        quasi = concat_quasi_fields([parts[n] for n in names if n in parts], list(spec.sources))
    ids = spark.read.parquet(str(stage / "ids"))
    records = spark.read.parquet(str(stage / "records"))
    return SparkInputs(ids=ids, records=records, names=names, templates=templates, quasi=quasi, opt_outs=opt_outs,
                       counts=counts.drop(columns=["error_module", "error_class", "error", "hint"]),
                       staging=stage, owned=owned)
