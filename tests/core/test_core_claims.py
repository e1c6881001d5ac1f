"""Claims on a shared file: one process makes it, the others wait for it (omni.core.claims)."""

from __future__ import annotations

import multiprocessing as mp
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from omni.core.claims import claim_path, claimed, held_elsewhere


def _hold_then_make(target: str, started, seconds: float, make: bool) -> None:
    with claimed(Path(target)) as mine:
        assert mine
        started.set()
        time.sleep(seconds)
        if make:
            Path(target).write_text("made by the holder")


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _holder(target: Path, seconds: float, make: bool):
    """A process of its own that holds the claim on ``target`` (started and holding on return)."""
    ctx = mp.get_context("spawn")
    started = ctx.Event()
    holder = ctx.Process(target=_hold_then_make, args=(str(target), started, seconds, make))
    holder.start()
    assert started.wait(60)
    return holder


def test_a_process_waits_for_the_file_another_process_is_making(tmp_path):
    target = tmp_path / "value.pkl"
    holder = _holder(target, 1.0, True)
    assert held_elsewhere(target)
    t0 = time.perf_counter()
    with claimed(target) as mine:
        waited = time.perf_counter() - t0
        assert not mine  # made by the holder: read, not made again
    holder.join(60)
    assert target.read_text() == "made by the holder"
    assert waited > 0.3  # it waited for the holder instead of making the file beside it
    assert not claim_path(target).exists() and not held_elsewhere(target)


def test_a_holder_that_ends_without_the_file_hands_the_claim_on(tmp_path):
    target = tmp_path / "value.pkl"
    holder = _holder(target, 0.5, False)
    with claimed(target) as mine:
        assert mine  # the holder failed: this process makes it
        assert claim_path(target).read_text().strip() == str(__import__("os").getpid())
        target.write_text("made by the waiter")
    holder.join(60)
    assert not claim_path(target).exists()


def test_the_claim_of_a_process_that_no_longer_runs_is_taken_over(tmp_path):
    target = tmp_path / "value.pkl"
    claim_path(target).write_text(f"{_dead_pid()}\n")
    assert not held_elsewhere(target)
    t0 = time.perf_counter()
    with claimed(target) as mine:
        assert mine
    assert time.perf_counter() - t0 < 5
    assert not claim_path(target).exists()


def test_a_claim_older_than_any_making_is_taken_over_whatever_its_process_id(tmp_path):
    """A process id the system has given to another process since the claim was made must not
    keep the others waiting: a claim older than STALE_CLAIM_SECONDS is stale."""
    import os

    from omni.core.claims import STALE_CLAIM_SECONDS

    target = tmp_path / "value.pkl"
    claim = claim_path(target)
    claim.write_text(f"{os.getppid()}\n")  # a running process
    assert held_elsewhere(target)
    old = time.time() - STALE_CLAIM_SECONDS - 60
    os.utime(claim, (old, old))
    assert not held_elsewhere(target)
    with claimed(target) as mine:
        assert mine


def test_a_file_made_already_needs_no_claim(tmp_path):
    target = tmp_path / "value.pkl"
    target.write_text("x")
    with claimed(target) as mine:
        assert not mine
        assert not claim_path(target).exists()


def test_threads_of_one_process_wait_for_each_other_and_errors_release_the_claim(tmp_path):
    target = tmp_path / "value.pkl"
    made: list[str] = []
    inside = threading.Event()

    def first() -> None:
        with claimed(target) as mine:
            assert mine
            inside.set()
            time.sleep(0.4)
            target.write_text("first")
            made.append("first")

    t = threading.Thread(target=first)
    t.start()
    assert inside.wait(10)
    with claimed(target) as mine:
        if mine:
            made.append("second")
    t.join()
    assert made == ["first"]

    other = tmp_path / "other.pkl"
    with pytest.raises(RuntimeError), claimed(other):
        raise RuntimeError("the making failed")
    assert not claim_path(other).exists() and not held_elsewhere(other)
