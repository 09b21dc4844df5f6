"""Lookup order, key normalisation, the serialization ref, and receipt/order contact references."""

from __future__ import annotations

from typing import Any

import pytest

from mappers.identity import (
    LookupKey,
    identity_ref,
    lookup_keys,
    order_contact,
    receipt_contact,
    receipt_contact_by_key,
)
from mappers.policy import ContactKey, TenantPolicy
from schemas.identity import CustomerIdentity

GUID = "2e40b702-2767-4abe-ae99-aa510108e22b"


def identity(**fields: Any) -> CustomerIdentity:
    return CustomerIdentity.model_validate(fields)


@pytest.mark.parametrize(
    ("contact_key", "fields", "expected"),
    [
        (
            "email",
            {"email": "Jane.Doe@Example.COM", "mobile_phone": "+46701234567"},
            [LookupKey("email", "jane.doe@example.com"), LookupKey("mobilePhone", "+46701234567")],
        ),
        (
            "mobile_phone",
            {"email": "a@b.se", "mobile_phone": "+46701234567"},
            [LookupKey("mobilePhone", "+46701234567"), LookupKey("email", "a@b.se")],
        ),
        (
            "member_number",
            {"email": "a@b.se", "member_number": "M-1", "external_id": "X-9"},
            [LookupKey("customKey", "M-1"), LookupKey("email", "a@b.se"), LookupKey("customKey", "X-9")],
        ),
        (
            "social_security_number",
            {"social_security_number": "19850412-1234", "external_id": "X-9"},
            [LookupKey("socialSecurityNumber", "19850412-1234"), LookupKey("customKey", "X-9")],
        ),
        # the contactId always leads: no lookup needed, and it survives a key change
        (
            "email",
            {"contact_id": GUID, "email": "new@b.se"},
            [LookupKey("contactId", GUID), LookupKey("email", "new@b.se")],
        ),
        # the tenant key is missing from the event: the others in the fallback order
        (
            "email",
            {"external_id": "X-9", "member_number": "M-1"},
            [LookupKey("customKey", "M-1"), LookupKey("customKey", "X-9")],
        ),
        # the same custom key given twice is looked up once
        ("member_number", {"member_number": "7", "external_id": "7"}, [LookupKey("customKey", "7")]),
    ],
)
def test_lookup_keys_in_preference_order(
    contact_key: ContactKey, fields: dict[str, Any], expected: list[LookupKey]
) -> None:
    assert lookup_keys(identity(**fields), TenantPolicy(contact_key=contact_key)) == expected


@pytest.mark.parametrize(
    ("contact_key", "fields", "expected"),
    [
        ("email", {"contact_id": GUID, "email": "A@B.se"}, LookupKey("email", "a@b.se")),
        ("email", {"contact_id": GUID, "mobile_phone": "+46701234567"}, LookupKey("contactId", GUID)),
        ("mobile_phone", {"email": "a@b.se"}, LookupKey("email", "a@b.se")),
        ("member_number", {"member_number": "M-1", "email": "a@b.se"}, LookupKey("customKey", "M-1")),
    ],
)
def test_identity_ref_prefers_the_tenant_key_then_the_contact_id(
    contact_key: ContactKey, fields: dict[str, Any], expected: LookupKey
) -> None:
    assert identity_ref(identity(**fields), TenantPolicy(contact_key=contact_key)) == expected


def test_receipt_and_order_contacts_name_the_contact_id() -> None:
    assert receipt_contact(GUID).to_wire() == {"matchKey": GUID, "matchKeyType": "contactId"}
    assert order_contact(GUID).to_wire() == {"matchKey": GUID, "matchKeyType": "contactId"}


def test_receipt_contact_by_key_uses_engage_match_key_types() -> None:
    # Given no contactId (the XML file path), the member number as the tenant key
    contact = receipt_contact_by_key(
        identity(member_number="M-1", email="a@b.se"), TenantPolicy(contact_key="member_number")
    )
    # Then the receipt matches on memberNumber with the tenant's contact type
    assert contact.to_wire() == {"matchKey": "M-1", "matchKeyType": "memberNumber", "contactType": "Member"}
    assert receipt_contact_by_key(identity(contact_id=GUID), TenantPolicy()) == receipt_contact(GUID)
