"""A worker SIGKILLed while it holds an event: the event is still applied, once, by itself.

Real processes: a private Redis, `engage-relay ingest` (its mover is the reconciler), a worker, the
simulator. The simulator is slowed so that the event's first Engage call is in flight when the worker that
took it (the only one; it has claimed the event) is killed (no SIGTERM, no chance to park or settle
anything); the simulator is then fast again and a second worker, started then, must apply the event.
Two paths bring it back, whichever comes first: the mover's lease (the reconciler,
`ENGAGE_RELAY_REDRIVE_AFTER_S`, 120 s shipped) sends the job again, and the broker hands the
unacknowledged message to another worker after its visibility timeout
(`ENGAGE_RELAY_VISIBILITY_TIMEOUT_S`, 300 s shipped). The bound is their sum; the figure is printed.

- `test_killed_worker_event_applied_with_defaults`: the shipped settings (about two minutes: the lease).
- `test_killed_worker_event_applied_with_short_bounds`: the sibling with only those two settings lowered
  (visibility 20 s, re-drive 10 s), as the chaos test runs them. It cannot get below a minute: the dead
  worker's claim on the event (`relay.ledger.EVENT_CLAIM_TTL_S`, 60 s, not a setting) makes every copy
  that comes back sooner step aside (`in_flight`, and its run extends the job's lease), so its bound is
  max(visibility timeout, claim TTL) plus the re-drive. With the shipped settings the re-drive (120 s)
  comes after the claim has lapsed, so the shipped bound holds as it is.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from relay.keys import claim_key
from relay.ledger import EVENT_CLAIM_TTL_S
from relay.retry import BROKER_VISIBILITY_TIMEOUT_S, REDRIVE_AFTER_S
from tests.support.outage_day import ECOM, tenant_table
from tests.support.processes import wait_until
from tests.support.simulator import RunningSimulator
from tests.support.stack import RelayStack, relay_stack
from workers.demo.data import event
from workers.settings import DEFAULT_WORKER_CONCURRENCY

pytestmark = pytest.mark.integration  # mostly waiting for the lease: runs beside anything

SLOW_MS = 60_000  # far beyond the 15 s read timeout: the call is still in flight when the worker dies
KEY_ENV = "RECOVERY_ECOM_KEY"
SHORT_VISIBILITY_S, SHORT_REDRIVE_S = 20, 10
IN_FLIGHT_WAIT_S = 2.0
SLACK_S = 15.0  # a mover pass, the surviving worker's run, the polling of this test


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


@pytest.mark.timeout(BROKER_VISIBILITY_TIMEOUT_S + REDRIVE_AFTER_S + 120)
def test_killed_worker_event_applied_with_defaults(
    redis_url: str, simulator: RunningSimulator, tmp_path: Path
) -> None:
    tenants = {ECOM: tenant_table(simulator.base_url, KEY_ENV, ECOM, {"transport": "none"})}
    env = {KEY_ENV: simulator.api_key}
    bound = BROKER_VISIBILITY_TIMEOUT_S + REDRIVE_AFTER_S
    with relay_stack(redis_url, tmp_path / "relay", tenants, env, retry_ladder_s=None) as stack:
        elapsed, outcome = kill_holder_and_time_recovery(stack, simulator, bound)
    print(
        f"\nshipped settings: worker SIGKILLed mid-call; the event {outcome} {elapsed:.1f} s later "
        f"(bound: visibility timeout {BROKER_VISIBILITY_TIMEOUT_S} s + reconciler {REDRIVE_AFTER_S:.0f} s "
        f"= {bound:.0f} s)"
    )
    assert elapsed <= bound


@pytest.mark.timeout(180)
def test_killed_worker_event_applied_with_short_bounds(
    redis_url: str, simulator: RunningSimulator, tmp_path: Path
) -> None:
    tenants = {ECOM: tenant_table(simulator.base_url, KEY_ENV, ECOM, {"transport": "none"})}
    env = {
        KEY_ENV: simulator.api_key,
        "ENGAGE_RELAY_VISIBILITY_TIMEOUT_S": str(SHORT_VISIBILITY_S),
        "ENGAGE_RELAY_REDRIVE_AFTER_S": str(SHORT_REDRIVE_S),
    }
    # the dead worker's claim outlives the short visibility timeout: copies before it lapses step aside
    bound = max(SHORT_VISIBILITY_S, EVENT_CLAIM_TTL_S) + SHORT_REDRIVE_S
    with relay_stack(redis_url, tmp_path / "relay", tenants, env, retry_ladder_s=None) as stack:
        elapsed, outcome = kill_holder_and_time_recovery(stack, simulator, bound)
    print(
        f"\nvisibility {SHORT_VISIBILITY_S} s, re-drive {SHORT_REDRIVE_S} s: worker SIGKILLed mid-call; "
        f"the event {outcome} {elapsed:.1f} s later (bound: max(visibility, claim TTL {EVENT_CLAIM_TTL_S} s) "
        f"+ re-drive = {bound} s)"
    )
    assert elapsed <= bound
