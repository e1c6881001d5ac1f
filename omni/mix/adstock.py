"""Carryover and diminishing returns: geometric adstock and the Hill curve.

>>> import numpy as np
>>> geometric_adstock(np.array([10.0, 0.0, 0.0]), 0.5, init_days=0).round(3).tolist()
[5.0, 2.5, 1.25]
>>> float(hill(np.array(2.0), half_saturation=2.0, slope=1.0))
0.5
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

__all__ = ["geometric_adstock", "hill", "hill_derivative"]


def geometric_adstock(spend: np.ndarray, decay: float, init_days: int = 28) -> np.ndarray:
    """Normalised geometric adstock along axis 0: ``A_t = decay * A_{t-1} + (1 - decay) * s_t``.

    The weights ``(1 - decay) * decay**k`` sum to one, so a constant spend keeps its level.

    Parameters
    ----------
    spend : ndarray
        Spend per day (axis 0 is time; other axes are regions, channels...).
    decay : float
        Share of the effect carried to the next day, in [0, 1).
    init_days : int
        The carry-in before the first day is the mean spend of the first ``init_days`` days
        (0: none).

    Returns
    -------
    ndarray
        Same shape as ``spend``.
    """
    s = np.asarray(spend, float)
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"decay must be in [0, 1), got {decay}")
    a0 = s[:init_days].mean(axis=0, keepdims=True) if init_days > 0 else np.zeros_like(s[:1])
    return lfilter([1.0 - decay], [1.0, -decay], s, axis=0, zi=decay * a0)[0]


def hill(x: np.ndarray, half_saturation: float, slope: float) -> np.ndarray:
    """Hill saturation ``x**slope / (x**slope + half_saturation**slope)`` (0 at 0, 1/2 at the
    half-saturation point, towards 1 as ``x`` grows)."""
    xs = np.power(np.maximum(np.asarray(x, float), 0.0), slope)
    return xs / (xs + half_saturation**slope)


def hill_derivative(x: np.ndarray, half_saturation: float, slope: float) -> np.ndarray:
    """d hill / dx."""
    x = np.maximum(np.asarray(x, float), 1e-300)
    k = half_saturation**slope
    xs = np.power(x, slope)
    return slope * k * xs / (x * (xs + k) ** 2)
