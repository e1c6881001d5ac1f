"""Writing a Spark resolution's outputs in the embedded cache's Parquet layout.

The embedded cache (:meth:`omni.workspace.Workspace._write_cache`) is one Parquet file per frame
(``record_oneid.parquet``, ``values.parquet``, ...) written by pandas: Arrow-backed strings,
categoricals with their full category list, the pandas schema metadata. The notebooks, ``omni
report`` and :class:`omni.workspace.Resolved` read those files (column by column, with row filters,
or through DuckDB). :func:`write_frame` writes a Spark DataFrame as such a file, so a
Spark-resolved dataset is read by the same code:

- the frame is sorted on Spark (range partitions, in parallel) and materialized;
- one Spark task then streams the sorted partitions, in order, through a pyarrow
  ``ParquetWriter`` with the embedded schema (the pandas dtypes of a zero-row template frame),
  about a million rows per row group. Nothing reaches the driver but the row count.

A file is written by one task (the partitions are coalesced into one, without a shuffle): the write
is sequential, but it holds one batch at a time, whatever the size of the frame. The path must be
visible to that task (the cache folder: local disk in ``local[...]`` mode, a shared mount such as
``/dbfs/...`` or NFS on a cluster, as for the loader's staging folder).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame

__all__ = ["ARROW_TYPES", "NA_VALUES", "ROW_GROUP_ROWS", "collect_frame", "conform", "order_keys", "schema_of", "write_frame"]

#: Rows per row group of a written file (batches are buffered up to this).
ROW_GROUP_ROWS = 1 << 20
#: ``template.attrs`` key: column -> the missing value of an object column as the embedded frame
#: holds it (``np.nan``, ``pd.NA``; default None). The written file is the same either way (a null).
NA_VALUES = "na_values"


def conform(batch: pd.DataFrame, template: pd.DataFrame) -> pd.DataFrame:
    """``batch`` with the columns and dtypes of ``template`` (a zero-row frame of the embedded
    frame's dtypes: categoricals carry their full category list).

    Raises
    ------
    ValueError
        When a value is not among a categorical column's categories (it would become null).
    """
    out = {}
    missing = template.attrs.get(NA_VALUES, {})
    for c in template.columns:
        dt = template[c].dtype
        s = batch[c]
        if isinstance(dt, pd.CategoricalDtype):
            cat = pd.Categorical(s.astype(object).where(s.notna(), None), dtype=dt)
            lost = np.asarray(cat.codes < 0) & s.notna().to_numpy()
            if lost.any():
                raise ValueError(f"column {c!r}: {int(lost.sum())} value(s) outside its categories")
            out[c] = cat
        elif pd.api.types.is_object_dtype(dt):
            out[c] = s.astype(object).where(s.notna(), missing.get(c)).to_numpy(dtype=object)
        elif isinstance(dt, pd.StringDtype):
            out[c] = s.astype(object).where(s.notna(), None).astype(dt).array
        elif dt.kind == "M":
            out[c] = pd.to_datetime(s).to_numpy(dtype=dt)
        else:
            out[c] = s.to_numpy(dtype=dt)
    return pd.DataFrame(out, columns=list(template.columns))


#: ``template.attrs`` key: column -> Arrow type of an object column that does not hold strings
#: (pandas infers the type from the values: a nullable boolean column with a missing value is an
#: object column of booleans and ``NA``, written as Arrow booleans).
ARROW_TYPES = "arrow_types"


def schema_of(template: pd.DataFrame) -> pa.Schema:
    """The Arrow schema (with the pandas metadata) pandas writes for a frame of ``template``'s
    dtypes holding data: object columns are strings (a zero-row frame would give them no type)
    unless ``template.attrs[ARROW_TYPES]`` names their type."""
    row = {}
    for c in template.columns:
        dt = template[c].dtype
        if isinstance(dt, pd.CategoricalDtype):
            row[c] = pd.Categorical(list(dt.categories[:1]) or [None], dtype=dt)
        elif pd.api.types.is_object_dtype(dt) or isinstance(dt, pd.StringDtype):
            row[c] = pd.array(["x"], dtype=dt)
        else:
            row[c] = np.zeros(1, dtype=dt)
    schema = pa.Schema.from_pandas(pd.DataFrame(row), preserve_index=False)
    for c, typ in template.attrs.get(ARROW_TYPES, {}).items():
        i = schema.get_field_index(c)
        schema = schema.set(i, schema.field(i).with_type(typ))
    return schema


def order_keys(order: str | Sequence[str]) -> list[str]:
    """The column or columns that give a frame's row order, as a list."""
    return [order] if isinstance(order, str) else list(order)


def _descends(first: list | None, keys: list[np.ndarray]) -> bool:
    """Whether rows given by their key columns (compared in turn) ever go down: from the row
    ``first`` (the previous batch's last keys, None: none) to the first row, or between rows."""
    if first is not None:
        keys = [np.r_[np.asarray([f], dtype=k.dtype), k] for f, k in zip(first, keys, strict=True)]
    if len(keys[0]) < 2:
        return False
    down = np.zeros(len(keys[0]) - 1, dtype=bool)
    tied = np.ones(len(keys[0]) - 1, dtype=bool)
    for k in keys:
        down |= tied & (k[1:] < k[:-1])
        tied &= k[1:] == k[:-1]
    return bool(down.any())


def _writer(path: str, template: pd.DataFrame, order: str | Sequence[str]):
    schema = schema_of(template)
    keys = order_keys(order)

    def run(batches):
        tmp = f"{path}.{uuid.uuid4().hex[:8]}.tmp"
        writer = pq.ParquetWriter(tmp, schema)
        rows, held, last = 0, [], None
        try:
            for b in batches:
                if not len(b):
                    continue
                key = [b[k].to_numpy() for k in keys]
                if _descends(last, key):
                    raise RuntimeError(f"{Path(path).name}: rows out of {order!r} order in the writer task")
                last = [k[-1] for k in key]
                held.append(conform(b, template))
                if sum(map(len, held)) >= ROW_GROUP_ROWS:
                    writer.write_table(pa.Table.from_pandas(pd.concat(held, ignore_index=True), schema=schema,
                                                            preserve_index=False))
                    rows += sum(map(len, held))
                    held = []
            if held or rows == 0:
                part = pd.concat(held, ignore_index=True) if held else template
                writer.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False))
                rows += len(part)
            writer.close()
            os.replace(tmp, path)
        except BaseException:
            writer.close()
            Path(tmp).unlink(missing_ok=True)
            raise
        yield pd.DataFrame({"rows": [rows]})

    return run


def write_frame(df: DataFrame, path: str | Path, template: pd.DataFrame, order: str | Sequence[str]) -> int:
    """Write a Spark DataFrame as one Parquet file of the embedded cache, sorted by ``order``.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        The template's columns and ``order`` (which is not written unless the template has it).
    path : path
        The file to write (replaced atomically; visible to the executors, see the module notes).
    template : pandas DataFrame
        Zero rows with the embedded frame's columns and dtypes.
    order : str or sequence of str
        A column whose values are unique and give the rows' order, or columns whose values
        together are unique (rows sorted by the first, then the next, ...).

    Returns
    -------
    int
        Rows written.
    """
    path = str(path)
    keys = order_keys(order)
    cols = list(dict.fromkeys([*template.columns, *keys]))
    ordered = df.select(*cols).orderBy(*keys).localCheckpoint(eager=True)  # sorted in parallel, once
    counts = (ordered.coalesce(1)
              .mapInPandas(_writer(path, template, order), "rows long").collect())
    if not Path(path).exists():  # a frame without partitions: no task ran
        template.to_parquet(path, index=False)
        return 0
    return int(sum(r["rows"] for r in counts))


def collect_frame(df: DataFrame, template: pd.DataFrame, order: str | Sequence[str]) -> pd.DataFrame:
    """A Spark DataFrame on the driver as the embedded engine holds the frame: the template's
    columns and dtypes, rows sorted by ``order`` (for a resolution that is not cached; small data)."""
    keys = order_keys(order)
    cols = list(dict.fromkeys([*template.columns, *keys]))
    pdf = df.select(*cols).toPandas().sort_values(keys, kind="stable").reset_index(drop=True)
    return conform(pdf, template) if len(pdf) else template.copy()
