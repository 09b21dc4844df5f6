"""The glue from a Celery message to `relay.run.run_job` and back.

A message carries the event's job (`job`, from the schedule's mover); a message of the first version
carries `envelope`, `attempt` and `maybe_delivered` instead, and is turned into a job. Nothing else about
an event is decided here, and nothing waits: every wait is parked in the schedule by the relay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from relay.context import E, Handler
from relay.run import job_for, run_job
from relay.schedule import Job


class BoundTask(Protocol):
    """The slice of a bound Celery task that the adapter uses."""

    @property
    def request(self) -> Any: ...


def run_message(
    task: BoundTask,
    handler: Handler[E],
    *,
    job: Mapping[str, Any] | None = None,
    envelope: Mapping[str, Any] | None = None,
    attempt: int = 0,
    maybe_delivered: bool = False,
) -> dict[str, Any]:
    """The run of the event a task message carries; its outcome (tests read it whole)."""
    if job is not None:
        current = Job.model_validate(job)
    elif envelope is not None:
        current = job_for(envelope, attempt=attempt, maybe_delivered=maybe_delivered)
    else:
        return {"outcome": "rejected", "detail": "a task message with neither job nor envelope"}
    return run_job(current, handler, message_id=getattr(task.request, "id", None))


def run_task(
    task: BoundTask,
    handler: Handler[E],
    *,
    job: Mapping[str, Any] | None = None,
    envelope: Mapping[str, Any] | None = None,
    attempt: int = 0,
    maybe_delivered: bool = False,
) -> str:
    """A task's body: the run, and what the task gives back to Celery, the outcome's name ("applied",
    "parked"...). Results are ignored, but Celery still makes a `saferepr` of every task's return value on
    success (for its log line and the task events Flower shows), about 50 us for an outcome's dict; the
    outcome itself is in the relay's store, and the events counter reads tenant and type from the job."""
    outcome = run_message(
        task, handler, job=job, envelope=envelope, attempt=attempt, maybe_delivered=maybe_delivered
    )
    return str(outcome.get("outcome", ""))


def message_kwargs(job: Job) -> dict[str, Any]:
    """The kwargs of the task message that carries `job`."""
    return {"job": job.model_dump(mode="json")}
