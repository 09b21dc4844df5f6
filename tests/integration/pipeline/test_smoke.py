"""The main job end to end: events on the stream, real ingest and worker processes, Engage calls out."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.integration.pipeline.conftest import TENANT_A
from tests.support.simulator import RunningSimulator
from tests.support.stack import RelayStack

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "events"


def example(event_type: str, **changes: Any) -> dict[str, Any]:
    envelope: dict[str, Any] = json.loads((EXAMPLES / f"{event_type}.json").read_text())
    envelope.update(changes)
    return envelope


def test_a_new_customer_and_their_order_reach_engage(stack: RelayStack, simulator: RunningSimulator) -> None:
    # Given a customer sign-up and a delivered order for the same e-mail, for tenant acme-se
    created = example("customer.created", tenant=TENANT_A)
    delivered = example("order.delivered", tenant=TENANT_A)
    # When both are published
    stack.publish([created, delivered])
    outcomes = stack.wait_for_outcomes([f"{TENANT_A}:{created['id']}", f"{TENANT_A}:{delivered['id']}"])
    # Then both are applied to one contact
    assert {o.outcome for o in outcomes.values()} == {"applied"}
    state = simulator.admin.state()
    assert len(state["contacts"]) == 1
    contact = state["contacts"][0]
    assert contact["attributes"]["email"] == "anna.lindqvist@example.se"
    assert contact["attributes"]["firstName"] == "Anna"
    assert {o.contact_id for o in outcomes.values()} == {contact["id"]}
    # and the receipt totals are exact: freight left out, discounts spread over the lines
    assert len(state["receipts"]) == 1
    assert state["receipts"][0]["contactId"] == contact["id"]
    receipt = state["receipts"][0]["receipt"]
    items = receipt["items"]
    assert sum(Decimal(str(i["grossPaidPrice"])) for i in items) == Decimal(str(receipt["totalGrossPrice"]))
    assert Decimal(str(receipt["totalGrossPrice"])) == Decimal("1397.00")
