"""A resolution that cannot fit is refused before it loads anything (issue 16: at 5M persons the
default ``omni resolve`` was killed by the system after 277 s of loading, at 24.4 GB).

The record count comes from the files (Parquet metadata, CSV line lengths), checked against the
true counts; the refusal is one line naming the records, the memory needed and the memory
available, with an exit code, and can be overridden."""

from __future__ import annotations

import json
import os
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import omni.memory
from omni.cli import main
from omni.io.read import estimate_rows
from omni.io.spec import SourceSpec
from omni.memory import (
    MEMORY_CHECK_ENV,
    InsufficientMemoryError,
    check_resolution_memory,
    resolution_memory_gb,
)
from omni.workspace import PROCESSED, Workspace


@pytest.fixture()
def world(test_world, tmp_path):
    d = tmp_path / "world"
    shutil.copytree(test_world / "raw", d / "raw")
    shutil.copytree(test_world / "truth", d / "truth")
    return d


def _spec(fmt: str) -> SourceSpec:
    return SourceSpec(name="x", file="x", format=fmt)


def test_rows_are_estimated_from_the_files(tmp_path, test_world):
    # a CSV larger than the sample: within 1 % of its rows (lines of varying length)
    lines = [f"K{i:09d},{'a' * (i % 37)},{i * 7 % 1000}\n" for i in range(120_000)]
    csv = tmp_path / "big.csv"
    csv.write_text("key,text,n\n" + "".join(lines), encoding="utf-8")
    assert csv.stat().st_size > 2 * omni.io.read.ROW_SAMPLE_BYTES
    got = estimate_rows(_spec("csv"), csv)
    assert abs(got - 120_000) / 120_000 < 0.01
    # a small CSV is counted exactly, with or without its last newline; Parquet from its metadata
    small = tmp_path / "small.csv"
    small.write_text("key,n\nA,1\nB,2\nC,3", encoding="utf-8")
    assert estimate_rows(_spec("csv"), small) == 3
    pq.write_table(pa.table({"k": list(range(1234))}), tmp_path / "t.parquet")
    assert estimate_rows(_spec("parquet"), tmp_path / "t.parquet") == 1234
    assert estimate_rows(_spec("csv"), tmp_path / "missing.csv") == 0
    for data, rows in ((b"", 0), (b"key,n\n", 0), (b"key,n", 0), (b"key,n\r\nA,1\r\nB,2\r\n", 2),
                       (b"key,n\rA,1\rB,2", 2)):
        small.write_bytes(data)
        assert estimate_rows(_spec("csv"), small) == rows, data
    # an encoding that is not ASCII-compatible is decoded to count lines (a CJK character of
    # UTF-16 may hold the byte of a newline): within 1 % for a large file
    wide = tmp_path / "wide.csv"
    wide.write_bytes(("key,city\n" + "".join(f"K{i:07d},上海\n" for i in range(150_000))).encode("utf-16"))
    spec16 = SourceSpec(name="x", file="x", format="csv", encoding="utf-16")
    assert abs(estimate_rows(spec16, wide) - 150_000) / 150_000 < 0.01
    # the test world's person records, against the rows the synthetic world wrote
    rows = json.loads((test_world / "truth" / "params.json").read_text())["rows"]
    ws = Workspace(test_world)
    want = sum(rows[n] for n in ws._record_sources())
    assert ws.estimated_records() == want


def test_the_check_names_what_is_needed_and_what_is_available(monkeypatch):
    monkeypatch.delenv(MEMORY_CHECK_ENV, raising=False)
    assert resolution_memory_gb(20.1e6) == pytest.approx(7.64, abs=0.01)  # the default resolve at 1M: 7.66 GB
    assert check_resolution_memory(20.1e6, "w1m", available=22.0) == pytest.approx(7.64, abs=0.01)
    # above 40 M records the resolution works out of core: 5M persons (100.6 M records) peaked at
    # 19.96 GB (session 19) and pass on the 24 GB machine; 10M persons do not
    assert check_resolution_memory(100.6e6, "w5m", available=22.0) == pytest.approx(20.0, abs=0.05)
    assert resolution_memory_gb(40e6) == pytest.approx(14.8, abs=0.01)
    with pytest.raises(InsufficientMemoryError) as err:
        check_resolution_memory(200e6, "w10m", available=22.0)
    text = str(err.value)
    assert "w10m: about 200.0 M records" in text and "28.6 GB" in text and "22.0 GB are available" in text
    assert "--engine spark" in text and "--no-memory-check" in text and err.value.exit_code == 2
    with pytest.raises(InsufficientMemoryError, match="20.0 GB and 18.5 GB are available"):
        check_resolution_memory(100.6e6, "w5m", available=18.5)
    monkeypatch.setenv(MEMORY_CHECK_ENV, "off")
    assert check_resolution_memory(200e6, "w10m", available=22.0) > 22.0


def test_a_resolution_that_cannot_fit_is_refused_before_loading(world, monkeypatch, capsys):
    monkeypatch.delenv(MEMORY_CHECK_ENV, raising=False)
    monkeypatch.setattr(omni.memory, "available_memory", lambda: 0.05)  # 50 MB free
    loads = []
    import omni.workspace as wsmod

    monkeypatch.setattr(wsmod, "load_source", lambda *a, **k: loads.append(a) or pytest.fail("loaded"))
    with pytest.raises(InsufficientMemoryError, match="world: about 60,460 records; loading and resolving"):
        Workspace(world).resolve(as_of="2026-10")
    assert loads == [] and not any((world / PROCESSED).glob("oneid-*"))
    # the command line: one line, exit 2, no traceback
    assert main(["resolve", "--data", str(world), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("omni: error: world: about 60,460 records") and "\n" not in err
    assert "Traceback" not in err


def test_the_check_can_be_overridden_and_a_cached_run_is_not_checked(world, monkeypatch, capsys):
    monkeypatch.delenv(MEMORY_CHECK_ENV, raising=False)
    monkeypatch.setattr(omni.memory, "available_memory", lambda: 0.05)
    assert main(["resolve", "--data", str(world), "--quiet", "--rules-only", "--evaluate", "no",
                 "--no-memory-check"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["records"] == 60_458
    assert MEMORY_CHECK_ENV not in os.environ  # restored after the command
    # the same resolution again: read from the cache, nothing loaded, nothing to check
    assert main(["resolve", "--data", str(world), "--quiet", "--rules-only", "--evaluate", "no"]) == 0
    assert json.loads(capsys.readouterr().out)["records"] == 60_458
    # a value set before the command is put back as it was; the audience commands take the flag too
    monkeypatch.setenv(MEMORY_CHECK_ENV, "on")
    assert main(["resolve", "--data", str(world), "--quiet", "--rules-only", "--evaluate", "no",
                 "--no-memory-check"]) == 0
    assert os.environ[MEMORY_CHECK_ENV] == "on"
    from omni.cli import build_parser

    assert build_parser().parse_args(["audience", "size", "--no-memory-check"]).no_memory_check
