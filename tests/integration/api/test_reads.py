"""The checkout read path over real HTTP: each read's miss, hit, invalidation by the relay's writes, and
the stale answer (or 503) during a simulated outage, measured against the read deadline."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis
import requests

from api.settings import DEFAULT_READ_DEADLINE_S
from engage.contact_store import identifier_digest
from relay.breaker import RedisCircuitBreaker
from relay.readcache import ReadKind, RedisReadCache
from tests.integration.api.conftest import ApiService, Shopper, envelope, new_email, publish_and_settle
from tests.support.simulator import RunningSimulator

DEADLINE_MARGIN_S = 0.35
"""HTTP, JSON and a busy two-core machine on top of the deadline itself."""
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
