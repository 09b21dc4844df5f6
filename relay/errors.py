"""The relay's own branches of the one error tree (`engage.errors`), placed under the base that says what
the caller does::

    EngageError                       (engage/errors.py: every Engage failure)
    ├── DeferredError
    │   ├── ContactBusy                   another worker holds the contact (or the event): go again soon
    │   └── OrderStatePending             an order's newest write awaits Engage's answer: go again soon
    └── PermanentError
        ├── EventUndecodable              a task message that no longer validates (edited, or a bug): rejected
        ├── UnknownTenant                 the event names a tenant this deployment does not serve: rejected
        ├── IdConflict                    the same id with another payload: kept with both, never applied
        └── IdentityConflict              the identifiers point to two contacts: dead-lettered for an operator

These carry no Engage status, method or path; their text is their summary alone. `schemas.InvalidEvent`
stays in `schemas` (which imports nothing of ours); the relay turns it into `EventUndecodable`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engage.errors import DeferredError, PermanentError

CONTACT_BUSY_RETRY_S = 1.0  # another worker holds the contact: come back soon, not on the ladder
ORDER_PENDING_RETRY_S = 2.0  # an order's newest write awaits its job's answer: about one job poll


class _RelayError:
    """Mixin: a relay error reads as its summary (no HTTP exchange to describe)."""

    summary: str

    def _text(self) -> str:
        return self.summary


class ContactBusy(_RelayError, DeferredError):
    """Another worker holds this contact's lock; the event goes again after `retry_after_s`."""

    retry_after_s = CONTACT_BUSY_RETRY_S

    def __init__(self, contact_ref: str) -> None:
        # the ref may be an e-mail or a phone number: never in the message
        super().__init__("another worker holds this contact")
        self.contact_ref = contact_ref


class OrderStatePending(_RelayError, DeferredError):
    """An older event of an order met a newer state whose write Engage has not confirmed (its job is
    still followed): whether the older one is superseded or must create the order is not known yet, so
    it goes again after `retry_after_s` (relay.handlers.order_clock)."""

    retry_after_s = ORDER_PENDING_RETRY_S
    engage_answered = False  # set when Engage answered the calls made before it (the breaker counts it)

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id}: a newer state's write awaits Engage's answer")
        self.order_id = order_id


class EventUndecodable(_RelayError, PermanentError):
    """The task's envelope no longer validates; `reasons` are the validation's reasons."""

    def __init__(self, reasons: Sequence[dict[str, Any]], summary: str = "") -> None:
        self.reasons = [dict(r) for r in reasons]
        super().__init__(summary or "; ".join(str(r.get("msg")) for r in self.reasons))


class UnknownTenant(_RelayError, PermanentError):
    """An event named a tenant this deployment does not serve; it is rejected, never guessed."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown tenant {name!r}")
        self.name = name


class IdConflict(_RelayError, PermanentError):
    """Another payload came under an event id the relay already has: never applied, kept with both
    payloads for an operator (the producer reused an id, or edited an event and re-sent it)."""

    def __init__(self, event_id: str, summary: str = "") -> None:
        super().__init__(summary or f"event id {event_id!r} came again with another payload")
        self.event_id = event_id


class IdentityConflict(_RelayError, PermanentError):
    """The event's identifiers point to two different contacts (the tenant's key finds none or one, another
    identifier belongs to another). Held for an operator with both contact ids; never merged."""

    def __init__(self, by_key: str | None, other: str, other_kind: str) -> None:
        found = f"contact {by_key}" if by_key else "no contact"
        super().__init__(
            f"identity conflict: the tenant's contact key finds {found}, but the event's {other_kind} "
            f"belongs to contact {other}"
        )
        self.by_key = by_key
        self.other = other
        self.other_kind = other_kind

    @property
    def details(self) -> dict[str, str | None]:
        return {
            "contact_by_key": self.by_key,
            "contact_by_other": self.other,
            "other_identifier": self.other_kind,
        }
