"""order.placed / order.shipped / order.cancelled -> Orders v3, with the action embedded in the order.

One write per event (POST to create, PUT to replace, keyed by orderId), the action travelling in the
body (with its language and data: a cancel reason reaches Engage), so Engage runs it once that version is
processed. Orders are asynchronous: the write answers 201 (or 202) with a job, and the event is `applied`
only once the job has completed. The job is followed through the schedule, never in a worker thread: the
run that wrote parks the event (reason `order_job`) with the job's id, and each later run asks Engage once
(a GET within the tenant's budget) and parks again until the job is done, each wait longer than the one
before (`ORDER_JOB_POLL_S` doubled up to `ORDER_JOB_POLL_MAX_S`). A job still not done
`ORDER_JOB_MAX_WAIT_S` after the write is `OrderJobStuck`: the event goes up the retry ladder (the next
step writes the order again, a new job) and, at its end, to the dead letters with that cause.
A job is done once Completed, CompletedWithErrors (failed when it carries errors) or Failed; a job poll
answered with a 4xx is the failed job, in Engage's words (`EngageClient.get_order_job`).

- A failed job "Order is missing" (a shipped or cancelled order whose placed order Engage never stored)
  is answered by creating the order in its current state: every event carries the whole order.
- "Contact is missing" waits on the ladder (the contact may still be on its way); "Store is missing"
  and other failures are permanent, with Engage's own words.
- A write that may have arrived before a timeout is checked with a GET first (Voyado's retry policy),
  since a repeated write would fire the automation (order mail) twice.

Each order keeps the `occurred_at` of its last state sent (`relay.handlers.order_clock`): an older event
(placed after shipped) is not sent and is reported superseded, so the order never goes back in time;
unless that newest state never reached Engage (a return's status change that found no order), when the
older event is sent after all to create the order, and the clock stays where it is.

Shared with the order moves of deliveries and returns (`relay.handlers.journey`): `write_order`,
`wait_for_job`, `follow_job` and `already_in_state`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from engage.errors import NotFound, PermanentError, RetryableError
from engage.models.orders import OrderJob
from mappers.contacts import plan_implicit_create
from mappers.identity import order_contact
from mappers.orders import OrderEvent, OrderPlan, order_plan
from relay.context import Applied, EventContext
from relay.handlers.order_clock import OrderClock
from relay.resolve import resolve_buyer

ORDER_JOB_POLL_S: Final = 1.0  # Engage processes an order job within moments: the first look after this
ORDER_JOB_POLL_BACKOFF: Final = 2.0  # each look at a job still running waits this much longer than the last
ORDER_JOB_POLL_MAX_S: Final = 60.0  # never longer between two looks
ORDER_JOB_MAX_WAIT_S: Final = 900.0  # a job not done this long after the write is stuck: up the ladder
JOB_KEY: Final = "order_job"
JOB_SINCE_KEY: Final = "order_job_since"  # when the job was accepted (epoch seconds)
JOB_POLLS_KEY: Final = "order_job_polls"  # how often the job was looked at
WRITE_KEY: Final = "order_write"
CALLS_KEY: Final = "calls_so_far"  # the calls of the runs before, so the outcome lists all the event cost
ORDER_MISSING: Final = "order is missing"
CONTACT_MISSING: Final = "contact is missing"


class OrderJobFailed(PermanentError):
    """Engage's order job failed for a reason that retrying does not change (a missing store, a bad order)."""

    def _text(self) -> str:
        return self.summary


class OrderJobStuck(RetryableError):
    """Engage's order job was not done `ORDER_JOB_MAX_WAIT_S` after the write: the step is written again."""

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
        contact_id = buyer.contact_id
        return follow_job(
            ctx, state, contact_id, lambda write: _create_instead(ctx, event, plan, write, contact_id)
        )
    clock = OrderClock(ctx.runtime.ledger, ctx.tenant.name, plan.order_id)
    with clock.lock():
        verdict = clock.verdict(event.id, event.occurred_at)
        if verdict == "superseded":
            return Applied(
                "superseded", buyer.contact_id, detail="a newer state of this order was already sent"
            )
        wanted = (plan.request.status, plan.request.external_status)
        if ctx.maybe_delivered and already_in_state(ctx, plan.order_id, *wanted):
            if verdict == "send":
                clock.record(event.id, event.occurred_at)
            return Applied(contact_id=buyer.contact_id, detail="order version found after timeout")
        job = write_order(ctx, plan, plan.write)
        if verdict == "send":
            clock.record(event.id, event.occurred_at)
    return wait_for_job(ctx, job, plan.write, buyer.contact_id)


def _create_instead(
    ctx: EventContext, event: OrderEvent, plan: OrderPlan, write: str, contact_id: str
) -> Applied | None:
    """Shipped or cancelled before Engage stored the placed order: create it in its current state, unless
    a newer state was already sent as a create (this older one would land after it)."""
    if write != "replace":
        return None
    clock = OrderClock(ctx.runtime.ledger, ctx.tenant.name, plan.order_id)
    job = create_unless_newer(ctx, clock, event.id, event.occurred_at, plan)
    if job is None:
        return Applied("superseded", contact_id, detail="a newer state of this order was created meanwhile")
    return wait_for_job(ctx, job, "create", contact_id)


def create_unless_newer(
    ctx: EventContext, clock: OrderClock, event_id: str, occurred_at: datetime, plan: OrderPlan
) -> OrderJob | None:
    """Create the order Engage lacks in this event's state, under the order's lock; None (nothing sent)
    when a newer state was created already: this older create would land after it."""
    with clock.lock():
        if clock.created_by_newer(event_id, occurred_at):
            return None
        clock.record_created(event_id, occurred_at)
        return write_order(ctx, plan, "create")


def write_order(ctx: EventContext, plan: OrderPlan, write: str) -> OrderJob:
    """POST (`create`) or PUT (`replace`) the plan's order with its embedded action."""
    body = plan.embedded()
    if write == "create":
        ctx.called("orders.create")
        return ctx.client.create_order(body)
    ctx.called("orders.replace")
    return ctx.client.replace_order(body)


def wait_for_job(
    ctx: EventContext, job: OrderJob, write: str, contact_id: str | None = None, **state: Any
) -> Applied:
    """Park the event until Engage has processed `job` (applied at once when its answer already says
    completed); the next run finds the job's id, the write, and `state`, in `ctx.state`."""
    if job.done and not job.failed:
        return Applied(contact_id=contact_id)
    now = time.time()
    waiting = {
        **state,
        JOB_KEY: job.job_id,
        WRITE_KEY: write,
        CALLS_KEY: list(ctx.calls),
        JOB_SINCE_KEY: now,
        JOB_POLLS_KEY: 0,
    }
    return ctx.wait_for_engage(now + poll_wait_s(0), "order_job", waiting)


def poll_wait_s(polls: int) -> float:
    """The wait before the next look at a job already looked at `polls` times."""
    return min(ORDER_JOB_POLL_S * ORDER_JOB_POLL_BACKOFF ** min(polls, 32), ORDER_JOB_POLL_MAX_S)


def follow_job(
    ctx: EventContext,
    state: dict[str, Any],
    contact_id: str,
    on_order_missing: Callable[[str], Applied | None],
    *,
    prefix: str = "",
) -> Applied:
    """Ask Engage once about the job in `state`: park again while it runs, applied once it completed.
    A failed job "Order is missing" is answered by `on_order_missing(write)` (None: no answer, a
    permanent failure); "Contact is missing" waits on the ladder; others are permanent. `prefix` starts
    the error's text (what was already done)."""
    ctx.calls[:0] = [str(call) for call in state.get(CALLS_KEY, [])]
    ctx.called("orders.job")
    job = ctx.client.get_order_job(str(state[JOB_KEY]))
    if not job.done:
        return _wait_again(ctx, state, job.status, prefix)
    if not job.failed:
        return Applied(contact_id=contact_id)
    reason = job_error(job)
    if ORDER_MISSING in reason.casefold():
        answer = on_order_missing(str(state.get(WRITE_KEY)))
        if answer is not None:
            return answer
    if CONTACT_MISSING in reason.casefold():
        raise OrderContactMissing(f"{prefix}order job failed: {reason}")
    raise OrderJobFailed(f"{prefix}order job failed: {reason}", error_code="OrderJobFailed")


def _wait_again(ctx: EventContext, state: dict[str, Any], status: str, prefix: str) -> Applied:
    """Park for the next look at a job still running; OrderJobStuck once it ran too long."""
    now = time.time()
    since = float(state.get(JOB_SINCE_KEY, now))  # an event parked before the bookkeeping: from now
    polls = int(state.get(JOB_POLLS_KEY, 0)) + 1
    waited_s = now - since
    if waited_s >= ORDER_JOB_MAX_WAIT_S:
        raise OrderJobStuck(
            f"{prefix}order job {state[JOB_KEY]} still {status} after {round(waited_s)} s "
            f"({polls} looks; the limit is {ORDER_JOB_MAX_WAIT_S:.0f} s)",
            error_code="OrderJobStuck",
        )
    waiting = {**state, CALLS_KEY: list(ctx.calls), JOB_SINCE_KEY: since, JOB_POLLS_KEY: polls}
    due = min(now + poll_wait_s(polls), since + ORDER_JOB_MAX_WAIT_S)
    return ctx.wait_for_engage(due, "order_job", waiting)


def job_error(job: OrderJob) -> str:
    """The job's failure in Engage's words."""
    texts = []
    for error in job.errors:
        if isinstance(error, dict):
            texts.append(str(error.get("message") or error.get("errorMessage") or error))
        else:
            texts.append(str(error))
    return "; ".join(texts) or job.status


def already_in_state(
    ctx: EventContext, order_id: str, status: str | None, external_status: str | None
) -> bool:
    """Whether Engage's order already has this state (a write that may have arrived before a timeout)."""
    ctx.called("orders.get")
    try:
        stored = ctx.client.get_order(order_id)
    except NotFound:
        return False
    return stored.status == status and stored.external_status == external_status
