"""The identity report's words: warnings, the probabilistic stage, changes and accuracy, escaped."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from omni.core.markup import render_markdown
from omni.core.month import Month
from omni.identity import IdentityResult, narrative

ROOT = Path(__file__).resolve().parents[2]
OCT = Month.parse("2026-10")


def test_notebook_02_narrative_shows_the_warning_and_the_fallback():
    """The identity narrative turns the resolution's warnings and the failed stage into notes
    (values escaped); without them it says nothing of the kind."""
    warning = "the probabilistic account-linking stage failed (EMTrainingException: <m & u>); rules only"
    failed = IdentityResult(month=OCT, warnings=[warning],
                            probabilistic={"status": "failed", "fallback": "rules only", "error": "<b>x</b>"})
    (shown,) = narrative.warnings(failed)
    page = render_markdown(shown)
    assert page.startswith("<p><strong>Warning:</strong> the probabilistic account-linking stage failed")
    assert "&lt;m &amp; u&gt;" in page and "<m" not in page  # escaped, shown as typed
    stage = render_markdown(narrative.probabilistic_stage(failed))
    assert "<strong>The probabilistic stage did not run to the end</strong>" in stage
    assert "deterministic" in stage and "&lt;b&gt;x&lt;/b&gt;" in stage and "<b>" not in stage
    quiet = IdentityResult(month=OCT)
    assert narrative.warnings(quiet) == [] and narrative.probabilistic_stage(quiet) is None
    ran = IdentityResult(month=OCT, probabilistic={
        "status": "ok", "accounts": 10, "profiles": 20, "candidate_pairs": 30, "threshold": 0.95,
        "decisions": {"linked": 4, "below_threshold": 3, "no_candidate": 2, "ambiguous": 1}})
    assert narrative.probabilistic_stage(ran).startswith("10 unbound accounts were scored against 20 profiles")
    # notebook 02 shows them: the warnings after the people note, the stage in the platform section
    from omni.identity import section

    assert [b.content for b in section.people(failed)][1:] == [shown]  # (the stage: test_probabilistic_fallback)
    src = (ROOT / "notebooks" / "src" / "02_identity_resolution.py").read_text(encoding="utf-8")
    assert "show(s.people(r))" in src and "show(s.platforms(r))" in src


def test_changes_and_accuracy_notes_read_the_tables():
    changes = pd.DataFrame({"change": ["kept", "new", "merged_into", "split_from", "retired"],
                            "OneIDs": [8681, 277, 56, 0, 3]})
    r = IdentityResult(month=OCT, tables={"oneid_changes": changes})
    assert narrative.oneid_changes(r) == ("8,681 OneIDs carried over from last month, 277 new people, "
                                          "56 ids merged into an older one, 0 split off.")
    assert narrative.accuracy(r) == "This dataset has no ground truth; accuracy is not measured."
    assert narrative.link_accuracy(r) is None
    r.tables["accuracy"] = pd.DataFrame({"records": ["with a strong identifier", "all"], "precision": [1.0, 0.9],
                                         "recall": [0.97928, 0.8], "linkable_recall": [1.0, float("nan")]})
    r.tables["link_accuracy"] = pd.DataFrame({"links": [1017], "right_person": [1.0]})
    assert narrative.accuracy(r).startswith("Recall on strong-id records is 0.9793 against the full truth and "
                                            "1.0000 against the *linkable* truth")
    assert narrative.link_accuracy(r) == ("Against the synthetic truth, 100.00% of the 1,017 probabilistic links "
                                          "join the right person.")
    assert narrative.title(r) == "OneID, records up to the end of 2026-10"


def test_people_says_oneids_are_not_all_people_and_gives_the_truth():
    r = IdentityResult(month=OCT, profiles=8958, known_people=2888, platform_only=574, anonymous_profiles=5496)
    text = render_markdown(narrative.people(r))
    assert "The 8,958 OneIDs are not all people: <strong>2,888 known people</strong>" in text
    assert "<strong>5,496 anonymous profiles</strong>" in text and "synthetic" not in text
    r.true_people = 2923
    assert "truly come from <strong>2,923 people</strong>" in render_markdown(narrative.people(r))
