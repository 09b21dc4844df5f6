"""The events of one order land in Engage in their order, however they arrive and however they drain.

Real processes: a private Redis, `engage-relay ingest` (with its mover), two workers on the shipped
settings, the Engage simulator over HTTP (its order jobs asynchronous, as Engage's). Each of `ORDERS`
orders is placed, shipped and delivered, and every third returned; the events of all orders are shuffled.

- Held, then drained: the tenant is paused while every event arrives, then resumed, so all of an order's
  events wait in the schedule side by side and drain together. Each order's events run oldest first
  (relay/sequence.py): every event is applied (none superseded) and every order ends in its last state.
- Arriving shuffled: the events come in small batches in random order, live. A state that arrives after a
  newer one of its order was sent is superseded, once that newer state is confirmed in Engage; every order
  still ends in its last state, one whose return came first included.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from relay.control import RedisTenantControl
from relay.schedule import RedisSchedule
from tests.support.outage_day import ECOM, delivered, placed, returned, shipped, tenant_table
from tests.support.simulator import RunningSimulator
from tests.support.stack import RelayStack, relay_stack
from workers.settings import DEFAULT_WORKER_CONCURRENCY

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("heavy")]

ORDERS = 60  # 60 x (placed, shipped, delivered) + 20 returns = 200 events per phase
SEED = 20261202
SETTLE_TIMEOUT_S = 120.0
KEY_ENV = "SEQUENCE_ECOM_KEY"
BATCH = 10  # the shuffled phase publishes this many events at a time
BATCH_GAP_S = 0.1


def journeys(first: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Every event of orders `first` .. `first + ORDERS - 1`, shuffled, and each order's last state."""
    events: list[dict[str, Any]] = []
    last: dict[str, str] = {}
    for n in range(first, first + ORDERS):
        events += [placed(n), shipped(n), delivered(n)]
        last[f"E-{n}"] = "Delivered"
        if n % 3 == 1:
            events.append(returned(n))
            last[f"E-{n}"] = "Returned"
    random.Random(SEED + first).shuffle(events)
    return events, last


@pytest.fixture
def stack(redis_url: str, simulator: RunningSimulator, tmp_path: Path) -> Iterator[RelayStack]:
    tenants = {ECOM: tenant_table(simulator.base_url, KEY_ENV, ECOM, {})}
    with relay_stack(
        redis_url, tmp_path, tenants, {KEY_ENV: simulator.api_key}, retry_ladder_s=None
    ) as stack:
        stack.start_worker("worker-1", DEFAULT_WORKER_CONCURRENCY)
        stack.start_worker("worker-2", DEFAULT_WORKER_CONCURRENCY)
        stack.start_ingest("ingest")
        yield stack


def settle(stack: RelayStack, events: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each event's outcomes (by id), once every event has one."""
    ids = {e["id"] for e in events}
    stack.wait_for_outcomes((f"{ECOM}:{i}" for i in ids), timeout_s=SETTLE_TIMEOUT_S)
    seen: dict[str, list[str]] = {}
    for outcome in stack.outcomes():
        if outcome.event_id in ids and outcome.outcome != "duplicate":
            seen.setdefault(outcome.event_id, []).append(outcome.outcome)
    return seen


def states_in_engage(simulator: RunningSimulator, last: dict[str, str]) -> dict[str, str | None]:
    orders = {o["orderId"]: o["order"] for o in simulator.admin.state()["orders"]}
    return {order_id: (orders.get(order_id) or {}).get("externalStatus") for order_id in last}


def wait_jobs_done(simulator: RunningSimulator) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if all(j["status"] != "Pending" for j in simulator.admin.state()["order_jobs"]):
            return
        time.sleep(0.2)


def behind(simulator: RunningSimulator, last: dict[str, str]) -> dict[str, str | None]:
    wait_jobs_done(simulator)
    return {o: s for o, s in states_in_engage(simulator, last).items() if s != last[o]}


@pytest.mark.timeout(300)
def test_held_events_of_each_order_drain_oldest_first(stack: RelayStack, simulator: RunningSimulator) -> None:
    events, last = journeys(0)
    client = redis.Redis.from_url(stack.redis_url)
    control, schedule = RedisTenantControl(client), RedisSchedule(client)
    # Given every event of every order is held in the schedule (the tenant is paused while they arrive)
    control.pause(ECOM, by="test")
    stack.publish(events)
    deadline = time.monotonic() + 60
    while len(list(schedule.jobs(ECOM))) < len(events) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(list(schedule.jobs(ECOM))) == len(events), "not every event was admitted"
    # When the tenant resumes, they all drain side by side
    started = time.monotonic()
    control.resume(ECOM)
    seen = settle(stack, events)
    took = time.monotonic() - started
    print(f"\n{len(events)} held events of {ORDERS} orders settled {took:.0f} s after resume")
    client.close()
    # Then every event ends once, applied (an order's older state is never superseded: it goes first)
    assert {e["id"] for e in events} <= set(seen), "an event has no outcome"
    assert Counter(o for outs in seen.values() for o in outs) == {"applied": len(events)}, Counter(
        (e["type"], *seen.get(e["id"], [])) for e in events
    )
    # and every order is in its last state in Engage
    assert behind(simulator, last) == {}


@pytest.mark.timeout(300)
def test_events_of_each_order_arriving_shuffled_leave_it_in_its_last_state(
    stack: RelayStack, simulator: RunningSimulator
) -> None:
    events, last = journeys(1000)
    # When the events arrive live, a few at a time, in random order
    for start in range(0, len(events), BATCH):
        stack.publish(events[start : start + BATCH])
        time.sleep(BATCH_GAP_S)
    seen = settle(stack, events)
    # Then every event ends once, applied or superseded by a newer state of its order sent before it came
    assert {e["id"] for e in events} <= set(seen), "an event has no outcome"
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    assert twice == {}
    outcomes = Counter(seen[e["id"]][0] for e in events)
    print(f"\nshuffled, live: {dict(outcomes)}")
    assert set(outcomes) <= {"applied", "superseded"}, outcomes
    # and every order is in its last state in Engage: one whose return came first too (its older states
    # waited for the return's change to be answered, then created the order: relay/handlers/order_clock)
    assert behind(simulator, last) == {}
