"""Settling an event: the records that end it, never an Engage call.

`run_job` (relay/run.py) decides what happens; these functions write it down. An event ends once: its
final outcome (on the outcome stream), its settled marker (so a copy gets no second outcome), the end of
its job in the schedule and its trail entry are one atomic write (`relay.batch.Batch`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any, Literal

import redis
import structlog

from engage.errors import PermanentError
from fallback.rejected import Rejection
from relay import closing
from relay.closing import Hold
from relay.errors import EventUndecodable, IdConflict, UnknownTenant
from relay.ledger import decode_settled
from relay.outcomes import Outcome, OutcomeKind
from relay.readcache import kinds_changed_by
from relay.runtime import Runtime
from relay.schedule import Job
from relay.tenants import Tenant
from relay.trail import TrailEntry
from schemas.envelope import Envelope

log = structlog.get_logger("relay.run")

MAX_DETAIL_CHARS = 1000

FinalOutcome = Literal["applied", "superseded", "skipped", "rejected", "delivered_by_file"]


def finish(
    rt: Runtime,
    job: Job,
    event: Envelope,
    tenant: Tenant,
    outcome: FinalOutcome,
    attempts: int,
    *,
    contact_id: str | None = None,
    status: int | None = None,
    code: str | None = None,
    detail: str | None = None,
    calls: list[str] | None = None,
    hold: Hold | None = None,
) -> dict[str, Any]:
    """The event's one final outcome, its marker, its trail entry and the end of its job: one write (with
    what the run holds let go in it, when it can: relay/closing.py)."""
    entry = Outcome(
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
    if not write_final(rt, job, entry, hold):
        return {"outcome": "duplicate", "type": entry.type, "tenant": entry.tenant}
    return entry.model_dump(mode="json", exclude_none=True)


FINAL_WRITE_TRIES = 5
_memory_final = threading.Lock()  # the in-memory twins: one final write at a time in the process


def write_final(rt: Runtime, job: Job, entry: Outcome, hold: Hold | None = None) -> bool:
    """The atomic end of an event (also used by the file fallback for `delivered_by_file`): the outcome,
    the marker, the trail and the end of the job, unless the event already has its final outcome (a copy
    applied by the API while the file fallback delivered it, or the other way round). True when written.

    With the ledger on the runtime's Redis this is one script that checks the marker and writes, with the
    run's claim released and its breaker success recorded in the same round trip (relay/closing.py).
    Otherwise an optimistic transaction on the event's marker: read it, decide, write; a marker that
    changed meanwhile makes the transaction fail and the decision is taken again."""
    if rt.redis is None:
        with _memory_final:
            return _write_final_once(rt, job, entry, hold)
    for _ in range(FINAL_WRITE_TRIES):
        try:
            return _write_final_once(rt, job, entry, hold)
        except redis.WatchError:
            continue
    raise RuntimeError(f"the final outcome of {entry.event_id} kept changing under a concurrent write")


def _write_final_once(rt: Runtime, job: Job, entry: Outcome, hold: Hold | None) -> bool:
    guard = (entry.tenant, entry.event_id)
    batch = closing.last_write(rt, guard=guard)
    if not batch.scripted:
        mark = rt.ledger.settled(entry.tenant, entry.event_id)
        if mark is not None and mark.final:
            batch.abort()
            return _duplicate(mark.outcome)
    rt.outcomes.record_in(batch, entry)
    rt.ledger.mark_settled_in(batch, entry.tenant, entry.event_id, entry.outcome, job.digest)
    rt.schedule.settle_in(batch, entry.tenant, entry.event_id)
    rt.schedule.leave_sequence_in(batch, job)
    trail = TrailEntry(
        step="outcome",
        outcome=entry.outcome,
        contact_id=entry.contact_id,
        engage_status=entry.engage_status,
        error=entry.engage_error_code,
        attempt=entry.attempts,
    )
    rt.trail.add_in(batch, entry.tenant, entry.event_id, trail)
    if entry.outcome == "applied" and entry.contact_id and (kinds := kinds_changed_by(entry.type)):
        # what the write changed leaves the read cache, in the same write (no round trip of its own)
        rt.read_cache.invalidate_in(batch, entry.tenant, entry.contact_id, kinds)
    stopped = closing.commit(rt, batch, guard=guard, hold=hold)
    if stopped is not None:
        return _duplicate(decode_settled(stopped.decode()).outcome)
    return True


def _duplicate(outcome: str) -> bool:
    log.info("engage.event.duplicate", detail=f"already settled as {outcome}: no second outcome")
    return False


def reject(
    rt: Runtime,
    job: Job,
    event: Envelope,
    tenant: Tenant,
    attempts: int,
    calls: list[str],
    exc: PermanentError,
    hold: Hold | None = None,
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
    return finish(
        rt,
        job,
        event,
        tenant,
        "rejected",
        attempts,
        status=exc.status,
        code=exc.error_code,
        detail=str(exc),
        calls=calls,
        hold=hold,
    )


def reject_conflict(
    rt: Runtime, job: Job, tenant: Tenant, exc: IdConflict, earlier: Job | None = None
) -> dict[str, Any]:
    """Another payload under a known id: kept with both payloads (when the first is still known), never
    applied, and no outcome (the first copy has, or will have, the event's one outcome)."""
    reasons: list[dict[str, Any]] = [{"loc": ["id"], "msg": str(exc), "error_code": type(exc).__name__}]
    if earlier is not None:
        reasons.append(
            {"loc": ["id"], "msg": "the payload first received under this id", "first": earlier.envelope}
        )
    else:
        reasons.append({"loc": ["id"], "msg": "the first payload was settled and is no longer kept"})
    rt.rejected.add(
        Rejection(
            raw=_json(job.envelope),
            reasons=reasons,
            stage="conflict",
            event_id=job.event_id,
            tenant=tenant.name,
            type=job.type,
        )
    )
    rt.trail.add(tenant.name, job.event_id, TrailEntry(step="conflict", error=type(exc).__name__))
    log.warning("engage.event.id_conflict", event_id=job.event_id)
    return {"outcome": "conflict"}


def reject_undecodable(
    rt: Runtime, envelope: Mapping[str, Any], exc: EventUndecodable | UnknownTenant
) -> dict[str, Any]:
    reasons = (
        [dict(r) for r in exc.reasons]
        if isinstance(exc, EventUndecodable)
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
        outcome: OutcomeKind = "rejected"
        rt.outcomes.record(
            Outcome(
                event_id=ids["id"],
                type=ids["type"] or "unknown",
                tenant=ids["tenant"] or "unknown",
                outcome=outcome,
                detail=str(exc)[:MAX_DETAIL_CHARS],
            )
        )
    return {"outcome": "rejected"}


def _json(envelope: Mapping[str, Any]) -> str:
    return json.dumps(envelope, ensure_ascii=False, default=str)
