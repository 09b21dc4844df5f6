"""One sweeper per tenant: the Redis lease (redis-py's Lock) and its in-process twin, one body for both."""

from __future__ import annotations

import time

import pytest
import redis

from fallback.sweep_lock import MemorySweepLock, RedisSweepLock, SweepLock


@pytest.fixture(params=["memory", "redis"])
def make_lock(request: pytest.FixtureRequest) -> type[SweepLock] | object:
    if request.param == "memory":
        shared = MemorySweepLock(lease_s=0.3)
        return lambda: shared
    client: redis.Redis = request.getfixturevalue("redis_client")
    return lambda: RedisSweepLock(client, lease_s=0.3)


def test_a_second_sweeper_of_the_same_tenant_is_refused(make_lock: object) -> None:
    first, second = make_lock(), make_lock()  # type: ignore[operator]
    with first.held("acme") as mine:
        assert mine
        with second.held("acme") as theirs:
            assert not theirs
        # another tenant never waits
        with second.held("beta") as other:
            assert other
    # Then once released the next sweeper gets it
    with second.held("acme") as mine_now:
        assert mine_now


def test_a_crashed_sweepers_lease_runs_out(make_lock: object) -> None:
    first, second = make_lock(), make_lock()  # type: ignore[operator]
    stuck = first.held("acme")
    assert stuck.__enter__()  # a sweeper that never leaves (it crashed)
    deadline = time.monotonic() + 5
    while True:
        taken = second.held("acme")
        if taken.__enter__():
            break
        taken.__exit__(None, None, None)
        assert time.monotonic() < deadline, "the lease never ran out"
        time.sleep(0.05)
    # Then the late release of the old holder does not free the new holder's lease
    stuck.__exit__(None, None, None)
    with make_lock().held("acme") as third:  # type: ignore[operator]
        assert not third
    taken.__exit__(None, None, None)
