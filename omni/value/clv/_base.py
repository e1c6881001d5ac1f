"""What the purchase and spend models share: lifetimes (imported here only), input checks, quadrature.

*lifetimes* (pinned at 0.11.3) is imported only through :func:`lifetimes_module`, with its
Deprecation/FutureWarnings and global filter edits contained; :func:`captured` records the warnings
and printed optimiser output of a fit into a list instead of the console.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special

__all__ = [
    "MODELS",
    "MODEL_LABELS",
    "PARAM_NAMES",
    "PERIODS_PER_MONTH",
    "UNIT_DAYS",
    "FitFailed",
    "captured",
    "cdnow_path",
    "check_params",
    "check_summary",
    "lifetimes_module",
    "log_power_integral",
    "unique_rows",
]

#: Days per time unit of the customer summaries (``freq``).
UNIT_DAYS = {"D": 1.0, "W": 7.0}
#: Time units per month in the CLV sum (lifetimes' customer_lifetime_value constants).
PERIODS_PER_MONTH = {"D": 30.0, "W": 4.345}
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(48)
#: The purchase models.
MODELS = ("bgnbd", "paretonbd")
#: Display names of the models.
MODEL_LABELS = {"bgnbd": "BG/NBD", "paretonbd": "Pareto/NBD", "gammagamma": "Gamma-Gamma"}
#: Parameter names of each purchase model, in the order of the formulas.
PARAM_NAMES = {"bgnbd": ("r", "alpha", "a", "b"), "paretonbd": ("r", "alpha", "s", "beta")}


def lifetimes_module() -> Any:
    """Import lifetimes with its Deprecation/FutureWarnings (and global filter edits) contained."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        import lifetimes
    return lifetimes


@contextlib.contextmanager
def captured(sink: list[str], context: str) -> Iterator[None]:
    """Run lifetimes code quietly: record its warnings and printed output into ``sink``."""
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as rec, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        try:
            yield
        finally:
            seen = set()
            for w in rec:
                if issubclass(w.category, DeprecationWarning | FutureWarning):
                    continue
                msg = f"{context}: {w.category.__name__}: {w.message}"
                if msg not in seen:
                    seen.add(msg)
                    sink.append(msg)
            printed = out.getvalue().strip()
            if printed:
                first = printed.splitlines()[0].strip()
                sink.append(f"{context}: optimiser output: {first}")


def cdnow_path(which: Literal["sample", "master"] = "sample") -> Path:
    """Path of a CDNOW transaction file shipped with lifetimes.

    Parameters
    ----------
    which : {"sample", "master"}
        ``"sample"``: CDNOW_sample.txt (2,357 customers, the 1/10 sample of the published
        analyses); ``"master"``: CDNOW_master.txt (23,570 customers).

    Returns
    -------
    Path
        Use with :func:`omni.value.rfm.read_cdnow`.
    """
    names = {"sample": "CDNOW_sample.txt", "master": "CDNOW_master.txt"}
    if which not in names:
        raise ValueError(f"which must be 'sample' or 'master', got {which!r}")
    return Path(lifetimes_module().__file__).parent / "datasets" / names[which]



def log_power_integral(
    A: np.ndarray, B: np.ndarray, p: np.ndarray, q: np.ndarray, D: np.ndarray
) -> np.ndarray:
    """log of  int_0^D (1 + u/A)^-p (1 + u/B)^-q du  by 48-point Gauss-Legendre.

    The substitution sigma = log(1 + c0 u), c0 = p/A + q/B (the initial decay rate) turns the
    sharply decaying integrand of heavy buyers into a smooth bump; relative error < 1e-7 over
    the parameter ranges tested (tests/value/test_value_clv.py compares with adaptive quadrature). Evaluated
    in chunks of 20,000 rows to bound memory.
    """
    A, B, p, q, D = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (A, B, p, q, D)))
    out = np.empty(A.shape, dtype="float64")
    flat = [v.reshape(-1) for v in (A, B, p, q, D)]
    res = out.reshape(-1)
    step = 20_000
    for i in range(0, res.size, step):  # chunks of rows, not a loop per record
        a, b, pp, qq, d = (v[i : i + step, None] for v in flat)
        c0 = pp / a + qq / b
        span = np.log1p(c0 * d)
        sig = span * ((_GL_NODES + 1.0) / 2.0)
        u = np.expm1(sig) / c0
        log_f = sig - pp * np.log1p(u / a) - qq * np.log1p(u / b)
        with np.errstate(divide="ignore"):
            res[i : i + step] = (
                special.logsumexp(log_f, b=_GL_WEIGHTS, axis=-1)
                + np.log(span[:, 0] / 2.0)
                - np.log(c0[:, 0])
            )
    return out


class FitFailed(Exception):
    """A model fit that failed (the caller retries with a penalizer or drops the model)."""


def check_params(model: str, prm: dict[str, float], sink: list[str]) -> None:
    """Raise on unusable parameters; warn on boundary (degenerate) solutions."""
    vals = np.array(list(prm.values()), dtype="float64")
    if not np.all(np.isfinite(vals)) or np.any(vals <= 0):
        raise FitFailed(f"non-finite or non-positive parameters {prm}")
    if np.any(vals > 1e6) or np.any(vals < 1e-6):
        shown = ", ".join(f"{k}={v:.3g}" for k, v in prm.items())
        sink.append(
            f"{MODEL_LABELS[model]}: parameters at a boundary ({shown}): the data carry little "
            "information on dropout/heterogeneity; predictions are usable but the parameters "
            "are not interpretable"
        )



def check_summary(summary: pd.DataFrame, need: Sequence[str] = ()) -> None:
    """Refuse a customer summary the models cannot use, naming the first offending row.

    Raises
    ------
    ValueError
        Missing columns, no customers, non-finite or negative values, a non-integer frequency,
        recency after T, recency without a repeat purchase, or (with ``need``) negative spend.
    """
    if not isinstance(summary, pd.DataFrame):
        raise ValueError(f"summary must be a DataFrame, got {type(summary).__name__}")
    cols = ["frequency", "recency", "T", *need]
    missing = [c for c in cols if c not in summary.columns]
    if missing:
        raise ValueError(
            f"summary is missing column(s) {missing}; build it with omni.value.rfm.rfm_summary"
        )
    if summary.empty:
        raise ValueError("summary has no customers")

    def bad(mask: np.ndarray, what: str) -> None:
        if mask.any():
            row = summary.index[np.flatnonzero(mask)[0]]
            raise ValueError(f"summary: {what} at row {row!r}")

    arrs = {}
    for c in cols:
        v = pd.to_numeric(summary[c], errors="coerce").to_numpy(dtype="float64")
        bad(~np.isfinite(v), f"column {c!r} is missing, not numeric or infinite")
        arrs[c] = v
    x, tx, T = arrs["frequency"], arrs["recency"], arrs["T"]
    bad((x < 0) | (x != np.floor(x)), "column 'frequency' must be a non-negative integer")
    bad(tx < 0, "column 'recency' is negative")
    bad(T < 0, "column 'T' is negative")
    bad(tx > T * (1 + 1e-12) + 1e-12, "recency is larger than T")
    bad((x == 0) & (tx != 0), "recency must be 0 when frequency is 0")
    if "monetary_value" in need:
        bad(arrs["monetary_value"] < 0, "column 'monetary_value' is negative")


def unique_rows(
    summary: pd.DataFrame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unique (frequency, recency, T) rows: x, t_x, T, counts, inverse index per customer."""
    keys = pd.DataFrame(
        {
            "x": summary["frequency"].to_numpy(dtype="float64"),
            "t": summary["recency"].to_numpy(dtype="float64"),
            "T": summary["T"].to_numpy(dtype="float64"),
        }
    )
    g = keys.groupby(["x", "t", "T"], sort=True)
    inv = g.ngroup().to_numpy()
    u = g.size().reset_index(name="n")
    return (
        u["x"].to_numpy(),
        u["t"].to_numpy(),
        u["T"].to_numpy(),
        u["n"].to_numpy(dtype="float64"),
        inv,
    )
