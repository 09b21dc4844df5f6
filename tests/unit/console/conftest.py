"""A console over a private real Redis (tests/conftest.py), with an operator and a client admin, driven by
FastAPI's TestClient; Engage is never called (the connection test is a stand-in)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from console import build_router, redis_services
from console.services import ConsoleServices
from console.users import new_user
from relay.connection_check import CheckResult
from relay.file_check import FileCheck
from relay.tenant_reload import ReloadingRegistry
from relay.tenant_store import RedisTenantStore, SecretBox, new_secret_key
from relay.tenants import Tenant, TenantRegistry

PASSWORD = "correct horse battery"
GOOD_KEY = "good-key"


def make_tenant(name: str, key: str = GOOD_KEY) -> Tenant:
    return Tenant(name=name, base_url="http://127.0.0.1:9", api_key=SecretStr(key))


@dataclass
class Console:
    services: ConsoleServices
    store: RedisTenantStore
    app: FastAPI
    redis: redis.Redis

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://testserver")

    def login(self, user: str, password: str = PASSWORD) -> TestClient:
        client = self.client()
        answer = client.post("/console/login", data={"username": user, "password": password})
        assert answer.status_code in (200, 303), answer.text
        return client


def fake_check(tenant: Tenant) -> CheckResult:
    if tenant.api_key.get_secret_value() == GOOD_KEY:
        return CheckResult(True, "ok", "the API key works (3 ms)", 0.003, 404)
    return CheckResult(False, "bad_key", "Engage refused the API key (401)", 0.003, 401)


@pytest.fixture
def console(redis_client: redis.Redis) -> Iterator[Console]:
    store = RedisTenantStore(redis_client, SecretBox(new_secret_key()))
    store.put(make_tenant("acme"))
    store.put(make_tenant("other"))
    registry = ReloadingRegistry(lambda: TenantRegistry(store.load_all()), store.generation, check_every_s=0)
    services = redis_services(
        redis_client, session_key="x" * 32, tenants=lambda: registry, tenant_store=store
    )
    services.test_connection = fake_check
    services.test_file_server = lambda _: FileCheck(True, "no_file_server", "no file server is configured")
    services.users.add(new_user("ops", "operator", PASSWORD))
    services.users.add(new_user("anna", "client_admin", PASSWORD, tenant="acme"))
    app = FastAPI()
    app.include_router(build_router(services))
    yield Console(services, store, app, redis_client)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)
