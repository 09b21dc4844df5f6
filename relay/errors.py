"""The relay's own branches of the one error tree (`engage.errors`), placed under the base that says what
the caller does::

    EngageError                       (engage/errors.py: every Engage failure)
    ├── RetryableError
    │   └── ContactBusy                   another worker holds the contact: go again soon, not a ladder step
    └── PermanentError
        ├── EventUndecodable              a task message that no longer validates (edited, or a bug): rejected
        └── UnknownTenant                 the event names a tenant this deployment does not serve: rejected

These carry no Engage status, method or path; their text is their summary alone. `schemas.InvalidEvent`
stays in `schemas` (which imports nothing of ours); the relay turns it into `EventUndecodable`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engage.errors import PermanentError, RetryableError

CONTACT_BUSY_RETRY_S = 1.0  # another worker holds the contact: come back soon, not on the ladder


class _RelayError:
    """Mixin: a relay error reads as its summary (no HTTP exchange to describe)."""

    summary: str

    def _text(self) -> str:
        return self.summary


class ContactBusy(_RelayError, RetryableError):
    """Another worker holds this contact's lock; the event goes again after `retry_after_s`."""

    retry_after_s = CONTACT_BUSY_RETRY_S

    def __init__(self, contact_ref: str) -> None:
        # the ref may be an e-mail or a phone number: never in the message
        super().__init__("another worker holds this contact")
        self.contact_ref = contact_ref


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
