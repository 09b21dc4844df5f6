"""The rate limiter contract, one body for the in-memory twin and for Redis."""

from __future__ import annotations

import threading
import time

import pytest

from engage.errors import DeferredError, RateLimitWaitExceeded
from engage.ratelimit import DEFAULT_BUDGET_PER_S, MemoryRateLimiter, rate_window
from tests.unit.engage.conftest import LimiterFactory

BUDGET_PER_S = 20.0
WINDOW_S = 1.0
STAMP_JITTER_S = 0.02  # a stamp is taken after acquire returns, a few ms after the slot's own time


def max_in_any_window(stamps: list[float], window_s: float) -> int:
    stamps = sorted(stamps)
    best = 0
    start = 0
    for end, t in enumerate(stamps):
        while t - stamps[start] >= window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_a_free_slot_is_granted_without_waiting(limiter_factory: LimiterFactory) -> None:
    # Given a fresh limiter
    limiter = limiter_factory(BUDGET_PER_S)
    # When one slot is asked for
    waited_s = limiter.acquire("key-a")
    # Then it comes at once
    assert waited_s < 0.05


def test_threads_on_separate_instances_never_exceed_the_budget(limiter_factory: LimiterFactory) -> None:
    # Given four workers, each with its own limiter instance on the same backend
    limiters = [limiter_factory(BUDGET_PER_S) for _ in range(4)]
    stamps: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 1.6

    def work(index: int) -> None:
        while time.monotonic() < deadline:
            limiters[index].acquire("key-a", max_wait_s=5.0)
            with lock:
                stamps.append(time.monotonic())

    # When they all acquire as fast as they can for ~1.6 s
    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    # Then no one-second window saw more than the budget, and the budget was used
    assert max_in_any_window(stamps, WINDOW_S - STAMP_JITTER_S) <= BUDGET_PER_S
    assert len(stamps) >= BUDGET_PER_S + 1


def test_waiting_longer_than_allowed_raises_a_deferred_error(limiter_factory: LimiterFactory) -> None:
    # Given a key whose budget for this second is used up
    limiter = limiter_factory(2.0)
    limiter.acquire("key-a")
    limiter.acquire("key-a")
    # When a third call may wait only 50 ms
    # Then it gives up at once with a deferred error (not a ladder step), saying how long the wait is
    started = time.monotonic()
    with pytest.raises(RateLimitWaitExceeded) as caught:
        limiter.acquire("key-a", max_wait_s=0.05)
    assert isinstance(caught.value, DeferredError)
    assert caught.value.retry_after_s is not None and 0.5 < caught.value.retry_after_s <= 1.05
    assert time.monotonic() - started < 0.2


def test_a_penalty_is_seen_by_another_instance(limiter_factory: LimiterFactory) -> None:
    # Given two limiter instances (two processes) on one backend
    first, second = limiter_factory(BUDGET_PER_S), limiter_factory(BUDGET_PER_S)
    # When the first is told of a 429 for 0.3 s
    first.penalize("key-a", 0.3)
    # Then the second cannot get a slot within 0.1 s, and gets one after the cooldown
    with pytest.raises(RateLimitWaitExceeded):
        second.acquire("key-a", max_wait_s=0.1)
    waited_s = second.acquire("key-a", max_wait_s=1.0)
    assert 0.1 <= waited_s <= 0.5


def test_a_shorter_penalty_does_not_cut_a_longer_one(limiter_factory: LimiterFactory) -> None:
    limiter = limiter_factory(BUDGET_PER_S)
    limiter.penalize("key-a", 0.4)
    limiter.penalize("key-a", 0.01)
    with pytest.raises(RateLimitWaitExceeded):
        limiter.acquire("key-a", max_wait_s=0.2)


def test_keys_are_independent(limiter_factory: LimiterFactory) -> None:
    # Given key-a used up and penalized
    limiter = limiter_factory(1.0)
    limiter.acquire("key-a")
    limiter.penalize("key-a", 5)
    # When key-b asks
    # Then it is served at once
    assert limiter.acquire("key-b", max_wait_s=0.05) < 0.05


def test_budgets_per_key(limiter_factory: LimiterFactory) -> None:
    limiter = limiter_factory(budgets={"slow": 1.0})
    assert limiter.budget_for("slow") == 1.0
    assert limiter.budget_for("other") == DEFAULT_BUDGET_PER_S
    limiter.acquire("slow")
    with pytest.raises(RateLimitWaitExceeded):
        limiter.acquire("slow", max_wait_s=0.05)


@pytest.mark.parametrize(
    ("budget", "amount", "seconds"), [(40.0, 40, 1), (40.9, 40, 1), (0.5, 1, 2), (0.3, 1, 4)]
)
def test_budgets_become_moving_windows(budget: float, amount: int, seconds: int) -> None:
    window = rate_window(budget)
    assert (window.amount, window.window_s) == (amount, seconds)


def test_a_non_positive_budget_is_refused() -> None:
    with pytest.raises(ValueError):
        MemoryRateLimiter(0)


def test_usage_counts_the_slots_of_the_current_window_by_lane(limiter_factory: LimiterFactory) -> None:
    limiter = limiter_factory(budgets={"k": 10})
    for _ in range(3):
        limiter.acquire("k", lane="live")
    for _ in range(2):
        limiter.acquire("k", lane="backlog")
    use = limiter.usage("k")
    assert (use.amount, use.window_s, use.used, use.backlog, use.live_and_reads) == (10, 1, 5, 2, 3)
    assert limiter.usage("other").used == 0
