"""Every event type has a realistic example in examples/events/<type>.json, and every example is valid."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from schemas import EventType, ReceiptCompleted, parse_event
from schemas.sales import OrderDelivered
from tests.support.event_strategies import EXAMPLES_DIR, example


def test_every_event_type_has_exactly_one_example() -> None:
    # Given the examples folder / Then its files are exactly the event types
    names = {path.stem for path in EXAMPLES_DIR.glob("*.json")}
    assert names == {t.value for t in EventType}


@pytest.mark.parametrize("event_type", [t.value for t in EventType])
def test_example_parses_as_its_type_for_the_default_tenant(event_type: str) -> None:
    # Given the example file
    raw = (EXAMPLES_DIR / f"{event_type}.json").read_bytes()
    # When it is parsed
    event = parse_event(raw)
    # Then it is that type, for tenant "default", and survives a JSON round trip unchanged
    assert event.type == event_type
    assert event.tenant == "default"
    assert parse_event(event.model_dump(mode="json")) == event
    assert parse_event(json.dumps(event.model_dump(mode="json"))) == event


def test_order_delivered_example_shows_a_discount_and_freight_that_add_up() -> None:
    event = parse_event(example("order.delivered"))
    data = event.data
    assert isinstance(data, OrderDelivered)
    assert data.order_discounts and any(line.line_discounts for line in data.lines)
    assert data.freight is not None and data.freight.amount == Decimal("49.00")
    assert data.currency == "SEK"
    assert data.total_gross == data.computed_total == Decimal("1446.00")


def test_receipt_example_is_a_pos_receipt_with_a_used_promotion_and_a_voucher() -> None:
    event = parse_event(example("receipt.completed"))
    data = event.data
    assert isinstance(data, ReceiptCompleted)
    assert event.source == "POS" and event.store == "store-001"
    assert data.used_promotions and data.used_vouchers
    assert data.total_gross == data.computed_total
