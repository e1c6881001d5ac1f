"""Which campaigns a month's report covers: those that ended in the month, or the latest before."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from omni.core.month import Month
from omni.uplift._common import require_columns

__all__ = ["CampaignSelection", "SelectionKind", "select_campaigns"]


class SelectionKind(enum.Enum):
    """Why a selection holds the campaigns it holds."""

    #: The dataset has no campaigns source (or it is empty).
    NO_CAMPAIGNS = "no_campaigns"
    #: Campaign ids given as a parameter.
    BY_PARAMETER = "by_parameter"
    #: The campaigns whose end date falls in the month.
    ENDED_IN_MONTH = "ended_in_month"
    #: None ended in the month: the most recent that had ended before it.
    FALLBACK = "fallback"
    #: No campaign had ended by the end of the month.
    NONE_ENDED = "none_ended"


@dataclass
class CampaignSelection:
    """The campaigns a report covers and why.

    Attributes
    ----------
    month : Month
        Report month.
    campaign_ids : list of str
        Campaigns to report, by end date.
    kind : SelectionKind
        Why these campaigns.
    names : dict of str to str
        Campaign id -> name, where the campaigns source has names (data-borne text).
    last_end : Timestamp or None
        End date of the fallback campaign(s).
    """

    month: Month
    campaign_ids: list[str]
    kind: SelectionKind
    names: dict[str, str] = field(default_factory=dict)
    last_end: pd.Timestamp | None = None

    @property
    def fallback(self) -> bool:
        """True when no campaign ended in the month and an earlier one (or none) is shown."""
        return self.kind in (SelectionKind.NO_CAMPAIGNS, SelectionKind.FALLBACK,
                             SelectionKind.NONE_ENDED)


def _campaign_dates(campaigns: pd.DataFrame) -> pd.DataFrame:
    require_columns(campaigns, ["campaign_id", "start_date", "end_date"], "campaigns")
    c = campaigns.copy()
    c["campaign_id"] = c["campaign_id"].astype(str)
    for col in ("start_date", "end_date"):
        c[col] = pd.to_datetime(c[col], errors="coerce")
        if c[col].isna().any():
            bad = c.loc[c[col].isna(), "campaign_id"].iloc[0]
            raise ValueError(f"campaigns.{col} is missing or unreadable for campaign {bad!r}")
    late = c["end_date"] < c["start_date"]
    if late.any():
        raise ValueError(
            f"campaign {c.loc[late, 'campaign_id'].iloc[0]!r} ends before it starts"
        )
    return c.sort_values(["end_date", "start_date", "campaign_id"], kind="stable")


def _by_parameter(c: pd.DataFrame, campaign_ids: Sequence[str] | str) -> list[str]:
    wanted = [campaign_ids] if isinstance(campaign_ids, str) else [str(x) for x in campaign_ids]
    if not wanted:
        raise ValueError("campaign_ids is empty: pass None for the month's campaigns")
    known = set(c["campaign_id"])
    unknown = [x for x in wanted if x not in known]
    if unknown:
        raise ValueError(
            f"unknown campaign id(s) {unknown} (known: {c['campaign_id'].tolist()[:20]})"
        )
    return [x for x in c["campaign_id"] if x in set(wanted)]


def select_campaigns(
    campaigns: pd.DataFrame | None, month: str | Month,
    campaign_ids: Sequence[str] | str | None = None,
) -> CampaignSelection:
    """Campaigns to report for a month.

    Parameters
    ----------
    campaigns : DataFrame or None
        The ``campaigns`` source (campaign_id, start_date, end_date; name kept for the
        narrative); None or empty when the dataset has none (an empty selection says so).
    month : str or Month
        Report month ``YYYY-MM``.
    campaign_ids : sequence of str, optional
        Explicit campaign ids (validated), or None for every campaign whose ``end_date`` falls in
        the month. When none ended in the month, the most recent campaign(s) that ended before
        it are chosen instead (``kind=FALLBACK``), so the report is never empty while any
        campaign has ended.

    Returns
    -------
    CampaignSelection

    Raises
    ------
    omni.core.month.MonthError
        If ``month`` is not ``YYYY-MM``.
    ValueError
        Unknown or empty ``campaign_ids``, unreadable campaign dates.
    """
    m = Month.parse(month)
    if campaigns is None or len(campaigns) == 0:
        return CampaignSelection(m, [], SelectionKind.NO_CAMPAIGNS)
    c = _campaign_dates(campaigns)
    names = (dict(zip(c["campaign_id"], c["name"].astype(str), strict=True)) if "name" in c
             else {})
    if campaign_ids is not None:
        return CampaignSelection(m, _by_parameter(c, campaign_ids), SelectionKind.BY_PARAMETER,
                                 names)
    ended = c[(c["end_date"] >= m.start) & (c["end_date"] < m.end)]
    if len(ended):
        return CampaignSelection(m, ended["campaign_id"].tolist(), SelectionKind.ENDED_IN_MONTH,
                                 names)
    before = c[c["end_date"] < m.start]
    if len(before) == 0:
        return CampaignSelection(m, [], SelectionKind.NONE_ENDED, names)
    last_end = before["end_date"].max()
    ids = before.loc[before["end_date"] == last_end, "campaign_id"].tolist()
    return CampaignSelection(m, ids, SelectionKind.FALLBACK, names, pd.Timestamp(last_end))
