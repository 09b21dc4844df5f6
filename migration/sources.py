"""Reading a migration input file row by row, with the byte offset and line number of every row.

Memory stays flat: the file is read one line at a time, never whole. Every row knows where it starts
and ends in the file (``start``/``end`` byte offsets) and on which line it starts, so a run can be
resumed at any row and every reject names its line.

Formats:

- ``csv``: UTF-8 (a BOM is allowed), a header line of column names, ``;`` or ``,`` as separator (the
  one the header uses most), ``"`` quotes (a quoted value may span lines). Empty cells are left out.
- ``ndjson``: one JSON object per line. Blank lines are skipped in both formats.

A row that cannot be read (not UTF-8, not JSON, not an object, wrong number of cells) is yielded
with ``error`` set and ``values`` empty: bad data never stops a run.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final, Literal

InputFormat = Literal["csv", "ndjson"]
INPUT_FORMATS: Final[tuple[InputFormat, ...]] = ("csv", "ndjson")
CSV_SEPARATORS: Final = (";", ",")
UTF8_BOM: Final = b"\xef\xbb\xbf"
MAX_CSV_ROW_LINES: Final = 100  # a quoted value spanning more lines is a broken quote, not data
_EXTENSIONS: Final[dict[str, InputFormat]] = {
    ".csv": "csv",
    ".txt": "csv",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".json": "ndjson",
}


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One row of the input: where it is, what it holds (or why it could not be read)."""

    line: int  # 1-based line number where the row starts
    start: int  # byte offset of its first byte
    end: int  # byte offset just after it (where the next row starts)
    next_line: int  # line number at ``end``
    values: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def format_of(path: Path, given: InputFormat | None = None) -> InputFormat:
    """The given format, else the one the file's extension names; ValueError when neither says."""
    if given is not None:
        return given
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise ValueError(
            f"cannot tell the format of {path.name} from its extension; give --format csv|ndjson"
        )
    return found


def read_rows(path: Path, fmt: InputFormat, start: int = 0, start_line: int = 0) -> Iterator[SourceRow]:
    """The rows of ``path`` from byte ``start`` (a row boundary from an earlier run, 0 for the beginning).

    ``start_line`` is the line number of the row at ``start`` (ignored when ``start`` is 0).
    """
    with path.open("rb") as handle:
        if fmt == "csv":
            yield from _csv_rows(handle, start, start_line)
        else:
            yield from _ndjson_rows(handle, start, start_line)


def _lines(handle: BinaryIO, start: int, start_line: int) -> Iterator[tuple[int, int, int, bytes]]:
    """(line number, start offset, end offset, bytes without the line break) for each line."""
    handle.seek(start)
    offset, number = start, (start_line if start else 1)
    for raw in iter(handle.readline, b""):
        end = offset + len(raw)
        yield number, offset, end, raw.rstrip(b"\r\n")
        offset, number = end, number + 1


def _ndjson_rows(handle: BinaryIO, start: int, start_line: int) -> Iterator[SourceRow]:
    for number, begin, end, line in _lines(handle, start, start_line):
        raw = line.removeprefix(UTF8_BOM) if begin == 0 else line
        if not raw.strip():
            continue
        try:
            value = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            yield SourceRow(number, begin, end, number + 1, error="not UTF-8")
            continue
        except json.JSONDecodeError as exc:
            yield SourceRow(
                number, begin, end, number + 1, error=f"not JSON ({exc.msg} at column {exc.colno})"
            )
            continue
        except ValueError:  # e.g. a number too long to read
            yield SourceRow(number, begin, end, number + 1, error="not JSON")
            continue
        if not isinstance(value, dict):
            yield SourceRow(number, begin, end, number + 1, error="not a JSON object")
            continue
        yield SourceRow(number, begin, end, number + 1, values=value)


def read_header(handle: BinaryIO) -> tuple[list[str], str, int]:
    """The CSV header: column names, separator, byte offset just after the header line."""
    handle.seek(0)
    raw = handle.readline()
    end = len(raw)
    text = raw.removeprefix(UTF8_BOM).decode("utf-8", errors="replace").rstrip("\r\n")
    separator = max(CSV_SEPARATORS, key=text.count)
    names = [name.strip() for name in next(csv.reader([text], delimiter=separator), [])]
    return names, separator, end


def _csv_rows(handle: BinaryIO, start: int, start_line: int) -> Iterator[SourceRow]:
    header, separator, header_end = read_header(handle)
    if start < header_end:
        start, start_line = header_end, 2
    lines = _lines(handle, start, start_line)
    for number, begin, first_end, first in lines:
        if not first.strip():
            continue
        raw, end = first, first_end
        parts = [first]
        while raw.count(b'"') % 2 and len(parts) < MAX_CSV_ROW_LINES:  # a quoted value goes on
            following = next(lines, None)
            if following is None:
                break
            _, _, end, more = following
            parts.append(more)
            raw = b"\n".join(parts)
        after = number + len(parts)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield SourceRow(number, begin, end, after, error="not UTF-8")
            continue
        cells = next(csv.reader([text], delimiter=separator), [])
        if len(cells) != len(header):
            problem = f"{len(cells)} cells but the header has {len(header)} columns"
            yield SourceRow(number, begin, end, after, error=problem)
            continue
        values = {name: cell.strip() for name, cell in zip(header, cells, strict=True) if cell.strip()}
        yield SourceRow(number, begin, end, after, values=values)
