"""An event's trail: what happened to it, step by step, for `GET /v1/events/{id}`, the console and `dlq show`.

The outcome stream carries one final outcome per event; the trail also keeps the waits before it (ladder
steps, holds, 429 cooldowns, dead-lettering, the spill) with their causes. One short Redis list per event
(``engage:trail:{tenant}:{event id}``) that expires with the outcomes' retention; no envelope and no
personal data in it, only states, causes and Engage's codes.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any, Final, Literal, Protocol, cast

import redis
from pydantic import BaseModel, ConfigDict, Field
from redis.client import Pipeline

from relay.batch import Batch
from relay.keys import TRAIL_PREFIX

MAX_TRAIL_ENTRIES: Final = 50  # an event retried and held for days keeps its last 50 steps
DEFAULT_TRAIL_TTL_S: Final = 7 * 24 * 3600

Step = Literal[
    "admitted",  # taken from the stream into the schedule
    "parked",  # waits: `reason` says why, `due` until when
    "dead_lettered",  # the ladder ran out: for an operator (or the file fallback)
    "spilled",  # a long outage: handed to the file fallback
    "outcome",  # the final outcome (also on the outcome stream)
    "duplicate",  # a copy of the event came and was dropped
    "conflict",  # another payload under the same id came and was kept for an operator
]


class TrailEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    step: Step
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    attempt: int | None = None
    lane: str | None = None
    reason: str | None = None
    due: datetime | None = None
    outcome: str | None = None
    contact_id: str | None = None
    engage_status: int | None = None
    error: str | None = None  # the error class, or Engage's code
    detail: str | None = None


class Trail(Protocol):
    def add(self, tenant: str, event_id: str, entry: TrailEntry) -> None: ...

    def add_in(self, batch: Batch, tenant: str, event_id: str, entry: TrailEntry) -> None: ...

    def read(self, tenant: str, event_id: str) -> list[TrailEntry]: ...


def trail_key(tenant: str, event_id: str) -> str:
    return f"{TRAIL_PREFIX}:{tenant}:{event_id}"


class RedisTrail:
    def __init__(self, client: redis.Redis, *, ttl_s: int = DEFAULT_TRAIL_TTL_S) -> None:
        self._redis = client
        self._ttl_s = ttl_s

    def add(self, tenant: str, event_id: str, entry: TrailEntry) -> None:
        pipe = self._redis.pipeline(transaction=False)
        self._stage(pipe, tenant, event_id, entry)
        pipe.execute()

    def add_in(self, batch: Batch, tenant: str, event_id: str, entry: TrailEntry) -> None:
        pipe = batch.pipeline_for(self._redis)
        if pipe is None:
            batch.then(lambda: self.add(tenant, event_id, entry))
        else:
            self._stage(pipe, tenant, event_id, entry)

    def _stage(self, pipe: Pipeline, tenant: str, event_id: str, entry: TrailEntry) -> None:
        key = trail_key(tenant, event_id)
        pipe.rpush(key, entry.model_dump_json(exclude_none=True))
        pipe.ltrim(key, -MAX_TRAIL_ENTRIES, -1)
        pipe.expire(key, self._ttl_s)

    def read(self, tenant: str, event_id: str) -> list[TrailEntry]:
        raw = cast(list[bytes], self._redis.lrange(trail_key(tenant, event_id), 0, -1))
        return [TrailEntry.model_validate_json(item) for item in raw]


class MemoryTrail:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._entries: dict[tuple[str, str], list[TrailEntry]] = {}

    def add(self, tenant: str, event_id: str, entry: TrailEntry) -> None:
        with self._guard:
            entries = self._entries.setdefault((tenant, event_id), [])
            entries.append(entry)
            del entries[:-MAX_TRAIL_ENTRIES]

    def add_in(self, batch: Batch, tenant: str, event_id: str, entry: TrailEntry) -> None:
        batch.then(lambda: self.add(tenant, event_id, entry))

    def read(self, tenant: str, event_id: str) -> list[TrailEntry]:
        with self._guard:
            return list(self._entries.get((tenant, event_id), []))


def steps(entries: list[TrailEntry]) -> list[dict[str, Any]]:
    """The trail as plain dicts (for JSON answers)."""
    return [e.model_dump(mode="json", exclude_none=True) for e in entries]
