"""A tenant's gate for the mover (`Runtime.gates`): the pause flags and breaker states of many tenants,
alike on the memory twins, on Redis in one round trip, and on Redis stores of other clients."""

from __future__ import annotations

import pytest
import redis

from relay.breaker import BREAKER_FAILURE_THRESHOLD, BreakerPolicy, MemoryCircuitBreaker, RedisCircuitBreaker
from relay.control import MemoryTenantControl, RedisTenantControl, TenantControl
from relay.runtime import Runtime
from tests.support.round_trips import round_trips
from tests.support.task_harness import memory_runtime, tenant_for

NAMES = ["acme", "beta", "gamma", "delta"]
OPEN_S = 30.0


class Clock:
    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
def control(request: pytest.FixtureRequest) -> TenantControl:
    if request.param == "memory":
        return MemoryTenantControl()
    return RedisTenantControl(request.getfixturevalue("redis_client"))


def test_paused_many_reads_many_tenants_as_paused_reads_each(control: TenantControl) -> None:
    control.pause("beta", "ops@example.se")
    control.pause("delta", "ops@example.se")
    control.resume("delta")
    expected = {"acme": False, "beta": True, "gamma": False, "delta": False}
    assert control.paused_many(NAMES) == expected
    assert {name: control.paused(name) for name in NAMES} == expected
    assert control.paused_many([]) == {}


def _runtime(client: redis.Redis | None, clock: Clock, *, other: redis.Redis | None = None) -> Runtime:
    """Acme paused (and its breaker open), beta open, gamma half open, delta closed. With `other`, the
    stores use another client than the runtime's (so they are asked one by one)."""
    policy = BreakerPolicy(open_s=OPEN_S)
    rt = memory_runtime([tenant_for("http://127.0.0.1:9", f"k-{name}", name=name) for name in NAMES])
    if client is not None:
        stores = other or client
        rt.redis, rt.control = client, RedisTenantControl(stores)
        rt.breaker = RedisCircuitBreaker(stores, policy, clock=clock)
    else:
        rt.breaker = MemoryCircuitBreaker(policy, clock=clock)
    for name in ("gamma", "acme"):
        for _ in range(BREAKER_FAILURE_THRESHOLD):
            rt.circuit.record(rt.circuit.allow(name), "failure", "Engage answers 503")
        clock.now += OPEN_S + 1
    for _ in range(BREAKER_FAILURE_THRESHOLD):
        rt.circuit.record(rt.circuit.allow("beta"), "failure", "Engage answers 503")
    rt.control.pause("acme", "ops@example.se")
    return rt


EXPECTED = {"acme": "paused", "beta": "open", "gamma": "half_open", "delta": "closed"}


def test_gates_on_the_twins() -> None:
    assert _runtime(None, Clock()).gates(NAMES) == EXPECTED


def test_gates_on_redis_are_one_round_trip(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = _runtime(redis_client, Clock())
    rt.gates(NAMES)  # connected
    with round_trips(monkeypatch) as sent:
        assert rt.gates(NAMES) == EXPECTED
        assert rt.gates([]) == {}
    assert sent == [1]


def test_gates_with_stores_on_another_client_ask_each_store(
    redis_client: redis.Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = redis.Redis.from_url(redis_url)
    try:
        rt = _runtime(redis_client, Clock(), other=other)
        rt.gates(NAMES)
        with round_trips(monkeypatch) as sent:
            assert rt.gates(NAMES) == EXPECTED
        assert sent == [2]  # the pause flags, then the breaker states
    finally:
        other.close()
