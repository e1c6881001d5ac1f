"""The Chinese retail calendar: 618, Double 11 and Spring Festival, as daily indicators.

Public reference data, read by the marketing mix model (its holiday controls) and by the
synthetic world (its sales peaks): one table, so the two agree on the dates, not on the effects.

>>> import numpy as np
>>> days = np.arange(np.datetime64("2025-11-10"), np.datetime64("2025-11-13"))
>>> retail_peaks(days)["double11_day"].tolist()
[0.0, 1.0, 0.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PEAKS", "SPRING_FESTIVAL", "retail_peaks"]

#: Lunar New Year's day (春节), 2020-2030.
SPRING_FESTIVAL: dict[int, str] = {
    2020: "2020-01-25", 2021: "2021-02-12", 2022: "2022-02-01", 2023: "2023-01-22",
    2024: "2024-02-10", 2025: "2025-01-29", 2026: "2026-02-17", 2027: "2027-02-06",
    2028: "2028-01-26", 2029: "2029-02-13", 2030: "2030-02-03",
}

#: The indicator columns of :func:`retail_peaks`, in order.
PEAKS: tuple[str, ...] = ("618_presale", "618_day", "double11_presale", "double11_day",
                          "double12_day", "spring_festival")


def retail_peaks(days: np.ndarray | pd.Series | pd.DatetimeIndex) -> pd.DataFrame:
    """0/1 indicators of the retail peaks for each day.

    Parameters
    ----------
    days : array of dates
        Days (``datetime64`` or anything :func:`pandas.to_datetime` reads).

    Returns
    -------
    DataFrame
        One row per day and one column per :data:`PEAKS` entry: ``618_presale`` (May 20 to
        June 17), ``618_day`` (June 18), ``double11_presale`` (October 20 to November 10),
        ``double11_day`` (November 11), ``double12_day`` (December 12), ``spring_festival``
        (seven days before to seven days after Lunar New Year, when parcels stop).
    """
    d = pd.DatetimeIndex(pd.to_datetime(np.asarray(days)))
    m, dom = d.month.to_numpy(), d.day.to_numpy()
    out = {
        "618_presale": ((m == 5) & (dom >= 20)) | ((m == 6) & (dom < 18)),
        "618_day": (m == 6) & (dom == 18),
        "double11_presale": ((m == 10) & (dom >= 20)) | ((m == 11) & (dom < 11)),
        "double11_day": (m == 11) & (dom == 11),
        "double12_day": (m == 12) & (dom == 12),
    }
    sf = np.zeros(len(d), dtype=bool)
    years = np.unique(d.year) if len(d) else []
    for y in years:
        for yy in (y, y + 1):
            if yy in SPRING_FESTIVAL:
                lny = pd.Timestamp(SPRING_FESTIVAL[yy])
                sf |= np.asarray((d >= lny - pd.Timedelta(days=7)) & (d <= lny + pd.Timedelta(days=7)))
    out["spring_festival"] = sf
    return pd.DataFrame({k: np.asarray(v, float) for k, v in out.items()}, index=d)[list(PEAKS)]
