"""The one way every event runs: decode, check it is not settled already, apply, classify, settle or park.

Free of Celery: `run_job` gets the event's `Job` from the schedule (relay/schedule.py) and either settles
it (one final outcome, written atomically with its marker, its trail and the job's end) or parks it in the
schedule with the time it may run again. Nothing here waits in a worker thread. What happens to an error
is decided by the error tree (`engage.errors`, with the relay's branches in `relay.errors`):

- Skippable: done (already redeemed) -> outcome `applied`.
- Deferred (a 429, our own limiter, a busy contact): parked until the key's cooldown or a moment later,
  on the same ladder step; a 429 is never a ladder step and never opens the breaker.
- Systemic (the key refused, InvalidSystemConfiguration): the breaker trips with the cause, the event is
  held (backlog lane) and drains by itself once a probe succeeds; never dead-lettered.
- Retryable (unreachable, timeouts, 5xx): the next ladder step, parked; when the ladder is exhausted ->
  the dead-letter store, keeping the real cause.
- Identity conflict: the dead-letter store at once, with both contacts, for an operator (never merged).
- Permanent: the rejected store at once, with Engage's code and message -> outcome `rejected`.

While the tenant's breaker is open (or the tenant is paused) the event is not sent: it is held in the
backlog lane, on the same ladder step, with no outcome; the mover sends held events again once the
breaker lets calls through. A copy of an event that is already settled gets no second outcome; the same id
with another payload is an `IdConflict`, kept with both payloads.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import structlog

from engage.errors import (
    DeferredError,
    EngageError,
    EngageTimeout,
    PermanentError,
    RetryableError,
    SkippableError,
    SystemicError,
)
from fallback.deadletters import DeadLetter
from relay import closing
from relay import runtime as runtime_slot
from relay.batch import Batch
from relay.breaker import Permit, guarded
from relay.closing import Hold, let_go
from relay.context import Applied, E, EventContext, Handler
from relay.errors import (
    ContactBusy,
    EventUndecodable,
    IdConflict,
    IdentityConflict,
    OrderStatePending,
    UnknownTenant,
)
from relay.retry import HOLD_RECHECK_S, countdown_for
from relay.runtime import Runtime
from relay.schedule import Job, WaitReason, envelope_digest
from relay.settle import MAX_DETAIL_CHARS, finish, reject, reject_conflict, reject_undecodable
from relay.spill.fence import FileInFlight
from relay.start import start
from relay.tenants import Tenant
from relay.trail import TrailEntry
from schemas import InvalidEvent, parse_event
from schemas.envelope import Envelope

log = structlog.get_logger(__name__)

DEFERRED_JITTER_S = 0.25  # deferred jobs come back spread over up to this much, not as one burst


def decode(rt: Runtime, envelope: Mapping[str, Any]) -> tuple[Envelope, Tenant]:
    """The typed event and its tenant, or `EventUndecodable` / `UnknownTenant`."""
    try:
        event: Envelope = parse_event(dict(envelope))
    except InvalidEvent as exc:
        raise EventUndecodable([dict(r) for r in exc.reasons]) from None
    return event, rt.registry.get(event.tenant)


def job_for(envelope: Mapping[str, Any], *, attempt: int = 0, maybe_delivered: bool = False) -> Job:
    """A job for an envelope that comes without one (a task message of the first version, a test)."""
    ids = {k: str(envelope.get(k) or "") for k in ("id", "tenant", "type")}
    return Job(
        event_id=ids["id"],
        tenant=ids["tenant"],
        type=ids["type"],
        envelope=dict(envelope),
        digest=envelope_digest(envelope),
        attempt=attempt,
        maybe_delivered=maybe_delivered,
    )


def run_job(job: Job, handler: Handler[E], *, message_id: str | None = None) -> dict[str, Any]:
    rt = runtime_slot.current()
    try:
        event, tenant = decode(rt, job.envelope)
    except (EventUndecodable, UnknownTenant) as exc:
        # Ingest validated it; a job that fails now was edited or its tenant was removed.
        rt.schedule.settle(job.tenant, job.event_id)
        return reject_undecodable(rt, job.envelope, exc)
    with structlog.contextvars.bound_contextvars(
        event_id=event.id, tenant=tenant.name, event_type=str(event.type), task_id=message_id
    ):
        typed = handler.narrow(event)
        if typed is None:
            rt.schedule.settle(job.tenant, job.event_id)
            wrong = EventUndecodable([{"loc": ["type"], "msg": f"no handler here for {event.type}"}])
            return reject_undecodable(rt, job.envelope, wrong)
        claim = f"{message_id or 'job'}:{job.attempt}"
        begun = start(rt, job, claim)  # the marker, the lease, the claim, the pause, the breaker: one trip
        if begun.mark is not None:
            return _already_settled(rt, job, event, tenant, begun.mark.matches(job.digest))
        claimed, paused, closed = begun.claimed, begun.paused, begun.breaker_closed
        if not begun.touched:
            # Not in the schedule: a first-version message, or a copy re-driven after its event ended.
            admitted = rt.schedule.admit([job])[0]
            if admitted.verdict != "admitted":
                log.info("engage.event.copy_dropped", reason="already owned by the schedule")
                return {"outcome": "in_flight"}
            rt.schedule.touch(job, rt.lease_s)
            claimed = rt.ledger.claim(tenant.name, event.id, claim)
            paused = claimed and rt.paused(tenant.name)
            closed = False
        if not claimed:
            # Another copy is being applied right now; it settles or parks the job. If its worker dies,
            # the job's lease runs out and the mover sends it again.
            log.info("engage.event.in_flight")
            return {"outcome": "in_flight"}
        hold = Hold(tenant.name, event.id, claim)  # let go in the run's last write, else here
        try:
            return _run_claimed(rt, job, event, typed, tenant, handler, hold, paused=paused, closed=closed)
        finally:
            let_go(rt, hold)


def _already_settled(rt: Runtime, job: Job, event: Envelope, tenant: Tenant, same: bool) -> dict[str, Any]:
    if not same:
        rt.schedule.settle(tenant.name, event.id)
        return reject_conflict(rt, job, tenant, IdConflict(event.id, "an event with this id was settled"))
    log.info("engage.event.duplicate", detail="a copy of an event already settled: no second outcome")
    batch = Batch(rt.redis)
    rt.schedule.settle_in(batch, tenant.name, event.id)
    rt.trail.add_in(batch, tenant.name, event.id, TrailEntry(step="duplicate", attempt=job.attempt))
    batch.commit()
    return {"outcome": "duplicate"}


def _run_claimed(  # noqa: PLR0911 - one return per branch of the error tree reads best here
    rt: Runtime,
    job: Job,
    event: Envelope,
    typed: E,
    tenant: Tenant,
    handler: Handler[E],
    hold: Hold,
    *,
    paused: bool,
    closed: bool,
) -> dict[str, Any]:
    if paused:
        return park(rt, job, "paused", time.time() + HOLD_RECHECK_S, lane="backlog", hold=hold)
    behind = _behind_older(rt, job, hold, closed=closed)
    if behind is not None:
        return behind
    # a breaker the start script found closed lets the call through, as `allow` would (no round trip)
    permit = Permit(tenant.name, allowed=True) if closed else rt.circuit.allow(tenant.name)
    if not permit.allowed:
        wait_s = max(permit.retry_after_s, HOLD_RECHECK_S)
        return park(rt, job, "held", time.time() + wait_s, lane="backlog", detail="breaker open", hold=hold)
    ctx = EventContext(rt, tenant, rt.client_for(tenant, job.lane), job.attempt, job.maybe_delivered, job)
    try:
        # the success is recorded with the run's last write (relay/closing.py), a failure at once
        call = functools.partial(_applied, handler, ctx, typed)
        result: Applied = guarded(rt.circuit, permit, call, defer_success=True)
        hold.success = permit
    except DeferredError as exc:
        wait_s = max(exc.retry_after_s or 0.0, rt.limiter_cooldown_s(tenant))
        wait_s += random.uniform(0, DEFERRED_JITTER_S)  # noqa: S311 - spreading, not security
        reason = _deferred_reason(exc)
        return park(rt, job, reason, time.time() + wait_s, error=exc, hold=hold)
    except SkippableError as exc:
        log.info("engage.event.skipped", **exc.log_fields())
        result = Applied(detail=exc.error_code or type(exc).__name__)
    except IdentityConflict as exc:
        return dead_letter(rt, job, event, tenant, ctx, exc)
    except PermanentError as exc:
        return reject(rt, job, event, tenant, ctx.attempt + 1, ctx.calls, exc, hold)
    except SystemicError as exc:
        log.error("engage.tenant.held", cause=rt.circuit.info(tenant.name).cause, **exc.log_fields())
        return park(rt, job, "held", time.time() + HOLD_RECHECK_S, lane="backlog", error=exc, hold=hold)
    except RetryableError as exc:
        if permit.is_probe and rt.circuit.state(tenant.name) != "closed":
            # the probe found Engage still down: the outage's doing, not the event's; held, same step
            wait_s = max(rt.circuit.allow(tenant.name).retry_after_s, HOLD_RECHECK_S)
            return park(
                rt,
                job,
                "held",
                time.time() + wait_s,
                lane="backlog",
                error=exc,
                detail="probe failed",
                hold=hold,
            )
        return _retry_or_dead_letter(rt, job, event, tenant, ctx, exc, hold)
    if ctx.parked is not None:  # the handler waits for Engage (an order job): same step, its own state
        due_s, reason, state = ctx.parked
        return park(rt, job, reason, due_s, state=state, hold=hold)
    log.info("engage.event.applied", outcome=result.outcome, calls=ctx.calls)
    return finish(
        rt,
        job,
        event,
        tenant,
        result.outcome,
        job.attempt + 1,
        contact_id=result.contact_id,
        detail=result.detail,
        calls=ctx.calls,
        hold=hold,
    )


def _behind_older(rt: Runtime, job: Job, hold: Hold, *, closed: bool) -> dict[str, Any] | None:
    """An event of an order waits while an older event of the same order is in the schedule
    (relay/sequence.py); a job following its own order job goes on (it was the oldest when it wrote).

    While the tenant's breaker is not closed (`closed`: the start script found it so) it waits in the
    backlog lane, with the held events. In the
    live lane it would be the one job a half-open breaker's pass sends, and it parks again without calling
    Engage: the probe would never go, and the older events it waits for would stay held."""
    if job.sequence is None or job.state:
        return None
    ahead = rt.schedule.ahead(job)
    if ahead is None:
        return None
    detail = f"{ahead.count} older event(s) of {job.sequence} first"
    held = not closed and rt.circuit.state(job.tenant) != "closed"  # read only for a job that waits
    due_s = ahead.look_again_at(time.time())
    return park(rt, job, "sequence", due_s, lane="backlog" if held else None, detail=detail, hold=hold)


def _applied(handler: Handler[E], ctx: EventContext, event: E) -> Applied:
    try:
        return handler(ctx, event)
    except (FileInFlight, OrderStatePending) as exc:
        exc.engage_answered = bool(ctx.calls)  # every call before it succeeded: Engage is up (a probe counts)
        raise


def _deferred_reason(exc: DeferredError) -> WaitReason:
    if isinstance(exc, ContactBusy):
        return "busy"
    if isinstance(exc, FileInFlight):
        return "file"
    if isinstance(exc, OrderStatePending):
        return "sequence"
    return "rate_limited"


def park(
    rt: Runtime,
    job: Job,
    reason: WaitReason,
    due_s: float,
    *,
    lane: str | None = None,
    attempt: int | None = None,
    maybe_delivered: bool | None = None,
    state: dict[str, Any] | None = None,
    error: EngageError | None = None,
    detail: str | None = None,
    hold: Hold | None = None,
) -> dict[str, Any]:
    """Keep the job until `due_s`; one write with its trail entry (and what the run holds let go in it,
    when it can: relay/closing.py)."""
    changes: dict[str, Any] = {}
    if lane is not None:
        changes["lane"] = lane
    if attempt is not None:
        changes["attempt"] = attempt
    if maybe_delivered is not None:
        changes["maybe_delivered"] = maybe_delivered
    if state is not None:
        changes["state"] = state
    waiting = job.waiting(reason=reason, **changes)
    entry = TrailEntry(
        step="parked",
        attempt=waiting.attempt,
        lane=waiting.lane,
        reason=reason,
        due=datetime.fromtimestamp(due_s, UTC),
        engage_status=error.status if error is not None else None,
        error=(error.error_code or type(error).__name__) if error is not None else None,
        detail=detail,
    )
    batch = closing.last_write(rt)
    rt.schedule.park_in(batch, waiting, due_s)
    rt.trail.add_in(batch, job.tenant, job.event_id, entry)
    closing.commit(rt, batch, guard=None, hold=hold)
    log.info(
        "engage.event.parked", reason=reason, wait_s=round(due_s - time.time(), 2), attempt=waiting.attempt
    )
    return {"outcome": "parked", "reason": reason, "type": job.type, "tenant": job.tenant}


def _retry_or_dead_letter(
    rt: Runtime,
    job: Job,
    event: Envelope,
    tenant: Tenant,
    ctx: EventContext,
    exc: RetryableError,
    hold: Hold,
) -> dict[str, Any]:
    countdown = countdown_for(ctx.attempt, rt.retry_ladder_s)
    maybe_delivered = ctx.maybe_delivered or (isinstance(exc, EngageTimeout) and exc.maybe_delivered)
    if countdown is None:
        return dead_letter(rt, job, event, tenant, ctx, exc)
    log.warning(
        "engage.event.retry", countdown_s=round(countdown, 1), attempt=ctx.attempt + 1, **exc.log_fields()
    )
    return park(
        rt,
        job,
        "ladder",
        time.time() + countdown,
        attempt=ctx.attempt + 1,
        maybe_delivered=maybe_delivered,
        state={},  # a new step starts over (an order job that failed is written again)
        error=exc,
        hold=hold,
    )


def dead_letter(
    rt: Runtime, job: Job, event: Envelope, tenant: Tenant, ctx: EventContext, exc: EngageError
) -> dict[str, Any]:
    """The event waits for an operator (or the file fallback) in the dead letters, with its real cause."""
    letter = DeadLetter(
        event_id=event.id,
        tenant=tenant.name,
        type=str(event.type),
        envelope=dict(job.envelope),
        error_class=type(exc).__name__,
        error_kind=exc.kind.value,
        engage_status=exc.status,
        engage_error_code=exc.error_code,
        message=str(exc)[:MAX_DETAIL_CHARS],
        attempts=ctx.attempt + 1,
        stream_entry=job.stream_entry,
        details=getattr(exc, "details", None),
        # an identity conflict is for an operator, never for the file fallback (it would merge the people)
        fallback_state="not_applicable" if isinstance(exc, IdentityConflict) else "pending",
    )
    rt.deadletters.add(letter)
    batch = Batch(rt.redis)
    rt.schedule.settle_in(batch, tenant.name, event.id)
    rt.schedule.leave_sequence_in(batch, job)
    rt.ledger.mark_settled_in(batch, tenant.name, event.id, "dead_lettered", job.digest)
    entry = TrailEntry(
        step="dead_lettered",
        attempt=ctx.attempt + 1,
        engage_status=exc.status,
        error=exc.error_code or type(exc).__name__,
        detail=str(exc)[:MAX_DETAIL_CHARS],
    )
    rt.trail.add_in(batch, tenant.name, event.id, entry)
    batch.commit()
    log.error("engage.event.dead_lettered", attempts=letter.attempts, **exc.log_fields())
    rt.on_dead_letter(letter)
    return {
        "outcome": "dead_lettered",
        "type": letter.type,
        "tenant": letter.tenant,
        "engage_status": exc.status,
        "engage_error_code": exc.error_code,
    }
