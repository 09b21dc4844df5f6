"""read_through over the in-memory twins: hit, miss (kept), stale on a deadline, an outage or an open
breaker, 503 with nothing kept, and answers about the data passed on."""

from __future__ import annotations

import time

import pytest

from api.read.reader import ReadTarget, ReadUnavailable, read_through
from engage.errors import ContactNotFound, ServerError
from relay.breaker import MemoryCircuitBreaker
from relay.readcache import MemoryReadCache

TARGET = ReadTarget("acme", "overview", "c1")


def read(
    cache: MemoryReadCache, breaker: MemoryCircuitBreaker, fetch: object, deadline_s: float = 0.3
) -> object:
    return read_through(
        TARGET,
        fetch,
        cache=cache,
        breaker=breaker,
        deadline_at=time.monotonic() + deadline_s,  # type: ignore[arg-type]
    )


def test_a_miss_is_kept_and_then_hit() -> None:
    cache, breaker = MemoryReadCache(), MemoryCircuitBreaker()
    first = read(cache, breaker, lambda: {"points": 1})
    second = read(cache, breaker, lambda: pytest.fail("the cache answers"))
    assert (first.cache, second.cache, second.value) == ("MISS", "HIT", {"points": 1})  # type: ignore[attr-defined]


def test_slow_failing_or_held_engage_answers_the_stale_copy() -> None:
    cache, breaker = MemoryReadCache(), MemoryCircuitBreaker()
    read(cache, breaker, lambda: {"points": 1})
    cache.invalidate("acme", "c1", ["overview"])

    started = time.monotonic()
    slow = read(cache, breaker, lambda: time.sleep(2), deadline_s=0.2)
    assert time.monotonic() - started < 0.5

    def down() -> None:
        raise ServerError("503", status=503)

    failing = read(cache, breaker, down)
    breaker.record(breaker.allow("acme"), "trip", "test")
    held = read(cache, breaker, lambda: pytest.fail("Engage is not asked while the breaker is open"))
    for answer in (slow, failing, held):
        assert answer.cache == "STALE" and answer.value == {"points": 1}  # type: ignore[attr-defined]


def test_with_nothing_kept_it_is_unavailable_and_answers_about_the_data_pass_on() -> None:
    cache, breaker = MemoryReadCache(), MemoryCircuitBreaker()
    with pytest.raises(ReadUnavailable) as unavailable:
        read(cache, breaker, lambda: time.sleep(2), deadline_s=0.1)
    assert unavailable.value.retry_after_header == "5"

    def missing() -> None:
        raise ContactNotFound("404", status=404)

    with pytest.raises(ContactNotFound):
        read(cache, breaker, missing)
