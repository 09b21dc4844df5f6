"""The Celery tasks, one per Engage flow. Each is thin: it names its handler and lets the relay work.

Task names are stable (Flower shows them; messages in the broker carry them across deploys). A message
carries the event's `job` (from the schedule's mover); the first version's `envelope`, `attempt` and
`maybe_delivered` are still accepted, so messages queued before an upgrade keep working.
Every task acknowledges late; nothing waits in Celery (every wait is parked in the schedule), and the
broker keeps no copy of a delivered message: one its worker died with is sent again by the schedule's lease.
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
    "max_retries": 0,  # never retried by Celery: the relay parks every wait in the schedule
    "ignore_result": True,
}


@shared_task(name="engage.contacts.upsert", **TASK_OPTIONS)
def upsert_contact(
    self: Task,
    envelope: dict[str, Any] | None = None,
    attempt: int = 0,
    maybe_delivered: bool = False,
    job: dict[str, Any] | None = None,
) -> str:
    return run_task(
        self, handlers.CUSTOMER, job=job, envelope=envelope, attempt=attempt, maybe_delivered=maybe_delivered
    )


@shared_task(name="engage.receipts.create", **TASK_OPTIONS)
def create_receipt(
    self: Task,
    envelope: dict[str, Any] | None = None,
    attempt: int = 0,
    maybe_delivered: bool = False,
    job: dict[str, Any] | None = None,
) -> str:
    return run_task(
        self, handlers.PURCHASE, job=job, envelope=envelope, attempt=attempt, maybe_delivered=maybe_delivered
    )


@shared_task(name="engage.receipts.create_return", **TASK_OPTIONS)
def create_return(
    self: Task,
    envelope: dict[str, Any] | None = None,
    attempt: int = 0,
    maybe_delivered: bool = False,
    job: dict[str, Any] | None = None,
) -> str:
    return run_task(
        self, handlers.RETURN, job=job, envelope=envelope, attempt=attempt, maybe_delivered=maybe_delivered
    )


@shared_task(name="engage.promotions.assign", **TASK_OPTIONS)
def assign_promotion(
    self: Task,
    envelope: dict[str, Any] | None = None,
    attempt: int = 0,
    maybe_delivered: bool = False,
    job: dict[str, Any] | None = None,
) -> str:
    return run_task(
        self,
        handlers.ASSIGNMENT,
        job=job,
        envelope=envelope,
        attempt=attempt,
        maybe_delivered=maybe_delivered,
    )


@shared_task(name="engage.promotions.redeem", **TASK_OPTIONS)
def redeem_promotion(
    self: Task,
    envelope: dict[str, Any] | None = None,
    attempt: int = 0,
    maybe_delivered: bool = False,
    job: dict[str, Any] | None = None,
) -> str:
    return run_task(
        self,
        handlers.PROMOTION_REDEMPTION,
        job=job,
        envelope=envelope,
        attempt=attempt,
        maybe_delivered=maybe_delivered,
    )


@shared_task(name="engage.vouchers.redeem", **TASK_OPTIONS)
def redeem_voucher(
    self: Task,
    envelope: dict[str, Any] | None = None,
    attempt: int = 0,
    maybe_delivered: bool = False,
    job: dict[str, Any] | None = None,
) -> str:
    return run_task(
        self,
        handlers.VOUCHER_REDEMPTION,
        job=job,
        envelope=envelope,
        attempt=attempt,
        maybe_delivered=maybe_delivered,
    )


@shared_task(name="engage.orders.sync", **TASK_OPTIONS)
def sync_order(
    self: Task,
    envelope: dict[str, Any] | None = None,
    attempt: int = 0,
    maybe_delivered: bool = False,
    job: dict[str, Any] | None = None,
) -> str:
    return run_task(
        self, handlers.ORDER, job=job, envelope=envelope, attempt=attempt, maybe_delivered=maybe_delivered
    )


@shared_task(name="engage.tracking.product_view", **TASK_OPTIONS)
def track_product_view(
    self: Task,
    envelope: dict[str, Any] | None = None,
    attempt: int = 0,
    maybe_delivered: bool = False,
    job: dict[str, Any] | None = None,
) -> str:
    return run_task(
        self,
        handlers.PRODUCT_VIEW,
        job=job,
        envelope=envelope,
        attempt=attempt,
        maybe_delivered=maybe_delivered,
    )


@shared_task(name="engage.tracking.cart", **TASK_OPTIONS)
def track_cart(
    self: Task,
    envelope: dict[str, Any] | None = None,
    attempt: int = 0,
    maybe_delivered: bool = False,
    job: dict[str, Any] | None = None,
) -> str:
    return run_task(
        self, handlers.CART, job=job, envelope=envelope, attempt=attempt, maybe_delivered=maybe_delivered
    )
