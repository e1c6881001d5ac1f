"""Link decisions: threshold, margin over the runner-up, per-profile limits, and the merge of the
linked account clusters into their profiles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from omni.oneid.match_features import equals
from omni.oneid.resolve import Resolution

if TYPE_CHECKING:
    from omni.oneid.linkage.result import AccountLinking

__all__ = ["LINK_COLUMNS", "agreement", "apply_links", "choose_links", "decide", "empty_links", "links_table",
           "merge_links"]

LINK_COLUMNS: tuple[str, ...] = (
    "account", "platform", "account_record", "target_record", "target_cluster", "n_records",
    "match_probability", "match_weight", "second_weight", "margin", "agreement",
)


def empty_links() -> pd.DataFrame:
    """A links table with no rows and the documented columns."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in LINK_COLUMNS})


def choose_links(
    pairs: pd.DataFrame,
    accounts: pd.DataFrame,
    profiles: pd.DataFrame,
    threshold: float,
    margin: float,
    max_accounts_per_platform: int,
    max_accounts_per_profile: int | None = None,
) -> pd.DataFrame:
    """Decide which account links to which profile.

    Rules, in order:

    1. Each account's best candidate is the profile with the highest match weight (ties: lowest
       profile id); the runner-up is the next profile (or none).
    2. ``below_threshold``: the best match probability is under ``threshold``.
    3. ``ambiguous``: the best weight beats the runner-up by less than ``margin`` (log2 Bayes
       factor: a margin of 4 means the best profile must be at least 16 times as likely as the
       second).
    4. ``profile_limit``: a profile accepts accounts of one platform, strongest first, only while
       it holds fewer than ``max_accounts_per_platform`` of that platform (its bound accounts
       count) and fewer than ``max_accounts_per_profile`` in all.

    Parameters
    ----------
    pairs : DataFrame
        ``left_id``, ``right_id``, ``match_weight``, ``match_probability`` (from
        :meth:`FellegiSunterMatcher.predict`).
    accounts : DataFrame
        ``unique_id``, ``platform`` of every account.
    profiles : DataFrame
        ``unique_id`` and ``accounts_<platform>`` counts of every profile.
    threshold : float
        Minimum match probability, in (0, 1).
    margin : float
        Minimum match-weight lead over the runner-up, >= 0.
    max_accounts_per_platform : int
        >= 1.
    max_accounts_per_profile : int, optional
        Cap on all platform accounts of a profile.

    Returns
    -------
    DataFrame
        One row per account: ``left_id``, ``right_id`` (best candidate; -1, or None for
        non-integer ids, when none),
        ``match_probability``, ``match_weight``, ``second_weight`` (-inf when none), ``margin``,
        ``decision`` (``linked``, ``below_threshold``, ``ambiguous``, ``profile_limit``,
        ``no_candidate``).
    """
    if not 0 < threshold < 1:
        raise ValueError(f"match threshold must be in (0, 1), got {threshold}")
    if margin < 0:
        raise ValueError(f"match margin must be >= 0, got {margin}")
    if max_accounts_per_platform < 1:
        raise ValueError(f"max_accounts_per_platform must be >= 1, got {max_accounts_per_platform}")
    need = {"left_id", "right_id", "match_weight", "match_probability"}
    if missing := sorted(need - set(pairs.columns)):
        raise ValueError(f"pairs table is missing column(s) {missing}")
    p = pairs.sort_values(["left_id", "match_weight", "right_id"],
                          ascending=[True, False, True], kind="stable")
    rank = p.groupby("left_id", sort=False).cumcount().to_numpy()
    best = p[rank == 0].set_index("left_id")
    second = p[rank == 1].set_index("left_id")["match_weight"]
    ids = accounts["unique_id"].to_numpy()
    out = pd.DataFrame({"left_id": ids})
    r_best = best["right_id"].reindex(ids)
    has = r_best.notna().to_numpy()
    if pd.api.types.is_integer_dtype(pairs["right_id"].dtype):
        out["right_id"] = r_best.fillna(-1).to_numpy(np.int64)
    else:
        out["right_id"] = r_best.astype(object).where(has, None).to_numpy()
    out["match_probability"] = best["match_probability"].reindex(ids).to_numpy()
    out["match_weight"] = best["match_weight"].reindex(ids).to_numpy()
    out["second_weight"] = second.reindex(ids).fillna(-np.inf).to_numpy()
    out["margin"] = out["match_weight"] - out["second_weight"]
    dec = np.where(~has, "no_candidate",
                   np.where(out["match_probability"].to_numpy() < threshold, "below_threshold",
                            np.where(out["margin"].to_numpy() < margin, "ambiguous", "linked")))
    out["decision"] = dec.astype(object)

    _apply_profile_limits(out, accounts, profiles, max_accounts_per_platform, max_accounts_per_profile)
    return out


def _apply_profile_limits(out: pd.DataFrame, accounts: pd.DataFrame, profiles: pd.DataFrame,
                          max_accounts_per_platform: int, max_accounts_per_profile: int | None) -> None:
    """Turn the ``linked`` decisions a profile cannot take into ``profile_limit`` (in place):
    a profile accepts accounts of one platform, strongest first, only while it holds fewer than
    ``max_accounts_per_platform`` of that platform (its bound accounts count) and fewer than
    ``max_accounts_per_profile`` in all."""
    ids = out["left_id"].to_numpy()
    dec = out["decision"].to_numpy()
    # per-profile limits, strongest links first
    plat = accounts.set_index("unique_id")["platform"].reindex(ids).astype(str).to_numpy()
    cand = out[dec == "linked"].assign(platform=plat[dec == "linked"])
    if len(cand):
        cand = cand.sort_values(["right_id", "platform", "match_weight", "left_id"],
                                ascending=[True, True, False, True], kind="stable")
        prof = profiles.set_index("unique_id")
        held = np.zeros(len(cand), dtype=np.int64)
        for platform in pd.unique(cand["platform"]):  # a handful of platforms
            col = f"accounts_{platform}"
            sel = (cand["platform"] == platform).to_numpy()
            if col in prof.columns:
                held[sel] = prof[col].reindex(cand.loc[sel, "right_id"]).fillna(0).to_numpy(np.int64)
        rank_plat = cand.groupby(["right_id", "platform"], sort=False).cumcount().to_numpy()
        ok = held + rank_plat < max_accounts_per_platform
        if max_accounts_per_profile is not None:
            acc_cols = [c for c in prof.columns if c.startswith("accounts_")]
            total = (prof[acc_cols].sum(axis=1).reindex(cand["right_id"]).fillna(0)
                     .to_numpy(np.int64) if acc_cols else np.zeros(len(cand), np.int64))
            c2 = cand[ok].sort_values(["right_id", "match_weight", "left_id"],
                                      ascending=[True, False, True], kind="stable")
            r_all = c2.groupby("right_id", sort=False).cumcount()
            ok_total = pd.Series(True, index=cand.index)
            tot = pd.Series(total, index=cand.index)
            ok_total.loc[c2.index] = (tot.loc[c2.index] + r_all < max_accounts_per_profile).to_numpy()
            ok &= ok_total.to_numpy()
        rejected = cand.index[~ok]
        out.loc[rejected, "decision"] = "profile_limit"


def agreement(pairs: pd.DataFrame, params: pd.DataFrame) -> pd.DataFrame:
    """Level label of each comparison for each pair, and a one-line summary of what agreed."""
    out = pd.DataFrame(index=pairs.index)
    parts = []
    for comp in pd.unique(params["comparison"]):
        g = f"gamma_{comp}"
        if g not in pairs.columns:
            continue
        lab = params[params["comparison"] == comp].set_index("level")["label"]
        lv = pairs[g].to_numpy()
        labels = lab.reindex(lv).to_numpy(dtype=object)
        out[f"{comp}_level"] = labels
        top = lab.index.max()
        agree = (lv > 0) & (lv <= top)
        parts.append(np.where(agree, comp + ": " + labels.astype(str), ""))
    if parts:
        s = pd.Series(parts[0], index=pairs.index, dtype=object)
        for p in parts[1:]:
            s = s.str.cat(pd.Series(p, index=pairs.index), sep="; ")
        out["agreement"] = s.str.replace(r"(^(; )+|(; )+$)", "", regex=True).str.replace(
            r"(; )+", "; ", regex=True)
    return out


def _first_record(res: Resolution, clusters: np.ndarray, how: str | None = None) -> np.ndarray:
    """Key of the first record (in record order) of each cluster, optionally of one ``how``."""
    rec = res.records
    cl = rec["cluster"].to_numpy()
    pos = np.arange(len(rec)) if how is None else np.flatnonzero(equals(rec["how"], how))
    first = np.full(res.n_clusters, len(rec), dtype=np.int64)
    np.minimum.at(first, cl[pos], pos)
    return rec["record_key"].iloc[first[np.asarray(clusters, dtype=np.int64)]].to_numpy()


def links_table(res: Resolution, linked: pd.DataFrame, accounts: pd.DataFrame,
                 params: pd.DataFrame) -> pd.DataFrame:
    """The links table (:data:`LINK_COLUMNS` and ``<comparison>_level``) of the linked decisions.

    Parameters
    ----------
    res : Resolution
        The resolution the links were decided on (cluster numbers of ``linked``).
    linked : DataFrame
        The ``linked`` rows of :func:`choose_links` with the ``gamma_<comparison>`` levels.
    accounts : DataFrame
        The account units (``unique_id``, ``account``, ``platform``, ``n_records``).
    params : DataFrame
        ``FellegiSunterMatcher.model_parameters_`` (level labels).
    """
    if linked.empty:
        return empty_links()
    acc = accounts.set_index("unique_id")
    a_ids = linked["left_id"].to_numpy()
    r_ids = linked["right_id"].to_numpy(np.int64)
    out = pd.DataFrame({
        "account": acc["account"].reindex(a_ids).to_numpy(),
        "platform": acc["platform"].reindex(a_ids).to_numpy(),
        "account_record": _first_record(res, a_ids),
        "target_record": _first_record(res, r_ids, "strong"),
        "target_cluster": r_ids,
        "n_records": acc["n_records"].reindex(a_ids).to_numpy(np.int64),
        "match_probability": linked["match_probability"].to_numpy(),
        "match_weight": linked["match_weight"].to_numpy(),
        "second_weight": linked["second_weight"].to_numpy(),
        "margin": linked["margin"].to_numpy(),
    })
    ag = agreement(linked, params)
    out["agreement"] = ag["agreement"].to_numpy() if "agreement" in ag else ""
    for c in ag.columns:
        if c.endswith("_level"):
            out[c] = ag[c].to_numpy()
    return out


def _merge_clusters(res: Resolution, src: np.ndarray, dst: np.ndarray
                    ) -> tuple[Resolution, np.ndarray]:
    """Merge clusters ``src`` into ``dst`` (pairwise); the moved records become probabilistic.

    Returns the new Resolution and the new (dense, record-order) number of every old cluster.
    """
    cl = res.records["cluster"].to_numpy()
    remap = np.arange(res.n_clusters, dtype=np.int64)
    remap[src] = dst
    moved_cl = np.zeros(res.n_clusters, dtype=bool)
    moved_cl[src] = True
    moved = moved_cl[cl]
    codes, _ = pd.factorize(remap[cl])
    new_of_old = np.full(res.n_clusters, -1, dtype=np.int64)
    new_of_old[cl] = codes
    new_of_old[src] = new_of_old[dst]
    records = res.records.copy()
    records["cluster"] = codes.astype(np.int64)
    how = records["how"]
    if not isinstance(how.dtype, pd.CategoricalDtype):
        how = how.astype(pd.CategoricalDtype(["strong", "account", "weak", "probabilistic", "none"]))
    if "probabilistic" not in how.cat.categories:
        how = how.cat.add_categories(["probabilistic"])
    new_codes = np.asarray(how.cat.codes).copy()
    new_codes[moved] = how.cat.categories.get_loc("probabilistic")
    records["how"] = pd.Categorical.from_codes(new_codes, categories=how.cat.categories)
    out = Resolution(records=records, values=res.values, edges=res.edges, removals=res.removals,
                     invalid=res.invalid, config=res.config, rule_counts=res.rule_counts)
    return out, new_of_old


def apply_links(res: Resolution, links: pd.DataFrame) -> Resolution:
    """A new Resolution with every linked account cluster merged into its profile.

    The account's records get ``how = "probabilistic"``; cluster numbers are re-densified in
    record order; ``links.target_cluster`` is updated to the new numbering.
    """
    if links.empty:
        return res
    keys = pd.Index(res.records["record_key"])
    a_pos = keys.get_indexer(links["account_record"])
    t_pos = keys.get_indexer(links["target_record"])
    if (a_pos < 0).any() or (t_pos < 0).any():
        raise ValueError("links name records that are not in the resolution")
    cl = res.records["cluster"].to_numpy()
    out, new_of_old = _merge_clusters(res, cl[a_pos], cl[t_pos])
    links["target_cluster"] = new_of_old[cl[t_pos]]
    return out


def merge_links(res: Resolution, out: AccountLinking) -> tuple[Resolution, pd.DataFrame]:
    """Apply the links of :func:`match_accounts` to the resolution they were made on.

    Like :func:`apply_links`, but by cluster number (no record-key lookups).

    Returns
    -------
    resolution, links
        The merged resolution and a copy of ``out.links`` with ``target_cluster`` renumbered.
    """
    links = out.links.copy()
    if links.empty:
        return res, links
    src = out.decisions.loc[out.decisions["decision"] == "linked", "left_id"].to_numpy(np.int64)
    dst = links["target_cluster"].to_numpy(np.int64)
    if len(src) != len(dst):
        raise ValueError(f"{len(src)} linked decisions but {len(dst)} links")
    merged, new_of_old = _merge_clusters(res, src, dst)
    links["target_cluster"] = new_of_old[dst]
    return merged, links


def decide(pairs: pd.DataFrame, accounts: pd.DataFrame, profiles: pd.DataFrame, config: Any) -> pd.DataFrame:
    """:func:`choose_links` under ``config``'s rules (an :class:`omni.oneid.config.OneIDConfig`:
    threshold, margin, per-platform and per-profile limits), with the best candidate's comparison
    levels (``gamma_*``) beside each decision; what both engines' probabilistic stages decide with."""
    decisions = choose_links(pairs, accounts, profiles, config.match_threshold, config.match_margin,
                             config.max_accounts_per_platform, config.max_per_profile.get("platform_buyer"))
    best = pairs.drop_duplicates("left_id").set_index("left_id")
    gam = [c for c in pairs.columns if c.startswith("gamma_")]
    return pd.concat([decisions, best[gam].reindex(decisions["left_id"]).reset_index(drop=True)], axis=1)
