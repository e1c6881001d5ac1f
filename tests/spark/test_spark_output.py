"""The Spark engine's file handling: sources read from Hadoop-filesystem URIs (``file://``, the code
path of ``hdfs://`` and ``s3a://``) load exactly as local files do, and the Spark writer task writes
a frame as the same Parquet file pandas writes for the embedded cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omni.io import DataContractError, read_spec
from omni.spark.load import load_inputs
from omni.spark.output import write_frame


def test_sources_from_file_uris_load_as_local_files(spark, test_world, tmp_path):
    spec = read_spec(test_world)
    local = load_inputs(spark, spec, staging=tmp_path / "local")
    remote = load_inputs(spark, spec, staging=tmp_path / "uri", raw_uri=(test_world / "raw").resolve().as_uri())
    try:
        cols = ["source", "rows_in", "accepted", "quarantined", "file_records"]
        pd.testing.assert_frame_equal(remote.counts[cols], local.counts[cols])
        assert int(remote.counts["rows_in"].sum()) > 60_458  # with the quarantined rows
        a = remote.ids.toPandas().sort_values("ord").reset_index(drop=True)
        b = local.ids.toPandas().sort_values("ord").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)
        for name in local.names:
            pd.testing.assert_frame_equal(remote.tables[name], local.tables[name], obj=name)
    finally:
        local.close()
        remote.close()
    missing = (tmp_path / "raw").resolve()
    missing.mkdir()
    with pytest.raises(DataContractError, match="file not found at 'file:"):
        load_inputs(spark, spec, staging=tmp_path / "none", raw_uri=missing.as_uri())


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
