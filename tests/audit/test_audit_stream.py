"""The audit source by source (omni.audit.stream) gives exactly the tables of the whole-dataset
functions, holding one source's table at a time."""

from __future__ import annotations

import shutil
import weakref
from pathlib import Path

import pandas as pd
import pytest
import yaml

import omni.workspace as wsmod
from omni.audit import TABLES, analyse_month, narrative
from omni.io import DataContractError
from omni.workspace import Workspace

SETTINGS = [{}, {"overlap_id_type": "email", "volume_months": 6, "pii_sample": 100, "clock_min_rows": 50,
                 "outlier_z": 3.0}]


def _both(path: Path, **kw):
    """(streamed, from the loaded dataset) audits of one world."""
    streamed_ws = Workspace(path)
    streamed = analyse_month(streamed_ws, "2026-10", **kw)
    assert streamed_ws._dataset is None and streamed_ws._ids is None  # never loaded whole
    loaded_ws = Workspace(path)
    loaded_ws.dataset  # noqa: B018 - loaded first: the audit reads the dataset and its identifier table
    return streamed, analyse_month(loaded_ws, "2026-10", **kw)


def _assert_same(a, b) -> None:
    assert list(a.tables) == list(b.tables) == list(TABLES)
    for name in TABLES:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True, obj=name)
    assert [(f.key, f.value) for f in a.headline] == [(f.key, f.value) for f in b.headline]
    assert narrative.summary(a) == narrative.summary(b) and narrative.clocks(a) == narrative.clocks(b)


@pytest.mark.parametrize("kw", SETTINGS, ids=["default", "email-overlap"])
def test_streamed_audit_equals_the_whole_dataset_audit(test_world, kw):
    streamed, loaded = _both(test_world, **kw)
    _assert_same(streamed, loaded)
    assert streamed.tables["overview"]["rows_in"].sum() == 89032  # the test world's headline figure
    assert len(streamed.tables["integrity"]) and streamed.tables["overlap"].shape[0] >= 2


def _damaged(test_world: Path, dst: Path) -> Path:
    """Stray quote in the orders, a header-only CRM (the integrity master moves), a source declared
    in the wrong timezone."""
    raw = dst / "raw"
    shutil.copytree(test_world / "raw", raw)
    orders = raw / "ecom_orders.csv"
    lines = orders.read_bytes().split(b"\n")
    f = lines[100].split(b",")
    f[-1] = b'"' + f[-1]
    lines[100] = b",".join(f)
    orders.write_bytes(b"\n".join(lines))
    crm = raw / "crm_members.csv"
    crm.write_bytes(crm.read_bytes().split(b"\n")[0] + b"\n")
    spec = yaml.safe_load((raw / "sources.yaml").read_text(encoding="utf-8"))
    spec["sources"]["service_tickets"]["timezone"] = "Asia/Shanghai"  # really UTC
    (raw / "sources.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dst


def test_streamed_audit_equals_on_damaged_input(test_world, tmp_path):
    streamed, loaded = _both(_damaged(test_world, tmp_path / "damaged"))
    _assert_same(streamed, loaded)
    t = streamed.tables
    assert set(t["read_checks"]["check"]) >= {"unbalanced_quote", "header_only"}
    assert "crm_members" not in set(t["integrity"]["master"])
    assert t["clocks"].set_index("source").loc["service_tickets", "flag"]


def test_one_source_table_at_a_time_largest_file_first(test_world, monkeypatch):
    alive: list[weakref.ref] = []
    order: list[str] = []
    real = wsmod.load_source

    def load(spec, name):
        assert all(r() is None for r in alive), "an earlier source's table is still held"
        loaded = real(spec, name)
        alive.append(weakref.ref(loaded.table))
        order.append(name)
        return loaded

    monkeypatch.setattr(wsmod, "load_source", load)  # the audit loads through Workspace.loaded_source
    ws = Workspace(test_world)
    analyse_month(ws, "2026-10")
    sizes = [ws.spec.file_path(n).stat().st_size for n in order]
    assert sorted(order) == sorted(ws.spec.sources) and sizes == sorted(sizes, reverse=True)


def test_missing_file_is_one_clear_error_before_any_reading(test_world, tmp_path, monkeypatch):
    shutil.copytree(test_world / "raw", tmp_path / "raw")
    (tmp_path / "raw" / "pos_orders.csv").unlink()
    monkeypatch.setattr(wsmod, "load_source", lambda *a: pytest.fail("read a source before checking the files"))
    with pytest.raises(DataContractError, match=r"source 'pos_orders'.*file not found"):
        analyse_month(Workspace(tmp_path), "2026-10")
