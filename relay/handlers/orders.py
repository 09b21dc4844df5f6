"""order.placed / order.shipped / order.cancelled -> Orders v3, with the action embedded in the order.

One write per event (POST to create, PUT to replace, keyed by orderId), the action travelling in the
body (with its language and data: a cancel reason reaches Engage), so Engage runs it once that version is
processed. Orders are asynchronous: the write answers 201 (or 202) with a job, and the event is `applied`
only once the job has completed. The job is followed through the schedule, never in a worker thread: the
run that wrote parks the event (reason `order_job`) with the job's id, and each later run asks Engage once
(a GET within the tenant's budget) and parks again until the job is done.

- A failed job "Order is missing" (a shipped or cancelled order whose placed order Engage never stored)
  is answered by creating the order in its current state: every event carries the whole order.
- "Contact is missing" waits on the ladder (the contact may still be on its way); "Store is missing"
  and other failures are permanent, with Engage's own words.
- A write that may have arrived before a timeout is checked with a GET first (Voyado's retry policy),
  since a repeated write would fire the automation (order mail) twice.

Each order keeps the `occurred_at` of its last state sent: an older event (placed after shipped) is not
sent and is reported superseded, so the order never goes back in time.
"""

from __future__ import annotations

import time
from typing import Any, Final

from engage.errors import NotFound, PermanentError, RetryableError
from engage.models.orders import OrderJob
from mappers.contacts import plan_implicit_create
from mappers.identity import order_contact
from mappers.orders import OrderEvent, OrderPlan, order_plan
from relay.context import Applied, EventContext
from relay.ledger import plan_fields
from relay.resolve import resolve_buyer

ORDER_REF_PREFIX: Final = "order:"
ORDER_VERSION_FIELD: Final = "version"
ORDER_JOB_POLL_S: Final = 1.0  # Engage processes an order job within moments; asked again this often
JOB_KEY: Final = "order_job"
WRITE_KEY: Final = "order_write"
ORDER_MISSING: Final = "order is missing"
CONTACT_MISSING: Final = "contact is missing"


class OrderJobFailed(PermanentError):
    """Engage's order job failed for a reason that retrying does not change (a missing store, a bad order)."""

    def _text(self) -> str:
        return self.summary


class OrderContactMissing(RetryableError):
    """The order job failed "Contact is missing": the contact may still be on its way; try again later."""

    def _text(self) -> str:
        return self.summary


def apply_order(ctx: EventContext, event: OrderEvent) -> Applied:
    buyer = resolve_buyer(ctx, event.data.customer, plan_implicit_create(event, ctx.tenant.policy))
    plan = order_plan(event, ctx.tenant.policy, order_contact(buyer.contact_id))
    state = ctx.state
    if JOB_KEY in state:
        return _follow(ctx, plan, buyer.contact_id, state)
    ledger = ctx.runtime.ledger
    order_ref = f"{ORDER_REF_PREFIX}{plan.order_id}"
    with ledger.contact_lock(ctx.tenant.name, order_ref):
        version = {ORDER_VERSION_FIELD: event.id}
        if plan_fields(
            ledger.field_clock(ctx.tenant.name, order_ref), version, event.occurred_at
        ).fully_superseded:
            return Applied(
                "superseded", buyer.contact_id, detail="a newer state of this order was already sent"
            )
        if ctx.maybe_delivered and _already_written(ctx, plan):
            ledger.record_fields(ctx.tenant.name, order_ref, version, event.occurred_at)
            return Applied(contact_id=buyer.contact_id, detail="order version found after timeout")
        job = _write(ctx, plan, plan.write)
        ledger.record_fields(ctx.tenant.name, order_ref, version, event.occurred_at)
    return _wait(ctx, job, plan.write)


def _write(ctx: EventContext, plan: OrderPlan, write: str) -> OrderJob:
    body = plan.embedded()
    if write == "create":
        ctx.called("orders.create")
        return ctx.client.create_order(body)
    ctx.called("orders.replace")
    return ctx.client.replace_order(body)


def _wait(ctx: EventContext, job: OrderJob, write: str) -> Applied:
    if job.done and not job.failed:  # an answer that already says completed
        return Applied()
    due = time.time() + ORDER_JOB_POLL_S
    return ctx.wait_for_engage(due, "order_job", {JOB_KEY: job.job_id, WRITE_KEY: write})


def _follow(ctx: EventContext, plan: OrderPlan, contact_id: str, state: dict[str, Any]) -> Applied:
    ctx.called("orders.job")
    job = ctx.client.get_order_job(str(state[JOB_KEY]))
    if not job.done:
        return ctx.wait_for_engage(time.time() + ORDER_JOB_POLL_S, "order_job", state)
    if not job.failed:
        return Applied(contact_id=contact_id)
    reason = _job_error(job)
    if ORDER_MISSING in reason.casefold() and state.get(WRITE_KEY) == "replace":
        # Shipped or cancelled before Engage stored the placed order: create it in its current state.
        return _wait(ctx, _write(ctx, plan, "create"), "create")
    if CONTACT_MISSING in reason.casefold():
        raise OrderContactMissing(f"order job failed: {reason}")
    raise OrderJobFailed(f"order job failed: {reason}", error_code="OrderJobFailed")


def _job_error(job: OrderJob) -> str:
    texts = []
    for error in job.errors:
        if isinstance(error, dict):
            texts.append(str(error.get("message") or error.get("errorMessage") or error))
        else:
            texts.append(str(error))
    return "; ".join(texts) or job.status


def _already_written(ctx: EventContext, plan: OrderPlan) -> bool:
    ctx.called("orders.get")
    try:
        stored = ctx.client.get_order(plan.order_id)
    except NotFound:
        return False
    return stored.status == plan.request.status and stored.external_status == plan.request.external_status
