"""Voyado's own documented request examples, as the reference quotes them (`reference/engage-api.md`).

They are fixtures the simulator must accept: where the simulator and Voyado's examples disagree, the
simulator is wrong. Each function returns a fresh copy.
"""

from __future__ import annotations

import copy
from typing import Any

_PURCHASE: dict[str, Any] = {
    # ref §2.8, register-a-purchase (verbatim; the source truncates the item after articleGroup)
    "contact": {"matchKey": "28972987289", "matchKeyType": "memberNumber", "contactType": "member"},
    "uniqueReceiptId": "20180906468464468",
    "receiptNumber": "468464468",
    "createdDate": "2018-09-06T15:55:54+01:00",
    "storeExternalId": "Store1337",
    "currency": "NOK",
    "exchangeRateToGroupCurrency": 1.0,
    "totalGrossPrice": 200.00,
    "paymentMethods": [
        {
            "type": "bonuscheck",
            "description": "25 NOK bonus check",
            "value": 25.00,
            "extraData": [{"name": "checkNumber", "value": "123456789"}],
        },
        {"type": "card", "description": "Debit Card", "value": 175.00},
    ],
    "items": [
        {
            "type": "PURCHASE",
            "quantity": 2,
            "grossPaidPrice": 200.00,
            "taxAmount": 40.00,
            "taxPercent": 25.00,
            "sku": "10015563434",
            "articleNumber": "2324234",
            "articleName": "Ipsum Wool Jacket",
            "articleGroup": "Jackets",
        }
    ],
}

_RETURN: dict[str, Any] = {
    # ref §2.8, register-a-return (values verbatim; the source lost its closing brackets). Note Voyado's
    # own inconsistency: one line of quantity -2 at grossPaidPrice 200 and a total of -400.
    "contact": {"matchKey": "28972987289", "matchKeyType": "memberNumber", "contactType": "member"},
    "uniqueReceiptId": "20180909468464496",
    "receiptNumber": "468464496",
    "createdDate": "2018-09-09T12:05:23Z",
    "storeExternalId": "Store1337",
    "currency": "NOK",
    "exchangeRateToGroupCurrency": 1.0,
    "totalGrossPrice": -400.00,
    "paymentMethods": [{"type": "card", "description": "Debit Card", "value": -400.00}],
    "items": [
        {
            "type": "RETURN",
            "quantity": -2,
            "grossPaidPrice": 200.00,
            "taxAmount": 40.00,
            "taxPercent": 25.00,
            "sku": "10015563434",
            "articleNumber": "2324234",
            "articleName": "Ipsum Wool Jacket",
            "articleGroup": "Jackets",
            "marginPercent": "25.00",
            "awardsBonus": False,
        }
    ],
}

_ORDER: dict[str, Any] = {
    # ref §2.10, the v3 create payload (verbatim where the source is; its "..." parts are filled with the
    # smallest values the simulator takes: one line item, no payments, fees or discounts)
    "orderId": "order-1764771379",
    "contact": {"matchKey": "john@example.com", "matchKeyType": "Email"},
    "externalStoreId": "Ecom-Europe",
    "status": "InProgress",
    "externalStatus": "Picked",
    "references": ["order-123"],
    "currencyCode": "EUR",
    "channel": "Ecom",
    "createdAt": "2025-12-03T15:15:19+01:00",
    "lastChangedAt": "2025-12-03T15:16:19+01:00",
    "lineItems": {"items": [{"sku": "SKU-1", "quantity": 1}], "subTotal": 1597},
    "delivery": {
        "method": "DHL",
        "trackingNumber": "1234567890",
        "trackingUri": "https://dhl.com/track/1234567890",
        "deliveryDate": "2025-12-06T15:16:19+01:00",
    },
    "billingAddress": {"title": "Mr", "firstname": "John"},
}

_ORDER_ACTION: dict[str, Any] = {
    # ref §2.10, POST /api/v3/orders/{orderId}/action (verbatim)
    "action": "ConfirmOrder",
    "versionTag": "IXUA3ril8XnZJKUMSfP7dg==",
    "language": "en-US",
    "data": {"custom": "data", "list": ["data1", "data2"]},
}

_CONTACT: dict[str, Any] = {
    # ref §2.2, create-a-new-contact, the minimal payload (verbatim)
    "firstName": "Example",
    "email": "example@example.com",
    "countryCode": "SE",
}

_VOUCHERS: dict[str, Any] = {
    # ref §2.12, get-vouchers-for-contact, the response (verbatim)
    "count": 1,
    "offset": 0,
    "items": [
        {
            "id": "af61c5c8-7ff8-1234-9b67-c75300738cd3",
            "voucherNumber": "2511233093766",
            "name": "Bonus payment 2017-04-12 07:00",
            "redeemedOn": "2023-02-08T12:15:59.212Z",
            "redeemed": True,
            "expiresOn": "2023-02-08T12:15:59.212Z",
            "value": {"currency": "SEK", "amount": 195},
            "localValues": [{"currency": "NOK", "amount": 195}, {"currency": "EUR", "amount": 19.5}],
            "points": 4869,
        }
    ],
    "totalCount": 1,
}

MEMBER_NUMBER = "28972987289"
"""The member the receipt examples name."""
ORDER_EMAIL = "john@example.com"
"""The contact the order example names."""


def purchase() -> dict[str, Any]:
    return copy.deepcopy(_PURCHASE)


def return_receipt() -> dict[str, Any]:
    return copy.deepcopy(_RETURN)


def order() -> dict[str, Any]:
    return copy.deepcopy(_ORDER)


def order_action() -> dict[str, Any]:
    return copy.deepcopy(_ORDER_ACTION)


def contact() -> dict[str, Any]:
    """The minimal contact Voyado's create-a-new-contact page shows."""
    return copy.deepcopy(_CONTACT)


def vouchers_page() -> dict[str, Any]:
    """The reward-voucher list Voyado's get-vouchers-for-contact page shows (one voucher, redeemed)."""
    return copy.deepcopy(_VOUCHERS)
