"""The Spark tests' one session: ``local[2]``, started once for the whole run and stopped at its end.

The tests run in ``make test`` (never skipped): pyspark is pinned and ``make setup`` checks Java.
Every test file shares this one session (``get_session`` returns the running one).
"""

from __future__ import annotations

import os

import pytest

# Test data is small: every shuffle in 2 partitions (one per core of local[2]) instead of 8 halves
# the tasks Spark schedules per job, which is most of a small job's cost. Set before the session
# starts (the first test file's fixture, or an import of get_session, picks it up).
os.environ.setdefault("OMNI_SPARK_PARTITIONS", "2")


@pytest.fixture(scope="session")
def spark():
    """The Spark session of :func:`omni.spark.session.get_session` (``local[2]``), stopped at the end."""
    from omni.spark.session import get_session, stop_session

    session = get_session("local[2]")
    yield session
    stop_session()
    gateway = session.sparkContext._gateway if session.sparkContext is not None else None
    if gateway is not None:  # no JVM left running after the tests
        gateway.shutdown()
