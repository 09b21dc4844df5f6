"""run_job and the breaker, with scripted handlers (no Engage): what counts, what waits, what is held."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engage.errors import AuthenticationFailed, RateLimited, ServerError, ValidationFailed
from relay.breaker import BREAKER_FAILURE_THRESHOLD, BreakerPolicy, MemoryCircuitBreaker
from relay.context import Applied, EventContext, Handler
from schemas.envelope import Envelope
from tests.support.task_harness import (
    installed,
    memory_runtime,
    outcomes_of,
    parked,
    run_event,
    scripted,
    tenant_for,
    wait_s,
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


def test_rate_limited_results_wait_the_cooldown_and_never_open_the_breaker() -> None:
    # Given a tenant whose every call answers 429 with Retry-After 2
    breaker = MemoryCircuitBreaker(BreakerPolicy(), clock=Clock())
    rt = memory_runtime([tenant_for(NOWHERE, "k")], breaker=breaker)
    with installed(rt):
        # When many events are tried
        for n in range(BREAKER_FAILURE_THRESHOLD * 3):
            result = run_event(envelope(n), raising(RateLimited("slow down", status=429, retry_after_s=2)))
            # Then each waits the cooldown, on the same ladder step: a 429 is not a ladder step
            assert result["outcome"] == "parked" and result["reason"] == "rate_limited"
            job = parked(rt, envelope(n))
            assert job is not None and job.attempt == 0
            assert 1.9 <= wait_s(rt, envelope(n)) <= 2.3
    # and the breaker is still closed
    assert breaker.state("acme-se") == "closed"


def test_permanent_answers_count_as_engage_being_up() -> None:
    # Given four 503s then a 422 then four 503s: never five failures in a row
    breaker = MemoryCircuitBreaker(BreakerPolicy(), clock=Clock())
    rt = memory_runtime([tenant_for(NOWHERE, "k")], breaker=breaker)
    down = raising(ServerError("down", status=503))
    with installed(rt):
        for n in range(BREAKER_FAILURE_THRESHOLD - 1):
            assert run_event(envelope(n), down)["reason"] == "ladder"
        result = run_event(envelope(99), raising(ValidationFailed("bad", status=422)))
        for n in range(BREAKER_FAILURE_THRESHOLD - 1):
            assert run_event(envelope(100 + n), down)["reason"] == "ladder"
    # Then the 422 was rejected and the breaker stayed closed
    assert result["outcome"] == "rejected"
    assert breaker.state("acme-se") == "closed"


def test_an_open_breaker_holds_the_event_without_calling_or_dead_lettering() -> None:
    # Given acme's breaker open after five 503s
    breaker = MemoryCircuitBreaker(BreakerPolicy(), clock=Clock())
    rt = memory_runtime([tenant_for(NOWHERE, "k")], breaker=breaker)
    calls: list[str] = []

    def counting(ctx: EventContext, event: Any) -> Applied:
        calls.append(event.id)
        return Applied()

    with installed(rt):
        for n in range(BREAKER_FAILURE_THRESHOLD):
            run_event(envelope(n), raising(ServerError("down", status=503)))
        # When the next event comes (on its third ladder step)
        result = run_event(envelope(42), scripted(counting), attempt=2)
    # Then the handler was never called, and the event is held in the backlog lane on the same step
    assert calls == []
    assert result["outcome"] == "parked" and result["reason"] == "held"
    job = parked(rt, envelope(42))
    assert job is not None and (job.lane, job.attempt, job.reason) == ("backlog", 2, "held")
    # with no outcome, no dead letter, and no applied marker
    assert rt.deadletters.get("acme-se:evt-acme-se-42") is None
    assert not [o for o in outcomes_of(rt) if o.event_id == "evt-acme-se-42"]
    assert not rt.ledger.was_applied("acme-se", "evt-acme-se-42")


def test_a_refused_key_holds_the_tenant_at_once_and_is_never_dead_lettered() -> None:
    # Given a tenant whose key Engage refuses, with a ladder of one step only
    breaker = MemoryCircuitBreaker(BreakerPolicy(), clock=Clock())
    rt = memory_runtime([tenant_for(NOWHERE, "k")], breaker=breaker, retry_ladder_s=(10,))
    with installed(rt):
        # When one event meets the 401
        first = run_event(envelope(1), raising(AuthenticationFailed("key", status=401)))
        # Then it is held, the breaker open at once with the cause, and the next event is held untried
        second = run_event(envelope(2), applied)
    assert (first["reason"], second["reason"]) == ("held", "held")
    info = breaker.info("acme-se")
    assert info.state == "open" and info.cause is not None and "refused the API key" in info.cause
    assert rt.deadletters.count() == 0 and outcomes_of(rt) == []


def test_a_held_event_drains_once_the_breaker_closes() -> None:
    clock = Clock()
    breaker = MemoryCircuitBreaker(BreakerPolicy(open_s=30), clock=clock)
    rt = memory_runtime([tenant_for(NOWHERE, "k")], breaker=breaker)
    with installed(rt):
        for n in range(BREAKER_FAILURE_THRESHOLD):
            run_event(envelope(n), raising(ServerError("down", status=503)))
        assert run_event(envelope(7), applied, attempt=3)["reason"] == "held"
        # When the open time has passed and Engage answers again
        clock.now += 31
        held = parked(rt, envelope(7))
        assert held is not None
        result = run_event(held, applied)
    # Then the held event is applied, as the probe, and the breaker is closed
    assert result["outcome"] == "applied" and result["attempts"] == 4
    assert breaker.state("acme-se") == "closed"
    assert parked(rt, envelope(7)) is None


def test_an_exhausted_ladder_dead_letters_with_the_real_cause() -> None:
    rt = memory_runtime([tenant_for(NOWHERE, "k")], retry_ladder_s=(10,))
    with installed(rt):
        down = raising(ServerError("down", status=503))
        assert run_event(envelope(1), down)["reason"] == "ladder"
        job = parked(rt, envelope(1))
        assert job is not None and job.attempt == 1
        result = run_event(job, down)
    assert result["outcome"] == "dead_lettered"
    letter = rt.deadletters.get("acme-se:evt-acme-se-1")
    assert letter is not None and letter.error_class == "ServerError" and letter.attempts == 2
    assert parked(rt, envelope(1)) is None and outcomes_of(rt) == []
