"""EngageClient against the simulator's faults: wrong key, 429, outage, no server, timeouts."""

from __future__ import annotations

import pytest

from engage.errors import (
    AuthenticationFailed,
    EngageTimeout,
    EngageUnreachable,
    RateLimited,
    ServerError,
    SystemicError,
)
from engage.ratelimit import MemoryRateLimiter
from engage.retry import SHORT_RETRY_ATTEMPTS
from engage.transport import Timeouts
from tests.support.engage_clients import client_for
from tests.support.processes import free_port
from tests.support.simulator import RunningSimulator

pytestmark = pytest.mark.integration

LOOKUP = "GET /api/v3/contacts/id"
CREATE = "POST /api/v3/contacts"


def test_a_wrong_key_is_systemic_and_never_shown(simulator: RunningSimulator) -> None:
    client = client_for(simulator, api_key="wrong-key-xyz")
    with pytest.raises(AuthenticationFailed) as caught:
        client.lookup_contact(email="a@example.com")
    assert isinstance(caught.value, SystemicError)
    assert "wrong-key-xyz" not in str(caught.value)
    assert simulator.admin.request_count(LOOKUP, 401) == 1  # not retried


def test_429_raises_and_slows_the_key(simulator: RunningSimulator) -> None:
    # Given Engage allowing 2 requests/s for the key and asking for 1 s of patience
    simulator.admin.set_faults(rate_limit=2, retry_after_s=1)
    limiter = MemoryRateLimiter(default_budget_per_s=100)
    client = client_for(simulator, rate_limiter=limiter)
    # When we call faster than that
    with pytest.raises(RateLimited) as caught:
        for _ in range(5):
            client.lookup_contact(email="a@example.com")
    # Then the 429 is raised, not retried, and the key cools down for every user of the limiter
    assert caught.value.retry_after_s == 1.0
    assert simulator.admin.request_count(LOOKUP, 429) == 1
    assert limiter.cooldown_remaining_s(client.key_id) > 0.5


def test_an_outage_is_a_server_error_get_retried_post_not(simulator: RunningSimulator) -> None:
    simulator.admin.set_faults(outage=True)
    client = client_for(simulator)
    with pytest.raises(ServerError):
        client.lookup_contact(email="a@example.com")
    with pytest.raises(ServerError):
        client.create_contact({"email": "a@example.com"}, source="ECOM", store_external_id="s1")
    assert simulator.admin.request_count(LOOKUP, 503) == SHORT_RETRY_ATTEMPTS
    assert simulator.admin.request_count(CREATE, 503) == 1


def test_no_server_is_unreachable_and_never_delivered(simulator: RunningSimulator) -> None:
    client = client_for(simulator)
    client.base_url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(EngageUnreachable) as caught:
        client.create_contact({"email": "a@example.com"}, source="ECOM", store_external_id="s1")
    assert caught.value.maybe_delivered is False
    assert "a@example.com" not in str(caught.value)


def test_a_post_that_times_out_may_have_been_delivered(simulator: RunningSimulator) -> None:
    # Given Engage that applies every request but answers after 1.5 s
    simulator.admin.set_faults(timeout_rate=1.0, timeout_s=1.5)
    client = client_for(simulator, timeouts=Timeouts(connect_s=1.0, read_s=0.3))
    # When a create times out
    with pytest.raises(EngageTimeout) as caught:
        client.create_contact({"email": "t@example.com"}, source="ECOM", store_external_id="s1")
    # Then the client says it may have arrived, did not re-send, and indeed it arrived
    assert caught.value.maybe_delivered is True
    simulator.admin.set_faults(timeout_rate=0.0)
    assert client.lookup_contact(email="t@example.com") is not None
    assert len(simulator.admin.state()["contacts"]) == 1
