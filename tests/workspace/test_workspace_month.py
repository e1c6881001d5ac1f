"""The report month without loading the dataset (issue 16): ``Workspace.last_complete_month``
takes the data's end from the loaded records, a cached resolution's summary, or the resolution's
inputs (then handed to the resolution that follows); the month and the resolution are the same
as with the whole dataset loaded."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from omni.workspace import Workspace


@pytest.fixture()
def world(test_world, tmp_path):
    d = tmp_path / "world"
    shutil.copytree(test_world / "raw", d / "raw")
    return d


def test_month_from_the_inputs_equals_the_loaded_dataset(world, monkeypatch):
    loaded = Workspace(world)
    loaded.dataset  # noqa: B018 - the plain path: every source loaded, the records' times
    want_end, want_month = loaded.data_end(), loaded.last_complete_month()
    assert want_end == pd.Timestamp(loaded.records()["time"].max()) and want_month == "2026-10"

    ws = Workspace(world)
    monkeypatch.setattr(type(ws), "dataset", property(lambda self: pytest.fail("loaded the dataset")))
    assert ws.last_complete_month() == want_month and ws.data_end() == want_end
    assert ws._month_inputs is not None  # kept for the resolution the report makes next
    monkeypatch.undo()

    calls = []
    real = Workspace._resolution_inputs
    monkeypatch.setattr(Workspace, "_resolution_inputs", lambda self: calls.append(1) or real(self))
    r = ws.resolve(as_of=want_month)
    assert calls == []  # both months resolved from the inputs loaded for the month
    assert ws._month_inputs is None and ws._shared_inputs is None  # and then let go
    assert r.summary["data_end"] == want_end.isoformat()
    ref = Workspace(world).resolve(as_of=want_month)  # read from the cache just written
    pd.testing.assert_frame_equal(r.record_oneid, ref.record_oneid)


def test_month_from_a_cached_resolution_reads_no_source(world, monkeypatch):
    first = Workspace(world)
    month = first.last_complete_month()
    first.resolve(as_of=month)
    ws = Workspace(world)
    monkeypatch.setattr(Workspace, "_resolution_inputs", lambda self: pytest.fail("loaded the sources"))
    monkeypatch.setattr(type(ws), "dataset", property(lambda self: pytest.fail("loaded the dataset")))
    assert ws.last_complete_month() == month and ws._month_inputs is None
    # a summary of other files (or other code) is not used
    for summary in (world / "processed").glob("oneid-*/summary.json"):  # the month and the previous
        got = json.loads(summary.read_text())
        summary.write_text(json.dumps({**got, "fingerprint": "other"}))
    monkeypatch.undo()
    ws = Workspace(world)
    assert ws._cached_data_end() is None
    assert ws.last_complete_month() == month and ws._month_inputs is not None


def test_loading_the_dataset_drops_the_kept_inputs(world):
    ws = Workspace(world)
    month = ws.last_complete_month()
    assert ws._month_inputs is not None
    ws.dataset  # noqa: B018 - an analysis that loads every source after asking for the month
    assert ws._month_inputs is None and ws.last_complete_month() == month
