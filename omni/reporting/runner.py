"""``omni report``: run every notebook through papermill and write the month's reviewer HTML."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import platform
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import nbformat

from omni.core import Month, i18n
from omni.core.errors import OmniError
from omni.core.markup import CSP_META, SITE_SCRIPT_TAG, escape_html
from omni.core.progress import console
from omni.core.progress import say as progress_line
from omni.memory import release_memory
from omni.reporting.display import METRICS_MIME
from omni.reporting.index import compare_months, write_index
from omni.reporting.prepare import PREPARE_GB_AT_1M, Prepared, PrepareJob, prepare_modules
from omni.reporting.resolver import ResolverProcess, records_hint, resolve_month
from omni.reporting.schedule import (
    KernelPeaks,
    default_budget,
    earlier_metrics,
    estimate_memory,
    expected_left,
    format_gb,
    gb_at_records,
    kernel_nice,
    longest_first,
    notebook_meta,
    parse_memory,
    resident_gb,
    startable,
)
from omni.reporting.site import SITE_CSS, build_site
from omni.workspace import DATA_ENV, FINGERPRINT_ENV, SHARE_ENV, VERIFIED_ENV, Workspace

__all__ = ["NotebookResult", "ReportError", "collect_metrics", "export_html", "header_html", "kernel_command",
           "kernel_config", "kernel_death_error", "last_started_cell", "lower_session_priority",
           "machine_memory_bytes", "notebook_title", "package_versions", "run_report"]

log = logging.getLogger(__name__)
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
VERSIONED_PACKAGES = ("omni", "pandas", "numpy", "scipy", "lifetimes", "statsmodels", "networkx", "papermill", "matplotlib")


class ReportError(OmniError, RuntimeError):
    """A report could not be made: a notebook failed (the message names the notebook and the cell;
    exit code 1) or there was nothing to run (exit code 2)."""

    default_hint = "open the partial notebook under the report folder to see what happened"


@dataclass
class NotebookResult:
    """What one notebook run produced."""

    name: str
    ipynb: Path
    html: Path | None
    seconds: float
    metrics: list[dict[str, Any]] = field(default_factory=list)
    title: str = ""


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape the numbers."""
    out = {}
    for p in VERSIONED_PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    out["python"] = platform.python_version()
    return out


def collect_metrics(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """Headline metrics a notebook displayed with :func:`omni.reporting.display.headline`."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if METRICS_MIME in data:
                payload = data[METRICS_MIME]
                found.extend(payload if isinstance(payload, list) else [payload])
    return found


def other_lang_tags(lang: str) -> set[str]:
    """Cell tags of the languages a report in ``lang`` leaves out (``{"lang-en"}`` for ``"zh"``).

    A notebook's prose cells are written once per language and tagged ``lang-en`` / ``lang-zh``;
    untagged cells are shown in every language.
    """
    return {f"lang-{x}" for x in i18n.LANGS if x != lang}


def notebook_title(nb: nbformat.NotebookNode, default: str, lang: str = i18n.DEFAULT_LANG) -> str:
    """The first Markdown heading of a notebook (of its ``lang`` cells)."""
    skip = other_lang_tags(lang)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and not skip & set(cell.get("metadata", {}).get("tags", [])):
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return default


def header_html(title: str, params: dict[str, Any], facts: dict[str, Any]) -> str:
    """The run's header block placed on top of every report."""
    rows = "".join(
        f"<tr><td>{escape_html(i18n.term(k))}</td><td>{escape_html(str(v))}</td></tr>"
        for k, v in list(params.items()) + list(facts.items())
    )
    return f'<div class="omni-header"><h1>{escape_html(title)}</h1><table>{rows}</table></div>'


def export_html(nb_path: Path, html_path: Path, header: str, lang: str = i18n.DEFAULT_LANG) -> None:
    """Export an executed notebook to self-contained HTML without code, prompts or network fetches
    (and without the prose cells of the languages other than ``lang``)."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.read(nb_path, as_version=4)
    exporter = HTMLExporter(
        template_name="omni_report",
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        language_code=lang,
    )
    remove = {"remove_cell", "remove-cell", "injected-parameters", "parameters"} | other_lang_tags(lang)
    tags = TagRemovePreprocessor(remove_cell_tags=remove)
    exporter.register_preprocessor(tags, enabled=True)
    body, _ = exporter.from_notebook_node(nb, resources={
        "omni_header": header, "omni_csp_meta": CSP_META, "omni_site_css": SITE_CSS, "omni_site_script": SITE_SCRIPT_TAG})
    html_path.write_text(body, encoding="utf-8")


def machine_memory_bytes() -> int | None:
    """Physical memory of this machine (None where the platform does not say)."""
    try:
        import os

        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return None


def last_started_cell(nb_path: Path) -> tuple[int, str] | None:
    """The last cell papermill started in a (partial) executed notebook: its 1-based index in that
    notebook and its first non-empty source line (None when no cell started or the file is
    unreadable)."""
    try:
        nb = nbformat.read(nb_path, as_version=4)
    except Exception:  # noqa: BLE001 - a half-written file: the caller says so
        return None
    found = None
    for i, cell in enumerate(nb.cells, 1):
        if cell.get("metadata", {}).get("papermill", {}).get("start_time"):
            found = i, next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
    return found


def kernel_death_error(nb_in: Path, nb_out: Path, err: BaseException) -> ReportError:
    """The :class:`ReportError` of a notebook whose kernel died (killed, most often out of memory)."""
    where = last_started_cell(nb_out) if nb_out.exists() else None
    cell = (f"in cell {where[0]} ({where[1][:80]!r})" if where and where[1] else
            f"in cell {where[0]}" if where else "before its first cell ran")
    mem = machine_memory_bytes()
    mem_text = f"this machine has {mem / 2**30:.1f} GB of memory" if mem else "the machine's memory is unknown"
    kept = f"the partial notebook is kept at {nb_out}" if nb_out.exists() else "no partial notebook was written"
    return ReportError(
        f"notebook {nb_in.name}: the kernel died {cell} ({type(err).__name__}: {err}). Likely cause: the "
        f"kernel process was killed by the system, most often because it ran out of memory ({mem_text}); "
        f"{kept}",
        hint="run that notebook alone (--only) with other programs closed, on a smaller dataset, or on a "
             "machine with more memory",
        exit_code=1,
    )


def kernel_config(tag: str | None = None) -> Any:
    """Kernel settings of one notebook run: the IPC transport where the platform has it, TCP elsewhere.

    Over IPC the kernel's sockets are files in the user's private Jupyter runtime folder, under a
    name of their own for each kernel (two runs at once never share one), instead of TCP ports in
    plain text; the kernel then does not warn "Kernel is running over TCP without encryption".
    ``tag`` (default: random) is part of that name, so the runner can tell its kernels apart
    (:class:`omni.reporting.schedule.KernelPeaks`).
    """
    import uuid

    from jupyter_core.paths import jupyter_runtime_dir
    from traitlets.config import Config

    cfg = Config()
    if os.name == "posix":
        runtime = Path(jupyter_runtime_dir())
        runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
        cfg.KernelManager.transport = "ipc"
        # without a path of its own the kernel's sockets would be "kernel-ipc-N" in the working folder
        cfg.KernelManager.ip = str(runtime / f"omni-{tag or uuid.uuid4().hex[:12]}-ipc")
    return cfg


def kernel_command(cmd: list[str], nice: int = 0) -> list[str]:
    """The kernel's command line, started through ``nice -n <nice>`` when ``nice`` is positive and
    the system has ``nice`` (POSIX); unchanged otherwise. ``nice`` execs the kernel: the process
    (and every thread it starts) keeps the kernel's pid and runs at the lower priority."""
    import shutil

    if nice <= 0 or os.name != "posix":
        return cmd
    tool = shutil.which("nice")
    return [tool, "-n", str(int(nice)), *cmd] if tool else cmd


_AUTOGROUP_LOCK = threading.Lock()


def lower_session_priority(pid: int | None, nice: int) -> bool:
    """Give the kernel's session (its Linux *autogroup*) niceness ``nice``; True when set.

    jupyter_client starts every kernel in a session of its own, and where the kernel schedules by
    autogroup (``/proc/sys/kernel/sched_autogroup_enabled``, on by default on desktop and many
    server kernels) the cores are shared between sessions first: a process's own niceness then
    weighs only against the processes of its session, and a kernel alone in its session would
    take a full share beside any other. The session's niceness (``/proc/<pid>/autogroup``) is
    what lowers it against the runner's resolution and the other kernels. Nothing happens on
    other systems or when ``nice`` is not positive."""
    if not pid or nice <= 0:
        return False
    path = Path(f"/proc/{int(pid)}/autogroup")
    if not path.exists():  # no autogroups here: the process niceness is all there is
        return False
    # Linux lets a process without CAP_SYS_ADMIN change an autogroup's niceness once per 100 ms
    # (system-wide; EAGAIN otherwise), and the runner may start two kernels at once
    with _AUTOGROUP_LOCK:
        for _ in range(20):
            try:
                path.write_text(str(int(min(nice, 19))))
                return True
            except BlockingIOError:
                time.sleep(0.11)
            except OSError as err:  # not allowed here
                log.info("kernel %s: session niceness not set (%s)", pid, err)
                return False
    log.info("kernel %s: session niceness not set (the system kept refusing for 2 s)", pid)
    return False


def _kernel_manager_class(nice: int = 0) -> type:
    """The kernel manager of report runs: jupyter_client's, except that shutting a kernel down does
    not interrupt it first, and the kernel runs at niceness ``nice`` (:func:`kernel_command`).

    jupyter_client sends SIGINT before every shutdown request (to stop a running cell); a report's
    kernel is shut down only after its last cell, so the interrupt stops nothing and the idle kernel
    logs "KeyboardInterrupt caught in kernel" on the runner's terminal instead. A kernel that does
    not stop on the shutdown request is still killed (jupyter_client's own fallback). The kernel's
    session gets the same niceness (:func:`lower_session_priority`).
    """
    from jupyter_client.manager import AsyncKernelManager

    class ReportKernelManager(AsyncKernelManager):
        async def _async_interrupt_kernel(self) -> None:
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            await super()._async_launch_kernel(kernel_command(kernel_cmd, nice), **kw)
            from jupyter_client.provisioning import LocalProvisioner

            if isinstance(self.provisioner, LocalProvisioner):  # a process of this machine
                lower_session_priority(self.provisioner.pid, nice)

    return ReportKernelManager


def _run_one(
    nb_in: Path, nb_out: Path, params: dict[str, Any], cwd: Path, kernel_name: str, progress: bool,
    tag: str | None = None, nice: int = 0,
) -> None:
    """Execute one notebook with papermill into ``nb_out`` (its kernel at niceness ``nice``).

    Raises
    ------
    ReportError
        A cell raised (names the notebook, the cell and the error) or the kernel died (names the
        notebook, the last cell that started and the likely cause). The partial notebook is kept.
    """
    import papermill as pm
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    # the kernel inherits the environment: a notebook's omni.open(data) gives OMNI_DATA precedence,
    # so it names the dataset being reported (an OMNI_DATA of the caller would win over it otherwise)
    saved = os.environ.get(DATA_ENV)
    if params.get("data") is not None:
        os.environ[DATA_ENV] = str(params["data"])
    try:
        pm.execute_notebook(
            str(nb_in),
            str(nb_out),
            parameters=params,
            kernel_name=kernel_name,
            # the kernel starts in ``cwd`` (nbclient's resources path); papermill's own ``cwd=``
            # would chdir this whole process, which notebooks run in threads side by side race on
            resources={"metadata": {"path": str(cwd)}},
            progress_bar=progress,
            request_save_on_cell_execute=True,
            config=kernel_config(tag),
            kernel_manager_class=_kernel_manager_class(nice),
        )
    except PapermillExecutionError as err:
        raise ReportError(
            f"notebook {nb_in.name} failed in cell {err.cell_index + 1} (execution count "
            f"{err.exec_count}): {err.ename}: {err.evalue}. The partial notebook is kept at {nb_out}.",
            hint="open the partial notebook to see the cell's output, fix the cause and run again",
            exit_code=1,
        ) from err
    except DeadKernelError as err:
        raise kernel_death_error(nb_in, nb_out, err) from err
    finally:
        if saved is None:
            os.environ.pop(DATA_ENV, None)
        else:
            os.environ[DATA_ENV] = saved


#: Seconds per notebook at 1M persons (20 M records), measured on the 2-core project machine with
#: the report's priorities (docs/benchmarks.md, session 14: 01 and 02 run niced); the first run's
#: ETA and order scale them by the dataset's record count. Later runs take the previous report's
#: own times.
SECONDS_AT_1M = {"01": 130.0, "02": 150.0, "03": 60.0, "04": 41.0, "05": 86.0, "06": 90.0, "07": 235.0, "08": 30.0}


def notebook_needs(nb_path: Path) -> str:
    """What a notebook reads: ``"sources"`` (the source files only: it may run while the month is
    resolved) or ``"resolution"`` (the default). From the notebook's ``omni`` metadata."""
    return "sources" if notebook_meta(nb_path).get("needs") == "sources" else "resolution"


def _expected_seconds(paths: list[Path], out_root: Path, dataset: str, records: int | None) -> dict[str, float]:
    """Expected run time of each notebook: its time in the latest earlier report of this dataset,
    else :data:`SECONDS_AT_1M` scaled by the records (at least 10 s)."""
    earlier: dict[str, float] = {}
    for got in earlier_metrics(out_root, dataset):
        earlier.update({k: float(v.get("seconds", 0)) for k, v in got.get("notebooks", {}).items()})
    scale = (records or 0) / 20e6
    return {p.stem: earlier.get(p.stem, max(10.0, SECONDS_AT_1M.get(p.stem[:2], 60.0) * scale)) for p in paths}


def _eta(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def run_report(
    data: str | Path = "data/sample",
    month: str | None = None,
    notebooks: str | Path = "notebooks",
    out: str | Path = "reports",
    seed: int = 7,
    only: list[str] | None = None,
    params: dict[str, Any] | None = None,
    kernel_name: str = "python3",
    progress: bool = True,
    jobs: int | None = None,
    lang: str | None = None,
    memory_budget: float | str | None = None,
    isolate: bool = True,
) -> Path:
    """Run every notebook for a month and write ``<out>/<month>/``.

    Parameters
    ----------
    data : path
        Dataset folder (``raw/sources.yaml`` inside).
    month : str, optional
        ``YYYY-MM``; defaults to the last complete month in the data.
    notebooks : path
        Folder of ``NN_name.ipynb`` notebooks, run in name order.
    out : path
        Reports folder; the month's reports go to ``<out>/<month>/``.
    seed : int
        Passed to every notebook.
    only : list of str, optional
        Run only notebooks whose name starts with one of these (``["01", "02"]``).
    params : dict, optional
        Extra parameters passed to every notebook.
    kernel_name : str
        Jupyter kernel (the current environment's ``python3`` by default).
    progress : bool
        Show progress on the console.
    jobs : int, optional
        Notebooks run at once, each in its own kernel (default: 2, or 1 on a one-core machine).
        Notebooks that read only the sources (``{"needs": "sources"}`` in their ``omni``
        metadata: the data audit) start while the month is being resolved, at a lower priority
        than the resolution; a notebook that starts beside one expected to take longer runs at a
        lower priority than it (:func:`omni.reporting.schedule.kernel_nice`). What the other
        notebooks read from the sources alone (``{"prepare": "omni.<package>"}`` in their
        metadata) is made meanwhile too, in a process of its own that takes a job slot
        (:mod:`omni.reporting.prepare`).
    lang : {"en", "zh"}, optional
        The report language, passed to every notebook as ``lang``; defaults to the dataset's
        ``report: {lang: ...}`` in sources.yaml, else English.
    memory_budget : float or str, optional
        GB (or ``"12GB"``) the running notebooks' kernels and the runner's resolution may take
        together by their estimates (:mod:`omni.reporting.schedule`): a notebook waits while it
        would not fit. Default: half the memory available when the run starts.
    isolate : bool
        Resolve the month in a child process (:mod:`omni.reporting.resolver`), so that everything
        the resolution held goes back to the system before the heavier notebooks start (at 1M
        people the runner kept 2.3 GB of freed pages). False resolves in this process (a caller
        that patched the resolution, or a debugger).

    Returns
    -------
    Path
        The month folder.

    Raises
    ------
    ReportError
        When a notebook fails (names the notebook and cell) or nothing is there to run.
    """
    import uuid
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    data = Path(data).resolve()
    nb_dir = Path(notebooks).resolve()
    out_root = Path(out).resolve()
    paths = _notebook_paths(nb_dir, only)
    jobs = max(1, int(jobs if jobs is not None else min(2, os.cpu_count() or 1)))

    if progress:
        console()

    def say(msg: str) -> None:
        if progress:
            progress_line(msg, log)

    t0 = time.perf_counter()
    month = str(Month.parse(month)) if month else None  # strict YYYY-MM (MonthError otherwise)
    ws = Workspace(data, progress=progress)
    lang = i18n.check_lang(lang, "--lang") if lang is not None else (ws.spec.report_lang or i18n.DEFAULT_LANG)
    early = [p for p in paths if notebook_needs(p) == "sources"]
    late = [p for p in paths if p not in early]
    try:
        prep = prepare_modules(late)  # a name that is not an omni package is refused, before any work
    except ValueError as err:
        raise ReportError(str(err), hint="a notebook's 'prepare' names the omni package whose prepare_month "
                          "makes its inputs, e.g. omni.audience", exit_code=2) from None
    child = ResolverProcess(data, month, progress) if late and isolate else None
    try:
        if child is not None:  # the child finds the month (from the data it then resolves)
            month, hint = child.month()
        else:
            month = month or ws.last_complete_month()
            hint = 0
    except BaseException:
        if child is not None:
            child.stop()
        raise
    say(f"omni report: dataset {data.name}, month {month}, {len(paths)} notebook(s), {jobs} at a time")
    fingerprint = ws.fingerprint
    handover = ws.fingerprint_handover()  # the kernels take it instead of hashing the files again
    month_dir = out_root / month
    month_dir.mkdir(parents=True, exist_ok=True)
    run_params = {"data": str(data), "month": month, "seed": seed, "lang": lang, **(params or {})}
    shown_params = {"dataset": data.name, "month": month, "seed": seed, **(params or {})}
    facts_common = {
        "data fingerprint": fingerprint[:16],
        "run date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "versions": ", ".join(f"{k} {v}" for k, v in package_versions().items()),
    }
    order = {p.stem: i for i, p in enumerate(paths, 1)}
    by_name = {p.stem: p for p in paths}
    results: dict[str, NotebookResult] = {}
    expected: dict[str, float] = {}
    run_warnings: list[str] = []
    series: dict[str, dict[str, float]] | None = None
    records: int | None = None
    budget = parse_memory(memory_budget) if memory_budget is not None else default_budget()
    if child is None and late:
        hint = records_hint(ws, month)
    memory = estimate_memory(paths, out_root, data.name, hint)
    memory[PREPARE] = gb_at_records(PREPARE_GB_AT_1M, hint)
    prep_job: PrepareJob | None = None
    if not late or child is not None:  # the runner loads nothing (the child resolves, if anything)
        ws = None
        release_memory()
    resolution_peak = 0
    saved_env = {k: os.environ.get(k) for k in (DATA_ENV, SHARE_ENV, FINGERPRINT_ENV, VERIFIED_ENV)}
    peaks = KernelPeaks()
    tag = uuid.uuid4().hex[:8]

    def run(name: str, nice: int) -> NotebookResult | Prepared:
        if name == PREPARE:
            say(f"omni report: reading the inputs of {', '.join(prep_job.modules)} from the sources while the month "
                "is resolved")
            return prep_job.run()
        nb_in = by_name[name]
        say(f"[{order[nb_in.stem]}/{len(paths)}] {nb_in.stem}: started")
        peaks.watch(f"{tag}{order[nb_in.stem]:02d}", nb_in.stem)
        return _run_and_export(nb_in, month_dir / f"{nb_in.stem}.ipynb", run_params, nb_dir, kernel_name,
                               False, shown_params, facts_common, lang=lang,
                               tag=f"{tag}{order[nb_in.stem]:02d}", nice=nice)

    def finished(done) -> None:
        for fut in done:
            r = fut.result()  # a notebook's ReportError propagates from here
            if isinstance(r, Prepared):  # the notebooks make whatever it did not
                made = [m for m in r.modules if m not in r.failed]
                if made:
                    say(f"omni report: inputs of {', '.join(made)} read in {r.seconds:.1f} s")
                for m, why in r.failed.items():
                    say(f"omni report: warning: reading the inputs of {m} failed ({why}); its notebook reads them itself")
                continue
            results[r.name] = r
            left = time_left()
            html = r.html.relative_to(out_root.parent) if out_root.parent in r.html.parents else r.html
            say(f"[{order[r.name]}/{len(paths)}] {r.name}: done in {r.seconds:.1f} s -> {html}"
                + (f"; about {_eta(left)} left" if len(results) < len(paths) and expected else ""))

    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="omni-notebook")
    running: dict = {}  # future -> notebook stem
    began: dict[str, float] = {}  # notebook stem -> when it started
    waiting: set[str] = set()

    def time_left() -> float:
        """Expected seconds until the notebooks are done, scheduled as the runner will (with the
        memory estimates: at 5M persons they run one after the other)."""
        now, names = time.perf_counter(), list(running.values())
        later = [p.stem for p in late if p.stem not in results and p.stem not in names and p.stem not in pending]
        todo = [n for n in pending if n != PREPARE] + longest_first(later, expected)
        return expected_left(todo, [*busy, *names], memory, expected, budget, jobs,
                             ran={n: now - began[n] for n in names if n in began})

    def held(name: str) -> bool:
        """A notebook whose inputs the running preparation is still making: it starts once they are made."""
        return (prep_job is not None and PREPARE in running.values() and name in prep
                and not prep_job.finished(prep[name]).done())

    def start(pending: list[str], busy: list[str]) -> None:
        """Start what fits (:func:`startable`); say once which notebook waits for memory."""
        nonlocal prep_job
        go = startable([n for n in pending if not held(n)], [*busy, *running.values()], memory, budget, jobs)
        for name in go:
            pending.remove(name)
            nice = kernel_nice(name, [*busy, *running.values()], expected,
                               beside_resolution="resolution" in busy)
            if name == PREPARE:  # the packages of the notebooks that will start first, first
                order = longest_first([n for n in prep], _expected_seconds(late, out_root, data.name, hint))
                prep_job = PrepareJob(data, month, [prep[n] for n in order], nice)
            running[pool.submit(run, name, nice)] = name
            began[name] = time.perf_counter()
        slots = jobs - len(running)
        for name in pending[:slots] if slots > 0 else []:
            if name not in waiting and not held(name):
                waiting.add(name)
                now = [*busy, *running.values()]
                say(f"omni report: {name} (about {format_gb(memory[name])}) waits for memory: "
                    f"{', '.join(now)} running, budget {format_gb(budget or 0)}")

    def awaited() -> list:
        """What the runner waits on: the running jobs, and the packages the preparation is making."""
        extra = ([f for f in (prep_job.finished(m) for m in prep_job.modules) if not f.done()]
                 if prep_job is not None and PREPARE in running.values() else [])
        return [*running, *extra]

    pending = [p.stem for p in early] + ([PREPARE] if prep and late else [])
    busy: list[str] = []
    try:
        os.environ[DATA_ENV] = str(data)  # every kernel of this run reads this dataset (see _run_one)
        os.environ[SHARE_ENV] = "1"  # and shares derived results (customer value) with the others
        os.environ[FINGERPRINT_ENV] = handover
        os.environ.pop(VERIFIED_ENV, None)  # set below to this run's own cache folders, once written
        with peaks:
            if late:
                start(pending, ["resolution"])
                peaks.reset_runner()
                if child is not None:
                    # while the child resolves: what finishes beside it, and what may start then
                    waiter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="omni-resolution")
                    try:
                        resolved = waiter.submit(child.wait)
                        while True:
                            got_now, _ = wait([*awaited(), resolved], return_when=FIRST_COMPLETED)
                            beside = [f for f in got_now if f in running]
                            for fut in beside:
                                running.pop(fut)
                            finished(beside)
                            if resolved in got_now:
                                break
                            start(pending, ["resolution"])
                        done = child.reissue(resolved.result())  # cached on disk; the child has exited
                    finally:
                        waiter.shutdown(wait=False)
                    resolution_peak = done["peak"]
                else:
                    got: list[tuple] = []
                    resolve_month(ws, month, got.append, log)
                    done = got[-1][1]
                    resolution_peak = peaks.reset_runner()
                run_warnings, records, series = done["warnings"], done["records"], done["series"]
                os.environ[VERIFIED_ENV] = json.dumps(done.get("caches", []))
                # the kernels read the resolution from the cache: the runner holds none of it while they run
                ws = None
                release_memory()
                for w in run_warnings:
                    say(f"omni report: warning: {w}")
                expected = _expected_seconds(paths, out_root, data.name, records)
                memory = estimate_memory(paths, out_root, data.name, records)
                memory[PREPARE] = gb_at_records(PREPARE_GB_AT_1M, records)  # it may still run
                # what the runner keeps after resolving (freed pages the allocators hold) counts too
                memory["runner"] = resident_gb()
                busy = ["runner"]
                say(f"omni report: month resolved in {time.perf_counter() - t0:.0f} s; notebooks expected to take "
                    f"about {_eta(time_left())}")
            if PREPARE in pending:  # the month is resolved: the notebooks read what they need themselves
                pending.remove(PREPARE)
            pending += longest_first([p.stem for p in late], expected)
            if budget is not None and any(memory[n] > budget / 2 for n in pending):
                say(f"omni report: memory budget {format_gb(budget)}; notebooks expected to take "
                    + ", ".join(f"{n[:2]} {format_gb(memory[n])}" for n in pending))
            while pending or running:
                start(pending, busy)
                got_now, _ = wait(awaited(), return_when=FIRST_COMPLETED)
                done = [f for f in got_now if f in running]
                for fut in done:
                    running.pop(fut)
                finished(done)
    except BaseException:
        for f in running:
            f.cancel()
        if child is not None:
            child.stop()
        if prep_job is not None:
            prep_job.stop()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    ordered = [results[p.stem] for p in paths]
    metrics = {
        "month": month,
        "dataset": data.name,
        "data_fingerprint": fingerprint,
        "seed": seed,
        "lang": lang,
        **({"warnings": run_warnings} if run_warnings else {}),
        **({"records": records} if records else {}),
        **({"memory_budget_gb": round(budget, 2)} if budget is not None else {}),
        **({"resolution_peak_gb": round(resolution_peak / 2**30, 2)} if resolution_peak else {}),
        "notebooks": {r.name: {"title": r.title, "seconds": round(r.seconds, 1),
                               **({"peak_gb": round(peaks.peaks[r.name] / 2**30, 2)} if r.name in peaks.peaks else {}),
                               "metrics": {m["key"]: m for m in r.metrics}} for r in ordered},
    }
    compare_months(metrics, out_root, series)  # previous month and trend of every headline figure
    with i18n.using_lang(lang):  # sidebar and contents on every page; headline -> its section
        nav = build_site(month_dir, metrics)
    (month_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    write_index(month_dir, metrics, out_root, total_seconds=time.perf_counter() - t0, lang=lang, nav=nav)
    say(f"omni report: wrote {month_dir} in {time.perf_counter() - t0:.0f} s")
    return month_dir


#: The job that makes what the notebooks read from the sources alone (:mod:`omni.reporting.prepare`).
PREPARE = "prepare"


def _notebook_paths(nb_dir: Path, only: list[str] | None) -> list[Path]:
    """The ``NN_name.ipynb`` notebooks of ``nb_dir`` in name order (those starting with ``only``).

    Raises
    ------
    ReportError
        When there is none.
    """
    paths = sorted(p for p in nb_dir.glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [p for p in paths if any(p.name.startswith(o) for o in only)]
    if not paths:
        raise ReportError(f"no notebooks to run in {nb_dir} (only={only})",
                          hint="--notebooks names a folder of NN_name.ipynb files; --only takes their prefixes")
    return paths


def _run_and_export(nb_in: Path, nb_out: Path, run_params: dict[str, Any], nb_dir: Path, kernel_name: str,
                    progress: bool, shown_params: dict[str, Any], facts: dict[str, str],
                    lang: str = i18n.DEFAULT_LANG, tag: str | None = None, nice: int = 0) -> NotebookResult:
    """Run one notebook, export its HTML next to it (with the report header) and read its metrics."""
    name = nb_in.stem
    t = time.perf_counter()
    _run_one(nb_in, nb_out, run_params, nb_dir, kernel_name, progress, tag, nice)
    secs = time.perf_counter() - t
    nb = nbformat.read(nb_out, as_version=4)
    title = notebook_title(nb, name, lang)
    with i18n.using_lang(lang):
        header = header_html(title, shown_params, {**facts, "run time": f"{secs:.1f} s"})
    html_path = nb_out.parent / f"{name}.html"
    export_html(nb_out, html_path, header, lang)
    return NotebookResult(name, nb_out, html_path, secs, collect_metrics(nb), title)
