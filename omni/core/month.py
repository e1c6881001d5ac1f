"""The report month: one value type for parsing, bounds and stepping of ``YYYY-MM`` months."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from omni.core.errors import OmniError

__all__ = ["Month", "MonthError"]

_PATTERN = re.compile(r"([0-9]{4})-([0-9]{2})")


class MonthError(OmniError, ValueError):
    """A month that is not a ``YYYY-MM`` string naming a real month."""

    default_hint = "give the month as YYYY-MM, for example --month 2026-10"


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, such as the month a report covers.

    Parameters
    ----------
    year, month : int
        The year (1900 to 2999) and the month number (1 to 12).

    Examples
    --------
    >>> m = Month.parse("2026-10")
    >>> str(m), str(m.previous), str(m.next)
    ('2026-10', '2026-09', '2026-11')
    >>> m.start, m.end
    (Timestamp('2026-10-01 00:00:00'), Timestamp('2026-11-01 00:00:00'))
    """

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (1900 <= self.year <= 2999 and 1 <= self.month <= 12):
            raise MonthError(f"no such month: {self.year}-{self.month:02d}")

    @classmethod
    def parse(cls, value: str | Month) -> Month:
        """Read a month from ``"YYYY-MM"`` (exactly that form) or return a ``Month`` unchanged.

        Raises
        ------
        MonthError
            If ``value`` is not a ``YYYY-MM`` string of a real month (``2026-1``, ``2026-13``,
            ``2026-10-01`` and ``Oct 2026`` are all refused).
        """
        if isinstance(value, Month):
            return value
        m = _PATTERN.fullmatch(value) if isinstance(value, str) else None
        if m is None:
            raise MonthError(f"month must be YYYY-MM (for example 2026-10), got {value!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, when: pd.Timestamp | str) -> Month:
        """The month a timestamp falls in."""
        t = pd.Timestamp(when)
        return cls(t.year, t.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def period(self) -> pd.Period:
        """The month as a pandas monthly ``Period``."""
        return pd.Period(str(self), freq="M")

    @property
    def start(self) -> pd.Timestamp:
        """First instant of the month (naive, inclusive)."""
        return pd.Timestamp(self.year, self.month, 1)

    @property
    def end(self) -> pd.Timestamp:
        """First instant of the next month: the exclusive end, ``start <= t < end``."""
        return self.next.start

    @property
    def last_day(self) -> pd.Timestamp:
        """Midnight of the month's last calendar day."""
        return self.end - pd.Timedelta(days=1)

    @property
    def previous(self) -> Month:
        """The month before."""
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    @property
    def next(self) -> Month:
        """The month after."""
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def shift(self, months: int) -> Month:
        """The month ``months`` later (earlier if negative)."""
        k = self.year * 12 + (self.month - 1) + int(months)
        return Month(k // 12, k % 12 + 1)
