"""Per-token request budgets, one body for the in-memory twin and for Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import redis

from api.ratelimit import (
    DEFAULT_KEY_PREFIX,
    DEFAULT_REQUEST_BUDGET,
    RateDecision,
    RedisRequestLimiter,
    RequestBudget,
)
from tests.unit.api.conftest import LimiterFactory

SMALL = RequestBudget(requests=3, per_s=1)


def until_allowed(check: Callable[[], bool], deadline_s: float) -> float:
    """Seconds until ``check()`` allows, polling; fails past the deadline."""
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        if check():
            return time.monotonic() - started
        time.sleep(0.01)
    raise AssertionError(f"not allowed within {deadline_s} s")


def test_the_default_budget_allows_its_requests_then_refuses(request_limiter_factory: LimiterFactory) -> None:
    # Given a limiter with the default budget
    limiter = request_limiter_factory()
    # When a client sends one request more than the budget within its window
    started = time.monotonic()
    decisions = [limiter.check("tok-a") for _ in range(DEFAULT_REQUEST_BUDGET.requests + 1)]
    assert time.monotonic() - started < DEFAULT_REQUEST_BUDGET.per_s
    # Then the budget is allowed and the last is refused, with a wait no longer than the window
    assert all(d.allowed for d in decisions[:-1])
    refused = decisions[-1]
    assert not refused.allowed
    assert 0 < refused.retry_after_s <= DEFAULT_REQUEST_BUDGET.per_s


def test_a_refused_client_may_come_back_after_retry_after(request_limiter_factory: LimiterFactory) -> None:
    # Given a token that used its budget
    limiter = request_limiter_factory(SMALL)
    for _ in range(SMALL.requests):
        assert limiter.check("tok-a").allowed
    refused = limiter.check("tok-a")
    assert not refused.allowed
    # When it polls until allowed (refused polls count for nothing)
    waited_s = until_allowed(lambda: limiter.check("tok-a").allowed, deadline_s=3.0)
    # Then it was let in about when it was told
    assert waited_s == pytest.approx(refused.retry_after_s, abs=0.25)


def test_one_tokens_budget_is_not_anothers(request_limiter_factory: LimiterFactory) -> None:
    limiter = request_limiter_factory(SMALL)
    for _ in range(SMALL.requests + 2):
        limiter.check("tok-greedy")
    assert not limiter.check("tok-greedy").allowed
    assert limiter.check("tok-other").allowed


def test_a_per_token_budget_overrides_the_default(request_limiter_factory: LimiterFactory) -> None:
    limiter = request_limiter_factory(SMALL)
    larger = RequestBudget(requests=6, per_s=1)
    assert all(limiter.check("tok-pos", larger).allowed for _ in range(6))
    assert not limiter.check("tok-pos", larger).allowed


def test_processes_share_one_budget_per_token(request_limiter_factory: LimiterFactory) -> None:
    # Given two API "processes" (separate limiter instances on the same backend) and threads in each
    limiters = [request_limiter_factory(SMALL), request_limiter_factory(SMALL)]
    allowed: list[RateDecision] = []
    lock = threading.Lock()

    def hammer(index: int) -> None:
        for _ in range(10):
            decision = limiters[index % 2].check("tok-a")
            if decision.allowed:
                with lock:
                    allowed.append(decision)

    # When four threads send 40 requests at once
    started = time.monotonic()
    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    # Then only the budget got through (all within one window)
    assert time.monotonic() - started < SMALL.per_s
    assert len(allowed) == SMALL.requests


@pytest.mark.parametrize(("retry_after_s", "header"), [(0.0, "1"), (0.2, "1"), (1.0, "1"), (1.01, "2")])
def test_retry_after_header_is_whole_seconds_at_least_one(retry_after_s: float, header: str) -> None:
    assert RateDecision(allowed=False, retry_after_s=retry_after_s).retry_after_header == header


@pytest.mark.parametrize(("requests", "per_s"), [(0, 1), (1, 0), (-1, 1)])
def test_a_budget_is_at_least_one_request_in_one_second(requests: int, per_s: int) -> None:
    with pytest.raises(ValueError, match="request budget"):
        RequestBudget(requests=requests, per_s=per_s)


def test_redis_counters_live_under_the_api_prefix(redis_client: redis.Redis) -> None:
    RedisRequestLimiter(redis_client, SMALL).check("tok-a")
    keys = [key.decode() for key in redis_client.scan_iter("*")]
    assert keys
    assert all(key.startswith(f"{DEFAULT_KEY_PREFIX}:") for key in keys)
    assert DEFAULT_KEY_PREFIX.startswith("engage:api:")
