"""Each OneID rule alone, on a hand-made graph state with a known answer.

tests/test_oneid_rules.py checks the whole resolution on identifier tables; here every rule of
omni.oneid.rules runs on a GraphState built from a few (record, value) edges, after only the rules
it depends on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omni.oneid import rules
from omni.oneid.config import OneIDConfig
from omni.oneid.resolve import RULES, resolve_identities
from omni.oneid.state import HOW_NAMES, STATUS_NAMES, GraphState, type_order


class Graph:
    """A GraphState from ``(record, "type:value")`` edges, with lookups by value name."""

    def __init__(self, edges: list[tuple[int, str]], n_rec: int | None = None,
                 config: OneIDConfig | None = None, times: list[str] | None = None) -> None:
        cfg = config or OneIDConfig()
        self.names = list(dict.fromkeys(v for _, v in edges))
        types = type_order(cfg, {n.split(":")[0] for n in self.names})
        val_type = [types.index(n.split(":")[0]) for n in self.names]
        pairs = sorted({(r, self.names.index(v)) for r, v in edges})
        n_rec = n_rec if n_rec is not None else max(r for r, _ in edges) + 1
        t = pd.Series(pd.to_datetime(times)) if times is not None else None
        self.state = GraphState.from_edges([p[0] for p in pairs], [p[1] for p in pairs], n_rec,
                                           val_type, types, cfg, times=t)

    def run(self, *steps) -> Graph:
        for step in steps:
            self.state = step(self.state)
        return self

    def status(self, name: str) -> str:
        return STATUS_NAMES[self.state.status[self.names.index(name)]]

    def reason(self, name: str):
        return self.state.reasons()[self.names.index(name)]

    def same(self, a: int, b: int) -> bool:
        return bool(self.state.labels[a] == self.state.labels[b])

    def how(self) -> list[str]:
        return [HOW_NAMES[h] for h in self.state.how]


UP_TO_SPLIT = (rules.mark_shared_values, rules.strong_components, rules.split_over_limits)


def test_initial_status_follows_the_identifier_type_and_edges_are_int32():
    g = Graph([(0, "phone:P"), (0, "cookie_id:C"), (1, "loyalty_tier:gold")])
    assert [g.status(n) for n in g.names] == ["strong", "weak", "not_linking"]
    assert g.state.rec.dtype == np.int32 and g.state.val.dtype == np.int32
    assert g.state.types[-1] == "loyalty_tier"  # types outside the config come last
    assert list(g.state.n_records_per_val) == [1, 1, 1]


def test_shared_values_by_strong_partners_weak_partners_and_record_cap():
    cfg = OneIDConfig(max_cooccurring=2, max_cooccurring_weak=2, max_records={"phone": 3})
    edges = [(r, "device_id:KIOSK") for r in range(3)] + [(r, f"member_id:M{r}") for r in range(3)]
    edges += [(3, "device_id:HUB")] + [(3, f"cookie_id:C{i}") for i in range(3)]
    edges += [(r, "phone:DEFAULT") for r in range(4, 8)] + [(8, "phone:P"), (9, "phone:P")]
    g = Graph(edges, config=cfg).run(rules.mark_shared_values)
    assert g.status("device_id:KIOSK") == "shared" and g.reason("device_id:KIOSK") == "seen_with_many_strong_ids"
    assert g.status("device_id:HUB") == "shared" and g.reason("device_id:HUB") == "seen_with_many_weak_ids"
    assert g.status("phone:DEFAULT") == "shared" and g.reason("phone:DEFAULT") == "too_many_records"
    # at the caps, not over them: still linking
    assert g.status("phone:P") == "strong" and g.status("member_id:M0") == "strong"
    assert g.status("cookie_id:C0") == "weak" and g.reason("cookie_id:C0") is None
    assert g.state.counts["shared_values"] == 3
    assert g.state.cooc.shape == (len(g.names), g.state.n_types)


def test_strong_components_follow_strong_values_only():
    g = Graph([(0, "phone:P"), (1, "phone:P"), (1, "member_id:M"), (2, "member_id:M"),
               (3, "cookie_id:C"), (0, "cookie_id:C"), (4, "email:E")], n_rec=6)
    g.run(rules.mark_shared_values, rules.strong_components)
    assert g.same(0, 1) and g.same(1, 2)
    assert not g.same(0, 3)  # a weak value is not a strong link
    assert len({int(x) for x in g.state.labels}) == 4  # {0,1,2}, {3}, {4}, {5: no identifier}


def test_limit_split_removes_the_bridging_phone():
    # one phone typed for four members: member_id's limit is 3, the phone bridges all four
    g = Graph([(r, f"member_id:M{r}") for r in range(4)] + [(r, "phone:P") for r in range(4)])
    g.run(*UP_TO_SPLIT)
    assert g.status("phone:P") == "over_limit" and g.reason("phone:P") == "profile_limit_member_id"
    assert len({int(x) for x in g.state.labels}) == 4
    rem = g.state.removals_frame()
    assert rem[["round", "id_type", "limit_type", "rule", "component_size"]].values.tolist() == [
        [1, "phone", "member_id", "bridge", 4]]
    assert g.state.counts["split_rounds"] == 1 and g.state.counts["removed_bridge"] == 1


def test_limit_split_without_bridge_drops_the_newest_values_beyond_the_limit():
    # four emails (limit 3) joined through a record whose ids each meet one email: no value is
    # seen with two emails, so none bridges them (a member id on all four would be the bridge)
    hub = ["phone:P", "member_id:M", "unionid:U", "platform_buyer:B"]
    edges = [(4, v) for v in hub] + [(r, hub[r]) for r in range(4)] + [(r, f"email:E{r}") for r in range(4)]
    times = ["2026-01-05", "2026-01-01", "2026-03-01", "2026-02-01", "2026-01-01"]
    g = Graph(edges, times=times).run(*UP_TO_SPLIT)
    assert g.status("email:E2") == "over_limit"  # the most recently seen
    assert [g.status(v) for v in hub + ["email:E0", "email:E1", "email:E3"]] == ["strong"] * 7
    assert g.state.removals_frame()["rule"].tolist() == ["beyond_limit"]
    assert all(g.same(4, r) for r in range(4))  # the other ids still hold the records together
    assert g.state.counts["removed_beyond_limit"] == 1


def test_bridging_openid_joins_two_profiles_but_not_three():
    g = Graph([(0, "phone:P1"), (1, "phone:P2"), (0, "openid:O"), (1, "openid:O"),
               (2, "phone:Q1"), (3, "phone:Q2"), (4, "phone:Q3"),
               (2, "openid:X"), (3, "openid:X"), (4, "openid:X")])
    g.run(*UP_TO_SPLIT, rules.join_bridging_values)
    assert g.status("openid:O") == "bridge" and g.reason("openid:O") == "joins_profiles"
    assert g.same(0, 1)
    assert g.status("openid:X") == "weak" and not g.same(2, 3) and not g.same(3, 4)
    assert g.state.counts["bridge_values"] == 1


def test_unbound_platform_account_is_an_account_until_bound_to_a_person_id():
    g = Graph([(0, "platform_buyer:tmall:tb_1"), (1, "platform_buyer:tmall:tb_1"),
               (2, "platform_buyer:tmall:tb_2"), (2, "phone:P"), (3, "phone:P"),
               (4, "cookie_id:C")], n_rec=6)
    g.run(*UP_TO_SPLIT, rules.join_bridging_values, rules.mark_unbound_accounts)
    assert g.how() == ["account", "account", "strong", "strong", "none", "none"]
    assert g.same(0, 1) and not g.same(0, 2)
    assert g.state.cooc is None  # the split helpers are freed
    assert g.state.counts["account_records"] == 2


def test_weak_values_attach_to_one_profile_never_to_two():
    g = Graph([(0, "phone:P1"), (0, "cookie_id:C"), (1, "cookie_id:C"),             # 1 attaches to 0
               (2, "phone:P2"), (0, "device_id:D"), (2, "device_id:D"), (3, "device_id:D"),  # D: ambiguous
               (4, "cookie_id:G"), (5, "cookie_id:G"), (5, "cookie_id:H"), (6, "cookie_id:H")],  # weak group
              n_rec=8)
    g.run(*UP_TO_SPLIT, rules.join_bridging_values, rules.mark_unbound_accounts, rules.attach_weak_values)
    assert g.same(0, 1) and not g.same(0, 2)
    assert g.status("device_id:D") == "ambiguous_weak"
    assert g.reason("device_id:D") == "weak_id_seen_with_several_profiles"
    assert not g.same(3, 0) and not g.same(3, 2)
    assert g.same(4, 5) and g.same(5, 6) and not g.same(4, 0)  # transitively, a profile of its own
    # record 3's only identifier is ambiguous: it keeps no usable identifier
    assert g.how() == ["strong", "weak", "strong", "none", "weak", "weak", "weak", "none"]
    assert g.state.counts["ambiguous_weak_values"] == 1
    assert g.state.counts["weak_records_attached"] == 1 and g.state.counts["weak_records_grouped"] == 3


def test_resolve_runs_the_rules_in_order_and_reports_their_counts():
    assert [r.__name__ for r in RULES] == [
        "mark_shared_values", "strong_components", "split_over_limits", "join_bridging_values",
        "mark_unbound_accounts", "attach_weak_values"]
    keys = [f"crm:{i}" for i in range(4)]
    ids = pd.DataFrame({"record_key": keys * 2, "source": "crm",
                        "id_type": ["member_id"] * 4 + ["phone"] * 4,
                        "value": [f"M{i}" for i in range(4)] + ["P"] * 4, "valid": True})
    res = resolve_identities(ids)
    assert res.n_clusters == 4
    assert res.rule_counts == pytest.approx({"shared_values": 0, "split_rounds": 1, "removed_bridge": 1,
                                             "removed_beyond_limit": 0, "account_records": 0,
                                             "ambiguous_weak_values": 0})
