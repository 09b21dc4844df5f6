"""The mover's `Dispatch` on Celery: a job becomes a task message on its tenant's queue for its lane, and
a pass's jobs are published together (kombu's publish batch: one Redis pipeline).

The message's `kwargsrepr` (what Flower and Celery's logs show of the arguments) names the job, never its
envelope: Celery would otherwise `saferepr` the whole envelope for every message (a twentieth of the
mover's CPU per job), and show customers' e-mail addresses in Flower.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from celery import Celery

from relay.schedule import Job
from tasks.adapter import message_kwargs
from tasks.routing import queue_for, task_for

PUBLISH_BATCH_MAX: Final = 500  # broker commands per pipeline; a larger pass is flushed in parts


def shown_kwargs(job: Job) -> str:
    """What a task message shows of its arguments: the job's tenant, event id, attempt and lane."""
    return f"{{'job': '{job.tenant}/{job.event_id} attempt {job.attempt} ({job.lane})'}}"


class CeleryDispatch:
    def __init__(self, app: Celery) -> None:
        self._app = app

    def send_all(self, jobs: Sequence[Job]) -> None:
        """Every job as a task message, published in one kombu batch: on Redis one pipeline of LPUSHes
        instead of a round trip per message (a pass of the mover sends up to a few seconds of budget)."""
        with self._app.producer_or_acquire() as producer, producer.batch(max_size=PUBLISH_BATCH_MAX):
            for job in jobs:
                self._app.send_task(
                    task_for(job.type),
                    kwargs=message_kwargs(job),
                    queue=queue_for(job.tenant, job.lane),
                    argsrepr="()",
                    kwargsrepr=shown_kwargs(job),
                    producer=producer,
                )

    def __repr__(self) -> str:
        return f"CeleryDispatch(app={self._app.main!r})"
