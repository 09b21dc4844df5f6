"""The stores whose in-memory twins the unit tests use, run against Redis with the same body: dead letters,
the rejected store and the outcome sink (the sweep lock has its own test, in tests/unit/fallback)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis

from fallback.deadletters import (
    DeadLetter,
    DeadLetterFilter,
    DeadLetterStore,
    MemoryDeadLetterStore,
    RedisDeadLetterStore,
)
from fallback.rejected import MemoryRejectedStore, RedisRejectedStore, RejectedStore, Rejection
from relay.ledger import RedisLedger
from relay.outcomes import MemoryOutcomeSink, Outcome, RedisOutcomeSink
from relay.run import job_for
from relay.schedule import RedisSchedule
from relay.settle import write_final
from relay.trail import RedisTrail
from tests.support.task_harness import memory_runtime, tenant_for

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def backend(request: pytest.FixtureRequest) -> redis.Redis | None:
    return request.getfixturevalue("redis_client") if request.param == "redis" else None


@pytest.fixture(params=["memory", "redis"])
def letters(request: pytest.FixtureRequest) -> DeadLetterStore:
    client = backend(request)
    return MemoryDeadLetterStore() if client is None else RedisDeadLetterStore(client)


@pytest.fixture(params=["memory", "redis"])
def rejected(request: pytest.FixtureRequest) -> RejectedStore:
    client = backend(request)
    return MemoryRejectedStore() if client is None else RedisRejectedStore(client)


@pytest.fixture(params=["memory", "redis"])
def outcomes(request: pytest.FixtureRequest) -> MemoryOutcomeSink | RedisOutcomeSink:
    client = backend(request)
    return MemoryOutcomeSink() if client is None else RedisOutcomeSink(client)


def letter(
    event_id: str, *, tenant: str = "acme", type_: str = "order.delivered", minutes: int = 0
) -> DeadLetter:
    return DeadLetter(
        event_id=event_id,
        tenant=tenant,
        type=type_,
        envelope={"id": event_id, "tenant": tenant, "type": type_},
        error_class="ServerError",
        error_kind="retryable",
        engage_status=503,
        attempts=7,
        dead_lettered_at=T0 + timedelta(minutes=minutes),
    )


def test_dead_letters_are_kept_filtered_updated_and_dropped(letters: DeadLetterStore) -> None:
    # Given three letters of two tenants at three moments
    letters.add(letter("e1", minutes=0))
    letters.add(letter("e2", tenant="beta", type_="customer.created", minutes=5))
    letters.add(letter("e3", minutes=10))
    # Then they list in time order, filtered by tenant, type, error and time
    assert [d.event_id for d in letters.list()] == ["e1", "e2", "e3"]
    assert [d.event_id for d in letters.list(DeadLetterFilter(tenant="acme"))] == ["e1", "e3"]
    assert [d.event_id for d in letters.list(DeadLetterFilter(type="customer.created"))] == ["e2"]
    assert [d.event_id for d in letters.list(DeadLetterFilter(error="ServerError"))] == ["e1", "e2", "e3"]
    assert [d.event_id for d in letters.list(DeadLetterFilter(since=T0 + timedelta(minutes=4)))] == [
        "e2",
        "e3",
    ]
    # When one is updated and one dropped
    first = letters.get("acme:e1")
    assert first is not None and first.envelope == {"id": "e1", "tenant": "acme", "type": "order.delivered"}
    letters.update(first.model_copy(update={"fallback_state": "written", "fallback_file": "f.xml"}))
    assert letters.drop("acme:e3") and not letters.drop("acme:e3")
    # Then the store says so
    updated = letters.get("acme:e1")
    assert updated is not None and (updated.fallback_state, updated.fallback_file) == ("written", "f.xml")
    assert [d.event_id for d in letters.list(DeadLetterFilter(fallback_state="pending"))] == ["e2"]
    assert letters.get("acme:e3") is None and letters.count() == 2


def test_updating_a_dropped_letter_does_not_bring_it_back(letters: DeadLetterStore) -> None:
    letters.add(letter("e1"))
    stale = letters.get("acme:e1")
    assert stale is not None
    letters.drop("acme:e1")
    letters.update(stale)
    assert letters.get("acme:e1") is None


def test_rejections_keep_the_raw_envelope_and_every_reason(rejected: RejectedStore) -> None:
    reasons = [{"loc": ["data", "email"], "msg": "not an e-mail"}, {"loc": ["occurred_at"], "msg": "missing"}]
    rejected.add(Rejection(raw='{"id": "x"}', reasons=reasons, stage="ingest", event_id="x"))
    rejected.add(Rejection(raw="not json", reasons=[{"loc": [], "msg": "bad"}], stage="ingest"))
    entries = rejected.list()
    assert [r.raw for _, r in entries] == ['{"id": "x"}', "not json"]
    assert entries[0][1].reasons == reasons
    assert len({entry_id for entry_id, _ in entries}) == 2
    assert [r.raw for _, r in rejected.list(count=1)] == ['{"id": "x"}']
    assert [r.raw for _, r in rejected.newest(count=1)] == ["not json"]
    assert [r.raw for _, r in rejected.newest()] == ["not json", '{"id": "x"}']


def test_outcomes_are_read_back_in_order(outcomes: MemoryOutcomeSink | RedisOutcomeSink) -> None:
    outcomes.record(
        Outcome(event_id="e1", type="customer.created", tenant="acme", outcome="applied", contact_id="c")
    )
    outcomes.record(Outcome(event_id="e2", type="order.delivered", tenant="acme", outcome="dead_lettered"))
    got = outcomes.read_all()
    assert [(o.event_id, o.outcome, o.contact_id) for o in got] == [
        ("e1", "applied", "c"),
        ("e2", "dead_lettered", None),
    ]


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_a_second_final_outcome_is_never_written(backend: str, request: pytest.FixtureRequest) -> None:
    """The API path and the file path racing for one event: whichever writes second writes nothing."""
    rt = memory_runtime([tenant_for("http://127.0.0.1:9", "k")])
    if backend == "redis":
        client: redis.Redis = request.getfixturevalue("redis_client")
        rt.redis, rt.outcomes, rt.ledger = client, RedisOutcomeSink(client), RedisLedger(client)
        rt.schedule, rt.trail = RedisSchedule(client), RedisTrail(client)
    job = job_for({"id": "e1", "tenant": "acme-se", "type": "order.delivered"})
    first = Outcome(event_id="e1", type="order.delivered", tenant="acme-se", outcome="applied")
    second = Outcome(event_id="e1", type="order.delivered", tenant="acme-se", outcome="delivered_by_file")
    assert write_final(rt, job, first)
    assert not write_final(rt, job, second)
    assert [o.outcome for o in rt.outcomes.read_all()] == ["applied"]  # type: ignore[attr-defined]
