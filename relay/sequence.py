"""Per-order sequencing: the events of one order run one at a time, oldest first.

Events of one order (order.placed / shipped / cancelled, an e-com delivery, a return naming its order)
each write the order, and an order's job in Engage is processed after the write that started it. Run
side by side (a drain after an outage, a replay), an older state's write could land after a newer one's
and leave the order a step behind: a delivery whose replace found no order creates it as delivered,
after the return's status change had already been accepted. The per-order clock
(`relay.handlers.order_clock`) keeps an older event from being *sent* after a newer one, but not from
*landing* after it when both are in flight.

So the schedule keeps, per tenant and order, the events of that order it holds, by `occurred_at`
(`Schedule.ahead`). Before a job of an order runs (not while it follows its own order job), the worker
asks whether an older event of the same order is still in the schedule; if one is, the job waits
(`sequence`) until about when that one is due, and asks again. The oldest always runs, so nothing waits
forever: an older event ends (applied, superseded, rejected, dead-lettered or spilled) or is due again.

Public: `sequence_of(event)` (pure), `SEQUENCE_WAIT_S`, `Ahead`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from schemas.envelope import Envelope
from schemas.orders import OrderCancelledEvent, OrderPlacedEvent, OrderShippedEvent
from schemas.sales import OrderDeliveredEvent, ReturnCreatedEvent

SEQUENCE_PREFIX: Final = "order:"
SEQUENCE_WAIT_S: Final = 0.5  # an older event of the order is running: look again this much later
SEQUENCE_DUE_MARGIN_S: Final = 0.1  # an older event waits until T: look again just after it ran
SEQUENCE_TTL_S: Final = 30 * 86_400  # an order's sequence outlives its events by at most this (a crash)


def sequence_of(event: Envelope) -> str | None:
    """The order an event writes, as a sequence name; None for an event that writes no order."""
    if isinstance(event, OrderPlacedEvent | OrderShippedEvent | OrderCancelledEvent | OrderDeliveredEvent):
        return f"{SEQUENCE_PREFIX}{event.data.order_id}"
    if isinstance(event, ReturnCreatedEvent) and event.data.original_order_id is not None:
        return f"{SEQUENCE_PREFIX}{event.data.original_order_id}"
    return None


@dataclass(frozen=True)
class Ahead:
    """The older events of a job's order still in the schedule."""

    count: int  # how many
    leased: int  # of them, how many are running (sent to a worker)
    next_due_s: float | None  # the soonest a waiting one may run (seconds since the epoch)

    def look_again_at(self, now_s: float) -> float:
        """When the job behind them should ask again."""
        if self.leased or self.next_due_s is None:
            return now_s + SEQUENCE_WAIT_S
        return max(now_s + SEQUENCE_WAIT_S, self.next_due_s + SEQUENCE_DUE_MARGIN_S)
