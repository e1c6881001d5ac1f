"""Old path of :mod:`omni.oneid.linkage`, kept only because the committed notebooks/*.ipynb (rebuilt
from notebooks/src by the lead) still import ``linkage_summary`` from here; remove after the rebuild."""

from omni.oneid.linkage import *  # noqa: F403
from omni.oneid.linkage import __all__  # noqa: F401
