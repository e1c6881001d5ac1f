"""What the notebooks read from the sources alone, made beside the resolution (issue 16):
the recommendations' sources kept for the kernels, the job's packages, failures and stop."""

from __future__ import annotations

import shutil
import sys
import threading
import time

import nbformat
import pandas as pd
import pytest

from omni.io import load_source
from omni.reporting.prepare import PrepareJob, prepare_modules
from omni.workspace import Workspace


@pytest.fixture(scope="module")
def world(test_world, tmp_path_factory):
    d = tmp_path_factory.mktemp("prepare") / "world"
    shutil.copytree(test_world / "raw", d / "raw")
    return d


def test_the_recommendations_sources_are_kept_for_the_kernels(world, monkeypatch):
    """``omni.recommend.prepare_month`` loads and validates the order lines, the catalogue and the
    views once; a kernel's shared workspace then reads them (nothing parsed again), equal to
    loading the files, quarantine and counts included."""
    import omni.workspace as wsmod
    from omni.recommend import prepare_month

    prepare_month(Workspace(world, share=True), "2026-10")
    kept = list((world / "processed" / "memo").rglob("io-*.pkl"))
    assert len(kept) == 3

    def refuse(*_a, **_k):
        raise AssertionError("parsed again")

    monkeypatch.setattr(wsmod, "load_source", refuse)
    kernel = Workspace(world, share=True)
    for name in ("order_lines", "products", "product_views"):
        got, want = kernel.loaded_source(name), load_source(kernel.spec, name)
        pd.testing.assert_frame_equal(got.table, want.table)
        pd.testing.assert_frame_equal(got.quarantine, want.quarantine)
        assert (got.rows_in, got.accepted, got.quarantined) == (want.rows_in, want.accepted, want.quarantined)
    assert kernel._memo == {}  # not held: read for the caller only
    with pytest.raises(KeyError, match="no source 'nope'"):
        kernel.loaded_source("nope")


def test_a_notebooks_package_is_read_from_its_metadata(tmp_path):
    nb = nbformat.v4.new_notebook()
    for name, meta in (("06_a", {"prepare": "omni.audience"}), ("07_b", {"prepare": "omni.recommend"}),
                       ("08_c", {})):
        nb.metadata["omni"] = meta
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    paths = sorted(tmp_path.glob("*.ipynb"))
    assert prepare_modules(paths) == {"06_a": "omni.audience", "07_b": "omni.recommend"}
    nb.metadata["omni"] = {"prepare": "subprocess"}
    nbformat.write(nb, tmp_path / "09_d.ipynb")
    with pytest.raises(ValueError, match="09_d.ipynb: 'prepare' must name an omni package"):
        prepare_modules(sorted(tmp_path.glob("*.ipynb")))


def test_the_job_goes_on_after_a_failed_package_and_stops_when_told(world, monkeypatch):
    """A package that fails is reported and the next one runs; each package's future is done
    when it is; ``stop`` ends the running process at once and skips the rest."""
    import omni.reporting.runner as runner

    job = PrepareJob(world, "2026-10", ["omni.nosuchpackage", "omni.recommend"])
    got = job.run()
    assert list(got.failed) == ["omni.nosuchpackage"] and "nosuchpackage" in got.failed["omni.nosuchpackage"]
    assert job.finished("omni.recommend").result(0) == "omni.recommend"

    monkeypatch.setattr(runner, "kernel_command", lambda cmd, nice: [sys.executable, "-c", "import time; time.sleep(60)"])
    job = PrepareJob(world, "2026-10", ["omni.audience", "omni.recommend"])
    out: list = []
    t = threading.Thread(target=lambda: out.append(job.run()))
    t0 = time.perf_counter()
    t.start()
    time.sleep(1.0)
    job.stop()
    t.join(20)
    assert not t.is_alive() and time.perf_counter() - t0 < 15
    assert set(out[0].failed) == {"omni.audience", "omni.recommend"} and out[0].failed["omni.recommend"] == "stopped"
    assert all(job.finished(m).done() for m in job.modules)


def test_the_audit_keeps_the_sources_the_audiences_read(test_world, tmp_path, monkeypatch):
    """In the report the data audit runs first and loads every source; in a shared workspace it
    keeps them, so the audiences' inputs (made beside the resolution) parse no file again, and
    they equal the inputs made from the files."""
    import omni.workspace as wsmod
    from omni.audience.pipeline import _consent_inputs
    from omni.audit import analyse_month as audit

    shutil.copytree(test_world / "raw", tmp_path / "raw")
    shared = audit(Workspace(tmp_path, share=True), "2026-10")
    pd.testing.assert_frame_equal(shared.tables["overview"], audit(Workspace(tmp_path), "2026-10").tables["overview"])
    assert len(list((tmp_path / "processed" / "memo").rglob("io-*.pkl"))) == len(Workspace(tmp_path).spec.sources)
    want = _consent_inputs(Workspace(tmp_path))

    def refuse(*_a, **_k):
        raise AssertionError("parsed again")

    monkeypatch.setattr(wsmod, "load_source", refuse)
    got = _consent_inputs(Workspace(tmp_path, share=True))
    assert list(got.tables) == list(want.tables) and len(got.tables) >= 1
    for name in want.tables:
        pd.testing.assert_frame_equal(got.tables[name], want.tables[name])
    pd.testing.assert_frame_equal(got.quarantine, want.quarantine)
    pd.testing.assert_frame_equal(got.ids, want.ids)


def test_the_audit_reads_the_sources_the_resolution_kept(test_world, tmp_path, monkeypatch):
    """In the report the month's resolution (a shared workspace in a child process) loads its
    sources beside the data audit: it keeps them, and the audit takes those first and parses only
    the others, with the same tables as an audit of the files."""
    import omni.workspace as wsmod
    from omni.audit import TABLES
    from omni.audit import analyse_month as audit

    shutil.copytree(test_world / "raw", tmp_path / "raw")
    want = audit(Workspace(tmp_path), "2026-10")
    resolver = Workspace(tmp_path, share=True)
    resolver.resolve(as_of="2026-10")
    kept = [n for n in resolver.spec.sources if resolver.loaded_source_kept(n)]
    assert set(kept) == set(resolver._record_sources()) and len(kept) < len(resolver.spec.sources)
    assert not Workspace(tmp_path).loaded_source_kept(kept[0])  # an unshared workspace reads the files

    parsed: list[str] = []
    real = wsmod.load_source

    def spy(spec, name):
        parsed.append(name)
        return real(spec, name)

    import omni.audit.stream as stream

    normalized: list[str] = []
    real_link = wsmod.link_table

    def link_spy(data, *a, **k):
        normalized.extend(data)
        return real_link(data, *a, **k)

    def refuse(*_a, **_k):
        raise AssertionError("the audit normalized a source itself")

    monkeypatch.setattr(wsmod, "load_source", spy)
    monkeypatch.setattr(wsmod, "link_table", link_spy)
    monkeypatch.setattr(stream, "link_table", refuse)
    got = audit(Workspace(tmp_path, share=True), "2026-10")
    assert sorted(parsed) == sorted(set(resolver.spec.sources) - set(kept))
    # the identifier tables the resolution made are read, not made again
    with_ids = {n for n, s in resolver.spec.sources.items() if s.identifiers}
    assert sorted(normalized) == sorted(with_ids - set(kept)) and with_ids & set(kept)
    for name in TABLES:
        a, b = got.tables[name], want.tables[name]
        if isinstance(b, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b, check_exact=True)
        else:
            assert a == b, name


def test_sources_of_an_out_of_core_dataset_are_not_kept(test_world, tmp_path, monkeypatch):
    """Above the out-of-core line (5M persons: 14.75 GB of pickles, 3.25 GB more at the audit's
    peak while pickling) a shared workspace reads the files and keeps nothing, as before; below
    it the kept sources sit in a folder only their owner can read (they hold personal data)."""
    import omni.workspace as wsmod

    world = tmp_path / "world"
    shutil.copytree(test_world / "raw", world / "raw")
    Workspace(world, share=True).loaded_source("order_lines")
    memo = world / "processed" / "memo"
    before = set(memo.rglob("io-*.pkl"))
    assert len(before) == 1
    assert all(d.stat().st_mode & 0o077 == 0 for d in (memo, next(iter(before)).parent))
    monkeypatch.setattr(wsmod, "OUT_OF_CORE_RECORDS", 10)
    ws = Workspace(world, share=True)
    got = ws.loaded_source("crm_members")
    assert len(got.table) and set(memo.rglob("io-*.pkl")) == before
    assert not ws.loaded_source_kept("order_lines")  # kept by the first test, not read above the line
    monkeypatch.setattr(wsmod, "OUT_OF_CORE_RECORDS", 10**12)
    assert Workspace(world, share=True).loaded_source_kept("order_lines")


def test_a_process_waits_for_a_source_another_is_loading_instead_of_parsing_it_too(test_world, tmp_path, monkeypatch):
    """The month's resolution, the data audit and the preparation load the sources beside each
    other in the report: one that asks for a source another is loading waits for it and reads
    what that one keeps (each source is parsed once per report); the order of the loading
    prefers sources nobody is loading."""
    import omni.workspace as wsmod
    from omni.core.claims import claim_path

    world = tmp_path / "world"
    shutil.copytree(test_world / "raw", world / "raw")
    parsed: list[str] = []
    inside = threading.Event()
    real = wsmod.load_source

    def slow(spec, name):
        parsed.append(name)
        inside.set()
        time.sleep(0.5)
        return real(spec, name)

    monkeypatch.setattr(wsmod, "load_source", slow)
    first = Workspace(world, share=True)
    got = {}
    t = threading.Thread(target=lambda: got.setdefault("first", first.loaded_source("order_lines")))
    t.start()
    assert inside.wait(30)
    other = Workspace(world, share=True)
    assert other.loaded_source_claimed("order_lines") and not other.loaded_source_kept("order_lines")
    assert other.next_source(["order_lines", "crm_members"]) == "crm_members"  # nobody loads it
    second = other.loaded_source("order_lines")  # waits, then reads
    t.join()
    assert parsed == ["order_lines"]
    pd.testing.assert_frame_equal(second.table, got["first"].table)
    path = other._loaded_source_path("order_lines")
    assert not claim_path(path).exists() and other.next_source(["crm_members", "order_lines"]) == "order_lines"
