"""The base of every *expected* omni error: bad input or configuration the user can fix.

``omni`` (the command line) catches :class:`OmniError` once and prints it on one line with its
hint, without a traceback (``omni --debug`` shows it). Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

__all__ = ["OmniError", "OmniWarning", "one_line"]


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) made one space."""
    return " ".join(str(text).split())


class OmniError(Exception):
    """An expected error: its message says what is wrong, its hint what to do about it.

    Parameters
    ----------
    message : str
        What is wrong, naming the file, source, row or column concerned.
    hint : str, optional
        What to do about it. Defaults to the class's ``default_hint`` (None: no hint).
    exit_code : int, optional
        The command's exit status (default ``2``: bad input or configuration).

    Notes
    -----
    ``str(err)`` is the message followed by ``(hint: ...)`` so a notebook traceback shows the hint
    too; :attr:`message` and :attr:`hint` hold the two parts.

    Examples
    --------
    >>> str(OmniError("no such dataset 'x'", hint="run omni synth --out x"))
    "no such dataset 'x' (hint: run omni synth --out x)"
    """

    default_hint: str | None = None
    exit_code: int = 2

    def __init__(self, message: str = "", *, hint: str | None = None, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = str(message)
        self.hint = hint if hint is not None else self.default_hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        if self.hint and self.hint not in self.message:
            return f"{self.message} (hint: {self.hint})"
        return self.message


class OmniWarning(UserWarning):
    """Something the user should know that did not stop the run (a rebuilt cache, a stage that
    fell back). ``omni`` prints it as one ``omni: warning: ...`` line."""
