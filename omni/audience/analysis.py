"""Audiences of one month: ``analyse_month(workspace, month, **settings) -> AudienceResult``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omni.audience.counts import (
    audience_counts,
    most_similar_pair,
    overlap_shares,
    overlap_table,
    reach_memberships,
    reach_summary,
    size_table,
)
from omni.audience.definitions import Definitions, load_definitions
from omni.audience.hashing import AD_PLATFORMS
from omni.audience.pipeline import consent_inputs, prepare_audiences
from omni.audience.result import AudienceResult
from omni.core.month import Month
from omni.workspace import Workspace

__all__ = ["analyse_month", "prepare_month"]



def prepare_month(workspace: Workspace, month: Month | str | None = None) -> None:
    """Make what :func:`analyse_month` reads from the sources alone: the consent and contact
    inputs (:func:`omni.audience.pipeline.consent_inputs`: every source with a consent column or
    contact identifiers, loaded and normalized; about half a minute at 1M persons).

    In a workspace opened with ``share`` they go to the dataset's ``processed/memo/``, where the
    report's kernel reads them; ``omni report`` calls this while the month is being resolved
    (:mod:`omni.reporting.prepare`). ``month`` is not read: the inputs cover every record.
    """
    del month
    consent_inputs(workspace)

def analyse_month(
    workspace: Workspace,
    month: Month | str | None = None,
    *,
    definitions: Definitions | str | Path | None = None,
    platforms: Sequence[str] = AD_PLATFORMS,
    k: int = 10,
) -> AudienceResult:
    """Build the audiences at the end of ``month`` and count them for the report.

    Sizes and overlaps of every audience, the people removed because they opted out of
    marketing (by OneID: :func:`omni.consent.opted_out`; the people the export would also remove
    by identifier, :func:`omni.consent.suppressed_by_identifier`, are counted apart), and how many
    eligible members each ad platform can match with the identifiers held. Nothing is exported.

    Parameters
    ----------
    workspace : Workspace
        The dataset (``omni.open(...)``).
    month : Month or str, optional
        ``YYYY-MM``; default the last complete month in the data.
    definitions : Definitions or path, optional
        Audience definitions YAML; default omni's (``omni/audience/default_audiences.yaml``).
    platforms : sequence of str
        Ad platforms counted for reach (``tencent``, ``google``, ``meta``).
    k : int
        Counts of fewer people are blanked in the tables and the heat map.

    Returns
    -------
    AudienceResult
    """
    month = Month.parse(month if month is not None else workspace.last_complete_month())
    plats = tuple(dict.fromkeys(platforms))
    bad = [p for p in plats if p not in AD_PLATFORMS]
    if bad:
        raise ValueError(f"unknown ad platform(s) {bad}; known: {list(AD_PLATFORMS)}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    defs = definitions if isinstance(definitions, Definitions) else load_definitions(definitions)
    run = prepare_audiences(workspace.path, str(month), defs, workspace=workspace)
    aset, contacts = run.audiences, run.contacts()
    overlap = overlap_table(aset, k=k)
    sizes = aset.sizes()
    largest = str(sizes.sort_values("eligible", ascending=False).iloc[0]["audience"]) if len(sizes) else None
    return AudienceResult(
        month=month,
        settings={"definitions": defs.source, "platforms": list(plats), "k": k},
        tables={"sizes": size_table(aset, k=k), "overlap": overlap, "overlap_share": overlap_shares(overlap),
                "reach": reach_summary(aset, contacts, k=k, platforms=plats)},
        k=k,
        platforms=plats,
        counts=audience_counts(aset, contacts, run.opted_out, run.suppressed(), platforms=plats),
        memberships=reach_memberships(aset, contacts, platforms=plats),
        descriptions=dict(zip(sizes["audience"], sizes["description"], strict=True)),
        largest=largest,
        most_similar=most_similar_pair(aset),
        identifier_suppression=False,
    )
