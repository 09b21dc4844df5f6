"""The rate limiter contract, one body for the in-memory twin and for Redis."""

from __future__ import annotations

import threading
import time

import pytest

from engage.errors import DeferredError, RateLimitWaitExceeded
from engage.ratelimit import (
    DEFAULT_BUDGET_PER_S,
    RATE_DECREASE,
    MemoryRateLimiter,
    RateLimiter,
    adapted_amount,
    lowered_rate,
    rate_window,
)
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


@pytest.mark.parametrize(("live_share", "backlog_at_once"), [(0.5, 5), (0.8, 2)])
def test_while_live_calls_want_the_budget_the_backlog_gets_what_the_keys_live_share_leaves(
    live_share: float, backlog_at_once: int
) -> None:
    # Given a key of 10 calls/s whose tenant keeps `live_share` for live events, and a live call just made
    limiter = MemoryRateLimiter(DEFAULT_BUDGET_PER_S, sleep=lambda _s: None)
    limiter.set_budget("k", 10, live_share)
    assert limiter.live_share_for("k") == live_share
    assert limiter.live_share_for("other") == 0.5  # a key with no setting of its own: the default
    limiter.acquire("k", lane="live")
    # When the backlog asks for slots as fast as it can, none willing to wait for a later window
    granted_now = 0
    for _ in range(8):
        try:
            limiter.acquire("k", lane="backlog", max_wait_s=0.2)
        except RateLimitWaitExceeded:
            continue
        granted_now += 1
    # Then only its share of this window is granted at once; the rest waits for later windows
    assert granted_now == backlog_at_once


def test_a_live_share_of_one_or_more_is_refused() -> None:
    with pytest.raises(ValueError):
        MemoryRateLimiter(10).set_budget("k", 10, 1.0)


def use_up(limiter: RateLimiter, key: str, calls: int) -> None:
    for _ in range(calls):
        limiter.acquire(key, max_wait_s=2.0)


def test_a_429_lowers_the_key_s_rate(limiter_factory: LimiterFactory) -> None:
    # Given a key that sent its whole budget in this window
    limiter = limiter_factory(BUDGET_PER_S)
    use_up(limiter, "key-a", int(BUDGET_PER_S))
    assert limiter.rate_now("key-a") == BUDGET_PER_S
    # When Engage answers 429
    limiter.penalize("key-a", 0.01)
    # Then the key hands out 90 % of that per window, and another key keeps its budget
    assert limiter.rate_now("key-a") == int(BUDGET_PER_S * RATE_DECREASE)
    assert limiter.rate_now("key-b") == BUDGET_PER_S


def test_the_429s_of_one_window_lower_the_rate_once(limiter_factory: LimiterFactory) -> None:
    # Given a key at its budget, refused by several calls of the same window
    limiter = limiter_factory(BUDGET_PER_S)
    use_up(limiter, "key-a", int(BUDGET_PER_S))
    for _ in range(5):
        limiter.penalize("key-a", 0.01)
    # Then the rate was lowered once, not five times
    assert limiter.rate_now("key-a") == int(BUDGET_PER_S * RATE_DECREASE)


def test_a_lowered_rate_is_what_acquire_hands_out(limiter_factory: LimiterFactory) -> None:
    # Given a key whose rate a 429 lowered from 20 to 18 a window
    limiter = limiter_factory(BUDGET_PER_S)
    use_up(limiter, "key-a", int(BUDGET_PER_S))
    limiter.penalize("key-a", 0.01)
    time.sleep(WINDOW_S)  # the window the budget was used in has passed
    # When callers take slots as fast as they can for a while
    stamps: list[float] = []
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        limiter.acquire("key-a", max_wait_s=2.0)
        stamps.append(time.monotonic())
    # Then no window saw more than the lowered rate, and the key was not stopped
    lowered = int(BUDGET_PER_S * RATE_DECREASE)
    assert max_in_any_window(stamps, WINDOW_S - STAMP_JITTER_S) <= lowered
    assert len(stamps) > lowered


def test_a_429_a_window_later_lowers_the_rate_again(limiter_factory: LimiterFactory) -> None:
    limiter = limiter_factory(BUDGET_PER_S)
    use_up(limiter, "key-a", int(BUDGET_PER_S))
    limiter.penalize("key-a", 0.01)
    time.sleep(WINDOW_S * 0.5)
    use_up(limiter, "key-a", int(BUDGET_PER_S * RATE_DECREASE))  # the lowered window, used up
    time.sleep(WINDOW_S * 0.55)
    limiter.penalize("key-a", 0.01)
    # 90 % of the lowered 18
    assert limiter.rate_now("key-a") == int(int(BUDGET_PER_S * RATE_DECREASE) * RATE_DECREASE)


def test_a_budget_below_one_a_second_keeps_its_cooldown_only(limiter_factory: LimiterFactory) -> None:
    limiter = limiter_factory(0.5)
    limiter.acquire("key-a")
    limiter.penalize("key-a", 0.01)
    assert limiter.rate_now("key-a") == 1


@pytest.mark.parametrize(
    ("rate", "seconds", "amount"), [(36.0, 0, 36), (36.0, 5, 38), (36.0, 10, 40), (36.0, 60, 40), (4.0, 0, 4)]
)
def test_a_lowered_rate_climbs_back_to_the_budget(rate: float, seconds: float, amount: int) -> None:
    # A budget of 40: the rate climbs 0.4 calls/s each second
    assert adapted_amount(rate_window(40.0), rate, 100.0, 100.0 + seconds) == amount


@pytest.mark.parametrize(("amount_now", "rate"), [(40, 36.0), (36, 32.4), (4, 4.0), (2, 4.0)])
def test_the_lowered_rate(amount_now: int, rate: float) -> None:
    # 90 % of the rate now, never below a tenth of the budget
    assert lowered_rate(rate_window(40.0), amount_now) == pytest.approx(rate)
