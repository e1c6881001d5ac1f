"""Bootstrap confidence intervals for attribution shares."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from omni.attribution._common import NS_PER_DAY
from omni.attribution.heuristics import (
    first_touch,
    last_non_direct,
    last_touch,
    linear,
    position_based,
)
from omni.attribution.journeys import Journeys, Paths, as_paths
from omni.attribution.markov import markov_attribution
from omni.attribution.models import MODELS
from omni.attribution.shapley import shapley_attribution

__all__ = ["bootstrap", "bootstrap_shares"]


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
        if rep["channel"].astype(str).tolist() != channels:  # (the models list every channel, in order)
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


def _path_models(markov_order: int) -> dict[str, Callable[[Paths], pd.DataFrame]]:
    return {
        "first_touch": first_touch,
        "last_touch": last_touch,
        "last_non_direct": last_non_direct,
        "linear": linear,
        "position_based": position_based,
        "markov": lambda p: markov_attribution(p, order=markov_order),
        "shapley": lambda p: shapley_attribution(p, "conversions"),
        "shapley_rate": lambda p: shapley_attribution(p, "conversion_rate"),
    }


def bootstrap_shares(
    journeys: Journeys,
    models: Sequence[str] | None = None,
    n_boot: int = 200,
    seed: int = 0,
    ci: float = 0.95,
    half_life_days: float = 7.0,
    markov_order: int = 1,
) -> pd.DataFrame:
    """Bootstrap intervals of every model's channel shares.

    Path-based models use :func:`~omni.attribution.uncertainty.bootstrap` (multinomial over the
    unique path and outcome cells) with the same seed, so all of them see the same replicates.
    ``time_decay`` needs touch times and is bootstrapped over journeys: each replicate draws
    journey counts from a multinomial and adds up the journeys' fixed time-decay credits.

    Parameters
    ----------
    journeys
        :class:`Journeys`.
    models
        Names from :data:`~omni.attribution.models.MODELS` (default all).
    n_boot, seed, ci
        Replicates, seed and interval level.
    half_life_days, markov_order
        As in :func:`~omni.attribution.models.attribute`.

    Returns
    -------
    pandas.DataFrame
        ``model``, ``channel``, ``share``, ``share_se``, ``share_lo``, ``share_hi``.
    """
    names = list(MODELS if models is None else models)
    runners = _path_models(markov_order)
    unknown = [m for m in names if m not in runners and m != "time_decay"]
    if unknown:
        raise ValueError(f"unknown attribution model(s) {unknown}; choose from {MODELS}")
    if not isinstance(journeys, Journeys):
        raise ValueError(f"expected Journeys (from build_journeys), got {type(journeys).__name__}")
    paths = journeys.paths()
    frames = []
    for name in names:  # a handful of models
        if name == "time_decay":
            b = _bootstrap_time_decay(journeys, half_life_days, n_boot, seed, ci)
        else:
            b = bootstrap(runners[name], paths, n_boot=n_boot, seed=seed, ci=ci)
        b = b[["channel", "share", "share_se", "share_lo", "share_hi"]].copy()
        b.insert(0, "model", name)
        frames.append(b)
    return pd.concat(frames, ignore_index=True)


def _bootstrap_time_decay(
    journeys: Journeys, half_life_days: float, n_boot: int, seed: int, ci: float
) -> pd.DataFrame:
    if not isinstance(n_boot, int | np.integer) or n_boot < 2:
        raise ValueError(f"n_boot must be an integer >= 2, got {n_boot!r}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1, got {ci!r}")
    if not np.isfinite(half_life_days) or half_life_days <= 0:
        raise ValueError(f"half_life_days must be a positive number, got {half_life_days!r}")
    jf = journeys.journeys
    converted = jf["converted"].to_numpy()
    conv_ids = np.flatnonzero(converted)
    if len(conv_ids) == 0:
        raise ValueError("bootstrap needs at least one converting journey")
    unit_of = np.full(len(jf), -1, dtype=np.int64)
    unit_of[conv_ids] = np.arange(len(conv_ids))
    t = journeys.touches
    jid = t["journey_id"].to_numpy()
    sel = converted[jid]
    unit = unit_of[jid[sel]]
    code = t["channel"].cat.codes.to_numpy()[sel].astype(np.int64)
    end_ns = jf["conversion_time"].to_numpy().view(np.int64)[conv_ids]
    dt_days = (end_ns[unit] - t["touch_time"].to_numpy().view(np.int64)[sel]) / NS_PER_DAY
    w = np.exp2(-dt_days / half_life_days)
    frac = w / np.bincount(unit, weights=w, minlength=len(conv_ids))[unit]
    n_ch = len(journeys.channels)
    credit = np.bincount(unit * n_ch + code, weights=frac, minlength=len(conv_ids) * n_ch)
    credit = credit.reshape(len(conv_ids), n_ch)
    point = credit.sum(axis=0)
    rng = np.random.default_rng(seed)
    p = np.full(len(jf), 1.0 / len(jf))
    shares = np.empty((n_boot, n_ch))
    for b in range(n_boot):  # replicates, not records
        counts = rng.multinomial(len(jf), p)[conv_ids].astype(float)
        c = counts @ credit
        shares[b] = c / c.sum() if c.sum() > 0 else 0.0
    alpha = (1.0 - ci) / 2.0
    lo, hi = np.quantile(shares, [alpha, 1.0 - alpha], axis=0)
    return pd.DataFrame(
        {
            "channel": pd.Series(journeys.channels, dtype="string"),
            "share": point / point.sum(),
            "share_se": shares.std(axis=0, ddof=1),
            "share_lo": lo,
            "share_hi": hi,
        }
    )
