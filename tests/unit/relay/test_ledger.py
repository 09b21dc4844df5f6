"""The ledger's rules, run once against the in-memory twin and once against a real Redis server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from relay.ledger import ContactBusy, Ledger, MemoryLedger, RedisLedger, plan_fields, seen_at

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "redis"])
def ledger(request: pytest.FixtureRequest) -> Iterator[Ledger]:
    if request.param == "memory":
        yield MemoryLedger()
        return
    url = request.getfixturevalue("redis_url")
    client = redis.Redis.from_url(url)
    yield RedisLedger(client)
    client.close()


def test_an_applied_event_is_remembered_per_tenant(ledger: Ledger) -> None:
    # Given an event applied for tenant a
    ledger.mark_applied("a", "evt-1")
    # Then it is known as applied there, and not for another tenant or id
    assert ledger.was_applied("a", "evt-1")
    assert not ledger.was_applied("b", "evt-1")
    assert not ledger.was_applied("a", "evt-2")


def test_newer_fields_supersede_older_ones_and_unchanged_values_are_not_sent(ledger: Ledger) -> None:
    # Given city written at T0+2h and firstName at T0
    ledger.record_fields("a", "c1", {"city": "Lund"}, T0 + timedelta(hours=2))
    ledger.record_fields("a", "c1", {"firstName": "Anna"}, T0)
    clock = ledger.field_clock("a", "c1")
    # When an update from T0+1h changes city, firstName (to the same value) and lastName
    plan = plan_fields(
        clock, {"city": "Malmö", "firstName": "Anna", "lastName": "Berg"}, T0 + timedelta(hours=1)
    )
    # Then city is superseded, firstName unchanged, lastName sent
    assert plan.superseded == ["city"]
    assert plan.unchanged == ["firstName"]
    assert plan.send == {"lastName": "Berg"}
    assert not plan.fully_superseded


def test_an_update_older_than_every_field_is_fully_superseded(ledger: Ledger) -> None:
    ledger.record_fields("a", "c1", {"city": "Lund"}, T0 + timedelta(hours=2))
    plan = plan_fields(ledger.field_clock("a", "c1"), {"city": "Malmö"}, T0)
    assert plan.fully_superseded


def test_offsets_compare_as_instants(ledger: Ledger) -> None:
    # 11:30+01:00 is 10:30Z, later than 10:00Z
    ledger.record_fields("a", "c1", {"city": "Lund"}, T0)
    later = datetime.fromisoformat("2026-11-24T11:30:00+01:00")
    assert plan_fields(ledger.field_clock("a", "c1"), {"city": "Malmö"}, later).send == {"city": "Malmö"}


def test_the_contact_lock_serializes_work_and_times_out(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("relay.ledger.CONTACT_LOCK_WAIT_S", 0.2)
    outcome: list[str] = []
    with ledger.contact_lock("a", "ref-1"):

        def contender() -> None:
            try:
                with ledger.contact_lock("a", "ref-1"):
                    outcome.append("acquired")
            except ContactBusy:
                outcome.append("busy")

        thread = threading.Thread(target=contender)
        thread.start()
        thread.join(5)
        # another contact is not blocked meanwhile
        with ledger.contact_lock("a", "ref-2"):
            pass
    assert outcome == ["busy"]
    with ledger.contact_lock("a", "ref-1"):
        pass


def test_no_identifier_appears_in_redis_key_names(redis_url: str) -> None:
    # Given a contact lock and field clocks held under an e-mail reference
    client = redis.Redis.from_url(redis_url)
    ledger = RedisLedger(client)
    with ledger.contact_lock("a", "email:anna.lindqvist@example.se"):
        # Then no key names the address
        assert client.keys("*anna*") == []
        assert client.keys("engage:lock:contact:a:*")
    client.close()


def test_a_fields_clock_never_goes_back(ledger: Ledger) -> None:
    # Given a city written at 12:00
    ledger.record_fields("a", "c1", {"city": "Lund"}, datetime(2026, 11, 25, 12, tzinfo=UTC))
    # When an older write of it is recorded (a file record planned late), and a newer street
    ledger.record_fields(
        "a", "c1", {"city": "Malmö", "street": "Gata 1"}, datetime(2026, 11, 24, 12, tzinfo=UTC)
    )
    # Then the city keeps its newer entry, the street is recorded
    clock = ledger.field_clock("a", "c1")
    assert clock["city"] == seen_at(datetime(2026, 11, 25, 12, tzinfo=UTC), "Lund")
    assert clock["street"] == seen_at(datetime(2026, 11, 24, 12, tzinfo=UTC), "Gata 1")
