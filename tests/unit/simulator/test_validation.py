"""Simulator validators and the lookup rules, on the in-memory state (no HTTP)."""

from __future__ import annotations

import pytest

from simulator import contacts
from simulator.errors import ApiError
from simulator.state import SimState
from simulator.validation import is_email, is_phone, is_ssn, line_total, receipt_errors
from tests.support import voyado_examples as voyado


@pytest.mark.parametrize(
    ("value", "email", "phone", "ssn"),
    [
        ("a@b.se", True, False, False),
        ("+46701234567", False, True, False),
        ("46701234567", False, False, False),
        ("19900101-1234", False, False, True),
        ("199001011234", False, False, True),
        ("19901301-1234", False, False, False),
        ("a@b", False, False, False),
    ],
)
def test_format_validators(value: str, email: bool, phone: bool, ssn: bool) -> None:
    assert (is_email(value), is_phone(value), is_ssn(value)) == (email, phone, ssn)


def test_line_total_takes_its_sign_from_quantity() -> None:
    assert line_total({"quantity": -2, "grossPaidPrice": 200.0}) == -200.0
    assert line_total({"quantity": 2, "grossPaidPrice": 200.0}) == 200.0


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("a@b.se", "email"),
        ("199001011234", "socialSecurityNumber"),
        ("+46701234567", "mobilePhone"),
        ("M-1", "customKey"),
    ],
)
def test_any_picks_the_first_kind_the_value_is_valid_for(value: str, kind: str) -> None:
    assert contacts.any_kind(value) == kind


def test_lookup_with_several_parameters_needs_all_to_match() -> None:
    # Given two contacts sharing a phone
    state = SimState()
    a = contacts.create_contact(state, {"email": "a@b.se", "mobilePhone": "+46701234567"})
    contacts.create_contact(state, {"email": "b@b.se", "mobilePhone": "+46701234567"})
    # When email and phone are both given, then only the one with both matches
    assert contacts.lookup(state, {"email": "A@B.SE", "mobilePhone": "+46701234567"}) == a.id
    with pytest.raises(ApiError) as caught:
        contacts.lookup(state, {"mobilePhone": "+46701234567"})
    assert caught.value.error_code == "MultipleMatches"


def test_custom_key_prefers_member_number_over_external_id() -> None:
    state = SimState()
    by_member = contacts.create_contact(state, {"email": "m@b.se", "memberNumber": "K1"})
    contacts.create_contact(state, {"email": "e@b.se", "externalId": "K1"})
    assert contacts.lookup(state, {"customKey": "K1"}) == by_member.id


def test_patch_keeps_the_identifier_index_right() -> None:
    # Given a contact found by its email
    state = SimState()
    contact = contacts.create_contact(state, {"email": "old@b.se"})
    # When the email is patched, and the phone emptied
    contacts.patch_contact(state, contact, {"email": "new@b.se", "mobilePhone": ""})
    # Then only the new email finds it
    assert contacts.lookup(state, {"email": "new@b.se"}) == contact.id
    with pytest.raises(ApiError) as caught:
        contacts.lookup(state, {"email": "old@b.se"})
    assert caught.value.error_code == "ContactNotFound"


def test_voyados_return_example_passes_unless_totals_must_add_up() -> None:
    example = voyado.return_receipt()
    assert receipt_errors(example) == []
    assert [e["field"] for e in receipt_errors(example, totals_must_add_up=True)] == ["totalGrossPrice"]


def test_a_return_line_keeps_a_positive_price() -> None:
    example = voyado.return_receipt()
    example["items"][0]["grossPaidPrice"] = -200.0
    assert [e["field"] for e in receipt_errors(example)] == ["items[0].grossPaidPrice"]
