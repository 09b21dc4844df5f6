"""The `engage-relay ingest` process: the stream consumer and the mover, on one relay runtime.

The consumer admits events into the schedule and wakes the mover, which sends due jobs to the workers
(Celery) and does the housekeeping (retention of outcomes and rejections, the spill of long outages, and
the log of each tenant's hold, `workers.hold_log`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence

import redis

from relay.admit import AdmitOutcome, Arrival, admit
from relay.housekeeping import Housekeeper, Retention
from relay.mover import Mover
from relay.state import read_tenants
from tasks.dispatch import CeleryDispatch
from tasks.fallback import sweep_sender
from workers import metrics
from workers.celery_app import create_app, ladder_from
from workers.hold_log import HoldLog
from workers.ingest import StreamConsumer
from workers.logs import configure_logging, known_secrets
from workers.process import ProcessEnv
from workers.runtime_factory import build_runtime


def run_ingest(env: ProcessEnv, consumer_name: str | None = None) -> None:
    settings = env.settings
    client = redis.Redis.from_url(settings.redis_url)
    registry = env.live_registry(client)  # a tenant added in the console is admitted within seconds
    configure_logging(secrets=known_secrets(registry))
    app = create_app(env)
    rt = build_runtime(settings, registry, client, ladder_from(settings))
    retention = Retention(
        outcomes_s=settings.outcomes_retention_s,
        outcomes_maxlen=settings.outcomes_maxlen,
        rejected_s=settings.rejected_retention_s,
        rejected_maxlen=settings.rejected_maxlen,
    )
    housekeeper = Housekeeper(rt, retention, sweep_sender(app))  # from the mover's thread: through `app`
    hold_log = HoldLog(lambda: read_tenants(client, list(rt.registry), breaker_info=rt.circuit.info))

    def housekeeping() -> None:
        housekeeper()
        hold_log()  # each tenant's hold and its cause, in the logs

    mover = Mover(lambda: rt, CeleryDispatch(app), housekeeping=housekeeping)

    def admit_batch(arrivals: Sequence[Arrival]) -> list[AdmitOutcome]:
        return admit(rt, arrivals)

    consumer = StreamConsumer(
        client,
        lambda: rt.registry,
        admit_batch,
        rt.rejected,
        rt.outcomes,
        stream=settings.events_stream,
        consumer=consumer_name,
        on_admitted=mover.wake,
    )
    metrics.start_process_metrics(
        client,
        list(registry),
        port=settings.metrics_port_or(metrics.INGEST_METRICS_PORT),
        addr=settings.metrics_addr,
        events_stream=settings.events_stream,
        breaker_info=rt.circuit.info,
        extra=[metrics.IngestStatsCollector(consumer.stats, mover.stats)],
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    moving = threading.Thread(target=mover.run, args=(stop,), name="mover", daemon=True)
    moving.start()
    consumer.run(stop)
    moving.join(timeout=5)
