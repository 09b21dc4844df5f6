"""What has been applied, and when each contact field was last written: idempotency and ordering.

- Applied markers: an event id that was applied is never applied again (a Redis key with a long TTL).
- Field clocks: per contact, each attribute remembers the `occurred_at` of its last applied write and a
  hash of the value (never the value: no personal data in Redis). An update is cut down to the fields
  that are newer and changed; when nothing newer is left the event is reported as superseded. Keeping a
  clock per field, not per contact, makes shuffled deliveries end in the same state as ordered ones.
- Claims: while one worker applies an event, another copy of it (published twice) waits its turn.
- Contact locks: work on one contact is serialized across every worker process and machine.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

import redis

from mappers.identity import LookupKey
from relay.batch import Batch
from relay.errors import ContactBusy
from relay.keys import applied_key, assignment_key, claim_key, contact_lock_key, field_clock_key

APPLIED_MARKER_TTL_S = 90 * 24 * 3600  # longer than any replay window an operator would use
FIELD_CLOCK_TTL_S = 400 * 24 * 3600
EVENT_CLAIM_TTL_S = 60  # a crashed worker's claim lapses soon after Redis re-delivers its message
CONTACT_LOCK_TTL_S = 60  # a lock outlives no crashed worker by more than this (a task takes seconds)
CONTACT_LOCK_WAIT_S = 5.0  # past this the task is retried shortly instead of holding a worker thread


def value_hash(value: Any) -> str:
    encoded = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def ref_hash(*parts: str) -> str:
    """A stable, non-personal reference for an identifier (email, phone...) in Redis key names."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


FILE_CLOCK_PREFIX = "ref:"


def file_clock_ref(keys: Sequence[LookupKey]) -> str | None:
    """The clock's name for a contact whose GUID is not known (a file created it): a hash of its first
    key, never the key itself. The API path folds it into the GUID's clock once it learns the GUID."""
    given = [k for k in keys if k.kind != "contactId"]
    return None if not given else f"{FILE_CLOCK_PREFIX}{ref_hash(given[0].kind, given[0].value)}"


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


@dataclass(frozen=True)
class FieldPlan:
    send: dict[str, Any] = field(default_factory=dict)
    superseded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def fully_superseded(self) -> bool:
        return not self.send and bool(self.superseded)


def plan_fields(
    clock: Mapping[str, tuple[int, str]], fields: Mapping[str, Any], occurred_at: datetime
) -> FieldPlan:
    """Pure: which of `fields` to send, given each field's (written-at micros, value hash)."""
    at = _micros(occurred_at)
    plan = FieldPlan()
    for name, value in fields.items():
        seen = clock.get(name)
        if seen is not None and seen[0] > at:
            plan.superseded.append(name)
        elif seen is not None and seen[1] == value_hash(value):
            plan.unchanged.append(name)
        else:
            plan.send[name] = value
    return plan


@dataclass(frozen=True)
class Settled:
    """What the settled marker of an event says: its final outcome and the digest of its envelope."""

    outcome: str
    digest: str | None = None  # None for markers written before digests were kept (counts as a match)

    def matches(self, digest: str) -> bool:
        return self.digest is None or self.digest == digest

    @property
    def final(self) -> bool:
        """An outcome, not a hand-over to the spill or the dead letters."""
        return self.outcome not in HANDED_OVER


APPLIED_OUTCOMES = frozenset({"applied", "superseded", "skipped", "delivered_by_file"})
"""Final outcomes after which Engage has (or needs) nothing more of the event."""
HANDED_OVER = frozenset({"spilled", "dead_lettered"})
"""Markers that are not outcomes: the event left the schedule for the spill or the dead letters, so a stale
task message of it is dropped; its one outcome comes later (delivered by file, or after a replay)."""


class Ledger(Protocol):
    def settled(self, tenant: str, event_id: str) -> Settled | None:
        """The event's final outcome, if it has one (a copy of it then gets none)."""
        ...

    def settled_many(self, events: Sequence[tuple[str, str]]) -> list[Settled | None]:
        """`settled` for each (tenant, event id), in one round trip."""
        ...

    def mark_settled(self, tenant: str, event_id: str, outcome: str, digest: str | None) -> None: ...

    def mark_settled_in(
        self, batch: Batch, tenant: str, event_id: str, outcome: str, digest: str | None
    ) -> None: ...

    def unsettle(self, tenant: str, event_id: str) -> None:
        """Forget the final outcome (an operator replays a rejected event after fixing it)."""
        ...

    def was_applied(self, tenant: str, event_id: str) -> bool: ...

    def mark_applied(self, tenant: str, event_id: str) -> None: ...

    def claim(self, tenant: str, event_id: str, owner: str) -> bool: ...

    def release(self, tenant: str, event_id: str, owner: str) -> None: ...

    def field_clock(self, tenant: str, contact_id: str) -> dict[str, tuple[int, str]]: ...

    def record_fields(
        self, tenant: str, contact_id: str, fields: Mapping[str, Any], occurred_at: datetime
    ) -> None: ...

    def merge_clock(self, tenant: str, from_ref: str, into_ref: str) -> bool:
        """Fold one clock into another, keeping the newer write of each field (a contact a file created,
        whose GUID is now known), and forget the first. False when the first had nothing to fold."""
        ...

    def contact_lock(self, tenant: str, contact_ref: str) -> AbstractContextManager[None]: ...

    def remember_assignment(
        self, tenant: str, contact_id: str, promotion_id: str, assignment_id: str
    ) -> None: ...

    def assignment_for(self, tenant: str, contact_id: str, promotion_id: str) -> str | None: ...


def _encode_settled(outcome: str, digest: str | None) -> str:
    return f"{outcome}|{digest or ''}"


def decode_settled(raw: str) -> Settled:
    """A settled marker as Redis keeps it (`outcome|digest`, or "1" of the first version)."""
    return _decode_settled(raw)


def _decode_settled(raw: str) -> Settled:
    if raw == "1":  # a marker of the first version: applied, no digest kept
        return Settled("applied")
    outcome, _, digest = raw.partition("|")
    return Settled(outcome, digest or None)


def seen_at(occurred_at: datetime, value: Any) -> tuple[int, str]:
    """A field clock entry: (written-at micros, value hash), as `field_clock` returns them."""
    return _micros(occurred_at), value_hash(value)


def _encode_clock(occurred_at: datetime, value: Any) -> str:
    return f"{_micros(occurred_at)}|{value_hash(value)}"


def _decode_clock(raw: str) -> tuple[int, str]:
    at, _, digest = raw.partition("|")
    return int(at), digest


class RedisLedger:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._release = client.register_script(_RELEASE_IF_OWNER_LUA)
        self._record = client.register_script(_RECORD_NEWER_LUA)

    def settled(self, tenant: str, event_id: str) -> Settled | None:
        raw = cast(bytes | None, self._redis.get(applied_key(tenant, event_id)))
        return None if raw is None else _decode_settled(raw.decode())

    def settled_many(self, events: Sequence[tuple[str, str]]) -> list[Settled | None]:
        if not events:
            return []
        raw = cast(list[bytes | None], self._redis.mget([applied_key(t, e) for t, e in events]))
        return [None if r is None else _decode_settled(r.decode()) for r in raw]

    def mark_settled(self, tenant: str, event_id: str, outcome: str, digest: str | None) -> None:
        value = _encode_settled(outcome, digest)
        self._redis.set(applied_key(tenant, event_id), value, ex=APPLIED_MARKER_TTL_S)

    def mark_settled_in(
        self, batch: Batch, tenant: str, event_id: str, outcome: str, digest: str | None
    ) -> None:
        pipe = batch.pipeline_for(self._redis)
        if pipe is None:
            batch.then(lambda: self.mark_settled(tenant, event_id, outcome, digest))
        else:
            pipe.set(applied_key(tenant, event_id), _encode_settled(outcome, digest), ex=APPLIED_MARKER_TTL_S)

    def unsettle(self, tenant: str, event_id: str) -> None:
        self._redis.delete(applied_key(tenant, event_id))

    def was_applied(self, tenant: str, event_id: str) -> bool:
        mark = self.settled(tenant, event_id)
        return mark is not None and mark.outcome in APPLIED_OUTCOMES

    def mark_applied(self, tenant: str, event_id: str) -> None:
        self.mark_settled(tenant, event_id, "applied", None)

    def claim(self, tenant: str, event_id: str, owner: str) -> bool:
        return bool(self._redis.set(claim_key(tenant, event_id), owner, nx=True, ex=EVENT_CLAIM_TTL_S))

    def release(self, tenant: str, event_id: str, owner: str) -> None:
        self._release(keys=[claim_key(tenant, event_id)], args=[owner])

    def field_clock(self, tenant: str, contact_id: str) -> dict[str, tuple[int, str]]:
        raw = cast(dict[bytes, bytes], self._redis.hgetall(field_clock_key(tenant, contact_id)))
        return {k.decode(): _decode_clock(v.decode()) for k, v in raw.items()}

    def record_fields(
        self, tenant: str, contact_id: str, fields: Mapping[str, Any], occurred_at: datetime
    ) -> None:
        if not fields:
            return
        args: list[str | int] = [FIELD_CLOCK_TTL_S]
        for name, value in fields.items():
            args += [name, _encode_clock(occurred_at, value)]
        self._record(keys=[field_clock_key(tenant, contact_id)], args=args)

    def merge_clock(self, tenant: str, from_ref: str, into_ref: str) -> bool:
        source = self.field_clock(tenant, from_ref)
        if not source:
            return False
        target = self.field_clock(tenant, into_ref)
        newer = {
            name: seen for name, seen in source.items() if name not in target or target[name][0] < seen[0]
        }
        key = field_clock_key(tenant, into_ref)
        pipe = self._redis.pipeline()
        if newer:
            pipe.hset(key, mapping={name: f"{at}|{digest}" for name, (at, digest) in newer.items()})
            pipe.expire(key, FIELD_CLOCK_TTL_S)
        pipe.delete(field_clock_key(tenant, from_ref))
        pipe.execute()
        return True

    def remember_assignment(
        self, tenant: str, contact_id: str, promotion_id: str, assignment_id: str
    ) -> None:
        self._redis.set(assignment_key(tenant, contact_id, promotion_id), assignment_id, ex=FIELD_CLOCK_TTL_S)

    def assignment_for(self, tenant: str, contact_id: str, promotion_id: str) -> str | None:
        raw = cast(bytes | None, self._redis.get(assignment_key(tenant, contact_id, promotion_id)))
        return None if raw is None else raw.decode()

    @contextmanager
    def contact_lock(self, tenant: str, contact_ref: str) -> Iterator[None]:
        lock = self._redis.lock(
            # hashed: the ref is an e-mail or a phone number, which must not appear in Redis key names
            contact_lock_key(tenant, ref_hash(tenant, contact_ref)),
            timeout=CONTACT_LOCK_TTL_S,
            blocking_timeout=CONTACT_LOCK_WAIT_S,
            thread_local=False,
        )
        if not lock.acquire():
            raise ContactBusy(contact_ref)
        try:
            yield
        finally:
            # LockError: it expired while we worked, and the next holder already has it.
            with suppress(redis.exceptions.LockError):
                lock.release()


# A field's clock never goes back: an older write (a file record planned late, an unchanged value seen
# again) leaves a newer entry alone. ARGV: ttl_s, then (field, "micros|hash") pairs.
_RECORD_NEWER_LUA = """
for i = 2, #ARGV, 2 do
  local seen = redis.call('HGET', KEYS[1], ARGV[i])
  local at = tonumber(string.match(ARGV[i + 1], '^(%d+)|'))
  if not seen or tonumber(string.match(seen, '^(%d+)|')) <= at then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""

_RELEASE_IF_OWNER_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class MemoryLedger:
    """In-memory twin of RedisLedger, for unit tests of the logic."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._settled: dict[tuple[str, str], Settled] = {}
        self._claims: dict[tuple[str, str], str] = {}
        self._clocks: dict[tuple[str, str], dict[str, str]] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._assignments: dict[tuple[str, str, str], str] = {}

    def remember_assignment(
        self, tenant: str, contact_id: str, promotion_id: str, assignment_id: str
    ) -> None:
        with self._guard:
            self._assignments[(tenant, contact_id, promotion_id)] = assignment_id

    def assignment_for(self, tenant: str, contact_id: str, promotion_id: str) -> str | None:
        with self._guard:
            return self._assignments.get((tenant, contact_id, promotion_id))

    def settled(self, tenant: str, event_id: str) -> Settled | None:
        with self._guard:
            return self._settled.get((tenant, event_id))

    def settled_many(self, events: Sequence[tuple[str, str]]) -> list[Settled | None]:
        with self._guard:
            return [self._settled.get(pair) for pair in events]

    def mark_settled(self, tenant: str, event_id: str, outcome: str, digest: str | None) -> None:
        with self._guard:
            self._settled[(tenant, event_id)] = Settled(outcome, digest)

    def mark_settled_in(
        self, batch: Batch, tenant: str, event_id: str, outcome: str, digest: str | None
    ) -> None:
        batch.then(lambda: self.mark_settled(tenant, event_id, outcome, digest))

    def unsettle(self, tenant: str, event_id: str) -> None:
        with self._guard:
            self._settled.pop((tenant, event_id), None)

    def was_applied(self, tenant: str, event_id: str) -> bool:
        mark = self.settled(tenant, event_id)
        return mark is not None and mark.outcome in APPLIED_OUTCOMES

    def mark_applied(self, tenant: str, event_id: str) -> None:
        self.mark_settled(tenant, event_id, "applied", None)

    def claim(self, tenant: str, event_id: str, owner: str) -> bool:
        with self._guard:
            if (tenant, event_id) in self._claims:
                return False
            self._claims[(tenant, event_id)] = owner
            return True

    def release(self, tenant: str, event_id: str, owner: str) -> None:
        with self._guard:
            if self._claims.get((tenant, event_id)) == owner:
                del self._claims[(tenant, event_id)]

    def field_clock(self, tenant: str, contact_id: str) -> dict[str, tuple[int, str]]:
        with self._guard:
            raw = dict(self._clocks.get((tenant, contact_id), {}))
        return {k: _decode_clock(v) for k, v in raw.items()}

    def record_fields(
        self, tenant: str, contact_id: str, fields: Mapping[str, Any], occurred_at: datetime
    ) -> None:
        with self._guard:
            clock = self._clocks.setdefault((tenant, contact_id), {})
            for name, value in fields.items():
                encoded = _encode_clock(occurred_at, value)
                if name not in clock or _decode_clock(clock[name])[0] <= _decode_clock(encoded)[0]:
                    clock[name] = encoded

    def merge_clock(self, tenant: str, from_ref: str, into_ref: str) -> bool:
        with self._guard:
            source = self._clocks.pop((tenant, from_ref), {})
            target = self._clocks.setdefault((tenant, into_ref), {})
            for name, raw in source.items():
                if name not in target or _decode_clock(target[name])[0] < _decode_clock(raw)[0]:
                    target[name] = raw
            return bool(source)

    @contextmanager
    def contact_lock(self, tenant: str, contact_ref: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault((tenant, contact_ref), threading.Lock())
        if not lock.acquire(timeout=CONTACT_LOCK_WAIT_S):
            raise ContactBusy(contact_ref)
        try:
            yield
        finally:
            lock.release()
