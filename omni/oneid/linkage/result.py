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
        The scored candidate pairs (:meth:`FellegiSunterMatcher.predict`): every one, or the best
        few of each account (``keep_top`` of :func:`match_accounts`).
    accounts, profiles : DataFrame or None
        The unit tables (:func:`omni.oneid.match_features.match_units`).
    n_pairs : int or None
        Candidate pairs scored (all of them, also when ``pairs`` keeps only the best few);
        None: ``len(pairs)``.
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
    n_pairs: int | None = None
