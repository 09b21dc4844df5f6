"""product.viewed / cart.updated -> Engage's tracking API.

A visitor the event names by contactId (or the `vtid` short GUID) is tracked at once. One named only by
e-mail or phone is looked up, never created: Engage only uses tracking tied to a known contact. An
unknown visitor may be signing up right now, so the event is retried a few times on the ladder; after
that it is reported as skipped (tracking has no file channel and is worth little once late).
"""

from __future__ import annotations

from engage.errors import RetryableError
from mappers.tracking import cart_update, product_view
from relay.context import Applied, EventContext
from relay.resolve import find_contact
from schemas.identity import TrackingIdentity
from schemas.tracking import CartUpdatedEvent, ProductViewedEvent

UNKNOWN_VISITOR = "visitor unknown to Engage: not tracked"
UNKNOWN_VISITOR_RETRIES = 2


class VisitorNotKnownYet(RetryableError):
    """The visitor is not (yet) a contact; their sign-up may still be on its way."""


def _contact_or_skip(ctx: EventContext, identity: TrackingIdentity) -> str | None:
    contact_id = find_contact(ctx, identity).contact_id
    if contact_id is None and ctx.attempt < UNKNOWN_VISITOR_RETRIES:
        raise VisitorNotKnownYet("visitor not known to Engage yet")
    return contact_id


def apply_product_view(ctx: EventContext, event: ProductViewedEvent) -> Applied:
    contact_id = _contact_or_skip(ctx, event.data.customer)
    if contact_id is None:
        return Applied("skipped", detail=UNKNOWN_VISITOR)
    ctx.called("tracking.productview")
    ctx.client.track_product_view(product_view(event, contact_id))
    return Applied(contact_id=contact_id)


def apply_cart(ctx: EventContext, event: CartUpdatedEvent) -> Applied:
    contact_id = _contact_or_skip(ctx, event.data.customer)
    if contact_id is None:
        return Applied("skipped", detail=UNKNOWN_VISITOR)
    ctx.called("tracking.carts")
    ctx.client.track_cart(cart_update(event, contact_id))
    return Applied(contact_id=contact_id)
