"""The Spark engine's file handling: a source missing at a Hadoop-filesystem URI is the embedded
engine's one-line error (the URIs' loading is checked by the as-of world test), and the Spark
writer task writes a frame as the same Parquet file pandas writes for the embedded cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omni.io import DataContractError, read_spec
from omni.spark.load import load_inputs
from omni.spark.output import write_frame


def test_a_missing_file_at_a_uri_is_the_embedded_engines_error(spark, test_world, tmp_path):
    # the URI path itself is checked against the local one by the as-of world test
    spec = read_spec(test_world)
    missing = (tmp_path / "raw").resolve()
    missing.mkdir()
    with pytest.raises(DataContractError, match=r"^source 'crm_members' \(file 'crm_members.csv'\): "
                                                r"file not found at 'file:"):
        load_inputs(spark, spec, staging=tmp_path / "none", raw_uri=missing.as_uri())
    assert not (tmp_path / "none" / "ids").exists() or not any((tmp_path / "none" / "ids").iterdir())


def test_writer_task_writes_the_embedded_parquet_file(spark, tmp_path):
    n = 25_000
    rng = np.random.default_rng(3)
    want = pd.DataFrame({
        "key": pd.array([f"k{i}" for i in range(n)], dtype="string[pyarrow]"),
        "kind": pd.Categorical(rng.choice(["b", "a"], n), categories=["b", "a", "unused"]),
        "note": np.where(rng.random(n) < 0.5, None, "x").astype(object),
        "v": np.arange(n, dtype=np.int32),
    })
    shuffled = want.assign(kind=want["kind"].astype(str)).sample(frac=1, random_state=1)
    sdf = spark.createDataFrame(shuffled).repartition(4)
    assert write_frame(sdf, tmp_path / "f.parquet", want.iloc[:0], order="v") == n
    want.to_parquet(tmp_path / "g.parquet", index=False)
    with pd.option_context("mode.string_storage", "pyarrow"):
        got, ref = pd.read_parquet(tmp_path / "f.parquet"), pd.read_parquet(tmp_path / "g.parquet")
    pd.testing.assert_frame_equal(got, ref)
    assert list(got["kind"].cat.categories) == ["b", "a", "unused"]
