"""The console's audit log: who did what, when, to which tenant, and to how many events.

Every change made in the console (settings saved, test run, replay, drop, reveal, pause, resume, breaker
reset, sweep) is one entry of the Redis stream `engage:console:audit` (capped at AUDIT_MAXLEN entries,
newest kept). Entries never hold a secret or an envelope's personal fields: only names, counts and ids.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Protocol, cast

import redis
from pydantic import BaseModel, ConfigDict, Field

AUDIT_STREAM = "engage:console:audit"
AUDIT_MAXLEN = 100_000
AUDIT_PAGE = 200


class AuditEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    who: str
    role: str
    tenant: str | None = None
    action: str  # settings_saved, connection_tested, replayed, dropped, revealed, paused, ...
    count: int = 0  # how many events the action touched (0: none, e.g. settings saved)
    detail: str = ""


class AuditLog(Protocol):
    def record(self, entry: AuditEntry) -> None: ...

    def recent(self, *, tenant: str | None = None, limit: int = AUDIT_PAGE) -> list[AuditEntry]: ...


class RedisAuditLog:
    def __init__(self, client: redis.Redis, stream: str = AUDIT_STREAM, maxlen: int = AUDIT_MAXLEN) -> None:
        self._redis = client
        self._stream = stream
        self._maxlen = maxlen

    def record(self, entry: AuditEntry) -> None:
        self._redis.xadd(
            self._stream, {"entry": entry.model_dump_json()}, maxlen=self._maxlen, approximate=True
        )

    def recent(self, *, tenant: str | None = None, limit: int = AUDIT_PAGE) -> list[AuditEntry]:
        """Newest first; with `tenant`, only that tenant's entries (among the newest read)."""
        rows = cast(
            list[tuple[bytes, dict[bytes, bytes]]],
            self._redis.xrevrange(self._stream, count=limit if tenant is None else limit * 10),
        )
        entries = [AuditEntry.model_validate_json(fields[b"entry"]) for _, fields in rows]
        return [e for e in entries if tenant is None or e.tenant == tenant][:limit]


class MemoryAuditLog:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._entries: list[AuditEntry] = []

    def record(self, entry: AuditEntry) -> None:
        with self._guard:
            self._entries.append(entry)

    def recent(self, *, tenant: str | None = None, limit: int = AUDIT_PAGE) -> list[AuditEntry]:
        with self._guard:
            newest = list(reversed(self._entries))
        return [e for e in newest if tenant is None or e.tenant == tenant][:limit]
