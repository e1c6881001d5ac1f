"""Data audit checks against the small world's known injected problems."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from omni.audit.clocks import timezone_check
from omni.audit.completeness import completeness
from omni.audit.identifiers import identifier_validity, referential_integrity
from omni.audit.issues import ranked_issues
from omni.audit.pii import pii_inventory
from omni.audit.scores import quality_scores
from omni.audit.sources import quarantine_reasons, source_overview
from omni.audit.volume import monthly_volume, volume_change
from omni.io import load_dataset
from omni.normalize import identifier_table


@pytest.fixture(scope="module")
def ds(test_world):
    return load_dataset(test_world)


@pytest.fixture(scope="module")
def ids(ds):
    return identifier_table(ds)


def test_quarantine_counts_match_injected_bad_rows(ds, test_world):
    params = json.loads((test_world / "truth" / "params.json").read_text())
    ov = source_overview(ds, "2026-10").set_index("source")
    assert ov["reconciled"].all()
    assert (ov["rows_in"] == ov["accepted"] + ov["quarantined"]).all()
    for source, kinds in params["bad_rows"].items():
        injected = sum(k["count"] for k in kinds.values())
        assert ov.loc[source, "quarantined"] == injected, source
    q = quarantine_reasons(ds)
    assert q["problems"].sum() >= ov["quarantined"].sum()


def _copy_world(src: Path, dst: Path, edit) -> Path:
    shutil.copytree(src / "raw", dst / "raw")
    spec_path = dst / "raw" / "sources.yaml"
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    edit(spec)
    spec_path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dst


def test_timezone_check_finds_a_source_declared_in_the_wrong_timezone(test_world, tmp_path):
    def wrong_tz(spec):
        spec["sources"]["service_tickets"]["timezone"] = "Asia/Shanghai"  # really UTC

    ds_bad = load_dataset(_copy_world(test_world, tmp_path / "bad", wrong_tz))
    tz = timezone_check(ds_bad, min_rows=100).set_index("source")
    assert bool(tz.loc["service_tickets", "flag"])
    assert abs(int(tz.loc["service_tickets", "best_shift_hours"])) in (7, 8, 9)
    ok = timezone_check(load_dataset(test_world), min_rows=100).set_index("source")
    assert not ok["flag"].any()


def test_pii_inventory_flags_undeclared_personal_data(test_world, tmp_path):
    def undeclare_name(spec):
        crm = spec["sources"]["crm_members"]
        crm["quasi_identifiers"] = [q for q in crm.get("quasi_identifiers", []) if q["column"] != "name"]
        crm["pii"] = [c for c in crm.get("pii", []) if c != "name"]

    ds_bad = load_dataset(_copy_world(test_world, tmp_path / "pii", undeclare_name))
    inv = pii_inventory(ds_bad)
    row = inv[(inv["source"] == "crm_members") & (inv["column"] == "name")].iloc[0]
    assert row["undeclared"] and row["detected_as"] == "name"
    # the undeclared column is one more medium issue of the CRM, and the only difference
    def crm_medium(ds, pii):
        issues = ranked_issues(source_overview(ds, "2026-10"), quarantine_reasons(ds),
                               identifier_validity(identifier_table(ds)), pd.DataFrame(),
                               pd.DataFrame(), pd.DataFrame(columns=["source", "change"]), pii)
        return issues[(issues["source"] == "crm_members") & (issues["severity"] == "medium")]

    ds_ok = load_dataset(test_world)
    bad, ok = crm_medium(ds_bad, inv), crm_medium(ds_ok, pii_inventory(ds_ok))
    assert len(bad) == len(ok) + 1
    assert (bad["figure"] == "").sum() == (ok["figure"] == "").sum() + 1  # a finding without a count
    new = bad[~bad["issue"].isin(ok["issue"])].iloc[0]  # the finding, worded in both report languages
    assert new["issue"] == "column 'name' holds personal data (name) but is not declared"
    assert new["issue_zh"] == "列 'name' 含个人信息（name）但未声明"


def test_issues_table_in_the_report_language():
    from omni.audit.narrative import issues_table
    from omni.audit.result import AuditResult
    from omni.core.i18n import using_lang

    issues = pd.DataFrame([("high", "pos", "rows quarantined", "9 (1.00%)", "有行被隔离", "9 (1.00%)"),
                           ("low", "web", "stale: last record long before month end", "15 days",
                            "数据陈旧：最后一条记录远早于月末", "15 天")],
                          columns=["severity", "source", "issue", "figure", "issue_zh", "figure_zh"])
    from omni.core.month import Month

    r = AuditResult(month=Month.parse("2026-10"), tables={"issues": issues})
    assert issues_table(r).values.tolist() == issues[["severity", "source", "issue", "figure"]].values.tolist()
    with using_lang("zh"):
        assert issues_table(r).values.tolist() == [["高", "pos", "有行被隔离", "9 (1.00%)"],
                                                   ["低", "web", "数据陈旧：最后一条记录远早于月末", "15 天"]]


def test_referential_integrity_counts_unknown_member_ids():
    ids = pd.DataFrame({
        "source": ["crm", "crm", "crm", "pos", "pos", "pos", "pos"],
        "id_type": ["member_id"] * 7,
        "value": ["M1", "M2", "M3", "M1", "M2", "M9", "M9"],
        "valid": [True] * 7,
    })
    ri = referential_integrity(ids).set_index("source")
    assert ri.loc["pos", "master"] == "crm"
    assert ri.loc["pos", "values"] == 3 and ri.loc["pos", "unknown_to_master"] == 1


def test_identifier_validity_and_quality_scores(ds, ids):
    v = identifier_validity(ids)
    assert ((v["valid_share"] >= 0) & (v["valid_share"] <= 1)).all()
    pos_phone = v[(v["source"] == "pos_orders") & (v["id_type"] == "phone")].iloc[0]
    assert pos_phone["valid_share"] < 1  # clerks' default phones are blocked
    assert (v["valid"] + v["null_like"] + v["invalid_other"] == v["values"]).all()
    assert pos_phone["invalid_other"] > 0 and pos_phone["top_invalid_reason"] != "null_like"
    ov = source_overview(ds, "2026-10")
    scores = quality_scores(ov, completeness(ds), v, timezone_check(ds))
    assert scores["score"].between(0, 100).all()
    assert len(scores) == len(ov)


def test_volume_change_against_previous_months(ds):
    vol = monthly_volume(ds, "2026-10", months=6)
    assert list(vol.index.astype(str)) == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    ch = volume_change(vol).set_index("source")
    crm = vol["crm_members"]
    assert ch.loc["crm_members", "this_month"] == crm.iloc[-1]
    assert ch.loc["crm_members", "previous_mean"] == pytest.approx(crm.iloc[-4:-1].mean())


def test_file_rows_are_the_rows_read_minus_the_quarantined():
    """Each accepted row's file row: the rows read minus the quarantined row numbers (repeats and
    numbers outside the file ignored); None when the count does not match or a row is unknown."""
    import numpy as np

    from omni.audit.sources import file_rows

    rng = np.random.default_rng(5)
    for n in (0, 1, 7, 10_000):
        rej = pd.Series(rng.integers(-2, n + 3, size=min(n, 300)), dtype="int64")
        want = np.setdiff1d(np.arange(1, n + 1), rej.to_numpy())
        got = file_rows(n, rej, len(want))
        assert got is not None and got.tolist() == want.tolist()
    assert file_rows(10, pd.Series([2, 5]), 9) is None  # 8 rows are left, not 9
    assert file_rows(10, pd.Series([2.0, None]), 8) is None


def test_duplicate_rows_count_repeats_in_every_column_but_the_key(ds):
    """Rows equal in every declared column but the key are counted once each beyond the first,
    missing values equal to each other (as pandas' ``duplicated``), whatever the column types."""
    import numpy as np

    from omni.audit.duplicates import distinct_rows, duplicate_row, duplicate_rows

    name = "ecom_orders"
    s = ds.spec.sources[name]
    t = ds.tables[name]
    base = duplicate_row(name, s, t)
    cols = [c for c in s.columns if c != s.key]
    assert base["duplicate_rows"] == int(t.duplicated(subset=cols).sum())
    # three rows repeated with new keys (one twice), one of them with missing values
    extra = t.iloc[[0, 5, 5, 9]].copy()
    extra[s.key] = [f"dup-{i}" for i in range(len(extra))]
    t2 = pd.concat([t, extra], ignore_index=True)
    miss = [c for c in cols if t2[c].dtype != bool][:3]
    t2.loc[[9, len(t2) - 1], miss] = None
    got = duplicate_row(name, s, t2)
    assert got["duplicate_rows"] == base["duplicate_rows"] + 4
    assert got["rows"] == len(t2) and got["duplicate_share"] == pytest.approx(got["duplicate_rows"] / len(t2))
    table = duplicate_rows(ds).set_index("source")
    assert table.loc[name, "duplicate_rows"] == base["duplicate_rows"]

    f = pd.DataFrame({
        "s": pd.array(["a", "a", None, None, "b", "a"], dtype="string[pyarrow]"),
        "x": [1.0, 1.0, np.nan, np.nan, 2.0, 1.0],
        "n": pd.array([1, 1, pd.NA, pd.NA, 3, 2], dtype="Int64"),
        "c": pd.Categorical(["u", "u", None, None, "v", "u"]),
        "t": pd.to_datetime(["2026-01-01", "2026-01-01", None, None, "2026-02-01", "2026-01-01"]),
    })
    assert distinct_rows(f) == len(f) - int(f.duplicated().sum()) == 4
    mixed = pd.DataFrame({"o": [1, "1", 1, (1,), (1,)]}, dtype=object)  # DuckDB cannot scan it
    assert distinct_rows(mixed) == len(mixed) - int(mixed.duplicated().sum()) == 3
