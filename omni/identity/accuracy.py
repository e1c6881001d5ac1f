"""Accuracy of a resolution against the synthetic world's truth (who each record really belongs to).

Only synthetic data has a truth (``truth/record_person``). Pairwise precision: of the record pairs put
in one OneID, the share that are truly one person; recall: of the true pairs, the share found;
B-cubed scores weigh every record equally. The scoring itself is :mod:`omni.oneid.evaluate`'s.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omni.core.strings import equals_text
from omni.identity.health import labels
from omni.oneid import evaluate_against_truth, linkable_scores
from omni.oneid.evaluate import pairwise_scores, scores_by_source_pair
from omni.oneid.resolve import Resolution

__all__ = [
    "ACCURACY_COLUMNS",
    "accuracy_table",
    "link_accuracy",
    "naive_accuracy",
    "source_pair_accuracy",
    "truth_table",
]

#: Columns of :func:`accuracy_table`.
ACCURACY_COLUMNS = ["records", "n_records", "precision", "recall", "f1", "bcubed_precision", "bcubed_recall",
                    "bcubed_f1", "linkable_recall"]


def truth_table(truth: pd.DataFrame | dict | None) -> pd.DataFrame | None:
    """The ``record_person`` truth (``record_key``, ``person_id``) from a table or a name -> table map."""
    if truth is None or isinstance(truth, pd.DataFrame):
        return truth
    return truth.get("record_person")


def accuracy_table(record_oneid: pd.DataFrame, res: Resolution, truth: pd.DataFrame) -> pd.DataFrame:
    """Pairwise and B-cubed scores for records with a strong identifier and for all records.

    Parameters
    ----------
    record_oneid : DataFrame
        ``record_key``, ``oneid``, ``how``.
    res : Resolution
        The same resolution's view (for the linkable truth).
    truth : DataFrame or ndarray
        ``record_key``, ``person_id``; or the person codes of
        :func:`omni.oneid.evaluate.truth_codes`, aligned with ``record_oneid`` (integer keys: the
        way the report scores large resolutions).

    Returns
    -------
    DataFrame
        One row per population (``records``: ``with a strong identifier``, ``all``) with
        :data:`ACCURACY_COLUMNS`; ``linkable_recall`` is the recall against the true pairs some chain
        of valid identifiers joins (strong-id records only, NaN for ``all``).
    """
    if isinstance(truth, np.ndarray):  # person codes aligned with record_oneid (truth_codes)
        _all_in_truth(truth)
        cluster = res.records["cluster"].to_numpy()
        strong_mask = equals_text(record_oneid["how"], "strong")
        strong = pairwise_scores(cluster[strong_mask], truth[strong_mask])
        every = pairwise_scores(cluster, truth)
    else:
        strong = evaluate_against_truth(record_oneid, truth, strong_only=True)
        every = evaluate_against_truth(record_oneid, truth, strong_only=False)
    linkable = linkable_scores(res, truth, strong_only=True)
    rows = [{"records": "with a strong identifier", **strong, "linkable_recall": linkable["recall"]},
            {"records": "all", **every, "linkable_recall": float("nan")}]
    return pd.DataFrame(rows)[ACCURACY_COLUMNS]


def source_pair_accuracy(record_oneid: pd.DataFrame, truth: pd.DataFrame | np.ndarray,
                         cluster: np.ndarray | None = None) -> pd.DataFrame:
    """Pairwise scores by pair of sources (all records), most true pairs first.

    Returns
    -------
    DataFrame
        ``source_a``, ``source_b``, ``pred_pairs``, ``true_pairs``, ``tp``, ``precision``, ``recall``,
        ``f1``.
    """
    if isinstance(truth, np.ndarray):  # person codes aligned with record_oneid (truth_codes)
        keep = truth >= 0
        oneid = pd.factorize(record_oneid["oneid"])[0] if cluster is None else cluster
        src = record_oneid["source"]
        if isinstance(src.dtype, pd.CategoricalDtype) and not src.isna().any():  # by code: no string per record
            src = pd.Categorical.from_codes(src.cat.codes.to_numpy()[keep], src.cat.categories.astype(str))
        else:
            src = labels(src)[keep]
        sp = scores_by_source_pair(oneid[keep], truth[keep], src)
        return sp.sort_values("true_pairs", ascending=False)
    m = record_oneid.merge(truth, on="record_key")
    sp = scores_by_source_pair(m["oneid"].to_numpy(), m["person_id"].to_numpy(), m["source"].astype(str).to_numpy())
    return sp.sort_values("true_pairs", ascending=False)


def naive_accuracy(record_oneid: pd.DataFrame, naive: np.ndarray, truth: pd.DataFrame) -> dict[str, float]:
    """Pairwise and B-cubed scores (strong-id records) of the naive graph's clusters.

    Parameters
    ----------
    record_oneid : DataFrame
        ``record_key``, ``how`` (the resolution's records).
    naive : ndarray
        A cluster label per row of ``record_oneid`` (:func:`omni.oneid.baseline.naive_clusters`).
    truth : DataFrame
        ``record_key``, ``person_id``.

    Returns
    -------
    dict
        As :func:`omni.oneid.evaluate.pairwise_scores` (``precision``, ``recall``, ...).
    """
    if isinstance(truth, np.ndarray):  # person codes aligned with record_oneid (truth_codes)
        _all_in_truth(truth)
        strong = equals_text(record_oneid["how"], "strong")
        return pairwise_scores(np.asarray(naive)[strong], truth[strong])
    return evaluate_against_truth(record_oneid.assign(oneid=naive), truth, strong_only=True)


def _all_in_truth(codes: np.ndarray) -> None:
    """As :func:`omni.oneid.evaluate_against_truth`: every record must have a truth row."""
    if (codes < 0).any():
        raise ValueError(f"{int((codes < 0).sum())} records have no truth row")


def link_accuracy(links: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """How many probabilistic links join records of the same true person.

    Returns
    -------
    DataFrame
        One row: ``links``, ``right_person`` (share, NaN without links).
    """
    if not len(links):
        return pd.DataFrame({"links": [0], "right_person": [float("nan")]})
    if not isinstance(truth, pd.DataFrame):  # the truth's Parquet file: the engine reads only these keys
        from omni.engine import query

        got = query("SELECT l.i, a.person_id = b.person_id AS ok FROM l "
                    "LEFT JOIN truth a ON a.record_key = l.account_record "
                    "LEFT JOIN truth b ON b.record_key = l.target_record",
                    {"l": links[["account_record", "target_record"]].assign(i=np.arange(len(links))),
                     "truth": truth})
        ok = np.zeros(len(links), dtype=bool)
        ok[got["i"].to_numpy(np.int64)] = got["ok"].fillna(False).to_numpy(dtype=bool)
        return pd.DataFrame({"links": [len(links)], "right_person": [float(ok.mean())]})
    person = truth.set_index("record_key")["person_id"]
    ok = person.reindex(links["account_record"]).to_numpy() == person.reindex(links["target_record"]).to_numpy()
    return pd.DataFrame({"links": [len(links)], "right_person": [float(ok.mean())]})
