"""order.placed / order.shipped / order.cancelled -> Orders v3, with the action embedded in the order.

One write per event (POST to create, PUT to replace, keyed by orderId), the action travelling in the
body, so Engage runs it once that version is processed: no versionTag polling on the hot path.
A write that may have arrived before a timeout is checked with a GET first (Voyado's retry policy),
since a repeated write would fire the automation (order mail) twice.
Each order keeps the `occurred_at` of its last state sent: an older event (placed after shipped) is not
sent and is reported superseded, so the order never goes back in time.
"""

from __future__ import annotations

from engage.errors import NotFound, OrderNotFound
from mappers.contacts import plan_implicit_create
from mappers.identity import order_contact
from mappers.orders import OrderEvent, OrderPlan, order_plan
from relay.context import Applied, EventContext
from relay.ledger import plan_fields
from relay.resolve import resolve_buyer

ORDER_REF_PREFIX = "order:"
ORDER_VERSION_FIELD = "version"


def apply_order(ctx: EventContext, event: OrderEvent) -> Applied:
    contact_id = resolve_buyer(
        ctx, event.data.customer, plan_implicit_create(event, ctx.tenant.policy)
    ).contact_id
    plan = order_plan(event, ctx.tenant.policy, order_contact(contact_id))
    ledger = ctx.runtime.ledger
    order_ref = f"{ORDER_REF_PREFIX}{plan.order_id}"
    with ledger.contact_lock(ctx.tenant.name, order_ref):
        version = {ORDER_VERSION_FIELD: event.id}
        if plan_fields(
            ledger.field_clock(ctx.tenant.name, order_ref), version, event.occurred_at
        ).fully_superseded:
            return Applied("superseded", contact_id, detail="a newer state of this order was already sent")
        if ctx.maybe_delivered and _already_written(ctx, plan):
            ledger.record_fields(ctx.tenant.name, order_ref, version, event.occurred_at)
            return Applied(contact_id=contact_id, detail="order version found after timeout")
        body = plan.embedded()
        if plan.write == "create":
            ctx.called("orders.create")
            ctx.client.create_order(body)
        else:
            ctx.called("orders.replace")
            try:
                ctx.client.replace_order(body)
            except OrderNotFound:
                # Shipped or cancelled before Engage stored the placed order (or it never got it): every
                # event carries the whole order, so create it in its current state.
                ctx.called("orders.create")
                ctx.client.create_order(body)
        ledger.record_fields(ctx.tenant.name, order_ref, version, event.occurred_at)
    return Applied(contact_id=contact_id)


def _already_written(ctx: EventContext, plan: OrderPlan) -> bool:
    ctx.called("orders.get")
    try:
        stored = ctx.client.get_order(plan.order_id)
    except NotFound:
        return False
    return stored.status == plan.request.status and stored.external_status == plan.request.external_status
