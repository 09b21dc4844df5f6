"""Migration input: CSV and NDJSON rows with offsets and line numbers; bad rows reported, never fatal."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration.sources import format_of, read_rows
from tests.unit.migration.test_migrate_helpers import write_lines, write_ndjson


def test_csv_separator_is_detected_and_empty_cells_are_left_out(tmp_path: Path) -> None:
    # Given the same rows with ';' and with ','
    semi = write_lines(
        tmp_path / "a.csv", ["email;firstName;city", "a@example.com;Anna;", "", "b@example.com;;Ume"]
    )
    comma = write_lines(
        tmp_path / "b.csv", ["email,firstName,city", "a@example.com,Anna,", "", "b@example.com,,Ume"]
    )
    # When both are read
    rows_semi = list(read_rows(semi, "csv"))
    rows_comma = list(read_rows(comma, "csv"))
    # Then both give the same values, blank lines skipped but counted in line numbers
    for rows in (rows_semi, rows_comma):
        assert [(r.line, r.values) for r in rows] == [
            (2, {"email": "a@example.com", "firstName": "Anna"}),
            (4, {"email": "b@example.com", "city": "Ume"}),
        ]


def test_csv_bom_quoted_multiline_value_and_bad_cell_count(tmp_path: Path) -> None:
    # Given a BOM, a quoted value spanning two lines, and a row with too many cells
    path = tmp_path / "c.csv"
    path.write_bytes(
        b'\xef\xbb\xbfemail;street\na@example.com;"Storgatan 1\nLgh 3"\n'
        b"b@example.com;x;extra\nc@example.com;y\n"
    )
    # When read
    rows = list(read_rows(path, "csv"))
    # Then the header has no BOM, the quoted value keeps its line break, the bad row names its line
    assert rows[0].values == {"email": "a@example.com", "street": "Storgatan 1\nLgh 3"}
    assert (rows[0].line, rows[0].next_line) == (2, 4)
    assert rows[1].line == 4
    assert rows[1].error == "3 cells but the header has 2 columns"
    assert (rows[2].line, rows[2].values) == (5, {"email": "c@example.com", "street": "y"})


def test_ndjson_bad_lines_are_rows_with_errors(tmp_path: Path) -> None:
    # Given good objects, broken JSON, an array and invalid UTF-8
    path = write_ndjson(tmp_path / "x.ndjson", [{"a": 1}, "{broken", "[1, 2]", {"b": 2}])
    with path.open("ab") as handle:
        handle.write(b'{"c": "\xff"}\n')
    # When read
    rows = list(read_rows(path, "ndjson"))
    # Then every line is a row, bad ones with a reason and their line number
    assert [(r.line, r.error is None) for r in rows] == [
        (1, True),
        (2, False),
        (3, False),
        (4, True),
        (5, False),
    ]
    assert rows[1].error is not None and rows[1].error.startswith("not JSON")
    assert rows[2].error == "not a JSON object"
    assert rows[4].error == "not UTF-8"


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_reading_from_a_row_offset_gives_the_same_rows(tmp_path: Path, fmt: str) -> None:
    # Given a file and the offset of its third row
    if fmt == "csv":
        path = write_lines(tmp_path / "f.csv", ["email", *(f"p{i}@example.com" for i in range(6))])
    else:
        path = write_ndjson(tmp_path / "f.ndjson", [{"i": i} for i in range(6)])
    rows = list(read_rows(path, fmt))  # type: ignore[arg-type]
    third = rows[2]
    # When read again from there
    again = list(read_rows(path, fmt, third.start, third.line))  # type: ignore[arg-type]
    # Then the same rows follow, with the same offsets and line numbers
    assert again == rows[2:]


def test_format_comes_from_the_extension_unless_given(tmp_path: Path) -> None:
    assert format_of(tmp_path / "a.CSV") == "csv"
    assert format_of(tmp_path / "a.jsonl") == "ndjson"
    assert format_of(tmp_path / "a.dat", "csv") == "csv"
    with pytest.raises(ValueError, match="--format"):
        format_of(tmp_path / "a.dat")
