"""The processed/ cache: a manifest of sizes and sha256, checked on read; damage is rebuilt with a warning."""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from omni.cli import main
from omni.core.errors import OmniWarning
from omni.oneid import OneIDConfig
from omni.workspace import MANIFEST, Workspace, check_manifest, verify_cache

RULES = OneIDConfig(probabilistic=False)  # the cache logic does not depend on the stage; faster


@pytest.fixture()
def cached(test_world, tmp_path):
    """A private copy of the test world with one cached (rules-only) resolution."""
    d = tmp_path / "world"
    shutil.copytree(test_world / "raw", d / "raw")
    with warnings.catch_warnings():
        warnings.simplefilter("error", OmniWarning)  # a fresh cache: no warning
        first = Workspace(d, config=RULES).resolve()
    (entry,) = [p for p in (d / "processed").iterdir()]
    return d, entry, first


def _assert_same(a, b) -> None:
    for name in ("record_oneid", "profiles", "values", "edges", "changes"):
        pd.testing.assert_frame_equal(getattr(a, name).reset_index(drop=True), getattr(b, name).reset_index(drop=True),
                                      check_dtype=False)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_dtype=False)
    assert {k: v for k, v in a.summary.items() if k != "seconds" and k != "stage_seconds"} == \
        {k: v for k, v in b.summary.items() if k != "seconds" and k != "stage_seconds"}


def test_manifest_lists_every_cached_file_with_size_and_sha256(cached):
    _, entry, _ = cached
    manifest = json.loads((entry / MANIFEST).read_text())
    files = sorted(f.name for f in entry.iterdir() if f.name != MANIFEST)
    assert sorted(manifest["files"]) == files and "summary.json" in files and "record_oneid.parquet" in files
    for name, m in manifest["files"].items():
        data = (entry / name).read_bytes()
        assert m["size"] == len(data) and m["sha256"] == hashlib.sha256(data).hexdigest()
    assert check_manifest(entry) == []
    assert not list(entry.parent.glob(".*"))  # no temporary folder or manifest left behind


def test_tampered_file_warns_and_rebuilds_identical(cached, capsys):
    d, entry, first = cached
    target = entry / "record_oneid.parquet"
    raw = bytearray(target.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte, same size: only the sha256 can tell
    target.write_bytes(bytes(raw))
    assert check_manifest(entry, hashes=False) == []
    assert check_manifest(entry) == ["record_oneid.parquet: sha256 differs from the manifest"]

    assert main(["cache", "verify", "--data", str(d)]) == 1
    out = capsys.readouterr().out
    assert f"MISMATCH {entry.name}  record_oneid.parquet: sha256 differs" in out
    assert "0 of 1 cache entries verified; 1 damaged" in out

    with pytest.warns(OmniWarning, match=r"damaged \(record_oneid.parquet: sha256 differs.*rebuilding"):
        again = Workspace(d, config=RULES).resolve()
    _assert_same(first, again)
    assert check_manifest(entry) == [] and (entry / "record_oneid.parquet").read_bytes() != bytes(raw)
    assert main(["cache", "verify", "--data", str(d)]) == 0
    assert f"OK       {entry.name}" in capsys.readouterr().out


@pytest.mark.parametrize("damage, expect", [
    (lambda e: (e / "profiles.parquet").write_bytes(b"PAR1 not parquet"), "profiles.parquet: size"),
    (lambda e: (e / "edges.parquet").unlink(), "edges.parquet: missing"),
    (lambda e: (e / MANIFEST).unlink(), "no manifest.json"),
    (lambda e: (e / MANIFEST).write_text("{not json"), "manifest.json unreadable"),
    (lambda e: (e / "summary.json").write_text("{}"), "summary.json: size"),
])
def test_any_damage_is_rebuilt_with_a_warning(cached, damage, expect):
    d, entry, first = cached
    damage(entry)
    assert any(expect in p for p in check_manifest(entry))
    with pytest.warns(OmniWarning, match="damaged"):
        again = Workspace(d, config=RULES).resolve()
    _assert_same(first, again)
    assert check_manifest(entry) == []


def test_unreadable_file_matching_its_manifest_is_rebuilt(cached, monkeypatch):
    """A file that passes the manifest but does not parse (say, written by a broken disk before
    the manifest was made) is rebuilt too."""
    d, entry, first = cached
    (entry / "values.parquet").write_bytes(b"garbage")
    from omni.workspace import write_manifest

    write_manifest(entry)  # the manifest agrees with the garbage
    with pytest.warns(OmniWarning, match=r"unreadable \(Arrow"):
        again = Workspace(d, config=RULES).resolve()
    _assert_same(first, again)


def test_cache_clear_and_verify_without_cache(cached, capsys):
    d, _, _ = cached
    assert main(["cache", "clear", "--data", str(d)]) == 0
    assert f"removed {d / 'processed'}" in capsys.readouterr().out
    assert not (d / "processed").exists()
    assert main(["cache", "verify", "--data", str(d)]) == 0
    assert "no cached resolutions" in capsys.readouterr().out
    assert verify_cache(d) == []
    assert main(["cache", "clear", "--data", str(d)]) == 0
    assert "no cache to remove" in capsys.readouterr().out


def test_cache_verify_of_a_missing_dataset_is_one_line(tmp_path, capsys):
    assert main(["cache", "verify", "--data", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("omni: error: dataset") and err.count("\n") == 1


def test_manifest_written_for_the_shared_test_world(test_world):
    """Every cache the other tests write carries a manifest that verifies."""
    Workspace(test_world, config=RULES).resolve()
    checks = verify_cache(test_world)
    assert checks and all(c.ok for c in checks if not c.detail.startswith("no manifest")), \
        [c for c in checks if not c.ok]


def test_verify_reports_each_entry(cached, capsys):
    d, entry, _ = cached
    Workspace(d, config=RULES).resolve(as_of="2026-10")  # two more entries: 2026-10 and 2026-09
    assert len(verify_cache(d)) == 3
    (entry / "links.parquet").write_bytes(b"x")
    assert main(["cache", "verify", "--data", str(d)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert sum(ln.startswith("OK ") for ln in lines) == 2 and sum(ln.startswith("MISMATCH") for ln in lines) == 1
    assert Path(d / "processed" / entry.name).exists()  # verify only reports; it does not remove


def test_report_kernels_skip_the_hashes_of_caches_this_run_wrote(cached, monkeypatch):
    """``omni report`` names the folders its resolving process wrote (VERIFIED_ENV): its kernels
    check their sizes against the manifest but do not hash them again; any other folder is hashed."""
    from omni.workspace import VERIFIED_ENV

    d, entry, first = cached
    target = entry / "summary.json"
    raw = target.read_bytes()
    assert raw.startswith(b"{\n")
    target.write_bytes(b"{ " + raw[2:])  # same size, other bytes, the same JSON
    monkeypatch.setenv(VERIFIED_ENV, json.dumps([str(entry)]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", OmniWarning)  # read as it is: no warning, no rebuild
        Workspace(d, config=RULES).resolve()
    assert entry.is_dir() and target.read_bytes() != raw
    # a size change is still found
    target.write_bytes(raw + b" ")
    with pytest.warns(OmniWarning, match="damaged"):
        Workspace(d, config=RULES).resolve()
    # without the variable the hashes are checked again
    monkeypatch.delenv(VERIFIED_ENV)
    new_entry = next(p for p in (d / "processed").iterdir() if p.name.startswith("oneid-"))
    t2 = new_entry / "summary.json"
    b2 = t2.read_bytes()
    t2.write_bytes(b"{ " + b2[2:])
    with pytest.warns(OmniWarning, match="sha256"):
        Workspace(d, config=RULES).resolve()
