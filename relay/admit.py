"""Admission: a valid event from the stream becomes a job in the schedule, once.

Ingest calls `admit` for each batch it read; after it returns, every event of the batch is owned by the
schedule (or was a copy, or a conflict, kept in the rejected store), so ingest may acknowledge and trim the
stream entries. A copy of an event that is already settled, or already in the schedule, is a duplicate:
logged, given no outcome. The same id with another payload is an `IdConflict`: kept with both payloads.
An event of a tenant whose breaker is open (or that is paused) goes straight to the backlog lane: it is
held, and drains after the outage behind today's live events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import structlog

from engage.ratelimit import Lane
from relay.batch import Batch
from relay.errors import IdConflict
from relay.runtime import Runtime
from relay.schedule import Job, envelope_digest
from relay.sequence import sequence_of
from relay.settle import reject_conflict
from relay.trail import TrailEntry
from schemas.envelope import Envelope

log = structlog.get_logger(__name__)

AdmitOutcome = Literal["admitted", "duplicate", "conflict"]


@dataclass(frozen=True)
class Arrival:
    """A valid event read from the stream: the typed event, its envelope as JSON, its stream entry."""

    event: Envelope
    envelope: Mapping[str, Any]
    stream_entry: str | None = None
    lane: Lane = "live"  # a replay asks for the backlog lane


def admit(rt: Runtime, arrivals: Sequence[Arrival]) -> list[AdmitOutcome]:
    """Admit a batch; one verdict per arrival, in order."""
    verdicts: list[AdmitOutcome | None] = [None] * len(arrivals)
    marks = rt.ledger.settled_many([(a.event.tenant, a.event.id) for a in arrivals])
    # paused, or its breaker not closed: the event waits in the backlog lane (every tenant in one round trip)
    held = {t: gate != "closed" for t, gate in rt.gates(sorted({a.event.tenant for a in arrivals})).items()}
    jobs: list[tuple[int, Job]] = []
    for n, (arrival, known) in enumerate(zip(arrivals, marks, strict=True)):
        job = _job(arrival, "backlog" if held[arrival.event.tenant] else arrival.lane)
        mark = known
        if mark is not None and mark.outcome == "dead_lettered" and mark.matches(job.digest):
            # an operator replays a dead letter: it runs again (the letter was removed by the replay)
            rt.ledger.unsettle(job.tenant, job.event_id)
            mark = None
        if mark is not None:
            verdicts[n] = "duplicate" if mark.matches(job.digest) else "conflict"
            _copy(rt, job, verdicts[n] or "duplicate", None)
            continue
        jobs.append((n, job))
    trail = Batch(rt.redis)  # the admitted entries of the whole batch in one round trip
    for (n, job), admission in zip(jobs, rt.schedule.admit([j for _, j in jobs]), strict=True):
        verdicts[n] = admission.verdict
        if admission.verdict == "admitted":
            rt.trail.add_in(trail, job.tenant, job.event_id, TrailEntry(step="admitted", lane=job.lane))
        else:
            _copy(rt, job, admission.verdict, admission.existing)
    trail.commit()
    return [v or "duplicate" for v in verdicts]


def _job(arrival: Arrival, lane: Lane) -> Job:
    event = arrival.event
    sequence = sequence_of(event)
    return Job(
        event_id=event.id,
        tenant=event.tenant,
        type=str(event.type),
        envelope=dict(arrival.envelope),
        digest=envelope_digest(arrival.envelope),
        lane=lane,
        stream_entry=arrival.stream_entry,
        sequence=sequence,
        sequence_at_ms=int(event.occurred_at.timestamp() * 1000) if sequence is not None else 0,
    )


def _copy(rt: Runtime, job: Job, verdict: AdmitOutcome, existing: Job | None) -> None:
    if verdict == "conflict":
        tenant = rt.registry.get(job.tenant)
        reject_conflict(rt, job, tenant, IdConflict(job.event_id), existing)
        return
    log.info("ingest.duplicate", event_id=job.event_id, tenant=job.tenant, stream_entry=job.stream_entry)
    rt.trail.add(job.tenant, job.event_id, TrailEntry(step="duplicate", detail="a copy came and was dropped"))
