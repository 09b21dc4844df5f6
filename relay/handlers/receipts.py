"""order.delivered / receipt.completed / return.created: resolve (or create) the buyer, post the receipt.

A receipt is safe to re-send: Engage ignores a repeated uniqueReceiptId, so a retry after a timeout
needs no check first.
"""

from __future__ import annotations

from mappers.contacts import plan_implicit_create
from mappers.identity import receipt_contact
from mappers.receipts import SaleEvent, receipt_request
from mappers.returns import return_request
from relay.context import Applied, EventContext
from relay.resolve import resolve_buyer
from schemas.sales import ReturnCreatedEvent


def apply_purchase(ctx: EventContext, event: SaleEvent) -> Applied:
    buyer = resolve_buyer(ctx, event.data.customer, plan_implicit_create(event, ctx.tenant.policy))
    receipt = receipt_request(event, ctx.tenant.policy, receipt_contact(buyer.contact_id))
    ctx.called("receipts.create")
    ctx.client.create_receipt(receipt)
    return Applied(contact_id=buyer.contact_id)


def apply_return(ctx: EventContext, event: ReturnCreatedEvent) -> Applied:
    buyer = resolve_buyer(ctx, event.data.customer, plan_implicit_create(event, ctx.tenant.policy))
    receipt = return_request(event, ctx.tenant.policy, receipt_contact(buyer.contact_id))
    ctx.called("receipts.create")
    ctx.client.create_receipt(receipt)
    return Applied(contact_id=buyer.contact_id)
