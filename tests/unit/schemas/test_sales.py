"""order.delivered, receipt.completed, return.created: lines, discounts, freight, payments, totals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from schemas import OrderDelivered, ReceiptCompleted, ReturnCreated, parse_event
from tests.support.event_strategies import example
from tests.unit.schemas.rejection import reasons_for


def test_order_total_is_lines_after_discounts_minus_order_discounts_plus_freight() -> None:
    # Given the example: 1499 - 300 line discount + 2 x 149, minus 100 order discount, plus 49 freight
    data = parse_event(example("order.delivered")).data
    assert isinstance(data, OrderDelivered)
    # Then each line knows its net, and the stated total matches
    assert [line.net for line in data.lines] == [Decimal("1199.00"), Decimal("298.00")]
    assert data.computed_total == Decimal("1446.00") == data.total_gross


def test_total_within_one_cent_is_accepted() -> None:
    envelope = example("order.delivered")
    envelope["data"]["total_gross"] = "1446.01"
    data = parse_event(envelope).data
    assert isinstance(data, OrderDelivered) and data.total_gross == Decimal("1446.01")


@pytest.mark.parametrize("stated", ["1446.02", "1397.00", "0.00"])
def test_total_off_by_more_than_one_cent_is_a_reason(stated: str) -> None:
    envelope = example("order.delivered")
    envelope["data"]["total_gross"] = stated
    assert reasons_for(envelope) == [
        ("data", f"total_gross {stated} differs from the computed total 1446.00 by more than 0.01")
    ]


def test_total_is_optional() -> None:
    envelope = example("order.delivered")
    del envelope["data"]["total_gross"]
    data = parse_event(envelope).data
    assert isinstance(data, OrderDelivered) and data.total_gross is None


def test_money_is_normalised_to_two_decimals_from_numbers_or_strings() -> None:
    envelope = example("receipt.completed")
    envelope["data"]["lines"][0]["unit_price"] = 899
    envelope["data"]["lines"][1]["unit_price"] = 149.0
    data = parse_event(envelope).data
    assert isinstance(data, ReceiptCompleted)
    assert [str(line.unit_price) for line in data.lines] == ["899.00", "149.00"]


def test_discounts_cannot_exceed_what_they_discount() -> None:
    envelope = example("order.delivered")
    envelope["data"]["lines"][0]["line_discounts"][0]["amount"] = "2000"
    assert reasons_for(envelope) == [
        ("data.lines.0", "line_discounts (2000.00) exceed the line total (1499.00)")
    ]
    envelope = example("order.delivered")
    envelope["data"]["order_discounts"][0]["amount"] = "5000"
    del envelope["data"]["total_gross"]
    assert reasons_for(envelope) == [("data", "order_discounts (5000.00) exceed the lines' total (1497.00)")]


def test_decimals_bounds_and_timestamps_are_each_reported() -> None:
    envelope = example("order.delivered")
    envelope["data"]["lines"][0].update(unit_price="10.005", tax_percent="125", quantity="1.0005")
    envelope["data"]["exchange_rate_to_group_currency"] = "0.123456"
    envelope["data"]["created_at"] = 1_700_000_000
    assert reasons_for(envelope) == [
        ("data.created_at", "must be an ISO 8601 date-time string with a UTC offset"),
        ("data.exchange_rate_to_group_currency", "must have at most 4 decimals"),
        ("data.lines.0.quantity", "must have at most 3 decimals"),
        ("data.lines.0.unit_price", "must have at most 2 decimals"),
        ("data.lines.0.tax_percent", "must be at most 100"),
    ]


def test_amounts_are_bounded_finite_numbers() -> None:
    envelope = example("receipt.completed")
    envelope["data"]["lines"][0]["unit_price"] = "1e10"
    envelope["data"]["lines"][1]["unit_price"] = -5
    envelope["data"]["payments"][0]["amount"] = True
    envelope["data"]["payments"][1]["amount"] = "NaN"
    assert reasons_for(envelope) == [
        ("data.lines.0.unit_price", "must be at most 1000000000"),
        ("data.lines.1.unit_price", "must be at least 0"),
        ("data.payments.0.amount", "must be a number, not a boolean"),
        ("data.payments.1.amount", "Input should be a finite number"),
    ]


def test_a_used_voucher_names_exactly_one_number() -> None:
    envelope = example("receipt.completed")
    envelope["data"]["used_vouchers"] = [
        {},
        {"voucher_number": "1", "check_number": "2"},
        {"voucher_number": "3"},
    ]
    assert reasons_for(envelope) == [
        ("data.used_vouchers.0", "give exactly one of voucher_number or check_number"),
        ("data.used_vouchers.1", "give exactly one of voucher_number or check_number"),
    ]


def test_a_sale_needs_lines_payments_currency_and_its_own_id() -> None:
    envelope = example("receipt.completed")
    envelope["data"]["lines"] = []
    envelope["data"]["payments"] = []
    del envelope["data"]["currency"]
    envelope["data"]["order_id"] = envelope["data"].pop("receipt_id")
    assert reasons_for(envelope) == [
        ("data.currency", "required field missing"),
        ("data.lines", "must have at least 1 item"),
        ("data.payments", "must have at least 1 item"),
        ("data.receipt_id", "required field missing"),
        ("data.order_id", "unknown field (extra fields are not allowed)"),
    ]


def test_return_has_positive_quantities_and_a_positive_refund_total() -> None:
    data = parse_event(example("return.created")).data
    assert isinstance(data, ReturnCreated)
    assert data.lines[0].quantity == 1 and data.computed_total == Decimal("149.00") == data.total_gross
    assert data.original_order_id == "SE-100234" and data.refunds[0].amount == Decimal("149.00")


def test_return_refuses_negative_quantities_and_totals() -> None:
    envelope = example("return.created")
    envelope["data"]["lines"][0]["quantity"] = -1
    envelope["data"]["refunds"] = []
    envelope["data"]["total_gross"] = "-149.00"
    assert reasons_for(envelope) == [
        ("data.lines.0.quantity", "must be greater than 0"),
        ("data.refunds", "must have at least 1 item"),
        ("data.total_gross", "must be at least 0"),
    ]


def test_return_total_must_match_its_lines() -> None:
    envelope = example("return.created")
    envelope["data"]["total_gross"] = "150.00"
    assert reasons_for(envelope) == [
        ("data", "total_gross 150.00 differs from the computed total 149.00 by more than 0.01")
    ]


@pytest.mark.parametrize("amount", ["1446.01", "1445.99"])
def test_payments_within_one_cent_of_the_total_are_accepted(amount: str) -> None:
    envelope = example("order.delivered")
    envelope["data"]["payments"][0]["amount"] = amount
    assert isinstance(parse_event(envelope).data, OrderDelivered)


def test_payments_must_add_up_to_the_total() -> None:
    # Given the POS example (voucher 100.00 + card 843.20 = 943.20) with the card amount short by 0.02
    envelope = example("receipt.completed")
    envelope["data"]["payments"][1]["amount"] = "843.18"
    del envelope["data"]["total_gross"]
    # Then the receipt could not add up in Engage, and is refused
    assert reasons_for(envelope) == [
        ("data", "payments add up to 943.18, not the computed total 943.20 (within 0.01)")
    ]


def test_refunds_must_add_up_to_the_returned_total() -> None:
    envelope = example("return.created")
    envelope["data"]["refunds"][0]["amount"] = "100.00"
    assert reasons_for(envelope) == [
        ("data", "refunds add up to 100.00, not the computed total 149.00 (within 0.01)")
    ]


def test_a_delivery_id_names_one_delivery_of_an_order_delivered_in_parts() -> None:
    envelope = example("order.delivered")
    assert isinstance(data := parse_event(envelope).data, OrderDelivered) and data.delivery_id is None
    envelope["data"]["delivery_id"] = "2"
    assert isinstance(data := parse_event(envelope).data, OrderDelivered) and data.delivery_id == "2"
    envelope["data"]["delivery_id"] = " 2"
    assert [loc for loc, _ in reasons_for(envelope)] == ["data.delivery_id"]
    # and only an e-com order has deliveries
    pos = example("receipt.completed")
    pos["data"]["delivery_id"] = "2"
    assert reasons_for(pos) == [("data.delivery_id", "unknown field (extra fields are not allowed)")]


def test_a_buyer_may_carry_a_country_code_but_not_as_its_only_field() -> None:
    envelope = example("receipt.completed")
    envelope["data"]["customer"]["country_code"] = "NO"
    data = parse_event(envelope).data
    assert isinstance(data, ReceiptCompleted) and data.customer.country_code == "NO"
    envelope["data"]["customer"]["country_code"] = "se"
    assert [loc for loc, _ in reasons_for(envelope)] == ["data.customer.country_code"]
    envelope["data"]["customer"] = {"country_code": "SE"}
    [(loc, msg)] = reasons_for(envelope)
    assert loc == "data.customer" and msg.startswith("at least one identifier is required")


def test_a_delivery_or_return_may_say_what_the_order_now_is() -> None:
    # Given the order's new state only, or the whole order (lines and totals that add up)
    state = {"status": "Completed", "external_status": "Delivered"}
    whole = {
        "lines": [{"sku": "A-1", "name": "Mössa", "quantity": 2, "unit_price": "100.00"}],
        "totals": {"sub_total": "200.00", "discount": "20.00", "total_gross": "180.00"},
        "created_at": "2026-11-25T20:31:17+01:00",
        "action": "ConfirmDelivery",
    }
    for event_type in ("order.delivered", "return.created"):
        for order in (state, whole):
            envelope = example(event_type)
            envelope["data"]["order"] = order
            data = parse_event(envelope).data
            assert isinstance(data, OrderDelivered | ReturnCreated) and data.order is not None
            assert data.order.whole == (order is whole)


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        (
            {"lines": [{"sku": "A-1", "name": "Mössa", "quantity": 1, "unit_price": "100.00"}]},
            "give lines and totals together (the whole order), or neither (its state only)",
        ),
        (
            {
                "lines": [{"sku": "A-1", "name": "Mössa", "quantity": 1, "unit_price": "100.00"}],
                "totals": {"total_gross": "90.00"},
            },
            "totals.total_gross 90.00 is not lines - discount + freight = 100.00",
        ),
        (
            {"status": "Completed", "action": "ConfirmDelivery"},
            "action belong to the whole order: give lines and totals too",
        ),
    ],
)
def test_the_order_after_a_delivery_is_its_state_or_the_whole_order_adding_up(
    order: dict[str, object], reason: str
) -> None:
    envelope = example("order.delivered")
    envelope["data"]["order"] = order
    assert reasons_for(envelope) == [("data.order", reason)]


def test_a_returns_order_needs_the_order_id() -> None:
    envelope = example("return.created")
    envelope["data"]["original_order_id"] = None
    envelope["data"]["order"] = {"external_status": "Returned"}
    assert reasons_for(envelope) == [("data", "order needs original_order_id: the order it describes")]
    # and a POS receipt has no order
    pos = example("receipt.completed")
    pos["data"]["order"] = {"external_status": "Delivered"}
    assert reasons_for(pos) == [("data.order", "unknown field (extra fields are not allowed)")]
