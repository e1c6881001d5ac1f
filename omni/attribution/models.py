"""All attribution models by name, and one call that runs them side by side."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from omni.attribution.heuristics import (
    first_touch,
    last_non_direct,
    last_touch,
    linear,
    position_based,
    time_decay,
)
from omni.attribution.journeys import Journeys
from omni.attribution.markov import markov_attribution
from omni.attribution.shapley import shapley_attribution

__all__ = ["MODELS", "MODEL_LABELS", "attribute"]

MODELS: tuple[str, ...] = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "markov",
    "shapley",
    "shapley_rate",
)
"""Model names understood by :func:`attribute`."""

MODEL_LABELS: dict[str, str] = {
    "first_touch": "first touch",
    "last_touch": "last touch",
    "last_non_direct": "last non-direct",
    "linear": "linear",
    "time_decay": "time decay",
    "position_based": "position based",
    "markov": "Markov",
    "shapley": "Shapley (conversions)",
    "shapley_rate": "Shapley (conv. rate)",
}
"""Readable model names for headline labels, tables and plot legends."""


def attribute(
    journeys: Journeys,
    models: Sequence[str] | None = None,
    half_life_days: float = 7.0,
    markov_order: int = 1,
) -> pd.DataFrame:
    """Run several attribution models on the same journeys.

    Parameters
    ----------
    journeys
        Output of :func:`build_journeys`.
    models
        Names from :data:`MODELS` (default: all). ``markov`` uses ``markov_order``; ``shapley`` is
        the Zhao et al. subset-conversions game, ``shapley_rate`` the conversion-rate game.
    half_life_days
        Half-life of ``time_decay``.
    markov_order
        Order of the Markov chain.

    Returns
    -------
    pandas.DataFrame
        Long frame: ``model``, ``channel``, ``conversions``, ``value``, ``share``.
    """
    runners: dict[str, Callable[[], pd.DataFrame]] = {
        "first_touch": lambda: first_touch(journeys),
        "last_touch": lambda: last_touch(journeys),
        "last_non_direct": lambda: last_non_direct(journeys),
        "linear": lambda: linear(journeys),
        "time_decay": lambda: time_decay(journeys, half_life_days),
        "position_based": lambda: position_based(journeys),
        "markov": lambda: markov_attribution(journeys, order=markov_order),
        "shapley": lambda: shapley_attribution(journeys, "conversions"),
        "shapley_rate": lambda: shapley_attribution(journeys, "conversion_rate"),
    }
    names = list(MODELS if models is None else models)
    unknown = [m for m in names if m not in runners]
    if unknown:
        raise ValueError(f"unknown attribution model(s) {unknown}; choose from {MODELS}")
    frames = []
    for name in names:  # a handful of models
        frame = runners[name]()
        frame.insert(0, "model", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
