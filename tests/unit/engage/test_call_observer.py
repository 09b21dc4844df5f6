"""The optional `on_response` observer of BaseEngageClient: told of every exchange, never breaks a call."""

from __future__ import annotations

import pytest

from engage.client import EngageClient
from engage.errors import AuthenticationFailed, EngageUnreachable
from engage.ratelimit import MemoryRateLimiter
from engage.retry import ShortRetryPolicy
from engage.transport import CallObservation
from tests.unit.engage.fake_transport import BASE_URL, FakeTransport, session_with
from tests.unit.engage.test_client import refused

API_KEY = "observer-test-key-123456"
GUID = "2e40b702-2767-4abe-ae99-aa510108e22b"


def client_with(transport: FakeTransport, seen: list[CallObservation]) -> EngageClient:
    return EngageClient(
        BASE_URL,
        API_KEY,
        session=session_with(transport),
        retry=ShortRetryPolicy(attempts=1),
        rate_limiter=MemoryRateLimiter(100),
        on_response=seen.append,
    )


def test_answers_and_failures_are_observed_without_the_key_or_query() -> None:
    # Given a transport that answers 200, then 401, then refuses the connection
    transport = FakeTransport().reply(200, GUID).reply(401, {"errorCode": "Unauthorized"})
    transport.fail(refused())
    seen: list[CallObservation] = []
    client = client_with(transport, seen)
    # When three calls are made
    client.lookup_contact(email="a@example.com")
    with pytest.raises(AuthenticationFailed):
        client.lookup_contact(email="a@example.com")
    with pytest.raises(EngageUnreachable):
        client.lookup_contact(email="a@example.com")
    # Then each is observed with its status (or error), path without query, and the key's fingerprint
    assert [(o.method, o.path, o.status, o.error) for o in seen] == [
        ("GET", "/api/v3/contacts/id", 200, None),
        ("GET", "/api/v3/contacts/id", 401, None),
        ("GET", "/api/v3/contacts/id", None, "EngageUnreachable"),
    ]
    assert all(o.key_id == client.key_id and o.seconds >= 0 and o.rate_wait_s >= 0 for o in seen)
    assert API_KEY not in repr(seen)


def test_a_failing_observer_never_fails_the_call() -> None:
    def broken(_: CallObservation) -> None:
        raise RuntimeError("observer bug")

    transport = FakeTransport().reply(200, GUID)
    client = EngageClient(
        BASE_URL,
        API_KEY,
        session=session_with(transport),
        retry=ShortRetryPolicy(attempts=1),
        on_response=broken,
    )
    assert client.lookup_contact(email="a@example.com") == GUID
