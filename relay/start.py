"""A job's start in one Redis round trip: its settled marker, its lease, its claim, its tenant's pause and
whether its tenant's breaker is closed.

`run_job` (relay/run.py) asks these four things of every job before it may call Engage, in this order and
with these stops: an event with a settled marker goes no further (nothing renewed, nothing claimed); a job
no longer in the schedule is not renewed or claimed (run_job admits it first); only then is the event's
claim taken (`SET NX` with the ledger's TTL) and the pause read. One Lua script does what the ledger, the
schedule and the tenant control would do in four round trips, with their own keys and encodings, when the
runtime's three stores are the Redis ones on one Redis; otherwise (the in-memory twins, stores on other
servers) the stores are asked one by one, with the same stops.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import cast

import redis

from relay.batch import script_for
from relay.breaker import RedisCircuitBreaker
from relay.control import RedisTenantControl
from relay.keys import PAUSED_PREFIX, applied_key, claim_key
from relay.ledger import EVENT_CLAIM_TTL_S, RedisLedger, Settled, decode_settled
from relay.runtime import Runtime, shares_redis
from relay.schedule import Job, RedisSchedule


@dataclass(frozen=True)
class Start:
    mark: Settled | None  # the event's settled marker: when set, nothing else was done
    touched: bool = False  # the job is in the schedule and its lease was renewed
    claimed: bool = False  # this run holds the event's claim (only tried when touched)
    paused: bool = False  # the tenant is paused (only read when claimed)
    breaker_closed: bool = False  # the tenant's breaker is closed (only read when claimed; False: ask it)


# KEYS: 1 applied marker, 2 schedule jobs hash, 3 leased zset of the job's lane, 4 claim, 5 paused flag,
# 6 (optional) the breaker's state hash
# ARGV: 1 event id, 2 lease until (ms), 3 claim owner, 4 claim ttl (s)
_START_LUA = """
local mark = redis.call('GET', KEYS[1])
if mark then return {mark, 0, 0, 0, 0} end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return {false, 0, 0, 0, 0} end
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
if not redis.call('SET', KEYS[4], ARGV[3], 'NX', 'EX', ARGV[4]) then return {false, 1, 0, 0, 0} end
local closed = 0
if KEYS[6] and redis.call('HEXISTS', KEYS[6], 'opened_at') == 0 then closed = 1 end
return {false, 1, 1, redis.call('EXISTS', KEYS[5]), closed}
"""


def _one_redis(rt: Runtime) -> redis.Redis | None:
    """The Redis all three stores use, when they are the Redis stores on the runtime's own Redis."""
    client = rt.redis
    if client is None:
        return None
    stores = (rt.ledger, rt.schedule, rt.control)
    kinds = (RedisLedger, RedisSchedule, RedisTenantControl)
    if not all(isinstance(store, kind) for store, kind in zip(stores, kinds, strict=True)):
        return None
    return client if shares_redis(client, *stores) else None


def start(rt: Runtime, job: Job, claim: str) -> Start:
    client = _one_redis(rt)
    if client is None:
        return _start_one_by_one(rt, job, claim)
    schedule = cast(RedisSchedule, rt.schedule)
    jobs_key, leased_key = schedule.lease_keys(job)
    script = script_for(client, _START_LUA)
    keys = [
        applied_key(job.tenant, job.event_id),
        jobs_key,
        leased_key,
        claim_key(job.tenant, job.event_id),
        f"{PAUSED_PREFIX}:{job.tenant}",
    ]
    breaker = rt.circuit
    if isinstance(breaker, RedisCircuitBreaker) and shares_redis(client, breaker):
        keys.append(breaker.state_key(job.tenant))
    until_ms = int((time.time() + rt.lease_s) * 1000)
    args: list[str | int] = [job.event_id, until_ms, claim, EVENT_CLAIM_TTL_S]
    raw, touched, claimed, paused, closed = script(keys=keys, args=args)
    mark = None if raw is None else decode_settled(raw.decode())
    return Start(mark, bool(touched), bool(claimed), bool(paused), bool(closed))


def _start_one_by_one(rt: Runtime, job: Job, claim: str) -> Start:
    mark = rt.ledger.settled(job.tenant, job.event_id)
    if mark is not None:
        return Start(mark)
    if not rt.schedule.touch(job, rt.lease_s):
        return Start(None)
    if not rt.ledger.claim(job.tenant, job.event_id, claim):
        return Start(None, touched=True)
    return Start(None, touched=True, claimed=True, paused=rt.paused(job.tenant))
