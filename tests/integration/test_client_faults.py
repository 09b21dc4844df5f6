"""EngageClient against the simulator's faults: wrong key, 429, outage, no server, timeouts, and the
documented errors injected on request (409 being created, 500 InvalidSystemConfiguration, 504 redeem)."""

from __future__ import annotations

import pytest

from engage.errors import (
    AlreadyRedeemed,
    AuthenticationFailed,
    ContactBeingCreated,
    ContactKeyTaken,
    EngageTimeout,
    EngageUnreachable,
    RateLimited,
    RetryableError,
    ServerError,
    SkippableError,
    SystemicError,
    SystemMisconfigured,
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
REDEEM = "POST /api/v3/reward-vouchers/{rewardVoucherId}/redeem"
VOUCHER = "af61c5c8-7ff8-1234-9b67-c75300738cd3"


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


def test_409_contact_being_created_is_retryable_and_a_key_taken(simulator: RunningSimulator) -> None:
    simulator.admin.set_faults(inject=[{"error": "ContactWithKeyIsBeingCreated"}])
    client = client_for(simulator)
    with pytest.raises(ContactBeingCreated) as caught:
        client.create_contact({"email": "a@example.com"}, source="ECOM", store_external_id="s1")
    assert isinstance(caught.value, RetryableError) and isinstance(caught.value, ContactKeyTaken)
    assert (caught.value.status, caught.value.error_code) == (409, "ContactWithKeyIsBeingCreated")
    assert simulator.admin.request_count(CREATE) == 1  # a POST is not re-sent by the short retries


def test_500_invalid_system_configuration_is_systemic_not_a_server_error(simulator: RunningSimulator) -> None:
    simulator.admin.set_faults(inject=[{"error": "InvalidSystemConfiguration", "times": None}])
    client = client_for(simulator)
    with pytest.raises(SystemMisconfigured) as caught:
        client.lookup_contact(email="a@example.com")
    assert isinstance(caught.value, SystemicError) and not isinstance(caught.value, ServerError)
    with pytest.raises(SystemMisconfigured):
        client.contact_overview(contact_type="Member", email="a@example.com")
    assert simulator.admin.request_count(LOOKUP) == 1  # systemic: not retried, even on a GET


def test_504_on_voucher_redeem_is_a_server_error_then_already_redeemed(simulator: RunningSimulator) -> None:
    # Given a voucher, and one 504 on its redeem after Engage did redeem it
    client = client_for(simulator)
    contact_id = client.create_contact({"email": "v@example.com"}, source="ECOM", store_external_id="s1").id
    simulator.admin.seed({"vouchers": [{"id": VOUCHER, "voucherNumber": "V1", "contactId": contact_id}]})
    simulator.admin.set_faults(inject=[{"error": "GatewayTimeout", "applied": True}])
    # When it is redeemed, and redeemed again later (the relay's ladder)
    with pytest.raises(ServerError) as caught:
        client.redeem_reward_voucher(VOUCHER)
    assert isinstance(caught.value, RetryableError)
    assert (caught.value.status, caught.value.error_code) == (504, "GatewayTimeout")
    with pytest.raises(AlreadyRedeemed) as again:
        client.redeem_reward_voucher(VOUCHER)
    # Then the second answer counts as done
    assert isinstance(again.value, SkippableError)
    assert simulator.admin.request_count(REDEEM) == 2
