"""The Spark session omni runs on: master, memory, checkpoints and Splink's similarity functions.

One place for the session's settings, so that tests (``local[2]``), the command line and the
benchmarks run Spark the same way:

- ``master``: ``local[2]`` by default (``OMNI_SPARK_MASTER`` overrides it); ``spark://...``,
  ``yarn`` or ``k8s://...`` on a cluster;
- ``spark.sql.shuffle.partitions``: small by default (:data:`SHUFFLE_PARTITIONS`, ``OMNI_SPARK_PARTITIONS``),
  since Spark's 200 makes every shuffle of a small table pay for 200 tasks; raise it on a cluster
  (about 2-3 per core);
- a checkpoint directory, which the iterative connected-components algorithm needs to cut its
  lineage (``OMNI_SPARK_CHECKPOINT``, else a folder under the system's temp directory);
- Splink's similarity UDF jar for the running Spark major version (Spark 4: Scala 2.13 build),
  added to ``spark.jars`` so the probabilistic stage can call Jaro-Winkler in the JVM.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from omni.core.errors import OmniError

__all__ = ["DRIVER_MEMORY", "SHUFFLE_PARTITIONS", "SparkUnavailable", "get_session", "stop_session"]

#: Shuffle partitions in ``local`` mode (Spark's default of 200 is for clusters).
SHUFFLE_PARTITIONS = 8
#: Driver memory in ``local`` mode, where the driver is also the only executor.
DRIVER_MEMORY = "4g"


class SparkUnavailable(OmniError):
    """pyspark or a Java runtime is missing."""

    default_hint = "run make setup (installs pyspark); Spark 4 needs Java 17 or newer on PATH or JAVA_HOME"


def _java_ok() -> bool:
    import shutil

    home = os.environ.get("JAVA_HOME")
    return bool(shutil.which("java") or (home and Path(home, "bin", "java").exists()))


def get_session(master: str | None = None, *, app_name: str = "omni", partitions: int | None = None,
                driver_memory: str | None = None, checkpoint_dir: str | Path | None = None,
                conf: dict[str, str] | None = None):
    """The active Spark session with omni's settings, started when none is running.

    Parameters
    ----------
    master : str, optional
        Spark master URL (default ``OMNI_SPARK_MASTER``, else ``local[2]``).
    app_name : str
        The application name shown by the cluster manager.
    partitions : int, optional
        ``spark.sql.shuffle.partitions`` (default ``OMNI_SPARK_PARTITIONS``, else
        :data:`SHUFFLE_PARTITIONS`).
    driver_memory : str, optional
        ``spark.driver.memory`` (default ``OMNI_SPARK_DRIVER_MEMORY``, else :data:`DRIVER_MEMORY`);
        only takes effect when this call starts the JVM.
    checkpoint_dir : path or URI, optional
        The checkpoint directory (default ``OMNI_SPARK_CHECKPOINT``, else a temp folder).
    conf : dict, optional
        Further Spark settings, applied last.

    Returns
    -------
    pyspark.sql.SparkSession

    Raises
    ------
    SparkUnavailable
        When pyspark cannot be imported or no Java runtime is found.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:  # pragma: no cover - pyspark is pinned in requirements.txt
        raise SparkUnavailable(f"the Spark engine needs pyspark ({e})") from None
    if not _java_ok():
        raise SparkUnavailable("the Spark engine needs a Java runtime and none was found")
    from splink.internals.spark.jar_location import similarity_jar_location

    master = master or os.environ.get("OMNI_SPARK_MASTER") or "local[2]"
    partitions = int(partitions or os.environ.get("OMNI_SPARK_PARTITIONS") or SHUFFLE_PARTITIONS)
    memory = driver_memory or os.environ.get("OMNI_SPARK_DRIVER_MEMORY") or DRIVER_MEMORY
    if master.startswith("local"):  # Python workers run omni's interpreter (its venv), not python3
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.jars", similarity_jar_location())
               .config("spark.driver.memory", memory)
               .config("spark.sql.shuffle.partitions", str(partitions))
               .config("spark.default.parallelism", str(partitions))
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.warehouse.dir", str(Path(tempfile.gettempdir()) / "omni-spark-warehouse"))
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.adaptive.enabled", "true"))
    for k, v in (conf or {}).items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    ck = checkpoint_dir or os.environ.get("OMNI_SPARK_CHECKPOINT")
    if ck is None:
        ck = Path(tempfile.gettempdir()) / "omni-spark-checkpoints"
    spark.sparkContext.setCheckpointDir(str(ck))
    return spark


def stop_session() -> None:
    """Stop the active Spark session, if any (the JVM stays up for the next :func:`get_session`)."""
    from pyspark.sql import SparkSession

    s = SparkSession.getActiveSession()
    if s is not None:
        s.stop()
