"""Damaged copies of the synthetic world's files: every case ends in a clear error or in
quarantine with a reason, and the rows reconcile with an independent count of the file's records.

Each case copies data/test_world/raw, damages one file or sources.yaml, and loads one source.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml

from omni import audit
from omni.io import DataContractError, load_dataset, load_source

ECOM = "ecom_orders.csv"
ECOM_FIELDS = 14


@pytest.fixture(scope="module")
def pristine(test_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the raw world (the originals are never touched)."""
    d = tmp_path_factory.mktemp("pristine")
    shutil.copytree(test_world / "raw", d / "raw")
    return d


@pytest.fixture(scope="module")
def baseline(pristine: Path) -> dict[str, tuple[int, int, int]]:
    """rows_in, accepted, quarantined per source of the undamaged copy."""
    ds = load_dataset(pristine, sources=["ecom_orders", "crm_members", "pos_orders"])
    c = ds.counts.set_index("source")
    return {s: (int(r.rows_in), int(r.accepted), int(r.quarantined)) for s, r in c.iterrows()}


def physical_records(path: Path) -> int:
    """Independent count: non-blank lines after the header (no value in these files spans lines)."""
    lines = path.read_bytes().split(b"\n")
    return sum(1 for ln in lines[1:] if ln.strip(b"\r"))


def _lines(p: Path) -> list[bytes]:
    return p.read_bytes().split(b"\n")


def quote_field(name: str, row: int, field: int) -> Callable[[Path], None]:
    """Put a stray double quote at the start of field ``field`` of data row ``row``."""

    def damage(raw: Path) -> None:
        lines = _lines(raw / name)
        f = lines[row].split(b",")
        f[field] = b'"' + f[field]
        lines[row] = b",".join(f)
        (raw / name).write_bytes(b"\n".join(lines))

    return damage


def edit_spec(edit: Callable[[dict], None]) -> Callable[[Path], None]:
    def damage(raw: Path) -> None:
        p = raw / "sources.yaml"
        spec = yaml.safe_load(p.read_text(encoding="utf-8"))
        edit(spec)
        p.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")

    return damage


def rename_key(path: tuple, old: str, new: str) -> Callable[[Path], None]:
    def edit(spec: dict) -> None:
        node = spec
        for k in path:
            node = node[k]
        items = list(node.items())
        node.clear()
        node.update({(new if k == old else k): v for k, v in items})

    return edit_spec(edit)


@dataclass
class Case:
    """One damaged input: what to damage and what must come out."""

    id: str
    source: str
    damage: Callable[[Path], None]
    error: str | None = None  # regex the DataContractError must match
    reasons: dict[int, str] | None = None  # quarantined row -> reason
    note: str | None = None  # regex on the quarantine 'value' of the first quote row
    check: str | None = None  # ReadIssue check expected (an audit issue)
    delta_accepted: int | None = 0  # accepted rows vs the undamaged copy (None: not compared)


def _two_quotes(raw: Path) -> None:
    quote_field(ECOM, 100, -1)(raw)  # opens a value in the address of row 100 ...
    quote_field(ECOM, 130, 5)(raw)  # ... which the stray quote in row 130's amount closes


def _header_only(raw: Path) -> None:
    p = raw / ECOM
    p.write_bytes(_lines(p)[0] + b"\n")


def _mojibake(raw: Path) -> None:
    """The GBK file rewritten as UTF-8 under 'encoding: gbk', keeping the lines whose UTF-8
    bytes also decode as GBK (苏州 -> 鑻忓窞): a file that loads but reads as garbage."""
    p = raw / "pos_orders.csv"
    kept = []
    for line in p.read_bytes().decode("gbk").encode("utf-8").split(b"\n"):
        try:
            line.decode("gbk")
        except UnicodeDecodeError:
            continue
        kept.append(line)
    assert len(kept) > 100
    p.write_bytes(b"\n".join(kept))


def _cut_short(raw: Path) -> None:
    p = raw / ECOM
    data = p.read_bytes().rstrip(b"\n")
    p.write_bytes(data[: data.rindex(b",") - 3])  # last record loses its last field(s)


def _cut_in_quote(raw: Path) -> None:
    p = raw / ECOM
    lines = p.read_bytes().rstrip(b"\n").split(b"\n")
    f = lines[-1].split(b",")
    f[-1] = b'"' + f[-1][:6]  # a quoted address cut off mid-value, no newline
    lines[-1] = b",".join(f)
    p.write_bytes(b"\n".join(lines))


def _multiline_ok(raw: Path) -> None:
    lines = _lines(raw / ECOM)
    f = lines[50].split(b",")
    f[-1] = b'"' + f[-1] + b'\n(back door)"'  # a legitimate two-line address
    lines[50] = b",".join(f)
    (raw / ECOM).write_bytes(b"\n".join(lines))


def _too_many_fields(raw: Path) -> None:
    lines = _lines(raw / ECOM)
    lines[42] += b",extra"
    (raw / ECOM).write_bytes(b"\n".join(lines))


def _outside(raw: Path) -> None:
    shutil.move(raw / ECOM, raw.parent / ECOM)
    edit_spec(lambda s: s["sources"]["ecom_orders"].update(file="../" + ECOM))(raw)


def _absolute(raw: Path) -> None:
    edit_spec(lambda s: s["sources"]["ecom_orders"].update(file=str(raw / ECOM)))(raw)


def _column_mapping(key: str) -> Callable[[Path], None]:
    return edit_spec(
        lambda s: s["sources"]["ecom_orders"]["columns"].update(
            amount={"type": "float", key: 100000}
        )
    )


CASES = [
    Case("quote-first-field", "ecom_orders", quote_field(ECOM, 100, 0),
         reasons={100: "unbalanced_quote"}, note="swallowed 6125 lines", check="unbalanced_quote",
         delta_accepted=-1),
    Case("quote-middle-field", "ecom_orders", quote_field(ECOM, 100, 5),
         reasons={100: "unbalanced_quote"}, note="swallowed 6125 lines", check="unbalanced_quote",
         delta_accepted=-1),
    Case("quote-last-field", "ecom_orders", quote_field(ECOM, 100, -1),
         reasons={100: "unbalanced_quote"}, note="swallowed 6125 lines", check="unbalanced_quote",
         delta_accepted=-1),
    Case("quote-opened-and-closed", "ecom_orders", _two_quotes,
         reasons={100: "unbalanced_quote", 130: "unbalanced_quote"}, note="swallowed 30 lines",
         check="unbalanced_quote", delta_accepted=-2),
    Case("quote-crm-first-field", "crm_members", quote_field("crm_members.csv", 7, 0),
         reasons={7: "unbalanced_quote"}, note="swallowed", check="unbalanced_quote",
         delta_accepted=-1),
    Case("header-only", "ecom_orders", _header_only, check="header_only", delta_accepted=None),
    Case("mojibake", "pos_orders", _mojibake, check="mojibake", delta_accepted=None),
    Case("cut-short-last-line", "ecom_orders", _cut_short, reasons={6225: "bad_column_count"},
         check="truncated_last_line", delta_accepted=-1),
    Case("cut-inside-quote", "ecom_orders", _cut_in_quote, reasons={6225: "unbalanced_quote"},
         note="ends inside a quoted value", check="truncated_last_line", delta_accepted=-1),
    Case("legit-multiline-value", "ecom_orders", _multiline_ok),
    Case("too-many-fields", "ecom_orders", _too_many_fields, reasons={42: "bad_column_count"},
         delta_accepted=-1),
    Case("misspelt-source-key", "crm_members", rename_key(("sources", "crm_members"),
                                                          "identifiers", "identifers"),
         error=r"source 'crm_members' \(file 'crm_members.csv'\): unknown key 'identifers'.*"
               r"did you mean 'identifiers'\?"),
    Case("misspelt-top-level-key", "crm_members", rename_key((), "timezone", "timezon"),
         error=r"sources.yaml: unknown key 'timezon' in the top level; did you mean 'timezone'\?"),
    Case("misspelt-column-key", "ecom_orders", _column_mapping("maxx"),
         error=r"source 'ecom_orders' \(file 'ecom_orders.csv'\): unknown key 'maxx' in column "
               r"'amount'; did you mean 'max'\?"),
    Case("misspelt-identifier-key", "crm_members", edit_spec(
        lambda s: s["sources"]["crm_members"]["identifiers"][1].update(
            colunm=s["sources"]["crm_members"]["identifiers"][1].pop("column"))),
        error=r"source 'crm_members' \(file 'crm_members.csv'\).*identifiers\[1\]"),
    Case("misspelt-identifier-scope", "ecom_orders", edit_spec(
        lambda s: s["sources"]["ecom_orders"]["identifiers"][0].update(scop="platform")),
        error=r"source 'ecom_orders' .*unknown key 'scop' in identifiers\[0\]; "
              r"did you mean 'scope'\?"),
    Case("file-outside-dataset", "ecom_orders", _outside,
         error=r"source 'ecom_orders' \(file '../ecom_orders.csv'\): file path leaves the dataset "
               r"folder.*allow_outside_dataset: true"),
    Case("file-absolute-path", "ecom_orders", _absolute,
         error=r"source 'ecom_orders' .*file path leaves the dataset folder"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_damaged_input(case: Case, pristine: Path, baseline: dict, tmp_path: Path) -> None:
    shutil.copytree(pristine / "raw", tmp_path / "raw")
    raw = tmp_path / "raw"
    case.damage(raw)
    if case.error:
        with pytest.raises(DataContractError, match=case.error) as e:
            load_source(tmp_path, case.source)
        assert "\n" not in str(e.value)
        return
    ls = load_source(tmp_path, case.source)
    path = raw / ls.spec.file
    # reconciliation against an independent count of the file's physical records
    expected = physical_records(path) - (1 if case.id == "legit-multiline-value" else 0)
    assert ls.file_records == expected
    assert ls.rows_in == ls.accepted + ls.quarantined == expected
    assert ls.counts()["reconciled"]
    rows_in, accepted, quarantined = baseline[case.source]
    if case.id == "header-only":
        assert ls.rows_in == ls.accepted == 0
    elif case.delta_accepted is not None:
        assert ls.accepted == accepted + case.delta_accepted
    q = ls.quarantine
    for row, reason in (case.reasons or {}).items():
        hit = q[q["row"] == row]
        assert len(hit) and set(hit["reason"].astype(str)) == {reason}, (row, hit)
    if case.note:
        first = q[q["reason"] == "unbalanced_quote"].iloc[0]
        assert re.search(case.note, first["value"])
    checks = [i.check for i in ls.issues]
    if case.check:
        assert case.check in checks
        assert all(ls.spec.file in i.message and "\n" not in i.message for i in ls.issues)
    else:
        assert checks == []


def test_stray_quote_rereads_every_swallowed_row(pristine: Path, tmp_path: Path) -> None:
    shutil.copytree(pristine / "raw", tmp_path / "raw")
    quote_field(ECOM, 100, 5)(tmp_path / "raw")
    good = load_source(pristine, "ecom_orders").table
    bad = load_source(tmp_path, "ecom_orders")
    # the same orders but the damaged one, with the same values
    lost = set(good["order_id"]) - set(bad.table["order_id"])
    assert len(lost) == 1 and len(bad.table) == len(good) - 1
    after = good[~good["order_id"].isin(lost)].reset_index(drop=True)
    assert after.equals(bad.table)
    with pytest.raises(DataContractError, match=r"ecom_orders.csv.*row 100.*unbalanced_quote"):
        load_source(tmp_path, "ecom_orders", strict=True)


def test_audit_ranks_read_issues_high(pristine: Path, tmp_path: Path) -> None:
    shutil.copytree(pristine / "raw", tmp_path / "raw")
    quote_field(ECOM, 100, -1)(tmp_path / "raw")
    _header_only_crm = tmp_path / "raw" / "crm_members.csv"
    _header_only_crm.write_bytes(_lines(_header_only_crm)[0] + b"\n")
    ds = load_dataset(tmp_path, sources=["ecom_orders", "crm_members"])
    read = audit.read_checks(ds)
    assert set(read["check"]) == {"unbalanced_quote", "header_only"}
    ov = audit.source_overview(ds, "2026-10").set_index("source")
    assert ov.loc["ecom_orders", "file_records"] == 6225
    assert ov.loc[["ecom_orders", "crm_members"], "reconciled"].all()
    empty = np.array([], dtype=object)
    import pandas as pd

    issues = audit.ranked_issues(
        ov.reset_index(), audit.quarantine_reasons(ds), pd.DataFrame(columns=["source", "values"]),
        pd.DataFrame(), pd.DataFrame(), pd.DataFrame(columns=["source", "change"]),
        pd.DataFrame(empty), read=read,
    )
    high = issues[issues["severity"] == "high"]
    assert high["issue"].str.contains("unbalanced quote at row 100 swallowed 6125 lines").any()
    assert high["issue"].str.contains("header but no data rows").any()


def test_unreconciled_file_is_never_claimed(pristine: Path, tmp_path: Path) -> None:
    shutil.copytree(pristine / "raw", tmp_path / "raw")
    ls = load_source(pristine, "ecom_orders")
    ls.file_records = None  # a file that could not be counted independently
    assert ls.counts()["reconciled"] is False
    ls.file_records = ls.rows_in + 1
    assert not ls.counts()["reconciled"]


def test_column_max_and_unit_keys_are_accepted(pristine: Path, tmp_path: Path) -> None:
    shutil.copytree(pristine / "raw", tmp_path / "raw")
    edit_spec(lambda s: s["sources"]["ecom_orders"]["columns"].update(
        amount={"type": "float", "max": 100000, "description": "order amount"},
        order_time={"type": "datetime", "unit": "s"}))(tmp_path / "raw")
    ls = load_source(tmp_path, "ecom_orders")
    assert ls.spec.columns["amount"] == "float" and ls.spec.columns["order_time"] == "datetime"
    assert ls.counts()["reconciled"]


def test_file_outside_dataset_with_explicit_opt_in(pristine: Path, tmp_path: Path) -> None:
    shutil.copytree(pristine / "raw", tmp_path / "raw")
    _outside(tmp_path / "raw")
    edit_spec(lambda s: s["sources"]["ecom_orders"].update(allow_outside_dataset=True))(
        tmp_path / "raw"
    )
    ls = load_source(tmp_path, "ecom_orders")
    assert ls.rows_in == ls.file_records == 6225
