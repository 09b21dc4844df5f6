"""A job's start (relay/start.py): the one-round-trip script and the stores one by one answer alike."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import cast

import pytest
import redis

from relay.breaker import RedisCircuitBreaker
from relay.control import RedisTenantControl
from relay.ledger import EVENT_CLAIM_TTL_S, RedisLedger
from relay.runtime import Runtime
from relay.schedule import Job, RedisSchedule
from relay.start import Start, _one_redis, _start_one_by_one, start
from tests.support.task_harness import memory_runtime, tenant_for

TENANT = "acme-se"


def _job(event_id: str) -> Job:
    return Job(
        event_id=event_id, tenant=TENANT, type="customer.created", envelope={"id": event_id}, digest="d1"
    )


def _redis_runtime(client: redis.Redis) -> Runtime:
    rt = memory_runtime([tenant_for("http://127.0.0.1:9", "k", name=TENANT)])
    rt.redis, rt.ledger = client, RedisLedger(client)
    rt.schedule, rt.control = RedisSchedule(client), RedisTenantControl(client)
    return rt


def _answers(rt: Runtime, go: Callable[[Runtime, Job, str], Start]) -> list[Start]:
    """The same five situations, in order, through `go` (start or _start_one_by_one)."""
    rt.schedule.admit([_job("fresh"), _job("taken"), _job("paused"), _job("settled")])
    rt.schedule.lease(TENANT, "live", 10, lease_s=1)
    out = [go(rt, _job("fresh"), "me:0")]
    rt.ledger.claim(TENANT, "taken", "another:0")
    out.append(go(rt, _job("taken"), "me:0"))
    out.append(go(rt, _job("gone"), "me:0"))
    rt.ledger.mark_settled(TENANT, "settled", "applied", "d1")
    out.append(go(rt, _job("settled"), "me:0"))
    rt.control.pause(TENANT, "ops")
    out.append(go(rt, _job("paused"), "me:0"))
    return out


EXPECTED = [
    (None, True, True, False),  # fresh: renewed, claimed, not paused
    (None, True, False, False),  # another copy holds the claim: no pause read
    (None, False, False, False),  # no longer in the schedule: nothing renewed or claimed
    ("applied", False, False, False),  # settled: nothing else done
    (None, True, True, True),  # the tenant is paused
]


def _plain(starts: list[Start]) -> list[tuple[str | None, bool, bool, bool]]:
    return [(s.mark.outcome if s.mark else None, s.touched, s.claimed, s.paused) for s in starts]


@pytest.mark.parametrize("path", ["script", "one by one", "twins"])
def test_every_path_gives_the_same_answers(path: str, request: pytest.FixtureRequest) -> None:
    if path == "twins":
        rt = memory_runtime([tenant_for("http://127.0.0.1:9", "k", name=TENANT)])
        assert _one_redis(rt) is None
        assert _plain(_answers(rt, start)) == EXPECTED
        return
    client: redis.Redis = request.getfixturevalue("redis_client")
    rt = _redis_runtime(client)
    assert _one_redis(rt) is client
    assert _plain(_answers(rt, start if path == "script" else _start_one_by_one)) == EXPECTED


def test_the_script_renews_the_lease_and_claims_with_the_ledgers_ttl(redis_client: redis.Redis) -> None:
    rt = _redis_runtime(redis_client)
    rt.schedule.admit([_job("e1")])
    rt.schedule.lease(TENANT, "live", 10, lease_s=1)
    start(rt, _job("e1"), "me:0")
    score = cast(float | None, redis_client.zscore(f"engage:sched:{TENANT}:leased:live", "e1"))
    assert score is not None and score / 1000 > time.time() + rt.lease_s - 5
    assert redis_client.get(f"engage:claim:{TENANT}:e1") == b"me:0"
    assert 0 < cast(int, redis_client.ttl(f"engage:claim:{TENANT}:e1")) <= EVENT_CLAIM_TTL_S


def test_the_script_reads_the_breaker_only_when_it_shares_the_redis(redis_client: redis.Redis) -> None:
    """A closed breaker lets the run call Engage with no `allow` of its own; an open one, or a breaker the
    script cannot read (the twin), leaves the run to ask it."""
    rt = _redis_runtime(redis_client)
    rt.schedule.admit([_job("e1"), _job("e2"), _job("e3")])
    rt.schedule.lease(TENANT, "live", 10, lease_s=1)
    assert not start(rt, _job("e1"), "me:0").breaker_closed  # the twin breaker: not read
    rt.breaker = RedisCircuitBreaker(redis_client)
    assert start(rt, _job("e2"), "me:0").breaker_closed
    rt.circuit.record(rt.circuit.allow(TENANT), "trip", "the key refused")
    assert not start(rt, _job("e3"), "me:0").breaker_closed
