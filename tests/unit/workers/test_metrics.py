"""Metrics: counters move with task outcomes and Engage calls; the endpoint serves Redis-derived gauges."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from celery.signals import task_postrun, task_retry
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from redis.backoff import NoBackoff
from redis.retry import Retry

import workers.celery_app  # noqa: F401 - connects the signal handlers under test
from engage.ratelimit import RedisRateLimiter
from engage.transport import CallObservation, key_fingerprint
from relay.mover import MoverStats
from tests.support import relay_seed as seed
from tests.support.processes import free_port
from workers import metrics
from workers.ingest import IngestStats
from workers.metrics_collector import RelayStateCollector


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class FakeTask:
    name = "engage.contacts.upsert"


def test_a_finished_task_counts_its_event_by_tenant_type_and_outcome() -> None:
    # Given the current count
    labels = {"tenant": "m-acme", "type": "customer.created", "outcome": "applied"}
    before = sample("engage_relay_events_total", **labels)
    # When Celery reports a finished task: it returned its outcome's name, its message carried the job
    job = {"tenant": "m-acme", "type": "customer.created", "event_id": "e1"}
    task_postrun.send(
        sender=FakeTask(),
        task_id="t1",
        task=FakeTask(),
        kwargs={"job": job},
        retval="applied",
        state="SUCCESS",
    )
    # And a retry (raised, not returned) is reported
    retries_before = sample("engage_relay_task_retries_total", task=FakeTask.name)
    task_retry.send(sender=FakeTask(), request=None, reason="ladder")
    # Then the event counter moved by one, and the retry is counted apart
    assert sample("engage_relay_events_total", **labels) == before + 1
    assert sample("engage_relay_task_retries_total", task=FakeTask.name) == retries_before + 1


def test_a_retried_task_is_not_an_outcome() -> None:
    labels = {"tenant": "m-retry", "type": "customer.created", "outcome": "applied"}
    job = {"tenant": "m-retry", "type": "customer.created"}
    task_postrun.send(
        sender=FakeTask(), task_id="t2", task=FakeTask(), kwargs={"job": job}, retval="applied", state="RETRY"
    )
    assert sample("engage_relay_events_total", **labels) == 0.0


def test_a_first_version_message_counts_its_event_by_its_envelope() -> None:
    labels = {"tenant": "m-v1", "type": "receipt.completed", "outcome": "rejected"}
    envelope = {"id": "e2", "tenant": "m-v1", "type": "receipt.completed", "payload": {}}
    before = sample("engage_relay_events_total", **labels)
    task_postrun.send(
        sender=FakeTask(),
        task_id="t3",
        task=FakeTask(),
        kwargs={"envelope": envelope, "attempt": 0},
        retval="rejected",
        state="SUCCESS",
    )
    assert sample("engage_relay_events_total", **labels) == before + 1


def test_engage_calls_are_counted_by_tenant_endpoint_template_and_status() -> None:
    # Given the observer for one tenant
    tenant = seed.tenant("m-calls", "metrics-key-0001")
    observe = metrics.EngageCallMetrics([tenant])
    key_id = key_fingerprint("metrics-key-0001")
    # When one answered call and one unanswered call are observed
    observe(CallObservation(key_id, "PATCH", "/api/v3/contacts/2e40b702-27", 200, 0.05, 0.2))
    observe(CallObservation(key_id, "GET", "/api/v3/contacts/id", None, 3.0, 0.0, "EngageTimeout"))
    # Then ids are folded into {id}, the error class stands in for a missing status, waits are observed
    assert sample(
        "engage_relay_engage_calls_total",
        tenant="m-calls", method="PATCH", endpoint="/api/v3/contacts/{id}", status="200",
    ) == 1  # fmt: skip
    assert sample(
        "engage_relay_engage_calls_total",
        tenant="m-calls", method="GET", endpoint="/api/v3/contacts/id", status="EngageTimeout",
    ) == 1  # fmt: skip
    assert sample("engage_relay_rate_limit_wait_seconds_count", tenant="m-calls") == 2
    assert sample("engage_relay_rate_limit_wait_seconds_sum", tenant="m-calls") == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/api/v3/contacts/id", "/api/v3/contacts/id"),
        ("/api/v3/contacts/abc-123/updateContactType", "/api/v3/contacts/{id}/updateContactType"),
        ("/api/v3/orders/o-9/change-status", "/api/v3/orders/{id}/change-status"),
        ("/api/v3/promotion-assignments/a1/redeem", "/api/v3/promotion-assignments/{id}/redeem"),
        ("/api/v3/contacts/bulk/status", "/api/v3/contacts/bulk/status"),
    ],
)
def test_endpoint_template_keeps_labels_bounded(path: str, template: str) -> None:
    assert metrics.endpoint_template(path) == template


def test_file_hooks_count_written_and_uploaded_files() -> None:
    before = sample("engage_relay_fallback_files_written_total", tenant="m-files", kind="transactions")
    metrics.record_file_written("m-files", "transactions")
    metrics.record_file_uploaded("m-files", "transactions")
    assert sample("engage_relay_fallback_files_written_total", tenant="m-files", kind="transactions") == (
        before + 1
    )
    assert sample("engage_relay_fallback_files_uploaded_total", tenant="m-files", kind="transactions") == 1


@pytest.fixture
def served() -> Iterator[tuple[CollectorRegistry, int]]:
    registry = CollectorRegistry()
    port = free_port()
    yield registry, port
    metrics.stop_metrics_server(port)


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_endpoint_serves_gauges_read_from_redis(
    redis_client: redis.Redis, served: tuple[CollectorRegistry, int], tmp_path: Path
) -> None:
    # Given dead letters, rejections, a lagging stream, an open breaker and two files in an outbox
    registry, port = served
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    for name in ("a.xml", "b.xml", "c.xml.tmp"):
        (outbox / name).write_text("x")
    tenants = [seed.tenant("acme", "key-acme-1", str(outbox)), seed.tenant("beta", "key-beta-1")]
    seed.dead_letters(redis_client, "acme", 3)
    seed.dead_letters(redis_client, "beta", 1)
    seed.rejections(redis_client, 2)
    seed.stream_with_lag(redis_client, published=5, read=2)
    seed.open_breaker(redis_client, "beta")
    beta_key = key_fingerprint("key-beta-1")
    RedisRateLimiter(redis_client, budgets={beta_key: 25}).penalize(beta_key, 0.01)  # a 429 for beta
    registry.register(RelayStateCollector(redis_client, tenants))
    # When the endpoint is started and scraped
    assert metrics.start_metrics_server(port, "127.0.0.1", registry) is True
    got = scrape(port)
    # Then every gauge says what Redis holds
    assert got[("engage_relay_redis_up", ())] == 1
    assert got[("engage_relay_dead_letters", ())] == 4
    assert got[("engage_relay_tenant_dead_letters", (("tenant", "acme"),))] == 3
    assert got[("engage_relay_rejected", ())] == 2
    assert got[("engage_relay_events_stream_length", ())] == 5
    assert got[("engage_relay_events_stream_lag", ())] == 3
    assert got[("engage_relay_events_stream_pending", ())] == 2
    assert got[("engage_relay_breaker_state", (("state", "open"), ("tenant", "beta")))] == 1
    assert got[("engage_relay_breaker_state", (("state", "closed"), ("tenant", "acme")))] == 1
    assert got[("engage_relay_fallback_files_pending", (("tenant", "acme"),))] == 2
    assert ("engage_relay_fallback_files_pending", (("tenant", "beta"),)) not in got
    assert got[("engage_relay_rate_budget_per_second", (("tenant", "acme"),))] == 25
    assert got[("engage_relay_rate_now_per_second", (("tenant", "acme"),))] == 25
    assert got[("engage_relay_rate_now_per_second", (("tenant", "beta"),))] == 22  # 90 % of 25, floored


def test_redis_down_is_a_gauge_not_a_failed_scrape(served: tuple[CollectorRegistry, int]) -> None:
    registry, port = served
    dead = redis.Redis(port=free_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    registry.register(RelayStateCollector(dead, [seed.tenant("acme", "key-acme-1")]))
    assert metrics.start_metrics_server(port, "127.0.0.1", registry) is True
    assert scrape(port)[("engage_relay_redis_up", ())] == 0


def test_port_zero_disables_the_endpoint() -> None:
    assert metrics.start_metrics_server(0) is False


def test_ingest_stats_are_exported() -> None:
    registry = CollectorRegistry()
    stats = IngestStats(admitted=7, rejected=2, duplicates=3, by_type={"order.delivered": 7})
    registry.register(metrics.IngestStatsCollector(stats, MoverStats(sent=5)))
    assert registry.get_sample_value("engage_relay_ingest_admitted_total") == 7
    assert registry.get_sample_value("engage_relay_ingest_rejected_total") == 2
    assert registry.get_sample_value("engage_relay_ingest_duplicates_total") == 3
    assert registry.get_sample_value("engage_relay_mover_sent_total") == 5
    assert (
        registry.get_sample_value("engage_relay_ingest_admitted_by_type_total", {"type": "order.delivered"})
        == 7
    )


def test_each_tenants_hold_its_cause_and_its_jobs_per_lane_are_gauges(redis_client: redis.Redis) -> None:
    # Given acme held because Engage refused its key, with jobs in both lanes and two spilled events;
    # beta paused by an operator; gamma healthy
    from relay.control import RedisTenantControl

    seed.trip_breaker(redis_client, "acme", seed.key_refused())
    seed.scheduled(redis_client, "acme", due=2, later=1, leased=0, lane="backlog")
    seed.scheduled(redis_client, "acme", due=0, later=0, leased=3, lane="live")
    seed.spilled(redis_client, "acme", 2)
    RedisTenantControl(redis_client).pause("beta", "ops")
    tenants = [seed.tenant(name, f"key-{name}-1") for name in ("acme", "beta", "gamma")]
    registry = CollectorRegistry()
    registry.register(RelayStateCollector(redis_client, tenants))

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    # Then the hold, its cause (a bounded label) and the schedule's counts are exported per tenant
    assert value("engage_relay_tenant_held", tenant="acme") == 1
    assert value("engage_relay_tenant_held", tenant="beta") == 1
    assert value("engage_relay_tenant_held", tenant="gamma") == 0
    assert value("engage_relay_tenant_paused", tenant="beta") == 1
    assert value("engage_relay_tenant_paused", tenant="acme") == 0
    held_s = value("engage_relay_tenant_held_seconds", tenant="acme")
    assert held_s is not None and 0 <= held_s < 60
    assert value("engage_relay_tenant_held_seconds", tenant="gamma") == 0
    assert value("engage_relay_breaker_cause", tenant="acme", cause="key_refused") == 1
    assert value("engage_relay_breaker_cause", tenant="beta", cause="key_refused") is None
    assert value("engage_relay_schedule_jobs", tenant="acme", lane="backlog", state="due") == 2
    assert value("engage_relay_schedule_jobs", tenant="acme", lane="backlog", state="waiting") == 1
    assert value("engage_relay_schedule_jobs", tenant="acme", lane="live", state="in_flight") == 3
    assert value("engage_relay_held_jobs", tenant="acme", lane="backlog") == 3
    assert value("engage_relay_held_jobs", tenant="acme", lane="live") == 0  # in flight is not held
    assert value("engage_relay_held_jobs", tenant="gamma", lane="live") == 0
    assert value("engage_relay_spilled_pending", tenant="acme") == 2
    causes = {s.labels["cause"] for f in registry.collect() for s in f.samples if s.name.endswith("_cause")}
    assert causes == {"key_refused"}
