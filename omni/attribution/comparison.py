"""The models side by side and the month against the previous one: share matrices, where the models
disagree, how each channel's share moved.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from omni.attribution.journeys import DIRECT

__all__ = [
    "channel_ranks",
    "model_disagreement",
    "share_change",
    "share_matrix",
    "touch_channels",
]


def share_matrix(table: pd.DataFrame, column: str = "share") -> pd.DataFrame:
    """Channels x models of one column of an :func:`~omni.attribution.models.attribute` table.

    Parameters
    ----------
    table
        Long frame with ``model``, ``channel`` and ``column``.
    column
        ``share`` (default), ``conversions`` or ``value``.

    Returns
    -------
    pandas.DataFrame
        Index: channel; columns: models in the order they appear.
    """
    missing = [c for c in ("model", "channel", column) if c not in table.columns]
    if missing:
        raise ValueError(f"attribution table is missing column(s) {missing}")
    models = list(dict.fromkeys(table["model"]))
    wide = table.pivot_table(
        index=table["channel"].astype(str),
        columns="model",
        values=column,
        aggfunc="sum",
        observed=True,
    )
    wide = wide.reindex(columns=models)
    wide.index.name = "channel"
    wide.columns.name = None
    return wide


def model_disagreement(table: pd.DataFrame, exclude: Sequence[str] = (DIRECT,)) -> pd.DataFrame:
    """Where the models disagree: the spread of each channel's share and rank across models.

    Parameters
    ----------
    table
        Long attribution frame (``model``, ``channel``, ``share``).
    exclude
        Channels left out (``direct``: conversions without touches, the same in most models).

    Returns
    -------
    pandas.DataFrame
        One row per channel, largest spread first: ``min_share``, ``max_share``, ``spread``
        (max - min, in share points), ``min_model``, ``max_model``, ``best_rank`` and
        ``worst_rank`` (rank of the channel among the channels by share, 1 = largest, in the
        models that rank it highest and lowest), ``rank_stable`` (same rank in every model).
    """
    wide = share_matrix(table).drop(index=list(exclude), errors="ignore")
    if wide.empty:
        raise ValueError("no channels left to compare after excluding " + ", ".join(exclude))
    ranks = wide.rank(axis=0, ascending=False, method="min")
    vals = wide.to_numpy()
    cols = np.asarray(wide.columns, dtype=object)
    out = pd.DataFrame(
        {
            "channel": wide.index,
            "min_share": vals.min(axis=1),
            "max_share": vals.max(axis=1),
            "spread": vals.max(axis=1) - vals.min(axis=1),
            "min_model": cols[vals.argmin(axis=1)],
            "max_model": cols[vals.argmax(axis=1)],
            "best_rank": ranks.min(axis=1).astype(int).to_numpy(),
            "worst_rank": ranks.max(axis=1).astype(int).to_numpy(),
        }
    )
    out["rank_stable"] = out["best_rank"] == out["worst_rank"]
    return out.sort_values(["spread", "channel"], ascending=[False, True]).reset_index(drop=True)


def share_change(
    current: pd.DataFrame, previous: pd.DataFrame | None, model: str = "markov"
) -> pd.DataFrame:
    """One model's channel shares this month and the month before.

    Parameters
    ----------
    current, previous
        Long attribution tables of the two months (``previous`` may be None).
    model
        Model to compare.

    Returns
    -------
    pandas.DataFrame
        ``channel``, ``share``, ``previous_share``, ``change`` (share points), ``conversions``,
        ``previous_conversions``; channels by this month's share.
    """

    def pick(t: pd.DataFrame | None) -> pd.DataFrame:
        if t is None:
            return pd.DataFrame(columns=["share", "conversions"], dtype=float)
        if model not in set(t["model"]):
            raise ValueError(f"model {model!r} is not in the attribution table")
        s = t[t["model"] == model]
        return s.set_index(s["channel"].astype(str))[["share", "conversions"]]

    cur, prev = pick(current), pick(previous)
    idx = cur.index.union(prev.index, sort=False)
    cur, prev = cur.reindex(idx, fill_value=0.0), prev.reindex(idx)
    out = pd.DataFrame(
        {
            "channel": idx,
            "share": cur["share"].to_numpy(dtype=float),
            "previous_share": prev["share"].to_numpy(dtype=float),
            "conversions": cur["conversions"].to_numpy(dtype=float),
            "previous_conversions": prev["conversions"].to_numpy(dtype=float),
        }
    )
    if previous is not None:
        out[["previous_share", "previous_conversions"]] = out[
            ["previous_share", "previous_conversions"]
        ].fillna(0.0)
    out.insert(3, "change", out["share"] - out["previous_share"])
    return out.sort_values(["share", "channel"], ascending=[False, True]).reset_index(drop=True)


def channel_ranks(table: pd.DataFrame, exclude: Sequence[str] = (DIRECT,)) -> pd.DataFrame:
    """Rank of each channel by share under each model (1 = largest; ties share the best rank).

    Parameters
    ----------
    table
        Long attribution frame (``model``, ``channel``, ``share``).
    exclude
        Channels left out (``direct`` by default).

    Returns
    -------
    pandas.DataFrame
        Channels x models of ranks.
    """
    wide = share_matrix(table).drop(index=list(exclude), errors="ignore")
    return wide.rank(axis=0, ascending=False, method="min")


def touch_channels(table: pd.DataFrame, model: str) -> list[str]:
    """The touch channels (``direct`` left out) by ``model``'s share, largest first.

    Parameters
    ----------
    table
        Long attribution frame.
    model
        The model whose shares give the order.
    """
    shares = share_matrix(table)[model].sort_values(ascending=False)
    return [c for c in shares.index if c != DIRECT]
