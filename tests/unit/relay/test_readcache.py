"""The read cache, one body against the in-memory twin and a real Redis: fresh, stale, the generation
guard (an invalidation during a read is not overwritten by the older answer), and what each event
type invalidates."""

from __future__ import annotations

import pytest

from relay.readcache import (
    DEFAULT_FRESH_S,
    DEFAULT_STALE_KEEP_S,
    CacheTtl,
    MemoryReadCache,
    ReadCache,
    RedisReadCache,
    kinds_changed_by,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest, clock: Clock) -> ReadCache:
    if request.param == "memory":
        return MemoryReadCache(clock=clock)
    return RedisReadCache(request.getfixturevalue("redis_client"), clock=clock)


def test_an_answer_is_fresh_for_its_kinds_ttl_then_stale(cache: ReadCache, clock: Clock) -> None:
    assert cache.get("acme", "overview", "c1") == (None, 0)
    assert cache.put("acme", "overview", "c1", "", {"points": 10}, 0)

    found, _ = cache.get("acme", "overview", "c1")
    assert found is not None and found.fresh and found.value == {"points": 10}
    clock.now += DEFAULT_FRESH_S["overview"] + 1
    found, _ = cache.get("acme", "overview", "c1")
    assert found is not None and not found.fresh
    assert found.age_s(clock.now) == pytest.approx(DEFAULT_FRESH_S["overview"] + 1)


def test_an_invalidated_answer_is_stale_but_kept_for_outages(cache: ReadCache) -> None:
    cache.put("acme", "promotions", "c1", "POS", ["a1"], 0)
    cache.invalidate("acme", "c1", ["promotions"])
    found, generation = cache.get("acme", "promotions", "c1", "POS")
    assert found is not None and not found.fresh and found.value == ["a1"]
    assert generation == 1


def test_an_invalidation_during_a_read_is_not_overwritten_by_the_older_answer(cache: ReadCache) -> None:
    _, seen = cache.get("acme", "vouchers", "c1", "available")  # the read begins
    cache.invalidate("acme", "c1", ["vouchers"])  # the relay redeems a voucher meanwhile
    assert not cache.put("acme", "vouchers", "c1", "available", ["v-old"], seen)  # the read's answer
    found, generation = cache.get("acme", "vouchers", "c1", "available")
    assert found is None
    assert cache.put("acme", "vouchers", "c1", "available", ["v-new"], generation)


def test_kinds_subjects_and_tenants_are_apart(cache: ReadCache) -> None:
    cache.put("acme", "overview", "c1", "", 1, 0)
    cache.invalidate("acme", "c1", ["vouchers"])
    cache.invalidate("other", "c1", ["overview"])
    cache.invalidate("acme", "c2", ["overview"])
    found, _ = cache.get("acme", "overview", "c1")
    assert found is not None and found.fresh


def test_the_memory_twin_forgets_past_the_stale_keep(clock: Clock) -> None:
    cache = MemoryReadCache(clock=clock)
    cache.put("acme", "overview", "c1", "", 1, 0)
    clock.now += DEFAULT_STALE_KEEP_S + 1
    assert cache.get("acme", "overview", "c1") == (None, 0)


def test_redis_keeps_entries_for_the_stale_keep_and_generations_longer(redis_client: object) -> None:
    import redis

    assert isinstance(redis_client, redis.Redis)
    cache = RedisReadCache(redis_client)
    cache.put("acme", "overview", "c1", "", 1, 0)
    cache.invalidate("acme", "c1", ["overview"])
    entry_ttl = redis_client.pttl("engage:readcache:e:acme:overview:c1:")
    gen_ttl = redis_client.pttl("engage:readcache:g:acme:overview:c1")
    assert 0 < entry_ttl <= DEFAULT_STALE_KEEP_S * 1000 < gen_ttl


def test_what_each_write_invalidates() -> None:
    assert kinds_changed_by("customer.updated") == ("overview",)
    assert set(kinds_changed_by("promotion.redeemed")) == {"promotions", "overview"}
    assert set(kinds_changed_by("voucher.redeemed")) == {"vouchers", "overview"}
    assert "overview" in kinds_changed_by("receipt.completed")  # points
    assert kinds_changed_by("product.viewed") == ()


def test_ttls_are_checked() -> None:
    with pytest.raises(ValueError, match="fresh TTL"):
        CacheTtl(fresh_s={"overview": 1.0})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least as long"):
        CacheTtl(stale_keep_s=1.0)
