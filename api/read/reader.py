"""``read_through``: one cached read of Engage, within a deadline.

1. A fresh cached answer is the answer (``HIT``), at Redis speed.
2. While the tenant's breaker is not closed (Engage down, or the key refused), Engage is not asked.
3. Otherwise Engage is asked within what is left of the deadline, through the key's ``read`` lane of the
   shared limiter (a read never queues behind the backlog); its answer is kept (``put`` at the generation
   seen in step 1, so an invalidation meanwhile wins) and returned (``MISS``).
4. When Engage cannot answer in time, or answers with a failure that says nothing about the data (a 5xx,
   a timeout, a 429, a refused key), the kept answer, however stale, is returned (``STALE``, with its
   age); with none kept, ``ReadUnavailable`` (503 with ``Retry-After``).

An answer about the data (404 no such contact, 400 a malformed identifier, 409 several matches) passes
on as the ``engage.errors`` exception it is: it is not an outage, and a stale answer would hide it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

import structlog

from api.read.deadline import DeadlinePassed, call_within
from engage.errors import DeferredError, PermanentError, RetryableError, SystemicError
from relay.breaker import CircuitBreaker
from relay.readcache import ReadCache, ReadKind

log = structlog.get_logger(__name__)

CacheState = Literal["HIT", "MISS", "STALE"]
DEFAULT_RETRY_AFTER_S: Final = 5.0
"""With nothing cached and Engage silent: the till asks again in a few seconds (or sells without)."""


class ReadUnavailable(Exception):
    """Engage did not answer in time (or is held) and nothing is cached."""

    def __init__(self, reason: str, retry_after_s: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after_s)))


@dataclass(frozen=True)
class ReadResult:
    value: Any
    cache: CacheState
    age_s: float = 0.0

    @property
    def age_header(self) -> str:
        return str(int(self.age_s))


@dataclass(frozen=True)
class ReadTarget:
    """What is read: the tenant, the kind, the subject (a contact id or an identifier digest), a variant."""

    tenant: str
    kind: ReadKind
    subject: str
    variant: str = ""


def read_through(
    target: ReadTarget,
    fetch: Callable[[], Any],
    *,
    cache: ReadCache,
    breaker: CircuitBreaker,
    deadline_at: float,
    clock: Callable[[], float] = time.time,
) -> ReadResult:
    """The answer for ``target``: cached, fetched (a JSON-able value), or stale; never past ``deadline_at``
    (a ``time.monotonic()`` instant)."""
    cached, generation = cache.get(target.tenant, target.kind, target.subject, target.variant)
    if cached is not None and cached.fresh:
        return ReadResult(cached.value, "HIT", cached.age_s(clock()))

    def fallback(reason: str, retry_after_s: float = DEFAULT_RETRY_AFTER_S) -> ReadResult:
        log.info(
            "api.read.fallback", tenant=target.tenant, kind=target.kind, reason=reason, cached=bool(cached)
        )
        if cached is not None:
            return ReadResult(cached.value, "STALE", cached.age_s(clock()))
        raise ReadUnavailable(reason, retry_after_s)

    if breaker.state(target.tenant) != "closed":  # read only: a read never takes the workers' probe
        return fallback("breaker_open")
    try:
        value = call_within(fetch, deadline_at - time.monotonic())
    except DeadlinePassed:
        return fallback("deadline")
    except PermanentError:
        raise  # an answer about the data: 404, 400, 409
    except (RetryableError, DeferredError, SystemicError) as exc:
        retry_after = getattr(exc, "retry_after_s", None) or DEFAULT_RETRY_AFTER_S
        return fallback(type(exc).__name__, retry_after)
    cache.put(target.tenant, target.kind, target.subject, target.variant, value, generation)
    return ReadResult(value, "MISS", 0.0)
