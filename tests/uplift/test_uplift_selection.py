"""Which campaigns a month's report covers (omni.uplift.selection) and how that is said (escaped)."""

from __future__ import annotations

import pandas as pd
import pytest

from omni.core.month import Month, MonthError
from omni.uplift import narrative as N
from omni.uplift.selection import SelectionKind, select_campaigns

CAMPAIGNS = pd.DataFrame(
    {
        "campaign_id": ["C1", "C2", "C3", "C4"],
        "name": ["spring sms", "summer push", "autumn sms", "autumn mail"],
        "start_date": pd.to_datetime(["2026-03-01", "2026-06-20", "2026-09-25", "2026-10-10"]),
        "end_date": pd.to_datetime(["2026-03-14", "2026-07-03", "2026-10-08", "2026-10-24"]),
    }
)


def test_campaigns_ending_in_the_month_in_end_date_order():
    sel = select_campaigns(CAMPAIGNS.iloc[::-1], "2026-10")
    assert sel.campaign_ids == ["C3", "C4"]
    assert sel.kind is SelectionKind.ENDED_IN_MONTH and not sel.fallback
    assert sel.month == Month(2026, 10)
    assert sel.names["C4"] == "autumn mail"
    # a Month is accepted as well as its text
    assert select_campaigns(CAMPAIGNS, Month(2026, 10)).campaign_ids == ["C3", "C4"]


def test_no_campaign_in_the_month_falls_back_to_the_most_recent_ended():
    sel = select_campaigns(CAMPAIGNS, "2026-08")
    assert sel.campaign_ids == ["C2"] and sel.fallback
    assert sel.kind is SelectionKind.FALLBACK and sel.last_end == pd.Timestamp("2026-07-03")
    # a campaign ending after the month is not "ended"
    assert select_campaigns(CAMPAIGNS, "2026-09").campaign_ids == ["C2"]
    empty = select_campaigns(CAMPAIGNS, "2026-01")
    assert empty.campaign_ids == [] and empty.kind is SelectionKind.NONE_ENDED
    none = select_campaigns(None, "2026-10")
    assert none.campaign_ids == [] and none.kind is SelectionKind.NO_CAMPAIGNS


def test_explicit_campaign_ids_are_validated():
    sel = select_campaigns(CAMPAIGNS, "2026-10", ["C4", "C1"])
    assert sel.campaign_ids == ["C1", "C4"] and sel.kind is SelectionKind.BY_PARAMETER
    assert select_campaigns(CAMPAIGNS, "2026-10", "C2").campaign_ids == ["C2"]
    with pytest.raises(ValueError, match=r"unknown campaign id\(s\) \['C9'\]"):
        select_campaigns(CAMPAIGNS, "2026-10", ["C1", "C9"])
    with pytest.raises(ValueError, match="campaign_ids is empty"):
        select_campaigns(CAMPAIGNS, "2026-10", [])
    with pytest.raises(MonthError):
        select_campaigns(CAMPAIGNS, "2026/10")
    bad = CAMPAIGNS.assign(end_date=CAMPAIGNS["end_date"].astype(object))
    bad.loc[2, "end_date"] = "not a date"
    with pytest.raises(ValueError, match="end_date is missing or unreadable for campaign 'C3'"):
        select_campaigns(bad, "2026-10")


def test_every_kind_has_a_sentence_and_campaign_names_are_escaped():
    hostile = CAMPAIGNS.assign(name=["<img src=x onerror=alert(1)>", "**bold**", "[x](javascript:1)", "ok"])
    for month, ids in (("2026-10", None), ("2026-08", None), ("2026-01", None), ("2026-10", ["C1"])):
        sel = select_campaigns(hostile, month, ids)
        text = N.selection_sentence(sel)
        assert text and "<img" not in text and "**bold**" not in text and "](javascript" not in text
        for cid in sel.campaign_ids:
            assert cid in text
    assert N.selection_sentence(select_campaigns(None, "2026-10"))
