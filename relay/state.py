"""The relay's state as Redis holds it, read with bounded, cheap calls: for `status` and the metrics scrape.

Per tenant: breaker state, rate budget and 429 cooldown, dead letters, fallback files waiting in its
outbox folder, and (for `status` only) the outcomes of the last hour. For the deployment: the events
stream's length, lag and pending entries, the rejected store's size.

Every read is bounded: dead letters are counted from at most `MAX_COUNTED_DEAD_LETTERS` index ids,
outcomes from at most `MAX_OUTCOMES_READ` stream entries, files from at most `MAX_COUNTED_FILES` names;
a bound that was reached is reported (`*_complete = False`), never hidden.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import redis

from engage.ratelimit import RedisRateLimiter
from engage.transport import key_fingerprint
from fallback.deadletters import DLQ_PREFIX
from fallback.rejected import REJECTED_STREAM
from relay.breaker import BREAKER_OPEN_S, BreakerPolicy, RedisCircuitBreaker
from relay.keys import EVENTS_GROUP, OUTCOMES_STREAM
from relay.tenants import Tenant
from schemas.publish import EVENTS_STREAM

MAX_COUNTED_DEAD_LETTERS = 10_000
MAX_OUTCOMES_READ = 20_000
MAX_COUNTED_FILES = 10_000
OUTCOME_WINDOW_S = 3600
UNFINISHED_FILE_SUFFIXES = (".tmp", ".part", ".partial")

BreakerReader = Callable[[str], str]


@dataclass(frozen=True)
class StreamState:
    stream: str
    group: str
    length: int
    group_exists: bool
    lag: int | None  # entries not yet delivered to the group (None: Redis could not tell)
    pending: int  # delivered to a consumer, not yet acknowledged
    consumers: int


@dataclass
class TenantState:
    name: str
    breaker: str
    rate_budget_per_s: float
    cooldown_s: float
    dead_letters: int = 0
    files_pending: int | None = None  # None: no local outbox folder on this machine
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass
class RelayState:
    stream: StreamState
    tenants: list[TenantState]
    dead_letters_total: int
    dead_letters_complete: bool
    rejected_total: int
    outcomes_window_s: int | None = None
    outcomes_complete: bool = True
    other_outcomes: dict[str, dict[str, int]] = field(default_factory=dict)  # tenants not served here

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def read_stream(client: redis.Redis, stream: str = EVENTS_STREAM, group: str = EVENTS_GROUP) -> StreamState:
    length = cast(int, client.xlen(stream))
    try:
        groups = cast(list[dict[str, Any]], client.xinfo_groups(stream))
    except redis.ResponseError:  # no such stream yet
        groups = []
    for info in groups:
        if _text(info.get("name")) == group:
            lag = info.get("lag")
            return StreamState(
                stream,
                group,
                length,
                True,
                None if lag is None else int(lag),
                int(info.get("pending", 0)),
                int(info.get("consumers", 0)),
            )
    return StreamState(stream, group, length, False, length, 0, 0)


def dead_letters_by_tenant(
    client: redis.Redis, prefix: str = DLQ_PREFIX, cap: int = MAX_COUNTED_DEAD_LETTERS
) -> tuple[dict[str, int], int, bool]:
    """(count per tenant, total, complete): ids are `tenant:event_id`, so no letter body is read."""
    index = f"{prefix}:index"
    total = cast(int, client.zcard(index))
    counts: dict[str, int] = {}
    for raw in cast(list[bytes], client.zrange(index, 0, cap - 1)):
        tenant = _text(raw).split(":", 1)[0]
        counts[tenant] = counts.get(tenant, 0) + 1
    return counts, total, total <= cap


def outcomes_by_tenant(
    client: redis.Redis,
    stream: str = OUTCOMES_STREAM,
    window_s: int = OUTCOME_WINDOW_S,
    cap: int = MAX_OUTCOMES_READ,
    now_s: float | None = None,
) -> tuple[dict[str, dict[str, int]], bool]:
    """Outcomes per tenant and kind over the last `window_s`, newest first, at most `cap` entries."""
    since_ms = int(((time.time() if now_s is None else now_s) - window_s) * 1000)
    entries = cast(
        list[tuple[bytes, dict[bytes, bytes]]],
        client.xrevrange(stream, max="+", min=f"{since_ms}-0", count=cap),
    )
    counts: dict[str, dict[str, int]] = {}
    for _, fields in entries:
        try:
            record = json.loads(fields[b"outcome"])
        except (KeyError, ValueError):
            continue
        per = counts.setdefault(str(record.get("tenant", "unknown")), {})
        kind = str(record.get("outcome", "unknown"))
        per[kind] = per.get(kind, 0) + 1
    return counts, len(entries) < cap


def pending_files(folder: str | Path, cap: int = MAX_COUNTED_FILES) -> int | None:
    """Finished files waiting in a tenant's local outbox folder (None when the folder is not here)."""
    count = 0
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith(".") or name.endswith(UNFINISHED_FILE_SUFFIXES) or not entry.is_file():
                    continue
                count += 1
                if count >= cap:
                    break
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None
    return count


def redis_breaker_reader(client: redis.Redis, open_s: float = BREAKER_OPEN_S) -> BreakerReader:
    """The shared breaker's state per tenant, as workers see it (give the workers' open time)."""
    return RedisCircuitBreaker(client, BreakerPolicy(open_s=open_s)).state


def read_state(
    client: redis.Redis,
    tenants: Sequence[Tenant],
    *,
    events_stream: str = EVENTS_STREAM,
    events_group: str = EVENTS_GROUP,
    outcomes_stream: str | None = None,
    breaker_state: BreakerReader | None = None,
) -> RelayState:
    """Everything at once; outcomes of the last hour only when `outcomes_stream` is given."""
    breaker_state = breaker_state or redis_breaker_reader(client)
    limiter = RedisRateLimiter(client)
    dead, dead_total, dead_complete = dead_letters_by_tenant(client)
    states = [
        TenantState(
            name=t.name,
            breaker=breaker_state(t.name),
            rate_budget_per_s=t.rate_budget_per_s,
            cooldown_s=round(limiter.cooldown_remaining_s(key_fingerprint(t.api_key.get_secret_value())), 3),
            dead_letters=dead.get(t.name, 0),
            files_pending=pending_files(t.fallback.local_dir),
        )
        for t in tenants
    ]
    state = RelayState(
        stream=read_stream(client, events_stream, events_group),
        tenants=states,
        dead_letters_total=dead_total,
        dead_letters_complete=dead_complete,
        rejected_total=cast(int, client.xlen(REJECTED_STREAM)),
    )
    if outcomes_stream is not None:
        counts, complete = outcomes_by_tenant(client, outcomes_stream)
        for tenant_state in states:
            tenant_state.outcomes = counts.pop(tenant_state.name, {})
        state.outcomes_window_s = OUTCOME_WINDOW_S
        state.outcomes_complete = complete
        state.other_outcomes = counts
    return state
