"""The per-order clock: which state of an order was sent last, so an older event never moves it back.

Every write of an order (order.placed / shipped / cancelled, and the order move of a delivery or a
return) goes through it. It lives in the ledger's field clocks under `order:{order_id}` (ids and times,
no personal data), with two fields:

- `version`: the event id of the newest state sent, at its `occurred_at`. Recorded when the write is
  sent, under the order's lock, so writes reach Engage in the order of their events.
- `unstored`: the same event again, when its write found no order in Engage and had nothing to create
  one from (a status change with no whole order). The newest state then never reached Engage, and an
  older event is not superseded by it: one that can create the order is sent after all (`behind`),
  without moving the clock, while the newest waits on the ladder and is sent again on top of it. Once
  it is stored, `unstored` is cleared.
- `pending`: the same event as `version`, when its write is a status change with nothing to create the
  order from, sent and awaiting its job's answer (kept at the wall-clock time it was set). Until that
  answer, an older event cannot tell whether it is superseded (the change is stored) or must create the
  order (the change finds none and becomes `unstored`), so it waits (`OrderStatePending`, a short
  deferral off the ladder); each look at its job renews it, and one not renewed for `PENDING_STALE_S`
  counts as not stored (`behind`). The answer clears it (`stored`, or `unstored`).
  Without it, a return that arrived first left its order's older states superseded while its change
  was still in flight, and the order was never created.
- `created`: the event id of the newest state sent as a create because Engage had no order (a shipment,
  a cancel or a delivery whose replace found none). An older state's own create, sent later, would land
  after it and take the order back in time, so it is not sent (`created_by_newer`).
- `receipt:{uniqueReceiptId}`: the receipt of a delivery or a return of this order was sent (kept here, in
  the order's own hash, so an order costs one key however many receipts it has).

Public: `verdict(clock, event_id, occurred_at, now_s)` (pure), `OrderClock` (the ledger's side) and
`PENDING_STALE_S`.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Final, Literal

from relay.errors import OrderStatePending
from relay.ledger import Ledger, plan_fields, value_hash

ORDER_REF_PREFIX: Final = "order:"
VERSION_FIELD: Final = "version"
UNSTORED_FIELD: Final = "unstored"
STORED_MARK: Final = "stored"  # `unstored` once the state it named reached Engage
RECEIPT_FIELD_PREFIX: Final = "receipt:"
CREATED_FIELD: Final = "created"
PENDING_FIELD: Final = "pending"
ANSWERED_MARK: Final = "answered"  # `pending` once its state's answer is in (stored, or unstored)
PENDING_STALE_S: Final = 300.0
"""A pending state not heard of for this long (its worker crashed, or its job's look failed and it went up
the ladder) counts as not stored: an older event is then sent after all (`behind`), and the newest state,
which runs after it in the order's sequence, is sent again on top. Each look at its job renews the mark
(looks are at most `ORDER_JOB_POLL_MAX_S`, 60 s, apart)."""

Verdict = Literal["send", "behind", "superseded", "wait"]
"""send: the newest state (send, record it); behind: older than the newest, which never reached Engage
(send, record nothing); superseded: a newer state was sent (send nothing); wait: a newer state was sent
and Engage's answer to it is not in yet (come back)."""


def verdict(
    clock: Mapping[str, tuple[int, str]], event_id: str, occurred_at: datetime, now_s: float
) -> Verdict:
    if not plan_fields(clock, {VERSION_FIELD: event_id}, occurred_at).fully_superseded:
        return "send"
    version = clock.get(VERSION_FIELD)
    pending = clock.get(PENDING_FIELD)
    if pending is not None and version is not None and pending[1] == version[1]:
        # the newest state's answer is outstanding (checked first: a change sent again after it was
        # unstored is in flight once more, and an older state sent beside it could land after it)
        fresh = now_s * 1_000_000 - pending[0] < PENDING_STALE_S * 1_000_000
        return "wait" if fresh else "behind"
    if clock.get(UNSTORED_FIELD) == version:
        return "behind"
    return "superseded"


class OrderClock:
    """One order's clock for one tenant."""

    def __init__(self, ledger: Ledger, tenant: str, order_id: str) -> None:
        self._ledger = ledger
        self._tenant = tenant
        self._ref = f"{ORDER_REF_PREFIX}{order_id}"

    def lock(self) -> AbstractContextManager[None]:
        """Serialize work on this order across workers (ContactBusy when it is held too long)."""
        return self._ledger.contact_lock(self._tenant, self._ref)

    def verdict(self, event_id: str, occurred_at: datetime) -> Literal["send", "behind", "superseded"]:
        """This event's verdict; OrderStatePending while a newer state's answer is not in."""
        clock = self._ledger.field_clock(self._tenant, self._ref)
        seen = verdict(clock, event_id, occurred_at, datetime.now(UTC).timestamp())
        if seen == "wait":
            raise OrderStatePending(self._ref.removeprefix(ORDER_REF_PREFIX))
        return seen

    def record(self, event_id: str, occurred_at: datetime, *, pending: bool = False) -> None:
        """This event's state is the newest sent; `pending` while its answer decides what older ones do."""
        self._ledger.record_fields(self._tenant, self._ref, {VERSION_FIELD: event_id}, occurred_at)
        if pending:
            self._ledger.record_fields(self._tenant, self._ref, {PENDING_FIELD: event_id}, datetime.now(UTC))

    def mark_unstored(self, event_id: str, occurred_at: datetime) -> None:
        """This event's state did not reach Engage (no order to change, or its job failed): older states
        are sent after all (`behind`)."""
        self._ledger.record_fields(self._tenant, self._ref, {UNSTORED_FIELD: event_id}, occurred_at)
        self._answered(event_id)

    def mark_stored(self, event_id: str, occurred_at: datetime) -> None:
        """This event's state reached Engage: clear `unstored` and `pending` where they name this event."""
        clock = self._ledger.field_clock(self._tenant, self._ref)
        seen = clock.get(UNSTORED_FIELD)
        if seen is not None and seen[1] == value_hash(event_id):
            self._ledger.record_fields(self._tenant, self._ref, {UNSTORED_FIELD: STORED_MARK}, occurred_at)
        self._swap_pending(event_id, ANSWERED_MARK, clock)  # one read of the clock for both fields

    def renew_pending(self, event_id: str) -> None:
        """This event's state is still awaiting its answer (a look at its job): keep older ones waiting."""
        self._swap_pending(event_id, event_id)

    def _answered(self, event_id: str) -> None:
        self._swap_pending(event_id, ANSWERED_MARK)

    def _swap_pending(
        self, event_id: str, value: str, clock: Mapping[str, tuple[int, str]] | None = None
    ) -> None:
        """`pending` := value, when it names this event (`clock`: the clock just read, if the caller has
        it). Not under the order's lock (a caller may hold it): a newer state cannot record its own mark
        meanwhile, since it waits for this event in the order's sequence (relay/sequence.py) while this
        one follows its job."""
        if clock is None:
            clock = self._ledger.field_clock(self._tenant, self._ref)
        seen = clock.get(PENDING_FIELD)
        if seen is not None and seen[1] == value_hash(event_id):
            self._ledger.record_fields(self._tenant, self._ref, {PENDING_FIELD: value}, datetime.now(UTC))

    def created_by_newer(self, event_id: str, occurred_at: datetime) -> bool:
        """Whether a newer state of the order was already sent as a create (this event's must not be)."""
        clock = self._ledger.field_clock(self._tenant, self._ref)
        return plan_fields(clock, {CREATED_FIELD: event_id}, occurred_at).fully_superseded

    def record_created(self, event_id: str, occurred_at: datetime) -> None:
        """This event's state is sent as a create (Engage had no order to replace)."""
        self._ledger.record_fields(self._tenant, self._ref, {CREATED_FIELD: event_id}, occurred_at)

    def receipt_sent(self, unique_receipt_id: str) -> bool:
        return f"{RECEIPT_FIELD_PREFIX}{unique_receipt_id}" in self._ledger.field_clock(
            self._tenant, self._ref
        )

    def mark_receipt_sent(self, unique_receipt_id: str, event_id: str, occurred_at: datetime) -> None:
        field = f"{RECEIPT_FIELD_PREFIX}{unique_receipt_id}"
        self._ledger.record_fields(self._tenant, self._ref, {field: event_id}, occurred_at)
