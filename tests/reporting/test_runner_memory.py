"""The report runner holds no resolution while the notebooks' kernels run (each kernel reads the
cached resolution itself): at 1M people the runner's copy cost 16.7 GB next to every kernel's."""

import gc
import shutil

import omni.reporting.runner as runner
from omni.workspace import Resolved, Workspace


def test_runner_holds_no_resolution_while_kernels_run(test_world, tmp_path, monkeypatch):
    data = tmp_path / "world"
    shutil.copytree(test_world / "raw", data / "raw")
    seen = {}

    def fake_run(nb_in, nb_out, run_params, nb_dir, kernel_name, progress, shown_params, facts, lang="en",
                 tag=None, nice=0):
        gc.collect()
        seen[nb_in.stem[:2]] = sum(isinstance(o, Resolved | Workspace) for o in gc.get_objects())
        return runner.NotebookResult(nb_in.stem, nb_out, nb_out.with_suffix(".html"), 0.0, [], nb_in.stem)

    monkeypatch.setattr(runner, "_run_and_export", fake_run)
    runner.run_report(data=data, month="2026-10", out=tmp_path / "out", only=["01", "02"], progress=False,
                      notebooks=runner.TEMPLATE_DIR.parent.parent / "notebooks")
    # 01 (the audit) reads only the sources and runs while the month resolves; 02 starts after
    # the resolution is cached, and then the runner holds none of it
    assert seen["02"] == 0
    # the resolution the kernels will read is on disk
    assert any((data / "processed").glob("oneid-2026-10-*/manifest.json"))
