"""A thousand malformed envelopes of many kinds, mixed with a good day: every bad one is kept with its
reasons, every good one is applied, and the consumer never stops."""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fallback.rejected import RedisRejectedStore
from tests.integration.pipeline.conftest import TENANT_A
from tests.integration.pipeline.days import ECOM_TENANT, ecom_day, event_keys
from tests.support.event_strategies import MALFORMED_KINDS, Malformed, make_malformed
from tests.support.stack import RelayStack

pytestmark = pytest.mark.integration
MALFORMED_COUNT = 1000
TRACKING = {"product.viewed", "cart.updated"}
REJECT_TIMEOUT_S = 60.0
assert TENANT_A == ECOM_TENANT


@settings(
    max_examples=1,
    deadline=None,
    phases=(
        Phase.explicit,
        Phase.generate,
    ),  # one run of real processes; shrinking would replay it for minutes
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_a_thousand_malformed_envelopes_are_rejected_with_reasons_and_the_good_ones_applied(
    stack: RelayStack, data: st.DataObject
) -> None:
    # Given a thousand malformed envelopes from hypothesis' random source, every kind at least a few times
    # (one drawn Random feeds the strategies' builder: a thousand separate draws would overrun hypothesis'
    # input buffer without adding variety)
    rng = data.draw(st.randoms(use_true_random=True))
    kinds = [*MALFORMED_KINDS * 3]
    kinds += [rng.choice(MALFORMED_KINDS) for _ in range(MALFORMED_COUNT - len(kinds))]
    drawn: list[Malformed] = [make_malformed(kind, rng) for kind in kinds]
    good = [e for wave in ecom_day() for e in wave]
    mixed: list[Any] = [m.raw for m in drawn] + good
    random.Random(7).shuffle(mixed)
    # When they are published together
    stack.publish(mixed)
    # Then the good events are applied (or superseded), none lost; a page view that raced ahead of the
    # visitor's sign-up is skipped (Engage only tracks known contacts)
    keys = event_keys([good])
    settled = stack.wait_for_outcomes(keys, timeout_s=90)
    final = {key: settled[key] for key in keys}
    assert {o.outcome for o in final.values() if o.type not in TRACKING} <= {"applied", "superseded"}, [
        o for o in final.values() if o.outcome == "rejected"
    ]
    assert {o.outcome for o in final.values() if o.type in TRACKING} <= {"applied", "skipped"}
    # and every malformed one is in the rejected store with at least one reason
    client = redis.Redis.from_url(stack.redis_url)
    store = RedisRejectedStore(client)
    deadline = time.monotonic() + REJECT_TIMEOUT_S
    while store.count() < MALFORMED_COUNT and time.monotonic() < deadline:
        time.sleep(0.2)
    rejections = [r for _, r in store.list(count=MALFORMED_COUNT * 2)]
    assert len(rejections) == MALFORMED_COUNT
    assert all(r.reasons and all(reason.get("msg") for reason in r.reasons) for r in rejections)
    assert Counter(r.stage for r in rejections) == {"ingest": MALFORMED_COUNT}
    # and the consumer is still running, with nothing left pending
    assert stack.procs["ingest"].alive()
    pending = client.xpending("engage:events", "engage-relay")
    assert pending["pending"] == 0
