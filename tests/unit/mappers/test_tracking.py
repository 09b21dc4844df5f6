"""Product views and cart states for the tracking API."""

from __future__ import annotations

import pytest

from mappers.tracking import cart_update, product_view
from schemas.tracking import CartUpdatedEvent, ProductViewedEvent
from tests.unit.mappers.events import GUID, build, example


def test_product_view_tracks_the_vtid_when_no_contact_is_resolved() -> None:
    wire = product_view(ProductViewedEvent.model_validate(example("product.viewed"))).to_wire()
    assert wire == {
        "itemId": "7391234567890",
        "contactId": "LCCdskbnMUqzd0BwEiA5Wg",
        "time": "2026-11-25T20:12:48+01:00",
        "category": "Dam > Jackor > Vinterjackor",
        "sessionId": "s-4f2a9c71",
        "newSession": False,
        "language": "sv-SE",
        "url": "https://shop.example.se/p/vinterjacka-kiruna",
    }


def test_cart_update_is_the_full_cart_for_the_resolved_contact() -> None:
    wire = cart_update(CartUpdatedEvent.model_validate(example("cart.updated")), GUID).to_wire()
    assert wire["contactId"] == GUID
    assert wire["cartReference"] == "cart-c7d1a2b3"
    assert wire["items"] == [{"sku": "7391234567890", "quantity": 1}, {"sku": "7391234500118", "quantity": 2}]
    assert wire["time"] == "2026-11-25T20:25:02+01:00"


def test_an_emptied_cart_is_sent_with_no_items() -> None:
    event = build(
        CartUpdatedEvent,
        "cart.updated",
        {"customer": {"contact_id": GUID}, "cart_reference": "c1", "items": []},
    )
    assert cart_update(event).to_wire()["items"] == []


def test_a_visitor_without_a_contact_id_must_be_resolved_first() -> None:
    event = build(ProductViewedEvent, "product.viewed", {"customer": {"email": "a@b.se"}, "item_id": "sku-1"})
    with pytest.raises(ValueError, match="resolve the customer"):
        product_view(event)
    assert product_view(event, GUID).contact_id == GUID
