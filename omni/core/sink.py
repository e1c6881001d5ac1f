"""Frames written to Parquet files on threads as soon as they are made.

A resolution makes its output frames one after another; at 5M persons they are larger than what
the machine can hold at once (the OneID map, the identifier values and edges, then the unified
tables). A :class:`FrameSink` writes each one into the cache folder being made as soon as it is
done and lets go of it once written, so that the caller drops its own reference at once and the
next step starts with that memory free (Arrow encodes and compresses without the GIL).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pandas as pd

__all__ = ["FrameSink"]


class FrameSink:
    """Write frames as ``<name>.parquet`` into ``folder`` on up to ``threads`` threads.

    Parameters
    ----------
    folder : Path
        An existing folder (the cache folder being made).
    threads : int, optional
        Writers at once (default: two, or one on a one-core machine).
    after_each : callable, optional
        Called on the writer's thread after each frame is written and let go of (to give the
        freed pages back to the operating system).

    Notes
    -----
    The files do not depend on the order the frames are written in. Use as a context manager, or
    call :meth:`close`: it waits for every write and raises the first error.
    """

    def __init__(self, folder: Path, threads: int | None = None, after_each: Callable[[], None] | None = None):
        self.folder = Path(folder)
        self._after = after_each
        self._pool = ThreadPoolExecutor(max(1, threads or min(2, os.cpu_count() or 1)),
                                        thread_name_prefix="omni-sink")
        self._futures: dict[str, Future] = {}

    def put(self, name: str, df: pd.DataFrame) -> None:
        """Queue ``df`` to be written as ``<name>.parquet`` (without its index). The sink holds
        the only other reference until it is written: the caller should drop its own. Raises the
        error of a write that already failed (the caller stops at the next frame, not at the end)."""
        if name in self._futures:
            raise ValueError(f"frame {name!r} was already given to the sink")
        for f in self._futures.values():
            if f.done() and f.exception() is not None:
                raise f.exception()
        box = [df]
        del df
        self._futures[name] = self._pool.submit(self._write, name, box)

    def _write(self, name: str, box: list) -> None:
        df = box.pop()
        try:
            df.to_parquet(self.folder / f"{name}.parquet", index=False)
        except Exception as err:  # raised without the writer's frames, which hold the frame (GBs)
            del df
            err.add_note(f"(writing {name}.parquet in {self.folder})")
            raise err.with_traceback(None) from None
        del df
        if self._after is not None:
            self._after()

    def __contains__(self, name: object) -> bool:
        return name in self._futures

    def wait(self) -> None:
        """Wait until every queued frame is written; raise the first failure."""
        for f in list(self._futures.values()):
            f.result()

    def close(self) -> None:
        """Wait for the writes (raising the first failure) and end the threads."""
        try:
            self.wait()
        finally:  # after a failure the writes still queued are dropped
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> FrameSink:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
        else:  # already failing: the queued writes dropped, the running one waited for, no second error
            self._pool.shutdown(wait=True, cancel_futures=True)
