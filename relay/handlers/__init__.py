"""Handlers: one per Engage flow, each `(EventContext, event) -> Applied`, raising the engage error tree.

Public: the `Handler` value of each flow (the function and the event classes it takes), which the Celery
tasks (tasks/events.py) name:

- `CUSTOMER`: customer.created / customer.updated (relay/handlers/contacts.py)
- `PURCHASE`, `RETURN`: order.delivered and receipt.completed / return.created (receipts.py); a delivery
  and a return of an order also move the order (journey.py, with the per-order clock in order_clock.py)
- `ASSIGNMENT`, `PROMOTION_REDEMPTION`, `VOUCHER_REDEMPTION`: loyalty (loyalty.py)
- `ORDER`: order.placed / order.shipped / order.cancelled (orders.py)
- `PRODUCT_VIEW`, `CART`: tracking (tracking.py)
"""

from __future__ import annotations

from mappers.contacts import CustomerEvent
from mappers.orders import OrderEvent
from mappers.receipts import SaleEvent
from relay.context import Handler
from relay.handlers import contacts, loyalty, orders, receipts, tracking
from schemas.customer import CustomerCreatedEvent, CustomerUpdatedEvent
from schemas.loyalty import PromotionAssignedEvent, PromotionRedeemedEvent, VoucherRedeemedEvent
from schemas.orders import OrderCancelledEvent, OrderPlacedEvent, OrderShippedEvent
from schemas.sales import OrderDeliveredEvent, ReceiptCompletedEvent, ReturnCreatedEvent
from schemas.tracking import CartUpdatedEvent, ProductViewedEvent

CUSTOMER: Handler[CustomerEvent] = Handler(
    contacts.apply_customer, (CustomerCreatedEvent, CustomerUpdatedEvent)
)
PURCHASE: Handler[SaleEvent] = Handler(receipts.apply_purchase, (OrderDeliveredEvent, ReceiptCompletedEvent))
RETURN: Handler[ReturnCreatedEvent] = Handler(receipts.apply_return, (ReturnCreatedEvent,))
ASSIGNMENT: Handler[PromotionAssignedEvent] = Handler(loyalty.apply_assignment, (PromotionAssignedEvent,))
PROMOTION_REDEMPTION: Handler[PromotionRedeemedEvent] = Handler(
    loyalty.apply_promotion_redemption, (PromotionRedeemedEvent,)
)
VOUCHER_REDEMPTION: Handler[VoucherRedeemedEvent] = Handler(
    loyalty.apply_voucher_redemption, (VoucherRedeemedEvent,)
)
ORDER: Handler[OrderEvent] = Handler(
    orders.apply_order, (OrderPlacedEvent, OrderShippedEvent, OrderCancelledEvent)
)
PRODUCT_VIEW: Handler[ProductViewedEvent] = Handler(tracking.apply_product_view, (ProductViewedEvent,))
CART: Handler[CartUpdatedEvent] = Handler(tracking.apply_cart, (CartUpdatedEvent,))
