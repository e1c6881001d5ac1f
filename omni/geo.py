"""City reference: city -> province and city tier (一线, 新一线, 二线, 三线, 四线及以下)."""

from __future__ import annotations

import pandas as pd

from omni.synth.reference import CITIES, TIERS

CITY_TIER: dict[str, str] = {c[0]: c[2] for c in CITIES}
CITY_PROVINCE: dict[str, str] = {c[0]: c[1] for c in CITIES}
TIER_ORDER: tuple[str, ...] = TIERS


def city_tier(city: pd.Series) -> pd.Series:
    """City tier of each city name (``1``, ``new-1``, ``2``, ``3``, ``4+``; ``unknown`` otherwise).

    Accepts names with or without the trailing ``市`` (``上海`` and ``上海市``).
    """
    s = pd.Series(city, dtype="string").str.strip().str.removesuffix("市")
    out = s.map(CITY_TIER).fillna("unknown")
    return pd.Series(pd.Categorical(out, categories=[*TIER_ORDER, "unknown"]), index=s.index)
