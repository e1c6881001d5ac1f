"""Expected errors through ``omni``: one stderr line with a hint, exit 2, no traceback (--debug shows it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from omni.cli import main
from omni.core import MonthError, OmniError
from omni.io import DataContractError
from omni.privacy import KEY_ENV, PseudonymKeyError
from omni.reporting.runner import ReportError
from omni.workspace import DatasetNotFoundError

ROOT = Path(__file__).resolve().parents[2]


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one stderr line, got {lines}"
    assert "Traceback" not in err
    assert lines[0].startswith("omni: error: ") and "(hint: " in lines[0]
    return lines[0]


@pytest.fixture()
def world_copy(test_world, tmp_path) -> Path:
    """A private copy of the test world's raw files (tests here break them)."""
    d = tmp_path / "world"
    shutil.copytree(test_world / "raw", d / "raw")
    return d


def test_every_expected_error_is_an_omni_error_with_a_hint():
    for cls in (DataContractError, MonthError, PseudonymKeyError, ReportError, DatasetNotFoundError):
        assert issubclass(cls, OmniError)
        assert cls("x").hint, cls
    # still the built-in types callers already catch
    assert issubclass(DataContractError, ValueError) and issubclass(MonthError, ValueError)
    assert issubclass(DatasetNotFoundError, FileNotFoundError) and issubclass(ReportError, RuntimeError)
    err = OmniError("bad thing\n  on two lines", hint="do this")
    assert str(err) == "bad thing\n  on two lines (hint: do this)" and err.exit_code == 2


@pytest.mark.parametrize("argv, expect", [
    (["report", "--month", "2026-1"], "month must be YYYY-MM"),
    (["report", "--month", "2026-13"], "no such month: 2026-13"),
    (["report", "--month", "2026-10-01"], "month must be YYYY-MM"),
    (["resolve", "--as-of", "Oct 2026"], "month must be YYYY-MM"),
    (["audience", "size", "--month", "2026/10"], "month must be YYYY-MM"),
])
def test_bad_month_is_one_line_exit_2(argv, expect, test_world, capsys):
    assert main([*argv, "--data", str(test_world), "--quiet"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert expect in line and "hint: give the month as YYYY-MM" in line


def test_contract_error_is_one_line_exit_2(world_copy, capsys):
    spec_path = world_copy / "raw" / "sources.yaml"
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    name = next(iter(spec["sources"]))
    spec["sources"][name]["format"] = "xlsx"
    spec_path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    assert main(["resolve", "--data", str(world_copy), "--quiet", "--rules-only"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "unknown format 'xlsx'" in line and name in line
    assert "docs/data_contract.md" in line


def test_missing_source_file_is_a_contract_error(world_copy, capsys):
    (world_copy / "raw" / "crm_members.csv").unlink()
    assert main(["resolve", "--data", str(world_copy), "--quiet", "--rules-only"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "crm_members" in line and "file not found" in line


def test_missing_dataset_and_missing_file_are_one_line(tmp_path, test_world, capsys):
    assert main(["resolve", "--data", str(tmp_path / "nowhere"), "--quiet"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "nowhere" in line and "not found" in line and "omni synth" in line
    assert main(["resolve", "--data", str(test_world), "--quiet", "--rules-only", "--evaluate", "no",
                 "--previous", str(tmp_path / "old.parquet")]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "old.parquet" in line and "hint: check the path" in line


def test_missing_and_short_key_are_one_line(test_world, tmp_path, monkeypatch, capsys):
    out = tmp_path / "aud"
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert main(["audience", "export", "--data", str(test_world), "--out", str(out), "--quiet"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "refuse to run without a pseudonymization key" in line and "secrets.token_hex(32)" in line
    monkeypatch.setenv(KEY_ENV, "x" * 31)
    assert main(["audience", "export", "--data", str(test_world), "--out", str(out), "--quiet"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "31 bytes" in line and "at least 32 bytes" in line and "secrets.token_hex(32)" in line
    assert "x" * 31 not in line  # the key itself is never printed
    assert not out.exists()


def test_bad_audience_option_is_one_line(test_world, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(KEY_ENV, "ab" * 32)
    assert main(["audience", "export", "--data", str(test_world), "--out", str(tmp_path / "a"),
                 "--platforms", "weibo", "--quiet"]) == 2
    assert "weibo" in _one_error_line(capsys.readouterr().err)


def test_no_notebooks_is_one_line(test_world, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["report", "--data", str(test_world), "--month", "2026-10", "--notebooks", str(tmp_path / "empty"),
                 "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "no notebooks to run" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("argv", [["--debug", "report", "--month", "2026-1"], ["report", "--month", "2026-1", "--debug"]])
def test_debug_reraises_for_the_traceback(argv, test_world):
    with pytest.raises(MonthError, match="YYYY-MM"):
        main([*argv, "--data", str(test_world)])


def test_unexpected_errors_keep_their_traceback(monkeypatch, test_world):
    import omni.cli

    def boom(args):
        raise RuntimeError("a bug")

    parser = omni.cli.build_parser
    monkeypatch.setattr(omni.cli, "build_parser", lambda: _with_func(parser(), boom))
    with pytest.raises(RuntimeError, match="a bug"):
        main(["resolve", "--data", str(test_world)])


def _with_func(parser, func):
    parser._subparsers._group_actions[0].choices["resolve"].set_defaults(func=func)
    return parser


def _omni(*args: str, drop_env: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in drop_env}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "omni", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


def test_subprocess_bad_month_one_line_and_debug_traceback(test_world):
    p = _omni("report", "--data", str(test_world), "--month", "2026-13", "--quiet")
    assert p.returncode == 2 and p.stdout == ""
    line = _one_error_line(p.stderr)
    assert line == ("omni: error: no such month: 2026-13 "
                    "(hint: give the month as YYYY-MM, for example --month 2026-10)")
    p = _omni("--debug", "report", "--data", str(test_world), "--month", "2026-13", "--quiet")
    assert p.returncode == 1 and "Traceback (most recent call last)" in p.stderr
    assert "omni.core.month.MonthError: no such month: 2026-13" in p.stderr


def test_subprocess_missing_key(test_world, tmp_path):
    p = _omni("audience", "export", "--data", str(test_world), "--out", str(tmp_path / "a"), "--quiet",
              drop_env=(KEY_ENV,))
    assert p.returncode == 2
    assert "pseudonymization key" in _one_error_line(p.stderr)
