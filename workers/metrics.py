"""Prometheus metrics of one process: what happened in it (counters) and its `/metrics` HTTP endpoint.

Counters and histograms move where things happen:
- `engage_relay_events_total{tenant,type,outcome}`: every finished event task (Celery `task_postrun`);
- `engage_relay_task_retries_total{task}`, `engage_relay_task_failures_total{task}`;
- `engage_relay_engage_calls_total{tenant,method,endpoint,status}` and `engage_relay_engage_call_seconds`:
  every Engage exchange (`EngageCallMetrics`, the client's `on_response` observer); status is the HTTP
  status or, without an answer, the error class (EngageUnreachable, EngageTimeout, RateLimitWaitExceeded);
- `engage_relay_rate_limit_wait_seconds{tenant}`: time each call waited for the shared rate limiter;
- `engage_relay_fallback_files_written_total` / `..._uploaded_total{tenant,kind}`: fed by the fallback
  path through `record_file_written(tenant, kind)` and `record_file_uploaded(tenant, kind)`.

Gauges read from Redis at scrape time (dead letters, stream lag, breaker state and cause, each tenant's
hold, the schedule's jobs per lane, spilled events, ...) are in `workers.metrics_collector`.
Worker threads share one process, so one registry and one endpoint serve them all: the port and
address come from the process's settings (ENGAGE_RELAY_METRICS_PORT: 9808 worker, 9809 ingest,
0 disables; ENGAGE_RELAY_METRICS_ADDR: 127.0.0.1 by default, 0.0.0.0 in containers).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import redis
import structlog
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from engage.transport import CallObservation, key_fingerprint
from relay.breaker import BreakerInfo
from relay.mover import MoverStats
from relay.tenants import Tenant
from workers.ingest import IngestStats

log = structlog.get_logger(__name__)

WORKER_METRICS_PORT = 9808
INGEST_METRICS_PORT = 9809
UNKNOWN = "unknown"

CALL_SECONDS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
RATE_WAIT_SECONDS_BUCKETS = (0.0, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# The literal segments of Engage v3 paths; any other segment is an id and becomes {id} (bounded labels).
ENDPOINT_LITERALS = frozenset(
    {
        "api", "v3", "contacts", "id", "bulk", "status", "updateContactType", "contactoverview", "receipts",
        "orders", "jobs", "action", "change-status", "change-delivery", "promotion-assignments", "redeem",
        "reward-vouchers", "available", "redeemed", "tracking", "productview", "carts",
    }
)  # fmt: skip

EVENTS = Counter(
    "engage_relay_events", "Events finished by a task, by outcome.", ["tenant", "type", "outcome"]
)
TASK_RETRIES = Counter("engage_relay_task_retries", "Task retries scheduled (the ladder).", ["task"])
TASK_FAILURES = Counter(
    "engage_relay_task_failures", "Tasks that raised (bugs, not Engage errors).", ["task"]
)
ENGAGE_CALLS = Counter(
    "engage_relay_engage_calls", "Engage exchanges by answer.", ["tenant", "method", "endpoint", "status"]
)
ENGAGE_CALL_SECONDS = Histogram(
    "engage_relay_engage_call_seconds",
    "Duration of Engage exchanges.",
    ["tenant", "endpoint"],
    buckets=CALL_SECONDS_BUCKETS,
)
RATE_LIMIT_WAIT = Histogram(
    "engage_relay_rate_limit_wait_seconds",
    "Time a call waited for the shared per-key rate limiter.",
    ["tenant"],
    buckets=RATE_WAIT_SECONDS_BUCKETS,
)
FILES_WRITTEN = Counter(
    "engage_relay_fallback_files_written", "Fallback XML files written.", ["tenant", "kind"]
)
FILES_UPLOADED = Counter(
    "engage_relay_fallback_files_uploaded", "Fallback files uploaded and verified.", ["tenant", "kind"]
)


def record_file_written(tenant: str, kind: str) -> None:
    """The fallback path wrote one import file (kind: contacts, transactions, redemptions, bulk...)."""
    FILES_WRITTEN.labels(tenant=tenant, kind=kind).inc()


def record_file_uploaded(tenant: str, kind: str) -> None:
    """One import file was uploaded and verified (or handed to the bulk API)."""
    FILES_UPLOADED.labels(tenant=tenant, kind=kind).inc()


def endpoint_template(path: str) -> str:
    """`/api/v3/contacts/2e40.../updateContactType` -> `/api/v3/contacts/{id}/updateContactType`."""
    parts = path.split("?", 1)[0].split("/")
    return "/".join(p if not p or p in ENDPOINT_LITERALS else "{id}" for p in parts)


class EngageCallMetrics:
    """The Engage client's `on_response` observer: counts each exchange under its tenant's name."""

    def __init__(self, tenants: Iterable[Tenant]) -> None:
        self._tenants = tenants  # a live registry: a key seen for the first time is looked up again
        self._tenant_by_key = self._names()

    def _names(self) -> dict[str, str]:
        return {key_fingerprint(t.api_key.get_secret_value()): t.name for t in self._tenants}

    def __call__(self, call: CallObservation) -> None:
        if call.key_id not in self._tenant_by_key:
            self._tenant_by_key = self._names()
        tenant = self._tenant_by_key.get(call.key_id, UNKNOWN)
        endpoint = endpoint_template(call.path)
        status = str(call.status) if call.status is not None else (call.error or UNKNOWN)
        ENGAGE_CALLS.labels(tenant=tenant, method=call.method, endpoint=endpoint, status=status).inc()
        if call.status is not None:
            ENGAGE_CALL_SECONDS.labels(tenant=tenant, endpoint=endpoint).observe(call.seconds)
        RATE_LIMIT_WAIT.labels(tenant=tenant).observe(call.rate_wait_s)


def record_task_outcome(outcome: Any, message: Mapping[str, Any]) -> None:
    """Count one finished event: its outcome (what the task returned, `tasks.adapter.run_task`) under
    the tenant and type of the job its message carried (or the envelope, in a first-version message)."""
    if not isinstance(outcome, str) or not outcome:
        return
    about = message.get("job") or message.get("envelope")
    if not isinstance(about, Mapping):
        about = {}
    EVENTS.labels(
        tenant=str(about.get("tenant") or UNKNOWN),
        type=str(about.get("type") or UNKNOWN),
        outcome=outcome,
    ).inc()


# --- Celery signal handlers (connected in workers.celery_app) -----------------------------------------


def on_task_postrun(
    sender: Any = None,
    retval: Any = None,
    state: str | None = None,
    kwargs: Mapping[str, Any] | None = None,
    **_: Any,
) -> None:
    """`task_postrun`: a task that returned has finished its event (a retry raises, and is counted apart)."""
    if state == "SUCCESS":
        record_task_outcome(retval, kwargs or {})


def on_task_retry(sender: Any = None, **_: Any) -> None:
    TASK_RETRIES.labels(task=getattr(sender, "name", UNKNOWN)).inc()


def on_task_failure(sender: Any = None, **_: Any) -> None:
    TASK_FAILURES.labels(task=getattr(sender, "name", UNKNOWN)).inc()


# --- ingest counters ------------------------------------------------------------------------------------


class IngestStatsCollector(Collector):
    """Exports the stream consumer's own counters (`workers.ingest.IngestStats`) at scrape time."""

    def __init__(self, stats: IngestStats, mover: MoverStats | None = None) -> None:
        self._stats = stats
        self._mover = mover

    def collect(self) -> Iterator[CounterMetricFamily]:
        s = self._stats
        for name, value, help_ in (
            ("admitted", s.admitted, "Valid events admitted into the schedule."),
            ("duplicates", s.duplicates, "Copies of events already admitted or settled, dropped."),
            (
                "conflicts",
                s.conflicts,
                "Events whose id came again with another payload, kept for an operator.",
            ),
            ("rejected", s.rejected, "Envelopes kept in the rejected store."),
            ("admit_failures", s.admit_failures, "Batches left pending because admission failed."),
            ("reclaimed", s.reclaimed, "Stream entries taken over from a dead consumer."),
            ("redis_errors", s.redis_errors, "Times Redis could not be reached (the consumer waited)."),
        ):
            yield CounterMetricFamily(f"engage_relay_ingest_{name}", help_, value=value)
        if self._mover is not None:
            m = self._mover
            yield CounterMetricFamily("engage_relay_mover_sent", "Jobs sent to the workers.", value=m.sent)
            yield CounterMetricFamily(
                "engage_relay_mover_send_failures", "Jobs the broker did not take.", value=m.send_failures
            )
        by_type = CounterMetricFamily(
            "engage_relay_ingest_admitted_by_type", "Admitted by type.", labels=["type"]
        )
        for type_, count in sorted(dict(s.by_type).items()):
            by_type.add_metric([type_], count)
        yield by_type


# --- the HTTP endpoint ----------------------------------------------------------------------------------


_started: dict[int, Any] = {}
_started_lock = threading.Lock()


def start_metrics_server(port: int, addr: str = "127.0.0.1", registry: CollectorRegistry = REGISTRY) -> bool:
    """Serve `/metrics` on a daemon thread; False when disabled (port 0) or the port is taken (logged)."""
    if port == 0:
        log.info("metrics.disabled")
        return False
    with _started_lock:
        if port in _started:
            return True
        try:
            _started[port] = start_http_server(port, addr=addr, registry=registry)
        except OSError as exc:
            log.warning("metrics.port_unavailable", port=port, addr=addr, error=str(exc))
            return False
    log.info("metrics.serving", port=port, addr=addr)
    return True


def stop_metrics_server(port: int) -> None:
    with _started_lock:
        started = _started.pop(port, None)
    if started is not None:
        server, thread = started
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


_registered: dict[tuple[int, type[Collector]], Collector] = {}


def register_once(collector: Collector, registry: CollectorRegistry = REGISTRY) -> None:
    """Register a collector, replacing an earlier one of the same class (an app may be built twice)."""
    with _started_lock:
        slot = (id(registry), type(collector))
        previous = _registered.pop(slot, None)
        if previous is not None:
            registry.unregister(previous)
        registry.register(collector)
        _registered[slot] = collector


def start_process_metrics(
    client: redis.Redis | None,
    tenants: Sequence[Tenant],
    *,
    port: int,
    addr: str,
    events_stream: str | None = None,
    breaker_info: Callable[[str], BreakerInfo] | None = None,
    extra: Sequence[Collector] = (),
) -> bool:
    """A process's metrics: the Redis gauges (when it has Redis), its extra collectors, the endpoint.

    `breaker_info` is the process's own breaker (`runtime.circuit.info`), so the gauges use its open time."""
    from workers.metrics_collector import RelayStateCollector

    if client is not None:
        stream = {"events_stream": events_stream} if events_stream else {}
        register_once(RelayStateCollector(client, tenants, breaker_info=breaker_info, **stream))
    for collector in extra:
        register_once(collector)
    return start_metrics_server(port, addr)
