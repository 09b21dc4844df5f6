"""Which events share an order's sequence, and when one behind older events looks again."""

from __future__ import annotations

import pytest

from relay.sequence import SEQUENCE_DUE_MARGIN_S, SEQUENCE_WAIT_S, Ahead, sequence_of
from schemas import parse_event
from tests.unit.relay.test_handlers_twins import example


@pytest.mark.parametrize(
    ("event_type", "order_id"),
    [
        ("order.placed", "SE-100234"),
        ("order.shipped", "SE-100234"),
        ("order.cancelled", "SE-100301"),
        ("order.delivered", "SE-100234"),
        ("return.created", "SE-100234"),
    ],
)
def test_every_event_that_writes_an_order_is_in_that_orders_sequence(event_type: str, order_id: str) -> None:
    assert sequence_of(parse_event(example(event_type))) == f"order:{order_id}"


@pytest.mark.parametrize("event_type", ["customer.created", "receipt.completed"])
def test_events_that_write_no_order_are_in_no_sequence(event_type: str) -> None:
    assert sequence_of(parse_event(example(event_type))) is None


def test_a_return_naming_no_order_is_in_no_sequence() -> None:
    envelope = example("return.created")
    envelope["data"].pop("original_order_id")
    envelope["data"].pop("order", None)
    assert sequence_of(parse_event(envelope)) is None


def test_behind_a_running_event_it_looks_again_soon_and_behind_a_waiting_one_once_that_ran() -> None:
    assert Ahead(1, 1, None).look_again_at(100.0) == 100.0 + SEQUENCE_WAIT_S
    assert Ahead(2, 1, 130.0).look_again_at(100.0) == 100.0 + SEQUENCE_WAIT_S
    assert Ahead(1, 0, 130.0).look_again_at(100.0) == 130.0 + SEQUENCE_DUE_MARGIN_S
    assert Ahead(1, 0, 90.0).look_again_at(100.0) == 100.0 + SEQUENCE_WAIT_S
