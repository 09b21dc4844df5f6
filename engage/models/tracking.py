"""Server-side web activity: product views and cart states."""

from __future__ import annotations

from pydantic import AwareDatetime

from engage.models.base import Money, RequestModel


class ProductView(RequestModel):
    item_id: str
    contact_id: str
    time: AwareDatetime
    category: str | None = None
    session_id: str | None = None
    new_session: bool | None = None
    language: str | None = None
    url: str | None = None


class CartItem(RequestModel):
    sku: str
    quantity: Money


class CartUpdate(RequestModel):
    """The latest full state of a cart; an empty ``items`` list means an emptied cart."""

    cart_reference: str
    contact_id: str
    time: AwareDatetime
    items: list[CartItem]
    language: str | None = None
    url: str | None = None
