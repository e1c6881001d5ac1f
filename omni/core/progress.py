"""Progress messages: one mechanism for the whole package (logging; papermill's bars use tqdm).

Library code never prints. Long steps (generation, resolution, report runs) report through
:func:`say` on the ``omni`` logger at INFO; the command line, or a caller who asked for progress
(``Workspace(progress=True)``), attaches a console handler with :func:`console`. Without one,
progress stays silent and warnings follow Python's defaults.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["LOGGER", "console", "say"]

#: The package's logger; modules log to children of it (``logging.getLogger(__name__)``).
LOGGER = logging.getLogger("omni")
_HANDLER_FLAG = "_omni_console"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test capture, notebook kernels)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # logging.StreamHandler.__init__ assigns it
        pass


def console(level: int = logging.INFO) -> None:
    """Show the package's progress messages on stderr (once per process; idempotent)."""
    if not any(getattr(h, _HANDLER_FLAG, False) for h in LOGGER.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.addFilter(_progress_or_warning)
        setattr(handler, _HANDLER_FLAG, True)
        LOGGER.addHandler(handler)
    if LOGGER.level == logging.NOTSET or LOGGER.level > level:
        LOGGER.setLevel(level)


def _progress_or_warning(record: logging.LogRecord) -> bool:
    # the console shows progress lines and warnings; other INFO/DEBUG records stay in the logs
    return record.levelno >= logging.WARNING or getattr(record, "omni_progress", False)


def say(message: str, logger: logging.Logger | None = None) -> None:
    """A progress line (INFO on ``logger``, default the package logger), shown by :func:`console`."""
    (logger or LOGGER).info(message, extra={"omni_progress": True})
