"""customer.created / customer.updated: identity, attributes, preferences, consents."""

from __future__ import annotations

import datetime as dt

from schemas import CustomerCreated, CustomerUpdated, parse_event
from schemas.customer import ENGAGE_ATTRIBUTE_NAMES
from tests.support.event_strategies import example
from tests.unit.schemas.rejection import reasons_for, with_data

MISSING_IDENTIFIER = (
    "at least one identifier is required: contact_id, email, mobile_phone, member_number, "
    "social_security_number, external_id"
)


def test_created_with_a_single_identifier_is_enough() -> None:
    # Given a POS sign-up with only a phone number (the guides' fast checkout path)
    envelope = example("customer.created")
    envelope["data"] = {"mobile_phone": "+46701234567"}
    # When parsed / Then it is valid and nothing else is assumed
    data = parse_event(envelope).data
    assert isinstance(data, CustomerCreated)
    assert data.mobile_phone == "+46701234567"
    assert data.contact_type is None and data.attributes is None


def test_created_example_carries_fields_preferences_consents_and_attributes() -> None:
    data = parse_event(example("customer.created")).data
    assert isinstance(data, CustomerCreated)
    assert (data.first_name, data.city, data.country_code, data.language) == ("Anna", "Malmö", "SE", "sv-SE")
    assert data.birth_day == dt.date(1988, 4, 12)
    assert data.preferences is not None and data.preferences.accepts_email is True
    assert data.consents is not None and data.consents[0].id == "newsletter"
    assert data.attributes == {"favoriteStore": "store-001", "childrenCount": 2, "isStaff": False}


def test_created_without_any_identifier_is_refused() -> None:
    assert reasons_for(with_data("customer.created", email=..., mobile_phone=...)) == [
        ("data", MISSING_IDENTIFIER)
    ]


def test_created_field_formats_are_each_reported() -> None:
    envelope = with_data(
        "customer.created",
        country_code="se",
        language="swedish",
        birth_day="1850-01-01",
        gender="",
        preferences={"accepts_email": "yes"},
        consents=[{"id": "newsletter", "value": True, "date": "2026-01-01"}],
    )
    assert reasons_for(envelope) == [
        (
            "data.country_code",
            "must be an ISO 3166-1 alpha-2 country code of two upper-case letters such as SE",
        ),
        ("data.language", "must be an ISO 639-1 language such as sv, or a culture such as sv-SE"),
        ("data.birth_day", "must not be before 1880-01-01"),
        ("data.gender", "String should have at least 1 character"),
        ("data.preferences.accepts_email", "Input should be a valid boolean"),
        ("data.consents.0.date", "must include a UTC offset, such as 2026-11-24T10:15:00+01:00"),
    ]


def test_identifier_formats_are_checked() -> None:
    envelope = with_data(
        "customer.created",
        email="anna(at)example.se",
        mobile_phone="070-123 45 67",
        social_security_number="1234",
        contact_id="1234",
    )
    assert reasons_for(envelope) == [
        ("data.email", "must be an e-mail address such as anna@example.se"),
        ("data.mobile_phone", "must be an E.164 mobile number: + and 7 to 15 digits, such as +46701234567"),
        ("data.social_security_number", "must be a personnummer (YYYYMMDD-NNNN) or Finnish identity code"),
        ("data.contact_id", "must be a GUID such as 2e40b702-2767-4abe-ae99-aa510108e22b"),
    ]


def test_attributes_pass_through_by_engage_name_including_null() -> None:
    envelope = with_data(
        "customer.created",
        first_name=...,
        attributes={"firstName": "Anna", "bonusLevel": 3, "height": 1.72, "vip": True, "nickname": None},
    )
    data = parse_event(envelope).data
    assert isinstance(data, CustomerCreated)
    assert data.attributes == {
        "firstName": "Anna",
        "bonusLevel": 3,
        "height": 1.72,
        "vip": True,
        "nickname": None,
    }


def test_an_attribute_given_both_ways_is_refused() -> None:
    assert reasons_for(with_data("customer.created", attributes={"firstName": "Anna"})) == [
        ("data", "attributes.firstName repeats first_name; give it once")
    ]


def test_structural_names_cannot_hide_in_attributes() -> None:
    assert reasons_for(with_data("customer.created", attributes={"contactType": "Member"})) == [
        ("data.attributes", "'contactType' is not an attribute; use the contact_type field")
    ]


def test_attribute_names_and_values_are_json_scalars_with_engage_names() -> None:
    envelope = with_data(
        "customer.created",
        attributes={"first name": "A", "n": 2**60, "f": 1e400, "tags": ["a"], "o": {"a": 1}},
    )
    assert reasons_for(envelope) == [
        (
            "data.attributes.first name.[key]",
            "must be an Engage attribute name: a letter, then letters, digits or '_'",
        ),
        ("data.attributes.n", "integer attributes must be within +-9007199254740991"),
        ("data.attributes.f", "must be a finite number"),
        ("data.attributes.tags", "must be a JSON scalar: string, number, boolean or null"),
        ("data.attributes.o", "must be a JSON scalar: string, number, boolean or null"),
    ]


def test_engage_names_cover_every_first_class_attribute_field() -> None:
    attribute_fields = set(CustomerCreated.model_fields) - {
        "contact_id",
        "contact_type",
        "preferences",
        "consents",
        "attributes",
        "create_as_unapproved",
    }
    assert set(ENGAGE_ATTRIBUTE_NAMES) == attribute_fields


def test_updated_carries_only_what_changed() -> None:
    data = parse_event(example("customer.updated")).data
    assert isinstance(data, CustomerUpdated)
    given = {name for name in CustomerUpdated.model_fields if getattr(data, name) is not None}
    assert given == {"contact_id", "street", "zip_code", "city", "preferences", "attributes"}


def test_updated_may_change_a_key_attribute_when_identified_by_contact_id() -> None:
    envelope = example("customer.updated")
    envelope["data"] = {"contact_id": "2e40b702-2767-4abe-ae99-aa510108e22b", "email": "anna@example.com"}
    data = parse_event(envelope).data
    assert isinstance(data, CustomerUpdated) and data.email == "anna@example.com"


def test_updated_without_a_change_is_refused() -> None:
    envelope = example("customer.updated")
    envelope["data"] = {"contact_id": "2e40b702-2767-4abe-ae99-aa510108e22b"}
    assert reasons_for(envelope) == [
        ("data", "customer.updated carries no change: give at least one field to update")
    ]


def test_updated_without_identity_is_refused() -> None:
    assert reasons_for(with_data("customer.updated", contact_id=...)) == [("data", MISSING_IDENTIFIER)]


def test_create_as_unapproved_belongs_to_created_only() -> None:
    assert reasons_for(with_data("customer.updated", create_as_unapproved=True)) == [
        ("data.create_as_unapproved", "unknown field (extra fields are not allowed)")
    ]


def test_empty_text_is_refused_so_nothing_blanks_an_engage_field() -> None:
    assert reasons_for(with_data("customer.updated", city="")) == [
        ("data.city", "String should have at least 1 character")
    ]
