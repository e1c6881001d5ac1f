"""Errors raised while reading a dataset."""

from __future__ import annotations

from omni.core.errors import OmniError

__all__ = ["DataContractError"]


class DataContractError(OmniError, ValueError):
    """A source file or ``sources.yaml`` breaks the data contract (docs/data_contract.md).

    Raised for file-level problems: a missing file, an unknown format, encoding or timezone, a
    declared column that the file does not have, an undeclared column type, duplicate source names.
    Row-level problems are not errors: those rows are quarantined (see :class:`omni.io.Dataset`).
    The message always names the source and the file.
    """

    default_hint = "fix the file or raw/sources.yaml; docs/data_contract.md describes the contract"
