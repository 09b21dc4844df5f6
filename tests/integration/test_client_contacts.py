"""EngageClient against the real simulator: contacts, lookup, bulk, overview."""

from __future__ import annotations

import pytest

from engage.client import EngageClient
from engage.errors import ContactAlreadyExists, ContactKeyTaken, RetryableError, ValidationFailed
from tests.support.engage_clients import client_for
from tests.support.processes import wait_until
from tests.support.simulator import RunningSimulator

pytestmark = pytest.mark.integration

EMAIL = "jane.doe@example.com"


@pytest.fixture
def client(simulator: RunningSimulator) -> EngageClient:
    return client_for(simulator)


def test_lookup_create_lookup(simulator: RunningSimulator, client: EngageClient) -> None:
    # Given no contact
    assert client.lookup_contact(email=EMAIL) is None
    # When one is created with source and store
    contact = client.create_contact(
        {"email": EMAIL, "firstName": "Jane"}, source="ECOM", store_external_id="online-se"
    )
    # Then the lookup returns its GUID and Engage recorded source and store from the query
    assert client.lookup_contact(email=EMAIL) == contact.id
    assert contact.meta is not None
    assert (contact.meta.source, contact.meta.store_external_id) == ("ECOM", "online-se")
    assert contact.attributes["firstName"] == "Jane"
    # And every call carried our User-Agent
    assert any(ua.startswith("engage-relay/") for ua in simulator.admin.state()["user_agents"])


def test_a_duplicate_create_says_look_up_again(client: EngageClient) -> None:
    first = client.create_contact({"email": EMAIL}, source="ECOM", store_external_id="s1")
    with pytest.raises(ContactAlreadyExists) as caught:
        client.create_contact({"email": EMAIL}, source="ECOM", store_external_id="s1")
    assert isinstance(caught.value, ContactKeyTaken | RetryableError)
    assert caught.value.error_code == "ApprovedContactWithKeyExists"
    assert client.lookup_contact(email=EMAIL) == first.id


def test_patch_overwrites_only_what_is_sent(client: EngageClient) -> None:
    contact = client.create_contact(
        {"email": EMAIL, "firstName": "Jane"}, source="ECOM", store_external_id="s1"
    )
    updated = client.update_contact(contact.id, {"lastName": "Doe"})
    assert updated.attributes["firstName"] == "Jane"
    assert updated.attributes["lastName"] == "Doe"
    assert client.get_contact(contact.id).attributes["lastName"] == "Doe"


def test_update_contact_type(client: EngageClient) -> None:
    contact = client.create_contact(
        {"email": EMAIL}, source="POS", store_external_id="s1", contact_type="Contact"
    )
    assert contact.contact_type == "Contact"
    assert client.update_contact_type(contact.id, "Member").contact_type == "Member"


def test_invalid_attributes_are_a_validation_error(client: EngageClient) -> None:
    with pytest.raises(ValidationFailed) as caught:
        client.create_contact({"email": "not-an-email"}, source="ECOM", store_external_id="s1")
    assert "not-an-email" not in str(caught.value)


def test_bulk_create_and_status(client: EngageClient) -> None:
    batch_id = client.bulk_create_contacts([{"email": "b1@example.com"}, {"firstName": "no key"}])
    wait_until(lambda: client.bulk_status(batch_id).done, timeout_s=5, what="bulk batch")
    status = client.bulk_status(batch_id)
    assert (status.total, status.succeeded, status.failed) == (2, 1, 1)
    assert client.lookup_contact(email="b1@example.com") == status.created_contact_ids["0"]
    update_id = client.bulk_update_contacts([{"email": "b1@example.com", "city": "Lund"}])
    wait_until(lambda: client.bulk_status(update_id).done, timeout_s=5, what="bulk update")
    assert client.get_contact(status.created_contact_ids["0"]).attributes["city"] == "Lund"


def test_contact_overview(client: EngageClient) -> None:
    contact = client.create_contact({"email": EMAIL}, source="ECOM", store_external_id="s1")
    assert client.contact_overview(contact_id=contact.id).id == contact.id
    assert client.contact_overview(contact_type="Member", email=EMAIL).id == contact.id
