"""A worker SIGKILLed while it holds an event: the event is still applied, once, by itself.

Real processes: a private Redis, `engage-relay ingest` (its mover is the reconciler), a worker, the
simulator. The simulator is slowed so that the event's first Engage call is in flight when the worker that
took it (the only one; it has claimed the event) is killed (no SIGTERM, no chance to park or settle
anything); the simulator is then fast again and a second worker, started then, must apply the event.
The broker keeps no copy of a delivered message (no ack emulation, workers/celery_app.py), so one path
brings it back: the mover's lease (the reconciler, `ENGAGE_RELAY_REDRIVE_AFTER_S`, 120 s shipped) sends
the job again. The figure is printed.

- `test_killed_worker_event_applied_with_defaults`: the shipped settings (about two minutes: the lease).
- `test_killed_worker_event_applied_with_short_bounds`: the sibling with the re-drive lowered to 10 s, as
  the chaos test runs it. It cannot get below a minute: the dead worker's claim on the event
  (`relay.ledger.EVENT_CLAIM_TTL_S`, 60 s, not a setting) makes every copy that comes back sooner step
  aside (`in_flight`, and its run extends the job's lease), so its bound is the claim TTL plus the
  re-drive. With the shipped settings the re-drive (120 s) comes after the claim has lapsed, so the
  re-drive alone is the bound.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from relay.keys import claim_key
from relay.ledger import EVENT_CLAIM_TTL_S
from relay.retry import REDRIVE_AFTER_S
from tests.support.outage_day import ECOM, tenant_table
from tests.support.processes import wait_until
from tests.support.simulator import RunningSimulator
from tests.support.stack import RelayStack, relay_stack
from workers.demo.data import event
from workers.settings import DEFAULT_WORKER_CONCURRENCY

pytestmark = pytest.mark.integration  # mostly waiting for the lease: runs beside anything

SLOW_MS = 60_000  # far beyond the 15 s read timeout: the call is still in flight when the worker dies
KEY_ENV = "RECOVERY_ECOM_KEY"
SHORT_REDRIVE_S = 10
IN_FLIGHT_WAIT_S = 2.0
SLACK_S = 15.0  # a mover pass, the surviving worker's run, the polling of this test
RUN_S = 5.0  # after the lease ran out: the mover's next pass and the surviving worker's run


def wait_for_claim(stack: RelayStack, event_id: str, timeout_s: float) -> None:
    """Until a worker has taken the event and claimed it (`engage:claim:...`: its run has begun)."""
    client = stack.redis
    try:
        wait_until(
            lambda: bool(client.exists(claim_key(ECOM, event_id))),
            timeout_s=timeout_s,
            what="the worker to take and claim the event",
        )
    finally:
        client.close()


def kill_holder_and_time_recovery(
    stack: RelayStack, simulator: RunningSimulator, bound_s: float
) -> tuple[float, str]:
    """Publish one sign-up to the only worker, kill it mid-call, start another, and time the outcome."""
    stack.start_worker("worker-1", DEFAULT_WORKER_CONCURRENCY)
    stack.start_ingest("ingest")
    simulator.admin.set_faults(latency_ms={"p50": SLOW_MS, "p99": SLOW_MS})
    envelope = event("customer.created", "c-killed", ECOM) | {
        "data": {"email": "killed.worker@example.se", "first_name": "Kim"}
    }
    stack.publish([envelope])
    wait_for_claim(stack, "c-killed", timeout_s=20)
    time.sleep(IN_FLIGHT_WAIT_S)  # its first call (the lookup) is on its way and answers in a minute
    stack.procs["worker-1"].kill()
    killed = time.monotonic()
    simulator.admin.set_faults(latency_ms=None)
    stack.start_worker("worker-2", DEFAULT_WORKER_CONCURRENCY)
    final = stack.wait_for_outcomes([f"{ECOM}:c-killed"], timeout_s=bound_s + SLACK_S)
    elapsed = time.monotonic() - killed
    outcomes = Counter(o.outcome for o in stack.outcomes() if o.event_id == "c-killed")
    assert outcomes == {"applied": 1}, outcomes
    contacts = [
        c
        for c in simulator.admin.state()["contacts"]
        if c["attributes"].get("email") == "killed.worker@example.se"
    ]
    assert len(contacts) == 1, "the contact was created twice or not at all"
    assert stack.procs["worker-2"].alive(), stack.procs["worker-2"].log_tail()
    return elapsed, final[f"{ECOM}:c-killed"].outcome


@pytest.mark.timeout(REDRIVE_AFTER_S + 120)
def test_killed_worker_event_applied_with_defaults(
    redis_url: str, simulator: RunningSimulator, tmp_path: Path
) -> None:
    tenants = {ECOM: tenant_table(simulator.base_url, KEY_ENV, ECOM, {"transport": "none"})}
    env = {KEY_ENV: simulator.api_key}
    bound = REDRIVE_AFTER_S
    with relay_stack(redis_url, tmp_path / "relay", tenants, env, retry_ladder_s=None) as stack:
        elapsed, outcome = kill_holder_and_time_recovery(stack, simulator, bound)
    print(
        f"\nshipped settings: worker SIGKILLed mid-call; the event {outcome} {elapsed:.1f} s later "
        f"(bound: the reconciler's {REDRIVE_AFTER_S:.0f} s)"
    )
    assert elapsed <= bound + RUN_S


@pytest.mark.timeout(180)
def test_killed_worker_event_applied_with_short_bounds(
    redis_url: str, simulator: RunningSimulator, tmp_path: Path
) -> None:
    tenants = {ECOM: tenant_table(simulator.base_url, KEY_ENV, ECOM, {"transport": "none"})}
    env = {
        KEY_ENV: simulator.api_key,
        "ENGAGE_RELAY_REDRIVE_AFTER_S": str(SHORT_REDRIVE_S),
    }
    # the dead worker's claim outlives the short re-drive: copies before it lapses step aside
    bound = EVENT_CLAIM_TTL_S + SHORT_REDRIVE_S
    with relay_stack(redis_url, tmp_path / "relay", tenants, env, retry_ladder_s=None) as stack:
        elapsed, outcome = kill_holder_and_time_recovery(stack, simulator, bound)
    print(
        f"\nre-drive {SHORT_REDRIVE_S} s: worker SIGKILLed mid-call; the event {outcome} {elapsed:.1f} s "
        f"later (bound: claim TTL {EVENT_CLAIM_TTL_S} s + re-drive = {bound} s)"
    )
    assert elapsed <= bound + RUN_S


STOPPED_EVENTS = 6  # one running and up to four prefetched (concurrency 1, prefetch multiplier 4) ...
STOPPED_CALL_MS = 3_000  # ... while each call takes this long
STOPPED_BOUND_S = 45.0  # far below the re-drive (120 s): the prefetched messages are back on the queue


@pytest.mark.timeout(120)
def test_a_worker_stopped_gives_back_what_it_prefetched_at_once(
    redis_url: str, simulator: RunningSimulator, tmp_path: Path
) -> None:
    """SIGTERM: the worker finishes the task it runs and puts the messages it prefetched back on their queue
    (the broker keeps no copy of a delivered message, so nothing else would before the re-drive)."""
    tenants = {ECOM: tenant_table(simulator.base_url, KEY_ENV, ECOM, {"transport": "none"})}
    with relay_stack(
        redis_url, tmp_path / "relay", tenants, {KEY_ENV: simulator.api_key}, retry_ladder_s=None
    ) as stack:
        holder = stack.start_worker("worker-1", 1)
        stack.start_ingest("ingest")
        simulator.admin.set_faults(latency_ms={"p50": STOPPED_CALL_MS, "p99": STOPPED_CALL_MS})
        ids = [f"c-stopped-{n}" for n in range(STOPPED_EVENTS)]
        stack.publish(
            event("customer.created", i, ECOM) | {"data": {"email": f"{i}@example.se", "first_name": "Sam"}}
            for i in ids
        )
        client = stack.redis
        wait_until(lambda: any(client.exists(claim_key(ECOM, i)) for i in ids), timeout_s=20, what="a claim")
        time.sleep(IN_FLIGHT_WAIT_S)  # the first event's call is on its way; the others prefetched
        assert client.exists("unacked") == 0 and client.exists("unacked_index") == 0  # no copy kept
        client.close()
        stopped = time.monotonic()
        holder.stop()  # SIGTERM: warm shutdown
        simulator.admin.set_faults(latency_ms=None)
        stack.start_worker("worker-2", DEFAULT_WORKER_CONCURRENCY)
        stack.wait_for_outcomes([f"{ECOM}:{i}" for i in ids], timeout_s=STOPPED_BOUND_S)
        elapsed = time.monotonic() - stopped
        outcomes = Counter(o.outcome for o in stack.outcomes() if o.event_id in ids)
    print(f"\nworker stopped with SIGTERM holding {STOPPED_EVENTS} events: all applied {elapsed:.1f} s later")
    assert outcomes == {"applied": STOPPED_EVENTS}, outcomes
    assert elapsed <= STOPPED_BOUND_S
