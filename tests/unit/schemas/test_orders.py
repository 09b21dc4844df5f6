"""order.placed, order.shipped, order.cancelled: the whole order, totals that add up, delivery, reason."""

from __future__ import annotations

from decimal import Decimal

from schemas import OrderCancelled, OrderShipped, parse_event
from tests.support.event_strategies import example
from tests.unit.schemas.rejection import reasons_for, with_data


def test_shipped_carries_delivery_and_an_action_override() -> None:
    data = parse_event(example("order.shipped")).data
    assert isinstance(data, OrderShipped)
    assert (
        data.delivery.method == "PostNord Ombud" and data.delivery.tracking_number == "00370712345678901234"
    )
    assert data.action == "ConfirmShipment" and data.language == "sv-SE"
    assert data.totals.total_gross == Decimal("1446.00")


def test_shipped_needs_a_delivery_and_only_shipped_has_one() -> None:
    assert reasons_for(with_data("order.shipped", delivery=...)) == [
        ("data.delivery", "required field missing")
    ]
    assert reasons_for(with_data("order.placed", delivery={"method": "DHL"})) == [
        ("data.delivery", "unknown field (extra fields are not allowed)")
    ]


def test_cancelled_carries_a_reason() -> None:
    data = parse_event(example("order.cancelled")).data
    assert isinstance(data, OrderCancelled) and data.reason == "Kunden ångrade köpet"


def test_totals_must_add_up() -> None:
    envelope = example("order.placed")
    envelope["data"]["totals"]["sub_total"] = "1500.00"
    assert reasons_for(envelope) == [("data", "totals.sub_total 1500.00 differs from the lines' sum 1497.00")]
    envelope = example("order.placed")
    envelope["data"]["totals"]["freight"] = "0.00"
    assert reasons_for(envelope) == [
        ("data", "totals.total_gross 1446.00 is not lines - discount + freight = 1397.00")
    ]


def test_order_lines_and_urls_are_checked() -> None:
    envelope = example("order.placed")
    envelope["data"]["lines"][0].update(quantity=0, image_url="ftp://x/y.jpg", name="")
    envelope["data"]["language"] = "SV"
    assert reasons_for(envelope) == [
        ("data.lines.0.name", "String should have at least 1 character"),
        ("data.lines.0.quantity", "must be greater than 0"),
        ("data.lines.0.image_url", "must be an absolute http(s) URL"),
        ("data.language", "must be an ISO 639-1 language such as sv, or a culture such as sv-SE"),
    ]
