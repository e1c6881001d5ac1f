"""Consent is a ratchet: opt-outs on quarantined rows count, and an opted-out record's identifiers are
suppressed for everyone, even where OneID did not join that record to the person."""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pandas as pd
import pytest

from omni.audience import (
    AudienceFeatures,
    apply_quarantined_opt_outs,
    build_audiences,
    contact_identifiers,
    export_audiences,
    opt_out_identifiers,
    opted_out,
    parse_definitions,
    platform_hash,
    quarantined_opt_outs,
    read_log,
    suppressed_by_identifier,
)
from omni.privacy import find_raw_pii_in_text

KEY = "0123456789abcdef" * 4  # 64 hex characters
MONTH = "2026-10"


def _md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


def _sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


# ----------------------------------------------------------------- quarantined rows, by hand

YAML = """\
dataset: consent_mini
timezone: Asia/Shanghai
sources:
  crm_members:
    file: crm_members.csv
    key: member_id
    columns:
      member_id: string
      phone: string
      email: string
      register_time: datetime
      marketing_opt_out: bool
    required: [member_id, register_time]
    identifiers:
      - {column: member_id, type: member_id}
      - {column: phone, type: phone}
      - {column: email, type: email}
    pii: [phone, email]
"""

CRM = """\
member_id,phone,email,register_time,marketing_opt_out
M1,13800138001,a@qq.com,2026-01-01 10:00:00,false
M1,+86 138-0013-8001,A@QQ.com ,2026-02-01 10:00:00,true
M2,13900139002,b@qq.com,not a date,true
M3,13700137003,,2026-01-03 10:00:00,maybe
M4,13600136004,d@qq.com,2026-01-04 10:00:00,false,extra
M5,13500135005,e@qq.com,2026-01-05 10:00:00,false
M6,13400134006,f@qq.com,not a date either,false
,13300133007,g@qq.com,2026-01-07 10:00:00,yes
"""


@pytest.fixture
def mini(tmp_path):
    raw = tmp_path / "mini" / "raw"
    raw.mkdir(parents=True)
    (raw / "sources.yaml").write_text(YAML, encoding="utf-8")
    (raw / "crm_members.csv").write_text(CRM, encoding="utf-8")
    return tmp_path / "mini"


def test_quarantined_rows_keep_their_opt_out_and_identifiers(mini):
    from omni.io import load_dataset
    from omni.normalize import identifier_table

    ds = load_dataset(mini)
    q = ds.quarantine
    assert sorted(zip(q["row"].astype(int), q["reason"].astype(str), strict=True)) == [
        (2, "duplicate_key"), (3, "unparseable_datetime"), (4, "unparseable_bool"), (5, "bad_column_count"),
        (7, "unparseable_datetime"), (8, "null_required")]
    got = quarantined_opt_outs(ds.spec, ds.quarantine)
    rows = got.rows
    # row 2: the duplicate opted out; 3: a bad date, opted out; 4: an unreadable flag counts as an
    # opt-out; 8: no key, opted out; 7 did not opt out; 5 cannot be read at all
    assert rows["row"].tolist() == [2, 3, 4, 8]
    assert rows["record_key"].tolist()[:3] == ["crm_members:M1", "crm_members:M2", "crm_members:M3"]
    assert pd.isna(rows["record_key"].iloc[3])
    assert rows["reasons"].tolist() == ["duplicate_key", "unparseable_datetime", "unparseable_bool", "null_required"]
    assert rows["unreadable"].tolist() == [False, False, True, False]
    assert got.unreadable_rows == 1
    # identifiers normalized exactly like accepted rows': the duplicate's "+86 138-0013-8001" and
    # "A@QQ.com " are M1's accepted values
    accepted = identifier_table(ds)
    m1 = accepted.loc[accepted["record_key"] == "crm_members:M1"].set_index("id_type")["value"].astype(str)
    dup = got.ids.loc[got.ids["row"] == 2].set_index("id_type")["value"].astype(str)
    assert dup.to_dict() == m1.to_dict() == {"member_id": "M1", "phone": "+8613800138001", "email": "a@qq.com"}
    by_row = got.ids.groupby("row")["id_type"].apply(lambda s: sorted(s.astype(str))).to_dict()
    assert by_row == {2: ["email", "member_id", "phone"], 3: ["email", "member_id", "phone"],
                      4: ["member_id", "phone"], 8: ["email", "phone"]}
    # the same without the loaded quarantine (the consent sources are read and validated again)
    again = quarantined_opt_outs(ds.spec)
    pd.testing.assert_frame_equal(again.rows, rows)
    pd.testing.assert_frame_equal(again.ids, got.ids)
    assert again.unreadable_rows == 1


def test_quarantined_duplicate_opts_the_profile_out(mini):
    from omni.workspace import Workspace

    ws = Workspace(mini)
    res = ws.resolve()
    ro = res.record_oneid.set_index("record_key")["oneid"]
    prof = res.profiles.set_index("oneid")["marketing_opt_out"]
    # M1's only accepted record says false; its quarantined duplicate says true
    assert bool(prof[ro["crm_members:M1"]]) is True
    assert bool(prof[ro["crm_members:M5"]]) is False
    assert res.summary["opt_outs_from_quarantine"] == 1
    assert int(prof.sum()) == 1  # M2, M3 and the keyless row are no accepted record: no profile


def test_apply_and_opted_out_by_hand():
    from omni.audience import QuarantinedOptOuts

    profiles = pd.DataFrame({"oneid": ["O1", "O2", "O3"], "marketing_opt_out": [False, True, False]})
    ro = pd.DataFrame({"record_key": ["crm:A", "crm:B", "crm:C", "web:Z"], "oneid": ["O1", "O2", "O3", "O3"]})
    q = QuarantinedOptOuts.empty()
    q.rows = pd.DataFrame({"source": ["crm", "crm", "crm"], "row": [5, 6, 7],
                           "record_key": pd.array(["crm:C", "crm:B", None], dtype="string[pyarrow]"),
                           "reasons": ["duplicate_key"] * 3, "unreadable": [False] * 3})
    out = apply_quarantined_opt_outs(profiles, ro, q)
    assert out["marketing_opt_out"].tolist() == [False, True, True]
    assert out.attrs["opt_outs_from_quarantine"] == 1
    assert profiles["marketing_opt_out"].tolist() == [False, True, False]  # the input is not changed
    oo = opted_out(profiles, ro, quarantined=q)
    assert oo.to_dict() == {"O1": False, "O2": True, "O3": True}
    assert oo.attrs == {"from_profile": 1, "from_records_only": 0, "from_quarantine_only": 1}


# ------------------------------------------------------------ suppression by identifier, by hand


@pytest.fixture
def split():
    """O1's CRM record opted out; its phone is also on O2's e-commerce record, which OneID did not join
    to it (a rule split them). O3 holds the same digits as an invalid value, O4 as a member id."""
    ids = pd.DataFrame([
        ("crm:1", "phone", "13600136000", "+8613600136000", True),       # opted out
        ("crm:1", "email", "optout@163.com", "optout@163.com", True),
        ("ecom:9", "phone", "136 0013 6000", "+8613600136000", True),    # the same phone, not joined
        ("ecom:9", "email", "other@qq.com", "other@qq.com", True),
        ("tp:9", "device_id", "FF1999CD-7177-4937-A474-74937A102630", "ff1999cd-7177-4937-a474-74937a102630", True),
        ("crm:3", "phone", "13800138000", "+8613800138000", True),
        ("crm:3", "email", "+8613600136000", "+8613600136000", False),   # invalid: never matches
        ("crm:4", "member_id", "+8613600136000", "+8613600136000", True),  # another type: no match
        ("crm:4", "phone", "13900139000", "+8613900139000", True),
        ("crm:5", "phone", "13700137000", "+8613700137000", True),
    ], columns=["record_key", "id_type", "raw", "value", "valid"])
    ro = pd.DataFrame({"record_key": ["crm:1", "ecom:9", "tp:9", "crm:3", "crm:4", "crm:5"],
                       "oneid": ["O1", "O2", "O2", "O3", "O4", "O5"]})
    crm = pd.DataFrame({"id": ["1", "3", "4", "5"],
                        "marketing_opt_out": pd.array([True, False, False, False], dtype="boolean")})
    tables, keys = {"crm": crm}, {"crm": "id"}
    profiles = pd.DataFrame({"oneid": [f"O{i}" for i in range(1, 6)], "seg": "x",
                             "marketing_opt_out": [False] * 5})   # the profile does not know yet
    oo = opted_out(profiles, ro, tables, keys)
    feats = AudienceFeatures(profiles, "2026-11-01")
    defs = parse_definitions({"audiences": {"all_x": {"description": "test", "rule": {
        "type": "profile", "column": "seg", "values": ["x"]}}}})
    aset = build_audiences(defs, feats, opted_out=oo)
    contacts = contact_identifiers(ids, ro, people=aset.people[aset.union()], opted_out=oo)
    values = opt_out_identifiers(ids, tables, keys)
    sup = suppressed_by_identifier(ids, ro, values, people=aset.people)
    return aset, contacts, values, sup


def test_opt_out_identifiers_and_who_holds_them(split):
    _, _, values, sup = split
    assert list(zip(values["id_type"], values["value"], strict=True)) == [
        ("email", "optout@163.com"), ("phone", "+8613600136000")]
    assert values.attrs == {"records": 1, "quarantined_records": 0, "values": 2}
    assert sup.to_dict() == {"O1": True, "O2": True, "O3": False, "O4": False, "O5": False}
    assert sup.attrs == {"records": 1, "quarantined_records": 0, "values": 2}


def test_export_removes_holders_of_an_opted_out_identifier(split, tmp_path):
    aset, contacts, _, sup = split
    res = export_audiences(aset, contacts, tmp_path, key=KEY, suppressed=sup, context={"dataset": "split"})
    by = {r.platform: r for r in res}
    # 5 people: O1 opted out (by OneID), O2 holds O1's phone (by identifier), O3-O5 exported
    for p in ("tencent", "google", "meta", "oneid"):
        r = by[p]
        assert (r.in_audience, r.opted_out_removed, r.opted_out_identifier_removed, r.exported,
                r.no_identifier) == (5, 1, 1, 3, 0), p
        assert r.exported + r.opted_out_removed + r.opted_out_identifier_removed + r.no_identifier == r.in_audience
    text = "".join(p.read_text() for p in tmp_path.iterdir())
    # neither the opted-out phone, nor anything of O2 (its email, its IDFA) left, under any hash
    for gone in (_md5("13600136000"), _sha("+8613600136000"), _sha("8613600136000"), _sha("optout@163.com"),
                 _sha("other@qq.com"), "2c010ed96aef2fc34983e1e7e9176b7e"):
        assert gone not in text
    for kept in (_md5("13800138000"), _md5("13900139000"), _md5("13700137000")):
        assert kept in text
    from omni.privacy import pseudonymize

    oneid = pd.read_csv(tmp_path / "all_x.oneid.csv", dtype=str)["oneid_pseudonym"].tolist()
    assert oneid == sorted(pseudonymize(["O3", "O4", "O5"], key=KEY))
    log = read_log(tmp_path / "export_log.jsonl")
    assert (log["opted_out_identifier_removed"] == 1).all() and log["identifier_suppression"].all()
    assert (log["run_opt_out_identifier_values"] == 2).all() and (log["run_opt_out_records"] == 1).all()
    assert not find_raw_pii_in_text((tmp_path / "export_log.jsonl").read_text(),
                                    ["13600136000", "optout@163.com", "other@qq.com", "O2"])


def test_export_without_suppression_says_so(split, tmp_path):
    aset, contacts, _, _ = split
    res = export_audiences(aset, contacts, tmp_path, key=KEY, platforms=["google"])
    # O2 keeps its email (the shared phone is dropped as a value), and the log says nothing was checked
    assert (res[0].opted_out_identifier_removed, res[0].exported) == (0, 4)
    log = read_log(tmp_path / "export_log.jsonl")
    assert not log["identifier_suppression"].iloc[0]
    assert "run_opt_out_identifier_values" not in log.columns


# -------------------------------------------------------------------- the real world, end to end


def _contact_hashes(contacts: pd.DataFrame, oneids: list[str]) -> set[str]:
    """Every platform hash of these people's contact identifiers."""
    from omni.audience.export import hashed_platform_values

    sub = contacts.loc[contacts["oneid"].isin(oneids)]
    out: set[str] = set()
    for p in ("tencent", "google", "meta"):
        out |= set(hashed_platform_values(sub, p)["hash"].dropna())
    return out


def test_ratchet_on_the_test_world(test_world, tmp_path, monkeypatch):
    from omni.audience import export_dataset, prepare_audiences
    from omni.workspace import Workspace

    monkeypatch.setenv("OMNI_PSEUDONYM_KEY", KEY)
    base = prepare_audiences(test_world, MONTH, workspace=Workspace(test_world))
    aset, contacts = base.audiences, base.contacts()
    ro = base.resolved.record_oneid
    ws0 = base.workspace
    crm = ws0.dataset.tables["crm_members"]
    crm_oneid = pd.Series(ro["oneid"].to_numpy(), index=ro["record_key"].astype(str))
    crm = crm.assign(oneid=crm_oneid.reindex(("crm_members:" + crm["member_id"].astype(str)).to_numpy()).to_numpy())
    # people in some audience, not opted out, with a CRM phone that is exported, one CRM record each
    eligible = set(aset.people[aset.union(eligible=True)])
    usable = set(contacts.loc[contacts["id_type"] == "phone", "value"])
    per = crm["oneid"].value_counts()
    cand = crm.loc[crm["oneid"].isin(eligible) & crm["oneid"].map(per).eq(1)
                   & ~crm["marketing_opt_out"].fillna(False).astype(bool)
                   & ("+86" + crm["phone"].astype(str)).isin(usable)]
    assert len(cand) >= 3
    a, b, c = (cand.iloc[i] for i in (0, len(cand) // 2, len(cand) - 1))

    # the world, copied, with three opt-outs OneID cannot see on the person's own records:
    raw = tmp_path / "world" / "raw"
    shutil.copytree(test_world / "raw", raw)
    lines = (raw / "crm_members.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row_a = next(x for x in lines[1:] if x.split(",")[0] == a["member_id"])
    dup = row_a.split(",")
    assert dup[header.index("marketing_opt_out")] == "false"
    dup[header.index("marketing_opt_out")] = "true"

    def new_row(member: str, phone: str, time: str) -> str:
        v = dict.fromkeys(header, "")
        v.update(member_id=member, phone=phone, register_time=time, marketing_opt_out="true")
        return ",".join(v[h] for h in header)

    p_b = str(b["phone"])
    extra = [
        ",".join(dup),                                                      # (1) a duplicate of A's row
        new_row("M99999901", f"+86 {p_b[:3]}-{p_b[3:7]}-{p_b[7:]}", "not a date"),  # (2) quarantined, B's phone
        new_row("M99999902", str(c["phone"]), "2026-11-05 10:00:00"),        # (2) after the month: C's phone
    ]
    (raw / "crm_members.csv").write_text("\n".join(lines + extra) + "\n", encoding="utf-8")
    data = tmp_path / "world"
    out = tmp_path / "exports"
    run, results = export_dataset(data, out, month=MONTH)

    ws = run.workspace
    q = ws.dataset.quarantine
    q = q.loc[q["source"] == "crm_members"]
    n = len(lines) - 1
    assert sorted(zip(q["row"].astype(int), q["reason"].astype(str), strict=True)) == [
        (n + 1, "duplicate_key"), (n + 2, "unparseable_datetime")]
    # (1) the duplicate is quarantined, yet A's profile is opted out and A is removed by OneID
    prof = run.resolved.profiles.set_index("oneid")["marketing_opt_out"]
    assert bool(prof[a["oneid"]]) is True
    assert run.resolved.summary["opt_outs_from_quarantine"] == 1
    assert int(prof.sum()) == int(base.resolved.profiles["marketing_opt_out"].sum()) + 1
    assert bool(run.opted_out[a["oneid"]]) and not run.opted_out[b["oneid"]] and not run.opted_out[c["oneid"]]
    # (2) B and C are not opted out by OneID, but hold an opted-out record's phone
    sup = run.suppressed()
    assert bool(sup[b["oneid"]]) and bool(sup[c["oneid"]])
    assert sup.attrs["quarantined_records"] == 2
    assert int((sup & ~run.opted_out.reindex(sup.index)).sum()) == 2

    files = [p for p in out.iterdir() if p.suffix == ".csv"]
    text = "".join(p.read_text() for p in files)
    gone = _contact_hashes(contacts, [a["oneid"], b["oneid"], c["oneid"]])
    assert len(gone) >= 6 and not any(h in text for h in gone)
    for p in (a["phone"], p_b, c["phone"]):  # each phone, hashed independently
        assert _md5(str(p)) not in text and _sha(f"+86{p}") not in text and _sha(f"86{p}") not in text

    # (3) the counts: per audience x platform, and against the export without these three rows
    res = pd.DataFrame([r.as_dict() for r in results])
    assert (res["in_audience"] == res["exported"] + res["opted_out_removed"]
            + res["opted_out_identifier_removed"] + res["no_identifier"]).all()
    one = res.loc[res["platform"] == "oneid"].set_index("audience")
    assert (one["exported"] + one["opted_out_removed"] + one["opted_out_identifier_removed"]
            == one["in_audience"]).all()
    sizes = aset.sizes().set_index("audience")
    for name, r in one.iterrows():
        m = set(aset.members(name))
        assert r["in_audience"] == sizes.loc[name, "size"]
        assert r["opted_out_removed"] == sizes.loc[name, "opted_out"] + int(a["oneid"] in m)
        assert r["opted_out_identifier_removed"] == int(b["oneid"] in m) + int(c["oneid"] in m)
        assert r["exported"] == sizes.loc[name, "eligible"] - len({a["oneid"], b["oneid"], c["oneid"]} & m)
    assert one["opted_out_identifier_removed"].sum() >= 2
    log = read_log(out / "export_log.jsonl")
    assert len(log) == len(res) and log["identifier_suppression"].all()
    assert log.set_index(["audience", "platform"])["opted_out_identifier_removed"].equals(
        res.set_index(["audience", "platform"])["opted_out_identifier_removed"])
    assert (log["run_opt_out_quarantined_rows"] == 2).all()
    assert (log["run_opt_out_records"] == int(crm["marketing_opt_out"].fillna(False).sum()) + 1).all()
    needles = [str(x) for x in (a["phone"], p_b, c["phone"], a["member_id"])]
    assert not find_raw_pii_in_text(text + (out / "export_log.jsonl").read_text(), needles)
    assert np.isfinite(run.seconds["suppression"])


def test_phone_hash_helpers_agree():
    # the hashes the tests look for are the platforms' own
    assert platform_hash("tencent", "HASH_MOBILE_PHONE", pd.Series(["+8613600136000"])).iloc[0] == _md5("13600136000")
    assert platform_hash("meta", "phone", pd.Series(["+8613600136000"])).iloc[0] == _sha("8613600136000")
