"""order.delivered / receipt.completed -> purchase receipts: discounts, tax, freight, currency, ids."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mappers.identity import receipt_contact
from mappers.policy import TenantPolicy
from mappers.receipts import receipt_request, unique_receipt_id
from schemas.sales import OrderDeliveredEvent, ReceiptCompletedEvent
from tests.unit.mappers.events import GUID, build, example

D = Decimal
CONTACT = receipt_contact(GUID)


def line(sku: str, quantity: str, unit_price: str, tax: str = "25", **extra: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "article_number": f"A-{sku}",
        "article_name": f"Article {sku}",
        "quantity": quantity,
        "unit_price": unit_price,
        "tax_percent": tax,
        **extra,
    }


def order(lines: list[dict[str, Any]], paid: str, **data: Any) -> OrderDeliveredEvent:
    body = {
        "order_id": "1001",
        "created_at": "2026-11-25T20:31:17+01:00",
        "customer": {"email": "a@b.se"},
        "currency": "SEK",
        "lines": lines,
        "payments": [{"type": "card", "amount": paid}],
        **data,
    }
    return build(OrderDeliveredEvent, "order.delivered", body, store="online-se")


def pos(receipt_id: str = "1001") -> ReceiptCompletedEvent:
    body = {
        "receipt_id": receipt_id,
        "created_at": "2026-11-24T09:43:28+01:00",
        "customer": {"member_number": "1"},
        "currency": "SEK",
        "lines": [line("1", "1", "10.00")],
        "payments": [{"type": "cash", "amount": "10.00"}],
    }
    return build(ReceiptCompletedEvent, "receipt.completed", body, source="POS")


def test_guide_basket_spreads_the_order_discount_to_the_cent() -> None:
    # Given 3 lines 99.90 / 49.95 / 0.15 and a 10.00 order discount
    event = order(
        [line("1", "1", "99.90"), line("2", "1", "49.95"), line("3", "1", "0.15")],
        "140.00",
        order_discounts=[{"amount": "10.00", "description": "Welcome"}],
    )
    # When mapped
    receipt = receipt_request(event, TenantPolicy(), CONTACT)
    # Then each item pays its line less its share, and the total is exactly the sum
    assert [i.gross_paid_price for i in receipt.items] == [D("93.24"), D("46.62"), D("0.14")]
    assert [[d.value for d in i.discounts or []] for i in receipt.items] == [
        [D("6.66")],
        [D("3.33")],
        [D("0.01")],
    ]
    assert receipt.total_gross_price == D("140.00")
    wire = receipt.to_wire()
    assert wire["totalGrossPrice"] == 140
    assert wire["items"][0]["discounts"] == [{"value": 6.66, "description": "Welcome"}]


def test_line_discounts_are_listed_and_taken_off_the_paid_price() -> None:
    event = order(
        [
            line(
                "1",
                "2",
                "149.00",
                line_discounts=[{"amount": "30.00", "description": "2 for 1", "type": "campaign"}],
            )
        ],
        "268.00",
    )
    item = receipt_request(event, TenantPolicy(), CONTACT).items[0]
    assert item.gross_paid_price == D("268.00")
    assert item.tax_amount == D("53.60")  # 268 * 25 / 125
    assert item.discounts is not None
    assert item.discounts[0].to_wire() == {"value": 30, "type": "campaign", "description": "2 for 1"}


def test_producer_tax_is_kept_unless_an_order_discount_changed_the_price() -> None:
    # Given a producer tax on both lines and an order discount that only the first line can take
    event = order(
        [line("1", "1", "100.00", tax_amount="20.00"), line("2", "1", "0.00", tax_amount="0.00")],
        "90.00",
        order_discounts=[{"amount": "10.00"}],
    )
    items = receipt_request(event, TenantPolicy(), CONTACT).items
    # Then the discounted line's tax is recomputed on what was paid, the other keeps the producer's
    assert items[0].tax_amount == D("18.00")
    assert items[1].tax_amount == D("0.00")
    assert items[0].discounts is not None and items[0].discounts[0].description == "Order discount"
    assert items[1].discounts is None


@pytest.mark.parametrize(
    ("include_freight", "expected_items", "expected_total"), [(False, 1, D("100.00")), (True, 2, D("149.00"))]
)
def test_freight_is_left_out_unless_the_tenant_includes_it(
    include_freight: bool, expected_items: int, expected_total: Decimal
) -> None:
    event = order([line("1", "1", "100.00", tax="12")], "149.00", freight={"amount": "49.00"})
    policy = TenantPolicy(include_freight=include_freight, freight_sku="SHIP", freight_article_name="Frakt")
    receipt = receipt_request(event, policy, CONTACT)
    assert len(receipt.items) == expected_items
    assert receipt.total_gross_price == expected_total
    # the tender is what was paid, less the freight when the freight is left out: the receipt adds up
    assert receipt.payment_methods[0].value == expected_total
    if include_freight:
        freight = receipt.items[-1]
        assert (freight.sku, freight.article_number, freight.article_name) == ("SHIP", "SHIP", "Frakt")
        # no freight VAT given: the basket's main rate
        assert (freight.tax_percent, freight.tax_amount, freight.quantity) == (D("12"), D("5.25"), D(1))


@pytest.mark.parametrize(
    ("currency", "event_rate", "tenant_rates", "expected"),
    [
        ("SEK", None, {"SEK": D("1")}, None),  # the group currency: never a rate
        ("SEK", "1.0000", {}, None),
        ("NOK", "0.9812", {"NOK": D("0.95")}, D("0.9812")),  # the event's rate wins
        ("NOK", None, {"NOK": D("0.95")}, D("0.95")),  # else the tenant's
        ("EUR", None, {"NOK": D("0.95")}, None),  # else none: Engage converts itself
    ],
)
def test_exchange_rate_only_for_a_foreign_currency(
    currency: str, event_rate: str | None, tenant_rates: dict[str, Decimal], expected: Decimal | None
) -> None:
    extra = {"exchange_rate_to_group_currency": event_rate} if event_rate else {}
    event = order([line("1", "1", "10.00")], "10.00", currency=currency, **extra)
    receipt = receipt_request(event, TenantPolicy(group_currency="SEK", exchange_rates=tenant_rates), CONTACT)
    assert receipt.currency == currency
    assert receipt.exchange_rate_to_group_currency == expected
    assert ("exchangeRateToGroupCurrency" in receipt.to_wire()) is (expected is not None)


@pytest.mark.parametrize(
    ("data_store", "envelope_store", "expected"),
    [("store-9", "online-se", "ENGAGE-9"), (None, "online-se", "ECOM-SE"), (None, None, "ECOM-DEFAULT")],
)
def test_store_is_the_sales_own_then_the_envelopes_then_the_default_mapped(
    data_store: str | None, envelope_store: str | None, expected: str
) -> None:
    policy = TenantPolicy(
        default_store="web", store_map={"store-9": "ENGAGE-9", "online-se": "ECOM-SE", "web": "ECOM-DEFAULT"}
    )
    raw = example("order.delivered")
    raw["store"] = envelope_store
    raw["data"]["store"] = data_store
    receipt = receipt_request(OrderDeliveredEvent.model_validate(raw), policy, CONTACT)
    assert receipt.store_external_id == expected


def test_created_date_keeps_the_events_local_time_and_offset() -> None:
    wire = receipt_request(order([line("1", "1", "10.00")], "10.00"), TenantPolicy(), CONTACT).to_wire()
    assert wire["createdDate"] == "2026-11-25T20:31:17+01:00"


def test_webshop_order_and_pos_receipt_with_the_same_number_never_collide() -> None:
    web, shop = order([line("1", "1", "10.00")], "10.00"), pos("1001")
    assert unique_receipt_id(web) == "order-1001"
    assert unique_receipt_id(shop) == "receipt-1001"
    # and the id depends on nothing configurable
    assert (
        receipt_request(web, TenantPolicy(source="X", default_store="y"), CONTACT).unique_receipt_id
        == "order-1001"
    )


def test_example_order_delivered() -> None:
    # Given the order.delivered example (line discount, order discount, freight 49, paid 1446)
    receipt = receipt_request(
        OrderDeliveredEvent.model_validate(example("order.delivered")), TenantPolicy(), CONTACT
    )
    wire = receipt.to_wire()
    # Then freight is out by default and the 100.00 order discount is spread over 1199.00 and 298.00
    assert [i.gross_paid_price for i in receipt.items] == [D("1118.91"), D("278.09")]
    assert wire["totalGrossPrice"] == 1397
    assert wire["uniqueReceiptId"] == "order-SE-100234"
    assert wire["receiptNumber"] == "100234"
    assert wire["storeExternalId"] == "online-se"
    assert wire["contact"] == {"matchKey": GUID, "matchKeyType": "contactId"}
    assert wire["usedPromotions"] == [{"promotionId": "NEWS100", "couponId": "NEWS100-8F2K"}]
    assert wire["paymentMethods"] == [
        {
            "type": "card",
            "value": 1397,  # 1446 paid, less the 49 freight left out
            "description": "Visa",
            "extraData": [{"name": "psp", "value": "adyen"}],
        }
    ]
    assert wire["items"][0]["extraData"] == [
        {"name": "size", "value": "M"},
        {"name": "color", "value": "Svart"},
    ]
    assert [d["value"] for d in wire["items"][0]["discounts"]] == [300, 80.09]
    assert "exchangeRateToGroupCurrency" not in wire
    # and with freight included, the total is what was paid
    with_freight = receipt_request(
        OrderDeliveredEvent.model_validate(example("order.delivered")),
        TenantPolicy(include_freight=True),
        CONTACT,
    )
    assert (
        with_freight.total_gross_price == sum(p.value for p in with_freight.payment_methods) == D("1446.00")
    )


def test_example_receipt_completed_with_vouchers_as_tenders() -> None:
    receipt = receipt_request(
        ReceiptCompletedEvent.model_validate(example("receipt.completed")),
        TenantPolicy(store_map={"store-001": "001"}, vouchers_as="tender"),
        CONTACT,
    )
    wire = receipt.to_wire()
    assert wire["uniqueReceiptId"] == "receipt-store-001-kassa2-20261124-0457"
    assert wire["storeExternalId"] == "001"
    assert wire["totalGrossPrice"] == 943.2
    assert sum(p.value for p in receipt.payment_methods) == receipt.total_gross_price
    assert [i.tax_amount for i in receipt.items] == [D("161.82"), D("26.82")]
    # the voucher payment keeps its checkNumber and the voucher is listed once
    assert wire["paymentMethods"][0]["extraData"] == [{"name": "checkNumber", "value": "2511233093766"}]
    assert wire["usedBonusChecks"] == [{"checkNumber": "2511233093766"}]
    assert wire["createdDate"] == "2026-11-24T09:43:28+01:00"


def test_example_receipt_completed_sends_the_voucher_as_a_discount_by_default() -> None:
    # Given the POS example: 809.10 + 134.10 after the welcome offer, paid by a 100.00 voucher and 843.20 card
    receipt = receipt_request(
        ReceiptCompletedEvent.model_validate(example("receipt.completed")), TenantPolicy(), CONTACT
    )
    wire = receipt.to_wire()
    # Then the voucher is spread over the lines like a discount, and grossPaidPrice is what the card paid
    assert [i.gross_paid_price for i in receipt.items] == [D("723.32"), D("119.88")]
    assert [d["value"] for d in wire["items"][0]["discounts"]] == [89.9, 85.78]
    assert wire["items"][1]["discounts"][1] == {
        "value": 14.22,
        "type": "voucher",
        "description": "Bonuscheck 100 kr",
    }
    # the producer's tax was computed before the voucher: recomputed on the price paid
    assert [i.tax_amount for i in receipt.items] == [D("144.66"), D("23.98")]
    assert wire["totalGrossPrice"] == 843.2
    assert wire["paymentMethods"] == [{"type": "card", "value": 843.2, "description": "Mastercard"}]
    # and the voucher is still listed, once
    assert wire["usedBonusChecks"] == [{"checkNumber": "2511233093766"}]


@pytest.mark.parametrize("vouchers_as", ["discount", "tender"])
def test_a_voucher_payment_alone_names_its_bonus_check(vouchers_as: str) -> None:
    raw = example("receipt.completed")
    raw["data"]["used_vouchers"] = []
    policy = TenantPolicy.model_validate({"vouchers_as": vouchers_as})
    receipt = receipt_request(ReceiptCompletedEvent.model_validate(raw), policy, CONTACT)
    assert receipt.to_wire()["usedBonusChecks"] == [{"checkNumber": "2511233093766"}]


def test_each_delivery_of_an_order_delivered_in_parts_is_its_own_receipt() -> None:
    # Given order SE-100234 delivered in two parts: the jacket first, the socks a day later
    whole = example("order.delivered")["data"]
    jacket, socks = whole["lines"]

    def delivery(delivery_id: str, lines: list[dict[str, Any]], paid: str) -> OrderDeliveredEvent:
        data = {key: whole[key] for key in ("order_id", "created_at", "customer", "currency")}
        payments = [{"type": "card", "amount": paid}]
        return build(
            OrderDeliveredEvent,
            "order.delivered",
            {**data, "delivery_id": delivery_id, "lines": lines, "payments": payments},
        )

    first, second = delivery("1", [jacket], "1199.00"), delivery("2", [socks], "298.00")
    # Then each names its delivery, so Engage keeps both; the order delivered in one go keeps its id
    assert unique_receipt_id(first) == "order-SE-100234-1"
    assert unique_receipt_id(second) == "order-SE-100234-2"
    assert (
        unique_receipt_id(OrderDeliveredEvent.model_validate(example("order.delivered"))) == "order-SE-100234"
    )
    # and each receipt holds that delivery's lines only, adding up on its own
    receipts = [receipt_request(e, TenantPolicy(), CONTACT) for e in (first, second)]
    assert [[i.sku for i in r.items] for r in receipts] == [["7391234567890"], ["7391234500118"]]
    assert [r.total_gross_price for r in receipts] == [D("1199.00"), D("298.00")]
    assert [r.receipt_number for r in receipts] == ["SE-100234", "SE-100234"]


money = st.integers(min_value=0, max_value=500_000).map(lambda c: Decimal(c) / 100)


@st.composite
def baskets(draw: st.DrawFn) -> dict[str, Any]:
    lines = []
    for index in range(draw(st.integers(min_value=1, max_value=8))):
        quantity = draw(st.integers(min_value=1, max_value=5))
        unit = draw(money)
        gross_cents = int(unit * 100) * quantity
        off = Decimal(draw(st.integers(min_value=0, max_value=gross_cents))) / 100
        discounts = [{"amount": str(off)}] if off > 0 else []
        lines.append(line(str(index), str(quantity), str(unit), line_discounts=discounts))
    net_cents = sum(int(Decimal(x["quantity"]) * Decimal(x["unit_price"]) * 100) for x in lines) - sum(
        int(Decimal(d["amount"]) * 100) for x in lines for d in x["line_discounts"]
    )
    order_off = draw(st.integers(min_value=0, max_value=net_cents))
    return {"lines": lines, "order_off": order_off, "net_cents": net_cents}


@given(baskets())
def test_any_basket_sums_exactly_and_never_pays_a_negative_price(basket: dict[str, Any]) -> None:
    # Given a random basket with line discounts and an order discount
    order_off = Decimal(basket["order_off"]) / 100
    paid = (Decimal(basket["net_cents"]) / 100 - order_off) or Decimal("0.01")
    discounts = [{"amount": str(order_off)}] if order_off > 0 else []
    event = order(basket["lines"], str(paid), order_discounts=discounts)
    # When mapped
    receipt = receipt_request(event, TenantPolicy(), CONTACT)
    # Then the items add up to the total exactly, and no item is paid below zero
    assert sum((i.gross_paid_price for i in receipt.items), Decimal(0)) == receipt.total_gross_price
    assert receipt.total_gross_price == Decimal(basket["net_cents"]) / 100 - order_off
    assert all(i.gross_paid_price >= 0 for i in receipt.items)
    wire = receipt.to_wire()
    assert round(sum(Decimal(str(i["grossPaidPrice"])) for i in wire["items"]), 2) == Decimal(
        str(wire["totalGrossPrice"])
    )
