"""The report month is resolved in a spawned child process (omni.reporting.resolver): its memory
goes back to the system before the notebooks run, its errors and warnings come back to the runner
as if it had resolved in-process, and a child killed by the system is one clear line."""

import json
import multiprocessing as mp
import os
import shutil
import signal
import warnings

import pytest

import omni.reporting.runner as runner
from omni.io.errors import DataContractError
from omni.oneid import linkage
from omni.reporting.resolver import ResolutionError, ResolverProcess, _child
from omni.workspace import Workspace


@pytest.fixture()
def world(test_world, tmp_path):
    d = tmp_path / "world"
    shutil.copytree(test_world / "raw", d / "raw")
    return d


def _no_notebooks(monkeypatch):
    def fake_run(nb_in, nb_out, *args, **kwargs):
        return runner.NotebookResult(nb_in.stem, nb_out, nb_out.with_suffix(".html"), 0.0, [], nb_in.stem)

    monkeypatch.setattr(runner, "_run_and_export", fake_run)


def test_child_resolves_the_month_the_runner_would(world, tmp_path, monkeypatch):
    """The child finds the month, caches the resolution the kernels read, and sends back the
    records, the order trends and its own peak; the runner's metrics carry them."""
    _no_notebooks(monkeypatch)
    month_dir = runner.run_report(data=world, out=tmp_path / "out", only=["02"], progress=False,
                                  notebooks=runner.TEMPLATE_DIR.parent.parent / "notebooks")
    ws = Workspace(world)
    assert month_dir.name == ws.last_complete_month() == "2026-10"
    cached = ws.cached_resolution("2026-10")
    assert cached is not None  # the child's resolution, on disk
    metrics = json.loads((month_dir / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["records"] == cached.summary["records"] == len(cached.read("record_oneid", ["record_key"]))
    assert 0.05 < metrics["resolution_peak_gb"] < 8  # the child's peak, not the runner's
    # the child's workspace is shared: it kept the sources it loaded, for the audit beside it
    shared = Workspace(world, share=True)
    assert all(shared.loaded_source_kept(n) for n in shared._record_sources())


def test_child_error_comes_back_with_its_class_and_message(world):
    head, *rest = (world / "raw" / "crm_members.csv").read_text(encoding="utf-8").splitlines(True)
    (world / "raw" / "crm_members.csv").write_text(head.replace("member_id", "member_idx", 1) + "".join(rest),
                                                   encoding="utf-8")
    child = ResolverProcess(world, "2026-10", progress=False)
    try:
        month, hint = child.month()  # the month is known before the resolution fails
        assert month == "2026-10" and hint > 50_000
        with pytest.raises(DataContractError, match=r"source 'crm_members' \(file 'crm_members.csv'\): "
                                                    r"declared column\(s\) \['member_id'\] missing"):
            child.result()
    finally:
        child.stop()


def test_child_killed_is_one_clear_error(world):
    child = ResolverProcess(world, "2026-10", progress=False)
    os.kill(child.pid, signal.SIGKILL)
    with pytest.raises(ResolutionError, match=r"ended without a result \(killed by signal 9\)") as err:
        child.month()
    assert err.value.exit_code == 1 and "more memory" in err.value.hint


def test_child_sends_the_resolutions_warnings(world, monkeypatch):
    """The child body, run here with the probabilistic stage failing: the rules-only fallback's
    warning is recorded and sent with the result, for the runner to issue again."""

    def fail(*args, **kwargs):
        raise RuntimeError("stage broke")

    monkeypatch.setattr(linkage, "link_accounts", fail)
    recv, send = mp.Pipe(duplex=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _child(send, str(world), "2026-10", False)
    month = recv.recv()
    kind, done = recv.recv()
    assert month[:2] == ("month", "2026-10") and kind == "done"
    assert len(done["warnings"]) == 1 and "RuntimeError" in done["warnings"][0]  # in the cached summary
    assert any("RuntimeError" in message for _, message in done["warnings_raised"])
    assert done["records"] > 50_000 and done["peak"] > 0
