"""order.placed / order.shipped / order.cancelled -> the Orders v3 order and the action that triggers mail.

Each event carries the whole order, so each maps to the full order, keyed by `orderId`:

- order.placed: create (`POST /api/v3/orders`), status `InProgress` (the one status Voyado's docs
  show), action `ConfirmOrder`;
- order.shipped: replace (`PUT /api/v3/orders/{orderId}`) with `delivery`, status `InProgress` and
  externalStatus `Shipped`, action `ConfirmShipment`;
- order.cancelled: replace (`PUT`), status `Cancelled`, action `CancelOrder`.

The event's own `status`, `external_status` and `action` win over these defaults.
The actions follow SCAYLE's Voyado add-on (ConfirmOrder on confirm, ConfirmShipment on shipping, PUT on
cancel); `Cancelled`, `Shipped` and `CancelOrder` are [inferred] names a tenant may need to configure.
A PUT replaces the whole order, so replaying it is harmless; the caller may also PUT a placed order it
finds already stored.

The action can travel two ways: `OrderPlan.embedded()` puts it in the order body (one call; Engage runs
it once that version is processed), or `OrderPlan.action_request(version_tag)` for
`POST /orders/{orderId}/action` (carries `language` and `data`, after polling for the versionTag).
Use one, never both, or the automation fires twice.

Lines: `description` is the line name, `grossPaidPricePerUnit` the unit price, `grossPaidPrice` the line
total to the cent; `subTotal` the stated sub-total, else the lines' sum. Order-level discount and freight go
in `discounts: {"total": x}` and `fees: {"freight": x}` [inferred shapes: Voyado has not published them].
`lastChangedAt` is the event's `occurred_at`; `channel` the envelope's source, else the tenant's.
`line_items`, `order_delivery`, `order_fees` and `order_discounts` build those parts, also for the order
moves of deliveries and returns (`mappers.order_journey`), whose plans may carry no action.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

from engage.models import (
    OrderActionRequest,
    OrderContact,
    OrderDelivery,
    OrderEmbeddedAction,
    OrderLineItem,
    OrderLineItems,
    OrderRequest,
)
from mappers.money import ZERO, to_cents, to_json_number
from mappers.policy import TenantPolicy
from schemas.envelope import EventType
from schemas.orders import (
    Delivery,
    OrderCancelled,
    OrderCancelledEvent,
    OrderLine,
    OrderPlacedEvent,
    OrderShipped,
    OrderShippedEvent,
)

OrderEvent = OrderPlacedEvent | OrderShippedEvent | OrderCancelledEvent
OrderWrite = Literal["create", "replace"]

STATUS_IN_PROGRESS: Final = "InProgress"
STATUS_CANCELLED: Final = "Cancelled"
EXTERNAL_STATUS_SHIPPED: Final = "Shipped"
ACTION_CONFIRM_ORDER: Final = "ConfirmOrder"
ACTION_CONFIRM_SHIPMENT: Final = "ConfirmShipment"
ACTION_CANCEL_ORDER: Final = "CancelOrder"
DISCOUNT_TOTAL_KEY: Final = "total"
FREIGHT_FEE_KEY: Final = "freight"
CANCEL_REASON_KEY: Final = "reason"


@dataclass(frozen=True)
class _Step:
    write: OrderWrite
    status: str
    external_status: str | None
    action: str


STEPS: Final[dict[EventType, _Step]] = {
    EventType.ORDER_PLACED: _Step("create", STATUS_IN_PROGRESS, None, ACTION_CONFIRM_ORDER),
    EventType.ORDER_SHIPPED: _Step(
        "replace", STATUS_IN_PROGRESS, EXTERNAL_STATUS_SHIPPED, ACTION_CONFIRM_SHIPMENT
    ),
    EventType.ORDER_CANCELLED: _Step("replace", STATUS_CANCELLED, None, ACTION_CANCEL_ORDER),
}


@dataclass(frozen=True)
class OrderPlan:
    """The order to write (`create` = POST, `replace` = PUT by `order_id`) and the action to trigger."""

    order_id: str
    write: OrderWrite
    request: OrderRequest
    action: str | None  # None: no automation (a delivery or a return, unless the shop names one)
    language: str | None = None
    action_data: dict[str, Any] | None = None

    def embedded(self) -> OrderRequest:
        """The order body with the action in it (one call, no versionTag needed), with its language and
        data (a cancel reason) when it has them [the embedded shape is inferred]; the bare order when
        there is no action."""
        if self.action is None:
            return self.request
        if self.language is None and self.action_data is None:
            return self.request.model_copy(update={"action": self.action})
        action = OrderEmbeddedAction(action=self.action, language=self.language, data=self.action_data)
        return self.request.model_copy(update={"action": action})

    def action_request(self, version_tag: str) -> OrderActionRequest:
        """The separate action call, once Engage reports `version_tag` for this order version."""
        if self.action is None:
            raise ValueError("this order write triggers no action")
        return OrderActionRequest(
            action=self.action, version_tag=version_tag, language=self.language, data=self.action_data
        )

    @property
    def delivery(self) -> OrderDelivery | None:
        """The delivery, for `POST /orders/{orderId}/change-delivery` where a caller prefers it."""
        return self.request.delivery


def line_items(lines: Sequence[OrderLine], stated_sub_total: Decimal | None = None) -> OrderLineItems:
    """The order's lines; `subTotal` the stated sub-total, else the lines' sum."""
    items = [
        OrderLineItem(
            sku=line.sku,
            quantity=line.quantity,
            description=line.name,
            gross_paid_price=to_cents(line.quantity * line.unit_price),
            gross_paid_price_per_unit=line.unit_price,
            image_url=line.image_url,
            target_url=line.target_url,
        )
        for line in lines
    ]
    computed = sum((item.gross_paid_price or ZERO for item in items), ZERO)
    return OrderLineItems(
        items=items, sub_total=stated_sub_total if stated_sub_total is not None else computed
    )


def order_delivery(given: Delivery | None) -> OrderDelivery | None:
    if given is None:
        return None
    return OrderDelivery(
        method=given.method,
        tracking_number=given.tracking_number,
        tracking_uri=given.tracking_uri,
        delivery_date=given.delivery_date,
    )


def order_fees(freight: Decimal | None) -> dict[str, Any] | None:
    """`fees: {"freight": x}` when there is freight [inferred shape]."""
    return {FREIGHT_FEE_KEY: to_json_number(freight)} if freight else None


def order_discounts(discount: Decimal | None) -> dict[str, Any] | None:
    """`discounts: {"total": x}` when there is a discount [inferred shape]."""
    return {DISCOUNT_TOTAL_KEY: to_json_number(discount)} if discount else None


def order_plan(event: OrderEvent, policy: TenantPolicy, contact: OrderContact) -> OrderPlan:
    """The Orders v3 write and action for an order event; `contact` is usually `order_contact(contact_id)`."""
    data = event.data
    step = STEPS[event.type]
    totals = data.totals
    request = OrderRequest(
        order_id=data.order_id,
        contact=contact,
        external_store_id=policy.store_for(data.store or event.store),
        status=data.status or step.status,
        external_status=data.external_status or step.external_status,
        currency_code=data.currency,
        channel=event.source or policy.source,
        created_at=data.created_at,
        last_changed_at=event.occurred_at,
        line_items=line_items(data.lines, totals.sub_total),
        fees=order_fees(totals.freight),
        discounts=order_discounts(totals.discount),
        delivery=order_delivery(data.delivery if isinstance(data, OrderShipped) else None),
    )
    reason = data.reason if isinstance(data, OrderCancelled) else None
    return OrderPlan(
        order_id=data.order_id,
        write=step.write,
        request=request,
        action=data.action or step.action,
        language=data.language or policy.language,
        action_data={CANCEL_REASON_KEY: reason} if reason else None,
    )
