"""The shared dependencies through create_app in process (TestClient, in-memory twins): 401, 404 for
another tenant, ?tenant= for operators, the per-token 429, a reloaded registry seen at once, and the
read path's 503 with nothing cached when Engage is nowhere."""

from __future__ import annotations

import pytest
import redis
from fastapi.testclient import TestClient

from api.app import create_app
from api.ratelimit import RequestBudget
from api.services import ApiServices
from api.settings import ApiSettings
from relay.tenants import TenantRegistry
from relay.trail import TrailEntry
from tests.support.api_services import memory_services, tenant


@pytest.fixture
def services(redis_client: redis.Redis) -> ApiServices:
    return memory_services(redis_client, TenantRegistry([tenant("acme"), tenant("other")]))


@pytest.fixture
def http(services: ApiServices) -> TestClient:
    return TestClient(create_app(services))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_tenant_token_sees_its_own_tenant_only(services: ApiServices, http: TestClient) -> None:
    services.trail.add("acme", "evt-1", TrailEntry(step="admitted"))
    services.trail.add("other", "evt-2", TrailEntry(step="admitted"))
    token = services.tokens.create_for_tenant("till", "acme").raw

    assert http.get("/v1/events/evt-1", headers=bearer(token)).json()["tenant"] == "acme"
    theirs = http.get("/v1/events/evt-2?tenant=other", headers=bearer(token))
    missing = http.get("/v1/events/evt-2?tenant=nobody", headers=bearer(token))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert http.get("/v1/events/evt-1").status_code == 401


def test_an_operator_names_the_tenant(services: ApiServices, http: TestClient) -> None:
    services.trail.add("other", "evt-2", TrailEntry(step="admitted"))
    token = services.tokens.create_operator("ops").raw
    assert http.get("/v1/events/evt-2", headers=bearer(token)).status_code == 400
    assert http.get("/v1/events/evt-2?tenant=other", headers=bearer(token)).json()["state"] == "pending"


def test_a_token_past_its_budget_is_429(redis_client: redis.Redis) -> None:
    settings = ApiSettings(request_budget=RequestBudget(requests=2, per_s=60))
    services = memory_services(redis_client, TenantRegistry([tenant("acme")]), settings)
    http = TestClient(create_app(services))
    token = services.tokens.create_for_tenant("till", "acme").raw
    statuses = [http.get("/v1/events/x", headers=bearer(token)).status_code for _ in range(3)]
    assert statuses == [404, 404, 429]
    assert int(http.get("/v1/events/x", headers=bearer(token)).headers["Retry-After"]) >= 1


def test_a_registry_reloaded_after_start_is_seen_by_the_next_request(
    services: ApiServices, http: TestClient
) -> None:
    token = services.tokens.create_for_tenant("till", "newshop").raw
    assert http.get("/v1/events/x", headers=bearer(token)).status_code == 404
    services.registry = TenantRegistry([*services.registry, tenant("newshop")])
    services.trail.add("newshop", "x", TrailEntry(step="admitted"))
    assert http.get("/v1/events/x", headers=bearer(token)).status_code == 200


def test_a_read_with_engage_nowhere_and_nothing_cached_is_503_at_once(
    services: ApiServices, http: TestClient
) -> None:
    token = services.tokens.create_for_tenant("till", "acme").raw
    answer = http.get("/v1/contacts/c-1/overview", headers=bearer(token))
    assert answer.status_code == 503
    assert answer.headers["Retry-After"]


def test_an_invalid_envelope_gets_its_rejected_outcome_only_in_the_tokens_own_tenant(
    services: ApiServices, http: TestClient
) -> None:
    token = services.tokens.create_for_tenant("till", "acme").raw
    mine = {"id": "evt-mine", "type": "customer.created", "tenant": "acme"}
    theirs = {"id": "evt-theirs", "type": "customer.created", "tenant": "other"}
    answer = http.post("/v1/events", headers=bearer(token), json=[mine, theirs])
    assert answer.status_code == 422
    assert [o.event_id for o in services.outcomes.read_all()] == ["evt-mine"]  # type: ignore[attr-defined]
    assert {r.event_id for _, r in services.rejected.list()} == {"evt-mine", "evt-theirs"}
    assert {r.stage for _, r in services.rejected.list()} == {"api"}
