"""Reference data for real customers' attributes: city tiers and provinces, age bands.

These are business reference tables (Chinese market-research city tiers, the market panel's age
bands), used when profiles are built from any brand's data. The synthetic world draws its people
from the same cities (``omni.synth.reference`` imports this module, never the other way round).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["AGE_BANDS", "CITIES", "CITY_PROVINCE", "CITY_TIER", "TIERS", "age_band", "city_tier"]

# City tiers as used in Chinese market research (第一财经·新一线城市研究所 style):
# "1" (一线), "new-1" (新一线), "2" (二线), "3" (三线), "4+" (四线及以下).
TIERS: tuple[str, ...] = ("1", "new-1", "2", "3", "4+")

#: (city, province (full name), tier) of the cities omni knows.
CITIES: tuple[tuple[str, str, str], ...] = (
    ("上海", "上海市", "1"),
    ("北京", "北京市", "1"),
    ("深圳", "广东省", "1"),
    ("广州", "广东省", "1"),
    ("成都", "四川省", "new-1"),
    ("重庆", "重庆市", "new-1"),
    ("杭州", "浙江省", "new-1"),
    ("武汉", "湖北省", "new-1"),
    ("苏州", "江苏省", "new-1"),
    ("西安", "陕西省", "new-1"),
    ("南京", "江苏省", "new-1"),
    ("长沙", "湖南省", "new-1"),
    ("天津", "天津市", "new-1"),
    ("郑州", "河南省", "new-1"),
    ("东莞", "广东省", "new-1"),
    ("无锡", "江苏省", "new-1"),
    ("宁波", "浙江省", "new-1"),
    ("青岛", "山东省", "new-1"),
    ("合肥", "安徽省", "new-1"),
    ("佛山", "广东省", "2"),
    ("沈阳", "辽宁省", "2"),
    ("昆明", "云南省", "2"),
    ("济南", "山东省", "2"),
    ("厦门", "福建省", "2"),
    ("福州", "福建省", "2"),
    ("温州", "浙江省", "2"),
    ("哈尔滨", "黑龙江省", "2"),
    ("石家庄", "河北省", "2"),
    ("大连", "辽宁省", "2"),
    ("南宁", "广西壮族自治区", "2"),
    ("贵阳", "贵州省", "2"),
    ("南昌", "江西省", "2"),
    ("长春", "吉林省", "2"),
    ("兰州", "甘肃省", "3"),
    ("海口", "海南省", "3"),
    ("扬州", "江苏省", "3"),
    ("洛阳", "河南省", "3"),
    ("汕头", "广东省", "3"),
    ("呼和浩特", "内蒙古自治区", "3"),
    ("芜湖", "安徽省", "3"),
    ("桂林", "广西壮族自治区", "3"),
    ("乌鲁木齐", "新疆维吾尔自治区", "3"),
    ("遵义", "贵州省", "4+"),
    ("曲靖", "云南省", "4+"),
    ("岳阳", "湖南省", "4+"),
    ("南充", "四川省", "4+"),
    ("商丘", "河南省", "4+"),
    ("衡水", "河北省", "4+"),
    ("九江", "江西省", "4+"),
    ("天水", "甘肃省", "4+"),
)

CITY_TIER: dict[str, str] = {c: t for c, _, t in CITIES}
CITY_PROVINCE: dict[str, str] = {c: p for c, p, _ in CITIES}

#: Age bands of the market panel.
AGE_BANDS = ["18-24", "25-29", "30-34", "35-39", "40-49", "50+"]
_AGE_EDGES = [18, 25, 30, 35, 40, 50, 111]


def city_tier(city: pd.Series) -> pd.Series:
    """City tier of each city name (``1``, ``new-1``, ``2``, ``3``, ``4+``; ``unknown`` otherwise).

    Accepts names with or without the trailing ``市`` (``上海`` and ``上海市``).
    """
    s = pd.Series(city, dtype="string").str.strip().str.removesuffix("市")
    out = s.map(CITY_TIER).fillna("unknown")
    return pd.Series(pd.Categorical(out, categories=[*TIERS, "unknown"]), index=s.index)

def age_band(birth_year: Iterable[object] | pd.Series, ref_year: int) -> pd.Series:
    """Age band (18-24, 25-29, 30-34, 35-39, 40-49, 50+) from the birth year.

    Age is ``ref_year - birth_year`` (the age reached during ``ref_year``). Missing birth years,
    ages under 18 (not covered by the panel) and implausible ages (over 110 or negative) give a
    missing band.

    Parameters
    ----------
    birth_year : array-like or Series
        Birth years (numbers or numeric strings; missing allowed).
    ref_year : int
        Reference year, e.g. the report year.

    Returns
    -------
    Series
        Ordered categorical with categories :data:`AGE_BANDS` (same index when given a Series).

    Raises
    ------
    ValueError
        If a non-missing birth year is not a number (naming the row).
    """
    s = birth_year if isinstance(birth_year, pd.Series) else pd.Series(list(birth_year))
    years = pd.to_numeric(s, errors="coerce")
    bad = years.isna().to_numpy() & s.notna().to_numpy()
    if bad.any():
        row = s.index[np.flatnonzero(bad)[0]]
        raise ValueError(f"birth_year is not a number at row {row!r}: {s.loc[row]!r}")
    if not isinstance(ref_year, int | np.integer):
        raise ValueError(f"ref_year must be an integer year, got {ref_year!r}")
    age = int(ref_year) - years.astype("float64")
    band = pd.cut(age, bins=_AGE_EDGES, right=False, labels=AGE_BANDS, ordered=True)
    return pd.Series(band, index=s.index, name="age_band")
