"""Celery's floor on this machine, measured beside the relay in the same run: what a task costs that only
goes through Celery.

A Redis of its own (CPU 0) and a Celery worker on CPU 1 (`bench._floor_app`: the relay's own Celery
configuration, thread pool, `--concurrency` threads, the relay's queue and task name), fed by the relay's
own publisher (`tasks.dispatch.CeleryDispatch`, batches of `FLOOR_BATCH` like the mover's passes) from
this process, pinned to CPU 1 while it publishes. Each message carries a job of the receipts mix, as the
relay's do; the task only counts itself. The figure is the worker's CPU plus the publisher's, per task:
the issue asks the relay's CPU per event to be within twice it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import redis
from celery import Celery

from bench._procs import RELAY_CPU, cpu_seconds, pinned, redis_server
from bench._workload import order
from relay.schedule import Job, envelope_digest
from tasks.dispatch import PUBLISH_BATCH_MAX, CeleryDispatch
from tasks.routing import queue_for
from tests.support.processes import Proc
from workers.celery_app import celery_conf
from workers.settings import Settings

FLOOR_TENANT: Final = "bench"
FLOOR_EVENT_TYPE: Final = "receipt.completed"
DONE_KEY: Final = "bench:floor:done"
FLOOR_BATCH: Final = PUBLISH_BATCH_MAX
DEFAULT_FLOOR_TASKS: Final = 4000
FLOOR_TIMEOUT_S: Final = 300.0
POLL_S: Final = 0.05


@dataclass(frozen=True)
class Floor:
    tasks: int
    seconds: float  # first publish to the last task counted
    worker_cpu_s: float
    publish_cpu_s: float

    @property
    def cpu_ms_per_task(self) -> float:
        return 1000 * (self.worker_cpu_s + self.publish_cpu_s) / self.tasks

    @property
    def tasks_per_s(self) -> float:
        return self.tasks / self.seconds


def floor_jobs(count: int) -> list[Job]:
    at = datetime(2026, 12, 1, 12, tzinfo=UTC)
    jobs = []
    for n in range(count):
        envelope = order(
            f"floor-{n:05d}", FLOOR_TENANT, f"floor-{n}@bench.example.se", f"F-{n}", at, "receipts"
        )
        digest = envelope_digest(envelope)
        jobs.append(
            Job(
                event_id=envelope["id"],
                tenant=FLOOR_TENANT,
                type=FLOOR_EVENT_TYPE,
                envelope=envelope,
                digest=digest,
                lane="backlog",
            )
        )
    return jobs


@contextlib.contextmanager
def _on_relay_cpu() -> Iterator[None]:
    """This process on the relay's core while it publishes (the mover's place), then back."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {int(RELAY_CPU)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def run_floor(workdir: Path, tasks: int, concurrency: int) -> Floor:
    """One measurement: `tasks` messages through a fresh worker."""
    with redis_server(workdir) as url:
        env = {"REDIS_URL": url, "ENGAGE_RELAY_METRICS_PORT": "0"}
        queue = queue_for(FLOOR_TENANT, "backlog")
        args = [sys.executable, "-m", "celery", "-A", "bench._floor_app", "worker", "--pool=threads"]
        args += [f"--concurrency={concurrency}", f"--queues={queue}", "--loglevel=WARNING"]
        args += ["--without-mingle", "--without-gossip", "--hostname=floor@%h"]
        worker = Proc(pinned(RELAY_CPU, args), workdir / "floor-worker.log", env=env)
        app = Celery("bench_floor_publisher", broker=url)
        app.conf.update(celery_conf(Settings(REDIS_URL=url)))
        counter = redis.Redis.from_url(url)
        try:
            dispatch = CeleryDispatch(app)
            dispatch.send_all(floor_jobs(1))  # the worker is up once its first task is counted
            _wait_until_counted(counter, 1, worker, time.monotonic() + FLOOR_TIMEOUT_S)
            counter.delete(DONE_KEY)
            jobs = floor_jobs(tasks)
            worker_before = cpu_seconds(worker.pid)
            started = time.monotonic()
            with _on_relay_cpu():
                cpu_before = time.process_time()
                for first in range(0, tasks, FLOOR_BATCH):
                    dispatch.send_all(jobs[first : first + FLOOR_BATCH])
                publish_cpu = time.process_time() - cpu_before
            _wait_until_counted(counter, tasks, worker, started + FLOOR_TIMEOUT_S)
            seconds = time.monotonic() - started
            return Floor(tasks, seconds, cpu_seconds(worker.pid) - worker_before, publish_cpu)
        finally:
            counter.close()
            worker.stop()


def _wait_until_counted(counter: redis.Redis, tasks: int, worker: Proc, deadline: float) -> None:
    while int(counter.get(DONE_KEY) or 0) < tasks:
        if time.monotonic() > deadline or not worker.alive():
            raise RuntimeError(f"the floor worker did not run {tasks} task(s):\n{worker.log_tail()}")
        time.sleep(POLL_S)
