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
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

__all__ = ["read_spilled", "spill_frames"]


def spill_frames(frames: Mapping[str, pd.DataFrame], under: Path, prefix: str = "spill") -> Path:
    """Write ``frames`` into a new hidden folder under ``under`` (created if needed).

    Parameters
    ----------
    frames : mapping of str to DataFrame
        Each with a default (range) index; the names become file names.
    under : Path
        Where the folder goes (the dataset's processed folder: the same disk as its caches).
    prefix : str
        The folder's name starts with ``.<prefix>-``.

    Returns
    -------
    Path
        The folder, for :func:`read_spilled`.
    """
    import pyarrow as pa
    import pyarrow.feather as feather

    under.mkdir(parents=True, exist_ok=True)
    d = Path(tempfile.mkdtemp(prefix=f".{prefix}-", dir=under))
    columns = {}
    for name, df in frames.items():
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
    # the dtypes as they were; this process's own file, read back by it alone
    (d / "columns.pkl").write_bytes(pickle.dumps({"frames": list(frames), "columns": columns}))
    return d


def read_spilled(d: Path, remove: bool = True, which: Callable[[str], bool] | None = None) -> dict[str, pd.DataFrame]:
    """The frames :func:`spill_frames` wrote to ``d``, in their order; ``remove`` deletes the
    folder once read; ``which`` (a test on the frame names) reads only some of them."""
    import pyarrow.feather as feather

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
