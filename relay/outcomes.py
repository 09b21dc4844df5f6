"""Outcomes: one record per event on the stream `engage:outcomes`, so shops learn contactIds and results."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Literal, Protocol, cast

import redis
from pydantic import BaseModel, ConfigDict, Field
from redis.client import Pipeline

from relay.batch import Batch
from relay.keys import OUTCOMES_STREAM

OUTCOMES_STREAM_MAXLEN = 1_000_000  # approximate cap; XADD trims the oldest entries past it


def trim_stream(client: redis.Redis, stream: str, *, retention_s: float, maxlen: int) -> None:
    """Entries older than `retention_s` and beyond `maxlen` leave the stream (approximate, cheap)."""
    oldest_ms = int((time.time() - retention_s) * 1000)
    client.xtrim(stream, minid=f"{max(oldest_ms, 0)}-0", approximate=True)
    client.xtrim(stream, maxlen=maxlen, approximate=True)


OutcomeKind = Literal[
    "applied",  # Engage took it (or already had it: a duplicate receipt, an already-redeemed offer)
    "superseded",  # a newer update for the same contact fields was applied first; nothing was sent
    "skipped",  # nothing to send (a web visitor Engage does not know); nothing was sent
    "duplicate",  # this event id was applied before; nothing was sent again
    "rejected",  # invalid envelope, unknown tenant, or Engage said the data is wrong (400/409/422)
    "dead_lettered",  # retries exhausted; kept in the dead-letter store for file delivery or replay
    "delivered_by_file",  # written to an XML import file (or the bulk API) and handed to Engage that way
]


class Outcome(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str
    type: str
    tenant: str
    outcome: OutcomeKind
    contact_id: str | None = None
    engage_status: int | None = None
    engage_error_code: str | None = None
    detail: str | None = None
    attempts: int = 1
    calls: list[str] = Field(default_factory=list)
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class OutcomeSink(Protocol):
    def record(self, outcome: Outcome) -> None: ...

    def record_in(self, batch: Batch, outcome: Outcome) -> None:
        """`record`, as part of an atomic batch."""
        ...

    def trim(self, *, retention_s: float, maxlen: int) -> None:
        """Drop outcomes older than the retention, or beyond the maximum length."""
        ...


class RedisOutcomeSink:
    """Appends each outcome as JSON in the field `outcome` of a Redis stream."""

    def __init__(self, client: redis.Redis, stream: str = OUTCOMES_STREAM) -> None:
        self._redis = client
        self.stream = stream

    def record(self, outcome: Outcome) -> None:
        self._stage(self._redis, outcome)

    def record_in(self, batch: Batch, outcome: Outcome) -> None:
        pipe = batch.pipeline_for(self._redis)
        if pipe is None:
            batch.then(lambda: self.record(outcome))
        else:
            self._stage(pipe, outcome)

    def _stage(self, client: redis.Redis | Pipeline, outcome: Outcome) -> None:
        client.xadd(
            self.stream,
            {"outcome": outcome.model_dump_json(exclude_none=True)},
            maxlen=OUTCOMES_STREAM_MAXLEN,
            approximate=True,
        )

    def trim(self, *, retention_s: float, maxlen: int) -> None:
        trim_stream(self._redis, self.stream, retention_s=retention_s, maxlen=maxlen)

    def read_all(self) -> list[Outcome]:
        entries = cast(list[tuple[bytes, dict[bytes, bytes]]], self._redis.xrange(self.stream))
        return [Outcome.model_validate_json(fields[b"outcome"]) for _, fields in entries]


class MemoryOutcomeSink:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.outcomes: list[Outcome] = []

    def record(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def record_in(self, batch: Batch, outcome: Outcome) -> None:
        batch.then(lambda: self.record(outcome))

    def trim(self, *, retention_s: float, maxlen: int) -> None:
        cutoff = datetime.now(UTC).timestamp() - retention_s
        with self._lock:
            kept = [o for o in self.outcomes if o.at.timestamp() >= cutoff]
            self.outcomes[:] = kept[-maxlen:] if maxlen > 0 else []

    def read_all(self) -> list[Outcome]:
        with self._lock:
            return list(self.outcomes)
