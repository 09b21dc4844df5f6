"""The order journey's last steps: a delivery or a return of an order also moves the order Engage stores.

The receipt stays the record of what was bought or returned (`mappers.receipts`, `mappers.returns`);
`order_move(event, policy, contact)` plans the Orders v3 write that goes alongside it, for an e-com
`order.delivered` (always: it names its order) and a `return.created` naming its `original_order_id`.
POS receipts have no order. A tenant that does not use Engage's orders sets `move_orders = false`.

The write, and why (Voyado documents no "delivered" or "returned" step; these are our choices):

- With the whole order in the event (`order.lines` and `order.totals`): a replacement,
  `PUT /api/v3/orders/{orderId}`, Voyado's documented full replace, which SCAYLE's Voyado add-on sends
  on cancel, item-cancel and return. It carries the lines as the shop now sees them.
- Without it: a status change, `POST /api/v3/orders/{orderId}/change-status` with `{status,
  externalStatus}` [documented endpoint, inferred body]. A replacement built from the receipt would
  replace the stored order with less than it holds (one delivery's lines, no tracking, no images);
  the status change keeps all of that.
- No action by default: an action fires an automation (a mail), Voyado documents none for a delivery
  or a return, and SCAYLE's add-on sends actions only on confirmation and shipment. `order.action`
  names one for a tenant that has set it up; it travels embedded in the replacement.

States [inferred names, like `Cancelled`; a tenant may need its own], the event's `order.status` and
`order.external_status` win:

| event | status | externalStatus |
|---|---|---|
| order.delivered in one go | `Completed` | `Delivered` |
| one delivery of several (`delivery_id`) | `InProgress` | `PartiallyDelivered` |
| return.created | `Completed` | `Returned` |

A shop delivering in parts says which delivery completes the order with `order.status` and
`order.external_status` (only it knows which part is the last).

When Engage has no such order (its job fails "Order is missing": placed before the go-live, or never
published), the order is created in its new state from the whole order when the event carries it, or,
for an order delivered in one go, from the receipt's lines (they are the whole order); a delivery in
parts or a return without `order.lines` has nothing to create it from (`creation` is None).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

from engage.models import OrderContact, OrderLineItem, OrderLineItems, OrderRequest, OrderStatusChange
from mappers.money import ZERO, to_cents
from mappers.orders import (
    STATUS_IN_PROGRESS,
    OrderPlan,
    line_items,
    order_delivery,
    order_discounts,
    order_fees,
)
from mappers.policy import TenantPolicy
from schemas.orders import OrderState
from schemas.sales import OrderDelivered, OrderDeliveredEvent, ReturnCreatedEvent

JourneyEvent = OrderDeliveredEvent | ReturnCreatedEvent
MoveWrite = Literal["replace", "change-status"]

STATUS_COMPLETED: Final = "Completed"
EXTERNAL_STATUS_DELIVERED: Final = "Delivered"
EXTERNAL_STATUS_PARTLY_DELIVERED: Final = "PartiallyDelivered"
EXTERNAL_STATUS_RETURNED: Final = "Returned"


@dataclass(frozen=True)
class OrderMove:
    """The order write that goes with a delivery's or a return's receipt.

    `write` is `replace` (PUT `replacement`, the whole order) or `change-status` (POST `change`);
    `creation` is the order to create when Engage has none (None: nothing to create it from).
    """

    order_id: str
    change: OrderStatusChange
    replacement: OrderPlan | None
    creation: OrderPlan | None

    @property
    def write(self) -> MoveWrite:
        return "replace" if self.replacement is not None else "change-status"


def _default_state(event: JourneyEvent) -> tuple[str, str]:
    data = event.data
    if not isinstance(data, OrderDelivered):
        return STATUS_COMPLETED, EXTERNAL_STATUS_RETURNED
    if data.delivery_id is not None:
        return STATUS_IN_PROGRESS, EXTERNAL_STATUS_PARTLY_DELIVERED
    return STATUS_COMPLETED, EXTERNAL_STATUS_DELIVERED


def _order_id(event: JourneyEvent) -> str | None:
    data = event.data
    return data.order_id if isinstance(data, OrderDelivered) else data.original_order_id


def _receipt_lines(data: OrderDelivered) -> tuple[OrderLineItems, Decimal, Decimal | None]:
    """An order delivered in one go, from its receipt's lines: items, discount total, freight."""
    items = [
        OrderLineItem(
            sku=line.sku,
            quantity=line.quantity,
            description=line.article_name,
            gross_paid_price=to_cents(line.gross),
            gross_paid_price_per_unit=line.unit_price,
        )
        for line in data.lines
    ]
    sub_total = sum((item.gross_paid_price or ZERO for item in items), ZERO)
    discount = sum((d.amount for line in data.lines for d in line.line_discounts), ZERO)
    discount += sum((d.amount for d in data.order_discounts), ZERO)
    freight = data.freight.amount if data.freight is not None else None
    return OrderLineItems(items=items, sub_total=sub_total), discount, freight


def _whole_order(
    event: JourneyEvent, policy: TenantPolicy, contact: OrderContact, order_id: str, state: tuple[str, str]
) -> tuple[OrderRequest, OrderState | None] | None:
    """The whole order in its new state: from `order` when it has lines, else from the receipt of an
    order delivered in one go, else None."""
    data = event.data
    given = data.order
    if given is not None and given.lines is not None and given.totals is not None:
        lines = line_items(given.lines, given.totals.sub_total)
        discount, freight = given.totals.discount, given.totals.freight
        created_at, delivery = given.created_at or data.created_at, order_delivery(given.delivery)
    elif isinstance(data, OrderDelivered) and data.delivery_id is None:
        lines, discount, freight = _receipt_lines(data)
        created_at, delivery, given = data.created_at, None, None
    else:
        return None
    request = OrderRequest(
        order_id=order_id,
        contact=contact,
        external_store_id=policy.store_for(data.store or event.store),
        status=state[0],
        external_status=state[1],
        currency_code=data.currency,
        channel=event.source or policy.source,
        created_at=created_at,
        last_changed_at=event.occurred_at,
        line_items=lines,
        fees=order_fees(freight),
        discounts=order_discounts(discount),
        delivery=delivery,
    )
    return request, given


def order_move(event: JourneyEvent, policy: TenantPolicy, contact: OrderContact) -> OrderMove | None:
    """The order write for a delivery or a return of an order; None when there is no order to move (a
    return naming none) or the tenant does not use Engage's orders. `contact` is `order_contact(id)`."""
    order_id = _order_id(event)
    if order_id is None or not policy.move_orders:
        return None
    given = event.data.order
    status, external_status = _default_state(event)
    if given is not None:
        status, external_status = given.status or status, given.external_status or external_status
    change = OrderStatusChange(status=status, external_status=external_status)
    whole = _whole_order(event, policy, contact, order_id, (status, external_status))
    if whole is None:
        return OrderMove(order_id, change, replacement=None, creation=None)
    request, carried = whole
    action = carried.action if carried is not None else None
    language = (carried.language if carried is not None else None) or policy.language
    creation = OrderPlan(order_id, "create", request, action, language if action else None)
    replacement = OrderPlan(order_id, "replace", request, action, language if action else None)
    return OrderMove(order_id, change, replacement if carried is not None else None, creation)
