"""Audiences at scale join records to OneIDs by integer codes: the same contacts, consent and
suppression as the string joins, from leaner inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import omni
from omni.audience import contact_identifiers
from omni.audience.definitions import load_definitions
from omni.audience.identifiers import contacts_of_codes, oneid_codes, oneid_codes_of, record_codes
from omni.audience.pipeline import consent_inputs, prepare_audiences
from omni.consent import SUPPRESSION_TYPES, opt_out_identifiers, opted_out, suppressed_by_identifier

MONTH = "2026-10"


@pytest.fixture(scope="module")
def run(test_world):
    ws = omni.open(test_world)
    return prepare_audiences(ws.path, MONTH, load_definitions(None), workspace=ws)


def test_oneid_codes_keep_first_appearance_and_nulls():
    codes, oneids = oneid_codes(pd.Series(["b", "a", None, "b", "c"], dtype="string[pyarrow]"))
    assert codes.tolist() == [0, 1, -1, 0, 2]
    assert oneids.to_pylist() == ["b", "a", "c"]
    keys, rcodes, _ = record_codes(pd.DataFrame({"record_key": ["s:1", "s:2", "s:3"], "oneid": ["x", "y", "x"]}))
    got = oneid_codes_of(pd.Series(["s:3", "s:9", "s:2"], dtype="string[pyarrow]"), keys, rcodes)
    assert got.tolist() == [0, -1, 1]  # s:9 is not a record of the map


def test_contacts_by_codes_equal_the_string_join(run):
    ro = run.resolved.record_oneid
    # the run lets the identifier table go once the suppression and the contacts' codes are made
    assert run.inputs.ids is None and run.inputs.tables
    ids = consent_inputs(run.workspace).ids
    union = run.audiences.people[run.audiences.union()]
    theirs = contact_identifiers(ids, ro, people=union, opted_out=run.opted_out)
    ours = run.contacts()
    pd.testing.assert_frame_equal(ours, theirs)
    assert ours.attrs == theirs.attrs and ours.attrs["opted_out_values"] > 0
    assert len(ours) > 1000 and set(ours["oneid"]) <= set(union)
    # a record the map does not hold (code -1) gives no contact
    keys, codes, oneids = record_codes(ro)
    code = oneid_codes_of(ids["record_key"], keys, codes)
    code[: len(code) // 2] = -1
    part = contacts_of_codes(ids, code, oneids)
    kept = ids.iloc[len(code) // 2:]
    pd.testing.assert_frame_equal(part, contact_identifiers(kept, ro))


def test_consent_and_suppression_equal_the_full_maps(run, test_world):
    ws = run.workspace
    keys = {n: s.key for n, s in ws.spec.sources.items() if s.key}
    res = run.resolved
    full = opted_out(res.profiles, res.record_oneid, run.inputs.tables, keys, quarantined=run.quarantined)
    pd.testing.assert_series_equal(run.opted_out, full)
    assert run.opted_out.attrs == full.attrs and run.opted_out.sum() > 0
    ids = consent_inputs(ws).ids
    values = opt_out_identifiers(ids, run.inputs.tables, keys, run.quarantined)
    theirs = suppressed_by_identifier(ids, res.record_oneid, values, people=run.audiences.people)
    pd.testing.assert_series_equal(run.suppressed(), theirs)
    assert run.suppressed().sum() == theirs.sum() > 0


def test_consent_inputs_hold_the_suppressible_identifiers_only(test_world):
    ws = omni.open(test_world)
    inputs = consent_inputs(ws)
    ids = ws.ids  # the whole identifier table, every type
    want = ids[ids["valid"].to_numpy(dtype=bool) & ids["id_type"].isin(list(SUPPRESSION_TYPES)).to_numpy()]
    got = inputs.ids
    assert len(got) == len(want) > 0
    for col in ("record_key", "value"):
        assert got[col].astype(str).tolist() == want[col].astype(str).tolist()
    assert got["id_type"].astype(str).tolist() == want["id_type"].astype(str).tolist()
    dev = (got["id_type"] == "device_id").to_numpy()
    # raw strings only where a device id's kind reads them
    assert got["raw"].notna().to_numpy()[dev].all() and not got["raw"].notna().to_numpy()[~dev].any()
    assert np.array_equal(got["raw"].to_numpy()[dev].astype(str), want["raw"].to_numpy()[dev].astype(str))


def test_features_read_only_the_columns_the_rules_use(run):
    f = run.features
    # in the tables' own column order, without the keys and source columns
    assert list(f.orders.columns) == ["oneid", "channel", "order_time", "amount", "status", "category"]
    assert list(f.events.columns) == ["oneid", "event_time", "event_type", "category"]
    assert list(f.campaign_assignments.columns) == ["oneid", "campaign_id", "arm", "assigned_time", "contacted"]
    assert list(f.profiles.columns) == ["oneid", "marketing_opt_out"]


def test_the_oneid_join_by_source_reads_chunked_keys_as_one_column(run):
    """The join runs source by source on the identifier keys as their Arrow chunks (never copied
    whole): the codes are those of one string join over the whole map, whatever the chunking."""
    from omni.audience.pipeline import _links

    ids = consent_inputs(run.workspace).ids
    ro = run.resolved.record_oneid
    keys, codes, _ = record_codes(ro)
    want = oneid_codes_of(ids["record_key"], keys, codes)
    half = len(ids) // 2
    chunked = pd.concat([ids.iloc[:half], ids.iloc[half:]], ignore_index=True)
    got, sub = _links(run.resolved, chunked, ids["record_key"].iloc[:50])
    assert np.array_equal(got.code, want) and (want >= 0).mean() > 0.9
    assert got.oneids.to_pylist() == oneid_codes(ro["oneid"])[1].to_pylist()
    assert sorted(sub["record_key"].astype(str)) == sorted(ids["record_key"].iloc[:50].astype(str).unique())


class _PlainSource:
    """A resolution whose ``record_oneid`` source column reads as plain text (an older cache)."""

    def __init__(self, res):
        self._res = res

    def read(self, name, columns=None, filters=None):
        got = self._res.read(name, columns, filters=filters)
        if "source" in got.columns:
            got["source"] = got["source"].astype(object)
        return got


@pytest.mark.parametrize("plain", [False, True])
def test_links_give_each_identifier_row_the_oneid_of_its_record(test_world, plain):
    """The links' codes (a source's rows coded from the whole map's OneID column) name the same OneID
    as a join of the identifier rows' record keys with record_oneid; the opted-out keys' rows too."""
    from omni.audience.pipeline import _links

    ws = omni.open(test_world)
    res = ws.resolve(as_of=MONTH)
    ids = consent_inputs(ws).ids
    ro = res.read("record_oneid", ["record_key", "oneid"])
    wanted = ro["record_key"].astype("string").iloc[::7].reset_index(drop=True)
    links, sub = _links(_PlainSource(res) if plain else res, ids, wanted)
    got = pd.Series(links.oneids.to_pylist(), dtype=object).reindex(links.code).to_numpy()
    want = (ro.assign(record_key=ro["record_key"].astype(str)).set_index("record_key")["oneid"].astype(object)
            .reindex(ids["record_key"].astype(str)).to_numpy())
    known = links.code >= 0
    assert known.sum() > 0.9 * len(ids)
    assert (got[known] == want[known]).all() and pd.isna(want[~known]).all()
    assert sorted(sub["record_key"].astype(str)) == sorted(wanted.astype(str))
    assert (sub["oneid"].astype(str).to_numpy()
            == ro.set_index(ro["record_key"].astype(str))["oneid"].astype(str)
            .reindex(sub["record_key"].astype(str)).to_numpy()).all()
