from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fallback.xmlfiles import write_batches
from simulator.import_files import (
    ImportFileError,
    ParsedRecord,
    is_complete_name,
    kind_of,
    parse_contacts_file,
    parse_import_file,
    parse_redemptions_file,
    parse_transactions_file,
)
from tests.support import xml_records as rec

AT = datetime(2026, 11, 24, 9, 15, 7, tzinfo=UTC)
RECEIPTS_NS = "http://voyado.Schemas.ImportReceipts"
CONTACTS_NS = "http://eClub.Schemas.ImportContact"


def _write(tmp_path: Path, name: str, body: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(body.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("kind", "records"),
    [
        ("transactions", [rec.purchase(), rec.foreign_currency_purchase(), rec.return_receipt()]),
        ("contacts", [rec.contact_full(), rec.contact_by_id()]),
        ("promotion-redemptions", rec.redemptions()),
    ],
)
def test_round_trip_gives_back_the_api_shaped_records(
    tmp_path: Path, kind: Any, records: list[dict[str, Any]]
) -> None:
    # Given records written by the relay's writer
    [path] = write_batches(records, tmp_path, kind, clock=lambda: AT)
    # When the simulator parses the file
    parsed = list(parse_import_file(path))
    # Then it gets the same dicts back, numbers as Decimal
    assert [p.errors for p in parsed] == [[]] * len(records)
    assert [p.warnings for p in parsed] == [[]] * len(records)
    assert [p.index for p in parsed] == list(range(len(records)))
    as_parsed = rec.contact_as_parsed if kind == "contacts" else rec.as_parsed
    assert [p.data for p in parsed] == [as_parsed(r) for r in records]


def test_numbers_are_decimal_and_booleans_bool(tmp_path: Path) -> None:
    [path] = write_batches([rec.return_receipt()], tmp_path, "transactions", clock=lambda: AT)
    [record] = parse_transactions_file(path)
    assert record.data is not None
    item = record.data["items"][0]
    assert item["quantity"] == Decimal(-2) and isinstance(item["quantity"], Decimal)
    assert item["awardsBonus"] is False
    assert record.data["totalGrossPrice"] == Decimal("-400.00")


def _receipts(*bodies: str) -> str:
    head = f'<?xml version="1.0" encoding="utf-8"?>\n<transactions xmlns="{RECEIPTS_NS}">'
    return f"{head}{''.join(bodies)}</transactions>"


def _good_receipt_xml(tmp_path: Path) -> str:
    [path] = write_batches(
        [rec.foreign_currency_purchase()], tmp_path / "w", "transactions", clock=lambda: AT
    )
    text = path.read_text(encoding="utf-8")
    return text[text.index("<receipt>") : text.index("</receipt>") + len("</receipt>")]


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ("<currency>NOK</currency>", "<currency>nok</currency>", "currency: is not an ISO 4217 code"),
        ("<quantity>1.25</quantity>", "<quantity>1,25</quantity>", "items[0].quantity: is not a decimal"),
        ("<uniqueReceiptId>no-20180906468464468</uniqueReceiptId>", "", "uniqueReceiptId: is required"),
        (
            "<sku>10015563434</sku>",
            "<sku>10015563434</sku><colour>red</colour>",
            "items[0].colour: unknown element",
        ),
        ("<type>PURCHASE</type>", "<type>SALE</type>", "items[0].type"),
        ("<createdDate>2018-09-06T15:55:54+01:00", "<createdDate>2018-09-06T15:55:54", "createdDate"),
        (
            "<storeExternalId>oslo-1</storeExternalId>",
            "<storeExternalId> </storeExternalId>",
            "storeExternalId: must not be empty",
        ),
    ],
)
def test_bad_record_has_errors_and_the_others_still_parse(
    tmp_path: Path, old: str, new: str, error: str
) -> None:
    # Given a file with a good, a bad and a good receipt
    good = _good_receipt_xml(tmp_path)
    assert old in good
    path = _write(
        tmp_path, "20261124091507_1_transactions.xml", _receipts(good, good.replace(old, new), good)
    )
    # When parsed
    parsed = list(parse_transactions_file(path))
    # Then only the middle one is rejected, with a message naming the field
    assert [p.data is not None for p in parsed] == [True, False, True]
    assert any(error in e for e in parsed[1].errors), parsed[1].errors


@pytest.mark.parametrize(
    ("body", "encoding", "message"),
    [
        (f'<transactions xmlns="{RECEIPTS_NS}"><receipt/>', "utf-8", "well-formed"),
        ("not xml at all", "utf-8", "well-formed"),
        ("", "utf-8", "well-formed"),
        (f'<contacts xmlns="{CONTACTS_NS}"/>', "utf-8", "root element"),
        ("<transactions/>", "utf-8", "root element"),
        (
            f'<?xml version="1.0" encoding="iso-8859-1"?><transactions xmlns="{RECEIPTS_NS}"/>',
            "latin-1",
            "UTF-8",
        ),
        (f'<transactions xmlns="{RECEIPTS_NS}"/>', "utf-16", "UTF-16"),
        (
            f'<transactions xmlns="{RECEIPTS_NS}"><receipt>\xe5</receipt></transactions>',
            "latin-1",
            "well-formed",
        ),
    ],
)
def test_major_errors_raise_import_file_error(tmp_path: Path, body: str, encoding: str, message: str) -> None:
    path = _write(tmp_path, "20261124091507_1_transactions.xml", body, encoding)
    with pytest.raises(ImportFileError, match=message):
        list(parse_transactions_file(path))


def test_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = _write(tmp_path, "secret.txt", "TOP-SECRET")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file://{secret}">]>'
        f'<transactions xmlns="{RECEIPTS_NS}">'
        "<receipt><uniqueReceiptId>&x;</uniqueReceiptId></receipt></transactions>"
    )
    path = _write(tmp_path, "20261124091507_1_transactions.xml", body)
    records: list[ParsedRecord] = []
    try:
        records = list(parse_transactions_file(path))
    except ImportFileError:
        return
    assert "TOP-SECRET" not in repr(records)


def test_contacts_follow_voyados_per_field_rule(tmp_path: Path) -> None:
    # Given a Voyado-style contact with a tenant element, a bad country and a bad birthday
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><contacts xmlns="{CONTACTS_NS}">'
        '<new source="POS"><member><email>a@b.se</email><countryCode>Sweden</countryCode>'
        "<birthDay>1984-02-30</birthDay><memberLevel>Gold</memberLevel></member></new>"
        '<new><member contactType="Member"><countryCode>SE</countryCode><email>nope</email></member></new>'
        "</contacts>"
    )
    path = _write(tmp_path, "20261124091507_1_contacts.xml", body)
    first, second = parse_contacts_file(path)
    # Then the invalid fields are dropped with warnings and the contact is kept
    assert first.data == {"source": "POS", "email": "a@b.se", "memberLevel": "Gold"}
    assert first.errors == [] and len(first.warnings) == 2
    # And a contact left with no valid attribute is still importable only if something remains
    assert second.data == {"contactType": "Member", "countryCode": "SE"}
    assert any("email" in w for w in second.warnings)


def test_contact_without_any_attribute_is_an_error(tmp_path: Path) -> None:
    member = '<new source="POS"><member><email>bad</email></member></new>'
    body = f'<contacts xmlns="{CONTACTS_NS}">{member}</contacts>'
    [record] = parse_contacts_file(_write(tmp_path, "20261124091507_1_contacts.xml", body))
    assert record.data is None
    assert record.errors == ["contact has neither contactId nor any valid attribute"]


def test_members_of_one_new_share_its_attributes_and_are_numbered_across_the_file(tmp_path: Path) -> None:
    # Given Voyado's export-like shape: several members in one <new>, one with its own source
    body = (
        f'<contacts xmlns="{CONTACTS_NS}"><new source="ECOM" storeExternalId="600">'
        "<member><email>a@b.se</email></member>"
        '<member source="External system"><email>b@b.se</email></member></new>'
        '<new createAsUnapproved="true"><member><email>c@b.se</email></member></new></contacts>'
    )
    records = list(parse_contacts_file(_write(tmp_path, "20261124091507_1_contacts.xml", body)))
    assert [(r.index, r.data) for r in records] == [
        (0, {"source": "ECOM", "storeExternalId": "600", "email": "a@b.se"}),
        (1, {"source": "External system", "storeExternalId": "600", "email": "b@b.se"}),
        (2, {"createAsUnapproved": True, "email": "c@b.se"}),
    ]


def test_the_old_contact_elements_are_error_records(tmp_path: Path) -> None:
    # The structure engage-relay wrote before (<contacts><contact>), which no source supports
    body = (
        f'<contacts xmlns="{CONTACTS_NS}"><contact><email>a@b.se</email></contact>'
        "<new><contact><email>b@b.se</email></contact><member><email>c@b.se</email></member></new></contacts>"
    )
    old, inside, good = parse_contacts_file(_write(tmp_path, "20261124091507_1_contacts.xml", body))
    assert (old.data, old.errors) == (None, ["unexpected element contact; expected new"])
    assert (inside.data, inside.errors) == (None, ["unexpected element contact in new; expected member"])
    assert good.data == {"email": "c@b.se"}


def test_redemption_needs_exactly_one_target(tmp_path: Path) -> None:
    ns = "urn:engage-relay:promotion-redemptions:v1"
    body = (
        f'<redemptions xmlns="{ns}"><rewardVoucherRedemption><redeemedAt>2026-01-01T00:00:00Z</redeemedAt>'
        "</rewardVoucherRedemption><promotionRedemption><promotionId>p</promotionId>"
        "<redemptionChannel>POS</redemptionChannel><redeemedAt>2026-01-01T00:00:00Z</redeemedAt>"
        "</promotionRedemption></redemptions>"
    )
    voucher, promotion = parse_redemptions_file(
        _write(tmp_path, "20261124091507_1_promotion-redemptions.xml", body)
    )
    assert voucher.data is None and voucher.errors
    assert promotion.data is None and promotion.errors


def test_records_stream_lazily_in_file_order(tmp_path: Path) -> None:
    # Given 3,000 records in one file
    records = [{**rec.redemptions()[0], "assignmentId": f"a-{i}"} for i in range(3_000)]
    [path] = write_batches(records, tmp_path, "promotion-redemptions", clock=lambda: AT)
    # When parsed lazily
    stream = parse_redemptions_file(path)
    first = next(stream)
    # Then records arrive one by one, in order, with their position
    assert (first.index, first.data and first.data["assignmentId"]) == (0, "a-0")
    rest = list(stream)
    assert [r.data["assignmentId"] for r in rest if r.data] == [f"a-{i}" for i in range(1, 3_000)]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("20261124091507_1_transactions.xml", "transactions"),
        ("20261124091507_store-600_contacts.xml", "contacts"),
        ("20261124091507_7_promotion-redemptions.xml", "promotion-redemptions"),
        ("20261124091507_7_receipts.xml", None),
        ("20261124091507_7_transactions.xml.part", None),
        (".20261124091507_7_transactions.xml.ab12.part", None),
        ("transactions.xml", None),
    ],
)
def test_kind_of(name: str, kind: str | None) -> None:
    assert kind_of(Path("/import") / name) == kind


@pytest.mark.parametrize(
    ("name", "complete"),
    [
        ("20261124091507_1_transactions.xml", True),
        ("20261124091507_1_transactions.xml.part", False),
        ("20261124091507_1_transactions.xml.tmp", False),
        ("20261124091507_1_transactions.xml.filepart", False),
        (".20261124091507_1_transactions.xml.ab12.part", False),
        (".hidden", False),
        ("", False),
    ],
)
def test_is_complete_name(name: str, complete: bool) -> None:
    assert is_complete_name(name) is complete


def test_parse_import_file_refuses_unknown_names(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError):
        parse_import_file(_write(tmp_path, "orders.xml", "<x/>"))
