"""The order journey against the simulator over HTTP: placed, shipped, delivered, returned.

The relay runs on the memory runtime (tests/support/task_harness.py) with a real EngageClient; each event
is re-run after each park (an order job followed, a ladder step) until it ends. A delivery and a return
send their receipt and, beside it, move the order Engage stores.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relay import handlers
from relay.context import Handler
from relay.runtime import Runtime
from relay.schedule import Job
from tests.support.processes import wait_until
from tests.support.simulator import RunningSimulator
from tests.support.task_harness import installed, memory_runtime, run_event, run_until_final, tenant_for

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "events"
HANDLERS: dict[str, Handler[Any]] = {
    "order.placed": handlers.ORDER,
    "order.shipped": handlers.ORDER,
    "order.cancelled": handlers.ORDER,
    "order.delivered": handlers.PURCHASE,
    "return.created": handlers.RETURN,
}
RECEIPTS = "POST /api/v3/receipts"


def example(event_type: str, **data: Any) -> dict[str, Any]:
    envelope: dict[str, Any] = json.loads((EXAMPLES / f"{event_type}.json").read_text())
    envelope["tenant"] = "acme-se"
    envelope["data"].update(data)
    return envelope


@pytest.fixture
def rt(simulator: RunningSimulator) -> Iterator[Runtime]:
    runtime = memory_runtime([tenant_for(simulator.base_url, simulator.api_key)], retry_ladder_s=(0, 0, 0))
    with installed(runtime):
        yield runtime


def jobs_done(simulator: RunningSimulator) -> bool:
    return all(job["status"] != "Pending" for job in simulator.admin.state()["order_jobs"])


def run(simulator: RunningSimulator, envelope: dict[str, Any]) -> dict[str, Any]:
    """The event to its end; after each park, wait until the simulator has processed its order jobs."""

    def between(job: Job) -> None:
        wait_until(lambda: jobs_done(simulator), what="the simulator's order jobs", timeout_s=5)

    result, _ = run_until_final(envelope, HANDLERS[envelope["type"]], between=between)
    return result


def order_in_engage(simulator: RunningSimulator, order_id: str) -> dict[str, Any]:
    wait_until(lambda: jobs_done(simulator), what="the simulator's order jobs", timeout_s=5)
    (found,) = [o["order"] for o in simulator.admin.state()["orders"] if o["orderId"] == order_id]
    return dict(found)


def test_the_whole_journey_ends_with_the_order_returned_and_each_receipt_once(
    rt: Runtime, simulator: RunningSimulator
) -> None:
    # When an order is placed, shipped, delivered and partly returned, in that order
    states = []
    for event_type in ("order.placed", "order.shipped", "order.delivered", "return.created"):
        result = run(simulator, example(event_type))
        assert result["outcome"] == "applied", result
        order = order_in_engage(simulator, "SE-100234")
        states.append((order["status"], order.get("externalStatus")))
    # Then Engage's order went through every state to the return
    assert states == [
        ("InProgress", "Confirmed"),
        ("InProgress", "Shipped"),
        ("Completed", "Delivered"),
        ("Completed", "Returned"),
    ]
    # the moves kept what the order held (a status change keeps lines and tracking)
    order = order_in_engage(simulator, "SE-100234")
    assert order["delivery"]["trackingNumber"] and len(order["lineItems"]["items"]) == 2
    # only the order and shipping mails fired (Voyado documents no delivered or returned automation)
    state = simulator.admin.state()
    assert [a["action"] for a in state["order_actions"]] == ["ConfirmOrder", "ConfirmShipment"]
    # and each receipt arrived once, the return beside the purchase
    assert sorted(r["uniqueReceiptId"] for r in state["receipts"]) == [
        "order-SE-100234",
        "return-SE-100234-R1",
    ]
    assert simulator.admin.request_count(RECEIPTS) == 2


def test_a_delivery_of_an_order_engage_never_had_creates_it_delivered(
    rt: Runtime, simulator: RunningSimulator
) -> None:
    # Given an order placed before the go-live: Engage has no order SE-100234
    result = run(simulator, example("order.delivered"))
    # Then the status change's job failed "Order is missing", and the order was created from the receipt
    assert result["outcome"] == "applied"
    assert result["calls"] == [
        "contacts.lookup",
        "contacts.create",
        "receipts.create",
        "orders.change_status",
        "orders.job",
        "orders.create",
        "orders.job",
    ]
    order = order_in_engage(simulator, "SE-100234")
    assert (order["status"], order["externalStatus"]) == ("Completed", "Delivered")
    assert [i["sku"] for i in order["lineItems"]["items"]] == ["7391234567890", "7391234500118"]
    assert simulator.admin.state()["order_actions"] == []


def test_an_order_delivered_in_parts_is_partly_delivered_until_its_last_delivery(
    rt: Runtime, simulator: RunningSimulator
) -> None:
    assert run(simulator, example("order.placed"))["outcome"] == "applied"
    first = example("order.delivered", delivery_id="1", lines=example("order.delivered")["data"]["lines"][:1])
    first["id"], first["occurred_at"] = "evt-delivery-1", "2026-11-27T10:00:00+01:00"
    first["data"].update(order_discounts=[], used_promotions=[], freight=None, total_gross=None)
    first["data"]["payments"] = [{"type": "card", "amount": "1199.00"}]
    assert run(simulator, first)["outcome"] == "applied"
    order = order_in_engage(simulator, "SE-100234")
    assert (order["status"], order["externalStatus"]) == ("InProgress", "PartiallyDelivered")
    # When the last part comes, naming the order's state
    last = example("order.delivered", delivery_id="2", lines=example("order.delivered")["data"]["lines"][1:])
    last["id"] = "evt-delivery-2"
    last["data"].update(order_discounts=[], used_promotions=[], freight=None, total_gross=None)
    last["data"]["payments"] = [{"type": "card", "amount": "298.00"}]
    last["data"]["order"] = {"status": "Completed", "external_status": "Delivered"}
    assert run(simulator, last)["outcome"] == "applied"
    order = order_in_engage(simulator, "SE-100234")
    assert (order["status"], order["externalStatus"]) == ("Completed", "Delivered")
    receipts = sorted(r["uniqueReceiptId"] for r in simulator.admin.state()["receipts"])
    assert receipts == ["order-SE-100234-1", "order-SE-100234-2"]


def test_a_return_with_the_whole_order_replaces_its_lines(rt: Runtime, simulator: RunningSimulator) -> None:
    assert run(simulator, example("order.placed"))["outcome"] == "applied"
    kept = {"sku": "7391234567890", "name": "Vinterjacka Kiruna", "quantity": 1, "unit_price": "1499.00"}
    after = {"lines": [kept], "totals": {"total_gross": "1499.00"}}
    result = run(simulator, example("return.created", order=after))
    assert result["outcome"] == "applied"
    assert "orders.replace" in result["calls"]
    order = order_in_engage(simulator, "SE-100234")
    assert [i["sku"] for i in order["lineItems"]["items"]] == ["7391234567890"]
    assert (order["status"], order["externalStatus"]) == ("Completed", "Returned")


def test_a_return_before_its_order_waits_for_it_and_sends_its_receipt_once(
    rt: Runtime, simulator: RunningSimulator
) -> None:
    # Given a return whose order Engage does not have yet (its placed event is late)
    ret = example("return.created")
    first = run_once(simulator, ret)
    assert first["reason"] == "ladder"
    # When the older order.placed arrives, it is sent (the return's state never reached Engage)
    assert run(simulator, example("order.placed"))["outcome"] == "applied"
    # Then the return's next step moves the order on top of it
    assert run(simulator, ret)["outcome"] == "applied"
    order = order_in_engage(simulator, "SE-100234")
    assert (order["status"], order["externalStatus"]) == ("Completed", "Returned")
    assert simulator.admin.request_count(RECEIPTS) == 1


def run_once(simulator: RunningSimulator, envelope: dict[str, Any]) -> dict[str, Any]:
    """Runs until the event leaves the order-job wait (settled, or parked for another reason)."""
    while True:
        result = run_event(envelope, HANDLERS[envelope["type"]])
        if result.get("reason") != "order_job":
            return result
        wait_until(lambda: jobs_done(simulator), what="the simulator's order jobs", timeout_s=5)


def test_an_older_delivery_after_the_return_sends_its_receipt_and_leaves_the_order(
    rt: Runtime, simulator: RunningSimulator
) -> None:
    for event_type in ("order.placed", "return.created"):
        assert run(simulator, example(event_type))["outcome"] == "applied"
    result = run(simulator, example("order.delivered"))
    assert (
        result["outcome"] == "applied" and result["detail"] == "order SE-100234 has a newer state: not moved"
    )
    order = order_in_engage(simulator, "SE-100234")
    assert (order["status"], order["externalStatus"]) == ("Completed", "Returned")
    assert simulator.admin.request_count(RECEIPTS) == 2
