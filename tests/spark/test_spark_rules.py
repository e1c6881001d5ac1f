"""Every OneID rule on Spark next to its embedded twin (tests/oneid/test_oneid_rule_steps.py).

Each case is a small hand-made identifier table with a known answer. The cases of one OneID config
are resolved together on Spark (as one table: each case's records and values carry the case's name,
so the cases are disjoint graphs and the rules see each alone) and every case alone by the embedded
engine; each test asserts the expected outcome on both engines and that they agree: the same record
partition, the same ``how``, the same value statuses and reasons, the same limit removals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from omni.oneid.config import OneIDConfig
from omni.oneid.resolve import Resolution, resolve_identities
from omni.spark.resolve import resolve_ids_spark

SHARED_CFG = OneIDConfig(max_cooccurring=2, max_cooccurring_weak=2, max_records={"phone": 3})


@dataclass
class Case:
    edges: list[tuple[int, str]]
    n_rec: int | None = None
    times: list[str] | None = None
    config: OneIDConfig = field(default_factory=OneIDConfig)

    def tables(self, name: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
        n = self.n_rec if self.n_rec is not None else max(r for r, _ in self.edges) + 1
        keys = [f"{name}:{r}" for r in range(n)]
        ids = pd.DataFrame({
            "record_key": [keys[r] for r, _ in self.edges], "source": name,
            "id_type": [v.split(":", 1)[0] for _, v in self.edges],
            "value": [f"{name}|{v.split(':', 1)[1]}" for _, v in self.edges], "valid": True})
        times = pd.Series(pd.to_datetime(self.times if self.times is not None else [None] * n))
        return ids, pd.DataFrame({"record_key": keys, "source": name}), times


CASES = {
    "shared": Case([(r, "device_id:KIOSK") for r in range(3)] + [(r, f"member_id:M{r}") for r in range(3)]
                   + [(3, "device_id:HUB")] + [(3, f"cookie_id:C{i}") for i in range(3)]
                   + [(r, "phone:DEFAULT") for r in range(4, 8)] + [(8, "phone:P"), (9, "phone:P")],
                   config=SHARED_CFG),
    "strong": Case([(0, "phone:P"), (1, "phone:P"), (1, "member_id:M"), (2, "member_id:M"),
                    (3, "cookie_id:C"), (0, "cookie_id:C"), (4, "email:E")], n_rec=6),
    "bridge_split": Case([(r, f"member_id:M{r}") for r in range(4)] + [(r, "phone:P") for r in range(4)]),
    "beyond_limit": Case([(4, v) for v in ("phone:P", "member_id:M", "unionid:U", "platform_buyer:B")]
                         + [(r, v) for r, v in enumerate(("phone:P", "member_id:M", "unionid:U", "platform_buyer:B"))]
                         + [(r, f"email:E{r}") for r in range(4)],
                         times=["2026-01-05", "2026-01-01", "2026-03-01", "2026-02-01", "2026-01-01"]),
    "openid": Case([(0, "phone:P1"), (1, "phone:P2"), (0, "openid:O"), (1, "openid:O"),
                    (2, "phone:Q1"), (3, "phone:Q2"), (4, "phone:Q3"),
                    (2, "openid:X"), (3, "openid:X"), (4, "openid:X")]),
    "account": Case([(0, "platform_buyer:tmall:tb_1"), (1, "platform_buyer:tmall:tb_1"),
                     (2, "platform_buyer:tmall:tb_2"), (2, "phone:P"), (3, "phone:P"),
                     (4, "cookie_id:C")], n_rec=6),
    "weak": Case([(0, "phone:P1"), (0, "cookie_id:C"), (1, "cookie_id:C"),
                  (2, "phone:P2"), (0, "device_id:D"), (2, "device_id:D"), (3, "device_id:D"),
                  (4, "cookie_id:G"), (5, "cookie_id:G"), (5, "cookie_id:H"), (6, "cookie_id:H")], n_rec=8),
}


class View:
    """One case's part of a resolution, looked up by record number and value name."""

    def __init__(self, res: Resolution, name: str):
        rec = res.records
        mine = rec["record_key"].astype(str).str.startswith(f"{name}:").to_numpy()
        self.records = rec[mine].assign(r=lambda d: d["record_key"].astype(str).str.split(":").str[1].astype(int))
        self.records = self.records.sort_values("r").reset_index(drop=True)
        v = res.values
        vm = v["value"].astype(str).str.startswith(f"{name}|").to_numpy()
        pos = np.flatnonzero(vm)
        self.values = v[vm].assign(name=lambda d: d["id_type"].astype(str) + ":"
                                   + d["value"].astype(str).str.split("|", n=1).str[1])
        self.values = self.values.set_index("name")
        rem = res.removals
        self.removals = rem[rem["val"].isin(pos)][["round", "id_type", "limit_type", "rule", "component_size"]]

    def same(self, a: int, b: int) -> bool:
        c = self.records["cluster"]
        return bool(c[a] == c[b])

    def status(self, v: str) -> str:
        return str(self.values.loc[v, "status"])

    def reason(self, v: str):
        return self.values.loc[v, "reason"]

    def how(self) -> list[str]:
        return self.records["how"].astype(str).tolist()

    def partition(self) -> list[int]:
        """Each record's smallest fellow record (labels differ between engines, partitions not)."""
        c = self.records["cluster"].to_numpy()
        return pd.Series(np.arange(len(c))).groupby(c).transform("min").tolist()


@pytest.fixture(scope="module")
def both(spark) -> dict[str, tuple[View, View]]:
    out = {}
    for cfg in {id(c.config): c.config for c in CASES.values()}.values():
        names = [n for n, c in CASES.items() if c.config is cfg]
        parts = [CASES[n].tables(n) for n in names]
        ids = pd.concat([p[0] for p in parts], ignore_index=True)
        records = pd.concat([p[1] for p in parts], ignore_index=True)
        times = pd.concat([p[2] for p in parts], ignore_index=True)
        on_spark = resolve_ids_spark(ids, records, cfg, times=times, spark=spark)
        for n, (i, r, t) in zip(names, parts, strict=True):
            out[n] = (View(resolve_identities(i, r, cfg, times=t), n), View(on_spark, n))
    return out


def _agree(emb: View, spk: View) -> None:
    assert spk.partition() == emb.partition()
    assert spk.how() == emb.how()
    pd.testing.assert_series_equal(spk.values["status"].astype(str), emb.values["status"].astype(str))
    assert spk.values["reason"].tolist() == emb.values["reason"].tolist()
    assert spk.values["n_records"].tolist() == emb.values["n_records"].tolist()
    assert spk.removals.astype(str).values.tolist() == emb.removals.astype(str).values.tolist()


def test_shared_values_by_strong_partners_weak_partners_and_record_cap(both):
    for g in both["shared"]:
        assert g.status("device_id:KIOSK") == "shared" and g.reason("device_id:KIOSK") == "seen_with_many_strong_ids"
        assert g.status("device_id:HUB") == "shared" and g.reason("device_id:HUB") == "seen_with_many_weak_ids"
        assert g.status("phone:DEFAULT") == "shared" and g.reason("phone:DEFAULT") == "too_many_records"
        assert g.status("phone:P") == "strong" and g.status("member_id:M0") == "strong"
        assert g.status("cookie_id:C0") == "weak" and g.reason("cookie_id:C0") is None
        assert not g.same(0, 1) and not g.same(4, 5) and g.same(8, 9)
    _agree(*both["shared"])


def test_strong_components_follow_strong_values_only(both):
    for g in both["strong"]:
        assert g.same(0, 1) and g.same(1, 2)
        assert g.same(0, 3)  # record 3 attaches through the cookie it shares with record 0 only
        assert g.how() == ["strong", "strong", "strong", "weak", "strong", "none"]
        assert len(set(g.partition())) == 3  # {0,1,2,3}, {4}, {5: no identifier}
    _agree(*both["strong"])


def test_limit_split_removes_the_bridging_phone(both):
    for g in both["bridge_split"]:
        assert g.status("phone:P") == "over_limit" and g.reason("phone:P") == "profile_limit_member_id"
        assert len(set(g.partition())) == 4
        assert g.removals.values.tolist() == [[1, "phone", "member_id", "bridge", 4]]
    _agree(*both["bridge_split"])


def test_limit_split_without_bridge_drops_the_newest_values_beyond_the_limit(both):
    for g in both["beyond_limit"]:
        assert g.status("email:E2") == "over_limit"  # the most recently seen
        assert g.removals["rule"].tolist() == ["beyond_limit"]
        assert all(g.same(4, r) for r in range(4))
    _agree(*both["beyond_limit"])


def test_bridging_openid_joins_two_profiles_but_not_three(both):
    for g in both["openid"]:
        assert g.status("openid:O") == "bridge" and g.reason("openid:O") == "joins_profiles"
        assert g.same(0, 1)
        assert g.status("openid:X") == "ambiguous_weak" and not g.same(2, 3) and not g.same(3, 4)
    _agree(*both["openid"])


def test_unbound_platform_account_is_an_account_until_bound_to_a_person_id(both):
    for g in both["account"]:
        assert g.how() == ["account", "account", "strong", "strong", "weak", "none"]  # 4: a weak group
        assert g.same(0, 1) and not g.same(0, 2) and g.same(2, 3)
    _agree(*both["account"])


def test_weak_values_attach_to_one_profile_never_to_two(both):
    for g in both["weak"]:
        assert g.same(0, 1) and not g.same(0, 2)
        assert g.status("device_id:D") == "ambiguous_weak"
        assert g.reason("device_id:D") == "weak_id_seen_with_several_profiles"
        assert not g.same(3, 0) and not g.same(3, 2)
        assert g.same(4, 5) and g.same(5, 6) and not g.same(4, 0)
        assert g.how() == ["strong", "weak", "strong", "none", "weak", "weak", "weak", "none"]
    _agree(*both["weak"])
