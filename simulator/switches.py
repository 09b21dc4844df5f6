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
ORDER_WRITE_ANSWERS = ("job", "href", "location")
ORDER_JOB_FAILED_STATUSES = (200, 400, 404, 422)


@dataclass(frozen=True)
class Switches:
    """What `PUT /_sim/switches` merges into."""

    receipt_totals_must_add_up: bool = False
    """Refuse a receipt whose lines, or whose tenders (paymentMethods), do not add up to totalGrossPrice
    (within 0.01, grossPaidPrice the line total). Off: Voyado's own return example (quantity -2,
    grossPaidPrice 200, total -400) would fail it, and Voyado documents no such rule."""

    order_write_status: int = 201
    """What an accepted order write (create, replace, delete, change-status, change-delivery) answers.
    Voyado's order API page says "201 Accepted"; 202 is the other reading of that sentence."""

    order_unknown_sync_404: bool = False
    """Answer a write naming an order the simulator does not have with 404 OrderNotFound at once.
    Off: the write is accepted and its job fails, as Engage's asynchronous order API does."""

    order_write_answer: str = "job"
    """What an accepted order write's answer holds: `job` `{jobId, orderId, href}` [inferred body],
    `href` only `{href}` (Voyado: "a link to the job"), `location` no body and the link as `Location`."""

    order_job_failed_status: int = 200
    """How the job poll answers a failed job: 200 `{jobId, status: "Failed", errors}` [inferred], or
    this 4xx with `{errorCode: "OrderJobFailed", message}` (Voyado: a 302 on success, "an error
    otherwise")."""

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
        for name, allowed in _ALLOWED.items():
            if getattr(merged, name) not in allowed:
                raise ApiError(400, "InvalidSwitches", f"{name} must be one of {allowed}")
        return merged


_ALLOWED: dict[str, tuple[object, ...]] = {
    "order_write_status": ORDER_WRITE_STATUSES,
    "order_write_answer": ORDER_WRITE_ANSWERS,
    "order_job_failed_status": ORDER_JOB_FAILED_STATUSES,
}


DEFAULT_SWITCHES = Switches()
"""The switches as shipped (frozen, so one shared instance is safe)."""
