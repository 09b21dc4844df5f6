"""The checkout read path over real HTTP: each read's miss, hit, invalidation by the relay's writes, and
the stale answer (or 503) during a simulated outage, measured against the read deadline."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import redis
import requests

from api.settings import DEFAULT_READ_DEADLINE_S
from engage.contact_store import identifier_digest
from relay.breaker import RedisCircuitBreaker
from relay.readcache import ReadKind, RedisReadCache
from tests.integration.api.conftest import ApiService, new_email, new_id
from tests.support.simulator import RunningSimulator, SimHttp

DEADLINE_MARGIN_S = 0.35
"""HTTP, JSON and a busy two-core machine on top of the deadline itself."""
PROMO = "11111111-1111-4111-8111-111111111111"
VOUCHER_PREFIX = "44444444-4444-4444-8444-"


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


READS: dict[ReadKind, Callable[[Shopper], str]] = {
    "lookup": lambda s: f"/v1/contacts/lookup?email={s.email}",
    "overview": lambda s: f"/v1/contacts/{s.contact_id}/overview",
    "vouchers": lambda s: f"/v1/contacts/{s.contact_id}/vouchers",
    "promotions": lambda s: f"/v1/contacts/{s.contact_id}/promotions?channel=POS",
}


def subject(kind: ReadKind, shopper: Shopper) -> str:
    return identifier_digest("acme", "email", shopper.email) if kind == "lookup" else shopper.contact_id


def timed_get(api: ApiService, path: str, token: str) -> tuple[requests.Response, float]:
    started = time.perf_counter()
    answer = api.call("GET", path, token)
    return answer, time.perf_counter() - started


def invalidate(api: ApiService, kind: ReadKind, shopper: Shopper) -> None:
    client = redis.Redis.from_url(api.redis_url)
    try:
        RedisReadCache(client).invalidate("acme", subject(kind, shopper), [kind])
    finally:
        client.close()


@pytest.mark.parametrize("kind", list(READS))
def test_a_read_misses_then_hits_the_cache(
    api: ApiService, acme_token: str, shopper: Shopper, simulator: RunningSimulator, kind: ReadKind
) -> None:
    first, _ = timed_get(api, READS[kind](shopper), acme_token)
    assert first.status_code == 200, first.text
    assert first.headers["X-Cache"] == "MISS"
    calls = sum(simulator.admin.state()["requests"].get(route, {}).get("200", 0) for route in _routes())

    second, took_s = timed_get(api, READS[kind](shopper), acme_token)
    assert second.status_code == 200
    assert second.headers["X-Cache"] == "HIT"
    assert int(second.headers["Age"]) >= 0
    assert second.json() == first.json()
    assert sum(simulator.admin.state()["requests"].get(r, {}).get("200", 0) for r in _routes()) == calls
    assert took_s < DEFAULT_READ_DEADLINE_S


def _routes() -> list[str]:
    return [
        "GET /api/v3/contacts/id",
        "GET /api/v3/contactoverview",
        "GET /api/v3/reward-vouchers/available",
        "GET /api/v3/promotion-assignments",
    ]


@pytest.mark.parametrize("fault", ["outage", "latency"])
@pytest.mark.parametrize("kind", list(READS))
def test_during_an_outage_a_read_answers_the_stale_copy_within_its_deadline(
    api: ApiService,
    acme_token: str,
    shopper: Shopper,
    simulator: RunningSimulator,
    kind: ReadKind,
    fault: str,
) -> None:
    fresh = api.call("GET", READS[kind](shopper), acme_token)
    assert fresh.headers["X-Cache"] == "MISS"
    invalidate(api, kind, shopper)  # no longer fresh: the next read asks Engage
    if fault == "outage":
        simulator.admin.set_faults(outage=True)
    else:
        simulator.admin.set_faults(latency_ms={"p50": 3000, "p99": 3500})

    answer, took_s = timed_get(api, READS[kind](shopper), acme_token)

    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Cache"] == "STALE"
    assert int(answer.headers["Age"]) >= 0
    assert answer.json() == fresh.json()
    assert took_s < DEFAULT_READ_DEADLINE_S + DEADLINE_MARGIN_S


@pytest.mark.parametrize("kind", list(READS))
def test_with_nothing_cached_an_outage_is_503_with_retry_after_within_the_deadline(
    api: ApiService, acme_token: str, shopper: Shopper, simulator: RunningSimulator, kind: ReadKind
) -> None:
    simulator.admin.set_faults(latency_ms={"p50": 3000, "p99": 3500})
    answer, took_s = timed_get(api, READS[kind](shopper), acme_token)
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) >= 1
    assert answer.json()["error"] == "engage_unavailable"
    assert took_s < DEFAULT_READ_DEADLINE_S + DEADLINE_MARGIN_S


def test_while_the_breaker_is_open_reads_do_not_ask_engage(
    api: ApiService, acme_token: str, shopper: Shopper, simulator: RunningSimulator
) -> None:
    path = READS["overview"](shopper)
    assert api.call("GET", path, acme_token).headers["X-Cache"] == "MISS"
    invalidate(api, "overview", shopper)
    client = redis.Redis.from_url(api.redis_url)
    breaker = RedisCircuitBreaker(client)
    try:
        breaker.record(breaker.allow("acme"), "trip", "test: Engage refuses the key")
        asked = simulator.admin.request_count("GET /api/v3/contactoverview")
        answer, took_s = timed_get(api, path, acme_token)
        assert answer.headers["X-Cache"] == "STALE"
        assert simulator.admin.request_count("GET /api/v3/contactoverview") == asked
        assert took_s < DEFAULT_READ_DEADLINE_S
    finally:
        breaker.reset("acme")
        client.close()


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


def test_a_contact_update_the_relay_applies_invalidates_the_overview(
    api: ApiService, acme_token: str, shopper: Shopper
) -> None:
    path = READS["overview"](shopper)
    assert api.call("GET", path, acme_token).json()["profile"]["firstName"] == "Anna"
    assert api.call("GET", path, acme_token).headers["X-Cache"] == "HIT"

    update = envelope("customer.updated", {"contact_id": shopper.contact_id, "first_name": "Berit"})
    assert publish_and_settle(api, acme_token, update)["outcome"] == "applied"

    after = api.call("GET", path, acme_token)
    assert after.headers["X-Cache"] == "MISS"
    assert after.json()["profile"]["firstName"] == "Berit"


def test_a_voucher_redemption_invalidates_the_vouchers(
    api: ApiService, acme_token: str, shopper: Shopper
) -> None:
    path = READS["vouchers"](shopper)
    assert [v["id"] for v in api.call("GET", path, acme_token).json()["vouchers"]] == [shopper.voucher_id]
    assert api.call("GET", path, acme_token).headers["X-Cache"] == "HIT"

    redeem = envelope(
        "voucher.redeemed", {"customer": {"contact_id": shopper.contact_id}, "voucher_id": shopper.voucher_id}
    )
    assert publish_and_settle(api, acme_token, redeem)["outcome"] == "applied"

    after = api.call("GET", path, acme_token)
    assert after.headers["X-Cache"] == "MISS"
    assert after.json()["vouchers"] == []


def test_the_contact_id_store_answers_a_lookup_without_engage(
    api: ApiService, acme_token: str, simulator: RunningSimulator
) -> None:
    email = new_email()
    created = envelope("customer.created", {"email": email, "first_name": "Cecilia"})
    contact_id = publish_and_settle(api, acme_token, created)["contact_id"]
    asked = simulator.admin.request_count("GET /api/v3/contacts/id")

    answer = api.call("GET", f"/v1/contacts/lookup?email={email.upper()}", acme_token)

    assert answer.json() == {"contact_id": contact_id, "source": "store"}
    assert simulator.admin.request_count("GET /api/v3/contacts/id") == asked
    assert api.call("GET", "/v1/contacts/lookup?email=nobody@example.com", acme_token).status_code == 404
    assert api.call("GET", "/v1/contacts/lookup", acme_token).status_code == 400
