"""The workspace at scale (issue 16): lazy cached resolutions, partial reads, the engine, the
naive baseline computed with the resolution, truth scores on integer keys. Every check compares
the scale path with the plain pandas path on the test world: the answers must be the same."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

import omni
from omni.core.month import Month
from omni.engine import query
from omni.identity import accuracy
from omni.normalize import link_table
from omni.oneid import evaluate_against_truth
from omni.oneid.baseline import naive_clusters, naive_labels
from omni.oneid.evaluate import truth_codes
from omni.workspace import FRAMES, Resolved, Workspace, month_end

MONTH = "2026-10"


@pytest.fixture(scope="module")
def world(test_world, tmp_path_factory):
    d = tmp_path_factory.mktemp("scale") / "world"
    shutil.copytree(test_world / "raw", d / "raw")
    shutil.copytree(test_world / "truth", d / "truth")
    return d


#: What the resolution of ``resolved`` read back from the folders where its inputs wait: (folder, parts).
READS: list[tuple[str, tuple[str, ...]]] = []


@pytest.fixture(scope="module")
def resolved(world):
    import omni.workspace as wsmod

    real = wsmod._unspill_inputs

    def spy(d, remove, parts=("ids", "records", "tabs", "quasi"), tab_columns=None):
        READS.append((d.name.split("-")[0], tuple(parts) if tab_columns is None else
                      tuple(f"{n}.{c}" for n, cols in tab_columns.items() for c in cols)))
        return real(d, remove, parts, tab_columns)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wsmod, "_unspill_inputs", spy)
        ws = Workspace(world)
        return ws, ws.resolve(as_of=MONTH)


def test_a_resolution_is_held_lazily_after_it_is_cached(resolved):
    ws, r = resolved
    assert r.folder is not None and r.folder.is_dir()
    assert r._frames == {}  # nothing read yet: the runner and notebooks hold only what they use
    n = len(r.record_oneid)
    assert set(r._frames) == {"record_oneid"} and n == r.summary["records"]
    fresh = Resolved.from_cache(r.folder)
    for name in FRAMES:
        assert (fresh.folder / f"{name}.parquet").exists(), name


def test_partial_reads_equal_filtered_frames(resolved):
    ws, r = resolved
    fresh = Resolved.from_cache(r.folder)
    part = fresh.read("record_oneid", ["record_key", "how"], filters=[("how", "==", "none")])
    whole = fresh.record_oneid
    want = whole.loc[whole["how"].astype(str) == "none", ["record_key", "how"]]
    assert len(part) == len(want) > 0
    assert part["record_key"].tolist() == want["record_key"].tolist()
    # the same read from memory (a frame already held) gives the same rows
    held = fresh.read("record_oneid", ["record_key", "how"], filters=[("how", "==", "none")])
    assert held["record_key"].tolist() == want["record_key"].tolist()
    with pytest.raises(ValueError, match="unknown filter operator"):
        fresh.read("record_oneid", ["how"], filters=[("how", "~", "none")])


def test_engine_joins_like_pandas(resolved):
    ws, r = resolved
    got = query("SELECT source, count(*) AS n FROM ro GROUP BY source ORDER BY source",
                {"ro": r.engine_table("record_oneid")})
    want = r.record_oneid["source"].astype(str).value_counts().sort_index()
    assert dict(zip(got["source"], got["n"], strict=True)) == want.to_dict()


def test_naive_baseline_from_the_lean_table_is_the_same_partition(resolved):
    ws, r = resolved
    ro = r.record_oneid
    old = naive_clusters(ws.ids[ws.ids["record_key"].isin(ro["record_key"])], ro[["record_key"]])
    recs = ws.records()
    recs = recs[~(recs["time"] >= month_end(MONTH))].reset_index(drop=True)
    new = naive_labels(link_table(ws.dataset), recs)
    cached = r.naive["naive"].to_numpy()
    pairs = pd.DataFrame({"a": old, "b": new, "c": cached})
    n_old = pairs["a"].nunique()
    assert n_old < len(old)  # the baseline does glue records together
    assert pairs[["a", "b"]].drop_duplicates().shape[0] == n_old == pairs["b"].nunique()
    assert pairs[["a", "c"]].drop_duplicates().shape[0] == n_old == pairs["c"].nunique()


def test_truth_codes_give_the_scores_of_the_string_join(resolved):
    ws, r = resolved
    truth = ws.truth("record_person")
    codes = truth_codes(r.engine_table("record_oneid"), ws.truth_path("record_person"))
    codes_mem = truth_codes(r.record_oneid, truth)
    assert len(codes) == len(r.record_oneid) and (codes >= 0).all()
    # the same partition into persons either way
    assert pd.DataFrame({"a": codes, "b": codes_mem}).drop_duplicates().shape[0] == len(np.unique(codes))
    res = r.resolution()
    fast = accuracy.accuracy_table(r.record_oneid, res, codes)
    slow = accuracy.accuracy_table(r.record_oneid, res, truth)
    pd.testing.assert_frame_equal(fast, slow)
    assert fast["precision"].iloc[0] == evaluate_against_truth(r.record_oneid, truth)["precision"]
    sp_fast = accuracy.source_pair_accuracy(r.record_oneid, codes, cluster=res.records["cluster"].to_numpy())
    sp_slow = accuracy.source_pair_accuracy(r.record_oneid, truth)
    pd.testing.assert_frame_equal(sp_fast.reset_index(drop=True), sp_slow.reset_index(drop=True))
    if len(r.links):
        pd.testing.assert_frame_equal(accuracy.link_accuracy(r.links, ws.truth_path("record_person")),
                                      accuracy.link_accuracy(r.links, truth))


def test_a_missing_truth_row_is_an_error(resolved):
    ws, r = resolved
    truth = ws.truth("record_person").iloc[1:]
    codes = truth_codes(r.record_oneid, truth)
    assert (codes == -1).sum() == 1
    with pytest.raises(ValueError, match="1 records have no truth row"):
        accuracy.accuracy_table(r.record_oneid, r.resolution(), codes)


def test_small_sources_load_alone(world):
    ws = Workspace(world)
    campaigns = ws.source("campaigns")
    assert ws._dataset is None  # the whole dataset was not loaded for one small table
    assert len(campaigns) > 0 and "campaign_id" in campaigns.columns
    assert ws.source("no_such_source") is None
    pd.testing.assert_frame_equal(campaigns.reset_index(drop=True),
                                  omni.load_dataset(world)["campaigns"].reset_index(drop=True))


def test_last_months_published_oneids_are_reused_when_the_files_grew(world, resolved, tmp_path):
    """A monthly job's files grow, so last month's cache has another fingerprint: this month's
    OneIDs are numbered against that published resolution instead of resolving it again."""
    ws, r = resolved
    d = tmp_path / "grown"
    shutil.copytree(world / "raw", d / "raw")
    shutil.copytree(world / "truth", d / "truth")
    first = Workspace(d)
    prev = first.resolve(as_of="2026-09", stable=False)
    spec = d / "raw" / "sources.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "\n# next month's delivery\n", encoding="utf-8")
    again = Workspace(d)
    assert again.fingerprint != first.fingerprint
    now = again.resolve(as_of=MONTH)
    assert now.summary["previous_from"] == prev.folder.name
    assert len(list((d / "processed").glob("oneid-2026-09-*"))) == 1  # not resolved again
    pd.testing.assert_frame_equal(now.record_oneid, r.record_oneid)
    pd.testing.assert_frame_equal(now.changes, r.changes)


def test_inputs_shared_by_two_months_wait_on_disk_unchanged(world, resolved):
    """The previous month and this one share the loaded inputs; between the two resolutions they
    wait in Arrow files (omni.core.spill) and come back unchanged, as do the records and source
    tables parked during the probabilistic stage. No folder is left behind."""
    from omni.workspace import _spill_inputs, _unspill_inputs

    ws, r = resolved
    inputs = Workspace(world)._resolution_inputs()
    back = _unspill_inputs(_spill_inputs(inputs, world / "processed"), remove=True)
    for a, b in zip([inputs[0], inputs[1], inputs[3]], [back[0], back[1], back[3]], strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert list(back[2]) == list(inputs[2])
    for name, t in inputs[2].items():
        pd.testing.assert_frame_equal(t, back[2][name])
    assert r.summary["records"] == len(r.record_oneid) and r.summary["probabilistic_links"] > 0
    assert not [p for p in (world / "processed").iterdir() if p.name.startswith((".inputs-", ".outputs-inputs-"))]


def test_inputs_written_as_each_source_is_made_are_the_inputs(world):
    """Two months sharing the inputs write each source table to disk as soon as it is trimmed
    (at 5M persons some 4 GB that no longer wait for the last source): what is read back is
    what the loading makes in memory, the source tables in the spec's order."""
    import omni.workspace as wsmod
    from omni.core.spill import spill_frames
    from omni.workspace import PROCESSED, _unspill_inputs

    want = Workspace(world)._resolution_inputs()
    d = spill_frames({}, world / PROCESSED, "inputs")
    handed: list[list[str]] = []
    real = wsmod.spill_frames

    def spy(frames, *a, **kw):
        handed.append(list(frames))
        return real(frames, *a, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wsmod, "spill_frames", spy)
        ids, records, tabs, quasi = Workspace(world)._resolution_inputs(spill_to=d)
    # one source table at a time, as each is made, then the stacked tables
    assert sorted(handed[:-1]) == sorted([f"tab.{n}"] for n in want[2])
    assert handed[-1] == ["quasi", "ids", "records"]
    assert tabs == {} and quasi is None  # nothing but the identifiers and records held
    pd.testing.assert_frame_equal(ids, want[0])
    pd.testing.assert_frame_equal(records, want[1])
    back = _unspill_inputs(d, remove=True)
    for a, b in zip([want[0], want[1], want[3]], [back[0], back[1], back[3]], strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert list(back[2]) == list(want[2]) and len(want[2]) > 3
    for name, t in want[2].items():
        pd.testing.assert_frame_equal(t, back[2][name])


def test_a_loaded_dataset_resolves_a_month_against_the_previous_one(resolved, test_world, tmp_path):
    """With the dataset loaded (an analyst's session) the two months take their inputs from it
    and nothing waits on disk; the OneIDs are those of the resolution from the files (this
    failed before: the second month found no identifiers on disk)."""
    d = tmp_path / "world"
    shutil.copytree(test_world / "raw", d / "raw")
    ws = Workspace(d)
    assert len(ws.dataset.tables) > 3
    r = ws.resolve(as_of=MONTH)
    _, want = resolved
    pd.testing.assert_frame_equal(r.record_oneid.sort_values("record_key").reset_index(drop=True),
                                  want.record_oneid.sort_values("record_key").reset_index(drop=True))
    assert not [p for p in (d / "processed").iterdir() if p.name.startswith(".inputs-")]


def test_source_and_quasi_tables_wait_on_disk_through_the_baseline_and_the_rules(resolved):
    """While two months share the inputs, each resolution reads the identifiers and records; after
    the rules, each source table's key column alone (the record keys; at 5M persons the whole
    tables did not fit there) and the quasi table; during the matching only the records are
    parked, and the source tables come back once the OneIDs are numbered (at 1M persons the
    baseline, the rules and the numbering peaked with all of them held)."""
    ws, _ = resolved
    everything = ("ids", "records", "tabs", "quasi")
    keys = [(".inputs", (f"{n}.{ws.spec.sources[n].key}",)) for n in ws._record_sources()]
    assert len(keys) >= 5
    month = [*keys, (".inputs", ("quasi",)), (".outputs", everything), (".inputs", ("tabs",))]
    assert READS == month + [(".inputs", ("ids", "records"))] + month


def test_the_matching_leaves_no_splink_linker_alive(world):
    """Splink's linkers sit in reference cycles with their DuckDB databases; left to the cyclic
    collector they held GBs of candidate pairs at 1M persons under the next month's resolution.
    A resolution collects them when its probabilistic stage ends."""
    import gc

    def linkers() -> int:
        return sum(1 for o in gc.get_objects() if "Linker" in type(o).__name__ and "splink" in type(o).__module__)

    before = linkers()
    gc.disable()  # only the resolution's own collection may free them
    try:
        r = Workspace(world)._resolve_now("2026-09", None)
        assert r.summary["probabilistic_links"] > 0 and linkers() <= before
    finally:
        gc.enable()


def test_the_engine_spills_into_the_temporary_folder_not_the_working_directory(tmp_path, monkeypatch):
    """DuckDB's own default is ``.tmp`` in the working directory: a killed 5M run left 13 GB
    there, inside the project's checkout."""
    import tempfile

    from omni.engine import connect

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "system-tmp"))
    (tmp_path / "system-tmp").mkdir()
    con = connect(memory_limit="64MB", threads=1)
    got = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert got == str(tmp_path / "system-tmp" / "omni-duckdb")
    n = con.execute("SELECT count(*) FROM (SELECT DISTINCT i % 3000000 AS k, i FROM range(6000000) t(i) ORDER BY i DESC)").fetchone()[0]
    con.close()
    assert n == 6_000_000 and not (tmp_path / ".tmp").exists()


def test_the_previous_month_goes_without_the_baseline_and_the_identity_report_makes_it(resolved, world, tmp_path):
    """The previous month is resolved to number the report month against (and for its headline
    counts): without the naive baseline, which only the report month's identity report reads.
    Asked for that month, the identity report computes it from the identifiers: the same
    partition as a resolution with the baseline."""
    from omni.identity.analysis import _naive

    ws, r = resolved
    prev = ws.cached_resolution("2026-09")
    assert prev is not None and len(prev.naive) == 0
    assert len(r.naive) == len(r.record_oneid) > 0
    assert prev.summary["stage_seconds"].get("naive_baseline") is None
    fresh = Workspace(world)  # the dataset not loaded: the sources one at a time, as the resolution
    made = _naive(fresh, prev, prev.resolution())
    assert fresh._dataset is None
    whole = Workspace(world)
    assert len(whole.dataset.tables) > 0  # loaded: the baseline from its whole identifier table (naive_clusters)
    loaded = _naive(whole, prev, prev.resolution())
    other = tmp_path / "world"
    shutil.copytree(world / "raw", other / "raw")
    with_baseline = Workspace(other).resolve(as_of="2026-09", stable=False)
    want = with_baseline.naive["naive"].to_numpy()
    assert (with_baseline.record_oneid["record_key"].to_numpy() == prev.record_oneid["record_key"].to_numpy()).all()
    np.testing.assert_array_equal(made, want)  # the same labels as the resolution makes
    pairs = pd.DataFrame({"a": loaded, "b": want})
    n = pairs["b"].nunique()
    assert n < len(pairs) and pairs.drop_duplicates().shape[0] == n == pairs["a"].nunique()


def _load_threads(monkeypatch) -> list[str]:
    """The names of the threads each source is loaded on (filled as the resolution loads), on a
    machine taken to have two cores (the same on a one-core runner)."""
    import threading

    import omni.workspace as wsmod

    seen: list[str] = []
    real = wsmod.load_source

    def spy(spec, name, *a, **k):
        seen.append(threading.current_thread().name)
        return real(spec, name, *a, **k)

    monkeypatch.setattr(wsmod, "load_source", spy)
    monkeypatch.setattr(wsmod.os, "cpu_count", lambda: 2)
    return seen


def test_sources_loaded_two_at_a_time_give_the_same_inputs(world, monkeypatch):
    """The resolution loads and normalizes two sources at once on threads (up to
    ``RESOLVE_THREADS_UP_TO`` estimated records): the same identifiers, records, source and quasi
    tables as one at a time, in the same order; above the bound, one at a time."""
    import omni.workspace as wsmod

    seen = _load_threads(monkeypatch)
    got = {}
    for threads, bound in ((1, None), (2, None), (2, 10)):
        monkeypatch.setattr(wsmod, "RESOLVE_THREADS", threads)
        if bound is not None:
            monkeypatch.setattr(wsmod, "RESOLVE_THREADS_UP_TO", bound)
        seen.clear()
        got[(threads, bound)] = Workspace(world)._resolution_inputs()
        if threads == 2 and bound is None:
            assert {n.startswith("omni-load") for n in seen} == {True} and len(seen) > 5
        else:
            assert not any(n.startswith("omni-load") for n in seen)
    for key in ((2, None), (2, 10)):
        ids, records, tables, quasi = got[key]
        ids1, records1, tables1, quasi1 = got[(1, None)]
        pd.testing.assert_frame_equal(ids, ids1)
        pd.testing.assert_frame_equal(records, records1)
        pd.testing.assert_frame_equal(quasi, quasi1)
        assert list(tables) == list(tables1)
        for n in tables:
            pd.testing.assert_frame_equal(tables[n], tables1[n])


def test_a_damaged_source_among_threads_names_its_file(world, tmp_path, monkeypatch):
    """Sources that cannot be read fail the threaded loading with a clear error naming a file:
    the first failure in loading order (largest file first), as one at a time would raise."""
    from omni.io import DataContractError

    other = tmp_path / "world"
    shutil.copytree(world / "raw", other / "raw")
    ws = Workspace(other)
    names = ws._record_sources()
    sizes = {n: ws.spec.file_path(n).stat().st_size for n in names}
    order = sorted(names, key=lambda n: (-sizes[n], names.index(n)))
    first, later = order[2], order[-1]  # two damaged files: the larger one is named
    for n in (first, later):
        ws.spec.file_path(n).write_bytes(b"\x00\x01 not a table" + b" " * (sizes[n] - 16))
    seen = _load_threads(monkeypatch)
    with pytest.raises(DataContractError, match=ws.spec.file_path(first).name):
        Workspace(other)._resolution_inputs()
    assert seen and all(n.startswith("omni-load") for n in seen)


def test_the_baseline_beside_the_rules_is_the_one_made_before_them(world, tmp_path, monkeypatch):
    """Where there is room the naive baseline runs on a thread beside the rules: the same labels
    and the same OneIDs as one after the other, and its time still reported."""
    import threading

    import omni.workspace as wsmod

    where: list[str] = []
    real = wsmod.naive_labels

    def spy(ids, records):
        where.append(threading.current_thread().name)
        return real(ids, records)

    monkeypatch.setattr(wsmod, "naive_labels", spy)
    monkeypatch.setattr(wsmod.os, "cpu_count", lambda: 2)  # the same on a one-core runner
    got = {}
    for threads in (1, 2):
        monkeypatch.setattr(wsmod, "RESOLVE_THREADS", threads)
        other = tmp_path / f"world{threads}"
        shutil.copytree(world / "raw", other / "raw")
        where.clear()
        got[threads] = Workspace(other).resolve(as_of=MONTH, stable=False)
        assert len(where) == 1 and where[0].startswith("omni-baseline") == (threads == 2)
        assert got[threads].summary["stage_seconds"]["naive_baseline"] >= 0  # its own time, reported
    pd.testing.assert_frame_equal(got[1].naive, got[2].naive)
    pd.testing.assert_frame_equal(got[1].record_oneid, got[2].record_oneid)


def test_frames_go_into_the_cache_as_they_are_made(world, tmp_path, monkeypatch):
    """At one thread (above ``RESOLVE_THREADS_UP_TO``: 5M persons) the OneID map and the rules'
    frames are written into the cache folder being made before the source tables are read back
    for the unified tables (at 5M they did not fit together); the files are those of a resolution
    held in memory and written after it."""
    import omni.workspace as wsmod

    d = tmp_path / "w"
    shutil.copytree(world / "raw", d / "raw")
    monkeypatch.setattr(wsmod, "RESOLVE_THREADS", 1)
    written: list[set[str]] = []
    real = wsmod._unspill_inputs

    def spy(folder, remove, parts=("ids", "records", "tabs", "quasi"), tab_columns=None):
        if tuple(parts) == ("tabs",) and tab_columns is None:  # the unified tables' read, after the OneIDs
            written.append({p.stem for p in (d / "processed").glob(".oneid-*/*.parquet")})
        return real(folder, remove, parts, tab_columns)

    profiled: list[set[str]] = []
    real_profiles = wsmod.build_profiles

    def profiles_spy(*a, **k):
        profiled.append({p.stem for p in (d / "processed").glob(".oneid-*/*.parquet")})
        return real_profiles(*a, **k)

    numbered: list[set[str]] = []
    real_numbers = wsmod.assign_oneid_numbers

    def numbers_spy(*a, **k):
        numbered.append({p.stem for p in (d / "processed").glob(".oneid-*/*.parquet")})
        return real_numbers(*a, **k)

    monkeypatch.setattr(wsmod, "_unspill_inputs", spy)
    monkeypatch.setattr(wsmod, "build_profiles", profiles_spy)
    monkeypatch.setattr(wsmod, "assign_oneid_numbers", numbers_spy)
    ws = Workspace(d)
    r = ws.resolve(as_of=MONTH)
    monkeypatch.setattr(wsmod, "_unspill_inputs", real)
    # the rules' frames before the numbering (at 5M it passed 21.5 GB with them held)
    assert numbered == [{"values", "edges", "removals", "invalid"}] * 2
    rules = {"record_oneid", "values", "edges", "removals", "invalid", "changes", "links", "naive"}
    assert len(written) == 2 and all(w == rules for w in written)  # both months; no table yet
    # and the unified tables but the orders (the profiles read them) before the profiles are made
    assert profiled == [rules | {"events", "touchpoints", "campaign_assignments"}] * 2
    assert not list((d / "processed").glob(".oneid-*"))  # each completed and renamed into place

    held = Workspace(d)._resolve_now(MONTH, ws.resolve(str(Month.parse(MONTH).previous),
                                                        stable=False).read("record_oneid", ["record_key", "oneid"]))
    assert held.folder is None and len(held._frames) == len(FRAMES)
    _same_cache_files(ws, r, held, tmp_path / "held")


def _same_cache_files(ws: Workspace, made: Resolved, held: Resolved, into) -> None:
    """``made`` (a cache written as the resolution made it) has the files and summary of ``held``
    (a resolution held in memory) written after it, timings aside."""
    import pyarrow.parquet as pq

    assert held.folder is None
    ws._write_cache(into, held)
    names = sorted(p.name for p in made.folder.glob("*.parquet"))
    assert names == sorted(p.name for p in into.glob("*.parquet")) and len(names) == 13
    for name in names:  # the links' metadata carry the stage's timings: compared without it
        a, b = pq.read_table(made.folder / name), pq.read_table(into / name)
        if name == "links.parquet":  # DuckDB's EM sums in parallel: weights equal to ~1e-12, not bit for bit
            assert a.schema.remove_metadata() == b.schema.remove_metadata()
            pd.testing.assert_frame_equal(a.to_pandas(), b.to_pandas(), check_exact=False, rtol=1e-9)
        else:
            assert a.equals(b, check_metadata=False), name

    def untimed(v):
        if isinstance(v, dict):
            return {k: untimed(x) for k, x in v.items() if k not in ("seconds", "stage_seconds", "model_parameters")}
        return v

    assert untimed(made.summary) == untimed(held.summary) and made.summary["probabilistic_links"] > 0


def test_a_failed_resolution_leaves_no_half_written_cache(world, tmp_path, monkeypatch):
    import omni.workspace as wsmod

    d = tmp_path / "w"
    shutil.copytree(world / "raw", d / "raw")

    def broken(*a, **k):
        raise RuntimeError("profiles failed")

    monkeypatch.setattr(wsmod, "build_profiles", broken)
    with pytest.raises(RuntimeError, match="profiles failed"):
        Workspace(d).resolve(as_of=MONTH)  # both months, their inputs shared on disk
    assert [p.name for p in (d / "processed").iterdir() if p.name != "memo"] == []
    monkeypatch.undo()

    from omni.core.sink import FrameSink

    real_write = FrameSink._write

    def full_disk(self, name, box):
        if name == "edges":
            box.clear()
            raise OSError("No space left on device")
        return real_write(self, name, box)

    monkeypatch.setattr(FrameSink, "_write", full_disk)
    with pytest.raises(OSError, match="No space left"):
        Workspace(d).resolve(as_of=MONTH, stable=False)
    assert [p.name for p in (d / "processed").iterdir() if p.name != "memo"] == []
    monkeypatch.undo()

    real_rename = type(d).rename

    def refused(self, target):
        if type(d)(target).name.startswith("oneid-"):
            raise PermissionError("rename refused")
        return real_rename(self, target)

    monkeypatch.setattr(type(d), "rename", refused)
    with pytest.raises(PermissionError, match="rename refused"):  # not an empty resolution
        Workspace(d).resolve(as_of=MONTH, stable=False)
    assert [p.name for p in (d / "processed").iterdir() if p.name != "memo"] == []


def test_record_keys_from_the_key_columns_are_the_stacked_keys(world, tmp_path):
    """The kept records' keys, made source by source from the key columns (read alone from the
    folder where the source tables wait, or from the tables held), are the keys of the whole
    stack taken at the records' places; records not stacked by source take the whole stack."""
    import omni.workspace as wsmod

    ws = Workspace(world)
    tabs = {n: ws.source(n) for n in ws._record_sources()}
    records = ws._build_records(tabs, keys=False)
    stacked = ws._build_records(tabs)["record_key"]
    kept = np.flatnonzero(~(records["time"].to_numpy() >= month_end("2026-08")))
    assert 0 < len(kept) < len(records)
    cut = records.iloc[kept].reset_index(drop=True)
    on_disk = wsmod._spill_inputs((None, None, tabs, None), tmp_path, "keys")
    for got, want in ((ws._kept_record_keys(cut, tabs, None), stacked.take(kept)),
                      (ws._kept_record_keys(cut, {}, on_disk), stacked.take(kept)),
                      (ws._kept_record_keys(records, {}, on_disk), stacked)):
        assert len(got) == len(want) and list(got) == list(want)
    shuffled = cut.iloc[np.random.default_rng(1).permutation(len(cut))].reset_index(drop=True)
    assert list(ws._kept_record_keys(shuffled, {}, on_disk)) == list(
        stacked.take(kept[np.random.default_rng(1).permutation(len(cut))]))


def _large_and_spied(monkeypatch) -> list[str]:
    """Every dataset counts as large (out of core); the names of the working folders inputs are
    read back from are recorded in the returned list."""
    import omni.workspace as wsmod

    reads: list[str] = []
    real = wsmod._unspill_inputs

    def spy(folder, remove, parts=("ids", "records", "tabs", "quasi"), tab_columns=None):
        reads.append(folder.name.split("-")[0])
        return real(folder, remove, parts, tab_columns)

    monkeypatch.setattr(wsmod, "_unspill_inputs", spy)
    monkeypatch.setattr(wsmod, "RESOLVE_THREADS_UP_TO", 0)
    return reads


def test_one_large_resolution_alone_keeps_its_inputs_on_disk(world, tmp_path, monkeypatch):
    """Above ``RESOLVE_THREADS_UP_TO`` estimated records a resolution of one month alone (a
    monthly job numbered against last month's published OneIDs) keeps its source and quasi tables
    on disk as two months sharing inputs do: read back after the rules, the folder removed after;
    the cache files are those of the resolution held in memory."""

    copies = []
    for name in ("small", "large"):
        d = tmp_path / name
        shutil.copytree(world / "raw", d / "raw")
        copies.append(d)
    held = Workspace(copies[0])._resolve_now("2026-09", None)  # in memory, no cache folder
    reads = _large_and_spied(monkeypatch)
    large = Workspace(copies[1]).resolve("2026-09", stable=False)
    assert reads.count(".inputs") >= 3 and ".outputs" in reads
    assert not [p for p in (copies[1] / "processed").iterdir() if p.name.startswith(".")]
    _same_cache_files(Workspace(copies[0]), large, held, tmp_path / "held")


def test_a_large_month_after_a_cached_one_keeps_its_inputs_on_disk(world, tmp_path, monkeypatch):
    """The monthly job's usual case: last month's resolution is in the cache (same files, same
    code), so this month is numbered against it and resolved alone. Above
    ``RESOLVE_THREADS_UP_TO`` estimated records its source and quasi tables wait on disk as in
    the other large resolutions (at 5M persons they were 3.2 GB held through the matching and the
    numbering); the cache files are those of the resolution held in memory."""

    copies = []
    for name in ("small", "large"):
        d = tmp_path / name
        shutil.copytree(world / "raw", d / "raw")
        Workspace(d).resolve("2026-09", stable=False, baseline=False)
        copies.append(d)
    before = Workspace(copies[0])._cache_dir("2026-09") / "record_oneid.parquet"
    held = Workspace(copies[0])._resolve_now("2026-10", before)  # in memory, numbered against the file
    reads = _large_and_spied(monkeypatch)
    large = Workspace(copies[1]).resolve("2026-10")
    assert large.summary["records"] == held.summary["records"] and "previous_from" not in large.summary
    assert reads.count(".inputs") >= 3 and ".outputs" in reads
    assert not [p for p in (copies[1] / "processed").iterdir() if p.name.startswith(".")]
    _same_cache_files(Workspace(copies[0]), large, held, tmp_path / "held")
