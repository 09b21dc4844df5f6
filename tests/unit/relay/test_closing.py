"""The last write of a run (relay/closing.py): one script on Redis, the same answers as the transaction
and the twins, with the claim's release and the breaker's success in the same round trip."""

from __future__ import annotations

import time

import pytest
import redis

from relay.batch import Batch
from relay.breaker import MemoryCircuitBreaker, Permit, RedisCircuitBreaker
from relay.closing import Hold, let_go, one_redis
from relay.ledger import RedisLedger
from relay.outcomes import MemoryOutcomeSink, Outcome, RedisOutcomeSink
from relay.run import job_for, park
from relay.runtime import Runtime
from relay.schedule import Job, MemorySchedule, RedisSchedule
from relay.settle import write_final
from relay.trail import RedisTrail
from tests.support.round_trips import round_trips
from tests.support.task_harness import memory_runtime, tenant_for

TENANT = "acme-se"
PATHS = ["script", "transaction", "twins"]


def _runtime(path: str, request: pytest.FixtureRequest) -> Runtime:
    """`script`: every store on one Redis; `transaction`: the ledger on another connection pool (the last
    write is a transaction watching the marker, and the marker is written after it: the same answers one
    at a time, not the same atomicity); `twins`: no Redis."""
    rt = memory_runtime([tenant_for("http://127.0.0.1:9", "k", name=TENANT)])
    if path == "twins":
        return rt
    client: redis.Redis = request.getfixturevalue("redis_client")
    ledger_client = client if path == "script" else redis.Redis(connection_pool=_other_pool(client))
    rt.redis, rt.outcomes, rt.ledger = client, RedisOutcomeSink(client), RedisLedger(ledger_client)
    rt.schedule, rt.trail = RedisSchedule(client), RedisTrail(client)
    rt.breaker = RedisCircuitBreaker(client)
    assert (one_redis(rt) is client) == (path == "script")
    return rt


def _other_pool(client: redis.Redis) -> redis.ConnectionPool:
    kwargs = client.connection_pool.connection_kwargs
    return redis.ConnectionPool(host=kwargs["host"], port=kwargs["port"], db=kwargs.get("db", 0))


def _outcome(event_id: str, outcome: str = "applied") -> Outcome:
    return Outcome(event_id=event_id, type="customer.created", tenant=TENANT, outcome=outcome)  # type: ignore[arg-type]


def _job(event_id: str) -> Job:
    return job_for({"id": event_id, "tenant": TENANT, "type": "customer.created"})


def _outcomes(rt: Runtime) -> list[tuple[str, str]]:
    sink = rt.outcomes
    assert isinstance(sink, (MemoryOutcomeSink, RedisOutcomeSink))
    return [(o.event_id, o.outcome) for o in sink.read_all()]


@pytest.mark.parametrize("path", PATHS)
def test_one_final_outcome_and_the_claim_let_go_on_every_path(
    path: str, request: pytest.FixtureRequest
) -> None:
    rt = _runtime(path, request)
    job = _job("e1")
    assert rt.ledger.claim(TENANT, "e1", "me:0")
    hold = Hold(TENANT, "e1", "me:0")
    assert write_final(rt, job, _outcome("e1"), hold)
    let_go(rt, hold)  # what run_job does after the last write: nothing left when the script did it
    assert rt.ledger.claim(TENANT, "e1", "next:0"), "the claim was released"
    # a second final outcome (the file path racing the API path) writes nothing, and releases its claim
    second = Hold(TENANT, "e1", "next:0")
    assert not write_final(rt, job, _outcome("e1", "delivered_by_file"), second)
    let_go(rt, second)
    assert rt.ledger.claim(TENANT, "e1", "third:0")
    assert _outcomes(rt) == [("e1", "applied")]
    mark = rt.ledger.settled(TENANT, "e1")
    assert mark is not None and mark.outcome == "applied"


@pytest.mark.parametrize("path", PATHS)
def test_a_handed_over_marker_does_not_stop_the_final_outcome(
    path: str, request: pytest.FixtureRequest
) -> None:
    """A spilled or dead-lettered event gets its one outcome later (delivered by file, or after a replay)."""
    rt = _runtime(path, request)
    for n, handed_over in enumerate(["spilled", "dead_lettered"]):
        event_id = f"e{n}"
        rt.ledger.mark_settled(TENANT, event_id, handed_over, None)
        assert write_final(rt, _job(event_id), _outcome(event_id, "delivered_by_file"))
    assert _outcomes(rt) == [("e0", "delivered_by_file"), ("e1", "delivered_by_file")]


@pytest.mark.parametrize("path", PATHS)
def test_a_claim_another_run_owns_is_left_alone(path: str, request: pytest.FixtureRequest) -> None:
    rt = _runtime(path, request)
    assert rt.ledger.claim(TENANT, "e1", "other:1")  # our claim lapsed and another copy took it
    hold = Hold(TENANT, "e1", "me:0")
    write_final(rt, _job("e1"), _outcome("e1"), hold)
    let_go(rt, hold)
    assert not rt.ledger.claim(TENANT, "e1", "third:0"), "the other run's claim stays"


@pytest.mark.parametrize("path", PATHS)
def test_a_success_clears_the_failures_of_a_closed_breaker(path: str, request: pytest.FixtureRequest) -> None:
    rt = _runtime(path, request)
    breaker = rt.circuit
    threshold = (
        breaker.policy.failure_threshold
        if isinstance(breaker, (RedisCircuitBreaker, MemoryCircuitBreaker))
        else 5
    )
    for _ in range(threshold - 1):
        breaker.record(breaker.allow(TENANT), "failure")
    rt.ledger.claim(TENANT, "e1", "me:0")
    hold = Hold(TENANT, "e1", "me:0", success=Permit(TENANT, allowed=True))
    write_final(rt, _job("e1"), _outcome("e1"), hold)
    let_go(rt, hold)
    breaker.record(breaker.allow(TENANT), "failure")
    assert breaker.state(TENANT) == "closed", "the success started the count of failures in a row again"
    for _ in range(threshold - 1):
        breaker.record(breaker.allow(TENANT), "failure")
    assert breaker.state(TENANT) == "open"


@pytest.mark.parametrize("path", PATHS)
def test_a_success_of_a_call_let_through_before_the_breaker_opened_is_ignored(
    path: str, request: pytest.FixtureRequest
) -> None:
    rt = _runtime(path, request)
    breaker = rt.circuit
    early = Permit(TENANT, allowed=True)  # allowed while closed; the breaker opens meanwhile
    while breaker.state(TENANT) == "closed":
        breaker.record(breaker.allow(TENANT), "trip", "the key refused")
    rt.ledger.claim(TENANT, "e1", "me:0")
    hold = Hold(TENANT, "e1", "me:0", success=early)
    write_final(rt, _job("e1"), _outcome("e1"), hold)
    let_go(rt, hold)
    assert breaker.state(TENANT) == "open"


@pytest.mark.parametrize("path", PATHS)
def test_a_park_lets_the_claim_go_in_the_same_write(path: str, request: pytest.FixtureRequest) -> None:
    rt = _runtime(path, request)
    job = _job("e1")
    rt.schedule.admit([job])
    rt.ledger.claim(TENANT, "e1", "me:0")
    hold = Hold(TENANT, "e1", "me:0")
    assert park(rt, job, "busy", time.time() + 60, hold=hold)["outcome"] == "parked"
    let_go(rt, hold)
    assert rt.ledger.claim(TENANT, "e1", "next:0")
    assert rt.schedule.get(TENANT, "e1") is not None
    assert [e.step for e in rt.trail.read(TENANT, "e1")] == ["parked"]


def test_the_final_write_with_its_claim_and_success_is_one_round_trip(
    redis_client: redis.Redis, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = _runtime("script", request)
    write_final(rt, _job("warm"), _outcome("warm"), Hold(TENANT, "warm", "me:0"))
    rt.ledger.claim(TENANT, "e1", "me:0")
    hold = Hold(TENANT, "e1", "me:0", success=Permit(TENANT, allowed=True))
    with round_trips(monkeypatch) as count:
        assert write_final(rt, _job("e1"), _outcome("e1"), hold)
        let_go(rt, hold)
    assert count[0] == 1


def test_a_scripted_batch_refuses_a_script_among_its_commands(redis_client: redis.Redis) -> None:
    batch = Batch(redis_client, scripted=True)
    pipe = batch.pipeline_for(redis_client)
    assert pipe is not None
    pipe.set("relay-test:a", "1")
    pipe.eval("return 1", 0)
    with pytest.raises(ValueError, match="EVAL"):
        batch.commit()
    assert redis_client.get("relay-test:a") is None, "nothing of the batch was sent"


def test_a_scripted_batch_commits_its_commands_and_then_its_steps(redis_client: redis.Redis) -> None:
    batch = Batch(redis_client, scripted=True)
    steps: list[str] = []
    pipe = batch.pipeline_for(redis_client)
    assert pipe is not None
    pipe.rpush("relay-test:l", "a", "b")
    pipe.expire("relay-test:l", 60)
    batch.then(lambda: steps.append(str(redis_client.llen("relay-test:l"))))
    batch.commit()
    assert steps == ["2"]


def test_a_claim_is_let_go_after_the_writes_of_a_store_on_another_server(
    redis_client: redis.Redis, request: pytest.FixtureRequest
) -> None:
    """A store that cannot join the script writes after it: the claim must outlive that write, or another
    copy could claim the event and run it before the park is written."""
    rt = _runtime("script", request)
    rt.schedule = MemorySchedule()  # the park becomes a step after the script
    job = _job("e1")
    rt.schedule.admit([job])
    rt.ledger.claim(TENANT, "e1", "me:0")
    seen: list[bool] = []
    park_after = rt.schedule.park

    def park_then_look(waiting: Job, due_s: float) -> None:
        seen.append(rt.ledger.claim(TENANT, "e1", "other:0"))  # would another copy get the claim now?
        park_after(waiting, due_s)

    rt.schedule.park = park_then_look  # type: ignore[method-assign]
    hold = Hold(TENANT, "e1", "me:0")
    park(rt, job, "busy", time.time() + 60, hold=hold)
    assert seen == [False]
    assert not hold.done
    let_go(rt, hold)
    assert rt.ledger.claim(TENANT, "e1", "next:0")


def test_a_failing_command_does_not_stop_the_others_and_the_claim_is_let_go(
    redis_client: redis.Redis, request: pytest.FixtureRequest
) -> None:
    """As in EXEC: every command of the batch runs, the error is raised after; `let_go` still releases."""
    rt = _runtime("script", request)
    redis_client.set(f"engage:trail:{TENANT}:e1", "not a list")  # the trail's RPUSH will fail
    rt.ledger.claim(TENANT, "e1", "me:0")
    hold = Hold(TENANT, "e1", "me:0")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        write_final(rt, _job("e1"), _outcome("e1"), hold)
    let_go(rt, hold)
    assert _outcomes(rt) == [("e1", "applied")], "the commands before and after the failing one ran"
    assert rt.ledger.claim(TENANT, "e1", "next:0")


def test_a_scripted_batch_sends_what_a_transaction_would(redis_client: redis.Redis) -> None:
    batch = Batch(redis_client, scripted=True)
    pipe = batch.pipeline_for(redis_client)
    assert pipe is not None
    pipe.mget([])  # nothing to send: a transaction sends nothing either
    pipe.set("relay-test:b", "1")
    pipe.execute_command("OBJECT ENCODING", "relay-test:b")  # two words on the wire
    batch.commit()
    assert redis_client.get("relay-test:b") == b"1"
