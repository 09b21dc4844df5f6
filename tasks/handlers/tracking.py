"""product.viewed / cart.updated -> Engage's tracking API.

A visitor the event names by contactId (or the `vtid` short GUID) is tracked at once. One named only by
e-mail or phone is looked up, never created: Engage only uses tracking tied to a known contact, so an
unknown visitor's event is reported as skipped.
"""

from __future__ import annotations

from mappers.tracking import cart_update, product_view
from schemas.tracking import CartUpdatedEvent, ProductViewedEvent
from tasks.base import Applied, EventContext
from tasks.resolve import find_contact

UNKNOWN_VISITOR = "visitor unknown to Engage: not tracked"


def apply_product_view(ctx: EventContext, event: ProductViewedEvent) -> Applied:
    contact_id, _, _ = find_contact(ctx, event.data.customer)
    if contact_id is None:
        return Applied("skipped", detail=UNKNOWN_VISITOR)
    ctx.called("tracking.productview")
    ctx.client.track_product_view(product_view(event, contact_id))
    return Applied(contact_id=contact_id)


def apply_cart(ctx: EventContext, event: CartUpdatedEvent) -> Applied:
    contact_id, _, _ = find_contact(ctx, event.data.customer)
    if contact_id is None:
        return Applied("skipped", detail=UNKNOWN_VISITOR)
    ctx.called("tracking.carts")
    ctx.client.track_cart(cart_update(event, contact_id))
    return Applied(contact_id=contact_id)
