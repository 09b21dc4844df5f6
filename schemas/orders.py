"""order.placed, order.shipped and order.cancelled: the order journey (Engage Orders API v3).

Each event carries the whole order as it now stands (Engage replaces the stored order on change),
so automations such as order confirmation, shipping notice and cancellation mail have what they show.
`totals` must add up: `sub_total`, when given, equals sum(quantity * unit_price) of the lines, and
`total_gross` equals that sum minus `discount` plus `freight`, each within 0.01.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Final, Literal, Self

from pydantic import Field, model_validator

from schemas.envelope import DataModel, Envelope, EventType, StoreExternalId
from schemas.fields import (
    TOTAL_TOLERANCE,
    AwareDatetime,
    CurrencyCode,
    Identifier,
    LanguageCode,
    NonNegativeMoney,
    Quantity,
    Text,
    Url,
)
from schemas.identity import CustomerIdentity

MAX_ORDER_LINES: Final = 1000


class OrderLine(DataModel):
    sku: Identifier
    name: Text
    quantity: Quantity
    unit_price: NonNegativeMoney
    image_url: Url | None = None
    target_url: Url | None = None


class OrderTotals(DataModel):
    """Order totals, gross (VAT included)."""

    total_gross: NonNegativeMoney
    sub_total: NonNegativeMoney | None = None
    discount: NonNegativeMoney | None = None
    freight: NonNegativeMoney | None = None
    tax: NonNegativeMoney | None = None


class Delivery(DataModel):
    method: Text
    tracking_number: Identifier | None = None
    tracking_uri: Url | None = None
    delivery_date: AwareDatetime | None = None


class _Order(DataModel):
    order_id: Identifier
    customer: CustomerIdentity
    store: StoreExternalId | None = None
    status: Identifier | None = None
    external_status: Identifier | None = None
    currency: CurrencyCode
    created_at: AwareDatetime
    lines: Annotated[tuple[OrderLine, ...], Field(min_length=1, max_length=MAX_ORDER_LINES)]
    totals: OrderTotals
    language: LanguageCode | None = None
    action: Identifier | None = None

    @model_validator(mode="after")
    def _totals_add_up(self) -> Self:
        items = sum((line.quantity * line.unit_price for line in self.lines), Decimal(0))
        totals = self.totals
        if totals.sub_total is not None and abs(totals.sub_total - items) > TOTAL_TOLERANCE:
            raise ValueError(f"totals.sub_total {totals.sub_total} differs from the lines' sum {items}")
        expected = items - (totals.discount or Decimal(0)) + (totals.freight or Decimal(0))
        if abs(totals.total_gross - expected) > TOTAL_TOLERANCE:
            raise ValueError(
                f"totals.total_gross {totals.total_gross} is not lines - discount + freight = {expected}"
            )
        return self


class OrderPlaced(_Order):
    """An order was placed (order confirmation)."""


class OrderShipped(_Order):
    """An order (or its last parcel) was shipped."""

    delivery: Delivery


class OrderCancelled(_Order):
    """An order was cancelled."""

    reason: Text | None = None


class OrderPlacedEvent(Envelope):
    type: Literal[EventType.ORDER_PLACED]
    data: OrderPlaced


class OrderShippedEvent(Envelope):
    type: Literal[EventType.ORDER_SHIPPED]
    data: OrderShipped


class OrderCancelledEvent(Envelope):
    type: Literal[EventType.ORDER_CANCELLED]
    data: OrderCancelled
