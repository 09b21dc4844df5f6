"""product.viewed and cart.updated: visitor identity (GUID, vtid or other key), items."""

from __future__ import annotations

import pytest

from schemas import CartUpdated, ProductViewed, parse_event
from tests.unit.schemas.rejection import reasons_for, with_data


@pytest.mark.parametrize(
    "customer",
    [
        {"contact_id": "LCCdskbnMUqzd0BwEiA5Wg"},
        {"contact_id": "2e40b702-2767-4abe-ae99-aa510108e22b"},
        {"email": "anna.lindqvist@example.se"},
    ],
    ids=["vtid", "guid", "email"],
)
def test_a_visitor_is_named_by_vtid_guid_or_another_key(customer: dict[str, str]) -> None:
    data = parse_event(with_data("product.viewed", customer=customer)).data
    assert isinstance(data, ProductViewed) and data.item_id == "7391234567890"


def test_a_short_guid_is_not_enough_where_engage_wants_a_contact_guid() -> None:
    envelope = with_data("promotion.assigned", customer={"contact_id": "LCCdskbnMUqzd0BwEiA5Wg"})
    assert reasons_for(envelope) == [
        ("data.customer.contact_id", "must be a GUID such as 2e40b702-2767-4abe-ae99-aa510108e22b")
    ]


def test_visitor_identity_is_checked() -> None:
    assert reasons_for(with_data("product.viewed", customer={"contact_id": "abc"}, new_session="no")) == [
        ("data.customer.contact_id", "must be a contact GUID or a 22-character short GUID (vtid)"),
        ("data.new_session", "Input should be a valid boolean"),
    ]


def test_an_empty_cart_is_an_emptied_cart() -> None:
    data = parse_event(with_data("cart.updated", items=[])).data
    assert isinstance(data, CartUpdated) and data.items == ()


def test_cart_items_need_a_sku_and_a_positive_quantity() -> None:
    assert reasons_for(
        with_data("cart.updated", items=[{"sku": "", "quantity": -1}], cart_reference=...)
    ) == [
        ("data.cart_reference", "required field missing"),
        ("data.items.0.sku", "String should have at least 1 character"),
        ("data.items.0.quantity", "must be greater than 0"),
    ]
