"""Handlers, contact resolution and settlement on the in-memory twins, with a scripted Engage transport.

The Engage client is the real one; only the network is replaced (tests/unit/engage/fake_transport.py).
These tests are about the relay's logic: which calls it makes, what it remembers, what it records.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engage.contact_store import MemoryContactIdStore
from mappers.identity import LookupKey
from relay import handlers
from relay.handlers import orders as order_handler
from relay.handlers.order_clock import OrderClock
from relay.ledger import file_clock_ref
from relay.runtime import Runtime
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

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "events"
GUID = "2e40b702-2767-4abe-ae99-aa510108e22b"
OTHER_GUID = "9a1d2c3b-0000-4000-8000-000000000001"


def example(event_type: str, **changes: Any) -> dict[str, Any]:
    envelope: dict[str, Any] = json.loads((EXAMPLES / f"{event_type}.json").read_text())
    envelope.update({"tenant": "acme-se", **changes})
    return envelope


@pytest.fixture
def engage() -> FakeTransport:
    return FakeTransport()


@pytest.fixture
def rt(engage: FakeTransport) -> Iterator[Runtime]:
    runtime = memory_runtime([tenant_for(BASE_URL, "key-1")])
    runtime.session = session_with(engage)
    with installed(runtime):
        yield runtime


def contact(contact_id: str = GUID) -> dict[str, Any]:
    return {"id": contact_id, "attributes": {}}


def order_moved(engage: FakeTransport) -> None:
    """Engage's answer to a delivery's order move (a status change) whose job is already completed."""
    engage.reply(201, {"jobId": "job-moved", "status": "Completed"})


def test_a_new_customer_is_looked_up_created_and_remembered(rt: Runtime, engage: FakeTransport) -> None:
    # Given Engage that does not know the customer
    engage.reply(404, {"errorCode": "ContactNotFound"}).reply(201, contact())
    # When customer.created runs
    result = run_event(example("customer.created"), handlers.CUSTOMER)
    # Then it was looked up by the tenant's key, then created, and the GUID is remembered for next time
    assert [(s.method, s.url.split("?")[0]) for s in engage.sent] == [
        ("GET", f"{BASE_URL}/api/v3/contacts/id"),
        ("POST", f"{BASE_URL}/api/v3/contacts"),
    ]
    assert result["outcome"] == "applied" and result["contact_id"] == GUID
    assert isinstance(rt.contacts, MemoryContactIdStore)
    ref = rt.contacts.get("acme-se", "email", "anna.lindqvist@example.se")
    assert ref is not None and ref.contact_id == GUID
    assert rt.ledger.was_applied("acme-se", example("customer.created")["id"])


def test_a_known_customer_costs_no_lookup(rt: Runtime, engage: FakeTransport) -> None:
    # Given the contact-id store knows the buyer
    rt.contacts.put("acme-se", "email", "anna.lindqvist@example.se", GUID)
    engage.reply(202, {})
    order_moved(engage)
    # When their order is delivered
    result = run_event(example("order.delivered"), handlers.PURCHASE)
    # Then the calls are the receipt and the order's move (issue 10), both for that contact: no lookup
    assert [s.method for s in engage.sent] == ["POST", "POST"]
    assert engage.sent[0].json()["contact"] == {"matchKey": GUID, "matchKeyType": "contactId"}
    assert result["contact_id"] == GUID and result["calls"] == ["receipts.create", "orders.change_status"]


def test_a_key_taken_on_create_is_looked_up_again(rt: Runtime, engage: FakeTransport) -> None:
    # Given another worker created the contact between our lookup and our create
    engage.reply(404, {"errorCode": "ContactNotFound"})
    engage.reply(409, {"errorCode": "ApprovedContactWithKeyExists"})
    engage.reply(200, f'"{GUID}"'.encode(), {"Content-Type": "application/json"})
    engage.reply(202, {})
    order_moved(engage)
    # When the purchase resolves its buyer
    result = run_event(example("order.delivered"), handlers.PURCHASE)
    # Then the second lookup's contact is used and nothing was created twice (then receipt, order move)
    assert [s.method for s in engage.sent] == ["GET", "POST", "GET", "POST", "POST"]
    assert result["contact_id"] == GUID


def test_a_contact_sent_by_file_is_not_created_again_while_the_file_travels(
    rt: Runtime, engage: FakeTransport
) -> None:
    # Given a buyer whose contact an import file is creating (GUID unknown), the file not imported yet
    rt.contacts.mark_created_by_file("acme-se", "email", "anna.lindqvist@example.se")
    ref = file_clock_ref([LookupKey("email", "anna.lindqvist@example.se")])
    assert ref is not None
    rt.fence.raise_for("acme-se", "20261124100000_1_contacts.xml", [ref])
    engage.reply(404, {"errorCode": "ContactNotFound"})
    # When their order is delivered
    # Then the event waits for the file (not a ladder step) instead of creating a second contact
    result = run_event(example("order.delivered"), handlers.PURCHASE)
    assert [s.method for s in engage.sent] == ["GET"]
    job = parked(rt, example("order.delivered"))
    assert result["reason"] == "file" and job is not None and job.attempt == 0
    assert outcomes_of(rt) == []


def test_a_contact_the_file_did_not_create_is_created_once_its_import_had_time(
    rt: Runtime, engage: FakeTransport
) -> None:
    # Given a key marked "created by file" whose file was uploaded and given its import grace
    rt.contacts.mark_created_by_file("acme-se", "email", "anna.lindqvist@example.se")
    engage.reply(404, {"errorCode": "ContactNotFound"}).reply(201, contact()).reply(202, {})
    order_moved(engage)
    # When the order comes and Engage still has no such contact
    result = run_event(example("order.delivered"), handlers.PURCHASE)
    # Then the API path creates it (the file did not) and the receipt goes (then the order's move)
    assert [s.method for s in engage.sent] == ["GET", "POST", "POST", "POST"]
    assert result["outcome"] == "applied" and result["contact_id"] == GUID


def test_an_older_update_is_superseded_without_a_call(rt: Runtime, engage: FakeTransport) -> None:
    # Given a contact whose street was written by a newer event
    rt.contacts.put("acme-se", "contactId", GUID, GUID)
    newer = example("customer.updated", id="evt-newer", occurred_at="2026-11-27T10:00:00+01:00")
    engage.reply(200, contact())
    assert run_event(newer, handlers.CUSTOMER)["outcome"] == "applied"
    sent_before = len(engage.sent)
    # When an older update of the same fields arrives
    older = example("customer.updated", id="evt-older", occurred_at="2026-11-26T09:00:00+01:00")
    result = run_event(older, handlers.CUSTOMER)
    # Then nothing is sent and the outcome says superseded
    assert len(engage.sent) == sent_before
    assert result["outcome"] == "superseded"


def test_an_update_sends_only_the_changed_fields(rt: Runtime, engage: FakeTransport) -> None:
    engage.reply(200, contact())
    first = example("customer.updated", id="evt-1")
    run_event(first, handlers.CUSTOMER)
    # When the same values come again with one change, later
    second = example("customer.updated", id="evt-2", occurred_at="2026-11-27T18:05:44+01:00")
    second["data"] = {**second["data"], "city": "Lund"}
    engage.reply(200, contact())
    run_event(second, handlers.CUSTOMER)
    # Then only the city is PATCHed
    assert engage.sent[-1].method == "PATCH"
    assert engage.sent[-1].json() == {"city": "Lund"}


def test_a_copy_of_a_settled_event_is_never_sent_and_gets_no_second_outcome(
    rt: Runtime, engage: FakeTransport
) -> None:
    rt.contacts.put("acme-se", "email", "anna.lindqvist@example.se", GUID)
    engage.reply(202, {})
    order_moved(engage)
    run_event(example("order.delivered"), handlers.PURCHASE)
    # When the same event comes again
    result = run_event(example("order.delivered"), handlers.PURCHASE)
    # Then it is not sent (the receipt and the order move went once), and the event keeps its one outcome
    assert len(engage.sent) == 2
    assert result["outcome"] == "duplicate"
    assert [o.outcome for o in outcomes_of(rt)] == ["applied"]


def test_the_same_id_with_another_payload_is_a_conflict_never_applied(
    rt: Runtime, engage: FakeTransport
) -> None:
    rt.contacts.put("acme-se", "email", "anna.lindqvist@example.se", GUID)
    engage.reply(202, {})
    order_moved(engage)
    run_event(example("order.delivered"), handlers.PURCHASE)
    sent_before = len(engage.sent)
    # When an event with the same id but another receipt number comes
    edited = example("order.delivered")
    edited["data"]["receipt_number"] = "999999"
    result = run_event(edited, handlers.PURCHASE)
    # Then nothing is sent, no second outcome, and the rejected store keeps it for an operator
    assert result["outcome"] == "conflict" and len(engage.sent) == sent_before
    assert [o.outcome for o in outcomes_of(rt)] == ["applied"]
    (_, rejection), *_ = rt.rejected.list()
    assert rejection.stage == "conflict" and '"999999"' in rejection.raw


def test_engage_refusing_the_data_rejects_with_its_field_errors(rt: Runtime, engage: FakeTransport) -> None:
    rt.contacts.put("acme-se", "email", "anna.lindqvist@example.se", GUID)
    engage.reply(
        422,
        {
            "errorCode": "ValidationError",
            "message": "invalid",
            "messageDetails": {"errors": {"totalGrossPrice": ["does not add up"]}},
        },
    )
    result = run_event(example("order.delivered"), handlers.PURCHASE)
    assert result["outcome"] == "rejected" and result["engage_status"] == 422
    (_, rejection), *_ = rt.rejected.list()
    assert rejection.stage == "engage" and rejection.event_id == example("order.delivered")["id"]
    assert rejection.reasons[0]["fields"] == [{"field": "totalGrossPrice", "message": "does not add up"}]
    assert not rt.ledger.was_applied("acme-se", rejection.event_id)


def test_a_task_message_of_the_wrong_type_is_rejected_not_applied(rt: Runtime, engage: FakeTransport) -> None:
    # Given a customer event sent to the receipts task (an edited message, or a routing bug)
    result = run_event(example("customer.created"), handlers.PURCHASE)
    # Then nothing is sent and the event is rejected with the reason
    assert engage.sent == []
    assert result == {"outcome": "rejected"}
    (_, rejection), *_ = rt.rejected.list()
    assert "no handler here for customer.created" in rejection.reasons[0]["msg"]


def test_an_unknown_tenant_in_a_task_message_is_rejected(rt: Runtime, engage: FakeTransport) -> None:
    result = run_event(example("customer.created", tenant="nobody"), handlers.CUSTOMER)
    assert result == {"outcome": "rejected"} and engage.sent == []
    (_, rejection), *_ = rt.rejected.list()
    assert rejection.reasons == [{"loc": ["tenant"], "msg": "unknown tenant 'nobody'"}]
    assert [o.outcome for o in outcomes_of(rt)] == ["rejected"]


def test_exhausted_retries_dead_letter_with_the_real_cause(engage: FakeTransport) -> None:
    runtime = memory_runtime([tenant_for(BASE_URL, "key-1")], retry_ladder_s=())
    runtime.session = session_with(engage)
    told: list[str] = []
    runtime.on_dead_letter = lambda letter: told.append(letter.id)
    with installed(runtime):
        runtime.contacts.put("acme-se", "email", "anna.lindqvist@example.se", GUID)
        engage.reply(503, {"message": "An error has occurred"})
        result = run_event(example("order.delivered"), handlers.PURCHASE)
    assert result["outcome"] == "dead_lettered" and result["engage_status"] == 503
    assert outcomes_of(runtime) == []  # a dead letter waits; it is not the event's outcome
    letter = runtime.deadletters.get(f"acme-se:{example('order.delivered')['id']}")
    assert letter is not None and letter.error_class == "ServerError" and letter.attempts == 1
    assert told == [letter.id]


def test_an_order_is_applied_only_once_its_job_completes(rt: Runtime, engage: FakeTransport) -> None:
    # Given a buyer the store knows, and Engage that accepts the write with a job still pending
    rt.contacts.put("acme-se", "email", "anna.lindqvist@example.se", GUID)
    placed = example("order.placed")
    engage.reply(201, {"jobId": "job-1", "status": "Pending"})
    # When the order is placed, it waits for its job (no outcome yet), parked in the schedule
    assert run_event(placed, handlers.ORDER)["reason"] == "order_job"
    job = parked(rt, placed)
    assert job is not None and job.state == {
        "order_job": "job-1",
        "order_write": "create",
        "calls_so_far": ["orders.create"],
        "order_job_since": pytest.approx(time.time(), abs=5),
        "order_job_polls": 0,
    }
    assert outcomes_of(rt) == []
    # When the job is still pending, then completed (Engage answers 302 to the order)
    engage.reply(200, {"jobId": "job-1", "status": "Pending"})
    assert run_event(placed, handlers.ORDER)["reason"] == "order_job"
    engage.reply(302, None, {"Location": "/api/v3/orders/SE-100234"})
    result = run_event(placed, handlers.ORDER)
    # Then it is applied, after one write and two looks at its job, and its outcome lists all three
    assert result["outcome"] == "applied"
    assert [s.method for s in engage.sent] == ["POST", "GET", "GET"]
    assert result["calls"] == ["orders.create", "orders.job", "orders.job"]


def test_a_shipped_order_engage_never_stored_is_created_when_its_job_fails(
    rt: Runtime, engage: FakeTransport
) -> None:
    rt.contacts.put("acme-se", "email", "anna.lindqvist@example.se", GUID)
    shipped = example("order.shipped")
    # Given Engage accepts the PUT and then its job fails "Order is missing" (documented: no sync 404)
    engage.reply(201, {"jobId": "job-put", "status": "Pending"})
    run_event(shipped, handlers.ORDER)
    engage.reply(200, {"jobId": "job-put", "status": "Failed", "errors": [{"message": "Order is missing"}]})
    engage.reply(201, {"jobId": "job-post", "status": "Pending"})
    # When the failed job is seen, the relay creates the order in its current state
    assert run_event(shipped, handlers.ORDER)["reason"] == "order_job"
    assert [s.method for s in engage.sent] == ["PUT", "GET", "POST"]
    assert engage.sent[-1].json()["externalStatus"] == "Shipped"
    # and once that job completes the event is applied
    engage.reply(200, {"jobId": "job-post", "status": "Completed"})
    assert run_event(shipped, handlers.ORDER)["outcome"] == "applied"


def shipment_written_before_its_order(rt: Runtime, engage: FakeTransport) -> tuple[dict[str, Any], datetime]:
    """A shipment whose PUT Engage accepted with a job still pending (no order stored), and a day later."""
    rt.contacts.put("acme-se", "email", "anna.lindqvist@example.se", GUID)
    shipped = example("order.shipped")
    engage.reply(201, {"jobId": "job-put", "status": "Pending"})
    run_event(shipped, handlers.ORDER)
    return shipped, datetime.fromisoformat(shipped["occurred_at"]) + timedelta(days=1)


def test_a_shipment_whose_job_fails_after_a_newer_state_was_created_creates_nothing(
    rt: Runtime, engage: FakeTransport
) -> None:
    # Given a shipment written while Engage had no order (its job pending), and the order's delivery,
    # drained beside it, which found no order either and was sent as a create first
    shipped, later = shipment_written_before_its_order(rt, engage)
    clock = OrderClock(rt.ledger, "acme-se", shipped["data"]["order_id"])
    clock.record("evt-delivered", later)
    clock.record_created("evt-delivered", later)
    # When the shipment's job fails "Order is missing"
    engage.reply(200, {"jobId": "job-put", "status": "Failed", "errors": [{"message": "Order is missing"}]})
    result = run_event(shipped, handlers.ORDER)
    # Then the older state is not created after the newer one (the order would go back to Shipped)
    assert result["outcome"] == "superseded"
    assert [s.method for s in engage.sent] == ["PUT", "GET"]


def test_a_shipment_creates_the_order_when_the_newer_state_could_not(
    rt: Runtime, engage: FakeTransport
) -> None:
    # Given a newer state sent (a status change that found no order and cannot create one)
    shipped, later = shipment_written_before_its_order(rt, engage)
    OrderClock(rt.ledger, "acme-se", shipped["data"]["order_id"]).record("evt-returned", later)
    # When the shipment's job fails "Order is missing", it creates the order (the newer one moves it later)
    engage.reply(200, {"jobId": "job-put", "status": "Failed", "errors": [{"message": "Order is missing"}]})
    engage.reply(201, {"jobId": "job-post", "status": "Pending"})
    assert run_event(shipped, handlers.ORDER)["reason"] == "order_job"
    assert [s.method for s in engage.sent] == ["PUT", "GET", "POST"]


def test_a_store_engage_does_not_have_rejects_the_order(rt: Runtime, engage: FakeTransport) -> None:
    rt.contacts.put("acme-se", "email", "anna.lindqvist@example.se", GUID)
    placed = example("order.placed")
    engage.reply(201, {"jobId": "job-1", "status": "Pending"})
    run_event(placed, handlers.ORDER)
    engage.reply(200, {"jobId": "job-1", "status": "Failed", "errors": [{"message": "Store is missing"}]})
    result = run_event(placed, handlers.ORDER)
    assert result["outcome"] == "rejected" and "Store is missing" in result["detail"]


class ShiftedClock:
    """The order handler's `time`, `offset_s` ahead of the real one (the schedule keeps real time)."""

    def __init__(self) -> None:
        self.offset_s = 0.0

    def time(self) -> float:
        return time.time() + self.offset_s


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ShiftedClock:
    shifted = ShiftedClock()
    monkeypatch.setattr(order_handler, "time", shifted)
    return shifted


def test_a_job_stuck_in_pending_is_looked_at_ever_less_often_then_goes_up_the_ladder(
    rt: Runtime, engage: FakeTransport, clock: ShiftedClock
) -> None:
    rt.contacts.put("acme-se", "email", "anna.lindqvist@example.se", GUID)
    placed = example("order.placed")
    # Given Engage accepts the order and its job never leaves Pending
    engage.reply(201, {"jobId": "job-1", "status": "Pending"})
    assert run_event(placed, handlers.ORDER)["reason"] == "order_job"
    waits = [wait_s(rt, placed)]
    # When the relay keeps looking, each look is one GET, parked in the schedule (never a loop in the worker)
    for _ in range(8):
        engage.reply(200, {"jobId": "job-1", "status": "Pending"})
        assert run_event(placed, handlers.ORDER)["reason"] == "order_job"
        waits.append(wait_s(rt, placed))
    # Then the waits back off (doubling from ORDER_JOB_POLL_S) up to ORDER_JOB_POLL_MAX_S
    wanted = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    assert waits == [pytest.approx(w, abs=0.5) for w in wanted]
    assert order_handler.poll_wait_s(0) == order_handler.ORDER_JOB_POLL_S
    job = parked(rt, placed)
    assert job is not None and job.state["order_job_polls"] == 8
    # When the job is still Pending once ORDER_JOB_MAX_WAIT_S has passed since the write
    clock.offset_s = order_handler.ORDER_JOB_MAX_WAIT_S
    engage.reply(200, {"jobId": "job-1", "status": "Pending"})
    result = run_event(placed, handlers.ORDER)
    # Then the event goes up the retry ladder: the next step starts over (the order is written again)
    assert result["outcome"] == "parked" and result["reason"] == "ladder"
    job = parked(rt, placed)
    assert job is not None and job.attempt == 1 and job.state == {}
    step = rt.trail.read("acme-se", placed["id"])[-1]
    assert (step.reason, step.error) == ("ladder", "OrderJobStuck")
    assert [s.method for s in engage.sent] == ["POST"] + ["GET"] * 9
    assert outcomes_of(rt) == []


def test_the_last_look_at_a_job_is_at_the_limit_never_after_it(
    rt: Runtime, engage: FakeTransport, clock: ShiftedClock
) -> None:
    rt.contacts.put("acme-se", "email", "anna.lindqvist@example.se", GUID)
    placed = example("order.placed")
    engage.reply(201, {"jobId": "job-1", "status": "Pending"})
    run_event(placed, handlers.ORDER)
    clock.offset_s = order_handler.ORDER_JOB_MAX_WAIT_S - 0.5
    engage.reply(200, {"jobId": "job-1", "status": "Pending"})
    assert run_event(placed, handlers.ORDER)["reason"] == "order_job"
    # the due is in the handler's (shifted) time: 0.5 s from its now, not the 2 s back-off
    assert wait_s(rt, placed) - clock.offset_s == pytest.approx(0.5, abs=0.2)


def test_a_job_stuck_at_the_end_of_the_ladder_is_a_dead_letter_with_its_cause(
    engage: FakeTransport, clock: ShiftedClock
) -> None:
    runtime = memory_runtime([tenant_for(BASE_URL, "key-1")], retry_ladder_s=())
    runtime.session = session_with(engage)
    with installed(runtime):
        runtime.contacts.put("acme-se", "email", "anna.lindqvist@example.se", GUID)
        placed = example("order.placed")
        engage.reply(201, {"jobId": "job-1", "status": "Pending"})
        run_event(placed, handlers.ORDER)
        clock.offset_s = order_handler.ORDER_JOB_MAX_WAIT_S + 1
        engage.reply(200, {"jobId": "job-1", "status": "Pending"})
        result = run_event(placed, handlers.ORDER)
    assert result["outcome"] == "dead_lettered" and result["engage_error_code"] == "OrderJobStuck"
    letter = runtime.deadletters.get(f"acme-se:{placed['id']}")
    assert letter is not None and letter.error_class == "OrderJobStuck"
    assert "order job job-1 still Pending after 901 s" in letter.message


@pytest.mark.parametrize(
    ("errors", "outcome"), [(["Article is missing"], "rejected"), ([], "applied")], ids=["errors", "none"]
)
def test_a_job_completed_with_errors_is_failed_only_when_it_carries_errors(
    rt: Runtime, engage: FakeTransport, errors: list[str], outcome: str
) -> None:
    rt.contacts.put("acme-se", "email", "anna.lindqvist@example.se", GUID)
    placed = example("order.placed")
    engage.reply(201, {"jobId": "job-1", "status": "Pending"})
    run_event(placed, handlers.ORDER)
    engage.reply(200, {"jobId": "job-1", "status": "CompletedWithErrors", "errors": errors})
    result = run_event(placed, handlers.ORDER)
    assert result["outcome"] == outcome
    assert outcome == "applied" or "Article is missing" in result["detail"]


def test_a_job_poll_answered_404_order_is_missing_creates_the_order(
    rt: Runtime, engage: FakeTransport
) -> None:
    # ref §2.10: the job poll answers "an error otherwise"; read as the failed job, through the same path
    rt.contacts.put("acme-se", "email", "anna.lindqvist@example.se", GUID)
    shipped = example("order.shipped")
    engage.reply(201, {"href": "/api/v3/orders/jobs/job-put"})  # only a link to the job
    assert run_event(shipped, handlers.ORDER)["reason"] == "order_job"
    engage.reply(404, {"errorCode": "OrderNotFound", "message": "Order is missing"})
    engage.reply(201, None, {"Location": "/api/v3/orders/jobs/job-post"})
    assert run_event(shipped, handlers.ORDER)["reason"] == "order_job"
    assert [(s.method, s.url.rsplit("/", 1)[-1]) for s in engage.sent] == [
        ("PUT", "SE-100234"),
        ("GET", "job-put"),
        ("POST", "orders"),
    ]
    engage.reply(302, None, {"Location": "/api/v3/orders/SE-100234"})
    assert run_event(shipped, handlers.ORDER)["outcome"] == "applied"
    assert engage.sent[-1].url.endswith("/jobs/job-post")


def test_a_job_poll_answered_422_contact_is_missing_waits_on_the_ladder(
    rt: Runtime, engage: FakeTransport
) -> None:
    rt.contacts.put("acme-se", "email", "anna.lindqvist@example.se", GUID)
    placed = example("order.placed")
    engage.reply(201, {"jobId": "job-1"})
    run_event(placed, handlers.ORDER)
    engage.reply(422, {"errorCode": "OrderJobFailed", "message": "Contact is missing"})
    result = run_event(placed, handlers.ORDER)
    assert result["reason"] == "ladder"
    job = parked(rt, placed)
    assert job is not None and job.attempt == 1


def test_a_new_email_with_another_persons_phone_is_an_identity_conflict_never_merged(
    rt: Runtime, engage: FakeTransport
) -> None:
    # Given a phone remembered for contact B, and Engage that knows no contact by the new e-mail
    rt.contacts.put("acme-se", "mobilePhone", "+46701234567", OTHER_GUID)
    engage.reply(404, {"errorCode": "ContactNotFound"})
    # When customer.created comes with the new e-mail and that phone
    result = run_event(example("customer.created"), handlers.CUSTOMER)
    # Then nothing is created or merged: the event waits for an operator with both contacts
    assert [s.method for s in engage.sent] == ["GET"]
    assert result["outcome"] == "dead_lettered"
    letter = rt.deadletters.get(f"acme-se:{example('customer.created')['id']}")
    assert letter is not None and letter.error_class == "IdentityConflict"
    assert letter.details == {
        "contact_by_key": None,
        "contact_by_other": OTHER_GUID,
        "other_identifier": "mobilePhone",
    }
    # and the new e-mail is not remembered for B
    assert rt.contacts.get("acme-se", "email", "anna.lindqvist@example.se") is None


def test_a_key_and_another_identifier_of_two_known_contacts_is_a_conflict(
    rt: Runtime, engage: FakeTransport
) -> None:
    rt.contacts.put("acme-se", "email", "anna.lindqvist@example.se", GUID)
    rt.contacts.put("acme-se", "mobilePhone", "+46701234567", OTHER_GUID)
    purchase = example("order.delivered")
    purchase["data"]["customer"] = {"email": "anna.lindqvist@example.se", "mobile_phone": "+46701234567"}
    result = run_event(purchase, handlers.PURCHASE)
    assert engage.sent == [] and result["outcome"] == "dead_lettered"


def test_an_identifier_of_another_contact_is_never_remembered_for_this_one(
    rt: Runtime, engage: FakeTransport
) -> None:
    # Given a member number remembered for B, and an event that carries no e-mail (the key) but a contactId
    rt.contacts.put("acme-se", "customKey", "100200300", OTHER_GUID)
    engage.reply(202, {})
    purchase = example("receipt.completed")
    purchase["data"]["customer"] = {"contact_id": GUID, "member_number": "100200300"}
    run_event(purchase, handlers.PURCHASE)
    # Then the member number still names B
    ref = rt.contacts.get("acme-se", "customKey", "100200300")
    assert ref is not None and ref.contact_id == OTHER_GUID


def test_a_stale_message_of_a_spilled_event_never_brings_it_back(rt: Runtime, engage: FakeTransport) -> None:
    # Given an event the spill handed to the file fallback
    rt.ledger.mark_settled("acme-se", example("order.delivered")["id"], "spilled", None)
    # When an old task message of it runs
    result = run_event(example("order.delivered"), handlers.PURCHASE)
    # Then nothing is sent and it is not put back in the schedule
    assert result["outcome"] == "duplicate" and engage.sent == []
    assert parked(rt, example("order.delivered")) is None
