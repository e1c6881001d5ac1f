"""The report month's resolution in a child process of its own.

At 1M people the resolution peaks at about 11 GB, and the allocators (glibc's heap, Arrow's pool)
keep 2-3 GB of freed pages afterwards that no frame uses any more. Resolved in the runner, those
pages stayed resident next to every notebook's kernel for the rest of the report. Resolved in a
child, all of it goes back to the system when the child exits; the runner keeps only what the
child sends back: the month, the record count, the warnings and the order trends.

The child is *spawned* (a fresh interpreter), never forked: the runner has threads (the kernels'
memory sampler, the notebooks' pool) and native thread pools, and a fork copies none of them.

Messages on the pipe, child to runner, in this order:

``("month", month, records_hint)``
    the report month (found by the child when not given: the last complete month of the data)
    and the records expected, for the memory estimates of the notebooks that start meanwhile;
``("done", {"records", "warnings", "series", "caches", "peak"})``
    the resolution is cached on disk for the kernels to read (``caches``: the folders of this
    month's and the previous month's resolutions); or at any point
``("error", exception or message)``
    the child's error, raised again in the runner (an :class:`~omni.core.errors.OmniError`
    keeps its class, message and hint).

Warnings the resolution issues in the child (e.g. the rules-only fallback) are issued again in the
runner, so a caller sees the same warnings whether the month was resolved here or in a child.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import pickle
import resource
import time
import warnings
from pathlib import Path
from typing import Any

from omni.core.errors import OmniError

__all__ = ["ResolutionError", "ResolverProcess", "records_hint", "resolve_month"]

log = logging.getLogger(__name__)


class ResolutionError(OmniError, RuntimeError):
    """The child process that resolves the report month ended without an answer (killed by the
    system, most often for memory: exit code 1)."""

    default_hint = ("the resolution needs more memory than the machine had free: close other jobs, "
                    "or resolve first with `omni resolve` and run the report on the cached resolution")
    exit_code = 1


def records_hint(ws: Any, month: str) -> int:
    """The dataset's records before the month is resolved, for the memory estimates of what starts
    while it is: the cached resolution's count, else the person records counted from the files
    (:meth:`omni.workspace.Workspace.estimated_records`, which the memory check reads too)."""
    cached = ws.cached_resolution(month)
    if cached is not None and cached.summary.get("records"):
        return int(cached.summary["records"])
    return int(ws.estimated_records())


def resolve_month(ws: Any, month: str | None, send: Any, progress_log: logging.Logger | None = None) -> None:
    """Find the month (when None), resolve it and compute its order trends, telling ``send`` as it
    goes (the messages of the module docstring). Runs in the child; also callable in-process."""
    from omni.core import Month
    from omni.reporting.trends import order_series

    month = month or ws.last_complete_month()
    send(("month", month, records_hint(ws, month)))
    resolved = ws.resolve(as_of=month)  # cached on disk: the kernels read it from there
    series = None
    t = time.perf_counter()
    try:
        series = order_series(resolved.engine_table("orders"), resolved.engine_table("record_oneid"), month)
        log.info("order trends computed in %.1f s", time.perf_counter() - t)
    except Exception as err:  # noqa: BLE001 - the trends are an extra: the report goes on without them
        from omni.core.progress import say

        say(f"omni report: no order trends in the index ({type(err).__name__}: {str(err)[:200]})", progress_log)
    # the cache folders this resolution wrote or checked: the kernels read them without hashing
    # every file again (:data:`omni.workspace.VERIFIED_ENV`)
    folders = [ws.held_resolution(m) for m in (month, str(Month.parse(month).previous))]
    send(("done", {"records": int(resolved.summary.get("records", 0)) or None,
                   "warnings": [str(w) for w in resolved.summary.get("warnings", [])],
                   "series": series,
                   "caches": [str(r.folder) for r in folders if r is not None and r.folder is not None]}))


def _child(conn: Any, data: str, month: str | None, progress: bool) -> None:
    """The child process's body: resolve, send, exit."""
    import os

    from omni.core.progress import console
    from omni.workspace import VERIFIED_ENV, Workspace

    os.environ.pop(VERIFIED_ENV, None)  # the child checks every cache it reads itself
    if progress:
        console()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # shared, as the kernels are: the sources it loads are kept for the data audit
            # running beside it (Workspace.loaded_source), which then parses fewer files
            ws = Workspace(Path(data), progress=progress, share=True)
            got: list[tuple] = []

            def send(msg: tuple) -> None:
                if msg[0] == "done":
                    got.append(msg)
                else:
                    conn.send(msg)

            resolve_month(ws, month, send)
        kind, done = got[0]
        done["warnings_raised"] = [(w.category, str(w.message)) for w in caught
                                   if _picklable(w.category)]
        done["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
        conn.send((kind, done))
    except BaseException as err:  # noqa: BLE001 - every error goes back to the runner, which raises it
        conn.send(("error", err if _picklable(err) else f"{type(err).__name__}: {err}"))
    finally:
        conn.close()


def _picklable(obj: Any) -> bool:
    try:
        pickle.loads(pickle.dumps(obj))
    except Exception:  # noqa: BLE001 - anything that does not survive the pipe is sent as text
        return False
    return True


class ResolverProcess:
    """The month's resolution running in a spawned child; :meth:`month` and :meth:`result` wait for
    its messages.

    Parameters
    ----------
    data : path
        The dataset folder.
    month : str, optional
        ``YYYY-MM``; the child finds the last complete month when None.
    progress : bool
        Show the resolution's progress lines (the child writes them to the same terminal).
    """

    def __init__(self, data: str | Path, month: str | None, progress: bool = True) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child_conn = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_child, args=(child_conn, str(data), month, progress),
                                 name="omni-resolve", daemon=True)
        self._proc.start()
        child_conn.close()  # the child holds its end; EOF here when it dies
        self.pid = self._proc.pid

    def _receive(self, kind: str) -> tuple:
        try:
            msg = self._conn.recv()
        except EOFError:
            self._proc.join()
            code = self._proc.exitcode
            how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            raise ResolutionError(f"omni report: the process resolving the month ended without a result ({how})") from None
        if msg[0] == "error":
            self._proc.join()
            err = msg[1]
            if isinstance(err, BaseException):
                raise err
            raise ResolutionError(f"omni report: resolving the month failed: {err}")
        if msg[0] != kind:
            raise ResolutionError(f"omni report: the resolving process sent {msg[0]!r}, expected {kind!r}")
        return msg

    def month(self) -> tuple[str, int]:
        """The report month and the records expected (waits for the child to find them)."""
        _, month, records = self._receive("month")
        return month, records

    def result(self) -> dict[str, Any]:
        """``records``, ``warnings``, ``series`` (order trends) and ``peak`` (the child's peak
        resident bytes), once the resolution is cached; the child has exited. The child's
        warnings are issued again here."""
        return self.reissue(self.wait(), stacklevel=3)

    def wait(self) -> dict[str, Any]:
        """:meth:`result` without issuing the child's warnings again (a caller that waits on
        another thread issues them with :meth:`reissue` on its own)."""
        _, done = self._receive("done")
        self._proc.join()
        return done

    @staticmethod
    def reissue(done: dict[str, Any], stacklevel: int = 2) -> dict[str, Any]:
        """Issue the warnings the child raised (from :meth:`wait`'s answer) in this thread, as
        raised where :meth:`reissue` is called (``stacklevel`` 2); returns the answer without them."""
        for category, message in done.pop("warnings_raised", []):
            warnings.warn(message, category, stacklevel=stacklevel)
        return done

    def stop(self) -> None:
        """End the child (on an error or interrupt in the runner)."""
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)
            if self._proc.is_alive():
                self._proc.kill()
        self._conn.close()

