"""The HTTP service over real HTTP: `engage-relay api` as a child process on a free port, with the relay's
own `ingest` and `worker` processes, a private Redis server and the session's simulator.

One stack for the package (starting a worker takes seconds); tests keep apart by fresh ids and e-mails,
and the simulator is reset before each test (the `simulator` fixture). Two tenants, each its own Engage
(an API key of the simulator): `acme` (with a soft-identification key) and `other`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from api.tokens import ApiTokens, RedisTokenStore
from tests.support.processes import Proc, free_port, wait_until
from tests.support.simulator import RunningSimulator, SimHttp
from tests.support.stack import RelayStack, relay_stack

PROMO = "11111111-1111-4111-8111-111111111111"
VOUCHER_PREFIX = "44444444-4444-4444-8444-"
SOFT_ID_KEY = "Ab3dEf6hIj9kLm2oPq5sTu8wXy1zAb4d"  # 32 characters a-z, A-Z, 0-9, as Voyado's
HTTP_TIMEOUT_S = 10.0


@dataclass
class ApiService:
    base_url: str
    proc: Proc
    stack: RelayStack
    redis_url: str

    def tokens(self) -> ApiTokens:
        return ApiTokens(RedisTokenStore(redis.Redis.from_url(self.redis_url)))

    def token_for(self, tenant: str) -> str:
        return self.tokens().create_for_tenant(f"test-{uuid.uuid4().hex[:6]}", tenant).raw

    def operator_token(self) -> str:
        return self.tokens().create_operator("test-operator").raw

    def call(
        self, method: str, path: str, token: str | None, *, timeout: float = HTTP_TIMEOUT_S, **kwargs: Any
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, f"{self.base_url}{path}", headers=headers, timeout=timeout, **kwargs)


@pytest.fixture(scope="session")
def api_service(
    redis_server: str, simulator_process: RunningSimulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiService]:
    workdir = Path(tmp_path_factory.mktemp("api"))
    client = redis.Redis.from_url(redis_server)
    client.flushall()
    client.close()
    tenants = {
        "acme": {
            "base_url": simulator_process.base_url,
            "api_key_env": "ACME_ENGAGE_KEY",
            "soft_id_key_env": "ACME_SOFT_ID_KEY",
            "policy": {"source": "POS", "default_store": "store-1"},
        },
        "other": {"base_url": simulator_process.base_url, "api_key_env": "OTHER_ENGAGE_KEY"},
    }
    env = {
        "ACME_ENGAGE_KEY": simulator_process.api_key,
        "OTHER_ENGAGE_KEY": simulator_process.api_key_2,
        "ACME_SOFT_ID_KEY": SOFT_ID_KEY,
        "ENGAGE_RELAY_METRICS_PORT": "0",
    }
    with relay_stack(redis_server, workdir, tenants, env) as stack:
        stack.start_ingest()
        stack.start_worker(concurrency=4)
        port = free_port()
        proc = stack.start("api", "api", "--port", str(port))
        base_url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            if not proc.alive():
                raise RuntimeError(f"api died at start:\n{proc.log_tail()}")
            try:
                return requests.get(f"{base_url}/healthz", timeout=0.5).ok
            except requests.RequestException:
                return False

        wait_until(healthy, what="engage-relay api")
        yield ApiService(base_url, proc, stack, redis_server)


@pytest.fixture
def api(api_service: ApiService, simulator: RunningSimulator) -> ApiService:
    """The running service, with the simulator reset for this test."""
    return api_service


@pytest.fixture
def acme_token(api: ApiService) -> str:
    return api.token_for("acme")


def new_email() -> str:
    return f"shopper-{uuid.uuid4().hex[:10]}@example.com"


def new_id(prefix: str = "evt") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


@dataclass
class Shopper:
    contact_id: str
    email: str
    voucher_id: str


@pytest.fixture
def shopper(api: ApiService, simulator: RunningSimulator, sim_http: SimHttp) -> Shopper:
    email = new_email()
    created = sim_http.post("/api/v3/contacts", json={"email": email, "firstName": "Anna"})
    assert created.status_code in (200, 201), created.text
    contact_id: str = created.json()["id"]
    voucher_id = VOUCHER_PREFIX + uuid.uuid4().hex[:12]
    simulator.admin.seed(
        {
            "promotions": [{"id": PROMO, "name": "Welcome", "redemptionChannels": [{"type": "POS"}]}],
            "vouchers": [
                {
                    "id": voucher_id,
                    "voucherNumber": f"V-{voucher_id[-6:]}",
                    "contactId": contact_id,
                    "value": {"currency": "SEK", "amount": 50},
                }
            ],
        }
    )
    return Shopper(contact_id, email, voucher_id)


def publish_and_settle(api: ApiService, token: str, event: dict[str, Any]) -> dict[str, Any]:
    assert api.call("POST", "/v1/events", token, json=event).status_code == 202
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        trail = api.call("GET", f"/v1/events/{event['id']}", token)
        if trail.status_code == 200 and trail.json()["state"] == "settled":
            result: dict[str, Any] = trail.json()
            return result
        time.sleep(0.1)
    raise TimeoutError(f"not settled:\n{api.stack.procs['worker'].log_tail()}")


def envelope(type_: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": new_id(),
        "type": type_,
        "version": 1,
        "tenant": "acme",
        "occurred_at": "2026-11-24T09:41:12+01:00",
        "source": "POS",
        "data": data,
    }
