"""order.delivered / receipt.completed / return.created: resolve (or create) the buyer, post the receipt.

A receipt is safe to re-send: Engage ignores a repeated uniqueReceiptId, so a retry after a timeout
needs no check first. An e-com delivery, and a return naming its order, also move the order Engage
stores, alongside the receipt (`relay.handlers.journey`, planned by `mappers.order_journey`).
"""

from __future__ import annotations

from mappers.contacts import plan_implicit_create
from mappers.identity import order_contact, receipt_contact
from mappers.order_journey import order_move
from mappers.receipts import SaleEvent, receipt_request
from mappers.returns import return_request
from relay.context import Applied, EventContext
from relay.handlers.journey import send_with_order_move
from relay.resolve import resolve_buyer
from schemas.sales import OrderDeliveredEvent, ReturnCreatedEvent


def apply_purchase(ctx: EventContext, event: SaleEvent) -> Applied:
    buyer = resolve_buyer(ctx, event.data.customer, plan_implicit_create(event, ctx.tenant.policy))
    receipt = receipt_request(event, ctx.tenant.policy, receipt_contact(buyer.contact_id))
    if isinstance(event, OrderDeliveredEvent):
        move = order_move(event, ctx.tenant.policy, order_contact(buyer.contact_id))
        return send_with_order_move(ctx, event, buyer.contact_id, receipt, move)
    ctx.called("receipts.create")
    ctx.client.create_receipt(receipt)
    return Applied(contact_id=buyer.contact_id)


def apply_return(ctx: EventContext, event: ReturnCreatedEvent) -> Applied:
    buyer = resolve_buyer(ctx, event.data.customer, plan_implicit_create(event, ctx.tenant.policy))
    receipt = return_request(event, ctx.tenant.policy, receipt_contact(buyer.contact_id))
    move = order_move(event, ctx.tenant.policy, order_contact(buyer.contact_id))
    return send_with_order_move(ctx, event, buyer.contact_id, receipt, move)
