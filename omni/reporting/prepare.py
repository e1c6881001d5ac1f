"""What the notebooks read from the sources alone, made while the month is being resolved.

Resolving the month takes the first minutes of a report at scale, and after the data audit (the
one notebook that reads only the sources) one core waits for it. Some analyses read inputs that
need the sources only: the audiences their consent and contact identifiers (at 1M persons about
half a minute of loading and normalizing), the recommendations the order lines, the catalogue
and the product views. A notebook names the package that makes them in its metadata
(``{"omni": {"prepare": "omni.audience"}}``, from the ``# omni-notebook:`` header of its source);
that package's ``prepare_month(workspace, month)`` makes them in a workspace opened with
``share``, which keeps them in the dataset's ``processed/memo/``
(:meth:`omni.workspace.Workspace.memo`). ``omni report`` runs every named package's
``prepare_month`` (:class:`PrepareJob`: one process per package, ``python -m
omni.reporting.prepare``, in the order the notebooks will start) beside the resolution, at the
priority of the notebooks that run there; a notebook that names a package starts only once it
is made, and the kernel then reads the results instead of making them. The same functions make them in a kernel when nothing was
prepared, so every figure is the same either way.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from omni.reporting.schedule import notebook_meta

__all__ = ["PREPARE_GB_AT_1M", "PrepareJob", "Prepared", "main", "prepare_modules"]

#: Peak GB of the preparing process at 1M persons (about 4 GB seen in session 17's 1M report).
PREPARE_GB_AT_1M = 4.0

_MODULE = re.compile(r"^omni\.[a-z_]+$")


@dataclass
class Prepared:
    """What the preparing job did: the packages, its seconds, and the packages that failed with
    the last line of their error output (the notebooks then make those inputs themselves)."""

    modules: list[str]
    seconds: float
    failed: dict[str, str] = field(default_factory=dict)


def prepare_modules(paths: Sequence[Path]) -> dict[str, str]:
    """The package each of the notebooks ``paths`` names under ``prepare`` in its ``omni``
    metadata: notebook stem -> ``omni.<package>`` (notebooks without one are left out).

    Raises
    ------
    ValueError
        A name that is not an omni package (``omni.<name>``): only omni's own code runs there.
    """
    out: dict[str, str] = {}
    for p in paths:
        name = notebook_meta(p).get("prepare")
        if name is None:
            continue
        if not isinstance(name, str) or not _MODULE.match(name):
            raise ValueError(f"{p.name}: 'prepare' must name an omni package (omni.<name>), got {name!r}")
        out[p.stem] = name
    return out


class PrepareJob:
    """``prepare_month`` of each package, one process after another (``python -m
    omni.reporting.prepare``), at niceness ``nice``; the environment, with
    :data:`omni.workspace.SHARE_ENV` and the fingerprint handed over, is the caller's.

    :meth:`run` never raises for the preparing itself: a package that fails is reported in the
    answer and the next one runs (the notebooks make the same inputs themselves).
    :meth:`finished` is a future per package, done once it is made or failed, so that a runner
    starts the notebook that reads it only then; :meth:`stop` ends the job.
    """

    def __init__(self, data: str | Path, month: str, modules: Sequence[str], nice: int = 0) -> None:
        self.data, self.month, self.nice = str(data), str(month), nice
        self.modules = list(dict.fromkeys(modules))
        self._finished = {m: Future() for m in self.modules}
        self._proc: subprocess.Popen | None = None
        self._stopped = threading.Event()
        self._lock = threading.Lock()

    def finished(self, module: str) -> Future:
        """Done once ``module``'s inputs are made, failed, or the job stopped."""
        return self._finished[module]

    def run(self) -> Prepared:
        from omni.reporting.runner import kernel_command

        t = time.perf_counter()
        failed: dict[str, str] = {}
        try:
            for m in self.modules:
                if self._stopped.is_set():
                    failed[m] = "stopped"
                    continue
                cmd = kernel_command([sys.executable, "-m", "omni.reporting.prepare", self.data, self.month, m],
                                     self.nice)
                with self._lock:
                    self._proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,  # noqa: S603
                                                  text=True)
                _, err = self._proc.communicate()
                if self._proc.returncode != 0:
                    lines = [ln for ln in (err or "").splitlines() if ln.strip()]
                    failed[m] = lines[-1][:300] if lines else f"exit code {self._proc.returncode}"
                self._finished[m].set_result(m)
        finally:
            for f in self._finished.values():  # none left waiting, whatever happened
                if not f.done():
                    f.set_result(None)
        return Prepared(self.modules, time.perf_counter() - t, failed)

    def stop(self) -> None:
        """End the running process and skip the packages left (on the runner's error or interrupt)."""
        self._stopped.set()
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m omni.reporting.prepare DATA MONTH omni.<package> ...``: each package's
    ``prepare_month`` on a workspace opened with ``share``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 3:
        print("usage: python -m omni.reporting.prepare DATA MONTH omni.<package> ...", file=sys.stderr)
        return 2
    data, month, modules = args[0], args[1], args[2:]
    bad = [m for m in modules if not _MODULE.match(m)]
    if bad:
        print(f"omni prepare: not omni packages: {bad}", file=sys.stderr)
        return 2
    from omni.workspace import Workspace

    ws = Workspace(Path(data), share=True)
    for name in modules:
        importlib.import_module(name).prepare_month(ws, month)
    return 0


if __name__ == "__main__":
    sys.exit(main())
