"""Order events -> Orders v3 writes and actions."""

from __future__ import annotations

from typing import Any

import pytest

from mappers.identity import order_contact
from mappers.orders import order_plan
from mappers.policy import TenantPolicy
from schemas.orders import OrderCancelledEvent, OrderPlacedEvent, OrderShippedEvent
from tests.unit.mappers.events import GUID, example

MODELS: dict[str, Any] = {
    "order.placed": OrderPlacedEvent,
    "order.shipped": OrderShippedEvent,
    "order.cancelled": OrderCancelledEvent,
}


@pytest.mark.parametrize(
    ("event_type", "strip", "write", "status", "external_status", "action"),
    [
        ("order.placed", False, "create", "InProgress", "Confirmed", "ConfirmOrder"),
        ("order.placed", True, "create", "InProgress", None, "ConfirmOrder"),
        ("order.shipped", False, "replace", "InProgress", "Shipped", "ConfirmShipment"),
        ("order.shipped", True, "replace", "InProgress", "Shipped", "ConfirmShipment"),
        ("order.cancelled", False, "replace", "Cancelled", "CancelledByCustomer", "CancelOrder"),
        ("order.cancelled", True, "replace", "Cancelled", None, "CancelOrder"),
    ],
)
def test_each_order_event_has_its_write_status_and_action(
    event_type: str, strip: bool, write: str, status: str, external_status: str | None, action: str
) -> None:
    # Given the example, with or without the producer's own status and action
    raw = example(event_type)
    if strip:
        for name in ("status", "external_status", "action"):
            raw["data"].pop(name, None)
    plan = order_plan(MODELS[event_type].model_validate(raw), TenantPolicy(), order_contact(GUID))
    # Then the write, status and action are the event's, else the defaults
    assert (plan.write, plan.request.status, plan.request.external_status, plan.action) == (
        write,
        status,
        external_status,
        action,
    )
    assert plan.order_id == raw["data"]["order_id"]
    # and the action is only in the body when asked for
    assert "action" not in plan.request.to_wire()
    embedded = plan.embedded().to_wire()["action"]
    assert embedded["action"] == action and embedded["language"] == plan.language
    # and a cancel reason travels with the cancel action, so it reaches Engage
    if event_type == "order.cancelled" and "reason" in raw["data"]:
        assert embedded["data"] == {"reason": raw["data"]["reason"]}


def test_placed_order_body() -> None:
    plan = order_plan(
        OrderPlacedEvent.model_validate(example("order.placed")),
        TenantPolicy(store_map={"online-se": "Ecom-SE"}),
        order_contact(GUID),
    )
    wire = plan.request.to_wire()
    assert wire["contact"] == {"matchKey": GUID, "matchKeyType": "contactId"}
    assert wire["externalStoreId"] == "Ecom-SE"
    assert wire["currencyCode"] == "SEK"
    assert wire["createdAt"] == "2026-11-25T20:31:17+01:00"
    assert wire["lastChangedAt"] == "2026-11-25T20:31:20+01:00"
    assert wire["lineItems"]["subTotal"] == 1497
    assert wire["lineItems"]["items"][1] == {
        "sku": "7391234500118",
        "quantity": 2,
        "description": "Ullstrumpor 2-pack",
        "grossPaidPrice": 298,
        "grossPaidPricePerUnit": 149,
    }
    assert wire["fees"] == {"freight": 49}
    assert wire["discounts"] == {"total": 100}
    assert "delivery" not in wire
    assert plan.action_request("tag==").to_wire() == {
        "action": "ConfirmOrder",
        "versionTag": "tag==",
        "language": "sv-SE",
    }


def test_shipped_order_carries_the_delivery() -> None:
    plan = order_plan(
        OrderShippedEvent.model_validate(example("order.shipped")), TenantPolicy(), order_contact(GUID)
    )
    assert plan.delivery is not None
    assert plan.request.to_wire()["delivery"] == {
        "method": "PostNord Ombud",
        "trackingNumber": "00370712345678901234",
        "trackingUri": "https://tracking.postnord.com/se/?id=00370712345678901234",
        "deliveryDate": "2026-11-28T12:00:00+01:00",
    }


def test_cancelled_order_passes_the_reason_to_the_action() -> None:
    plan = order_plan(
        OrderCancelledEvent.model_validate(example("order.cancelled")), TenantPolicy(), order_contact(GUID)
    )
    assert plan.action_request("t").to_wire()["data"] == {"reason": "Kunden ångrade köpet"}
    assert "fees" not in plan.request.to_wire()  # freight 0.00 is no fee
