"""What the probabilistic stage returns."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from omni.oneid.linkage.matcher import FellegiSunterMatcher

__all__ = ["AccountLinking"]


@dataclass
class AccountLinking:
    """Everything the probabilistic stage produced (kept for reports and diagnostics).

    Attributes
    ----------
    links : DataFrame
        Accepted links (see :func:`link_accounts`).
    decisions : DataFrame
        One row per unbound account: best candidate, probability, weight, margin, decision.
    matcher : FellegiSunterMatcher or None
        The fitted matcher (``model_parameters_`` has m and u per level); None when there was
        nothing to match.
    n_accounts, n_profiles : int
    seconds : dict
    pairs : DataFrame or None
        Every scored candidate pair (:meth:`FellegiSunterMatcher.predict`).
    accounts, profiles : DataFrame or None
        The unit tables (:func:`omni.oneid.match_features.match_units`).
    """

    links: pd.DataFrame
    decisions: pd.DataFrame
    matcher: FellegiSunterMatcher | None
    n_accounts: int
    n_profiles: int
    seconds: dict
    pairs: pd.DataFrame | None = None
    accounts: pd.DataFrame | None = None
    profiles: pd.DataFrame | None = None
