"""The calendar of the synthetic world: span, seasonality, time-of-day, unit conversions.

Internally every time is a float number of days since the first day 00:00 local time
(Asia/Shanghai, stored naive). Seasonality is an intensity multiplier per day with mean 1 over the
span; Poisson processes are drawn on the seasonal clock ``S(t)`` (cumulative intensity) and mapped
back with its inverse, so counts and times stay exact and vectorized.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

__all__ = ["ONLINE_HOURS", "SERVICE_HOURS", "STORE_HOURS", "Timeline", "YEAR_DAYS", "parse_date",
           "seasonal_weights"]

DAY = 86_400
YEAR_DAYS = 365.25

# Hourly weights (00..23) for online orders/browsing and for store visits.
# Customer service desk: staffed 09:00-22:00, busiest after lunch and in the evening.
SERVICE_HOURS = np.array(
    [0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 2.5, 3.5, 3.8, 3.0, 3.4, 3.8, 3.7, 3.5, 3.3,
     3.0, 3.2, 3.6, 3.3, 1.5, 0.3]
)
ONLINE_HOURS = np.array(
    [
        2.0,
        1.2,
        0.6,
        0.3,
        0.2,
        0.2,
        0.4,
        0.9,
        1.6,
        2.4,
        3.0,
        3.3,
        3.6,
        3.4,
        3.0,
        3.0,
        3.1,
        3.2,
        3.4,
        4.0,
        4.8,
        5.4,
        5.2,
        3.6,
    ]
)
STORE_HOURS = np.array(
    [
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        1.5,
        2.5,
        3.0,
        3.2,
        3.5,
        3.8,
        4.0,
        4.2,
        4.5,
        4.8,
        4.2,
        2.8,
        0.5,
        0,
    ],
    dtype=float,
)


def parse_date(value: str | dt.date, name: str) -> dt.date:
    """``YYYY-MM-DD`` (or a date) -> date, with a clear error naming the argument."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{name} must be a date YYYY-MM-DD, got {value!r}") from None


def seasonal_weights(first: dt.date, n_days: int) -> np.ndarray:
    """Daily demand multipliers for a Chinese beauty/fashion brand, normalised to mean 1."""
    days = np.arange(n_days)
    dates = np.datetime64(first.isoformat(), "D") + days
    months = (dates.astype("datetime64[M]").astype(int) % 12) + 1
    dom = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    w = np.ones(n_days)
    w[(months == 2) & (dom <= 20)] = 0.75  # Spring Festival lull (approximate)
    w[(months == 3) & (dom <= 8)] = 1.6  # 38 女王节
    w[(months == 3) & (dom == 8)] = 3.0
    w[((months == 5) & (dom >= 20)) | ((months == 6) & (dom <= 18))] = 1.5  # 618
    w[(months == 6) & (dom == 1)] = 2.5
    w[(months == 6) & (dom == 18)] = 4.0
    w[((months == 10) & (dom >= 20)) | ((months == 11) & (dom <= 11))] = 1.6  # 双11
    w[(months == 11) & (dom == 1)] = 2.5
    w[(months == 11) & (dom == 11)] = 8.0
    w[(months == 12) & (dom == 12)] = 3.0  # 双12
    w[(months == 12) & (dom > 12)] = 1.15
    return w / w.mean()


class Timeline:
    """Span of the dataset with its seasonal clock.

    Parameters
    ----------
    start, end : str or date
        First and last day (inclusive), ``YYYY-MM-DD``.
    seasonality : bool
        Use :func:`seasonal_weights`; otherwise a flat intensity.
    """

    def __init__(self, start: str | dt.date, end: str | dt.date, seasonality: bool = True):
        self.start = parse_date(start, "start")
        self.end = parse_date(end, "end")
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        self.days = (self.end - self.start).days + 1
        if self.days < 60:
            raise ValueError(f"the span {self.start}..{self.end} is too short (need >= 60 days)")
        self.epoch0 = int((self.start - dt.date(1970, 1, 1)).days) * DAY
        self.weights = (
            seasonal_weights(self.start, self.days) if seasonality else np.ones(self.days)
        )
        self.cum = np.concatenate([[0.0], np.cumsum(self.weights)])

    # -- seasonal clock ------------------------------------------------------------------------
    def clock(self, t: np.ndarray) -> np.ndarray:
        """Cumulative intensity ``S(t)`` in days; outside the span the intensity is 1."""
        t = np.asarray(t, dtype=float)
        inside = np.clip(t, 0.0, self.days)
        d = np.minimum(np.floor(inside).astype(np.int64), self.days - 1)
        s = self.cum[d] + (inside - d) * self.weights[d]
        return s + np.minimum(t, 0.0) + np.maximum(t - self.days, 0.0)

    def unclock(self, s: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`clock` on ``[0, S(days)]``."""
        s = np.clip(np.asarray(s, dtype=float), 0.0, self.cum[-1])
        d = np.clip(np.searchsorted(self.cum, s, side="right") - 1, 0, self.days - 1)
        return d + (s - self.cum[d]) / self.weights[d]

    def exposure_years(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Seasonal-weighted years between ``a`` and ``b`` (0 where ``b <= a``)."""
        return np.maximum(self.clock(b) - self.clock(a), 0.0) / YEAR_DAYS

    def poisson_times(
        self,
        rng: np.random.Generator,
        rate_per_year: np.ndarray,
        a: np.ndarray,
        b: np.ndarray,
        seasonal: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Times of independent Poisson processes, one per row, on ``[a, b)`` (days).

        Returns ``(row, t)``: the row index of each event and its time, sorted by row.
        """
        a = np.maximum(np.asarray(a, float), 0.0)
        b = np.minimum(np.asarray(b, float), self.days)
        if seasonal:
            sa, sb = self.clock(a), self.clock(b)
        else:
            sa, sb = a, b
        length = np.maximum(sb - sa, 0.0)
        counts = rng.poisson(np.asarray(rate_per_year, float) * length / YEAR_DAYS)
        row = np.repeat(np.arange(len(a)), counts)
        s = sa[row] + rng.random(len(row)) * length[row]
        t = self.unclock(s) if seasonal else s
        return row, np.minimum(t, np.nextafter(self.days, 0))

    # -- time of day / conversions -----------------------------------------------------------
    def with_time_of_day(
        self, rng: np.random.Generator, t: np.ndarray, hours: np.ndarray
    ) -> np.ndarray:
        """Keep the day of ``t`` and redraw the clock time from hourly weights."""
        p = hours / hours.sum()
        hour = rng.choice(24, size=len(t), p=p)
        return np.floor(t) + (hour + rng.random(len(t))) / 24.0

    def seconds(self, t: np.ndarray) -> np.ndarray:
        """Days since start -> epoch seconds of the naive local clock (int64)."""
        return self.epoch0 + np.floor(np.asarray(t, float) * DAY).astype(np.int64)

    def day_number(self, t: np.ndarray) -> np.ndarray:
        """Days since start -> days since 1970-01-01."""
        return self.epoch0 // DAY + np.floor(np.asarray(t, float)).astype(np.int64)
