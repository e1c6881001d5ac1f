"""omni.normalize: identifier normalization, junk blocking, identifier and quasi tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from fixtures_io import write_dataset

from omni.io import Dataset, load_dataset
from omni.normalize import (
    BLOCKED_PHONES,
    IDENTIFIER_COLUMNS,
    NULL_LIKE,
    REASONS,
    NormalizeConfig,
    concat_link_tables,
    identifier_table,
    link_table,
    normalize,
    normalize_address,
    normalize_cookie_id,
    normalize_device_id,
    normalize_email,
    normalize_masked_phone,
    normalize_member_id,
    normalize_name,
    normalize_openid,
    normalize_phone,
    normalize_platform_buyer,
    normalize_unionid,
    quasi_table,
)

E164 = "+8613805716294"
PHONE_VARIANTS = [
    "13805716294",
    "+8613805716294",
    "+86 138 0571 6294",
    "0086-13805716294",
    "0086 138 0571 6294",
    "138-0571-6294",
    "138 0571 6294",
    "138.0571.6294",
    "86 13805716294",
    "8613805716294",
    "(+86)13805716294",
    "（+86）13805716294",
    "+86-138-0571-6294",
    "１３８０５７１６２９４",
    "＋８６　１３８　０５７１　６２９４",
    "13805716294.0",
    "  13805716294  ",
    "138—0571—6294",
    "tel:13805716294",
]


def _one(fn, value, *args):
    r = fn(pd.Series([value]), *args)
    return r["value"].iloc[0], bool(r["valid"].iloc[0]), r["reason"].iloc[0]


@pytest.mark.parametrize("raw", PHONE_VARIANTS)
def test_every_cn_mobile_variant_normalizes_to_the_same_e164(raw: str) -> None:
    value, valid, reason = _one(normalize_phone, raw)
    assert (value, valid) == (E164, True) and pd.isna(reason)


def test_all_variants_at_once_and_float_input() -> None:
    r = normalize_phone(pd.Series(PHONE_VARIANTS))
    assert (r["value"] == E164).all() and r["valid"].all()
    f = normalize_phone(pd.Series([13805716294.0, np.nan]))
    assert f["value"].iloc[0] == E164 and f["reason"].iloc[1] == "null_like"


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("", "null_like"),
        (None, "null_like"),
        ("null", "null_like"),
        ("NULL", "null_like"),
        ("None", "null_like"),
        ("nan", "null_like"),
        ("N/A", "null_like"),
        ("-", "null_like"),
        ("0", "null_like"),
        ("未知", "null_like"),
        ("无", "null_like"),
        ("138****5678", "masked"),
        ("138 **** 5678", "masked"),
        ("+86 138****5678", "masked"),
        ("138xxxx5678", "masked"),
        ("13800000000", "blocked_default_phone"),
        ("13888888888", "blocked_default_phone"),
        ("18888888888", "blocked_default_phone"),
        ("13000000000", "blocked_default_phone"),
        ("11111111111", "blocked_default_phone"),
        ("+86 139 9999 9999", "blocked_default_phone"),
        ("13577777777", "blocked_default_phone"),  # last 8 digits one repeated digit
        ("99999999", "blocked_default_phone"),  # any all-same-digit number
        ("13800138000", "blocked_default_phone"),  # the best-known example number
        ("１３８００１３８０００", "blocked_default_phone"),  # full-width
        ("13700137000", "blocked_default_phone"),  # 1ab 00 1ab 000
        ("13912345678", "blocked_default_phone"),  # listed
        ("15923456789", "sequential"),  # last 8 digits ascending
        ("18687654321", "sequential"),  # last 8 digits descending
        ("12345678901", "sequential"),
        ("98765432109", "sequential"),
        ("1380013800", "bad_format"),  # 10 digits
        ("138001380001", "bad_format"),  # 12 digits
        ("12800138000", "bad_format"),  # 12x is not a mobile prefix
        ("abc", "bad_format"),
        ("13800138000/13900139000", "bad_format"),  # two numbers: never guess one
        ("1.38001E+10", "bad_format"),  # Excel scientific notation lost digits
        ("+44 123", "bad_format"),
    ],
)
def test_junk_phones_are_blocked_with_the_right_reason(raw: str | None, reason: str) -> None:
    value, valid, got = _one(normalize_phone, raw)
    assert (pd.isna(value), valid, got) == (True, False, reason)


def test_masked_phone_never_becomes_a_phone() -> None:
    masked = ["138****5678", "138＊＊＊＊5678", "138xxxx5678", "86-138****5678", "138####5678"]
    r = normalize_phone(pd.Series(masked))
    assert not r["valid"].any() and r["value"].isna().all()
    assert set(r["reason"]) == {"masked"}


def test_other_countries_and_landlines_via_phonenumbers() -> None:
    r = normalize_phone(
        pd.Series(["+44 7911 123456", "0044 7911 123456", "+1 (212) 555-0100", "010-6552 9988"])
    )
    assert r["value"].tolist() == [
        "+447911123456",
        "+447911123456",
        "+12125550100",
        "+861065529988",
    ]
    gb = normalize_phone(pd.Series(["07911 123456", "+86 138 0571 6294"]), default_region="GB")
    assert gb["value"].tolist() == ["+447911123456", E164]


def test_phone_results_do_not_depend_on_repetition() -> None:
    # Normalizing distinct values once and mapping back must equal normalizing each value alone.
    rng = np.random.default_rng(7)
    pool = PHONE_VARIANTS + ["138****5678", "null", "13800000000", "abc", "+44 7911 123456"]
    values = pd.Series(
        rng.choice(np.array(pool, dtype=object), size=500), index=rng.permutation(500)
    )
    many = normalize_phone(values)
    assert many.index.equals(values.index)
    single = pd.concat([normalize_phone(pd.Series([v])) for v in pool], ignore_index=True)
    lookup = dict(
        zip(pool, single["value"].astype(object).where(single["valid"], None), strict=True)
    )
    expected = values.map(lookup)
    assert many["value"].astype(object).where(many["valid"], None).equals(expected)


def test_config_extends_block_lists_in_one_place() -> None:
    assert "13800000000" in BLOCKED_PHONES and "未知" in NULL_LIKE
    cfg = NormalizeConfig().extend(blocked_phones={"+86 139 2468 1357"}, null_like={"暂缺"})
    r = normalize_phone(pd.Series(["13924681357", "暂缺", "13924681358"]), config=cfg)
    assert r["reason"].tolist()[:2] == ["blocked_default_phone", "null_like"]
    assert r["value"].iloc[2] == "+8613924681358"
    assert normalize_phone(pd.Series(["13924681357"]))["valid"].iloc[0]  # default unchanged
    off = NormalizeConfig(repeated_tail_digits=0)
    assert normalize_phone(pd.Series(["13577777777"]), config=off)["valid"].iloc[0]
    with pytest.raises(ValueError, match="not a set"):
        NormalizeConfig().extend(default_region={"US"})


def test_email() -> None:
    raw = [
        " Alice@Example.COM ",
        "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ",
        "mailto:alice@example.com",
        "a***@qq.com",
        "123@qq.com",
        "bad@",
        "x@y",
        "two@@x.com",
        "n/a",
        "a b@x.com",
    ]
    r = normalize_email(pd.Series(raw))
    assert r["value"].tolist()[:3] == ["alice@example.com"] * 3
    assert r["reason"].tolist()[3:] == [
        "masked",
        "blocked_default_email",
        "bad_format",
        "bad_format",
        "bad_format",
        "null_like",
        "bad_format",
    ]


def test_device_and_cookie_ids() -> None:
    r = normalize_device_id(
        pd.Series(
            [
                " AEBE52E7-03EE-455A-B3C4-E57283966239 ",
                "00000000-0000-0000-0000-000000000000",
                "0000000000000000",
                "ffffffff-ffff-ffff-ffff-ffffffffffff",
                "unknown",
                "abc12",
                "NULL",
                "a1b2c3d4e5f60718",
            ]
        )
    )
    assert r["value"].iloc[0] == "aebe52e7-03ee-455a-b3c4-e57283966239"
    assert r["reason"].tolist()[1:7] == [
        "all_zero_device",
        "all_zero_device",
        "blocked_default_device",
        "null_like",
        "bad_format",
        "null_like",
    ]
    assert r["valid"].iloc[7]
    blocked = NormalizeConfig().extend(blocked_devices={"a1b2c3d4e5f60718"})
    assert normalize_device_id(pd.Series(["A1B2C3D4E5F60718"]), config=blocked)["reason"].iloc[
        0
    ] == ("blocked_default_device")
    c = normalize_cookie_id(pd.Series(["CK-AbC1", "ab", "has space", "none"]))
    assert c["value"].iloc[0] == "ck-abc1"
    assert c["reason"].tolist()[1:] == ["bad_format", "bad_format", "null_like"]


def test_member_and_union_ids() -> None:
    m = normalize_member_id(pd.Series([" m00123 ", "Ｍ００１２３", "000", "m 1"]))
    assert m["value"].tolist()[:2] == ["M00123", "M00123"]  # leading zeros kept, upper-cased
    assert m["reason"].tolist()[2:] == ["bad_format", "bad_format"]
    u = normalize_unionid(pd.Series([" oUnionAbC123 ", "oUnionABC123", "o*x", "short"]))
    assert u["value"].tolist()[:2] == ["oUnionAbC123", "oUnionABC123"]  # case kept: different ids
    assert u["reason"].tolist()[2:] == ["masked", "bad_format"]


def test_openid_is_scoped_by_app() -> None:
    r = normalize_openid(
        pd.Series(["oOpen0001", "oOpen0001", "oOpen0001", "null"]),
        pd.Series(["wxA", " wxB ", None, "wxA"]),
    )
    assert r["value"].tolist()[:2] == ["wxA:oOpen0001", "wxB:oOpen0001"]  # same openid, 2 apps
    assert r["reason"].tolist()[2:] == ["missing_scope", "null_like"]
    assert normalize_openid(pd.Series(["oOpen0001"]), "wxC")["value"].iloc[0] == "wxC:oOpen0001"
    with pytest.raises(ValueError, match="scope"):
        normalize(pd.Series(["oOpen0001"]), "openid")


def test_platform_buyer_is_scoped_by_platform() -> None:
    r = normalize_platform_buyer(
        pd.Series(["tb_alice", "tb_alice", "t**9", "小明爱购物"]),
        pd.Series([" Tmall ", "jd", "tmall", "douyin"]),
    )
    assert r["value"].tolist()[0:2] == ["tmall:tb_alice", "jd:tb_alice"]
    assert r["reason"].iloc[2] == "masked"
    assert r["value"].iloc[3] == "douyin:小明爱购物"


def test_masked_phone_name_address() -> None:
    m = normalize_masked_phone(
        pd.Series(
            [
                "138 **** 5678",
                "+86 138xxxx5678",
                "１３８＊＊＊＊５６７８",
                "13800135678",
                "138***5678",
                "1385678",
            ]
        )
    )
    assert m["value"].tolist()[:4] == ["138****5678"] * 4
    assert m["reason"].tolist()[4:] == ["bad_format", "bad_format"]
    n = normalize_name(
        pd.Series([" 张 三 ", "张　三", "Ｊｏｈｎ Ｓｍｉｔｈ", "先生", "张3", "未知"])
    )
    assert n["value"].tolist()[:3] == ["张三", "张三", "JohnSmith"]
    assert n["reason"].tolist()[3:] == ["blocked_default_name", "bad_format", "null_like"]
    a = normalize_address(pd.Series(["  上海市  浦东新区\t张江路１００号 ", "-"]))
    assert (
        a["value"].iloc[0] == "上海市 浦东新区 张江路100号" and a["reason"].iloc[1] == "null_like"
    )


def test_normalize_dispatch_and_result_shape() -> None:
    s = pd.Series(["13805716294", "null"], index=[10, 20])
    r = normalize(s, "phone")
    assert list(r.columns) == ["value", "valid", "reason"] and r.index.tolist() == [10, 20]
    assert r["valid"].dtype == bool and list(r["reason"].cat.categories) == list(REASONS)
    with pytest.raises(ValueError, match="unknown identifier type 'fax'"):
        normalize(s, "fax")


# ------------------------------------------------------------------------ identifier tables


@pytest.fixture(scope="module")
def ds(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return load_dataset(write_dataset(tmp_path_factory.mktemp("mini")))


def test_identifier_table_contract_shape(ds: Dataset) -> None:
    ids = identifier_table(ds)
    # The contract's columns in order, plus ``row`` (position of the record in its accepted
    # table, used by OneID to index records without hashing record keys).
    assert tuple(c for c in ids.columns if c != "row") == IDENTIFIER_COLUMNS
    assert ids["row"].dtype == np.int64
    for source, part in ids.groupby("source", observed=True):
        keys = ds[source][ds.spec[source].key].to_numpy(dtype=object)[part["row"].to_numpy()]
        assert (source + ":" + pd.Series(keys, dtype=object)).tolist() == part[
            "record_key"
        ].tolist()
    for c in ("source", "id_type", "reason"):
        assert isinstance(ids[c].dtype, pd.CategoricalDtype), c
    for c in ("record_key", "raw", "value"):
        assert isinstance(ids[c].dtype, pd.StringDtype), c
    assert ids["valid"].dtype == bool
    # One row per (record, identifier column) with a non-null raw value.
    expected = sum(
        int(ds[s][i.column].notna().sum()) for s in ds.sources for i in ds.spec[s].identifiers
    )
    assert len(ids) == expected == 44
    assert ids["record_key"].str.match(r"^[a-z_]+:.+$").all()
    assert (ids["record_key"].str.split(":").str[0] == ids["source"].astype(str)).all()
    assert ids.loc[ids["valid"], "reason"].isna().all()
    assert (
        ids.loc[~ids["valid"], "value"].isna().all()
        and ids.loc[~ids["valid"], "reason"].notna().all()
    )


def test_identifier_table_values(ds: Dataset) -> None:
    ids = identifier_table(ds).astype({"source": str, "id_type": str, "reason": object})
    idx = ids.set_index(["record_key", "id_type"])
    assert idx.loc[("crm_members:000123", "phone"), "value"] == E164
    assert idx.loc[("crm_members:000132", "phone"), "value"] == "+8613800138009"  # full-width
    assert idx.loc[("crm_members:000125", "phone"), "reason"] == "blocked_default_phone"
    assert idx.loc[("crm_members:000127", "phone"), "reason"] == "masked"
    assert idx.loc[("crm_members:000125", "email"), "reason"] == "null_like"
    assert idx.loc[("pos_orders:P001", "member_id"), "value"] == "000123"
    assert idx.loc[("service_tickets:T001", "openid"), "value"] == "wxapp01:oOpen0001abcd"
    assert idx.loc[("service_tickets:T003", "openid"), "reason"] == "missing_scope"
    assert idx.loc[("ecom_orders:E001", "platform_buyer"), "value"] == "tmall:tb_alice"
    assert idx.loc[("web_events:W2", "device_id"), "reason"] == "all_zero_device"
    assert idx.loc[("web_events:W1", "cookie_id"), "raw"] == "CK-AAAA01"
    # The same person's phone links across sources once normalized.
    phone = ids[(ids["id_type"] == "phone") & (ids["value"] == E164)]
    assert set(phone["source"]) == {"crm_members", "pos_orders", "service_tickets"}
    # Quarantined records never reach the identifier table.
    assert "crm_members:000126" not in set(ids["record_key"])


def test_quasi_table(ds: Dataset) -> None:
    q = quasi_table(ds)
    assert tuple(c for c in q.columns if c != "row") == IDENTIFIER_COLUMNS
    assert set(q["id_type"].astype(str)) == {"name", "masked_phone", "address"}
    e = (
        q[q["source"] == "ecom_orders"]
        .astype({"id_type": str})
        .set_index(["record_key", "id_type"])
    )
    assert e.loc[("ecom_orders:E002", "name"), "value"] == "李四"
    assert e.loc[("ecom_orders:E002", "masked_phone"), "value"] == "138****8001"
    assert e.loc[("ecom_orders:E003", "masked_phone"), "value"] == "138****8003"
    assert e.loc[("ecom_orders:E003", "name"), "reason"] == "blocked_default_name"


def test_identifier_table_from_tables_and_errors(ds: Dataset) -> None:
    tables = {"crm_members": ds["crm_members"]}
    ids = identifier_table(tables, ds.spec)
    assert set(ids["source"]) == {"crm_members"} and len(ids) == 23
    only = identifier_table(ds, sources=["pos_orders"])
    assert set(only["source"]) == {"pos_orders"}
    with pytest.raises(ValueError, match="spec"):
        identifier_table(tables)
    bad = ds["crm_members"].copy()
    bad.loc[2, "member_id"] = pd.NA
    with pytest.raises(ValueError, match=r"crm_members.*member_id.*row 2"):
        identifier_table({"crm_members": bad}, ds.spec)
    dup = ds["crm_members"].copy()
    dup.loc[3, "member_id"] = "000123"
    with pytest.raises(ValueError, match=r"duplicate.*row 3"):
        identifier_table({"crm_members": dup}, ds.spec)
    missing = ds["crm_members"].drop(columns="email")
    with pytest.raises(ValueError, match=r"crm_members.*'email'"):
        identifier_table({"crm_members": missing}, ds.spec)
    with pytest.raises(ValueError, match="nope"):
        identifier_table(ds, sources=["nope"])


def _decoded(s: pd.Series) -> list:
    return [None if pd.isna(v) else str(v) for v in s.astype(object)]


def test_link_table_is_the_identifier_table_without_its_strings(ds: Dataset) -> None:
    ids, lean = identifier_table(ds), link_table(ds)
    assert list(lean.columns) == ["source", "row", "id_type", "raw", "value", "valid", "reason"]
    assert lean["row"].dtype == np.int32 and "record_key" not in lean.columns
    assert len(lean) == len(ids) == 44
    for c in ("source", "id_type", "reason"):
        assert lean[c].astype(str).tolist() == ids[c].astype(str).tolist(), c
    assert (lean["row"].to_numpy() == ids["row"].to_numpy()).all()
    assert (lean["valid"].to_numpy() == ids["valid"].to_numpy()).all()
    assert _decoded(lean["value"]) == _decoded(ids["value"])
    # raw values only where the identifier is not usable (the explanations need them)
    assert _decoded(lean["raw"]) == _decoded(ids["raw"].where(~ids["valid"]))
    assert lean.loc[~lean["valid"], "raw"].notna().all()
    # values are codes into one dictionary shared by every chunk
    arr = lean["value"].array.__arrow_array__()
    assert str(arr.type) == "dictionary<values=large_string, indices=int32, ordered=0>"
    dicts = {tuple(c.dictionary.to_pylist()) for c in arr.chunks}
    assert len(dicts) == 1
    assert set(next(iter(dicts))) == set(ids["value"].dropna())


def test_link_tables_of_single_sources_stack_into_the_whole(ds: Dataset) -> None:
    whole = link_table(ds)
    names = [n for n in ds.sources if ds.spec[n].identifiers]
    parts = [link_table({n: ds[n]}, ds.spec, sources=[n], encode=False) for n in reversed(names)]
    assert not isinstance(parts[0]["value"].dtype, pd.ArrowDtype) or "dictionary" not in str(parts[0]["value"].dtype)
    stacked = concat_link_tables(parts[::-1], list(ds.sources))
    assert list(stacked["source"].cat.categories) == list(ds.sources)
    for c in ("source", "id_type", "reason"):
        assert stacked[c].astype(str).tolist() == whole[c].astype(str).tolist(), c
    assert (stacked["row"].to_numpy() == whole["row"].to_numpy()).all()
    assert _decoded(stacked["value"]) == _decoded(whole["value"])
    assert _decoded(stacked["raw"]) == _decoded(whole["raw"])
    # parts coded one by one stack into the whole's codes and dictionary, without decoding
    coded = concat_link_tables([link_table({n: ds[n]}, ds.spec, sources=[n]) for n in names], list(ds.sources))
    got, want = (pa.array(t["value"].array).unify_dictionaries() for t in (coded, whole))
    assert got.chunks[0].dictionary.equals(want.chunks[0].dictionary)
    assert pa.chunked_array([c.indices for c in got.chunks]).equals(pa.chunked_array([c.indices for c in want.chunks]))
    again = concat_link_tables(parts, ["service_tickets"])
    assert list(again["source"].cat.categories)[0] == "service_tickets"
    assert again["source"].astype(str).tolist() == [str(s) for p in parts for s in p["source"]]


def test_long_tables_normalized_in_blocks_are_the_whole_tables(test_world: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The long tables normalize a column in blocks of rows (bounded scratch on sources of tens of
    millions of rows): with blocks of 997 values on the test world (every identifier type, messy
    values, scoped ids) every table is the one normalized in one piece."""
    import omni.normalize as nz
    from omni.oneid.match_features import quasi_fields

    world = load_dataset(test_world)
    whole = (nz.identifier_table(world), link_table(world), quasi_fields(world),
             quasi_fields(world, lean=True))
    assert max(len(t) for t in whole) > 10 * 997
    monkeypatch.setattr(nz, "NORMALIZE_BLOCK", 997)
    blocked = (nz.identifier_table(world), link_table(world), quasi_fields(world),
               quasi_fields(world, lean=True))
    for a, b in zip(blocked, whole, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_identifier_table_scales_by_distinct_values(tmp_path: Path) -> None:
    """200k rows of 1k distinct raw phones: normalized per distinct value, same answers."""
    from omni.io.spec import IdSpec, SourceSpec

    rng = np.random.default_rng(0)
    base = np.array([f"138{n:08d}" for n in rng.integers(0, 10**8, 1000)])
    n = 200_000
    df = pd.DataFrame(
        {
            "id": pd.array(np.arange(n).astype(str), dtype="string[pyarrow]"),
            "phone": pd.array(base[rng.integers(0, 1000, n)], dtype="string[pyarrow]"),
        }
    )
    spec = {
        "s": SourceSpec(
            "s",
            "s.csv",
            key="id",
            columns={"id": "string", "phone": "string"},
            identifiers=[IdSpec("phone", "phone")],
        )
    }
    ids = identifier_table({"s": df}, spec)
    assert len(ids) == n
    assert (ids["value"].str.slice(3) == df["phone"]).all()
    assert ids["value"].str.startswith("+86").all()


def test_shared_dictionary_recodes_chunks_as_one_encode_would() -> None:
    """Chunks of several encodes (chunks of one encode share its dictionary) with nulls get the
    dictionary and codes of encoding all their values at once, and their values are unchanged."""
    from omni.normalize import shared_dictionary

    a = pa.chunked_array([pa.array(["x", "y", None, "x"], pa.large_string()),
                          pa.array(["z", "y"], pa.large_string())]).dictionary_encode()
    b = pa.chunked_array([pa.array(["w", "z", None], pa.large_string()),
                          pa.array(["x", "v"], pa.large_string())]).dictionary_encode()
    c = pa.array(["v", "u"], pa.large_string()).dictionary_encode()
    empty = pa.array([None, None], pa.large_string()).dictionary_encode()  # a source all invalid
    chunks = [*a.chunks, empty, *b.chunks, c]
    got = shared_dictionary(chunks)
    plain = pa.chunked_array([ch.dictionary_decode() for ch in chunks])
    want = plain.dictionary_encode()
    assert got.chunk(0).dictionary.to_pylist() == ["x", "y", "z", "w", "v", "u"]
    assert got.chunk(2).null_count == 2
    nothing = shared_dictionary([empty, empty.slice(1)])
    assert len(nothing.chunk(0).dictionary) == 0 and nothing.null_count == 3
    assert all(ch.dictionary.equals(want.chunk(0).dictionary) for ch in got.chunks)
    assert [ch.indices.to_pylist() for ch in got.chunks] == [ch.indices.to_pylist() for ch in want.chunks]
    assert pa.chunked_array([ch.dictionary_decode() for ch in got.chunks]).equals(plain)
