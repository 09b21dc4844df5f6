"""The contact-id store contract, one body for the in-memory twin and for Redis."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import redis

from engage.contact_store import ContactIdStore, ContactRef, RedisContactIdStore

GUID = "2e40b702-2767-4abe-ae99-aa510108e22b"
OTHER_GUID = "9a1d2c3b-0000-4000-8000-000000000001"


def test_an_unknown_identifier_is_none(contact_store: ContactIdStore) -> None:
    assert contact_store.get("acme-se", "email", "nobody@example.com") is None


def test_put_then_get_returns_the_contact_id(contact_store: ContactIdStore) -> None:
    # Given a stored contactId
    contact_store.put("acme-se", "email", "jane@example.com", GUID)
    # When it is read back with another spelling of the same email
    ref = contact_store.get("acme-se", "email", "  Jane@Example.COM ")
    # Then the id is found
    assert ref == ContactRef(contact_id=GUID, pending_file=False)


def test_tenants_and_kinds_are_separate(contact_store: ContactIdStore) -> None:
    contact_store.put("acme-se", "email", "jane@example.com", GUID)
    assert contact_store.get("acme-no", "email", "jane@example.com") is None
    assert contact_store.get("acme-se", "customKey", "jane@example.com") is None


def test_only_emails_ignore_case(contact_store: ContactIdStore) -> None:
    contact_store.put("acme-se", "customKey", "AbC123", GUID)
    assert contact_store.get("acme-se", "customKey", "abc123") is None
    assert contact_store.get("acme-se", "customKey", " AbC123 ") == ContactRef(GUID)


def test_created_by_file_is_pending_until_put(contact_store: ContactIdStore) -> None:
    # Given a contact created by an XML file upload
    contact_store.mark_created_by_file("acme-se", "email", "jane@example.com")
    # Then its GUID is unknown but the store says why
    assert contact_store.get("acme-se", "email", "jane@example.com") == ContactRef(None, pending_file=True)
    # When the next identification finds the GUID
    contact_store.put("acme-se", "email", "jane@example.com", GUID)
    # Then it is known
    assert contact_store.get("acme-se", "email", "jane@example.com") == ContactRef(GUID, pending_file=False)


def test_forget_removes_the_entry(contact_store: ContactIdStore) -> None:
    contact_store.put("acme-se", "email", "jane@example.com", GUID)
    contact_store.forget("acme-se", "email", "jane@example.com")
    assert contact_store.get("acme-se", "email", "jane@example.com") is None


def test_remember_stores_over_nothing_or_a_file_mark_and_keeps_another_contact(
    contact_store: ContactIdStore,
) -> None:
    assert contact_store.remember("acme-se", "email", "jane@example.com", GUID) is None
    assert contact_store.get("acme-se", "email", "jane@example.com") == ContactRef(GUID)
    # the same contact again: nothing to learn, the entry stays
    assert contact_store.remember("acme-se", "email", " Jane@example.com", GUID) == GUID
    # another contact with this identifier (a shared address): the first owner keeps it
    assert contact_store.remember("acme-se", "email", "jane@example.com", OTHER_GUID) == GUID
    assert contact_store.get("acme-se", "email", "jane@example.com") == ContactRef(GUID)
    # a file created the contact, its GUID unknown: the GUID learned replaces the mark
    contact_store.mark_created_by_file("acme-se", "mobilePhone", "+46701234567")
    assert contact_store.remember("acme-se", "mobilePhone", "+46701234567", OTHER_GUID) is None
    assert contact_store.get("acme-se", "mobilePhone", "+46701234567") == ContactRef(OTHER_GUID)


def test_of_contacts_remembered_at_once_under_one_identifier_exactly_one_takes_it(
    contact_store: ContactIdStore,
) -> None:
    contacts = [f"{n:08x}-2767-4abe-ae99-aa510108e22b" for n in range(16)]
    for round_ in range(20):
        phone = f"+4670000{round_:04d}"
        barrier = threading.Barrier(len(contacts))

        def learn(contact_id: str, phone: str = phone, barrier: threading.Barrier = barrier) -> str | None:
            barrier.wait()
            return contact_store.remember("acme-se", "mobilePhone", phone, contact_id)

        with ThreadPoolExecutor(len(contacts)) as pool:
            owners = list(pool.map(learn, contacts))
        winners = [c for c, owner in zip(contacts, owners, strict=True) if owner is None]
        assert len(winners) == 1
        assert {owner for owner in owners if owner is not None} == set(winners)
        assert contact_store.get("acme-se", "mobilePhone", phone) == ContactRef(winners[0])


def test_redis_key_names_hold_no_personal_data(redis_client: redis.Redis) -> None:
    # Given an email and a phone number stored in Redis
    store = RedisContactIdStore(redis_client)
    store.put("acme-se", "email", "jane@example.com", GUID)
    store.put("acme-se", "mobilePhone", "+46701234567", GUID)
    # Then neither appears in any key name, and entries expire
    keys = [k.decode() for k in redis_client.scan_iter("*")]
    assert len(keys) == 2
    assert all(k.startswith("engage:cid:acme-se:") for k in keys)
    assert not any("jane" in k or "46701234567" in k for k in keys)
    assert all(int(redis_client.ttl(k)) > 0 for k in keys)  # type: ignore[arg-type]
