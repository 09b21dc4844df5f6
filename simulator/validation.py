"""Field validators (email, phone, social security number, GUID) and receipt validation.

The formats are the contract's [inferred] ones: email `x@y.z`; mobile phone E.164 (`+` and 7 to 15
digits); Swedish personnummer `YYYYMMDD-NNNN` or `YYYYMMDDNNNN` with a real month and day (no Luhn
check). A receipt is checked for required fields, a known matchKeyType, an ISO-4217-shaped currency
and Voyado's sign rules (ref §2.8): a RETURN line has a negative quantity and a `grossPaidPrice` that
stays positive, a return receipt a negative `totalGrossPrice`. Voyado documents no rule that the lines
add up to the total (its own return example does not), so that check runs only when asked
(`totals_must_add_up`, the `receipt_totals_must_add_up` switch), within `RECEIPT_TOTAL_TOLERANCE` and
with `grossPaidPrice` the line total; the tenders (`paymentMethods`) must then add up to it too
[inferred; Voyado's purchase example's do: 25 + 175 = 200].
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, TypeGuard

from engage.models import canonical_match_key_type
from simulator.errors import field_error

RECEIPT_TOTAL_TOLERANCE = 0.01
ITEM_TYPES = frozenset({"PURCHASE", "RETURN", "ADJUSTMENT"})

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+\d{7,15}$")
_SSN = re.compile(r"^(\d{4})(\d{2})(\d{2})-?(\d{4})$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def is_email(value: str) -> bool:
    return bool(_EMAIL.match(value))


def is_phone(value: str) -> bool:
    return bool(_PHONE.match(value))


def is_ssn(value: str) -> bool:
    m = _SSN.match(value)
    if m is None:
        return False
    month, day = int(m.group(2)), int(m.group(3))
    return 1 <= month <= 12 and 1 <= day <= 31


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value))


FORMAT_CHECKS = {
    "email": (is_email, "not a valid email address"),
    "mobilePhone": (is_phone, "not a valid E.164 phone number"),
    "socialSecurityNumber": (is_ssn, "not a valid social security number"),
}


def attribute_errors(attributes: dict[str, Any]) -> list[dict[str, str]]:
    """Format errors of the non-empty email, mobilePhone and socialSecurityNumber values."""
    errors = []
    for name, (check, message) in FORMAT_CHECKS.items():
        value = attributes.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or not check(value):
            errors.append(field_error(name, message))
    return errors


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _is_offset_datetime(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


_ITEM_TEXT = ("type", "sku", "articleNumber", "articleName")
_ITEM_NUMBERS = ("quantity", "grossPaidPrice", "taxAmount", "taxPercent")


def _item_errors(index: int, item: Any) -> list[dict[str, str]]:
    where = f"items[{index}]"
    if not isinstance(item, dict):
        return [field_error(where, "must be an object")]
    errors = [field_error(f"{where}.{f}", "is required") for f in _ITEM_TEXT if not _is_text(item.get(f))]
    errors += [
        field_error(f"{where}.{f}", "must be a number") for f in _ITEM_NUMBERS if not _is_number(item.get(f))
    ]
    kind = item.get("type")
    if _is_text(kind) and kind not in ITEM_TYPES:
        errors.append(field_error(f"{where}.type", "must be PURCHASE, RETURN or ADJUSTMENT"))
    quantity, price = item.get("quantity"), item.get("grossPaidPrice")
    if kind == "RETURN" and _is_number(quantity) and quantity >= 0:
        errors.append(field_error(f"{where}.quantity", "must be negative for a RETURN item"))
    if kind == "RETURN" and _is_number(price) and price < 0:
        errors.append(field_error(f"{where}.grossPaidPrice", "stays positive for a RETURN item"))
    return errors


def line_total(item: dict[str, Any]) -> float:
    """The signed line total: `grossPaidPrice` is the line total, its sign taken from `quantity`."""
    amount = abs(float(item["grossPaidPrice"]))
    return -amount if float(item["quantity"]) < 0 else amount


def _contact_errors(contact: Any) -> list[dict[str, str]]:
    if not isinstance(contact, dict):
        return [field_error("contact", "is required")]
    errors = []
    if not _is_text(contact.get("matchKey")):
        errors.append(field_error("contact.matchKey", "is required"))
    kind = contact.get("matchKeyType")
    if not _is_text(kind):
        errors.append(field_error("contact.matchKeyType", "is required"))
    elif canonical_match_key_type(str(kind)) is None:
        errors.append(field_error("contact.matchKeyType", "is not a known match key type"))
    return errors


def _header_errors(receipt: dict[str, Any]) -> list[dict[str, str]]:
    errors = [
        field_error(n, "is required")
        for n in ("uniqueReceiptId", "storeExternalId")
        if not _is_text(receipt.get(n))
    ]
    if not _is_offset_datetime(receipt.get("createdDate")):
        errors.append(field_error("createdDate", "must be an ISO 8601 date-time with an offset"))
    currency = receipt.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        errors.append(field_error("currency", "must be an ISO 4217 code (three upper-case letters)"))
    if not _is_number(receipt.get("totalGrossPrice")):
        errors.append(field_error("totalGrossPrice", "must be a number"))
    payments = receipt.get("paymentMethods")
    if not isinstance(payments, list) or not payments:
        errors.append(field_error("paymentMethods", "at least one payment method is required"))
        return errors
    for i, p in enumerate(payments):
        if not isinstance(p, dict) or not _is_text(p.get("type")) or not _is_number(p.get("value")):
            errors.append(field_error(f"paymentMethods[{i}]", "needs a type and a numeric value"))
    return errors


def _total_errors(
    items: list[dict[str, Any]], payments: list[dict[str, Any]], total: float, must_add_up: bool
) -> list[dict[str, str]]:
    errors = []
    if all(item["type"] == "RETURN" for item in items) and total >= 0:
        errors.append(field_error("totalGrossPrice", "must be negative for a return receipt"))
    if not must_add_up:
        return errors
    item_sum = sum(line_total(item) for item in items)
    if abs(item_sum - total) > RECEIPT_TOTAL_TOLERANCE:
        errors.append(field_error("totalGrossPrice", f"does not match the sum of the items ({item_sum:.2f})"))
    tender_sum = sum(float(p["value"]) for p in payments)
    if abs(tender_sum - total) > RECEIPT_TOTAL_TOLERANCE:
        errors.append(field_error("paymentMethods", f"do not add up to totalGrossPrice ({tender_sum:.2f})"))
    return errors


def receipt_errors(receipt: Any, *, totals_must_add_up: bool = False) -> list[dict[str, str]]:
    """Every validation error of a receipt body; empty when it is acceptable."""
    if not isinstance(receipt, dict):
        return [field_error("", "the receipt must be a JSON object")]
    errors = _contact_errors(receipt.get("contact")) + _header_errors(receipt)
    items = receipt.get("items")
    if not isinstance(items, list) or not items:
        return [*errors, field_error("items", "at least one item is required")]
    for i, item in enumerate(items):
        errors += _item_errors(i, item)
    total = receipt.get("totalGrossPrice")
    if errors or not _is_number(total):
        return errors
    return _total_errors(items, receipt["paymentMethods"], float(total), totals_must_add_up)
