"""The naive baseline a resolution is measured against: connect every record pair sharing a value.

Used by ``omni resolve --evaluate``, the OneID benchmark and the identity report (how much the rules
hold back). The report's own health summaries live in :mod:`omni.identity.health`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omni.oneid.graph import bipartite_components

__all__ = ["naive_clusters"]


def naive_clusters(ids: pd.DataFrame, records: pd.DataFrame) -> np.ndarray:
    """Baseline: connect every record pair that shares any non-empty identifier string.

    Uses the normalized value where there is one and the trimmed, lower-cased raw value otherwise
    (so ``null``, ``13800000000`` and a kiosk device glue records together, as a naive join does).

    Returns
    -------
    ndarray
        Cluster label per row of ``records``.
    """
    keys = pd.Index(records["record_key"])
    raw = ids["raw"].astype("string").str.strip().str.lower()
    val = ids["value"].astype("string").fillna(raw)
    ok = val.notna() & (val != "")
    key = ids.loc[ok, "id_type"].astype(str) + "\x1f" + val[ok].astype(str)
    vcode, uniq = pd.factorize(key)
    rec = keys.get_indexer(ids.loc[ok, "record_key"])
    return bipartite_components(rec, vcode, len(keys), len(uniq))
