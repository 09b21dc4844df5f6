"""Envelope v1: the frame around every inbound event, and the catalog of event types.

```json
{ "id": "evt-7f3c", "type": "order.delivered", "version": 1, "tenant": "acme-se",
  "occurred_at": "2026-11-24T10:15:00+01:00", "source": "ECOM", "store": "online-se", "data": {} }
```

Each event type subclasses `Envelope` with a literal `type` and its own `data` model
(see `schemas.catalog.Event`, the union discriminated on `type`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints

from schemas.fields import AwareDatetime, Identifier

ENVELOPE_VERSION: Final = 1
MAX_EVENT_ID_CHARS: Final = 128
MAX_TENANT_CHARS: Final = 64
MAX_SOURCE_CHARS: Final = 64
EVENT_ID_PATTERN: Final = rf"^[\x21-\x7e]{{1,{MAX_EVENT_ID_CHARS}}}$"
TENANT_PATTERN: Final = rf"^[a-z0-9](?:[a-z0-9_-]{{0,{MAX_TENANT_CHARS - 2}}}[a-z0-9])?$"
SOURCE_PATTERN: Final = rf"^[A-Za-z0-9][A-Za-z0-9_.-]{{0,{MAX_SOURCE_CHARS - 1}}}$"


class EventType(StrEnum):
    """Every event type envelope v1 carries."""

    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_UPDATED = "customer.updated"
    ORDER_DELIVERED = "order.delivered"
    RECEIPT_COMPLETED = "receipt.completed"
    RETURN_CREATED = "return.created"
    PROMOTION_ASSIGNED = "promotion.assigned"
    PROMOTION_REDEEMED = "promotion.redeemed"
    VOUCHER_REDEEMED = "voucher.redeemed"
    ORDER_PLACED = "order.placed"
    ORDER_SHIPPED = "order.shipped"
    ORDER_CANCELLED = "order.cancelled"
    PRODUCT_VIEWED = "product.viewed"
    CART_UPDATED = "cart.updated"


def _require_version_1(value: object) -> object:
    # JSON `true` and `1.0` pass `Literal[1]` (they equal 1); the contract wants the integer.
    if type(value) is not int or value != ENVELOPE_VERSION:
        raise ValueError(f"unsupported version; this relay reads envelope version {ENVELOPE_VERSION}")
    return value


EnvelopeVersion = Annotated[Literal[1], BeforeValidator(_require_version_1)]
"""The envelope version: the integer 1."""

EventId = Annotated[str, StringConstraints(pattern=EVENT_ID_PATTERN)]
"""The producer's idempotency key: 1-128 printable ASCII characters, no whitespace."""

TenantSlug = Annotated[str, StringConstraints(pattern=TENANT_PATTERN)]
"""A tenant slug: lower-case letters, digits, `-` and `_`, starting and ending with a letter or digit."""

SourceName = Annotated[str, StringConstraints(pattern=SOURCE_PATTERN)]
"""The sending system as Engage knows it (`ECOM`, `POS`): letters, digits, `_`, `.`, `-`."""

StoreExternalId = Identifier
"""An Engage storeExternalId (`online-se`, `store03-stockholm`)."""


class DataModel(BaseModel):
    """Base of every model we build: unknown fields are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Envelope(DataModel):
    """Fields common to every event; each event type narrows `type` to a literal and `data` to its model."""

    id: EventId
    type: EventType
    version: EnvelopeVersion
    tenant: TenantSlug
    occurred_at: AwareDatetime
    source: SourceName | None = None
    store: StoreExternalId | None = None
    data: DataModel
