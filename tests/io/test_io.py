"""omni.io: loading, validation, quarantine, timezones, encodings and file-level errors."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fixtures_io import (
    EXPECTED_COUNTS,
    EXPECTED_PROBLEMS,
    SOURCES_YAML,
    write_dataset,
)

from omni.io import (
    QUARANTINE_COLUMNS,
    DataContractError,
    Dataset,
    IdSpec,
    load_dataset,
    load_source,
    read_spec,
)
from omni.io.cast import cast_bool, cast_date, cast_datetime, cast_float, cast_int


@pytest.fixture(scope="module")
def ds_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("mini"))


@pytest.fixture(scope="module")
def ds(ds_path: Path) -> Dataset:
    return load_dataset(ds_path)


def _copy(tmp_path: Path, yaml_text: str = SOURCES_YAML) -> Path:
    return write_dataset(tmp_path / "d", yaml_text)


# ------------------------------------------------------------------------------ happy path


def test_spec_is_parsed_into_dataclasses(ds: Dataset) -> None:
    spec = ds.spec
    assert spec.name == "mini" and spec.timezone == "Asia/Shanghai" and spec.currency == "CNY"
    assert list(spec.sources) == list(EXPECTED_COUNTS)
    crm = spec["crm_members"]
    assert crm.key == "member_id" and crm.format == "csv" and crm.encoding == "utf-8"
    assert crm.columns["register_time"] == "datetime" and crm.columns["birth_year"] == "int"
    assert crm.required == ["member_id", "register_time"]
    assert IdSpec("phone", "phone") in crm.identifiers
    assert crm.quasi_identifiers == [IdSpec("name", "name")]
    assert crm.pii == ["phone", "email", "name", "birthday"]
    tickets = spec["service_tickets"]
    assert tickets.timezone == "UTC"
    assert IdSpec("openid", "openid", "app_id") in tickets.identifiers
    assert spec["pos_orders"].amounts == ["amount"]
    assert spec["pos_orders"].timezone == "Asia/Shanghai"  # inherits the dataset timezone


def test_counts_reconcile_with_known_injected_rows(ds: Dataset) -> None:
    counts = ds.counts.set_index("source")
    for source, (rows_in, accepted, quarantined) in EXPECTED_COUNTS.items():
        row = counts.loc[source]
        assert (row["rows_in"], row["accepted"], row["quarantined"]) == (
            rows_in,
            accepted,
            quarantined,
        ), source
        assert len(ds[source]) == accepted
    assert counts["reconciled"].all()
    assert (counts["rows_in"] == counts["accepted"] + counts["quarantined"]).all()


def test_quarantine_holds_every_injected_problem(ds: Dataset) -> None:
    q = ds.quarantine
    assert tuple(q.columns) == QUARANTINE_COLUMNS
    got = {
        (r.source, int(r.row), None if pd.isna(r.column) else r.column, r.reason)
        for r in q.itertuples()
    }
    assert got == EXPECTED_PROBLEMS
    # One problem cell per quarantine row; a row with three problems counts once in counts.
    assert len(q) == len(EXPECTED_PROBLEMS)
    crm = q[q["source"] == "crm_members"]
    assert crm["row"].nunique() == EXPECTED_COUNTS["crm_members"][2]
    assert isinstance(q["source"].dtype, pd.CategoricalDtype)
    assert isinstance(q["reason"].dtype, pd.CategoricalDtype)


def test_quarantine_record_keys_and_masked_pii(ds: Dataset) -> None:
    q = ds.quarantine.set_index(["source", "row", "column"])
    bad_date = q.loc[("crm_members", 4, "register_time")]
    assert bad_date["record_key"] == "crm_members:000126"
    assert bad_date["value"] == "2026-13-45 10:00"  # not personal data: shown as is
    # birthday is declared pii: the bad value is masked, never shown raw.
    birthday = q.loc[("crm_members", 9, "birthday")]
    assert birthday["value"] != "1990-02-30" and "1990-02-30" not in q["value"].dropna().tolist()
    assert birthday["value"] == "19…30"
    null_key = q.loc[("crm_members", 6, "member_id")]
    assert pd.isna(null_key["record_key"]) or null_key["record_key"] == "crm_members:"
    dup = q.loc[("crm_members", 8, "member_id")]
    assert dup["reason"] == "duplicate_key" and dup["record_key"] == "crm_members:000123"


def test_duplicate_key_keeps_first(ds: Dataset) -> None:
    crm = ds["crm_members"]
    assert crm["member_id"].is_unique
    first = crm.loc[crm["member_id"] == "000123"].iloc[0]
    assert first["email"] == "Alice@Example.com"  # row 1 kept, row 8 (dup@example.com) rejected


def test_types_and_leading_zeros(ds: Dataset) -> None:
    crm = ds["crm_members"]
    assert crm["member_id"].tolist()[:3] == ["000123", "000124", "000125"]
    assert isinstance(crm["member_id"].dtype, pd.StringDtype)
    assert crm["birth_year"].dtype == "Int64"
    assert crm["marketing_opt_out"].dtype == "boolean"
    assert crm["marketing_opt_out"].tolist() == [False, True, False, False, False, True]
    assert crm["register_time"].dtype == "datetime64[ns]"
    assert crm["register_time"].iloc[2] == pd.Timestamp("2026-10-03 10:15")  # 2026/10/03 10:15
    assert crm["birthday"].dtype == "datetime64[ns]" and pd.isna(crm["birthday"].iloc[2])
    # String values are untouched (normalization is a later step).
    assert crm["phone"].iloc[0] == "+86 138 0571 6294"
    pos = ds["pos_orders"]
    assert isinstance(pos["store_id"].dtype, pd.CategoricalDtype)
    assert pos["amount"].tolist() == [199.0, 59.5, 88.0]  # "￥88" parsed
    assert ds["pos_orders"]["member_card"].iloc[0] == "000123"


def test_gbk_file_loads(ds: Dataset) -> None:
    assert ds["pos_orders"]["city"].tolist() == ["上海", "上海", "广州"]


def test_utc_source_is_shifted_to_local_time(ds: Dataset) -> None:
    t = ds["service_tickets"].set_index("ticket_id")["created_time"]
    assert t["T001"] == pd.Timestamp("2026-10-01 08:30")  # 00:30 UTC
    assert t["T002"] == pd.Timestamp("2026-10-01 00:00")  # crosses midnight
    assert t["T003"] == pd.Timestamp("2026-10-01 09:00")  # explicit Z offset
    assert t.dt.tz is None


def test_parquet_types_and_timezones(ds: Dataset) -> None:
    web = ds["web_events"]
    assert web["event_time"].iloc[0] == pd.Timestamp("2026-10-01 08:00")  # naive: local already
    assert (web["sent_at"] == pd.Timestamp("2026-10-01 08:00")).all()  # tz-aware UTC -> local
    assert web["sent_at"].dt.tz is None
    assert web["n_items"].dtype == "Int64" and web["n_items"].isna().sum() == 1
    assert isinstance(web["event_type"].dtype, pd.CategoricalDtype)
    assert web["member_id"].iloc[0] == "000123"


def test_dataset_object(ds: Dataset, ds_path: Path) -> None:
    assert ds.path == ds_path.resolve()
    assert ds.timezone == "Asia/Shanghai"
    assert ds.sources == list(EXPECTED_COUNTS)
    assert "crm_members" in ds and "nope" not in ds
    with pytest.raises(KeyError, match="crm_members"):
        ds["nope"]
    assert "fingerprint" in repr(ds) and "13805716294" not in repr(ds)


def test_fingerprint_is_sha256_over_spec_and_files(
    ds: Dataset, ds_path: Path, tmp_path: Path
) -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", ds.fingerprint)
    again = load_dataset(ds_path / "raw" / "sources.yaml")
    assert again.fingerprint == ds.fingerprint
    # A copy elsewhere has the same fingerprint (content only) ...
    copy = _copy(tmp_path)
    assert load_dataset(copy).fingerprint == ds.fingerprint
    # ... and changing one byte of one file changes it.
    p = copy / "raw" / "ecom_orders.csv"
    p.write_bytes(p.read_bytes().replace(b"120.5", b"120.6"))
    assert load_dataset(copy).fingerprint != ds.fingerprint
    assert ds.fingerprint != hashlib.sha256(b"").hexdigest()


def test_path_forms(ds_path: Path, ds: Dataset) -> None:
    for p in (ds_path, ds_path / "raw", ds_path / "raw" / "sources.yaml", str(ds_path)):
        assert load_dataset(p, sources=["ecom_orders"]).sources == ["ecom_orders"]


def test_load_source(ds_path: Path) -> None:
    spec = read_spec(ds_path)
    ls = load_source(spec, "pos_orders")
    assert (ls.rows_in, ls.accepted, ls.quarantined) == EXPECTED_COUNTS["pos_orders"]
    assert ls.counts()["reconciled"]
    assert load_source(ds_path, "crm_members").accepted == 6
    with pytest.raises(KeyError, match="pos_orders"):
        load_source(spec, "nope")


def test_strict_raises_with_source_file_row_and_column(ds_path: Path) -> None:
    with pytest.raises(DataContractError) as e:
        load_source(ds_path, "crm_members", strict=True)
    msg = str(e.value)
    assert "crm_members" in msg and "crm_members.csv" in msg
    assert "row 4" in msg and "register_time" in msg and "unparseable_datetime" in msg


def test_bad_column_count_row_number_with_quoted_newline(tmp_path: Path) -> None:
    yaml_text = """\
sources:
  s:
    file: s.csv
    key: id
    columns: {id: string, note: string}
"""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "sources.yaml").write_text(yaml_text)
    (raw / "s.csv").write_text('id,note\n1,"two\nlines"\n2,ok\n3,too,many\n\n4,fine\n')
    ds = load_dataset(tmp_path)
    assert ds["s"]["id"].tolist() == ["1", "2", "4"]
    assert ds["s"]["note"].iloc[0] == "two\nlines"
    q = ds.quarantine
    assert q["row"].tolist() == [3] and q["reason"].tolist() == ["bad_column_count"]
    assert ds.counts.loc[0, "rows_in"] == 4


def test_extra_file_columns_are_ignored(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "sources.yaml").write_text(
        "sources:\n  s: {file: s.csv, key: id, columns: {id: string}}\n"
    )
    (raw / "s.csv").write_text("id,secret\n1,x\n")
    assert list(load_dataset(tmp_path)["s"].columns) == ["id"]


# ------------------------------------------------------------------------- file-level errors


def _error(tmp_path: Path, yaml_text: str = SOURCES_YAML, mutate=None) -> str:
    d = _copy(tmp_path, yaml_text)
    if mutate:
        mutate(d / "raw")
    with pytest.raises(DataContractError) as e:
        load_dataset(d)
    assert isinstance(e.value, ValueError)
    return str(e.value)


def test_error_file_missing(tmp_path: Path) -> None:
    msg = _error(tmp_path, mutate=lambda raw: (raw / "pos_orders.csv").unlink())
    assert "pos_orders" in msg and "pos_orders.csv" in msg and "not found" in msg


def test_error_no_sources_yaml(tmp_path: Path) -> None:
    with pytest.raises(DataContractError, match="sources.yaml"):
        load_dataset(tmp_path)


def test_error_unknown_format(tmp_path: Path) -> None:
    msg = _error(tmp_path, SOURCES_YAML.replace("format: parquet", "format: xlsx"))
    assert "web_events" in msg and "web_events.parquet" in msg and "xlsx" in msg


def test_error_declared_column_missing_lists_file_columns(tmp_path: Path) -> None:
    def drop_topic(raw: Path) -> None:
        p = raw / "service_tickets.csv"
        p.write_text(p.read_text().replace(",topic", ",subject"))

    msg = _error(tmp_path, mutate=drop_topic)
    assert "service_tickets" in msg and "service_tickets.csv" in msg
    assert "'topic'" in msg and "subject" in msg and "created_time" in msg


def test_error_parquet_column_missing(tmp_path: Path) -> None:
    def rewrite(raw: Path) -> None:
        t = pq.read_table(raw / "web_events.parquet").drop_columns(["n_items"])
        pq.write_table(t, raw / "web_events.parquet")

    msg = _error(tmp_path, mutate=rewrite)
    assert "web_events.parquet" in msg and "'n_items'" in msg and "event_type" in msg


def test_error_undeclared_type(tmp_path: Path) -> None:
    msg = _error(tmp_path, SOURCES_YAML.replace("topic: string", "topic: varchar"))
    assert "service_tickets" in msg and "topic" in msg and "varchar" in msg and "datetime" in msg


def test_error_wrong_encoding_names_encoding_offset_and_hint(tmp_path: Path) -> None:
    yaml_text = SOURCES_YAML.replace("encoding: gbk", "encoding: utf-8")
    msg = _error(tmp_path, yaml_text)
    assert "pos_orders" in msg and "pos_orders.csv" in msg and "'utf-8'" in msg
    assert "byte offset" in msg and "line 2" in msg
    assert "gb18030" in msg or "gbk" in msg


def test_error_gbk_declared_for_utf8_file(tmp_path: Path) -> None:
    yaml_text = SOURCES_YAML.replace(
        "file: service_tickets.csv\n    encoding: utf-8",
        "file: service_tickets.csv\n    encoding: gbk",
    )
    msg = _error(tmp_path, yaml_text)
    assert "service_tickets.csv" in msg and "'gbk'" in msg and "utf-8" in msg


def test_error_unknown_timezone(tmp_path: Path) -> None:
    msg = _error(tmp_path, SOURCES_YAML.replace("timezone: UTC", "timezone: Mars/Olympus"))
    assert "service_tickets" in msg and "Mars/Olympus" in msg


def test_error_duplicate_source_names(tmp_path: Path) -> None:
    dup = SOURCES_YAML + "  pos_orders:\n    file: other.csv\n    columns: {a: string}\n"
    msg = _error(tmp_path, dup)
    assert "duplicate" in msg and "pos_orders" in msg


def test_error_unknown_encoding_and_undeclared_references(tmp_path: Path) -> None:
    assert "klingon" in _error(
        tmp_path / "a", SOURCES_YAML.replace("encoding: gbk", "encoding: klingon")
    )
    msg = _error(
        tmp_path / "b",
        SOURCES_YAML.replace(
            "amounts: [amount]\n    identifiers:\n      - {column: member_card",
            "amounts: [nope]\n    identifiers:\n      - {column: member_card",
        ),
    )
    assert "pos_orders" in msg and "nope" in msg
    msg = _error(tmp_path / "c", SOURCES_YAML.replace("scope: app_id", "scope: app"))
    assert "service_tickets" in msg and "'app'" in msg


def test_error_unparseable_parquet(tmp_path: Path) -> None:
    msg = _error(tmp_path, mutate=lambda raw: (raw / "web_events.parquet").write_bytes(b"nope"))
    assert "web_events" in msg and "Parquet" in msg


# ------------------------------------------------------------------------------------ casting


def _s(values: list) -> pd.Series:
    return pd.Series(values, dtype="string[pyarrow]")


def test_cast_int() -> None:
    v, bad = cast_int(
        _s(["1", "007", "1,299", "12.0", "+3", "-4", " 5 ", "12.5", "x", None, "NULL"])
    )
    assert v.dtype == "Int64"
    assert v.tolist()[:7] == [1, 7, 1299, 12, 3, -4, 5]
    assert bad.tolist() == [False] * 7 + [True, True, False, False]
    assert v.iloc[7:].isna().all()


def test_cast_int_out_of_range_is_bad_not_wrong() -> None:
    v, bad = cast_int(_s(["99999999999999999999", "1"]))
    assert bad.tolist() == [True, False] and v.iloc[1] == 1 and pd.isna(v.iloc[0])


def test_cast_float() -> None:
    v, bad = cast_float(
        _s(["1.5", "￥1,299.50", "¥12", "1e3", ".5", "-0.25", "abc", "inf", "", None])
    )
    np.testing.assert_allclose(v.iloc[:6].to_numpy(), [1.5, 1299.5, 12.0, 1000.0, 0.5, -0.25])
    assert bad.tolist() == [False] * 6 + [True, True, False, False]


def test_cast_bool() -> None:
    v, bad = cast_bool(_s(["true", "False", "1", "0", "yes", "N", "是", "否", "maybe", None]))
    assert v.tolist()[:8] == [True, False, True, False, True, False, True, False]
    assert bad.tolist() == [False] * 8 + [True, False]


def test_cast_datetime_formats_and_timezones() -> None:
    vals = _s(
        [
            "2026-10-01 00:30:00",
            "2026-10-01T00:30",
            "2026/10/01 00:30",
            "2026年10月01日 00:30",
            "2026-10-01 00:30:00+08:00",
            "2026-09-30T16:30:00Z",
            "2026-02-30 00:00",
            "-",
        ]
    )
    v, bad = cast_datetime(vals, "UTC", "Asia/Shanghai")
    assert v.iloc[:4].tolist() == [pd.Timestamp("2026-10-01 08:30")] * 4
    # Explicit offsets win over the source timezone.
    assert v.iloc[4] == pd.Timestamp("2026-10-01 00:30") and v.iloc[5] == pd.Timestamp(
        "2026-10-01 00:30"
    )
    assert bad.tolist() == [False] * 6 + [True, False]
    same, _ = cast_datetime(vals.iloc[:1], "Asia/Shanghai", "Asia/Shanghai")
    assert same.iloc[0] == pd.Timestamp("2026-10-01 00:30")


def test_cast_datetime_dst_source_keeps_every_row() -> None:
    # 2026-11-01 01:30 happens twice in New York; 2026-03-08 02:30 never happens.
    v, bad = cast_datetime(_s(["2026-11-01 01:30", "2026-03-08 02:30"]), "America/New_York", "UTC")
    assert not bad.any() and v.notna().all()
    assert v.iloc[0] == pd.Timestamp("2026-11-01 05:30")  # first occurrence (EDT, UTC-4)


def test_cast_date() -> None:
    v, bad = cast_date(_s(["2026-10-01", "2026/10/02 13:45", "20261003", "2026-02-30", None]))
    assert v.iloc[:3].tolist() == [pd.Timestamp(f"2026-10-0{i}") for i in (1, 2, 3)]
    assert bad.tolist() == [False, False, False, True, False]


def test_float_phone_column_in_parquet_keeps_digits(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "sources.yaml").write_text(
        "sources:\n  s: {file: s.parquet, key: id, columns: {id: string, phone: string}}\n"
    )
    pq.write_table(
        pa.table({"id": pa.array([1, 2]), "phone": pa.array([13800138000.0, None])}),
        raw / "s.parquet",
    )
    t = load_dataset(tmp_path)["s"]
    assert t["id"].tolist() == ["1", "2"]
    assert t["phone"].iloc[0] == "13800138000" and pd.isna(t["phone"].iloc[1])


def _one_source(tmp_path: Path, yaml_text: str, files: dict[str, bytes]) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    (raw / "sources.yaml").write_text(yaml_text, encoding="utf-8")
    for name, data in files.items():
        (raw / name).write_bytes(data)
    return tmp_path


def test_utf8_bom_crlf_and_header_only_files(tmp_path: Path) -> None:
    yaml_text = (
        "sources:\n"
        "  s: {file: s.csv, key: id, columns: {id: string, v: int}}\n"
        "  h: {file: h.csv, key: id, columns: {id: string, t: datetime, b: bool}}\n"
    )
    d = _one_source(
        tmp_path,
        yaml_text,
        {"s.csv": b"\xef\xbb\xbfid,v\r\n001,1\r\n002,2\r\n", "h.csv": b"id,t,b\n"},
    )
    ds = load_dataset(d)
    assert ds["s"]["id"].tolist() == ["001", "002"] and ds["s"]["v"].tolist() == [1, 2]
    assert len(ds["h"]) == 0 and ds["h"]["t"].dtype == "datetime64[ns]"
    assert ds.counts["reconciled"].all()


def test_spec_variants_and_spec_errors(tmp_path: Path) -> None:
    listed = (
        "sources:\n"
        "  - {name: a, file: a.csv, key: id, columns: {id: string, openid: string, app_id: string},"
        " identifiers: [{column: openid, type: openid}]}\n"
    )
    d = _one_source(tmp_path / "ok", listed, {"a.csv": b"id,openid,app_id\n1,o1,wx\n"})
    spec = read_spec(d)
    assert spec["a"].identifiers == [IdSpec("openid", "openid", "app_id")]  # default scope column
    bad_type = listed.replace("type: openid", "type: fax")
    with pytest.raises(DataContractError, match=r"source 'a'.*'fax'"):
        read_spec(_one_source(tmp_path / "t", bad_type, {}))
    no_scope = listed.replace(", app_id: string", "")
    with pytest.raises(DataContractError, match=r"source 'a'.*scope"):
        read_spec(_one_source(tmp_path / "s", no_scope, {}))
    dup_list = listed + listed.split("\n", 1)[1]
    with pytest.raises(DataContractError, match="duplicate source name 'a'"):
        read_spec(_one_source(tmp_path / "d", dup_list, {}))
    with pytest.raises(DataContractError, match="needs a 'key'"):
        read_spec(_one_source(tmp_path / "k", listed.replace("key: id, ", ""), {}))


def test_error_column_twice_in_header(tmp_path: Path) -> None:
    yaml_text = "sources:\n  s: {file: s.csv, columns: {id: string}}\n"
    d = _one_source(tmp_path, yaml_text, {"s.csv": b"id,id\n1,2\n"})
    with pytest.raises(
        DataContractError, match=r"source 's' \(file 's.csv'\).*'id'.*more than once"
    ):
        load_dataset(d)


def test_load_dataset_strict(ds_path: Path) -> None:
    with pytest.raises(DataContractError, match=r"crm_members.*row 4.*register_time"):
        load_dataset(ds_path, strict=True)
    assert load_dataset(ds_path, sources=["ecom_orders"], strict=True)["ecom_orders"].shape[0] == 3
