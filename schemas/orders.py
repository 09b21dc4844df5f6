"""order.placed, order.shipped and order.cancelled: the order journey (Engage Orders API v3).

Each event carries the whole order as it now stands (Engage replaces the stored order on change),
so automations such as order confirmation, shipping notice and cancellation mail have what they show.
`totals` must add up: `sub_total`, when given, equals sum(quantity * unit_price) of the lines, and
`total_gross` equals that sum minus `discount` plus `freight`, each within 0.01.

`OrderState` is the order after a delivery or a return (`order` in order.delivered and return.created):
its new status, and with `lines` and `totals` the whole order as it then stands.
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


def _check_totals(lines: tuple[OrderLine, ...], totals: OrderTotals) -> None:
    items = sum((line.quantity * line.unit_price for line in lines), Decimal(0))
    if totals.sub_total is not None and abs(totals.sub_total - items) > TOTAL_TOLERANCE:
        raise ValueError(f"totals.sub_total {totals.sub_total} differs from the lines' sum {items}")
    expected = items - (totals.discount or Decimal(0)) + (totals.freight or Decimal(0))
    if abs(totals.total_gross - expected) > TOTAL_TOLERANCE:
        raise ValueError(
            f"totals.total_gross {totals.total_gross} is not lines - discount + freight = {expected}"
        )


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
        _check_totals(self.lines, self.totals)
        return self


class OrderPlaced(_Order):
    """An order was placed (order confirmation)."""


class OrderShipped(_Order):
    """An order (or its last parcel) was shipped."""

    delivery: Delivery


class OrderCancelled(_Order):
    """An order was cancelled."""

    reason: Text | None = None


class OrderState(DataModel):
    """The order after a delivery or a return, for the order Engage stores (Orders v3).

    `status` / `external_status` are its new state (each defaults by event: `mappers.order_journey`).
    With `lines` and `totals` (and optionally `created_at`, `delivery`) it is the whole order as it now
    stands, and Engage's order is replaced with it; without them only the state changes.
    `action` names an automation to run with the replacement (none by default); `language` its language.
    """

    status: Identifier | None = None
    external_status: Identifier | None = None
    created_at: AwareDatetime | None = None
    lines: Annotated[tuple[OrderLine, ...], Field(min_length=1, max_length=MAX_ORDER_LINES)] | None = None
    totals: OrderTotals | None = None
    delivery: Delivery | None = None
    language: LanguageCode | None = None
    action: Identifier | None = None

    @property
    def whole(self) -> bool:
        """Whether this is the whole order (lines and totals), not only its state."""
        return self.lines is not None

    @model_validator(mode="after")
    def _whole_or_state(self) -> Self:
        if (self.lines is None) != (self.totals is None):
            raise ValueError("give lines and totals together (the whole order), or neither (its state only)")
        if self.lines is None:
            given = [f for f in ("created_at", "delivery", "action") if getattr(self, f) is not None]
            if given:
                raise ValueError(f"{', '.join(given)} belong to the whole order: give lines and totals too")
        elif self.totals is not None:
            _check_totals(self.lines, self.totals)
        return self


class OrderPlacedEvent(Envelope):
    type: Literal[EventType.ORDER_PLACED]
    data: OrderPlaced


class OrderShippedEvent(Envelope):
    type: Literal[EventType.ORDER_SHIPPED]
    data: OrderShipped


class OrderCancelledEvent(Envelope):
    type: Literal[EventType.ORDER_CANCELLED]
    data: OrderCancelled
