"""Customer events -> Engage attributes, create plan, PATCH body and contact-type upgrade."""

from __future__ import annotations

from typing import Any

import pytest

from mappers.contacts import (
    contact_attributes,
    explicit_clears,
    flatten_attributes,
    plan_create,
    plan_update,
    wants_type_upgrade,
)
from mappers.policy import TenantPolicy
from schemas.customer import CustomerCreatedEvent, CustomerUpdatedEvent

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


def test_explicit_nulls_are_named_for_the_caller() -> None:
    event = updated({"contact_id": GUID, "attributes": {"nickname": None, "shoeSize": 40}})
    assert explicit_clears(event) == ["nickname"]


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


@pytest.mark.parametrize(
    ("wanted", "current", "expected"),
    [
        ("Member", "Contact", "Member"),
        ("Member", "member", None),
        ("Member", None, "Member"),
        (None, "Contact", None),
    ],
)
def test_wants_type_upgrade(wanted: str | None, current: str | None, expected: str | None) -> None:
    data: dict[str, Any] = {"contact_id": GUID, "city": "Lund"}
    if wanted:
        data["contact_type"] = wanted
    assert wants_type_upgrade(updated(data), current) == expected
