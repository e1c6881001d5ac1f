"""The unified tables and profiles built on Spark (:mod:`omni.spark.unify`) next to the embedded
twin (:mod:`omni.unify`), on the hand-made world of ``tests/fixtures_unify.py`` (the embedded
tests, tests/oneid/test_unify.py, work its golden records out by hand).

Each case stages the world's tables as the loader tasks do (:func:`omni.spark.load.spark_table`),
builds the four tables and the profiles on Spark, writes them with the cache's writer task and
reads them back as ``Resolved.read`` does; the embedded frames go through ``to_parquet`` and the
same reader (and, as a resolution that is not cached holds them, collected to the driver). They
must be equal frame for frame (rows, order, values, dtypes, categories), and
the survivorship rule is checked on the Spark side by value: the newest record wins, missing
times count as the oldest, equal times go to the first row, the most trusted source first, and an
opt-out on any record (or on a quarantined duplicate of one) wins. The whole-world parity (plain,
as of a month, with the probabilistic stage) is in tests/spark/test_spark_world.py.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fixtures_unify import A, B, C, D, E, T, world

from omni.consent import QuarantinedOptOuts, apply_quarantined_opt_outs
from omni.oneid.stable import format_oneid
from omni.spark.load import spark_table
from omni.spark.output import collect_frame, write_frame
from omni.spark.unify import unify_outputs
from omni.unify import UNIFIED_COLUMNS, RowMap, build_profiles, unified_table

AS_OF = T("2024-12-31")


def _read(path: Path) -> pd.DataFrame:
    with pd.option_context("mode.string_storage", "pyarrow"):  # as Resolved.read
        return pd.read_parquet(path)


def _quarantined(keys: list[str]) -> QuarantinedOptOuts:
    q = QuarantinedOptOuts.empty()
    q.rows = pd.DataFrame({"source": [k.split(":")[0] for k in keys], "row": np.arange(len(keys), dtype="int64"),
                           "record_key": pd.array(keys, dtype="string[pyarrow]"), "reasons": "duplicate_key",
                           "unreadable": False})
    return q


def _both(spark, tmp_path: Path, cut: str | None = None, tweak=None, quarantined: QuarantinedOptOuts | None = None,
          no_role: str | None = None, as_of: pd.Timestamp | None = AS_OF):
    """The embedded and the Spark frames of the world (records before ``cut``), read back from
    the Parquet files each engine writes (once compared as held in memory), and both engines'
    counts of quarantine opt-outs. ``no_role``: a source that feeds no unified table (its records
    still count in the profiles). ``as_of`` None: the age bands' year is the latest record's."""
    tables, records, numbers, spec = world()
    if no_role is not None:  # not in the spec's roles
        spec = SimpleNamespace(sources={n: s for n, s in spec.sources.items() if n != no_role})
    if tweak is not None:
        tweak(tables)
    if cut is not None:
        keep = ~(records["time"] >= T(cut)).to_numpy()
        records, numbers = records[keep].reset_index(drop=True), numbers[keep]
    # embedded
    rm = RowMap.from_numbers(records, numbers, tables)
    want = {role: unified_table(role, tables, spec, rm) for role in UNIFIED_COLUMNS}
    prof = build_profiles(tables, rm, as_of=as_of, orders=want["orders"])
    if quarantined is not None:
        ro = pd.DataFrame({"record_key": records["record_key"].array, "oneid": rm.oneid_strings(rm.record_codes)})
        prof = apply_quarantined_opt_outs(prof, ro, quarantined)
    want["profiles"] = prof
    # Spark: the tables staged as the loader tasks stage them, the resolved records with their numbers
    names = list(tables)
    stage = tmp_path / "tables"
    stage.mkdir()
    for n, t in tables.items():
        pq.write_table(spark_table(t), stage / f"{n}.parquet")
    t_ns = records["time"].to_numpy("datetime64[ns]").view(np.int64)
    pq.write_table(pa.table({
        "src": pa.array(records["source"].astype(str).map(names.index).to_numpy(np.int32)),
        "row": pa.array(records["row"].to_numpy(np.int64)),
        "record_key": pa.array(records["record_key"].astype(str).to_numpy(dtype=object), type=pa.string()),
        "time_ns": pa.array(t_ns, mask=records["time"].isna().to_numpy()),
        "number": pa.array(numbers.astype(np.int64))}), tmp_path / "resolved.parquet")
    inputs = SimpleNamespace(templates={n: t.iloc[:0] for n, t in tables.items()},
                             opt_outs=quarantined if quarantined is not None else QuarantinedOptOuts.empty(),
                             table_frame=lambda s, n: s.read.parquet(str(stage / f"{n}.parquet")))
    got = unify_outputs(spark, spec, inputs, spark.read.parquet(str(tmp_path / "resolved.parquet")), names, as_of)
    a, b = {}, {}
    for name, (df, template, order) in got.frames.items():
        # held in memory (a resolution that is not cached), then through the cache files
        pd.testing.assert_frame_equal(collect_frame(df, template, order), want[name], obj=f"{name} (in memory)")
        write_frame(df, tmp_path / f"spark-{name}.parquet", template, order)
        a[name] = _read(tmp_path / f"spark-{name}.parquet")
        want[name].to_parquet(tmp_path / f"embedded-{name}.parquet", index=False)
        b[name] = _read(tmp_path / f"embedded-{name}.parquet")
    return a, b, got.opt_outs_from_quarantine, prof.attrs.get("opt_outs_from_quarantine", 0)


def _equal(a: dict, b: dict) -> None:
    assert list(a) == [*UNIFIED_COLUMNS, "profiles"]
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)


@pytest.mark.filterwarnings("error::FutureWarning")  # pandas: None where NaN is held will not match
def test_survivorship_tables_and_quarantine_opt_outs_on_spark_equal_the_embedded_twin(spark, tmp_path):
    # quarantined duplicates of a record of B (not opted out: turned) and of A (already opted out),
    # and a key no resolved record has
    q = _quarantined(["ecom_orders:E2", "crm_members:M2", "crm_members:M99"])
    got, want, new, new_embedded = _both(spark, tmp_path, quarantined=q)
    _equal(got, want)
    assert new == new_embedded == 1
    prof = got["profiles"].set_index("oneid")
    a, b, c, d, e = format_oneid(np.array([A, B, C, D, E]))
    # A: the newest CRM name wins; CRM outranks the newer e-commerce city; the older record's
    # opt-out stays although the newer record says False
    assert (prof.loc[a, "name_masked"], prof.loc[a, "gender"], prof.loc[a, "birth_year"], prof.loc[a, "city"]) == \
        ("张**", "M", 1990.0, "上海")
    # B: no CRM record: the latest order's receiver name, the latest non-null order city
    assert prof.loc[b, "name_masked"] == "赵**" and prof.loc[b, "city"] == "成都"
    # C: a dated record beats one without a time, even later in the table
    assert (prof.loc[c, "name_masked"], prof.loc[c, "gender"], prof.loc[c, "city"]) == ("李*", "M", "海口")
    # D: two records at the same time: the first row wins
    assert (prof.loc[d, "name_masked"], prof.loc[d, "gender"], prof.loc[d, "birth_year"]) == ("王*", "F", 1960.0)
    assert pd.isna(prof.loc[e, "name_masked"]) and pd.isna(prof.loc[e, "city"])
    # any opt-out wins (A), and B's quarantined duplicate opts B out
    assert prof["marketing_opt_out"].tolist() == [True, True, False, False, False]
    assert prof["channel_mix"].tolist() == ["omnichannel", "online only", "no purchase", "store only", "no purchase"]
    assert prof["channel_pref"].tolist()[:2] == ["tmall", "jd"]  # B: jd 1, tmall 1: first in sort order
    assert list(got["orders"]["order_key"]) == ["ecom_orders:E1", "ecom_orders:E2", "pos_orders:P1", "pos_orders:P2",
                                                "ecom_orders:E3", "ecom_orders:E4", "ecom_orders:E5", "pos_orders:P3"]
    assert list(got["orders"]["channel"].cat.categories) == ["jd", "store", "tmall"]


def _missing_values(tables: dict) -> None:
    """A missing order time (sorted last), a missing contacted flag (a nullable column with a
    missing value: an object column in the embedded table), and C born in 2006 (17 in 2023, 18 in
    2024: the age band's reference year matters)."""
    tables["ecom_orders"].loc[1, "order_time"] = pd.NaT
    tables["pos_orders"].loc[0, "order_time"] = pd.NaT
    tables["campaign_assignments"]["contacted"] = pd.array([None], dtype="boolean")
    tables["crm_members"].loc[2, "birth_year"] = 2006


@pytest.mark.filterwarnings("error::FutureWarning")
@pytest.mark.parametrize("cut", ["2024-06-01", "2024-01-01"])
def test_after_a_cut_and_with_missing_values_spark_equals_the_embedded_twin(spark, tmp_path, cut):
    # with the later cut, the touchpoints feed no table: an empty one, their records still counted;
    # with the earlier, no as-of date: the age bands as of the latest record's year (2023)
    late = cut == "2024-06-01"
    got, want, new, _ = _both(spark, tmp_path, cut=cut, tweak=_missing_values, no_role="touchpoints" if late else None,
                              as_of=AS_OF if late else None)
    _equal(got, want)
    assert new == 0
    if cut == "2024-06-01":  # missing times last, in source then row order
        assert list(got["orders"]["order_key"])[-2:] == ["ecom_orders:E2", "pos_orders:P1"]
        assert len(got["touchpoints"]) == 0 and got["profiles"]["n_touchpoints"].sum() == 2
        contacted = got["campaign_assignments"]["contacted"]
        assert contacted.dtype == object and contacted.isna().all()
        prof = got["profiles"].set_index("oneid")
        assert prof.loc[format_oneid(np.array([A]))[0], "name_masked"] == "张*"
        assert prof.loc[format_oneid(np.array([C]))[0], "age_band"] == "18-24"  # 18 in 2024
    else:  # nothing left of the orders: no order columns in the profiles, as embedded
        assert len(got["orders"]) == 0 and "channel_pref" not in got["profiles"].columns
        assert list(got["profiles"]["oneid"]) == list(format_oneid(np.array([C, E])))
        assert pd.isna(got["profiles"]["age_band"].iloc[0])  # C: 17 in 2023, under the bands
