"""run_event and the breaker, with scripted handlers (no Engage): what counts, and what happens when open."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engage.errors import RateLimited, ServerError, ValidationFailed
from relay.breaker import BREAKER_FAILURE_THRESHOLD, BreakerPolicy, MemoryCircuitBreaker
from relay.context import Applied, EventContext, Handler
from schemas.envelope import Envelope
from tasks.adapter import run_task
from tests.support.task_harness import (
    FakeTask,
    TaskRetry,
    installed,
    memory_runtime,
    outcomes_of,
    scripted,
    tenant_for,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "events"
NOWHERE = "http://127.0.0.1:9"  # never called: the handlers here are scripted


class Clock:
    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def envelope(n: int, tenant: str = "acme-se") -> dict[str, Any]:
    env: dict[str, Any] = json.loads((EXAMPLES / "customer.created.json").read_text())
    env.update(id=f"evt-{tenant}-{n}", tenant=tenant)
    return env


def raising(exc: Exception) -> Handler[Envelope]:
    def handler(ctx: EventContext, event: Any) -> Applied:
        raise exc

    return scripted(handler)


applied = scripted(lambda ctx, event: Applied(contact_id="c-1"))


def test_rate_limited_results_never_open_the_breaker() -> None:
    # Given a tenant whose every call answers 429
    breaker = MemoryCircuitBreaker(BreakerPolicy(), clock=Clock())
    rt = memory_runtime([tenant_for(NOWHERE, "k")], breaker=breaker)
    with installed(rt):
        # When many events are tried
        for n in range(BREAKER_FAILURE_THRESHOLD * 3):
            with pytest.raises(TaskRetry):
                run_task(FakeTask(), envelope(n), raising(RateLimited("slow down", status=429)))
    # Then the breaker is still closed
    assert breaker.state("acme-se") == "closed"


def test_permanent_answers_count_as_engage_being_up() -> None:
    # Given four 503s then a 422 then four 503s: never five failures in a row
    breaker = MemoryCircuitBreaker(BreakerPolicy(), clock=Clock())
    rt = memory_runtime([tenant_for(NOWHERE, "k")], breaker=breaker)
    down = raising(ServerError("down", status=503))
    with installed(rt):
        for n in range(BREAKER_FAILURE_THRESHOLD - 1):
            with pytest.raises(TaskRetry):
                run_task(FakeTask(), envelope(n), down)
        result = run_task(FakeTask(), envelope(99), raising(ValidationFailed("bad", status=422)))
        for n in range(BREAKER_FAILURE_THRESHOLD - 1):
            with pytest.raises(TaskRetry):
                run_task(FakeTask(), envelope(100 + n), down)
    # Then the 422 was rejected and the breaker stayed closed
    assert result["outcome"] == "rejected"
    assert breaker.state("acme-se") == "closed"


def test_an_open_breaker_skips_the_handler_and_dead_letters_with_circuit_open() -> None:
    # Given acme's breaker open after five 503s
    breaker = MemoryCircuitBreaker(BreakerPolicy(), clock=Clock())
    rt = memory_runtime([tenant_for(NOWHERE, "k")], breaker=breaker)
    calls: list[str] = []

    def counting(ctx: EventContext, event: Any) -> Applied:
        calls.append(event.id)
        return Applied()

    with installed(rt):
        for n in range(BREAKER_FAILURE_THRESHOLD):
            with pytest.raises(TaskRetry):
                run_task(FakeTask(), envelope(n), raising(ServerError("down", status=503)))
        # When the next event comes (on its third ladder step)
        result = run_task(FakeTask(), envelope(42), scripted(counting), attempt=2)
    # Then the handler was never called and the event is dead-lettered as CircuitOpen
    assert calls == []
    assert result["outcome"] == "dead_lettered"
    assert result["engage_error_code"] == "CircuitOpen"
    letter = rt.deadletters.get("acme-se:evt-acme-se-42")
    assert letter is not None
    assert letter.error_class == "CircuitOpen"
    assert letter.attempts == 2
    assert letter.envelope == envelope(42)
    # and the ledger holds no applied marker, so a replay applies it
    assert not rt.ledger.was_applied("acme-se", "evt-acme-se-42")


def test_hold_keeps_the_ladder_step_and_records_no_outcome() -> None:
    # Given a tenant that holds events while its breaker is open, and the breaker just opened
    clock = Clock()
    breaker = MemoryCircuitBreaker(BreakerPolicy(open_s=30), clock=clock)
    rt = memory_runtime([tenant_for(NOWHERE, "k", on_breaker_open="hold")], breaker=breaker)
    with installed(rt):
        for n in range(BREAKER_FAILURE_THRESHOLD):
            with pytest.raises(TaskRetry):
                run_task(FakeTask(), envelope(n), raising(ServerError("down", status=503)))
        recorded_before = len(outcomes_of(rt))
        clock.now += 10
        # When an event on ladder step 3 arrives
        with pytest.raises(TaskRetry) as held:
            run_task(FakeTask(), envelope(7), applied, attempt=3, maybe_delivered=True)
    # Then it comes back after the remaining open time (+ at most 10 % jitter), on the same step
    assert 20 <= held.value.countdown <= 22
    assert held.value.kwargs == {"envelope": envelope(7), "attempt": 3, "maybe_delivered": True}
    # and nothing was recorded for it
    assert len(rt.outcomes.read_all()) == recorded_before  # type: ignore[attr-defined]
    assert rt.deadletters.count() == 0
