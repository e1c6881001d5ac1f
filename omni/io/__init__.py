"""Loading and validating a dataset: ``sources.yaml`` + one file per source.

>>> from omni.io import load_dataset                       # doctest: +SKIP
>>> ds = load_dataset("data/sample")                       # doctest: +SKIP
>>> ds["crm_members"], ds.quarantine, ds.counts            # doctest: +SKIP

Modules: :mod:`~omni.io.spec` (``sources.yaml`` dataclasses), :mod:`~omni.io.read` (files to
untyped frames), :mod:`~omni.io.cast` (declared types), :mod:`~omni.io.validate` (quarantine),
:mod:`~omni.io.dataset` (:func:`load_dataset`, :class:`Dataset`).
"""

from __future__ import annotations

from omni.io.dataset import Dataset, LoadedSource, dataset_fingerprint, load_dataset, load_source
from omni.io.errors import DataContractError
from omni.io.spec import (
    COLUMN_TYPES,
    ID_TYPES,
    QUASI_TYPES,
    SCOPED_TYPES,
    DatasetSpec,
    IdSpec,
    SourceSpec,
    read_spec,
)
from omni.io.validate import QUARANTINE_COLUMNS, REASONS

__all__ = [
    "COLUMN_TYPES",
    "ID_TYPES",
    "QUARANTINE_COLUMNS",
    "QUASI_TYPES",
    "REASONS",
    "SCOPED_TYPES",
    "DataContractError",
    "Dataset",
    "DatasetSpec",
    "IdSpec",
    "LoadedSource",
    "SourceSpec",
    "dataset_fingerprint",
    "load_dataset",
    "load_source",
    "read_spec",
]
