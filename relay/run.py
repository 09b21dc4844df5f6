"""The one way every event runs: decode, check idempotency, apply, classify, record the outcome.

Free of Celery: `run_event` gets the event's `Delivery` (the message id, the attempt, whether an earlier
attempt may have reached Engage) and either settles the event or raises `RetryLater`, which the Celery
adapter (tasks/adapter.py) turns into a task retry. What happens to an error is decided here, by the
error tree of `engage.errors` (with the relay's branches in `relay.errors`):

- Skippable: done (already redeemed, duplicate) -> outcome `applied`.
- Permanent: the rejected store at once, with Engage's code and message -> outcome `rejected`.
- Retryable and Systemic: the retry ladder (a 429 waits at least what the limiter says); when the ladder
  is exhausted -> the dead-letter store, from where the fallback path delivers it by file or bulk API
  -> outcome `dead_lettered`.
- `ContactBusy`: another worker holds the contact; go again shortly, same ladder step.

Before the handler runs, the tenant's circuit breaker (relay/breaker.py) is asked. While it is open the
event is not sent to Engage; the tenant's `fallback.on_breaker_open` decides:

- "hold": the event comes back when the breaker may let a probe through (a countdown of its remaining open
  time, plus jitter). It keeps its ladder step, and no outcome is recorded while it waits (the log says
  `engage.event.held`): the event's one outcome is recorded when it is finally applied, rejected or
  dead-lettered.
- "fallback": dead-lettered at once with error_class "CircuitOpen", for the fallback sweep to deliver by
  file -> outcome `dead_lettered`.

What the handler's result says about Engage (up, down, neither; a 429 is neither) is recorded in the breaker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog

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
from relay import runtime as runtime_slot
from relay.breaker import Permit, guarded
from relay.context import Applied, E, EventContext, Handler
from relay.errors import ContactBusy, EventUndecodable, UnknownTenant
from relay.retry import countdown_for
from relay.runtime import Runtime
from relay.settle import MAX_DETAIL_CHARS, dead_letter, record, reject, reject_undecodable
from relay.tenants import Tenant
from schemas import InvalidEvent, parse_event
from schemas.envelope import Envelope

log = structlog.get_logger(__name__)

CIRCUIT_OPEN_ERROR_CLASS = "CircuitOpen"


@dataclass(frozen=True)
class Delivery:
    """How this run of the event came about: the message that carried it and its ladder step."""

    message_id: str | None
    attempt: int = 0
    maybe_delivered: bool = False  # an earlier attempt timed out after sending

    @property
    def claim_owner(self) -> str:
        return f"{self.message_id or 'task'}:{self.attempt}"


class RetryLater(Exception):
    """Run the event again in `countdown_s`, as `attempt` (the ladder step it will be on)."""

    def __init__(self, countdown_s: float, attempt: int, maybe_delivered: bool) -> None:
        super().__init__(f"retry in {countdown_s:.1f} s")
        self.countdown_s = countdown_s
        self.attempt = attempt
        self.maybe_delivered = maybe_delivered


def decode(rt: Runtime, envelope: Mapping[str, Any]) -> tuple[Envelope, Tenant]:
    """The typed event and its tenant, or `EventUndecodable` / `UnknownTenant`."""
    try:
        event: Envelope = parse_event(dict(envelope))
    except InvalidEvent as exc:
        raise EventUndecodable([dict(r) for r in exc.reasons]) from None
    return event, rt.registry.get(event.tenant)


def run_event(delivery: Delivery, envelope: Mapping[str, Any], handler: Handler[E]) -> dict[str, Any]:
    rt = runtime_slot.current()
    try:
        event, tenant = decode(rt, envelope)
    except (EventUndecodable, UnknownTenant) as exc:
        # Ingest validated it; a task message that fails now was edited or its tenant was removed.
        return reject_undecodable(rt, envelope, exc)
    with structlog.contextvars.bound_contextvars(
        event_id=event.id, tenant=tenant.name, event_type=str(event.type), task_id=delivery.message_id
    ):
        typed = handler.narrow(event)
        if typed is None:
            wrong = EventUndecodable([{"loc": ["type"], "msg": f"no handler here for {event.type}"}])
            return reject_undecodable(rt, envelope, wrong)
        if rt.ledger.was_applied(tenant.name, event.id):
            return record(
                rt, event, tenant, "duplicate", delivery.attempt + 1, detail="event id already applied"
            )
        claim = delivery.claim_owner
        if not rt.ledger.claim(tenant.name, event.id, claim):
            # Another copy of this event (published twice, or re-delivered) is being applied right now:
            # come back once it is settled, and find it applied.
            raise RetryLater(ContactBusy.retry_after_s, delivery.attempt, delivery.maybe_delivered)
        try:
            return _run_claimed(rt, delivery, event, typed, tenant, envelope, handler)
        finally:
            rt.ledger.release(tenant.name, event.id, claim)


def _run_claimed(
    rt: Runtime,
    delivery: Delivery,
    event: Envelope,
    typed: E,
    tenant: Tenant,
    envelope: Mapping[str, Any],
    handler: Handler[E],
) -> dict[str, Any]:
    permit = rt.circuit.allow(tenant.name)
    if not permit.allowed:
        return _circuit_open(rt, delivery, event, tenant, envelope, permit)
    ctx = EventContext(rt, tenant, rt.client_for(tenant), delivery.attempt, delivery.maybe_delivered)
    try:
        result: Applied = guarded(rt.circuit, permit, lambda: handler(ctx, typed))
    except ContactBusy:
        raise RetryLater(ContactBusy.retry_after_s, delivery.attempt, delivery.maybe_delivered) from None
    except SkippableError as exc:
        log.info("engage.event.skipped", **exc.log_fields())
        result = Applied(detail=exc.error_code or type(exc).__name__)
    except PermanentError as exc:
        return reject(rt, event, tenant, ctx.attempt + 1, ctx.calls, exc)
    except (RetryableError, SystemicError) as exc:
        return _retry_or_dead_letter(rt, event, tenant, ctx, envelope, exc)
    rt.ledger.mark_applied(tenant.name, event.id)
    log.info("engage.event.applied", outcome=result.outcome, calls=ctx.calls)
    return record(
        rt,
        event,
        tenant,
        result.outcome,
        delivery.attempt + 1,
        contact_id=result.contact_id,
        detail=result.detail,
        calls=ctx.calls,
    )


def _retry_or_dead_letter(
    rt: Runtime,
    event: Envelope,
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
        raise RetryLater(countdown, ctx.attempt + 1, maybe_delivered) from None
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


def _circuit_open(
    rt: Runtime,
    delivery: Delivery,
    event: Envelope,
    tenant: Tenant,
    envelope: Mapping[str, Any],
    permit: Permit,
) -> dict[str, Any]:
    """The tenant's breaker is open: hold the event (same ladder step) or dead-letter it for the files."""
    if tenant.fallback.on_breaker_open == "hold":
        countdown = permit.hold_countdown_s()
        log.warning("engage.event.held", countdown_s=round(countdown, 2), attempt=delivery.attempt)
        raise RetryLater(countdown, delivery.attempt, delivery.maybe_delivered)
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
            attempts=delivery.attempt,
        ),
        error_class=CIRCUIT_OPEN_ERROR_CLASS,
    )
    return record(
        rt, event, tenant, "dead_lettered", delivery.attempt, code=CIRCUIT_OPEN_ERROR_CLASS, detail=detail
    )
