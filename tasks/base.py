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

import json
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
from fallback.rejected import Rejection
from schemas import InvalidEvent, parse_event
from tasks import runtime as runtime_slot
from tasks.breaker import Permit, guarded
from tasks.ledger import ContactBusy
from tasks.outcomes import Outcome
from tasks.retry import CONTACT_BUSY_RETRY_S, countdown_for
from tasks.runtime import Runtime
from tasks.tenants import Tenant, UnknownTenant

log = structlog.get_logger(__name__)

MAX_DETAIL_CHARS = 1000


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
        return _reject_undecodable(rt, envelope, exc)
    with structlog.contextvars.bound_contextvars(
        event_id=event.id, tenant=tenant.name, event_type=str(event.type), task_id=task.request.id
    ):
        if rt.ledger.was_applied(tenant.name, event.id):
            return _record(rt, event, tenant, "duplicate", attempt + 1, detail="event id already applied")
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
        return _reject(rt, event, tenant, ctx, exc)
    except (RetryableError, SystemicError) as exc:
        return _retry_or_dead_letter(task, rt, event, tenant, ctx, envelope, exc)
    rt.ledger.mark_applied(tenant.name, event.id)
    log.info("engage.event.applied", outcome=result.outcome, calls=ctx.calls)
    return _record(
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


def _retry_or_dead_letter(
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
    _dead_letter(
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
    return _record(
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


def _dead_letter(rt: Runtime, letter: DeadLetter, **log_fields: Any) -> None:
    rt.deadletters.add(letter)
    log.error("engage.event.dead_lettered", attempts=letter.attempts, **log_fields)
    rt.on_dead_letter(letter)


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
    _dead_letter(
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
    return _record(rt, event, tenant, "dead_lettered", attempt, code=CIRCUIT_OPEN_ERROR_CLASS, detail=detail)


def _reject(
    rt: Runtime, event: Any, tenant: Tenant, ctx: EventContext, exc: PermanentError
) -> dict[str, Any]:
    reason: dict[str, Any] = {
        "loc": ["engage"],
        "msg": str(exc),
        "status": exc.status,
        "error_code": exc.error_code,
    }
    field_errors = getattr(exc, "field_errors", None)
    if field_errors:
        reason["fields"] = [{"field": f.field, "message": f.message} for f in field_errors]
    rt.rejected.add(
        Rejection(
            raw=event.model_dump_json(),
            reasons=[reason],
            stage="engage",
            event_id=event.id,
            tenant=tenant.name,
            type=str(event.type),
        )
    )
    log.warning("engage.event.rejected", **exc.log_fields())
    return _record(
        rt,
        event,
        tenant,
        "rejected",
        ctx.attempt + 1,
        status=exc.status,
        code=exc.error_code,
        detail=str(exc),
        calls=ctx.calls,
    )


def _reject_undecodable(rt: Runtime, envelope: Mapping[str, Any], exc: Exception) -> dict[str, Any]:
    reasons = (
        [dict(r) for r in exc.reasons]
        if isinstance(exc, InvalidEvent)
        else [{"loc": ["tenant"], "msg": str(exc)}]
    )
    ids = {k: envelope.get(k) if isinstance(envelope.get(k), str) else None for k in ("id", "tenant", "type")}
    rt.rejected.add(
        Rejection(
            raw=_json(envelope),
            reasons=reasons,
            stage="task",
            event_id=ids["id"],
            tenant=ids["tenant"],
            type=ids["type"],
        )
    )
    if ids["id"] is not None:
        rt.outcomes.record(
            Outcome(
                event_id=ids["id"],
                type=ids["type"] or "unknown",
                tenant=ids["tenant"] or "unknown",
                outcome="rejected",
                detail=str(exc)[:MAX_DETAIL_CHARS],
            )
        )
    return {"outcome": "rejected"}


def _json(envelope: Mapping[str, Any]) -> str:
    return json.dumps(envelope, ensure_ascii=False, default=str)


def _record(
    rt: Runtime,
    event: Any,
    tenant: Tenant,
    outcome: Literal["applied", "superseded", "skipped", "duplicate", "rejected", "dead_lettered"],
    attempts: int,
    *,
    contact_id: str | None = None,
    status: int | None = None,
    code: str | None = None,
    detail: str | None = None,
    calls: list[str] | None = None,
) -> dict[str, Any]:
    record = Outcome(
        event_id=event.id,
        type=str(event.type),
        tenant=tenant.name,
        outcome=outcome,
        contact_id=contact_id,
        engage_status=status,
        engage_error_code=code,
        detail=detail[:MAX_DETAIL_CHARS] if detail else None,
        attempts=max(attempts, 1),
        calls=list(calls or []),
    )
    rt.outcomes.record(record)
    return record.model_dump(mode="json", exclude_none=True)
