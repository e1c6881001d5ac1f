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

    def slow(frames, d):  # the reader must wait for the writer, however long it takes
        gate.wait(5)
        real(frames, d)

    monkeypatch.setattr(spill, "_write_frames", slow)
    frames = {"b": _frame(), "a": _frame().iloc[:1]}
    d = spill_frames(frames, tmp_path, "bg", background=True)
    assert not (d / "columns.pkl").exists()  # returned before anything was written
    threading.Timer(0.2, gate.set).start()
    back = read_spilled(d)
    assert list(back) == ["b", "a"]
    pd.testing.assert_frame_equal(back["b"], frames["b"])

    def broken(frames, d):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spill, "_write_frames", broken)
    d = spill_frames(frames, tmp_path, "full", background=True)
    with pytest.raises(OSError, match="No space left"):
        read_spilled(d)
    spill.wait_spilled(d)  # reported once: the folder is no longer pending
