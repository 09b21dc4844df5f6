"""The Celery tasks, one per Engage flow. Each is thin: it names its handler and lets `run_event` work.

Task names are stable (Flower shows them; messages in the broker carry them across deploys).
Every task acknowledges late and is rejected back to the queue when its worker dies mid-task.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from relay import handlers
from tasks.adapter import run_task

TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "max_retries": None,  # the ladder in relay.retry decides when to stop, not Celery's counter
    "ignore_result": True,
}


@shared_task(name="engage.contacts.upsert", **TASK_OPTIONS)
def upsert_contact(
    self: Task, envelope: dict[str, Any], attempt: int = 0, maybe_delivered: bool = False
) -> dict[str, Any]:
    return run_task(self, envelope, handlers.CUSTOMER, attempt=attempt, maybe_delivered=maybe_delivered)


@shared_task(name="engage.receipts.create", **TASK_OPTIONS)
def create_receipt(
    self: Task, envelope: dict[str, Any], attempt: int = 0, maybe_delivered: bool = False
) -> dict[str, Any]:
    return run_task(self, envelope, handlers.PURCHASE, attempt=attempt, maybe_delivered=maybe_delivered)


@shared_task(name="engage.receipts.create_return", **TASK_OPTIONS)
def create_return(
    self: Task, envelope: dict[str, Any], attempt: int = 0, maybe_delivered: bool = False
) -> dict[str, Any]:
    return run_task(self, envelope, handlers.RETURN, attempt=attempt, maybe_delivered=maybe_delivered)


@shared_task(name="engage.promotions.assign", **TASK_OPTIONS)
def assign_promotion(
    self: Task, envelope: dict[str, Any], attempt: int = 0, maybe_delivered: bool = False
) -> dict[str, Any]:
    return run_task(self, envelope, handlers.ASSIGNMENT, attempt=attempt, maybe_delivered=maybe_delivered)


@shared_task(name="engage.promotions.redeem", **TASK_OPTIONS)
def redeem_promotion(
    self: Task, envelope: dict[str, Any], attempt: int = 0, maybe_delivered: bool = False
) -> dict[str, Any]:
    return run_task(
        self, envelope, handlers.PROMOTION_REDEMPTION, attempt=attempt, maybe_delivered=maybe_delivered
    )


@shared_task(name="engage.vouchers.redeem", **TASK_OPTIONS)
def redeem_voucher(
    self: Task, envelope: dict[str, Any], attempt: int = 0, maybe_delivered: bool = False
) -> dict[str, Any]:
    return run_task(
        self, envelope, handlers.VOUCHER_REDEMPTION, attempt=attempt, maybe_delivered=maybe_delivered
    )


@shared_task(name="engage.orders.sync", **TASK_OPTIONS)
def sync_order(
    self: Task, envelope: dict[str, Any], attempt: int = 0, maybe_delivered: bool = False
) -> dict[str, Any]:
    return run_task(self, envelope, handlers.ORDER, attempt=attempt, maybe_delivered=maybe_delivered)


@shared_task(name="engage.tracking.product_view", **TASK_OPTIONS)
def track_product_view(
    self: Task, envelope: dict[str, Any], attempt: int = 0, maybe_delivered: bool = False
) -> dict[str, Any]:
    return run_task(self, envelope, handlers.PRODUCT_VIEW, attempt=attempt, maybe_delivered=maybe_delivered)


@shared_task(name="engage.tracking.cart", **TASK_OPTIONS)
def track_cart(
    self: Task, envelope: dict[str, Any], attempt: int = 0, maybe_delivered: bool = False
) -> dict[str, Any]:
    return run_task(self, envelope, handlers.CART, attempt=attempt, maybe_delivered=maybe_delivered)
