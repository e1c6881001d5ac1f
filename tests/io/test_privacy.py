"""omni.privacy: masking, keyed pseudonyms (HMAC-SHA256), suppression, PII scan and text check."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd
import pytest

from omni.privacy import (
    KEY_ENV,
    PseudonymKeyError,
    find_raw_pii_in_text,
    is_valid_id_card,
    mask_address,
    mask_by_type,
    mask_email,
    mask_frame,
    mask_id,
    mask_name,
    mask_phone,
    pseudonymize,
    scan_pii,
    suppress_small,
)

# ------------------------------------------------------------------------------------ masking


@pytest.mark.parametrize(
    "raw",
    [
        "+8613800138000",
        "13800138000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "8613800138000",
        "138****8000",
    ],
)
def test_mask_phone(raw: str) -> None:
    assert mask_phone(raw) == "138****8000"


def test_mask_phone_series_and_edge_cases() -> None:
    s = pd.Series(["+8613800138000", None, "123", "+447911123456"], index=[5, 6, 7, 8])
    out = mask_phone(s)
    assert out.index.tolist() == [5, 6, 7, 8]
    assert out.iloc[0] == "138****8000" and pd.isna(out.iloc[1]) and out.iloc[2] == "****"
    assert out.iloc[3] == "447****3456"
    assert mask_phone(None) is None and mask_phone(np.nan) is None
    assert mask_phone(13800138000) == "138****8000"


def test_mask_email_name_id_address() -> None:
    assert mask_email("alice@example.com") == "a***@example.com"
    assert mask_email(" Bob.Smith@QQ.com ") == "B***@QQ.com"
    assert mask_email("not-an-email") == "no…il"
    both = mask_email(pd.Series(["a@x.cn", None]))
    assert both.iloc[0] == "a***@x.cn" and pd.isna(both.iloc[1])
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name(" 李 小 龙 ") == "李**"
    assert mask_name("张") == "张"
    assert mask_id("M000123442") == "M0…42"
    assert mask_id("oUnion0001abcd") == "oU…cd"
    assert mask_id("abc") == "…"
    assert mask_address("上海市浦东新区张江路100号") == "上海市浦东新区***"
    assert mask_address("广东省深圳市南山区科技园路1号") == "广东省深圳市南山区***"
    assert mask_address("张江路100号") == "***"
    assert mask_by_type("13800138000", "phone") == "138****8000"
    with pytest.raises(ValueError, match="unknown pii type"):
        mask_by_type("x", "ssn")


def test_mask_frame() -> None:
    df = pd.DataFrame(
        {"phone": ["13800138000"], "alt": ["+86 139 0013 9000"], "name": ["王小明"], "n": [3]}
    )
    out = mask_frame(df, {"phone": ["phone", "alt"], "name": "name"})
    assert out.iloc[0].tolist() == ["138****8000", "139****9000", "王**", 3]
    assert df["phone"].iloc[0] == "13800138000"  # the input is not modified
    with pytest.raises(ValueError, match="'missing'"):
        mask_frame(df, {"phone": "missing"})
    with pytest.raises(ValueError, match="unknown pii type"):
        mask_frame(df, {"ssn": "phone"})


# --------------------------------------------------------------------------------- pseudonyms

# RFC 4231, test cases 1 and 2 (HMAC-SHA-256).
RFC4231_1 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
RFC4231_2 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


@pytest.mark.filterwarnings("ignore:pseudonymization key is only")
def test_hmac_sha256_known_vectors() -> None:
    assert pseudonymize("Hi There", b"\x0b" * 20, length=None) == RFC4231_1
    assert pseudonymize("Hi There", "0b" * 20, length=None) == RFC4231_1  # hex key text
    assert pseudonymize("what do ya want for nothing?", "Jefe", length=None) == RFC4231_2
    assert pseudonymize("what do ya want for nothing?", "Jefe") == RFC4231_2[:16]


def test_pseudonymize_uses_env_key_and_series(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "11" * 32
    monkeypatch.setenv(KEY_ENV, key)
    s = pd.Series(["+8613800138000", None, "+8613800138000", "+8613900139000"], index=list("abcd"))
    out = pseudonymize(s)
    expected = hmac.new(bytes.fromhex(key), b"+8613800138000", hashlib.sha256).hexdigest()[:16]
    assert out.index.tolist() == list("abcd")
    assert out["a"] == out["c"] == expected and pd.isna(out["b"]) and out["d"] != expected
    assert out.str.len().dropna().eq(16).all()
    assert len(pseudonymize("x", length=None)) == 64
    assert pseudonymize(["x", "y"]).tolist() == [pseudonymize("x"), pseudonymize("y")]
    # A different key gives unrelated pseudonyms.
    assert pseudonymize("+8613800138000", "22" * 32) != expected
    with pytest.raises(ValueError, match="length"):
        pseudonymize("x", length=0)


def test_pseudonymize_without_key_explains_how_to_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(PseudonymKeyError) as e:
        pseudonymize("x")
    msg = str(e.value)
    assert f"export {KEY_ENV}=" in msg and "secrets.token_hex(32)" in msg
    with pytest.warns(RuntimeWarning, match="random per-process key"):
        a = pseudonymize("x", allow_ephemeral=True)
    with pytest.warns(RuntimeWarning):
        assert pseudonymize("x", allow_ephemeral=True) == a  # stable within the process


# -------------------------------------------------------------------------------- suppression


def test_suppress_small() -> None:
    df = pd.DataFrame(
        {
            "segment": ["A", "B", "C"],
            "n": [3, 10, 250],
            "revenue": [90.0, 300.0, 5e3],
            "tgi": [1, 2, 3],
        }
    )
    out = suppress_small(df, "n", k=10)
    assert len(out) == 3 and out["segment"].tolist() == ["A", "B", "C"]  # rows kept, labels kept
    assert out["suppressed"].tolist() == [True, False, False]
    assert (
        pd.isna(out.loc[0, "n"]) and pd.isna(out.loc[0, "revenue"]) and pd.isna(out.loc[0, "tgi"])
    )
    assert out.loc[1, "n"] == 10 and out.loc[2, "revenue"] == 5e3
    assert out["n"].dtype == "Int64"
    only = suppress_small(df, "n", k=11, cols=["n"])
    assert only["suppressed"].tolist() == [True, True, False] and only.loc[0, "revenue"] == 90.0
    assert df.loc[0, "n"] == 3  # input untouched
    with pytest.raises(ValueError, match="'count'"):
        suppress_small(df, "count")
    with pytest.raises(ValueError, match="k must be"):
        suppress_small(df, "n", k=0)
    with pytest.raises(ValueError, match="numeric"):
        suppress_small(df, "segment")


# ---------------------------------------------------------------------------------- scanning


@pytest.mark.parametrize(
    "number, ok",
    [
        ("11010519491231002X", True),  # GB 11643-1999 examples
        ("11010519491231002x", True),
        ("440524188001010014", True),
        ("110105194912310021", False),  # wrong check character
        ("440524188001010015", False),
        ("11010519491331002X", False),  # month 13
        ("1101051949123100", False),  # too short
        ("", False),
    ],
)
def test_id_card_check_digit(number: str, ok: bool) -> None:
    assert is_valid_id_card(number) is ok


def test_id_card_vectorized_matches_reference() -> None:
    rng = np.random.default_rng(3)
    bodies = [
        f"110105{1950 + i % 50}{1 + i % 12:02d}{1 + i % 28:02d}{rng.integers(0, 999):03d}"
        for i in range(200)
    ]

    def check(body: str) -> str:  # ISO 7064 MOD 11-2, straight from the standard
        w = [2 ** (17 - i) % 11 for i in range(17)]
        return "10X98765432"[sum(int(d) * wi for d, wi in zip(body, w, strict=True)) % 11]

    good = [b + check(b) for b in bodies]
    bad = [b + ("0" if check(b) != "0" else "1") for b in bodies]
    assert is_valid_id_card(pd.Series(good)).all()
    assert not is_valid_id_card(pd.Series(bad)).any()


def test_scan_pii_on_mixed_frame() -> None:
    n = 20
    df = pd.DataFrame(
        {
            "phone": ["+86 138 0013 8000", "138-0013-8001", "13800138002"] * 6 + [None, "x"],
            "masked": ["138****5678"] * n,
            "email": ["a@example.com", "b.c@qq.com"] * 10,
            "name": ["张伟", "欧阳娜娜", "李娜", "王小明"] * 5,
            "id_card": ["11010519491231002X", "440524188001010014"] * 10,
            "address": ["上海市浦东新区张江路100号"] * n,
            "note": ["客户电话13800138000请回电"] + ["ok"] * (n - 1),
            "phone_float": [13800138000.0] * n,
            "city": ["上海市"] * n,
            "category": ["美妆", "服饰"] * 10,
            "amount": np.arange(n, dtype=float),
            "order_time": pd.date_range("2026-10-01", periods=n),
        }
    )
    got = {(r.column, r.pii_type): r.share for r in scan_pii(df).itertuples()}
    assert got[("phone", "phone")] == pytest.approx(18 / 19)
    assert got[("masked", "masked_phone")] == 1.0
    assert got[("email", "email")] == 1.0
    assert got[("name", "name")] == 1.0
    assert got[("id_card", "id_card")] == 1.0
    assert got[("address", "address")] == 1.0
    assert got[("note", "phone")] == pytest.approx(1 / n)
    assert got[("phone_float", "phone")] == 1.0
    flagged = {c for c, _ in got}
    assert not flagged & {"city", "category", "amount", "order_time"}
    assert ("masked", "phone") not in got  # a masked phone is not a raw phone
    assert ("id_card", "phone") not in got  # 18-digit ids do not contain a phone match
    assert list(scan_pii(df, min_share=0.5)["column"]).count("note") == 0


def test_scan_pii_samples_deterministically() -> None:
    df = pd.DataFrame({"p": ["13800138000", "x"] * 20_000})
    a, b = scan_pii(df, sample=1000), scan_pii(df, sample=1000)
    assert a.equals(b) and 0.4 < a["share"].iloc[0] < 0.6


def test_find_raw_pii_in_text() -> None:
    html = (
        "<td>138 0013 8000</td><td>+86-139-0013-9000</td><td>ALICE@Example.com</td>"
        "<td>&#24352;&#19977;</td><td>138****5678</td><td>李 四</td>"
    )
    needles = [
        "13800138000",
        "+8613900139000",
        "alice@example.com",
        "张三",
        "李四",
        "13800138999",
        "bob@example.com",
        "王五",
        "13812345678",
    ]
    assert find_raw_pii_in_text(html, needles) == [
        "13800138000",
        "+8613900139000",
        "alice@example.com",
        "张三",
        "李四",
    ]
    # Masked values do not count as the raw phone.
    assert find_raw_pii_in_text("138****5678", ["13800005678"]) == []
