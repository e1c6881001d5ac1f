"""One process makes a shared file; the others wait for it instead of making it again.

The report runs the month's resolution, the data audit and the preparation of later notebooks
in processes of their own, beside each other, on the same sources. Each loaded source (and its
identifier table) is kept in ``processed/memo/`` by whichever process makes it first; before
this, two processes that reached the same source at once both parsed it (at 1M persons the
largest source is 20-30 CPU-seconds). A *claim* is a small file next to the one being made
(``<name>.claim``, created exclusively, holding the maker's process id): a process that finds a
claim of a running process waits for the file; a claim left by a process that no longer runs
is removed and taken over.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["claim_path", "claimed", "held_elsewhere", "pid_alive"]

#: Seconds between two looks at a claimed file.
POLL_SECONDS = 0.1
#: A claim file still empty after this many seconds was left by a process that died between
#: creating it and writing its id.
EMPTY_CLAIM_SECONDS = 10.0
#: A claim older than this is stale whatever its process id says (an id the system has given to
#: another process since): the files claimed are made in well under a minute at 1M persons (the
#: largest source in about 30 s), and above the out-of-core line nothing is kept or claimed.
STALE_CLAIM_SECONDS = 900.0


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs (a process of another user counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def claim_path(target: Path) -> Path:
    """The claim file of ``target``: ``<target>.claim`` beside it."""
    return target.with_name(target.name + ".claim")


def _owner(claim: Path) -> int | None:
    """The process id in a claim file; None when the claim is stale (its process has ended, or
    it stayed empty) or gone."""
    try:
        text = claim.read_text().strip()
        age = time.time() - claim.stat().st_mtime
    except OSError:
        return None
    if not text:
        return -1 if age < EMPTY_CLAIM_SECONDS else None  # -1: being written now
    if age > STALE_CLAIM_SECONDS:
        return None
    try:
        pid = int(text)
    except ValueError:
        return None
    return pid if pid_alive(pid) else None


def held_elsewhere(target: Path) -> bool:
    """Whether a running process (this one's other threads included) holds the claim on making
    ``target`` and has not made it yet."""
    return not target.is_file() and _owner(claim_path(target)) is not None


@contextmanager
def claimed(target: Path, poll: float = POLL_SECONDS) -> Iterator[bool]:
    """Hold the claim on making ``target`` for the ``with`` block, or wait until it is made.

    Yields True when this process holds the claim (it makes ``target`` in the block; the claim is
    released when the block ends, made or not; a folder where no claim can be written yields True
    without one), False when ``target`` exists (made meanwhile by
    the process that held the claim, or before). When the holder ends without making ``target``
    (a failure, a full disk), the next waiter takes the claim over and makes it.
    """
    claim = claim_path(target)
    while True:
        if target.is_file():
            yield False
            return
        try:
            fd = os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            if _owner(claim) is None:  # stale: its process ended
                claim.unlink(missing_ok=True)
                continue
            time.sleep(poll)
            continue
        except OSError:  # a folder this process cannot write: it makes the file unclaimed
            yield True
            return
        break
    try:
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid()}\n")
        if target.is_file():  # made between the look and the claim
            claim.unlink(missing_ok=True)
            yield False
            return
        yield True
    finally:
        claim.unlink(missing_ok=True)
