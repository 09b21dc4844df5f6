"""The file fence: while a contact's record travels by file, the API path sends it nothing newer.

An import file is applied by Engage some time after it is uploaded (Voyado imports files on its own
schedule). A newer update sent by the API in the meantime would be overwritten by the file's older values
when the import runs. So when the sweep writes a contact's record into a file it raises a fence on that
contact (its GUID, or the hash of its key when the GUID is not known yet), kept until the file is uploaded
and then for the tenant's `fallback.import_grace_s`; a customer event for a fenced contact waits (a
deferred error, parked in the schedule, not a ladder step) and then applies on top of what the file set.

A contact may be fenced by several holders at once (a spilled event waiting for the sweep, the file it
went into); it is free once none holds it. Redis: ``engage:fence:{tenant}:{ref}``, a sorted set of holders
and until when each holds (ms), and ``engage:fence:holder:{tenant}:{holder}``, the refs of one holder.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Final, Protocol, cast

import redis
import structlog

from engage.errors import DeferredError
from relay.keys import FENCE_PREFIX

log = structlog.get_logger("relay.spill")

FENCE_UNTIL_UPLOADED_S: Final = 7 * 24 * 3600  # a file not uploaded within a week holds its contacts no more
FENCE_RETRY_S: Final = 5.0  # a fenced event looks again after at most this


class FileInFlight(DeferredError):
    """The contact's record is in an import file Engage has not applied yet: wait, then apply on top.

    `engage_answered`: Engage answered the calls made before it (the breaker counts that as up)."""

    engage_answered = False

    def _text(self) -> str:
        return self.summary


class FileFence(Protocol):
    def raise_for(self, tenant: str, holder: str, refs: Iterable[str]) -> None:
        """`holder` (a file's name, or a spilled event's) fences these contacts until it is released."""
        ...

    def uploaded(self, tenant: str, holder: str, grace_s: float) -> None:
        """The holder's file is uploaded: its fences last `grace_s` more (0: lifted now)."""
        ...

    def holders(self, tenant: str, refs: Iterable[str]) -> dict[str, float]:
        """Who still fences these contacts, and for how many more seconds each (only those still holding)."""
        ...

    def remaining_s(self, tenant: str, refs: Iterable[str]) -> float: ...


class RedisFileFence:
    """Per contact a sorted set of holders and until when each holds it; per holder the set of its refs."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def _ref_key(self, tenant: str, ref: str) -> str:
        return f"{FENCE_PREFIX}:{tenant}:{ref}"

    def _holder_key(self, tenant: str, holder: str) -> str:
        return f"{FENCE_PREFIX}:holder:{tenant}:{holder}"

    def raise_for(self, tenant: str, holder: str, refs: Iterable[str]) -> None:
        refs = list(refs)
        if not refs:
            return
        until_ms = int((time.time() + FENCE_UNTIL_UPLOADED_S) * 1000)
        pipe = self._redis.pipeline(transaction=False)
        for ref in refs:
            pipe.zadd(self._ref_key(tenant, ref), {holder: until_ms})
            pipe.pexpireat(self._ref_key(tenant, ref), until_ms)
        pipe.sadd(self._holder_key(tenant, holder), *refs)
        pipe.expire(self._holder_key(tenant, holder), FENCE_UNTIL_UPLOADED_S)
        pipe.execute()

    def uploaded(self, tenant: str, holder: str, grace_s: float) -> None:
        refs = cast(set[bytes], self._redis.smembers(self._holder_key(tenant, holder)))
        until_ms = int((time.time() + grace_s) * 1000)
        pipe = self._redis.pipeline(transaction=False)
        for raw in refs:
            key = self._ref_key(tenant, raw.decode())
            if grace_s > 0:
                pipe.zadd(key, {holder: until_ms}, xx=True)
            else:
                pipe.zrem(key, holder)
        pipe.delete(self._holder_key(tenant, holder))
        pipe.execute()

    def holders(self, tenant: str, refs: Iterable[str]) -> dict[str, float]:
        keys = [self._ref_key(tenant, ref) for ref in refs]
        if not keys:
            return {}
        now_ms = int(time.time() * 1000)
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.zrangebyscore(key, now_ms + 1, "+inf", withscores=True)
        held: dict[str, float] = {}
        for rows in pipe.execute():
            for raw, until_ms in rows:
                holder = raw.decode()
                held[holder] = max(held.get(holder, 0.0), (until_ms - now_ms) / 1000)
        return held

    def remaining_s(self, tenant: str, refs: Iterable[str]) -> float:
        return max(self.holders(tenant, refs).values(), default=0.0)


class MemoryFileFence:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._until: dict[tuple[str, str], dict[str, float]] = {}
        self._holders: dict[tuple[str, str], set[str]] = {}

    def raise_for(self, tenant: str, holder: str, refs: Iterable[str]) -> None:
        with self._guard:
            for ref in refs:
                self._until.setdefault((tenant, ref), {})[holder] = time.monotonic() + FENCE_UNTIL_UPLOADED_S
                self._holders.setdefault((tenant, holder), set()).add(ref)

    def uploaded(self, tenant: str, holder: str, grace_s: float) -> None:
        with self._guard:
            for ref in self._holders.pop((tenant, holder), set()):
                held = self._until.get((tenant, ref), {})
                if grace_s > 0:
                    held[holder] = time.monotonic() + grace_s
                else:
                    held.pop(holder, None)

    def holders(self, tenant: str, refs: Iterable[str]) -> dict[str, float]:
        now = time.monotonic()
        held: dict[str, float] = {}
        with self._guard:
            for ref in refs:
                for holder, end in self._until.get((tenant, ref), {}).items():
                    if end > now:
                        held[holder] = max(held.get(holder, 0.0), end - now)
        return held

    def remaining_s(self, tenant: str, refs: Iterable[str]) -> float:
        return max(self.holders(tenant, refs).values(), default=0.0)


SPILL_HOLDER_PREFIX: Final = "spill:"


def spill_holder(event_id: str) -> str:
    """The holder name of a spilled customer event (fenced from the spill until its record is in a file)."""
    return f"{SPILL_HOLDER_PREFIX}{event_id}"


SpillPending = Callable[[str, str], bool]
"""``(tenant, event_id)`` -> whether that spilled event still waits for the sweep to put it in a file."""


def check_fence(
    fence: FileFence, tenant: str, refs: Iterable[str], spill_pending: SpillPending | None = None
) -> None:
    """Raise `FileInFlight` when any of the contact's refs is fenced.

    A spilled event's fence lasts until its record is in a file. Should it outlive that (a process killed
    between the spill and the sweep's release), it would hold the contact for a week: with
    ``spill_pending``, a spill holder whose event no longer waits for the sweep is lifted here instead."""
    held = fence.holders(tenant, refs)
    if spill_pending is not None:
        for holder in [h for h in held if h.startswith(SPILL_HOLDER_PREFIX)]:
            if not spill_pending(tenant, holder.removeprefix(SPILL_HOLDER_PREFIX)):
                log.warning("fallback.fence.stale_lifted", holder=holder)
                fence.uploaded(tenant, holder, 0)
                del held[holder]
    remaining = max(held.values(), default=0.0)
    if remaining > 0:
        error = FileInFlight("the contact's record is in an import file Engage has not applied yet")
        error.retry_after_s = min(remaining, FENCE_RETRY_S)
        raise error
