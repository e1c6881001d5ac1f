"""omni: omnichannel customer analytics (全域用户分析).

Load channel exports, normalize identifiers, resolve every record to one person (OneID) and analyse
the result: data audit, identity resolution, CLV/RFM/TGI, channel attribution and campaign uplift.
"""

from __future__ import annotations

from omni._version import __version__

__all__ = ["__version__", "load_dataset"]


def __getattr__(name: str):
    # Lazy re-exports keep `import omni` fast and free of heavy imports.
    if name == "load_dataset":
        from omni.io import load_dataset

        return load_dataset
    raise AttributeError(f"module 'omni' has no attribute {name!r}")
