"""Vouchers as discounts or tenders, freight in or out: every receipt adds up (items, total, tenders)."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engage.models import ReceiptRequest
from mappers.identity import receipt_contact, receipt_contact_by_key
from mappers.policy import TenantPolicy
from mappers.receipts import receipt_request
from schemas.sales import OrderDeliveredEvent, ReceiptCompletedEvent
from tests.unit.mappers.events import GUID, build

D = Decimal
CENT: Final = D("0.01")
VOYADO_PURCHASE: Final = Path(__file__).parent / "fixtures" / "voyado-register-a-purchase.json"


def policy(vouchers_as: str = "discount", include_freight: bool = False, **more: Any) -> TenantPolicy:
    return TenantPolicy.model_validate(
        {"vouchers_as": vouchers_as, "include_freight": include_freight, **more}
    )


def sale(lines: list[dict[str, Any]], payments: list[dict[str, Any]], **data: Any) -> ReceiptCompletedEvent:
    body = {
        "receipt_id": "r-1",
        "created_at": "2026-11-24T09:43:28+01:00",
        "customer": {"member_number": "1"},
        "currency": "SEK",
        "lines": lines,
        "payments": payments,
        **data,
    }
    return build(ReceiptCompletedEvent, "receipt.completed", body, source="POS")


def article(sku: str, unit_price: str, quantity: str = "1", tax: str = "25", **more: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "article_number": sku,
        "article_name": f"Article {sku}",
        "quantity": quantity,
        "unit_price": unit_price,
        "tax_percent": tax,
        **more,
    }


def pay(kind: str, amount: str, **more: Any) -> dict[str, Any]:
    return {"type": kind, "amount": amount, **more}


def adds_up(receipt: ReceiptRequest) -> None:
    """Items sum exactly to the total; the tenders are within a cent of it; nothing is negative."""
    assert sum((i.gross_paid_price for i in receipt.items), D(0)) == receipt.total_gross_price
    assert abs(sum((p.value for p in receipt.payment_methods), D(0)) - receipt.total_gross_price) <= CENT
    assert receipt.payment_methods, "Engage requires paymentMethods"
    assert all(i.gross_paid_price >= 0 for i in receipt.items)
    assert all(p.value >= 0 for p in receipt.payment_methods)
    wire = receipt.to_wire()
    items = sum(D(str(i["grossPaidPrice"])) for i in wire["items"])
    assert round(items, 2) == D(str(wire["totalGrossPrice"]))


# ----------------------------------------------------------------------------- Voyado's purchase example


def voyado_purchase_event() -> ReceiptCompletedEvent:
    """Voyado's register-a-purchase example (ref §2.8, verbatim in fixtures/) as our event."""
    return build(
        ReceiptCompletedEvent,
        "receipt.completed",
        {
            "receipt_id": "20180906468464468",
            "receipt_number": "468464468",
            "created_at": "2018-09-06T15:55:54+01:00",
            "customer": {"member_number": "28972987289"},
            "store": "Store1337",
            "currency": "NOK",
            "exchange_rate_to_group_currency": "1.0",
            "lines": [
                article(
                    "10015563434",
                    "100.00",
                    quantity="2",
                    article_number="2324234",
                    article_name="Ipsum Wool Jacket",
                    article_group="Jackets",
                )
            ],
            "payments": [
                pay(
                    "bonuscheck",
                    "25.00",
                    description="25 NOK bonus check",
                    extra={"checkNumber": "123456789"},
                ),
                pay("card", "175.00", description="Debit Card"),
            ],
        },
    )


def test_voyados_purchase_example_is_what_vouchers_as_tenders_send() -> None:
    # Given Voyado's own example: a 25 NOK bonus check and 175 by card for a 200 NOK jacket pair
    documented = json.loads(VOYADO_PURCHASE.read_text(encoding="utf-8"))
    event = voyado_purchase_event()
    # When mapped with vouchers as tenders
    contact = receipt_contact_by_key(event.data.customer, TenantPolicy(contact_key="member_number"))
    wire = receipt_request(event, policy("tender", contact_key="member_number"), contact).to_wire()
    # Then every field Voyado shows is what we send (the id carries our `receipt-` prefix)
    for name in ("receiptNumber", "createdDate", "storeExternalId", "currency", "totalGrossPrice", "items"):
        assert wire[name] == documented[name], name
    assert wire["exchangeRateToGroupCurrency"] == documented["exchangeRateToGroupCurrency"]
    assert wire["paymentMethods"] == documented["paymentMethods"]
    assert wire["uniqueReceiptId"] == f"receipt-{documented['uniqueReceiptId']}"
    assert (wire["contact"]["matchKey"], wire["contact"]["matchKeyType"]) == ("28972987289", "memberNumber")
    assert wire["usedBonusChecks"] == [{"checkNumber": "123456789"}]


def test_voyados_purchase_example_with_the_voucher_as_a_discount_adds_up() -> None:
    # When the same purchase is mapped the default way (grossPaidPrice is what was actually paid)
    receipt = receipt_request(voyado_purchase_event(), TenantPolicy(), receipt_contact(GUID))
    wire = receipt.to_wire()
    # Then the bonus check is a discount on the line, the card is the only tender, and it all adds up
    assert wire["items"][0]["grossPaidPrice"] == 175
    assert wire["items"][0]["taxAmount"] == 35
    assert wire["items"][0]["discounts"] == [
        {"value": 25, "type": "bonuscheck", "description": "25 NOK bonus check"}
    ]
    assert wire["totalGrossPrice"] == 175
    assert wire["paymentMethods"] == [{"type": "card", "value": 175, "description": "Debit Card"}]
    assert wire["usedBonusChecks"] == [{"checkNumber": "123456789"}]
    adds_up(receipt)


# ----------------------------------------------------------------------------- freight and vouchers


def test_freight_left_out_is_taken_off_the_tenders_in_proportion() -> None:
    # Given 1397.00 of articles and 49.00 freight, paid 1000.00 by card and 446.00 by gift card
    event = sale(
        [article("1", "1397.00")],
        [pay("card", "1000.00"), pay("giftcard", "446.00")],
        freight={"amount": "49.00"},
    )
    receipt = receipt_request(event, TenantPolicy(), receipt_contact(GUID))
    # Then the freight comes off both tenders, to the cent, and the receipt adds up
    assert [p.value for p in receipt.payment_methods] == [D("966.11"), D("430.89")]
    assert receipt.total_gross_price == D("1397.00")
    adds_up(receipt)


@pytest.mark.parametrize(
    ("vouchers_as", "include_freight", "items", "tenders"),
    [
        # the voucher pays the 50.00 article and 30.00 of the 49.00 freight; the card the other 19.00
        ("discount", True, ["0.00", "19.00"], [("card", "19.00")]),
        ("discount", False, ["0.00"], [("card", "0.00")]),  # nothing paid: one zero tender remains
        ("tender", True, ["50.00", "49.00"], [("voucher", "80.00"), ("card", "19.00")]),
        ("tender", False, ["50.00"], [("voucher", "50.00")]),  # freight off the money tender first
    ],
)
def test_a_voucher_that_also_paid_the_shipping(
    vouchers_as: str, include_freight: bool, items: list[str], tenders: list[tuple[str, str]]
) -> None:
    event = sale(
        [article("1", "50.00")],
        [pay("voucher", "80.00", extra={"checkNumber": "V-1"}), pay("card", "19.00")],
        freight={"amount": "49.00", "tax_percent": "25"},
    )
    receipt = receipt_request(event, policy(vouchers_as, include_freight), receipt_contact(GUID))
    assert [i.gross_paid_price for i in receipt.items] == [D(x) for x in items]
    assert [(p.type, p.value) for p in receipt.payment_methods] == [(t, D(v)) for t, v in tenders]
    assert receipt.to_wire()["usedBonusChecks"] == [{"checkNumber": "V-1"}]
    adds_up(receipt)
    if vouchers_as == "discount" and include_freight:
        freight = receipt.items[1]
        assert freight.discounts is not None and [d.value for d in freight.discounts] == [D("30.00")]
        assert freight.tax_amount == D("3.80")  # VAT inside the 19.00 paid


def test_a_receipt_paid_wholly_by_voucher_keeps_one_zero_tender() -> None:
    event = sale([article("1", "100.00")], [pay("bonuscheck", "100.00", extra={"checkNumber": "B-7"})])
    receipt = receipt_request(event, TenantPolicy(), receipt_contact(GUID))
    assert receipt.total_gross_price == 0
    assert [(p.type, p.value) for p in receipt.payment_methods] == [("bonuscheck", D(0))]
    assert receipt.items[0].discounts is not None
    assert receipt.items[0].discounts[0].description == "Voucher B-7"
    adds_up(receipt)


@pytest.mark.parametrize(
    ("kind", "is_voucher"), [("RewardVoucher", True), ("voucher", False), ("giftcard", False)]
)
def test_the_tenant_names_its_voucher_tender_types(kind: str, is_voucher: bool) -> None:
    # Given a POS whose reward voucher tender is called "rewardvoucher"
    event = sale([article("1", "100.00")], [pay(kind, "40.00"), pay("card", "60.00")])
    receipt = receipt_request(event, policy(voucher_payment_types=["rewardvoucher"]), receipt_contact(GUID))
    # Then only that type is a discount; a gift card (bought with money) is always a tender
    assert (receipt.total_gross_price == D("60.00")) is is_voucher
    assert ([p.type for p in receipt.payment_methods] == ["card"]) is is_voucher
    adds_up(receipt)


def test_vouchers_and_order_discounts_share_the_lines() -> None:
    # Given two lines, a 10.00 order discount and a 20.00 voucher
    event = sale(
        [article("1", "60.00", tax_amount="12.00"), article("2", "40.00", tax="12")],
        [pay("voucher", "20.00", description="Bonus 20"), pay("swish", "70.00")],
        order_discounts=[{"amount": "10.00", "description": "Member day"}],
    )
    receipt = receipt_request(event, TenantPolicy(), receipt_contact(GUID))
    # Then both are spread in proportion, each listed on each line, and VAT follows the price paid
    assert [i.gross_paid_price for i in receipt.items] == [D("42.00"), D("28.00")]
    assert [[(d.description, d.value) for d in i.discounts or []] for i in receipt.items] == [
        [("Member day", D("6.00")), ("Bonus 20", D("12.00"))],
        [("Member day", D("4.00")), ("Bonus 20", D("8.00"))],
    ]
    assert [i.tax_amount for i in receipt.items] == [D("8.40"), D("3.00")]
    adds_up(receipt)


def test_vouchers_as_tenders_leave_the_prices_alone() -> None:
    event = sale(
        [article("1", "100.00", tax_amount="20.00")], [pay("voucher", "20.00"), pay("card", "80.00")]
    )
    receipt = receipt_request(event, policy("tender"), receipt_contact(GUID))
    assert (receipt.items[0].gross_paid_price, receipt.items[0].tax_amount) == (D("100.00"), D("20.00"))
    assert [p.value for p in receipt.payment_methods] == [D("20.00"), D("80.00")]


# ----------------------------------------------------------------------------- properties

cents = st.integers(min_value=0, max_value=200_000)


def _split(draw: st.DrawFn, total: int, parts: int) -> list[int]:
    """`total` cents in at most `parts` positive parts (none for nothing)."""
    if total == 0:
        return []
    parts = min(parts, total)
    if parts == 1:
        return [total]
    cuts = draw(st.lists(st.integers(1, total - 1), min_size=parts - 1, max_size=parts - 1, unique=True))
    return [high - low for low, high in itertools.pairwise([0, *sorted(cuts), total])]


@st.composite
def sales(draw: st.DrawFn) -> dict[str, Any]:
    lines, lines_net = [], 0
    for index in range(draw(st.integers(1, 6))):
        quantity = draw(st.integers(1, 4))
        unit = draw(cents)
        gross = unit * quantity
        off = draw(st.integers(0, gross))
        lines_net += gross - off
        discounts = [{"amount": str(D(off) / 100)}] if off else []
        tax = draw(st.sampled_from(["0", "6", "12", "25"]))
        lines.append(article(str(index), str(D(unit) / 100), str(quantity), tax, line_discounts=discounts))
    order_off = draw(st.integers(0, lines_net))
    freight = draw(st.sampled_from([0, 0, 4900, draw(cents)]))
    owed = lines_net - order_off + freight
    # vouchers from none to all of it, often more than the articles (paying part of the shipping too)
    vouchers = draw(st.integers(0, owed) | st.integers(max(0, owed - freight), owed))
    # the money tenders may be a cent off what was owed (the schemas' tolerance), when a tender can take it
    money = owed - vouchers
    money += draw(st.sampled_from([0, 0, 1, -1])) if money > 1 else 0
    voucher_kinds = st.sampled_from(["voucher", "bonuscheck", "Voucher"])
    money_kinds = st.sampled_from(["card", "swish", "giftcard"])
    payments = [
        pay(draw(voucher_kinds), str(D(c) / 100), extra={"checkNumber": f"V{i}"})
        for i, c in enumerate(_split(draw, vouchers, draw(st.integers(1, 2))))
    ]
    payments += [
        pay(draw(money_kinds), str(D(c) / 100)) for c in _split(draw, money, draw(st.integers(1, 3)))
    ]
    if not payments:  # nothing owed: a producer still reports a tender, a cent within the tolerance
        payments = [pay("card", "0.01")]
    payments = list(draw(st.permutations(payments)))
    data: dict[str, Any] = {"lines": lines, "payments": payments}
    if order_off:
        data["order_discounts"] = [{"amount": str(D(order_off) / 100)}]
    if freight or draw(st.booleans()):
        data["freight"] = {"amount": str(D(freight) / 100)}
    return data


@settings(max_examples=300, deadline=None)
@given(sales(), st.sampled_from(["discount", "tender"]), st.booleans(), st.booleans())
def test_every_receipt_adds_up_under_every_voucher_and_freight_rule(
    data: dict[str, Any], vouchers_as: str, include_freight: bool, web: bool
) -> None:
    # Given any sale whose tenders (vouchers among them) add up to what was owed, from either channel
    if web:
        body = {"order_id": "o-1", "created_at": "2026-11-25T20:31:17+01:00", "customer": {"email": "a@b.se"}}
        event: OrderDeliveredEvent | ReceiptCompletedEvent = build(
            OrderDeliveredEvent, "order.delivered", {**body, "currency": "SEK", **data}
        )
    else:
        event = sale(
            data["lines"],
            data["payments"],
            **{k: v for k, v in data.items() if k not in ("lines", "payments")},
        )
    rules = policy(vouchers_as, include_freight)
    # When mapped under the tenant's rules
    receipt = receipt_request(event, rules, receipt_contact(GUID))
    # Then items, total and tenders add up, nothing is negative
    adds_up(receipt)
    # and the total is what the customer paid in money (vouchers as discounts) or in all (as tenders),
    # less the freight when it is left out
    freight = event.data.freight.amount if event.data.freight else D(0)
    owed = event.data.computed_total - (D(0) if include_freight else freight)
    vouchers = sum((p.amount for p in event.data.payments if rules.is_voucher_payment(p.type)), D(0))
    if vouchers_as == "tender":
        assert receipt.total_gross_price == owed
    else:
        assert receipt.total_gross_price == max(D(0), owed - vouchers)
        assert not any(rules.is_voucher_payment(p.type) for p in receipt.payment_methods if p.value > 0)
