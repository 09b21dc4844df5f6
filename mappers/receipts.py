"""order.delivered (e-com) and receipt.completed (POS) -> the purchase receipt, `POST /api/v3/receipts`.

Each line becomes one PURCHASE item whose `grossPaidPrice` is the line total actually paid:

    quantity * unit_price (to the cent) - the line's own discounts - its share of the order discounts
                                        - its share of the vouchers sent as discounts

Order discounts (and vouchers sent as discounts, `mappers.tenders`) are spread over all article lines in
proportion to their value after line discounts (`mappers.money.spread_discounts`, exact to the cent);
each item lists every discount that touched it in `discounts[]` (a voucher's with its payment type as
`type`). `taxAmount` is the producer's when given and the line took no share of an order-level discount
(the producer's figure was computed before the spread), else the VAT inside the paid price.
`totalGrossPrice` is the exact sum of the items.

Freight is left out unless the tenant sets `include_freight` (Voyado: leave it out when no points are
awarded on shipping), and the tenders are then reduced by it too (`mappers.tenders`), so the receipt adds
up. Included, it is one more PURCHASE line (`freight_sku`, `freight_article_name`) at the freight's VAT
rate, else the rate carrying most of the basket's value; a voucher that also paid the shipping is a
discount on that line.

uniqueReceiptId: `order-{order_id}`, or `order-{order_id}-{delivery_id}` for one delivery of an order
delivered in parts (so Engage does not drop the second delivery as a duplicate); `receipt-{receipt_id}`.
Used promotions (and order discounts' `promotion_id`s) become `usedPromotions`; used vouchers, and the
`checkNumber` of a voucher payment, become `usedBonusChecks`, whether the voucher is sent as a discount
or as a tender (which keeps its extraData).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from engage.models import Discount, ReceiptContact, ReceiptItem, ReceiptRequest, UsedBonusCheck, UsedPromotion
from mappers.money import ZERO, spread_discounts, tax_in_gross, to_cents
from mappers.policy import TenantPolicy
from mappers.receipt_parts import (
    DELIVERY_SEPARATOR,
    ORDER_RECEIPT_PREFIX,
    POS_RECEIPT_PREFIX,
    exchange_rate,
    extra_data,
    store_external_id,
)
from mappers.tenders import CHECK_NUMBER_EXTRA, TenderPlan, VoucherDiscount, plan_tenders
from schemas.sales import OrderDelivered, OrderDeliveredEvent, ReceiptCompletedEvent, ReceiptLine

SaleEvent = OrderDeliveredEvent | ReceiptCompletedEvent

ORDER_DISCOUNT_DESCRIPTION: Final = "Order discount"
FREIGHT_QUANTITY: Final = Decimal(1)


@dataclass(frozen=True)
class _Column:
    """One order-level discount spread over the lines: an order discount or a voucher's article part."""

    amount: Decimal
    description: str
    type: str | None = None


def unique_receipt_id(event: SaleEvent) -> str:
    """`order-{order_id}` (`order-{order_id}-{delivery_id}` for one delivery of several) for an e-com
    order, `receipt-{receipt_id}` for a POS receipt."""
    data = event.data
    if isinstance(data, OrderDelivered):
        delivery = f"{DELIVERY_SEPARATOR}{data.delivery_id}" if data.delivery_id else ""
        return f"{ORDER_RECEIPT_PREFIX}{data.order_id}{delivery}"
    return f"{POS_RECEIPT_PREFIX}{data.receipt_id}"


def _source_id(event: SaleEvent) -> str:
    data = event.data
    return data.order_id if isinstance(data, OrderDelivered) else data.receipt_id


def line_value(line: ReceiptLine) -> Decimal:
    """The line after its own discounts, to the cent."""
    return to_cents(line.gross) - sum((d.amount for d in line.line_discounts), ZERO)


def articles_value(event: SaleEvent) -> Decimal:
    """What the articles come to after line and order discounts (before vouchers)."""
    lines = sum((line_value(line) for line in event.data.lines), ZERO)
    return lines - sum((d.amount for d in event.data.order_discounts), ZERO)


def _tax_amount(line: ReceiptLine, paid: Decimal, *, spread: bool) -> Decimal:
    """The producer's tax unless an order-discount share changed the price it was computed on."""
    if line.tax_amount is not None and not spread:
        return line.tax_amount
    return tax_in_gross(paid, line.tax_percent)


def _line_item(line: ReceiptLine, shares: list[Decimal], columns: Sequence[_Column]) -> ReceiptItem:
    paid = line_value(line) - sum(shares, ZERO)
    discounts = [
        Discount(value=d.amount, type=d.type, description=d.description) for d in line.line_discounts
    ]
    discounts += [
        Discount(value=share, type=column.type, description=column.description)
        for share, column in zip(shares, columns, strict=True)
        if share > 0
    ]
    return ReceiptItem(
        type="PURCHASE",
        sku=line.sku,
        quantity=line.quantity,
        gross_paid_price=paid,
        tax_amount=_tax_amount(line, paid, spread=any(shares)),
        tax_percent=line.tax_percent,
        article_number=line.article_number,
        article_name=line.article_name,
        article_group=line.article_group,
        extra_data=extra_data(line.extra),
        discounts=discounts or None,
    )


def _main_tax_percent(lines: Sequence[ReceiptLine]) -> Decimal:
    """The VAT rate carrying most of the basket's value (ties: the higher rate)."""
    value_by_rate: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        value_by_rate[line.tax_percent] += line.gross
    return max(value_by_rate, key=lambda rate: (value_by_rate[rate], rate))


def _freight_item(
    event: SaleEvent, policy: TenantPolicy, vouchers: Sequence[VoucherDiscount]
) -> ReceiptItem | None:
    freight = event.data.freight
    if not policy.include_freight or freight is None or freight.amount == 0:
        return None
    percent = freight.tax_percent if freight.tax_percent is not None else _main_tax_percent(event.data.lines)
    discounts = [
        Discount(value=v.on_freight, type=v.payment.type, description=v.description)
        for v in vouchers
        if v.on_freight > 0
    ]
    paid = freight.amount - sum((d.value for d in discounts), ZERO)
    return ReceiptItem(
        type="PURCHASE",
        sku=policy.freight_sku,
        quantity=FREIGHT_QUANTITY,
        gross_paid_price=paid,
        tax_amount=tax_in_gross(paid, percent),
        tax_percent=percent,
        article_number=policy.freight_sku,
        article_name=policy.freight_article_name,
        discounts=discounts or None,
    )


def _used_promotions(event: SaleEvent) -> list[UsedPromotion] | None:
    used = [
        UsedPromotion(promotion_id=p.promotion_id, coupon_id=p.coupon_id) for p in event.data.used_promotions
    ]
    listed = {p.promotion_id for p in used}
    for discount in event.data.order_discounts:
        if discount.promotion_id is not None and discount.promotion_id not in listed:
            used.append(UsedPromotion(promotion_id=discount.promotion_id))
            listed.add(discount.promotion_id)
    return used or None


def _used_bonus_checks(event: SaleEvent, policy: TenantPolicy) -> list[UsedBonusCheck] | None:
    numbers: list[str] = []
    for voucher in event.data.used_vouchers:
        number = voucher.voucher_number or voucher.check_number
        if number is not None and number not in numbers:
            numbers.append(number)
    for payment in event.data.payments:
        number = (payment.extra or {}).get(CHECK_NUMBER_EXTRA)
        if policy.is_voucher_payment(payment.type) and number and number not in numbers:
            numbers.append(number)
    return [UsedBonusCheck(check_number=n) for n in numbers] or None


def tender_plan(event: SaleEvent, policy: TenantPolicy) -> TenderPlan:
    """The vouchers sent as discounts and the paymentMethods, by the tenant's voucher and freight rules."""
    freight = event.data.freight.amount if event.data.freight is not None else ZERO
    return plan_tenders(event.data.payments, articles_value(event), freight, policy)


def purchase_items(event: SaleEvent, policy: TenantPolicy, tenders: TenderPlan) -> list[ReceiptItem]:
    """One PURCHASE item per line, order discounts and voucher discounts spread over them, plus freight when
    the tenant wants it."""
    data = event.data
    columns = [
        _Column(d.amount, d.description or d.promotion_id or ORDER_DISCOUNT_DESCRIPTION)
        for d in data.order_discounts
    ]
    columns += [_Column(v.on_articles, v.description, v.payment.type) for v in tenders.vouchers]
    shares = spread_discounts([line_value(line) for line in data.lines], [c.amount for c in columns])
    items = [_line_item(line, share, columns) for line, share in zip(data.lines, shares, strict=True)]
    freight = _freight_item(event, policy, tenders.vouchers)
    return [*items, freight] if freight is not None else items


def receipt_request(event: SaleEvent, policy: TenantPolicy, contact: ReceiptContact) -> ReceiptRequest:
    """The purchase receipt for a delivered order (or one delivery of it) or a completed POS receipt.

    `contact` is usually `mappers.identity.receipt_contact(contact_id)` with the resolved contactId.
    """
    data = event.data
    tenders = tender_plan(event, policy)
    items = purchase_items(event, policy, tenders)
    return ReceiptRequest(
        contact=contact,
        unique_receipt_id=unique_receipt_id(event),
        receipt_number=data.receipt_number or _source_id(event),
        created_date=data.created_at,
        store_external_id=store_external_id(policy, data.store, event.store),
        currency=data.currency,
        exchange_rate_to_group_currency=exchange_rate(
            policy, data.currency, data.exchange_rate_to_group_currency
        ),
        total_gross_price=sum((item.gross_paid_price for item in items), ZERO),
        payment_methods=list(tenders.payment_methods),
        items=items,
        used_bonus_checks=_used_bonus_checks(event, policy),
        used_promotions=_used_promotions(event),
    )
