"""Plain-language views of the probabilistic links (identifiers masked)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from omni.oneid.explain import mask_record_key, mask_value

__all__ = ["explain_link"]


def explain_link(links: pd.DataFrame, record_or_account: str) -> str:
    """Why an account was linked to a profile, in one paragraph (identifiers masked).

    Parameters
    ----------
    links : DataFrame
        The links table of :func:`link_accounts`.
    record_or_account : str
        The scoped account (``tmall:tb_...``), its ``account_record`` or the ``target_record``.
    """
    hit = links[(links["account"] == record_or_account)
                | (links["account_record"] == record_or_account)
                | (links["target_record"] == record_or_account)]
    if hit.empty:
        return f"{mask_record_key(record_or_account)} was not linked by the probabilistic stage."
    lines = []
    for r in hit.itertuples(index=False):
        second = ("no other candidate" if not np.isfinite(r.second_weight)
                  else f"the runner-up scored {r.second_weight:.1f}")
        lines.append(
            f"account {mask_value('platform_buyer', r.account)} ({r.n_records} record(s)) was "
            f"linked to the profile of {mask_record_key(r.target_record)} with match probability "
            f"{r.match_probability:.4f} (match weight {r.match_weight:.1f}; {second}). "
            f"Agreed: {r.agreement or 'nothing'}.")
    return "\n".join(lines)
