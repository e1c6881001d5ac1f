"""Frames that wait on disk while a larger step runs: written once, read back unchanged.

At 1M persons a resolution holds several GB of frames that its next step does not read (the
source tables while the probabilistic stage runs; the whole inputs while the previous month is
resolved). :func:`spill_frames` writes them as uncompressed Arrow files (a few seconds per GB,
mostly from the page cache) and :func:`read_spilled` gives back the same frames: values, dtypes
(Arrow strings stay Arrow strings, a categorical's categories keep their dtype), column order.
"""

from __future__ import annotations

import pickle
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

__all__ = ["read_spilled", "spill_frames", "wait_spilled"]

#: folders being written on a thread (``spill_frames(..., background=True)``): their state
_pending: dict[Path, dict] = {}


def spill_frames(frames: Mapping[str, pd.DataFrame], under: Path, prefix: str = "spill",
                 background: bool = False) -> Path:
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
        references at once. :func:`read_spilled` and :func:`wait_spilled` wait for the writing
        to end, and raise its error if it failed.

    Returns
    -------
    Path
        The folder, for :func:`read_spilled`.
    """
    under.mkdir(parents=True, exist_ok=True)
    d = Path(tempfile.mkdtemp(prefix=f".{prefix}-", dir=under))
    todo = dict(frames)
    if not background:
        _write_frames(todo, d)
        return d
    state: dict = {"done": threading.Event()}
    _pending[d] = state

    def write() -> None:
        try:
            _write_frames(todo, d)
        except BaseException as err:  # noqa: BLE001 - kept for the reader, which raises it
            state["error"] = err
        finally:
            state["done"].set()

    threading.Thread(target=write, name=f"omni-spill{d.name}", daemon=True).start()
    return d


def wait_spilled(d: Path) -> None:
    """Wait until the folder ``d`` of :func:`spill_frames` is written (at once when it was not
    written on a thread, or is done); raise the writing's error if it failed."""
    state = _pending.get(d)
    if state is None:
        return
    state["done"].wait()
    _pending.pop(d, None)
    if "error" in state:
        raise state["error"]


def _write_frames(frames: dict[str, pd.DataFrame], d: Path) -> None:
    """Write ``frames`` into ``d``, emptying the dict: each frame is let go once it is written."""
    import pyarrow as pa
    import pyarrow.feather as feather

    names = list(frames)
    columns = {}
    for name in names:
        df = frames.pop(name)
        # Arrow-backed columns (Arrow strings, ArrowDtype) go as they are and are wrapped again
        # on reading: pandas' metadata would make Python strings and categoricals of them
        backed = {c: "string" if isinstance(t, pd.StringDtype) else "arrow" for c, t in df.dtypes.items()
                  if isinstance(t, pd.ArrowDtype) or (isinstance(t, pd.StringDtype) and t.storage == "pyarrow")}
        plain = [c for c in df.columns if c not in backed]
        feather.write_feather(pa.Table.from_pandas(df, columns=plain, preserve_index=False), d / f"{name}.arrow",
                              compression="uncompressed")
        feather.write_feather(pa.table({c: df[c].array.__arrow_array__() for c in backed}),
                              d / f"{name}.backed.arrow", compression="uncompressed")
        columns[name] = [(c, backed.get(c, "plain"), t) for c, t in df.dtypes.items()]
        del df
    # the dtypes as they were; this process's own file, read back by it alone
    (d / "columns.pkl").write_bytes(pickle.dumps({"frames": names, "columns": columns}))


def read_spilled(d: Path, remove: bool = True, which: Callable[[str], bool] | None = None) -> dict[str, pd.DataFrame]:
    """The frames :func:`spill_frames` wrote to ``d``, in their order; ``remove`` deletes the
    folder once read; ``which`` (a test on the frame names) reads only some of them. A folder
    still being written (``background``) is waited for."""
    import pyarrow.feather as feather

    wait_spilled(d)
    meta = pickle.loads((d / "columns.pkl").read_bytes())  # noqa: S301 - written by spill_frames
    frames = {}
    for n in meta["frames"]:
        if which is not None and not which(n):
            continue
        plain = feather.read_table(d / f"{n}.arrow", memory_map=False).to_pandas()
        backed = feather.read_table(d / f"{n}.backed.arrow", memory_map=False)
        frames[n] = pd.DataFrame({c: (plain[c] if plain[c].dtype == t else plain[c].astype(t)).array
                                  if kind == "plain" else pd.arrays.ArrowStringArray(backed.column(c))
                                  if kind == "string" else pd.arrays.ArrowExtensionArray(backed.column(c))
                                  for c, kind, t in meta["columns"][n]}, copy=False)
        del plain, backed
    if remove:
        shutil.rmtree(d, ignore_errors=True)
    return frames
