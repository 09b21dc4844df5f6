"""Seed a Redis with what the relay leaves behind (dead letters, outcomes, rejections, a stream group)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import redis
from pydantic import SecretStr

from engage.errors import AuthenticationFailed
from engage.ratelimit import Lane
from fallback.config import FallbackSettings
from fallback.deadletters import DeadLetter, FallbackState, RedisDeadLetterStore
from fallback.rejected import RedisRejectedStore, Rejection
from relay.breaker import RedisCircuitBreaker, describe_cause
from relay.keys import EVENTS_GROUP, SPILL_PREFIX
from relay.outcomes import Outcome, OutcomeKind, RedisOutcomeSink
from relay.schedule import Job, RedisSchedule
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


def trip_breaker(client: redis.Redis, tenant_name: str, error: Exception) -> str:
    """Open the tenant's breaker the way a worker does on a systemic error; the cause it recorded."""
    breaker = RedisCircuitBreaker(client)
    cause = describe_cause(error)
    breaker.record(breaker.allow(tenant_name), "trip", cause)
    return cause


def key_refused() -> AuthenticationFailed:
    return AuthenticationFailed(
        status=401, error_code="Unauthorized", method="GET", path="/api/v3/contacts/id"
    )


def scheduled(
    client: redis.Redis, tenant_name: str, *, due: int, later: int, leased: int, lane: Lane
) -> None:
    """Jobs in one lane of the tenant's schedule: `due` now, `later` in an hour, `leased` to workers."""
    schedule = RedisSchedule(client)
    now = time.time()
    jobs = [
        Job(
            event_id=f"job-{tenant_name}-{lane}-{i}",
            tenant=tenant_name,
            type="order.delivered",
            envelope={"id": f"job-{i}"},
            digest=f"d{i}",
            lane=lane,
        )
        for i in range(due + later + leased)
    ]
    schedule.admit(jobs[:leased], now_s=now - 1)
    assert len(schedule.lease(tenant_name, lane, leased, 120)) == leased
    schedule.admit(jobs[leased:], now_s=now - 1)
    for job in jobs[leased + due :]:
        schedule.park(job, now + 3600)


def spilled(client: redis.Redis, tenant_name: str, count: int, state: FallbackState = "pending") -> None:
    """Letters in the spill store (a long outage's receipts), in fallback state `state`."""
    store = RedisDeadLetterStore(client, prefix=SPILL_PREFIX)
    for i in range(count):
        store.add(
            DeadLetter(
                event_id=f"spill-{tenant_name}-{state}-{i}",
                tenant=tenant_name,
                type="receipt.completed",
                # a customer attribute of that name must not make a delivered letter count as pending
                envelope={"id": f"spill-{i}", "data": {"attributes": {"fallback_state": "pending"}}},
                error_class="Spilled",
                error_kind="systemic",
                fallback_state=state,
            )
        )
