"""The schedule: every event the relay has admitted and not yet settled, and when it may run next.

DESIGN section 4: one owner of every event's life. Ingest *admits* an event into the schedule (a durable
park, so its stream entry can be acknowledged and trimmed); from then on the schedule holds it until it is
settled (a final outcome, or handed to the dead letters or the spill). Celery carries only work that is
due now: the mover (relay/mover.py) *leases* due jobs and sends them; a worker *settles* a job when the
event ends, or *parks* it again with the time it may run next (a ladder step, a 429 cooldown, a busy
contact, a held tenant). Every wait lives here, in Redis, so the broker need not keep what it delivered.

A lease is the reconciler: a job leased and neither settled nor parked again before its lease runs out
(its message was lost in the broker, its worker was killed, a process crashed between two steps) is due
again, and the mover sends it again. The ledger (claims, applied markers) makes a second run harmless.

Per tenant and lane (``live``, ``backlog``), in Redis::

    engage:sched:{tenant}:jobs            hash   event id -> Job (JSON)
    engage:sched:{tenant}:due:{lane}      zset   event id -> when it may run (ms since the epoch)
    engage:sched:{tenant}:leased:{lane}   zset   event id -> when its lease runs out (ms)
    engage:sched:{tenant}:seq:{sequence}  zset   event id -> occurred_at (ms), the events of one order
                                                 (relay/sequence.py); added on admission, with the job

A member of a sequence whose job is no longer in the jobs hash has ended: whoever finds one removes it.

Admission refuses a second copy while the first is here: the same payload is a duplicate (nothing to
do), another payload under the same id is a conflict (the caller keeps both for an operator).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal, Protocol, cast

import redis
from pydantic import BaseModel, ConfigDict, Field

from engage.ratelimit import Lane
from relay.batch import Batch
from relay.keys import SCHEDULE_PREFIX
from relay.sequence import SEQUENCE_TTL_S, Ahead

LANES: Final[tuple[Lane, ...]] = ("live", "backlog")
"""The lanes a job waits in (reads never wait here)."""

WaitReason = Literal[
    "new",  # admitted, not yet run
    "ladder",  # Engage failed; the next step of the retry ladder
    "rate_limited",  # a 429 or our own limiter: the key's cooldown, not a ladder step
    "busy",  # another copy of the event or another event of the contact is being applied
    "file",  # the contact's record travels by import file: its import comes first
    "held",  # the tenant's breaker is open (Engage down, or the key refused): drains by itself
    "order_job",  # an order write Engage accepted: its job is followed until it completes
    "paused",  # an operator paused the tenant
    "sequence",  # an older event of the same order is still in the schedule: it runs first
]


class Job(BaseModel):
    """One admitted event and where it stands."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str
    tenant: str
    type: str
    envelope: dict[str, Any]
    digest: str  # of the envelope as admitted: a copy under the same id must match it
    lane: Lane = "live"
    attempt: int = 0  # the ladder step it is on
    maybe_delivered: bool = False  # an earlier attempt timed out after sending
    reason: WaitReason = "new"
    admitted_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    stream_entry: str | None = None  # the events-stream entry it came from
    state: dict[str, Any] = Field(default_factory=dict)  # what a handler keeps between runs (order job ids)
    sequence: str | None = None  # the order it writes (relay/sequence.py): one of its events at a time
    sequence_at_ms: int = 0  # its place in the sequence: the event's occurred_at (ms since the epoch)

    def waiting(self, *, reason: WaitReason, **changes: Any) -> Job:
        return self.model_copy(update={"reason": reason, **changes})


def envelope_digest(envelope: Mapping[str, Any]) -> str:
    """A stable hash of an envelope's content (key order and spacing do not matter)."""
    text = json.dumps(envelope, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


AdmitVerdict = Literal["admitted", "duplicate", "conflict"]


@dataclass(frozen=True)
class Admission:
    verdict: AdmitVerdict
    job: Job
    existing: Job | None = None  # for a duplicate or a conflict: the copy already here


@dataclass(frozen=True)
class LaneCounts:
    due: int  # waiting, due now
    waiting: int  # waiting, due later
    leased: int  # sent, not yet back


@dataclass(frozen=True)
class LeaseRequest:
    """What a pass of the mover asks of one tenant: up to `limits[lane]` jobs in each lane, the lanes in
    the order given (live first), and at most `total` jobs over them all (None: no such cap). The half-open
    probe is one job in all lanes: limits of 1 and a total of 1, so the backlog lane gives one only when
    the live lane gave none."""

    tenant: str
    limits: Mapping[Lane, int]
    total: int | None = None


Leased = dict[Lane, list[Job]]
"""The jobs one `LeaseRequest` took, per lane, in the request's lane order."""


class Schedule(Protocol):
    def admit(self, jobs: Sequence[Job], now_s: float | None = None) -> list[Admission]:
        """Add jobs due now; a job whose event id is already here is not added (see `Admission`)."""
        ...

    def lease(self, tenant: str, lane: Lane, limit: int, lease_s: float) -> list[Job]:
        """Take up to `limit` due jobs (oldest first), and jobs whose lease ran out, for `lease_s`."""
        ...

    def lease_many(self, requests: Sequence[LeaseRequest], lease_s: float) -> list[Leased]:
        """`lease` for every lane of every request, at one moment and (in Redis) in one round trip: the
        mover's pass costs the same whatever the number of tenants. One `Leased` per request, in order."""
        ...

    def unlease(self, job: Job) -> None:
        """A leased job that could not be sent: due again at once."""
        ...

    def touch(self, job: Job, lease_s: float) -> bool:
        """A worker starts the job: renew its lease. False when the job is no longer here (settled)."""
        ...

    def park(self, job: Job, due_s: float) -> None:
        """Keep the job (its new state) until `due_s` (seconds since the epoch), in its lane."""
        ...

    def settle(self, tenant: str, event_id: str) -> bool:
        """The event ended (or moved to the dead letters or the spill): forget it. False if it was gone."""
        ...

    def settle_in(self, batch: Batch, tenant: str, event_id: str) -> None:
        """`settle`, as part of an atomic batch."""
        ...

    def park_in(self, batch: Batch, job: Job, due_s: float) -> None:
        """`park`, as part of an atomic batch."""
        ...

    def take(self, tenant: str, event_ids: Sequence[str]) -> list[Job]:
        """Remove these jobs if they are waiting (never a leased one: a worker may be applying it)."""
        ...

    def get(self, tenant: str, event_id: str) -> Job | None: ...

    def ahead(self, job: Job) -> Ahead | None:
        """The older events of the job's order still here (None: none, or the job writes no order)."""
        ...

    def leave_sequence_in(self, batch: Batch, job: Job) -> None:
        """The job ended: take it out of its order's sequence, as part of an atomic batch."""
        ...

    def due_at(self, tenant: str, event_id: str) -> float | None:
        """When a waiting job may run (seconds since the epoch); None when it is leased or not here."""
        ...

    def jobs(self, tenant: str) -> Iterable[Job]:
        """Every job of the tenant, in no particular order (for the spill and for status)."""
        ...

    def counts(self, tenant: str, lane: Lane, now_s: float | None = None) -> LaneCounts: ...


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _sequence_key(prefix: str, job: Job) -> str | None:
    return None if job.sequence is None else f"{prefix}:{job.tenant}:seq:{job.sequence}"


def _keys(prefix: str, tenant: str) -> tuple[str, dict[Lane, str], dict[Lane, str]]:
    base = f"{prefix}:{tenant}"
    due = {lane: f"{base}:due:{lane}" for lane in LANES}
    leased = {lane: f"{base}:leased:{lane}" for lane in LANES}
    return f"{base}:jobs", due, leased


# KEYS: 1 jobs hash, 2 due zset of the job's lane. ARGV: now_ms, sequence ttl ms, then (event id, job json,
# sequence key or '', occurred ms) quadruples. A sequence key is named in ARGV, not KEYS (one per order; the
# relay runs on one Redis, not a cluster): it is added to with the job, in the same step, so a job of an
# order is never in the schedule without its place in the order's sequence.
_ADMIT_LUA = """
local out = {}
local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 3, #ARGV, 4 do
  local id, job, seq, at = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local existing = redis.call('HGET', KEYS[1], id)
  if existing then
    table.insert(out, existing)
  else
    redis.call('HSET', KEYS[1], id, job)
    redis.call('ZADD', KEYS[2], now, id)
    if seq ~= '' then
      redis.call('ZADD', seq, at, id)
      redis.call('PEXPIRE', seq, ttl)
    end
    table.insert(out, '')
  end
end
return out
"""

# KEYS: 1 the sequence, 2 jobs, 3.. every due zset. ARGV: id, occurred ms.
# The members before this one (by occurred_at, then id) still in the jobs hash; the others have ended and
# are removed. Answers {count, leased, soonest due ms or -1}.
_AHEAD_LUA = """
local me, at = ARGV[1], tonumber(ARGV[2])
local found = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', at, 'WITHSCORES')
local count, leased, soonest = 0, 0, -1
for i = 1, #found, 2 do
  local id, score = found[i], tonumber(found[i + 1])
  if id ~= me and (score < at or id < me) then
    if redis.call('HEXISTS', KEYS[2], id) == 1 then
      count = count + 1
      local due = nil
      for k = 3, #KEYS do
        due = due or redis.call('ZSCORE', KEYS[k], id)
      end
      if due then
        due = tonumber(due)
        if soonest < 0 or due < soonest then soonest = due end
      else
        leased = leased + 1
      end
    else
      redis.call('ZREM', KEYS[1], id)
    end
  end
end
return {count, leased, soonest}
"""

# KEYS: for every lane asked, in order: its tenant's jobs hash, the lane's due and leased zsets.
# ARGV: now_ms, lease_until_ms, then per request: its total (-1: none), its number of lanes, each lane's
# limit. Answers one list of jobs per lane asked, in order. A lane takes the jobs whose lease ran out, then
# due ones (oldest first) while the lane has room, up to its limit and to what is left of the request's
# total: one script for a whole pass of the mover, whatever the number of tenants.
_LEASE_LUA = """
local now, until_ms = tonumber(ARGV[1]), tonumber(ARGV[2])
local function lease(jobs, due, leased, limit)
  local taken = {}
  local expired = redis.call('ZRANGEBYSCORE', leased, '-inf', now, 'LIMIT', 0, limit)
  for _, id in ipairs(expired) do table.insert(taken, id) end
  local room = limit - #taken - redis.call('ZCOUNT', leased, '(' .. now, '+inf')
  if room > 0 then
    local ready = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, room)
    for _, id in ipairs(ready) do
      redis.call('ZREM', due, id)
      table.insert(taken, id)
    end
  end
  local out = {}
  for _, id in ipairs(taken) do
    local job = redis.call('HGET', jobs, id)
    if job then
      redis.call('ZADD', leased, until_ms, id)
      table.insert(out, job)
    else
      redis.call('ZREM', leased, id)
    end
  end
  return out
end
local out, a, k = {}, 3, 1
while a <= #ARGV do
  local total, lanes = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  a = a + 2
  for _ = 1, lanes do
    local limit = tonumber(ARGV[a])
    if total >= 0 and limit > total then limit = total end
    local got = {}
    if limit > 0 then got = lease(KEYS[k], KEYS[k + 1], KEYS[k + 2], limit) end
    if total >= 0 then total = total - #got end
    table.insert(out, got)
    a, k = a + 1, k + 3
  end
end
return out
"""

# KEYS: 1 jobs, 2 due of the lane, 3.. every due and leased zset. ARGV: id, job json, due_ms
_PARK_LUA = """
for i = 3, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
"""

# KEYS: 1 jobs, 2.. every due and leased zset. ARGV: id
_SETTLE_LUA = """
for i = 2, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return redis.call('HDEL', KEYS[1], ARGV[1])
"""

# KEYS: 1 jobs, 2.. every due zset. ARGV: ids
_TAKE_LUA = """
local out = {}
for _, id in ipairs(ARGV) do
  for i = 2, #KEYS do
    if redis.call('ZREM', KEYS[i], id) == 1 then
      local job = redis.call('HGET', KEYS[1], id)
      redis.call('HDEL', KEYS[1], id)
      if job then table.insert(out, job) end
      break
    end
  end
end
return out
"""

# KEYS: 1 jobs, 2 leased of the lane. ARGV: id, lease_until_ms
_TOUCH_LUA = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
"""


class RedisSchedule:
    """The schedule in Redis, shared by every ingest, mover and worker process."""

    def __init__(self, client: redis.Redis, prefix: str = SCHEDULE_PREFIX) -> None:
        self._redis = client
        self._prefix = prefix
        self._admit = client.register_script(_ADMIT_LUA)
        self._lease = client.register_script(_LEASE_LUA)
        self._park = client.register_script(_PARK_LUA)
        self._settle = client.register_script(_SETTLE_LUA)
        self._touch = client.register_script(_TOUCH_LUA)
        self._take = client.register_script(_TAKE_LUA)
        self._ahead = client.register_script(_AHEAD_LUA)

    def __repr__(self) -> str:
        return f"RedisSchedule(prefix={self._prefix!r})"

    def admit(self, jobs: Sequence[Job], now_s: float | None = None) -> list[Admission]:
        now_ms = _ms(time.time() if now_s is None else now_s)
        groups: dict[tuple[str, Lane], list[Job]] = {}
        for job in jobs:
            groups.setdefault((job.tenant, job.lane), []).append(job)
        verdicts: dict[int, Admission] = {}
        index = {id(job): n for n, job in enumerate(jobs)}
        for (tenant, lane), group in groups.items():
            jobs_key, due, _ = _keys(self._prefix, tenant)
            args: list[str | int] = [now_ms, _ms(SEQUENCE_TTL_S)]
            for job in group:
                seq = _sequence_key(self._prefix, job) or ""
                args += [job.event_id, job.model_dump_json(), seq, job.sequence_at_ms]
            answers = cast(list[bytes], self._admit(keys=[jobs_key, due[lane]], args=args))
            for job, answer in zip(group, answers, strict=True):
                verdicts[index[id(job)]] = _verdict(job, answer)
        return [verdicts[n] for n in range(len(jobs))]

    def lease(self, tenant: str, lane: Lane, limit: int, lease_s: float) -> list[Job]:
        return self.lease_many([LeaseRequest(tenant, {lane: limit})], lease_s)[0][lane]

    def lease_many(self, requests: Sequence[LeaseRequest], lease_s: float) -> list[Leased]:
        if not any(limit > 0 for request in requests for limit in request.limits.values()):
            return [{lane: [] for lane in request.limits} for request in requests]  # no round trip
        now = time.time()
        keys: list[str] = []
        args: list[int] = [_ms(now), _ms(now + lease_s)]
        for request in requests:
            jobs_key, due, leased = _keys(self._prefix, request.tenant)
            args += [-1 if request.total is None else request.total, len(request.limits)]
            for lane, limit in request.limits.items():
                keys += [jobs_key, due[lane], leased[lane]]
                args.append(limit)
        answers = iter(cast(list[list[bytes]], self._lease(keys=keys, args=args)))
        return [
            {lane: [Job.model_validate_json(raw) for raw in next(answers)] for lane in request.limits}
            for request in requests
        ]

    def unlease(self, job: Job) -> None:
        self.park(job, time.time())

    def lease_keys(self, job: Job) -> tuple[str, str]:
        """The job's tenant's jobs hash and the leased zset of its lane (relay/start.py renews there)."""
        jobs_key, _, leased = _keys(self._prefix, job.tenant)
        return jobs_key, leased[job.lane]

    def touch(self, job: Job, lease_s: float) -> bool:
        jobs_key, _, leased = _keys(self._prefix, job.tenant)
        until = _ms(time.time() + lease_s)
        return bool(self._touch(keys=[jobs_key, leased[job.lane]], args=[job.event_id, until]))

    def park(self, job: Job, due_s: float) -> None:
        self._park(**self._park_call(job, due_s))

    def park_in(self, batch: Batch, job: Job, due_s: float) -> None:
        pipe = batch.pipeline_for(self._redis)
        if pipe is None:
            batch.then(lambda: self.park(job, due_s))
            return
        # The park script's steps as plain commands (see settle_in): atomic inside the transaction.
        jobs_key, due, leased = _keys(self._prefix, job.tenant)
        for times_key in (*due.values(), *leased.values()):
            pipe.zrem(times_key, job.event_id)
        pipe.hset(jobs_key, job.event_id, job.model_dump_json())
        pipe.zadd(due[job.lane], {job.event_id: _ms(due_s)})

    def _park_call(self, job: Job, due_s: float) -> dict[str, Any]:
        jobs_key, due, leased = _keys(self._prefix, job.tenant)
        every = [*due.values(), *leased.values()]
        args = [job.event_id, job.model_dump_json(), _ms(due_s)]
        return {"keys": [jobs_key, due[job.lane], *every], "args": args}

    def settle(self, tenant: str, event_id: str) -> bool:
        jobs_key, due, leased = _keys(self._prefix, tenant)
        return bool(self._settle(keys=[jobs_key, *due.values(), *leased.values()], args=[event_id]))

    def settle_in(self, batch: Batch, tenant: str, event_id: str) -> None:
        pipe = batch.pipeline_for(self._redis)
        if pipe is None:
            batch.then(lambda: self.settle(tenant, event_id))
            return
        # Plain commands, not the settle script: inside the transaction they are as atomic, and a script in a
        # pipeline costs a SCRIPT EXISTS round trip per batch (redis-py loads a pipeline's scripts first).
        jobs_key, due, leased = _keys(self._prefix, tenant)
        for times_key in (*due.values(), *leased.values()):
            pipe.zrem(times_key, event_id)
        pipe.hdel(jobs_key, event_id)

    def take(self, tenant: str, event_ids: Sequence[str]) -> list[Job]:
        if not event_ids:
            return []
        jobs_key, due, _ = _keys(self._prefix, tenant)
        raw = cast(list[bytes], self._take(keys=[jobs_key, *due.values()], args=list(event_ids)))
        return [Job.model_validate_json(item) for item in raw]

    def get(self, tenant: str, event_id: str) -> Job | None:
        jobs_key, _, _ = _keys(self._prefix, tenant)
        raw = cast(bytes | None, self._redis.hget(jobs_key, event_id))
        return None if raw is None else Job.model_validate_json(raw)

    def ahead(self, job: Job) -> Ahead | None:
        seq = _sequence_key(self._prefix, job)
        if seq is None:
            return None
        jobs_key, due, _ = _keys(self._prefix, job.tenant)
        count, leased, soonest = cast(
            list[int],
            self._ahead(keys=[seq, jobs_key, *due.values()], args=[job.event_id, job.sequence_at_ms]),
        )
        if not count:
            return None
        return Ahead(int(count), int(leased), None if soonest < 0 else soonest / 1000)

    def leave_sequence_in(self, batch: Batch, job: Job) -> None:
        seq = _sequence_key(self._prefix, job)
        if seq is None:
            return
        pipe = batch.pipeline_for(self._redis)
        if pipe is None:
            batch.then(lambda: self._redis.zrem(seq, job.event_id))
            return
        pipe.zrem(seq, job.event_id)

    def due_at(self, tenant: str, event_id: str) -> float | None:
        _, due, _ = _keys(self._prefix, tenant)
        pipe = self._redis.pipeline(transaction=False)
        for lane in LANES:
            pipe.zscore(due[lane], event_id)
        scores = [s for s in pipe.execute() if s is not None]
        return float(scores[0]) / 1000 if scores else None

    def jobs(self, tenant: str) -> Iterable[Job]:
        jobs_key, _, _ = _keys(self._prefix, tenant)
        for _, raw in self._redis.hscan_iter(jobs_key, count=500):
            yield Job.model_validate_json(raw)

    def counts(self, tenant: str, lane: Lane, now_s: float | None = None) -> LaneCounts:
        _, due, leased = _keys(self._prefix, tenant)
        now_ms = _ms(time.time() if now_s is None else now_s)
        pipe = self._redis.pipeline(transaction=False)
        pipe.zcount(due[lane], "-inf", now_ms)
        pipe.zcount(due[lane], f"({now_ms}", "+inf")
        pipe.zcard(leased[lane])
        ready, later, out = pipe.execute()
        return LaneCounts(int(ready), int(later), int(out))


def _verdict(job: Job, existing_raw: bytes | str) -> Admission:
    if not existing_raw:
        return Admission("admitted", job)
    existing = Job.model_validate_json(existing_raw)
    return Admission("duplicate" if existing.digest == job.digest else "conflict", job, existing)


@dataclass
class _TenantJobs:
    jobs: dict[str, Job]
    due: dict[Lane, dict[str, float]]
    leased: dict[Lane, dict[str, float]]
    sequences: dict[str, dict[str, int]] = field(default_factory=dict)  # sequence -> event id -> at ms


class MemorySchedule:
    """The in-process twin, with the same rules."""

    def __init__(self, *, clock: Any = time.time) -> None:
        self._guard = threading.Lock()
        self._tenants: dict[str, _TenantJobs] = {}
        self._clock = clock

    def _of(self, tenant: str) -> _TenantJobs:
        return self._tenants.setdefault(
            tenant, _TenantJobs({}, {lane: {} for lane in LANES}, {lane: {} for lane in LANES})
        )

    def admit(self, jobs: Sequence[Job], now_s: float | None = None) -> list[Admission]:
        now = self._clock() if now_s is None else now_s
        out = []
        with self._guard:
            for job in jobs:
                state = self._of(job.tenant)
                existing = state.jobs.get(job.event_id)
                if existing is not None:
                    verdict: AdmitVerdict = "duplicate" if existing.digest == job.digest else "conflict"
                    out.append(Admission(verdict, job, existing))
                    continue
                state.jobs[job.event_id] = job
                state.due[job.lane][job.event_id] = now
                if job.sequence is not None:
                    state.sequences.setdefault(job.sequence, {})[job.event_id] = job.sequence_at_ms
                out.append(Admission("admitted", job))
        return out

    def lease(self, tenant: str, lane: Lane, limit: int, lease_s: float) -> list[Job]:
        return self.lease_many([LeaseRequest(tenant, {lane: limit})], lease_s)[0][lane]

    def lease_many(self, requests: Sequence[LeaseRequest], lease_s: float) -> list[Leased]:
        now = self._clock()
        out: list[Leased] = []
        with self._guard:
            for request in requests:
                left = request.total
                taken: Leased = {}
                for lane, limit in request.limits.items():
                    cap = limit if left is None else min(limit, left)
                    taken[lane] = self._lease_lane(self._of(request.tenant), lane, cap, now + lease_s, now)
                    left = None if left is None else left - len(taken[lane])
                out.append(taken)
        return out

    @staticmethod
    def _lease_lane(state: _TenantJobs, lane: Lane, limit: int, until: float, now: float) -> list[Job]:
        """The rules of `_LEASE_LUA` for one lane (the caller holds the guard)."""
        if limit <= 0:
            return []
        leased = state.leased[lane]
        expired = sorted((at, i) for i, at in leased.items() if at <= now)[:limit]
        taken = [i for _, i in expired]
        room = limit - len(taken) - sum(1 for at in leased.values() if at > now)
        if room > 0:
            due = sorted((at, i) for i, at in state.due[lane].items() if at <= now)[:room]
            for _, event_id in due:
                del state.due[lane][event_id]
                taken.append(event_id)
        out = []
        for event_id in taken:
            job = state.jobs.get(event_id)
            if job is None:
                leased.pop(event_id, None)
                continue
            leased[event_id] = until
            out.append(job)
        return out

    def unlease(self, job: Job) -> None:
        self.park(job, self._clock())

    def touch(self, job: Job, lease_s: float) -> bool:
        with self._guard:
            state = self._of(job.tenant)
            if job.event_id not in state.jobs:
                return False
            state.leased[job.lane][job.event_id] = self._clock() + lease_s
            return True

    def park(self, job: Job, due_s: float) -> None:
        with self._guard:
            state = self._of(job.tenant)
            self._forget_times(state, job.event_id)
            state.jobs[job.event_id] = job
            state.due[job.lane][job.event_id] = due_s

    def settle(self, tenant: str, event_id: str) -> bool:
        with self._guard:
            state = self._of(tenant)
            self._forget_times(state, event_id)
            return state.jobs.pop(event_id, None) is not None

    def settle_in(self, batch: Batch, tenant: str, event_id: str) -> None:
        batch.then(lambda: self.settle(tenant, event_id))

    def park_in(self, batch: Batch, job: Job, due_s: float) -> None:
        batch.then(lambda: self.park(job, due_s))

    @staticmethod
    def _forget_times(state: _TenantJobs, event_id: str) -> None:
        for lane in LANES:
            state.due[lane].pop(event_id, None)
            state.leased[lane].pop(event_id, None)

    def take(self, tenant: str, event_ids: Sequence[str]) -> list[Job]:
        out = []
        with self._guard:
            state = self._of(tenant)
            for event_id in event_ids:
                for lane in LANES:
                    if state.due[lane].pop(event_id, None) is not None:
                        job = state.jobs.pop(event_id, None)
                        if job is not None:
                            out.append(job)
                        break
        return out

    def get(self, tenant: str, event_id: str) -> Job | None:
        with self._guard:
            return self._of(tenant).jobs.get(event_id)

    def ahead(self, job: Job) -> Ahead | None:
        if job.sequence is None:
            return None
        me = (job.sequence_at_ms, job.event_id)
        with self._guard:
            state = self._of(job.tenant)
            members = state.sequences.get(job.sequence, {})
            count, leased, soonest = 0, 0, None
            for event_id, at in list(members.items()):
                if event_id == job.event_id or (at, event_id) > me:
                    continue
                if event_id not in state.jobs:
                    del members[event_id]
                    continue
                count += 1
                due = [state.due[lane][event_id] for lane in LANES if event_id in state.due[lane]]
                if not due:
                    leased += 1
                elif soonest is None or due[0] < soonest:
                    soonest = due[0]
            return Ahead(count, leased, soonest) if count else None

    def leave_sequence_in(self, batch: Batch, job: Job) -> None:
        def leave() -> None:
            with self._guard:
                self._of(job.tenant).sequences.get(job.sequence or "", {}).pop(job.event_id, None)

        batch.then(leave)

    def due_at(self, tenant: str, event_id: str) -> float | None:
        with self._guard:
            state = self._of(tenant)
            for lane in LANES:
                if event_id in state.due[lane]:
                    return state.due[lane][event_id]
            return None

    def jobs(self, tenant: str) -> Iterable[Job]:
        with self._guard:
            return list(self._of(tenant).jobs.values())

    def counts(self, tenant: str, lane: Lane, now_s: float | None = None) -> LaneCounts:
        now = self._clock() if now_s is None else now_s
        with self._guard:
            state = self._of(tenant)
            due = state.due[lane].values()
            return LaneCounts(
                sum(1 for at in due if at <= now), sum(1 for at in due if at > now), len(state.leased[lane])
            )
