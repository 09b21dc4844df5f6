"""The Celery application and its configuration: the project's defaults for every worker."""

from __future__ import annotations

from typing import Any, ClassVar

import redis
import structlog
from celery import Celery, bootsteps
from celery.signals import task_failure, task_postrun, task_prerun, task_retry, worker_init

from relay import runtime as runtime_slot
from relay.retry import RETRY_LADDER_S, check_ladder, parse_ladder
from relay.runtime import FileHooks
from relay.tenant_reload import RELOAD_CHECK_S
from tasks.routing import FALLBACK_QUEUE, queues_for
from workers import metrics
from workers.broker import transport_for
from workers.process import ProcessEnv
from workers.runtime_factory import build_runtime
from workers.settings import Settings

TASK_MODULES = ["tasks.events", "tasks.fallback"]
WORKER_PREFETCH_MULTIPLIER = 4


def ladder_from(settings: Settings) -> tuple[float, ...]:
    ladder = parse_ladder(settings.retry_ladder_s) if settings.retry_ladder_s else RETRY_LADDER_S
    check_ladder(ladder)
    return ladder


def celery_conf(settings: Settings) -> dict[str, Any]:
    """The Celery configuration of the relay's app (also what `bench.pipeline`'s Celery floor runs on)."""
    return dict(
        broker_transport=transport_for(settings.redis_url),  # one Redis client per channel, not per ack
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=FALLBACK_QUEUE,
        task_queues=None,
        task_create_missing_queues=True,
        worker_prefetch_multiplier=WORKER_PREFETCH_MULTIPLIER,
        worker_hijack_root_logger=False,
        # Task events cost a sixth of the worker's CPU per task and a third of the mover's per job, published
        # to a fanout nobody reads unless Flower runs; Flower turns them on while it runs (its default
        # `enable_events`), and shows a task from "received" (no "sent" event).
        worker_send_task_events=False,
        task_send_sent_event=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            # No copy of a delivered message in Redis (kombu's unacked hash and index: two round trips and
            # the message re-encoded per task, a tenth of the worker's CPU per event). The schedule's lease
            # is the reconciler: a job a killed worker held is sent again after `redrive_after_s` (sooner
            # than any visibility timeout would bring it back); a stopped worker (SIGTERM) puts the messages
            # it prefetched back on their queues; a fallback sweep a killed worker held comes again with
            # beat's next one. Prefetch is still counted, in the worker's memory.
            "ack_emulation": False,
            "socket_keepalive": True,
            "health_check_interval": 30,
        },
        enable_utc=True,
    )


def create_app(env: ProcessEnv) -> Celery:
    settings = env.settings
    registry = env.registry()
    app = Celery("engage_relay", broker=settings.redis_url, include=TASK_MODULES)
    app.conf.update(celery_conf(settings))
    app.conf.engage_queues = queues_for(registry.names())
    app.conf.engage_settings = settings
    ladder = ladder_from(settings)

    def factory() -> runtime_slot.Runtime:
        client = redis.Redis.from_url(settings.redis_url)
        live = env.live_registry(client)  # a tenant added in the console is served within seconds
        runtime = build_runtime(settings, live, client, ladder)
        runtime.on_response = metrics.EngageCallMetrics(live)
        runtime.file_hooks = FileHooks(
            written=metrics.record_file_written, uploaded=metrics.record_file_uploaded
        )
        return runtime

    runtime_slot.install_factory(factory)
    app.steps["consumer"].add(FollowTenants)
    return app


class FollowTenants(bootsteps.StartStopStep):  # type: ignore[misc]  # Celery is untyped
    """Every few seconds, consume the queues of a tenant added since the worker started (no restart)."""

    requires: ClassVar[set[str]] = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self._timer: Any = None

    def start(self, consumer: Any) -> None:
        self._timer = consumer.timer.call_repeatedly(RELOAD_CHECK_S, self.follow, (consumer,), priority=10)

    def follow(self, consumer: Any) -> None:
        try:
            names = runtime_slot.current().registry.names()
            known = {queue.name for queue in consumer.task_consumer.queues}
            for queue in queues_for(names):
                if queue not in known:
                    consumer.add_task_queue(queue)
                    structlog.get_logger().info("worker.queue_added", queue=queue)
        except Exception as exc:  # never let the timer die: try again at the next tick
            structlog.get_logger().warning("worker.follow_tenants_failed", error=type(exc).__name__)

    def stop(self, consumer: Any) -> None:
        if self._timer is not None:
            self._timer.cancel()


@worker_init.connect
def _build_runtime_at_start(sender: Any = None, **_: Any) -> None:
    """Shared resources are built once per worker process, before the first task (arq's start-up hook)."""
    runtime = runtime_slot.current()
    settings: Settings | None = getattr(getattr(sender, "app", None), "conf", {}).get("engage_settings")
    if settings is None:  # a worker started without `create_app`: nothing to serve metrics with
        return
    metrics.start_process_metrics(
        runtime.redis,
        list(runtime.registry),
        port=settings.metrics_port_or(metrics.WORKER_METRICS_PORT),
        addr=settings.metrics_addr,
        events_stream=settings.events_stream,
        breaker_info=runtime.circuit.info,
    )


@task_prerun.connect
def _bind_task_context(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    """Every log line of a task carries its id and name (structlog's Celery recipe)."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(task_id=task_id, task_name=getattr(task, "name", None))


@task_postrun.connect
def _unbind_task_context(**_: Any) -> None:
    structlog.contextvars.clear_contextvars()


task_postrun.connect(metrics.on_task_postrun, weak=False)
task_retry.connect(metrics.on_task_retry, weak=False)
task_failure.connect(metrics.on_task_failure, weak=False)
