"""The embedded analytical engine: SQL over cached Parquet files and in-memory frames (DuckDB).

A resolution at 1M persons is about 20 M records; as pandas frames the whole of it takes more than
10 GB, and a join of two such frames on string keys takes minutes. Analyses that need a large join
or aggregate (truth scoring, per-OneID counts) ask the engine instead: DuckDB reads only the
columns and row groups a query touches, runs on every core, and spills to disk above its memory
limit, so the answer comes back as a small frame. Everything else stays pandas.

The connection's settings are the one place for the engine's resource limits:

- ``memory_limit``: :data:`MEMORY_LIMIT` (``OMNI_ENGINE_MEMORY`` overrides it), so a query never
  takes the memory the notebooks' kernels need;
- ``threads``: every core (``OMNI_ENGINE_THREADS`` overrides it);
- ``temp_directory``: where the engine spills (the dataset's ``processed/.engine`` when given, else
  ``omni-duckdb`` in the system's temporary folder; DuckDB's own default is ``.tmp`` in the
  working directory, which a killed run at 5M persons left holding 13 GB).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["LINKAGE_MEMORY_LIMIT", "MEMORY_LIMIT", "connect", "lookup", "query"]

#: DuckDB's memory limit for one query (it spills to disk above it).
MEMORY_LIMIT = "3GB"
#: The memory limit of the probabilistic stage's DuckDB (Splink's model and scoring, the
#: comparison features): DuckDB's own default is 80 % of the machine, which at 1M persons let the
#: stage take the resolution's peak to 9.3 GB.
LINKAGE_MEMORY_LIMIT = "4GB"


def connect(temp_dir: str | Path | None = None, *, threads: int | None = None,
            preserve_order: bool = False, memory_limit: str | None = None):
    """A DuckDB connection with omni's resource limits (see the module notes).

    Parameters
    ----------
    temp_dir : path, optional
        Spill folder (created when needed); default ``omni-duckdb`` in the system's temporary
        folder (``tempfile.gettempdir()``), never the working directory.
    threads : int, optional
        Threads (default: ``OMNI_ENGINE_THREADS``, else every core).
    preserve_order : bool
        Keep insertion order in results without ORDER BY (DuckDB's default; costs memory).
    memory_limit : str, optional
        DuckDB's memory limit (``"4GB"``); default ``OMNI_ENGINE_MEMORY``, else
        :data:`MEMORY_LIMIT`.
    """
    import duckdb

    limit = os.environ.get("OMNI_ENGINE_MEMORY") or memory_limit or MEMORY_LIMIT
    con = duckdb.connect(config={"memory_limit": limit,
                                 "preserve_insertion_order": bool(preserve_order)})
    threads = threads or os.environ.get("OMNI_ENGINE_THREADS")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if temp_dir is None:
        import tempfile

        temp_dir = Path(tempfile.gettempdir()) / "omni-duckdb"  # DuckDB names its files per process
    Path(temp_dir).mkdir(parents=True, exist_ok=True)
    con.execute("SET temp_directory = ?", [str(temp_dir)])
    return con


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def query(sql: str, tables: Mapping[str, Path | str | pd.DataFrame], *,
          params: list | None = None, temp_dir: str | Path | None = None) -> pd.DataFrame:
    """Run ``sql`` with each entry of ``tables`` visible as a view of that name.

    Parameters
    ----------
    sql : str
        One SQL statement (DuckDB's dialect); ``?`` placeholders take ``params``.
    tables : mapping
        View name -> a Parquet file (read on demand: only the columns and row groups the query
        touches) or a DataFrame (read in place, not copied where DuckDB can avoid it).
    params : list, optional
        Values of the ``?`` placeholders.
    temp_dir : path, optional
        Spill folder.

    Returns
    -------
    DataFrame
        The result, as pandas.
    """
    con = connect(temp_dir)
    try:
        for name, t in tables.items():
            if isinstance(t, pd.DataFrame):
                con.register(name, t)
            else:
                con.register(name, con.read_parquet(str(t)))  # a lazy relation: read on demand
        return con.execute(sql, params or []).df()
    finally:
        con.close()


def lookup(keys: pd.Series, table: pd.DataFrame | Path | str, key: str, value: str, name: str,
           temp_dir: str | Path | None = None) -> np.ndarray:
    """``table[value]`` of each of ``keys`` (matched on ``table[key]``), as text.

    One join in the engine: with ``table`` a Parquet file only its two columns are read and only
    the rows of ``keys`` come back, so a small set of keys is looked up in a table of every record
    (20 M rows at 1M persons) without loading it.

    Parameters
    ----------
    keys : Series
        The keys to look up (compared as text).
    table : DataFrame or path
        The table (or its Parquet file) with columns ``key`` and ``value``.
    key, value : str
        Its key column and the column wanted.
    name : str
        The table's name, for the error.
    temp_dir : path, optional
        Spill folder.

    Returns
    -------
    ndarray of object
        ``value`` (as str) per key, aligned with ``keys``; NaN where ``table`` has no row for the
        key (or a missing value).

    Raises
    ------
    ValueError
        When ``table`` has more than one row for a key asked for.
    """
    k = pd.DataFrame({"pos": np.arange(len(keys), dtype=np.int64),
                      "k": pd.Series(keys).astype(str).to_numpy()})
    t = table[[key, value]] if isinstance(table, pd.DataFrame) else Path(table)
    got = query(f"SELECT k.pos, CAST(t.{_quote(value)} AS VARCHAR) AS v FROM k JOIN t ON k.k = t.{_quote(key)} "
                f"WHERE t.{_quote(value)} IS NOT NULL", {"k": k, "t": t}, temp_dir=temp_dir)
    pos = got["pos"].to_numpy(np.int64)
    counts = np.bincount(pos, minlength=len(k))  # rows per key asked for (no sort: O(rows))
    repeated = int((counts[counts > 1] - 1).sum())
    if repeated:
        raise ValueError(f"{name} has more than one row for {repeated} {key} value(s): a {key} must name one row")
    out = np.full(len(k), np.nan, dtype=object)
    out[pos] = got["v"].to_numpy(dtype=object)
    return out
