"""Hard cases: how identifiers really look in exports.

* phones in every format people and systems write them (``+86 138 0013 8000``,
  ``0086-13800138000``, ``138-0013-8000``, ``86 13800138000``, full-width digits ...);
* emails with upper case and stray whitespace; device ids in the "wrong" case;
* null-like tokens (``null``, ``NULL``, ``0``, ``N/A``, empty) for missing identifiers and the
  all-zero IDFA of iOS devices with limit-ad-tracking;
* a few genuinely bad rows (unparseable dates, negative or non-numeric amounts, missing keys) for
  the loader's quarantine path, with exact counts for the truth.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from omni.synth.config import SynthConfig
from omni.synth.text import assemble, cat, digit_matrix, fixed_strings, fullwidth_digits, take

__all__ = ["NULL_TOKENS", "device_strings", "email_strings", "inject_bad_rows", "masked_phones",
           "null_like_tokens", "phone_strings", "swap_case", "take_with_null_likes",
           "with_null_likes"]

NULL_TOKENS: tuple[str, ...] = ("null", "NULL", "0", "N/A", "")
ZERO_IDFA = "00000000-0000-0000-0000-000000000000"
# phone layouts: (weight, builder from an (n, 11) digit matrix)
_PHONE_LAYOUTS = (
    (0.25, lambda d: cat(len(d), b"+86 ", d[:, :3], b" ", d[:, 3:7], b" ", d[:, 7:])),
    (0.15, lambda d: cat(len(d), b"0086-", d)),
    (0.20, lambda d: cat(len(d), d[:, :3], b"-", d[:, 3:7], b"-", d[:, 7:])),
    (0.15, lambda d: cat(len(d), b"86 ", d)),
    (0.15, lambda d: cat(len(d), b"+86", d)),
    (0.10, lambda d: cat(len(d), b" ", d, b" ")),
)
BAD_DATES: tuple[str, ...] = ("2025-13-45 25:61:00", "not a date", "31/02/2025", "2024-02-30")
# not numbers under any reading (a currency sign or thousands separators would still parse)
BAD_AMOUNTS: tuple[str, ...] = ("abc", "12.5.0", "一百", "1O5.00")


def null_like_tokens(rng: np.random.Generator, missing: np.ndarray, rate: float) -> pa.Array:
    """Array with a null-like token at a share ``rate`` of the ``missing`` rows, null elsewhere."""
    hit = missing & (rng.random(len(missing)) < rate)
    code = np.where(hit, rng.integers(0, len(NULL_TOKENS), size=len(missing)), -1)
    return take(NULL_TOKENS, code)


def with_null_likes(rng: np.random.Generator, values: pa.Array, rate: float) -> pa.Array:
    """Write a share ``rate`` of the missing values as null-like tokens instead of empty."""
    missing = np.asarray(values.is_null())
    if not missing.any():
        return values
    return pc.coalesce(values, null_like_tokens(rng, missing, rate))


def take_with_null_likes(
    rng: np.random.Generator, pool: pa.Array, idx: np.ndarray, rate: float
) -> pa.Array:
    """``pool[idx]`` (``idx < 0`` = missing) with null-like tokens for some missing values."""
    idx = np.asarray(idx, np.int64)
    missing = idx < 0
    hit = missing & (rng.random(len(idx)) < rate)
    code = np.where(hit, len(pool) + rng.integers(0, len(NULL_TOKENS), size=len(idx)), idx)
    return take(pa.concat_arrays([pool, pa.array(NULL_TOKENS, pa.string())]), code)


def swap_case(values: pa.Array) -> pa.Array:
    """Upper-case values become lower-case and the others upper-case."""
    upper = pc.utf8_upper(values)
    return pc.if_else(pc.equal(upper, values), pc.utf8_lower(values), upper)


def phone_strings(
    rng: np.random.Generator, phones: np.ndarray, cfg: SynthConfig, null_likes: bool = True
) -> pa.Array:
    """Phone numbers (int64, -1 = none) as an export writes them, with format variants."""
    phones = np.asarray(phones, np.int64)
    n = len(phones)
    present = np.flatnonzero(phones >= 0)
    digits = digit_matrix(phones[present], 11)
    u = rng.random(len(present))
    weights = np.array([w for w, _ in _PHONE_LAYOUTS])
    layout = np.searchsorted(
        np.cumsum(weights) / weights.sum(), rng.random(len(present)), side="right"
    )
    variant = u < cfg.phone_variant_rate
    wide = ~variant & (u < cfg.phone_variant_rate + cfg.fullwidth_phone_rate)
    groups = []
    plain = np.flatnonzero(~variant & ~wide)
    groups.append((present[plain], fixed_strings(digits[plain])))
    w = np.flatnonzero(wide)
    groups.append((present[w], fullwidth_digits(fixed_strings(digits[w]))))
    for k, (_, build) in enumerate(_PHONE_LAYOUTS):
        sel = np.flatnonzero(variant & (layout == k))
        groups.append((present[sel], fixed_strings(build(digits[sel]))))
    out = assemble(n, groups)
    return with_null_likes(rng, out, cfg.null_like_rate) if null_likes else out


def masked_phones(phones: np.ndarray) -> pa.Array:
    """``138****5678``: first 3 and last 4 digits of each phone (-1 = none)."""
    phones = np.asarray(phones, np.int64)
    present = np.flatnonzero(phones >= 0)
    d = digit_matrix(phones[present], 11)
    return assemble(
        len(phones), [(present, fixed_strings(cat(len(d), d[:, :3], b"****", d[:, 7:])))]
    )


def email_strings(rng: np.random.Generator, emails: pa.Array, cfg: SynthConfig) -> pa.Array:
    """Emails with case and whitespace variants, and null-like tokens for missing ones."""
    n = len(emails)
    u = rng.random(n)
    upper = u < cfg.email_variant_rate * 0.4
    capital = (u >= cfg.email_variant_rate * 0.4) & (u < cfg.email_variant_rate * 0.7)
    spaced = (u >= cfg.email_variant_rate * 0.7) & (u < cfg.email_variant_rate)
    out = pc.if_else(pa.array(upper), pc.utf8_upper(emails), emails)
    out = pc.if_else(pa.array(capital), pc.utf8_capitalize(emails), out)
    out = pc.if_else(pa.array(spaced), pc.binary_join_element_wise(" ", emails, " ", ""), out)
    return with_null_likes(rng, out, cfg.null_like_rate)


def device_strings(
    rng: np.random.Generator,
    device: np.ndarray,
    dev_ids: pa.Array,
    dev_lat: np.ndarray,
    cfg: SynthConfig,
    null_rate: float | None = None,
) -> pa.Array:
    """Device ids (index into ``dev_ids``, -1 none) with case flips, all-zero IDFAs (devices with
    limit-ad-tracking) and null-like tokens; built with a single take from a pool."""
    device = np.asarray(device, np.int64)
    n, n_dev = len(device), len(dev_ids)
    present = device >= 0
    code = device.copy()
    flip = present & (rng.random(n) < cfg.device_case_rate)
    code[flip] += n_dev
    code[present & dev_lat[np.maximum(device, 0)]] = 2 * n_dev
    rate = cfg.null_like_rate if null_rate is None else null_rate
    tok = ~present & (rng.random(n) < rate)
    code[tok] = 2 * n_dev + 1 + rng.integers(0, len(NULL_TOKENS), size=int(tok.sum()))
    pool = pa.concat_arrays(
        [
            dev_ids,
            swap_case(dev_ids),
            pa.array([ZERO_IDFA], pa.string()),
            pa.array(NULL_TOKENS, pa.string()),
        ]
    )
    return take(pool, code)


def inject_bad_rows(
    rng: np.random.Generator,
    columns: dict[str, pa.Array],
    keys: pa.Array,
    kinds: dict[str, str],
    rate: float,
) -> dict[str, list[str]]:
    """Corrupt about ``rate`` of the rows in place (``columns`` is modified).

    ``kinds`` maps a kind (``bad_date``, ``negative_amount``, ``non_numeric_amount``,
    ``missing_key``) to the column it corrupts. Returns ``{kind: [original record key, ...]}``.
    """
    n = len(keys)
    k = int(rng.binomial(n, rate)) if n else 0
    names = list(kinds)
    counts = rng.multinomial(k, np.full(len(names), 1 / len(names))) if names else []
    rows = rng.choice(n, size=k, replace=False) if k else np.empty(0, np.int64)
    out: dict[str, list[str]] = {}
    start = 0
    for kind, count in zip(names, counts, strict=True):
        idx = np.sort(rows[start : start + count])
        start += count
        out[kind] = keys.take(pa.array(idx)).to_pylist()
        col = kinds[kind]
        if kind == "bad_date":
            new = take(BAD_DATES, rng.integers(0, len(BAD_DATES), size=len(idx)))
        elif kind == "non_numeric_amount":
            new = take(BAD_AMOUNTS, rng.integers(0, len(BAD_AMOUNTS), size=len(idx)))
        elif kind == "negative_amount":
            new = pc.binary_join_element_wise("-", columns[col].take(pa.array(idx)), "")
        elif kind == "missing_key":
            new = pa.nulls(len(idx), pa.string())
        else:
            raise ValueError(f"inject_bad_rows: unknown kind {kind!r}")
        mask = np.zeros(n, bool)
        mask[idx] = True
        replacement = assemble(n, [(idx, new)])
        columns[col] = pc.if_else(pa.array(mask), replacement, columns[col].cast(pa.string()))
    return out
