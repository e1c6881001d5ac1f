"""Platform normalization and hashing against the platforms' published examples and independent hashes."""

from __future__ import annotations

import hashlib
import warnings

import pandas as pd
import pytest

from omni.audience import device_kind, platform_hash, platform_values
from omni.audience.hashing import (
    google_email,
    google_phone,
    md5_hex,
    meta_phone,
    sha256_hex,
    tencent_idfa,
    tencent_imei,
    tencent_phone,
)
from omni.privacy import pseudonymize


def _md5(s: str) -> str:
    return hashlib.md5(s.encode("utf-8")).hexdigest()


def _sha256(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


# Tencent Marketing API, customer file audiences (developers.e.qq.com/docs/audience_management/file)
# and DataNexus device ids (datanexus.qq.com/doc/develop/guider/interface/user_id): published examples
def test_tencent_published_device_examples():
    assert platform_hash("tencent", "HASH_IDFA", "FF1999CD-7177-4937-A474-74937A102630") == \
        "2c010ed96aef2fc34983e1e7e9176b7e"
    # omni stores device ids lower-cased: the IDFA is upper-cased again before hashing
    assert platform_hash("tencent", "HASH_IDFA", "ff1999cd-7177-4937-a474-74937a102630") == \
        "2c010ed96aef2fc34983e1e7e9176b7e"
    assert platform_hash("tencent", "HASH_IMEI", "a000002c9060f7") == "f2d5a650733ca8c27d502b1c08da14e5"
    assert platform_hash("tencent", "HASH_IMEI", "A000002C9060F7") == "f2d5a650733ca8c27d502b1c08da14e5"
    assert platform_hash("tencent", "HASH_OAID", "1fe9a970-efbb-29e0-0bdd-f5dbbf751ab5") == \
        "83e9158a4fb54c0e1ef0b238639a23ae"


def test_tencent_phone_is_md5_of_the_11_digit_mobile():
    expected = "7945bd83237335e5376ff44d62e4f0ae"  # md5("13800138000"), e.g. `printf 13800138000 | md5sum`
    assert _md5("13800138000") == expected
    for v in ["+8613800138000", "+86 138-0013-8000", "008613800138000", "13800138000"]:
        assert platform_hash("tencent", "HASH_MOBILE_PHONE", v) == expected, v
    assert tencent_phone(["+16505551212", "+862161234567", None]).isna().all()  # foreign, landline


def test_tencent_device_formats():
    assert tencent_idfa("ff1999cd71774937a47474937a102630") == "FF1999CD-7177-4937-A474-74937A102630"
    assert tencent_idfa("00000000-0000-0000-0000-000000000000") is None  # limit ad tracking
    assert tencent_imei("86091103123456") == "86091103123456"
    assert tencent_imei("12345") is None


# Google Data Manager API "Format user data": lower case, whitespace removed, gmail/googlemail dots
# before @ removed; phones E.164 with + and country code
def test_google_email_and_phone():
    assert google_email("  Jane.Doe@Gmail.com ") == "janedoe@gmail.com"
    assert google_email("j.a.n.e@googlemail.com") == "jane@googlemail.com"
    assert google_email("jane.doe@example.com") == "jane.doe@example.com"   # dots kept elsewhere
    assert google_email("jane+ads@gmail.com") == "jane+ads@gmail.com"       # no published +tag rule
    assert google_email("not-an-email") is None
    # TikTok's published normalized/hashed example of the same address form
    assert platform_hash("google", "Email", "Jane.Doe@gmail.com") == \
        "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69"
    assert platform_hash("google", "Phone", "+8613800138000") == _sha256("+8613800138000")
    assert google_phone("+1 (650) 555-1212") == "+16505551212"
    assert google_phone("13800138000") is None   # no country code


# Meta Marketing API, customer information parameters: published normalized inputs and SHA-256
def test_meta_published_examples():
    assert platform_hash("meta", "email", " John_Smith@gmail.com ") == \
        "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
    assert platform_hash("meta", "phone", "+1 (650) 555-1212") == \
        "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
    assert meta_phone("+8613800138000") == "8613800138000"
    assert platform_hash("meta", "phone", "+8613800138000") == _sha256("8613800138000")
    assert meta_phone("013800138000") is None  # no country code marker
    # Meta keeps gmail dots (its published rule is trim + lower case only)
    assert platform_hash("meta", "email", "Jane.Doe@gmail.com") == _sha256("jane.doe@gmail.com")


def test_digests_vectorized_with_nulls_and_repeats():
    s = pd.Series(["abc", None, "abc", ""], dtype="string")
    assert md5_hex(s).tolist()[:3] == [_md5("abc"), pd.NA, _md5("abc")]
    assert md5_hex(s).iloc[3] == _md5("")
    assert sha256_hex(["abc"]).tolist() == ["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"]
    assert md5_hex(None) is None
    with pytest.raises(ValueError, match="unknown platform"):
        platform_hash("tiktok", "Email", "a@b.cn")
    with pytest.raises(ValueError, match="has no field 'EMAIL'"):
        platform_hash("google", "EMAIL", "a@b.cn")


# RFC 4231 HMAC-SHA256 test vectors through the pseudonymization used for oneid exports
@pytest.mark.parametrize("key, data, expected", [
    (b"\x0b" * 20, "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (b"\xaa" * 131, "Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
])
def test_pseudonyms_are_rfc4231_hmac_sha256(key, data, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pseudonymize(data, key=key, length=None) == expected
        assert pseudonymize(data, key=key) == expected[:16]  # the default length of oneid exports


def test_device_kind_from_value_and_raw_case():
    vals = pd.Series(["ff1999cd-7177-4937-a474-74937a102630"] * 3
                     + ["1fe9a970-efbb-29e0-0bdd-f5dbbf751ab5"] * 2 + ["860911031234567", "abc"])
    raw = pd.Series(["FF1999CD-7177-4937-A474-74937A102630", "FF1999CD-7177-4937-A474-74937A102630",
                     "ff1999cd-7177-4937-a474-74937a102630",  # one mis-cased copy: the majority wins
                     "1fe9a970-efbb-29e0-0bdd-f5dbbf751ab5", "1FE9A970-EFBB-29E0-0BDD-F5DBBF751AB5",  # tie
                     "860911031234567", "abc"])
    assert device_kind(vals, raw).tolist() == ["idfa"] * 3 + ["oaid"] * 2 + ["imei", "other"]
    assert device_kind(vals).tolist()[:3] == ["oaid"] * 3  # without raw values a UUID is an OAID


def test_platform_values_keeps_usable_values_once():
    contacts = pd.DataFrame({
        "oneid": ["O1", "O1", "O1", "O2", "O2"],
        "id_type": ["email", "email", "phone", "phone", "device_id"],
        "value": ["jane.doe@gmail.com", "janedoe@gmail.com", "+8613800138000", "+16505551212",
                  "ff1999cd-7177-4937-a474-74937a102630"],
        "device_kind": [None, None, None, None, "idfa"],
        "n_records": [2, 1, 3, 1, 4],
    })
    g = platform_values(contacts, "google")
    assert sorted(g.loc[g["field"] == "Email", "value"]) == ["janedoe@gmail.com"]   # two spellings, one value
    assert int(g.loc[g["field"] == "Email", "n_records"].iloc[0]) == 3
    t = platform_values(contacts, "tencent")
    assert sorted(zip(t["oneid"], t["field"], strict=True)) == [("O1", "HASH_MOBILE_PHONE"), ("O2", "HASH_IDFA")]
    m = platform_values(contacts, "meta")
    assert sorted(m.loc[m["field"] == "email", "value"]) == ["jane.doe@gmail.com", "janedoe@gmail.com"]
