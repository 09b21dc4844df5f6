"""The schedule, one body for the in-memory twin and Redis: admit, lease, park, settle, and the lease that
re-drives a job whose message was lost."""

from __future__ import annotations

import time
from typing import Any

import pytest

from relay.batch import Batch
from relay.schedule import Job, LeaseRequest, MemorySchedule, RedisSchedule, Schedule, envelope_digest


@pytest.fixture(params=["memory", "redis"])
def schedule(request: pytest.FixtureRequest) -> Schedule:
    if request.param == "memory":
        return MemorySchedule()
    return RedisSchedule(request.getfixturevalue("redis_client"))


def job(event_id: str, *, tenant: str = "acme", payload: Any = 1, **changes: Any) -> Job:
    envelope = {"id": event_id, "tenant": tenant, "type": "customer.created", "data": {"n": payload}}
    return Job(
        event_id=event_id,
        tenant=tenant,
        type="customer.created",
        envelope=envelope,
        digest=envelope_digest(envelope),
        **changes,
    )


def ids(jobs: list[Job]) -> list[str]:
    return [j.event_id for j in jobs]


def test_admitted_jobs_are_leased_oldest_first_up_to_the_cap(schedule: Schedule) -> None:
    now = time.time()
    schedule.admit([job("e1")], now_s=now - 3)
    schedule.admit([job("e2"), job("e3")], now_s=now - 2)
    # When three are due and two may be in flight
    first = schedule.lease("acme", "live", 2, lease_s=60)
    # Then the two oldest go, and nothing more while they are out
    assert ids(first) == ["e1", "e2"]
    assert schedule.lease("acme", "live", 2, lease_s=60) == []
    assert schedule.counts("acme", "live").leased == 2
    # and once one is settled, the next one goes
    assert schedule.settle("acme", "e1")
    assert ids(schedule.lease("acme", "live", 2, lease_s=60)) == ["e3"]


def test_a_second_copy_is_a_duplicate_and_another_payload_a_conflict(schedule: Schedule) -> None:
    schedule.admit([job("e1")])
    same, other = schedule.admit([job("e1"), job("e1", payload=2)])
    assert same.verdict == "duplicate" and same.existing is not None
    assert other.verdict == "conflict" and other.existing is not None
    assert other.existing.envelope["data"] == {"n": 1}
    # a new event in the same batch is admitted
    (fresh,) = schedule.admit([job("e2")])
    assert fresh.verdict == "admitted"


def test_a_parked_job_waits_until_due_and_keeps_its_state(schedule: Schedule) -> None:
    schedule.admit([job("e1")])
    (leased,) = schedule.lease("acme", "live", 10, lease_s=60)
    # When the worker parks it on the next ladder step, 0.3 s from now
    schedule.park(leased.waiting(reason="ladder", attempt=1), time.time() + 0.3)
    # Then it is not due yet, and no longer counted as in flight
    assert schedule.lease("acme", "live", 10, lease_s=60) == []
    counts = schedule.counts("acme", "live")
    assert (counts.due, counts.waiting, counts.leased) == (0, 1, 0)
    time.sleep(0.35)
    (again,) = schedule.lease("acme", "live", 10, lease_s=60)
    assert (again.attempt, again.reason) == (1, "ladder")


def test_a_lost_message_is_re_driven_when_its_lease_runs_out(schedule: Schedule) -> None:
    schedule.admit([job("e1")])
    (_sent,) = schedule.lease("acme", "live", 10, lease_s=0.2)
    # When nobody settles or parks it (the broker lost the message)
    assert schedule.lease("acme", "live", 10, lease_s=0.2) == []
    time.sleep(0.25)
    # Then it is leased again
    assert ids(schedule.lease("acme", "live", 10, lease_s=60)) == ["e1"]


def test_touch_renews_a_lease_and_tells_a_settled_job(schedule: Schedule) -> None:
    schedule.admit([job("e1")])
    (sent,) = schedule.lease("acme", "live", 10, lease_s=0.2)
    assert schedule.touch(sent, lease_s=60)
    time.sleep(0.25)
    assert schedule.lease("acme", "live", 10, lease_s=60) == []
    schedule.settle("acme", "e1")
    assert not schedule.touch(sent, lease_s=60)
    assert schedule.get("acme", "e1") is None


def _batch(schedule: Schedule) -> Batch:
    return Batch(schedule._redis if isinstance(schedule, RedisSchedule) else None)


def test_park_and_settle_in_a_batch_do_what_park_and_settle_do(schedule: Schedule) -> None:
    schedule.admit([job("e1"), job("e2")])
    first, second = schedule.lease("acme", "live", 10, lease_s=60)
    # When one job is parked in the backlog lane and the other settled, in one atomic batch each
    batch = _batch(schedule)
    schedule.park_in(batch, first.waiting(reason="held", lane="backlog", state={"k": 1}), time.time() - 1)
    batch.commit()
    batch = _batch(schedule)
    schedule.settle_in(batch, "acme", second.event_id)
    batch.commit()
    # Then the parked one is due in its new lane only, with its state, and no longer leased
    assert schedule.lease("acme", "live", 10, lease_s=60) == []
    assert (schedule.counts("acme", "live").leased, schedule.counts("acme", "backlog").due) == (0, 1)
    (again,) = schedule.lease("acme", "backlog", 10, lease_s=60)
    assert (again.event_id, again.reason, again.state) == ("e1", "held", {"k": 1})
    # And the settled one is gone from every set
    assert schedule.get("acme", "e2") is None
    assert not schedule.touch(second, lease_s=60)


def test_lanes_and_tenants_are_separate(schedule: Schedule) -> None:
    schedule.admit([job("a1"), job("b1", tenant="beta"), job("a2", lane="backlog")])
    assert ids(schedule.lease("acme", "live", 10, lease_s=60)) == ["a1"]
    assert ids(schedule.lease("acme", "backlog", 10, lease_s=60)) == ["a2"]
    assert ids(schedule.lease("beta", "live", 10, lease_s=60)) == ["b1"]
    assert sorted(j.event_id for j in schedule.jobs("acme")) == ["a1", "a2"]


def test_unlease_makes_a_job_due_at_once(schedule: Schedule) -> None:
    schedule.admit([job("e1")])
    (sent,) = schedule.lease("acme", "live", 1, lease_s=60)
    schedule.unlease(sent)
    assert ids(schedule.lease("acme", "live", 1, lease_s=60)) == ["e1"]


def test_lease_many_takes_each_lane_of_each_tenant_as_lease_would(schedule: Schedule) -> None:
    now = time.time()
    schedule.admit([job("a1"), job("a2"), job("a3")], now_s=now - 3)
    schedule.admit(
        [job("a4", lane="backlog"), job("b1", tenant="beta"), job("b2", tenant="beta")], now_s=now - 2
    )
    schedule.admit([job("c1", tenant="gamma", lane="backlog")], now_s=now - 1)
    # When one call asks for two live and two backlog jobs of acme, every lane of beta and gamma
    requests = [
        LeaseRequest("acme", {"live": 2, "backlog": 2}),
        LeaseRequest("beta", {"live": 10, "backlog": 10}),
        LeaseRequest("gamma", {"live": 10, "backlog": 10}),
    ]
    acme, beta, gamma = schedule.lease_many(requests, lease_s=60)
    # Then each lane gives its oldest due jobs up to its limit, in the request's lane order
    assert {lane: ids(jobs) for lane, jobs in acme.items()} == {"live": ["a1", "a2"], "backlog": ["a4"]}
    assert list(acme) == ["live", "backlog"]
    assert {lane: ids(jobs) for lane, jobs in beta.items()} == {"live": ["b1", "b2"], "backlog": []}
    assert {lane: ids(jobs) for lane, jobs in gamma.items()} == {"live": [], "backlog": ["c1"]}
    # and the leased jobs count against the limits as lease's do
    (acme,) = schedule.lease_many([LeaseRequest("acme", {"live": 2, "backlog": 2})], lease_s=60)
    assert acme == {"live": [], "backlog": []}
    assert schedule.counts("acme", "live").leased == 2
    assert ids(schedule.lease("acme", "live", 3, lease_s=60)) == ["a3"]


def test_lease_many_re_drives_a_job_whose_lease_ran_out(schedule: Schedule) -> None:
    schedule.admit([job("e1"), job("f1", tenant="beta")])
    schedule.lease_many([LeaseRequest("acme", {"live": 5}), LeaseRequest("beta", {"live": 5})], lease_s=0.2)
    time.sleep(0.25)
    acme, beta = schedule.lease_many(
        [LeaseRequest("acme", {"live": 5}), LeaseRequest("beta", {"live": 5})], lease_s=60
    )
    assert (ids(acme["live"]), ids(beta["live"])) == (["e1"], ["f1"])


def test_a_total_caps_a_request_over_its_lanes_live_first(schedule: Schedule) -> None:
    # Given a tenant with live and backlog jobs, and one with backlog jobs only
    schedule.admit(
        [job("a1"), job("a2"), job("a3", lane="backlog"), job("b1", tenant="beta", lane="backlog")]
    )
    probe = {"live": 1, "backlog": 1}
    # When each is asked for one job in all lanes (the half-open probe)
    acme, beta = schedule.lease_many(
        [LeaseRequest("acme", probe, total=1), LeaseRequest("beta", probe, total=1)], lease_s=60
    )
    # Then acme's is a live one and its backlog gives none; beta's live lane is empty: its backlog gives one
    assert (ids(acme["live"]), ids(acme["backlog"])) == (["a1"], [])
    assert (ids(beta["live"]), ids(beta["backlog"])) == ([], ["b1"])
    # and a total above what the lanes hold takes what is due, live first
    (acme,) = schedule.lease_many([LeaseRequest("acme", {"live": 5, "backlog": 5}, total=2)], lease_s=60)
    assert (ids(acme["live"]), ids(acme["backlog"])) == (["a2"], ["a3"])


def test_lease_many_with_nothing_to_ask_takes_nothing(schedule: Schedule) -> None:
    schedule.admit([job("e1")])
    assert schedule.lease_many([], lease_s=60) == []
    zero = [LeaseRequest("acme", {"live": 0, "backlog": 0}), LeaseRequest("acme", {"live": 3}, total=0)]
    assert schedule.lease_many(zero, lease_s=60) == [{"live": [], "backlog": []}, {"live": []}]
    assert schedule.lease("acme", "live", 0, lease_s=60) == []
    assert ids(schedule.lease("acme", "live", 1, lease_s=60)) == ["e1"]


def test_the_digest_ignores_key_order() -> None:
    assert envelope_digest({"a": 1, "b": {"c": 2, "d": 3}}) == envelope_digest(
        {"b": {"d": 3, "c": 2}, "a": 1}
    )
    assert envelope_digest({"a": 1}) != envelope_digest({"a": 2})


def ordered(event_id: str, at_ms: int, *, order: str = "order:SE-1", **changes: Any) -> Job:
    return job(event_id, sequence=order, sequence_at_ms=at_ms, **changes)


def test_an_order_event_sees_the_older_events_of_its_order_still_here(schedule: Schedule) -> None:
    # Given three events of one order, admitted newest first, and one of another order
    now = time.time()
    schedule.admit([ordered("ret", 3_000), ordered("dlv", 2_000)], now_s=now - 1)
    schedule.admit([ordered("plc", 1_000), ordered("other", 500, order="order:SE-2")], now_s=now - 1)
    # Then the oldest has nothing ahead, and each newer one counts the older ones of its own order
    assert schedule.ahead(ordered("plc", 1_000)) is None
    behind_delivery = schedule.ahead(ordered("dlv", 2_000))
    assert behind_delivery is not None and behind_delivery.count == 1
    behind_return = schedule.ahead(ordered("ret", 3_000))
    assert behind_return is not None and (behind_return.count, behind_return.leased) == (2, 0)
    assert behind_return.next_due_s is not None and abs(behind_return.next_due_s - (now - 1)) < 0.01
    # and an event that writes no order waits for nothing
    assert schedule.ahead(job("customer")) is None


def test_a_running_older_event_is_counted_and_an_ended_one_is_forgotten(schedule: Schedule) -> None:
    schedule.admit([ordered("plc", 1_000), ordered("dlv", 2_000), ordered("ret", 3_000)])
    assert sorted(ids(schedule.lease("acme", "live", 3, lease_s=60))) == ["dlv", "plc", "ret"]
    # While the placed order runs, the delivery sees it as running
    ahead = schedule.ahead(ordered("dlv", 2_000))
    assert ahead is not None and (ahead.count, ahead.leased) == (1, 1)
    # Once it ends (whichever way: here settled without leaving its sequence), nothing is ahead of the
    # delivery, and the return waits for the delivery alone
    assert schedule.settle("acme", "plc")
    assert schedule.ahead(ordered("dlv", 2_000)) is None
    ahead = schedule.ahead(ordered("ret", 3_000))
    assert ahead is not None and ahead.count == 1
    # and a delivery that leaves its sequence in its final batch is not ahead of anything either
    batch = _batch(schedule)
    schedule.settle_in(batch, "acme", "dlv")
    schedule.leave_sequence_in(batch, ordered("dlv", 2_000))
    batch.commit()
    assert schedule.ahead(ordered("ret", 3_000)) is None


def test_events_of_one_order_at_the_same_moment_go_by_event_id(schedule: Schedule) -> None:
    schedule.admit([ordered("b", 1_000), ordered("a", 1_000)])
    assert schedule.ahead(ordered("a", 1_000)) is None
    ahead = schedule.ahead(ordered("b", 1_000))
    assert ahead is not None and ahead.count == 1


def test_a_sequence_is_per_tenant(schedule: Schedule) -> None:
    schedule.admit([ordered("plc", 1_000), ordered("dlv", 2_000, tenant="beta")])
    assert schedule.ahead(ordered("dlv", 2_000, tenant="beta")) is None
