"""Consent, contact identifiers, exports, the refusal without a key, the append-only log, the CLI."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from omni.audience import (
    AudienceFeatures,
    build_audiences,
    contact_identifiers,
    export_audiences,
    opted_out,
    parse_definitions,
    platform_hash,
    read_log,
)
from omni.privacy import PseudonymKeyError, find_raw_pii_in_text

KEY = "6f6d6e692d746573742d6b65792d6e6f742d7365637265742d6a7573742d666f722d7465737473"


def _md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


def _sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


# ------------------------------------------------------------------------------------ consent


def test_opt_out_if_any_record_opted_out():
    profiles = pd.DataFrame({"oneid": ["O1", "O2", "O3"], "marketing_opt_out": [False, True, False]})
    crm = pd.DataFrame({"member_id": ["M1", "M2", "M3", "M4"],
                        "marketing_opt_out": pd.array([True, False, True, False], dtype="boolean")})
    wechat = pd.DataFrame({"follower_id": ["F1"], "marketing_opt_out": ["yes"]})
    ro = pd.DataFrame({"record_key": ["crm_members:M1", "crm_members:M2", "crm_members:M3", "crm_members:M4",
                                      "wechat:F1"],
                       "oneid": ["O1", "O1", "O2", "O3", "O3"]})
    # O1: the newer record (M2) says no opt-out, so the profile's survivorship says False; M1 opted out
    out = opted_out(profiles, ro, {"crm_members": crm, "wechat": wechat},
                    keys={"crm_members": "member_id", "wechat": "follower_id"})
    assert out.to_dict() == {"O1": True, "O2": True, "O3": True}
    assert out.attrs == {"from_profile": 1, "from_records_only": 2, "from_quarantine_only": 0}
    assert opted_out(profiles).to_dict() == {"O1": False, "O2": True, "O3": False}
    with pytest.raises(ValueError, match="no key column"):
        opted_out(profiles, ro, {"crm_members": crm})


# --------------------------------------------------------------------- a hand-made small world


@pytest.fixture
def small():
    ids = pd.DataFrame([
        ("crm:1", "phone", "138 0013 8000", "+8613800138000", True),
        ("pos:1", "phone", "13800138000", "+8613800138000", True),
        ("crm:1", "email", "Jane.Doe@gmail.com", "jane.doe@gmail.com", True),
        ("crm:1", "member_id", "M1", "M1", True),                      # not a contact id
        ("crm:2", "phone", "13900139000", "+8613900139000", True),
        ("crm:2", "email", "a***@qq.com", None, False),                # invalid: never used
        ("crm:3", "phone", "13700137000", "+8613700137000", True),     # shared with O4
        ("crm:3", "email", "o3@qq.com", "o3@qq.com", True),
        ("tp:9", "phone", "13700137000", "+8613700137000", True),
        ("tp:9", "device_id", "FF1999CD-7177-4937-A474-74937A102630", "ff1999cd-7177-4937-a474-74937a102630", True),
        ("crm:5", "phone", "13600136000", "+8613600136000", True),     # opted out
        ("crm:5", "email", "optout@163.com", "optout@163.com", True),
    ], columns=["record_key", "id_type", "raw", "value", "valid"])
    ro = pd.DataFrame({"record_key": ["crm:1", "pos:1", "crm:2", "crm:3", "tp:9", "crm:5", "crm:6"],
                       "oneid": ["O1", "O1", "O2", "O3", "O4", "O5", "O6"]})
    profiles = pd.DataFrame({"oneid": [f"O{i}" for i in range(1, 8)],
                             "seg": ["x", "x", "x", "x", "x", "x", "y"],
                             "marketing_opt_out": [False, False, False, False, True, False, False]})
    oo = opted_out(profiles)
    feats = AudienceFeatures(profiles, "2026-11-01")
    defs = parse_definitions({"audiences": {"everyone_x": {"description": "test", "rule": {
        "type": "profile", "column": "seg", "values": ["x"]}}}})
    aset = build_audiences(defs, feats, opted_out=oo)
    contacts = contact_identifiers(ids, ro, people=aset.people[aset.union()], opted_out=oo)
    return aset, contacts


def test_contact_identifiers_drop_shared_and_opted_out_values(small):
    _, c = small
    got = sorted(zip(c["oneid"], c["id_type"], c["value"], strict=True))
    assert got == [("O1", "email", "jane.doe@gmail.com"), ("O1", "phone", "+8613800138000"),
                   ("O2", "phone", "+8613900139000"), ("O3", "email", "o3@qq.com"),
                   ("O4", "device_id", "ff1999cd-7177-4937-a474-74937a102630")]
    assert c.attrs == {"shared_values": 1, "opted_out_values": 2}
    assert c.loc[c["id_type"] == "phone"].set_index("oneid")["n_records"].to_dict() == {"O1": 2, "O2": 1}
    assert c.loc[c["id_type"] == "device_id", "device_kind"].tolist() == ["idfa"]


def test_export_counts_files_and_hashes(small, tmp_path):
    aset, contacts = small
    res = export_audiences(aset, contacts, tmp_path, key=KEY, context={"dataset": "small"})
    by = {r.platform: r for r in res}
    expect = {"tencent": (3, 2), "google": (3, 2), "meta": (3, 2), "oneid": (5, 0)}
    for p, (exported, none) in expect.items():
        r = by[p]
        assert (r.in_audience, r.opted_out_removed, r.exported, r.no_identifier) == (6, 1, exported, none), p
        assert r.in_audience == r.exported + r.opted_out_removed + r.no_identifier
    t_phone = (tmp_path / "everyone_x.tencent.HASH_MOBILE_PHONE.csv").read_text().split()
    assert t_phone == sorted([_md5("13800138000"), _md5("13900139000")])
    assert (tmp_path / "everyone_x.tencent.HASH_IDFA.csv").read_text() == "2c010ed96aef2fc34983e1e7e9176b7e\n"
    assert not (tmp_path / "everyone_x.tencent.HASH_IMEI.csv").exists()  # nobody has one
    google = pd.read_csv(tmp_path / "everyone_x.google.csv", dtype=str)
    assert list(google.columns) == ["Email", "Phone"]
    assert len(google) == 3
    row = google.loc[google["Email"] == _sha("janedoe@gmail.com")].iloc[0]   # gmail dots removed
    assert row["Phone"] == _sha("+8613800138000")
    assert set(google["Phone"].dropna()) == {_sha("+8613800138000"), _sha("+8613900139000")}
    meta = pd.read_csv(tmp_path / "everyone_x.meta.csv", dtype=str)
    assert list(meta.columns) == ["email", "phone"]
    assert set(meta["email"].dropna()) == {_sha("jane.doe@gmail.com"), _sha("o3@qq.com")}
    assert set(meta["phone"].dropna()) == {_sha("8613800138000"), _sha("8613900139000")}
    oneid = pd.read_csv(tmp_path / "everyone_x.oneid.csv", dtype=str)
    from omni.privacy import pseudonymize

    assert oneid["oneid_pseudonym"].tolist() == sorted(pseudonymize(["O1", "O2", "O3", "O4", "O6"], key=KEY))
    # nothing of the shared phone, the opted-out person or any raw value left
    text = "".join(p.read_text() for p in tmp_path.iterdir())
    for gone in (_md5("13700137000"), _md5("13600136000"), _sha("+8613600136000"), _sha("optout@163.com")):
        assert gone not in text
    assert not find_raw_pii_in_text(text, ["13800138000", "jane.doe@gmail.com", "O1", "M1", "13600136000"])


def test_export_refuses_without_key_and_says_how(small, tmp_path, monkeypatch):
    aset, contacts = small
    monkeypatch.delenv("OMNI_PSEUDONYM_KEY", raising=False)
    out = tmp_path / "never"
    for platforms in (["oneid"], ["tencent"]):
        with pytest.raises(PseudonymKeyError) as err:
            export_audiences(aset, contacts, out, platforms=platforms)
        msg = str(err.value)
        assert "OMNI_PSEUDONYM_KEY" in msg and "secrets.token_hex(32)" in msg and "refuse" in msg
    assert not out.exists()


def test_log_is_append_only_and_exports_deterministic(small, tmp_path):
    aset, contacts = small
    log = tmp_path / "export_log.jsonl"
    export_audiences(aset, contacts, tmp_path, key=KEY, context={"dataset": "small", "data_fingerprint": "ab" * 32})
    first = log.read_bytes()
    lines = first.decode().splitlines()
    assert len(lines) == 4
    e = json.loads(lines[0])
    for k in ("time_utc", "user", "audience", "platform", "in_audience", "opted_out_removed", "no_identifier",
              "exported", "fields", "definition_hash", "data_fingerprint", "files", "key_id"):
        assert k in e, k
    assert e["time_utc"].endswith("Z") and len(e["definition_hash"]) == 64
    f0 = e["files"][0]
    assert hashlib.sha256((tmp_path / f0["file"]).read_bytes()).hexdigest() == f0["sha256"]
    export_audiences(aset, contacts, tmp_path, names=["everyone_x"], platforms=["google", "meta", "oneid", "tencent"],
                     key=KEY)
    second = log.read_bytes()
    assert second.startswith(first)  # earlier lines untouched
    df = read_log(log)
    assert len(df) == 8
    a = df.iloc[:4].set_index("platform")["files"].map(lambda fs: [f["sha256"] for f in fs])
    b = df.iloc[4:].set_index("platform")["files"].map(lambda fs: [f["sha256"] for f in fs])
    assert a.sort_index().equals(b.sort_index())  # same data, same bytes
    assert (df["in_audience"] == df["exported"] + df["opted_out_removed"] + df["no_identifier"]).all()
    assert df["key_id"].nunique() == 1
    assert not find_raw_pii_in_text(second.decode(), ["13800138000", "jane.doe@gmail.com", "O1"])


def test_log_repairs_a_torn_last_line(tmp_path):
    from omni.audience import append_log

    p = tmp_path / "export_log.jsonl"
    p.write_text('{"a": 1}\n{"b": 2')  # an interrupted write
    append_log(p, {"c": 3})
    assert p.read_text() == '{"a": 1}\n{"b": 2\n{"c": 3}\n'


def test_max_per_type_and_bad_arguments(small, tmp_path):
    aset, contacts = small
    extra = pd.DataFrame({"oneid": ["O1"] * 4, "id_type": "email",
                          "value": [f"x{i}@qq.com" for i in range(4)], "device_kind": None, "n_records": [5, 1, 1, 1]})
    c2 = pd.concat([contacts, extra], ignore_index=True)
    export_audiences(aset, c2, tmp_path, platforms=["google"], key=KEY, max_per_type=2, log=False)
    header = (tmp_path / "everyone_x.google.csv").read_text().splitlines()[0]
    assert header == "Email,Email,Phone"
    g = (tmp_path / "everyone_x.google.csv").read_text()
    assert _sha("x0@qq.com") in g and _sha("x1@qq.com") in g  # the most used first, then by hash order
    with pytest.raises(ValueError, match="max_per_type"):
        export_audiences(aset, contacts, tmp_path, key=KEY, max_per_type=5)
    with pytest.raises(ValueError, match="unknown platform"):
        export_audiences(aset, contacts, tmp_path, key=KEY, platforms=["weibo"])
    with pytest.raises(ValueError, match="unknown audience 'nope'"):
        export_audiences(aset, contacts, tmp_path, key=KEY, names=["nope"])


# -------------------------------------------------------------------- end to end on the world


def _raw_contacts(world) -> set[str]:
    raw = world / "raw"
    crm = pd.read_csv(raw / "crm_members.csv", dtype=str)
    tp = pd.read_parquet(raw / "touchpoints.parquet", columns=["phone", "email"])
    vals = set(crm["phone"].dropna()) | set(crm["email"].dropna()) | set(tp["phone"].dropna()) | set(tp["email"].dropna())
    return {v.strip() for v in vals if len(v.strip()) >= 7}


def test_cli_export_end_to_end(test_world, tmp_path, monkeypatch, capsys):
    from omni.cli import main

    out = tmp_path / "aud"
    monkeypatch.delenv("OMNI_PSEUDONYM_KEY", raising=False)
    assert main(["audience", "export", "--data", str(test_world), "--out", str(out), "--quiet"]) == 2
    assert "export OMNI_PSEUDONYM_KEY=" in capsys.readouterr().err
    assert not out.exists()

    monkeypatch.setenv("OMNI_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("OMNI_USER", "test-analyst")
    assert main(["audience", "export", "--data", str(test_world), "--month", "2026-10", "--out", str(out),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "browse_abandon_7d" in printed and "export_log.jsonl" in printed
    log = read_log(out / "export_log.jsonl")
    from omni.audience import load_definitions

    n_aud = len(load_definitions())
    assert len(log) == n_aud * 4 and set(log["platform"]) == {"tencent", "google", "meta", "oneid"}
    assert (log["user"] == "test-analyst").all() and (log["month"] == "2026-10").all()
    assert (log["in_audience"] == log["exported"] + log["opted_out_removed"] + log["opted_out_identifier_removed"]
            + log["no_identifier"]).all()
    assert log["opted_out_removed"].sum() > 0 and log["exported"].sum() > 1000
    # no accepted opted-out record's identifier is held by anyone OneID did not already mark
    assert log["identifier_suppression"].all() and log["opted_out_identifier_removed"].sum() == 0
    files = [p for p in out.iterdir() if p.suffix == ".csv"]
    assert len(files) >= n_aud * 3
    text = "".join(p.read_text() for p in files) + (out / "export_log.jsonl").read_text()
    needles = _raw_contacts(test_world)
    assert len(needles) > 1000
    assert not find_raw_pii_in_text(text, needles)

    # a person of an audience: their CRM phone, hashed independently, is in the Tencent file; and no
    # opted-out member's phone or email hash is in any file
    from omni.audience import prepare_audiences
    from omni.workspace import Workspace

    ws = Workspace(test_world)
    run = prepare_audiences(test_world, "2026-10", workspace=ws)
    aset = run.audiences
    name = "store_only_365d"
    crm = ws.dataset.tables["crm_members"]
    keys = "crm_members:" + crm["member_id"].astype(str)
    ro = run.resolved.record_oneid
    crm_oneid = pd.Series(ro["oneid"].to_numpy(), index=ro["record_key"].astype(str)).reindex(keys.to_numpy())
    phones = pd.Series(crm["phone"].astype("string").to_numpy(), index=crm_oneid.to_numpy())
    members = set(aset.members(name, eligible=True))
    contacts = run.contacts()
    usable = set(contacts.loc[contacts["id_type"] == "phone", "value"])
    cand = [(o, p) for o, p in phones.dropna().items()
            if o in members and len(p) == 11 and f"+86{p}" in usable]
    assert cand, "no audience member with a usable CRM phone"
    tencent = set((out / f"{name}.tencent.HASH_MOBILE_PHONE.csv").read_text().split())
    assert {_md5(p) for _, p in cand} <= tencent
    oo_people = aset.people[aset.union() & aset.opted_out]
    assert len(oo_people) > 0
    theirs = contact_identifiers(ws.ids, ro, people=oo_people)
    hashes = set()
    for plat, field, typ in (("tencent", "HASH_MOBILE_PHONE", "phone"), ("google", "Email", "email"),
                             ("meta", "phone", "phone"), ("google", "Phone", "phone")):
        vals = theirs.loc[theirs["id_type"] == typ, "value"]
        hashes |= set(platform_hash(plat, field, vals).dropna())
    assert hashes and not any(h in text for h in hashes)
    assert np.isclose(aset.sizes().set_index("audience").loc[name, "eligible"],
                      log.loc[(log["audience"] == name) & (log["platform"] == "oneid"), "exported"].iloc[0])
