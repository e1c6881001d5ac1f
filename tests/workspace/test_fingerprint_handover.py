"""The report hands its kernels the dataset's fingerprint (issue 16: about 1 s of hashing per
process at 1M persons); a kernel takes it only for the same folder and unchanged files."""

from __future__ import annotations

import json
import os
import shutil

from omni.workspace import FINGERPRINT_ENV, Workspace


def _world(test_world, tmp_path, name="world"):
    world = tmp_path / name
    shutil.copytree(test_world / "raw", world / "raw")
    return world


def test_handed_fingerprint_is_taken_for_the_same_unchanged_files(test_world, tmp_path, monkeypatch):
    world = _world(test_world, tmp_path)
    ws = Workspace(world)
    real = ws.fingerprint
    handover = json.loads(ws.fingerprint_handover())
    assert handover["fp"] == real and handover["path"] == str(world.resolve())
    # a marked value proves the kernel's workspace takes it instead of hashing
    monkeypatch.setenv(FINGERPRINT_ENV, json.dumps({**handover, "fp": "f" * 64}))
    assert Workspace(world).fingerprint == "f" * 64
    # another folder with the same files: hashed (the handover names the folder)
    other = _world(test_world, tmp_path, "other")
    assert Workspace(other).fingerprint == real
    # a changed file (new size and time): hashed again, and the new contents count
    f = next(p for p in sorted((world / "raw").iterdir()) if p.suffix == ".csv")
    f.write_bytes(f.read_bytes() + b"\n")
    changed = Workspace(world).fingerprint
    assert changed not in ("f" * 64, real)
    # the same size but a new modification time: hashed again too
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert Workspace(world).fingerprint == changed


def test_unreadable_handover_is_ignored(test_world, tmp_path, monkeypatch):
    world = _world(test_world, tmp_path)
    real = Workspace(world).fingerprint
    for bad in ("not json", json.dumps({"path": str(world.resolve())}), json.dumps([1, 2])):
        monkeypatch.setenv(FINGERPRINT_ENV, bad)
        assert Workspace(world).fingerprint == real


def test_no_handover_when_a_file_changed_after_it_was_hashed(test_world, tmp_path, monkeypatch):
    world = _world(test_world, tmp_path)
    ws = Workspace(world)
    real = ws.fingerprint
    f = next(p for p in sorted((world / "raw").iterdir()) if p.suffix == ".csv")
    f.write_bytes(f.read_bytes() + b"\n")  # rewritten after the hashing: the old hash must not travel
    assert ws.fingerprint_handover() == ""
    monkeypatch.setenv(FINGERPRINT_ENV, "")
    assert Workspace(world).fingerprint != real  # a kernel hashes the files itself
