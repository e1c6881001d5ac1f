"""Each ad platform's own normalization and hashing of phones, emails and device ids.

The inputs are omni's canonical identifiers (see ``docs/data_contract.md``): phones in E.164
(``+8613800138000``), emails trimmed and lower-cased, device ids trimmed and lower-cased. Every
normalizer below re-applies its platform's rules (so it also accepts near-canonical input) and
returns null where the value is not usable on that platform (e.g. a foreign phone for Tencent's
11-digit mobile list). Hashes are lower-case hex, computed with DuckDB's vectorized ``md5`` /
``sha256`` once per distinct value.

Rules and sources (checked against the platforms' published examples in the tests):

=========  ====================  ==========================================================  ======
platform   field                 normalization before hashing                                hash
=========  ====================  ==========================================================  ======
tencent    HASH_MOBILE_PHONE     11-digit mainland mobile, no ``+86``                        MD5
tencent    HASH_IMEI             IMEI / MEID, 14-15 characters, lower case                   MD5
tencent    HASH_IDFA             IDFA, upper case, 8-4-4-4-12 with hyphens                   MD5
tencent    HASH_OAID             OAID as the device reports it (original value)              MD5
google     Email                 lower case, all whitespace removed; for gmail.com and       SHA-256
                                 googlemail.com all dots before ``@`` removed
google     Phone                 E.164 with ``+`` and country code                           SHA-256
meta       email                 trimmed, lower case                                         SHA-256
meta       phone                 digits only with country code, no ``+``, no leading zeros   SHA-256
=========  ====================  ==========================================================  ======

Sources: Tencent Marketing API, customer file audiences (developers.e.qq.com/docs/audience_management/file)
and DataNexus device-id encryption (datanexus.qq.com/doc/develop/guider/interface/user_id); Google
Data Manager API "Format user data" (developers.google.com/data-manager/api/get-started/formatting)
and Google Ads Help 7659867 (Customer Match file headers); Meta Marketing API customer information
parameters (developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters)
and Meta Business Help 2082575038703844 (customer list headers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from omni.privacy import _STRING, _vectorized

__all__ = [
    "AD_PLATFORMS",
    "PLATFORM_FIELDS",
    "PLATFORMS",
    "PlatformField",
    "google_email",
    "google_phone",
    "md5_hex",
    "meta_email",
    "meta_phone",
    "platform_hash",
    "sha256_hex",
    "tencent_idfa",
    "tencent_imei",
    "tencent_oaid",
    "tencent_phone",
]

# one string-Series adapter for the package: list-likes in, Series out; a scalar in, a scalar out
_apply = _vectorized


def _digest(s: pd.Series, algo: str) -> pd.Series:
    import duckdb
    import pyarrow as pa

    codes, uniques = pd.factorize(s)
    out = np.empty(len(s), dtype=object)
    out[:] = None
    if len(uniques):
        tbl = pa.table({"v": pa.array(np.asarray(uniques, dtype=object), type=pa.string())})
        con = duckdb.connect()
        try:
            con.register("vals", tbl)
            hashed = con.sql(f"SELECT {algo}(v) AS h FROM vals").to_arrow_table()["h"]
        finally:
            con.close()
        h = np.asarray(hashed.to_numpy(zero_copy_only=False), dtype=object)
        ok = codes >= 0
        out[ok] = h[codes[ok]]
    return pd.Series(out, index=s.index, dtype=_STRING)


def md5_hex(values: Any) -> Any:
    """Lower-case hex MD5 of each value's UTF-8 bytes (nulls stay null).

    Examples
    --------
    >>> md5_hex("a000002c9060f7")  # Tencent's published HASH_IMEI example
    'f2d5a650733ca8c27d502b1c08da14e5'
    """
    return _apply(lambda s: _digest(s, "md5"), values)


def sha256_hex(values: Any) -> Any:
    """Lower-case hex SHA-256 of each value's UTF-8 bytes (nulls stay null)."""
    return _apply(lambda s: _digest(s, "sha256"), values)


# ------------------------------------------------------------------------------- normalizers

_UUID_RE = r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}"


def _tencent_phone(s: pd.Series) -> pd.Series:
    d = s.str.replace(r"[\s\-()]", "", regex=True)
    national = d.str.extract(r"^(?:\+86|0086|86)?(1[3-9]\d{9})$", expand=False)
    return national.astype(_STRING)


def tencent_phone(values: Any) -> Any:
    """Tencent HASH_MOBILE_PHONE input: the 11-digit mainland mobile (``+8613800138000`` ->
    ``13800138000``); other numbers (foreign, landlines) are not usable (null)."""
    return _apply(_tencent_phone, values)


def _tencent_imei(s: pd.Series) -> pd.Series:
    t = s.str.strip().str.lower()
    return t.where(t.str.fullmatch(r"[0-9a-z]{14,15}").fillna(False) & ~t.str.fullmatch(r"0+").fillna(False))


def tencent_imei(values: Any) -> Any:
    """Tencent HASH_IMEI input: IMEI or MEID of 14-15 digits/letters, lower case."""
    return _apply(_tencent_imei, values)


def _tencent_idfa(s: pd.Series) -> pd.Series:
    t = s.str.strip().str.upper()
    plain = t.str.fullmatch(r"[0-9A-F]{32}").fillna(False)
    hyph = (t.str.slice(0, 8) + "-" + t.str.slice(8, 12) + "-" + t.str.slice(12, 16) + "-"
            + t.str.slice(16, 20) + "-" + t.str.slice(20, 32))
    t = t.where(~plain, hyph)
    ok = t.str.fullmatch(_UUID_RE).fillna(False) & ~t.str.fullmatch(r"[0\-]+").fillna(False)
    return t.where(ok)


def tencent_idfa(values: Any) -> Any:
    """Tencent HASH_IDFA input: the IDFA in upper case, 8-4-4-4-12 with hyphens (32 hex digits
    without hyphens are reformatted); the all-zero IDFA (limit ad tracking) is not usable."""
    return _apply(_tencent_idfa, values)


def _tencent_oaid(s: pd.Series) -> pd.Series:
    t = s.str.strip()
    ok = t.str.fullmatch(r"[0-9A-Za-z\-]{16,64}").fillna(False) & ~t.str.fullmatch(r"[0\-]+").fillna(False)
    return t.where(ok)


def tencent_oaid(values: Any) -> Any:
    """Tencent HASH_OAID input: the OAID as reported by the device (original value, 16-64
    characters); all-zero OAIDs (the user turned ad tracking off) are not usable."""
    return _apply(_tencent_oaid, values)


def _google_email(s: pd.Series) -> pd.Series:
    t = s.str.replace(r"\s+", "", regex=True).str.lower()
    parts = t.str.extract(r"^([^@]+)@([^@]+\.[^@]+)$")
    local, domain = parts[0].astype(_STRING), parts[1].astype(_STRING)
    gmail = domain.isin(["gmail.com", "googlemail.com"]).fillna(False)
    local = local.where(~gmail, local.str.replace(".", "", regex=False))
    return (local + "@" + domain).astype(_STRING)


def google_email(values: Any) -> Any:
    """Google Customer Match email: all whitespace removed, lower case, and for ``gmail.com`` /
    ``googlemail.com`` every dot before ``@`` removed (``Jane.Doe@Gmail.com`` ->
    ``janedoe@gmail.com``). ``+tags`` are kept: Google publishes no rule to drop them."""
    return _apply(_google_email, values)


def _google_phone(s: pd.Series) -> pd.Series:
    t = s.str.replace(r"[\s\-().]", "", regex=True)
    return t.where(t.str.fullmatch(r"\+[1-9]\d{6,14}").fillna(False))


def google_phone(values: Any) -> Any:
    """Google Customer Match phone: E.164 (``+`` country code and digits only); numbers without a
    ``+`` and country code are not usable (null) since the country cannot be guessed here."""
    return _apply(_google_phone, values)


def _meta_email(s: pd.Series) -> pd.Series:
    t = s.str.strip().str.lower()
    return t.where(t.str.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+").fillna(False))


def meta_email(values: Any) -> Any:
    """Meta email: leading/trailing spaces trimmed, lower case."""
    return _apply(_meta_email, values)


def _meta_phone(s: pd.Series) -> pd.Series:
    has_cc = s.str.strip().str.match(r"^(?:\+|00)").fillna(False)
    d = s.str.replace(r"\D", "", regex=True).str.replace(r"^0+", "", regex=True)
    return d.where(has_cc & d.str.fullmatch(r"[1-9]\d{6,14}").fillna(False))


def meta_phone(values: Any) -> Any:
    """Meta phone: symbols, letters and leading zeros removed, country code kept
    (``+86 138 0013 8000`` -> ``8613800138000``). Input must carry its country code (``+`` or
    ``00`` prefix, as omni's E.164 phones do); otherwise it is not usable (null)."""
    return _apply(_meta_phone, values)


# ---------------------------------------------------------------------------- platform table


@dataclass(frozen=True)
class PlatformField:
    """One column (or file) of a platform's upload.

    Attributes
    ----------
    platform : str
    field : str
        Header (Google, Meta) or user id type (Tencent, one file per type).
    id_type : str
        omni identifier type it is built from (``phone``, ``email``, ``device_id``).
    device_kind : str or None
        For device ids: ``imei``, ``idfa`` or ``oaid``.
    normalize : callable
        Canonical value -> platform input (null when not usable).
    algo : str
        ``md5`` or ``sha256``.
    rule : str
        The rule in words (docs, logs).
    """

    platform: str
    field: str
    id_type: str
    device_kind: str | None
    normalize: Callable[[Any], Any]
    algo: str
    rule: str


PLATFORM_FIELDS: dict[str, tuple[PlatformField, ...]] = {
    "tencent": (
        PlatformField("tencent", "HASH_MOBILE_PHONE", "phone", None, tencent_phone, "md5",
                      "MD5 of the 11-digit mainland mobile without +86"),
        PlatformField("tencent", "HASH_IMEI", "device_id", "imei", tencent_imei, "md5",
                      "MD5 of the lower-case IMEI"),
        PlatformField("tencent", "HASH_IDFA", "device_id", "idfa", tencent_idfa, "md5",
                      "MD5 of the upper-case IDFA with hyphens"),
        PlatformField("tencent", "HASH_OAID", "device_id", "oaid", tencent_oaid, "md5",
                      "MD5 of the original OAID"),
    ),
    "google": (
        PlatformField("google", "Email", "email", None, google_email, "sha256",
                      "SHA-256 of the lower-case email, whitespace removed, gmail dots removed"),
        PlatformField("google", "Phone", "phone", None, google_phone, "sha256",
                      "SHA-256 of the E.164 phone (+8613800138000)"),
    ),
    "meta": (
        PlatformField("meta", "email", "email", None, meta_email, "sha256",
                      "SHA-256 of the trimmed lower-case email"),
        PlatformField("meta", "phone", "phone", None, meta_phone, "sha256",
                      "SHA-256 of the digits with country code (8613800138000)"),
    ),
}
#: Platforms with identifier uploads; ``oneid`` (keyed pseudonyms for in-house tools) is the other.
AD_PLATFORMS: tuple[str, ...] = tuple(PLATFORM_FIELDS)
PLATFORMS: tuple[str, ...] = (*AD_PLATFORMS, "oneid")


def platform_hash(platform: str, field: str, values: Any) -> Any:
    """Normalize and hash values for one platform field (e.g. ``("google", "Email")``).

    Values that are not usable on the platform come out null.
    """
    if platform not in PLATFORM_FIELDS:
        raise ValueError(f"unknown platform {platform!r}; known: {list(AD_PLATFORMS)}")
    spec = {f.field: f for f in PLATFORM_FIELDS[platform]}
    if field not in spec:
        raise ValueError(f"platform {platform!r} has no field {field!r}; it has {list(spec)}")
    f = spec[field]
    normalized = f.normalize(values)
    return md5_hex(normalized) if f.algo == "md5" else sha256_hex(normalized)
