"""The breaker in the pipeline: events run with a real EngageClient against the simulator during an outage;
held events wait in the schedule and drain by themselves once a probe succeeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from relay.breaker import BREAKER_FAILURE_THRESHOLD, BreakerPolicy, MemoryCircuitBreaker
from relay.handlers import CUSTOMER
from relay.runtime import Runtime
from tests.support.simulator import RunningSimulator
from tests.support.task_harness import (
    installed,
    memory_runtime,
    outcomes_of,
    parked,
    run_event,
    run_until_final,
    tenant_for,
)

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "events"
OPEN_S = 30.0
LOOKUP = "GET /api/v3/contacts/id"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def customer(n: int, tenant: str = "acme-se") -> dict[str, Any]:
    env: dict[str, Any] = json.loads((EXAMPLES / "customer.created.json").read_text())
    env.update(id=f"evt-{tenant}-{n}", tenant=tenant)
    env["data"] = {**env["data"], "email": f"c{n}@example.se", "mobile_phone": None}
    return env


def engage_requests(sim: RunningSimulator) -> int:
    routes: dict[str, dict[str, int]] = sim.admin.state()["requests"]
    return sum(sum(by_status.values()) for by_status in routes.values())


def trip(rt: Runtime) -> None:
    """Run events into the outage until acme's breaker opens; each goes on the ladder."""
    for n in range(BREAKER_FAILURE_THRESHOLD):
        assert run_event(customer(n), CUSTOMER)["reason"] == "ladder"
    assert rt.circuit.state("acme-se") == "open"


def test_an_outage_opens_the_breaker_and_later_events_are_held_without_calling_engage(
    simulator: RunningSimulator,
) -> None:
    # Given tenant acme with default settings and Engage down
    rt = memory_runtime(
        [tenant_for(simulator.base_url, simulator.api_key)],
        breaker=MemoryCircuitBreaker(BreakerPolicy(open_s=OPEN_S), clock=Clock()),
    )
    simulator.admin.set_faults(outage=True)
    with installed(rt):
        trip(rt)
        before = engage_requests(simulator)
        # When another event comes
        result = run_event(customer(50), CUSTOMER)
    # Then Engage was not called, and the event is held (no dead letter, no outcome) with its envelope
    assert engage_requests(simulator) == before
    assert result["outcome"] == "parked" and result["reason"] == "held"
    held = parked(rt, customer(50))
    assert held is not None and held.envelope == customer(50) and held.lane == "backlog"
    assert rt.deadletters.count() == 0 and outcomes_of(rt) == []


def test_held_events_resume_after_a_successful_probe_with_one_outcome_each(
    simulator: RunningSimulator,
) -> None:
    # Given tenant acme holding events on an open breaker, and Engage down
    clock = Clock()
    rt = memory_runtime(
        [tenant_for(simulator.base_url, simulator.api_key)],
        breaker=MemoryCircuitBreaker(BreakerPolicy(open_s=OPEN_S), clock=clock),
    )
    simulator.admin.set_faults(outage=True)
    with installed(rt):
        trip(rt)
        # When a new event is held, Engage comes back, and the open time passes
        assert run_event(customer(60), CUSTOMER)["reason"] == "held"
        held = parked(rt, customer(60))
        assert held is not None and held.attempt == 0
        simulator.admin.set_faults(outage=False)
        clock.now += OPEN_S
        assert rt.circuit.state("acme-se") == "half_open"
        result = run_event(held, CUSTOMER)
        # Then it went through as the probe, and the breaker closed
        assert result["outcome"] == "applied"
        assert rt.circuit.state("acme-se") == "closed"
        # and the events that were on the ladder finish too, each with one final outcome
        for n in range(BREAKER_FAILURE_THRESHOLD):
            run_until_final(customer(n), CUSTOMER)
    finals = outcomes_of(rt)
    assert sorted(o.event_id for o in finals) == sorted(
        [f"evt-acme-se-{n}" for n in range(BREAKER_FAILURE_THRESHOLD)] + ["evt-acme-se-60"]
    )
    assert {o.outcome for o in finals} == {"applied"}
    assert len(simulator.admin.state()["contacts"]) == BREAKER_FAILURE_THRESHOLD + 1


def test_a_failed_probe_reopens_the_breaker(simulator: RunningSimulator) -> None:
    # Given acme's breaker open and Engage still down once the open time has passed
    clock = Clock()
    rt = memory_runtime(
        [tenant_for(simulator.base_url, simulator.api_key)],
        breaker=MemoryCircuitBreaker(BreakerPolicy(open_s=OPEN_S), clock=clock),
    )
    simulator.admin.set_faults(outage=True)
    with installed(rt):
        trip(rt)
        clock.now += OPEN_S
        before = simulator.admin.request_count(LOOKUP)
        # When the probe event runs
        result = run_event(customer(70), CUSTOMER)
        # Then it called Engage, the breaker is open again, and the event is held on the same step: a
        # failed probe is the outage's doing, and costs the event none of its ladder
        assert simulator.admin.request_count(LOOKUP) > before
        probe = parked(rt, customer(70))
        assert result["reason"] == "held" and probe is not None and probe.attempt == 0
        assert rt.circuit.state("acme-se") == "open"


def test_one_tenants_open_breaker_does_not_touch_another(simulator: RunningSimulator) -> None:
    # Given acme's breaker open (its key answers 503 through the outage)
    rt = memory_runtime(
        [
            tenant_for(simulator.base_url, simulator.api_key, "acme-se"),
            tenant_for(simulator.base_url, simulator.api_key_2, "nordic-no"),
        ],
        breaker=MemoryCircuitBreaker(BreakerPolicy(open_s=OPEN_S), clock=Clock()),
    )
    simulator.admin.set_faults(outage=True)
    with installed(rt):
        trip(rt)
        simulator.admin.set_faults(outage=False)
        # When nordic's event comes while acme's breaker is still open
        result = run_event(customer(1, tenant="nordic-no"), CUSTOMER)
        refused = run_event(customer(2), CUSTOMER)
    # Then nordic's is applied and acme's is held, off Engage
    assert result["outcome"] == "applied"
    assert refused["reason"] == "held"
    assert rt.circuit.state("nordic-no") == "closed"
