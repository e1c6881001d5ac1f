"""The probabilistic stage never takes a resolution, report or export down: it degrades to rules only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import omni.oneid.linkage as linkage
from omni.cli import main
from omni.core.errors import OmniWarning
from omni.oneid import OneIDConfig
from omni.workspace import Workspace

try:  # the real class Splink raises when EM fails
    from splink.exceptions import EMTrainingException
except ImportError:
    try:
        from splink.internals.exceptions import EMTrainingException
    except ImportError:  # pragma: no cover - another Splink layout
        class EMTrainingException(Exception):  # type: ignore[no-redef]
            pass

ROOT = Path(__file__).resolve().parents[2]
EM_MESSAGE = ("EM training failed: the m probability of level 'exact' of comparison 'receiver_name' "
              "underflowed to 0 (seen for account 13800138000)")


@pytest.fixture()
def failing_stage(monkeypatch):
    calls = []

    def fail(res, quasi, ids=None, config=None):
        calls.append(len(res.records))
        raise EMTrainingException(EM_MESSAGE)

    monkeypatch.setattr(linkage, "link_accounts", fail)
    return calls


@pytest.fixture()
def world_copy(test_world, tmp_path) -> Path:
    d = tmp_path / "world"  # a private copy: a fallback is cached under the probabilistic key
    shutil.copytree(test_world / "raw", d / "raw")
    return d


def test_failed_stage_degrades_to_rules_only(world_copy, failing_stage):
    with pytest.warns(OmniWarning, match="EMTrainingException") as rec:
        r = Workspace(world_copy).resolve()
    assert failing_stage == [len(r.record_oneid)]  # the stage was tried, on every record
    assert len(rec) == 1
    rules = Workspace(world_copy, config=OneIDConfig(probabilistic=False)).resolve()
    # the links of the rules only, identical down to the OneID strings and the profiles
    pd.testing.assert_frame_equal(r.record_oneid, rules.record_oneid)
    pd.testing.assert_frame_equal(r.profiles, rules.profiles)
    assert (r.record_oneid["how"] == "probabilistic").sum() == 0 and len(r.links) == 0
    assert r.summary["records"] == rules.summary["records"] == 60_458
    assert r.summary["profiles"] == rules.summary["profiles"] == 9_975
    assert r.summary["probabilistic_links"] == 0
    stage = r.summary["probabilistic"]
    assert stage["status"] == "failed" and stage["fallback"] == "rules only"
    (warning,) = r.summary["warnings"]
    assert "EMTrainingException" in warning and "deterministic rules only" in warning
    assert "13800138000" not in warning and "<redacted>" in warning  # no raw id in a summary
    # cached with its warning: a notebook opening the workspace sees it without re-running the stage
    again = Workspace(world_copy).resolve()
    assert again.summary["warnings"] == [warning] and failing_stage == [len(r.record_oneid)]


def test_cli_resolve_and_audiences_survive_the_failure(world_copy, failing_stage, capsys):
    with pytest.warns(OmniWarning) as rec:
        assert main(["resolve", "--data", str(world_copy), "--as-of", "2026-10", "--evaluate", "no", "--quiet"]) == 0
    assert len(rec) == 2  # 2026-10 and, for the carried-over OneIDs, 2026-09
    cap = capsys.readouterr()
    out = json.loads(cap.out)
    assert out["probabilistic"]["status"] == "failed" and len(out["warnings"]) == 1
    assert "probabilistic" not in out["how"] and "Traceback" not in cap.err
    assert main(["audience", "size", "--data", str(world_copy), "--month", "2026-10", "--quiet"]) == 0
    assert "browse_abandon_7d" in capsys.readouterr().out
    # outside pytest's recorder, `omni` prints an OmniWarning as one line
    from omni.cli import _format_warning

    line = _format_warning(rec[0].message, OmniWarning, "workspace.py", 1)
    assert line.startswith("omni: warning: the probabilistic account-linking stage failed (EMTrainingException")
    assert line.count("\n") == 1 and line.endswith("\n")
    assert "omni: warning" not in _format_warning("other", UserWarning, "x.py", 1)


def test_report_notebook_02_shows_the_fallback(world_copy, failing_stage, tmp_path):
    """End to end: the runner resolves (the stage fails, rules only, cached with the warning),
    notebook 02 (built from its source) reads that resolution and shows the warning."""
    import importlib.util

    from omni.reporting.runner import run_report

    spec = importlib.util.spec_from_file_location("nbbuild", ROOT / "tools" / "nbbuild.py")
    nbbuild = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nbbuild)
    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    nbbuild.build(ROOT / "notebooks" / "src" / "02_identity_resolution.py", nb_dir)
    with pytest.warns(OmniWarning):
        month_dir = run_report(data=world_copy, month="2026-10", notebooks=nb_dir, out=tmp_path / "out",
                               progress=False, isolate=False)  # the patched stage lives in this process
    page = (month_dir / "02_identity_resolution.html").read_text(encoding="utf-8")
    assert "<strong>Warning:</strong> the probabilistic account-linking stage failed (EMTrainingException" in page
    assert "<strong>The probabilistic stage did not run to the end</strong>" in page
    assert "unbound accounts were scored" not in page  # no stage figures from a stage that failed
    assert "13800138000" not in page
    metrics = json.loads((month_dir / "metrics.json").read_text(encoding="utf-8"))
    assert len(metrics["warnings"]) == 1 and "EMTrainingException" in metrics["warnings"][0]
