"""The `engage-relay ingest` process: wires the stream consumer to Redis, the tenants and Celery."""

from __future__ import annotations

import signal
import threading
from typing import Any

import redis

from fallback.rejected import RedisRejectedStore
from relay.outcomes import RedisOutcomeSink
from schemas.envelope import Envelope
from tasks.routing import queue_for, task_for
from workers import metrics
from workers.celery_app import create_app
from workers.ingest import StreamConsumer
from workers.logs import configure_logging, known_secrets
from workers.process import ProcessEnv


def run_ingest(env: ProcessEnv, consumer_name: str | None = None) -> None:
    settings = env.settings
    registry = env.registry()
    configure_logging(secrets=known_secrets(registry))
    app = create_app(env)
    client = redis.Redis.from_url(settings.redis_url)

    def enqueue(event: Envelope, envelope: dict[str, Any]) -> None:
        app.send_task(task_for(str(event.type)), kwargs={"envelope": envelope}, queue=queue_for(event.tenant))

    consumer = StreamConsumer(
        client,
        registry,
        enqueue,
        RedisRejectedStore(client),
        RedisOutcomeSink(client, settings.outcomes_stream),
        stream=settings.events_stream,
        consumer=consumer_name,
    )
    metrics.start_process_metrics(
        client,
        list(registry),
        port=settings.metrics_port_or(metrics.INGEST_METRICS_PORT),
        addr=settings.metrics_addr,
        events_stream=settings.events_stream,
        extra=[metrics.IngestStatsCollector(consumer.stats)],
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    consumer.run(stop)
