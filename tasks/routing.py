"""Which Celery task handles which event type, and on which queue (one queue per tenant, for fairness).

Task names are stable: they are what Flower shows and what sits in the broker across deploys.
"""

from __future__ import annotations

from engage.ratelimit import Lane

TASK_FOR_TYPE: dict[str, str] = {
    "customer.created": "engage.contacts.upsert",
    "customer.updated": "engage.contacts.upsert",
    "order.delivered": "engage.receipts.create",
    "receipt.completed": "engage.receipts.create",
    "return.created": "engage.receipts.create_return",
    "promotion.assigned": "engage.promotions.assign",
    "promotion.redeemed": "engage.promotions.redeem",
    "voucher.redeemed": "engage.vouchers.redeem",
    "order.placed": "engage.orders.sync",
    "order.shipped": "engage.orders.sync",
    "order.cancelled": "engage.orders.sync",
    "product.viewed": "engage.tracking.product_view",
    "cart.updated": "engage.tracking.cart",
}

QUEUE_PREFIX = "engage.tenant."
BACKLOG_SUFFIX = ".backlog"
FALLBACK_QUEUE = "engage.fallback"


def queue_for(tenant: str, lane: Lane = "live") -> str:
    """Each tenant has its own queue per lane; workers consume all of them in turn, so a tenant with a
    backlog or a slow Engage never starves another, and a drain never queues in front of live events."""
    return f"{QUEUE_PREFIX}{tenant}{BACKLOG_SUFFIX if lane == 'backlog' else ''}"


def queues_for(tenants: list[str]) -> list[str]:
    """Every queue a worker consumes: both lanes of each tenant, and the fallback queue."""
    return [queue_for(t, lane) for t in tenants for lane in ("live", "backlog")] + [FALLBACK_QUEUE]


def task_for(event_type: str) -> str:
    return TASK_FOR_TYPE[event_type]
