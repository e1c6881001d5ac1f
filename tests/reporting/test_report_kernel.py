"""A notebook whose kernel dies becomes a ReportError naming the notebook, the cell and the cause."""

from __future__ import annotations

import nbformat
import pytest

from omni.cli import main
from omni.reporting.runner import ReportError, _run_one, last_started_cell, machine_memory_bytes


def _dying_notebook(path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("data = None\nmonth = None\nseed = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Dies"),
        params,
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("import os, signal\n\nos.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer does"),
        nbformat.v4.new_code_cell("never = True"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_killed_kernel_names_notebook_cell_and_cause(tmp_path):
    nb_in, nb_out = tmp_path / "01_dies.ipynb", tmp_path / "out" / "01_dies.ipynb"
    nb_out.parent.mkdir()
    _dying_notebook(nb_in)
    with pytest.raises(ReportError) as err:
        _run_one(nb_in, nb_out, {"seed": 1}, tmp_path, "python3", progress=False)
    e = err.value
    msg = str(e)
    assert "01_dies.ipynb" in msg and "kernel died" in msg and "DeadKernelError" in msg
    # the output notebook has the injected-parameters cell after the parameters: the kill is cell 5
    assert "in cell 5 ('import os, signal')" in msg
    assert "killed by the system" in msg and "out of memory" in msg
    gb = machine_memory_bytes() / 2**30
    assert f"this machine has {gb:.1f} GB of memory" in msg
    assert f"partial notebook is kept at {nb_out}" in msg and nb_out.exists()
    assert e.exit_code == 1 and "hint: " in msg
    # the partial notebook: the cells before the kill ran, the one after never started
    partial = nbformat.read(nb_out, as_version=4)
    assert partial.cells[3].execution_count is not None and partial.cells[5].execution_count is None
    assert last_started_cell(nb_out) == (5, "import os, signal")
    assert "\n" not in e.message


def test_cli_report_prints_kernel_death_on_one_line(test_world, tmp_path, capsys):
    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    _dying_notebook(nb_dir / "01_dies.ipynb")
    code = main(["report", "--data", str(test_world), "--month", "2026-10", "--notebooks", str(nb_dir),
                 "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 1
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("omni: error: ")]
    assert len(lines) == 1 and "Traceback" not in err
    assert "01_dies.ipynb" in lines[0] and "out of memory" in lines[0] and "(hint: " in lines[0]
    assert (tmp_path / "out" / "2026-10" / "01_dies.ipynb").exists()
