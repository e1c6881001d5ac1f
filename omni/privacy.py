"""Privacy helpers (PIPL): masking, keyed pseudonyms, small-cell suppression, PII scanning.

Every notebook and report goes through these: reports never show a raw phone number, email, name
or id, only masked (``138****8000``, ``张*``, ``a***@qq.com``, ``M0…42``) or pseudonymized (keyed
HMAC-SHA256, key from the environment, never written anywhere) values; small groups in published
tables are suppressed.

The masking functions are vectorized over pandas Series (pyarrow string kernels) and also accept a
scalar (returning a scalar) or any list-like (returning a Series).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import os
import re
import secrets
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from omni.core.errors import OmniError
from omni.core.text import as_string, re_sub

__all__ = ["KEY_ENV", "MASK_TYPES", "MIN_KEY_BYTES", "PseudonymKeyError", "check_key_length",
           "detect_pii", "find_raw_pii_in_text", "is_valid_id_card", "mask_address", "mask_by_type",
           "mask_email", "mask_frame", "mask_id", "mask_name", "mask_phone", "pseudonymize",
           "publishable", "scan_pii", "suppress_small"]

KEY_ENV = "OMNI_PSEUDONYM_KEY"
KEY_HOWTO = f'export {KEY_ENV}=$(python -c "import secrets; print(secrets.token_hex(32))")'
#: Shortest key accepted from ``OMNI_PSEUDONYM_KEY`` and for audience exports (bytes after
#: decoding: 64 hex digits, or 32 bytes of UTF-8 text).
MIN_KEY_BYTES = 32
_STRING = pd.StringDtype("pyarrow")
_EPHEMERAL_KEY: bytes | None = None


class PseudonymKeyError(OmniError, RuntimeError):
    """No usable pseudonymization key: none configured, empty, or shorter than
    :data:`MIN_KEY_BYTES`. The hint is the command that generates one."""

    default_hint = KEY_HOWTO


# --------------------------------------------------------------------------------------- masking


def _as_str_series(values: Any) -> pd.Series:
    if isinstance(values, pd.Series):
        s = values
    else:
        s = pd.Series(list(values) if not isinstance(values, np.ndarray) else values)
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        return s
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    return s.astype(_STRING)


def _vectorized(fn: Callable[[pd.Series], pd.Series], values: Any) -> Any:
    """Apply a Series function to a Series, a list-like, or a scalar (returning a scalar)."""
    if isinstance(values, pd.Series | pd.Index | np.ndarray | list | tuple):
        return fn(_as_str_series(values))
    if values is None or (not isinstance(values, str) and pd.isna(values)):
        return None
    out = fn(_as_str_series([str(values)])).iloc[0]
    return None if pd.isna(out) else str(out)


def _mask_phone(s: pd.Series) -> pd.Series:
    t = s.str.replace(r"[^\d*]", "", regex=True)
    # Drop the country code of CN mobiles (+86 / 0086 / 86) before keeping 3 + 4 digits.
    t = re_sub(t, r"^(?:0086|86)(1[3-9]\d[\d*]{4}\d{4})$", r"\1")
    digits = t.str.replace("*", "", regex=False)
    n = digits.str.len()
    masked = digits.str.slice(0, 3) + "****" + digits.str.slice(-4)
    return masked.where(n >= 7, "****").where(s.notna())


def mask_phone(values: Any) -> Any:
    """Mask phone numbers as ``138****8000`` (first 3 and last 4 digits of the national number).

    Accepts any variant (``+8613800138000``, ``138-0013-8000``, already masked ``138****8000``);
    values with fewer than 7 digits become ``****``. Nulls stay null.

    Examples
    --------
    >>> mask_phone("+8613800138000")
    '138****8000'
    """
    return _vectorized(_mask_phone, values)


def _mask_email(s: pd.Series) -> pd.Series:
    t = s.str.strip()
    has_at = t.str.contains("@", regex=False).fillna(False)
    masked = re_sub(t, r"^(.)[^@]*@([^@]*)$", r"\1***@\2")
    masked = masked.where(masked != t, "***")  # several @ or nothing before @: mask all
    return masked.where(has_at, _mask_id(t)).where(s.notna())


def mask_email(values: Any) -> Any:
    """Mask emails as ``a***@example.com`` (first character of the local part, domain kept).

    Examples
    --------
    >>> mask_email("alice@example.com")
    'a***@example.com'
    """
    return _vectorized(_mask_email, values)


def _mask_name(s: pd.Series) -> pd.Series:
    t = s.str.replace(r"\s+", "", regex=True)
    return (t.str.slice(0, 1) + t.str.slice(1).str.replace(".", "*", regex=True)).where(s.notna())


def mask_name(values: Any) -> Any:
    """Mask names as the first character then ``*`` per remaining character (``张*``, ``欧***``).

    Examples
    --------
    >>> mask_name("张三")
    '张*'
    """
    return _vectorized(_mask_name, values)


def _mask_id(s: pd.Series) -> pd.Series:
    t = s.str.strip()
    n = t.str.len()
    return (t.str.slice(0, 2) + "…" + t.str.slice(-2)).where(n >= 6, "…").where(s.notna())


def mask_id(values: Any) -> Any:
    """Mask ids as first 2 + ``…`` + last 2 characters (``M0…42``); shorter than 6 -> ``…``.

    Examples
    --------
    >>> mask_id("M000123442")
    'M0…42'
    """
    return _vectorized(_mask_id, values)


_ADDRESS_PREFIX = (
    r"^((?:[^省市区县路街号\d]{1,8}省)?(?:[^省市区县路街号\d]{1,8}[市州盟])?"
    r"(?:[^省市区县路街号\d]{1,8}[区县旗市])?).*$"
)


def _mask_address(s: pd.Series) -> pd.Series:
    t = s.str.replace(r"\s+", "", regex=True)
    return (re_sub(t, _ADDRESS_PREFIX, r"\1") + "***").where(s.notna())


def mask_address(values: Any) -> Any:
    """Keep the province/city/district of an address and mask the rest.

    Examples
    --------
    >>> mask_address("上海市浦东新区张江路100号")
    '上海市浦东新区***'
    """
    return _vectorized(_mask_address, values)


_MASKERS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "phone": _mask_phone,
    "masked_phone": _mask_phone,
    "email": _mask_email,
    "name": _mask_name,
    "address": _mask_address,
    "id": _mask_id,
    "member_id": _mask_id,
    "unionid": _mask_id,
    "openid": _mask_id,
    "platform_buyer": _mask_id,
    "device_id": _mask_id,
    "cookie_id": _mask_id,
}
MASK_TYPES: tuple[str, ...] = tuple(_MASKERS)


def mask_by_type(values: Any, pii_type: str) -> Any:
    """Mask values with the masker for ``pii_type`` (one of :data:`MASK_TYPES`)."""
    try:
        fn = _MASKERS[pii_type]
    except KeyError:
        raise ValueError(f"unknown pii type {pii_type!r}; known: {list(MASK_TYPES)}") from None
    return _vectorized(fn, values)


def mask_frame(
    df: pd.DataFrame, columns_by_type: Mapping[str, str | Sequence[str]]
) -> pd.DataFrame:
    """Return a copy of ``df`` with personal-data columns masked.

    Parameters
    ----------
    df : DataFrame
    columns_by_type : mapping
        ``{pii_type: column or [columns]}``, e.g. ``{"phone": ["phone", "bound_phone"],
        "name": "name"}``. Types: :data:`MASK_TYPES`.

    Raises
    ------
    ValueError
        For an unknown type or a column ``df`` does not have.
    """
    out = df.copy()
    for pii_type, cols in columns_by_type.items():
        if pii_type not in _MASKERS:
            raise ValueError(f"unknown pii type {pii_type!r}; known: {list(MASK_TYPES)}")
        for col in [cols] if isinstance(cols, str) else list(cols):
            if col not in out.columns:
                raise ValueError(
                    f"column {col!r} (pii type {pii_type!r}) not in the frame; it has "
                    f"{list(out.columns)}"
                )
            out[col] = _MASKERS[pii_type](_as_str_series(out[col]))
    return out


# --------------------------------------------------------------------------------- pseudonyms


def _key_bytes(key: str | bytes) -> bytes:
    if isinstance(key, bytes):
        return key
    k = key.strip()
    if len(k) >= 32 and len(k) % 2 == 0 and re.fullmatch(r"[0-9a-fA-F]+", k):
        return bytes.fromhex(k)
    return k.encode("utf-8")


def _resolve_key(key: str | bytes | None, allow_ephemeral: bool) -> bytes:
    global _EPHEMERAL_KEY
    from_env = key is None
    if key is None:
        key = os.environ.get(KEY_ENV) or None
    if key is None:
        if not allow_ephemeral:
            raise PseudonymKeyError(
                f"no pseudonymization key: set the environment variable {KEY_ENV} (hex or text, "
                f"at least {MIN_KEY_BYTES} bytes) and keep it secret (never commit it); or pass "
                "allow_ephemeral=True for throw-away pseudonyms that change every run"
            )
        if _EPHEMERAL_KEY is None:
            _EPHEMERAL_KEY = secrets.token_bytes(32)
        warnings.warn(
            f"{KEY_ENV} is not set: using a random per-process key, so pseudonyms will differ "
            f"between runs. Set it with: {KEY_HOWTO}",
            RuntimeWarning,
            stacklevel=3,
        )
        return _EPHEMERAL_KEY
    k = _key_bytes(key)
    where = f"the environment variable {KEY_ENV}" if from_env else "the pseudonymization key"
    if not k:
        raise PseudonymKeyError(f"{where} is empty")
    if from_env:
        check_key_length(k, where)
    elif len(k) < 16:
        warnings.warn(
            f"pseudonymization key is only {len(k)} bytes; use at least 16 ({MIN_KEY_BYTES} random "
            f"bytes recommended): {KEY_HOWTO}",
            RuntimeWarning,
            stacklevel=3,
        )
    return k


def check_key_length(key: str | bytes, where: str = "the pseudonymization key") -> bytes:
    """Refuse a key shorter than :data:`MIN_KEY_BYTES`; return its bytes.

    A str of 32+ hex digits counts as hex (64 digits = 32 bytes), any other str as UTF-8 text.
    Applied to every key read from ``OMNI_PSEUDONYM_KEY`` and to every audience export's key (a key
    passed to :func:`pseudonymize` directly is only warned about below 16 bytes).

    Raises
    ------
    PseudonymKeyError
        The key is shorter than :data:`MIN_KEY_BYTES`; the message gives its length (never the
        key) and the hint the command that generates a good one.
    """
    k = _key_bytes(key)
    if len(k) < MIN_KEY_BYTES:
        raise PseudonymKeyError(
            f"{where} is {len(k)} bytes; a pseudonymization key must be at least {MIN_KEY_BYTES} "
            f"bytes ({2 * MIN_KEY_BYTES} hex digits, or {MIN_KEY_BYTES}+ bytes of UTF-8 text): "
            "generate a random one"
        )
    return k


def pseudonymize(
    values: Any,
    key: str | bytes | None = None,
    *,
    length: int | None = 16,
    allow_ephemeral: bool = False,
) -> Any:
    """Keyed pseudonyms: hex HMAC-SHA256 of each value's UTF-8 string.

    Parameters
    ----------
    values : scalar, list-like or Series
        Values to pseudonymize (normalize identifiers first: ``+8613800138000`` and
        ``138 0013 8000`` are different strings). Nulls stay null.
    key : str or bytes, optional
        HMAC key. Default: the environment variable ``OMNI_PSEUDONYM_KEY``. A str of 32+ hex
        digits is read as hex, any other str as UTF-8 text.
    length : int or None, default 16
        Hex characters to keep (16 = 64 bits); None keeps all 64.
    allow_ephemeral : bool, default False
        Without a key, use a random per-process key (with a warning) instead of raising.

    Returns
    -------
    str, or Series of str (same index as a Series input)

    Raises
    ------
    PseudonymKeyError
        No key given and ``OMNI_PSEUDONYM_KEY`` unset, unless ``allow_ephemeral``.

    Notes
    -----
    The HMAC runs once per *distinct* value (values are factorized first); the key is never
    logged, returned or written.
    """
    if length is not None and not 1 <= length <= 64:
        raise ValueError(f"length must be between 1 and 64 (or None for 64), got {length}")
    k = _resolve_key(key, allow_ephemeral)
    base = hmac.new(k, digestmod=hashlib.sha256)

    def digest(u: str) -> str:
        h = base.copy()
        h.update(u.encode("utf-8"))
        return h.hexdigest()[:length]

    def run(s: pd.Series) -> pd.Series:
        codes, uniques = pd.factorize(s)
        hashed = np.array([digest(u) for u in uniques], dtype=object)  # once per distinct value
        out = np.empty(len(s), dtype=object)
        ok = codes >= 0
        out[ok] = hashed[codes[ok]]
        out[~ok] = None
        return pd.Series(out, index=s.index, dtype=_STRING)

    return _vectorized(run, values)


# ----------------------------------------------------------------------------- suppression


def suppress_small(
    df: pd.DataFrame,
    count_col: str,
    k: int = 10,
    cols: Sequence[str] | None = None,
    flag_col: str = "suppressed",
) -> pd.DataFrame:
    """Suppress cells of rows whose count is below ``k`` in a table meant for publication.

    Parameters
    ----------
    df : DataFrame
        Aggregated table (one row per group).
    count_col : str
        Column holding the number of people behind each row.
    k : int, default 10
        Minimum count to publish.
    cols : sequence of str, optional
        Columns blanked on suppressed rows. Default: ``count_col`` and every other numeric
        column (group labels stay readable).
    flag_col : str, default "suppressed"
        Boolean column added to mark suppressed rows (rows are kept, never deleted).

    Returns
    -------
    DataFrame
        A copy with blanked cells (null) and ``flag_col``.

    Notes
    -----
    Only primary suppression: totals published elsewhere may allow recovering a suppressed cell.
    """
    if count_col not in df.columns:
        raise ValueError(f"count column {count_col!r} not in the frame; it has {list(df.columns)}")
    if not pd.api.types.is_numeric_dtype(df[count_col].dtype):
        raise ValueError(f"count column {count_col!r} must be numeric, got {df[count_col].dtype}")
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if cols is None:
        cols = [count_col] + [
            c
            for c in df.columns
            if c != count_col
            and c != flag_col
            and pd.api.types.is_numeric_dtype(df[c].dtype)
            and not pd.api.types.is_bool_dtype(df[c].dtype)
        ]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not in the frame; it has {list(df.columns)}")
    small = (df[count_col] < k).to_numpy(dtype=bool, na_value=False)
    out = df.copy()
    for c in cols:
        col = out[c]
        if pd.api.types.is_integer_dtype(col.dtype):
            col = col.astype("Int64")
        elif pd.api.types.is_bool_dtype(col.dtype):
            col = col.astype("boolean")
        elif not pd.api.types.is_float_dtype(col.dtype) and not isinstance(
            col.dtype, pd.api.extensions.ExtensionDtype
        ):
            col = col.astype(object)
        col = col.copy()
        col[small] = None if col.dtype == object else pd.NA
        out[c] = col
    out[flag_col] = small
    return out


# --------------------------------------------------------------------------------- scanning

#: About the 100 most common Chinese surnames (single character).
COMMON_SURNAMES: frozenset[str] = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许邓韩冯曹彭曾肖田董潘袁蔡蒋余于杜叶程魏"
    "苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚"
    "邵万覃武钱戴严莫孔向常汤"
)
COMPOUND_SURNAMES: frozenset[str] = frozenset(
    {
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "令狐",
        "宇文",
        "司徒",
        "夏侯",
        "端木",
        "南宫",
        "西门",
        "独孤",
        "轩辕",
        "呼延",
    }
)
PII_TYPES: tuple[str, ...] = ("phone", "masked_phone", "email", "name", "id_card", "address")
ADDRESS_MARKERS: tuple[str, ...] = ("省", "市", "区", "县", "路", "街", "号")

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_ID_RE = r"\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
_PHONE_RE = r"(?:^|\D)(?:\+?86|0086)?1[3-9]\d{9}(?:\D|$)"
_MASKED_PHONE_RE = r"(?:^|\D)1[3-9]\d[*＊xX]{4}\d{4}(?:\D|$)"
_EMAIL_RE = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"



def publishable(df: pd.DataFrame, count_col: str, k: int = 10) -> pd.DataFrame:
    """:func:`suppress_small` for a report table, with a readable flag.

    Rows whose ``count_col`` is below ``k`` keep their labels but have their numbers blanked; a
    ``suppressed`` column (``"fewer than k"`` or empty) is added only when some row was suppressed.
    """
    out = suppress_small(df, count_col, k=k)
    flag = out.pop("suppressed").to_numpy(dtype=bool)
    if flag.any():
        out["suppressed"] = np.where(flag, f"fewer than {k}", "")
    return out

def _id_check_ok(cands: pd.Series) -> np.ndarray:
    """ISO 7064 MOD 11-2 check of 18-character candidates (others: False)."""
    ok = cands.str.fullmatch(_ID_RE).to_numpy(dtype=bool, na_value=False)
    result = np.zeros(len(cands), dtype=bool)
    if ok.any():
        body = cands[ok].str.upper().to_numpy(dtype=object)
        raw = np.frombuffer("".join(body).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
        total = ((raw[:, :17].astype(np.int64) - 48) * _ID_WEIGHTS).sum(axis=1)
        result[ok] = _ID_CHECK[total % 11] == raw[:, 17]
    return result


def is_valid_id_card(values: Any) -> Any:
    """Whether values are valid 18-character PRC resident ID numbers.

    Checks the layout (6-digit region, a plausible birth date 1800-2099, 3-digit sequence) and the
    ISO 7064 MOD 11-2 check character (``0-9`` or ``X``). Returns a bool (scalar input) or a bool
    Series.

    Examples
    --------
    >>> is_valid_id_card("11010519491231002X")
    True
    """
    if isinstance(values, pd.Series | pd.Index | np.ndarray | list | tuple):
        s = _as_str_series(values).str.strip()
        return pd.Series(_id_check_ok(s), index=s.index)
    if values is None or (not isinstance(values, str) and pd.isna(values)):
        return False
    return bool(_id_check_ok(_as_str_series([str(values).strip()]))[0])


def _is_name(t: pd.Series) -> np.ndarray:
    shape = t.str.fullmatch("[\u4e00-\u9fff]{2,4}").to_numpy(dtype=bool, na_value=False)
    single = t.str.slice(0, 1).isin(COMMON_SURNAMES).to_numpy(dtype=bool, na_value=False)
    compound = t.str.slice(0, 2).isin(COMPOUND_SURNAMES).to_numpy(dtype=bool, na_value=False)
    long_enough = t.str.len().to_numpy(dtype=np.int64, na_value=0) >= 3
    return shape & (single | (compound & long_enough))


def _is_address(t: pd.Series) -> np.ndarray:
    hits = np.zeros(len(t), dtype=np.int64)
    street = np.zeros(len(t), dtype=bool)
    for m in ADDRESS_MARKERS:
        has = t.str.contains(m, regex=False).to_numpy(dtype=bool, na_value=False)
        hits += has
        if m in "路街号":
            street |= has
    long_enough = t.str.len().to_numpy(dtype=np.int64, na_value=0) >= 6
    return (hits >= 2) & street & long_enough


def detect_pii(values: pd.Series) -> pd.DataFrame:
    """Per value, which PII types it holds (bool columns :data:`PII_TYPES`), vectorized.

    Phones, masked phones, emails and ID numbers are found anywhere in the text; names (2-4 CJK
    characters starting with a common surname) and addresses (two of 省 市 区 县 路 街 号, one of
    them 路/街/号) describe the whole value.
    """
    t = _as_str_series(values).str.strip()
    squeezed = t.str.replace(r"[\s\-.()（）]", "", regex=True)
    id_cand = t.str.extract(r"(?:^|\D)(\d{17}[\dXx])(?:\D|$)", expand=False)
    return pd.DataFrame(
        {
            "phone": squeezed.str.contains(_PHONE_RE, regex=True).to_numpy(bool, na_value=False),
            "masked_phone": squeezed.str.contains(_MASKED_PHONE_RE, regex=True).to_numpy(
                bool, na_value=False
            ),
            "email": t.str.contains(_EMAIL_RE, regex=True).to_numpy(bool, na_value=False),
            "name": _is_name(t),
            "id_card": _id_check_ok(_as_str_series(id_cand)),
            "address": _is_address(t),
        },
        index=t.index,
    )


def _scannable(s: pd.Series) -> pd.Series | None:
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
        return None
    if pd.api.types.is_float_dtype(s.dtype):
        return as_string(s)
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_object_dtype(s.dtype):
        return s.astype(_STRING)
    if isinstance(s.dtype, pd.StringDtype | pd.CategoricalDtype):
        return _as_str_series(s)
    return None


def scan_pii(
    df: pd.DataFrame, sample: int = 10_000, min_share: float = 0.0, seed: int = 0
) -> pd.DataFrame:
    """Flag columns that hold personal data.

    Parameters
    ----------
    df : DataFrame
    sample : int, default 10000
        Non-null values examined per column (a fixed-seed random sample when there are more).
    min_share : float, default 0.0
        Report a (column, type) when its share of matching values is above this.
    seed : int, default 0

    Returns
    -------
    DataFrame
        ``column, pii_type, share``: one row per column and PII type found (share of the sampled
        non-null values that match), in column order. Types: raw CN mobile phones in any format
        (``phone``), ``masked_phone``, ``email``, Chinese ``name``, PRC ``id_card`` numbers (valid
        check digit) and ``address``.
    """
    if sample < 1:
        raise ValueError(f"sample must be at least 1, got {sample}")
    rows = []
    for col in df.columns:
        s = _scannable(df[col])
        if s is None:
            continue
        s = s.dropna()
        if len(s) == 0:
            continue
        if len(s) > sample:
            s = s.sample(n=sample, random_state=seed)
        flags = detect_pii(s)
        for pii_type in PII_TYPES:
            share = float(flags[pii_type].mean())
            if share > min_share:
                rows.append((str(col), pii_type, share))
    return pd.DataFrame(rows, columns=["column", "pii_type", "share"])


def _halfwidth_text(text: str) -> str:
    return text.translate({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20})


def find_raw_pii_in_text(text: str, needles: Iterable[Any]) -> list[str]:
    """Which of the given raw values appear in a text (a report, a log).

    Parameters
    ----------
    text : str
        HTML entities are decoded and full-width characters folded first.
    needles : iterable
        Raw values to look for. Phone-like values (7+ digits) are found in any format: with or
        without ``+86``, with spaces, dashes or dots between digits. Emails are matched
        case-insensitively; other values (names, ids) as exact substrings, also with whitespace
        removed from the text.

    Returns
    -------
    list of str
        The needles found, in the order given (each once).
    """
    plain = _halfwidth_text(html.unescape(text))
    lower = plain.lower()
    no_space = re.sub(r"\s+", "", plain)
    digits = re.sub(r"(?<=\d)[\s\-.\u00a0()]+(?=\d)", "", plain)
    found: list[str] = []
    for needle in dict.fromkeys(str(n) for n in needles if n is not None and str(n).strip()):
        n = _halfwidth_text(needle).strip()
        nd = re.sub(r"\D", "", n)
        is_phone = len(nd) >= 7 and re.fullmatch(r"[\d\s\-.+()]+", n) is not None
        if is_phone:
            nat = nd[-11:] if re.fullmatch(r"(?:0086|86)?1[3-9]\d{9}", nd) else nd
            hit = nat in digits
        elif "@" in n:
            hit = n.lower() in lower
        else:
            hit = n in plain or re.sub(r"\s+", "", n) in no_space
        if hit:
            found.append(needle)
    return found
