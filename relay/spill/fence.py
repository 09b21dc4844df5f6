"""The file fence: while a contact's record travels by file, the API path sends it nothing newer.

An import file is applied by Engage some time after it is uploaded (Voyado imports files on its own
schedule). A newer update sent by the API in the meantime would be overwritten by the file's older values
when the import runs. So when the sweep writes a contact's record into a file it raises a fence on that
contact (its GUID, or the hash of its key when the GUID is not known yet), kept until the file is uploaded
and then for the tenant's `fallback.import_grace_s`; a customer event for a fenced contact waits (a
deferred error, parked in the schedule, not a ladder step) and then applies on top of what the file set.

Redis: ``engage:fence:{tenant}:{ref}`` per contact (its TTL is the fence), and
``engage:fence:file:{tenant}:{file}``, the refs of one file, so the upload can lower them.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable
from typing import Final, Protocol, cast

import redis

from engage.errors import DeferredError
from relay.keys import FENCE_PREFIX

FENCE_UNTIL_UPLOADED_S: Final = 7 * 24 * 3600  # a file not uploaded within a week holds its contacts no more
FENCE_RETRY_S: Final = 5.0  # a fenced event looks again after at most this


class FileInFlight(DeferredError):
    """The contact's record is in an import file Engage has not applied yet: wait, then apply on top."""

    def _text(self) -> str:
        return self.summary


class FileFence(Protocol):
    def raise_for(self, tenant: str, file: str, refs: Iterable[str]) -> None: ...

    def uploaded(self, tenant: str, file: str, grace_s: float) -> None: ...

    def remaining_s(self, tenant: str, refs: Iterable[str]) -> float: ...


class RedisFileFence:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def raise_for(self, tenant: str, file: str, refs: Iterable[str]) -> None:
        refs = list(refs)
        if not refs:
            return
        pipe = self._redis.pipeline(transaction=False)
        for ref in refs:
            pipe.set(f"{FENCE_PREFIX}:{tenant}:{ref}", file, ex=FENCE_UNTIL_UPLOADED_S)
        pipe.sadd(f"{FENCE_PREFIX}:file:{tenant}:{file}", *refs)
        pipe.expire(f"{FENCE_PREFIX}:file:{tenant}:{file}", FENCE_UNTIL_UPLOADED_S)
        pipe.execute()

    def uploaded(self, tenant: str, file: str, grace_s: float) -> None:
        members = cast(set[bytes], self._redis.smembers(f"{FENCE_PREFIX}:file:{tenant}:{file}"))
        pipe = self._redis.pipeline(transaction=False)
        for ref in members:
            key = f"{FENCE_PREFIX}:{tenant}:{ref.decode()}"
            if grace_s > 0:
                pipe.set(key, file, px=max(1, math.ceil(grace_s * 1000)))
            else:
                pipe.delete(key)
        pipe.delete(f"{FENCE_PREFIX}:file:{tenant}:{file}")
        pipe.execute()

    def remaining_s(self, tenant: str, refs: Iterable[str]) -> float:
        keys = [f"{FENCE_PREFIX}:{tenant}:{ref}" for ref in refs]
        if not keys:
            return 0.0
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.pttl(key)
        return max((max(ttl, 0) / 1000 for ttl in pipe.execute()), default=0.0)


class MemoryFileFence:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._until: dict[tuple[str, str], float] = {}
        self._files: dict[tuple[str, str], set[str]] = {}

    def raise_for(self, tenant: str, file: str, refs: Iterable[str]) -> None:
        with self._guard:
            for ref in refs:
                self._until[(tenant, ref)] = time.monotonic() + FENCE_UNTIL_UPLOADED_S
                self._files.setdefault((tenant, file), set()).add(ref)

    def uploaded(self, tenant: str, file: str, grace_s: float) -> None:
        with self._guard:
            for ref in self._files.pop((tenant, file), set()):
                self._until[(tenant, ref)] = time.monotonic() + grace_s

    def remaining_s(self, tenant: str, refs: Iterable[str]) -> float:
        now = time.monotonic()
        with self._guard:
            return max((self._until.get((tenant, ref), now) - now for ref in refs), default=0.0)


def check_fence(fence: FileFence, tenant: str, refs: Iterable[str]) -> None:
    """Raise `FileInFlight` when any of the contact's refs is fenced."""
    remaining = fence.remaining_s(tenant, refs)
    if remaining > 0:
        error = FileInFlight("the contact's record is in an import file Engage has not applied yet")
        error.retry_after_s = min(remaining, FENCE_RETRY_S)
        raise error
