"""The relay's state as Redis holds it, read with bounded, cheap calls: for `status`, the metrics scrape
and the console. `read_state` is the one reader.

Per tenant: the breaker (state, its cause in plain words and a bounded `cause_kind`, when the outage
began), whether an operator paused it, the schedule per lane (due now, waiting for later, in flight to
the workers), the events held (waiting while the tenant is held), spilled events not yet delivered by
file, dead letters, rate budget and 429 cooldown, fallback files waiting in its outbox folder, and (for
`status` only) the outcomes of the last hour. For the deployment: the events stream's length, lag and
pending entries, the rejected store's size.

Every read is bounded: the schedule is counted with ZCOUNT/ZCARD (no job is read), dead letters are
counted from at most `MAX_COUNTED_DEAD_LETTERS` index ids, spilled events from the newest
`MAX_READ_SPILLED` letters, outcomes from at most `MAX_OUTCOMES_READ` stream entries, files from at most
`MAX_COUNTED_FILES` names; a bound that was reached is reported (`*_complete = False`), never hidden.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, cast

import redis

from engage.ratelimit import RedisRateLimiter
from engage.transport import key_fingerprint
from fallback.deadletters import DLQ_PREFIX
from fallback.rejected import REJECTED_STREAM
from relay.breaker import BREAKER_OPEN_S, BreakerInfo, BreakerPolicy, RedisCircuitBreaker
from relay.control import RedisTenantControl
from relay.keys import EVENTS_GROUP, OUTCOMES_STREAM, SPILL_PREFIX
from relay.schedule import LANES, RedisSchedule
from relay.tenants import Tenant
from schemas.publish import EVENTS_STREAM

MAX_COUNTED_DEAD_LETTERS: Final = 10_000
MAX_READ_SPILLED: Final = 2_000
MAX_OUTCOMES_READ: Final = 20_000
MAX_COUNTED_FILES: Final = 10_000
OUTCOME_WINDOW_S: Final = 3600
UNFINISHED_FILE_SUFFIXES: Final = (".tmp", ".part", ".partial")
SPILL_UNFINISHED_STATES: Final = ("pending", "written")  # a spilled event not yet delivered by file

CAUSE_KINDS: Final[tuple[tuple[str, str], ...]] = (
    ("Engage refused the API key", "key_refused"),
    ("Engage reports an invalid system configuration", "misconfigured"),
    ("Engage did not answer in time", "timeout"),
    ("Engage is unreachable", "unreachable"),
    ("Engage answers", "server_error"),
)
"""The breaker's plain-words causes (`relay.breaker.describe_cause`) by their opening words, and the
short kind the metrics label them with (a bounded set: these and `other`)."""
OTHER_CAUSE: Final = "other"

BreakerInfoReader = Callable[[str], BreakerInfo]


def cause_kind(cause: str | None) -> str | None:
    """`Engage refused the API key (401): ...` -> `key_refused`; None without a cause."""
    if not cause:
        return None
    for words, kind in CAUSE_KINDS:
        if cause.startswith(words):
            return kind
    return OTHER_CAUSE


@dataclass(frozen=True)
class StreamState:
    stream: str
    group: str
    length: int
    group_exists: bool
    lag: int | None  # entries not yet delivered to the group (None: Redis could not tell)
    pending: int  # delivered to a consumer, not yet acknowledged
    consumers: int


@dataclass(frozen=True)
class LaneState:
    due: int  # waiting, due now
    waiting: int  # waiting, due later (a ladder step, a cooldown, a hold's next look)
    in_flight: int  # sent to the workers, not yet settled or parked again


@dataclass
class TenantState:
    name: str
    breaker: str
    rate_budget_per_s: float
    cooldown_s: float
    rate_now_per_s: float | None = None  # the key's rate while a 429 has lowered it below the budget
    dead_letters: int = 0
    files_pending: int | None = None  # None: no local outbox folder on this machine
    outcomes: dict[str, int] = field(default_factory=dict)
    cause: str | None = None  # why the breaker is not closed, in plain words
    cause_kind: str | None = None  # the same as one of a few words (CAUSE_KINDS), for labels
    outage_since: float | None = None  # when the breaker first opened in this outage (epoch seconds)
    paused_by: str | None = None
    paused_since: float | None = None
    lanes: dict[str, LaneState] = field(default_factory=dict)
    spilled_pending: int = 0  # handed to the files by a long outage, not yet delivered by file

    @property
    def on_hold(self) -> bool:
        """Its events wait in the schedule: the breaker is not closed, or an operator paused it."""
        return self.breaker != "closed" or self.paused_by is not None

    @property
    def held(self) -> int:
        """Events waiting while the tenant is held (0 when it is not)."""
        return self.held_in_lanes()[0]

    def held_in_lanes(self) -> tuple[int, dict[str, int]]:
        per_lane = {
            lane: (counts.due + counts.waiting) if self.on_hold else 0 for lane, counts in self.lanes.items()
        }
        return sum(per_lane.values()), per_lane

    def held_since(self) -> float | None:
        """When the hold began: the outage's start or the pause, whichever came first."""
        starts = [
            t for t in (self.outage_since if self.breaker != "closed" else None, self.paused_since) if t
        ]
        return min(starts) if starts else None

    def held_s(self, now: float | None = None) -> float:
        since = self.held_since()
        return 0.0 if since is None else max(0.0, (time.time() if now is None else now) - since)

    def as_dict(self, now: float | None = None) -> dict[str, Any]:
        document = asdict(self)
        total, per_lane = self.held_in_lanes()
        document |= {"on_hold": self.on_hold, "held": total, "held_by_lane": per_lane}
        document["held_s"] = round(self.held_s(now), 1)
        return document


@dataclass
class RelayState:
    stream: StreamState
    tenants: list[TenantState]
    dead_letters_total: int
    dead_letters_complete: bool
    rejected_total: int
    spilled_complete: bool = True
    outcomes_window_s: int | None = None
    outcomes_complete: bool = True
    other_outcomes: dict[str, dict[str, int]] = field(default_factory=dict)  # tenants not served here
    read_at: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["tenants"] = [t.as_dict(self.read_at) for t in self.tenants]
        return document


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


def _by_tenant_of_ids(ids: Sequence[bytes | str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for raw in ids:
        tenant = _text(raw).split(":", 1)[0]  # letter ids are `tenant:event_id`
        counts[tenant] = counts.get(tenant, 0) + 1
    return counts


def dead_letters_by_tenant(
    client: redis.Redis, prefix: str = DLQ_PREFIX, cap: int = MAX_COUNTED_DEAD_LETTERS
) -> tuple[dict[str, int], int, bool]:
    """(count per tenant, total, complete): ids are `tenant:event_id`, so no letter body is read."""
    index = f"{prefix}:index"
    total = cast(int, client.zcard(index))
    counts = _by_tenant_of_ids(cast(list[bytes], client.zrange(index, 0, cap - 1)))
    return counts, total, total <= cap


# The newest `cap` letters of a dead-letter store (fallback.deadletters.RedisDeadLetterStore's layout:
# `{prefix}:index`, `{prefix}:item:{id}`) whose fallback_state is one of ARGV[3..]: their ids. Letters are
# read inside Redis, so no envelope crosses the network; the state is matched with the field after it (as
# pydantic writes them), which an envelope's own attributes cannot fake. KEYS: 1 index. ARGV: item prefix,
# cap, states.
_UNFINISHED_LUA = """
local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local out = {}
for _, id in ipairs(ids) do
  local raw = redis.call('GET', ARGV[1] .. id)
  if raw then
    for i = 3, #ARGV do
      if string.find(raw, '"fallback_state":"' .. ARGV[i] .. '","fallback_file":', 1, true) then
        table.insert(out, id)
        break
      end
    end
  end
end
return out
"""


def spilled_pending_by_tenant(
    client: redis.Redis, prefix: str = SPILL_PREFIX, cap: int = MAX_READ_SPILLED
) -> tuple[dict[str, int], bool]:
    """Spilled events not yet delivered by file, per tenant, among the newest `cap`; (counts, complete)."""
    index = f"{prefix}:index"
    args: list[str | int] = [f"{prefix}:item:", cap, *SPILL_UNFINISHED_STATES]
    ids = cast(list[bytes], client.eval(_UNFINISHED_LUA, 1, index, *args))
    return _by_tenant_of_ids(ids), cast(int, client.zcard(index)) <= cap


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


def redis_breaker_info(client: redis.Redis, open_s: float = BREAKER_OPEN_S) -> BreakerInfoReader:
    """The shared breaker per tenant, as workers see it (give the workers' open time)."""
    return RedisCircuitBreaker(client, BreakerPolicy(open_s=open_s)).info


def _lanes(schedule: RedisSchedule, tenant: str, now_s: float) -> dict[str, LaneState]:
    lanes: dict[str, LaneState] = {}
    for lane in LANES:
        counts = schedule.counts(tenant, lane, now_s)
        lanes[lane] = LaneState(due=counts.due, waiting=counts.waiting, in_flight=counts.leased)
    return lanes


def read_tenant(
    tenant: Tenant,
    info: BreakerInfo,
    *,
    limiter: RedisRateLimiter,
    schedule: RedisSchedule,
    control: RedisTenantControl,
    now_s: float,
) -> TenantState:
    """One tenant's own state (dead letters, spill and outcomes are filled in by `read_state`)."""
    paused = control.paused_by(tenant.name)
    key = key_fingerprint(tenant.api_key.get_secret_value())
    return TenantState(
        name=tenant.name,
        breaker=info.state,
        rate_budget_per_s=tenant.rate_budget_per_s,
        cooldown_s=round(limiter.cooldown_remaining_s(key), 3),
        rate_now_per_s=_lowered_rate(limiter, key, tenant.rate_budget_per_s),
        files_pending=pending_files(tenant.fallback.local_dir),
        cause=info.cause if info.state != "closed" else None,
        cause_kind=cause_kind(info.cause) if info.state != "closed" else None,
        outage_since=info.outage_since if info.state != "closed" else None,
        paused_by=paused[0] if paused else None,
        paused_since=paused[1].timestamp() if paused else None,
        lanes=_lanes(schedule, tenant.name, now_s),
    )


def read_tenants(
    client: redis.Redis,
    tenants: Sequence[Tenant],
    *,
    breaker_info: BreakerInfoReader | None = None,
    now_s: float | None = None,
) -> list[TenantState]:
    """Each tenant's breaker, pause, budget, schedule and outbox; no dead letters, spill or outcomes (the
    cheap part, for the hold log)."""
    moment = time.time() if now_s is None else now_s
    info = breaker_info or redis_breaker_info(client)
    limiter, schedule, control = RedisRateLimiter(client), RedisSchedule(client), RedisTenantControl(client)
    return [
        read_tenant(t, info(t.name), limiter=limiter, schedule=schedule, control=control, now_s=moment)
        for t in tenants
    ]


def read_state(
    client: redis.Redis,
    tenants: Sequence[Tenant],
    *,
    events_stream: str = EVENTS_STREAM,
    events_group: str = EVENTS_GROUP,
    outcomes_stream: str | None = None,
    breaker_info: BreakerInfoReader | None = None,
) -> RelayState:
    """Everything at once; outcomes of the last hour only when `outcomes_stream` is given."""
    now_s = time.time()
    states = read_tenants(client, tenants, breaker_info=breaker_info, now_s=now_s)
    dead, dead_total, dead_complete = dead_letters_by_tenant(client)
    spilled, spilled_complete = spilled_pending_by_tenant(client)
    for tenant_state in states:
        tenant_state.dead_letters = dead.get(tenant_state.name, 0)
        tenant_state.spilled_pending = spilled.get(tenant_state.name, 0)
    state = RelayState(
        stream=read_stream(client, events_stream, events_group),
        tenants=states,
        dead_letters_total=dead_total,
        dead_letters_complete=dead_complete,
        rejected_total=cast(int, client.xlen(REJECTED_STREAM)),
        spilled_complete=spilled_complete,
        read_at=now_s,
    )
    if outcomes_stream is not None:
        counts, complete = outcomes_by_tenant(client, outcomes_stream, now_s=now_s)
        for tenant_state in states:
            tenant_state.outcomes = counts.pop(tenant_state.name, {})
        state.outcomes_window_s = OUTCOME_WINDOW_S
        state.outcomes_complete = complete
        state.other_outcomes = counts
    return state


def _lowered_rate(limiter: RedisRateLimiter, key: str, budget_per_s: float) -> float | None:
    """The key's rate when a 429 lowered it below its budget (engage/ratelimit.py), else None."""
    limiter.set_budget(key, budget_per_s)  # this reader's limiter knows no tenant's budget of its own
    rate = limiter.rate_now(key)
    return float(rate) if rate < math.floor(budget_per_s) else None
