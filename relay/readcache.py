"""The read cache: Engage's answers to the checkout read path, kept in Redis per tenant and contact.

The API's read path (``api/read/``) asks here first; the relay's handlers invalidate what a write they
applied changed (``KINDS_CHANGED_BY``: a contact update its overview, a redemption its promotions or
vouchers, a receipt its points, which the overview carries).

Each answer is kept with the time it was stored and the *generation* of its subject and kind when the
read began. An invalidation bumps the generation (one ``INCR``) and touches nothing else, so:

- an answer is *fresh* while it is younger than its kind's TTL (``CacheTtl.fresh_s``) and its generation
  is the current one; otherwise it is *stale*, still kept (``CacheTtl.stale_keep_s``) for the answer of
  last resort when Engage is down or slow (the read path marks it ``X-Cache: STALE`` with its age);
- ``put`` stores only if the generation is still the one the read saw (a Lua compare-and-set), so a read
  that began before an invalidation can never overwrite it with the older answer.

Public API: ``ReadKind``, ``READ_KINDS``, ``CacheTtl`` (``DEFAULT_FRESH_S``, ``DEFAULT_STALE_KEEP_S``),
``CachedRead``, ``ReadCache`` protocol (``get``, ``put``, ``invalidate``) with ``RedisReadCache`` and
``MemoryReadCache``, ``KINDS_CHANGED_BY``, ``kinds_changed_by(event_type)``, ``READ_CACHE_PREFIX``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

import redis
from redis.client import Pipeline

from relay.batch import Batch
from relay.keys import READ_CACHE_PREFIX

# Entries at ``<prefix>:e:<tenant>:<kind>:<subject>:<variant>``, generations at ``<prefix>:g:...``.

ReadKind = Literal["lookup", "overview", "vouchers", "promotions"]
READ_KINDS: Final[tuple[ReadKind, ...]] = ("lookup", "overview", "vouchers", "promotions")

DEFAULT_FRESH_S: Final[Mapping[ReadKind, float]] = {
    "lookup": 60.0,  # identifiers rarely move between contacts; a minute saves the till one call a sale
    "overview": 60.0,  # profile, points, level: a sale is minutes long, and our own writes invalidate it
    "vouchers": 30.0,  # vouchers and promotions change from Engage's side too (automations, expiry),
    "promotions": 30.0,  # so they are trusted for half as long
}
DEFAULT_STALE_KEEP_S: Final = 4 * 3600.0
"""A stale answer is kept this long for outages: a shop day's worth of the regulars seen this morning."""

KINDS_CHANGED_BY: Final[Mapping[str, tuple[ReadKind, ...]]] = {
    "customer.created": ("overview",),
    "customer.updated": ("overview",),
    "promotion.assigned": ("promotions", "overview"),
    "promotion.redeemed": ("promotions", "overview"),
    "voucher.redeemed": ("vouchers", "overview"),
    # points (in the overview), and the vouchers and promotions a purchase may have used or earned
    "receipt.completed": ("overview", "vouchers", "promotions"),
    "order.delivered": ("overview", "vouchers", "promotions"),
    "return.created": ("overview", "vouchers", "promotions"),
}


def kinds_changed_by(event_type: str) -> tuple[ReadKind, ...]:
    """The cached kinds an applied event of this type makes out of date for its contact."""
    return KINDS_CHANGED_BY.get(event_type, ())


@dataclass(frozen=True)
class CacheTtl:
    """How long each kind is fresh, and how long any answer is kept for stale use."""

    fresh_s: Mapping[ReadKind, float] = field(default_factory=lambda: dict(DEFAULT_FRESH_S))
    stale_keep_s: float = DEFAULT_STALE_KEEP_S

    def __post_init__(self) -> None:
        if set(self.fresh_s) != set(READ_KINDS) or any(v <= 0 for v in self.fresh_s.values()):
            raise ValueError(f"give a positive fresh TTL for each of {', '.join(READ_KINDS)}")
        if self.stale_keep_s < max(self.fresh_s.values()):
            raise ValueError("stale answers must be kept at least as long as fresh ones")


@dataclass(frozen=True)
class CachedRead:
    """A kept answer (JSON-able ``value``), when it was stored, and whether it is still fresh."""

    value: Any
    stored_at: float
    fresh: bool

    def age_s(self, now: float) -> float:
        return max(0.0, now - self.stored_at)


class ReadCache(Protocol):
    def get(
        self, tenant: str, kind: ReadKind, subject: str, variant: str = ""
    ) -> tuple[CachedRead | None, int]:
        """The kept answer (or None) and the generation to hand back to ``put``."""
        ...

    def put(
        self, tenant: str, kind: ReadKind, subject: str, variant: str, value: Any, generation: int
    ) -> bool:
        """Keep an answer read at ``generation``; False (nothing kept) when invalidated since."""
        ...

    def invalidate(self, tenant: str, subject: str, kinds: Iterable[ReadKind]) -> None:
        """Make every kept answer of these kinds for this subject (a contact id) stale."""
        ...

    def invalidate_in(self, batch: Batch, tenant: str, subject: str, kinds: Iterable[ReadKind]) -> None:
        """`invalidate`, as part of an atomic batch (the final write of the event that changed them)."""
        ...


def _entry_key(prefix: str, tenant: str, kind: str, subject: str, variant: str) -> str:
    return f"{prefix}:e:{tenant}:{kind}:{subject}:{variant}"


def _gen_key(prefix: str, tenant: str, kind: str, subject: str) -> str:
    return f"{prefix}:g:{tenant}:{kind}:{subject}"


def _decode(raw: bytes | str | None, generation: int, fresh_s: float, now: float) -> CachedRead | None:
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
        stored_at = float(doc["at"])
        fresh = int(doc["gen"]) == generation and now - stored_at < fresh_s
        return CachedRead(value=doc["v"], stored_at=stored_at, fresh=fresh)
    except (ValueError, KeyError, TypeError):  # not an entry this module wrote
        return None


# Store the entry only while the subject's generation is the one the read began with.
_PUT_LUA = """
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""


class RedisReadCache:
    """Shared by every API process and worker: one string per answer, one counter per subject and kind."""

    def __init__(
        self,
        client: redis.Redis,
        ttl: CacheTtl | None = None,
        *,
        prefix: str = READ_CACHE_PREFIX,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self.ttl = ttl or CacheTtl()
        self._prefix = prefix
        self._clock = clock
        self._put = client.register_script(_PUT_LUA)

    def get(
        self, tenant: str, kind: ReadKind, subject: str, variant: str = ""
    ) -> tuple[CachedRead | None, int]:
        pipe = self._redis.pipeline(transaction=False)
        pipe.get(_entry_key(self._prefix, tenant, kind, subject, variant))
        pipe.get(_gen_key(self._prefix, tenant, kind, subject))
        raw, gen_raw = pipe.execute()
        generation = int(gen_raw or 0)
        return _decode(raw, generation, self.ttl.fresh_s[kind], self._clock()), generation

    def put(
        self, tenant: str, kind: ReadKind, subject: str, variant: str, value: Any, generation: int
    ) -> bool:
        doc = json.dumps({"v": value, "at": self._clock(), "gen": generation}, separators=(",", ":"))
        keys = [
            _entry_key(self._prefix, tenant, kind, subject, variant),
            _gen_key(self._prefix, tenant, kind, subject),
        ]
        return bool(self._put(keys=keys, args=[generation, doc, int(self.ttl.stale_keep_s * 1000)]))

    def invalidate(self, tenant: str, subject: str, kinds: Iterable[ReadKind]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        self._stage_invalidate(pipe, tenant, subject, kinds)
        pipe.execute()

    def invalidate_in(self, batch: Batch, tenant: str, subject: str, kinds: Iterable[ReadKind]) -> None:
        pipe = batch.pipeline_for(self._redis)
        if pipe is None:
            wanted = list(kinds)
            batch.then(lambda: self.invalidate(tenant, subject, wanted))
        else:
            self._stage_invalidate(pipe, tenant, subject, kinds)

    def _stage_invalidate(self, pipe: Pipeline, tenant: str, subject: str, kinds: Iterable[ReadKind]) -> None:
        # a generation outlives every entry written under it, so it never falls back to an old value
        keep_ms = int((self.ttl.stale_keep_s + max(self.ttl.fresh_s.values())) * 1000)
        for kind in kinds:
            key = _gen_key(self._prefix, tenant, kind, subject)
            pipe.incr(key)
            pipe.pexpire(key, keep_ms)

    def __repr__(self) -> str:
        return f"RedisReadCache(prefix={self._prefix!r})"


class MemoryReadCache:
    """The in-process twin (thread-safe); entries past ``stale_keep_s`` are forgotten when read."""

    def __init__(self, ttl: CacheTtl | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.ttl = ttl or CacheTtl()
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str, str, str], str] = {}
        self._gens: dict[tuple[str, str, str], int] = {}

    def get(
        self, tenant: str, kind: ReadKind, subject: str, variant: str = ""
    ) -> tuple[CachedRead | None, int]:
        now = self._clock()
        with self._lock:
            generation = self._gens.get((tenant, kind, subject), 0)
            raw = self._entries.get((tenant, kind, subject, variant))
        found = _decode(raw, generation, self.ttl.fresh_s[kind], now)
        if found is not None and found.age_s(now) >= self.ttl.stale_keep_s:
            return None, generation
        return found, generation

    def put(
        self, tenant: str, kind: ReadKind, subject: str, variant: str, value: Any, generation: int
    ) -> bool:
        doc = json.dumps({"v": value, "at": self._clock(), "gen": generation})
        with self._lock:
            if self._gens.get((tenant, kind, subject), 0) != generation:
                return False
            self._entries[(tenant, kind, subject, variant)] = doc
            return True

    def invalidate(self, tenant: str, subject: str, kinds: Iterable[ReadKind]) -> None:
        with self._lock:
            for kind in kinds:
                self._gens[(tenant, kind, subject)] = self._gens.get((tenant, kind, subject), 0) + 1

    def invalidate_in(self, batch: Batch, tenant: str, subject: str, kinds: Iterable[ReadKind]) -> None:
        wanted = list(kinds)
        batch.then(lambda: self.invalidate(tenant, subject, wanted))
