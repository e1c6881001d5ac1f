"""Derived results shared between processes through ``processed/memo/`` (Workspace(share=True), set
for the report's kernels): the audiences' kernel reads the value report's customer value instead of
fitting the same models again (at 1M people, tens of seconds per kernel)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from omni.value import customer_value
from omni.workspace import SHARE_ENV, Workspace

MONTH = "2026-10"


@pytest.fixture(scope="module")
def world(test_world, tmp_path_factory):
    d = tmp_path_factory.mktemp("share") / "world"
    shutil.copytree(test_world / "raw", d / "raw")
    Workspace(d).resolve(as_of=MONTH)
    return d


@pytest.fixture()
def fits(clv_fits) -> list[str]:
    return clv_fits


def test_a_second_process_reads_the_value_instead_of_fitting(world, fits):
    first = customer_value(Workspace(world, share=True), MONTH, model="bgnbd", check=False)
    assert fits == ["bgnbd"]
    memo = list((world / "processed" / "memo").rglob("value-*.pkl"))
    assert len(memo) == 1
    second = customer_value(Workspace(world, share=True), MONTH, model="bgnbd", check=False)  # a fresh workspace
    assert fits == ["bgnbd"]  # read, not fitted again
    pd.testing.assert_frame_equal(second.predictions, first.predictions)
    assert second.model.params_ == first.model.params_
    # other settings are another value
    customer_value(Workspace(world, share=True), MONTH, model="bgnbd", check=False, clv_months=6)
    assert fits == ["bgnbd", "bgnbd"] and len(list(memo[0].parent.glob("value-*.pkl"))) == 2


def test_changed_files_or_no_share_compute_afresh(world, fits, monkeypatch):
    monkeypatch.delenv(SHARE_ENV, raising=False)
    customer_value(Workspace(world), MONTH, model="bgnbd", check=False, clv_months=3)  # share off
    assert fits == ["bgnbd"] and len(list((world / "processed" / "memo").rglob("value-*.pkl"))) == 2
    customer_value(Workspace(world, share=True), MONTH, model="bgnbd", check=False)
    assert fits == ["bgnbd"]  # the first test's file
    # a damaged file is computed again, not trusted
    path = min((world / "processed" / "memo").rglob("value-*.pkl"), key=lambda p: p.stat().st_mtime)
    path.write_bytes(b"not a pickle")
    customer_value(Workspace(world, share=True), MONTH, model="bgnbd", check=False)
    assert len(fits) == 2
    # the sources changed: another fingerprint, another folder (the old value is not read); what
    # the memo held for the older data (its folder, a file of the flat layout) is removed
    old = path.parent
    assert len(list(old.glob("value-*.pkl"))) == 2
    legacy = old.parent / "value-0123456789abcdef0123.pkl"
    legacy.write_bytes(b"older layout")
    with (world / "raw" / "crm_members.csv").open("a", encoding="utf-8") as f:
        f.write("\n")
    customer_value(Workspace(world, share=True), MONTH, model="bgnbd", check=False)
    assert len(fits) == 3
    now = list((world / "processed" / "memo").rglob("*.pkl"))  # the value, and the sources its resolution loaded
    assert len([p for p in now if p.name.startswith("value-")]) == 1
    assert {p.parent for p in now} != {old} and len({p.parent for p in now}) == 1
    assert not old.exists() and not legacy.exists()


def test_the_environment_switches_sharing_on(world, monkeypatch):
    monkeypatch.setenv(SHARE_ENV, "1")
    assert Workspace(world).share
    monkeypatch.setenv(SHARE_ENV, "0")
    assert not Workspace(world).share
