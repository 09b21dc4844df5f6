from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from fallback.xmlfiles import validate_file, write_batches
from tests.support import xml_records as rec

AT = datetime(2026, 11, 24, 9, 15, 7, tzinfo=UTC)


@pytest.fixture
def receipt_file(tmp_path: Path) -> Path:
    [path] = write_batches(
        [rec.purchase("r-1"), rec.return_receipt()], tmp_path, "transactions", clock=lambda: AT
    )
    return path


def _edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("<currency>SEK</currency>", "<currency>sek</currency>", "currency"),
        ("<quantity>2</quantity>", "<quantity>2,5</quantity>", "quantity"),
        ("<quantity>2</quantity>", "<quantity>2E1</quantity>", "quantity"),
        ("<type>PURCHASE</type>", "<type>SALE</type>", "type"),
        ("<createdDate>2026-11-24T10:15:00+01:00", "<createdDate>2026-11-24T10:15:00", "createdDate"),
        ("<receiptNumber>468464468</receiptNumber>", "<receiptNumber></receiptNumber>", "receiptNumber"),
        (
            "<uniqueReceiptId>r-1</uniqueReceiptId>",
            "",
            "Expected is ( {http://voyado.Schemas.ImportReceipts}uniqueReceiptId )",
        ),
        ("<storeExternalId>", "<storeId>", "storeId"),
    ],
)
def test_schema_catches_malformed_records(receipt_file: Path, old: str, new: str, expected: str) -> None:
    errors = validate_file(_edit(receipt_file, old, new), "transactions")
    assert errors
    assert any(expected in error for error in errors), errors


def test_valid_file_has_no_errors(receipt_file: Path) -> None:
    assert validate_file(receipt_file, "transactions") == []


def test_wrong_kind_or_namespace_is_reported(receipt_file: Path) -> None:
    assert any("validation root" in e for e in validate_file(receipt_file, "contacts"))
    _edit(receipt_file, "http://voyado.Schemas.ImportReceipts", "http://example.com/receipts")
    assert validate_file(receipt_file, "transactions")


def test_truncated_file_is_reported(receipt_file: Path) -> None:
    receipt_file.write_bytes(receipt_file.read_bytes()[:300])
    assert validate_file(receipt_file, "transactions")


def test_non_utf8_declaration_is_reported(receipt_file: Path) -> None:
    _edit(receipt_file, 'encoding="utf-8"', 'encoding="iso-8859-1"')
    assert validate_file(receipt_file, "transactions") == [
        "XML declaration names an encoding other than UTF-8"
    ]


def test_errors_of_one_file_do_not_leak_into_the_next(receipt_file: Path, tmp_path: Path) -> None:
    # Given a bad file validated first
    [good] = write_batches([rec.contact_full()], tmp_path / "c", "contacts", clock=lambda: AT)
    assert validate_file(_edit(receipt_file, "SEK", "sek"), "transactions")
    # Then a good file validated next is still clean
    assert validate_file(good, "contacts") == []
