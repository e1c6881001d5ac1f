import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from omni.core.spill import read_spilled, spill_frames


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "key": pd.array(["a:1", None, "b:2"], dtype="string[pyarrow]"),
        "cat": pd.Categorical(["x", "y", "x"], categories=pd.Index(["y", "x"], dtype="string[pyarrow]")),
        "plain_cat": pd.Categorical(["u", None, "u"]),
        "row": np.array([0, 5, 2], dtype=np.int32),
        "time": pd.to_datetime(["2026-01-01", None, "2026-03-01T12:00:00"], format="ISO8601"),
        "opt_out": pd.array([True, None, False], dtype="boolean"),
        "year": pd.array([1990, None, 2001], dtype="Int64"),
        "amount": [1.5, np.nan, 3.0],
        "dict": pd.array(pa.chunked_array([pa.array(["p", "q", "p"]).dictionary_encode()]),
                         dtype=pd.ArrowDtype(pa.dictionary(pa.int32(), pa.string()))),
    })


def test_spilled_frames_come_back_with_their_values_dtypes_and_order(tmp_path):
    frames = {"b": _frame(), "a": _frame().iloc[:0].reset_index(drop=True)}
    d = spill_frames(frames, tmp_path / "processed", "test")
    assert d.name.startswith(".test-") and d.parent == tmp_path / "processed"
    back = read_spilled(d)
    assert not d.exists() and list(back) == ["b", "a"]
    for name, df in frames.items():
        pd.testing.assert_frame_equal(back[name], df)
        assert list(back[name].dtypes.astype(str)) == list(df.dtypes.astype(str))
    assert back["b"]["cat"].cat.categories.dtype == "string"  # not object: the categories' own dtype


def test_some_columns_of_some_frames_come_back_alone(tmp_path):
    """The record keys need each source table's key column only: a spilled frame is read column
    by column (plain and Arrow-backed ones, in the frame's order), other frames whole."""
    big = pd.concat([_frame()] * 3, ignore_index=True)
    d = spill_frames({"f": big, "g": _frame()}, tmp_path, "cols")
    back = read_spilled(d, remove=False, columns={"f": ["dict", "row", "key"]})
    pd.testing.assert_frame_equal(back["f"], big[["key", "row", "dict"]])
    pd.testing.assert_frame_equal(back["g"], _frame())
    only = read_spilled(d, remove=False, which=lambda n: n == "f", columns={"f": ["amount"]})
    assert list(only) == ["f"]
    pd.testing.assert_frame_equal(only["f"], big[["amount"]])
    with pytest.raises(KeyError, match="frame 'f' spilled to .* has no column 'nope'"):
        read_spilled(d, columns={"f": ["row", "nope"]})


def test_a_kept_folder_reads_twice_and_a_missing_one_is_an_error(tmp_path):
    d = spill_frames({"f": _frame()}, tmp_path, "keep")
    pd.testing.assert_frame_equal(read_spilled(d, remove=False)["f"], read_spilled(d)["f"])
    with pytest.raises(FileNotFoundError):
        read_spilled(d)


def test_a_folder_written_on_a_thread_is_waited_for_and_its_failure_raised(tmp_path, monkeypatch):
    import threading

    import omni.core.spill as spill

    gate = threading.Event()
    real = spill._write_frames

    def slow(frames, d, order=None):  # the reader must wait for the writer, however long it takes
        gate.wait(5)
        real(frames, d, order)

    monkeypatch.setattr(spill, "_write_frames", slow)
    frames = {"b": _frame(), "a": _frame().iloc[:1]}
    d = spill_frames(frames, tmp_path, "bg", background=True)
    assert not (d / "columns.pkl").exists()  # returned before anything was written
    threading.Timer(0.2, gate.set).start()
    back = read_spilled(d)
    assert list(back) == ["b", "a"]
    pd.testing.assert_frame_equal(back["b"], frames["b"])

    def broken(frames, d, order=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spill, "_write_frames", broken)
    d = spill_frames(frames, tmp_path, "full", background=True)
    with pytest.raises(OSError, match="No space left"):
        read_spilled(d)
    spill.wait_spilled(d)  # reported once: the folder is no longer pending


def test_frames_added_one_at_a_time_come_back_in_the_order_asked_for(tmp_path, monkeypatch):
    """A resolution's loading hands each source table to the folder as soon as it is made."""
    import omni.core.spill as spill

    frames = {"tab.b": _frame(), "tab.a": _frame().iloc[:1].reset_index(drop=True), "ids": _frame().iloc[1:].reset_index(drop=True)}
    d = spill_frames({"tab.b": frames["tab.b"]}, tmp_path, "inputs", background=True)
    assert spill_frames({"tab.a": frames["tab.a"]}, None, background=True, into=d) == d
    spill_frames({"ids": frames["ids"]}, None, background=True, into=d, order=["tab.a", "tab.b", "ids"])
    back = read_spilled(d, remove=False)
    assert list(back) == ["tab.a", "tab.b", "ids"]
    for name, df in frames.items():
        pd.testing.assert_frame_equal(back[name], df)
    assert list(read_spilled(d, which=lambda n: n.startswith("tab."))) == ["tab.a", "tab.b"]
    with pytest.raises(ValueError, match="does not name"):
        spill_frames({"x": _frame()}, tmp_path, "bad", order=["x", "y"])

    # a failed first write fails the folder: the reader sees it even when later ones had nothing to do
    real = spill._write_frames

    def broken_once(frames, d, order=None):
        if "first" in frames:
            raise OSError(28, "No space left on device")
        real(frames, d, order)

    monkeypatch.setattr(spill, "_write_frames", broken_once)
    d = spill_frames({"first": _frame()}, tmp_path, "full", background=True)
    spill_frames({"second": _frame()}, None, background=True, into=d)
    with pytest.raises(OSError, match="No space left"):
        read_spilled(d)


def test_frames_written_in_batches_come_back_whole(tmp_path, monkeypatch):
    """Large frames go to disk a few rows at a time (no second copy of the whole frame); one with
    a column of Python objects at once (its type is all its values')."""
    import omni.core.spill as spill

    monkeypatch.setattr(spill, "SPILL_ROWS", 2)
    f = pd.concat([_frame()] * 3, ignore_index=True)
    text = f.assign(text=pd.Series([None, None, "x", "y", None, "z", "w", None, "v"], dtype=object))
    frames = {"f": f, "text": text, "empty": f.iloc[:0].reset_index(drop=True)}
    d = spill_frames(frames, tmp_path, "batches")
    import pyarrow.feather as feather

    assert feather.read_table(d / "f.arrow").column("row").num_chunks == 5  # 9 rows, 2 at a time
    back = read_spilled(d)
    for name, df in frames.items():
        pd.testing.assert_frame_equal(back[name], df)


def test_arrow_columns_keep_their_chunks_and_dictionaries(tmp_path):
    """Chunks sharing one dictionary (the identifier values, coded per source) come back sharing
    it, written once; a chunk with a dictionary of its own keeps it. No unification on the way."""
    shared = pa.array([f"v{i}" for i in range(1000)], pa.large_string())
    own = pa.array(["x", "y"], pa.large_string())
    chunks = [pa.DictionaryArray.from_arrays(pa.array(np.arange(i, 600 + i, dtype=np.int32)), shared) for i in (0, 7)]
    chunks.append(pa.DictionaryArray.from_arrays(pa.array(np.array([1, 0], np.int32)), own))
    col = pa.chunked_array(chunks)
    f = pd.DataFrame({"value": pd.array(col, dtype=pd.ArrowDtype(col.type))})
    d = spill_frames({"ids": f}, tmp_path, "dicts")
    back = read_spilled(d, remove=False)["ids"]
    pd.testing.assert_frame_equal(back, f)
    got = back["value"].array.__arrow_array__()
    assert [len(c.dictionary) for c in got.chunks] == [1000, 1000, 2]
    assert got.chunks[0].dictionary.buffers()[2].address == got.chunks[1].dictionary.buffers()[2].address


def test_the_rows_of_spilled_frames_are_known_without_reading_them(tmp_path):
    """A resolution builds its OneID map from the source tables' lengths alone while the tables
    wait on disk: ``spilled_rows`` gives every frame's rows, in the folder's order, also for
    frames added on a thread."""
    from omni.core.spill import spilled_rows

    a = pd.DataFrame({"x": np.arange(5)})
    b = pd.DataFrame({"s": pd.array(["u", None, "w"], dtype="string[pyarrow]")})
    d = spill_frames({"tab.a": a}, tmp_path, "t")
    spill_frames({"tab.b": b, "empty": a.iloc[:0]}, None, background=True, into=d)
    assert list(spilled_rows(d).items()) == [("tab.a", 5), ("tab.b", 3), ("empty", 0)]
    assert [(n, len(f)) for n, f in read_spilled(d, remove=False).items()] == list(spilled_rows(d).items())


def test_writes_from_two_threads_into_one_folder_all_land(tmp_path):
    """Sources loaded on two threads hand their tables to one folder at once: every frame is
    written and read back whole, whatever the interleaving."""
    import threading

    from omni.core.spill import spilled_rows

    d = spill_frames({}, tmp_path, "t")
    frames = {f"tab.{i}": pd.DataFrame({"x": np.arange(i * 1000), "s": pd.array([str(j) for j in range(i * 1000)],
                                                                                dtype="string[pyarrow]")})
              for i in range(1, 13)}
    barrier = threading.Barrier(2)

    def hand(names):
        barrier.wait()
        for n in names:
            spill_frames({n: frames[n]}, None, background=True, into=d)

    names = list(frames)
    threads = [threading.Thread(target=hand, args=(names[k::2],)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spill_frames({}, None, into=d, order=names)
    back = read_spilled(d, remove=False)
    assert list(back) == names and spilled_rows(d) == {n: len(f) for n, f in frames.items()}
    for n in names:
        pd.testing.assert_frame_equal(back[n], frames[n])


def test_working_folders_of_stopped_processes_are_swept(tmp_path):
    """A run killed by the system leaves its hidden working folders (GBs at 5M persons): those
    whose process no longer runs are removed; this process's, a running one's and other folders stay."""
    import os
    import subprocess
    import sys

    from omni.core.spill import sweep_orphans

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                           text=True, check=True)
    dead = int(ended.stdout)
    mine = spill_frames({"f": _frame()}, tmp_path, "inputs")
    assert mine.name.startswith(f".inputs-{os.getpid()}-")
    for name in (f".inputs-{dead}-abcd1234", f".oneid-2026-10-0123456789ab-{dead}-x_y9z8w7", ".outputs-inputs-1-abcdefgh",
                 "oneid-2026-10-0123456789ab", ".spark-stage-abcdefgh", "memo"):
        (tmp_path / name).mkdir()
    gone = sweep_orphans(tmp_path)
    assert sorted(gone) == sorted([f".inputs-{dead}-abcd1234", f".oneid-2026-10-0123456789ab-{dead}-x_y9z8w7"])
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([mine.name, ".outputs-inputs-1-abcdefgh", "oneid-2026-10-0123456789ab",
                           ".spark-stage-abcdefgh", "memo"])  # pid 1 runs
    assert sweep_orphans(tmp_path / "missing") == []
