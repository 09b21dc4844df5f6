"""Dead letters: events whose retries ran out, kept with the original envelope until replayed or dropped.

Each dead letter is one Redis string (JSON) that never expires by itself, indexed by time in a sorted
set. The record holds the error class, Engage's status and error code, the attempts and timestamps,
never the API key (errors never carry it) and never a request body beyond the event's own envelope.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, Protocol, cast

import redis
from pydantic import BaseModel, ConfigDict, Field

DLQ_PREFIX = "engage:dlq"
LIST_PAGE = 500

BULK_REF_PREFIX: Final = "bulk:"
"""How the ``fallback_file`` of a letter sent by the bulk API begins: ``bulk:{batchId}:{row}``."""

FallbackState = Literal["pending", "written", "delivered_by_file", "superseded", "failed", "not_applicable"]
"""Where the fallback sweep (relay/spill/sweep.py) has got with a letter:

- pending: waiting for the next sweep;
- written: in an outbox file (`fallback_file` names it) or a bulk batch (`bulk:{batchId}:{row}`) not yet
  confirmed; a crash here is repaired by the next sweep (at worst a record is sent twice);
- delivered_by_file: the file was uploaded and verified, or the bulk batch applied the row;
- superseded: a customer update whose every field was overtaken by a newer value (never written);
- failed: the file or bulk path refused the record (`message` says why); replay it once fixed;
- not_applicable: no file channel exists for the type; replay it with `engage-relay dlq replay`.
"""


class DeadLetter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: str
    tenant: str
    type: str
    envelope: dict[str, Any]
    error_class: str
    error_kind: str  # retryable, systemic, permanent
    engage_status: int | None = None
    engage_error_code: str | None = None
    message: str | None = None
    attempts: int = 0
    first_failed_at: datetime | None = None
    dead_lettered_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    fallback_state: FallbackState = "pending"
    fallback_file: str | None = None
    stream_entry: str | None = None  # the events-stream entry the event came in by
    details: dict[str, Any] | None = None  # the error's own facts (an identity conflict's two contacts)

    @property
    def id(self) -> str:
        return dead_letter_id(self.tenant, self.event_id)

    @property
    def in_bulk_batch(self) -> bool:
        """Sent as a row of a bulk batch that Engage has not reported done yet (it may still apply it)."""
        return self.fallback_state == "written" and (self.fallback_file or "").startswith(BULK_REF_PREFIX)


def dead_letter_id(tenant: str, event_id: str) -> str:
    return f"{tenant}:{event_id}"


@dataclass(frozen=True)
class DeadLetterFilter:
    tenant: str | None = None
    type: str | None = None
    error: str | None = None  # matches the error class or Engage's error code
    since: datetime | None = None
    until: datetime | None = None
    fallback_state: FallbackState | None = None

    def matches(self, letter: DeadLetter) -> bool:
        return (
            (self.tenant is None or letter.tenant == self.tenant)
            and (self.type is None or letter.type == self.type)
            and (self.error is None or self.error in (letter.error_class, letter.engage_error_code))
            and (self.since is None or letter.dead_lettered_at >= self.since)
            and (self.until is None or letter.dead_lettered_at <= self.until)
            and (self.fallback_state is None or letter.fallback_state == self.fallback_state)
        )


class DeadLetterStore(Protocol):
    def add(self, letter: DeadLetter) -> str: ...

    def get(self, letter_id: str) -> DeadLetter | None: ...

    def update(self, letter: DeadLetter) -> None: ...

    def list(self, where: DeadLetterFilter | None = None) -> Iterator[DeadLetter]: ...

    def drop(self, letter_id: str) -> bool: ...

    def count(self) -> int: ...


class RedisDeadLetterStore:
    def __init__(self, client: redis.Redis, prefix: str = DLQ_PREFIX) -> None:
        self._redis = client
        self._items = f"{prefix}:item:"
        self._index = f"{prefix}:index"

    def add(self, letter: DeadLetter) -> str:
        pipe = self._redis.pipeline()
        pipe.set(self._items + letter.id, letter.model_dump_json())
        pipe.zadd(self._index, {letter.id: letter.dead_lettered_at.timestamp()})
        pipe.execute()
        return letter.id

    def update(self, letter: DeadLetter) -> None:
        self._redis.set(self._items + letter.id, letter.model_dump_json(), xx=True)

    def get(self, letter_id: str) -> DeadLetter | None:
        raw = cast(bytes | None, self._redis.get(self._items + letter_id))
        return None if raw is None else DeadLetter.model_validate_json(raw)

    def list(self, where: DeadLetterFilter | None = None) -> Iterator[DeadLetter]:
        where = where or DeadLetterFilter()
        low = where.since.timestamp() if where.since else "-inf"
        high = where.until.timestamp() if where.until else "+inf"
        offset = 0
        while True:
            ids = cast(
                list[bytes], self._redis.zrangebyscore(self._index, low, high, start=offset, num=LIST_PAGE)
            )
            if not ids:
                return
            raws = cast(list[bytes | None], self._redis.mget([self._items + i.decode() for i in ids]))
            for raw in raws:
                if raw is not None:
                    letter = DeadLetter.model_validate_json(raw)
                    if where.matches(letter):
                        yield letter
            offset += len(ids)

    def drop(self, letter_id: str) -> bool:
        pipe = self._redis.pipeline()
        pipe.delete(self._items + letter_id)
        pipe.zrem(self._index, letter_id)
        deleted, _ = pipe.execute()
        return bool(deleted)

    def count(self) -> int:
        return cast(int, self._redis.zcard(self._index))


class MemoryDeadLetterStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, DeadLetter] = {}

    def add(self, letter: DeadLetter) -> str:
        with self._lock:
            self._items[letter.id] = letter.model_copy()
        return letter.id

    def update(self, letter: DeadLetter) -> None:
        with self._lock:
            if letter.id in self._items:
                self._items[letter.id] = letter.model_copy()

    def get(self, letter_id: str) -> DeadLetter | None:
        with self._lock:
            found = self._items.get(letter_id)
        return None if found is None else found.model_copy()

    def list(self, where: DeadLetterFilter | None = None) -> Iterator[DeadLetter]:
        where = where or DeadLetterFilter()
        with self._lock:
            letters = sorted(self._items.values(), key=lambda d: d.dead_lettered_at)
        return iter([d.model_copy() for d in letters if where.matches(d)])

    def drop(self, letter_id: str) -> bool:
        with self._lock:
            return self._items.pop(letter_id, None) is not None

    def count(self) -> int:
        return len(self._items)
