"""TGI (target group index) with confidence intervals and small-cell suppression.

TGI = (share of the segment with attribute value v) / (share of the base with v) x 100.
100 means the segment looks like the base; 150 means the value is 1.5 times as common in the
segment. Confidence intervals come from the delta method on log TGI (Katz's log interval for a
ratio of proportions), with the variance matched to how the base was obtained:

* an independent sample (default): Var = (1 - p_s)/(n_s p_s) + (1 - p_b)/(n_b p_b);
* a known population (``base_is_population=True``, e.g. the market panel): the base share has
  no sampling error, Var = (1 - p_s)/(n_s p_s);
* the segment is part of the base (``segment_in_base=True``, e.g. a CRM segment vs all
  customers): the base share p_b = f p_s + (1 - f) p_r mixes the segment and the rest (share
  f = n_s/n_b), so the two shares are positively correlated. The delta method on
  log p_s - log(f p_s + (1 - f) p_r) with independent segment and rest gives
  Var = (1/p_s - f/p_b)^2 p_s(1 - p_s)/n_s + ((1 - f)/p_b)^2 p_r(1 - p_r)/n_r.
  Treating the two as independent would double count the segment and give intervals that are
  too wide (conservative; tests/value/test_value_tgi.py shows the coverage).

With ``weight_col``, counts are weighted sums and the n in the variances is Kish's effective
sample size (sum w)^2 / sum w^2 of each group. See ``docs/clv.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "PANEL_ATTRIBUTES",
    "TGI_ATTRIBUTES",
    "UNKNOWN_VALUES",
    "over_indexed",
    "panel_tgi",
    "profile_attributes",
    "tgi",
    "tier_tgi",
]

#: Profile attributes profiled with TGI (columns of ``Resolved.profiles``).
TGI_ATTRIBUTES = ("gender", "age_band", "city_tier", "channel_pref", "channel_mix", "top_category")
#: Attributes the market panel has.
PANEL_ATTRIBUTES = ("gender", "age_band", "city_tier")
#: Profile values that mean "not known" and are left out of TGI shares.
UNKNOWN_VALUES = ("unknown", "", "none", "null", "nan", "no purchase")


def _require(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {missing}; has {list(df.columns)}")



def _weights(df: pd.DataFrame, col: str | None, what: str) -> np.ndarray:
    if col is None:
        return np.ones(len(df), dtype="float64")
    if col not in df.columns:
        raise ValueError(f"{what} has no weight column {col!r}")
    w = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        row = df.index[np.flatnonzero(bad)[0]]
        raise ValueError(
            f"{what}: weight {col!r} is missing, negative or not numeric at row {row!r}"
        )
    return w


def _long_counts(df: pd.DataFrame, attributes: Sequence[str], w: np.ndarray) -> pd.DataFrame:
    """Per (attribute, value): weighted count w, sum of squared weights w2, unweighted rows n."""
    names, values, sums, sums2, rows = [], [], [], [], []
    w2 = w**2
    for attr in attributes:  # a handful of columns: factorize + bincount each
        codes, uniques = pd.factorize(df[attr], use_na_sentinel=True)
        ok = codes >= 0
        k = len(uniques)
        names.append(np.full(k, attr, dtype=object))
        values.append(np.asarray(uniques, dtype=object))
        sums.append(np.bincount(codes[ok], weights=w[ok], minlength=k))
        sums2.append(np.bincount(codes[ok], weights=w2[ok], minlength=k))
        rows.append(np.bincount(codes[ok], minlength=k))
    idx = pd.MultiIndex.from_arrays(
        [np.concatenate(names), np.concatenate(values)], names=["attribute", "value"]
    )
    return pd.DataFrame(
        {"w": np.concatenate(sums), "w2": np.concatenate(sums2), "n": np.concatenate(rows)},
        index=idx,
    )


def _kish(sum_w: np.ndarray, sum_w2: np.ndarray) -> np.ndarray:
    """Kish's effective sample size (sum w)^2 / sum w^2 (0 for an empty group)."""
    sum_w, sum_w2 = np.asarray(sum_w, dtype="float64"), np.asarray(sum_w2, dtype="float64")
    return np.divide(sum_w**2, sum_w2, out=np.zeros_like(sum_w), where=sum_w2 > 0)


def _ordered_values(seg: pd.Series, base: pd.Series, present: Sequence[object]) -> list[object]:
    """Category order when the column is categorical, else sorted (by str if types mix)."""
    for col in (base, seg):
        if isinstance(col.dtype, pd.CategoricalDtype):
            here = set(present)
            cats = [c for c in col.cat.categories if c in here]
            return cats + [v for v in present if v not in set(cats)]
    try:
        return sorted(present)
    except TypeError:
        return sorted(present, key=str)


def _check_tgi_args(segment_df, base_df, attributes, weight_col, min_count, alpha, base_is_population,
                    segment_in_base, base_weight_col) -> str | None:
    """Validate the arguments of :func:`tgi`; return the base's weight column."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if not isinstance(min_count, int | np.integer) or min_count < 0:
        raise ValueError(f"min_count must be a non-negative integer, got {min_count!r}")
    if base_is_population and segment_in_base:
        raise ValueError("base_is_population and segment_in_base cannot both be True")
    if isinstance(attributes, str) or not len(attributes):
        raise ValueError("attributes must be a non-empty list of column names")
    for what, df in (("segment_df", segment_df), ("base_df", base_df)):
        if not isinstance(df, pd.DataFrame):
            raise ValueError(f"{what} must be a DataFrame, got {type(df).__name__}")
        missing = [a for a in attributes if a not in df.columns]
        if missing:
            raise ValueError(f"{what} is missing attribute column(s) {missing}")
    if segment_df.empty:
        raise ValueError("segment_df is empty")
    if base_weight_col is None:
        if base_is_population and "population" in base_df.columns:
            base_weight_col = "population"
        elif weight_col is not None and weight_col in base_df.columns:
            base_weight_col = weight_col
    return base_weight_col


def _log_variance(gs, gb, idx, x_s, x_b, n_s, n_b, p_s, p_b, neff_s, base_is_population: bool,
                  segment_in_base: bool) -> np.ndarray:
    """Delta-method variance of log TGI for the three kinds of base (module docstring)."""
    attr_of = idx.get_level_values(0)

    def total(col: pd.Series) -> np.ndarray:
        return col.groupby(level=0, sort=False).transform("sum").to_numpy(dtype="float64")

    if base_is_population:
        var = (1 - p_s) / (neff_s * p_s)
    elif segment_in_base:
        x_r, n_r = x_b - x_s, n_b - n_s
        tol = 1e-9 * np.maximum(n_b, 1.0)
        over = (x_r < -tol) | (n_r < -tol)
        if over.any():
            i = int(np.flatnonzero(over)[0])
            raise ValueError(
                f"segment_in_base=True but the segment has more {attr_of[i]}="
                f"{idx[i][1]!r} than the base: the segment is not contained in the base"
            )
        x_r, n_r = np.clip(x_r, 0, None), np.clip(n_r, 0, None)
        neff_r = _kish(n_r, np.clip(total(gb["w2"]) - total(gs["w2"]), 0, None))
        p_r = np.divide(x_r, n_r, out=np.zeros_like(x_r), where=n_r > 0)
        f = n_s / n_b
        var = (1 / p_s - f / p_b) ** 2 * p_s * (1 - p_s) / neff_s
        var = var + np.where(
            neff_r > 0,
            ((1 - f) / p_b) ** 2 * p_r * (1 - p_r) / np.where(neff_r > 0, neff_r, 1),
            0,
        )
    else:
        neff_b = _kish(n_b, total(gb["w2"]))
        var = (1 - p_s) / (neff_s * p_s) + (1 - p_b) / (neff_b * p_b)
    return var


def _cell_index(gs: pd.DataFrame, gb: pd.DataFrame, segment_df: pd.DataFrame, base_df: pd.DataFrame,
                attributes: Sequence[str]) -> pd.MultiIndex:
    """Every (attribute, value) seen in the segment or the base, in display order."""
    pairs = pd.concat([gs.index.to_frame(index=False), gb.index.to_frame(index=False)])
    present = pairs.drop_duplicates().groupby("attribute", sort=False)["value"].agg(list)
    in_seg = set(gs.index.get_level_values(0))
    in_base = set(gb.index.get_level_values(0))
    order = []
    for attr in attributes:
        if attr not in in_seg or attr not in in_base:
            raise ValueError(f"attribute {attr!r} has no non-missing values in the segment or base")
        seg_col, base_col = segment_df[attr], base_df[attr]
        order += [(attr, v) for v in _ordered_values(seg_col, base_col, present[attr])]
    return pd.MultiIndex.from_tuples(order, names=["attribute", "value"])


def _method_attrs(alpha: float, min_count: int, ws: np.ndarray, wb: np.ndarray, base_is_population: bool,
                  segment_in_base: bool, weighted: bool) -> dict:
    """The ``attrs`` of a :func:`tgi` table: the method and its settings."""
    return {
        "method": (
            "delta method on log TGI; "
            + (
                "base = known population (no base variance)"
                if base_is_population
                else "segment nested in base (correlated shares)"
                if segment_in_base
                else "independent segment and base samples"
            )
            + ("; Kish effective sample sizes" if weighted else "")
        ),
        "alpha": alpha,
        "min_count": int(min_count),
        "segment_size": float(ws.sum()),
        "base_size": float(wb.sum()),
    }


def _tgi_frame(idx, n_rows, x_s, x_b, p_s, p_b, ratio, se, lo, hi, min_count: int) -> pd.DataFrame:
    """The :func:`tgi` table: suppression of small cells, missing TGIs and their notes."""
    attr_of = idx.get_level_values(0)
    suppressed = n_rows < min_count
    absent = x_b <= 0
    index = np.where(absent, np.nan, 100 * ratio)
    ci_ok = np.isfinite(se) & (x_s > 0) & ~absent & ~suppressed
    lo, hi = np.where(ci_ok, lo, np.nan), np.where(ci_ok, hi, np.nan)
    note = np.full(len(idx), None, dtype=object)
    note[absent] = "absent from base"
    note[suppressed] = f"suppressed: n < {min_count}"
    out = pd.DataFrame(
        {
            "attribute": np.asarray(attr_of, dtype=object),
            "value": pd.array(list(idx.get_level_values(1)), dtype=object),
            "segment_count": pd.array(np.where(suppressed, np.nan, x_s), dtype="Float64"),
            "segment_share": np.where(suppressed, np.nan, p_s),
            "base_count": x_b,
            "base_share": p_b,
            "tgi": np.where(suppressed, np.nan, index),
            "ci_low": lo,
            "ci_high": hi,
            "significant": (lo > 100) | (hi < 100),
            "suppressed": suppressed,
            "note": pd.array(note, dtype="string"),
        }
    )
    return out


def tgi(
    segment_df: pd.DataFrame,
    base_df: pd.DataFrame,
    attributes: Sequence[str],
    weight_col: str | None = None,
    min_count: int = 30,
    alpha: float = 0.05,
    base_is_population: bool = False,
    segment_in_base: bool = False,
    base_weight_col: str | None = None,
) -> pd.DataFrame:
    """TGI of a segment against a base, per attribute value, with confidence intervals.

    Parameters
    ----------
    segment_df : DataFrame
        One row per segment member (e.g. profiles of the "重要价值" customers).
    base_df : DataFrame
        The comparison base: one row per person, or an aggregated table with a count column
        (``base_weight_col``), e.g. ``market_panel`` (gender, age_band, city_tier, population).
    attributes : sequence of str
        Columns present in both frames (e.g. ``["gender", "age_band", "city_tier"]``). Missing
        values are left out of that attribute's shares.
    weight_col : str, optional
        Row weights in ``segment_df`` (and in ``base_df`` unless ``base_weight_col`` is given).
    min_count : int
        Suppress cells whose segment count (rows, unweighted) is below this: ``suppressed`` is
        True and TGI, interval, segment share and count are missing (privacy and stability).
    alpha : float
        1 - confidence level of the intervals.
    base_is_population : bool
        The base shares are known population values (no sampling variance). When True and
        ``base_weight_col`` is None, a ``population`` column is used as counts if present.
    segment_in_base : bool
        The segment rows are a subset of the base rows (same people, same weights); uses the
        variance for nested samples (module docstring).
    base_weight_col : str, optional
        Counts/weights column of ``base_df``; defaults to ``weight_col``.

    Returns
    -------
    DataFrame
        One row per (attribute, value) with ``attribute, value, segment_count, segment_share,
        base_count, base_share, tgi, ci_low, ci_high, significant, suppressed, note``.
        ``significant`` is True when the interval excludes 100. ``note`` says why a TGI is
        missing (``suppressed: n < 30``, ``absent from base``). ``attrs`` records the method.

    Raises
    ------
    ValueError
        On missing columns, bad weights (naming the row), an empty segment, an invalid alpha or
        min_count, contradictory options, or a segment larger than the base in nested mode.
    """
    base_weight_col = _check_tgi_args(segment_df, base_df, attributes, weight_col, min_count, alpha,
                                      base_is_population, segment_in_base, base_weight_col)
    ws = _weights(segment_df, weight_col, "segment_df")
    wb = _weights(base_df, base_weight_col, "base_df")
    z = float(stats.norm.ppf(1 - alpha / 2))

    gs = _long_counts(segment_df, attributes, ws)
    gb = _long_counts(base_df, attributes, wb)
    idx = _cell_index(gs, gb, segment_df, base_df, attributes)
    gs, gb = gs.reindex(idx, fill_value=0), gb.reindex(idx, fill_value=0)

    def total(col: pd.Series) -> np.ndarray:
        return col.groupby(level=0, sort=False).transform("sum").to_numpy(dtype="float64")

    x_s, x_b = gs["w"].to_numpy(dtype="float64"), gb["w"].to_numpy(dtype="float64")
    n_s, n_b = total(gs["w"]), total(gb["w"])
    neff_s = _kish(n_s, total(gs["w2"]))
    with np.errstate(divide="ignore", invalid="ignore"):
        p_s, p_b = x_s / n_s, x_b / n_b
        var = _log_variance(gs, gb, idx, x_s, x_b, n_s, n_b, p_s, p_b, neff_s, base_is_population, segment_in_base)
        ratio = p_s / p_b
        se = np.sqrt(var)
        lo, hi = 100 * ratio * np.exp(-z * se), 100 * ratio * np.exp(z * se)
    out = _tgi_frame(idx, gs["n"].to_numpy(), x_s, x_b, p_s, p_b, ratio, se, lo, hi, min_count)
    out.attrs = _method_attrs(alpha, min_count, ws, wb, base_is_population, segment_in_base,
                              bool(weight_col or base_weight_col))
    return out


def profile_attributes(
    profiles: pd.DataFrame, customers: pd.Index, attributes: Sequence[str] = TGI_ATTRIBUTES
) -> pd.DataFrame:
    """The customers' profile attributes for TGI, with "not known" values as missing.

    Parameters
    ----------
    profiles : DataFrame
        ``Resolved.profiles`` (one row per oneid).
    customers : Index
        The customers' oneids (e.g. ``CustomerValue.customers``).
    attributes : sequence of str
        Profile columns to keep; ``unknown`` / empty / ``no purchase`` become missing.

    Returns
    -------
    DataFrame
        Indexed by the customers' oneids, one column per attribute (strings, categorical order
        kept for ordered categoricals such as ``age_band``).
    """
    _require(profiles, ["oneid", *attributes], "profiles")
    pr = profiles.set_index("oneid")
    if not pr.index.is_unique:
        raise ValueError("profiles has duplicate oneids")
    out = pd.DataFrame(index=customers)
    pos = pr.index.get_indexer(customers)  # once: a reindex per attribute hashes 3M+ oneids each time
    for a in attributes:
        if (pos >= 0).all():
            col = pr[a].iloc[pos]
            col.index = customers
        else:
            col = pr[a].reindex(customers)
        if isinstance(col.dtype, pd.CategoricalDtype):
            drop = [c for c in col.cat.categories if str(c).strip().lower() in UNKNOWN_VALUES]
            keep = [c for c in col.cat.categories if c not in drop]
            col = col.cat.set_categories(keep)  # (remove_categories would sort them)
        else:
            s = col.astype("string")
            col = s.mask(s.str.strip().str.lower().isin(UNKNOWN_VALUES))
        out[a] = col
    return out


def tier_tgi(
    attrs: pd.DataFrame,
    tiers: pd.Series,
    tier: str = "A",
    attributes: Sequence[str] | None = None,
    min_count: int = 30,
) -> pd.DataFrame:
    """TGI of one value tier against all customers (the segment is nested in the base).

    Parameters
    ----------
    attrs : DataFrame
        :func:`profile_attributes` of all customers (index oneid).
    tiers : Series
        Value tier per customer (index oneid), e.g. ``CustomerValue.predictions["value_tier"]``.
    tier : str
        The tier profiled.
    attributes : sequence of str, optional
        Columns of ``attrs`` (default: all). Attributes no customer of the tier has a value for
        are left out (``attrs["skipped"]`` of the result names them).
    min_count : int
        Cells with fewer tier members are suppressed.

    Returns
    -------
    DataFrame
        :func:`tgi` output.
    """
    attributes = list(attributes or attrs.columns)
    t = tiers.reindex(attrs.index).astype(str)
    seg = attrs[(t == tier).to_numpy()]
    if seg.empty:
        raise ValueError(f"no customer in tier {tier!r}")
    use = [a for a in attributes if seg[a].notna().any()]
    if not use:
        raise ValueError(f"no customer in tier {tier!r} has a value for any of {attributes}")
    out = tgi(seg, attrs, use, min_count=min_count, segment_in_base=True)
    out.attrs["skipped"] = [a for a in attributes if a not in use]
    return out


def panel_tgi(
    attrs: pd.DataFrame,
    panel: pd.DataFrame,
    attributes: Sequence[str] = PANEL_ATTRIBUTES,
    min_count: int = 30,
) -> pd.DataFrame:
    """TGI of all customers against the market panel (known population counts).

    Only the attributes present in both tables, with values on both sides, are used; panel
    values are compared as strings.
    """
    _require(panel, ["population"], "market_panel")
    use = [a for a in attributes if a in panel.columns and a in attrs.columns]
    if not use:
        raise ValueError(f"market_panel has none of the attributes {list(attributes)}")
    use = [a for a in use if attrs[a].notna().any() and panel[a].notna().any()]
    if not use:
        raise ValueError(
            f"no customer has a value for any of the panel attributes {list(attributes)}"
        )
    base = panel[use + ["population"]].copy()
    seg = attrs[use].copy()
    for a in use:  # same value type on both sides; the profile's category order, then the panel's
        own = (
            [str(c) for c in seg[a].cat.categories]
            if isinstance(seg[a].dtype, pd.CategoricalDtype)
            else []
        )
        theirs = [str(c) for c in base[a].astype("category").cat.categories]
        cats = own + [c for c in theirs if c not in own]
        cats += sorted(set(seg[a].dropna().astype(str)) - set(cats))
        base[a] = pd.Categorical(base[a].astype("string"), categories=cats)
        seg[a] = pd.Categorical(seg[a].astype("string"), categories=cats)
    return tgi(seg, base, use, min_count=min_count, base_is_population=True)


def over_indexed(t: pd.DataFrame, min_tgi: float = 120.0, n: int = 10) -> pd.DataFrame:
    """Traits that are significantly over-represented: TGI >= ``min_tgi`` and CI above 100.

    Sorted by TGI (largest first), at most ``n`` rows; suppressed cells never appear.
    """
    _require(t, ["attribute", "value", "tgi", "ci_low", "significant", "suppressed"], "tgi table")
    keep = (~t["suppressed"]) & t["significant"] & (t["tgi"] >= min_tgi) & (t["ci_low"] > 100)
    out = t[keep.to_numpy(dtype=bool)].sort_values("tgi", ascending=False, kind="stable")
    return out.head(n).reset_index(drop=True)
