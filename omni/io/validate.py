"""Type a raw source table and split it into accepted rows and quarantined problems.

Row-level problems never raise and are never dropped silently: each problem cell becomes one row of
the quarantine table (source, file, row, record_key, column, value, reason) and its row is left out
of the accepted table. Reasons:

``null_required``
    empty (or a null token) in a ``required`` column or the key.
``unparseable_int`` / ``unparseable_float`` / ``unparseable_datetime`` / ``unparseable_date`` /
``unparseable_bool``
    a value that does not parse as the column's declared type.
``epoch_without_unit``
    a ``datetime`` cell holding an epoch-like number (9-13 digits) in a column that does not
    declare ``unit: s`` or ``unit: ms``.
``not_finite``
    ``inf``, ``-Infinity``, ``NaN`` (text or Parquet float) in an amount column or a column with a
    declared ``max``.
``negative_amount``
    a value below zero in a column listed under ``amounts``.
``above_max``
    a value above the column's declared ``max``, or above :data:`DEFAULT_AMOUNT_MAX` in an amount
    column without one.
``duplicate_key``
    a key already seen on an earlier accepted row of the file (the first one is kept).
``bad_column_count``
    a CSV line that does not have the header's number of fields (no column, no value).
``unbalanced_quote``
    a CSV line with a quote that opened a value running over the following lines (``value``
    says how many lines it swallowed; those lines are read again as rows), a line holding the
    quote that closed such a value, or a file that ends inside a quoted value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omni.core.text import NULL_TOKENS, as_string
from omni.io.cast import cast_column, non_finite_text, undeclared_epoch
from omni.io.errors import DataContractError
from omni.io.read import RawTable
from omni.io.spec import SourceSpec
from omni.privacy import mask_by_type

__all__ = ["DEFAULT_AMOUNT_MAX", "QUARANTINE_COLUMNS", "REASONS", "column_maxima",
           "empty_quarantine", "validate_source"]

QUARANTINE_COLUMNS: tuple[str, ...] = (
    "source",
    "file",
    "row",
    "record_key",
    "column",
    "value",
    "reason",
)
REASONS: tuple[str, ...] = (
    "bad_column_count",
    "null_required",
    "unparseable_int",
    "unparseable_float",
    "unparseable_datetime",
    "unparseable_date",
    "unparseable_bool",
    "epoch_without_unit",
    "not_finite",
    "negative_amount",
    "above_max",
    "duplicate_key",
    "unbalanced_quote",
)
#: Upper bound of an ``amounts`` column that declares no ``max``: 100 million in the dataset
#: currency per row. No single order, payment or spend row comes near it; 1e12 or 1e300 typed into
#: an amount would otherwise reach revenue and CLV. Declare ``max:`` on the column to change it.
DEFAULT_AMOUNT_MAX: float = 1e8
_STRING = pd.StringDtype("pyarrow")


def empty_quarantine(sources: list[str] | None = None) -> pd.DataFrame:
    """A quarantine table with no rows and the final dtypes."""
    return _finish_quarantine(
        pd.DataFrame({c: pd.Series([], dtype=object) for c in QUARANTINE_COLUMNS}), sources
    )


def _finish_quarantine(q: pd.DataFrame, sources: list[str] | None = None) -> pd.DataFrame:
    q = q.reset_index(drop=True)
    cats = sources if sources is not None else sorted(q["source"].dropna().unique())
    return pd.DataFrame(
        {
            "source": pd.Categorical(q["source"], categories=cats),
            "file": q["file"].astype(_STRING),
            "row": q["row"].astype("Int64"),
            "record_key": q["record_key"].astype(_STRING),
            "column": q["column"].astype(_STRING),
            "value": q["value"].astype(_STRING),
            "reason": pd.Categorical(q["reason"], categories=list(REASONS)),
        }
    )


def _required_null(raw: pd.Series, typed: pd.Series, bad: np.ndarray) -> np.ndarray:
    """Cells with no value: null after casting (and not a parse failure), or a blank/null token."""
    null = typed.isna().to_numpy() & ~bad
    if isinstance(raw.dtype, pd.StringDtype):
        tokens = raw.str.strip().str.lower().isin(NULL_TOKENS).to_numpy(dtype=bool, na_value=True)
        null |= tokens & ~bad
    return null


def _within(mask: np.ndarray, raw: pd.Series, test) -> np.ndarray:
    """``mask & test(raw)``, testing only the cells in ``mask`` (a few, usually none)."""
    out = np.zeros(len(mask), dtype=bool)
    idx = np.flatnonzero(mask)
    if len(idx):
        out[idx] = test(raw.iloc[idx])
    return out


def column_maxima(spec: SourceSpec) -> dict[str, float]:
    """Upper bound per column: the declared ``max``, else :data:`DEFAULT_AMOUNT_MAX` for amounts."""
    out = {c: DEFAULT_AMOUNT_MAX for c in spec.amounts}
    out.update(spec.maxima)
    return {c: out[c] for c in spec.columns if c in out}


def validate_source(
    raw: RawTable, spec: SourceSpec, dataset_timezone: str, mask_pii: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cast a raw table to its declared types and quarantine the rows with problems.

    Parameters
    ----------
    raw : RawTable
        The file as read (:func:`omni.io.read.read_raw`).
    spec : SourceSpec
        The source's declaration.
    dataset_timezone : str
        Timezone every ``datetime`` column is converted to (stored tz-naive local).
    mask_pii : bool, default True
        Mask quarantined values of personal-data columns (see
        :meth:`SourceSpec.personal_columns`).

    Returns
    -------
    accepted : DataFrame
        The typed rows without problems, declared columns in declared order, index 0..n-1.
    quarantine : DataFrame
        One row per problem cell (columns :data:`QUARANTINE_COLUMNS`).
    """
    frame = raw.frame
    n = len(frame)
    typed: dict[str, pd.Series] = {}
    problems: list[tuple[np.ndarray, str, str]] = []
    bad_of: dict[str, np.ndarray] = {}
    limits = column_maxima(spec)
    for col, typ in spec.columns.items():
        unit = spec.units.get(col)
        try:
            t, bad = cast_column(frame[col], typ, spec.timezone, dataset_timezone, unit)
        except (ValueError, TypeError, OverflowError) as e:  # a safety net: never a bare traceback
            msg = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
            raise DataContractError(
                f"{spec.where}: column {col!r} ({typ}): cannot cast the values: {msg}"
            ) from None
        typed[col] = t
        bad_of[col] = bad
        if bad.any():
            bad = bad.copy()
            if typ == "datetime" and unit is None:
                epoch = _within(bad, frame[col], undeclared_epoch)
                if epoch.any():
                    problems.append((epoch, col, "epoch_without_unit"))
                    bad &= ~epoch
            if col in limits:
                inf = _within(bad, frame[col], non_finite_text)
                if inf.any():
                    problems.append((inf, col, "not_finite"))
                    bad &= ~inf
            if bad.any():
                problems.append((bad, col, f"unparseable_{typ}"))
        if col in limits:  # "NaN" text is a null token elsewhere; here it is a broken number
            nan = _within(t.isna().to_numpy() & ~bad_of[col], frame[col], non_finite_text)
            if nan.any():
                problems.append((nan, col, "not_finite"))
                bad_of[col] = bad_of[col] | nan
    must = list(dict.fromkeys(([spec.key] if spec.key else []) + spec.required))
    for col in must:
        null = _required_null(frame[col], typed[col], bad_of[col])
        if null.any():
            problems.append((null, col, "null_required"))
    for col in spec.amounts:
        neg = (typed[col] < 0).to_numpy(dtype=bool, na_value=False)
        if neg.any():
            problems.append((neg, col, "negative_amount"))
    for col, top in limits.items():
        above = (typed[col] > top).to_numpy(dtype=bool, na_value=False)
        if above.any():
            problems.append((above, col, "above_max"))
    reject = np.zeros(n, dtype=bool)
    for mask, _, _ in problems:
        reject |= mask
    if spec.key:
        keep = np.flatnonzero(~reject)
        dup_of_kept = typed[spec.key].iloc[keep].duplicated(keep="first").to_numpy()
        dup = np.zeros(n, dtype=bool)
        dup[keep[dup_of_kept]] = True
        if dup.any():
            problems.append((dup, spec.key, "duplicate_key"))
            reject |= dup

    accepted = pd.DataFrame(typed, index=frame.index)
    if reject.any():
        accepted = accepted.loc[~reject]
    accepted = accepted.reset_index(drop=True)
    quarantine = _quarantine_rows(raw, spec, problems, mask_pii)
    return accepted, quarantine


def _quarantine_rows(
    raw: RawTable,
    spec: SourceSpec,
    problems: list[tuple[np.ndarray, str, str]],
    mask_pii: bool,
) -> pd.DataFrame:
    frame = raw.frame
    personal = spec.personal_columns() if mask_pii else {}
    key_is_pii = spec.key in spec.pii
    parts = []
    if len(raw.bad_rows):
        rows = pd.array(raw.bad_rows, dtype="Int64")
        rows[raw.bad_rows == 0] = pd.NA  # 0 = row number unknown
        na = pd.array([pd.NA] * len(rows), dtype=_STRING)
        parts.append(
            pd.DataFrame(
                {
                    "row": rows,
                    "record_key": na,
                    "column": na,
                    "value": na,
                    "reason": "bad_column_count",
                    "_order": -1,
                }
            )
        )
    if len(raw.quote_rows):
        na = pd.array([pd.NA] * len(raw.quote_rows), dtype=_STRING)
        parts.append(
            pd.DataFrame(
                {
                    "row": pd.array(raw.quote_rows, dtype="Int64"),
                    "record_key": na,
                    "column": na,
                    "value": pd.array(raw.quote_notes, dtype=_STRING),
                    "reason": "unbalanced_quote",
                    "_order": -1,
                }
            )
        )
    order = {c: i for i, c in enumerate(spec.columns)}
    for mask, col, reason in problems:
        idx = np.flatnonzero(mask)
        value = as_string(frame[col].iloc[idx]).reset_index(drop=True)
        # Key values are shown in record_key anyway: masked only when the key is declared pii.
        if col in personal and (col != spec.key or key_is_pii):
            value = mask_by_type(value, personal[col])
        if spec.key:
            key = as_string(frame[spec.key].iloc[idx]).reset_index(drop=True)
            if key_is_pii:
                key = mask_by_type(key, personal.get(spec.key, "id"))
            record_key = (spec.name + ":") + key
        else:
            record_key = pd.Series(pd.NA, index=range(len(idx)), dtype=_STRING)
        parts.append(
            pd.DataFrame(
                {
                    "row": pd.array(raw.rows[idx], dtype="Int64"),
                    "record_key": record_key,
                    "column": pd.array([col] * len(idx), dtype=_STRING),
                    "value": value,
                    "reason": reason,
                    "_order": order[col],
                }
            )
        )
    if not parts:
        return empty_quarantine([spec.name])
    q = pd.concat(parts, ignore_index=True)
    q = q.sort_values(["row", "_order", "reason"], kind="stable", na_position="first")
    q = q.drop(columns="_order").assign(source=spec.name, file=spec.file)
    return _finish_quarantine(q[list(QUARANTINE_COLUMNS)], [spec.name])
