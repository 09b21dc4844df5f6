"""The stream consumer: validate each envelope, admit it into the schedule, then acknowledge and trim.

It reads the events stream in a consumer group (`XREADGROUP`), and on every pass also reclaims entries
that a dead consumer left pending (`XAUTOCLAIM`). A batch is acknowledged and deleted from the stream
(`XACK` + `XDEL`: settled entries leave the stream, so personal data does not stay in it) only once every
event of it is owned by the schedule (relay/admit.py) or safely in the rejected store; a crash in between
re-delivers the entry, and admission makes that harmless (a copy is a duplicate). Bad data never stops
the loop; neither does a Redis blip (the consumer pauses and carries on).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

import redis
import structlog

from engage.ratelimit import Lane
from fallback.rejected import RejectedStore, Rejection, raw_text
from relay.admit import AdmitOutcome, Arrival
from relay.keys import EVENTS_GROUP
from relay.outcomes import Outcome, OutcomeSink
from relay.tenants import TenantRegistry
from schemas import InvalidEvent, parse_event
from schemas.publish import EVENT_FIELD, EVENTS_STREAM, LANE_FIELD

log = structlog.get_logger(__name__)

READ_BATCH: Final = 200
READ_BLOCK_MS: Final = 1000
CLAIM_IDLE_MS: Final = 60_000  # an entry pending this long belongs to a consumer that is gone
CLAIM_EVERY_S: Final = 5.0
REDIS_DOWN_PAUSE_S: Final = 1.0
MAX_REDIS_PAUSE_S: Final = 15.0

Admit = Callable[[Sequence[Arrival]], list[AdmitOutcome]]
"""Admits a batch of valid events into the schedule (relay.admit.admit bound to a runtime)."""

StreamEntry = tuple[bytes, dict[bytes, bytes]]


@dataclass
class IngestStats:
    admitted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    admit_failures: int = 0
    reclaimed: int = 0
    redis_errors: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


def default_consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class StreamConsumer:
    def __init__(
        self,
        client: redis.Redis,
        registry: Callable[[], TenantRegistry],
        admit: Admit,
        rejected: RejectedStore,
        outcomes: OutcomeSink,
        *,
        stream: str = EVENTS_STREAM,
        group: str = EVENTS_GROUP,
        consumer: str | None = None,
        claim_idle_ms: int = CLAIM_IDLE_MS,
        on_admitted: Callable[[], None] = lambda: None,
    ) -> None:
        self._redis = client
        self._registry = registry
        self._admit = admit
        self._rejected = rejected
        self._outcomes = outcomes
        self._on_admitted = on_admitted
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
        log.info("ingest.started", stream=self.stream, group=self.group, consumer=self.consumer)
        pause_s = REDIS_DOWN_PAUSE_S
        started = False
        next_claim = 0.0
        while not stop.is_set():
            try:
                if not started:
                    self.ensure_group()
                    # First what this consumer name left pending before a restart, then the new entries.
                    self._drain_own_pending()
                    started = True
                if time.monotonic() >= next_claim:
                    self.reclaim()
                    next_claim = time.monotonic() + CLAIM_EVERY_S
                self.poll_once(block_ms=READ_BLOCK_MS)
                pause_s = REDIS_DOWN_PAUSE_S
            except redis.RedisError as exc:
                self.stats.redis_errors += 1
                started = False  # what was read and not admitted is pending: read it again first
                log.warning("ingest.redis_unavailable", error=type(exc).__name__, retry_in_s=pause_s)
                stop.wait(pause_s)
                pause_s = min(pause_s * 2, MAX_REDIS_PAUSE_S)
        log.info("ingest.stopped", **{k: v for k, v in self.stats.__dict__.items() if k != "by_type"})

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
        """Admit or reject every entry of a batch, then acknowledge and trim them; the number done."""
        if not entries:
            return 0
        registry = self._registry()
        done: list[bytes] = []
        arrivals: list[Arrival] = []
        arrival_ids: list[bytes] = []
        for entry_id, fields in entries:
            arrival = self._arrival(entry_id, fields, registry)
            if arrival is None:
                done.append(entry_id)  # rejected, and kept in the rejected store
            else:
                arrivals.append(arrival)
                arrival_ids.append(entry_id)
        if arrivals:
            try:
                verdicts = self._admit(arrivals)
            except redis.RedisError:
                raise
            except Exception as exc:  # a bug must not lose the batch: it stays pending and is retried
                self.stats.admit_failures += 1
                log.exception("ingest.admit_failed", error=type(exc).__name__, events=len(arrivals))
                verdicts = None
            if verdicts is not None:
                self._count(arrivals, verdicts)
                done += arrival_ids
        if done:
            pipe = self._redis.pipeline(transaction=False)
            pipe.xack(self.stream, self.group, *done)
            pipe.xdel(self.stream, *done)
            pipe.execute()
        if arrivals:
            self._on_admitted()
        return len(done)

    def _count(self, arrivals: list[Arrival], verdicts: list[AdmitOutcome]) -> None:
        for arrival, verdict in zip(arrivals, verdicts, strict=True):
            if verdict == "admitted":
                self.stats.admitted += 1
                kind = str(arrival.event.type)
                self.stats.by_type[kind] = self.stats.by_type.get(kind, 0) + 1
            elif verdict == "duplicate":
                self.stats.duplicates += 1
            else:
                self.stats.conflicts += 1

    def _arrival(
        self, entry_id: bytes, fields: dict[bytes, bytes], registry: TenantRegistry
    ) -> Arrival | None:
        """The valid event of an entry, or None when it was rejected (and kept with every reason)."""
        raw = fields.get(EVENT_FIELD.encode())
        if raw is None:
            keys = sorted(k.decode(errors="replace") for k in fields)
            self._reject(b"", [{"loc": [], "msg": f"stream entry has no field 'event' (fields: {keys})"}])
            return None
        try:
            event = parse_event(raw)
        except InvalidEvent as exc:
            self._reject(raw, [dict(r) for r in exc.reasons])
            return None
        if event.tenant not in registry:
            reason = {
                "loc": ["tenant"],
                "msg": f"unknown tenant {event.tenant!r}: not in this deployment's tenants",
            }
            self._reject(raw, [reason], event_id=event.id, tenant=event.tenant, type_=str(event.type))
            return None
        lane: Lane = "backlog" if fields.get(LANE_FIELD.encode()) == b"backlog" else "live"
        return Arrival(event, event.model_dump(mode="json"), entry_id.decode(), lane)

    def _reject(
        self,
        raw: bytes,
        reasons: list[dict[str, Any]],
        *,
        event_id: str | None = None,
        tenant: str | None = None,
        type_: str | None = None,
    ) -> None:
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
