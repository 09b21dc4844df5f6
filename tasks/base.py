"""The one way every event task runs: decode, check idempotency, apply, classify, record the outcome.

Tasks are thin: each names a handler (tasks/handlers/) and calls `run_event`. What happens to an error
is decided here, by the error tree of `engage.errors`:

- Skippable: done (already redeemed, duplicate) -> outcome `applied`.
- Permanent: the rejected store at once, with Engage's code and message -> outcome `rejected`.
- Retryable and Systemic: the retry ladder (a 429 waits at least what the limiter says); when the ladder
  is exhausted -> the dead-letter store, from where the fallback path delivers it by file or bulk API
  -> outcome `dead_lettered`.

Before the handler runs, the tenant's circuit breaker (tasks/breaker.py) is asked. While it is open the
event is not sent to Engage; the tenant's `fallback.on_breaker_open` decides:

- "hold": the task comes back when the breaker may let a probe through (a countdown of its remaining open
  time, plus jitter). It keeps its ladder step, and no outcome is recorded while it waits (the log says
  `engage.event.held`): the event's one outcome is recorded when it is finally applied, rejected or
  dead-lettered.
- "fallback": dead-lettered at once with error_class "CircuitOpen", for the fallback sweep to deliver by
  file -> outcome `dead_lettered`.

What the handler's result says about Engage (up, down, neither; a 429 is neither) is recorded in the breaker.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import structlog

from engage.client import EngageClient
from engage.errors import (
    EngageError,
    EngageTimeout,
    PermanentError,
    RateLimited,
    RetryableError,
    SkippableError,
    SystemicError,
)
from fallback.deadletters import DeadLetter
from schemas import InvalidEvent, parse_event
from tasks import runtime as runtime_slot
from tasks.breaker import Permit, guarded
from tasks.ledger import ContactBusy
from tasks.retry import CONTACT_BUSY_RETRY_S, countdown_for
from tasks.runtime import Runtime
from tasks.settle import MAX_DETAIL_CHARS, dead_letter, record, reject, reject_undecodable
from tasks.tenants import Tenant, UnknownTenant

log = structlog.get_logger(__name__)


@dataclass
class EventContext:
    """What a handler gets: the tenant, its client, the runtime, and where to note the calls it made."""

    runtime: Runtime
    tenant: Tenant
    client: EngageClient
    attempt: int
    maybe_delivered: bool  # an earlier attempt timed out after sending: check before re-sending a POST
    calls: list[str] = field(default_factory=list)

    def called(self, name: str) -> None:
        self.calls.append(name)


@dataclass(frozen=True)
class Applied:
    outcome: Literal["applied", "superseded", "skipped"] = "applied"
    contact_id: str | None = None
    detail: str | None = None


Handler = Callable[[EventContext, Any], Applied]


class RetryingTask(Protocol):
    """The slice of a bound Celery task that `run_event` uses."""

    @property
    def request(self) -> Any: ...

    def retry(self, *args: Any, **kwargs: Any) -> Exception: ...


def run_event(
    task: RetryingTask,
    envelope: Mapping[str, Any],
    handler: Handler,
    *,
    attempt: int = 0,
    maybe_delivered: bool = False,
) -> dict[str, Any]:
    rt = runtime_slot.current()
    try:
        event = parse_event(dict(envelope))
        tenant = rt.registry.get(event.tenant)
    except (InvalidEvent, UnknownTenant) as exc:
        # Ingest validated it; a task message that fails now was edited or its tenant was removed.
        return reject_undecodable(rt, envelope, exc)
    with structlog.contextvars.bound_contextvars(
        event_id=event.id, tenant=tenant.name, event_type=str(event.type), task_id=task.request.id
    ):
        if rt.ledger.was_applied(tenant.name, event.id):
            return record(rt, event, tenant, "duplicate", attempt + 1, detail="event id already applied")
        claim = f"{task.request.id or 'task'}:{attempt}"
        if not rt.ledger.claim(tenant.name, event.id, claim):
            # Another copy of this event (published twice, or re-delivered) is being applied right now:
            # come back once it is settled, and find it applied.
            raise task.retry(
                kwargs=_retry_kwargs(envelope, attempt, maybe_delivered), countdown=CONTACT_BUSY_RETRY_S
            )
        try:
            return _run_claimed(task, rt, event, tenant, envelope, handler, attempt, maybe_delivered)
        finally:
            rt.ledger.release(tenant.name, event.id, claim)


def _run_claimed(
    task: RetryingTask,
    rt: Runtime,
    event: Any,
    tenant: Tenant,
    envelope: Mapping[str, Any],
    handler: Handler,
    attempt: int,
    maybe_delivered: bool,
) -> dict[str, Any]:
    permit = rt.circuit.allow(tenant.name)
    if not permit.allowed:
        return _circuit_open(task, rt, event, tenant, envelope, attempt, maybe_delivered, permit)
    ctx = EventContext(rt, tenant, rt.client_for(tenant), attempt, maybe_delivered)
    try:
        result = guarded(rt.circuit, permit, lambda: handler(ctx, event))
    except ContactBusy:
        raise task.retry(
            kwargs=_retry_kwargs(envelope, attempt, maybe_delivered), countdown=CONTACT_BUSY_RETRY_S
        ) from None
    except SkippableError as exc:
        log.info("engage.event.skipped", **exc.log_fields())
        result = Applied(detail=exc.error_code or type(exc).__name__)
    except PermanentError as exc:
        return reject(rt, event, tenant, ctx.attempt + 1, ctx.calls, exc)
    except (RetryableError, SystemicError) as exc:
        return _retry_ordead_letter(task, rt, event, tenant, ctx, envelope, exc)
    rt.ledger.mark_applied(tenant.name, event.id)
    log.info("engage.event.applied", outcome=result.outcome, calls=ctx.calls)
    return record(
        rt,
        event,
        tenant,
        result.outcome,
        attempt + 1,
        contact_id=result.contact_id,
        detail=result.detail,
        calls=ctx.calls,
    )


def _retry_kwargs(envelope: Mapping[str, Any], attempt: int, maybe_delivered: bool) -> dict[str, Any]:
    return {"envelope": dict(envelope), "attempt": attempt, "maybe_delivered": maybe_delivered}


def _retry_ordead_letter(
    task: RetryingTask,
    rt: Runtime,
    event: Any,
    tenant: Tenant,
    ctx: EventContext,
    envelope: Mapping[str, Any],
    exc: EngageError,
) -> dict[str, Any]:
    at_least = 0.0
    if isinstance(exc, RateLimited):
        at_least = max(exc.retry_after_s or 0.0, rt.limiter_cooldown_s(tenant))
    countdown = countdown_for(ctx.attempt, rt.retry_ladder_s, at_least_s=at_least)
    maybe_delivered = ctx.maybe_delivered or (isinstance(exc, EngageTimeout) and exc.maybe_delivered)
    if countdown is not None:
        log.warning(
            "engage.event.retry", countdown_s=round(countdown, 1), attempt=ctx.attempt + 1, **exc.log_fields()
        )
        raise task.retry(
            kwargs=_retry_kwargs(envelope, ctx.attempt + 1, maybe_delivered), countdown=countdown
        ) from None
    dead_letter(
        rt,
        DeadLetter(
            event_id=event.id,
            tenant=tenant.name,
            type=str(event.type),
            envelope=dict(envelope),
            error_class=type(exc).__name__,
            error_kind=exc.kind.value,
            engage_status=exc.status,
            engage_error_code=exc.error_code,
            message=str(exc)[:MAX_DETAIL_CHARS],
            attempts=ctx.attempt + 1,
        ),
        **exc.log_fields(),
    )
    return record(
        rt,
        event,
        tenant,
        "dead_lettered",
        ctx.attempt + 1,
        status=exc.status,
        code=exc.error_code,
        detail=str(exc),
        calls=ctx.calls,
    )


CIRCUIT_OPEN_ERROR_CLASS = "CircuitOpen"


def _circuit_open(
    task: RetryingTask,
    rt: Runtime,
    event: Any,
    tenant: Tenant,
    envelope: Mapping[str, Any],
    attempt: int,
    maybe_delivered: bool,
    permit: Permit,
) -> dict[str, Any]:
    """The tenant's breaker is open: hold the event (same ladder step) or dead-letter it for the files."""
    if tenant.fallback.on_breaker_open == "hold":
        countdown = permit.hold_countdown_s()
        log.warning("engage.event.held", countdown_s=round(countdown, 2), attempt=attempt)
        raise task.retry(kwargs=_retry_kwargs(envelope, attempt, maybe_delivered), countdown=countdown)
    detail = (
        f"circuit breaker open for tenant {tenant.name}: sent to the fallback path without calling Engage"
    )
    dead_letter(
        rt,
        DeadLetter(
            event_id=event.id,
            tenant=tenant.name,
            type=str(event.type),
            envelope=dict(envelope),
            error_class=CIRCUIT_OPEN_ERROR_CLASS,
            error_kind="systemic",
            message=detail,
            attempts=attempt,
        ),
        error_class=CIRCUIT_OPEN_ERROR_CLASS,
    )
    return record(rt, event, tenant, "dead_lettered", attempt, code=CIRCUIT_OPEN_ERROR_CLASS, detail=detail)
