"""Generic report charts shared by every analysis domain.

Domain plots (``omni.<domain>.plots``) draw their own pictures and call these for the common
shapes: a percentage heat map and horizontal bars with intervals. Each takes ``ax=None`` (a new
figure is made) and returns the axes it drew on. Labels from the data are drawn as typed
(``omni.reporting.display.use_report_style`` turns matplotlib's mathtext off).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["MAX_POINTS", "axes_or_new", "interval_bars", "log_scale", "percent_heatmap", "points_for_picture"]

#: Most points a per-customer scatter draws: above it a fixed random sample is drawn (the figures
#: around the picture are computed on everyone). At 1M persons a tier has 100k+ customers, which
#: draw as one blot and take seconds to render.
MAX_POINTS = 20_000


def axes_or_new(ax: Any, figsize: tuple[float, float]) -> Any:
    """``ax`` itself, or the axes of a new figure of ``figsize`` when ``ax`` is None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def percent_heatmap(
    shares: pd.DataFrame,
    *,
    ax: Any = None,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    colorbar_label: str = "%",
    annotate: bool = True,
    min_label: float = 0.5,
    fontsize: float = 8,
) -> Any:
    """A heat map of shares (0-1) shown as percentages, with the value written in each cell.

    Parameters
    ----------
    shares : DataFrame
        Rows x columns of shares in [0, 1]; NaN cells (suppressed, not applicable) stay blank.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    title, xlabel, ylabel, colorbar_label : str, optional
        Texts (plain; no mathtext).
    annotate : bool
        Write each cell's percentage (cells under ``min_label`` percent stay unwritten).
    min_label : float
        Smallest percentage written in a cell.
    fontsize : float
        Tick and cell label size.

    Returns
    -------
    matplotlib Axes
    """
    ax = axes_or_new(ax, (max(5.0, 0.55 * shares.shape[1] + 3), max(3.5, 0.45 * shares.shape[0] + 2)))
    pct = shares.to_numpy(dtype=float) * 100
    im = ax.imshow(np.ma.masked_invalid(pct), cmap="Blues", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(shares.shape[1]), [str(c) for c in shares.columns], rotation=40, ha="right",
                  fontsize=fontsize)
    ax.set_yticks(range(shares.shape[0]), [str(i) for i in shares.index], fontsize=fontsize)
    ax.grid(False)
    if annotate:
        rows, cols = np.nonzero(np.isfinite(pct) & (pct >= min_label))
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True):  # cells of a small matrix
            v = pct[i, j]
            ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=fontsize - 1,
                    color="white" if v > 60 else "black")
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.figure.colorbar(im, ax=ax, label=colorbar_label)
    return ax


def interval_bars(
    labels: Sequence[Any],
    estimate: Sequence[float],
    low: Sequence[float] | None = None,
    high: Sequence[float] | None = None,
    *,
    ax: Any = None,
    scale: float = 1.0,
    colors: Sequence[Any] | Any = None,
    xlabel: str | None = None,
    title: str | None = None,
    zero_line: bool = True,
) -> Any:
    """Horizontal bars (first label on top) with interval whiskers.

    Parameters
    ----------
    labels : sequence
        One label per bar.
    estimate, low, high : sequence of float
        The estimate and its interval bounds (NaN bounds draw no whisker).
    scale : float
        Multiplies every value (100 for percentages).
    colors : color or sequence of colors, optional
    xlabel, title : str, optional
    zero_line : bool
        Draw a vertical line at 0.

    Returns
    -------
    matplotlib Axes
    """
    est = np.asarray(estimate, dtype=float) * scale
    n = len(est)
    ax = axes_or_new(ax, (8, max(2.5, 0.4 * n + 1.2)))
    y = np.arange(n)[::-1]
    err = None
    if low is not None and high is not None:
        lo = np.asarray(low, dtype=float) * scale
        hi = np.asarray(high, dtype=float) * scale
        err = np.vstack([np.clip(est - lo, 0, None), np.clip(hi - est, 0, None)])
        err = np.where(np.isfinite(err), err, 0.0)
    ax.barh(y, est, xerr=err, color=colors, capsize=3, error_kw={"lw": 0.9})
    ax.set_yticks(y, [str(v) for v in labels])
    if zero_line:
        ax.axvline(0, color="#57606a", lw=0.8)
    if xlabel:
        ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    return ax


def _plain_number(x: float, _pos: Any = None) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 1:
        return f"{x:,.0f}"
    return f"{x:g}"


def log_scale(ax: Any, axis: str = "x", *, symmetric: bool = False, linthresh: float = 1.0) -> Any:
    """Put ``axis`` ("x" or "y") of ``ax`` on a log (or symmetric log) scale with plain numbers.

    Reports draw text literally (mathtext is off so that a ``$`` in a name from the data stays a
    ``$``); matplotlib's default log tick labels are mathtext (``10^3``), so log axes label their
    ticks as plain numbers (``1,000``) instead.
    """
    from matplotlib.ticker import FuncFormatter, NullFormatter

    kwargs = {"linthresh": linthresh} if symmetric else {}
    (ax.set_xscale if axis == "x" else ax.set_yscale)("symlog" if symmetric else "log", **kwargs)
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(FuncFormatter(_plain_number))
    target.set_minor_formatter(NullFormatter())
    return ax


def points_for_picture(df: pd.DataFrame, max_points: int = MAX_POINTS, seed: int = 0) -> tuple[pd.DataFrame, int]:
    """The rows a per-customer picture draws: all of them up to ``max_points``, else a random
    sample of that size (fixed ``seed``, row order kept). Only for drawing, never for figures.

    Returns
    -------
    (DataFrame, int)
        The rows to draw and the number of rows there were.
    """
    n = len(df)
    if n <= max_points:
        return df, n
    keep = np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))
    return df.iloc[keep], n
