"""The spill: a long outage hands the tenant's file-capable events to the file fallback.

Voyado's guides keep files for long disruptions. While a tenant's breaker is open its events are held in
the schedule and drain by themselves when Engage is back. Only when the outage outlasts the tenant's
`fallback.spill_after_s` (default 10 minutes), or the hold has grown beyond what the budget drains in that
time, do the events that have a documented file channel (receipts, returns, contacts) spill: they leave
the schedule for the spill store (a dead-letter store of its own, `engage:spill`), and the fallback sweep
writes and uploads them; each then ends as `delivered_by_file`. Everything else keeps waiting and drains
through the API after the outage. Only waiting jobs spill, never one a worker holds; a tenant without a
file transport never spills.

A delivery or a return that moves an order (`Job.sequence`, for a tenant that moves orders) does not
spill: its order move has no file channel, so a file would carry its receipt and leave the order in its
earlier state for good. It waits with the order's other events and drains through the API, receipt and
move together, in the order's sequence (relay/sequence.py).
"""

from __future__ import annotations

import time
import uuid
from typing import Final

import structlog

from fallback.deadletters import DeadLetter, dead_letter_id
from fallback.records import CONTACT_TYPES
from relay.batch import Batch
from relay.ledger import Settled
from relay.runtime import Runtime
from relay.schedule import LANES, Job, envelope_digest
from relay.spill.clock import clock_ref
from relay.spill.fence import spill_holder
from relay.tenants import Tenant
from relay.trail import TrailEntry
from schemas import InvalidEvent, parse_event
from schemas.customer import CustomerCreatedEvent, CustomerUpdatedEvent

log = structlog.get_logger(__name__)

SPILL_TYPES: Final = frozenset(
    {"customer.created", "customer.updated", "order.delivered", "receipt.completed", "return.created"}
)
"""The event types with a Voyado-documented file channel (contacts and transactions imports)."""
SPILLED_ERROR_CLASS: Final = "Spilled"
SPILL_BATCH: Final = 500
SPILL_CLAIM_OWNER: Final = "spill"  # the claim owner a spill holds (a worker's is its message id)
SPILL_SETTLE_WAIT_S: Final = 60.0  # a spilled letter still unmarked after this was left by a crash


def _fence_spilled_contact(rt: Runtime, tenant: Tenant, job: Job) -> None:
    """Until the sweep has the record in a file, the API path sends this contact nothing newer."""
    try:
        event = parse_event(job.envelope)
    except InvalidEvent:
        return  # the sweep reports it as failed
    if isinstance(event, CustomerCreatedEvent | CustomerUpdatedEvent):
        ref = clock_ref(rt, tenant, event)
        if ref is not None:
            rt.fence.raise_for(tenant.name, spill_holder(job.event_id), [ref])


def spills(job: Job, tenant: Tenant) -> bool:
    """Whether a waiting job goes to the files in a spill (a file channel carries all it writes)."""
    if job.type not in SPILL_TYPES:
        return False
    return job.sequence is None or not tenant.policy.move_orders


def should_spill(rt: Runtime, tenant: Tenant, now: float) -> bool:
    info = rt.circuit.info(tenant.name)
    # only while open: half open, the mover is probing with one event and the rest must stay for the API
    if info.state != "open" or tenant.fallback.transport == "none":
        return False
    spill_after_s = tenant.fallback.spill_after_s
    if info.outage_s(now) >= spill_after_s:
        return True
    held = sum(rt.schedule.counts(tenant.name, lane).due for lane in LANES)
    return held > tenant.rate_budget_per_s * spill_after_s


def spill_long_outages(rt: Runtime, now: float | None = None) -> dict[str, int]:
    """Spill every tenant whose outage is long enough; the number of events spilled per tenant."""
    if rt.spill is None:
        return {}
    moment = time.time() if now is None else now
    spilled: dict[str, int] = {}
    for tenant in rt.registry:
        if should_spill(rt, tenant, moment):
            count = spill_tenant(rt, tenant)
            if count:
                spilled[tenant.name] = count
    return spilled


def spill_tenant(rt: Runtime, tenant: Tenant) -> int:
    """Hand the tenant's waiting file-capable events to the spill store; the number spilled.

    Each event's claim is taken first (the claim a worker takes before it calls Engage): an event a worker
    runs now, or a copy of it that starts meanwhile, is never both spilled and applied. The letter is
    stored before the job leaves the schedule, so a crash between the two loses nothing (the sweep files a
    letter only once its event is marked spilled: `spilled_letter_ready`)."""
    assert rt.spill is not None
    cause = rt.circuit.info(tenant.name).cause or "Engage unavailable"
    wanted = [job for job in rt.schedule.jobs(tenant.name) if spills(job, tenant)]
    owner = f"{SPILL_CLAIM_OWNER}:{uuid.uuid4().hex}"
    count = 0
    for first in range(0, len(wanted), SPILL_BATCH):
        chunk = [
            job
            for job in wanted[first : first + SPILL_BATCH]
            if rt.ledger.claim(job.tenant, job.event_id, owner)
        ]
        try:
            count += _spill_claimed(rt, tenant, chunk, cause)
        finally:
            for job in chunk:
                rt.ledger.release(job.tenant, job.event_id, owner)
    return count


def _spill_claimed(rt: Runtime, tenant: Tenant, claimed: list[Job], cause: str) -> int:
    assert rt.spill is not None
    # A copy admitted again after its event settled waits for a worker to drop it as a duplicate; spilling
    # it would give the event a second outcome (and overwrite its settled marker).
    marks = rt.ledger.settled_many([(job.tenant, job.event_id) for job in claimed])
    jobs = [job for job, mark in zip(claimed, marks, strict=True) if mark is None]
    for job in jobs:
        rt.spill.add(spill_letter(job, cause))
    taken = {job.event_id for job in rt.schedule.take(tenant.name, [job.event_id for job in jobs])}
    for job in jobs:
        if job.event_id not in taken:  # a worker leased it meanwhile: the schedule keeps it
            rt.spill.drop(dead_letter_id(job.tenant, job.event_id))
            continue
        batch = Batch(rt.redis)
        rt.ledger.mark_settled_in(batch, job.tenant, job.event_id, "spilled", job.digest)
        rt.trail.add_in(batch, job.tenant, job.event_id, TrailEntry(step="spilled", detail=cause))
        batch.commit()
        if job.type in CONTACT_TYPES:
            _fence_spilled_contact(rt, tenant, job)
    return len(taken)


def spill_letter(job: Job, cause: str) -> DeadLetter:
    return DeadLetter(
        event_id=job.event_id,
        tenant=job.tenant,
        type=job.type,
        envelope=job.envelope,
        error_class=SPILLED_ERROR_CLASS,
        error_kind="systemic",
        message=f"spilled to files after a long outage: {cause}",
        attempts=job.attempt,
        stream_entry=job.stream_entry,
    )


def spilled_letter_ready(rt: Runtime, letter: DeadLetter, now: float | None = None) -> bool:
    """Whether the sweep may file this spilled letter (`ready_to_file` for one letter)."""
    return bool(ready_to_file(rt, [letter], now))


def ready_to_file(rt: Runtime, letters: list[DeadLetter], now: float | None = None) -> list[DeadLetter]:
    """The letters the sweep may file: dead letters all, spilled ones once their event left the schedule
    marked spilled (the marks read in one round trip).

    A spilled letter whose event is not marked yet is a spill in progress (filed at the next sweep), or,
    once `SPILL_SETTLE_WAIT_S` old, one a crash left behind: when the schedule still has its event the
    letter is dropped (the event drains through the API), else the event is marked spilled now and filed.
    A letter whose event ended another way (a copy applied it) is dropped."""
    spilled = [letter for letter in letters if letter.error_class == SPILLED_ERROR_CLASS]
    marks = rt.ledger.settled_many([(letter.tenant, letter.event_id) for letter in spilled])
    moment = time.time() if now is None else now
    held_back = {
        letter.id
        for letter, mark in zip(spilled, marks, strict=True)
        if not _file_it(rt, letter, mark, moment)
    }
    return [letter for letter in letters if letter.id not in held_back]


def _file_it(rt: Runtime, letter: DeadLetter, mark: Settled | None, now: float) -> bool:
    if mark is not None:
        if mark.outcome == "spilled":
            return True
        if rt.spill is not None:
            rt.spill.drop(letter.id)
        return False
    if now - letter.dead_lettered_at.timestamp() < SPILL_SETTLE_WAIT_S:
        return False
    if rt.schedule.get(letter.tenant, letter.event_id) is not None:
        log.warning("fallback.spill.orphan_dropped", letter=letter.id)
        if rt.spill is not None:
            rt.spill.drop(letter.id)
        return False
    rt.ledger.mark_settled(letter.tenant, letter.event_id, "spilled", envelope_digest(letter.envelope))
    return True
