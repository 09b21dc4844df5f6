"""The circuit breaker's rules, one body run against the Redis breaker and its in-memory twin."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import redis

from engage.errors import (
    AlreadyRedeemed,
    AuthenticationFailed,
    ContactBeingCreated,
    EngageTimeout,
    EngageUnreachable,
    RateLimited,
    RateLimitWaitExceeded,
    ServerError,
    ValidationFailed,
)
from relay.breaker import (
    BREAKER_FAILURE_THRESHOLD,
    BreakerInfo,
    BreakerPolicy,
    CircuitBreaker,
    MemoryCircuitBreaker,
    Permit,
    RedisCircuitBreaker,
    guarded,
    verdict,
)
from relay.ledger import ContactBusy

OPEN_S = 30.0
WINDOW_S = 30.0


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


Factory = Callable[[BreakerPolicy, Callable[[], float]], CircuitBreaker]


@pytest.fixture(params=["memory", "redis"])
def make_breaker(request: pytest.FixtureRequest) -> Factory:
    if request.param == "memory":
        return lambda policy, clock: MemoryCircuitBreaker(policy, clock=clock)
    client: redis.Redis = request.getfixturevalue("redis_client")
    return lambda policy, clock: RedisCircuitBreaker(client, policy, clock=clock)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(make_breaker: Factory, clock: FakeClock) -> CircuitBreaker:
    return make_breaker(BreakerPolicy(open_s=OPEN_S, window_s=WINDOW_S), clock)


def fail(breaker: CircuitBreaker, tenant: str, times: int, clock: FakeClock | None = None) -> None:
    for _ in range(times):
        permit = breaker.allow(tenant)
        assert permit.allowed
        breaker.record(permit, "failure")
        if clock is not None:
            clock.advance(1.0)


def open_breaker(breaker: CircuitBreaker, tenant: str) -> None:
    fail(breaker, tenant, BREAKER_FAILURE_THRESHOLD)
    assert breaker.state(tenant) == "open"


def test_opens_after_threshold_failures_and_refuses_calls(breaker: CircuitBreaker, clock: FakeClock) -> None:
    # Given a closed breaker with one failure fewer than the threshold
    fail(breaker, "acme", BREAKER_FAILURE_THRESHOLD - 1, clock)
    # Then it is still closed and lets calls through
    assert breaker.state("acme") == "closed"
    assert breaker.allow("acme").allowed
    # When one more failure comes
    fail(breaker, "acme", 1)
    # Then it is open, and refuses with the remaining open time
    assert breaker.state("acme") == "open"
    clock.advance(10)
    permit = breaker.allow("acme")
    assert not permit.allowed
    assert permit.retry_after_s == pytest.approx(OPEN_S - 10)


def test_failures_spread_wider_than_the_window_do_not_open(breaker: CircuitBreaker, clock: FakeClock) -> None:
    # Given failures arriving every 10 s: never the threshold within 30 s
    for _ in range(BREAKER_FAILURE_THRESHOLD * 2):
        fail(breaker, "acme", 1)
        clock.advance(10.0)
    # Then the breaker stays closed
    assert breaker.state("acme") == "closed"


def test_a_success_clears_the_failure_run(breaker: CircuitBreaker) -> None:
    # Given failures, a success, then failures again, never the threshold in a row
    fail(breaker, "acme", BREAKER_FAILURE_THRESHOLD - 1)
    ok = breaker.allow("acme")
    breaker.record(ok, "success")
    fail(breaker, "acme", BREAKER_FAILURE_THRESHOLD - 1)
    # Then it stays closed
    assert breaker.state("acme") == "closed"


def test_neutral_results_neither_open_nor_clear(breaker: CircuitBreaker) -> None:
    # Given failures interleaved with neutral results (429s)
    for _ in range(BREAKER_FAILURE_THRESHOLD):
        fail(breaker, "acme", 1)
        permit = breaker.allow("acme")
        breaker.record(permit, "neutral")
    # Then the failures still count as a run
    assert breaker.state("acme") == "open"


def test_tenants_are_isolated(breaker: CircuitBreaker) -> None:
    # Given tenant acme's breaker open
    open_breaker(breaker, "acme")
    # Then nordic still goes through, and its state is closed
    assert breaker.allow("nordic").allowed
    assert breaker.state("nordic") == "closed"
    assert not breaker.allow("acme").allowed


def test_states_reads_many_tenants_as_state_reads_each(breaker: CircuitBreaker, clock: FakeClock) -> None:
    # Given one breaker opened long ago (half open now), one just opened, one with failures, one unknown
    open_breaker(breaker, "acme")
    clock.advance(OPEN_S + 1)
    open_breaker(breaker, "nordic")
    fail(breaker, "beta", BREAKER_FAILURE_THRESHOLD - 1)
    tenants = ["acme", "nordic", "beta", "never-seen"]
    # Then states tells every one at once, as state tells each
    expected = {"acme": "half_open", "nordic": "open", "beta": "closed", "never-seen": "closed"}
    assert breaker.states(tenants) == expected
    assert {tenant: breaker.state(tenant) for tenant in tenants} == expected
    assert breaker.states([]) == {}


def test_half_open_lets_one_probe_through_and_closes_on_success(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    # Given an open breaker whose open time has passed
    open_breaker(breaker, "acme")
    clock.advance(OPEN_S)
    assert breaker.state("acme") == "half_open"
    # When two callers ask
    probe = breaker.allow("acme")
    other = breaker.allow("acme")
    # Then only the first is let through, as the probe
    assert probe.allowed and probe.is_probe
    assert not other.allowed and other.retry_after_s > 0
    # When the probe succeeds
    breaker.record(probe, "success")
    # Then the breaker is closed and everyone goes through
    assert breaker.state("acme") == "closed"
    assert breaker.allow("acme").allowed
    assert not breaker.allow("acme").is_probe


def test_failed_probe_reopens_for_another_full_period(breaker: CircuitBreaker, clock: FakeClock) -> None:
    # Given a half-open breaker and its probe
    open_breaker(breaker, "acme")
    clock.advance(OPEN_S + 5)
    probe = breaker.allow("acme")
    assert probe.is_probe
    # When the probe fails
    clock.advance(2)
    breaker.record(probe, "failure")
    # Then it is open again, counted from the probe's failure
    assert breaker.state("acme") == "open"
    clock.advance(OPEN_S - 1)
    refused = breaker.allow("acme")
    assert not refused.allowed
    assert refused.retry_after_s == pytest.approx(1.0)
    clock.advance(1)
    assert breaker.allow("acme").is_probe


def test_neutral_probe_gives_the_lease_back(breaker: CircuitBreaker, clock: FakeClock) -> None:
    # Given a half-open breaker whose probe got a 429
    open_breaker(breaker, "acme")
    clock.advance(OPEN_S)
    probe = breaker.allow("acme")
    breaker.record(probe, "neutral")
    # Then it stays half-open and the next caller probes
    assert breaker.state("acme") == "half_open"
    assert breaker.allow("acme").is_probe


def test_results_of_calls_started_before_opening_are_ignored(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    # Given a call let through while closed, still in flight when the breaker opens
    early = breaker.allow("acme")
    open_breaker(breaker, "acme")
    # When it finishes successfully
    breaker.record(early, "success")
    # Then the breaker stays open (only a probe closes it)
    assert breaker.state("acme") == "open"


def test_only_one_probe_under_concurrency(make_breaker: Factory) -> None:
    # Given an open breaker with a very short open time, on the real clock
    breaker = make_breaker(BreakerPolicy(open_s=0.05), time.time)
    open_breaker(breaker, "acme")
    time.sleep(0.06)
    # When 16 threads ask at once
    start = threading.Barrier(16)
    permits: list[Permit] = []
    guard = threading.Lock()

    def ask() -> None:
        start.wait()
        permit = breaker.allow("acme")
        with guard:
            permits.append(permit)

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)
    # Then exactly one was let through, as the probe
    assert len(permits) == 16
    assert sum(p.allowed for p in permits) == 1
    assert sum(p.is_probe for p in permits) == 1


def test_a_dead_probe_lease_expires(make_breaker: Factory) -> None:
    # Given a probe whose worker died (never records), with a short lease
    breaker = make_breaker(BreakerPolicy(open_s=0.05, probe_lease_s=0.1), time.time)
    open_breaker(breaker, "acme")
    time.sleep(0.06)
    assert breaker.allow("acme").is_probe
    assert not breaker.allow("acme").allowed
    # When the lease runs out
    time.sleep(0.15)
    # Then another caller probes
    assert breaker.allow("acme").is_probe


def test_reset_closes(breaker: CircuitBreaker) -> None:
    open_breaker(breaker, "acme")
    breaker.reset("acme")
    assert breaker.state("acme") == "closed"
    assert breaker.allow("acme").allowed


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (None, "success"),
        (ValidationFailed("bad", status=422), "success"),
        (AlreadyRedeemed("done", status=409), "success"),
        (ContactBeingCreated("busy", status=409), "success"),
        (ServerError("down", status=503), "failure"),
        (EngageUnreachable("refused", maybe_delivered=False), "failure"),
        (EngageTimeout("read timeout", maybe_delivered=True), "failure"),
        (AuthenticationFailed("key", status=401), "trip"),
        (RateLimited("slow down", status=429), "neutral"),
        (RateLimitWaitExceeded("wait", wait_s=3.0), "neutral"),
        (ContactBusy("ref"), "neutral"),
        (KeyError("bug"), "neutral"),
    ],
)
def test_verdict_table(exc: BaseException | None, expected: str) -> None:
    assert verdict(exc) == expected


def test_guarded_records_and_reraises(clock: FakeClock) -> None:
    # Given a memory breaker and calls that fail with 503
    breaker = MemoryCircuitBreaker(BreakerPolicy(), clock=clock)

    def down() -> None:
        raise ServerError("down", status=503)

    # When they run through guarded, the errors pass on and the breaker opens
    for _ in range(BREAKER_FAILURE_THRESHOLD):
        with pytest.raises(ServerError):
            guarded(breaker, breaker.allow("acme"), down)
    assert breaker.state("acme") == "open"


def test_redis_breakers_in_two_workers_share_one_state(redis_url: str, clock: FakeClock) -> None:
    # Given two workers, each with its own connection and breaker object
    one, two = redis.Redis.from_url(redis_url), redis.Redis.from_url(redis_url)
    worker_a = RedisCircuitBreaker(one, BreakerPolicy(open_s=OPEN_S), clock=clock)
    worker_b = RedisCircuitBreaker(two, BreakerPolicy(open_s=OPEN_S), clock=clock)
    # When worker A sees the failures
    open_breaker(worker_a, "acme")
    # Then worker B is refused too, and B's probe closes it for A
    assert not worker_b.allow("acme").allowed
    clock.advance(OPEN_S)
    probe = worker_b.allow("acme")
    assert probe.is_probe
    assert not worker_a.allow("acme").allowed
    worker_b.record(probe, "success")
    assert worker_a.state("acme") == "closed"
    one.close()
    two.close()


def test_a_refused_key_trips_at_once_and_keeps_its_cause(breaker: CircuitBreaker, clock: FakeClock) -> None:
    # Given one call that Engage answers 401
    permit = breaker.allow("acme")
    with pytest.raises(AuthenticationFailed):
        guarded(breaker, permit, lambda: (_ for _ in ()).throw(AuthenticationFailed("key", status=401)))
    # Then the tenant is held at once, and the breaker says why in plain words
    info = breaker.info("acme")
    assert info.state == "open"
    assert info.cause == "Engage refused the API key (401): check the tenant's key"
    started = info.outage_since
    assert started is not None and info.opened_at == started


def test_the_outage_start_is_kept_across_failed_probes(breaker: CircuitBreaker, clock: FakeClock) -> None:
    open_breaker(breaker, "acme")
    started = breaker.info("acme").outage_since
    # When a probe fails after the open time, with another cause
    clock.advance(OPEN_S + 1)
    probe = breaker.allow("acme")
    assert probe.is_probe
    breaker.record(probe, "failure", "Engage answers 503")
    # Then the breaker re-opened with the new cause, and the outage still counts from its first opening
    info = breaker.info("acme")
    assert (info.state, info.cause, info.outage_since) == ("open", "Engage answers 503", started)
    assert info.outage_s(clock() + 5) == pytest.approx(OPEN_S + 1 + 5)
    # and once a probe succeeds the outage is over
    clock.advance(OPEN_S + 1)
    probe = breaker.allow("acme")
    breaker.record(probe, "success")
    assert breaker.info("acme") == BreakerInfo("closed")
