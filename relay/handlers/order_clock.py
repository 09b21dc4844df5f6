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
- `created`: the event id of the newest state sent as a create because Engage had no order (a shipment,
  a cancel or a delivery whose replace found none). An older state's own create, sent later, would land
  after it and take the order back in time, so it is not sent (`created_by_newer`).
- `receipt:{uniqueReceiptId}`: the receipt of a delivery or a return of this order was sent (kept here, in
  the order's own hash, so an order costs one key however many receipts it has).

Public: `verdict(clock, event_id, occurred_at)` (pure) and `OrderClock` (the ledger's side).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Final, Literal

from relay.ledger import Ledger, plan_fields, value_hash

ORDER_REF_PREFIX: Final = "order:"
VERSION_FIELD: Final = "version"
UNSTORED_FIELD: Final = "unstored"
STORED_MARK: Final = "stored"  # `unstored` once the state it named reached Engage
RECEIPT_FIELD_PREFIX: Final = "receipt:"
CREATED_FIELD: Final = "created"

Verdict = Literal["send", "behind", "superseded"]
"""send: the newest state (send, record it); behind: older than the newest, which never reached Engage
(send, record nothing); superseded: a newer state was sent (send nothing)."""


def verdict(clock: Mapping[str, tuple[int, str]], event_id: str, occurred_at: datetime) -> Verdict:
    if not plan_fields(clock, {VERSION_FIELD: event_id}, occurred_at).fully_superseded:
        return "send"
    if clock.get(UNSTORED_FIELD) == clock.get(VERSION_FIELD):
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

    def verdict(self, event_id: str, occurred_at: datetime) -> Verdict:
        return verdict(self._ledger.field_clock(self._tenant, self._ref), event_id, occurred_at)

    def record(self, event_id: str, occurred_at: datetime) -> None:
        """This event's state is the newest sent."""
        self._ledger.record_fields(self._tenant, self._ref, {VERSION_FIELD: event_id}, occurred_at)

    def mark_unstored(self, event_id: str, occurred_at: datetime) -> None:
        """This event's state found no order in Engage to change."""
        self._ledger.record_fields(self._tenant, self._ref, {UNSTORED_FIELD: event_id}, occurred_at)

    def mark_stored(self, event_id: str, occurred_at: datetime) -> None:
        """This event's state reached Engage: clear `unstored` when it named this event."""
        seen = self._ledger.field_clock(self._tenant, self._ref).get(UNSTORED_FIELD)
        if seen is not None and seen[1] == value_hash(event_id):
            self._ledger.record_fields(self._tenant, self._ref, {UNSTORED_FIELD: STORED_MARK}, occurred_at)

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
