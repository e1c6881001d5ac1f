"""The report runner's schedule (issue 16): notebooks that read only the sources run while the
month is being resolved, at a lower priority (the resolution is the critical path); the others
start once the resolution is cached; results keep the notebooks' order; --jobs is checked."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from omni.reporting.runner import (
    ReportError,
    _expected_seconds,
    kernel_command,
    notebook_needs,
    run_report,
)
from omni.reporting.schedule import BESIDE_LONGER_NICE, BESIDE_RESOLUTION_NICE, kernel_nice

PROBE = """import json, os, pathlib, time
root = pathlib.Path(data) / "processed"
cached = sorted(p.name for p in root.glob("oneid-{month}-*")) if root.exists() else []
group = pathlib.Path("/proc/self/autogroup")
session = group.read_text().split()[-1] if group.exists() else None
pathlib.Path(out_file).write_text(json.dumps({{"start": time.time(), "cached": cached, "nice": os.nice(0),
                                              "session_nice": session,
                                              "verified": os.environ.get("OMNI_VERIFIED_CACHES"),
                                              "fingerprint": os.environ.get("OMNI_FINGERPRINT")}}))
"""


def _probe(path, name: str, out_file: str, needs: str | None) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("data = None\nmonth = None\nseed = 0\nlang = 'en'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), params,
                nbformat.v4.new_code_cell(f"out_file = {out_file!r}\n" + PROBE.format(month="2026-10"))]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if needs:
        nb.metadata["omni"] = {"needs": needs}
    nbformat.write(nb, path / f"{name}.ipynb")


def _world_and_two_probes(test_world, tmp_path) -> tuple[Path, Path]:
    """A copy of the test world without a cache (the resolution takes a while) and two probe
    notebooks: one that reads the sources only, one that needs the month resolved."""
    world = tmp_path / "world"
    shutil.copytree(test_world / "raw", world / "raw")
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _probe(nbs, "01_sources", str(tmp_path / "01.json"), "sources")
    _probe(nbs, "02_resolved", str(tmp_path / "02.json"), None)
    return world, nbs


def test_source_notebooks_run_while_the_month_resolves(test_world, tmp_path):
    world, nbs = _world_and_two_probes(test_world, tmp_path)
    assert notebook_needs(nbs / "01_sources.ipynb") == "sources"
    assert notebook_needs(nbs / "02_resolved.ipynb") == "resolution"
    month_dir = run_report(data=world, month="2026-10", notebooks=nbs, out=tmp_path / "out", progress=False,
                           jobs=2)
    first = json.loads((tmp_path / "01.json").read_text())
    second = json.loads((tmp_path / "02.json").read_text())
    assert first["cached"] == []  # it started before the month's resolution was cached
    assert len(second["cached"]) == 1  # it started after
    assert first["start"] < second["start"]
    # the audit-like notebook yields the cores to the resolution; the others run at the runner's priority
    base = os.nice(0)
    assert first["nice"] == min(base + BESIDE_RESOLUTION_NICE, 19) and second["nice"] == base
    if first["session_nice"] is not None:  # Linux autogroups: the kernel's session yields too
        assert int(first["session_nice"]) == BESIDE_RESOLUTION_NICE
    metrics = json.loads((month_dir / "metrics.json").read_text())
    assert list(metrics["notebooks"]) == ["01_sources", "02_resolved"]
    # the kernels get the fingerprint the runner computed, and after the resolution the cache
    # folders its process wrote (this month's and the previous one's: read without hashing again)
    from omni.workspace import Workspace

    assert json.loads(first["fingerprint"])["fp"] == Workspace(world).fingerprint
    verified = sorted(Path(p).name.rsplit("-", 1)[0] for p in json.loads(second["verified"]))
    assert verified == ["oneid-2026-09", "oneid-2026-10"] and first["verified"] is None


def test_kernel_command_nice():
    cmd = ["python", "-m", "ipykernel_launcher", "-f", "c.json"]
    assert kernel_command(cmd, 0) == cmd
    niced = kernel_command(cmd, 10)
    if os.name == "posix" and shutil.which("nice"):
        assert niced[1:3] == ["-n", "10"] and niced[3:] == cmd and niced[0].endswith("nice")
    else:
        assert niced == cmd


def test_kernel_nice_yields_to_the_resolution_and_to_longer_notebooks():
    expected = {"02_identity": 90.0, "07_recs": 300.0, "06_aud": 95.0}
    assert kernel_nice("01_audit", ["resolution"], {}, beside_resolution=True) == BESIDE_RESOLUTION_NICE
    assert kernel_nice("07_recs", [], expected) == 0  # the longest starts first, at full priority
    assert kernel_nice("02_identity", ["runner", "07_recs"], expected) == BESIDE_LONGER_NICE
    assert kernel_nice("06_aud", ["runner", "02_identity"], expected) == 0  # beside a shorter one
    assert kernel_nice("06_aud", ["runner"], {}) == 0  # nothing known: no change
    assert 0 < BESIDE_LONGER_NICE < BESIDE_RESOLUTION_NICE <= 19


@pytest.mark.parametrize("budget, audit_nice", [(None, BESIDE_RESOLUTION_NICE), (0.001, 0)])
def test_audit_yields_only_while_the_resolution_runs(test_world, tmp_path, monkeypatch, capsys, budget, audit_nice):
    """The audit starts at niceness 10 beside the resolution; when it cannot (no memory for it
    then), the runner says it waits for memory and it starts after the resolution at full priority."""
    from omni.reporting import runner

    world, nbs = _world_and_two_probes(test_world, tmp_path)
    seen = {}

    def fake_run(nb_in, nb_out, *args, nice=0, **kwargs):
        seen[nb_in.stem] = (nice, os.environ.get("OMNI_VERIFIED_CACHES") is not None)
        return runner.NotebookResult(nb_in.stem, nb_out, nb_out.with_suffix(".html"), 0.0, [], nb_in.stem)

    monkeypatch.setattr(runner, "_run_and_export", fake_run)
    monkeypatch.setattr(runner, "write_index", lambda *a, **k: None)
    monkeypatch.setattr(runner, "build_site", lambda *a, **k: {})
    run_report(data=world, month="2026-10", notebooks=nbs, out=tmp_path / "out", progress=True, jobs=2,
               memory_budget=budget, isolate=False)
    said = capsys.readouterr()
    assert ("01_sources (about" in said.out + said.err and "waits for memory" in said.out + said.err) == (budget is not None)
    assert seen["01_sources"] == (audit_nice, budget is not None)  # after the resolution: caches named
    assert seen["02_resolved"] == (0, True)


def test_session_niceness_retries_while_the_system_says_wait(monkeypatch, tmp_path):
    """Without CAP_SYS_ADMIN Linux takes one autogroup change per 100 ms (EAGAIN otherwise)."""
    from omni.reporting import runner

    target = tmp_path / "autogroup"
    target.write_text("/autogroup-1 nice 0\n")
    calls = []
    real_path = runner.Path

    class FakePath(type(real_path())):
        def write_text(self, text, *a, **k):
            calls.append(text)
            if len(calls) < 3:
                raise BlockingIOError(11, "Resource temporarily unavailable")
            return target.write_text(text)

        def exists(self):
            return True

    monkeypatch.setattr(runner, "Path", FakePath)
    assert runner.lower_session_priority(12345, BESIDE_LONGER_NICE) is True
    assert calls == [str(BESIDE_LONGER_NICE)] * 3 and target.read_text() == str(BESIDE_LONGER_NICE)
    assert runner.lower_session_priority(12345, 0) is False  # nothing to lower


def test_expected_seconds_prefer_the_previous_report(tmp_path):
    paths = [tmp_path / "01_data_audit.ipynb", tmp_path / "02_identity_resolution.ipynb"]
    scaled = _expected_seconds(paths, tmp_path, "w", records=20_000_000)
    assert scaled["01_data_audit"] > 30 and scaled["02_identity_resolution"] > 30
    small = _expected_seconds(paths, tmp_path, "w", records=60_000)
    assert small == {"01_data_audit": 10.0, "02_identity_resolution": 10.0}
    (tmp_path / "2026-09").mkdir()
    (tmp_path / "2026-09" / "metrics.json").write_text(json.dumps(
        {"dataset": "w", "notebooks": {"01_data_audit": {"seconds": 42.0}}}))
    got = _expected_seconds(paths, tmp_path, "w", records=60_000)
    assert got["01_data_audit"] == 42.0 and got["02_identity_resolution"] == 10.0


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_bad_jobs_is_one_line_exit_2(jobs, test_world, capsys):
    from omni.cli import main

    with pytest.raises(SystemExit) as err:
        main(["report", "--data", str(test_world), "--jobs", jobs])
    assert err.value.code == 2
    assert "--jobs" in capsys.readouterr().err


def test_what_notebooks_read_from_the_sources_is_made_while_the_month_resolves(test_world, tmp_path, capsys):
    """A notebook that names ``{"prepare": "omni.audience"}`` finds the audiences' consent inputs
    already made when it starts: made beside the resolution in a process of its own, kept in the
    dataset's memo folder, equal to what the notebook would make itself. A package that fails
    there costs a warning only: the notebooks make the inputs themselves."""
    import pickle

    from omni.audience.pipeline import _consent_inputs
    from omni.workspace import Workspace

    world, nbs = _world_and_two_probes(test_world, tmp_path)
    nb = nbformat.read(nbs / "02_resolved.ipynb", as_version=4)
    nb.metadata["omni"] = {"prepare": "omni.audience"}
    nbformat.write(nb, nbs / "02_resolved.ipynb")
    run_report(data=world, month="2026-10", notebooks=nbs, out=tmp_path / "out", progress=True, jobs=2)
    said = capsys.readouterr()
    assert "inputs of omni.audience read in" in said.out + said.err
    made = list((world / "processed" / "memo").rglob("audience-*.pkl"))
    assert len(made) == 1
    started = json.loads((tmp_path / "02.json").read_text())["start"]
    assert made[0].stat().st_mtime < started  # ready before the notebook started
    got = pickle.loads(made[0].read_bytes())
    want = _consent_inputs(Workspace(world))
    pd.testing.assert_frame_equal(got.ids, want.ids)
    pd.testing.assert_frame_equal(got.quarantine, want.quarantine)
    assert list(got.tables) == list(want.tables)
    for n in want.tables:
        pd.testing.assert_frame_equal(got.tables[n], want.tables[n])
    # a shared workspace reads them from there (nothing is made again)
    shared = Workspace(world, share=True)
    import omni.audience.pipeline as pl

    real = pl._consent_inputs
    try:
        pl._consent_inputs = lambda ws: (_ for _ in ()).throw(AssertionError("made again"))
        pd.testing.assert_frame_equal(pl.consent_inputs(shared).ids, want.ids)
    finally:
        pl._consent_inputs = real

    # a package that fails there: a warning, and the report goes on
    nb.metadata["omni"] = {"prepare": "omni.nosuchpackage"}
    nbformat.write(nb, nbs / "02_resolved.ipynb")
    run_report(data=world, month="2026-10", notebooks=nbs, out=tmp_path / "out2", progress=True, jobs=2)
    said = capsys.readouterr()
    assert "reading the inputs of omni.nosuchpackage failed" in said.out + said.err
    # a name outside omni is refused before any work
    nb.metadata["omni"] = {"prepare": "os"}
    nbformat.write(nb, nbs / "02_resolved.ipynb")
    with pytest.raises(ReportError, match="must name an omni package") as err:
        run_report(data=world, month="2026-10", notebooks=nbs, out=tmp_path / "out3", progress=False, jobs=2)
    assert err.value.exit_code == 2
