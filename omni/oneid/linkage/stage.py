"""The probabilistic OneID stage: link unbound platform accounts to existing profiles.

:func:`link_accounts` is what the resolution calls: the units (:func:`omni.oneid.match_features.match_units`),
the matcher fitted and applied (:func:`omni.oneid.linkage.matcher.account_matcher`), the decisions
(:func:`omni.oneid.linkage.decisions.choose_links`) and the merge of the linked accounts into their
profiles (:func:`omni.oneid.linkage.decisions.merge_links`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from omni.oneid.config import OneIDConfig
from omni.oneid.linkage.decisions import decide, empty_links, links_table, merge_links
from omni.oneid.linkage.matcher import account_matcher, to_arrow
from omni.oneid.linkage.result import AccountLinking
from omni.oneid.match_features import list_columns, match_units
from omni.oneid.resolve import Resolution

__all__ = ["AccountLinking", "link_accounts", "match_accounts", "stage_report"]


def match_accounts(
    res: Resolution, quasi: pd.DataFrame, ids: pd.DataFrame | None = None,
    config: OneIDConfig | None = None, keep_top: int | None = None,
) -> AccountLinking:
    """Score every unbound account against the profiles and decide the links.

    See :func:`link_accounts` (which also applies them); this returns the full diagnostics.
    ``keep_top``: the candidate pairs kept in ``pairs`` per account, chosen in the engine (the
    decisions read the best two: 2 or more gives the same links; fewer is refused); None keeps
    every scored pair.
    """
    if keep_top is not None and keep_top < 2:  # the decisions read the runner-up too
        raise ValueError(f"keep_top must be at least 2 (the best candidate and the runner-up) or None, got {keep_top}")
    config = config or OneIDConfig()
    t0 = time.perf_counter()
    accounts, profiles = match_units(res, quasi, ids)
    seconds = {"features": time.perf_counter() - t0}
    n_acc, n_prof = len(accounts), len(profiles)
    decisions = pd.DataFrame(columns=["left_id", "right_id", "match_probability",
                                      "match_weight", "second_weight", "margin", "decision"])
    if n_acc == 0 or n_prof == 0:
        return AccountLinking(empty_links(), decisions, None, n_acc, n_prof, seconds,
                              accounts=accounts, profiles=profiles)
    cols = ["unique_id", "name", "mphone", "city", "street", *list_columns(accounts)]
    left = to_arrow(accounts[cols])
    right = to_arrow(profiles[cols])
    matcher = account_matcher(seed=config.match_seed, keep_top=keep_top)
    t = time.perf_counter()
    matcher.fit(left, right)
    seconds["fit"] = time.perf_counter() - t
    t = time.perf_counter()
    pairs = matcher.predict()
    seconds["predict"] = time.perf_counter() - t
    t = time.perf_counter()
    decisions = decide(pairs, accounts, profiles, config)
    linked = decisions[decisions["decision"] == "linked"].reset_index(drop=True)
    links = links_table(res, linked, accounts, matcher.model_parameters_)
    seconds["decide"] = time.perf_counter() - t
    return AccountLinking(links, decisions, matcher, n_acc, n_prof, seconds, pairs, accounts,
                          profiles, n_pairs=matcher.n_pairs_)


def link_accounts(
    res: Resolution, quasi: pd.DataFrame, ids: pd.DataFrame | None = None,
    config: OneIDConfig | None = None,
) -> tuple[Resolution, pd.DataFrame]:
    """Link unbound platform accounts to existing profiles (the probabilistic OneID stage).

    Parameters
    ----------
    res : Resolution
        Output of :func:`omni.oneid.resolve.resolve_identities`.
    quasi : DataFrame
        Quasi-identifier table with the source ``column`` of every row
        (:func:`omni.oneid.match_features.quasi_fields`).
    ids : DataFrame, optional
        The identifier table (the profile phones are read from ``res``).
    config : OneIDConfig, optional
        ``match_threshold``, ``match_margin``, ``max_accounts_per_platform``,
        ``max_per_profile["platform_buyer"]`` and ``match_seed`` are used.

    Returns
    -------
    resolution : Resolution
        ``res`` with each linked account merged into its profile (records ``how ==
        "probabilistic"``); ``res`` itself when nothing links.
    links : DataFrame
        One row per link: ``account`` (scoped buyer id), ``platform``, ``account_record`` (a
        record of the account), ``target_record`` (a strong record of the profile),
        ``target_cluster`` (cluster in the returned resolution), ``n_records`` (records moved),
        ``match_probability``, ``match_weight``, ``second_weight`` (runner-up, -inf when none),
        ``margin``, ``agreement`` (which fields agreed at which level) and ``<comparison>_level``
        per comparison. ``links.attrs["stage"]`` holds the stage report (:func:`stage_report`:
        units, decisions, prior, m and u per comparison level; JSON-ready).
    """
    config = config or (res.config if isinstance(res.config, OneIDConfig) else OneIDConfig())
    # the best two candidates of each account are all the decisions read: only they leave DuckDB
    out = match_accounts(res, quasi, ids, config, keep_top=2)
    merged, links = merge_links(res, out)
    links.attrs["stage"] = stage_report(out, config)
    return merged, links


def stage_report(out: AccountLinking, config: OneIDConfig) -> dict[str, Any]:
    """What the stage did, as plain JSON-ready values (for ``Resolved.summary`` and reports).

    Returns
    -------
    dict
        ``accounts``, ``profiles``, ``candidate_pairs``, ``decisions`` (count per decision),
        ``threshold``, ``margin``, ``max_accounts_per_platform``, ``prior`` (probability two
        random records match), ``model_parameters`` (one dict per comparison level: comparison,
        level, label, m_probability, u_probability, match_weight; None for null levels),
        ``u_not_observed`` (the levels no random pair reached, given
        :data:`~omni.oneid.linkage.matcher.U_NOT_OBSERVED`), ``seconds``.
    """
    m = out.matcher
    params = []
    if m is not None:
        mp = m.model_parameters_[["comparison", "level", "label", "m_probability",
                                  "u_probability", "match_weight"]]
        params = [{k: (None if isinstance(v, float) and not np.isfinite(v) else
                       (v.item() if hasattr(v, "item") else v)) for k, v in row.items()}
                  for row in mp.to_dict("records")]
    dec = out.decisions["decision"].value_counts() if len(out.decisions) else pd.Series(dtype=int)
    return {
        "accounts": int(out.n_accounts),
        "profiles": int(out.n_profiles),
        "candidate_pairs": (int(out.n_pairs) if out.n_pairs is not None else
                            int(len(out.pairs)) if out.pairs is not None else 0),
        "decisions": {str(k): int(v) for k, v in dec.items()},
        "threshold": config.match_threshold,
        "margin": config.match_margin,
        "max_accounts_per_platform": config.max_accounts_per_platform,
        "prior": float(m.probability_two_random_records_match_) if m is not None else None,
        "model_parameters": params,
        "u_not_observed": list(getattr(m, "u_not_observed_", [])) if m is not None else [],
        "seconds": {k: round(float(v), 2) for k, v in out.seconds.items()},
    }
