"""Heterogeneous uplift: by segment, uplift models (T-learner, interaction model), Qini curves,
targeting value, and a coverage check against known truth.

Qini definition used throughout (Radcliffe 2007)
------------------------------------------------
People are ranked by descending score; at each cut-off k (ties in the score are never split),

    Q(k) = Y_T(k) - Y_C(k) * N_T(k) / N_C(k)

where Y_T(k), Y_C(k) are the summed outcomes (conversions or revenue) of treated and control
people among the top k, and N_T(k), N_C(k) their counts (the control term is 0 while
N_C(k) = 0). Q(k) is the incremental outcome of the targeted treated people. The curve is drawn
against the fraction targeted x = k / N in [0, 1]; the random line joins (0, 0) and (1, Q(N)).

* ``qini_area`` = area between the Qini curve and the random line (trapezoid rule), in outcome
  units times fraction targeted — Radcliffe's unnormalized Q.
* ``qini_coefficient`` (default ``normalize=True``) = qini_area(model) / qini_area(optimal),
  where the optimal curve ranks treated responders first and control responders last (score
  y * (2T - 1); Radcliffe's optimum allowing negative effects). 1 = the best ranking possible
  on this sample, 0 = no better than random, < 0 = worse than random.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

from omni.uplift._common import (
    CONTROL,
    as_array,
    as_treatment,
    check_alpha,
    compare_groups,
    is_proportion,
    numeric_metric,
    require_columns,
    resolve_arms,
    verdict_text,
)

__all__ = [
    "InteractionUplift",
    "MISSING_LEVEL",
    "TwoModelUplift",
    "coverage",
    "heterogeneity_test",
    "holdout_split",
    "qini_area",
    "qini_coefficient",
    "qini_curve",
    "targeting_value",
    "uplift_by_decile",
    "uplift_by_segment",
]

MISSING_LEVEL = "(missing)"
_SPLIT_STREAM = 0x5B117


# ---------------------------------------------------------------------------------------------
# uplift by segment
# ---------------------------------------------------------------------------------------------
def uplift_by_segment(
    outcomes: pd.DataFrame,
    segment_col: str,
    metric: str = "converted",
    arm: str | Sequence[str] | None = None,
    control: str = CONTROL,
    alpha: float = 0.05,
    min_n: int = 100,
    relative_ci: str = "delta",
) -> pd.DataFrame:
    """Lift of each treatment arm over control within each segment.

    Same tests as :func:`omni.uplift.lift` (two-proportion z for 0/1 metrics, Welch t
    otherwise), computed for all segments at once from one groupby. Segments where either arm
    has fewer than ``min_n`` people are suppressed: counts are kept, estimates are NaN
    (protects privacy and avoids noise being read as signal). Missing segment values form the
    segment ``"(missing)"``.

    Returns
    -------
    pandas.DataFrame
        segment_col, arm, n_treat, n_control, mean_treat, mean_control, abs_lift, se,
        abs_ci_low, abs_ci_high, p_value, rel_lift, rel_ci_low, rel_ci_high, suppressed,
        verdict. ``frame.attrs["segment_col"]`` names the segment column.
    """
    check_alpha(alpha)
    if not (isinstance(min_n, int | np.integer) and min_n >= 2):
        raise ValueError(f"min_n must be an integer >= 2, got {min_n!r}")
    require_columns(outcomes, [segment_col], "outcomes")
    arms = resolve_arms(outcomes, arm, control)
    y = numeric_metric(outcomes, metric)
    proportion = is_proportion(outcomes, metric)
    seg = outcomes[segment_col].astype("object").where(outcomes[segment_col].notna(), MISSING_LEVEL)
    seg = seg.astype(str)
    armv = outcomes["arm"].astype(str)
    st = (
        pd.DataFrame({"seg": seg.to_numpy(), "arm": armv.to_numpy(), "y": y})
        .groupby(["seg", "arm"], sort=True)["y"]
        .agg(["size", "mean", "var"])
        .rename(columns={"size": "n"})
    )
    st["var"] = st["var"].fillna(0.0)
    segments = st.index.get_level_values("seg").unique()
    ctrl = st.xs(control, level="arm").reindex(segments)
    frames = []
    for a in arms:
        tr = (
            st.xs(a, level="arm").reindex(segments)
            if a in st.index.get_level_values("arm")
            else pd.DataFrame(index=segments, columns=["n", "mean", "var"], dtype="float64")
        )
        n_t = tr["n"].fillna(0).to_numpy()
        n_c = ctrl["n"].fillna(0).to_numpy()
        res = compare_groups(
            n_t, tr["mean"], tr["var"], n_c, ctrl["mean"], ctrl["var"], proportion, alpha,
            relative_ci,
        )
        suppressed = (n_t < min_n) | (n_c < min_n)
        f = pd.DataFrame(
            {
                segment_col: segments.to_numpy(),
                "arm": a,
                "n_treat": n_t.astype("int64"),
                "n_control": n_c.astype("int64"),
                "mean_treat": tr["mean"].to_numpy(),
                "mean_control": ctrl["mean"].to_numpy(),
            }
        )
        for k in ("abs_lift", "se", "abs_ci_low", "abs_ci_high", "p_value", "rel_lift",
                  "rel_ci_low", "rel_ci_high"):
            f[k] = np.where(suppressed, np.nan, res[k])
        f.loc[suppressed, ["mean_treat", "mean_control"]] = np.nan
        f["suppressed"] = suppressed
        f["verdict"] = [
            f"suppressed: fewer than {min_n} people in an arm" if s else verdict_text(p, d, alpha)
            for s, p, d in zip(suppressed, f["p_value"], f["abs_lift"], strict=True)
        ]
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    out.attrs["segment_col"] = segment_col
    return out


def heterogeneity_test(segment_frame: pd.DataFrame) -> pd.DataFrame:
    """Cochran's Q test that the segment lifts are all equal (per arm).

    Q = sum w_i (d_i - d_bar)^2 with w_i = 1/se_i^2 and d_bar the inverse-variance weighted mean,
    compared with chi-square(k - 1); suppressed segments are left out. Also reports I^2 =
    max(0, (Q - df)/Q), the share of variation between segments beyond chance.

    Returns
    -------
    pandas.DataFrame
        arm, k (segments used), pooled_lift, Q, df, p_value, i2, verdict.
    """
    require_columns(segment_frame, ["arm", "abs_lift", "se"], "segment_frame")
    rows = []
    for a, g in segment_frame.groupby("arm", sort=True):
        g = g[np.isfinite(g["abs_lift"]) & (g["se"] > 0)]
        k = len(g)
        if k < 2:
            rows.append((a, k, np.nan, np.nan, k - 1, np.nan, np.nan, "fewer than 2 segments"))
            continue
        w = 1.0 / g["se"].to_numpy() ** 2
        d = g["abs_lift"].to_numpy()
        pooled = float(np.sum(w * d) / np.sum(w))
        q = float(np.sum(w * (d - pooled) ** 2))
        p = float(stats.chi2.sf(q, k - 1))
        i2 = max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0
        verdict = (
            "lift differs between segments" if p < 0.05 else "no evidence the lift differs"
        )
        rows.append((a, k, pooled, q, k - 1, p, i2, verdict))
    return pd.DataFrame(
        rows, columns=["arm", "k", "pooled_lift", "Q", "df", "p_value", "i2", "verdict"]
    )


# ---------------------------------------------------------------------------------------------
# uplift models
# ---------------------------------------------------------------------------------------------
class _Design:
    """Numeric design matrix from a covariate frame: numeric columns standardized, categorical
    columns one-hot encoded (first level as reference), levels learned at fit."""

    def fit(self, X: pd.DataFrame, covariates: Sequence[str]) -> _Design:
        require_columns(X, covariates, "X")
        self.numeric_: dict[str, tuple[float, float]] = {}
        self.levels_: dict[str, list[str]] = {}
        for c in covariates:
            col = X[c]
            if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
                x = col.to_numpy(dtype="float64", na_value=np.nan)
                if not np.isfinite(x).all():
                    raise ValueError(f"covariate {c!r} has missing or infinite values")
                sd = float(x.std())
                self.numeric_[c] = (float(x.mean()), sd if sd > 0 else 1.0)
            else:
                lev = sorted(_as_levels(col).unique().tolist())
                self.levels_[c] = lev
        self.covariates_ = list(covariates)
        self.names_ = ["const"] + [
            n for c in covariates for n in (
                [c] if c in self.numeric_ else [f"{c}={v}" for v in self.levels_[c][1:]]
            )
        ]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        require_columns(X, self.covariates_, "X")
        cols = [np.ones(len(X))]
        for c in self.covariates_:
            if c in self.numeric_:
                x = X[c].to_numpy(dtype="float64", na_value=np.nan)
                if not np.isfinite(x).all():
                    raise ValueError(f"covariate {c!r} has missing or infinite values")
                m, s = self.numeric_[c]
                cols.append((x - m) / s)
            else:
                lev = _as_levels(X[c]).to_numpy()
                known = self.levels_[c]
                unseen = set(pd.unique(lev)) - set(known)
                if unseen:
                    warnings.warn(
                        f"covariate {c!r} has {len(unseen)} level(s) not seen in fit; treated as "
                        f"the reference level {known[0]!r}",
                        stacklevel=3,
                    )
                for v in known[1:]:
                    cols.append((lev == v).astype("float64"))
        return np.column_stack(cols)


def _as_levels(col: pd.Series) -> pd.Series:
    return col.astype("object").where(col.notna(), MISSING_LEVEL).astype(str)


def _fit_glm(y: np.ndarray, X: np.ndarray, kind: str, maxiter: int):
    """Fit logit (Newton) or OLS with statsmodels; returns (results, converged)."""
    if kind == "ols":
        return sm.OLS(y, X).fit(), True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            res = sm.Logit(y, X).fit(method="newton", maxiter=maxiter, disp=0)
        except np.linalg.LinAlgError:
            res = sm.Logit(y, X).fit(method="lbfgs", maxiter=maxiter * 10, disp=0)
    return res, bool(res.mle_retvals.get("converged", True))


def _model_kind(model: str, y: np.ndarray) -> str:
    if model not in ("auto", "logit", "ols"):
        raise ValueError(f"model must be 'auto', 'logit' or 'ols', got {model!r}")
    binary = bool(np.isin(y, (0.0, 1.0)).all())
    if model == "logit" and not binary:
        raise ValueError("model='logit' needs a 0/1 outcome")
    if model == "auto":
        return "logit" if binary else "ols"
    return model


def _predict(params: np.ndarray, X: np.ndarray, kind: str) -> np.ndarray:
    eta = X @ params
    return 1.0 / (1.0 + np.exp(-eta)) if kind == "logit" else eta


class TwoModelUplift:
    """T-learner: one outcome model per arm; uplift = model_T(x) - model_C(x).

    Logistic regression for 0/1 outcomes, OLS otherwise (statsmodels), on numeric covariates
    (standardized) and one-hot encoded categorical covariates.

    Parameters
    ----------
    covariates
        Columns of X to use (default: all columns of X at fit).
    model
        ``"auto"`` (logit for 0/1 outcomes, else OLS), ``"logit"`` or ``"ols"``.
    maxiter
        Newton iterations for the logit.

    Attributes
    ----------
    kind_ : str
        The fitted model kind.
    feature_names_ : list of str
    params_treat_, params_control_ : pandas.Series
        Coefficients of the two models (on standardized numeric covariates).
    converged_ : bool
    result_treat_, result_control_ : statsmodels results
    """

    def __init__(
        self, covariates: Sequence[str] | None = None, model: str = "auto", maxiter: int = 50
    ) -> None:
        self.covariates = covariates
        self.model = model
        self.maxiter = maxiter

    def fit(self, X: pd.DataFrame, y: object, treatment: object) -> TwoModelUplift:
        """Fit both models. ``y``: outcome per row; ``treatment``: 0/1 or bool per row."""
        y_arr, t = _fit_inputs(X, y, treatment)
        self.kind_ = _model_kind(self.model, y_arr)
        covs = list(X.columns) if self.covariates is None else list(self.covariates)
        self.design_ = _Design().fit(X, covs)
        D = self.design_.transform(X)
        self.feature_names_ = self.design_.names_
        res_t, ok_t = _fit_glm(y_arr[t == 1], D[t == 1], self.kind_, self.maxiter)
        res_c, ok_c = _fit_glm(y_arr[t == 0], D[t == 0], self.kind_, self.maxiter)
        self.result_treat_, self.result_control_ = res_t, res_c
        self.params_treat_ = pd.Series(np.asarray(res_t.params), index=self.feature_names_)
        self.params_control_ = pd.Series(np.asarray(res_c.params), index=self.feature_names_)
        self.converged_ = ok_t and ok_c
        if not self.converged_:
            warnings.warn("TwoModelUplift: a model did not converge (separation?)", stacklevel=2)
        return self

    def predict_outcome(self, X: pd.DataFrame, treated: bool) -> np.ndarray:
        """Predicted outcome (probability or mean) as if everyone were treated / control."""
        _check_fitted(self, "params_treat_")
        D = self.design_.transform(X)
        p = self.params_treat_ if treated else self.params_control_
        return _predict(p.to_numpy(), D, self.kind_)

    def predict_uplift(self, X: pd.DataFrame) -> np.ndarray:
        """Predicted individual uplift: outcome if treated minus outcome if control."""
        _check_fitted(self, "params_treat_")
        D = self.design_.transform(X)
        return _predict(self.params_treat_.to_numpy(), D, self.kind_) - _predict(
            self.params_control_.to_numpy(), D, self.kind_
        )


class InteractionUplift:
    """Single model with treatment interactions (Lo 2002):
    g(E[y]) = b'x + T (c0 + c'z); uplift = f(x, T=1) - f(x, T=0),

    where z are the covariates in ``interact`` (default: all covariates). With every covariate
    interacted the model spans the same functions as :class:`TwoModelUplift` and gives the same
    predictions; its use is then inference — :meth:`interaction_table` tests which covariates
    modify the effect. With a subset, the baseline part is shared and only the named covariates
    modify the effect (fewer parameters, less variance in small samples).

    Attributes
    ----------
    kind_, feature_names_ (base names, then ``T`` and ``T:<name>``), params_ (Series),
    result_, converged_.
    """

    def __init__(
        self,
        covariates: Sequence[str] | None = None,
        model: str = "auto",
        maxiter: int = 50,
        interact: Sequence[str] | None = None,
    ) -> None:
        self.covariates = covariates
        self.model = model
        self.maxiter = maxiter
        self.interact = interact

    def _full(self, D: np.ndarray, t: np.ndarray) -> np.ndarray:
        return np.hstack([D, D[:, self.interact_idx_] * t[:, None]])

    def fit(self, X: pd.DataFrame, y: object, treatment: object) -> InteractionUplift:
        """Fit the interacted model. ``y``: outcome per row; ``treatment``: 0/1 or bool."""
        y_arr, t = _fit_inputs(X, y, treatment)
        self.kind_ = _model_kind(self.model, y_arr)
        covs = list(X.columns) if self.covariates is None else list(self.covariates)
        inter = covs if self.interact is None else list(self.interact)
        unknown = [c for c in inter if c not in covs]
        if unknown:
            raise ValueError(f"interact names columns that are not covariates: {unknown}")
        self.design_ = _Design().fit(X, covs)
        D = self.design_.transform(X)
        base = self.design_.names_
        self.interact_idx_ = [
            i for i, name in enumerate(base)
            if name == "const" or name.split("=", 1)[0] in inter
        ]
        self.feature_names_ = base + [
            "T" if base[i] == "const" else f"T:{base[i]}" for i in self.interact_idx_
        ]
        res, ok = _fit_glm(y_arr, self._full(D, t.astype("float64")), self.kind_, self.maxiter)
        self.result_ = res
        self.params_ = pd.Series(np.asarray(res.params), index=self.feature_names_)
        self.converged_ = ok
        if not ok:
            warnings.warn("InteractionUplift: the model did not converge", stacklevel=2)
        return self

    def interaction_table(self, alpha: float = 0.05) -> pd.DataFrame:
        """Treatment and treatment-x-covariate coefficients with SE, interval and p-value
        (model scale: log-odds for the logit; numeric covariates per standard deviation)."""
        _check_fitted(self, "params_")
        check_alpha(alpha)
        res = self.result_
        ci = np.asarray(res.conf_int(alpha))
        names = self.feature_names_
        rows = [i for i, n in enumerate(names) if n == "T" or n.startswith("T:")]
        return pd.DataFrame(
            {
                "term": [names[i] for i in rows],
                "coef": np.asarray(res.params)[rows],
                "se": np.asarray(res.bse)[rows],
                "ci_low": ci[rows, 0],
                "ci_high": ci[rows, 1],
                "p_value": np.asarray(res.pvalues)[rows],
            }
        )

    def predict_outcome(self, X: pd.DataFrame, treated: bool) -> np.ndarray:
        """Predicted outcome (probability or mean) as if everyone were treated / control."""
        _check_fitted(self, "params_")
        D = self.design_.transform(X)
        t = np.full(len(D), 1.0 if treated else 0.0)
        return _predict(self.params_.to_numpy(), self._full(D, t), self.kind_)

    def predict_uplift(self, X: pd.DataFrame) -> np.ndarray:
        """Predicted individual uplift: outcome if treated minus outcome if control."""
        return self.predict_outcome(X, True) - self.predict_outcome(X, False)


def _fit_inputs(X: pd.DataFrame, y: object, treatment: object) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(X, pd.DataFrame):
        raise ValueError(f"X must be a pandas DataFrame, got {type(X).__name__}")
    n = len(X)
    y_arr = as_array(y, "y", n)
    t = as_treatment(treatment, n)
    for v, name in ((1, "treated"), (0, "control")):
        if int((t == v).sum()) < 2:
            raise ValueError(f"need at least 2 {name} rows to fit, got {int((t == v).sum())}")
    return y_arr, t


def _check_fitted(model: object, attr: str) -> None:
    if not hasattr(model, attr):
        raise ValueError(f"{type(model).__name__} is not fitted: call fit(X, y, treatment) first")


def holdout_split(
    outcomes: pd.DataFrame, test_share: float = 0.3, seed: int = 0, stratify: str | None = "arm"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded train/test split of the people, stratified by ``stratify`` (the arm by default) so
    both parts keep the arm shares. Same seed and input order = same split.

    Returns
    -------
    (train, test) : tuple of DataFrames
    """
    if not 0.0 < test_share < 1.0:
        raise ValueError(f"test_share must be in (0, 1), got {test_share!r}")
    # a stream of its own: the same integer seed used elsewhere (e.g. to simulate the data)
    # must not produce the same uniforms, or the split would correlate with the data
    rng = np.random.default_rng([int(seed), _SPLIT_STREAM])
    u = pd.Series(rng.random(len(outcomes)), index=outcomes.index)
    if stratify is None:
        rank = u.rank(method="first", pct=True)
    else:
        require_columns(outcomes, [stratify], "outcomes")
        rank = u.groupby(outcomes[stratify].astype(str).to_numpy()).rank(method="first", pct=True)
    is_test = (rank <= test_share).to_numpy()
    return outcomes.loc[~is_test], outcomes.loc[is_test]


# ---------------------------------------------------------------------------------------------
# evaluation: deciles, Qini, targeting value
# ---------------------------------------------------------------------------------------------
def _eval_inputs(y: object, treatment: object, score: object) -> tuple[np.ndarray, ...]:
    s = as_array(score, "score")
    n = len(s)
    y_arr = as_array(y, "y", n)
    t = as_treatment(treatment, n)
    if n == 0:
        raise ValueError("empty input")
    if t.sum() == 0 or t.sum() == n:
        raise ValueError("need both treated and control rows")
    return y_arr, t, s


def uplift_by_decile(
    y: object, treatment: object, score: object, n_bins: int = 10, alpha: float = 0.05
) -> pd.DataFrame:
    """Observed uplift by bins of predicted uplift (bin 1 = highest scores).

    People are ranked by descending score (stable: ties keep input order) and cut into
    ``n_bins`` equal-size bins; in each the treated-minus-control difference in mean outcome is
    tested as in :func:`omni.uplift.lift` (z for 0/1 outcomes, Welch otherwise). A good model
    shows observed uplift falling from bin 1 to bin n and tracking ``mean_score``.

    Returns
    -------
    pandas.DataFrame
        bin, n, n_treat, n_control, mean_score, mean_treat, mean_control, uplift, ci_low,
        ci_high, p_value.
    """
    check_alpha(alpha)
    y_arr, t, s = _eval_inputs(y, treatment, score)
    if not (isinstance(n_bins, int | np.integer) and 1 <= n_bins <= len(s)):
        raise ValueError(f"n_bins must be an integer in [1, {len(s)}], got {n_bins!r}")
    order = np.argsort(-s, kind="stable")
    bins = np.empty(len(s), dtype="int64")
    bins[order] = np.arange(len(s)) * n_bins // len(s) + 1
    df = pd.DataFrame({"bin": bins, "t": t, "y": y_arr, "s": s})
    proportion = bool(np.isin(y_arr, (0.0, 1.0)).all())
    st = df.groupby(["bin", "t"])["y"].agg(["size", "mean", "var"]).unstack("t")
    st = st.reindex(columns=pd.MultiIndex.from_product([["size", "mean", "var"], [0, 1]]))
    n_t, n_c = st[("size", 1)].fillna(0).to_numpy(), st[("size", 0)].fillna(0).to_numpy()
    res = compare_groups(
        n_t, st[("mean", 1)], st[("var", 1)].fillna(0), n_c, st[("mean", 0)],
        st[("var", 0)].fillna(0), proportion, alpha,
    )
    return pd.DataFrame(
        {
            "bin": st.index.to_numpy(),
            "n": (n_t + n_c).astype("int64"),
            "n_treat": n_t.astype("int64"),
            "n_control": n_c.astype("int64"),
            "mean_score": df.groupby("bin")["s"].mean().to_numpy(),
            "mean_treat": st[("mean", 1)].to_numpy(),
            "mean_control": st[("mean", 0)].to_numpy(),
            "uplift": res["abs_lift"],
            "ci_low": res["abs_ci_low"],
            "ci_high": res["abs_ci_high"],
            "p_value": res["p_value"],
        }
    )


def qini_curve(y: object, treatment: object, score: object) -> pd.DataFrame:
    """Qini curve (Radcliffe 2007; definition in the module docstring).

    Evaluated at every distinct score value (a block of tied scores is targeted together), plus
    the origin.

    Returns
    -------
    pandas.DataFrame
        n_targeted, fraction, n_treat, n_control, qini (incremental outcome Q(k)), random
        (Q(N) * fraction).
    """
    y_arr, t, s = _eval_inputs(y, treatment, score)
    n = len(s)
    order = np.argsort(-s, kind="stable")
    s_sorted, t_sorted, y_sorted = s[order], t[order].astype("float64"), y_arr[order]
    cum_t = np.cumsum(t_sorted)
    cum_c = np.arange(1, n + 1) - cum_t
    cum_yt = np.cumsum(y_sorted * t_sorted)
    cum_yc = np.cumsum(y_sorted * (1.0 - t_sorted))
    ends = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), n - 1]
    nt, nc = cum_t[ends], cum_c[ends]
    ratio = np.divide(nt, nc, out=np.zeros_like(nt), where=nc > 0)
    q = cum_yt[ends] - cum_yc[ends] * ratio
    k = ends + 1.0
    frac = k / n
    return pd.DataFrame(
        {
            "n_targeted": np.r_[0, k].astype("int64"),
            "fraction": np.r_[0.0, frac],
            "n_treat": np.r_[0, nt].astype("int64"),
            "n_control": np.r_[0, nc].astype("int64"),
            "qini": np.r_[0.0, q],
            "random": np.r_[0.0, q[-1] * frac],
        }
    )


def qini_area(y: object, treatment: object, score: object) -> float:
    """Area between the Qini curve and the random line (unnormalized Qini, outcome units x
    fraction targeted)."""
    c = qini_curve(y, treatment, score)
    return float(np.trapezoid(c["qini"] - c["random"], c["fraction"]))


def qini_coefficient(
    y: object, treatment: object, score: object, normalize: bool = True
) -> float:
    """Qini coefficient (Radcliffe 2007): area between the model's Qini curve and the random
    line, divided (``normalize=True``) by that of the optimal ranking y * (2T - 1).

    Compute it on a held-out part of the experiment (see :func:`holdout_split`), never on the
    rows the model was fitted on.
    """
    y_arr, t, s = _eval_inputs(y, treatment, score)
    area = qini_area(y_arr, t, s)
    if not normalize:
        return area
    best = qini_area(y_arr, t, y_arr * (2.0 * t - 1.0))
    if best <= 0:
        raise ValueError("the optimal Qini area is not positive: no uplift to rank on")
    return float(area / best)


def targeting_value(
    outcomes: pd.DataFrame,
    score: object,
    top_k: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
    cost_per_contact: float = 0.0,
    margin: float = 1.0,
    coupon_value: float = 0.0,
    population: int | None = None,
    control: str = CONTROL,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Value of treating only the top k% by score, compared with treating everyone.

    For each k the people with the highest scores (a fraction k of ``outcomes``, ties by input
    order) form the target group; within it the observed treated-minus-control difference in
    conversion rate and revenue per person, times the group size, estimates the incremental
    conversions and revenue if the group were treated. Costs are ``cost_per_contact`` per
    targeted person plus ``coupon_value`` per treated conversion (every treated converter
    redeems once; conversions that would have happened anyway cost a coupon too).
    ``inc_profit = margin * inc_revenue - cost``; ``roi = inc_profit / cost``.

    Parameters
    ----------
    outcomes
        Evaluation rows (ideally the held-out split) with arm, converted, revenue.
    score
        Predicted uplift per row (array aligned with ``outcomes``) or the name of a column.
    population
        Scale to a rollout of this many people (default: the rows of ``outcomes``).

    Returns
    -------
    pandas.DataFrame
        top_k, n_targeted, uplift_conversion, inc_conversions, inc_conversions_ci_low/high,
        uplift_revenue, inc_revenue, inc_revenue_ci_low/high, cost, inc_profit, roi,
        share_of_all_inc_conversions, profit_vs_everyone.
    """
    check_alpha(alpha)
    require_columns(outcomes, ["arm", "converted", "revenue"], "outcomes")
    resolve_arms(outcomes, None, control)
    if isinstance(score, str):
        require_columns(outcomes, [score], "outcomes")
        score = outcomes[score]
    s = as_array(score, "score", len(outcomes))
    ks = sorted({float(k) for k in top_k} | {1.0})
    if any(not 0.0 < k <= 1.0 for k in ks):
        raise ValueError(f"top_k values must be in (0, 1], got {list(top_k)}")
    for name, v in (("cost_per_contact", cost_per_contact), ("coupon_value", coupon_value)):
        if not (np.isfinite(v) and v >= 0):
            raise ValueError(f"{name} must be a non-negative number, got {v!r}")
    t = (outcomes["arm"].astype(str) != control).to_numpy().astype("float64")
    conv = numeric_metric(outcomes, "converted")
    rev = numeric_metric(outcomes, "revenue")
    pop = len(s) if population is None else int(population)
    g = _top_k_sums(s, t, conv, rev, ks)
    ct_m, cc_m = g["ct"] / g["nt"], g["cc"] / g["nc"]
    rt_m, rc_m = g["rt"] / g["nt"], g["rc"] / g["nc"]
    rt_v = (g["rt2"] - g["nt"] * rt_m**2) / (g["nt"] - 1)
    rc_v = (g["rc2"] - g["nc"] * rc_m**2) / (g["nc"] - 1)
    cr = compare_groups(g["nt"], ct_m, 0, g["nc"], cc_m, 0, True, alpha)
    rr = compare_groups(g["nt"], rt_m, np.maximum(rt_v, 0), g["nc"], rc_m, np.maximum(rc_v, 0),
                        False, alpha)
    n_target = np.array(ks) * pop
    cost = cost_per_contact * n_target + coupon_value * ct_m * n_target
    inc_rev = rr["abs_lift"] * n_target
    profit = margin * inc_rev - cost
    inc_conv = cr["abs_lift"] * n_target
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(cost > 0, profit / cost, np.nan)
    return pd.DataFrame(
        {
            "top_k": ks,
            "n_targeted": np.round(n_target).astype("int64"),
            "uplift_conversion": cr["abs_lift"],
            "inc_conversions": inc_conv,
            "inc_conversions_ci_low": cr["abs_ci_low"] * n_target,
            "inc_conversions_ci_high": cr["abs_ci_high"] * n_target,
            "uplift_revenue": rr["abs_lift"],
            "inc_revenue": inc_rev,
            "inc_revenue_ci_low": rr["abs_ci_low"] * n_target,
            "inc_revenue_ci_high": rr["abs_ci_high"] * n_target,
            "cost": cost,
            "inc_profit": profit,
            "roi": roi,
            "share_of_all_inc_conversions": inc_conv / inc_conv[-1] if inc_conv[-1] else np.nan,
            "profit_vs_everyone": profit - profit[-1],
        }
    )


def _top_k_sums(s: np.ndarray, t: np.ndarray, conv: np.ndarray, rev: np.ndarray,
                ks: list[float]) -> dict[str, np.ndarray]:
    """Per-arm counts and sums (``nt``, ``nc``, ``ct``, ``cc``, ``rt``, ``rc``, ``rt2``, ``rc2``)
    of each top-k group by score ``s`` (ties by input order), from prefix sums in O(n)."""
    n = len(s)
    order = np.argsort(-s, kind="stable")
    t, conv, rev = t[order], conv[order], rev[order]
    # prefix sums give every top-k group's per-arm n, mean and variance in O(n)
    c = 1.0 - t
    pre = {
        name: np.cumsum(arr)
        for name, arr in {
            "nt": t, "nc": c, "ct": conv * t, "cc": conv * c, "rt": rev * t, "rc": rev * c,
            "rt2": rev**2 * t, "rc2": rev**2 * c,
        }.items()
    }
    idx = np.array([max(int(round(k * n)), 1) - 1 for k in ks])
    g = {name: arr[idx] for name, arr in pre.items()}
    if (g["nt"] < 2).any() or (g["nc"] < 2).any():
        raise ValueError("a top-k group has fewer than 2 treated or control people; use larger k")
    return g


# ---------------------------------------------------------------------------------------------
# truth check
# ---------------------------------------------------------------------------------------------
def coverage(
    true_effects_by_segment: pd.Series | pd.DataFrame,
    estimated_frame: pd.DataFrame,
    segment_col: str | None = None,
    truth_col: str = "true_effect",
) -> float:
    """Fraction of the true segment effects inside the reported intervals.

    Parameters
    ----------
    true_effects_by_segment
        Series indexed by segment (true absolute uplift), or a frame with ``segment_col`` and
        ``truth_col`` (and ``arm`` when the estimates cover several arms).
    estimated_frame
        Output of :func:`uplift_by_segment` (abs_ci_low, abs_ci_high, suppressed). Suppressed
        segments are not counted.
    segment_col
        Segment column (default: ``estimated_frame.attrs["segment_col"]``).

    Returns
    -------
    float
        Share of (segment, arm) rows whose interval contains the truth.
    """
    require_columns(estimated_frame, ["arm", "abs_ci_low", "abs_ci_high"], "estimated_frame")
    segment_col = segment_col or estimated_frame.attrs.get("segment_col")
    if segment_col is None:
        raise ValueError("segment_col is not given and estimated_frame.attrs has none")
    require_columns(estimated_frame, [segment_col], "estimated_frame")
    est = estimated_frame
    if "suppressed" in est:
        est = est.loc[~est["suppressed"].astype(bool)]
    if isinstance(true_effects_by_segment, pd.Series):
        if est["arm"].nunique() > 1:
            raise ValueError(
                "estimates cover several arms: pass the truth as a frame with an 'arm' column"
            )
        truth = true_effects_by_segment.rename(truth_col).rename_axis(segment_col).reset_index()
        keys = [segment_col]
    else:
        truth = true_effects_by_segment
        keys = [segment_col] + (["arm"] if "arm" in truth.columns else [])
        require_columns(truth, [*keys, truth_col], "true_effects_by_segment")
    truth = truth.assign(**{segment_col: truth[segment_col].astype(str)})
    est = est.assign(**{segment_col: est[segment_col].astype(str)})
    m = est.merge(truth[[*keys, truth_col]], on=keys, how="inner", validate="many_to_one")
    if len(m) == 0:
        raise ValueError("no (unsuppressed) segment of the estimates has a true effect")
    inside = (m["abs_ci_low"] <= m[truth_col]) & (m[truth_col] <= m["abs_ci_high"])
    return float(inside.mean())
