"""A realistic e-commerce day and a POS day, as waves of envelopes built from the example files.

A wave is published after the previous one is settled, the way a shop's sign-up precedes its purchase;
inside a wave, events race each other through the workers.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "events"
ECOM_TENANT = "acme-se"
POS_TENANT = "nordic-no"
ANNA = "anna.lindqvist@example.se"
WELCOME_PROMOTION = "8d1f4c2a-5b6e-4f70-9a3b-2c1d0e9f8a7b"
KARIN_ID = "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
KARIN_VOUCHER_ID = "af61c5c8-7ff8-1234-9b67-c75300738cd3"
KARIN_VOUCHER_NUMBER = "2511233093766"

Envelope = dict[str, Any]


def example(event_type: str) -> Envelope:
    envelope: Envelope = json.loads((EXAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))
    return envelope


def event(
    event_type: str, event_id: str, tenant: str, occurred_at: str | None = None, **data: Any
) -> Envelope:
    envelope = example(event_type)
    envelope["id"] = event_id
    envelope["tenant"] = tenant
    if occurred_at:
        envelope["occurred_at"] = occurred_at
    if data:
        envelope["data"] = {**copy.deepcopy(envelope["data"]), **data}
    return envelope


def ecom_day() -> list[list[Envelope]]:
    t = ECOM_TENANT
    signups = [
        event("customer.created", "ecom-anna-created", t) | {"source": "ECOM", "store": "online-se"},
        event("customer.created", "ecom-bob-created", t)
        | {
            "data": {
                "email": "bob.berg@example.se",
                "first_name": "Bob",
                "last_name": "Berg",
                "country_code": "SE",
            }
        },
    ]
    placed_erik = event(
        "order.placed",
        "ecom-erik-placed",
        t,
        order_id="SE-100301",
        customer={"email": "erik.johansson@example.se"},
        lines=[{"sku": "7391234599001", "name": "Termos 0,75 l", "quantity": 1, "unit_price": "299.00"}],
        totals={"sub_total": "299.00", "freight": "0.00", "total_gross": "299.00"},
    )
    carol = event(
        "order.delivered",
        "ecom-carol-delivered",
        t,
        order_id="SE-100300",
        receipt_number="100300",
        customer={"email": "carol.nilsson@example.se"},
        lines=[
            {
                "sku": "7391234599100",
                "article_number": "MSS-0100",
                "article_name": "Mössa Ull",
                "quantity": 1,
                "unit_price": "499.00",
                "tax_percent": "25",
            }
        ],
        order_discounts=[],
        used_promotions=[],
        freight={"amount": "49.00", "tax_percent": "25"},
        payments=[{"type": "card", "amount": "548.00", "description": "Visa"}],
        total_gross="548.00",
    )
    view = event("product.viewed", "ecom-anna-view", t, customer={"email": ANNA})
    shopping = [
        event("customer.updated", "ecom-anna-moved", t, "2026-11-26T10:00:00+01:00")
        | {"data": {"email": ANNA, "city": "Lund", "street": "Stora Södergatan 1", "zip_code": "222 23"}},
        event("order.placed", "ecom-anna-placed", t),
        event("order.delivered", "ecom-anna-delivered", t),
        carol,
        placed_erik,
        view,
        event("cart.updated", "ecom-anna-cart", t),
    ]
    after = [
        event("customer.updated", "ecom-anna-stale", t, "2026-11-25T10:00:00+01:00")
        | {"data": {"email": ANNA, "city": "Ystad"}},
        event("return.created", "ecom-anna-return", t),
        event("order.shipped", "ecom-anna-shipped", t),
        event("order.cancelled", "ecom-erik-cancelled", t),
    ]
    return [signups, shopping, after]


def pos_seed() -> dict[str, Any]:
    return {
        "contacts": [
            {
                "id": KARIN_ID,
                "email": "karin.dahl@example.no",
                "memberNumber": "200300400",
                "firstName": "Karin",
            }
        ],
        "promotions": [
            {
                "id": WELCOME_PROMOTION,
                "externalId": "WELCOME10",
                "name": "Välkommen 10%",
                "redemptionChannels": [{"type": "POS", "valueType": "PERCENT", "value": 10}],
            }
        ],
        "vouchers": [
            {
                "id": KARIN_VOUCHER_ID,
                "voucherNumber": KARIN_VOUCHER_NUMBER,
                "contactId": KARIN_ID,
                "name": "Bonuscheck 100 kr",
                "value": {"currency": "SEK", "amount": 100},
            }
        ],
    }


def pos_day() -> list[list[Envelope]]:
    t = POS_TENANT
    lisa = {"member_number": "100200300"}
    karin = {"member_number": "200300400"}
    signup = [
        event("customer.created", "pos-lisa-created", t)
        | {
            "data": {
                "email": "lisa.holm@example.no",
                "member_number": "100200300",
                "first_name": "Lisa",
                "last_name": "Holm",
                "country_code": "NO",
                "contact_type": "Member",
            }
        },
    ]
    lisa_receipt = event(
        "receipt.completed",
        "pos-lisa-receipt",
        t,
        customer=lisa,
        payments=[{"type": "card", "amount": "943.20", "description": "Mastercard"}],
        used_vouchers=[],
    )
    karin_receipt = event(
        "receipt.completed",
        "pos-karin-receipt",
        t,
        customer=karin,
        receipt_id="store-001-kassa1-20261124-0460",
        receipt_number="0460",
    )
    visit = [
        event("promotion.assigned", "pos-lisa-welcome", t),
        event("promotion.redeemed", "pos-lisa-welcome-used", t),
        lisa_receipt,
        karin_receipt,
        event("voucher.redeemed", "pos-karin-voucher", t, customer=karin, voucher_id=None),
    ]
    returns = [
        event(
            "return.created",
            "pos-karin-return",
            t,
            return_id="store-001-R-0099",
            original_order_id=None,
            receipt_number="R-0099",
            customer=karin,
            store="store-001",
        ),
    ]
    return [signup, visit, returns]


def event_keys(waves: list[list[Envelope]]) -> list[str]:
    return [f"{e['tenant']}:{e['id']}" for wave in waves for e in wave]
