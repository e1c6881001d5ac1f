"""The Spark engine on the 3,000-person test world: the same resolution as the embedded engine.

- ``omni resolve --engine spark --as-of <month>`` (rules, probabilistic stage and stable numbering
  against the previous month's map on Spark) writes the cache in the embedded layout, the
  record-level files by a Spark task: ``Workspace.unified()`` reads it and gives the same record ->
  OneID map, unified tables and profiles as the embedded engine, and the same links; the report's
  identity notebook runs on it;
- as of the test world's second-to-last month (stable OneIDs against the month before, both
  resolved on Spark from one load of the files read from a ``file://`` URI): the same record
  partition, ``how``, value statuses, OneIDs, profiles and unified tables (built on Spark,
  :mod:`omni.spark.unify`; its hand-made cases are in test_spark_unify.py);
- bad input gives the embedded engine's one-line error.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from omni.cli import main
from omni.core import Month
from omni.io import DataContractError
from omni.oneid.config import OneIDConfig
from omni.reporting.runner import run_report
from omni.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]


def _copy(test_world: Path, dest: Path) -> Path:
    shutil.copytree(test_world / "raw", dest / "raw")
    return dest


def _partition(oneids: pd.Series) -> np.ndarray:
    """Each record's first fellow record (compares partitions, not labels)."""
    codes = pd.factorize(oneids)[0]
    return pd.Series(np.arange(len(codes))).groupby(codes).transform("min").to_numpy()


@pytest.fixture(scope="module")
def embedded(test_world):
    return Workspace(test_world)


def test_cli_spark_resolution_is_read_by_the_workspace_and_the_notebooks(spark, embedded, test_world, tmp_path,
                                                                         capsys):
    data = _copy(test_world, tmp_path / "world")
    month = embedded.last_complete_month()  # 2026-10: every record of the test world
    want = embedded.resolve(month)  # numbered against the month before, resolved first
    previous = tmp_path / "previous.parquet"
    embedded.resolve(str(Month.parse(month).previous)).read("record_oneid", ["record_key", "oneid"]).to_parquet(previous)
    assert main(["resolve", "--data", str(data), "--engine", "spark", "--master", "local[2]", "--as-of", month,
                 "--previous", str(previous), "--evaluate", "no", "--quiet"]) == 0
    assert '"engine": "spark"' in capsys.readouterr().out
    got = Workspace(data).unified(month)  # the embedded workspace reads the Spark engine's cache
    assert got.summary["engine"] == "spark"
    assert len(got.record_oneid) == len(want.record_oneid) == 60_458
    assert got.record_oneid["oneid"].nunique() == want.record_oneid["oneid"].nunique()
    pd.testing.assert_frame_equal(got.record_oneid, want.record_oneid)
    assert (_partition(got.record_oneid["oneid"]) == _partition(want.record_oneid["oneid"])).all()
    for name in ("values", "edges", "removals", "invalid", "changes", "naive", "profiles"):
        pd.testing.assert_frame_equal(got[name], want[name], obj=name)
    for name in ("orders", "events", "touchpoints", "campaign_assignments"):
        pd.testing.assert_frame_equal(got[name], want[name], obj=name)
    # the probabilistic stage ran on Spark, trained on Spark: the same 1,017 links (accounts,
    # records, target clusters and OneIDs, agreement levels); the weights differ by the sampling
    # noise of u (docs/scale_out.md, "Training on Spark"), and the links are listed by weight
    assert got.summary["probabilistic"]["engine"] == "spark"
    assert got.summary["probabilistic_links"] == want.summary["probabilistic_links"] == 1_017
    a = got.links.sort_values("account").reset_index(drop=True)
    b = want.links.sort_values("account").reset_index(drop=True)
    weights = ["match_probability", "match_weight", "second_weight", "margin"]
    pd.testing.assert_frame_equal(a.drop(columns=weights), b.drop(columns=weights))
    diff = (a["match_weight"] - b["match_weight"]).abs()
    assert diff.max() < 2 and np.corrcoef(a["match_weight"], b["match_weight"])[0, 1] > 0.99
    for name in ("record_oneid", "values", "edges", "invalid", "changes", "naive"):  # written by Spark
        a, b = (pq.read_schema(r.folder / f"{name}.parquet") for r in (got, want))
        # pandas gives a column that is all null (e.g. changes.other of a first run) the null type
        assert [(f.name, f.type) for f in a] == [(f.name, f.type if f.type != pa.null() else pa.string()) for f in b]
    # a notebook of the report reads the Spark-resolved month from the cache (no resolution of its own)
    caches = sorted(p.name for p in (data / "processed").glob("oneid-*"))
    out = run_report(data=data, month=month, notebooks=ROOT / "notebooks", out=tmp_path / "reports", only=["02"],
                     progress=False)
    assert (out / "02_identity_resolution.html").stat().st_size > 10_000
    figures = json.loads((out / "metrics.json").read_text())["notebooks"]["02_identity_resolution"]["metrics"]
    assert figures["profiles"]["value"] == want.summary["profiles"] == got.summary["profiles"]
    assert sorted(p.name for p in (data / "processed").glob("oneid-*")) == caches


def test_as_of_resolution_on_spark_matches_the_embedded_engine(spark, test_world, tmp_path):
    cfg = OneIDConfig(probabilistic=False)
    emb = Workspace(test_world, config=cfg)
    as_of = str(Month.parse(emb.last_complete_month()).previous)
    # the source files read from a Hadoop-filesystem URI (file://: the code path of hdfs:// and
    # s3a://); the dataset folder holds sources.yaml and the cache only
    (tmp_path / "world" / "raw").mkdir(parents=True)
    shutil.copy(test_world / "raw" / "sources.yaml", tmp_path / "world" / "raw")
    spk = Workspace(tmp_path / "world", config=cfg, engine="spark",
                    raw_uri=(test_world / "raw").resolve().as_uri())
    got, want = spk.resolve(as_of), emb.resolve(as_of)
    a, b = got.record_oneid, want.record_oneid
    assert 0 < len(a) == len(b) < 60_458
    assert a["record_key"].equals(b["record_key"])
    assert (_partition(a["oneid"]) == _partition(b["oneid"])).all()
    assert a["how"].astype(str).equals(b["how"].astype(str))
    assert a["oneid"].equals(b["oneid"])  # stably numbered against the previous month alike
    pd.testing.assert_frame_equal(got.values, want.values)
    pd.testing.assert_frame_equal(got.changes, want.changes)
    for name in ("profiles", "orders", "events", "touchpoints", "campaign_assignments"):  # built on Spark
        pd.testing.assert_frame_equal(got[name], want[name], obj=name)
    assert got.summary["opt_outs_from_quarantine"] == want.summary["opt_outs_from_quarantine"]
    prev = str(Month.parse(as_of).previous)  # resolved on Spark from the same load
    assert spk.cached_resolution(prev).record_oneid.equals(emb.resolve(prev, stable=False).record_oneid)


def _one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("omni: error: "), lines
    return lines[0]


def test_bad_input_gives_the_embedded_engines_one_line_error(spark, test_world, tmp_path, capsys):
    data = _copy(test_world, tmp_path / "world")
    (data / "raw" / "pos_orders.csv").unlink()
    lines = {}
    for engine in ("embedded", "spark"):
        assert main(["resolve", "--data", str(data), "--engine", engine, "--rules-only", "--quiet"]) == 2
        lines[engine] = _one_line(capsys.readouterr().err)
    assert lines["spark"] == lines["embedded"] and "pos_orders" in lines["spark"]
    # a declared column missing from a file: found inside a Spark task, raised on the driver alike
    data2 = _copy(test_world, tmp_path / "world2")
    spec = yaml.safe_load((data2 / "raw" / "sources.yaml").read_text(encoding="utf-8"))
    spec["sources"]["service_tickets"]["columns"]["no_such_column"] = "string"
    (data2 / "raw" / "sources.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    errors = {}
    for engine in ("embedded", "spark"):
        with pytest.raises(DataContractError) as err:
            Workspace(data2, config=OneIDConfig(probabilistic=False), engine=engine).resolve()
        errors[engine] = str(err.value)
    assert errors["spark"] == errors["embedded"] and "no_such_column" in errors["spark"]
