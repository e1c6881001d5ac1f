"""FrameSink: frames written to Parquet on threads as soon as they are made, and let go of."""

from __future__ import annotations

import threading
import weakref

import numpy as np
import pandas as pd
import pytest

from omni.core.sink import FrameSink


def test_frames_are_written_whole_and_let_go_of(tmp_path):
    a = pd.DataFrame({"k": pd.array(["x", None, "z"], dtype="string[pyarrow]"), "v": [1.5, np.nan, 3.0]})
    b = pd.DataFrame({"n": np.arange(100_000, dtype=np.int32)})
    want_a, want_b = a.copy(), b.copy()
    gone = weakref.ref(b)
    after = []
    with FrameSink(tmp_path, after_each=lambda: after.append(threading.current_thread().name)) as sink:
        sink.put("a", a)
        sink.put("b", b)
        del b
        assert "a" in sink and "c" not in sink
        with pytest.raises(ValueError, match="'a' was already given"):
            sink.put("a", a)
    assert gone() is None  # the sink kept no reference once the frame was written
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a.parquet").astype({"k": "string[pyarrow]"}), want_a)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "b.parquet"), want_b)
    assert len(after) == 2 and all(n.startswith("omni-sink") for n in after)


def test_a_failed_write_is_raised_by_close(tmp_path):
    sink = FrameSink(tmp_path / "missing")  # no such folder: the write fails on its thread
    sink.put("a", pd.DataFrame({"x": [1]}))
    with pytest.raises(OSError):
        sink.close()


def test_an_error_in_the_caller_is_not_covered_by_the_sinks(tmp_path):
    with pytest.raises(KeyError, match="first"), FrameSink(tmp_path / "missing") as sink:
        sink.put("a", pd.DataFrame({"x": [1]}))
        raise KeyError("first")


def test_after_a_failed_write_the_next_put_fails_and_the_frame_is_let_go_of(tmp_path, monkeypatch):
    """A write that fails is raised at the next frame given (not after the last one), with the
    file named, and its error does not keep the frame alive (the writer's frames are dropped)."""
    import time

    real = pd.DataFrame.to_parquet

    def broken(self, path, *a, **k):
        if str(path).endswith("bad.parquet"):
            raise OSError("disk full")
        return real(self, path, *a, **k)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)
    sink = FrameSink(tmp_path, threads=1)
    bad = pd.DataFrame({"x": np.arange(10)})
    gone = weakref.ref(bad)
    sink.put("bad", bad)
    del bad
    for _ in range(200):  # the writer thread's failure
        if sink._futures["bad"].done():
            break
        time.sleep(0.01)
    with pytest.raises(OSError, match="disk full") as got:
        sink.put("next", pd.DataFrame({"y": [1]}))
    assert any("bad.parquet" in n for n in getattr(got.value, "__notes__", []))
    del got
    with pytest.raises(OSError, match="disk full"):
        sink.close()
    import gc

    gc.collect()
    assert gone() is None
