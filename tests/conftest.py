"""Shared fixtures: the small synthetic world that integration and notebook tests run on.

`make test` builds it once (data/test_world, 3,000 persons, seed 11) before pytest starts; running
pytest directly builds it on first use.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_WORLD = ROOT / "data" / "test_world"
TEST_PERSONS = 3000
TEST_SEED = 11


@pytest.fixture(scope="session")
def test_world() -> Path:
    """Path of the small synthetic world (built if missing)."""
    if not (TEST_WORLD / "raw" / "sources.yaml").exists():
        from omni.synth import generate_world

        generate_world(out=TEST_WORLD, persons=TEST_PERSONS, seed=TEST_SEED, progress=False)
    os.environ.setdefault("OMNI_DATA", str(TEST_WORLD))
    return TEST_WORLD


@pytest.fixture()
def clv_fits(monkeypatch) -> list[str]:
    """Every ``CLVModel.fit`` call (purchase model(s) + Gamma-Gamma), by model setting: how a test
    sees whether customer value was fitted or read (memoized, or shared through the cache)."""
    from omni.value import CLVModel

    calls: list[str] = []
    fit = CLVModel.fit

    def counted(self, summary):
        calls.append(self.model)
        return fit(self, summary)

    monkeypatch.setattr(CLVModel, "fit", counted)
    return calls
