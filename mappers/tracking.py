"""product.viewed / cart.updated -> the tracking calls (`ProductView`, `CartUpdate`).

`contactId` is the resolved contact id when the caller has one, else the event's own `contact_id`
(a GUID, or the short-GUID `vtid` from an Engage e-mail link, which Engage accepts as is).
The time is the envelope's `occurred_at`, with its offset. A cart is sent as its latest full state;
an empty item list is an emptied cart.
"""

from __future__ import annotations

from engage.models import CartItem, CartUpdate, ProductView
from schemas.identity import TrackingIdentity
from schemas.tracking import CartUpdatedEvent, ProductViewedEvent


def tracking_contact_id(customer: TrackingIdentity, resolved: str | None) -> str:
    """The contactId to track under; `ValueError` when there is none yet (resolve the customer first)."""
    contact_id = resolved or customer.contact_id
    if not contact_id:
        raise ValueError("no contact id: resolve the customer before mapping a tracking event")
    return contact_id


def product_view(event: ProductViewedEvent, contact_id: str | None = None) -> ProductView:
    data = event.data
    return ProductView(
        item_id=data.item_id,
        contact_id=tracking_contact_id(data.customer, contact_id),
        time=event.occurred_at,
        category=data.category,
        session_id=data.session_id,
        new_session=data.new_session,
        language=data.language,
        url=data.url,
    )


def cart_update(event: CartUpdatedEvent, contact_id: str | None = None) -> CartUpdate:
    data = event.data
    return CartUpdate(
        cart_reference=data.cart_reference,
        contact_id=tracking_contact_id(data.customer, contact_id),
        time=event.occurred_at,
        items=[CartItem(sku=item.sku, quantity=item.quantity) for item in data.items],
        language=data.language,
        url=data.url,
    )
