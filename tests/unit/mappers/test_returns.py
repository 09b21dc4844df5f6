"""return.created -> return receipts: negative quantities, total and refunds; positive line prices."""

from __future__ import annotations

from decimal import Decimal

from mappers.identity import receipt_contact
from mappers.policy import TenantPolicy
from mappers.returns import return_request
from schemas.sales import ReturnCreatedEvent
from tests.unit.mappers.events import GUID, build, example

D = Decimal


def test_example_return_created() -> None:
    # Given the return.created example (one 149.00 line, refunded to the card)
    receipt = return_request(
        ReturnCreatedEvent.model_validate(example("return.created")), TenantPolicy(), receipt_contact(GUID)
    )
    wire = receipt.to_wire()
    # Then the item is a RETURN with a negative quantity and a positive line price
    assert wire["items"] == [
        {
            "type": "RETURN",
            "sku": "7391234500118",
            "quantity": -1,
            "grossPaidPrice": 149,
            "taxAmount": 29.8,
            "taxPercent": 25,
            "articleNumber": "SCK-0118",
            "articleName": "Ullstrumpor 2-pack",
            "articleGroup": "Strumpor",
        }
    ]
    # and the total and the refund are negative, the id distinct from the purchase's
    assert wire["totalGrossPrice"] == -149
    assert wire["paymentMethods"] == [{"type": "card", "value": -149, "description": "Visa"}]
    assert wire["uniqueReceiptId"] == "return-SE-100234-R1"
    assert wire["receiptNumber"] == "R-5521"
    assert wire["createdDate"] == "2026-12-02T11:19:41+01:00"
    assert wire["extraData"] == [
        {"name": "originalOrderId", "value": "SE-100234"},
        {"name": "returnReason", "value": "Fel storlek"},
    ]


def test_grossPaidPrice_is_the_line_total_and_the_total_is_minus_their_sum() -> None:
    # Given two units of 200.00 and one weighed line (0.333 kg at 12.50) returned in NOK
    data = {
        "return_id": "R-1",
        "created_at": "2026-12-02T11:19:41+02:00",
        "customer": {"email": "a@b.se"},
        "currency": "NOK",
        "lines": [
            {
                "sku": "J",
                "article_number": "J",
                "article_name": "Jacket",
                "quantity": 2,
                "unit_price": "200.00",
                "tax_percent": "25",
            },
            {
                "sku": "C",
                "article_number": "C",
                "article_name": "Cheese",
                "quantity": "0.333",
                "unit_price": "12.50",
                "tax_percent": "15",
            },
        ],
        "refunds": [{"type": "card", "amount": "404.16"}],
    }
    event = build(ReturnCreatedEvent, "return.created", data)
    receipt = return_request(event, TenantPolicy(exchange_rates={"NOK": D("0.95")}), receipt_contact(GUID))
    # Then prices are line totals to the cent, quantities negative, tax positive
    assert [(i.quantity, i.gross_paid_price, i.tax_amount) for i in receipt.items] == [
        (D(-2), D("400.00"), D("80.00")),
        (D("-0.333"), D("4.16"), D("0.54")),
    ]
    assert receipt.total_gross_price == D("-404.16")
    assert receipt.exchange_rate_to_group_currency == D("0.95")
    assert receipt.extra_data is None
    assert receipt.to_wire()["createdDate"] == "2026-12-02T11:19:41+02:00"
