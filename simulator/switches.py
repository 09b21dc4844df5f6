"""Switches: the simulator's choices where Voyado documents no rule or documents two answers.

`GET /_sim/switches` returns them, `PUT /_sim/switches` merges a JSON object into them (400 on an
unknown name or a bad value), `POST /_sim/reset` (without a key) restores the defaults. The defaults
follow the documentation; each alternative is an answer a real Engage may give or a rule an earlier
version of the simulator invented, kept so that a test can still ask for it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from simulator.errors import ApiError

ORDER_WRITE_STATUSES = (201, 202)


@dataclass(frozen=True)
class Switches:
    """What `PUT /_sim/switches` merges into."""

    receipt_totals_must_add_up: bool = False
    """Refuse a receipt whose lines do not add up to totalGrossPrice (within 0.01, grossPaidPrice the
    line total). Off: Voyado's own return example (quantity -2, grossPaidPrice 200, total -400) would
    fail it, and Voyado documents no such rule."""

    order_write_status: int = 201
    """What an accepted order write (create, replace, delete, change-status, change-delivery) answers.
    Voyado's order API page says "201 Accepted"; 202 is the other reading of that sentence."""

    order_unknown_sync_404: bool = False
    """Answer a write naming an order the simulator does not have with 404 OrderNotFound at once.
    Off: the write is accepted and its job fails, as Engage's asynchronous order API does."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def merged(self, changes: Any) -> Switches:
        """A copy with `changes` applied; ApiError 400 on an unknown name or a bad value."""
        if not isinstance(changes, dict):
            raise ApiError(400, "InvalidSwitches", "The body must be a JSON object")
        current = self.to_json()
        unknown = sorted(set(changes) - set(current))
        if unknown:
            raise ApiError(400, "InvalidSwitches", f"Unknown switches: {unknown}")
        for name, value in changes.items():
            if type(value) is not type(current[name]):
                raise ApiError(400, "InvalidSwitches", f"{name} must be a {type(current[name]).__name__}")
        merged = Switches(**{**current, **changes})
        if merged.order_write_status not in ORDER_WRITE_STATUSES:
            raise ApiError(
                400, "InvalidSwitches", f"order_write_status must be one of {ORDER_WRITE_STATUSES}"
            )
        return merged


DEFAULT_SWITCHES = Switches()
"""The switches as shipped (frozen, so one shared instance is safe)."""
