"""Deliveries and returns of an order -> the order's move in Engage (mappers.order_journey)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from mappers.identity import order_contact
from mappers.order_journey import order_move
from mappers.policy import TenantPolicy
from schemas.sales import OrderDeliveredEvent, ReturnCreatedEvent
from tests.unit.mappers.events import GUID, example

CONTACT = order_contact(GUID)
WHOLE_ORDER: dict[str, Any] = {
    "created_at": "2026-11-25T20:31:17+01:00",
    "lines": [
        {"sku": "7391234567890", "name": "Vinterjacka Kiruna", "quantity": 1, "unit_price": "1499.00"},
        {"sku": "7391234500118", "name": "Ullstrumpor 2-pack", "quantity": 1, "unit_price": "149.00"},
    ],
    "totals": {"sub_total": "1648.00", "discount": "400.00", "freight": "49.00", "total_gross": "1297.00"},
    "delivery": {"method": "PostNord", "tracking_number": "00370712345678901234"},
}


def delivered(**data: Any) -> OrderDeliveredEvent:
    raw = example("order.delivered")
    raw["data"].update(data)
    return OrderDeliveredEvent.model_validate(raw)


def returned(**data: Any) -> ReturnCreatedEvent:
    raw = example("return.created")
    raw["data"].update(data)
    return ReturnCreatedEvent.model_validate(raw)


def test_an_order_delivered_in_one_go_changes_its_status_to_delivered() -> None:
    move = order_move(delivered(), TenantPolicy(), CONTACT)
    # Then a status change (the stored order keeps its lines, tracking and images), no action
    assert move is not None and move.write == "change-status" and move.replacement is None
    assert move.order_id == "SE-100234"
    assert move.change.to_wire() == {"status": "Completed", "externalStatus": "Delivered"}


def test_an_order_delivered_in_one_go_can_be_created_from_its_receipt() -> None:
    # Given a delivery of a whole order (no delivery id): its receipt's lines are the order
    move = order_move(delivered(), TenantPolicy(), CONTACT)
    assert move is not None and move.creation is not None
    creation = move.creation
    body = creation.embedded().to_wire()
    # Then the order Engage has not got is created in its delivered state, without an automation
    assert creation.write == "create" and creation.action is None and "action" not in body
    assert (body["status"], body["externalStatus"]) == ("Completed", "Delivered")
    assert [(i["sku"], i["description"], i["quantity"]) for i in body["lineItems"]["items"]] == [
        ("7391234567890", "Vinterjacka Kiruna", 1),
        ("7391234500118", "Ullstrumpor 2-pack", 2),
    ]
    # with the lines' full prices, the discounts (line + order) and the freight beside them
    assert Decimal(str(body["lineItems"]["subTotal"])) == Decimal("1797.00")
    assert body["discounts"] == {"total": 400} and body["fees"] == {"freight": 49}
    assert body["contact"] == {"matchKey": GUID, "matchKeyType": "contactId"}
    assert (body["externalStoreId"], body["currencyCode"], body["channel"]) == ("online-se", "SEK", "ECOM")
    assert body["lastChangedAt"] == "2026-11-28T14:12:03+01:00"


def test_one_delivery_of_several_is_partly_delivered_and_creates_nothing() -> None:
    move = order_move(delivered(delivery_id="1"), TenantPolicy(), CONTACT)
    assert move is not None and move.write == "change-status"
    assert move.change.to_wire() == {"status": "InProgress", "externalStatus": "PartiallyDelivered"}
    # one delivery's lines are not the whole order: nothing to create it from
    assert move.creation is None


def test_the_last_delivery_names_the_orders_state() -> None:
    last = delivered(delivery_id="2", order={"status": "Completed", "external_status": "Delivered"})
    move = order_move(last, TenantPolicy(), CONTACT)
    assert move is not None and move.change.to_wire() == {
        "status": "Completed",
        "externalStatus": "Delivered",
    }


def test_a_delivery_with_the_whole_order_replaces_it() -> None:
    event = delivered(
        delivery_id="2", order={**WHOLE_ORDER, "action": "ConfirmDelivery", "language": "sv-SE"}
    )
    move = order_move(event, TenantPolicy(), CONTACT)
    assert move is not None and move.write == "replace" and move.replacement is not None
    body = move.replacement.embedded().to_wire()
    # Then the PUT carries the order as the shop now sees it, its delivery, and the shop's own automation
    assert [i["sku"] for i in body["lineItems"]["items"]] == ["7391234567890", "7391234500118"]
    assert body["lineItems"]["subTotal"] == 1648
    assert body["delivery"] == {"method": "PostNord", "trackingNumber": "00370712345678901234"}
    assert body["createdAt"] == "2026-11-25T20:31:17+01:00"
    assert body["action"] == {"action": "ConfirmDelivery", "language": "sv-SE"}
    # a delivery in parts defaults to partly delivered; the same order is what a missing one is created as
    assert (body["status"], body["externalStatus"]) == ("InProgress", "PartiallyDelivered")
    assert move.creation is not None and move.creation.embedded().to_wire() == body


def test_a_return_of_an_order_changes_its_status_to_returned() -> None:
    move = order_move(returned(), TenantPolicy(), CONTACT)
    assert move is not None and move.order_id == "SE-100234" and move.write == "change-status"
    assert move.change.to_wire() == {"status": "Completed", "externalStatus": "Returned"}
    assert move.creation is None  # the returned lines are not the order


def test_a_return_with_the_whole_order_replaces_it_as_scayles_add_on_does() -> None:
    after = {**WHOLE_ORDER, "lines": WHOLE_ORDER["lines"][:1], "totals": {"total_gross": "1499.00"}}
    move = order_move(returned(order=after), TenantPolicy(), CONTACT)
    assert move is not None and move.write == "replace" and move.replacement is not None
    body = move.replacement.embedded().to_wire()
    assert [i["sku"] for i in body["lineItems"]["items"]] == ["7391234567890"]
    assert (body["status"], body["externalStatus"]) == ("Completed", "Returned")
    assert "action" not in body


def test_a_return_naming_no_order_and_a_tenant_without_orders_move_nothing() -> None:
    assert order_move(returned(original_order_id=None), TenantPolicy(), CONTACT) is None
    off = TenantPolicy(move_orders=False)
    assert order_move(delivered(), off, CONTACT) is None
    assert order_move(returned(), off, CONTACT) is None


@pytest.mark.parametrize("store", [None, "web-no"])
def test_the_order_is_in_the_tenants_store(store: str | None) -> None:
    policy = TenantPolicy(default_store="online", store_map={"web-no": "Ecom-NO"})
    event = delivered(store=store)
    move = order_move(event.model_copy(update={"store": None}), policy, CONTACT)
    assert move is not None and move.creation is not None
    assert move.creation.request.external_store_id == ("Ecom-NO" if store else "online")
