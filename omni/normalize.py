"""Identifier normalization: raw channel values -> comparable, linkable values (or a reason why not).

Every ``normalize_*`` function takes a Series of raw values and returns a DataFrame on the same
index with ``value`` (normalized string, null when invalid), ``valid`` (bool) and ``reason``
(category, null when valid). Work is done once per *distinct* raw value (factorize, normalize the
uniques with vectorized pyarrow string kernels, map back by code), so a 20M-row identifier table
where values repeat costs little more than its distinct values.

Junk never becomes an identifier: null-like tokens (``null``, ``-``, ``0``, ``未知`` ...), store
default phones (``13800000000`` ...), repeated-digit and sequential phones, masked values
(``138****5678`` is a quasi-identifier, never a phone), all-zero device ids. The lists live in
:class:`NormalizeConfig` and can be extended in one place.

:func:`identifier_table` and :func:`quasi_table` build the long tables of the data contract
(``source, record_key, id_type, raw, value, valid, reason``) from a loaded dataset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from omni.core.text import as_string, re_sub

if TYPE_CHECKING:
    from omni.io.dataset import Dataset
    from omni.io.spec import DatasetSpec, IdSpec, SourceSpec

__all__ = ["BLOCKED_PHONES", "IDENTIFIER_COLUMNS", "NormalizeConfig", "REASONS", "STRING",
           "concat_link_tables", "identifier_table", "link_table", "nfkc", "normalize",
           "normalize_address", "normalize_cookie_id", "normalize_device_id", "normalize_email",
           "normalize_masked_phone", "normalize_member_id", "normalize_name", "normalize_openid",
           "normalize_phone", "normalize_platform_buyer", "normalize_unionid", "quasi_table",
           "shared_dictionary", "to_halfwidth"]

STRING = pd.StringDtype("pyarrow")

# ----------------------------------------------------------------------------------- reasons

NULL_LIKE_REASON = "null_like"
MASKED = "masked"
BLOCKED_DEFAULT_PHONE = "blocked_default_phone"
SEQUENTIAL = "sequential"
BAD_FORMAT = "bad_format"
ALL_ZERO_DEVICE = "all_zero_device"
BLOCKED_DEFAULT_DEVICE = "blocked_default_device"
BLOCKED_DEFAULT_EMAIL = "blocked_default_email"
BLOCKED_DEFAULT_NAME = "blocked_default_name"
MISSING_SCOPE = "missing_scope"

#: Every reason an identifier can be invalid (the categories of the ``reason`` column).
REASONS: tuple[str, ...] = (
    NULL_LIKE_REASON,
    MASKED,
    BLOCKED_DEFAULT_PHONE,
    SEQUENTIAL,
    ALL_ZERO_DEVICE,
    BLOCKED_DEFAULT_DEVICE,
    BLOCKED_DEFAULT_EMAIL,
    BLOCKED_DEFAULT_NAME,
    MISSING_SCOPE,
    BAD_FORMAT,
)
_CODE = {r: np.int8(i) for i, r in enumerate(REASONS)}

#: Identifier table columns (docs/data_contract.md); the tables also carry ``row`` (int64, the
#: record's position in its source's accepted table) right after ``record_key``.
IDENTIFIER_COLUMNS: tuple[str, ...] = (
    "source",
    "record_key",
    "id_type",
    "raw",
    "value",
    "valid",
    "reason",
)

# ------------------------------------------------------------------------------------ config

#: Raw values that mean "no value" (compared trimmed and lower-cased).
NULL_LIKE: frozenset[str] = frozenset(
    {
        "",
        "null",
        "none",
        "nan",
        "nat",
        "n/a",
        "na",
        "nil",
        "(null)",
        "\\n",
        "-",
        "--",
        "---",
        "0",
        "unknown",
        "undefined",
        "未知",
        "无",
        "空",
        "暂无",
        "不详",
        "没有",
    }
)

#: Store default / placeholder phones typed when the customer gives none.
BLOCKED_PHONES: frozenset[str] = frozenset(
    {
        "13800000000",
        "13888888888",
        "18888888888",
        "13000000000",
        "11111111111",
        "13900000000",
        "13999999999",
        "15000000000",
        "15888888888",
        "18000000000",
        "18600000000",
        "13333333333",
        "13666666666",
        "13800138000",  # the China Mobile service number: the country's best-known example number
        "13900139000",
        "13912345678",
        "13812345678",
        "18612345678",
        "13011112222",
    }
)

#: Placeholder emails typed by staff.
BLOCKED_EMAILS: frozenset[str] = frozenset(
    {
        "test@test.com",
        "test@qq.com",
        "1@qq.com",
        "123@qq.com",
        "1234@qq.com",
        "12345@qq.com",
        "123456@qq.com",
        "a@a.com",
        "abc@abc.com",
        "null@null.com",
        "none@none.com",
        "no@no.com",
        "noemail@noemail.com",
        "xxx@xxx.com",
    }
)

#: Placeholder names typed instead of the customer's name.
BLOCKED_NAMES: frozenset[str] = frozenset(
    {
        "先生",
        "女士",
        "小姐",
        "顾客",
        "客户",
        "会员",
        "用户",
        "测试",
        "匿名",
        "散客",
        "test",
        "Test",
        "TEST",
    }
)


def _frozen(values: Iterable[str] | str) -> frozenset[str]:
    if isinstance(values, str):
        return frozenset({values})
    return frozenset(str(v) for v in values)


@dataclass(frozen=True)
class NormalizeConfig:
    """Junk lists and thresholds of identifier normalization, in one place.

    Parameters
    ----------
    null_like : frozenset of str
        Values meaning "no value" (compared trimmed, lower-cased).
    blocked_phones : frozenset of str
        Default / placeholder phones (any format; compared after normalization). All-same-digit
        numbers are always blocked.
    blocked_emails, blocked_devices, blocked_names : frozenset of str
        Placeholder values of those types (compared after normalization).
    default_region : str, default "CN"
        Region for numbers without a country code, used by :func:`normalize` and the identifier
        tables (``normalize_phone`` takes it as an argument).
    repeated_tail_digits : int, default 8
        A CN mobile whose last ``n`` digits are one repeated digit (``139 0000 0000``) is blocked
        as a default phone; 0 turns the rule off.
    sequential_tail_digits : int, default 8
        A CN mobile whose last ``n`` digits are an ascending or descending run (``139 1234 5678``,
        ``186 8765 4321``) is blocked as ``sequential``; 0 turns the rule off. The service-number
        pattern ``1ab 00 1ab 000`` (``13800138000``, ``13900139000``) is always blocked.
    min_device_id_length, min_cookie_id_length : int
        Shorter values are ``bad_format``.

    Examples
    --------
    >>> cfg = NormalizeConfig().extend(blocked_phones={"13912345678"})
    """

    null_like: frozenset[str] = NULL_LIKE
    blocked_phones: frozenset[str] = BLOCKED_PHONES
    blocked_emails: frozenset[str] = BLOCKED_EMAILS
    blocked_devices: frozenset[str] = frozenset()
    blocked_names: frozenset[str] = BLOCKED_NAMES
    default_region: str = "CN"
    repeated_tail_digits: int = 8
    sequential_tail_digits: int = 8
    min_device_id_length: int = 8
    min_cookie_id_length: int = 4

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in (
                "null_like",
                "blocked_phones",
                "blocked_emails",
                "blocked_devices",
                "blocked_names",
            ):
                v = _frozen(v)
                if f.name == "null_like":
                    v = frozenset(x.strip().lower() for x in v)
                object.__setattr__(self, f.name, v)
        for name in ("repeated_tail_digits", "sequential_tail_digits"):
            n = getattr(self, name)
            if not 0 <= n <= 10 or (name == "sequential_tail_digits" and 0 < n < 6):
                raise ValueError(
                    f"{name} must be between 0 and 10"
                    + (" (0 or at least 6)" if name == "sequential_tail_digits" else "")
                    + f", got {n}"
                )

    def extend(self, **extra: Iterable[str]) -> NormalizeConfig:
        """A copy with values added to the named sets (``blocked_phones={...}`` ...)."""
        changes = {}
        for name, values in extra.items():
            current = getattr(self, name, None)
            if not isinstance(current, frozenset):
                raise ValueError(
                    f"{name!r} is not a set of NormalizeConfig; sets: null_like, blocked_phones, "
                    "blocked_emails, blocked_devices, blocked_names"
                )
            changes[name] = current | _frozen(values)
        return replace(self, **changes)


DEFAULT_CONFIG = NormalizeConfig()

# ----------------------------------------------------------------------------------- helpers

_HALFWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {
    0x3000: 0x20,  # ideographic space
    0x00A0: 0x20,  # no-break space
    0x2013: 0x2D,  # en dash
    0x2014: 0x2D,  # em dash
    0x2212: 0x2D,  # minus sign
    0x3002: 0x2E,  # ideographic full stop
}
# Regex class of the characters folded (literal characters: valid for both RE2 and Python re).
_FOLDABLE = "[\u3000\u00a0\u2013\u2014\u2212\u3002\uff01-\uff5e]"


def to_halfwidth(s: pd.Series) -> pd.Series:
    """Fold full-width ASCII (``１３８``, ``＠``, ``（``) and odd spaces/dashes to plain ASCII.

    Only values that contain such a character are translated: the common path (ASCII ids,
    Chinese names and addresses typed with half-width digits) costs one vectorized regex test.
    """
    s = as_string(s)
    has = s.str.contains(_FOLDABLE, regex=True).to_numpy(dtype=bool, na_value=False)
    if not has.any():
        return s
    out = s.copy()
    out[has] = s[has].str.translate(_HALFWIDTH)
    return out


def nfkc(s: pd.Series) -> pd.Series:
    """Unicode NFKC of the values that are not plain ASCII (full-width ``１３８`` -> ``138``,
    ``𝟏`` -> ``1``), vectorized in pyarrow; ASCII values cost one regex test."""
    s = as_string(s)
    has = s.str.contains(r"[^\x00-\x7f]", regex=True).to_numpy(dtype=bool, na_value=False)
    if not has.any():
        return s
    arr = s[has].array.__arrow_array__()
    out = s.copy()
    out[has] = pd.arrays.ArrowStringArray(pc.utf8_normalize(arr, form="NFKC"))
    return out


def _any_of(chars: str, allow: str = "") -> str:
    """Regex: the whole value is one repeated character from ``chars`` (plus ``allow``)."""
    return "(?:" + "|".join(f"[{c}{allow}]+" for c in chars) + ")"


_ALL_SAME_DIGIT = _any_of("0123456789")
_ALL_SAME_HEX = _any_of("123456789abcdef", allow="\\-")


def _sequences(lo: int = 6, hi: int = 15) -> frozenset[str]:
    out = set()
    for n in range(lo, hi + 1):
        for start in range(10):
            out.add("".join(str((start + i) % 10) for i in range(n)))
            out.add("".join(str((start - i) % 10) for i in range(n)))
    return frozenset(out)


SEQUENTIAL_NUMBERS: frozenset[str] = _sequences()


class _Reasons:
    """Per-value reason codes; the first reason set for a value wins (checks run by priority)."""

    def __init__(self, n: int) -> None:
        self.codes = np.full(n, -1, dtype=np.int8)

    def set(self, mask: Any, reason: str) -> None:
        m = np.asarray(mask, dtype=bool) & (self.codes == -1)
        self.codes[m] = _CODE[reason]

    @property
    def ok(self) -> np.ndarray:
        return self.codes == -1


def _b(x: pd.Series) -> np.ndarray:
    """Boolean (nullable) Series -> numpy bool, null as False."""
    return x.to_numpy(dtype=bool, na_value=False)


def _result(value: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.DataFrame:
    value = as_string(value).where(codes == -1)
    return pd.DataFrame(
        {
            "value": pd.Series(value.array, index=index),
            "valid": codes == -1,
            "reason": pd.Categorical.from_codes(codes, categories=list(REASONS)),
        },
        index=index,
    )


UniqueFn = Callable[[pd.Series], tuple[pd.Series, np.ndarray]]


def _by_unique(s: Any, fn: UniqueFn) -> pd.DataFrame:
    """Normalize each distinct value once, then map results back to every row (nulls: null_like)."""
    s = as_string(s)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    u = pd.Series(pd.array(uniques, dtype=STRING))
    value_u, reason_u = fn(u)
    value_u = as_string(value_u).where(reason_u == -1)
    present = codes >= 0
    reason = np.full(len(s), _CODE[NULL_LIKE_REASON], dtype=np.int8)
    reason[present] = reason_u[codes[present]]
    value = value_u.array.take(codes, allow_fill=True)
    return _result(pd.Series(value), reason, s.index)


def _null_like(t: pd.Series, cfg: NormalizeConfig) -> np.ndarray:
    return _b(t.str.strip().str.lower().isin(cfg.null_like))


# ------------------------------------------------------------------------------------ phones


@lru_cache(maxsize=32)
def _blocked_e164(blocked: frozenset[str]) -> frozenset[str]:
    out = set()
    for p in blocked:
        d = "".join(ch for ch in p if ch.isdigit())
        if p.strip().startswith("+"):
            out.add("+" + d)
        elif len(d) == 11 and d.startswith("1"):
            out.add("+86" + d)
        elif len(d) == 13 and d.startswith("86"):
            out.add("+" + d)
        elif d:
            out.add(d)
    return frozenset(out)


def _phonenumbers_e164(values: pd.Series, region: str) -> pd.Series:
    """E.164 via the phonenumbers library (null where invalid); call only on the few values left."""
    import phonenumbers

    out: list[str | None] = []
    for v in values.tolist():  # the non-CN-mobile remainder only: a handful of distinct values
        try:
            num = phonenumbers.parse(v, region)
        except phonenumbers.NumberParseException:
            out.append(None)
            continue
        ok = phonenumbers.is_valid_number(num)
        out.append(
            phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164) if ok else None
        )
    return pd.Series(out, index=values.index, dtype=STRING)


def _phone_unique(u: pd.Series, cfg: NormalizeConfig, region: str) -> tuple[pd.Series, np.ndarray]:
    r = _Reasons(len(u))
    t = to_halfwidth(nfkc(u)).str.strip()  # full-width and other compatibility digits first
    r.set(_null_like(t, cfg), NULL_LIKE_REASON)
    r.set(_b(t.str.contains(r"\*|\d[xX]{2,}\d|\d#{3,}\d", regex=True)), MASKED)
    c = t.str.replace(r"^(?i:tel|mobile|phone|手机|电话|手机号)\s*[:：]?\s*", "", regex=True)
    c = re_sub(c, r"^(\+?\d+)\.0+$", r"\1")  # Excel float: 13800138000.0
    c = c.str.replace(r"[\s\-./_()\[\]]", "", regex=True)  # separators, (+86)
    all_digits = _b(c.str.fullmatch(r"\+?\d+"))
    digits = c.str.lstrip("+")
    if region == "CN":
        cn = _b(c.str.fullmatch(r"(?:\+?86|0086)?1[3-9]\d{9}"))
    else:  # without the CN default, only numbers carrying +86 / 0086 take the fast path
        cn = _b(c.str.fullmatch(r"(?:\+86|0086)1[3-9]\d{9}"))
    national = c.str.slice(-11)
    e164 = ("+86" + national).where(cn)
    same = _b(digits.str.fullmatch(_ALL_SAME_DIGIT)) | (
        cn & _b(national.str.slice(1).str.fullmatch(_ALL_SAME_DIGIT))
    )
    blocked = same | _b(e164.isin(_blocked_e164(cfg.blocked_phones)))
    if cfg.repeated_tail_digits:
        tail = national.str.slice(-cfg.repeated_tail_digits)
        blocked |= cn & _b(tail.str.fullmatch(_ALL_SAME_DIGIT))
    # 1ab 00 1ab 000: the service-number pattern of 13800138000 (RE2 has no backreferences)
    head = national.str.slice(0, 3)
    blocked |= cn & _b(
        (head == national.str.slice(5, 8))
        & (national.str.slice(3, 5) == "00")
        & (national.str.slice(8) == "000")
    )
    r.set(all_digits & blocked, BLOCKED_DEFAULT_PHONE)
    seq = _b(digits.isin(SEQUENTIAL_NUMBERS)) | (cn & _b(national.isin(SEQUENTIAL_NUMBERS)))
    if cfg.sequential_tail_digits:
        seq |= cn & _b(national.str.slice(-cfg.sequential_tail_digits).isin(SEQUENTIAL_NUMBERS))
    r.set(all_digits & seq, SEQUENTIAL)
    r.set(~all_digits, BAD_FORMAT)
    value = e164
    # The few remaining values: other countries (+44..., 0044...), CN landlines with area code
    # (010-12345678), or national numbers of another default region -> phonenumbers.
    rest = r.ok & ~cn
    intl = _b(c.str.startswith("+")) | _b(c.str.startswith("00"))
    landline = _b(c.str.fullmatch(r"0[1-9]\d{8,10}")) if region == "CN" else ~intl
    need = rest & (intl | landline)
    if need.any():
        cand = c[need]
        cand = cand.where(~_b(cand.str.startswith("00")), "+" + cand.str.slice(2))
        pn = _phonenumbers_e164(cand, region)
        value = value.copy()
        value[need] = pn
        if cfg.blocked_phones:
            r.set(need & _b(value.isin(_blocked_e164(cfg.blocked_phones))), BLOCKED_DEFAULT_PHONE)
    r.set(rest & ~_b(value.notna()), BAD_FORMAT)
    return value, r.codes


def normalize_phone(
    s: pd.Series, default_region: str = "CN", config: NormalizeConfig | None = None
) -> pd.DataFrame:
    """Normalize phone numbers to E.164 (``+8613800138000``).

    CN mobiles (11 digits ``1[3-9]...``) are recognised in any variant, vectorized:
    ``+86 138 0013 8000``, ``0086-13800138000``, ``138-0013-8000``, ``86 13800138000``,
    ``(+86)13800138000``, full-width digits, dots, ``13800138000.0`` (Excel). Other numbers with a
    country code (``+44 ...``, ``0044 ...``) and CN landlines with an area code go through the
    ``phonenumbers`` library, once per distinct value.

    Parameters
    ----------
    s : Series
        Raw values.
    default_region : str, default "CN"
        Region of numbers without a country code (ISO 3166 alpha-2).
    config : NormalizeConfig, optional

    Returns
    -------
    DataFrame
        ``value`` (E.164 or null), ``valid``, ``reason``: ``null_like``, ``masked``
        (``138****5678``: never a phone), ``blocked_default_phone`` (store default or
        placeholder such as ``13800138000``, or all one digit), ``sequential`` (``12345678901``,
        or the last 8 digits a run: ``13912345679`` is not, ``15923456789`` is), ``bad_format``.

    Examples
    --------
    >>> normalize_phone(pd.Series(["138-0571-6294", "138****5678"]))["value"].tolist()
    ['+8613805716294', <NA>]
    """
    cfg = config or DEFAULT_CONFIG
    region = str(default_region).upper()
    return _by_unique(s, lambda u: _phone_unique(u, cfg, region))


def normalize_masked_phone(s: pd.Series, config: NormalizeConfig | None = None) -> pd.DataFrame:
    """Normalize masked phones to ``138****5678`` (3 digits, 4 stars, 4 digits).

    ``x``/``X``/``#`` masks, full-width stars, separators and a ``+86`` prefix are accepted; a
    full CN mobile is masked to the same form so it compares with masked exports. Anything else
    is ``bad_format``. A masked phone is a quasi-identifier, never a phone.
    """
    cfg = config or DEFAULT_CONFIG

    def fn(u: pd.Series) -> tuple[pd.Series, np.ndarray]:
        r = _Reasons(len(u))
        t = to_halfwidth(u).str.strip()
        r.set(_null_like(t, cfg), NULL_LIKE_REASON)
        c = t.str.replace(r"[\s\-.()]", "", regex=True).str.replace(r"[xX#]", "*", regex=True)
        c = re_sub(c, r"^(?:\+?86|0086)(1[3-9][\d*]{9})$", r"\1")
        full = _b(c.str.fullmatch(r"1[3-9]\d{9}"))
        masked = _b(c.str.fullmatch(r"1[3-9]\d\*{4}\d{4}"))
        value = c.where(masked, (c.str.slice(0, 3) + "****" + c.str.slice(-4)).where(full))
        r.set(~(masked | full), BAD_FORMAT)
        return value, r.codes

    return _by_unique(s, fn)


# ---------------------------------------------------------------------------- other id types

_EMAIL_RE = (
    r"[a-z0-9!#$%&'+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)


def normalize_email(s: pd.Series, config: NormalizeConfig | None = None) -> pd.DataFrame:
    """Normalize emails: trimmed, lower-cased, full-width folded; must look like local@domain.tld.

    Reasons: ``null_like``, ``masked`` (``a***@qq.com``), ``blocked_default_email``
    (placeholders such as ``123@qq.com``), ``bad_format``.
    """
    cfg = config or DEFAULT_CONFIG

    def fn(u: pd.Series) -> tuple[pd.Series, np.ndarray]:
        r = _Reasons(len(u))
        t = to_halfwidth(u).str.strip().str.lower().str.replace(r"^mailto:", "", regex=True)
        r.set(_null_like(t, cfg), NULL_LIKE_REASON)
        r.set(_b(t.str.contains("*", regex=False)), MASKED)
        r.set(_b(t.isin(cfg.blocked_emails)), BLOCKED_DEFAULT_EMAIL)
        r.set(~_b(t.str.fullmatch(_EMAIL_RE)), BAD_FORMAT)
        return t, r.codes

    return _by_unique(s, fn)


def normalize_device_id(s: pd.Series, config: NormalizeConfig | None = None) -> pd.DataFrame:
    """Normalize device ids (IDFA / OAID / IMEI-like): trimmed, lower-cased, hyphens kept.

    Reasons: ``null_like``, ``all_zero_device`` (``00000000-0000-0000-0000-000000000000``),
    ``blocked_default_device`` (one repeated character such as ``ffff...``, or listed in
    ``config.blocked_devices``), ``masked``, ``bad_format`` (too short or odd characters).
    """
    cfg = config or DEFAULT_CONFIG

    def fn(u: pd.Series) -> tuple[pd.Series, np.ndarray]:
        r = _Reasons(len(u))
        t = to_halfwidth(u).str.strip().str.lower()
        r.set(_null_like(t, cfg), NULL_LIKE_REASON)
        r.set(_b(t.str.fullmatch(r"[0\-]+")), ALL_ZERO_DEVICE)
        r.set(_b(t.str.contains("*", regex=False)), MASKED)
        blocked = _b(t.str.fullmatch(_ALL_SAME_HEX)) | _b(t.isin(cfg.blocked_devices))
        r.set(blocked, BLOCKED_DEFAULT_DEVICE)
        ok = _b(t.str.fullmatch(r"[0-9a-z][0-9a-z_:.\-]*"))
        ok &= t.str.len().to_numpy(dtype=np.int64, na_value=0) >= cfg.min_device_id_length
        r.set(~ok, BAD_FORMAT)
        return t, r.codes

    return _by_unique(s, fn)


def normalize_cookie_id(s: pd.Series, config: NormalizeConfig | None = None) -> pd.DataFrame:
    """Normalize cookie ids: trimmed, lower-cased; no whitespace, at least 4 characters."""
    cfg = config or DEFAULT_CONFIG

    def fn(u: pd.Series) -> tuple[pd.Series, np.ndarray]:
        r = _Reasons(len(u))
        t = u.str.strip().str.lower()
        r.set(_null_like(t, cfg), NULL_LIKE_REASON)
        r.set(_b(t.str.fullmatch(r"[0\-]+")), ALL_ZERO_DEVICE)
        ok = _b(t.str.fullmatch(r"[!-~]+"))  # printable ASCII, no spaces
        ok &= t.str.len().to_numpy(dtype=np.int64, na_value=0) >= cfg.min_cookie_id_length
        r.set(~ok, BAD_FORMAT)
        return t, r.codes

    return _by_unique(s, fn)


def normalize_member_id(s: pd.Series, config: NormalizeConfig | None = None) -> pd.DataFrame:
    """Normalize member / card ids: trimmed, upper-cased, full-width folded, leading zeros kept."""
    cfg = config or DEFAULT_CONFIG

    def fn(u: pd.Series) -> tuple[pd.Series, np.ndarray]:
        r = _Reasons(len(u))
        t = to_halfwidth(u).str.strip().str.upper()
        r.set(_null_like(t, cfg), NULL_LIKE_REASON)
        r.set(_b(t.str.contains("*", regex=False)), MASKED)
        ok = _b(t.str.fullmatch(r"[0-9A-Z_\-.:/#]+")) & ~_b(t.str.fullmatch(r"[0\-]+"))
        r.set(~ok, BAD_FORMAT)
        return t, r.codes

    return _by_unique(s, fn)


def _wechat_id(u: pd.Series, cfg: NormalizeConfig) -> tuple[pd.Series, np.ndarray]:
    r = _Reasons(len(u))
    t = to_halfwidth(u).str.strip()
    r.set(_null_like(t, cfg), NULL_LIKE_REASON)
    r.set(_b(t.str.contains("*", regex=False)), MASKED)
    r.set(~_b(t.str.fullmatch(r"[0-9A-Za-z_\-]{6,64}")), BAD_FORMAT)
    return t, r.codes


def normalize_unionid(s: pd.Series, config: NormalizeConfig | None = None) -> pd.DataFrame:
    """Normalize WeChat unionids: trimmed, case kept (WeChat ids are case-sensitive)."""
    cfg = config or DEFAULT_CONFIG
    return _by_unique(s, lambda u: _wechat_id(u, cfg))


def _scoped(ids: pd.DataFrame, scope: Any, index: pd.Index, lower: bool) -> pd.DataFrame:
    """``<scope>:<id>`` for valid ids; a missing scope makes the row ``missing_scope``."""
    if scope is None:
        raise ValueError("a scoped identifier needs its scope values (app_id / platform)")
    if isinstance(scope, str):
        sc = pd.Series(scope, index=index, dtype=STRING)
    else:
        sc = as_string(scope)
        if len(sc) != len(index):
            raise ValueError(f"scope has {len(sc)} values for {len(index)} identifiers")
        sc = pd.Series(sc.array, index=index)
    sc = to_halfwidth(sc).str.strip()
    if lower:
        sc = sc.str.lower()
    missing = sc.isna().to_numpy() | _null_like(sc.fillna(""), DEFAULT_CONFIG)
    codes = ids["reason"].cat.codes.to_numpy().astype(np.int8)
    codes[(codes == -1) & missing] = _CODE[MISSING_SCOPE]
    value = (sc + ":" + ids["value"]).where(codes == -1)
    return _result(value, codes, index)


def normalize_openid(
    s: pd.Series, app_id: pd.Series | str | None, config: NormalizeConfig | None = None
) -> pd.DataFrame:
    """Normalize WeChat openids, scoped by app: value ``<app_id>:<openid>`` (case kept).

    An openid is only unique within one official account / mini program, so the app id is part
    of the value; rows without an app id are ``missing_scope``.
    """
    cfg = config or DEFAULT_CONFIG
    s = as_string(s)
    return _scoped(_by_unique(s, lambda u: _wechat_id(u, cfg)), app_id, s.index, lower=False)


def normalize_platform_buyer(
    s: pd.Series, platform: pd.Series | str | None, config: NormalizeConfig | None = None
) -> pd.DataFrame:
    """Normalize platform buyer ids, scoped by platform: value ``<platform>:<id>``.

    The platform is trimmed and lower-cased (``Tmall`` -> ``tmall``), the id trimmed with case
    kept; masked buyer nicks (``t**1``) are ``masked``.
    """
    cfg = config or DEFAULT_CONFIG
    s = as_string(s)

    def fn(u: pd.Series) -> tuple[pd.Series, np.ndarray]:
        r = _Reasons(len(u))
        t = to_halfwidth(u).str.strip()
        r.set(_null_like(t, cfg), NULL_LIKE_REASON)
        r.set(_b(t.str.contains("*", regex=False)), MASKED)
        r.set(_b(t.str.contains(r"[\x00-\x1f\s]", regex=True)), BAD_FORMAT)
        return t, r.codes

    return _scoped(_by_unique(s, fn), platform, s.index, lower=True)


def normalize_name(s: pd.Series, config: NormalizeConfig | None = None) -> pd.DataFrame:
    """Normalize personal names: full-width folded, trimmed, all whitespace removed.

    Reasons: ``null_like``, ``blocked_default_name`` (``先生``, ``顾客``, ``测试`` ...),
    ``bad_format`` (digits or ``@`` in the name).
    """
    cfg = config or DEFAULT_CONFIG

    def fn(u: pd.Series) -> tuple[pd.Series, np.ndarray]:
        r = _Reasons(len(u))
        t = to_halfwidth(u).str.replace(r"\s+", "", regex=True)
        r.set(_null_like(t, cfg), NULL_LIKE_REASON)
        r.set(_b(t.isin(cfg.blocked_names)), BLOCKED_DEFAULT_NAME)
        r.set(_b(t.str.contains(r"[\d@]", regex=True)), BAD_FORMAT)
        return t, r.codes

    return _by_unique(s, fn)


def normalize_address(s: pd.Series, config: NormalizeConfig | None = None) -> pd.DataFrame:
    """Normalize addresses: full-width folded, trimmed, runs of whitespace collapsed to one."""
    cfg = config or DEFAULT_CONFIG

    def fn(u: pd.Series) -> tuple[pd.Series, np.ndarray]:
        r = _Reasons(len(u))
        t = to_halfwidth(u).str.replace(r"\s+", " ", regex=True).str.strip()
        r.set(_null_like(t, cfg), NULL_LIKE_REASON)
        r.set(t.str.len().to_numpy(dtype=np.int64, na_value=0) < 2, BAD_FORMAT)
        return t, r.codes

    return _by_unique(s, fn)


_UNSCOPED: dict[str, Callable[..., pd.DataFrame]] = {
    "email": normalize_email,
    "member_id": normalize_member_id,
    "unionid": normalize_unionid,
    "device_id": normalize_device_id,
    "cookie_id": normalize_cookie_id,
    "masked_phone": normalize_masked_phone,
    "name": normalize_name,
    "address": normalize_address,
}
_SCOPED: dict[str, Callable[..., pd.DataFrame]] = {
    "openid": normalize_openid,
    "platform_buyer": normalize_platform_buyer,
}
#: Every type :func:`normalize` knows.
NORMALIZED_TYPES: tuple[str, ...] = ("phone", *_UNSCOPED, *_SCOPED)


def normalize(
    s: pd.Series,
    id_type: str,
    scope: pd.Series | str | None = None,
    config: NormalizeConfig | None = None,
) -> pd.DataFrame:
    """Normalize values of any identifier or quasi-identifier type (dispatches on ``id_type``).

    Parameters
    ----------
    s : Series
        Raw values.
    id_type : str
        One of :data:`NORMALIZED_TYPES`.
    scope : Series or str, optional
        Scope values (app id for ``openid``, platform for ``platform_buyer``); required there.
    config : NormalizeConfig, optional

    Returns
    -------
    DataFrame
        ``value``, ``valid``, ``reason`` on the index of ``s``.
    """
    if id_type == "phone":
        region = (config or DEFAULT_CONFIG).default_region
        return normalize_phone(s, default_region=region, config=config)
    if id_type in _UNSCOPED:
        return _UNSCOPED[id_type](s, config=config)
    if id_type in _SCOPED:
        if scope is None:
            raise ValueError(f"identifier type {id_type!r} needs scope values")
        return _SCOPED[id_type](s, scope, config=config)
    raise ValueError(f"unknown identifier type {id_type!r}; known: {list(NORMALIZED_TYPES)}")


# ------------------------------------------------------------------------------ long tables


def _tables_and_specs(
    data: Dataset | Mapping[str, pd.DataFrame],
    spec: DatasetSpec | Mapping[str, SourceSpec] | None,
) -> tuple[Mapping[str, pd.DataFrame], Mapping[str, SourceSpec]]:
    tables = getattr(data, "tables", data)
    if spec is None:
        spec = getattr(data, "spec", None)
    if spec is None:
        raise ValueError("pass the dataset spec (DatasetSpec or {source: SourceSpec}) with tables")
    specs = getattr(spec, "sources", spec)
    if not isinstance(tables, Mapping) or not isinstance(specs, Mapping):
        raise ValueError("expected a Dataset, or a {source: DataFrame} mapping and its spec")
    return tables, specs


def _check_keys(name: str, df: pd.DataFrame, key: str | None) -> pd.Series:
    if key is None:
        raise ValueError(f"source {name!r} has identifiers but no key column in its spec")
    if key not in df.columns:
        raise ValueError(f"source {name!r}: key column {key!r} not in the table")
    k = as_string(df[key])
    null = np.flatnonzero(k.isna().to_numpy())
    if null.size:
        raise ValueError(
            f"source {name!r}: key column {key!r} is null at row {int(null[0])} "
            f"({null.size} null key(s)); load the source with omni.io to quarantine them"
        )
    dup = np.flatnonzero(k.duplicated().to_numpy())
    if dup.size:
        raise ValueError(
            f"source {name!r}: key column {key!r} has {dup.size} duplicate(s), first at row "
            f"{int(dup[0])}; record keys must be unique"
        )
    return k


#: Values normalized per call when building the long tables: every normalizer works value by value,
#: and its scratch strings (several per value) stay bounded on sources of tens of millions of rows.
NORMALIZE_BLOCK = 10_000_000


def _normalize_in_blocks(values: pd.Series, id_type: str, scope: pd.Series | None,
                         config: NormalizeConfig | None) -> pd.DataFrame:
    """:func:`normalize` over blocks of :data:`NORMALIZE_BLOCK` values (index 0..n-1), stacked."""
    n = len(values)
    if n <= NORMALIZE_BLOCK:
        return normalize(values, id_type, scope=scope, config=config)
    parts = []
    for i in range(0, n, NORMALIZE_BLOCK):
        block = slice(i, min(i + NORMALIZE_BLOCK, n))
        parts.append(normalize(values.iloc[block].reset_index(drop=True), id_type,
                               scope=None if scope is None else scope.iloc[block].reset_index(drop=True),
                               config=config))
    return pd.concat(parts, ignore_index=True)


def _long_table(
    data: Dataset | Mapping[str, pd.DataFrame],
    spec: DatasetSpec | Mapping[str, SourceSpec] | None,
    which: str,
    config: NormalizeConfig | None,
    sources: Sequence[str] | None,
    lean: bool = False,
    encode: bool = True,
) -> pd.DataFrame:
    tables, specs = _tables_and_specs(data, spec)
    names = [n for n in specs if n in tables] if sources is None else list(sources)
    for n in names:
        if n not in specs or n not in tables:
            raise ValueError(f"source {n!r} is not in both the tables and the spec")
    id_types = list(NORMALIZED_TYPES)
    src_codes, type_codes, valid, reasons, rows = [], [], [], [], []
    keys: list[pa.Array] = []
    raws: list[pa.Array] = []
    values: list[pa.Array] = []
    for si, name in enumerate(names):
        sspec, df = specs[name], tables[name]
        id_specs: list[IdSpec] = list(getattr(sspec, which))
        if not id_specs:
            continue
        key = _check_keys(name, df, sspec.key)
        for ids in id_specs:
            for col in (ids.column, ids.scope):
                if col is not None and col not in df.columns:
                    raise ValueError(
                        f"source {name!r}: column {col!r} ({ids.type}) not in the table; it has "
                        f"{list(df.columns)}"
                    )
            raw = as_string(df[ids.column])
            idx = np.flatnonzero(raw.notna().to_numpy())
            if idx.size == 0:
                continue
            r = raw.iloc[idx].reset_index(drop=True)
            scope = None
            if ids.scope is not None:
                scope = as_string(df[ids.scope]).iloc[idx].reset_index(drop=True)
            norm = _normalize_in_blocks(r, ids.type, scope, config)
            n = idx.size
            src_codes.append(np.full(n, si, dtype=np.int16))
            rows.append(idx.astype(np.int32 if lean else np.int64))
            type_codes.append(np.full(n, id_types.index(ids.type), dtype=np.int8))
            ok = norm["valid"].to_numpy()
            valid.append(ok)
            reasons.append(pd.Categorical(norm["reason"], categories=list(REASONS)).codes)
            value = as_string(norm["value"]).array.__arrow_array__()
            if lean:  # no key strings; raw values only where not valid; values dictionary-encoded
                # a take with null indices keeps only the invalid rows' bytes (if_else keeps all)
                pick = pa.array(np.arange(n, dtype=np.int64), mask=ok)
                raws.append(r.array.__arrow_array__().take(pick).cast(pa.string()))
                values.append(value.cast(pa.large_string()))
                continue
            rk = (name + ":") + key.iloc[idx].reset_index(drop=True)
            keys.extend(rk.array.__arrow_array__().chunks)
            raws.extend(r.array.__arrow_array__().chunks)
            values.extend(value.chunks)

    def strings(chunks: list[pa.Array]) -> pd.Series:
        ca = pa.chunked_array([c.cast(pa.large_string()) for c in chunks], type=pa.large_string())
        return pd.Series(pd.arrays.ArrowStringArray(ca))

    def cat(codes: list[np.ndarray], categories: list[str], dtype: type) -> pd.Categorical:
        c = np.concatenate(codes) if codes else np.zeros(0, dtype=dtype)
        return pd.Categorical.from_codes(c, categories=categories)

    if lean:
        return pd.DataFrame(
            {
                "source": cat(src_codes, names, np.int16),
                "row": np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32),
                "id_type": cat(type_codes, id_types, np.int8),
                "raw": _raw_column(raws),
                "value": _dictionary_column(values) if encode else strings([c for v in values for c in v.chunks]),
                "valid": np.concatenate(valid) if valid else np.zeros(0, dtype=bool),
                "reason": cat(reasons, list(REASONS), np.int8),
            },
            copy=False,
        )
    return pd.DataFrame(
        {
            "source": cat(src_codes, names, np.int16),
            "record_key": strings(keys),
            "row": np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64),
            "id_type": cat(type_codes, id_types, np.int8),
            "raw": strings(raws),
            "value": strings(values),
            "valid": np.concatenate(valid) if valid else np.zeros(0, dtype=bool),
            "reason": cat(reasons, list(REASONS), np.int8),
        }
    )


def identifier_table(
    data: Dataset | Mapping[str, pd.DataFrame],
    spec: DatasetSpec | Mapping[str, SourceSpec] | None = None,
    config: NormalizeConfig | None = None,
    sources: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The identifier table of the data contract: one row per (record, identifier column).

    Parameters
    ----------
    data : Dataset or mapping of str to DataFrame
        A loaded :class:`omni.io.Dataset`, or accepted tables by source name.
    spec : DatasetSpec or mapping of str to SourceSpec, optional
        Which columns are identifiers (default: ``data.spec``).
    config : NormalizeConfig, optional
    sources : sequence of str, optional
        Only these sources (default: every source with identifiers, in spec order).

    Returns
    -------
    DataFrame
        ``source`` (category), ``record_key`` (``<source>:<key>``), ``row`` (0-based position
        of the record in its source's accepted table), ``id_type`` (category),
        ``raw`` (as in the file), ``value`` (normalized, scoped ``<scope>:<id>`` for openid and
        platform_buyer; null when invalid), ``valid`` (bool), ``reason`` (category; null when
        valid). Rows with a null raw value are left out. Ordered by source, identifier column,
        record.

    Raises
    ------
    ValueError
        A source without its spec, a missing column, or null / duplicate keys (naming the row).
    """
    return _long_table(data, spec, "identifiers", config, sources)


def _raw_column(parts: Sequence[pa.ChunkedArray]) -> pd.Series:
    """Raw strings of the lean table (mostly null): 32-bit offsets, half the size of 64-bit ones."""
    chunks = [c.cast(pa.string()) for p in parts for c in p.chunks]
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(chunks, type=pa.string())))


def shared_dictionary(chunks: Sequence[pa.DictionaryArray]) -> pa.ChunkedArray:
    """Dictionary chunks (``int32`` codes) recoded to one dictionary: the distinct dictionaries (chunks of one
    encode share theirs) stacked and encoded once, each chunk's codes mapped through its
    dictionary's new positions. The dictionary is in order of first appearance, as Arrow's
    ``unify_dictionaries`` makes it; that one hashes every chunk's dictionary again (minutes and
    gigabytes on a thousand chunks sharing a dictionary of millions of values). The codes are
    those of encoding all the values at once when each dictionary holds just its chunks' values
    and the chunks of one encode are adjacent, as the per-source tables stack; otherwise the
    values are the same and only the dictionary's order may differ."""
    dicts: list[pa.Array] = []
    which: list[int] = []
    seen: dict[tuple[int, int, int], int] = {}
    for c in chunks:
        d = c.dictionary
        bufs = d.buffers()
        ident = (bufs[1].address if bufs[1] is not None else 0, d.offset, len(d))
        if ident not in seen:
            seen[ident] = len(dicts)
            dicts.append(d)
        which.append(seen[ident])
    if any(d.type != dicts[0].type for d in dicts):  # string and large_string: one type
        dicts = [d.cast(pa.large_string()) for d in dicts]
    enc = pc.dictionary_encode(pa.chunked_array(dicts, type=dicts[0].type))
    dictionary = enc.chunk(0).dictionary if enc.num_chunks else pa.array([], type=dicts[0].type)
    # new position of every entry of every dictionary (split by the dictionaries' lengths: the
    # encode drops empty chunks, such as the dictionary of a source whose values are all invalid)
    flat = (np.concatenate([ch.indices.to_numpy(zero_copy_only=False) for ch in enc.chunks]).astype(np.int32)
            if enc.num_chunks else np.zeros(0, np.int32))
    maps = np.split(flat, np.cumsum([len(d) for d in dicts])[:-1])
    del enc, flat
    out = []
    for c, w in zip(chunks, which, strict=True):
        idx = c.indices
        mask = idx.is_null().to_numpy(zero_copy_only=False) if idx.null_count else None
        codes = (maps[w][idx.fill_null(0).to_numpy(zero_copy_only=False)] if len(maps[w])
                 else np.zeros(len(idx), dtype=np.int32))  # an empty dictionary: every value null
        out.append(pa.DictionaryArray.from_arrays(pa.array(codes, mask=mask), dictionary))
    return pa.chunked_array(out, type=pa.dictionary(pa.int32(), dictionary.type))


def _dictionary_column(parts: Sequence[pa.ChunkedArray]) -> pd.Series:
    """String chunks -> one dictionary-encoded column whose chunks share one dictionary
    (``dictionary<int32, large_string>``; the OneID engine reads the codes without hashing).

    One hash pass over every value: Arrow gives all chunks of a chunked encode the final
    dictionary, in order of first appearance. Parts that are all encoded already (of
    :func:`link_table`) have their dictionaries unified instead, without decoding a value: the
    dictionary is the same (each part's is in order of first appearance within it), and at 5M
    persons the decoded values would be some 150 M strings at once.
    """
    typ = pa.dictionary(pa.int32(), pa.large_string())
    chunks = [c for p in parts for c in p.chunks if len(c)]
    if chunks and all(c.type == typ for c in chunks):
        return pd.Series(pd.arrays.ArrowExtensionArray(shared_dictionary(chunks)))
    chunks = [c.dictionary.take(c.indices) if pa.types.is_dictionary(c.type) else c for c in chunks]
    if not chunks:
        return pd.Series(pd.array(pa.chunked_array([], type=typ), dtype=pd.ArrowDtype(typ)))
    ca = pa.chunked_array([c.cast(pa.large_string()) for c in chunks], type=pa.large_string())
    return pd.Series(pd.arrays.ArrowExtensionArray(ca.dictionary_encode()))


def link_table(
    data: Dataset | Mapping[str, pd.DataFrame],
    spec: DatasetSpec | Mapping[str, SourceSpec] | None = None,
    config: NormalizeConfig | None = None,
    sources: Sequence[str] | None = None,
    encode: bool = True,
) -> pd.DataFrame:
    """The identifier table in the lean layout the OneID engine runs on at scale.

    Same rows, order and normalization as :func:`identifier_table`, without the per-row strings
    the engine never reads: no ``record_key`` (a record is its ``source`` and ``row``; keys are
    built from the source's key column only for outputs), ``raw`` kept only where the value is not
    valid (null elsewhere), ``row`` as int32 and ``value`` dictionary-encoded
    (``dictionary<int32, large_string>``, one dictionary shared by every chunk). At 1M persons
    (29.7M identifier rows) this is about 0.5 GB against 3.3 GB for the identifier table.

    Parameters and errors as :func:`identifier_table`, and ``encode``: False leaves ``value`` as
    plain strings, for tables of single sources that :func:`concat_link_tables` stacks and encodes
    in one pass.
    """
    return _long_table(data, spec, "identifiers", config, sources, lean=True, encode=encode)


def concat_link_tables(parts: Sequence[pd.DataFrame], sources: Sequence[str] | None = None) -> pd.DataFrame:
    """Stack lean identifier tables (:func:`link_table`) of different sources into one.

    Parameters
    ----------
    parts : sequence of DataFrame
        Lean tables, each from :func:`link_table` (any sources; their ``source`` categories may
        differ).
    sources : sequence of str, optional
        The leading categories of the stacked ``source`` column (e.g. every source of the spec);
        sources of the parts not named here follow, in order of appearance.

    Returns
    -------
    DataFrame
        The lean table of all parts, in the order given; values re-encoded to one dictionary.
    """
    names: list[str] = list(sources) if sources is not None else []
    for p in parts:
        names += [str(c) for c in p["source"].cat.categories if str(c) not in names]
    pos = {n: i for i, n in enumerate(names)}
    src = []
    for p in parts:
        cats = [str(c) for c in p["source"].cat.categories]
        remap = np.array([pos[c] for c in cats] + [-1], dtype=np.int16)
        src.append(remap[p["source"].cat.codes.to_numpy()])

    def arrow(col: str) -> list[pa.ChunkedArray]:
        return [p[col].array.__arrow_array__() for p in parts]

    return pd.DataFrame(
        {
            "source": pd.Categorical.from_codes(np.concatenate(src) if src else np.zeros(0, np.int16), categories=names),
            "row": np.concatenate([p["row"].to_numpy(np.int32) for p in parts]) if parts else np.zeros(0, np.int32),
            "id_type": pd.Categorical.from_codes(
                np.concatenate([p["id_type"].cat.codes.to_numpy() for p in parts]) if parts else np.zeros(0, np.int8),
                categories=list(NORMALIZED_TYPES)),
            "raw": _raw_column(arrow("raw")),
            "value": _dictionary_column(arrow("value")),
            "valid": np.concatenate([p["valid"].to_numpy(bool) for p in parts]) if parts else np.zeros(0, bool),
            "reason": pd.Categorical.from_codes(
                np.concatenate([p["reason"].cat.codes.to_numpy() for p in parts]) if parts else np.zeros(0, np.int8),
                categories=list(REASONS)),
        },
        copy=False,
    )


def quasi_table(
    data: Dataset | Mapping[str, pd.DataFrame],
    spec: DatasetSpec | Mapping[str, SourceSpec] | None = None,
    config: NormalizeConfig | None = None,
    sources: Sequence[str] | None = None,
    lean: bool = False,
) -> pd.DataFrame:
    """The quasi-identifier table (names, masked phones, addresses): same shape as
    :func:`identifier_table`, built from each source's ``quasi_identifiers``; with ``lean``, in
    the layout of :func:`link_table` (no key strings, raw values only where not valid) with
    plain ``value`` strings."""
    return _long_table(data, spec, "quasi_identifiers", config, sources, lean=lean, encode=False)
