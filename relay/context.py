"""What a handler gets and gives back: the event's context, the result, and the handler's type.

A handler is a pure-ish function `(EventContext, event) -> Applied` that makes the Engage calls for one
event family; `Handler` pairs it with the event classes it accepts, so the event stays typed from
`parse_event` to the handler and a task message of the wrong type is refused, never mis-applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from engage.client import EngageClient
from relay.runtime import Runtime
from relay.schedule import Job, WaitReason
from relay.tenants import Tenant
from schemas.envelope import Envelope

E = TypeVar("E", bound=Envelope)

AppliedKind = Literal["applied", "superseded", "skipped"]


@dataclass
class EventContext:
    """What a handler gets: the tenant, its client, the runtime, and where to note the calls it made."""

    runtime: Runtime
    tenant: Tenant
    client: EngageClient
    attempt: int
    maybe_delivered: bool  # an earlier attempt timed out after sending: check before re-sending a POST
    job: Job | None = None  # the event's job in the schedule (its `state` survives between runs)
    calls: list[str] = field(default_factory=list)
    parked: tuple[float, WaitReason, dict[str, Any]] | None = None

    def called(self, name: str) -> None:
        self.calls.append(name)

    @property
    def state(self) -> dict[str, Any]:
        """What an earlier run of this event kept (an order job to follow); empty the first time."""
        return dict(self.job.state) if self.job is not None else {}

    def wait_for_engage(self, due_s: float, reason: WaitReason, state: dict[str, Any]) -> Applied:
        """End this run without an outcome: the event runs again at `due_s` with `state` (a handler that
        follows an asynchronous Engage job). The returned value is ignored."""
        self.parked = (due_s, reason, state)
        return Applied()


@dataclass(frozen=True)
class Applied:
    outcome: AppliedKind = "applied"
    contact_id: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Handler(Generic[E]):
    """A handler function and the event classes it accepts."""

    apply: Callable[[EventContext, E], Applied]
    accepts: tuple[type[E], ...]

    def narrow(self, event: Envelope) -> E | None:
        """The event as the handler's type, or None when this handler does not take it."""
        return event if isinstance(event, self.accepts) else None

    def __call__(self, ctx: EventContext, event: E) -> Applied:
        return self.apply(ctx, event)
