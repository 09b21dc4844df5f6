"""Customer events -> Engage attributes, create plan and PATCH body; implicit creates for buyers."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from mappers.contacts import (
    buyer_store,
    contact_attributes,
    flatten_attributes,
    plan_create,
    plan_create_from_identity,
    plan_implicit_create,
    plan_update,
)
from mappers.policy import TenantPolicy
from schemas.customer import CustomerCreatedEvent, CustomerUpdatedEvent
from schemas.loyalty import PromotionAssignedEvent, PromotionRedeemedEvent, VoucherRedeemedEvent
from schemas.orders import OrderCancelledEvent, OrderPlacedEvent, OrderShippedEvent
from schemas.sales import OrderDeliveredEvent, ReceiptCompletedEvent, ReturnCreatedEvent
from tests.unit.mappers.events import example

BUYER_EVENTS: dict[str, type[BaseModel]] = {
    "order.delivered": OrderDeliveredEvent,
    "receipt.completed": ReceiptCompletedEvent,
    "return.created": ReturnCreatedEvent,
    "order.placed": OrderPlacedEvent,
    "order.shipped": OrderShippedEvent,
    "order.cancelled": OrderCancelledEvent,
    "promotion.assigned": PromotionAssignedEvent,
    "promotion.redeemed": PromotionRedeemedEvent,
    "voucher.redeemed": VoucherRedeemedEvent,
}

GUID = "2e40b702-2767-4abe-ae99-aa510108e22b"


def envelope(event_type: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": "evt-1",
        "type": event_type,
        "version": 1,
        "tenant": "acme-se",
        "occurred_at": "2026-11-24T10:15:00+01:00",
        "data": data,
        **extra,
    }


def created(data: dict[str, Any], **extra: Any) -> CustomerCreatedEvent:
    return CustomerCreatedEvent.model_validate(envelope("customer.created", data, **extra))


def updated(data: dict[str, Any], **extra: Any) -> CustomerUpdatedEvent:
    return CustomerUpdatedEvent.model_validate(envelope("customer.updated", data, **extra))


FULL = {
    "email": "Jane.Doe@Example.com",
    "mobile_phone": "+46701234567",
    "member_number": "M-1",
    "first_name": "Jane",
    "last_name": "Doe",
    "street": "Sockenvägen 17",
    "zip_code": "218 32",
    "city": "Malmö",
    "country_code": "SE",
    "birth_day": "1985-04-12",
    "gender": "F",
    "preferences": {"accepts_email": True, "accepts_sms": False},
    "consents": [{"id": "newsletter", "value": True, "date": "2024-05-01T10:00:00+02:00", "source": "ECOM"}],
    "attributes": {"favoriteStore": "store03", "shoeSize": 39, "vip": False},
}


def test_contact_attributes_use_engage_names_and_json_values() -> None:
    attributes = contact_attributes(created(FULL), TenantPolicy())
    assert attributes == {
        "email": "jane.doe@example.com",
        "mobilePhone": "+46701234567",
        "memberNumber": "M-1",
        "firstName": "Jane",
        "lastName": "Doe",
        "street": "Sockenvägen 17",
        "zipCode": "218 32",
        "city": "Malmö",
        "countryCode": "SE",
        "birthDay": "1985-04-12",
        "gender": "F",
        "favoriteStore": "store03",
        "shoeSize": 39,
        "vip": False,
        "preferences": {"acceptsEmail": True, "acceptsSms": False},
        "consents": [
            {"id": "newsletter", "value": True, "date": "2024-05-01T10:00:00+02:00", "source": "ECOM"}
        ],
    }


@pytest.mark.parametrize(
    "attributes",
    [{"nickname": ""}, {"nickname": "   "}, {"nickname": None}],
)
def test_empty_values_never_reach_the_attribute_dict(attributes: dict[str, Any]) -> None:
    # Given an update whose only pass-through attribute is empty, next to a real change
    event = updated({"contact_id": GUID, "city": "Lund", "attributes": attributes, "preferences": {}})
    # Then neither the attributes nor the PATCH body carry it (nor an empty preferences object)
    assert contact_attributes(event, TenantPolicy()) == {"city": "Lund"}
    assert plan_update(contact_attributes(event, TenantPolicy())) == {"city": "Lund"}


def test_plan_create_takes_source_store_language_and_type_from_event_then_tenant() -> None:
    # Given a tenant with a store map, a language and Contact as its contact type
    policy = TenantPolicy(
        source="ECOM", store_map={"online-se": "ECOM-SE"}, language="sv", contact_type="Contact"
    )
    # When a POS sign-up without language is planned
    plan = plan_create(
        created({"email": "a@b.se", "create_as_unapproved": True}, source="POS", store="online-se"), policy
    )
    # Then the envelope's source and mapped store are used, the tenant's language and type fill in
    assert plan.source == "POS"
    assert plan.store_external_id == "ECOM-SE"
    assert plan.create_as_unapproved is True
    assert plan.contact_type == "Contact"
    assert plan.body == {"email": "a@b.se", "language": "sv", "contactType": "Contact"}


def test_plan_create_leaves_the_default_type_out_and_keeps_the_events_language() -> None:
    plan = plan_create(
        created({"email": "a@b.se", "language": "en", "country_code": "GB"}), TenantPolicy(language="sv")
    )
    assert plan.body == {"email": "a@b.se", "language": "en", "countryCode": "GB"}
    assert (plan.source, plan.store_external_id, plan.create_as_unapproved) == ("ECOM", "online", False)


def test_flat_keys_round_trip_into_a_patch_body() -> None:
    # Given the attributes flattened for the field clock
    flat = flatten_attributes(contact_attributes(created(FULL), TenantPolicy()))
    assert flat["preferences.acceptsEmail"] is True
    assert flat["consents.newsletter"] == {
        "value": True,
        "date": "2024-05-01T10:00:00+02:00",
        "source": "ECOM",
    }
    # When only some flat keys changed
    changed = {k: flat[k] for k in ("city", "preferences.acceptsSms", "consents.newsletter")}
    # Then the PATCH body nests them again as Engage expects
    assert plan_update(changed) == {
        "city": "Malmö",
        "preferences": {"acceptsSms": False},
        "consents": [
            {"id": "newsletter", "value": True, "date": "2024-05-01T10:00:00+02:00", "source": "ECOM"}
        ],
    }


def test_plan_update_never_sends_contact_type_or_empty_values() -> None:
    body = plan_update(
        {"contactType": "Member", "firstName": " ", "lastName": None, "city": "Lund", "tags": []}
    )
    assert body == {"city": "Lund"}


# ----------------------------------------------------------------------------- implicit creates

POLICY_WITH_COUNTRIES = TenantPolicy(
    store_map={"store-oslo": "NO-01"},
    store_countries={"NO-01": "NO", "online-se": "SE"},
    default_country="FI",
)


def pos_receipt(customer: dict[str, Any], store: str | None = None, **envelope: Any) -> ReceiptCompletedEvent:
    raw = example("receipt.completed")
    raw["data"]["customer"] = customer
    if store is not None:
        raw["data"]["store"] = store
    raw.update(envelope)
    return ReceiptCompletedEvent.model_validate(raw)


@pytest.mark.parametrize(
    ("customer_country", "store", "expected"),
    [
        ("DK", "store-oslo", "DK"),  # the customer's own country (address) first
        (None, "store-oslo", "NO"),  # else the store's (by its Engage storeExternalId)
        (None, "store-bergen", "FI"),  # else the tenant's default
    ],
)
def test_an_implicit_create_carries_a_country_from_the_event_else_the_store_else_the_tenant(
    customer_country: str | None, store: str, expected: str
) -> None:
    customer = {"member_number": "100200300", "country_code": customer_country}
    plan = plan_implicit_create(
        pos_receipt({k: v for k, v in customer.items() if v}, store), POLICY_WITH_COUNTRIES
    )
    assert plan.body["countryCode"] == expected
    assert plan.body["memberNumber"] == "100200300"


def test_an_implicit_create_without_any_country_sends_none() -> None:
    # Given the tenant defaults (no store countries, no default country): Engage's own default applies
    plan = plan_implicit_create(pos_receipt({"member_number": "1"}), TenantPolicy())
    assert plan.body == {"memberNumber": "1"}
    assert (plan.contact_type, plan.source, plan.store_external_id) == ("Member", "POS", "store-001")


def test_an_implicit_create_carries_the_tenants_contact_type_and_language() -> None:
    policy = TenantPolicy(contact_type="Contact", language="sv-SE", default_country="SE")
    plan = plan_implicit_create(pos_receipt({"email": "Karin@Example.se", "member_number": "2"}), policy)
    assert plan.body == {
        "email": "karin@example.se",
        "memberNumber": "2",
        "countryCode": "SE",
        "language": "sv-SE",
        "contactType": "Contact",
    }
    assert plan.contact_type == "Contact" and plan.create_as_unapproved is False


def test_the_buyer_is_met_at_the_sales_own_store_else_the_envelopes() -> None:
    # Given a receipt whose own store differs from the envelope's
    receipt = pos_receipt({"member_number": "1"}, "store-oslo")
    assert buyer_store(receipt) == "store-oslo"
    assert plan_implicit_create(receipt, POLICY_WITH_COUNTRIES).store_external_id == "NO-01"
    # and an offer, which names no store of its own, is met at the envelope's
    offer = PromotionAssignedEvent.model_validate(example("promotion.assigned"))
    assert buyer_store(offer) == "store-001"
    assert plan_implicit_create(offer, TenantPolicy()).body == {"memberNumber": "100200300"}


@pytest.mark.parametrize("event_type", sorted(BUYER_EVENTS))
def test_every_buyer_event_example_plans_an_implicit_create(event_type: str) -> None:
    event = BUYER_EVENTS[event_type].model_validate(example(event_type))
    plan = plan_implicit_create(event, POLICY_WITH_COUNTRIES)
    assert plan.body and plan.source and plan.store_external_id
    assert plan == plan_create_from_identity(
        event.data.customer, POLICY_WITH_COUNTRIES, event.source, buyer_store(event)
    )


def test_a_sign_up_without_a_country_takes_its_stores() -> None:
    plan = plan_create(created({"email": "a@b.se"}, store="store-oslo"), POLICY_WITH_COUNTRIES)
    assert plan.body == {"email": "a@b.se", "countryCode": "NO"}
    # and the customer's own country wins
    plan = plan_create(
        created({"email": "a@b.se", "country_code": "SE"}, store="store-oslo"), POLICY_WITH_COUNTRIES
    )
    assert plan.body["countryCode"] == "SE"
