"""A delivery's or a return's receipt, and alongside it the order's move in Engage (the journey's end).

`send_with_order_move(ctx, event, contact_id, receipt, move)` is what `relay.handlers.receipts` calls for
an e-com `order.delivered` and a `return.created` naming its order (`mappers.order_journey` plans the
move: a replacement with the whole order, or a status change). Each run of the event:

1. The receipt, once. A mark in the order's clock (`receipt:{uniqueReceiptId}`) says it went, so a later run
   (the order job followed, a ladder step after a failed order job, a 429, a held tenant) does not send
   it again; a crash between the post and the mark re-sends it, and Engage ignores a repeated
   uniqueReceiptId. Nothing that happens to the order write takes the receipt back or sends it twice.
2. The order move, under the order's lock and clock (`relay.handlers.order_clock`): an event older than
   the order's last state sent leaves the order alone; the receipt still counts, so the event is
   applied, with a detail saying so.
3. The move's job is followed through the schedule, as an order event's (`relay.handlers.orders`); the
   event is applied once the job completes. When the job fails:
   - "Order is missing": the order is created in its new state when the move has a whole order to create
     it from; else its state is kept as unstored and the event waits on the ladder (the placed order may
     still be on its way) for at most `ORDER_MISSING_WAIT_STEPS` steps, then is applied with a detail
     (the receipt went; Engage has no order to move).
   - "Contact is missing" waits on the ladder; other failures reject the event, saying the receipt went.
   A status change (no whole order to create it from) is the order's newest state `pending` until its
   job answers: older events of the order wait for that answer rather than conclude they are
   superseded. A completed job clears the mark; a failed one (or a failed look at it, or a stuck job)
   marks the change `unstored`, so the older states are sent after all and can create the order, and
   each look at a job still running renews the mark (`relay.handlers.order_clock`).

A move that may have arrived before a timeout is checked with a GET first, as order events are (a
replacement may carry an automation, which must not fire twice).

Public: `send_with_order_move`, `ORDER_MISSING_WAIT_STEPS`, `OrderNotInEngage`.
"""

from __future__ import annotations

from typing import Any, Final

from engage.errors import DeferredError, EngageError, RetryableError
from engage.models import OrderJob, ReceiptRequest
from mappers.order_journey import JourneyEvent, OrderMove
from relay.context import Applied, EventContext
from relay.handlers.order_clock import OrderClock, Verdict
from relay.handlers.orders import (
    JOB_KEY,
    already_in_state,
    create_unless_newer,
    follow_job,
    wait_for_job,
    write_order,
)

ORDER_MISSING_WAIT_STEPS: Final = 3
"""Ladder steps (10 s, 30 s, 60 s by default) a move waits for its order to reach Engage."""
VERDICT_KEY: Final = "order_verdict"


class OrderNotInEngage(RetryableError):
    """The order move found no order in Engage and nothing to create it from: wait for the order."""

    def _text(self) -> str:
        return self.summary


def send_with_order_move(
    ctx: EventContext, event: JourneyEvent, contact_id: str, receipt: ReceiptRequest, move: OrderMove | None
) -> Applied:
    state = ctx.state
    if JOB_KEY in state and move is not None:
        return _follow(ctx, event, contact_id, move, state)
    if move is None:  # no order (or the tenant does not use Engage's orders): the receipt alone
        ctx.called("receipts.create")
        ctx.client.create_receipt(receipt)
        return Applied(contact_id=contact_id)
    clock = OrderClock(ctx.runtime.ledger, ctx.tenant.name, move.order_id)
    if not clock.receipt_sent(receipt.unique_receipt_id):
        ctx.called("receipts.create")
        ctx.client.create_receipt(receipt)
        clock.mark_receipt_sent(receipt.unique_receipt_id, event.id, event.occurred_at)
    with clock.lock():
        verdict = clock.verdict(event.id, event.occurred_at)
        if verdict == "superseded":
            return Applied(
                contact_id=contact_id, detail=f"order {move.order_id} has a newer state: not moved"
            )
        if ctx.maybe_delivered and already_in_state(
            ctx, move.order_id, move.change.status, move.change.external_status
        ):
            if verdict == "send":
                clock.record(event.id, event.occurred_at)
                clock.mark_stored(event.id, event.occurred_at)  # a pending mark of the run before
            return Applied(contact_id=contact_id, detail="order state found after timeout")
        job = _write(ctx, move)
        if verdict == "send":
            # a change that cannot create the order: older states wait for its answer (order_clock)
            clock.record(event.id, event.occurred_at, pending=move.creation is None)
    result = wait_for_job(ctx, job, move.write, contact_id, **{VERDICT_KEY: verdict})
    if ctx.parked is None and verdict == "send":  # the write's answer already said completed
        clock.mark_stored(event.id, event.occurred_at)
    return result


def _write(ctx: EventContext, move: OrderMove) -> OrderJob:
    if move.replacement is not None:
        return write_order(ctx, move.replacement, "replace")
    ctx.called("orders.change_status")
    return ctx.client.change_order_status(move.order_id, move.change)


def _follow(
    ctx: EventContext, event: JourneyEvent, contact_id: str, move: OrderMove, state: dict[str, Any]
) -> Applied:
    verdict: Verdict = "behind" if state.get(VERDICT_KEY) == "behind" else "send"
    clock = OrderClock(ctx.runtime.ledger, ctx.tenant.name, move.order_id)

    def order_missing(write: str) -> Applied | None:
        if write == "create":
            return None
        if move.creation is not None:
            job = create_unless_newer(ctx, clock, event.id, event.occurred_at, move.creation)
            if job is None:
                newer = "receipt sent; a newer state of the order was created meanwhile"
                return Applied(contact_id=contact_id, detail=newer)
            return wait_for_job(ctx, job, "create", contact_id, **{VERDICT_KEY: verdict})
        not_moved = Applied(
            contact_id=contact_id, detail=f"receipt sent; Engage has no order {move.order_id} to move"
        )
        if verdict == "behind":
            return not_moved  # an older state: the newest one is waiting for the order already
        clock.mark_unstored(event.id, event.occurred_at)
        if ctx.attempt >= min(ORDER_MISSING_WAIT_STEPS, len(ctx.runtime.retry_ladder_s)):
            return not_moved
        raise OrderNotInEngage(f"receipt sent; Engage has no order {move.order_id} yet")

    pending = verdict == "send" and move.creation is None  # older states wait for this change's answer
    try:
        result = follow_job(ctx, state, contact_id, order_missing, prefix="receipt sent; ")
    except DeferredError:
        raise  # parked with its job: it looks again
    except EngageError:
        if pending:  # failed, stuck, rejected, or its look failed (a step up the ladder): not stored
            clock.mark_unstored(event.id, event.occurred_at)
        raise
    if ctx.parked is not None:
        if pending:
            clock.renew_pending(event.id)
    elif result.detail is None and verdict == "send":
        clock.mark_stored(event.id, event.occurred_at)
    return result
