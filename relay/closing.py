"""The last write of a run, in one Redis round trip: its batch, the claim's release, the breaker's success.

A run that holds an event's claim ends with one write: the final outcome (`relay.settle.write_final`) or
the park (`relay.run.park`). Before, three more round trips followed it or came before it: the check that
the event has no final outcome yet (a WATCH and a GET around the transaction), the release of the claim
(compare and delete) and the breaker's record of the call's success (while it is closed: the failure count
cleared). When the ledger and the breaker are the Redis ones on the runtime's Redis, one Lua script does
all of it, in this order and atomically:

1. the guard: when the event's settled marker holds a final outcome, nothing of the batch is written (its
   reply is that marker: the caller reports a duplicate);
2. the batch's commands (`relay.batch.RUN_QUEUED_LUA`; as in EXEC, one that fails does not stop the
   others, and the script answers with its error once steps 3 and 4 are done);
3. the claim deleted when this run still owns it;
4. the breaker's failures cleared when it is closed (a success of a call that was not the probe; a probe's
   success closes the breaker, recorded by the breaker itself first).

Otherwise (the in-memory twins, a ledger on another server) the batch commits as before, and so does a
batch that has writes of stores on other servers to make after it; then `let_go` releases the claim and
records the success itself, after those writes; so does `run_job` for a run that ended without a last
write.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from relay.batch import RUN_QUEUED_LUA, Batch
from relay.breaker import Permit, RedisCircuitBreaker
from relay.keys import applied_key, claim_key
from relay.ledger import HANDED_OVER, RedisLedger
from relay.runtime import Runtime, shares_redis

_NOT_FINAL = " or ".join(f"outcome == '{o}'" for o in sorted(HANDED_OVER))

# ARGV: 1 marker key ('' no guard), 2 claim key ('' none), 3 claim owner, 4 breaker state key ('' none),
# 5 breaker failures key, then the batch's commands
_LAST_WRITE_LUA = (
    RUN_QUEUED_LUA
    + f"""
local mark = false
if ARGV[1] ~= '' then
  mark = redis.call('GET', ARGV[1])
  if mark then
    local outcome = string.match(mark, '^([^|]*)')
    if {_NOT_FINAL} then mark = false end
  end
end
local failed = nil
if not mark then failed = run_queued(6) end
if ARGV[2] ~= '' and redis.call('GET', ARGV[2]) == ARGV[3] then redis.call('DEL', ARGV[2]) end
if ARGV[4] ~= '' and redis.call('HEXISTS', ARGV[4], 'opened_at') == 0 then redis.call('DEL', ARGV[5]) end
if failed then return redis.error_reply(failed) end
return mark
"""
)


@dataclass
class Hold:
    """What a run holds until its last write: the event's claim, and the permit of a call whose success
    the breaker has not recorded yet."""

    tenant: str
    event_id: str
    owner: str
    success: Permit | None = None
    done: bool = False  # released (and the success recorded): nothing left to do


def one_redis(rt: Runtime) -> redis.Redis | None:
    """The Redis a last write can run on as one script: the ledger's, when it is the runtime's."""
    client = rt.redis
    if client is None or not isinstance(rt.ledger, RedisLedger) or not shares_redis(client, rt.ledger):
        return None
    return client


def last_write(rt: Runtime, *, guard: tuple[str, str] | None = None) -> Batch:
    """A batch for the last write of a run: scripted when `one_redis`, else a transaction (watching the
    guard's marker, when there is one)."""
    if one_redis(rt) is not None:
        return Batch(rt.redis, scripted=True)
    return Batch(rt.redis, watch=[applied_key(*guard)] if guard and rt.redis is not None else ())


def commit(rt: Runtime, batch: Batch, *, guard: tuple[str, str] | None, hold: Hold | None) -> bytes | None:
    """Commit a `last_write` batch, folding in `hold` where it can; with `guard` (tenant, event id), only
    when that event has no final outcome, else the marker that stopped it (nothing written)."""
    if not batch.scripted:
        batch.commit()
        return None
    head = ["" if guard is None else applied_key(*guard), "", "", "", ""]
    # what the run holds is let go in the script only when nothing of the batch is written after it (a
    # store on another server): else `let_go` does it, after those writes
    folded = hold is not None and not hold.done and not batch.has_after
    if folded and hold is not None:
        head[1:3] = [claim_key(hold.tenant, hold.event_id), hold.owner]
        head[3:5] = _success_keys(rt, hold)
    mark: bytes | None = batch.commit_in(_LAST_WRITE_LUA, head)
    if folded and hold is not None:
        hold.success, hold.done = None, True
    if mark is None:
        batch.run_after()
    return mark


def let_go(rt: Runtime, hold: Hold) -> None:
    """What the last write did not do (the twins, a run without one): record the success, release the
    claim."""
    if hold.done:
        return
    hold.done = True
    try:
        if hold.success is not None:
            rt.circuit.record(hold.success, "success")
    finally:
        rt.ledger.release(hold.tenant, hold.event_id, hold.owner)


def _success_keys(rt: Runtime, hold: Hold) -> list[str]:
    """The breaker's keys for the script's step 4, or blanks (any other success is recorded here first:
    a probe's closes the breaker)."""
    permit, breaker, client = hold.success, rt.circuit, rt.redis
    if permit is None or not permit.allowed:
        return ["", ""]
    if (
        permit.is_probe
        or client is None
        or not isinstance(breaker, RedisCircuitBreaker)
        or not shares_redis(client, breaker)
    ):
        breaker.record(permit, "success")
        hold.success = None
        return ["", ""]
    return breaker.success_keys(permit.tenant)
