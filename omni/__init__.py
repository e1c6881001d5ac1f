"""omni: omnichannel customer analytics (全域用户分析).

Load channel exports, normalize identifiers, resolve every record to one person (OneID) and analyse
the result: data audit, identity resolution, customer value (RFM, CLV, TGI), channel attribution,
campaign uplift and audiences.

>>> import omni                                          # doctest: +SKIP
>>> ws = omni.open("data/sample")                        # doctest: +SKIP
>>> v = omni.value.analyse_month(ws, "2026-10")          # doctest: +SKIP
>>> v.headline                                           # doctest: +SKIP

Every analysis domain has the same doors (``analyse_month``, ``plots``, ``narrative``); see
docs/api.md.
"""

from __future__ import annotations

import importlib
from typing import Any

from omni._version import __version__

#: Analysis domains and layers reachable as attributes (imported on first use).
_SUBMODULES = ("attribution", "audience", "audit", "core", "identity", "io", "normalize", "oneid",
               "reporting", "uplift", "value")

__all__ = ["Workspace", "__version__", "load_dataset", "open", *_SUBMODULES]


def __getattr__(name: str) -> Any:
    # Lazy re-exports keep `import omni` fast and free of heavy imports.
    if name == "load_dataset":
        from omni.io import load_dataset

        return load_dataset
    if name == "open":
        from omni.workspace import open_workspace

        return open_workspace
    if name == "Workspace":
        from omni.workspace import Workspace

        return Workspace
    if name in _SUBMODULES:
        return importlib.import_module(f"omni.{name}")
    raise AttributeError(f"module 'omni' has no attribute {name!r}")
