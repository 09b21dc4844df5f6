"""schemas: the inbound event contract (envelope v1), independent of every other package of ours.

Public API:

- `parse_event(raw) -> Event`: bytes, text or a mapping in; a typed event out, or `InvalidEvent`
  (never anything else) carrying every `Reason` (`loc`, `msg`) and the raw input as given.
- `Event`: the union of the envelope models below, discriminated on `type`; `EventType` lists the types.
- `Envelope`: the fields every event has
  (`id`, `type`, `version`, `tenant`, `occurred_at`, `source`, `store`, `data`).
- `export_json_schema() -> dict`: one deterministic JSON Schema document for `Event`.
- `EVENT_MODELS`: event type -> envelope model; `data_model(event_type)`: event type -> data model.
- Envelope models (`<Name>Event`) and their data models:
  customer.created `CustomerCreated`, customer.updated `CustomerUpdated`,
  order.delivered `OrderDelivered`, receipt.completed `ReceiptCompleted`, return.created `ReturnCreated`,
  promotion.assigned `PromotionAssigned`, promotion.redeemed `PromotionRedeemed`,
  voucher.redeemed `VoucherRedeemed`,
  order.placed `OrderPlaced`, order.shipped `OrderShipped`, order.cancelled `OrderCancelled`,
  product.viewed `ProductViewed`, cart.updated `CartUpdated`.
- Their parts: `CustomerIdentity`, `TrackingIdentity`, `Preferences`, `Consent`, `ReceiptLine`, `ReturnLine`,
  `LineDiscount`, `OrderDiscount`, `Freight`, `Payment`, `UsedPromotion`, `UsedVoucher`, `OrderLine`,
  `OrderTotals`, `Delivery`, `CartItem`, `RedemptionChannel`; `ENGAGE_ATTRIBUTE_NAMES` maps customer fields
  to Engage attribute names.

Field types and policy constants live in `schemas.fields`; field reference in `schemas/README.md`.
"""

from __future__ import annotations

from schemas.catalog import EVENT_MODELS, Event, data_model
from schemas.customer import (
    ENGAGE_ATTRIBUTE_NAMES,
    Consent,
    CustomerCreated,
    CustomerCreatedEvent,
    CustomerUpdated,
    CustomerUpdatedEvent,
    Preferences,
)
from schemas.envelope import ENVELOPE_VERSION, Envelope, EventType
from schemas.identity import CustomerIdentity, TrackingIdentity
from schemas.jsonschema import export_json_schema
from schemas.loyalty import (
    PromotionAssigned,
    PromotionAssignedEvent,
    PromotionRedeemed,
    PromotionRedeemedEvent,
    RedemptionChannel,
    VoucherRedeemed,
    VoucherRedeemedEvent,
)
from schemas.orders import (
    Delivery,
    OrderCancelled,
    OrderCancelledEvent,
    OrderLine,
    OrderPlaced,
    OrderPlacedEvent,
    OrderShipped,
    OrderShippedEvent,
    OrderTotals,
)
from schemas.parsing import InvalidEvent, Reason, parse_event, render_reason
from schemas.sales import (
    Freight,
    LineDiscount,
    OrderDelivered,
    OrderDeliveredEvent,
    OrderDiscount,
    Payment,
    ReceiptCompleted,
    ReceiptCompletedEvent,
    ReceiptLine,
    ReturnCreated,
    ReturnCreatedEvent,
    ReturnLine,
    UsedPromotion,
    UsedVoucher,
)
from schemas.tracking import CartItem, CartUpdated, CartUpdatedEvent, ProductViewed, ProductViewedEvent

__all__ = [
    "ENGAGE_ATTRIBUTE_NAMES",
    "ENVELOPE_VERSION",
    "EVENT_MODELS",
    "CartItem",
    "CartUpdated",
    "CartUpdatedEvent",
    "Consent",
    "CustomerCreated",
    "CustomerCreatedEvent",
    "CustomerIdentity",
    "CustomerUpdated",
    "CustomerUpdatedEvent",
    "Delivery",
    "Envelope",
    "Event",
    "EventType",
    "Freight",
    "InvalidEvent",
    "LineDiscount",
    "OrderCancelled",
    "OrderCancelledEvent",
    "OrderDelivered",
    "OrderDeliveredEvent",
    "OrderDiscount",
    "OrderLine",
    "OrderPlaced",
    "OrderPlacedEvent",
    "OrderShipped",
    "OrderShippedEvent",
    "OrderTotals",
    "Payment",
    "Preferences",
    "ProductViewed",
    "ProductViewedEvent",
    "PromotionAssigned",
    "PromotionAssignedEvent",
    "PromotionRedeemed",
    "PromotionRedeemedEvent",
    "Reason",
    "ReceiptCompleted",
    "ReceiptCompletedEvent",
    "ReceiptLine",
    "RedemptionChannel",
    "ReturnCreated",
    "ReturnCreatedEvent",
    "ReturnLine",
    "TrackingIdentity",
    "UsedPromotion",
    "UsedVoucher",
    "VoucherRedeemed",
    "VoucherRedeemedEvent",
    "data_model",
    "export_json_schema",
    "parse_event",
    "render_reason",
]
