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

__all__ = ["release_memory"]


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


def release_memory() -> None:
    """Return freed memory to the operating system: the Arrow pool's unused pages and glibc's free
    heap (a no-op where neither applies). Cheap (milliseconds); call it between stages, not in
    loops."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
