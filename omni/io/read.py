"""Read one source file into an untyped frame, with the file's data row numbers.

CSV files are read by pyarrow with every column as a string (so ``00123`` keeps its zeros), in the
declared encoding; Parquet files keep their stored types. Rows a CSV parser cannot split into the
header's number of fields are kept aside (their row numbers) to be quarantined, never dropped.

Every CSV file is also counted independently of the parser: its non-blank physical lines, from the
bytes. When the parsed records do not account for every line one to one (a quoted value spans
lines, a row was unparseable, the file has an odd number of quote characters), each record's span
of lines is worked out from the newlines inside its values. A record whose value swallowed whole
lines that look like records (the header's number of fields) was opened by an unbalanced quote: its
first line is quarantined (``unbalanced_quote``) and the swallowed lines are read again as records.
The row count then equals the independent count, which :class:`RawTable` carries as
``file_records`` (``None`` when it could not be checked). Checks that do not drop rows but make a
file suspect (a header without rows, likely mojibake, a truncated last line) become
:class:`ReadIssue` s: logged as warnings and listed by the data audit.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from omni.io.errors import DataContractError
from omni.io.spec import SourceSpec

__all__ = ["RawTable", "ReadIssue", "estimate_rows", "hanzi_plausibility", "locate_decode_error", "read_csv_raw",
           "read_parquet_raw", "read_raw"]

log = logging.getLogger(__name__)
_CHUNK = 1 << 20
_SCAN_CHUNK = 1 << 24
_NL, _CR, _QUOTE = 10, 13, 34


def _no_rows() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class ReadIssue:
    """A file-level finding that does not stop the load (a warning and an audit issue).

    Attributes
    ----------
    check : str
        ``unbalanced_quote``, ``header_only``, ``mojibake``, ``truncated_last_line`` or
        ``unreconciled`` (docs/data_contract.md, "Checks").
    message : str
        One line naming the source and file; never a value from the file.
    figure : str
        The number behind the finding (lines swallowed, share of common characters, ...).
    """

    check: str
    message: str
    figure: str = ""


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
    quote_rows : ndarray of int64
        Data row numbers of lines quarantined for an unbalanced quote (CSV only).
    quote_notes : list of str
        One note per ``quote_rows`` entry (``unbalanced quote swallowed 29 lines``), no values.
    file_records : int or None
        The independent count of the file's records: non-blank physical lines of a CSV file once
        every multi-line value is accounted for, the row count in a Parquet file's metadata; None
        when it could not be checked.
    issues : list of ReadIssue
        File-level findings (warnings).
    """

    frame: pd.DataFrame
    rows: np.ndarray
    bad_rows: np.ndarray
    quote_rows: np.ndarray = field(default_factory=_no_rows)
    quote_notes: list[str] = field(default_factory=list)
    file_records: int | None = None
    issues: list[ReadIssue] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        """Data rows in the file: parsed rows plus unparseable rows."""
        return len(self.frame) + len(self.bad_rows) + len(self.quote_rows)


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


# ----------------------------------------------------------------------- independent line count


@dataclass
class _Lines:
    """The physical lines after the header, counted from the bytes (not by a CSV parser).

    ``start``/``end`` (byte offsets, ``end`` excludes ``\\r\\n``), ``blank``, ``delims`` and
    ``quotes`` per line are only kept when asked for (the slow path); the totals always are.
    """

    nonblank: int
    quote_total: int
    newline_at_end: bool
    last_start: int
    size: int
    start: np.ndarray | None = None
    end: np.ndarray | None = None
    blank: np.ndarray | None = None
    delims: np.ndarray | None = None
    quotes: np.ndarray | None = None


def _ascii_compatible(encoding: str) -> bool:
    """Newline, quote and comma are single ASCII bytes in this encoding (not UTF-16/32)."""
    return not codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))


def _data_start(path: Path, header: list[str]) -> int:
    """Byte offset of the first data line: after the header's physical line(s)."""
    need = 1 + sum(h.count("\n") for h in header)
    seen, pos = 0, 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            nl = np.flatnonzero(np.frombuffer(chunk, np.uint8) == _NL)
            if seen + len(nl) >= need:
                return pos + int(nl[need - seen - 1]) + 1
            seen += len(nl)
            pos += len(chunk)
    return pos


_PARTS = ("start", "end", "blank", "d", "q")


def _per_line(positions: np.ndarray, st: np.ndarray, en: np.ndarray) -> np.ndarray:
    """How many of the sorted ``positions`` fall in each half-open range [st, en)."""
    return np.searchsorted(positions, en) - np.searchsorted(positions, st)


def _scan_lines(path: Path, data_start: int, delimiter: bytes, keep: bool) -> _Lines:
    """Count the data lines of ``path`` from its bytes, vectorized over chunks.

    A line ends at ``\\n`` (a ``\\r`` before it is part of the line break); a blank line is
    empty or a lone ``\\r``. The last line counts when it is not blank, newline or not.
    """
    parts: dict[str, list[np.ndarray]] = {k: [] for k in _PARTS}
    nonblank = quotes = 0
    line_start, carry_d, carry_q = data_start, 0, 0
    prev, last_start, pos = -1, data_start, data_start
    dbyte = delimiter[0] if len(delimiter) == 1 else -1
    with path.open("rb") as f:
        f.seek(data_start)
        while chunk := f.read(_SCAN_CHUNK):
            a = np.frombuffer(chunk, np.uint8)
            quotes += chunk.count(b'"')
            nl = np.flatnonzero(a == _NL)
            if keep:
                d_at = np.flatnonzero(a == dbyte) if dbyte >= 0 else np.zeros(0, np.int64)
                q_at = np.flatnonzero(a == _QUOTE)
            if len(nl):
                st = np.empty(len(nl), np.int64)
                st[0] = line_start
                st[1:] = nl[:-1] + pos + 1
                en = nl.astype(np.int64) + pos
                before = np.where(nl > 0, a[np.maximum(nl - 1, 0)], prev)
                length = en - st
                cr = (before == _CR) & (length > 0)
                blank = (length == 0) | ((length == 1) & cr)
                nonblank += int(len(blank) - blank.sum())
                nb = np.flatnonzero(~blank)
                if len(nb):
                    last_start = int(st[nb[-1]])
                if keep:
                    lo = np.maximum(st - pos, 0)
                    d = _per_line(d_at, lo, en - pos)
                    q = _per_line(q_at, lo, en - pos)
                    d[0] += carry_d
                    q[0] += carry_q
                    carry_d = int(len(d_at) - np.searchsorted(d_at, nl[-1]))
                    carry_q = int(len(q_at) - np.searchsorted(q_at, nl[-1]))
                    for k, v in zip(_PARTS, (st, en - cr, blank, d, q), strict=True):
                        parts[k].append(v)
                line_start = int(en[-1]) + 1
            elif keep:
                carry_d += len(d_at)
                carry_q += len(q_at)
            prev = int(a[-1])
            pos += len(chunk)
    newline_at_end = pos == data_start or prev == _NL
    if line_start < pos:  # a last line without a newline
        tail_blank = pos - line_start == 1 and prev == _CR
        if not tail_blank:
            nonblank += 1
            last_start = line_start
        if keep:
            tail = (np.array([line_start]), np.array([pos]), np.array([tail_blank]),
                    np.array([carry_d]), np.array([carry_q]))
            for k, v in zip(_PARTS, tail, strict=True):
                parts[k].append(v)
    out = _Lines(nonblank, quotes, newline_at_end, last_start, pos)
    if keep:
        cat = {k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in parts.items()}
        out.start, out.end = cat["start"].astype(np.int64), cat["end"].astype(np.int64)
        out.blank = cat["blank"].astype(bool)
        out.delims, out.quotes = cat["d"].astype(np.int64), cat["q"].astype(np.int64)
    return out


# ---------------------------------------------------------------------------------- parsing


def _parse(
    spec: SourceSpec,
    source: Path | pa.BufferReader,
    n_fields: int,
    wanted: list[int] | None,
    *,
    threads: bool,
    quoting: bool = True,
    skip_header: bool = True,
) -> tuple[pa.Table, list[tuple[int | None, int]]]:
    """Parse CSV with pyarrow: columns ``c0..c<n-1>`` as strings (``wanted`` of them).

    Returns the table and, per row without ``n_fields`` fields, ``(number, newlines)``: pyarrow's
    1-based record number (header included; None when threads are on) and the newlines in it.
    """
    names = [f"c{i}" for i in range(n_fields)]
    invalid: list[tuple[int | None, int]] = []

    def on_invalid(row: object) -> str:
        invalid.append((row.number, row.text.count("\n")))
        return "skip"

    table = pacsv.read_csv(
        source,
        read_options=pacsv.ReadOptions(
            encoding=_pa_encoding(spec.encoding),
            use_threads=threads,
            column_names=names,
            skip_rows=1 if skip_header else 0,
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=spec.delimiter,
            quote_char='"' if quoting else False,
            newlines_in_values=quoting,
            invalid_row_handler=on_invalid,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in names},
            include_columns=names if wanted is None else [names[i] for i in wanted],
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=True,
        ),
    )
    return table, invalid


def _ends_in_open_quote(spec: SourceSpec, path: Path, start: int) -> bool:
    """True when the record starting at byte ``start`` runs to the end of the file in quotes."""
    with path.open("rb") as f:
        f.seek(start)
        text = f.read().decode(_py_encoding(spec.encoding), errors="replace")
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), delimiter=spec.delimiter, strict=True):
            pass
    except csv.Error as e:
        return "end of data" in str(e)
    finally:
        csv.field_size_limit(limit)
    return False


def _py_encoding(encoding: str) -> str:
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding


def _check_header(spec: SourceSpec, header: list[str]) -> list[int]:
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
    return [header.index(c) for c in spec.columns]


def _parse_error(spec: SourceSpec, path: Path, e: Exception) -> DataContractError:
    err = _encoding_error(spec, path)
    if err is not None:
        return err
    # pyarrow quotes the offending row after "got N:"; rows may hold personal data.
    msg = re.sub(r"(got \d+( columns)?):.*", r"\1", str(e).splitlines()[0])[:300]
    return DataContractError(f"{spec.where}: cannot parse the CSV: {msg}")


def _frame(table: pa.Table, spec: SourceSpec, wanted: list[int]) -> pd.DataFrame:
    table = table.select([f"c{i}" for i in wanted]).rename_columns(list(spec.columns))
    return table.to_pandas(types_mapper=_string_mapper, split_blocks=True, self_destruct=True)


def read_csv_raw(spec: SourceSpec, path: Path) -> RawTable:
    """Read a CSV source with every declared column as string, and count it independently.

    Raises
    ------
    DataContractError
        Undecodable bytes (with byte offset and line), a declared column missing from the header,
        a declared column appearing twice, or a file pyarrow cannot parse.
    """
    header = _read_header(spec, path)
    wanted = _check_header(spec, header)
    n = len(header)
    try:
        table, invalid = _parse(spec, path, n, wanted, threads=True)
    except (UnicodeDecodeError, pa.ArrowInvalid) as e:
        raise _parse_error(spec, path, e) from None
    delim = spec.delimiter.encode(spec.encoding)
    if not _ascii_compatible(spec.encoding):
        raw = _unchecked(spec, table, invalid, wanted)
    else:
        data_start = _data_start(path, header)
        lines = _scan_lines(path, data_start, delim, keep=False)
        parsed = table.num_rows + len(invalid)
        if invalid or parsed != lines.nonblank or lines.quote_total % 2:
            del table
            raw = _read_spans(spec, path, n, wanted, data_start, delim)
        else:
            raw = RawTable(
                frame=_frame(table, spec, wanted),
                rows=np.arange(1, parsed + 1, dtype=np.int64),
                bad_rows=_no_rows(),
                file_records=lines.nonblank,
            )
            if parsed and not lines.newline_at_end and _ends_in_open_quote(
                spec, path, lines.last_start
            ):
                raw.frame = raw.frame.iloc[:-1]
                raw.rows = raw.rows[:-1]
                raw.quote_rows = np.array([parsed], dtype=np.int64)
                raw.quote_notes = ["the file ends inside a quoted value"]
            _truncation_issue(spec, raw, lines)
        if raw.file_records == 0:
            raw.issues.append(
                ReadIssue("header_only", f"{spec.where}: the file has a header but no data rows", "0")
            )
        moji = _mojibake_issue(spec, path, data_start)
        if moji is not None:
            raw.issues.append(moji)
    for issue in raw.issues:
        log.warning("%s", issue.message)
    return raw


def _unchecked(spec: SourceSpec, table: pa.Table, invalid: list, wanted: list[int]) -> RawTable:
    """A table whose lines could not be counted from the bytes (UTF-16/32 files)."""
    n = table.num_rows
    return RawTable(
        frame=_frame(table, spec, wanted),
        rows=np.arange(1, n + 1, dtype=np.int64),
        bad_rows=np.zeros(len(invalid), dtype=np.int64),
        file_records=None,
        issues=[ReadIssue(
            "unreconciled",
            f"{spec.where}: records not counted independently ({spec.encoding!r} is not "
            "ASCII-compatible); the row count is the parser's only",
        )],
    )


def _truncation_issue(spec: SourceSpec, raw: RawTable, lines: _Lines) -> None:
    """A file without a final newline whose last record is unparseable or in an open quote."""
    last = raw.rows_in
    if lines.newline_at_end or last == 0:
        return
    if last in raw.bad_rows or last in raw.quote_rows:
        raw.issues.append(ReadIssue(
            "truncated_last_line",
            f"{spec.where}: the file ends without a newline and its last record (row {last}) is "
            "cut short (fewer fields than the header, or inside an open quote): was the file "
            "truncated?",
            f"row {last}",
        ))


def _read_spans(
    spec: SourceSpec, path: Path, n: int, wanted: list[int], data_start: int, delim: bytes
) -> RawTable:
    """The slow path: lay every parsed record over the physical lines it covers.

    Records are read again in order (one thread, so pyarrow numbers the unparseable ones). A
    record covers 1 + (newlines in its values) physical lines; summing that over the records
    must give the file's non-blank line count, or the file is reported unreconciled. A
    multi-line record whose later lines have the header's field count is an unbalanced quote:
    its first line is quarantined and the lines it swallowed are parsed again without quoting.
    """
    try:
        table, invalid = _parse(spec, path, n, None, threads=False)
    except (UnicodeDecodeError, pa.ArrowInvalid) as e:
        raise _parse_error(spec, path, e) from None
    lines = _scan_lines(path, data_start, delim, keep=True)
    nv, ni = table.num_rows, len(invalid)
    total = nv + ni
    if any(num is None for num, _ in invalid):  # cannot happen single-threaded; never guess
        raw = _unchecked(spec, table, invalid, wanted)
        raw.issues[0] = ReadIssue("unreconciled", f"{spec.where}: unparseable rows not located")
        return raw
    inv_idx, valid_idx, nl = _record_newlines(table, invalid, total)
    nb_phys = np.flatnonzero(~lines.blank)  # physical index of each non-blank line
    consumed, spans, ok = _record_spans(nl, lines, nb_phys, total)

    main = table.select([f"c{i}" for i in wanted])
    del table
    if not ok:
        return _unreconciled(spec, main, wanted, valid_idx, inv_idx, lines, total)

    looks = (~lines.blank) & (lines.delims == n - 1)
    suspect = [j for j, (p0, p1) in spans.items() if looks[p0 + 1 : p1 + 1].any()]
    # A legitimate multi-line record is one row; a suspect one becomes one row per line.
    ext = np.zeros(total, dtype=np.int64)
    ext[suspect] = consumed[suspect] - 1
    first_row = np.arange(total, dtype=np.int64) + 1 + np.cumsum(ext) - ext

    keep = np.ones(total, dtype=bool)
    keep[suspect] = False
    keep_valid = keep[valid_idx]
    tables = [main.filter(pa.array(keep_valid))] if nv else []
    row_parts = [first_row[valid_idx[keep_valid]]]
    bad_parts = [first_row[inv_idx[keep[inv_idx]]]]
    quote_rows: list[int] = []
    notes: list[str] = []
    issues: list[ReadIssue] = []
    for j in suspect:
        p0, p1 = spans[j]
        row0 = int(first_row[j])
        swallowed = int(consumed[j]) - 1
        quote_rows.append(row0)
        notes.append(f"unbalanced quote swallowed {swallowed} lines")
        issues.append(ReadIssue(
            "unbalanced_quote",
            f"{spec.where}: an unbalanced quote at row {row0} swallowed {swallowed} lines "
            f"(rows {row0 + 1}-{row0 + swallowed}); they were read again line by line",
            f"{swallowed:,} lines",
        ))
        body = np.arange(p0 + 1, p1 + 1)
        body = body[~lines.blank[body]]
        if not len(body):
            continue
        sub, good_rows, bad_rows, odd_rows = _reparse_lines(spec, path, n, wanted, lines, body, row0)
        tables.append(sub)
        row_parts.append(good_rows)
        bad_parts.append(bad_rows)
        for r in odd_rows:
            quote_rows.append(int(r))
            notes.append(f"unbalanced quote closes the value opened at row {row0}")

    rows = np.concatenate(row_parts).astype(np.int64)
    merged = pa.concat_tables(tables) if tables else main.slice(0, 0)
    order = np.argsort(rows, kind="stable")
    merged = merged.take(pa.array(order))
    raw = RawTable(
        frame=_frame(merged, spec, list(range(len(wanted)))),
        rows=rows[order],
        bad_rows=np.sort(np.concatenate(bad_parts).astype(np.int64)),
        quote_rows=np.asarray(quote_rows, dtype=np.int64),
        quote_notes=notes,
        # the non-blank lines less those inside legitimate multi-line values (the tiling above
        # checked that the records cover every non-blank line exactly once)
        file_records=int(lines.nonblank - (consumed - 1 - ext).sum()),
        issues=issues,
    )
    last = total - 1
    if total and last not in suspect and _ends_in_open_quote(
        spec, path, int(lines.start[nb_phys[len(nb_phys) - consumed[last]]])
    ):
        _quarantine_open_end(raw, int(first_row[last]))
    if len(raw.quote_rows) and not suspect:
        raw.issues.append(ReadIssue(
            "unbalanced_quote",
            f"{spec.where}: {len(raw.quote_rows)} row(s) with an unbalanced quote quarantined",
            f"{len(raw.quote_rows)} rows",
        ))
    _truncation_issue(spec, raw, lines)
    return raw


def _unreconciled(spec: SourceSpec, main: pa.Table, wanted: list[int], valid_idx: np.ndarray,
                  inv_idx: np.ndarray, lines: _Lines, total: int) -> RawTable:
    """The parsed records as they are, with an ``unreconciled`` issue: their row numbers are the
    record numbers, since the records do not tile the file's non-blank lines."""
    raw = RawTable(
        frame=_frame(main, spec, list(range(len(wanted)))),
        rows=valid_idx + 1,
        bad_rows=inv_idx + 1,
        file_records=int(lines.nonblank),
    )
    raw.issues.append(ReadIssue(
        "unreconciled",
        f"{spec.where}: the parser's {total:,} records do not account for the file's "
        f"{lines.nonblank:,} non-blank lines; row numbers may be off",
        f"{total:,} vs {lines.nonblank:,}",
    ))
    return raw


def _record_newlines(table: pa.Table, invalid: list, total: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Record indexes of the unparseable and parsed records, and the newlines inside each record."""
    inv_idx = np.array([num - 2 for num, _ in invalid], dtype=np.int64)
    is_inv = np.zeros(total, dtype=bool)
    is_inv[inv_idx] = True
    valid_idx = np.flatnonzero(~is_inv)
    nl = np.zeros(total, dtype=np.int64)
    if table.num_rows:
        per_col = [
            pc.count_substring(col, "\n").fill_null(0).to_numpy(zero_copy_only=False)
            for col in table.columns
        ]
        nl[valid_idx] = np.sum(per_col, axis=0)
    nl[inv_idx] = [k for _, k in invalid]
    return inv_idx, valid_idx, nl


def _record_spans(
    nl: np.ndarray, lines: _Lines, nb_phys: np.ndarray, total: int
) -> tuple[np.ndarray, dict[int, tuple[int, int]], bool]:
    """Lay the multi-line records over the physical lines: the non-blank lines each record
    consumes, the (first, last) physical line of each multi-line record, and whether the records
    tile the file's non-blank lines exactly."""
    nb_before = np.concatenate(([0], np.cumsum(~lines.blank)))  # non-blank lines before p
    n_lines = len(lines.blank)
    consumed = np.ones(total, dtype=np.int64)
    spans: dict[int, tuple[int, int]] = {}
    shift, ok = 0, True
    for j in np.flatnonzero(nl > 0):  # multi-line records only (few)
        k = int(j) + shift
        if k >= len(nb_phys):
            ok = False
            break
        p0 = int(nb_phys[k])
        p1 = min(p0 + int(nl[j]), n_lines - 1)
        c = int(nb_before[p1 + 1] - nb_before[p0])
        consumed[j], spans[int(j)] = c, (p0, p1)
        shift += c - 1
    return consumed, spans, ok and total + shift == len(nb_phys)


def _reparse_lines(
    spec: SourceSpec, path: Path, n: int, wanted: list[int], lines: _Lines, body: np.ndarray, row0: int
) -> tuple[pa.Table, np.ndarray, np.ndarray, np.ndarray]:
    """Parse the physical lines ``body`` swallowed by the unbalanced quote at ``row0`` again,
    without quoting: the parsed rows to keep with their row numbers, the unparseable rows, and
    the rows with an odd number of quotes (they close the value opened at ``row0``)."""
    rows_body = row0 + 1 + np.arange(len(body), dtype=np.int64)
    with path.open("rb") as f:
        f.seek(int(lines.start[body[0]]))
        chunk = f.read(int(lines.end[body[-1]] - lines.start[body[0]]))
    sub, sub_invalid = _parse(
        spec, pa.BufferReader(chunk), n, wanted, threads=False, quoting=False,
        skip_header=False,
    )
    sub_inv = np.array([num - 1 for num, _ in sub_invalid], dtype=np.int64)
    is_sub_inv = np.zeros(len(body), dtype=bool)
    is_sub_inv[sub_inv] = True
    odd = (lines.quotes[body] % 2) == 1
    sub_valid = np.flatnonzero(~is_sub_inv)
    take = ~odd[sub_valid]
    return sub.filter(pa.array(take)), rows_body[sub_valid[take]], rows_body[is_sub_inv & ~odd], rows_body[odd]


def _quarantine_open_end(raw: RawTable, row: int) -> None:
    """Move ``row`` (the last record, which ends inside a quoted value) to the quote rows."""
    hit = raw.rows == row
    raw.frame = raw.frame.loc[~hit].reset_index(drop=True)
    raw.rows = raw.rows[~hit]
    raw.bad_rows = raw.bad_rows[raw.bad_rows != row]
    raw.quote_rows = np.append(raw.quote_rows, row)
    raw.quote_notes.append("the file ends inside a quoted value")


# ------------------------------------------------------------------------------- mojibake


@lru_cache(maxsize=1)
def _common_hanzi() -> np.ndarray:
    """Boolean table over U+4E00..U+9FFF: the 3,755 most common characters (GB2312 level 1)."""
    lead = np.repeat(np.arange(0xB0, 0xD8, dtype=np.uint8), 94)
    trail = np.tile(np.arange(0xA1, 0xFF, dtype=np.uint8), 0xD8 - 0xB0)
    text = np.column_stack([lead, trail]).tobytes().decode("gb2312", errors="ignore")
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    table = np.zeros(0x9FFF - 0x4E00 + 1, dtype=bool)
    cps = cps[(cps >= 0x4E00) & (cps <= 0x9FFF)]
    table[cps - 0x4E00] = True
    return table


def hanzi_plausibility(text: str) -> tuple[float, int]:
    """Share of the CJK characters of ``text`` that are common ones, and how many there are.

    Chinese text is nearly all common characters (GB2312 level 1: >90% of names and addresses);
    UTF-8 bytes read as GBK give rare ones (``苏州`` becomes ``鑻忓窞``), well under half.
    """
    cps = np.frombuffer(text.encode("utf-32-le", errors="replace"), dtype=np.uint32)
    cjk = cps[(cps >= 0x4E00) & (cps <= 0x9FFF)]
    if not len(cjk):
        return float("nan"), 0
    return float(_common_hanzi()[cjk - 0x4E00].mean()), int(len(cjk))


def _mojibake_issue(spec: SourceSpec, path: Path, data_start: int) -> ReadIssue | None:
    """Flag a file whose declared (non-UTF-8) decoding gives implausible Chinese text while
    UTF-8 decodes it and gives plausible text."""
    if codecs.lookup(spec.encoding).name == "utf-8":
        return None
    with path.open("rb") as f:
        f.seek(data_start)
        sample = f.read(_CHUNK)
    if sample.isascii():
        return None
    try:
        as_utf8 = codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return None
    declared, n = hanzi_plausibility(sample.decode(spec.encoding, errors="replace"))
    alt, n_alt = hanzi_plausibility(as_utf8)
    if n < 20 or n_alt < 10 or not (declared < 0.5 <= 0.8 <= alt):
        return None
    return ReadIssue(
        "mojibake",
        f"{spec.where}: text decoded as {spec.encoding!r} looks garbled (only {declared:.0%} "
        f"common Chinese characters; as utf-8: {alt:.0%}): declare 'encoding: utf-8'",
        f"{declared:.0%} vs {alt:.0%}",
    )


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
    raw = RawTable(
        frame=frame,
        rows=np.arange(1, n + 1, dtype=np.int64),
        bad_rows=np.zeros(0, dtype=np.int64),
        file_records=int(pq.ParquetFile(path).metadata.num_rows),
    )
    if raw.file_records == 0:
        raw.issues.append(ReadIssue("header_only", f"{spec.where}: the file has no rows", "0"))
        log.warning("%s", raw.issues[-1].message)
    return raw


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


#: Bytes of a CSV file read to estimate its rows (:func:`estimate_rows`).
ROW_SAMPLE_BYTES = 1 << 20


def estimate_rows(spec: SourceSpec, path: Path) -> int:
    """The rows of a source file, without reading it: a Parquet file's metadata (exact), or a CSV
    file's size over the mean length of its lines in its first MiB (exact for a smaller file;
    within a few percent for the exports of a source, whose lines are alike). Lines end at
    ``\\n`` (``\\r\\n`` included), or at ``\\r`` in a file without any ``\\n``; an encoding that is not
    ASCII-compatible (UTF-16) is decoded to count them. 0 when the file is missing or cannot be
    read: an estimate never fails."""
    try:
        if spec.format == "parquet":
            return int(pq.ParquetFile(path).metadata.num_rows)
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(ROW_SAMPLE_BYTES)
    except (OSError, ValueError, pa.ArrowException):
        return 0
    if not head:
        return 0
    try:
        ascii_compatible = "\n,".encode(spec.encoding) == b"\n,"
    except LookupError:
        ascii_compatible = True
    text = head if ascii_compatible else head.decode(spec.encoding, errors="ignore").encode("utf-8")
    end = b"\n" if b"\n" in text else b"\r"
    breaks = text.count(end)
    if len(head) >= size:  # the whole file: exact, but for its header
        return max(breaks + (0 if text.endswith(end) else 1) - 1, 0)
    return max(int(round(size * max(breaks, 1) / len(head))) - 1, 0)
