"""The mover on the memory twins: caps per lane, nothing sent while held, one probe when half open, a
broker that refuses, and leases that re-drive a lost message."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import redis

from relay.breaker import (
    BREAKER_FAILURE_THRESHOLD,
    BreakerPolicy,
    CircuitBreaker,
    MemoryCircuitBreaker,
    RedisCircuitBreaker,
)
from relay.control import RedisTenantControl
from relay.mover import MIN_IN_FLIGHT, Mover, in_flight_caps
from relay.run import job_for
from relay.runtime import Runtime
from relay.schedule import Job, RedisSchedule
from tests.support.round_trips import round_trips
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

    def send_all(self, jobs: Sequence[Job]) -> None:
        if self.down:
            raise ConnectionError("broker down")
        self.sent.extend(jobs)


def envelope(n: int, tenant: str = "acme-se") -> dict[str, Any]:
    env: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return env | {"id": f"evt-{tenant}-{n}", "tenant": tenant}


def runtime(**kw: Any) -> Runtime:
    return memory_runtime(
        [tenant_for("http://127.0.0.1:9", "k1"), tenant_for("http://127.0.0.1:9", "k2", "beta")], **kw
    )


def admit(rt: Runtime, count: int, tenant: str = "acme-se", lane: str = "live", first: int = 0) -> None:
    jobs = [
        job_for(envelope(n, tenant)).model_copy(update={"lane": lane}) for n in range(first, first + count)
    ]
    rt.schedule.admit(jobs)


def open_breaker(breaker: CircuitBreaker, tenant: str) -> None:
    for _ in range(BREAKER_FAILURE_THRESHOLD):
        breaker.record(breaker.allow(tenant), "failure", "Engage answers 503")


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
    open_breaker(breaker, "acme-se")
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


def test_a_half_open_tenant_with_only_backlog_jobs_sends_one_backlog_probe() -> None:
    clock = Clock()
    breaker = MemoryCircuitBreaker(BreakerPolicy(open_s=30), clock=clock)
    rt, dispatch = runtime(breaker=breaker), Dispatch()
    open_breaker(breaker, "acme-se")
    admit(rt, 3, lane="backlog")
    clock.now += 31
    Mover(lambda: rt, dispatch).pass_once()
    assert [(j.tenant, j.lane) for j in dispatch.sent] == [("acme-se", "backlog")]


def redis_runtime(client: redis.Redis, names: list[str], clock: Clock) -> Runtime:
    """The mover's stores as `engage-relay ingest` has them: the Redis ones, on one Redis."""
    rt = memory_runtime([tenant_for("http://127.0.0.1:9", f"k-{name}", name=name) for name in names])
    rt.redis, rt.schedule, rt.control = client, RedisSchedule(client), RedisTenantControl(client)
    rt.breaker = RedisCircuitBreaker(client, BreakerPolicy(open_s=30), clock=clock)
    return rt


@pytest.mark.parametrize("tenants", [4, 12])
def test_a_pass_costs_two_round_trips_whatever_the_number_of_tenants(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch, tenants: int
) -> None:
    # Given a paused tenant, one whose breaker is open, one half open and the others closed, on Redis
    clock = Clock()
    names = [f"t{n:02}" for n in range(tenants)]
    paused, held, probing, *closed = names
    rt, dispatch = redis_runtime(redis_client, names, clock), Dispatch()
    rt.control.pause(paused, by="ops@example.se")
    open_breaker(rt.circuit, probing)
    clock.now += 31
    open_breaker(rt.circuit, held)
    mover = Mover(lambda: rt, dispatch)
    assert mover.pass_once() == 0  # connects, and loads the lease script
    # and each with three live and two backlog jobs due (fewer than the caps)
    for name in names:
        admit(rt, 3, tenant=name)
        admit(rt, 2, tenant=name, lane="backlog", first=3)
    # When the mover passes
    with round_trips(monkeypatch) as trips:
        sent = mover.pass_once()
    # Then it asked Redis twice: every gate, then every lease
    assert trips == [2]
    # and sent what the gates allow: nothing of the paused or the open one, one live probe of the half-open
    # one, every job of the closed ones (live first)
    by_tenant = {name: [j.lane for j in dispatch.sent if j.tenant == name] for name in names}
    assert by_tenant[paused] == [] and by_tenant[held] == []
    assert by_tenant[probing] == ["live"]
    assert all(by_tenant[name] == ["live"] * 3 + ["backlog"] * 2 for name in closed)
    assert sent == len(dispatch.sent) == 1 + 5 * len(closed)
    assert mover.stats.by_tenant[probing] == 1


def test_jobs_the_broker_refuses_are_due_again_at_once_on_redis(redis_client: redis.Redis) -> None:
    rt, dispatch = redis_runtime(redis_client, ["acme-se", "beta"], Clock()), Dispatch()
    admit(rt, 3)
    admit(rt, 2, tenant="beta", lane="backlog")
    dispatch.down = True
    mover = Mover(lambda: rt, dispatch)
    mover.pass_once()
    # One failure for the pass's one publish; none of its jobs left leased
    assert mover.stats.send_failures == 1
    assert rt.schedule.counts("acme-se", "live").leased == 0
    dispatch.down = False
    assert mover.pass_once() == 5


def test_the_mover_survives_a_redis_blip(monkeypatch: pytest.MonkeyPatch) -> None:
    rt, dispatch = runtime(), Dispatch()
    admit(rt, 2)
    blips = [redis.ConnectionError("blip")]

    def flaky(method: Any) -> Any:
        def call(*args: Any) -> Any:
            if blips:
                raise blips.pop()
            return method(*args)

        return call

    # Given a schedule whose first lease meets Redis down
    for name in ("lease", "lease_many"):
        monkeypatch.setattr(rt.schedule, name, flaky(getattr(rt.schedule, name)))
    mover, stop = Mover(lambda: rt, dispatch), threading.Event()
    runner = threading.Thread(target=mover.run, args=(stop,))
    # When the mover runs: then it waits, passes again and sends
    runner.start()
    try:
        deadline = time.monotonic() + 5
        while len(dispatch.sent) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        runner.join(5)
    assert mover.stats.redis_errors == 1
    assert len(dispatch.sent) == 2
