"""The mover on the memory twins: caps per lane, nothing sent while held, one probe when half open, a
broker that refuses, and leases that re-drive a lost message."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from relay.breaker import BREAKER_FAILURE_THRESHOLD, BreakerPolicy, MemoryCircuitBreaker
from relay.mover import MIN_IN_FLIGHT, Mover, in_flight_caps
from relay.run import job_for
from relay.runtime import Runtime
from relay.schedule import Job
from tests.support.task_harness import memory_runtime, tenant_for

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "events" / "customer.created.json"


class Clock:
    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Dispatch:
    def __init__(self) -> None:
        self.sent: list[Job] = []
        self.down = False

    def send(self, job: Job) -> None:
        if self.down:
            raise ConnectionError("broker down")
        self.sent.append(job)


def envelope(n: int, tenant: str = "acme-se") -> dict[str, Any]:
    env: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return env | {"id": f"evt-{tenant}-{n}", "tenant": tenant}


def runtime(**kw: Any) -> Runtime:
    return memory_runtime(
        [tenant_for("http://127.0.0.1:9", "k1"), tenant_for("http://127.0.0.1:9", "k2", "beta")], **kw
    )


def admit(rt: Runtime, count: int, tenant: str = "acme-se", lane: str = "live") -> None:
    jobs = [job_for(envelope(n, tenant)).model_copy(update={"lane": lane}) for n in range(count)]
    rt.schedule.admit(jobs)


def test_the_live_lane_sends_up_to_its_cap_and_the_next_once_one_is_back() -> None:
    rt, dispatch = runtime(), Dispatch()
    cap = in_flight_caps(rt.registry.get("acme-se"))["live"]
    admit(rt, cap + 5)
    mover = Mover(lambda: rt, dispatch)
    # When the mover passes twice
    mover.pass_once()
    mover.pass_once()
    # Then only a cap's worth is in flight
    assert len(dispatch.sent) == cap
    # and once a worker settles one, one more goes
    rt.schedule.settle("acme-se", dispatch.sent[0].event_id)
    mover.pass_once()
    assert len(dispatch.sent) == cap + 1


def test_a_held_tenant_sends_nothing_and_half_open_sends_one_probe() -> None:
    clock = Clock()
    breaker = MemoryCircuitBreaker(BreakerPolicy(open_s=30), clock=clock)
    rt, dispatch = runtime(breaker=breaker), Dispatch()
    for _ in range(BREAKER_FAILURE_THRESHOLD):
        breaker.record(breaker.allow("acme-se"), "failure", "Engage answers 503")
    admit(rt, 10)
    admit(rt, 3, tenant="beta")
    mover = Mover(lambda: rt, dispatch)
    # While acme's breaker is open, only beta moves
    mover.pass_once()
    assert {j.tenant for j in dispatch.sent} == {"beta"}
    # When the open time has passed: one probe for acme, and no more until the breaker closes
    clock.now += 31
    mover.pass_once()
    mover.pass_once()
    assert [j.tenant for j in dispatch.sent].count("acme-se") == 1


def test_a_paused_tenant_sends_nothing() -> None:
    rt, dispatch = runtime(), Dispatch()
    rt.control.pause("acme-se", by="ops@example.se")
    admit(rt, 3)
    Mover(lambda: rt, dispatch).pass_once()
    assert dispatch.sent == []
    rt.control.resume("acme-se")
    Mover(lambda: rt, dispatch).pass_once()
    assert len(dispatch.sent) == 3


def test_jobs_the_broker_refuses_are_due_again_at_once() -> None:
    rt, dispatch = runtime(), Dispatch()
    admit(rt, 3)
    dispatch.down = True
    mover = Mover(lambda: rt, dispatch)
    mover.pass_once()
    assert mover.stats.send_failures == 1
    dispatch.down = False
    mover.pass_once()
    assert sorted(j.event_id for j in dispatch.sent) == sorted(f"evt-acme-se-{n}" for n in range(3))


def test_a_job_whose_message_was_lost_is_sent_again_after_its_lease() -> None:
    rt, dispatch = runtime(), Dispatch()
    rt.lease_s = 0.05
    admit(rt, 1)
    mover = Mover(lambda: rt, dispatch)
    mover.pass_once()
    mover.pass_once()
    assert len(dispatch.sent) == 1
    time.sleep(0.1)
    mover.pass_once()
    assert [j.event_id for j in dispatch.sent] == ["evt-acme-se-0", "evt-acme-se-0"]


def test_caps_follow_the_budget() -> None:
    small = in_flight_caps(tenant_for("http://x", "k").model_copy(update={"rate_budget_per_s": 1.0}))
    assert small == {"live": MIN_IN_FLIGHT, "backlog": MIN_IN_FLIGHT}
    big = in_flight_caps(tenant_for("http://x", "k").model_copy(update={"rate_budget_per_s": 100.0}))
    assert big == {"live": 200, "backlog": 50}
