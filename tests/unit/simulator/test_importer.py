"""The import watcher's apply step on in-memory state, with hand-made parsed records."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from simulator.config import SimConfig
from simulator.context import Sim
from simulator.faults import FaultGate
from simulator.import_files import ImportFileError, ParsedRecord
from simulator.importer import ImportWatcher, file_kind

RECEIPT = {
    "contact": {"matchKey": "a@b.se", "matchKeyType": "email"},
    "uniqueReceiptId": "R1",
    "createdDate": "2026-11-24T10:15:00+01:00",
    "storeExternalId": "S",
    "currency": "SEK",
    "totalGrossPrice": Decimal("10.00"),
    "paymentMethods": [{"type": "card", "value": Decimal("10.00")}],
    "items": [
        {
            "type": "PURCHASE",
            "sku": "S1",
            "quantity": Decimal(1),
            "grossPaidPrice": Decimal("10.00"),
            "taxAmount": Decimal("2.00"),
            "taxPercent": Decimal(25),
            "articleNumber": "A",
            "articleName": "N",
        }
    ],
}


def make_sim() -> Sim:
    return Sim(config=SimConfig(), faults=FaultGate(("k",), 200))


def test_file_kind_ignores_temp_and_hidden_names(tmp_path: Path) -> None:
    for name in ("20261124101500_1_contacts.xml", "20261124101500_1_contacts.xml.part", ".x_contacts.xml"):
        (tmp_path / name).write_text("x")
    assert file_kind(tmp_path / "20261124101500_1_contacts.xml") == "contacts"
    assert file_kind(tmp_path / "20261124101500_1_contacts.xml.part") is None
    assert file_kind(tmp_path / ".x_contacts.xml") is None


def test_watcher_applies_records_and_logs_each_file(tmp_path: Path) -> None:
    # Given parsers that yield hand-made records
    def contacts(path: Path) -> Iterable[ParsedRecord]:
        return [ParsedRecord(0, {"email": "a@b.se"}), ParsedRecord(1, None, ["email: must not be empty"])]

    def transactions(path: Path) -> Iterable[ParsedRecord]:
        return [ParsedRecord(0, RECEIPT), ParsedRecord(1, RECEIPT)]

    def broken(path: Path) -> Iterable[ParsedRecord]:
        raise ImportFileError("not well-formed XML")

    sim = make_sim()
    watcher = ImportWatcher(
        sim,
        tmp_path,
        0.1,
        {"contacts": contacts, "transactions": transactions, "promotion-redemptions": broken},
    )
    for name in (
        "20261124101500_1_contacts.xml",
        "20261124101501_1_transactions.xml",
        "20261124101502_1_promotion-redemptions.xml",
    ):
        (tmp_path / name).write_text("x")
    # When one scan runs
    entries = asyncio.run(watcher.scan_once())
    # Then each file is applied in name order, deleted, and logged
    assert [(e["kind"], e["applied"], e["skipped"]) for e in entries] == [
        ("contacts", 1, 1),
        ("transactions", 1, 1),
        ("promotion-redemptions", 0, 0),
    ]
    assert entries[2]["errors"][0]["errorCode"] == "FileError"
    assert list(tmp_path.iterdir()) == []
    assert sim.state.receipts[0]["receipt"]["totalGrossPrice"] == 10.0
    assert sim.state.imports == entries
