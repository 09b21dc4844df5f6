"""Models speak the wire names, refuse unknown fields we send, ignore unknown fields Engage adds."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from engage.models import (
    Contact,
    PaymentMethod,
    ReceiptContact,
    ReceiptItem,
    ReceiptRequest,
    UsedPromotion,
    VoucherPage,
)


def receipt(**overrides: object) -> ReceiptRequest:
    fields: dict[str, object] = {
        "contact": ReceiptContact(match_key="c-1", match_key_type="contactId"),
        "unique_receipt_id": "r-1",
        "created_date": datetime.fromisoformat("2026-11-24T10:15:00+01:00"),
        "store_external_id": "online-se",
        "currency": "SEK",
        "total_gross_price": Decimal("200.10"),
        "payment_methods": [PaymentMethod(type="card", value=Decimal("200.10"))],
        "items": [
            ReceiptItem(
                type="PURCHASE",
                sku="s",
                quantity=Decimal(2),
                gross_paid_price=Decimal("200.10"),
                tax_amount=Decimal("40.02"),
                tax_percent=Decimal(25),
                article_number="a",
                article_name="Jacket",
            )
        ],
        "used_promotions": [UsedPromotion(promotion_id="p-1")],
    }
    fields.update(overrides)
    return ReceiptRequest(**fields)


def test_a_receipt_serializes_to_the_wire_names_with_numbers() -> None:
    wire = receipt().to_wire()
    assert wire == {
        "contact": {"matchKey": "c-1", "matchKeyType": "contactId"},
        "uniqueReceiptId": "r-1",
        "createdDate": "2026-11-24T10:15:00+01:00",
        "storeExternalId": "online-se",
        "currency": "SEK",
        "totalGrossPrice": 200.1,
        "paymentMethods": [{"type": "card", "value": 200.1}],
        "items": [
            {
                "type": "PURCHASE",
                "sku": "s",
                "quantity": 2,
                "grossPaidPrice": 200.1,
                "taxAmount": 40.02,
                "taxPercent": 25,
                "articleNumber": "a",
                "articleName": "Jacket",
            }
        ],
        "usedPromotions": [{"promotionId": "p-1"}],
    }


def test_money_stays_decimal_in_python() -> None:
    assert receipt().total_gross_price == Decimal("200.10")


def test_request_models_refuse_unknown_fields_bad_currency_and_naive_times() -> None:
    with pytest.raises(ValidationError):
        ReceiptContact(match_key="x", match_key_type="email", surprise=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        receipt(currency="sek")
    with pytest.raises(ValidationError):
        receipt(created_date=datetime(2026, 11, 24, 10, 15))  # naive on purpose


def test_request_models_accept_wire_names_too() -> None:
    assert ReceiptContact.model_validate({"matchKey": "x", "matchKeyType": "email"}).match_key == "x"


def test_response_models_ignore_unknown_fields() -> None:
    contact = Contact.model_validate({"id": "g", "contactType": "Member", "brandNew": True, "meta": {"x": 1}})
    assert contact.id == "g"
    page = VoucherPage.model_validate(
        {
            "count": 1,
            "offset": 0,
            "totalCount": 1,
            "items": [{"id": "v", "value": {"amount": 19.5}, "new": 1}],
        }
    )
    assert page.items[0].value is not None
    assert page.items[0].value.amount == Decimal("19.5")
