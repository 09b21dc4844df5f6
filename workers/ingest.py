"""The stream consumer: validate each envelope, route it to its Celery task, then acknowledge.

It reads the events stream in a consumer group (`XREADGROUP`), and on every pass also reclaims entries
that a dead consumer left pending (`XAUTOCLAIM`). An entry is acknowledged only after its task message
is in the broker, or after an invalid envelope is safely in the rejected store; a crash in between
re-delivers, and the tasks' idempotency makes that harmless. Bad data never stops the loop.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import redis
import structlog

from fallback.rejected import RejectedStore, Rejection, raw_text
from relay.keys import EVENTS_GROUP
from relay.outcomes import Outcome, OutcomeSink
from relay.tenants import TenantRegistry
from schemas import InvalidEvent, parse_event
from schemas.envelope import Envelope
from schemas.publish import EVENT_FIELD, EVENTS_STREAM

log = structlog.get_logger(__name__)

READ_BATCH = 200
READ_BLOCK_MS = 1000
CLAIM_IDLE_MS = 60_000  # an entry pending this long belongs to a consumer that is gone
CLAIM_EVERY_S = 5.0
ENQUEUE_FAILURE_PAUSE_S = 1.0

Enqueue = Callable[[Envelope, dict[str, Any]], None]
"""Puts a validated event's task message in the broker: (event model, envelope as JSON dict)."""

StreamEntry = tuple[bytes, dict[bytes, bytes]]


@dataclass
class IngestStats:
    routed: int = 0
    rejected: int = 0
    enqueue_failures: int = 0
    reclaimed: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


def default_consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class StreamConsumer:
    def __init__(
        self,
        client: redis.Redis,
        registry: TenantRegistry,
        enqueue: Enqueue,
        rejected: RejectedStore,
        outcomes: OutcomeSink,
        *,
        stream: str = EVENTS_STREAM,
        group: str = EVENTS_GROUP,
        consumer: str | None = None,
        claim_idle_ms: int = CLAIM_IDLE_MS,
    ) -> None:
        self._redis = client
        self._registry = registry
        self._enqueue = enqueue
        self._rejected = rejected
        self._outcomes = outcomes
        self.stream = stream
        self.group = group
        self.consumer = consumer or default_consumer_name()
        self.claim_idle_ms = claim_idle_ms
        self.stats = IngestStats()

    def ensure_group(self) -> None:
        """Create the consumer group from the start of the stream, so nothing published earlier is missed."""
        try:
            self._redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def run(self, stop: threading.Event) -> None:
        self.ensure_group()
        log.info("ingest.started", stream=self.stream, group=self.group, consumer=self.consumer)
        # First what this consumer name left pending before a restart, then the new entries.
        self._drain_own_pending()
        next_claim = 0.0
        while not stop.is_set():
            if time.monotonic() >= next_claim:
                self.reclaim()
                next_claim = time.monotonic() + CLAIM_EVERY_S
            try:
                self.poll_once(block_ms=READ_BLOCK_MS)
            except redis.ConnectionError as exc:
                log.warning("ingest.redis_unavailable", error=type(exc).__name__)
                stop.wait(ENQUEUE_FAILURE_PAUSE_S)
        log.info("ingest.stopped", **self.stats.__dict__)

    def poll_once(self, block_ms: int | None = None) -> int:
        response = self._redis.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=READ_BATCH, block=block_ms
        )
        entries = [
            e for _, batch in cast(list[tuple[bytes, list[StreamEntry]]], response or []) for e in batch
        ]
        return self._handle_all(entries)

    def reclaim(self) -> int:
        """Take over entries another consumer read but never acknowledged (it died)."""
        handled = 0
        start = "0-0"
        while True:
            result = cast(
                list[Any],
                self._redis.xautoclaim(
                    self.stream,
                    self.group,
                    self.consumer,
                    self.claim_idle_ms,
                    start_id=start,
                    count=READ_BATCH,
                ),
            )
            next_start, entries = result[0], result[1]
            live = [e for e in cast(list[StreamEntry], entries) if e is not None and e[1] is not None]
            self.stats.reclaimed += len(live)
            handled += self._handle_all(live)
            start = next_start.decode() if isinstance(next_start, bytes) else str(next_start)
            if start == "0-0":
                return handled

    def _drain_own_pending(self) -> None:
        while True:
            response = self._redis.xreadgroup(self.group, self.consumer, {self.stream: "0"}, count=READ_BATCH)
            entries = [
                e for _, batch in cast(list[tuple[bytes, list[StreamEntry]]], response or []) for e in batch
            ]
            live = [e for e in entries if e[1]]
            if not live or self._handle_all(live) < len(live):
                return

    def _handle_all(self, entries: list[StreamEntry]) -> int:
        done = 0
        for entry_id, fields in entries:
            if self._handle(entry_id, fields):
                self._redis.xack(self.stream, self.group, entry_id)
                done += 1
        return done

    def _handle(self, entry_id: bytes, fields: dict[bytes, bytes]) -> bool:
        """True when the entry may be acknowledged: routed to a task, or kept as rejected."""
        raw = fields.get(EVENT_FIELD.encode())
        if raw is None:
            keys = sorted(k.decode(errors="replace") for k in fields)
            return self._reject(
                b"", [{"loc": [], "msg": f"stream entry has no field 'event' (fields: {keys})"}]
            )
        try:
            event = parse_event(raw)
        except InvalidEvent as exc:
            return self._reject(raw, [dict(r) for r in exc.reasons])
        if event.tenant not in self._registry:
            reason = {
                "loc": ["tenant"],
                "msg": f"unknown tenant {event.tenant!r}: not in this deployment's tenants",
            }
            return self._reject(raw, [reason], event_id=event.id, tenant=event.tenant, type_=str(event.type))
        try:
            self._enqueue(event, event.model_dump(mode="json"))
        except Exception as exc:  # broker down or full: leave the entry pending, it is retried
            self.stats.enqueue_failures += 1
            log.warning(
                "ingest.enqueue_failed", event_id=event.id, tenant=event.tenant, error=type(exc).__name__
            )
            time.sleep(ENQUEUE_FAILURE_PAUSE_S)
            return False
        self.stats.routed += 1
        self.stats.by_type[str(event.type)] = self.stats.by_type.get(str(event.type), 0) + 1
        log.debug(
            "ingest.routed",
            event_id=event.id,
            tenant=event.tenant,
            type=str(event.type),
            entry=entry_id.decode(),
        )
        return True

    def _reject(
        self,
        raw: bytes,
        reasons: list[dict[str, Any]],
        *,
        event_id: str | None = None,
        tenant: str | None = None,
        type_: str | None = None,
    ) -> bool:
        event_id, tenant, type_ = _best_effort_ids(raw, event_id, tenant, type_)
        self._rejected.add(
            Rejection(
                raw=raw_text(raw),
                reasons=reasons,
                stage="ingest",
                event_id=event_id,
                tenant=tenant,
                type=type_,
            )
        )
        if event_id is not None:
            self._outcomes.record(
                Outcome(
                    event_id=event_id,
                    type=type_ or "unknown",
                    tenant=tenant or "unknown",
                    outcome="rejected",
                    detail="; ".join(str(r.get("msg")) for r in reasons)[:1000],
                )
            )
        self.stats.rejected += 1
        log.info("ingest.rejected", event_id=event_id, tenant=tenant, reasons=len(reasons))
        return True


def _best_effort_ids(
    raw: bytes, event_id: str | None, tenant: str | None, type_: str | None
) -> tuple[str | None, str | None, str | None]:
    """Whatever id, tenant and type an invalid envelope still shows, so the rejection can be traced."""
    if event_id is not None:
        return event_id, tenant, type_
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, None, None
    if not isinstance(document, dict):
        return None, None, None

    def text(key: str) -> str | None:
        value = document.get(key)
        return value[:128] if isinstance(value, str) and value else None

    return text("id"), text("tenant"), text("type")
