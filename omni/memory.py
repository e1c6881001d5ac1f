"""Hand freed memory back to the operating system between the stages of a large run.

pyarrow's default allocator (mimalloc) keeps freed pages for reuse, and glibc keeps freed heap
memory below its mmap threshold: after normalizing the sources of a 1M-person dataset the process
held about 4.2 GB resident for 1.6 GB of live tables, 2 GB of it freed Arrow memory. Releasing it
at stage boundaries keeps the next stage's peak close to what it really needs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import os
from pathlib import Path

from omni.core.errors import OmniError

__all__ = ["MEMORY_CHECK_ENV", "OUT_OF_CORE_GB_PER_M_RECORDS", "OUT_OF_CORE_RECORDS", "RESOLUTION_BASE_GB", "RESOLUTION_GB_PER_M_RECORDS", "InsufficientMemoryError",
           "available_memory", "check_resolution_memory", "release_memory", "resolution_memory_gb"]

#: The embedded resolution's peak, in GB: a base plus so much per million records. Measured on the
#: project machine (docs/benchmarks.md, "Time and memory against the records"): 1.0 GB at 1.0 M
#: records, 2.3 GB at 5.0 M, 6.9 GB at 20.1 M (a report's two months), 7.66 GB for the default
#: ``omni resolve`` at 20.1 M; at 100.6 M records (5M persons) it was killed at 24.4 GB while
#: still loading the sources.
#: Above :data:`OUT_OF_CORE_RECORDS` the resolution keeps its inputs and outputs on disk
#: (``omni.workspace``: one step at a time, each output into the cache as it is made) and grows by
#: :data:`OUT_OF_CORE_GB_PER_M_RECORDS` only: at 100.6 M records (5M persons) the report month's
#: resolution, numbered against last month's cached OneIDs, peaked at 19.96 GB in its matching
#: (session 19), the line from the in-memory estimate at 40 M (14.8 GB) through it.
RESOLUTION_BASE_GB = 0.4
RESOLUTION_GB_PER_M_RECORDS = 0.36
OUT_OF_CORE_RECORDS = 40_000_000
OUT_OF_CORE_GB_PER_M_RECORDS = 0.086
#: ``OMNI_MEMORY_CHECK=off`` skips :func:`check_resolution_memory` (``--no-memory-check``).
MEMORY_CHECK_ENV = "OMNI_MEMORY_CHECK"


class InsufficientMemoryError(OmniError):
    """A resolution would need more memory than the machine has available: it is refused before
    it starts, instead of being killed by the system minutes later."""

    default_hint = ("resolve on Spark (omni resolve --engine spark; out of core), on a machine with more "
                    "memory, or pass --no-memory-check (OMNI_MEMORY_CHECK=off) to try anyway")


@functools.lru_cache(maxsize=1)
def _malloc_trim():
    """glibc's ``malloc_trim`` (None on other C libraries and platforms)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None)
    except OSError:
        return None


def release_memory(collect: bool = False) -> None:
    """Return freed memory to the operating system: the Arrow pool's unused pages and glibc's free
    heap (a no-op where neither applies). Cheap (milliseconds); call it between stages, not in
    loops.

    ``collect`` first runs the garbage collector's full pass, for what only reference cycles still
    hold: pandas frames refer to themselves through their caches, so a dropped source table of
    gigabytes waits for the collector (0.6 GB at 1M persons after loading the sources, several GB
    at 5M). A full pass costs 0.1-0.4 s in a process with many objects (a kernel), so it is asked
    for where large frames were just dropped, not everywhere.
    """
    import pyarrow as pa

    if collect:
        gc.collect()
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def available_memory() -> float | None:
    """Memory available for new work now, in GB (Linux's MemAvailable; psutil elsewhere; None
    where neither says)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024 / 2**30
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        return psutil.virtual_memory().available / 2**30
    except Exception:  # noqa: BLE001 - no way to know: the caller runs without a budget
        return None


def resolution_memory_gb(records: int | float) -> float:
    """Expected peak GB of the embedded resolution of ``records`` records
    (:data:`RESOLUTION_BASE_GB` + :data:`RESOLUTION_GB_PER_M_RECORDS` per million, and above
    :data:`OUT_OF_CORE_RECORDS` :data:`OUT_OF_CORE_GB_PER_M_RECORDS` per further million)."""
    r = max(float(records), 0.0)
    return (RESOLUTION_BASE_GB + RESOLUTION_GB_PER_M_RECORDS * min(r, OUT_OF_CORE_RECORDS) / 1e6
            + OUT_OF_CORE_GB_PER_M_RECORDS * max(r - OUT_OF_CORE_RECORDS, 0.0) / 1e6)


def check_resolution_memory(records: int | float, where: str, available: float | None = None) -> float:
    """Refuse a resolution whose expected peak (:func:`resolution_memory_gb`) passes the memory
    available now, instead of letting the system kill it after minutes of loading: at 5M persons
    (100.6 M records) it needs about 20 GB, at 10M (about 200 M records) about 28.6 GB.

    Parameters
    ----------
    records : int or float
        The records to resolve (an estimate is enough: :meth:`omni.workspace.Workspace.estimated_records`).
    where : str
        What is resolved, for the message (the dataset's name).
    available : float, optional
        GB available; default :func:`available_memory` (unknown: no check).

    Returns
    -------
    float
        The expected peak, GB.

    Raises
    ------
    InsufficientMemoryError
        One line naming the records, the GB needed and the GB available; not raised when
        ``OMNI_MEMORY_CHECK`` is ``off`` (or ``0``, ``no``, ``false``).
    """
    need = resolution_memory_gb(records)
    if os.environ.get(MEMORY_CHECK_ENV, "").strip().lower() in ("off", "0", "no", "false"):
        return need
    avail = available_memory() if available is None else available
    if avail is not None and need > avail:
        count = f"{records / 1e6:,.1f} M" if records >= 1e6 else f"{records:,.0f}"
        raise InsufficientMemoryError(
            f"{where}: about {count} records; loading and resolving them on this machine needs about "
            f"{need:.1f} GB and {avail:.1f} GB are available")
    return need
