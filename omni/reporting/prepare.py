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
``prepare_month`` in one process of its own (``python -m omni.reporting.prepare``) beside the
resolution, at the priority of the notebooks that run there, and the kernels then read the
results instead of making them. The same functions make them in a kernel when nothing was
prepared, so every figure is the same either way.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from omni.reporting.schedule import notebook_meta

__all__ = ["PREPARE_GB_AT_1M", "Prepared", "main", "prepare_modules", "run_prepare"]

#: Peak GB of the preparing process at 1M persons (about 4 GB seen in session 17's 1M report).
PREPARE_GB_AT_1M = 4.0

_MODULE = re.compile(r"^omni\.[a-z_]+$")


@dataclass
class Prepared:
    """What the preparing process did: the packages, its seconds and exit code, and the last
    line of its error output when it failed (the notebooks then make the inputs themselves)."""

    modules: list[str]
    seconds: float
    returncode: int
    error: str = ""


def prepare_modules(paths: Sequence[Path]) -> list[str]:
    """The packages the notebooks ``paths`` name under ``prepare`` in their ``omni`` metadata
    (a string or a list of strings), each once, in notebook order.

    Raises
    ------
    ValueError
        A name that is not an omni package (``omni.<name>``): only omni's own code runs there.
    """
    out: list[str] = []
    for p in paths:
        got = notebook_meta(p).get("prepare")
        for name in [got] if isinstance(got, str) else list(got or []):
            if not isinstance(name, str) or not _MODULE.match(name):
                raise ValueError(f"{p.name}: 'prepare' must name an omni package (omni.<name>), got {name!r}")
            if name not in out:
                out.append(name)
    return out


def run_prepare(data: str | Path, month: str, modules: Sequence[str], nice: int = 0) -> Prepared:
    """Run ``prepare_month`` of every package in ``modules`` in a process of its own, at niceness
    ``nice`` (the environment, with :data:`omni.workspace.SHARE_ENV` and the fingerprint handed
    over, is the caller's). Never raises for the preparing itself: a failure is returned (the
    notebooks make the same inputs themselves)."""
    from omni.reporting.runner import kernel_command

    cmd = kernel_command([sys.executable, "-m", "omni.reporting.prepare", str(data), str(month), *modules], nice)
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603 - our own module
    err = ""
    if done.returncode != 0:
        lines = [ln for ln in (done.stderr or "").splitlines() if ln.strip()]
        err = lines[-1][:300] if lines else f"exit code {done.returncode}"
    return Prepared(list(modules), time.perf_counter() - t, done.returncode, err)


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
