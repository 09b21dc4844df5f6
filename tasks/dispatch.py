"""The mover's `Dispatch` on Celery: a job becomes a task message on its tenant's queue for its lane."""

from __future__ import annotations

from celery import Celery

from relay.schedule import Job
from tasks.adapter import message_kwargs
from tasks.routing import queue_for, task_for


class CeleryDispatch:
    def __init__(self, app: Celery) -> None:
        self._app = app

    def send(self, job: Job) -> None:
        self._app.send_task(
            task_for(job.type), kwargs=message_kwargs(job), queue=queue_for(job.tenant, job.lane)
        )

    def __repr__(self) -> str:
        return f"CeleryDispatch(app={self._app.main!r})"
