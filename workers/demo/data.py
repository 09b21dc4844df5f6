"""The demo's sample data: an e-commerce day and a POS day as waves of envelopes, and the simulator seed.

Built from the shop-facing examples in `examples/events/` (the same files the schema tests validate), so
the demo shows exactly what a shop publishes. Two tenants share the one demo simulator with their own
API keys, each key its own Engage: `acme-se` (web shop, contacts by email; an order's journey from
placed to returned) and `nordic-no` (stores, contacts by member number).
One envelope is invalid on purpose, to show a rejection with its reasons.
The last wave (`outage_wave`) is published while Engage is down: nordic-no's stores keep selling.

A wave is published after the previous one has settled, the way a sign-up precedes a purchase; inside a
wave, events race each other through the workers.
"""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples" / "events"
ECOM_TENANT = "acme-se"
POS_TENANT = "nordic-no"
OUTAGE_TENANT = POS_TENANT
OUTAGE_FILED = ("pos-outage-lisa-receipt", "pos-outage-karin-receipt")
"""The outage wave's events with a Voyado file channel: they spill to a transactions file."""
INVALID_EVENT_ID = "ecom-broken-order"
ANNA = "anna.lindqvist@example.se"
WELCOME_PROMOTION = "8d1f4c2a-5b6e-4f70-9a3b-2c1d0e9f8a7b"
KARIN_ID = "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
KARIN_VOUCHER_ID = "af61c5c8-7ff8-1234-9b67-c75300738cd3"
KARIN_VOUCHER_NUMBER = "2511233093766"

Envelope = dict[str, Any]
Wave = list[Envelope]


class DemoDataMissing(RuntimeError):
    """The example envelopes are not next to the package: the demo runs from a clone of the repository."""


def example(event_type: str) -> Envelope:
    path = EXAMPLES_DIR / f"{event_type}.json"
    try:
        envelope: Envelope = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DemoDataMissing(
            f"{path} is missing: run the demo from a clone of the repository (`make demo`)"
        ) from None
    return envelope


def event(
    event_type: str, event_id: str, tenant: str, occurred_at: str | None = None, **data: Any
) -> Envelope:
    """The example of `event_type` as `event_id` for `tenant`, with `data` fields replaced."""
    envelope = example(event_type)
    envelope["id"] = event_id
    envelope["tenant"] = tenant
    if occurred_at:
        envelope["occurred_at"] = occurred_at
    if data:
        envelope["data"] = {**copy.deepcopy(envelope["data"]), **data}
    return envelope


def invalid_order() -> Envelope:
    """An order a shop got wrong: no order id, a zero quantity and a malformed email."""
    envelope = event("order.placed", INVALID_EVENT_ID, ECOM_TENANT, customer={"email": "anna(at)example"})
    del envelope["data"]["order_id"]
    envelope["data"]["lines"][0]["quantity"] = 0
    return envelope


def ecom_day() -> list[Wave]:
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
        invalid_order(),
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
    shopping = [
        event("customer.updated", "ecom-anna-moved", t, "2026-11-26T10:00:00+01:00")
        | {"data": {"email": ANNA, "city": "Lund", "street": "Stora Södergatan 1", "zip_code": "222 23"}},
        event("order.placed", "ecom-anna-placed", t),
        carol,  # an order Engage never had: its delivery creates it, delivered
        placed_erik,
        event("product.viewed", "ecom-anna-view", t, customer={"email": ANNA}),
        event("cart.updated", "ecom-anna-cart", t),
    ]
    shipping = [
        # older than the move above: superseded, Engage keeps Lund
        event("customer.updated", "ecom-anna-stale", t, "2026-11-25T10:00:00+01:00")
        | {"data": {"email": ANNA, "city": "Ystad"}},
        event("order.shipped", "ecom-anna-shipped", t),
        event("order.cancelled", "ecom-erik-cancelled", t),
    ]
    # Anna's order, one step a wave, so each state reaches Engage in turn: delivered, then returned
    delivered = [event("order.delivered", "ecom-anna-delivered", t)]
    returned = [event("return.created", "ecom-anna-return", t)]
    return [signups, shopping, shipping, delivered, returned]


def pos_day() -> list[Wave]:
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
    visit = [
        event("promotion.assigned", "pos-lisa-welcome", t),
        event("promotion.redeemed", "pos-lisa-welcome-used", t),
        event(
            "receipt.completed",
            "pos-lisa-receipt",
            t,
            customer=lisa,
            payments=[{"type": "card", "amount": "943.20", "description": "Mastercard"}],
            used_vouchers=[],
        ),
        event(
            "receipt.completed",
            "pos-karin-receipt",
            t,
            customer=karin,
            receipt_id="store-001-kassa1-20261124-0460",
            receipt_number="0460",
        ),
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


def outage_wave() -> Wave:
    """Published while Engage is down: two receipts (a file channel: they spill to a transactions file
    after the tenant's short spill_after_s, and Engage imports it) and a welcome offer (no file channel:
    it waits in the hold and goes through the API once Engage is back)."""
    t = OUTAGE_TENANT
    card_only = {"payments": [{"type": "card", "amount": "943.20", "description": "Visa"}]}
    receipts = [
        event(
            "receipt.completed",
            event_id,
            t,
            f"2026-11-25T12:0{n}:00+01:00",
            customer={"member_number": member},
            receipt_id=f"store-001-kassa1-20261125-050{n}",
            receipt_number=f"050{n}",
            used_promotions=[],
            used_vouchers=[],
            **card_only,
        )
        for n, (event_id, member) in enumerate(zip(OUTAGE_FILED, ("100200300", "200300400"), strict=True))
    ]
    welcome = event(
        "promotion.assigned", "pos-outage-karin-welcome", t, customer={"member_number": "200300400"}
    )
    return [*receipts, welcome]


def demo_waves() -> list[Wave]:
    """Both days, wave by wave: each wave holds the e-com and the POS events of the same moment (the
    e-com day has more waves than the POS day)."""
    empty: Wave = []
    pairs = itertools.zip_longest(ecom_day(), pos_day(), fillvalue=empty)
    return [ecom + pos for ecom, pos in pairs]


def simulator_seed() -> dict[str, Any]:
    """What the demo Engage knows before the day starts: the POS welcome promotion, and Karin, a
    returning member with a 100 kr voucher."""
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


def tenant_policies() -> dict[str, dict[str, Any]]:
    """Each demo tenant's business policy (the `[tenants.<name>.policy]` table)."""
    return {
        ECOM_TENANT: {"source": "ECOM", "default_store": "online-se", "group_currency": "SEK"},
        POS_TENANT: {
            "source": "POS",
            "default_store": "store-001",
            "contact_key": "member_number",
            "group_currency": "SEK",
            "include_freight": True,
        },
    }
