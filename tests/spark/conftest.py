"""The Spark tests' one session: ``local[2]``, started once for the whole run and stopped at its end.

The tests run in ``make test`` (never skipped): pyspark is pinned and ``make setup`` checks Java.
"""

from __future__ import annotations

import pytest


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
