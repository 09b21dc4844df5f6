"""The event catalog: the `Event` union discriminated on `type`, and which model each type uses."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Final

from pydantic import Field, TypeAdapter

from schemas.customer import CustomerCreatedEvent, CustomerUpdatedEvent
from schemas.envelope import DataModel, Envelope, EventType
from schemas.loyalty import PromotionAssignedEvent, PromotionRedeemedEvent, VoucherRedeemedEvent
from schemas.orders import OrderCancelledEvent, OrderPlacedEvent, OrderShippedEvent
from schemas.sales import OrderDeliveredEvent, ReceiptCompletedEvent, ReturnCreatedEvent
from schemas.tracking import CartUpdatedEvent, ProductViewedEvent

Event = Annotated[
    CustomerCreatedEvent
    | CustomerUpdatedEvent
    | OrderDeliveredEvent
    | ReceiptCompletedEvent
    | ReturnCreatedEvent
    | PromotionAssignedEvent
    | PromotionRedeemedEvent
    | VoucherRedeemedEvent
    | OrderPlacedEvent
    | OrderShippedEvent
    | OrderCancelledEvent
    | ProductViewedEvent
    | CartUpdatedEvent,
    Field(discriminator="type"),
]
"""Any valid envelope v1; `event.type` tells which, `event.data` holds the type's model."""

EVENT_ADAPTER: Final[TypeAdapter[Event]] = TypeAdapter(Event)

EVENT_MODELS: Final[Mapping[EventType, type[Envelope]]] = MappingProxyType(
    {
        EventType.CUSTOMER_CREATED: CustomerCreatedEvent,
        EventType.CUSTOMER_UPDATED: CustomerUpdatedEvent,
        EventType.ORDER_DELIVERED: OrderDeliveredEvent,
        EventType.RECEIPT_COMPLETED: ReceiptCompletedEvent,
        EventType.RETURN_CREATED: ReturnCreatedEvent,
        EventType.PROMOTION_ASSIGNED: PromotionAssignedEvent,
        EventType.PROMOTION_REDEEMED: PromotionRedeemedEvent,
        EventType.VOUCHER_REDEEMED: VoucherRedeemedEvent,
        EventType.ORDER_PLACED: OrderPlacedEvent,
        EventType.ORDER_SHIPPED: OrderShippedEvent,
        EventType.ORDER_CANCELLED: OrderCancelledEvent,
        EventType.PRODUCT_VIEWED: ProductViewedEvent,
        EventType.CART_UPDATED: CartUpdatedEvent,
    }
)
"""Event type -> its envelope model."""


def data_model(event_type: EventType) -> type[DataModel]:
    """The model of `data` for an event type."""
    annotation = EVENT_MODELS[event_type].model_fields["data"].annotation
    assert isinstance(annotation, type) and issubclass(annotation, DataModel)
    return annotation
