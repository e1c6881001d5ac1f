"""Frames that wait on disk while a larger step runs: written once, read back unchanged.

At 1M persons a resolution holds several GB of frames that its next step does not read (the
source tables while the probabilistic stage runs; the whole inputs while the previous month is
resolved). :func:`spill_frames` writes them as uncompressed Arrow files (a few seconds per GB,
mostly from the page cache) and :func:`read_spilled` gives back the same frames: values, dtypes
(Arrow strings stay Arrow strings, a categorical's categories keep their dtype), column order.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from omni.core.claims import pid_alive

__all__ = ["SPILL_ROWS", "read_spilled", "spill_frames", "spilled_rows", "sweep_orphans", "wait_spilled"]

#: Rows converted to Arrow and written at once (:func:`_write_plain`).
SPILL_ROWS = 4_000_000

#: folders being written on a thread (``spill_frames(..., background=True)``): their state
_pending: dict[Path, dict] = {}
#: queues a background write after the one before it (callers on several threads: one queue per folder)
_queue = threading.Lock()


def spill_frames(frames: Mapping[str, pd.DataFrame], under: Path | None, prefix: str = "spill",
                 background: bool = False, into: Path | None = None,
                 order: Sequence[str] | None = None) -> Path:
    """Write ``frames`` into a new hidden folder under ``under`` (created if needed).

    Parameters
    ----------
    frames : mapping of str to DataFrame
        Each with a default (range) index; the names become file names.
    under : Path
        Where the folder goes (the dataset's processed folder: the same disk as its caches).
    prefix : str
        The folder's name starts with ``.<prefix>-``.
    background : bool
        Write on a thread of its own and return at once, so that the caller computes while the
        disk works (at 1M persons a resolution's inputs are about 5 GB: some 15 s of writing).
        The thread lets go of each frame once it is written, so the caller may drop its own
        references at once. Writes into one folder from several threads go one after another,
        in the order of the calls. :func:`read_spilled` and :func:`wait_spilled` wait for the writing
        to end, and raise its error if it failed.
    into : Path, optional
        A folder this function made before: the frames are added to it (written after what is
        still being written there), so a caller can let go of each frame as soon as it is made.
        ``under`` and ``prefix`` are then not read.
    order : sequence of str, optional
        The order :func:`read_spilled` gives every frame of the folder back in, once these are
        written (all of its frames' names); default the order they were written in.

    Returns
    -------
    Path
        The folder, for :func:`read_spilled`.
    """
    if into is None:
        if under is None:
            raise ValueError("spill_frames needs the folder to write under, or one to add to (into=)")
        under.mkdir(parents=True, exist_ok=True)
        # the process's id in the name: a folder left by a killed run is found and removed (sweep_orphans)
        d = Path(tempfile.mkdtemp(prefix=f".{prefix}-{os.getpid()}-", dir=under))
    else:
        d = into
    todo = dict(frames)
    order = None if order is None else list(order)
    if not background:
        wait_spilled(d)
        _write_frames(todo, d, order)
        return d
    state: dict = {"done": threading.Event()}
    with _queue:
        before = _pending.get(d)  # still being written: these go after it, on their own thread
        _pending[d] = state

    def write() -> None:
        try:
            if before is not None:
                before["done"].wait()
                if "error" in before:
                    raise before["error"]
            _write_frames(todo, d, order)
        except BaseException as err:  # noqa: BLE001 - kept for the reader, which raises it
            state["error"] = err
        finally:
            state["done"].set()

    threading.Thread(target=write, name=f"omni-spill{d.name}", daemon=True).start()
    return d


#: a hidden working folder of one process: ``.<name>-<pid>-<mkdtemp's 8 characters>``
_WORKING = re.compile(r"^\..+-(\d+)-[a-z0-9_]{8}$")


def sweep_orphans(under: Path) -> list[str]:
    """Remove the hidden working folders under ``under`` left by processes that no longer run
    (a resolution killed by the system leaves its inputs and its half-written cache: GBs at 5M
    persons); return their names. Folders of running processes (their id in the name) are kept."""
    gone = []
    for d in sorted(under.iterdir()) if under.is_dir() else []:
        m = _WORKING.match(d.name)
        if m and d.is_dir() and int(m.group(1)) != os.getpid() and not pid_alive(int(m.group(1))):
            shutil.rmtree(d, ignore_errors=True)
            gone.append(d.name)
    return gone


def wait_spilled(d: Path) -> None:
    """Wait until the folder ``d`` of :func:`spill_frames` is written (at once when it was not
    written on a thread, or is done); raise the writing's error if it failed."""
    state = _pending.get(d)
    if state is None:
        return
    state["done"].wait()  # the last write queued for ``d``: it waited for the ones before it
    if _pending.get(d) is state:
        del _pending[d]
    if "error" in state:
        raise state["error"]


def _write_frames(frames: dict[str, pd.DataFrame], d: Path, order: list[str] | None = None) -> None:
    """Write ``frames`` into ``d`` (beside the frames already there), emptying the dict: each
    frame is let go once it is written."""
    import pyarrow as pa

    meta_file = d / "columns.pkl"
    # this process's own file, written by this function alone
    meta = pickle.loads(meta_file.read_bytes()) if meta_file.exists() else {"frames": [], "columns": {}}  # noqa: S301
    names = list(frames)
    columns = meta["columns"]
    rows = meta.get("rows", {})
    for name in names:
        df = frames.pop(name)
        # Arrow-backed columns (Arrow strings, ArrowDtype) go as they are and are wrapped again
        # on reading: pandas' metadata would make Python strings and categoricals of them
        backed = {c: "string" if isinstance(t, pd.StringDtype) else "arrow" for c, t in df.dtypes.items()
                  if isinstance(t, pd.ArrowDtype) or (isinstance(t, pd.StringDtype) and t.storage == "pyarrow")}
        plain = [c for c in df.columns if c not in backed]
        _write_plain(df, plain, d / f"{name}.arrow")
        _write_backed(pa.table({c: df[c].array.__arrow_array__() for c in backed}), d / f"{name}.backed.arrow")
        columns[name] = [(c, backed.get(c, "plain"), t) for c, t in df.dtypes.items()]
        rows[name] = len(df)
        del df
    names = [*meta["frames"], *(n for n in names if n not in meta["frames"])]
    if order is not None:
        if sorted(order) != sorted(names):
            raise ValueError(f"the order {order} does not name the spilled frames {names}")
        names = order
    # the dtypes as they were; this process's own file, read back by it alone
    meta_file.write_bytes(pickle.dumps({"frames": names, "columns": columns, "rows": rows}))


def _write_plain(df: pd.DataFrame, columns: list[str], path: Path) -> None:
    """The NumPy-backed ``columns`` of ``df`` as an Arrow file, :data:`SPILL_ROWS` rows at a
    time: Arrow copies what it converts, so a whole frame at once held a second copy of it until
    written (at 5M persons some 6 GB of identifiers and records beside the rules). A frame with
    Python-object columns goes at once (their type is inferred from all their values)."""
    import pyarrow as pa
    import pyarrow.feather as feather

    if any(df[c].dtype == object for c in columns):
        feather.write_feather(pa.Table.from_pandas(df, columns=columns, preserve_index=False), path,
                              compression="uncompressed")
        return
    schema = pa.Schema.from_pandas(df.iloc[:0][columns], preserve_index=False)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
        for s in range(0, max(len(df), 1), SPILL_ROWS):
            writer.write_table(pa.Table.from_pandas(df.iloc[s:s + SPILL_ROWS][columns], schema=schema,
                                                    preserve_index=False))


def _write_backed(table, path: Path) -> None:
    """Arrow columns as they are, chunks and dictionaries included, as an Arrow stream. Feather's
    file format unifies the dictionaries of a column's chunks first: for the identifier values
    at 5M persons (chunks sharing one dictionary of tens of millions of strings) that held GBs
    more for minutes. The stream writes a dictionary shared by chunks once, and a chunk's own
    dictionary as a replacement."""
    import pyarrow as pa

    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)


def spilled_rows(d: Path) -> dict[str, int]:
    """The number of rows of every frame :func:`spill_frames` wrote to ``d``, in their order,
    without reading them (waits for a folder still being written)."""
    wait_spilled(d)
    meta = pickle.loads((d / "columns.pkl").read_bytes())  # noqa: S301 - written by spill_frames
    return {n: int(meta["rows"][n]) for n in meta["frames"]}


def read_spilled(d: Path, remove: bool = True, which: Callable[[str], bool] | None = None,
                 columns: Mapping[str, Sequence[str]] | None = None) -> dict[str, pd.DataFrame]:
    """The frames :func:`spill_frames` wrote to ``d``, in their order; ``remove`` deletes the
    folder once read; ``which`` (a test on the frame names) reads only some of them; ``columns``
    (frame name -> column names) only some columns of those frames, in the frame's order (at 5M
    persons the record keys need the source tables' key columns, not the 4 GB of whole tables).
    A folder still being written (``background``) is waited for."""
    import pyarrow as pa
    import pyarrow.feather as feather

    wait_spilled(d)
    meta = pickle.loads((d / "columns.pkl").read_bytes())  # noqa: S301 - written by spill_frames
    frames = {}
    for n in meta["frames"]:
        if which is not None and not which(n):
            continue
        spec = meta["columns"][n]
        if columns is not None and n in columns:
            unknown = set(columns[n]) - {c for c, _, _ in spec}
            if unknown:
                raise KeyError(f"frame {n!r} spilled to {d} has no column {sorted(unknown)[0]!r}")
            spec = [col for col in spec if col[0] in set(columns[n])]
        kinds = {c: kind for c, kind, _ in spec}
        plain = feather.read_table(d / f"{n}.arrow", memory_map=False,
                                   columns=[c for c, k in kinds.items() if k == "plain"]).to_pandas()
        with pa.OSFile(str(d / f"{n}.backed.arrow")) as source:
            reader = pa.ipc.open_stream(source)
            wanted = [c for c, k in kinds.items() if k != "plain"]
            backed = (reader.read_all() if len(wanted) == len(reader.schema) else  # a batch at a time: only theirs kept
                      pa.Table.from_batches([b.select(wanted) for b in reader], schema=pa.schema(
                          [reader.schema.field(c) for c in wanted])))
        frames[n] = pd.DataFrame({c: (plain[c] if plain[c].dtype == t else plain[c].astype(t)).array
                                  if kind == "plain" else pd.arrays.ArrowStringArray(backed.column(c))
                                  if kind == "string" else pd.arrays.ArrowExtensionArray(backed.column(c))
                                  for c, kind, t in spec}, copy=False)
        del plain, backed
    if remove:
        shutil.rmtree(d, ignore_errors=True)
    return frames
