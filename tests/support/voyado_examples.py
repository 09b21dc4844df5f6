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
