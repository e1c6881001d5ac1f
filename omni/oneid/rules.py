"""The deterministic OneID rules, one function each over a :class:`~omni.oneid.state.GraphState`.

:func:`omni.oneid.resolve.resolve_identities` runs them in this order:

1. :func:`mark_shared_values`: a value seen with more than ``max_cooccurring`` distinct values of
   one strong type (a kiosk device with hundreds of member ids), more than
   ``max_cooccurring_weak`` of one weak type, or on more records than its type's ``max_records``
   is *shared* and never links.
2. :func:`strong_components`: connected components of records <-> strong values.
3. :func:`split_over_limits`: a component holding more distinct values of a type than
   ``max_per_profile`` allows is split by removing the value that bridges the most values of that
   type (a phone typed for four members); with no single bridge, the most recently seen values
   beyond the limit are removed. Up to ``max_split_rounds`` rounds; every removal is recorded.
4. :func:`join_bridging_values`: a bridging weak value (a WeChat openid) seen with 2 to
   ``max_bridge_profiles`` strong components joins them, then the limits are checked again.
5. :func:`mark_unbound_accounts`: records linked only by platform accounts not bound to a
   person-level strong id are ``account`` records (the probabilistic stage links them later).
6. :func:`attach_weak_values`: a weak value seen with exactly one strong component attaches
   records with no strong id to it; seen with two or more it is *ambiguous* and links nothing.
   Weak-only records are grouped through unambiguous weak values; a group that reaches exactly one
   strong component joins it, otherwise it stays a profile of its own.

Records with no usable identifier stay profiles of their own (``how = "none"``). All steps are
vectorized over the edge arrays; scratch arrays are freed as soon as a rule is done with them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omni.oneid.graph import (
    bipartite_components,
    cooccurrence,
    dense_codes,
    group_components,
    sorted_unique,
    unique_pairs,
)
from omni.oneid.state import (
    HOW_ACCOUNT,
    HOW_NONE,
    HOW_STRONG,
    HOW_WEAK,
    STATUS_AMBIGUOUS,
    STATUS_BRIDGE,
    STATUS_OVER_LIMIT,
    STATUS_SHARED,
    STATUS_STRONG,
    STATUS_WEAK,
    GraphState,
)

__all__ = [
    "attach_weak_values",
    "join_bridging_values",
    "mark_shared_values",
    "mark_unbound_accounts",
    "split_over_limits",
    "strong_components",
]

_SHARED_WHY = np.array(["", "seen_with_many_strong_ids", "seen_with_many_weak_ids", "too_many_records"],
                       dtype=object)


# ------------------------------------------------------------------------ 1. shared values


def mark_shared_values(state: GraphState) -> GraphState:
    """Mark strong and weak values seen with too many partners, or on too many records, shared.

    Sets ``state.cooc`` (the split and account rules read it) and, on every shared value,
    ``status = shared`` and ``reason`` (``seen_with_many_strong_ids``,
    ``seen_with_many_weak_ids`` or ``too_many_records``). Counter: ``shared_values``.
    """
    config, status, val_type = state.config, state.status, state.val_type
    strong_type_mask, weak_type_mask = state.strong_type_mask, state.weak_type_mask
    # distinct co-occurring values per type, in one pass over strong and weak partners; the
    # strong and weak views are column masks (a type is strong or weak, not both)
    partners = strong_type_mask[val_type] | weak_type_mask[val_type]
    cooc = cooccurrence(state.rec, state.val, partners, val_type, state.n_val, state.n_types)
    del partners
    strong_cols = state.strong_cols
    n_val = state.n_val
    cooc_strong_max = cooc[:, strong_cols].max(axis=1) if strong_cols.any() else np.zeros(n_val, np.int32)
    cooc_weak_max = cooc[:, weak_type_mask].max(axis=1) if weak_type_mask.any() else np.zeros(n_val, np.int32)
    too_many_strong = cooc_strong_max > config.max_cooccurring
    too_many_weak = cooc_weak_max > config.max_cooccurring_weak
    too_many_records = state.n_records_per_val > state.per_type(config.max_records)[val_type]
    linkable = (status == STATUS_STRONG) | (status == STATUS_WEAK)
    why = np.select([too_many_strong, too_many_weak, too_many_records], [1, 2, 3], 0).astype(np.int8)
    hit = (why > 0) & linkable
    status[hit] = STATUS_SHARED
    state.reasons()[hit] = _SHARED_WHY[why[hit]]
    state.cooc = cooc
    state.count("shared_values", hit.sum())
    return state


# --------------------------------------------------------------------- 2. strong components


def strong_components(state: GraphState) -> GraphState:
    """Components of records <-> linking (strong or bridging) values: ``state.labels`` (records
    without a linking value get a component of their own)."""
    use = state.linking_edges()
    state.labels = bipartite_components(state.rec[use], state.val[use], state.n_rec, state.n_val)
    return state


# ------------------------------------------------------------------------ 3. profile limits


def _first_seen(state: GraphState, vals: np.ndarray) -> np.ndarray:
    """Earliest record time of each of a few values (only split candidates need it); the value
    itself when the state has no record times."""
    t_rec = state.record_times()
    if t_rec is None:
        return vals
    val, rec = state.val, state.rec
    pos = np.full(state.n_val, -1, dtype=np.int64)
    u = sorted_unique(vals)
    pos[u] = np.arange(len(u))
    sel = pos[val] >= 0
    out = np.full(len(u), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, pos[val[sel]], t_rec[rec[sel]])
    return out[pos[vals]]


def _recompute(state: GraphState, labels: np.ndarray, comps: np.ndarray) -> np.ndarray:
    """Components again inside the given components only (values were removed from them; every
    other component is unchanged)."""
    rec, val = state.rec, state.val
    rec_local, val_local = state.local_maps()
    aff = np.zeros(int(labels.max()) + 1, dtype=bool)
    aff[comps] = True
    r_in = np.flatnonzero(aff[labels])
    e_in = aff[labels[rec]] & state.linking_edges()
    er, ev = rec[e_in], val[e_in]
    vu = sorted_unique(ev)
    rec_local[r_in] = np.arange(len(r_in))
    val_local[vu] = np.arange(len(vu))
    sub = bipartite_components(rec_local[er], val_local[ev], len(r_in), len(vu))
    rec_local[r_in] = -1
    val_local[vu] = -1
    labels = labels.copy()
    labels[r_in] = labels.max() + 1 + sub
    return labels


def _over_limit(state: GraphState, labels: np.ndarray, limits: np.ndarray
                ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Components over a type's limit: ``comp``, ``t`` (the type with most values; ties: type
    priority) and ``n``; with the live values and the component of every value (-1: none)."""
    n_types = state.n_types
    use = state.linking_edges()
    comp_of_val = np.full(state.n_val, -1, dtype=np.int64)
    comp_of_val[state.val[use]] = labels[state.rec[use]]
    live = np.flatnonzero(comp_of_val >= 0)
    # distinct values per (component, type): run lengths of the sorted (comp, type) keys
    ct = np.sort(comp_of_val[live] * np.int64(n_types) + state.val_type[live])
    starts = np.flatnonzero(np.r_[True, ct[1:] != ct[:-1]]) if len(ct) else np.zeros(0, dtype=np.int64)
    runs = np.diff(np.r_[starts, len(ct)])
    keys = ct[starts]
    is_over = runs > limits[keys % n_types]
    over = pd.DataFrame({"comp": keys[is_over] // n_types, "t": keys[is_over] % n_types, "n": runs[is_over]})
    # one type per component per round: the one with most values (ties: type priority)
    over = over.sort_values(["comp", "n", "t"], ascending=[True, False, True]).drop_duplicates("comp")
    return over, live, comp_of_val


def _values_to_remove(state: GraphState, over: pd.DataFrame, live: np.ndarray, comp_of_val: np.ndarray,
                      limits: np.ndarray) -> pd.DataFrame:
    """Per component over a limit, the bridging value of the offending type (seen with two or
    more values of it), or with no bridge the values of that type beyond the limit (keeping the
    most used and, among equals, the oldest): ``val``, ``comp``, ``t``, ``rule``."""
    cand = pd.DataFrame({"val": live, "comp": comp_of_val[live]}).merge(over, on="comp")
    cand["score"] = state.cooc[cand["val"].to_numpy(), cand["t"].to_numpy()] * state.strong_cols[cand["t"].to_numpy()]
    cand["n_rec"] = state.n_records_per_val[cand["val"].to_numpy()]
    cand["first"] = _first_seen(state, cand["val"].to_numpy())
    cand = cand.sort_values(["comp", "score", "n_rec", "first"], ascending=[True, False, False, False])
    best = cand.drop_duplicates("comp")
    bridge = best[best["score"] >= 2]
    no_bridge_comps = best.loc[best["score"] < 2, "comp"]
    tail = cand[cand["comp"].isin(no_bridge_comps) & (state.val_type[cand["val"].to_numpy()] == cand["t"].to_numpy())]
    tail = tail.sort_values(["comp", "n_rec", "first"], ascending=[True, False, True])
    tail = tail[tail.groupby("comp").cumcount() >= limits[tail["t"].to_numpy()]]
    return pd.concat([bridge.assign(rule="bridge"), tail.assign(rule="beyond_limit")], ignore_index=True)


def _remove(state: GraphState, drop: pd.DataFrame, rnd: int, comp_size: np.ndarray) -> None:
    """Mark the dropped values over limit and record the removals of round ``rnd``."""
    types = np.asarray(state.types, dtype=object)
    v, t = drop["val"].to_numpy(), drop["t"].to_numpy()
    state.status[v] = STATUS_OVER_LIMIT
    state.reasons()[v] = "profile_limit_" + pd.Series(state.types).iloc[t].to_numpy()
    state.removals.append(pd.DataFrame({
        "round": rnd + 1,
        "val": v,
        "id_type": types[state.val_type[v]],
        "limit_type": types[t],
        "rule": drop["rule"].to_numpy(),
        "component_size": comp_size[drop["comp"].to_numpy()],
    }))
    state.count("removed_bridge", (drop["rule"] == "bridge").sum())
    state.count("removed_beyond_limit", (drop["rule"] == "beyond_limit").sum())


def split_over_limits(state: GraphState) -> GraphState:
    """Split components that hold more values of a type than its ``max_per_profile`` allows.

    Each round removes, per component over a limit, its bridging value or the values beyond the
    limit (status ``over_limit``, reason ``profile_limit_<type>``, a row in ``removals``) and
    recomputes the components it touched. Leaves ``state.labels`` dense (< n_rec): later rules
    pack (value, label) pairs into int64 keys. Counters: ``split_rounds``, ``removed_bridge``,
    ``removed_beyond_limit``.
    """
    config = state.config
    limits = state.per_type(config.max_per_profile)
    state.record_times()  # converted once, before the rounds (a bad time column fails here)
    labels = dense_codes(state.labels)[0]
    for rnd in range(config.max_split_rounds + 1):
        over, live, comp_of_val = _over_limit(state, labels, limits)
        if over.empty or rnd == config.max_split_rounds:
            break
        drop = _values_to_remove(state, over, live, comp_of_val, limits)
        del live, comp_of_val
        _remove(state, drop, rnd, np.bincount(labels))
        state.count("split_rounds", 1)
        labels = dense_codes(_recompute(state, labels, over["comp"].to_numpy()))[0]
    state.labels = labels
    return state


# ---------------------------------------------------------------------- 4. bridging values


def join_bridging_values(state: GraphState) -> GraphState:
    """Join the strong components a bridging weak value (an openid is one person's WeChat
    account in one app) is seen with, when they are 2 to ``max_bridge_profiles``; then split
    again where a merge broke a limit (:func:`split_over_limits`).

    Joining values get status ``bridge`` (reason ``joins_profiles``); values seen with more
    components stay weak (the weak rule makes them ambiguous). Counter: ``bridge_values``.
    """
    config, status, rec, val = state.config, state.status, state.rec, state.val
    bridge_codes = state.type_codes(config.bridging_types)
    if not bridge_codes:
        return state
    n_rec, n_val, labels = state.n_rec, state.n_val, state.labels
    is_b = np.isin(state.val_type[val], bridge_codes) & (status[val] == STATUS_WEAK)
    in_comp = np.zeros(n_rec, dtype=bool)
    in_comp[rec[status[val] == STATUS_STRONG]] = True
    sel = is_b & in_comp[rec]
    bv, _ = unique_pairs(val[sel], labels[rec[sel]], n_rec + n_val)
    n_b = np.bincount(bv, minlength=n_val)
    joins = (n_b >= 2) & (n_b <= config.max_bridge_profiles)
    if not joins.any():
        return state
    status[joins] = STATUS_BRIDGE
    state.reasons()[joins] = "joins_profiles"
    state.count("bridge_values", joins.sum())
    # merge the components each bridging value touches (a graph of components and bridging
    # values), then split again where a merge broke a limit
    b_sel = status[val] == STATUS_BRIDGE
    n_lab = int(labels.max()) + 1
    merged = group_components(labels[rec[b_sel]], val[b_sel], n_lab, n_val)[:n_lab]
    state.labels = merged[labels]
    return split_over_limits(state)


# ----------------------------------------------------------------------- 5. unbound accounts


def mark_unbound_accounts(state: GraphState) -> GraphState:
    """Say what kind of identifier put each record in its component (``state.how``).

    A platform buyer id is an account, not a person, until it is bound to a person-level strong
    id (the shop-membership binding to a phone): records linked by unbound accounts only are
    ``account`` records (the probabilistic stage links them later); records with a person-level
    strong id are ``strong``; the others ``none`` (the weak rule attaches some). The splits are
    done: the co-occurrence table and record times are freed. Counter: ``account_records``.
    """
    config, status, rec, val, n_rec = state.config, state.status, state.rec, state.val, state.n_rec
    has_strong = np.zeros(n_rec, dtype=bool)
    has_strong[rec[state.linking_edges()]] = True
    account_types = state.type_codes(config.account_types)
    person_level = np.ones(state.n_val, dtype=bool)
    if account_types:
        is_account = np.isin(state.val_type, account_types)
        other_strong = state.strong_type_mask.copy()
        other_strong[account_types] = False
        bound = state.cooc[:, other_strong & state.strong_cols].sum(axis=1) > 0
        person_level = ~is_account | bound
    # the splits are done: their per-value and per-record helpers are not needed any more
    state.drop_split_helpers()
    strong_val = status[val] == STATUS_STRONG
    has_person_id = np.zeros(n_rec, dtype=bool)
    has_person_id[rec[strong_val & person_level[val]]] = True
    has_account = np.zeros(n_rec, dtype=bool)
    has_account[rec[strong_val & ~person_level[val]]] = True
    del strong_val
    state.how = np.select([has_person_id, has_account, has_strong],
                          [HOW_STRONG, HOW_ACCOUNT, HOW_WEAK], HOW_NONE).astype(np.int8)
    state.has_strong = has_strong
    state.count("account_records", (state.how == HOW_ACCOUNT).sum())
    return state


# -------------------------------------------------------------------------- 6. weak values


def _weak_anchors(state: GraphState, w_rec: np.ndarray, w_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The strong component each weak value is seen with when it is exactly one (-1 otherwise),
    and which values are seen with two or more (ambiguous)."""
    anchored = state.has_strong[w_rec]
    a_val, a_comp = unique_pairs(w_val[anchored], state.labels[w_rec[anchored]], state.n_rec)
    del anchored
    n_anchor = np.bincount(a_val, minlength=state.n_val)
    anchor_of_val = np.full(state.n_val, -1, dtype=np.int64)
    single = n_anchor[a_val] == 1
    anchor_of_val[a_val[single]] = a_comp[single]
    ambiguous = (n_anchor >= 2) & (state.status == STATUS_WEAK)
    return anchor_of_val, ambiguous


def _join_weak_groups(state: GraphState, wo_rec: np.ndarray, wo_val: np.ndarray,
                      anchor_of_val: np.ndarray) -> None:
    """Group the weak-only records through their values; a group reaching exactly one strong
    component joins it, the others become profiles of their own (labels past the largest)."""
    final = state.labels
    labels_max = int(final.max()) if len(final) else -1
    rec_local, val_local = state.local_maps()
    # components of the weak-only records and their values, on local indices
    weak_recs = sorted_unique(wo_rec)
    weak_vals = sorted_unique(wo_val)
    rec_local[weak_recs] = np.arange(len(weak_recs))
    val_local[weak_vals] = np.arange(len(weak_vals))
    gl = group_components(rec_local[wo_rec], val_local[wo_val], len(weak_recs), len(weak_vals))
    grp = gl[: len(weak_recs)]
    # anchors reached by each weak group through unambiguous values
    has_anchor = anchor_of_val[wo_val] >= 0
    ga, gc = unique_pairs(gl[len(weak_recs) + val_local[wo_val[has_anchor]]],
                          anchor_of_val[wo_val[has_anchor]], state.n_rec)
    rec_local[weak_recs] = -1
    val_local[weak_vals] = -1
    n_groups = int(gl.max()) + 1
    n_g_anchor = np.bincount(ga, minlength=n_groups)
    target = np.full(n_groups, -1, dtype=np.int64)
    one = n_g_anchor[ga] == 1
    target[ga[one]] = gc[one]
    joined = target[grp]
    joins = joined >= 0
    final[weak_recs[joins]] = joined[joins]
    final[weak_recs[~joins]] = labels_max + 1 + grp[~joins]
    state.how[weak_recs] = HOW_WEAK
    state.count("weak_records_attached", joins.sum())
    state.count("weak_records_grouped", (~joins).sum())


def attach_weak_values(state: GraphState) -> GraphState:
    """Attach records with no strong id through weak values (cookie, device, single-app openid).

    A weak value seen with exactly one strong component anchors to it; seen with two or more it
    is ambiguous (status ``ambiguous_weak``, reason ``weak_id_seen_with_several_profiles``) and
    links nothing. Weak-only records are grouped through unambiguous weak values: a group that
    reaches exactly one component joins it, otherwise it stays a profile of its own. Their
    ``how`` becomes ``weak``. Weak values never merge two strong components. Updates
    ``state.labels`` in place. Counters: ``ambiguous_weak_values``, ``weak_records_attached``,
    ``weak_records_grouped``.
    """
    weak_edge = state.status[state.val] == STATUS_WEAK
    w_rec, w_val = state.rec[weak_edge], state.val[weak_edge]
    del weak_edge
    anchor_of_val, ambiguous = _weak_anchors(state, w_rec, w_val)
    state.status[ambiguous] = STATUS_AMBIGUOUS
    state.reasons()[ambiguous] = "weak_id_seen_with_several_profiles"
    state.count("ambiguous_weak_values", ambiguous.sum())
    wo = (~state.has_strong[w_rec]) & (~ambiguous[w_val])
    wo_rec, wo_val = w_rec[wo], w_val[wo]
    del w_rec, w_val, wo
    if len(wo_rec):
        _join_weak_groups(state, wo_rec, wo_val, anchor_of_val)
    return state
