"""Run events through the Celery adapter without Celery: a fake bound task, and a Runtime of in-memory twins.

    rt = memory_runtime([tenant_for(sim, "acme")])
    with installed(rt):
        result = run_event(envelope, handlers.CUSTOMER)   # one run; "parked" when it waits
        parked(rt, envelope)                              # the job as it waits in the schedule (or None)

`run_until_final` follows the parks (calling `between` with the parked job before each re-run, e.g. to lift
a simulator fault) until the event is settled or handed to the dead letters.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from pydantic import SecretStr

from engage.contact_store import MemoryContactIdStore
from engage.ratelimit import MemoryRateLimiter
from engage.retry import DEFAULT_SHORT_RETRY
from fallback.config import FallbackSettings
from fallback.deadletters import MemoryDeadLetterStore
from fallback.rejected import MemoryRejectedStore
from mappers.policy import TenantPolicy
from relay import runtime as runtime_slot
from relay.admit import Arrival, admit
from relay.breaker import CircuitBreaker
from relay.context import Applied, EventContext, Handler
from relay.ledger import MemoryLedger
from relay.outcomes import MemoryOutcomeSink, Outcome
from relay.retry import RETRY_LADDER_S
from relay.run import job_for
from relay.runtime import Runtime
from relay.schedule import Job
from relay.tenants import Tenant, TenantRegistry
from schemas import InvalidEvent, parse_event
from schemas.envelope import Envelope
from tasks.adapter import run_message

_task_ids = itertools.count(1)

WAITING = frozenset({"parked", "in_flight"})


@dataclass
class FakeRequest:
    id: str


@dataclass
class FakeTask:
    """The slice of a bound Celery task that the adapter uses."""

    request: FakeRequest = field(default_factory=lambda: FakeRequest(f"task-{next(_task_ids)}"))


def scripted(apply: Callable[[EventContext, Any], Applied]) -> Handler[Envelope]:
    """A handler for tests that takes any event (the real ones name their event classes)."""
    return Handler(apply, (Envelope,))


def tenant_for(
    base_url: str,
    api_key: str,
    name: str = "acme-se",
    *,
    fallback: FallbackSettings | None = None,
    policy: TenantPolicy | None = None,
) -> Tenant:
    return Tenant(
        name=name,
        base_url=base_url,
        api_key=SecretStr(api_key),
        policy=policy or TenantPolicy(),
        fallback=fallback or FallbackSettings(),
    )


def memory_runtime(
    tenants: Iterable[Tenant],
    *,
    breaker: CircuitBreaker | None = None,
    retry_ladder_s: tuple[float, ...] = RETRY_LADDER_S,
    short_retries: bool = False,
) -> Runtime:
    """A Runtime of in-memory twins (a real HTTP session); the client's short retries do not wait."""
    retry = DEFAULT_SHORT_RETRY if short_retries else DEFAULT_SHORT_RETRY.without_waiting()
    return Runtime(
        registry=TenantRegistry(tenants),
        limiter=MemoryRateLimiter(),
        contacts=MemoryContactIdStore(),
        ledger=MemoryLedger(),
        outcomes=MemoryOutcomeSink(),
        rejected=MemoryRejectedStore(),
        session=requests.Session(),
        deadletters=MemoryDeadLetterStore(),
        spill=MemoryDeadLetterStore(),
        retry_ladder_s=retry_ladder_s,
        breaker=breaker,
        short_retry=retry,
    )


@contextmanager
def installed(runtime: Runtime) -> Iterator[Runtime]:
    """Make `runtime` the process's task runtime for the block, then put back what was there."""
    saved = runtime_slot._current  # private on purpose: tests put the process-wide slot back
    runtime_slot.install(runtime)
    try:
        yield runtime
    finally:
        with runtime_slot._guard:
            runtime_slot._current = saved
        runtime.session.close()


def run_event(
    envelope: Mapping[str, Any] | Job,
    handler: Handler[Any],
    *,
    attempt: int = 0,
    maybe_delivered: bool = False,
    task: FakeTask | None = None,
) -> dict[str, Any]:
    """One run of the event, as a worker would: the job from the schedule when it waits there, else a new
    one (a task message of the first version)."""
    rt = runtime_slot.current()
    if isinstance(envelope, Job):
        job = envelope
    else:
        waiting = rt.schedule.get(str(envelope["tenant"]), str(envelope["id"]))
        if waiting is None and attempt == 0 and not maybe_delivered:
            _admit_as_ingest_would(rt, envelope)  # a new event comes in by the stream
            waiting = rt.schedule.get(str(envelope["tenant"]), str(envelope["id"]))
        job = waiting or job_for(envelope, attempt=attempt, maybe_delivered=maybe_delivered)
    return run_message(task or FakeTask(), handler, job=job.model_dump(mode="json"))


def _admit_as_ingest_would(rt: Runtime, envelope: Mapping[str, Any]) -> None:
    try:
        event = parse_event(dict(envelope))
    except InvalidEvent:
        return  # the run rejects it, as a task of an edited message would be
    if event.tenant in rt.registry:
        admit(rt, [Arrival(event, dict(envelope))])


def parked(rt: Runtime, envelope: Mapping[str, Any]) -> Job | None:
    """The event's job as it waits in the schedule (None once settled or dead-lettered)."""
    return rt.schedule.get(str(envelope["tenant"]), str(envelope["id"]))


def wait_s(rt: Runtime, envelope: Mapping[str, Any]) -> float:
    """Seconds until the parked event may run again."""
    due = rt.schedule.due_at(str(envelope["tenant"]), str(envelope["id"]))
    assert due is not None, "the event is not waiting"
    return due - time.time()


def run_until_final(
    envelope: Mapping[str, Any],
    handler: Handler[Any],
    *,
    between: Callable[[Job], None] = lambda job: None,
    max_runs: int = 20,
) -> tuple[dict[str, Any], list[Job]]:
    """Run the event, re-running it after each park (after `between`), until it ends; its parks too."""
    rt = runtime_slot.current()
    parks: list[Job] = []
    for _ in range(max_runs):
        result = run_event(envelope, handler)
        if result["outcome"] not in WAITING:
            return result, parks
        job = parked(rt, envelope)
        assert job is not None, result
        parks.append(job)
        between(job)
    raise AssertionError(f"no final outcome after {max_runs} runs")


def outcomes_of(runtime: Runtime) -> list[Outcome]:
    """Every outcome recorded so far by a `memory_runtime`."""
    assert isinstance(runtime.outcomes, MemoryOutcomeSink)
    return runtime.outcomes.read_all()
