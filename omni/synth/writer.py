"""Deterministic writers: CSV (UTF-8 or GBK), Parquet, ``sources.yaml`` and ``params.json``.

Same input -> byte-identical files: no timestamps or random ids in metadata, fixed column order,
Arrow's CSV writer (no index, no quoting unless a header), Parquet without pandas metadata.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

__all__ = ["write_csv", "write_json", "write_parquet", "write_yaml"]

_CSV_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="none")


def write_csv(columns: dict[str, pa.Array], path: Path, encoding: str = "utf-8") -> None:
    """Write columns as CSV. Values must not contain commas, quotes or newlines (checked)."""
    table = pa.table(columns)
    header = (",".join(table.column_names) + "\n").encode("utf-8")
    sink = pa.BufferOutputStream()
    try:
        pacsv.write_csv(table, sink, _CSV_OPTIONS)
    except pa.ArrowInvalid:
        # name the columns only: the values may be personal data
        bad = [
            name
            for name, col in zip(table.column_names, table.columns, strict=True)
            if pa.types.is_string(col.type)
            and pc.any(pc.match_substring_regex(col, r'[,"\r\n]')).as_py()
        ]
        raise ValueError(
            f"{path.name}: column(s) {bad} hold values with a comma, quote or newline"
        ) from None
    body = sink.getvalue()  # Arrow's buffer, written as it is (no copy of a GB-sized file)
    with open(path, "wb") as f:
        if encoding.lower() in ("utf-8", "utf8"):
            f.write(header)
            f.write(body)
        else:  # header and rows encoded as one text (one byte-order mark, if the codec writes one)
            f.write((header.decode("utf-8") + memoryview(body).tobytes().decode("utf-8")).encode(encoding))


def write_parquet(
    columns: dict[str, pa.Array] | pa.Table, path: Path, dictionary: list[str] | bool = True
) -> None:
    """Write a Parquet file (zstd, no pandas metadata). ``dictionary``: columns to
    dictionary-encode (low-cardinality ones; encoding unique ids only costs time)."""
    table = columns if isinstance(columns, pa.Table) else pa.table(columns)
    pq.write_table(table, path, compression="zstd", compression_level=1, use_dictionary=dictionary)


def write_yaml(doc: dict, path: Path) -> None:
    path.write_text(
        yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8"
    )


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return round(float(obj), 10)
    if isinstance(obj, float):
        return round(obj, 10)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def write_json(doc: dict, path: Path) -> None:
    path.write_text(
        json.dumps(_jsonable(doc), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
