"""The export log: one JSON line per audience x platform export, appended, never rewritten.

Each line says who exported what, when, from which data and definition, how many people were
exported, removed for opt-out or left out for want of a usable identifier, which fields left, and
the SHA-256 of each file written. It holds no identifier of any person.
"""

from __future__ import annotations

import getpass
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["LOG_NAME", "append_log", "current_user", "read_log", "utc_now"]

LOG_NAME = "export_log.jsonl"


def current_user() -> str:
    """Who runs the export: ``OMNI_USER`` if set, else the login name."""
    user = os.environ.get("OMNI_USER", "").strip()
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def utc_now() -> str:
    """The current UTC time, ISO 8601 with a ``Z`` (second precision)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def append_log(path: str | Path, entry: dict[str, Any]) -> None:
    """Append one entry as a JSON line (opened in append mode, flushed and fsynced).

    Earlier lines are never read back or rewritten. A log whose last line lacks its newline (an
    interrupted write) gets one first, so the new entry starts on its own line.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str)
    if "\n" in line:
        raise ValueError("a log entry must serialize to a single line")
    needs_newline = False
    if p.exists() and p.stat().st_size > 0:
        with p.open("rb") as f:
            f.seek(-1, os.SEEK_END)
            needs_newline = f.read(1) != b"\n"
    with p.open("a", encoding="utf-8") as f:
        f.write(("\n" if needs_newline else "") + line + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_log(path: str | Path) -> pd.DataFrame:
    """The log as a DataFrame, one row per export (empty when there is no log)."""
    p = Path(path)
    if not p.exists():
        return pd.DataFrame()
    rows = [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    return pd.DataFrame(rows)
