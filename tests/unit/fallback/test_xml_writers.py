from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from fallback.xmlfiles import (
    BatchFullError,
    BatchRecordError,
    ContactsFileWriter,
    RecordError,
    TransactionsFileWriter,
    validate_file,
    write_batches,
)
from fallback.xmlfiles.writers import MAX_RECORDS_PER_FILE
from tests.support import xml_records as rec

AT = datetime(2026, 11, 24, 9, 15, 7, tzinfo=UTC)


def test_file_is_utf8_with_declaration_root_namespace_and_one_record_per_line(tmp_path: Path) -> None:
    # Given a writer with one receipt
    with TransactionsFileWriter(tmp_path, seq=1, now=AT) as writer:
        writer.add(rec.purchase())
    # Then the published file starts like Voyado's example and holds the record
    raw = writer.path.read_bytes()
    assert writer.path.name == "20261124091507_1_transactions.xml"
    assert raw.startswith(
        b'<?xml version="1.0" encoding="utf-8"?>\n<transactions xmlns="http://voyado.Schemas.ImportReceipts">\n<receipt>'
    )
    assert "Stickad tröja V-neck".encode() in raw
    assert raw.count(b"\n") == 3
    assert b'<item name="cardIssuer">ICA Banken</item>' in raw


def test_file_is_the_declaration_the_root_and_each_records_markup_on_its_own_line(tmp_path: Path) -> None:
    # Given a writer with two receipts
    records = [rec.purchase("r-1"), rec.return_receipt()]
    with TransactionsFileWriter(tmp_path, seq=1, now=AT) as writer:
        for record in records:
            writer.add(record)
    # Then the file holds exactly their markup (tests/unit/fallback/test_xml_plans.py: lxml's), line by line
    assert writer.path.read_bytes() == (
        b'<?xml version="1.0" encoding="utf-8"?>\n<transactions xmlns="http://voyado.Schemas.ImportReceipts">\n'
        + b"".join((TransactionsFileWriter.to_xml(record) + "\n").encode() for record in records)
        + b"</transactions>"
    )


@pytest.mark.parametrize(
    ("kind", "records"),
    [
        ("transactions", [rec.purchase(), rec.foreign_currency_purchase(), rec.return_receipt()]),
        ("contacts", [rec.contact_full(), rec.contact_by_id()]),
        ("promotion-redemptions", rec.redemptions()),
    ],
)
def test_representative_records_validate_against_the_shipped_xsd(
    tmp_path: Path, kind: Any, records: list[dict[str, Any]]
) -> None:
    [path] = write_batches(records, tmp_path, kind, clock=lambda: AT)
    assert validate_file(path, kind) == []


def test_decimals_use_a_dot_and_never_an_exponent(tmp_path: Path) -> None:
    # Given amounts as float, JSON-mode strings with exponents and tiny values
    receipt = rec.foreign_currency_purchase()
    receipt["exchangeRateToGroupCurrency"] = 1e-7
    receipt["totalGrossPrice"] = "2.005E+2"
    [path] = write_batches([receipt], tmp_path, "transactions", clock=lambda: AT)
    text = path.read_text(encoding="utf-8")
    assert "<exchangeRateToGroupCurrency>0.0000001</exchangeRateToGroupCurrency>" in text
    assert "<totalGrossPrice>200.5</totalGrossPrice>" in text
    assert "<quantity>1.25</quantity>" in text


def test_contact_is_a_member_in_a_new_with_known_and_tenant_attributes_as_elements(tmp_path: Path) -> None:
    # The evidenced structure (ref 4.2/4.3): <contacts><new source=...><member><firstName>...
    with ContactsFileWriter(tmp_path, seq="store-600", now=AT) as writer:
        writer.add(rec.contact_full())
        writer.add(rec.contact_by_id())
    root = etree.parse(str(writer.path)).getroot()
    ns = {"c": "http://eClub.Schemas.ImportContact"}
    assert [etree.QName(e).localname for e in root] == ["new", "new"]
    first, second = root
    assert dict(first.attrib) == {"source": "ECOM", "storeExternalId": "600"}
    [member] = first
    assert etree.QName(member).localname == "member"
    assert dict(member.attrib) == {"contactType": "Member"}
    assert member.findtext("c:email", namespaces=ns) == "jane.doe@example.com"
    tenant = {
        name: member.findtext(f"c:{name}", namespaces=ns) for name in ("memberLevel", "hasDog", "shoeSize")
    }
    assert tenant == {"memberLevel": "Gold", "hasDog": "true", "shoeSize": "38.5"}
    assert etree.QName(member[-1]).localname == "consents"
    # A contact known by its GUID: contactId first, createAsUnapproved on its <new>
    assert dict(second.attrib) == {"createAsUnapproved": "true"}
    assert [etree.QName(e).localname for e in second[0]] == ["contactId", "lastName"]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda r: r.pop("uniqueReceiptId"), "uniqueReceiptId"),
        (lambda r: r.update(currency="sek"), "currency"),
        (lambda r: r.update(createdDate="2026-11-24T10:15:00"), "createdDate"),
        (lambda r: r.update(totalGrossPrice="1,5"), "totalGrossPrice"),
        (lambda r: r.update(totalGrossPrice=float("nan")), "totalGrossPrice"),
        (lambda r: r["items"][0].update(type="SALE"), "items[0].type"),
        (lambda r: r["items"][0].update(quantity=True), "items[0].quantity"),
        (lambda r: r["items"][0].update(colour="red"), "items[0]"),
        (lambda r: r.update(items=[]), "items"),
        (lambda r: r.update(receiptNumber="bad\x00byte"), "receiptNumber"),
        (lambda r: r["contact"].update(matchKeyType="shoeSize"), "contact.matchKeyType"),
    ],
)
def test_bad_receipt_raises_record_error_naming_the_field(mutate: Any, field: str) -> None:
    receipt = rec.purchase()
    mutate(receipt)
    with pytest.raises(RecordError) as caught:
        TransactionsFileWriter.render(receipt)
    assert caught.value.field == field


def test_bad_record_leaves_the_file_valid_and_the_others_in_it(tmp_path: Path) -> None:
    # Given a bad record between two good ones
    bad = rec.purchase("r-bad")
    bad["currency"] = "kronor"
    with TransactionsFileWriter(tmp_path, seq=1, now=AT) as writer:
        writer.add(rec.purchase("r-1"))
        with pytest.raises(RecordError):
            writer.add(bad)
        writer.add(rec.purchase("r-2"))
    # Then the file holds the two good ones and is valid
    assert writer.count == 2
    assert validate_file(writer.path, "transactions") == []


def test_write_batches_rotates_at_the_cap_and_reports_bad_records(tmp_path: Path) -> None:
    # Given 7 receipts of which the 4th is bad, and a cap of 3 per file
    records = [rec.purchase(f"r-{i}", lines=1) for i in range(7)]
    records[3]["items"] = "not a list"
    failures: list[tuple[int, str]] = []
    paths = write_batches(
        records,
        tmp_path,
        "transactions",
        seq_prefix="relay",
        max_records_per_file=3,
        clock=lambda: AT,
        on_record_error=lambda i, e: failures.append((i, e.field)),
    )
    # Then 6 good records land in files of 3 and 3, named in sequence, and the bad one is reported
    assert [p.name for p in paths] == [
        "20261124091507_relay-1_transactions.xml",
        "20261124091507_relay-2_transactions.xml",
    ]
    assert [p.read_text().count("<receipt>") for p in paths] == [3, 3]
    assert failures == [(3, "items")]
    assert sorted(tmp_path.iterdir()) == sorted(paths)  # no temp file left behind


def test_write_batches_without_handler_drops_the_open_file_and_says_what_was_published(
    tmp_path: Path,
) -> None:
    records = [rec.purchase(f"r-{i}", lines=1) for i in range(5)]
    records[4]["currency"] = None
    with pytest.raises(BatchRecordError) as caught:
        write_batches(records, tmp_path, "transactions", max_records_per_file=3, clock=lambda: AT)
    assert caught.value.index == 4
    assert caught.value.written == [tmp_path / "20261124091507_1_transactions.xml"]
    assert sorted(tmp_path.iterdir()) == caught.value.written


def test_write_batches_skips_names_that_exist(tmp_path: Path) -> None:
    (tmp_path / "20261124091507_1_transactions.xml").write_text("someone else's")
    [path] = write_batches([rec.purchase()], tmp_path, "transactions", clock=lambda: AT)
    assert path.name == "20261124091507_2_transactions.xml"


def test_real_cap_is_20000_per_file(tmp_path: Path) -> None:
    # Given 20,001 small redemption records (cheap to write)
    record = rec.redemptions()[2]
    paths = write_batches(
        (record for _ in range(MAX_RECORDS_PER_FILE + 1)), tmp_path, "promotion-redemptions"
    )
    # Then the cap is Voyado's 20,000 and the last record starts a second file
    assert MAX_RECORDS_PER_FILE == 20_000
    assert [p.read_bytes().count(b"<rewardVoucherRedemption>") for p in paths] == [20_000, 1]


def test_full_writer_refuses_more(tmp_path: Path) -> None:
    with TransactionsFileWriter(tmp_path, seq=1, max_records=1) as writer:
        writer.add(rec.purchase())
        assert writer.is_full
        with pytest.raises(BatchFullError):
            writer.add(rec.purchase("r-2"))


def test_nothing_is_visible_under_the_final_name_until_close(tmp_path: Path) -> None:
    # Given a started writer with records added
    writer = TransactionsFileWriter(tmp_path, seq=1, now=AT)
    writer.start()
    for i in range(50):
        writer.add(rec.purchase(f"r-{i}"))
    # Then only a hidden temp file exists
    assert not writer.path.exists()
    assert [p.name for p in tmp_path.iterdir()] == [writer.temp_path.name]
    assert writer.temp_path.name.startswith(".") and writer.temp_path.name.endswith(".part")
    # When closed, the final file appears whole and the temp file is gone
    assert writer.close() == writer.path
    assert list(tmp_path.iterdir()) == [writer.path]
    assert validate_file(writer.path, "transactions") == []


def test_close_never_overwrites_a_file_that_appeared_meanwhile(tmp_path: Path) -> None:
    writer = TransactionsFileWriter(tmp_path, seq=1, now=AT)
    writer.start()
    writer.add(rec.purchase())
    writer.path.write_text("another sender")
    with pytest.raises(FileExistsError):
        writer.close()
    assert writer.path.read_text() == "another sender"


def test_exception_inside_the_with_block_publishes_nothing(tmp_path: Path) -> None:
    def boom() -> Iterator[None]:
        raise KeyError("boom")
        yield

    with pytest.raises(KeyError), TransactionsFileWriter(tmp_path, seq=1) as writer:
        writer.add(rec.purchase())
        next(boom())
    assert list(tmp_path.iterdir()) == []


def test_empty_writer_publishes_nothing(tmp_path: Path) -> None:
    assert write_batches([], tmp_path, "contacts") == []
    with ContactsFileWriter(tmp_path, seq=1):
        pass
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "record",
    [
        {
            "kind": "promotion",
            "assignmentId": "a",
            "promotionId": "p",
            "redemptionChannel": "POS",
            "redeemedAt": "2026-01-01T00:00:00Z",
        },
        {
            "kind": "promotion",
            "assignmentId": "a",
            "redemptionChannel": "WEB",
            "redeemedAt": "2026-01-01T00:00:00Z",
        },
        {
            "kind": "rewardVoucher",
            "voucherId": "v",
            "voucherNumber": "1",
            "redeemedAt": "2026-01-01T00:00:00Z",
        },
        {"kind": "rewardVoucher", "redeemedAt": "2026-01-01T00:00:00Z"},
        {"kind": "points", "redeemedAt": "2026-01-01T00:00:00Z"},
    ],
)
def test_ambiguous_or_invalid_redemptions_are_refused(tmp_path: Path, record: dict[str, Any]) -> None:
    with pytest.raises(BatchRecordError):
        write_batches([record], tmp_path, "promotion-redemptions")


@pytest.mark.parametrize(
    "record",
    [
        {"email": "not-an-email"},
        {"countryCode": "Sweden", "email": "a@b.se"},
        {"contactId": "not-a-guid"},
        {"email": "a@b.se", "bad name": "x"},
        {"email": "a@b.se", "nested": {"a": 1}},
        {"email": "a@b.se", "preferences": {"acceptsFax": True}},
        {"source": "ECOM"},
    ],
)
def test_bad_contacts_are_refused(record: dict[str, Any]) -> None:
    with pytest.raises(RecordError):
        ContactsFileWriter.render(record)
