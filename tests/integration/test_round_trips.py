"""What one event costs in Redis round trips, with the worker's own runtime (`build_runtime`, shipped
settings) on a real Redis and the simulator: the figure issue 11 works down, kept from creeping back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import redis

from bench._workload import order
from relay.admit import Arrival, admit
from relay.handlers import PURCHASE
from relay.retry import RETRY_LADDER_S
from relay.tenants import TenantRegistry
from schemas import parse_event
from tests.support.round_trips import round_trips
from tests.support.simulator import RunningSimulator
from tests.support.task_harness import installed, run_event, tenant_for
from workers.runtime_factory import build_runtime
from workers.settings import Settings

pytestmark = pytest.mark.integration
TENANT = "acme-se"
MEMBER = "known-member@example.se"
AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

# A receipt of a member whose contactId the relay knows: the start script (settled marker, lease, claim,
# pause, breaker), the contactId read, the rate limiter, and the last write (marker check, outcome, marker,
# schedule, trail, read cache, claim release, breaker success). One Engage call.
KNOWN_RECEIPT_ROUND_TRIPS = 4


def _receipt(n: int) -> dict[str, Any]:
    return order(f"evt-rt-{n}", TENANT, MEMBER, f"r-{n}", AT, mix="receipts")


def test_a_known_members_receipt_costs_four_round_trips(
    simulator: RunningSimulator, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = tenant_for(simulator.base_url, simulator.api_key, name=TENANT)
    rt = build_runtime(Settings(), TenantRegistry([tenant]), redis_client, RETRY_LADDER_S)
    with installed(rt):
        # the first receipt creates the member and the relay remembers its contactId (and loads the scripts)
        assert run_event(_receipt(1), PURCHASE)["outcome"] == "applied"
        second = _receipt(2)
        admit(rt, [Arrival(parse_event(second), second)])  # as ingest does, before the task runs
        job = rt.schedule.get(TENANT, "evt-rt-2")
        assert job is not None
        with round_trips(monkeypatch) as count:
            result = run_event(job, PURCHASE)
    assert result["outcome"] == "applied" and len(result["calls"]) == 1
    assert count[0] == KNOWN_RECEIPT_ROUND_TRIPS
    assert rt.ledger.claim(TENANT, "evt-rt-2", "next:0"), "the claim was released in the last write"
