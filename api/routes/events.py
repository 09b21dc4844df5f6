"""``POST /v1/events`` (webhook ingest onto the events stream) and ``GET /v1/events/{event_id}`` (its trail).

Ingest does what ``engage-relay ingest`` does to a stream entry, before the entry exists: every envelope is
validated with ``schemas.parse_event``; an invalid one (or one for a tenant this token may not see, told
apart from an unknown tenant by nothing) goes to the rejected store with every reason (stage ``api``)
and gets its ``rejected`` outcome; the valid ones are appended to the same stream with the same ``XADD``,
where ingest admits them with the same idempotency by event id (a copy is a duplicate, another payload
under the same id a conflict kept for an operator). 202 when all were accepted; 422 with every reason per
rejected envelope otherwise (the valid ones are published all the same).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import Caller, CallerTenant, Services
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody, not_found
from api.ingest import BodyRefused, is_ndjson, split_body
from api.services import ApiServices
from api.settings import MAX_EVENT_BYTES, MAX_EVENTS_PER_REQUEST, MAX_REQUEST_BYTES
from api.tokens import TokenScope
from fallback.rejected import Rejection, raw_text
from relay.ledger import Settled
from relay.outcomes import Outcome
from relay.trail import TrailEntry
from schemas import InvalidEvent, parse_event
from schemas.publish import EVENT_FIELD

router = APIRouter(prefix="/v1/events", tags=["events"], responses=ERROR_RESPONSES)

MAX_ID_ECHO_CHARS = 128


class Accepted(BaseModel):
    index: int
    id: str
    tenant: str
    type: str
    stream_entry: str


class Refused(BaseModel):
    index: int
    id: str | None = None
    reasons: list[dict[str, Any]]


class IngestAnswer(BaseModel):
    accepted: list[Accepted]
    rejected: list[Refused]


_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            f"One envelope, a JSON array of envelopes, or NDJSON (one per line). At most "
            f"{MAX_REQUEST_BYTES} bytes per request, {MAX_EVENT_BYTES} per envelope, "
            f"{MAX_EVENTS_PER_REQUEST} envelopes."
        ),
        "content": {
            "application/json": {"schema": {"oneOf": [{"type": "object"}, {"type": "array"}]}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


@router.post(
    "",
    status_code=202,
    response_model=IngestAnswer,
    summary="Publish events (one, an array, or NDJSON) onto the events stream",
    openapi_extra=_BODY_DOC,
    responses={
        400: {"model": ErrorBody, "description": "the body is not envelopes"},
        413: {"model": ErrorBody, "description": "too many or too large envelopes"},
        422: {"model": IngestAnswer, "description": "some envelopes were rejected (the rest published)"},
    },
)
async def publish_events(request: Request, svc: Services, scope: Caller) -> JSONResponse:
    body = await _read_capped(request)
    try:
        raws = split_body(body, ndjson=is_ndjson(request.headers.get("content-type")))
    except BodyRefused as exc:
        raise ApiError(exc.status, exc.code, str(exc)) from None
    answer = await run_in_threadpool(_publish, svc, scope, raws)
    return JSONResponse(answer.model_dump(mode="json"), status_code=422 if answer.rejected else 202)


async def _read_capped(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> ApiError:
    return ApiError(
        413, "too_large", f"a request is at most {MAX_REQUEST_BYTES} bytes; send the events in several"
    )


def _publish(svc: ApiServices, scope: TokenScope, raws: list[bytes]) -> IngestAnswer:
    valid: list[tuple[int, bytes, str, str, str]] = []
    refused: list[Refused] = []
    for index, raw in enumerate(raws):
        try:
            event = parse_event(raw)
        except InvalidEvent as exc:
            reasons = [dict(r) for r in exc.reasons]
            # its outcome only for a tenant this token may write to: no token marks another's events
            record = isinstance(exc.tenant, str) and scope.allows(exc.tenant)
            _reject(svc, raw, reasons, exc.event_id, exc.tenant, exc.event_type, record=record)
            refused.append(Refused(index=index, id=_echo(exc.event_id), reasons=reasons))
            continue
        if not scope.allows(event.tenant) or event.tenant not in svc.registry:
            # the same words whether the tenant exists or not: a token learns nothing of other tenants
            reason = {"loc": ["tenant"], "msg": f"unknown tenant {event.tenant!r} for this token"}
            _reject(svc, raw, [reason], event.id, event.tenant, str(event.type), record=False)
            refused.append(Refused(index=index, id=event.id, reasons=[reason]))
            continue
        valid.append((index, raw, event.id, event.tenant, str(event.type)))
    accepted: list[Accepted] = []
    if valid:
        pipe = svc.redis.pipeline(transaction=False)
        for _, raw, *_rest in valid:
            pipe.xadd(svc.settings.events_stream, {EVENT_FIELD: raw})
        for (index, _, event_id, tenant, type_), entry in zip(valid, pipe.execute(), strict=True):
            entry_id = entry.decode() if isinstance(entry, bytes) else str(entry)
            accepted.append(
                Accepted(index=index, id=event_id, tenant=tenant, type=type_, stream_entry=entry_id)
            )
    return IngestAnswer(accepted=accepted, rejected=refused)


def _echo(value: object) -> str | None:
    return value[:MAX_ID_ECHO_CHARS] if isinstance(value, str) and value else None


def _reject(
    svc: ApiServices,
    raw: bytes,
    reasons: list[dict[str, Any]],
    event_id: object,
    tenant: object,
    type_: object,
    *,
    record: bool,
) -> None:
    event_id, tenant, type_ = _echo(event_id), _echo(tenant), _echo(type_)
    svc.rejected.add(
        Rejection(
            raw=raw_text(raw), reasons=reasons, stage="api", event_id=event_id, tenant=tenant, type=type_
        )
    )
    if record and event_id is not None and tenant is not None and tenant in svc.registry:
        svc.outcomes.record(
            Outcome(
                event_id=event_id,
                type=type_ or "unknown",
                tenant=tenant,
                outcome="rejected",
                detail="; ".join(str(r.get("msg")) for r in reasons)[:1000],
            )
        )


# -- the trail -------------------------------------------------------------------------------------------

EventState = Literal["pending", "settled", "dead_lettered", "spilled"]
"""pending: admitted and not ended; settled: its final outcome is recorded; dead_lettered, spilled: handed
over to the dead letters or the file fallback, its outcome to come."""


class EventTrail(BaseModel):
    event_id: str
    tenant: str
    state: EventState
    outcome: str | None = None
    contact_id: str | None = None
    attempts: int = 0
    holds: list[dict[str, Any]]
    steps: list[dict[str, Any]]


HOLD_REASONS = ("held", "paused", "rate_limited", "file")


@router.get(
    "/{event_id}",
    response_model=EventTrail,
    summary="An event's outcome trail: attempts, holds, the final outcome, the contactId",
)
def event_trail(
    svc: Services, tenant: CallerTenant, event_id: Annotated[str, Path(max_length=MAX_ID_ECHO_CHARS)]
) -> EventTrail:
    entries = svc.trail.read(tenant.name, event_id)
    settled = svc.ledger.settled(tenant.name, event_id)
    if not entries and settled is None:
        raise not_found("no such event for this tenant (it may not have been ingested yet)")
    final = next((e for e in reversed(entries) if e.step == "outcome"), None)
    contact_id = next((e.contact_id for e in reversed(entries) if e.contact_id), None)
    attempts = max((e.attempt or 0 for e in entries), default=0)
    return EventTrail(
        event_id=event_id,
        tenant=tenant.name,
        state=_state(settled),
        outcome=final.outcome if final else (settled.outcome if settled else None),
        contact_id=contact_id,
        attempts=attempts,
        holds=[_plain(e) for e in entries if e.step == "parked" and e.reason in HOLD_REASONS],
        steps=[_plain(e) for e in entries],
    )


def _state(settled: Settled | None) -> EventState:
    if settled is None:
        return "pending"
    if settled.final:
        return "settled"
    return "spilled" if settled.outcome == "spilled" else "dead_lettered"


def _plain(entry: TrailEntry) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(entry.model_dump_json(exclude_none=True))
    return result
