"""The glue from a Celery message to `relay.run_event` and back.

A task hands its envelope and ladder step to the relay as a `Delivery`; a `RetryLater` from the relay
becomes `task.retry(...)` with the kwargs the next run needs. Nothing else about an event is decided here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from relay.context import E, Handler
from relay.run import Delivery, RetryLater, run_event


class RetryingTask(Protocol):
    """The slice of a bound Celery task that the adapter uses."""

    @property
    def request(self) -> Any: ...

    def retry(self, *args: Any, **kwargs: Any) -> Exception: ...


def retry_kwargs(envelope: Mapping[str, Any], attempt: int, maybe_delivered: bool) -> dict[str, Any]:
    """The kwargs of the task's next run (the same names the tasks take)."""
    return {"envelope": dict(envelope), "attempt": attempt, "maybe_delivered": maybe_delivered}


def run_task(
    task: RetryingTask,
    envelope: Mapping[str, Any],
    handler: Handler[E],
    *,
    attempt: int = 0,
    maybe_delivered: bool = False,
) -> dict[str, Any]:
    delivery = Delivery(task.request.id, attempt, maybe_delivered)
    try:
        return run_event(delivery, envelope, handler)
    except RetryLater as later:
        raise task.retry(
            kwargs=retry_kwargs(envelope, later.attempt, later.maybe_delivered), countdown=later.countdown_s
        ) from None
