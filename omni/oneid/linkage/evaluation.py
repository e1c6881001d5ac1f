"""Precision and recall of account links against a synthetic world's truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from omni.oneid.resolve import Resolution

__all__ = ["evaluate_links"]


def evaluate_links(res: Resolution, decisions: pd.DataFrame, truth: pd.DataFrame,
                   accounts: pd.DataFrame | None = None) -> dict[str, float]:
    """Precision and recall of account links against ground truth (synthetic worlds only).

    Parameters
    ----------
    res : Resolution
        The deterministic resolution the links were made on (before :func:`apply_links`).
    decisions : DataFrame
        ``left_id`` (account cluster), ``right_id`` (profile cluster) and ``decision`` per
        account (:func:`choose_links`), or a links table (``account_record``, ``target_record``).
    truth : DataFrame
        ``record_key``, ``person_id``.

    Returns
    -------
    dict
        ``links``, ``correct``, ``precision``; ``accounts`` (unbound accounts), ``linkable``
        (accounts whose person holds a profile) and ``recall`` over them; ``crm_linkable`` (accounts
        whose person has a CRM record) and ``crm_recall``, ``crm_precision`` over those.
        The person of a cluster is the person of most of its records.
    """
    rec = res.records
    m = pd.DataFrame({"cluster": rec["cluster"].to_numpy(), "record_key": rec["record_key"].to_numpy(),
                      "how": rec["how"].astype(str).to_numpy(), "source": rec["source"].astype(str).to_numpy()})
    m["person"] = truth.set_index("record_key")["person_id"].reindex(m["record_key"]).to_numpy()
    if m["person"].isna().any():
        raise ValueError(f"{int(m['person'].isna().sum())} records have no truth row")
    cnt = m.groupby(["cluster", "person"]).size().rename("n").reset_index()
    cnt = cnt.sort_values(["cluster", "n", "person"], ascending=[True, False, True])
    person_of = cnt.drop_duplicates("cluster").set_index("cluster")["person"]
    acc_mask = np.zeros(res.n_clusters, bool)
    acc_mask[m.loc[m["how"] == "account", "cluster"].to_numpy()] = True
    strong = m["how"] == "strong"
    acc_mask[m.loc[strong, "cluster"].to_numpy()] = False
    prof_clusters = np.unique(m.loc[strong, "cluster"].to_numpy())
    prof_persons = set(person_of.reindex(prof_clusters).to_numpy())
    crm_persons = set(m.loc[m["source"] == "crm_members", "person"])
    acc_ids = np.flatnonzero(acc_mask)
    acc_person = person_of.reindex(acc_ids).to_numpy()
    linkable = pd.Series(acc_person).isin(prof_persons).to_numpy()
    in_crm = pd.Series(acc_person).isin(crm_persons).to_numpy()
    if "decision" in decisions.columns:
        d = decisions[decisions["decision"] == "linked"]
        l_id, r_id = d["left_id"].to_numpy(np.int64), d["right_id"].to_numpy(np.int64)
    else:
        keys = pd.Index(rec["record_key"])
        cl = rec["cluster"].to_numpy()
        l_id = cl[keys.get_indexer(decisions["account_record"])]
        r_id = cl[keys.get_indexer(decisions["target_record"])]
    ok = person_of.reindex(l_id).to_numpy() == person_of.reindex(r_id).to_numpy()
    linked_crm = pd.Series(person_of.reindex(l_id).to_numpy()).isin(crm_persons).to_numpy()
    n_links, n_ok = len(l_id), int(ok.sum())
    return {
        "accounts": int(len(acc_ids)),
        "linkable": int(linkable.sum()),
        "crm_linkable": int((linkable & in_crm).sum()),
        "links": int(n_links),
        "correct": n_ok,
        "precision": n_ok / n_links if n_links else 1.0,
        "recall": n_ok / int(linkable.sum()) if linkable.any() else 1.0,
        "crm_precision": int((ok & linked_crm).sum()) / int(linked_crm.sum()) if linked_crm.any() else 1.0,
        "crm_recall": (int((ok & linked_crm).sum()) / int((linkable & in_crm).sum())
                       if (linkable & in_crm).any() else 1.0),
    }
