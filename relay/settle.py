"""Settling an event: the records that end it (outcome, rejection, dead letter), never an Engage call.

`run_event` (relay/run.py) decides what happens; these functions write it down.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

import structlog

from engage.errors import PermanentError
from fallback.deadletters import DeadLetter
from fallback.rejected import Rejection
from relay.errors import EventUndecodable, UnknownTenant
from relay.outcomes import Outcome
from relay.runtime import Runtime
from relay.tenants import Tenant
from schemas.envelope import Envelope

log = structlog.get_logger("relay.run")

MAX_DETAIL_CHARS = 1000

SettledOutcome = Literal["applied", "superseded", "skipped", "duplicate", "rejected", "dead_lettered"]


def dead_letter(rt: Runtime, letter: DeadLetter, **log_fields: Any) -> None:
    rt.deadletters.add(letter)
    log.error("engage.event.dead_lettered", attempts=letter.attempts, **log_fields)
    rt.on_dead_letter(letter)


def reject(
    rt: Runtime, event: Envelope, tenant: Tenant, attempts: int, calls: list[str], exc: PermanentError
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
    return record(
        rt,
        event,
        tenant,
        "rejected",
        attempts,
        status=exc.status,
        code=exc.error_code,
        detail=str(exc),
        calls=calls,
    )


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


def record(
    rt: Runtime,
    event: Envelope,
    tenant: Tenant,
    outcome: SettledOutcome,
    attempts: int,
    *,
    contact_id: str | None = None,
    status: int | None = None,
    code: str | None = None,
    detail: str | None = None,
    calls: list[str] | None = None,
) -> dict[str, Any]:
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
    rt.outcomes.record(entry)
    return entry.model_dump(mode="json", exclude_none=True)
