"""A delivery's or a return's receipt and the order move beside it, on the twins with a scripted Engage.

What is tested here is the relay's bookkeeping: the receipt sent once whatever happens to the order
write, the order job followed, and the per-order clock. The same journey against the simulator over
HTTP is tests/integration/test_order_journey.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from engage.retry import SHORT_RETRY_ATTEMPTS
from mappers.policy import TenantPolicy
from relay import handlers
from relay.admit import Arrival, admit
from relay.handlers import orders as order_handler
from relay.handlers.journey import ORDER_MISSING_WAIT_STEPS
from relay.handlers.order_clock import PENDING_STALE_S, verdict
from relay.ledger import MemoryLedger
from relay.runtime import Runtime
from relay.sequence import SEQUENCE_DUE_MARGIN_S
from schemas import parse_event
from tests.support.task_harness import (
    installed,
    memory_runtime,
    outcomes_of,
    parked,
    run_event,
    tenant_for,
    wait_s,
)
from tests.unit.engage.fake_transport import BASE_URL, FakeTransport, session_with
from tests.unit.relay.test_handlers_twins import GUID, example

ANNA = "anna.lindqvist@example.se"


@pytest.fixture
def engage() -> FakeTransport:
    return FakeTransport()


@pytest.fixture
def rt(engage: FakeTransport) -> Iterator[Runtime]:
    runtime = memory_runtime([tenant_for(BASE_URL, "key-1")])
    runtime.session = session_with(engage)
    with installed(runtime):
        runtime.contacts.put("acme-se", "email", ANNA, GUID)
        yield runtime


def job(status: str = "Pending", *errors: str) -> dict[str, Any]:
    return {"jobId": "job-1", "status": status, "errors": [{"message": e} for e in errors]}


def sent(engage: FakeTransport) -> list[tuple[str, str]]:
    return [(s.method, s.url.removeprefix(BASE_URL)) for s in engage.sent]


RECEIPT = ("POST", "/api/v3/receipts")
CHANGE = ("POST", "/api/v3/orders/SE-100234/change-status")
JOB = ("GET", "/api/v3/orders/jobs/job-1")


def test_the_receipt_goes_first_and_the_event_is_applied_once_the_order_job_completes(
    rt: Runtime, engage: FakeTransport
) -> None:
    delivered = example("order.delivered")
    engage.reply(202, {}).reply(201, job())
    # When the delivery runs, it sends the receipt and the order move, and waits for the move's job
    assert run_event(delivered, handlers.PURCHASE)["reason"] == "order_job"
    assert outcomes_of(rt) == []
    engage.reply(302, None, {"Location": "/api/v3/orders/SE-100234"})
    result = run_event(delivered, handlers.PURCHASE)
    # Then it is applied: one receipt, one move, one look at its job
    assert result["outcome"] == "applied" and result["contact_id"] == GUID
    assert sent(engage) == [RECEIPT, CHANGE, JOB]
    assert engage.sent[1].json() == {"status": "Completed", "externalStatus": "Delivered"}
    assert result["calls"] == ["receipts.create", "orders.change_status", "orders.job"]


def test_a_stuck_order_move_goes_up_the_ladder_and_moves_again_without_a_second_receipt(
    rt: Runtime, engage: FakeTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivered = example("order.delivered")
    engage.reply(202, {}).reply(201, job())
    run_event(delivered, handlers.PURCHASE)
    # Given the move's job is still Pending once ORDER_JOB_MAX_WAIT_S has passed since the write
    shifted = SimpleNamespace(time=lambda: time.time() + order_handler.ORDER_JOB_MAX_WAIT_S)
    monkeypatch.setattr(order_handler, "time", shifted)
    engage.reply(200, job())
    result = run_event(delivered, handlers.PURCHASE)
    # Then it takes a ladder step with the cause, and the next step moves the order again, receipt once
    assert result["reason"] == "ladder"
    waiting = parked(rt, delivered)
    assert waiting is not None and waiting.attempt == 1 and waiting.state == {}
    step = rt.trail.read("acme-se", delivered["id"])[-1]
    assert (step.reason, step.error) == ("ladder", "OrderJobStuck")
    monkeypatch.undo()
    engage.reply(201, job("Completed"))
    assert run_event(delivered, handlers.PURCHASE)["outcome"] == "applied"
    assert sent(engage) == [RECEIPT, CHANGE, JOB, CHANGE]


def test_a_failed_order_job_neither_loses_nor_repeats_the_receipt(rt: Runtime, engage: FakeTransport) -> None:
    delivered = example("order.delivered")
    # Given a move whose job fails "Contact is missing" (the contact may still be on its way)
    engage.reply(202, {}).reply(201, job()).reply(200, job("Failed", "Contact is missing"))
    run_event(delivered, handlers.PURCHASE)
    result = run_event(delivered, handlers.PURCHASE)
    # Then the event waits on the ladder, and the next step sends the order move again, not the receipt
    waiting = parked(rt, delivered)
    assert result["reason"] == "ladder" and waiting is not None and waiting.attempt == 1
    engage.reply(201, job("Completed"))
    assert run_event(delivered, handlers.PURCHASE)["outcome"] == "applied"
    assert sent(engage) == [RECEIPT, CHANGE, JOB, CHANGE]


def test_a_rejected_order_job_says_the_receipt_went_and_a_replay_does_not_send_it_again(
    rt: Runtime, engage: FakeTransport
) -> None:
    delivered = example("order.delivered")
    engage.reply(202, {}).reply(201, job()).reply(200, job("Failed", "Store is missing"))
    run_event(delivered, handlers.PURCHASE)
    result = run_event(delivered, handlers.PURCHASE)
    assert result["outcome"] == "rejected"
    assert "receipt sent; order job failed: Store is missing" in result["detail"]
    # When an operator replays it (as a new event: the receipt's id is the same)
    engage.reply(201, job("Completed"))
    assert run_event(delivered | {"id": "evt-replayed"}, handlers.PURCHASE)["outcome"] == "applied"
    assert sent(engage) == [RECEIPT, CHANGE, JOB, CHANGE]


def test_an_order_engage_never_stored_is_created_from_a_whole_delivery(
    rt: Runtime, engage: FakeTransport
) -> None:
    delivered = example("order.delivered")
    engage.reply(202, {}).reply(201, job()).reply(200, job("Failed", "Order is missing"))
    engage.reply(201, {"jobId": "job-2", "status": "Completed"})
    run_event(delivered, handlers.PURCHASE)
    result = run_event(delivered, handlers.PURCHASE)
    assert result["outcome"] == "applied" and result["contact_id"] == GUID
    assert sent(engage) == [RECEIPT, CHANGE, JOB, ("POST", "/api/v3/orders")]
    created = engage.sent[-1].json()
    assert (created["orderId"], created["status"], created["externalStatus"]) == (
        "SE-100234",
        "Completed",
        "Delivered",
    )


def test_a_move_that_finds_no_order_waits_and_lets_the_placed_order_through(
    rt: Runtime, engage: FakeTransport
) -> None:
    # Given a return (12-02) whose order Engage does not have yet, and nothing to create it from
    ret = example("return.created")
    engage.reply(202, {}).reply(201, job()).reply(200, job("Failed", "Order is missing"))
    run_event(ret, handlers.RETURN)
    result = run_event(ret, handlers.RETURN)
    assert result["reason"] == "ladder"
    # When the older order.placed (11-25) arrives, it is not superseded: it creates the order
    placed = example("order.placed")
    engage.reply(201, {"jobId": "job-p", "status": "Completed"})
    assert run_event(placed, handlers.ORDER)["outcome"] == "applied"
    # and the return's next step moves the order on top of it, without a second receipt
    engage.reply(201, {"jobId": "job-r", "status": "Completed"})
    assert run_event(ret, handlers.RETURN)["outcome"] == "applied"
    assert [m for m, _ in sent(engage)] == ["POST", "POST", "GET", "POST", "POST"]
    assert engage.sent[-1].json() == {"status": "Completed", "externalStatus": "Returned"}
    # Then the clock is back to normal: an older shipped order is superseded now
    shipped = example("order.shipped")
    assert run_event(shipped, handlers.ORDER)["outcome"] == "superseded"


def test_a_move_gives_up_waiting_for_an_order_that_never_comes(rt: Runtime, engage: FakeTransport) -> None:
    ret = example("return.created")
    engage.reply(202, {})
    for _ in range(ORDER_MISSING_WAIT_STEPS + 1):
        engage.reply(201, job()).reply(200, job("Failed", "Order is missing"))
    result: dict[str, Any] = {}
    for _ in range(2 * (ORDER_MISSING_WAIT_STEPS + 1)):
        result = run_event(ret, handlers.RETURN)
        if result["outcome"] != "parked":
            break
    # Then after the wait the return is applied (its receipt went), saying the order was not moved
    assert result["outcome"] == "applied"
    assert result["detail"] == "receipt sent; Engage has no order SE-100234 to move"
    assert [u for _, u in sent(engage)].count("/api/v3/receipts") == 1


def test_an_older_delivery_sends_its_receipt_but_does_not_move_the_order_back(
    rt: Runtime, engage: FakeTransport
) -> None:
    # Given the return (12-02) already moved the order
    ret = example("return.created")
    engage.reply(202, {}).reply(201, job("Completed"))
    assert run_event(ret, handlers.RETURN)["outcome"] == "applied"
    # When the delivery (11-28) comes late
    engage.reply(202, {})
    result = run_event(example("order.delivered"), handlers.PURCHASE)
    # Then its receipt is sent and the order is left as the return put it
    assert result["outcome"] == "applied"
    assert result["detail"] == "order SE-100234 has a newer state: not moved"
    assert sent(engage)[-1] == RECEIPT
    # and an order event older than both is superseded, as before
    assert run_event(example("order.shipped"), handlers.ORDER)["outcome"] == "superseded"


def test_a_newer_event_of_an_order_waits_in_the_schedule_until_the_older_one_ended(
    rt: Runtime, engage: FakeTransport
) -> None:
    # Given a delivery (11-28) and its return (12-02) both held (an outage): they drain side by side
    delivered, ret = example("order.delivered"), example("return.created")
    admit(rt, [Arrival(parse_event(e), e) for e in (ret, delivered)])
    # When the return is sent to a worker first, it waits for the delivery without calling Engage
    assert run_event(ret, handlers.RETURN)["reason"] == "sequence"
    assert engage.sent == []
    assert rt.trail.read("acme-se", ret["id"])[-1].detail == "1 older event(s) of order:SE-100234 first"
    # and it goes on waiting while the delivery's order job runs
    engage.reply(202, {}).reply(201, job())
    assert run_event(delivered, handlers.PURCHASE)["reason"] == "order_job"
    assert run_event(ret, handlers.RETURN)["reason"] == "sequence"
    # (until just after the delivery's next look at its job)
    assert wait_s(rt, ret) == pytest.approx(wait_s(rt, delivered) + SEQUENCE_DUE_MARGIN_S, abs=0.05)
    engage.reply(200, job("Completed"))
    assert run_event(delivered, handlers.PURCHASE)["outcome"] == "applied"
    # Then the return runs once the delivery is applied: the order moves delivered, then returned
    engage.reply(202, {}).reply(201, job("Completed"))
    assert run_event(ret, handlers.RETURN)["outcome"] == "applied"
    moves = [s.json()["externalStatus"] for s in engage.sent if s.url.endswith("/change-status")]
    assert moves == ["Delivered", "Returned"]


def test_while_the_breaker_is_open_an_event_behind_an_older_one_waits_in_the_backlog_lane(
    rt: Runtime, engage: FakeTransport
) -> None:
    # Given a delivery and its return admitted live, and then the tenant's Engage down (the breaker open)
    delivered, ret = example("order.delivered"), example("return.created")
    admit(rt, [Arrival(parse_event(e), e) for e in (ret, delivered)])
    rt.circuit.record(rt.circuit.allow("acme-se"), "trip", "Engage answers 503")
    assert rt.circuit.state("acme-se") != "closed"
    # When the return runs first, it waits for the delivery in the backlog lane with the held events: in
    # the live lane it would be the one job a half-open breaker sends, again and again, and no probe would go
    assert run_event(ret, handlers.RETURN)["reason"] == "sequence"
    waiting = rt.schedule.get("acme-se", ret["id"])
    assert waiting is not None and waiting.lane == "backlog"
    assert engage.sent == []


def test_a_pos_receipt_and_a_tenant_without_orders_send_the_receipt_alone(engage: FakeTransport) -> None:
    runtime = memory_runtime([tenant_for(BASE_URL, "key-1", policy=_no_orders())])
    runtime.session = session_with(engage)
    with installed(runtime):
        runtime.contacts.put("acme-se", "email", ANNA, GUID)
        engage.reply(202, {}).reply(202, {})
        assert run_event(example("order.delivered"), handlers.PURCHASE)["calls"] == ["receipts.create"]
        assert run_event(example("return.created"), handlers.RETURN)["calls"] == ["receipts.create"]
    assert sent(engage) == [RECEIPT, RECEIPT]


def _no_orders() -> TenantPolicy:
    return TenantPolicy(move_orders=False)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_the_order_clock_lets_an_older_event_through_only_while_the_newest_is_unstored() -> None:
    ledger = MemoryLedger()
    now = time.time()

    def clock() -> dict[str, tuple[int, str]]:
        return ledger.field_clock("t", "order:1")

    placed_at, returned_at = _at("2026-11-25T10:00:00+01:00"), _at("2026-12-02T10:00:00+01:00")
    assert verdict(clock(), "placed", placed_at, now) == "send"
    ledger.record_fields("t", "order:1", {"version": "returned"}, returned_at)
    assert verdict(clock(), "placed", placed_at, now) == "superseded"
    assert verdict(clock(), "returned", returned_at, now) == "send"  # its own re-run
    ledger.record_fields("t", "order:1", {"unstored": "returned"}, returned_at)
    assert verdict(clock(), "placed", placed_at, now) == "behind"
    ledger.record_fields("t", "order:1", {"unstored": "stored"}, returned_at)
    assert verdict(clock(), "placed", placed_at, now) == "superseded"


def test_an_older_event_waits_while_the_newest_state_awaits_its_answer_but_not_for_ever() -> None:
    ledger = MemoryLedger()
    now = time.time()
    placed_at, returned_at = _at("2026-11-25T10:00:00+01:00"), _at("2026-12-02T10:00:00+01:00")
    ledger.record_fields("t", "order:1", {"version": "returned"}, returned_at)
    ledger.record_fields("t", "order:1", {"pending": "returned"}, datetime.fromtimestamp(now, UTC))
    clock = ledger.field_clock("t", "order:1")
    assert verdict(clock, "placed", placed_at, now) == "wait"
    assert verdict(clock, "returned", returned_at, now) == "send"  # the pending state's own run goes on
    # a mark not renewed (its worker crashed, or it went up the ladder) counts as not stored: sent after all
    assert verdict(clock, "placed", placed_at, now + PENDING_STALE_S + 1) == "behind"
    # a pending mark of an older state says nothing about the newest
    ledger.record_fields("t", "order:1", {"version": "returned-again"}, returned_at)
    assert verdict(ledger.field_clock("t", "order:1"), "placed", placed_at, now) == "superseded"


def test_a_return_that_came_first_keeps_its_older_states_waiting_until_its_change_is_answered(
    rt: Runtime, engage: FakeTransport
) -> None:
    # Given a return (12-02) that came first: its receipt and status change sent, the change's job pending
    ret, placed = example("return.created"), example("order.placed")
    engage.reply(202, {}).reply(201, job())
    assert run_event(ret, handlers.RETURN)["reason"] == "order_job"
    # When the older order.placed (11-25) arrives meanwhile, it waits without calling Engage
    calls_before = len(engage.sent)
    result = run_event(placed, handlers.ORDER)
    assert result["reason"] == "sequence" and len(engage.sent) == calls_before
    assert rt.trail.read("acme-se", placed["id"])[-1].error == "OrderStatePending"
    # Then once the change's job fails "Order is missing", the placed order is sent and creates the order
    engage.reply(200, job("Failed", "Order is missing"))
    assert run_event(ret, handlers.RETURN)["reason"] == "ladder"
    engage.reply(201, {"jobId": "job-p", "status": "Completed"})
    assert run_event(placed, handlers.ORDER)["outcome"] == "applied"
    assert sent(engage)[-1] == ("POST", "/api/v3/orders")
    # and the return's next step moves it on top, the receipt not sent again
    engage.reply(201, {"jobId": "job-r", "status": "Completed"})
    assert run_event(ret, handlers.RETURN)["outcome"] == "applied"
    assert sent(engage).count(RECEIPT) == 1
    assert engage.sent[-1].json() == {"status": "Completed", "externalStatus": "Returned"}


def test_a_failed_look_at_the_change_lets_the_older_states_through_to_create_the_order(
    rt: Runtime, engage: FakeTransport
) -> None:
    # Given a return that came first, its change's job pending, and the older placed order waiting for it
    ret, placed = example("return.created"), example("order.placed")
    engage.reply(202, {}).reply(201, job())
    assert run_event(ret, handlers.RETURN)["reason"] == "order_job"
    assert run_event(placed, handlers.ORDER)["reason"] == "sequence"
    # When the look at the change's job fails (Engage answers 503, each short retry too), the return
    # takes a ladder step
    for _ in range(SHORT_RETRY_ATTEMPTS):
        engage.reply(503, {"message": "unavailable"})
    assert run_event(ret, handlers.RETURN)["reason"] == "ladder"
    # Then its change counts as not stored: the placed order is sent at once and creates the order
    engage.reply(201, {"jobId": "job-p", "status": "Completed"})
    assert run_event(placed, handlers.ORDER)["outcome"] == "applied"
    assert sent(engage)[-1] == ("POST", "/api/v3/orders")


def test_a_change_sent_again_keeps_older_states_waiting_though_it_was_unstored() -> None:
    ledger = MemoryLedger()
    now = time.time()
    placed_at, returned_at = _at("2026-11-25T10:00:00+01:00"), _at("2026-12-02T10:00:00+01:00")
    ledger.record_fields("t", "order:1", {"version": "returned", "unstored": "returned"}, returned_at)
    assert verdict(ledger.field_clock("t", "order:1"), "placed", placed_at, now) == "behind"
    # the change is sent again (a ladder step): in flight once more, so an older state waits again
    ledger.record_fields("t", "order:1", {"pending": "returned"}, datetime.fromtimestamp(now, UTC))
    assert verdict(ledger.field_clock("t", "order:1"), "placed", placed_at, now) == "wait"


def test_an_older_state_is_superseded_once_the_newest_change_is_confirmed(
    rt: Runtime, engage: FakeTransport
) -> None:
    ret, shipped = example("return.created"), example("order.shipped")
    engage.reply(202, {}).reply(201, job())
    assert run_event(ret, handlers.RETURN)["reason"] == "order_job"
    assert run_event(shipped, handlers.ORDER)["reason"] == "sequence"
    # When the change's job completes, the shipped state (older) is superseded: nothing sent for it
    engage.reply(200, job("Completed"))
    assert run_event(ret, handlers.RETURN)["outcome"] == "applied"
    calls_before = len(engage.sent)
    assert run_event(shipped, handlers.ORDER)["outcome"] == "superseded"
    assert len(engage.sent) == calls_before


def test_a_move_that_timed_out_is_checked_before_it_is_sent_again(rt: Runtime, engage: FakeTransport) -> None:
    delivered = example("order.delivered")
    # Given the receipt accepted, and the order move's answer lost to a read timeout (it may have arrived)
    engage.reply(202, {}).fail(requests.ReadTimeout("read timed out"))
    assert run_event(delivered, handlers.PURCHASE)["reason"] == "ladder"
    # When the next step finds Engage's order already in the delivered state
    stored = {"orderId": "SE-100234", "status": "Completed", "externalStatus": "Delivered"}
    engage.reply(200, stored)
    result = run_event(delivered, handlers.PURCHASE)
    # Then it is applied without a second receipt or a second move
    assert result["outcome"] == "applied" and result["detail"] == "order state found after timeout"
    assert sent(engage) == [RECEIPT, CHANGE, ("GET", "/api/v3/orders/SE-100234")]
