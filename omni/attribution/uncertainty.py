"""Bootstrap confidence intervals for attribution shares."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from omni.attribution.journeys import Journeys, Paths, as_paths

__all__ = ["bootstrap"]


def bootstrap(
    model_fn: Callable[[Paths], pd.DataFrame],
    journeys: Journeys | Paths,
    n_boot: int = 200,
    seed: int = 0,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Bootstrap the channel shares of a path-based model over journeys.

    Resampling all journeys with replacement is the same as drawing the counts of the
    ``(unique path, outcome)`` cells from a multinomial with the observed proportions, which is
    what is done: one draw of a few thousand cells per replicate instead of a million rows. The
    value of a resampled converting journey is its cell's mean value.

    Parameters
    ----------
    model_fn
        Function of :class:`Paths` returning an attribution frame (channel, conversions, share),
        e.g. :func:`markov_attribution` or :func:`shapley_attribution` (or a lambda around
        :class:`MarkovAttribution`).
    journeys
        :class:`Journeys` or :class:`Paths`.
    n_boot
        Number of bootstrap replicates.
    seed
        Seed of the random generator (same seed, same intervals).
    ci
        Confidence level of the percentile interval.

    Returns
    -------
    pandas.DataFrame
        Per channel: ``share`` (on the data), ``share_se`` (bootstrap standard deviation),
        ``share_lo``, ``share_hi`` (percentile interval), ``conversions``, ``conversions_lo``,
        ``conversions_hi``.
    """
    if not isinstance(n_boot, int | np.integer) or n_boot < 2:
        raise ValueError(f"n_boot must be an integer >= 2, got {n_boot!r}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1, got {ci!r}")
    paths = as_paths(journeys)
    point = model_fn(paths)
    channels = point["channel"].astype(str).tolist()

    conv, nulls = paths.conversions, paths.nulls
    counts = np.concatenate([conv, nulls])
    n_total = counts.sum()
    if n_total <= 0:
        raise ValueError("bootstrap needs at least one journey")
    n_int = int(round(n_total))
    mean_value = np.divide(paths.value, conv, out=np.zeros_like(conv), where=conv > 0)
    rng = np.random.default_rng(seed)
    p = counts / n_total
    n_paths = paths.n_paths

    shares = np.empty((n_boot, len(channels)))
    convs = np.empty((n_boot, len(channels)))
    for b in range(n_boot):  # replicates, not records
        draw = rng.multinomial(n_int, p).astype(float)
        c_b, n_b = draw[:n_paths], draw[n_paths:]
        rep = model_fn(paths.with_counts(c_b, n_b, c_b * mean_value))
        rep = rep.set_index(rep["channel"].astype(str)).reindex(channels, fill_value=0.0)
        shares[b] = rep["share"].to_numpy()
        convs[b] = rep["conversions"].to_numpy()

    alpha = (1.0 - ci) / 2.0
    lo, hi = np.quantile(shares, [alpha, 1.0 - alpha], axis=0)
    clo, chi = np.quantile(convs, [alpha, 1.0 - alpha], axis=0)
    return pd.DataFrame(
        {
            "channel": pd.Series(channels, dtype="string"),
            "share": point["share"].to_numpy(),
            "share_se": shares.std(axis=0, ddof=1),
            "share_lo": lo,
            "share_hi": hi,
            "conversions": point["conversions"].to_numpy(),
            "conversions_lo": clo,
            "conversions_hi": chi,
        }
    )
