"""Damaged copies of a synthetic world: type casting, amount bounds, outliers, placeholder phones.

A small world (1,000 persons, seed 99: another world than data/test_world) is synthesized once.
Every case copies its raw folder, damages cells of one source file (or its sources.yaml), loads
that source and checks one of two outcomes:

* a clear one-line error naming the source, the file and the column, or
* the damaged rows quarantined with their file row number and reason (or parsed to the right
  instant), every other row as in the undamaged copy, and the counts reconciled against an
  independent count of the file's records (Python's csv module / the Parquet footer).
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from omni import audit
from omni.io import DataContractError, load_dataset, load_source, read_spec
from omni.io.validate import DEFAULT_AMOUNT_MAX
from omni.normalize import identifier_table
from omni.oneid import resolve_identities

SHANGHAI = ZoneInfo("Asia/Shanghai")


# ------------------------------------------------------------------------------ the world


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """Raw folder of a freshly synthesized small world (the same as ``omni synth --seed 99``)."""
    from omni.synth import generate_world

    out = tmp_path_factory.mktemp("world99")
    generate_world(out=out, persons=1000, seed=99, progress=False)
    return out / "raw"


@pytest.fixture(scope="module")
def baseline(world):
    """Undamaged load of every source, by name (loaded on first use)."""
    cache: dict[str, object] = {}

    def get(source: str):
        if source not in cache:
            cache[source] = load_source(world, source)
        return cache[source]

    return get


def copy_world(world: Path, dst: Path) -> Path:
    raw = dst / "raw"
    shutil.copytree(world, raw)
    return raw


def read_csv_rows(path: Path, encoding: str) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding=encoding, newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    return rows[0], rows[1:]


def write_csv_rows(path: Path, encoding: str, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def count_records(raw: Path, source: str) -> int:
    """Data records of a source's file, counted without omni (csv module / Parquet footer)."""
    s = read_spec(raw)[source]
    path = raw / s.file
    if s.format == "parquet":
        return pq.ParquetFile(path).metadata.num_rows
    return len(read_csv_rows(path, s.encoding)[1])


def edit_yaml(raw: Path, source: str, column: str, decl: object) -> None:
    spec = yaml.safe_load((raw / "sources.yaml").read_text(encoding="utf-8"))
    spec["sources"][source]["columns"][column] = decl
    (raw / "sources.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")


def problems(loaded) -> set[tuple[int, str, str]]:
    q = loaded.quarantine
    return {(int(r), str(c), str(w)) for r, c, w in zip(q["row"], q["column"], q["reason"],
                                                         strict=True)}


def reconciles(loaded, raw: Path) -> None:
    assert loaded.rows_in == count_records(raw, loaded.name)
    assert loaded.accepted + loaded.quarantined == loaded.rows_in


# ------------------------------------------------------------------------------ the cases


@dataclass
class Case:
    """One damaged copy: ``cells`` are written into rows 11, 12, ... of ``source``'s ``column``.

    ``reasons`` gives, per damaged cell, the quarantine reason expected (None: accepted) and
    ``expect`` (optional) the accepted value of each accepted damaged cell. ``yaml`` replaces the
    column's declaration. ``error`` expects a DataContractError matching it instead.
    """

    id: str
    source: str
    column: str
    cells: list[str] = field(default_factory=list)
    reasons: list[str | None] = field(default_factory=list)
    expect: list[object] = field(default_factory=list)
    yaml: object = None
    error: str | None = None
    strict: bool = False


FIRST = 11  # first damaged data row (1-based, header excluded)
T8 = pd.Timestamp("2026-10-01 08:00:00")  # Asia/Shanghai wall time of every offset form below

CASES = [
    # ---- ISO 8601 offsets: each form, into a naive Asia/Shanghai column
    Case("offset_Z", "ecom_orders", "order_time", ["2026-10-01T00:00:00Z", "2026-10-01 00:00:00 Z"],
         [None, None], [T8, T8]),
    Case("offset_hh", "ecom_orders", "order_time", ["2026-10-01T08:00:00+08", "2026-10-01T03:00:00+03"],
         [None, None], [T8, T8]),
    Case("offset_hhmm", "ecom_orders", "order_time", ["2026-10-01T08:00:00+0800", "2026-09-30T18:30:00-0530"],
         [None, None], [T8, T8]),
    Case("offset_hh_colon_mm", "ecom_orders", "order_time",
         ["2026-10-01T08:00:00+08:00", "2026-10-01 05:30:00.000+05:30"], [None, None], [T8, T8]),
    # ---- what still cannot be parsed is quarantined, never a crash
    Case("offset_garbage", "ecom_orders", "order_time",
         ["2026-10-01T08:00:00+8", "2026-10-01T08:00:00 GMT+8", "2026-10-01T08:00:00+08:00:00"],
         ["unparseable_datetime"] * 3),
    # ---- epoch timestamps without a declared unit: quarantined with a reason that says so
    Case("epoch_undeclared", "ecom_orders", "order_time", ["1790812800", "1790812800000", "1790812800.5"],
         ["epoch_without_unit"] * 3),
    # ---- absurd amounts
    Case("amount_1e12", "ecom_orders", "amount", ["1e12", "1000000000000", "1,000,000,000,000.00"],
         ["above_max"] * 3),
    Case("amount_1e300", "ecom_orders", "amount", ["1e300", "1.7976931348623157e308"], ["above_max"] * 2),
    Case("amount_inf_nan", "ecom_orders", "amount", ["inf", "-Infinity", "NaN", "nan", "+inf"],
         ["not_finite"] * 5),
    Case("amount_negative", "pos_orders", "amount", ["-12.50", "-0.01", "0"],
         ["negative_amount", "negative_amount", None], [None, None, 0.0]),
    Case("amount_just_under_default_max", "ecom_orders", "amount", [f"{DEFAULT_AMOUNT_MAX:.0f}", "99999999.99"],
         [None, None], [DEFAULT_AMOUNT_MAX, 99999999.99]),
    Case("amount_strict_names_row_and_column", "ecom_orders", "amount", ["1e12"], strict=True,
         error=r"source 'ecom_orders' \(file 'ecom_orders.csv'\): row 11, column 'amount': above_max"),
    # ---- contract errors: one line naming source, file and column
    Case("unit_unknown", "ecom_orders", "order_time", yaml={"type": "datetime", "unit": "minutes"},
         error=r"source 'ecom_orders' \(file 'ecom_orders.csv'\): column 'order_time': unit must be"),
    Case("unit_on_float", "ecom_orders", "amount", yaml={"type": "float", "unit": "s"},
         error=r"source 'ecom_orders' \(file 'ecom_orders.csv'\): column 'amount' declares unit"),
    Case("max_not_a_number", "ecom_orders", "amount", yaml={"type": "float", "max": "lots"},
         error=r"source 'ecom_orders' \(file 'ecom_orders.csv'\): column 'amount': max must be a number"),
    Case("max_on_datetime", "ecom_orders", "order_time", yaml={"type": "datetime", "max": 5},
         error=r"source 'ecom_orders' \(file 'ecom_orders.csv'\): column 'order_time' declares max"),
    Case("column_key_unknown", "ecom_orders", "amount", yaml={"type": "float", "maximum": 5},
         error=r"source 'ecom_orders' \(file 'ecom_orders.csv'\): unknown key 'maximum' in column 'amount'; did you mean 'max'\?"),
]


def damage(raw: Path, case: Case) -> list[int]:
    """Write the case's cells into rows FIRST.. of the file; returns the damaged row numbers."""
    if case.yaml is not None:
        edit_yaml(raw, case.source, case.column, case.yaml)
    if not case.cells:
        return []
    s = read_spec(raw)[case.source]
    header, rows = read_csv_rows(raw / s.file, s.encoding)
    col = header.index(case.column)
    damaged = []
    for i, v in enumerate(case.cells):
        rows[FIRST - 1 + i][col] = v
        damaged.append(FIRST + i)
    write_csv_rows(raw / s.file, s.encoding, header, rows)
    return damaged


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_damaged_cell(case: Case, world, baseline, tmp_path) -> None:
    raw = copy_world(world, tmp_path)
    damaged = damage(raw, case)
    if case.error:
        with pytest.raises(DataContractError, match=case.error) as e:
            load_source(raw, case.source, strict=case.strict)
        assert "\n" not in str(e.value)
        return
    base = baseline(case.source)
    loaded = load_source(raw, case.source)
    reconciles(loaded, raw)
    expected = {(r, case.column, why) for r, why in zip(damaged, case.reasons, strict=True) if why}
    assert problems(loaded) == problems(base) | expected
    q = loaded.quarantine.set_index("row")
    for r, why in zip(damaged, case.reasons, strict=True):
        if why:  # the quarantined value is the file's text (amounts and times are not personal)
            assert q.loc[r, "value"] == case.cells[r - FIRST]
    # Accepted damaged rows carry the right value; every other row is as in the undamaged copy.
    key = loaded.spec.key
    got = loaded.table.set_index(key)
    header, rows = read_csv_rows(raw / loaded.spec.file, loaded.spec.encoding)
    for r, want in zip(damaged, case.expect, strict=False):
        if want is not None:
            assert got.loc[rows[r - 1][header.index(key)], case.column] == want
    keep = [k for k in base.table[key] if k in got.index]
    untouched = {rows[r - 1][header.index(key)] for r in damaged}
    keep = [k for k in keep if k not in untouched]
    pd.testing.assert_frame_equal(
        got.loc[keep].reset_index(), base.table.set_index(key).loc[keep].reset_index()
    )


# ------------------------------------------------------------------ mixed naive / offset column


def test_mixed_naive_and_offset_column_parses_every_instant(world, baseline, tmp_path) -> None:
    """service_tickets is declared UTC; the dataset is Asia/Shanghai. Rewrite a third of the times
    as the same instants in other offsets: every row must come out at the same Shanghai time, which
    is checked numerically against Python's own ISO 8601 parser and zoneinfo."""
    raw = copy_world(world, tmp_path)
    s = read_spec(raw)["service_tickets"]
    assert s.timezone == "UTC" and read_spec(raw).timezone == "Asia/Shanghai"
    header, rows = read_csv_rows(raw / s.file, s.encoding)
    col = header.index("created_time")
    forms = [(timedelta(0), "Z"), (timedelta(hours=8), "+08"), (timedelta(hours=8), "+0800"),
             (timedelta(hours=-5, minutes=-30), "-05:30"), (timedelta(hours=9), "+09:00")]
    changed = 0
    for i, r in enumerate(rows):
        if i % 3 == 0:
            utc = datetime.fromisoformat(r[col])
            off, suffix = forms[(i // 3) % len(forms)]
            r[col] = (utc + off).strftime("%Y-%m-%dT%H:%M:%S") + suffix
            changed += 1
    write_csv_rows(raw / s.file, s.encoding, header, rows)
    assert changed >= 30
    loaded = load_source(raw, "service_tickets")
    reconciles(loaded, raw)
    assert problems(loaded) == problems(baseline("service_tickets")) == set()
    want = []
    for r in rows:
        t = datetime.fromisoformat(r[col])
        if t.tzinfo is None:
            t = t.replace(tzinfo=ZoneInfo(s.timezone))  # naive times take the declared timezone
        want.append(t.astimezone(SHANGHAI).replace(tzinfo=None))
    got = loaded.table.set_index("ticket_id")["created_time"]
    ids = [r[header.index("ticket_id")] for r in rows]
    assert (got.loc[ids].to_numpy() == np.array(want, dtype="datetime64[ns]")).all()
    # And the same instants as the undamaged, all-naive file.
    base = baseline("service_tickets").table.set_index("ticket_id")["created_time"]
    pd.testing.assert_series_equal(got.loc[ids], base.loc[ids])


# ------------------------------------------------------------------------ declared epoch units


@pytest.mark.parametrize("unit", ["s", "ms"])
def test_declared_epoch_unit_parses_to_the_same_times(unit, world, baseline, tmp_path) -> None:
    raw = copy_world(world, tmp_path)
    s = read_spec(raw)["ecom_orders"]
    header, rows = read_csv_rows(raw / s.file, s.encoding)
    col = header.index("order_time")
    scale = 1 if unit == "s" else 1000
    for r in rows:  # local Shanghai wall times -> epoch numbers, computed with zoneinfo
        t = datetime.fromisoformat(r[col]).replace(tzinfo=ZoneInfo(s.timezone))
        r[col] = str(int(t.timestamp()) * scale + (7 if unit == "ms" else 0))
    write_csv_rows(raw / s.file, s.encoding, header, rows)
    edit_yaml(raw, "ecom_orders", "order_time", {"type": "datetime", "unit": unit})
    loaded = load_source(raw, "ecom_orders")
    reconciles(loaded, raw)
    assert problems(loaded) == problems(baseline("ecom_orders"))
    base = baseline("ecom_orders").table
    shift = pd.Timedelta(milliseconds=7) if unit == "ms" else pd.Timedelta(0)
    pd.testing.assert_series_equal(loaded.table["order_time"], base["order_time"] + shift)


def test_declared_epoch_ms_in_a_parquet_int_column(world, baseline, tmp_path) -> None:
    raw = copy_world(world, tmp_path)
    path = raw / "web_events.parquet"
    t = pq.read_table(path)
    local = t.column("event_time").to_pandas()
    ms = local.dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC").dt.tz_localize(None)
    epoch = (ms - pd.Timestamp("1970-01-01")) // pd.Timedelta(milliseconds=1)
    i = t.schema.get_field_index("event_time")
    pq.write_table(t.set_column(i, "event_time", pa.array(epoch.to_numpy(), pa.int64())), path)
    edit_yaml(raw, "web_events", "event_time", {"type": "datetime", "unit": "ms"})
    loaded = load_source(raw, "web_events")
    reconciles(loaded, raw)
    base = baseline("web_events").table
    pd.testing.assert_series_equal(loaded.table["event_time"], base["event_time"])


# ------------------------------------------------------------------------------ declared max


def _file_values(raw: Path, source: str, column: str) -> list[tuple[int, str]]:
    s = read_spec(raw)[source]
    header, rows = read_csv_rows(raw / s.file, s.encoding)
    return [(i + 1, r[header.index(column)]) for i, r in enumerate(rows)]


@pytest.mark.parametrize(
    "source, column, decl, top",
    [
        ("ecom_orders", "amount", {"type": "float", "max": 500}, 500.0),
        ("pos_orders", "amount", {"type": "float", "max": 1000.5}, 1000.5),
        ("crm_members", "birth_year", {"type": "int", "max": 2005}, 2005.0),
    ],
)
def test_declared_max_quarantines_every_value_above(source, column, decl, top, world, baseline,
                                                    tmp_path) -> None:
    raw = copy_world(world, tmp_path)
    edit_yaml(raw, source, column, decl)
    loaded = load_source(raw, source)
    reconciles(loaded, raw)
    over = {r for r, v in _file_values(raw, source, column) if v.strip() and float(v) > top}
    assert len(over) > 5  # the bound bites on real values
    assert problems(loaded) == problems(baseline(source)) | {(r, column, "above_max") for r in over}
    assert loaded.table[column].max() <= top
    assert loaded.accepted == len(baseline(source).table) - len(over)


# ------------------------------------------------------------------------------ audit outliers


def test_audit_lists_outlying_amounts_with_their_file_rows(world, tmp_path) -> None:
    raw = copy_world(world, tmp_path)
    s = read_spec(raw)["ecom_orders"]
    header, rows = read_csv_rows(raw / s.file, s.encoding)
    col = header.index("amount")
    planted = {57: "2500000", 300: "880000.50", 1201: "0.001"}  # under the default max: accepted
    rows[9][col] = "-5"  # and one quarantined row before them: row numbers must skip it
    for r, v in planted.items():
        rows[r - 1][col] = v
    write_csv_rows(raw / s.file, s.encoding, header, rows)
    ds = load_dataset(raw, sources=["ecom_orders", "pos_orders"])
    assert ds.counts["reconciled"].all()
    assert problems_of(ds) == {(10, "amount", "negative_amount")}
    out = audit.amount_outliers(ds)
    assert list(out.columns) == list(audit.OUTLIER_COLUMNS)
    got = {(int(r.row), r.value, r.direction) for r in out.itertuples() if r.source == "ecom_orders"}
    assert got == {(57, 2500000.0, "high"), (300, 880000.5, "high"), (1201, 0.001, "low")}
    assert out["robust_z"].abs().min() > audit.OUTLIER_Z
    for r in out.itertuples():  # the listed row of the file holds the listed value
        assert float(rows[r.row - 1][col]) == r.value
    # No personal data: amounts and row numbers only.
    assert set(out.columns) == {"source", "row", "column", "value", "typical", "robust_z", "direction"}
    issues = audit.outlier_issues(out)
    assert issues[["severity", "source"]].values.tolist() == [["medium", "ecom_orders"]]
    assert issues["figure"].iloc[0] == "3 row(s), e.g. row 1201: 0.001"  # the largest |z|
    assert issues["figure_zh"].iloc[0] == "3 行，例如第 1201 行：0.001"  # the same finding in Chinese
    merged = audit.with_issues(pd.DataFrame([("high", "x", "a", "", "甲", ""), ("low", "y", "b", "", "乙", "")],
                                            columns=issues.columns), issues)
    assert merged["severity"].tolist() == ["high", "medium", "low"]


def problems_of(ds) -> set[tuple[int, str, str]]:
    q = ds.quarantine
    return {(int(r), str(c), str(w)) for r, c, w in zip(q["row"], q["column"], q["reason"],
                                                         strict=True)}


def test_audit_finds_no_outlier_in_the_undamaged_order_sources(world) -> None:
    ds = load_dataset(world, sources=["ecom_orders", "pos_orders"])
    assert audit.amount_outliers(ds).empty


# --------------------------------------------------------------------------- placeholder phones

PLACEHOLDERS_ASCII = ["13800138000", "13800000000", "13888888888", "13912345678", "18888888888",
                      "+86 138 0013 8000", "13987654321", "13700137000"]
PLACEHOLDERS_FULLWIDTH = ["１３８００１３８０００", "１３９１２３４５６７８", "＋８６　１８８８８８８８８８８",
                          "１８８８８８８８８８８", "１３８－００１３－８０００", "１３８００００００００"]


def _resolve(ds):
    ids = identifier_table(ds)
    res = resolve_identities(ids)
    return ids, res.records.set_index("record_key")["cluster"]


@pytest.mark.parametrize("placeholders", [PLACEHOLDERS_ASCII, PLACEHOLDERS_FULLWIDTH],
                         ids=["ascii", "fullwidth"])
def test_placeholder_phones_are_blocked_and_never_link_people(placeholders, world, tmp_path) -> None:
    raw = copy_world(world, tmp_path)
    s = read_spec(raw)["crm_members"]
    header, rows = read_csv_rows(raw / s.file, s.encoding)
    pc_, kc = header.index("phone"), header.index("member_id")
    # Two different members per placeholder, far apart in the file.
    pairs = [(20 + 2 * i, 320 + 2 * i) for i in range(len(placeholders))]
    for (a, b), v in zip(pairs, placeholders, strict=True):
        rows[a - 1][pc_] = rows[b - 1][pc_] = v
    # Control: an ordinary shared phone does link two members.
    ctrl = (600, 610)
    rows[ctrl[0] - 1][pc_] = rows[ctrl[1] - 1][pc_] = "13805716294"
    write_csv_rows(raw / s.file, s.encoding, header, rows)
    ds = load_dataset(raw, sources=["crm_members"])
    assert ds.counts["reconciled"].all() and ds.counts["rows_in"].iloc[0] == count_records(
        raw, "crm_members")
    ids, cluster = _resolve(ds)
    phones = ids[ids["id_type"] == "phone"].set_index("record_key")
    key = lambda r: f"crm_members:{rows[r - 1][kc]}"  # noqa: E731
    for (a, b), v in zip(pairs, placeholders, strict=True):
        for r in (a, b):
            p = phones.loc[key(r)]
            assert not p["valid"] and pd.isna(p["value"]), v
            assert p["reason"] in ("blocked_default_phone", "sequential"), v
        assert cluster[key(a)] != cluster[key(b)], v
    assert cluster[key(ctrl[0])] == cluster[key(ctrl[1])]
    assert phones.loc[key(ctrl[0]), "valid"]
