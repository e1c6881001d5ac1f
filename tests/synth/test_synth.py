"""Tests for the synthetic omnichannel world (omni.synth)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from omni.synth import CampaignSpec, SynthConfig, generate_world
from omni.synth.reference import PANEL_ADULTS
from omni.synth.world import render_sources, simulate

PERSONS = 5_000
SEED = 7
PERSON_SOURCES = (
    "crm_members",
    "web_events",
    "ecom_orders",
    "platform_members",
    "pos_orders",
    "wechat_followers",
    "service_tickets",
    "touchpoints",
    "campaign_assignments",
)
NULL_LIKE = {"null", "NULL", "0", "N/A", ""}
DEFAULT_PHONES = {"13800000000", "13888888888"}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("main") / "sample"
    summary = generate_world(out=out, persons=PERSONS, seed=SEED, progress=False)
    assert summary["out"] == str(out)
    json.dumps(summary)  # JSON-able
    return out


@pytest.fixture(scope="module")
def spec(world) -> dict:
    return yaml.safe_load((world / "raw" / "sources.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def params(world) -> dict:
    return json.loads((world / "truth" / "params.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def raw(world, spec) -> dict[str, pd.DataFrame]:
    out = {}
    for name, s in spec["sources"].items():
        path = world / "raw" / s["file"]
        if s["format"] == "csv":
            out[name] = pd.read_csv(
                path, dtype=str, encoding=s["encoding"], keep_default_na=False, na_values=[""]
            )
        else:
            out[name] = pd.read_parquet(path)
    return out


@pytest.fixture(scope="module")
def truth(world) -> dict[str, pd.DataFrame]:
    names = ("persons", "record_person", "orders_cause", "campaign_truth")
    return {n: pd.read_parquet(world / "truth" / f"{n}.parquet") for n in names}


@pytest.fixture(scope="module")
def person_of(truth) -> pd.Series:
    return truth["record_person"].set_index("record_key")["person_id"]


def _with_person(df: pd.DataFrame, source: str, key: str, person_of: pd.Series) -> pd.DataFrame:
    df = df[df[key].notna()].copy()
    df["person_id"] = (source + ":" + df[key]).map(person_of)
    return df


def _plain_phone(s: pd.Series) -> pd.Series:
    return s.str.fullmatch(r"1\d{10}").fillna(False).astype(bool)


# -- determinism -------------------------------------------------------------------------------
def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_byte_identical_files_and_other_seed_differs(tmp_path):
    a = generate_world(tmp_path / "a" / "ds", persons=1_500, seed=3)
    b = generate_world(tmp_path / "b" / "ds", persons=1_500, seed=3)
    c = generate_world(tmp_path / "c" / "ds", persons=1_500, seed=4)
    fa, fb, fc = (_files(Path(x["out"])) for x in (a, b, c))
    assert fa.keys() == fb.keys() == fc.keys()
    # 15 sources + sources.yaml + 7 truth files (products: issue 19) + the mix dataset (3 sources,
    # sources.yaml, 2 truth files: issue 20)
    assert len(fa) == 29
    for name in fa:
        assert fa[name] == fb[name], f"{name} differs between two runs with the same seed"
    differing = [n for n in fa if fa[n] != fc[n]]
    assert "raw/ecom_orders.csv" in differing and "truth/record_person.parquet" in differing


# -- contract ----------------------------------------------------------------------------------
def test_every_source_exists_with_declared_columns(world, spec, raw):
    contract = (Path(__file__).parents[2] / "docs" / "data_contract.md").read_text(encoding="utf-8")
    assert spec["timezone"] == "Asia/Shanghai" and spec["currency"] == "CNY"
    assert set(spec["sources"]) == set(raw) and len(raw) == 15
    for name, s in spec["sources"].items():
        assert f"| {name} | {s['file']}" in contract, f"{name} not in the contract table"
        df = raw[name]
        assert list(df.columns) == list(s["columns"]), name
        assert len(df) > 0, name
        assert s["key"] in s["columns"] and set(s["required"]) <= set(s["columns"])
        for ident in s["identifiers"] + s["quasi_identifiers"]:
            assert ident["column"] in s["columns"], (name, ident)
            if "scope" in ident:
                assert ident["scope"] in s["columns"], (name, ident)
        assert set(s["pii"]) <= set(s["columns"]), name
        keys = df[s["key"]].dropna()
        assert keys.is_unique, f"{name}: duplicate keys"
    assert spec["sources"]["pos_orders"]["encoding"] == "gbk"
    assert spec["sources"]["service_tickets"]["timezone"] == "UTC"
    assert raw["ecom_orders"]["platform"].isin(["tmall", "jd", "douyin", "site"]).all()
    assert set(raw["touchpoints"]["channel"]) == {
        "search",
        "display",
        "social_kol",
        "sms",
        "email",
        "wechat_push",
    }


def test_record_counts_scale_per_person(raw):
    per_person = {k: len(v) / PERSONS for k, v in raw.items()}
    targets = {
        "crm_members": 0.6,
        "web_events": 6,
        "ecom_orders": 2,
        "pos_orders": 1,
        "wechat_followers": 0.5,
        "service_tickets": 0.1,
        "touchpoints": 8,
    }
    for source, target in targets.items():
        assert 0.7 * target <= per_person[source] <= 1.3 * target, (source, per_person[source])


def test_gbk_file_is_gbk_and_not_utf8(world):
    data = (world / "raw" / "pos_orders.csv").read_bytes()
    text = data.decode("gbk")
    assert re.search(r"[\u4e00-\u9fff]", text)  # city names in Chinese
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_values_look_like_real_exports(raw):
    e = raw["ecom_orders"]
    ok = e["amount"].str.fullmatch(r"\d+\.\d{2}").fillna(False)
    assert ok.mean() > 0.99
    assert e["receiver_phone"].str.fullmatch(r"1\d{2}\*{4}\d{4}").all()
    site = e[e["platform"] == "site"]
    assert site["member_id"].str.fullmatch(r"M\d{8}").all()
    assert site["buyer_id"].str.fullmatch(r"U\d{9}").all()
    buyers = e.loc[e["platform"] != "site", ["platform", "buyer_id"]].dropna()
    buyers = buyers[~buyers["buyer_id"].isin(NULL_LIKE)]
    prefix = buyers["buyer_id"].str[:3].map({"tb_": "tmall", "jd_": "jd", "dy_": "douyin"})
    assert (prefix == buyers["platform"]).all()
    status = e["status"].value_counts(normalize=True)
    assert abs(status["paid"] - 0.90) < 0.03 and abs(status["refunded"] - 0.06) < 0.02
    crm = raw["crm_members"]
    assert crm["member_id"].dropna().str.fullmatch(r"M\d{8}").all()
    assert crm["marketing_opt_out"].isin(["true", "false"]).all()
    assert 0.05 < (crm["marketing_opt_out"] == "true").mean() < 0.11
    wx = raw["wechat_followers"]
    assert wx["app_id"].str.fullmatch(r"wx[0-9a-f]{16}").all() and 2 <= wx["app_id"].nunique() <= 3
    assert wx["openid"].str.fullmatch(r"o[A-Za-z0-9_-]{27}").all()


# -- truth -------------------------------------------------------------------------------------
def test_truth_covers_every_record_exactly_once(raw, spec, truth, params):
    rp = truth["record_person"]
    assert rp["record_key"].is_unique
    assert rp["person_id"].isin(truth["persons"]["person_id"]).all()
    source_of = rp["record_key"].str.split(":", n=1).str[0]
    assert set(source_of) == set(PERSON_SOURCES)
    for name in PERSON_SOURCES:
        key = spec["sources"][name]["key"]
        df = raw[name]
        keys = name + ":" + df[key].dropna()
        in_truth = keys.isin(rp["record_key"])
        assert in_truth.all(), f"{name}: records without truth"
        missing = int(df[key].isna().sum())
        expected_missing = params["bad_rows"].get(name, {}).get("missing_key", {}).get("count", 0)
        assert missing == expected_missing, name
        # the truth also keeps the original key of rows whose key was blanked
        assert (source_of == name).sum() == len(df), name


def test_orders_cause_is_complete_and_points_at_real_touches(raw, truth, person_of):
    oc = truth["orders_cause"]
    n_orders = len(raw["ecom_orders"]) + len(raw["pos_orders"])
    assert len(oc) == n_orders and oc["record_key"].is_unique
    assert set(oc["cause"]) <= {
        "organic",
        "search",
        "display",
        "social_kol",
        "sms",
        "email",
        "wechat_push",
    }
    caused = oc[oc["cause"] != "organic"]
    assert len(caused) > 0 and caused["touch_key"].notna().all()
    assert oc.loc[oc["cause"] == "organic", "touch_key"].isna().all()
    tp = raw["touchpoints"].set_index("touch_id")
    touch = tp.loc[caused["touch_key"].str.split(":", n=1).str[1]]
    assert (touch["channel"].to_numpy() == caused["cause"].to_numpy()).all()
    assert (
        person_of.loc[caused["touch_key"]].to_numpy()
        == person_of.loc[caused["record_key"]].to_numpy()
    ).all()
    # campaign-caused orders carry the campaign of their contact touch
    camp = caused[caused["campaign_id"].notna()]
    assert len(camp) > 0
    assert (
        tp.loc[camp["touch_key"].str[12:], "campaign_id"].to_numpy()
        == camp["campaign_id"].to_numpy()
    ).all()


def test_touch_caused_orders_follow_their_touch(raw, truth):
    oc = truth["orders_cause"]
    caused = oc[oc["cause"] != "organic"].copy()
    times = (
        pd.concat(
            [
                raw["ecom_orders"].assign(k="ecom_orders:" + raw["ecom_orders"]["order_id"]),
                raw["pos_orders"].assign(k="pos_orders:" + raw["pos_orders"]["order_id"]),
            ]
        )
        .dropna(subset=["k"])  # bad rows with a blanked key
        .set_index("k")["order_time"]
    )
    caused["order_time"] = pd.to_datetime(caused["record_key"].map(times), errors="coerce")
    tp = raw["touchpoints"].set_index("touch_id")["touch_time"]
    caused["touch_time"] = caused["touch_key"].str[12:].map(tp)
    caused = caused.dropna(subset=["order_time"])
    delay = (caused["order_time"] - caused["touch_time"]).dt.total_seconds() / 86_400
    assert (delay >= 0).all()
    # at most 7 days, plus the wait for a store to open
    assert (delay[caused["campaign_id"].isna()] <= 7 + 14 / 24).all()


def test_latent_process_has_the_configured_repeat_rate(truth, params):
    persons, oc = truth["persons"], truth["orders_cause"]
    cfg = SynthConfig()
    assert abs(persons["purchase_rate"].mean() / cfg.purchase_rate_mean - 1) < 0.06
    repeat = int(((oc["cause"] == "organic") & ~oc["acquisition"]).sum())
    expected = float((persons["purchase_rate"] * persons["alive_exposure_years"]).sum())
    assert abs(repeat / expected - 1) < 0.04, (repeat, expected)
    assert params["latent_process"]["organic_repeat_orders"] == repeat
    # heterogeneity is real: heavier latent buyers buy more
    rp = truth["record_person"].set_index("record_key")["person_id"]
    counts = oc.loc[oc["cause"] == "organic", "record_key"].map(rp).value_counts()
    persons = persons.assign(orders=persons["person_id"].map(counts).fillna(0))
    q = pd.qcut(persons["purchase_rate"], 4, labels=False)
    by_q = persons.groupby(q)["orders"].mean()
    assert by_q.is_monotonic_increasing and by_q.iloc[-1] > 3 * by_q.iloc[0]
    # Gamma-Gamma spend: mean spend near the configured mean
    assert abs(persons["mean_spend"].mean() / cfg.spend_mean - 1) < 0.08


def test_configured_repeat_rate_is_what_the_generator_uses(tmp_path):
    cfg = SynthConfig(purchase_rate_mean=0.8, campaigns=())
    generate_world(tmp_path / "w", persons=2_000, seed=1, config=cfg)
    persons = pd.read_parquet(tmp_path / "w" / "truth" / "persons.parquet")
    p = json.loads((tmp_path / "w" / "truth" / "params.json").read_text(encoding="utf-8"))
    assert abs(persons["purchase_rate"].mean() - 0.8) < 0.06
    lp = p["latent_process"]
    assert abs(lp["organic_repeat_orders"] / lp["expected_organic_repeat_orders"] - 1) < 0.08
    assert p["campaigns"] == [] and len(pd.read_csv(tmp_path / "w" / "raw" / "campaigns.csv")) == 0


def test_attributes_drive_value_and_customers_over_index(truth, raw):
    p = truth["persons"]
    rate = p.groupby("city_tier")["purchase_rate"].mean()
    assert rate["1"] > 1.5 * rate["4+"]
    spend = p.groupby("city_tier")["mean_spend"].mean()
    assert spend["1"] > spend["4+"]
    assert abs((p["gender"] == "F").mean() - 0.75) < 0.03
    assert p["birth_year"].between(1958, 2006).all()
    panel = raw["market_panel"].assign(population=lambda d: d["population"].astype(float))
    young_f_t1 = (
        (p["gender"] == "F")
        & p["age_band"].isin(["18-24", "25-29", "30-34"])
        & (p["city_tier"] == "1")
    )
    panel_cell = (
        (panel["gender"] == "F")
        & panel["age_band"].isin(["18-24", "25-29", "30-34"])
        & (panel["city_tier"] == "1")
    )
    tgi = (
        young_f_t1.mean()
        / (panel.loc[panel_cell, "population"].sum() / panel["population"].sum())
        * 100
    )
    assert tgi > 300


def test_market_panel_is_well_formed(raw):
    m = raw["market_panel"]
    assert len(m) == 60 and m["cell_id"].is_unique
    assert not m.duplicated(["gender", "age_band", "city_tier"]).any()
    assert set(m["age_band"]) == {"18-24", "25-29", "30-34", "35-39", "40-49", "50+"}
    assert set(m["city_tier"]) == {"1", "new-1", "2", "3", "4+"}
    pop = m["population"].astype(np.int64)
    assert (pop > 0).all() and abs(pop.sum() / PANEL_ADULTS - 1) < 0.02


# -- hard cases --------------------------------------------------------------------------------
def test_pos_walk_ins_and_default_phones(raw, params, truth, person_of):
    pos = raw["pos_orders"]
    card = pos["member_card"].fillna("").str.fullmatch(r"M\d{8}")
    phone = pos["phone"].fillna("")
    digits = phone.str.replace(r"\D", "", regex=True).str[-11:]
    real_phone = digits.str.fullmatch(r"1\d{10}") & ~digits.isin(DEFAULT_PHONES)
    anonymous = ~card & ~real_phone
    assert abs(anonymous.mean() - 0.25) < 0.03
    assert (phone == "13800000000").sum() > 10
    assert abs(params["hard_cases"]["pos_walkin_share"] - 0.25) < 0.03
    # walk-ins still have their true person in the truth
    walk = _with_person(pos[anonymous], "pos_orders", "order_id", person_of)
    assert walk["person_id"].notna().all()


def test_kiosk_and_shared_devices(raw, truth, person_of):
    we = _with_person(raw["web_events"], "web_events", "event_id", person_of)
    tp = _with_person(raw["touchpoints"], "touchpoints", "touch_id", person_of)
    per_cookie = we.groupby("cookie_id")["person_id"].nunique()
    assert per_cookie.max() > 100  # the public kiosk
    both = pd.concat([we[["device_id", "person_id"]], tp[["device_id", "person_id"]]])
    dev = both[both["device_id"].str.len().fillna(0) > 20]
    per_device = dev.groupby(dev["device_id"].str.lower())["person_id"].nunique()
    assert (per_device > 100).sum() >= 1  # the kiosk device
    families = (per_device == 2).sum()
    assert families > 0.5 * PERSONS * SynthConfig().shared_device_share / 2
    # the all-zero IDFA of limit-ad-tracking iPhones glues many people in the ad stack
    zero = tp["device_id"] == "00000000-0000-0000-0000-000000000000"
    assert tp.loc[zero, "person_id"].nunique() > 50


def test_identifier_noise_is_present_at_configured_rates(raw):
    crm = raw["crm_members"]
    phones = crm["phone"].dropna()
    phones = phones[~phones.isin(NULL_LIKE | DEFAULT_PHONES)]
    variants = 1 - _plain_phone(phones).mean()
    cfg = SynthConfig()
    assert abs(variants - (cfg.phone_variant_rate + cfg.fullwidth_phone_rate)) < 0.03
    all_phones = pd.concat(
        [
            raw[s]["phone"]
            for s in (
                "crm_members",
                "pos_orders",
                "wechat_followers",
                "service_tickets",
                "platform_members",
            )
        ]
    ).dropna()
    for pattern in (
        r"\+86 1\d{2} \d{4} \d{4}",
        r"0086-1\d{10}",
        r"1\d{2}-\d{4}-\d{4}",
        r"86 1\d{10}",
        r"[０-９]{11}",
    ):
        assert all_phones.str.fullmatch(pattern).any(), pattern
    emails = crm["email"].dropna()
    emails = emails[~emails.isin(NULL_LIKE)]
    odd = emails != emails.str.strip().str.lower()
    assert 0.02 < odd.mean() < 0.12
    for col in ("email", "unionid"):  # CRM members always register with a phone (手机号注册)
        assert crm[col].isin(NULL_LIKE - {""}).any(), col
    for source in ("pos_orders", "service_tickets", "wechat_followers"):
        assert raw[source]["phone"].isin(NULL_LIKE - {""}).any(), source
    tp = raw["touchpoints"]["device_id"].dropna()
    assert (tp == "00000000-0000-0000-0000-000000000000").any()
    ios = tp[tp.str.fullmatch(r"[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")]
    assert ios.str.contains("[a-f]").any() and ios.str.contains("[A-F]").any()


def test_people_hard_cases(raw, truth, params, person_of):
    crm = _with_person(raw["crm_members"], "crm_members", "member_id", person_of)
    members = crm["person_id"].nunique()
    dups = (crm.groupby("person_id").size() == 2).sum()
    assert 0.01 < dups / members < 0.03
    # common names recur across different people
    names = crm.groupby("name")["person_id"].nunique()
    for name in ("王芳", "李娜", "张伟", "王伟"):
        assert names.get(name, 0) >= 2, name
    p = truth["persons"]
    assert abs(p["two_phones"].mean() - 0.05) < 0.015
    assert abs(p["phone_changed"].mean() - 0.03) < 0.01
    # typos: the same person under two spellings in the CRM + ecom names
    hc = params["hard_cases"]
    assert hc["kiosk_persons"] == round(PERSONS * SynthConfig().kiosk_person_share)


def test_bad_rows_are_recorded_exactly(raw, params):
    bad = params["bad_rows"]
    assert set(bad) == {"crm_members", "ecom_orders", "pos_orders", "service_tickets", "order_lines"}
    time_col = {
        "crm_members": "register_time",
        "ecom_orders": "order_time",
        "pos_orders": "order_time",
        "service_tickets": "created_time",
    }
    key_col = {
        "crm_members": "member_id",
        "ecom_orders": "order_id",
        "pos_orders": "order_id",
        "service_tickets": "ticket_id",
        "order_lines": "line_id",
    }
    total = 0
    for source, kinds in bad.items():
        df = raw[source]
        if source in time_col:  # order lines carry no time: no bad dates
            parsed = pd.to_datetime(df[time_col[source]], format="%Y-%m-%d %H:%M:%S", errors="coerce")
            assert parsed.isna().sum() == kinds["bad_date"]["count"], source
            bad_keys = {k.split(":", 1)[1] for k in kinds["bad_date"]["record_keys"]}
            assert set(df.loc[parsed.isna(), key_col[source]].dropna()) <= bad_keys
        assert df[key_col[source]].isna().sum() == kinds["missing_key"]["count"]
        if "amount" in df:
            amount = pd.to_numeric(df["amount"], errors="coerce")
            assert amount.isna().sum() == kinds["non_numeric_amount"]["count"], source
            assert (amount < 0).sum() == kinds["negative_amount"]["count"], source
        total += sum(v["count"] for v in kinds.values())
    rows = sum(len(raw[s]) for s in bad)
    assert total <= 0.003 * rows


def test_bad_row_rate_is_respected_at_a_high_rate(tmp_path):
    generate_world(tmp_path / "w", persons=1_000, seed=2, config=SynthConfig(bad_row_rate=0.02))
    p = json.loads((tmp_path / "w" / "truth" / "params.json").read_text(encoding="utf-8"))
    e = pd.read_csv(tmp_path / "w" / "raw" / "ecom_orders.csv", dtype=str)
    n_bad = sum(v["count"] for v in p["bad_rows"]["ecom_orders"].values())
    assert abs(n_bad / len(e) - 0.02) < 0.008
    assert all(v["count"] > 0 for v in p["bad_rows"]["ecom_orders"].values())


@pytest.fixture(scope="module")
def simulated():
    """The in-memory world (true times, canonical names) and its rendered sources."""
    w = simulate(2_000, 5, "2024-01-01", "2026-10-31", SynthConfig())
    return w, render_sources(w, 5)


def test_utc_source_is_shifted_minus_8_hours(simulated):
    w, rendered = simulated
    r = rendered["service_tickets"]
    written = pd.to_datetime(
        pd.Series(r.columns["created_time"].to_pylist()),
        format="%Y-%m-%d %H:%M:%S",
        errors="coerce",
    )
    local = pd.to_datetime(w.tl.seconds(w.tickets.t), unit="s")
    ok = written.notna()
    assert ok.mean() > 0.99
    shift = (local[ok.to_numpy()] - written[ok].to_numpy()).total_seconds()
    assert (shift == 8 * 3600).all()
    # the other sources are written in local time
    e = rendered["ecom_orders"]
    times = pd.to_datetime(
        pd.Series(e.columns["order_time"].to_pylist()), format="%Y-%m-%d %H:%M:%S", errors="coerce"
    )
    true = pd.to_datetime(w.tl.seconds(w.orders.t[e.extra["order_rows"]]), unit="s")
    ok = times.notna().to_numpy()
    assert (times[ok].to_numpy() == true[ok]).all()


def test_name_typos_and_family_receivers_at_configured_rates(simulated):
    w, rendered = simulated
    cfg = w.cfg
    crm = rendered["crm_members"]
    names = np.array(crm.columns["name"].to_pylist(), dtype=object)
    canonical = np.array(w.ids.name.take(crm.person).to_pylist(), dtype=object)
    assert abs((names != canonical).mean() - cfg.name_typo_rate) < 0.01
    e = rendered["ecom_orders"]
    receiver = np.array(e.columns["receiver_name"].to_pylist(), dtype=object)
    canonical = np.array(w.ids.name.take(e.person).to_pylist(), dtype=object)
    differs = (receiver != canonical).mean()
    assert abs(differs - cfg.name_typo_rate - cfg.family_receiver_rate) < 0.015


# -- campaigns ---------------------------------------------------------------------------------
def test_campaigns_and_assignments_are_well_formed(raw, truth, params):
    camps = raw["campaigns"]
    assert 5 <= len(camps) <= 8
    assert (camps["end_date"].str.startswith("2026-10")).sum() >= 2
    two_arm = camps[camps["arms"].str.contains(r"\|")]
    assert len(two_arm) >= 1 and "coupon_20|coupon_50" in set(two_arm["arms"])
    a = raw["campaign_assignments"]
    assert a["campaign_id"].isin(camps["campaign_id"]).all()
    assert a["member_id"].isin(raw["crm_members"]["member_id"]).mean() > 0.995
    for _, c in camps.iterrows():
        sub = a[a["campaign_id"] == c["campaign_id"]]
        share = (sub["arm"] == "control").mean()
        planned = float(c["control_share"])
        assert abs(share - planned) < 4 * np.sqrt(planned * (1 - planned) / len(sub)) + 0.01
        assert set(sub["arm"]) == {"control", *c["arms"].split("|")}
    control = a[a["arm"] == "control"]
    assert 0 < (control["contacted"] == "true").mean() < 0.03  # contamination ~1%
    treated = a[a["arm"] != "control"]
    assert (treated["contacted"] == "true").mean() > 0.95
    tp = raw["touchpoints"]
    sends = tp[tp["campaign_id"].notna() & (tp["touch_type"] == "send")]
    assert len(sends) == (a["contacted"] == "true").sum()
    ct = truth["campaign_truth"]
    assert len(ct) == len(a)
    assert set(ct["record_key"]) == set("campaign_assignments:" + a["assignment_id"])


def test_true_uplift_differs_by_segment_tier_and_arm(truth, params):
    ct = truth["campaign_truth"]
    cfg = SynthConfig()
    alive = ct[ct["alive"]]
    assert (ct.loc[~ct["alive"], "uplift_conv"] == 0).all()
    assert ((alive["uplift_conv"] > 0) & (alive["uplift_conv"] <= alive["p_extra"])).all()
    by_seg = alive.groupby("segment")["p_extra"].mean()
    assert by_seg["lapsing_medium"] > by_seg["active_medium"] > by_seg["heavy"]
    assert by_seg["heavy"] < 0.01
    # p_extra is exactly segment x tier x arm as configured
    tiers = ["1", "new-1", "2", "3", "4+"]
    arm_effect = {}
    for c in params["campaigns"]:
        for arm, eff in c["arm_effects"].items():
            arm_effect[(c["campaign_id"], arm)] = eff
    expected = (
        ct["segment"].map(cfg.uplift_by_segment)
        * ct["city_tier"].map(dict(zip(tiers, cfg.uplift_tier_mult, strict=True)))
        * [arm_effect[(c, a)] for c, a in zip(ct["campaign_id"], ct["eval_arm"], strict=True)]
    )
    assert np.allclose(ct["p_extra"], expected.clip(upper=0.95))
    two = ct[
        ct["campaign_id"]
        == next(c["campaign_id"] for c in params["campaigns"] if len(c["arms"]) == 2)
    ]
    r = two.groupby("eval_arm")["p_extra"].mean()
    assert r["coupon_50"] > r["coupon_20"]
    # the realized extra orders follow p_extra among contacted, alive members
    got = alive[alive["contacted"]]
    assert abs(got["extra_order"].mean() / got["p_extra"].mean() - 1) < 0.35
    # params.json states the uplift per segment and tier
    c0 = params["campaigns"][0]
    arm = c0["arms"][0]
    assert c0["uplift_by_segment_and_tier"][arm]["lapsing_medium"]["1"] == pytest.approx(
        cfg.uplift_by_segment["lapsing_medium"] * cfg.uplift_tier_mult[0] * c0["arm_effects"][arm]
    )


def test_channel_effects_and_truth_shares_in_params(params, truth):
    assert params["channel_effects"] == SynthConfig().touch_effects
    shares = params["touch_caused_conversions"]
    oc = truth["orders_cause"]
    for ch, v in shares.items():
        assert v["orders"] == int((oc["cause"] == ch).sum())
    assert sum(v["share_of_touch_caused"] for v in shares.values()) == pytest.approx(1.0)
    assert 0.03 < (oc["cause"] != "organic").mean() < 0.25
    assert shares["social_kol"]["orders"] > shares["email"]["orders"]


def test_channel_spend_covers_every_day_and_channel(raw):
    s = raw["channel_spend"]
    days = pd.date_range("2024-01-01", "2026-10-31").strftime("%Y-%m-%d")
    assert len(s) == len(days) * 6 and set(s["date"]) == set(days)
    spend = s["spend"].astype(float)
    assert (spend >= 0).all()
    total = s.assign(spend=spend).groupby("channel")["spend"].sum()
    assert total["display"] > total["email"] and total["search"] > total["wechat_push"]


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"persons": 10}, "persons must be between"),
        ({"persons": 5_000_001}, "persons must be between"),
        ({"persons": 1_000, "seed": -1}, "seed"),
        ({"persons": 1_000, "start": "2024-13-01"}, "start must be a date"),
        ({"persons": 1_000, "end": "2023-01-01"}, "end .* must be after start"),
        ({"persons": 1_000, "config": {"female_share": 0.5}}, "config must be a SynthConfig"),
    ],
)
def test_bad_arguments_raise_clear_errors(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_world(tmp_path / "x", **kwargs)


def test_bad_config_raises_clear_errors():
    with pytest.raises(ValueError, match="female_share"):
        SynthConfig(female_share=1.5)
    with pytest.raises(ValueError, match="touch_effects"):
        SynthConfig(touch_effects={"tv:impression": 0.1})
    spec = SynthConfig().campaigns[0]
    with pytest.raises(ValueError, match="channel must be one of"):
        SynthConfig(campaigns=(dataclasses.replace(spec, channel="tv"),))
    with pytest.raises(ValueError, match="same length"):
        SynthConfig(
            campaigns=(CampaignSpec("x", "sms", 10, 7, ("a", "b"), (1.0,), (0.0,), 0.1, 0.5, 0.05),)
        )


def test_cli_synth_writes_a_dataset(tmp_path, capsys):
    from omni.cli import main

    assert main(["synth", "--out", str(tmp_path / "cli"), "--persons", "1000", "--seed", "3"]) == 0
    captured = capsys.readouterr()
    assert "wrote" in captured.out and "[omni synth]" in captured.err
    assert (tmp_path / "cli" / "raw" / "sources.yaml").exists()
    assert not re.search(r"1\d{10}", captured.out + captured.err)  # no phone numbers printed


def test_csv_writer_names_the_column_that_would_need_quoting(tmp_path):
    import pyarrow as pa

    from omni.synth.writer import write_csv

    cols = {"id": pa.array(["1", "2"]), "address": pa.array(["人民路1号", "a,b"])}
    with pytest.raises(ValueError, match=r"\['address'\]") as err:
        write_csv(cols, tmp_path / "x.csv")
    assert "a,b" not in str(err.value)  # values may be personal data: never in the message


def test_orders_follow_the_seasons(raw):
    e = raw["ecom_orders"]
    day = pd.to_datetime(e["order_time"], errors="coerce").dt.strftime("%m-%d")
    per_day = day.value_counts()
    assert per_day["11-11"] > 4 * per_day.median()
    assert per_day["06-18"] > 2 * per_day.median()
    store_hours = pd.to_datetime(raw["pos_orders"]["order_time"], errors="coerce").dt.hour
    assert store_hours.dropna().between(10, 22).mean() > 0.97


def test_csv_header_and_rows_share_the_file_encoding(tmp_path):
    """A non-UTF-8 file is one text in its encoding: the header too, with one byte-order mark."""
    import pyarrow as pa

    from omni.synth.writer import write_csv

    cols = {"姓名": pa.array(["张三", "李四"]), "n": pa.array([1, 2])}
    for enc in ("gbk", "utf-16", "utf-8"):
        write_csv(cols, tmp_path / "x.csv", enc)
        assert (tmp_path / "x.csv").read_bytes() == "姓名,n\n张三,1\n李四,2\n".encode(enc), enc
