"""product.viewed and cart.updated: server-side web activity for Engage's tracking API.

The visitor is named by `contact_id` (GUID, or the short-GUID `vtid` from an Engage e-mail link)
or by any other identifier, which the relay resolves to a contact id. The event time is `occurred_at`.
A cart event carries the whole current cart; an empty `items` list means the cart was emptied
(send it after checkout).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import Field, StrictBool

from schemas.envelope import DataModel, Envelope, EventType
from schemas.fields import Identifier, LanguageCode, Quantity, Text, Url
from schemas.identity import TrackingIdentity

MAX_CART_ITEMS: Final = 500


class ProductViewed(DataModel):
    customer: TrackingIdentity
    item_id: Identifier
    category: Text | None = None
    session_id: Identifier | None = None
    new_session: StrictBool | None = None
    language: LanguageCode | None = None
    url: Url | None = None


class CartItem(DataModel):
    sku: Identifier
    quantity: Quantity


class CartUpdated(DataModel):
    customer: TrackingIdentity
    cart_reference: Identifier
    items: Annotated[tuple[CartItem, ...], Field(max_length=MAX_CART_ITEMS)]
    language: LanguageCode | None = None
    url: Url | None = None


class ProductViewedEvent(Envelope):
    type: Literal[EventType.PRODUCT_VIEWED]
    data: ProductViewed


class CartUpdatedEvent(Envelope):
    type: Literal[EventType.CART_UPDATED]
    data: CartUpdated
