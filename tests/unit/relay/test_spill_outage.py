"""The spill of long outages, on the memory twins: only after `spill_after_s` (or a hold the budget cannot
drain in that time), only the types with a Voyado file channel, only waiting jobs, never one in flight."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from fallback.config import FallbackSettings
from mappers.policy import TenantPolicy
from relay.admit import Arrival, admit
from relay.breaker import BREAKER_FAILURE_THRESHOLD, BreakerPolicy, MemoryCircuitBreaker
from relay.run import job_for
from relay.runtime import Runtime
from relay.spill.outage import SPILL_SETTLE_WAIT_S, spill_letter, spill_long_outages, spilled_letter_ready
from schemas import parse_event
from tests.support.task_harness import memory_runtime, tenant_for

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "events"


class Clock:
    now = time.time()

    def __call__(self) -> float:
        return self.now


def envelope(event_type: str, n: int) -> dict[str, Any]:
    env: dict[str, Any] = json.loads((EXAMPLES / f"{event_type}.json").read_text())
    return env | {"id": f"evt-{event_type}-{n}", "tenant": "acme-se"}


def open_runtime(clock: Clock, policy: TenantPolicy | None = None, **fallback: Any) -> Runtime:
    """A tenant whose breaker is open (Engage answers 503), with nothing held yet."""
    breaker = MemoryCircuitBreaker(BreakerPolicy(open_s=3600), clock=clock)  # open all along
    tenant = tenant_for("http://127.0.0.1:9", "k", fallback=FallbackSettings(**fallback), policy=policy)
    rt = memory_runtime([tenant], breaker=breaker)
    for _ in range(BREAKER_FAILURE_THRESHOLD):
        breaker.record(breaker.allow("acme-se"), "failure", "Engage answers 503")
    return rt


def held_runtime(clock: Clock, **fallback: Any) -> Runtime:
    """Held events of several types (as first-version jobs: they name no order sequence)."""
    rt = open_runtime(clock, **fallback)
    types = ["order.delivered", "customer.updated", "promotion.redeemed", "order.shipped", "product.viewed"]
    rt.schedule.admit([job_for(envelope(t, n)) for n in range(3) for t in types])
    return rt


def test_a_delivery_or_return_that_moves_an_order_waits_for_the_api_instead_of_spilling() -> None:
    # Given held deliveries, returns and POS receipts, admitted as ingest admits them
    clock = Clock()
    rt = open_runtime(clock)
    kinds = ("order.delivered", "return.created", "receipt.completed")
    admit(rt, [Arrival(parse_event(e), e) for e in (envelope(t, n) for t in kinds for n in range(3))])
    clock.now += 601
    spill_long_outages(rt, now=clock.now)
    assert rt.spill is not None
    # Then the receipts spill, and the deliveries and returns wait: their order moves have no file channel
    assert {letter.type for letter in rt.spill.list()} == {"receipt.completed"}
    assert {job.type for job in rt.schedule.jobs("acme-se")} == {"order.delivered", "return.created"}


def test_a_tenant_that_does_not_move_orders_spills_its_deliveries() -> None:
    clock = Clock()
    rt = open_runtime(clock, policy=TenantPolicy(move_orders=False))
    admit(rt, [Arrival(parse_event(e), e) for e in (envelope("order.delivered", n) for n in range(3))])
    clock.now += 601
    assert spill_long_outages(rt, now=clock.now) == {"acme-se": 3}


def test_a_short_outage_spills_nothing() -> None:
    clock = Clock()
    rt = held_runtime(clock)
    clock.now += 60  # a minute into the outage, with the default spill_after of ten minutes
    assert spill_long_outages(rt, now=clock.now) == {}
    assert rt.spill is not None and rt.spill.count() == 0


def test_a_long_outage_spills_receipts_and_contacts_and_keeps_the_rest_waiting() -> None:
    clock = Clock()
    rt = held_runtime(clock)
    # One job is in flight (a worker probes with it): it must not be spilled
    (in_flight,) = rt.schedule.lease("acme-se", "live", 1, lease_s=60)
    clock.now += 601
    spilled = spill_long_outages(rt, now=clock.now)
    assert rt.spill is not None
    letters = list(rt.spill.list())
    # Then the file-capable waiting jobs moved to the spill store, with the outage's cause
    assert {letter.type for letter in letters} == {"order.delivered", "customer.updated"}
    assert spilled == {"acme-se": len(letters)}
    assert all("Engage answers 503" in (letter.message or "") for letter in letters)
    assert in_flight.event_id not in {letter.event_id for letter in letters}
    # and the rest keeps waiting in the schedule, to drain through the API
    left = {job.type for job in rt.schedule.jobs("acme-se")}
    assert {"promotion.redeemed", "order.shipped", "product.viewed"} <= left
    assert [e.step for e in rt.trail.read("acme-se", letters[0].event_id)] == ["spilled"]


def test_a_hold_bigger_than_the_budget_drains_in_spill_after_spills_early() -> None:
    clock = Clock()
    rt = held_runtime(clock, spill_after_s=0.1)  # the budget drains 4 events in 0.1 s; 15 are held
    assert spill_long_outages(rt, now=clock.now) != {}


def test_a_tenant_without_a_file_transport_never_spills() -> None:
    clock = Clock()
    rt = held_runtime(clock, transport="none")
    clock.now += 3600
    assert spill_long_outages(rt, now=clock.now) == {}


def test_the_first_versions_fallback_mode_means_spill_at_once() -> None:
    assert FallbackSettings(on_breaker_open="fallback").spill_after_s == 0
    assert FallbackSettings().spill_after_s == 600


def test_an_event_claimed_by_a_worker_is_not_spilled_and_a_spilled_one_is_marked() -> None:
    # Given a long outage, and a copy of one waiting delivery claimed by a worker that starts it now
    clock = Clock()
    rt = held_runtime(clock)
    deliveries = [job for job in rt.schedule.jobs("acme-se") if job.type == "order.delivered"]
    busy, done = deliveries[0], deliveries[1]
    assert rt.ledger.claim("acme-se", busy.event_id, "worker-copy")
    # and a copy of another one admitted again after a worker applied it (it waits to be dropped)
    rt.ledger.mark_settled("acme-se", done.event_id, "applied", done.digest)
    clock.now += 601
    spill_long_outages(rt, now=clock.now)
    assert rt.spill is not None
    spilled = {letter.event_id for letter in rt.spill.list()}
    # Then the claimed event stays with the schedule (its worker applies or parks it), and has no letter
    assert busy.event_id not in spilled
    assert rt.schedule.get("acme-se", busy.event_id) is not None
    # and the applied one is neither spilled nor marked again
    assert done.event_id not in spilled
    applied = rt.ledger.settled("acme-se", done.event_id)
    assert applied is not None and applied.outcome == "applied"
    # and each spilled event is marked spilled (a later copy of it is a duplicate) and its claim let go
    for event_id in spilled:
        mark = rt.ledger.settled("acme-se", event_id)
        assert mark is not None and mark.outcome == "spilled"
        assert rt.ledger.claim("acme-se", event_id, "later-copy")


def test_the_sweep_files_a_spilled_letter_only_once_its_event_is_marked_spilled() -> None:
    clock = Clock()
    rt = held_runtime(clock)
    assert rt.spill is not None
    jobs = {job.type: job for job in rt.schedule.jobs("acme-se")}
    # A letter a crash left before its job left the schedule: the schedule keeps the event, the letter goes
    orphan = spill_letter(jobs["order.delivered"], "Engage answers 503")
    rt.spill.add(orphan)
    assert not spilled_letter_ready(rt, orphan, now=time.time())  # young: a spill may be under way
    old = time.time() + SPILL_SETTLE_WAIT_S + 1
    assert not spilled_letter_ready(rt, orphan, now=old)
    assert rt.spill.get(orphan.id) is None
    assert rt.schedule.get("acme-se", orphan.event_id) is not None
    # A letter whose job was taken but not marked (a crash between the two): marked now, and filed
    taken = rt.schedule.take("acme-se", [jobs["customer.updated"].event_id])[0]
    lone = spill_letter(taken, "Engage answers 503")
    rt.spill.add(lone)
    assert spilled_letter_ready(rt, lone, now=old)
    mark = rt.ledger.settled("acme-se", lone.event_id)
    assert mark is not None and mark.outcome == "spilled"
    # A letter whose event a copy applied meanwhile is dropped, never filed
    rt.ledger.mark_settled("acme-se", lone.event_id, "applied", taken.digest)
    assert not spilled_letter_ready(rt, lone, now=old)
    assert rt.spill.get(lone.id) is None
