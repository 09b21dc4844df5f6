"""The stream consumer against a real Redis: admit good envelopes, keep bad ones, acknowledge (and trim)
only after admission, and take over what a dead consumer left pending."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import redis

from fallback.rejected import MemoryRejectedStore
from relay.admit import AdmitOutcome, Arrival
from relay.outcomes import MemoryOutcomeSink
from relay.tenants import Tenant, TenantRegistry
from schemas.publish import publish
from workers.ingest import StreamConsumer

STREAM = "engage:events"
GROUP = "engage-relay"
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "events" / "customer.created.json"


def envelope(event_id: str, tenant: str = "default") -> dict[str, Any]:
    document: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return document | {"id": event_id, "tenant": tenant}


class Broker:
    """Stands in for admission into the schedule; `down` makes it fail as a Redis blip would."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.down = False

    def admit(self, arrivals: Sequence[Arrival]) -> list[AdmitOutcome]:
        if self.down:
            raise redis.ConnectionError("schedule unreachable")
        self.sent += [a.event.id for a in arrivals]
        return ["admitted" for _ in arrivals]


class Sinks:
    def __init__(self) -> None:
        self.rejected = MemoryRejectedStore()
        self.outcomes = MemoryOutcomeSink()


def consumer(
    client: redis.Redis, broker: Broker, name: str, sinks: Sinks | None = None, **kw: Any
) -> StreamConsumer:
    registry = TenantRegistry([Tenant(name="default", base_url="http://127.0.0.1:1", api_key="k")])
    sinks = sinks or Sinks()
    return StreamConsumer(
        client, lambda: registry, broker.admit, sinks.rejected, sinks.outcomes, consumer=name, **kw
    )


def pending(client: redis.Redis) -> int:
    return int(client.xpending(STREAM, GROUP)["pending"])


def test_good_envelopes_are_routed_and_bad_ones_kept_with_reasons(redis_client: redis.Redis) -> None:
    # Given a good envelope, a malformed one, one for an unknown tenant and an entry without the field,
    # all published before the consumer group existed
    publish(redis_client, envelope("evt-good"))
    publish(redis_client, b'{"id": "evt-bad", "type": "customer.created", "version": 2}')
    publish(redis_client, envelope("evt-stranger", tenant="nobody"))
    redis_client.xadd(STREAM, {"payload": b"{}"})
    broker, sinks = Broker(), Sinks()
    ingest = consumer(redis_client, broker, "c1", sinks)
    # When the consumer starts and polls
    ingest.ensure_group()
    ingest.poll_once()
    # Then the good one is admitted, every bad one is rejected with reasons, and all are acknowledged and
    # gone from the stream
    assert broker.sent == ["evt-good"]
    rejected = [r for _, r in sinks.rejected.list()]
    assert [r.event_id for r in rejected] == ["evt-bad", "evt-stranger", None]
    assert all(r.reasons for r in rejected)
    assert "unknown tenant" in rejected[1].reasons[0]["msg"]
    assert "no field 'event'" in rejected[2].reasons[0]["msg"]
    outcomes = sinks.outcomes.read_all()
    assert sorted((o.event_id, o.outcome) for o in outcomes) == [
        ("evt-bad", "rejected"),
        ("evt-stranger", "rejected"),
    ]
    assert pending(redis_client) == 0
    assert redis_client.xlen(STREAM) == 0


def test_an_entry_is_acknowledged_only_once_its_event_is_admitted(redis_client: redis.Redis) -> None:
    # Given a schedule that cannot be reached
    broker = Broker()
    broker.down = True
    ingest = consumer(redis_client, broker, "c1")
    ingest.ensure_group()
    publish(redis_client, envelope("evt-1"))
    # When the consumer polls, the entry stays pending (and the run loop waits and carries on)
    with pytest.raises(redis.ConnectionError):
        ingest.poll_once()
    assert broker.sent == [] and pending(redis_client) == 1
    # When the broker is back and the consumer restarts under the same name, it routes the pending entry
    broker.down = False
    consumer(redis_client, broker, "c1")._drain_own_pending()
    assert broker.sent == ["evt-1"] and pending(redis_client) == 0
    assert redis_client.xlen(STREAM) == 0


def test_a_dead_consumers_pending_entries_are_reclaimed(redis_client: redis.Redis) -> None:
    # Given a consumer that read an entry and died before acknowledging it
    broker = Broker()
    first = consumer(redis_client, broker, "dead")
    first.ensure_group()
    publish(redis_client, envelope("evt-orphan"))
    redis_client.xreadgroup(GROUP, "dead", {STREAM: ">"}, count=10)
    assert pending(redis_client) == 1
    # When another consumer reclaims entries idle longer than its threshold
    survivor = consumer(redis_client, broker, "alive", claim_idle_ms=0)
    survivor.reclaim()
    # Then it routes and acknowledges the orphan
    assert broker.sent == ["evt-orphan"]
    assert pending(redis_client) == 0
    assert survivor.stats.reclaimed == 1


def test_the_consumer_survives_a_redis_blip(redis_client: redis.Redis) -> None:
    # Given a consumer running against a schedule that fails for a moment
    broker = Broker()
    broker.down = True
    ingest = consumer(redis_client, broker, "c1")
    publish(redis_client, envelope("evt-blip"))
    stop = threading.Event()
    runner = threading.Thread(target=ingest.run, args=(stop,))
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while ingest.stats.redis_errors == 0:
            assert time.monotonic() < deadline, "the consumer never met the blip"
            stop.wait(0.05)
        # When Redis is back
        broker.down = False
        while broker.sent != ["evt-blip"]:
            assert time.monotonic() < deadline + 10, "the consumer did not carry on"
            stop.wait(0.05)
    finally:
        stop.set()
        runner.join(10)
    # Then it carried on by itself, and the entry is settled
    assert not runner.is_alive()
    assert pending(redis_client) == 0
