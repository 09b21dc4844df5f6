"""Reading the XML import files dropped in the simulator's import folder (pure parsing).

Public API (called by the import watcher):

- ``kind_of(path) -> "contacts" | "transactions" | "promotion-redemptions" | None``
  from a name ``{YYYYMMDDHHmmss}_{seq}_{kind}.xml``;
- ``is_complete_name(name) -> bool``: False for dotfiles and upload temp names;
- ``parse_contacts_file(path)``, ``parse_transactions_file(path)``,
  ``parse_redemptions_file(path)`` and ``parse_import_file(path)`` (by name):
  ``Iterator[ParsedRecord]``;
- ``ParsedRecord``: ``index`` (0-based position of the record in the file), ``data`` (API-shaped
  camelCase dict: the JSON body of the matching API call; decimals as ``Decimal``,
  booleans as ``bool``, datetimes as their ISO text; None when ``errors``), ``errors``
  (the record must be skipped) and ``warnings`` (a contact field Voyado would skip);
- ``ImportFileError``: a "major error" that skips the whole file (not UTF-8, not
  well-formed XML, wrong root or namespace). It can be raised after records were
  yielded, so collect the records (``list(...)``, at most 20,000) before applying any.

This mirrors the XSDs in ``fallback/xsd`` on purpose without importing them (the
simulator imports nothing of ours but ``engage.models``, whose ``MATCH_KEY_TYPES`` it
shares with the XSDs and the writer); the unit tests check that both sides agree.
The building blocks are in ``xml_reading``; the contacts format is read by ``import_contacts``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final, Literal

from lxml import etree

from engage.models import MATCH_KEY_TYPES
from simulator.import_contacts import CONTACTS_NAMESPACE, CONTACTS_ROOT, parse_contacts_file
from simulator.xml_reading import (
    ExtraData,
    Group,
    ImportFileError,
    Leaf,
    ParsedRecord,
    Reader,
    Repeated,
    boolean,
    datetime_with_offset,
    decimal,
    pattern,
    stream,
    text,
)

__all__ = [
    "ImportFileError",
    "ImportKind",
    "ParsedRecord",
    "is_complete_name",
    "kind_of",
    "parse_contacts_file",
    "parse_import_file",
    "parse_redemptions_file",
    "parse_transactions_file",
]

ImportKind = Literal["contacts", "transactions", "promotion-redemptions"]
NAMESPACES: Final[Mapping[ImportKind, str]] = {
    "contacts": CONTACTS_NAMESPACE,
    "transactions": "http://voyado.Schemas.ImportReceipts",
    "promotion-redemptions": "urn:engage-relay:promotion-redemptions:v1",
}
ROOTS: Final[Mapping[ImportKind, str]] = {
    "contacts": CONTACTS_ROOT,
    "transactions": "transactions",
    "promotion-redemptions": "redemptions",
}
_NAME_RE: Final = re.compile(
    r"[0-9]{14}_[A-Za-z0-9-]{1,64}_(contacts|transactions|promotion-redemptions)\.xml"
)
TEMP_NAME_SUFFIXES: Final = (".part", ".tmp", ".partial", ".filepart", ".crdownload", ".swp", "~")


def kind_of(path: Path | str) -> ImportKind | None:
    match = _NAME_RE.fullmatch(Path(path).name)
    return None if match is None else match.group(1)  # type: ignore[return-value]  # regex admits only kinds


def is_complete_name(name: str) -> bool:
    """False for hidden files and names uploaders use while a transfer is in progress."""
    base = Path(name).name
    return bool(base) and not base.startswith(".") and not base.lower().endswith(TEMP_NAME_SUFFIXES)


_T, _RT, _D, _RD = Leaf(text), Leaf(text, True), Leaf(decimal), Leaf(decimal, True)
_MATCH_KEY_TYPE: Final = pattern("(?i)" + "|".join(MATCH_KEY_TYPES), "a known matchKeyType")
CONTACT_MATCH: Final = Group(
    {"matchKey": _RT, "matchKeyType": Leaf(_MATCH_KEY_TYPE, True), "contactType": _T}, required=True
)
RECEIPT: Final = Group(
    {
        "contact": CONTACT_MATCH,
        "uniqueReceiptId": _RT,
        "receiptNumber": _T,
        "createdDate": Leaf(datetime_with_offset, True),
        "storeExternalId": _RT,
        "currency": Leaf(pattern("[A-Z]{3}", "an ISO 4217 code"), True),
        "exchangeRateToGroupCurrency": _D,
        "totalGrossPrice": _RD,
        "taxDetails": Repeated(
            "taxDetail",
            Group(
                {
                    "description": _T,
                    "value": _D,
                    "percent": _D,
                    "totalIncludingTax": _D,
                    "totalExcludingTax": _D,
                }
            ),
        ),
        "paymentMethods": Repeated(
            "paymentMethod",
            Group({"type": _RT, "value": _RD, "description": _T, "extraData": ExtraData()}),
            required=True,
        ),
        "items": Repeated(
            "item",
            Group(
                {
                    "type": Leaf(
                        pattern("PURCHASE|RETURN|ADJUSTMENT", "PURCHASE, RETURN or ADJUSTMENT"), True
                    ),
                    "sku": _RT,
                    "quantity": _RD,
                    "grossPaidPrice": _RD,
                    "taxAmount": _RD,
                    "taxPercent": _RD,
                    "articleNumber": _RT,
                    "articleName": _RT,
                    "packQuantity": _D,
                    "articleGroup": _T,
                    "marginPercent": _D,
                    "awardsBonus": Leaf(boolean),
                    "discounts": Repeated("discount", Group({"value": _RD, "type": _T, "description": _T})),
                    "extraData": ExtraData(),
                }
            ),
            required=True,
        ),
        "usedBonusChecks": Repeated("usedBonusCheck", Group({"checkNumber": _RT})),
        "usedPromotions": Repeated("usedPromotion", Group({"promotionId": _RT, "couponId": _T})),
        "extraData": ExtraData(),
    }
)
_CHANNEL: Final = Leaf(pattern("ECOM|POS|OTHER", "ECOM, POS or OTHER"), True)
PROMOTION_REDEMPTION: Final = Group(
    {
        "assignmentId": _T,
        "contact": Group(CONTACT_MATCH.fields),
        "promotionId": _T,
        "redemptionChannel": _CHANNEL,
        "redeemedAt": Leaf(datetime_with_offset, True),
    }
)
VOUCHER_REDEMPTION: Final = Group(
    {"voucherId": _T, "voucherNumber": _T, "redeemedAt": Leaf(datetime_with_offset, True)}
)


def _receipt(reader: Reader, element: etree._Element, name: str) -> dict[str, Any] | None:
    if name != "receipt":
        reader.errors.append(f"unexpected element {name}; expected receipt")
        return None
    return reader.group(element, RECEIPT, "")


def _redemption(reader: Reader, element: etree._Element, name: str) -> dict[str, Any] | None:
    if name == "promotionRedemption":
        data = reader.group(element, PROMOTION_REDEMPTION, "")
        if ("assignmentId" in data) == ("contact" in data or "promotionId" in data):
            reader.errors.append("needs assignmentId, or contact and promotionId, not both")
        elif "assignmentId" not in data and not ("contact" in data and "promotionId" in data):
            reader.errors.append("needs both contact and promotionId")
        return {"kind": "promotion", **data}
    if name == "rewardVoucherRedemption":
        data = reader.group(element, VOUCHER_REDEMPTION, "")
        if ("voucherId" in data) == ("voucherNumber" in data):
            reader.errors.append("needs exactly one of voucherId and voucherNumber")
        return {"kind": "rewardVoucher", **data}
    reader.errors.append(
        f"unexpected element {name}; expected promotionRedemption or rewardVoucherRedemption"
    )
    return None


# ----- files -----
def parse_transactions_file(path: Path) -> Iterator[ParsedRecord]:
    return stream(path, NAMESPACES["transactions"], ROOTS["transactions"], _receipt)


def parse_redemptions_file(path: Path) -> Iterator[ParsedRecord]:
    return stream(path, NAMESPACES["promotion-redemptions"], ROOTS["promotion-redemptions"], _redemption)


def parse_import_file(path: Path) -> Iterator[ParsedRecord]:
    """Dispatch on :func:`kind_of`; ImportFileError for a name of no known kind."""
    kind = kind_of(path)
    if kind is None:
        raise ImportFileError("file name is not {YYYYMMDDHHmmss}_{seq}_{kind}.xml")
    return {"contacts": parse_contacts_file, "transactions": parse_transactions_file}.get(
        kind, parse_redemptions_file
    )(path)
