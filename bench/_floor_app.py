"""The Celery floor's worker app: the relay's own Celery configuration (`workers.celery_app.celery_conf`)
and one task, under the name of the relay's receipts task, that takes the same message and only counts
itself (one `INCR`, so the bench knows when every task ran).

Started by `bench._floor` as `celery -A bench._floor_app worker ...` with `REDIS_URL` set.
"""

from __future__ import annotations

import os
from typing import Any

import redis
from celery import Celery

from bench._floor import DONE_KEY, FLOOR_EVENT_TYPE
from tasks.routing import task_for
from workers.celery_app import celery_conf
from workers.settings import Settings

app = Celery("bench_floor", broker=os.environ["REDIS_URL"])
app.conf.update(celery_conf(Settings()))
_counter = redis.Redis.from_url(os.environ["REDIS_URL"])


@app.task(name=task_for(FLOOR_EVENT_TYPE), acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
def floor_task(job: dict[str, Any]) -> None:
    _counter.incr(DONE_KEY)
