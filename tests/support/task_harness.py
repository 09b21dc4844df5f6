"""Run `relay.run.run_event` without Celery: a fake bound task, and a Runtime built from in-memory twins.

    rt = memory_runtime([tenant_for(sim, "acme")])
    with installed(rt):
        task = FakeTask()
        try:
            result = run_task(task, envelope, contacts.CUSTOMER)
        except TaskRetry as retry:
            retry.countdown, retry.kwargs  # what Celery would have been asked

`run_until_final` follows the retries (calling `between` before each re-run, e.g. to advance a clock or to
lift a simulator fault) until the event has its one final outcome.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from pydantic import SecretStr

from engage.contact_store import MemoryContactIdStore
from engage.ratelimit import MemoryRateLimiter
from engage.retry import DEFAULT_SHORT_RETRY
from fallback.config import BreakerMode, FallbackSettings
from fallback.deadletters import MemoryDeadLetterStore
from fallback.rejected import MemoryRejectedStore
from mappers.policy import TenantPolicy
from relay import runtime as runtime_slot
from relay.breaker import CircuitBreaker
from relay.context import Applied, EventContext, Handler
from relay.ledger import MemoryLedger
from relay.outcomes import MemoryOutcomeSink, Outcome
from relay.retry import RETRY_LADDER_S
from relay.runtime import Runtime
from relay.tenants import Tenant, TenantRegistry
from schemas.envelope import Envelope
from tasks.adapter import run_task

_task_ids = itertools.count(1)


class TaskRetry(Exception):
    """What `FakeTask.retry` returns (and `run_event` raises): the arguments Celery would have got."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(f"retry in {options.get('countdown')} s")
        self.options = dict(options)

    @property
    def countdown(self) -> float:
        return float(self.options["countdown"])

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.options["kwargs"])


@dataclass
class FakeRequest:
    id: str


@dataclass
class FakeTask:
    """The slice of a bound Celery task that `run_event` uses; keeps every retry it was asked for."""

    request: FakeRequest = field(default_factory=lambda: FakeRequest(f"task-{next(_task_ids)}"))
    retries: list[TaskRetry] = field(default_factory=list)

    def retry(self, *args: Any, **kwargs: Any) -> Exception:
        retry = TaskRetry(kwargs)
        self.retries.append(retry)
        return retry


def scripted(apply: Callable[[EventContext, Any], Applied]) -> Handler[Envelope]:
    """A handler for tests that takes any event (the real ones name their event classes)."""
    return Handler(apply, (Envelope,))


def tenant_for(
    base_url: str,
    api_key: str,
    name: str = "acme-se",
    *,
    on_breaker_open: BreakerMode = "fallback",
    policy: TenantPolicy | None = None,
) -> Tenant:
    return Tenant(
        name=name,
        base_url=base_url,
        api_key=SecretStr(api_key),
        policy=policy or TenantPolicy(),
        fallback=FallbackSettings(on_breaker_open=on_breaker_open),
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


def run_until_final(
    envelope: Mapping[str, Any],
    handler: Handler[Any],
    *,
    between: Callable[[TaskRetry], None] = lambda retry: None,
    max_runs: int = 20,
    task: FakeTask | None = None,
) -> tuple[dict[str, Any], FakeTask]:
    """Run the event, re-running it with each retry's kwargs (after `between`) until it returns."""
    task = task or FakeTask()
    kwargs: dict[str, Any] = {"envelope": dict(envelope)}
    for _ in range(max_runs):
        try:
            return run_task(task, **kwargs, handler=handler), task
        except TaskRetry as retry:
            between(retry)
            kwargs = retry.kwargs
    raise AssertionError(f"no final outcome after {max_runs} runs")


def outcomes_of(runtime: Runtime) -> list[Outcome]:
    """Every outcome recorded so far by a `memory_runtime`."""
    assert isinstance(runtime.outcomes, MemoryOutcomeSink)
    return runtime.outcomes.read_all()
