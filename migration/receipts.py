"""Receipt rows -> transactions-file records, through the same mappers as the API path.

Each NDJSON line is one of our `order.delivered`, `receipt.completed` or `return.created` envelopes
(for this tenant), or such an event's bare `data` object; a bare object's type is told by its id field
(`order_id` -> order.delivered, `receipt_id` -> receipt.completed, `return_id` -> return.created).
It is validated by the event model and mapped with `mappers.receipts.receipt_request` or
`mappers.returns.return_request`. The buyer is named by key (`mappers.identity.receipt_contact_by_key`:
contactId when given, else the tenant's key, else the best other key), since Engage matches file
receipts to contacts that must already exist; records are grouped by `matchKeyType` because a
transactions file may use only one.

Receipts created before the cutoff (24 calendar months before the run's first start by default,
Voyado's advice) are skipped and counted as `skipped_old`.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any, Final

from mappers.identity import receipt_contact_by_key
from mappers.policy import TenantPolicy
from mappers.receipts import receipt_request
from mappers.returns import return_request
from migration.contacts import SYNTHETIC_OCCURRED_AT, SYNTHETIC_TENANT
from migration.outcomes import Mapped, Rejected, RowOutcome, Skipped, reasons_of
from migration.sources import SourceRow
from schemas.parsing import InvalidEvent, parse_event
from schemas.sales import OrderDeliveredEvent, ReceiptCompletedEvent, ReturnCreatedEvent

DEFAULT_HISTORY_MONTHS: Final = 24
SKIPPED_OLD: Final = "skipped_old"
TYPE_BY_ID_FIELD: Final[Mapping[str, str]] = {
    "order_id": "order.delivered",
    "receipt_id": "receipt.completed",
    "return_id": "return.created",
}
RECEIPT_TYPES: Final = frozenset(TYPE_BY_ID_FIELD.values())

SaleOrReturn = OrderDeliveredEvent | ReceiptCompletedEvent | ReturnCreatedEvent


def months_before(moment: datetime, months: int) -> datetime:
    """The same wall-clock time ``months`` calendar months earlier (the day clamped to the month's end)."""
    total = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def history_cutoff(
    now: datetime, months: int = DEFAULT_HISTORY_MONTHS, since: date | None = None
) -> datetime:
    """The earliest receipt time migrated: ``since`` (00:00 UTC) when given, else ``months`` before now."""
    if since is not None:
        return datetime.combine(since, time(0, 0), tzinfo=UTC)
    return months_before(now, months)


class ReceiptRowMapper:
    """Maps one receipt row (see the module docstring) to a transactions-file record."""

    def __init__(self, tenant: str, policy: TenantPolicy, cutoff: datetime) -> None:
        if cutoff.tzinfo is None:
            raise ValueError("the cutoff must be timezone-aware")
        self.tenant = tenant
        self.policy = policy
        self.cutoff = cutoff

    def __call__(self, row: SourceRow) -> RowOutcome:
        if row.error is not None:
            return Rejected([row.error])
        envelope = _is_envelope(row.values)
        try:
            event = self._event(row, envelope)
        except InvalidEvent as exc:
            return Rejected(reasons_of(exc, strip_data=not envelope))
        except ValueError as exc:
            return Rejected([str(exc)])
        if event.data.created_at < self.cutoff:
            return Skipped(SKIPPED_OLD)
        contact = receipt_contact_by_key(event.data.customer, self.policy)
        if isinstance(event, ReturnCreatedEvent):
            request = return_request(event, self.policy, contact)
        else:
            request = receipt_request(event, self.policy, contact)
        return Mapped(contact.match_key_type, request.to_wire())

    def _event(self, row: SourceRow, envelope: bool) -> SaleOrReturn:
        if envelope:
            event = parse_event(row.values)
            if not isinstance(event, OrderDeliveredEvent | ReceiptCompletedEvent | ReturnCreatedEvent):
                raise ValueError(
                    f"type {event.type}: a receipts migration reads {', '.join(sorted(RECEIPT_TYPES))}"
                )
            if event.tenant != self.tenant:
                raise ValueError(f"tenant {event.tenant}: this run migrates tenant {self.tenant}")
            return event
        found = [name for name in TYPE_BY_ID_FIELD if name in row.values]
        if len(found) != 1:
            raise ValueError("a data object needs exactly one of order_id, receipt_id, return_id")
        parsed = parse_event(
            {
                "id": f"migration-line-{row.line}",
                "type": TYPE_BY_ID_FIELD[found[0]],
                "version": 1,
                "tenant": SYNTHETIC_TENANT,
                "occurred_at": SYNTHETIC_OCCURRED_AT,
                "data": row.values,
            }
        )
        assert isinstance(parsed, OrderDeliveredEvent | ReceiptCompletedEvent | ReturnCreatedEvent)
        return parsed


def _is_envelope(values: Mapping[str, Any]) -> bool:
    return "type" in values and isinstance(values.get("data"), dict)
