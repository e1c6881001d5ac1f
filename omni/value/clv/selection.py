"""Choosing the purchase model: holdout scores (RMSE, MAE, totals) or, without a holdout, the likelihood.

:func:`choose_model` scores every fitted purchase model on the holdout columns of a calibration
summary (``frequency_holdout``, ``duration_holdout``) and keeps the one with the lower
customer-level RMSE; without holdout columns it keeps the higher log-likelihood (both models have
four parameters, so this equals an AIC/BIC comparison). The calibration/holdout check of a customer
summary at a date is :func:`omni.value.clv.check.holdout_check`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from omni.value.clv import bgnbd, paretonbd
from omni.value.clv._base import MODEL_LABELS, unique_rows

__all__ = ["EXPECTED", "ModelChoice", "choose_model", "holdout_report", "holdout_scores"]

#: Expected purchases ``f(prm, t, x, t_x, T)`` of each purchase model.
EXPECTED = {"bgnbd": bgnbd.expected, "paretonbd": paretonbd.expected}


@dataclass
class ModelChoice:
    """The outcome of :func:`choose_model`.

    Attributes
    ----------
    chosen : str
        ``"bgnbd"`` or ``"paretonbd"``.
    criterion : str
        ``"user"``, ``"holdout_rmse"`` or ``"loglik"``.
    scores : dict
        Per model: ``loglik`` and, with a holdout, ``mae``, ``rmse``, ``total_predicted``,
        ``total_actual``, ``total_error_pct``.
    holdout_report : DataFrame or None
        :func:`holdout_report` (None without a holdout).
    """

    chosen: str
    criterion: str
    scores: dict[str, dict[str, float]]
    holdout_report: pd.DataFrame | None

    def as_dict(self) -> dict[str, Any]:
        """``chosen``, ``criterion``, ``scores`` (``CLVModel.model_choice_``)."""
        return {"chosen": self.chosen, "criterion": self.criterion, "scores": self.scores}


def holdout_scores(
    summary: pd.DataFrame, params: Mapping[str, Sequence[float]]
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, dict[str, float]]]:
    """Predicted against actual holdout purchases per customer, for each model.

    Parameters
    ----------
    summary : DataFrame
        A calibration summary with ``frequency_holdout`` and ``duration_holdout``.
    params : dict
        Model name -> parameter tuple (in :data:`omni.value.clv._base.PARAM_NAMES` order).

    Returns
    -------
    (ndarray, dict, dict)
        Actual holdout purchases per customer, predictions per model, scores per model
        (``mae``, ``rmse``, ``total_predicted``, ``total_actual``, ``total_error_pct``).
    """
    actual = pd.to_numeric(summary["frequency_holdout"]).to_numpy(dtype="float64")
    dur = pd.to_numeric(summary["duration_holdout"]).to_numpy(dtype="float64")
    if not (np.all(np.isfinite(actual)) and np.all(np.isfinite(dur))):
        raise ValueError("summary: holdout columns contain missing values")
    if bool(np.all(dur == dur[0])):  # evaluate on unique (x, t_x, T) rows
        x, tx, T, _, inv = unique_rows(summary)
        dur_u: float | np.ndarray = float(dur[0])
    else:
        x = summary["frequency"].to_numpy(dtype="float64")
        tx = summary["recency"].to_numpy(dtype="float64")
        T = summary["T"].to_numpy(dtype="float64")
        inv, dur_u = np.arange(len(x)), dur
    preds, scores = {}, {}
    for n, prm in params.items():
        with np.errstate(all="ignore"):
            pred = EXPECTED[n](prm, dur_u, x, tx, T)[inv]
        preds[n] = pred
        err = pred - actual
        tot_a = float(actual.sum())
        scores[n] = dict(
            mae=float(np.mean(np.abs(err))),
            rmse=float(np.sqrt(np.mean(err**2))),
            total_predicted=float(pred.sum()),
            total_actual=tot_a,
            total_error_pct=float(100 * (pred.sum() - tot_a) / tot_a) if tot_a else np.nan,
        )
    return actual, preds, scores


def holdout_report(
    frequency: np.ndarray, actual: np.ndarray, preds: Mapping[str, np.ndarray], chosen: str
) -> pd.DataFrame:
    """Mean actual vs predicted holdout purchases by calibration frequency (0..6, 7+).

    One ``predicted_<model>`` column per model and ``predicted`` for the chosen one.
    """
    bucket = np.minimum(np.asarray(frequency).astype("int64"), 7)
    frame = pd.DataFrame({"bucket": bucket, "actual": actual})
    for n, pred in preds.items():
        frame[f"predicted_{n}"] = pred
    rep = frame.groupby("bucket", sort=True).agg(
        n_customers=("actual", "size"),
        actual=("actual", "mean"),
        **{f"predicted_{n}": (f"predicted_{n}", "mean") for n in preds},
    )
    rep["predicted"] = rep[f"predicted_{chosen}"]
    rep.index = pd.Index([f"{b}" if b < 7 else "7+" for b in rep.index], name="frequency_cal")
    return rep.reset_index()


def choose_model(
    summary: pd.DataFrame,
    params: Mapping[str, Sequence[float]],
    loglik: Mapping[str, float],
    model: str,
    sink: list[str],
) -> ModelChoice:
    """Pick the purchase model: as set, by holdout RMSE, or by log-likelihood.

    Parameters
    ----------
    summary : DataFrame
        The summary the models were fitted on (holdout columns optional).
    params : dict
        Fitted model name -> parameter tuple.
    loglik : dict
        Fitted model name -> log-likelihood.
    model : {"auto", "bgnbd", "paretonbd"}
        ``"auto"`` chooses; a name keeps that model.
    sink : list of str
        Receives a warning when the chosen model misses the holdout total by more than 20%.

    Returns
    -------
    ModelChoice
    """
    names = list(params)
    has_holdout = {"frequency_holdout", "duration_holdout"} <= set(summary.columns)
    scores: dict[str, dict[str, float]] = {n: {"loglik": loglik[n]} for n in names}
    preds: dict[str, np.ndarray] = {}
    actual = None
    if has_holdout:
        actual, preds, sc = holdout_scores(summary, params)
        for n in names:
            scores[n].update(sc[n])
    if model != "auto":
        chosen, criterion = model, "user"
        if model not in params:  # pragma: no cover - fit raised before
            raise RuntimeError(f"{model} could not be fitted")
    elif has_holdout:
        chosen, criterion = min(names, key=lambda n: scores[n]["rmse"]), "holdout_rmse"
    else:
        chosen, criterion = max(names, key=lambda n: scores[n]["loglik"]), "loglik"
    report = None
    if has_holdout:
        tot = scores[chosen]["total_error_pct"]
        if np.isfinite(tot) and abs(tot) > 20:
            sink.append(
                f"{MODEL_LABELS[chosen]}: holdout purchases predicted {tot:+.1f}% off the "
                "actual total; check for trends/seasonality the model does not capture"
            )
        report = holdout_report(summary["frequency"].to_numpy(dtype="int64"), actual, preds, chosen)
    return ModelChoice(chosen, criterion, scores, report)
