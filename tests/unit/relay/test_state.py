"""`relay.state.read_state`: each tenant's hold and its cause, the schedule's lanes, the spill, bounded."""

from __future__ import annotations

import time

import pytest
import redis

from engage.errors import (
    AuthenticationFailed,
    EngageError,
    EngageTimeout,
    EngageUnreachable,
    ServerError,
    SystemMisconfigured,
)
from relay.breaker import describe_cause
from relay.control import RedisTenantControl
from relay.state import (
    CAUSE_KINDS,
    LaneState,
    cause_kind,
    read_state,
    read_tenants,
    spilled_pending_by_tenant,
)
from tests.support import relay_seed as seed


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (AuthenticationFailed(status=401), "key_refused"),
        (AuthenticationFailed(status=403), "key_refused"),
        (SystemMisconfigured(status=500, error_code="InvalidSystemConfiguration"), "misconfigured"),
        (EngageTimeout(maybe_delivered=False), "timeout"),
        (EngageUnreachable(), "unreachable"),
        (ServerError(status=503), "server_error"),
        (ServerError(), "server_error"),
        (EngageError("something new"), "other"),
    ],
)
def test_every_cause_the_breaker_records_has_a_bounded_kind(error: EngageError, kind: str) -> None:
    # The kinds follow the breaker's own words: a new wording there fails here, not in a dashboard
    assert cause_kind(describe_cause(error)) == kind
    assert kind in {k for _, k in CAUSE_KINDS} | {"other"}


def test_a_tenant_whose_key_is_refused_is_held_with_the_cause_in_plain_words(
    redis_client: redis.Redis,
) -> None:
    # Given a tenant whose breaker a 401 tripped, with events waiting in both lanes and two in flight
    before = time.time()
    cause = seed.trip_breaker(redis_client, "acme", seed.key_refused())
    seed.scheduled(redis_client, "acme", due=3, later=2, leased=2, lane="backlog")
    seed.scheduled(redis_client, "acme", due=1, later=0, leased=0, lane="live")
    # And another tenant, healthy, with nothing waiting
    tenants = [seed.tenant("acme", "key-acme-1"), seed.tenant("beta", "key-beta-1")]
    # When the state is read
    state = read_state(redis_client, tenants)
    acme, beta = state.tenants
    # Then acme is held since the trip, with the cause Engage gave, and its events are counted per lane
    assert cause == "Engage refused the API key (401): check the tenant's key"
    assert (acme.breaker, acme.cause, acme.cause_kind) == ("open", cause, "key_refused")
    assert acme.on_hold and acme.outage_since is not None and acme.outage_since >= before - 1
    assert acme.lanes == {"live": LaneState(1, 0, 0), "backlog": LaneState(3, 2, 2)}
    assert acme.held_in_lanes() == (6, {"live": 1, "backlog": 5})
    assert acme.as_dict(state.read_at)["held"] == 6
    # And beta is not held, and nothing of acme's shows on it
    assert not beta.on_hold and beta.held == 0 and beta.cause is None and beta.held_s() == 0.0
    assert beta.lanes == {"live": LaneState(0, 0, 0), "backlog": LaneState(0, 0, 0)}


def test_a_paused_tenant_is_held_by_whom_and_since_when(redis_client: redis.Redis) -> None:
    # Given a tenant an operator paused a moment ago, with two events waiting
    RedisTenantControl(redis_client).pause("acme", "karin")
    seed.scheduled(redis_client, "acme", due=2, later=0, leased=0, lane="live")
    # When its state is read (the cheap part only)
    (acme,) = read_tenants(redis_client, [seed.tenant("acme", "key-acme-1")])
    # Then it is held by the pause, though its breaker is closed
    assert acme.breaker == "closed" and acme.cause is None
    assert acme.on_hold and acme.paused_by == "karin" and acme.held == 2
    assert 0 <= acme.held_s() < 60


def test_spilled_events_count_until_they_are_delivered_by_file(redis_client: redis.Redis) -> None:
    # Given a long outage's spill: two waiting for the sweep, one in a file not yet uploaded, three
    # delivered (their envelopes carry an attribute named like the state, which must not count)
    seed.spilled(redis_client, "acme", 2, "pending")
    seed.spilled(redis_client, "acme", 1, "written")
    seed.spilled(redis_client, "acme", 3, "delivered_by_file")
    seed.spilled(redis_client, "beta", 1, "pending")
    tenants = [seed.tenant("acme", "key-acme-1"), seed.tenant("beta", "key-beta-1")]
    # When the state is read
    state = read_state(redis_client, tenants)
    # Then only the undelivered are counted, per tenant
    assert [t.spilled_pending for t in state.tenants] == [3, 1]
    assert state.spilled_complete


def test_the_spill_is_read_within_its_bound_and_says_so(redis_client: redis.Redis) -> None:
    # Given more spilled letters than the reader may read
    seed.spilled(redis_client, "acme", 5, "pending")
    # When they are counted with a bound of 3
    counts, complete = spilled_pending_by_tenant(redis_client, cap=3)
    # Then the newest 3 are counted, and the answer says it did not read them all
    assert counts == {"acme": 3}
    assert not complete
