"""Submodules loaded on first attribute access (a domain's plots pull matplotlib)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_submodules"]


def lazy_submodules(package: str, names: tuple[str, ...] = ("plots", "narrative")) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``package.<name>`` on first use for each of ``names``.

    Usage in a package's ``__init__``: ``__getattr__ = lazy_submodules(__name__)``, so that
    ``omni.value.plots`` works after ``import omni.value`` without loading matplotlib up front.
    """

    def __getattr__(name: str) -> Any:
        if name in names:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
