"""The simulator's fault injection and admin routes over real HTTP."""

from __future__ import annotations

import statistics
import time

import pytest
import requests

from tests.support.simulator import RunningSimulator, SimHttp

pytestmark = pytest.mark.integration

LOOKUP = "/api/v3/contacts/id"
QUERY = {"email": "nobody@example.com"}


def test_above_the_per_key_rate_is_429_for_that_key_only(
    simulator: RunningSimulator, sim_http: SimHttp
) -> None:
    # Given a limit of 5 requests/s per key and a Retry-After to send
    simulator.admin.set_faults(rate_limit=5, retry_after_s=1)
    # When 20 requests go out at once on the first key
    statuses = [sim_http.get(LOOKUP, params=QUERY) for _ in range(20)]
    # Then at most two windows' worth are admitted, the rest are 429 with Retry-After
    admitted = [r for r in statuses if r.status_code == 404]
    refused = [r for r in statuses if r.status_code == 429]
    assert len(admitted) + len(refused) == 20
    assert 5 <= len(admitted) <= 10
    assert refused[0].json()["errorCode"] == "TooManyRequests"
    assert refused[0].headers["Retry-After"] == "1"
    # And the second key still has its own budget
    other = SimHttp(simulator.base_url, simulator.api_key_2)
    assert other.get(LOOKUP, params=QUERY).status_code == 404
    other.close()


def test_no_retry_after_by_default(simulator: RunningSimulator, sim_http: SimHttp) -> None:
    simulator.admin.set_faults(rate_limit=1)
    responses = [sim_http.get(LOOKUP, params=QUERY) for _ in range(4)]
    refused = [r for r in responses if r.status_code == 429]
    assert refused
    assert "Retry-After" not in refused[0].headers


def test_latency_follows_the_requested_median(simulator: RunningSimulator, sim_http: SimHttp) -> None:
    # Given a lognormal latency with p50 30 ms and p99 90 ms
    simulator.admin.set_faults(latency_ms={"p50": 30, "p99": 90}, seed=7)
    # When 40 requests are timed
    durations_ms = []
    for _ in range(40):
        start = time.perf_counter()
        sim_http.get(LOOKUP, params=QUERY)
        durations_ms.append((time.perf_counter() - start) * 1000)
    # Then the median is near 30 ms and the delays vary (not a constant)
    assert 20 <= statistics.median(durations_ms) <= 45
    assert max(durations_ms) - min(durations_ms) > 10


def test_injected_errors_are_not_applied(simulator: RunningSimulator, sim_http: SimHttp) -> None:
    simulator.admin.set_faults(error_rate=1.0, error_statuses=[503])
    response = sim_http.post("/api/v3/contacts", json={"email": "e@example.com"})
    assert response.status_code == 503
    assert response.json()["errorCode"] == "ServiceUnavailable"
    assert simulator.admin.state()["contacts"] == []
    simulator.admin.set_faults(error_statuses=[500])
    assert sim_http.get(LOOKUP, params=QUERY).json() == {"message": "An error has occurred"}


def test_error_rate_is_a_fraction(simulator: RunningSimulator, sim_http: SimHttp) -> None:
    simulator.admin.set_faults(error_rate=0.5, error_statuses=[500, 503, 504], seed=1)
    statuses = [sim_http.get(LOOKUP, params=QUERY).status_code for _ in range(100)]
    errors = [s for s in statuses if s != 404]
    assert 30 <= len(errors) <= 70
    assert set(errors) <= {500, 503, 504}


def test_timeout_applies_the_request_but_holds_the_answer(
    simulator: RunningSimulator, sim_http: SimHttp
) -> None:
    # Given every answer is held for 1.5 s
    simulator.admin.set_faults(timeout_rate=1.0, timeout_s=1.5)
    # When a create times out on the client side
    with pytest.raises(requests.Timeout):
        sim_http.post("/api/v3/contacts", json={"email": "t@example.com"}, timeout=0.3)
    # Then the contact was created all the same (the "POST may have arrived" case)
    assert [c["attributes"]["email"] for c in simulator.admin.state()["contacts"]] == ["t@example.com"]


def test_outage_answers_503_on_engage_routes_but_not_admin(
    simulator: RunningSimulator, sim_http: SimHttp
) -> None:
    simulator.admin.set_faults(outage=True)
    response = sim_http.get(LOOKUP, params=QUERY)
    assert response.status_code == 503
    assert SimHttp(simulator.base_url, None).get(LOOKUP).status_code == 503
    assert simulator.admin.state()["requests"][f"GET {LOOKUP}"] == {"503": 2}
    simulator.admin.set_faults(outage=False)
    assert sim_http.get(LOOKUP, params=QUERY).status_code == 404


def test_faults_are_validated_and_readable(simulator: RunningSimulator) -> None:
    assert simulator.admin.faults()["rate_limit"] == 200
    bad = requests.put(f"{simulator.base_url}/_sim/faults", json={"error_rate": 2}, timeout=5)
    assert bad.status_code == 400
    unknown = requests.put(f"{simulator.base_url}/_sim/faults", json={"nonsense": 1}, timeout=5)
    assert unknown.status_code == 400
    assert simulator.admin.set_faults(latency_ms={"p50": 5, "p99": 50})["latency_ms"] == {"p50": 5, "p99": 50}


def test_reset_clears_state_and_faults(simulator: RunningSimulator, sim_http: SimHttp) -> None:
    sim_http.post("/api/v3/contacts", json={"email": "r@example.com"})
    simulator.admin.set_faults(outage=True, rate_limit=3)
    simulator.admin.reset()
    state = simulator.admin.state()
    assert state["contacts"] == []
    assert state["requests"] == {}
    faults = simulator.admin.faults()
    assert (faults["outage"], faults["rate_limit"]) == (False, 200)
