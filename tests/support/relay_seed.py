"""Seed a Redis with what the relay leaves behind (dead letters, outcomes, rejections, a stream group)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis
from pydantic import SecretStr

from fallback.config import FallbackSettings
from fallback.deadletters import DeadLetter, RedisDeadLetterStore
from fallback.rejected import RedisRejectedStore, Rejection
from relay.breaker import RedisCircuitBreaker
from relay.keys import EVENTS_GROUP
from relay.outcomes import Outcome, OutcomeKind, RedisOutcomeSink
from relay.tenants import Tenant
from schemas.publish import EVENTS_STREAM


def tenant(name: str, api_key: str, outbox: str = "/nonexistent/outbox") -> Tenant:
    return Tenant(
        name=name,
        base_url=f"https://{name}.voyado.com",
        api_key=SecretStr(api_key),
        rate_budget_per_s=25,
        fallback=FallbackSettings(local_dir=outbox),
    )


def dead_letters(client: redis.Redis, tenant_name: str, count: int) -> None:
    store = RedisDeadLetterStore(client)
    for i in range(count):
        store.add(
            DeadLetter(
                event_id=f"evt-{tenant_name}-{i}",
                tenant=tenant_name,
                type="order.delivered",
                envelope={"id": f"evt-{i}"},
                error_class="ServerError",
                error_kind="retryable",
                engage_status=503,
                attempts=7,
            )
        )


def outcomes(
    client: redis.Redis, tenant_name: str, kind: OutcomeKind, count: int, stream: str = "engage:outcomes"
) -> None:
    sink = RedisOutcomeSink(client, stream)
    for i in range(count):
        sink.record(
            Outcome(event_id=f"o-{kind}-{i}", type="customer.created", tenant=tenant_name, outcome=kind)
        )


def old_outcome(client: redis.Redis, tenant_name: str, stream: str = "engage:outcomes") -> None:
    """An outcome two hours old (its stream id carries its time)."""
    at = datetime.now(UTC) - timedelta(hours=2)
    record = Outcome(event_id="o-old", type="customer.created", tenant=tenant_name, outcome="applied", at=at)
    client.xadd(stream, {"outcome": record.model_dump_json()}, id=f"{int(at.timestamp() * 1000)}-0")


def rejections(client: redis.Redis, count: int) -> None:
    store = RedisRejectedStore(client)
    for i in range(count):
        store.add(Rejection(raw="{}", reasons=[{"loc": [], "msg": "bad"}], stage="ingest", event_id=f"r-{i}"))


def stream_with_lag(client: redis.Redis, published: int, read: int) -> None:
    """`published` entries on the events stream; the ingest group has read (not acked) `read` of them."""
    for i in range(published):
        client.xadd(EVENTS_STREAM, {"event": f'{{"n": {i}}}'})
    client.xgroup_create(EVENTS_STREAM, EVENTS_GROUP, id="0")
    if read:
        client.xreadgroup(EVENTS_GROUP, "test-consumer", {EVENTS_STREAM: ">"}, count=read)


def open_breaker(client: redis.Redis, tenant_name: str) -> None:
    breaker = RedisCircuitBreaker(client)
    for _ in range(breaker.policy.failure_threshold):
        breaker.record(breaker.allow(tenant_name), "failure")
