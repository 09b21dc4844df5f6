"""Representative API-shaped records for the XML import file tests and the benchmark."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fallback.xmlfiles.contacts import GROUP_ATTRIBUTES, KNOWN_ATTRIBUTES, MEMBER_ATTRIBUTES, STRUCTURED


def purchase(receipt_id: str = "r-1001", lines: int = 3) -> dict[str, Any]:
    """A purchase with a discount per line, a card payment with extra data, promotions and checks."""
    items = [
        {
            "type": "PURCHASE",
            "sku": f"1001556343{i}",
            "quantity": 2,
            "grossPaidPrice": Decimal("180.00"),
            "taxAmount": Decimal("36.00"),
            "taxPercent": Decimal("25.00"),
            "articleNumber": f"232423{i}",
            "articleName": "Stickad tröja V-neck",
            "articleGroup": "Knitwear",
            "marginPercent": Decimal("42.5"),
            "awardsBonus": True,
            "discounts": [
                {"value": Decimal("20.00"), "type": "promotion", "description": "50% rabatt nedsatt vara"}
            ],
            "extraData": [{"name": "size", "value": "M"}],
        }
        for i in range(lines)
    ]
    return {
        "contact": {"matchKey": "1c277c0a-ed93-4928-86cb-b0820090c111", "matchKeyType": "contactId"},
        "uniqueReceiptId": receipt_id,
        "receiptNumber": "468464468",
        "createdDate": "2026-11-24T10:15:00+01:00",
        "storeExternalId": "Store1337",
        "currency": "SEK",
        "totalGrossPrice": Decimal(180 * lines),
        "taxDetails": [{"description": "Moms 25%", "value": Decimal(36 * lines), "percent": Decimal("25")}],
        "paymentMethods": [
            {
                "type": "card",
                "value": Decimal(180 * lines - 25),
                "description": "Debit Card",
                "extraData": [
                    {"name": "cardIssuer", "value": "ICA Banken"},
                    {"name": "cardNumber", "value": "489456*"},
                ],
            },
            {
                "type": "bonuscheck",
                "value": Decimal("25.00"),
                "description": "25kr bonuscheck",
                "extraData": [{"name": "checkNumber", "value": "123456789"}],
            },
        ],
        "items": items,
        "usedBonusChecks": [{"checkNumber": "123456789"}],
        "usedPromotions": [{"promotionId": "12704681-e1d9-4861-9e75-abad00de9a6a", "couponId": "WELCOME10"}],
        "extraData": [{"name": "channel", "value": "POS"}],
    }


def foreign_currency_purchase() -> dict[str, Any]:
    return {
        "contact": {"matchKey": "28972987289", "matchKeyType": "memberNumber", "contactType": "Member"},
        "uniqueReceiptId": "no-20180906468464468",
        "createdDate": "2018-09-06T15:55:54+01:00",
        "storeExternalId": "oslo-1",
        "currency": "NOK",
        "exchangeRateToGroupCurrency": 0.9712,
        "totalGrossPrice": 200.5,
        "paymentMethods": [{"type": "card", "value": 200.5}],
        "items": [
            {
                "type": "PURCHASE",
                "sku": "10015563434",
                "quantity": 1.25,
                "grossPaidPrice": 200.5,
                "taxAmount": 40.1,
                "taxPercent": 25,
                "articleNumber": "2324234",
                "articleName": "Ipsum Wool Jacket",
                "packQuantity": 1,
            }
        ],
    }


def return_receipt() -> dict[str, Any]:
    return {
        "contact": {"matchKey": "jane.doe@example.com", "matchKeyType": "email"},
        "uniqueReceiptId": "ret-20180909468464496",
        "receiptNumber": "468464496",
        "createdDate": "2018-09-09T12:05:23Z",
        "storeExternalId": "Store1337",
        "currency": "NOK",
        "exchangeRateToGroupCurrency": Decimal("1.0"),
        "totalGrossPrice": Decimal("-400.00"),
        "paymentMethods": [{"type": "card", "description": "Debit Card", "value": Decimal("-400.00")}],
        "items": [
            {
                "type": "RETURN",
                "quantity": -2,
                "grossPaidPrice": Decimal("400.00"),
                "taxAmount": Decimal("80.00"),
                "taxPercent": Decimal("25.00"),
                "sku": "10015563434",
                "articleNumber": "2324234",
                "articleName": "Ipsum Wool Jacket",
                "awardsBonus": False,
            }
        ],
    }


def contact_full() -> dict[str, Any]:
    return {
        "contactType": "Member",
        "source": "ECOM",
        "storeExternalId": "600",
        "firstName": "Jane",
        "lastName": "Doe",
        "email": "jane.doe@example.com",
        "mobilePhone": "+46701234567",
        "street": "Sockenvägen 17",
        "zipCode": "218 32",
        "city": "Malmö",
        "countryCode": "SE",
        "birthDay": "1984-02-29",
        "memberLevel": "Gold",
        "hasDog": True,
        "shoeSize": 38.5,
        "preferences": {"acceptsEmail": True, "acceptsSms": False, "acceptsPostal": False},
        "consents": [
            {"id": "newsletter", "value": True, "date": "2024-05-01T10:00:00+02:00", "source": "ECOM"},
            {"id": "profiling", "value": False},
        ],
    }


def contact_by_id() -> dict[str, Any]:
    return {
        "contactId": "65D152A2-1C12-4E6B-93DC-1D2126E2F1A0",
        "createAsUnapproved": True,
        "lastName": "Examplesson",
    }


def redemptions() -> list[dict[str, Any]]:
    return [
        {
            "kind": "promotion",
            "assignmentId": "a7f1c1d2-0000-4000-8000-000000000001",
            "redemptionChannel": "POS",
            "redeemedAt": "2026-11-24T10:15:00+01:00",
        },
        {
            "kind": "promotion",
            "contact": {"matchKey": "jane.doe@example.com", "matchKeyType": "email"},
            "promotionId": "12704681-e1d9-4861-9e75-abad00de9a6a",
            "redemptionChannel": "ECOM",
            "redeemedAt": "2026-11-24T10:16:00+01:00",
        },
        {
            "kind": "rewardVoucher",
            "voucherId": "af61c5c8-7ff8-1234-9b67-c75300738cd3",
            "redeemedAt": "2026-11-24T10:17:00Z",
        },
        {
            "kind": "rewardVoucher",
            "voucherNumber": "2511233093766",
            "redeemedAt": "2026-11-24T10:18:00+01:00",
        },
    ]


def contact_as_parsed(record: dict[str, Any]) -> Any:
    """What the simulator parser gives back for a contact record: a tenant's own attributes as their
    text (a file carries no types; Voyado types them by the tenant's configuration)."""
    typed = {*KNOWN_ATTRIBUTES, *GROUP_ATTRIBUTES, *MEMBER_ATTRIBUTES, *STRUCTURED}
    as_text = {
        name: ("true" if value else "false") if isinstance(value, bool) else str(value)
        for name, value in record.items()
        if name not in typed and value not in (None, "")
    }
    parsed: dict[str, Any] = as_parsed(record)
    return {**parsed, **as_text}


def as_parsed(value: Any) -> Any:
    """What the simulator parser gives back for ``value``: numbers as Decimal, blanks gone."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if isinstance(value, dict):
        return {k: as_parsed(v) for k, v in value.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [as_parsed(v) for v in value]
    return value
