"""order.delivered (e-com), receipt.completed (POS) and return.created: what Engage stores as receipts.

Prices are gross (VAT included), per unit, in `currency`. Discounts are positive amounts to take off.
`total_gross`, when given, must equal the computed total within 0.01:

    total = sum(quantity * unit_price - sum(line_discounts)) - sum(order_discounts) + freight.amount

Freight is part of the stated total (it is what the customer paid); whether freight reaches Engage
is the tenant's setting, applied by the mapper, which also spreads order discounts over the lines.
The tenders (`payments`, net of change, reward vouchers included) must add up to that total within 0.01,
and a return's `refunds` to its total, so every receipt the mapper builds adds up whatever the tenant's
freight and voucher settings.
A return carries positive quantities and prices; the mapper turns them into negative RETURN lines.

An order delivered in parts sends one `order.delivered` per delivery, each with its own `delivery_id` and
that delivery's lines, discounts, freight and payments; each becomes its own receipt.

An e-com delivery, and a return naming its `original_order_id`, also move the order Engage stores
(Orders v3), alongside the receipt; `order` (`schemas.orders.OrderState`) says what the order now is:
its new status, or the whole order (lines and totals) when the shop has it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Final, Literal, Self

from pydantic import Field, model_validator

from schemas.envelope import DataModel, Envelope, EventType, StoreExternalId
from schemas.fields import (
    TOTAL_TOLERANCE,
    AwareDatetime,
    CurrencyCode,
    ExchangeRate,
    Identifier,
    NonNegativeMoney,
    Percent,
    PositiveMoney,
    Quantity,
    Text,
)
from schemas.identity import CustomerIdentity
from schemas.orders import OrderState

MAX_LINES: Final = 1000
MAX_DISCOUNTS_PER_LINE: Final = 20
MAX_ORDER_DISCOUNTS: Final = 50
MAX_PAYMENTS: Final = 20
MAX_USED_PROMOTIONS: Final = 50
MAX_USED_VOUCHERS: Final = 50
MAX_EXTRA_ENTRIES: Final = 50

ExtraData = Annotated[dict[Identifier, Text], Field(max_length=MAX_EXTRA_ENTRIES)]
"""Free name/value pairs, sent to Engage as `extraData: [{name, value}]`."""


class LineDiscount(DataModel):
    """A discount on one line, as a positive amount off the line total."""

    amount: PositiveMoney
    description: Text | None = None
    type: Identifier | None = None


class OrderDiscount(DataModel):
    """A discount on the whole order; the mapper spreads it over the lines."""

    amount: PositiveMoney
    description: Text | None = None
    promotion_id: Identifier | None = None


class Freight(DataModel):
    amount: NonNegativeMoney
    tax_percent: Percent | None = None


class Payment(DataModel):
    """One tender, net of change (`card`, `swish`, `invoice`, `cash`, `giftcard`, `voucher`)."""

    type: Identifier
    amount: PositiveMoney
    description: Text | None = None
    extra: ExtraData | None = None


class UsedPromotion(DataModel):
    promotion_id: Identifier
    coupon_id: Identifier | None = None


class UsedVoucher(DataModel):
    """A reward voucher used as payment or discount; Engage calls its number `checkNumber`."""

    voucher_number: Identifier | None = None
    check_number: Identifier | None = None

    @model_validator(mode="after")
    def _exactly_one_number(self) -> Self:
        if (self.voucher_number is None) == (self.check_number is None):
            raise ValueError("give exactly one of voucher_number or check_number")
        return self


class _ArticleLine(DataModel):
    sku: Identifier
    article_number: Identifier
    article_name: Text
    article_group: Text | None = None
    quantity: Quantity
    unit_price: NonNegativeMoney
    tax_percent: Percent
    tax_amount: NonNegativeMoney | None = None
    extra: ExtraData | None = None

    @property
    def gross(self) -> Decimal:
        """quantity * unit_price, before discounts."""
        return self.quantity * self.unit_price


class ReceiptLine(_ArticleLine):
    """A purchased article; `unit_price` is the gross unit price before `line_discounts`."""

    line_discounts: Annotated[tuple[LineDiscount, ...], Field(max_length=MAX_DISCOUNTS_PER_LINE)] = ()

    @property
    def net(self) -> Decimal:
        """What the line costs after its own discounts."""
        return self.gross - sum((d.amount for d in self.line_discounts), Decimal(0))

    @model_validator(mode="after")
    def _discounts_within_line(self) -> Self:
        if self.net < 0:
            raise ValueError(f"line_discounts ({self.gross - self.net}) exceed the line total ({self.gross})")
        return self


class ReturnLine(_ArticleLine):
    """A returned article: positive `quantity` returned at the positive `unit_price` paid for it."""


def _check_total(stated: Decimal | None, computed: Decimal) -> None:
    if stated is not None and abs(stated - computed) > TOTAL_TOLERANCE:
        raise ValueError(f"total_gross {stated} differs from the computed total {computed} by more than 0.01")


def _check_tenders(name: str, tenders: Iterable[Payment], computed: Decimal) -> None:
    paid = _sum(tender.amount for tender in tenders)
    if abs(paid - computed) > TOTAL_TOLERANCE:
        raise ValueError(f"{name} add up to {paid}, not the computed total {computed} (within 0.01)")


def _sum(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, Decimal(0))


class _Sale(DataModel):
    receipt_number: Identifier | None = None
    created_at: AwareDatetime
    customer: CustomerIdentity
    store: StoreExternalId | None = None
    currency: CurrencyCode
    exchange_rate_to_group_currency: ExchangeRate | None = None
    lines: Annotated[tuple[ReceiptLine, ...], Field(min_length=1, max_length=MAX_LINES)]
    order_discounts: Annotated[tuple[OrderDiscount, ...], Field(max_length=MAX_ORDER_DISCOUNTS)] = ()
    freight: Freight | None = None
    payments: Annotated[tuple[Payment, ...], Field(min_length=1, max_length=MAX_PAYMENTS)]
    used_promotions: Annotated[tuple[UsedPromotion, ...], Field(max_length=MAX_USED_PROMOTIONS)] = ()
    used_vouchers: Annotated[tuple[UsedVoucher, ...], Field(max_length=MAX_USED_VOUCHERS)] = ()
    total_gross: NonNegativeMoney | None = None

    @property
    def computed_total(self) -> Decimal:
        """Lines after their discounts, minus order discounts, plus freight."""
        freight = self.freight.amount if self.freight is not None else Decimal(0)
        return _sum(line.net for line in self.lines) - _sum(d.amount for d in self.order_discounts) + freight

    @model_validator(mode="after")
    def _totals_add_up(self) -> Self:
        lines_net = _sum(line.net for line in self.lines)
        order_discount = _sum(d.amount for d in self.order_discounts)
        if order_discount > lines_net:
            raise ValueError(f"order_discounts ({order_discount}) exceed the lines' total ({lines_net})")
        _check_total(self.total_gross, self.computed_total)
        _check_tenders("payments", self.payments, self.computed_total)
        return self


class OrderDelivered(_Sale):
    """An e-com order delivered to the customer: the moment it becomes an Engage receipt.

    `delivery_id` names one delivery of an order delivered in parts (its lines are that delivery's);
    an order delivered in one go has none. `order` is the order after this delivery (its state, or the
    whole order), for the order Engage stores.
    """

    order_id: Identifier
    delivery_id: Identifier | None = None
    order: OrderState | None = None


class ReceiptCompleted(_Sale):
    """A completed POS receipt."""

    receipt_id: Identifier


class ReturnCreated(DataModel):
    """Returned articles; `return_id` is the return receipt's uniqueReceiptId. A return naming its
    `original_order_id` also moves that order; `order` is the order after the return (needs the id)."""

    return_id: Identifier
    original_order_id: Identifier | None = None
    receipt_number: Identifier | None = None
    created_at: AwareDatetime
    customer: CustomerIdentity
    store: StoreExternalId | None = None
    currency: CurrencyCode
    exchange_rate_to_group_currency: ExchangeRate | None = None
    lines: Annotated[tuple[ReturnLine, ...], Field(min_length=1, max_length=MAX_LINES)]
    refunds: Annotated[tuple[Payment, ...], Field(min_length=1, max_length=MAX_PAYMENTS)]
    reason: Text | None = None
    total_gross: NonNegativeMoney | None = None
    order: OrderState | None = None

    @property
    def computed_total(self) -> Decimal:
        """The refunded amount: sum of quantity * unit_price (positive)."""
        return _sum(line.gross for line in self.lines)

    @model_validator(mode="after")
    def _total_adds_up(self) -> Self:
        if self.order is not None and self.original_order_id is None:
            raise ValueError("order needs original_order_id: the order it describes")
        _check_total(self.total_gross, self.computed_total)
        _check_tenders("refunds", self.refunds, self.computed_total)
        return self


class OrderDeliveredEvent(Envelope):
    type: Literal[EventType.ORDER_DELIVERED]
    data: OrderDelivered


class ReceiptCompletedEvent(Envelope):
    type: Literal[EventType.RECEIPT_COMPLETED]
    data: ReceiptCompleted


class ReturnCreatedEvent(Envelope):
    type: Literal[EventType.RETURN_CREATED]
    data: ReturnCreated
