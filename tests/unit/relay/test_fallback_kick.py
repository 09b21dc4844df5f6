"""The debounced sweep kick a dead letter gives: one sweep per tenant per window, in Redis or in process."""

from __future__ import annotations

import pytest
import redis

from relay.spill.kick import DebouncedSweepKick
from tests.support.dead_letters import letter, receipt


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_a_burst_of_dead_letters_sends_one_sweep_per_tenant(
    backend: str, request: pytest.FixtureRequest
) -> None:
    client: redis.Redis | None = request.getfixturevalue("redis_client") if backend == "redis" else None
    sent: list[tuple[str, float]] = []
    kick = DebouncedSweepKick(
        client, send=lambda tenant, countdown: sent.append((tenant, countdown)), debounce_s=5
    )
    # Given a burst of letters for one tenant and one for another
    for i in range(5):
        kick(letter(receipt(f"evt-{i}", f"r-{i}")))
    kick(letter(receipt("evt-b", "r-b", tenant="beta")))
    # Then one sweep per tenant is sent, the debounce later
    assert sent == [("acme-se", 5), ("beta", 5)]


def test_a_failing_send_never_breaks_dead_lettering() -> None:
    def broken(tenant: str, countdown: float) -> None:
        raise ConnectionError("broker down")

    DebouncedSweepKick(None, send=broken)(letter(receipt("evt-1", "r-1")))
