"""Operations on a running relay: live /metrics of worker and ingest, task context and no key in logs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.pipeline.conftest import TENANT_A, two_tenants
from tests.integration.pipeline.test_smoke import example
from tests.support.processes import free_port, wait_until
from tests.support.simulator import RunningSimulator
from tests.support.stack import RelayStack, relay_stack
from workers.settings import METRICS_ADDR_ENV, METRICS_PORT_ENV

pytestmark = pytest.mark.integration


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def ports_stack(
    redis_url: str, simulator: RunningSimulator, tmp_path: Path
) -> Iterator[tuple[RelayStack, int, int]]:
    env = {"ACME_KEY": simulator.api_key, "NORDIC_KEY": simulator.api_key_2, METRICS_ADDR_ENV: "127.0.0.1"}
    worker_port, ingest_port = free_port(), free_port()
    with relay_stack(redis_url, tmp_path / "relay", two_tenants(simulator), env) as running:
        running.env[METRICS_PORT_ENV] = str(worker_port)
        running.start_worker()
        running.env[METRICS_PORT_ENV] = str(ingest_port)
        running.start_ingest()
        yield running, worker_port, ingest_port


def test_worker_and_ingest_serve_metrics_and_logs_carry_task_context(
    ports_stack: tuple[RelayStack, int, int], simulator: RunningSimulator
) -> None:
    stack, worker_port, ingest_port = ports_stack
    # Given a customer sign-up published for acme-se
    created = example("customer.created", tenant=TENANT_A)
    stack.publish([created])
    stack.wait_for_outcomes([f"{TENANT_A}:{created['id']}"])
    # When the worker's endpoint is scraped, Then the applied event and its Engage calls are counted
    wait_until(
        lambda: (
            scrape(worker_port).get(
                (
                    "engage_relay_events_total",
                    (("outcome", "applied"), ("tenant", TENANT_A), ("type", "customer.created")),
                )
            )
            == 1
        ),
        timeout_s=10,
        what="worker metrics count the applied event",
    )
    worker = scrape(worker_port)
    calls = {k: v for k, v in worker.items() if k[0] == "engage_relay_engage_calls_total"}
    assert calls, "no Engage call counted"
    assert all(dict(labels)["tenant"] == TENANT_A for _, labels in calls)
    assert worker[("engage_relay_redis_up", ())] == 1
    assert worker[("engage_relay_breaker_state", (("state", "closed"), ("tenant", TENANT_A)))] == 1
    # And the ingest's endpoint counts what it admitted, and what its mover sent to the workers
    ingest = scrape(ingest_port)
    assert ingest[("engage_relay_ingest_admitted_total", ())] >= 1
    assert ingest[("engage_relay_mover_sent_total", ())] >= 1
    # And the worker's JSON log lines of the task carry its id and name, never the API key
    log_text = stack.procs["worker"].log_path.read_text(errors="replace")
    lines = [json.loads(line) for line in log_text.splitlines() if line.startswith("{")]
    applied = [line for line in lines if line.get("event") == "engage.event.applied"]
    assert applied and applied[0]["task_id"] and applied[0]["task_name"] == "engage.contacts.upsert"
    assert simulator.api_key not in log_text
