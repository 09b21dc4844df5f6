"""What Voyado documents, the relay sends and the simulator enforces (issue 10), over HTTP.

The relay runs on the memory runtime (tests/support/task_harness.py) with a real EngageClient against the
simulator process, as tests/integration/test_order_journey.py does: each event is re-run after each park
until it ends. Each test runs on the defaults as shipped; the documented alternatives (a write answered
only with a link to its job, a failed job answered with an error status) are simulator switches.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mappers.policy import TenantPolicy
from relay import handlers
from relay.context import Handler
from relay.runtime import Runtime
from relay.schedule import Job
from tests.support.processes import wait_until
from tests.support.simulator import RunningSimulator
from tests.support.task_harness import installed, memory_runtime, run_until_final, tenant_for

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "events"
HANDLERS: dict[str, Handler[Any]] = {
    "order.placed": handlers.ORDER,
    "order.shipped": handlers.ORDER,
    "order.delivered": handlers.PURCHASE,
    "receipt.completed": handlers.PURCHASE,
}


def example(event_type: str, **data: Any) -> dict[str, Any]:
    envelope: dict[str, Any] = json.loads((EXAMPLES / f"{event_type}.json").read_text())
    envelope["tenant"] = "acme-se"
    envelope["data"].update(data)
    return envelope


@pytest.fixture
def runtime_for(simulator: RunningSimulator) -> Iterator[Callable[..., Runtime]]:
    """Install a memory runtime for one tenant on the simulator's first key, with the given policy."""
    with ExitStack() as stack:

        def install(policy: TenantPolicy | None = None) -> Runtime:
            tenant = tenant_for(simulator.base_url, simulator.api_key, policy=policy)
            return stack.enter_context(installed(memory_runtime([tenant], retry_ladder_s=(0, 0, 0))))

        yield install


def jobs_done(simulator: RunningSimulator) -> bool:
    return all(job["status"] != "Pending" for job in simulator.admin.state()["order_jobs"])


def run(simulator: RunningSimulator, envelope: dict[str, Any]) -> dict[str, Any]:
    """The event to its end; after each park, wait until the simulator has processed its order jobs."""

    def between(job: Job) -> None:
        wait_until(lambda: jobs_done(simulator), what="the simulator's order jobs", timeout_s=5)

    result, _ = run_until_final(envelope, HANDLERS[envelope["type"]], between=between)
    return result


# --- orders: shipped before placed ------------------------------------------------------------------


@pytest.mark.parametrize(
    "switches",
    [
        {},
        {"order_write_answer": "location", "order_job_failed_status": 422},
        {"order_write_answer": "href", "order_job_failed_status": 404},
    ],
    ids=["defaults", "location-and-422", "href-and-404"],
)
def test_an_order_shipped_before_it_was_placed_is_created_after_its_put_job_fails(
    simulator: RunningSimulator, runtime_for: Callable[..., Runtime], switches: dict[str, Any]
) -> None:
    runtime_for()
    simulator.admin.set_switches(**switches)
    # When order.shipped comes first: Engage has no order SE-100234
    result = run(simulator, example("order.shipped"))
    # Then the PUT was accepted (no synchronous 404), its job failed "Order is missing", and the relay
    # created the order in its shipped state
    assert result["outcome"] == "applied", result
    assert result["calls"] == [
        "contacts.lookup",
        "contacts.create",
        "orders.replace",
        "orders.job",
        "orders.create",
        "orders.job",
    ]
    state = simulator.admin.state()
    assert simulator.admin.request_count("PUT /api/v3/orders/{orderId}", 404) == 0
    failed = [job for job in state["order_jobs"] if job["status"] == "Failed"]
    assert [(job["kind"], job["errors"]) for job in failed] == [("replace", ["Order is missing"])]
    [order] = state["orders"]
    assert (order["order"]["status"], order["order"]["externalStatus"]) == ("InProgress", "Shipped")
    assert order["contactId"] == state["contacts"][0]["id"]
    # And the older order.placed that arrives after it is not sent: the order never goes back in time
    late = run(simulator, example("order.placed"))
    assert late["outcome"] == "superseded"
    assert simulator.admin.request_count("POST /api/v3/orders") == 1


# --- receipts that add up -----------------------------------------------------------------------------


def delivered_with_a_voucher() -> dict[str, Any]:
    """Voyado's order.delivered example (freight 49.00, total 1446.00) paid partly with a 100.00 voucher."""
    envelope = example("order.delivered")
    envelope["data"]["payments"] = [
        {"type": "card", "amount": "1346.00", "description": "Visa"},
        {"type": "voucher", "amount": "100.00", "extra": {"checkNumber": "2511233093766"}},
    ]
    return envelope


def received(simulator: RunningSimulator, unique_receipt_id: str) -> dict[str, Any]:
    """The receipt body Engage stored under `unique_receipt_id`."""
    [stored] = [r for r in simulator.admin.state()["receipts"] if r["uniqueReceiptId"] == unique_receipt_id]
    return dict(stored["receipt"])


@pytest.mark.parametrize(
    ("policy", "freight_line", "voucher_tender"),
    [
        (TenantPolicy(), False, False),
        (TenantPolicy(include_freight=True), True, False),
        (TenantPolicy(vouchers_as="tender"), False, True),
        (TenantPolicy(vouchers_as="tender", include_freight=True), True, True),
    ],
    ids=["defaults", "freight-included", "voucher-tender", "tender-and-freight"],
)
def test_a_delivery_with_a_voucher_and_freight_adds_up_in_engage(
    simulator: RunningSimulator,
    runtime_for: Callable[..., Runtime],
    policy: TenantPolicy,
    freight_line: bool,
    voucher_tender: bool,
) -> None:
    # Given Engage's side checks that the lines and the tenders add up to the total
    simulator.admin.set_switches(receipt_totals_must_add_up=True)
    runtime_for(policy)
    # When the delivery is relayed
    result = run(simulator, delivered_with_a_voucher())
    # Then the receipt was accepted (the switch refuses one that does not add up with 422)
    assert result["outcome"] == "applied", result
    assert simulator.admin.request_count("POST /api/v3/receipts", 422) == 0
    receipt = received(simulator, "order-SE-100234")
    skus = [item["sku"] for item in receipt["items"]]
    tenders = {p["type"]: Decimal(str(p["value"])) for p in receipt["paymentMethods"]}
    total = Decimal(str(receipt["totalGrossPrice"]))
    # freight left out (the default): the total and the tenders are reduced by it too
    assert ("FREIGHT" in skus) is freight_line
    paid = Decimal("1446.00") if freight_line else Decimal("1397.00")
    # the voucher as a discount (the default) is spread over the lines: the total is what was paid in
    # money; as a tender it is one of the paymentMethods. Either way it is listed in usedBonusChecks
    assert total == (paid if voucher_tender else paid - Decimal("100.00"))
    assert sum(tenders.values()) == total
    assert ("voucher" in tenders) is voucher_tender
    discounts = [d for item in receipt["items"] for d in item.get("discounts", [])]
    assert any(d.get("type") == "voucher" for d in discounts) is not voucher_tender
    assert receipt["usedBonusChecks"] == [{"checkNumber": "2511233093766"}]


def test_a_pos_receipt_paid_with_a_voucher_adds_up_as_a_discount(
    simulator: RunningSimulator, runtime_for: Callable[..., Runtime]
) -> None:
    # Given the POS example (843.20 card + a 100.00 voucher), posted where Engage checks the totals
    simulator.admin.set_switches(receipt_totals_must_add_up=True)
    runtime_for(TenantPolicy(store_map={"store-001": "001"}))
    result = run(simulator, example("receipt.completed", customer={"email": "erik@example.se"}))
    assert result["outcome"] == "applied", result
    receipt = received(simulator, "receipt-store-001-kassa2-20261124-0457")
    assert [(p["type"], p["value"]) for p in receipt["paymentMethods"]] == [("card", 843.2)]
    assert Decimal(str(receipt["totalGrossPrice"])) == Decimal("843.20")
    assert receipt["usedBonusChecks"] == [{"checkNumber": "2511233093766"}]


# --- implicit creates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "customer", "country"),
    [
        (TenantPolicy(), {"email": "anna.lindqvist@example.se"}, None),
        (TenantPolicy(default_country="SE"), {"email": "anna.lindqvist@example.se"}, "SE"),
        (
            TenantPolicy(contact_type="Contact", store_countries={"online-se": "NO"}, default_country="SE"),
            {"email": "anna.lindqvist@example.se"},
            "NO",
        ),
        (
            TenantPolicy(contact_type="Contact", store_countries={"online-se": "NO"}),
            {"email": "anna.lindqvist@example.se", "country_code": "FI"},
            "FI",
        ),
    ],
    ids=["defaults", "tenant-default", "store-country", "event-country"],
)
def test_a_buyer_created_from_an_order_has_the_tenants_contact_type_and_a_country(
    simulator: RunningSimulator,
    runtime_for: Callable[..., Runtime],
    policy: TenantPolicy,
    customer: dict[str, Any],
    country: str | None,
) -> None:
    runtime_for(policy)
    # When an order comes for a buyer Engage does not know
    result = run(simulator, example("order.placed", customer=customer))
    assert result["outcome"] == "applied", result
    assert result["calls"][:2] == ["contacts.lookup", "contacts.create"]
    # Then Engage's contact has the tenant's contact type and the country: the event's, else the store's,
    # else the tenant's default (none at all by default: Engage's own default applies)
    [contact] = simulator.admin.state()["contacts"]
    assert contact["contactType"] == policy.contact_type
    assert contact["attributes"].get("countryCode") == country
    # and the order names that contact
    [order] = simulator.admin.state()["orders"]
    assert order["contactId"] == contact["id"]
