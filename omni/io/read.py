"""Read one source file into an untyped frame, with the file's data row numbers.

CSV files are read by pyarrow with every column as a string (so ``00123`` keeps its zeros), in the
declared encoding; Parquet files keep their stored types. Rows a CSV parser cannot split into the
header's number of fields are kept aside (their row numbers) to be quarantined, never dropped.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from omni.io.errors import DataContractError
from omni.io.spec import SourceSpec

log = logging.getLogger(__name__)
_CHUNK = 1 << 20


@dataclass
class RawTable:
    """A source file as read, before typing.

    Attributes
    ----------
    frame : DataFrame
        The declared columns in declared order; CSV columns as pandas ``string`` (nulls where the
        cell was empty), Parquet columns in their stored types.
    rows : ndarray of int64
        1-based data row number in the file (header excluded) of each row of ``frame``.
    bad_rows : ndarray of int64
        Data row numbers of rows that did not have the header's number of fields (CSV only).
    """

    frame: pd.DataFrame
    rows: np.ndarray
    bad_rows: np.ndarray

    @property
    def rows_in(self) -> int:
        """Data rows in the file: parsed rows plus unparseable rows."""
        return len(self.frame) + len(self.bad_rows)


def _pa_encoding(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    return "utf8" if name == "utf-8" else encoding


def _alternatives(encoding: str) -> list[str]:
    name = codecs.lookup(encoding).name
    return ["gb18030", "utf-8"] if name == "utf-8" else ["utf-8", "gb18030"]


def locate_decode_error(path: Path, encoding: str) -> tuple[int, int, int] | None:
    """Find where ``path`` stops decoding in ``encoding``.

    Returns
    -------
    tuple of (byte offset, line number, data row number) or None
        0-based byte offset of the first undecodable byte, its 1-based line and the 1-based data row
        (line - 1, header excluded, exact when no value spans lines); None if the file decodes.
    """
    dec = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset, lines = 0, 0
    with path.open("rb") as f:
        while True:
            chunk = f.read(_CHUNK)
            final = not chunk
            try:
                dec.decode(chunk, final=final)
            except UnicodeDecodeError as e:
                # e.start is relative to the decoder's buffered bytes + this chunk; the buffer holds
                # at most a few bytes of an incomplete character, so clamp into the chunk.
                pos = max(0, min(e.start, len(chunk)))
                line = lines + chunk[:pos].count(b"\n") + 1
                return offset + pos, line, line - 1
            if final:
                return None
            offset += len(chunk)
            lines += chunk.count(b"\n")


def _decodes_as(path: Path, encoding: str, limit: int = 8 * _CHUNK) -> bool:
    with path.open("rb") as f:
        data = f.read(limit)
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=len(data) < limit)
    except UnicodeDecodeError:
        return False
    return True


def _encoding_error(spec: SourceSpec, path: Path) -> DataContractError | None:
    where = locate_decode_error(path, spec.encoding)
    if where is None:
        return None
    offset, line, row = where
    fits = [e for e in _alternatives(spec.encoding) if _decodes_as(path, e)]
    hint = (
        f"the file decodes as {fits[0]!r}: declare 'encoding: {fits[0]}'"
        if fits
        else "Chinese exports are usually 'gbk'/'gb18030', others 'utf-8'"
    )
    return DataContractError(
        f"{spec.where}: not decodable as {spec.encoding!r} at byte offset {offset} "
        f"(line {line}, data row {row}); {hint}"
    )


def _read_header(spec: SourceSpec, path: Path) -> list[str]:
    enc = "utf-8-sig" if codecs.lookup(spec.encoding).name == "utf-8" else spec.encoding
    dec = codecs.getincrementaldecoder(enc)(errors="strict")
    text, scanned, quoted, complete = "", 0, False, False
    with path.open("rb") as f:
        while not complete:
            chunk = f.read(64 * 1024)
            try:
                text += dec.decode(chunk, final=not chunk)
            except UnicodeDecodeError:
                raise _encoding_error(spec, path) or DataContractError(
                    f"{spec.where}: header is not decodable as {spec.encoding!r}"
                ) from None
            # The header is complete at the first line break outside quotes (one header line:
            # a short scan, not a loop over the data).
            for ch in text[scanned:]:
                if ch == '"':
                    quoted = not quoted
                elif ch in "\r\n" and not quoted:
                    complete = True
                    break
            scanned = len(text)
            complete = complete or not chunk
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=spec.delimiter), None)
    except csv.Error as e:
        raise DataContractError(f"{spec.where}: cannot parse the header line: {e}") from None
    if not header:
        raise DataContractError(f"{spec.where}: the file is empty (no header line)")
    return header


def _find_bad_rows(spec: SourceSpec, path: Path, n_fields: int) -> np.ndarray:
    """Data row numbers of rows without ``n_fields`` fields (Python csv; error path only)."""
    enc = "utf-8-sig" if codecs.lookup(spec.encoding).name == "utf-8" else spec.encoding
    bad = []
    with path.open(encoding=enc, newline="") as f:
        reader = csv.reader(f, delimiter=spec.delimiter)
        next(reader, None)
        row = 0
        for fields in reader:
            if not fields:  # blank line: skipped by the reader, not a data row
                continue
            row += 1
            if len(fields) != n_fields:
                bad.append(row)
    return np.asarray(bad, dtype=np.int64)


def read_csv_raw(spec: SourceSpec, path: Path) -> RawTable:
    """Read a CSV source with every declared column as string.

    Raises
    ------
    DataContractError
        Undecodable bytes (with byte offset and line), a declared column missing from the header,
        a declared column appearing twice, or a file pyarrow cannot parse.
    """
    header = _read_header(spec, path)
    missing = [c for c in spec.columns if c not in header]
    if missing:
        raise DataContractError(
            f"{spec.where}: declared column(s) {missing} missing from the file; "
            f"the file has columns {header}"
        )
    extra = [c for c in header if c not in spec.columns]
    if extra:
        log.info("%s: ignoring %d undeclared column(s) %s", spec.where, len(extra), extra)
    twice = sorted({c for c in spec.columns if header.count(c) > 1})
    if twice:
        raise DataContractError(
            f"{spec.where}: column(s) {twice} appear more than once in the header"
        )
    n_invalid = 0

    def on_invalid(_row: object) -> str:
        nonlocal n_invalid
        n_invalid += 1
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=_pa_encoding(spec.encoding), use_threads=True),
            parse_options=pacsv.ParseOptions(
                delimiter=spec.delimiter,
                newlines_in_values=True,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header},
                include_columns=list(spec.columns),
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
    except (UnicodeDecodeError, pa.ArrowInvalid) as e:
        err = _encoding_error(spec, path)
        if err is not None:
            raise err from None
        # pyarrow quotes the offending row after "got N:"; rows may hold personal data.
        msg = re.sub(r"(got \d+( columns)?):.*", r"\1", str(e).splitlines()[0])[:300]
        raise DataContractError(f"{spec.where}: cannot parse the CSV: {msg}") from None

    frame = table.to_pandas(types_mapper=_string_mapper, split_blocks=True, self_destruct=True)
    n = len(frame)
    if n_invalid:
        bad = _find_bad_rows(spec, path, len(header))
        if len(bad) == n_invalid:
            rows = np.setdiff1d(np.arange(1, n + n_invalid + 1, dtype=np.int64), bad)
        else:  # parsers disagree on some quoting corner case: numbers are unknown, not guessed
            bad = np.zeros(n_invalid, dtype=np.int64)
            rows = np.arange(1, n + 1, dtype=np.int64)
    else:
        bad = np.zeros(0, dtype=np.int64)
        rows = np.arange(1, n + 1, dtype=np.int64)
    return RawTable(frame=frame, rows=rows, bad_rows=bad)


def _string_mapper(t: pa.DataType) -> object:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.StringDtype("pyarrow")
    return None


def _parquet_mapper(t: pa.DataType) -> object:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.StringDtype("pyarrow")
    if pa.types.is_integer(t):
        return pd.Int64Dtype()
    if pa.types.is_boolean(t):
        return pd.BooleanDtype()
    return None


def read_parquet_raw(spec: SourceSpec, path: Path) -> RawTable:
    """Read the declared columns of a Parquet source in their stored types."""
    try:
        names = pq.read_schema(path).names
    except (pa.ArrowInvalid, OSError) as e:
        raise DataContractError(f"{spec.where}: not a readable Parquet file: {e}") from None
    missing = [c for c in spec.columns if c not in names]
    if missing:
        raise DataContractError(
            f"{spec.where}: declared column(s) {missing} missing from the file; "
            f"the file has columns {names}"
        )
    try:
        table = pq.read_table(path, columns=list(spec.columns))
    except (pa.ArrowInvalid, OSError) as e:
        raise DataContractError(f"{spec.where}: cannot read the Parquet file: {e}") from None
    cols = []
    for col in table.columns:
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        cols.append(col)
    table = pa.table(cols, names=table.column_names)
    frame = table.to_pandas(types_mapper=_parquet_mapper, date_as_object=False)
    n = len(frame)
    return RawTable(
        frame=frame,
        rows=np.arange(1, n + 1, dtype=np.int64),
        bad_rows=np.zeros(0, dtype=np.int64),
    )


def read_raw(spec: SourceSpec, path: Path) -> RawTable:
    """Read a source file (CSV or Parquet) as declared by ``spec``.

    Raises
    ------
    DataContractError
        If the file is missing or breaks the declared format.
    """
    if not path.is_file():
        raise DataContractError(f"{spec.where}: file not found at {str(path)!r}")
    if spec.format == "csv":
        return read_csv_raw(spec, path)
    if spec.format == "parquet":
        return read_parquet_raw(spec, path)
    raise DataContractError(f"{spec.where}: unknown format {spec.format!r}")
