"""The rejected store: every envelope that failed validation, kept as received with every reason."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import redis
from pydantic import BaseModel, ConfigDict, Field

REJECTED_STREAM = "engage:rejected"
MAX_KEPT_RAW_BYTES = 1_000_000  # an envelope larger than this is kept truncated, and the reason says so


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    raw: str
    reasons: list[dict[str, Any]]
    stage: str  # "ingest" (envelope invalid, unknown tenant) or "engage" (Engage said the data is wrong)
    event_id: str | None = None
    tenant: str | None = None
    type: str | None = None
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))


def raw_text(raw: bytes | str) -> str:
    """The envelope as text, bytes that are not UTF-8 escaped rather than lost."""
    text = raw.decode("utf-8", errors="backslashreplace") if isinstance(raw, bytes) else raw
    return text[:MAX_KEPT_RAW_BYTES]


class RejectedStore(Protocol):
    def add(self, rejection: Rejection) -> str: ...

    def list(self, count: int = 100) -> list[tuple[str, Rejection]]: ...

    def newest(self, count: int = 100) -> Sequence[tuple[str, Rejection]]:
        """The last `count` rejections, newest first (the console's page)."""
        ...

    def trim(self, *, retention_s: float, maxlen: int) -> None:
        """Drop rejections older than the retention, or beyond the maximum length."""
        ...


class RedisRejectedStore:
    """A Redis stream of rejections, trimmed to its retention (days) and maximum length by the mover."""

    def __init__(self, client: redis.Redis, stream: str = REJECTED_STREAM) -> None:
        self._redis = client
        self.stream = stream

    def add(self, rejection: Rejection) -> str:
        entry_id = self._redis.xadd(self.stream, {"rejection": rejection.model_dump_json()})
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    def list(self, count: int = 100) -> list[tuple[str, Rejection]]:
        entries = cast(list[tuple[bytes, dict[bytes, bytes]]], self._redis.xrange(self.stream, count=count))
        return [(eid.decode(), Rejection.model_validate_json(f[b"rejection"])) for eid, f in entries]

    def newest(self, count: int = 100) -> Sequence[tuple[str, Rejection]]:
        entries = cast(
            list[tuple[bytes, dict[bytes, bytes]]], self._redis.xrevrange(self.stream, count=count)
        )
        return [(eid.decode(), Rejection.model_validate_json(f[b"rejection"])) for eid, f in entries]

    def count(self) -> int:
        return cast(int, self._redis.xlen(self.stream))

    def trim(self, *, retention_s: float, maxlen: int) -> None:
        oldest_ms = max(int((time.time() - retention_s) * 1000), 0)
        self._redis.xtrim(self.stream, minid=f"{oldest_ms}-0", approximate=True)
        self._redis.xtrim(self.stream, maxlen=maxlen, approximate=True)


class MemoryRejectedStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[tuple[str, Rejection]] = []

    def add(self, rejection: Rejection) -> str:
        with self._lock:
            entry_id = f"{len(self._items) + 1}-0"
            self._items.append((entry_id, rejection))
            return entry_id

    def list(self, count: int = 100) -> list[tuple[str, Rejection]]:
        with self._lock:
            return list(self._items[:count])

    def newest(self, count: int = 100) -> Sequence[tuple[str, Rejection]]:
        with self._lock:
            return list(reversed(self._items[-count:])) if count > 0 else []

    def count(self) -> int:
        return len(self._items)

    def trim(self, *, retention_s: float, maxlen: int) -> None:
        cutoff = time.time() - retention_s
        with self._lock:
            kept = [item for item in self._items if item[1].at.timestamp() >= cutoff]
            self._items[:] = kept[-maxlen:] if maxlen > 0 else []
