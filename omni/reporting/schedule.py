"""Memory-aware scheduling of a report's notebooks (``omni report --jobs N --memory-budget 12GB``).

At 1M persons one kernel of the campaign or audience notebook takes several GB: two of them side
by side, or one beside the month's resolution, pass what a 24 GB machine shared with other work
can give. Counting notebooks (``--jobs``) does not see that; the runner therefore gives every
notebook (and the resolution it runs itself) a memory estimate and starts a notebook only while
the estimates of what runs plus its own stay within a budget. On small datasets every estimate
is small and the schedule is the plain ``--jobs N`` one.

Estimates, most trusted first:

1. the peak the notebook's kernel reached in the latest earlier report of the same dataset
   (``metrics.json``: ``peak_gb``, measured by :class:`KernelPeaks`), scaled by the records;
2. the notebook's ``memory_gb_at_1m`` (its ``omni`` metadata, the ``# omni-notebook: {...}``
   header of its source) or :data:`MEMORY_GB_AT_1M`, scaled by the records (1M persons are about
   20 M records) above :data:`KERNEL_BASE_GB`.

:func:`startable` is the decision itself, a pure function; :func:`kernel_nice` gives the priority a
notebook's kernel starts at (the runner applies it).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from omni.memory import available_memory

__all__ = ["BESIDE_LONGER_NICE", "BESIDE_RESOLUTION_NICE", "KERNEL_BASE_GB", "MEMORY_GB_AT_1M", "RECORDS_AT_1M",
           "KernelPeaks", "available_memory", "default_budget", "earlier_metrics", "estimate_memory", "expected_left", "format_gb",
           "gb_at_records", "kernel_nice", "longest_first",
           "notebook_memory_at_1m", "notebook_meta", "parse_memory", "resident_gb", "startable"]

#: Records of the 1M-person synthetic world (the scale of :data:`MEMORY_GB_AT_1M`).
RECORDS_AT_1M = 20e6
#: A kernel with omni, pandas and matplotlib imported, before it reads any data (GB).
KERNEL_BASE_GB = 0.4
#: Peak GB of each notebook's kernel at 1M persons (20 M records) on the project machine, by
#: number prefix (the report runs of docs/benchmarks.md, 2026-12-04 and 07-08 on 2026-12-05; 02 and 06 measured
#: again in the 1M report of 2026-12-05 05:27 after their kernels stopped holding whole frames, as
#: was 07 after its joins moved to Arrow: 4.21, 6.32 and 6.78 GB); ``resolution`` is the peak of the
#: child that resolves the month and the previous one (8.21 GB once the inputs wait on disk between them;
#: 6.97 and 7.10 GB on 2026-12-05 07:39 and 07:48 once the source and quasi tables wait there through
#: the rules and the numbering: the matching's peak). 07 again on 2026-12-05 (session 12) once its
#: top-k table stopped building whole-length int64 scratch (6.56 -> about 5.9 GB in the analysis,
#: plus the kernel's own). ``resolution`` again in sessions 16 and 17 (6.48 GB; 6.62 GB with two
#: sources loaded at once): at 7.15 the audit no longer fitted beside it in a 10.9 GB budget and
#: waited for the month. 06 in session 17, once its consent inputs were prepared beside the
#: resolution (5.82 GB). ``resolution`` again in session 21 (6.32 and 6.52 GB in two 1M reports):
#: at 6.8 the inputs' preparation (4.0 GB) did not fit beside it in a 10.8 GB budget, and 06 and 07
#: read their inputs themselves (about 85 s more). 6.42-7.15 GB in the six 1M reports of session 22
#: (the preparation then ran beside it every time). 01 in session 23 (3.37 and 3.54 GB beside the
#: resolution, 2.71 GB after it, once it reads the sources the resolution keeps): at 3.9 it did not
#: fit beside the resolution in a 10.3 GB budget, waited for the month, and the report took 707 s
#: instead of 591-617 s. 06 and 07 in session 23 as measured in its six 1M reports (06 4.12-4.43 GB,
#: 07 4.55-4.82 GB; at 5M 20.49 and 20.82 GB, which these scale to 20.9 and 23.4 GB): at 5.9 and 6.2
#: GB, 02 waited for 07 and 06 for 02 in a 10.3 GB budget, and 06 ran alone at the end (673 s).
#: 01 again in session 25, once it reads the identifier tables the resolution keeps too (3.30 and 3.15
#: GB beside the resolution, 2.95 GB after it): at 3.6 it missed a 10.22 GB budget beside the
#: resolution by 0.02 GB, waited for the month, and two cores ran one process for three minutes.
#: A notebook's metadata (``memory_gb_at_1m``) overrides these.
MEMORY_GB_AT_1M = {"01": 3.4, "02": 4.25, "03": 4.3, "04": 2.6, "05": 3.5, "06": 4.5, "07": 5.0, "08": 2.2,
                   "resolution": 6.6}
#: Share of the machine's available memory a report may plan for when no budget is given.
DEFAULT_BUDGET_SHARE = 0.5

_UNITS = {"": 2**30, "b": 1, "k": 2**10, "kb": 2**10, "m": 2**20, "mb": 2**20, "g": 2**30, "gb": 2**30,
          "t": 2**40, "tb": 2**40}


def parse_memory(text: str | float | int) -> float:
    """A memory size in GB (2**30 bytes): ``"12GB"``, ``"12g"``, ``"800MB"``, ``"12"`` (GB).

    Raises
    ------
    ValueError
        One line naming the text, when it is not a positive size.
    """
    if isinstance(text, int | float):
        value, unit = float(text), ""
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*", str(text))
        if not m or m.group(2).lower() not in _UNITS:
            raise ValueError(f"not a memory size: {text!r} (expected e.g. 12GB, 800MB or 12)")
        value, unit = float(m.group(1)), m.group(2).lower()
    if value <= 0:
        raise ValueError(f"not a memory size: {text!r} (expected more than 0)")
    return value * _UNITS[unit] / 2**30


def format_gb(gb: float) -> str:
    """``12.0 GB``."""
    return f"{gb:.1f} GB"


def resident_gb() -> float:
    """This process's resident memory now, in GB (0 where it cannot be read)."""
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**30
    except Exception:  # noqa: BLE001 - unknown: counted as nothing
        return 0.0


def default_budget() -> float | None:
    """:data:`DEFAULT_BUDGET_SHARE` of :func:`available_memory` (GB; None when unknown)."""
    avail = available_memory()
    return None if avail is None else DEFAULT_BUDGET_SHARE * avail


def notebook_meta(nb_path: Path) -> dict[str, Any]:
    """A notebook's ``omni`` metadata (``{}`` when it has none or cannot be read)."""
    try:
        meta = json.loads(nb_path.read_text(encoding="utf-8")).get("metadata", {}).get("omni", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return meta if isinstance(meta, dict) else {}


def earlier_metrics(out_root: Path, dataset: str) -> list[dict[str, Any]]:
    """The ``metrics.json`` of every earlier report of ``dataset`` under ``out_root``, oldest first."""
    found = []
    for m in sorted(out_root.glob("*/metrics.json"), key=lambda f: f.stat().st_mtime):
        try:
            got = json.loads(m.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(got, dict) and got.get("dataset") == dataset:
            found.append(got)
    return found


def notebook_memory_at_1m(nb_path: Path) -> float:
    """A notebook's peak GB at 1M persons: its metadata's ``memory_gb_at_1m``, else
    :data:`MEMORY_GB_AT_1M` by its number prefix (4 GB for an unknown notebook)."""
    try:
        return float(notebook_meta(nb_path)["memory_gb_at_1m"])
    except (KeyError, TypeError, ValueError):
        return MEMORY_GB_AT_1M.get(nb_path.stem[:2], 4.0)


def gb_at_records(gb_at_1m: float, records: float | None) -> float:
    """Expected peak GB of a kernel (or process) that peaks at ``gb_at_1m`` at 1M persons, at
    ``records`` records: its base plus the rest scaled by the records."""
    return KERNEL_BASE_GB + max(0.0, gb_at_1m - KERNEL_BASE_GB) * (records or 0) / RECORDS_AT_1M


def estimate_memory(paths: Sequence[Path], out_root: Path, dataset: str, records: int | None
                    ) -> dict[str, float]:
    """Expected peak GB of each notebook's kernel, and of the runner's ``resolution``.

    Parameters
    ----------
    paths : sequence of Path
        The notebooks.
    out_root : Path
        The reports folder: the latest earlier report of ``dataset`` there gives measured peaks
        (``metrics.json``).
    dataset : str
        The dataset's name.
    records : int, optional
        The dataset's records (the resolution's); unknown counts as small.

    Returns
    -------
    dict
        Notebook stem (and ``"resolution"``) -> GB.
    """
    measured: dict[str, float] = {}
    for got in earlier_metrics(out_root, dataset):
        then = got.get("records")
        scale = (records / then) if records and then else 1.0
        peaks = {k: v.get("peak_gb") for k, v in got.get("notebooks", {}).items()}
        peaks["resolution"] = got.get("resolution_peak_gb")
        measured.update({k: KERNEL_BASE_GB + max(0.0, float(v) - KERNEL_BASE_GB) * scale
                         for k, v in peaks.items() if isinstance(v, int | float) and v > 0})
    out = {p.stem: measured.get(p.stem, gb_at_records(notebook_memory_at_1m(p), records)) for p in paths}
    out["resolution"] = measured.get("resolution", gb_at_records(MEMORY_GB_AT_1M["resolution"], records))
    return out


def longest_first(names: Sequence[str], seconds: Mapping[str, float]) -> list[str]:
    """``names`` by expected run time, longest first (ties keep their order): the order in which
    :func:`startable` is offered the notebooks that wait for the resolution. Starting the longest
    first (the "longest processing time" rule) keeps a long notebook from starting last beside an
    idle job slot; at 1M persons the recommendations notebook alone takes about a third of the
    notebooks' time."""
    return sorted(names, key=lambda n: -float(seconds.get(n, 0.0)))


#: Niceness of the kernels of notebooks that run while the month is resolved (the data audit): the
#: resolution is the report's critical path and uses both cores at times (DuckDB, Arrow's CSV
#: reader, writing in the background); the audit has minutes to spare and takes what is left.
BESIDE_RESOLUTION_NICE = 10


#: Niceness of a notebook's kernel that starts beside a notebook expected to take longer: the longest
#: one is the schedule's critical path (at 1M people 07, about 300 s, with two threads at times),
#: and the shorter ones fill the cores it leaves.
BESIDE_LONGER_NICE = 5


def kernel_nice(name: str, running: Sequence[str], expected: Mapping[str, float],
                beside_resolution: bool = False) -> int:
    """The niceness a notebook's kernel starts at: :data:`BESIDE_RESOLUTION_NICE` for one that runs
    while the month is resolved, :data:`BESIDE_LONGER_NICE` when a notebook already running is
    expected to take longer than this one (``expected``: seconds per notebook), else 0.

    Priorities only share the cores: every figure is the same at any niceness."""
    if beside_resolution:
        return BESIDE_RESOLUTION_NICE
    mine = expected.get(name)
    if mine is not None and any(expected.get(r, 0.0) > mine for r in running):
        return BESIDE_LONGER_NICE
    return 0


def startable(pending: Sequence[str], running: Iterable[str], estimates: Mapping[str, float],
              budget: float | None, jobs: int) -> list[str]:
    """Which of the ``pending`` notebooks to start now, in their order.

    A notebook starts when fewer than ``jobs`` run and the estimates of the running ones plus its
    own stay within ``budget``; a later, lighter notebook may start while an earlier one waits for
    memory. When nothing runs the first pending notebook starts whatever its estimate (it would
    never fit otherwise). ``running`` may name the runner's ``"resolution"``, which takes memory
    but no job slot, and ``"runner"``, the memory the runner itself keeps while the notebooks run
    (it counts against the budget but never makes a notebook wait forever).

    Parameters
    ----------
    pending : sequence of str
        Notebooks not started yet, in run order.
    running : iterable of str
        What runs now (notebooks and ``"resolution"``).
    estimates : mapping
        Name -> expected peak GB (a missing name counts 0).
    budget : float or None
        GB the running work may take together; None: no limit.
    jobs : int
        Notebooks at once.

    Returns
    -------
    list of str
    """
    running = list(running)
    slots = jobs - sum(1 for r in running if r not in ("resolution", "runner"))
    used = sum(estimates.get(r, 0.0) for r in running)
    others = [r for r in running if r != "runner"]
    out: list[str] = []
    for name in pending:
        if slots <= 0:
            break
        need = estimates.get(name, 0.0)
        if budget is None or used + need <= budget or not (others or out):
            out.append(name)
            used += need
            slots -= 1
    return out


def expected_left(pending: Sequence[str], running: Iterable[str], estimates: Mapping[str, float],
                  seconds: Mapping[str, float], budget: float | None, jobs: int,
                  ran: Mapping[str, float] | None = None) -> float:
    """Seconds until every running and pending notebook is done, when the runner starts them as
    :func:`startable` decides (a small event simulation with the same estimates).

    Dividing the expected seconds by ``jobs`` holds only while two notebooks fit side by side. At
    5M persons each kernel needs more than half the budget, the notebooks run one after the other,
    and that division halved the time shown (34 min said, 74 min taken).

    Parameters
    ----------
    pending : sequence of str
        Notebooks not started yet, in run order.
    running : iterable of str
        What runs now. The ``"runner"`` holds its memory to the end; ``"resolution"`` counts as
        done (the time left is the notebooks'), as does anything without expected seconds.
    estimates : mapping
        Name -> expected peak GB (:func:`estimate_memory`).
    seconds : mapping
        Name -> expected seconds (a missing notebook counts 0).
    budget : float or None
        GB the running work may take together; None: no limit.
    jobs : int
        Notebooks at once.
    ran : mapping, optional
        Seconds each running notebook has run already (its expected time less this is left, at
        least 0).

    Returns
    -------
    float
    """
    ran = ran or {}
    held = [r for r in running if r == "runner"]
    left = {r: max(0.0, seconds[r] - ran.get(r, 0.0)) for r in running if r in seconds}
    queue = list(pending)
    clock = 0.0
    while queue or left:
        for name in startable(queue, [*held, *left], estimates, budget, jobs):
            queue.remove(name)
            left[name] = float(seconds.get(name, 0.0))
        if not left:  # startable always starts one when nothing else runs; never loop on nothing
            break
        step = min(left.values())
        clock += step
        left = {r: t - step for r, t in left.items() if t > step}
    return clock


class KernelPeaks:
    """The peak resident memory of each notebook's kernel (and of the runner itself), sampled.

    The runner starts every kernel with a tag of its own in the kernel's connection settings
    (:func:`omni.reporting.runner.kernel_config`); a sampling thread finds the runner's child
    processes, reads the tag from each kernel's connection file (``-f <file>`` on its command
    line) and keeps the largest resident size of each kernel's process tree. Needs psutil (a
    dependency of the Jupyter kernel); without it nothing is measured.
    """

    def __init__(self, interval: float = 1.0):
        self.interval = interval
        self.peaks: dict[str, int] = {}
        self.runner_peak = 0
        self._tags: dict[str, str] = {}
        self._pids: dict[int, str | None] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, tag: str, name: str) -> None:
        """Count the kernel started with ``tag`` as notebook ``name``."""
        with self._lock:
            self._tags[tag] = name

    def reset_runner(self) -> int:
        """The runner's own peak since the last reset (bytes), then start again from now."""
        with self._lock:
            peak, self.runner_peak = self.runner_peak, 0
        return peak

    def __enter__(self) -> KernelPeaks:
        try:
            import psutil  # noqa: F401
        except ImportError:
            return self
        self._thread = threading.Thread(target=self._run, name="omni-kernel-peaks", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _name_of(self, proc: Any) -> str | None:
        if proc.pid not in self._pids:
            name = None
            try:
                cmd = proc.cmdline()
                conn = cmd[cmd.index("-f") + 1] if "-f" in cmd else None
                ip = json.loads(Path(conn).read_text(encoding="utf-8")).get("ip", "") if conn else ""
            except Exception:  # noqa: BLE001 - not a kernel, gone, or its file not written yet
                return None
            with self._lock:
                name = next((n for t, n in self._tags.items() if t in ip), None)
            self._pids[proc.pid] = name
        return self._pids[proc.pid]

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            try:
                rss = me.memory_info().rss
                per: dict[str, int] = {}
                for child in me.children():
                    name = self._name_of(child)
                    try:
                        procs = [child, *child.children(recursive=True)]
                        total = sum(p.memory_info().rss for p in procs)
                    except psutil.Error:
                        continue
                    if name is None:
                        continue
                    per[name] = per.get(name, 0) + total
                with self._lock:
                    self.runner_peak = max(self.runner_peak, rss)
                    for k, v in per.items():
                        self.peaks[k] = max(self.peaks.get(k, 0), v)
            except psutil.Error:
                pass
            self._stop.wait(self.interval)
