"""The file fence, one body for Redis and the memory twin: raised when a contact's record goes into a file,
lowered to the import grace when the file is uploaded, and a fenced customer event waits."""

from __future__ import annotations

import time

import pytest

from fallback.deadletters import FallbackState
from relay.spill.fence import (
    FileFence,
    FileInFlight,
    MemoryFileFence,
    RedisFileFence,
    check_fence,
    spill_holder,
)
from tests.support.dead_letters import envelope, letter
from tests.support.task_harness import memory_runtime


@pytest.fixture(params=["memory", "redis"])
def fence(request: pytest.FixtureRequest) -> FileFence:
    if request.param == "memory":
        return MemoryFileFence()
    return RedisFileFence(request.getfixturevalue("redis_client"))


def test_a_contact_in_a_file_is_fenced_until_the_file_is_uploaded_and_imported(fence: FileFence) -> None:
    fence.raise_for("acme", "f1.xml", ["guid-1", "ref:abc"])
    # While the file waits for its upload, events for those contacts wait
    assert fence.remaining_s("acme", ["guid-1"]) > 3600
    with pytest.raises(FileInFlight) as waiting:
        check_fence(fence, "acme", ["guid-1"])
    assert waiting.value.retry_after_s is not None and waiting.value.retry_after_s <= 5
    # other contacts and tenants are untouched
    check_fence(fence, "acme", ["guid-2"])
    check_fence(fence, "beta", ["guid-1"])
    # When the file is uploaded, the fence lasts the import grace only
    fence.uploaded("acme", "f1.xml", grace_s=0.2)
    assert 0 < fence.remaining_s("acme", ["ref:abc"]) <= 0.2
    time.sleep(0.25)
    check_fence(fence, "acme", ["guid-1", "ref:abc"])


def test_no_grace_lifts_the_fence_at_once(fence: FileFence) -> None:
    fence.raise_for("acme", "f1.xml", ["guid-1"])
    fence.uploaded("acme", "f1.xml", grace_s=0)
    check_fence(fence, "acme", ["guid-1"])


def test_a_spilled_events_fence_that_outlived_its_letter_is_lifted_and_a_waiting_one_holds(
    fence: FileFence,
) -> None:
    fence.raise_for("acme", spill_holder("evt-gone"), ["guid-1"])
    fence.raise_for("acme", spill_holder("evt-waiting"), ["guid-2"])
    fence.raise_for("acme", "f1.xml", ["guid-3"])
    still_spilled = {("acme", "evt-waiting")}

    def pending(tenant: str, event_id: str) -> bool:
        return (tenant, event_id) in still_spilled

    # the letter of evt-gone was filed (or dropped) before its fence went up: the fence goes
    check_fence(fence, "acme", ["guid-1"], pending)
    assert fence.holders("acme", ["guid-1"]) == {}
    # a letter still waiting for the sweep keeps its contact fenced; a file's fence is never second-guessed
    for ref in ("guid-2", "guid-3"):
        with pytest.raises(FileInFlight):
            check_fence(fence, "acme", [ref], pending)
    assert set(fence.holders("acme", ["guid-2", "guid-3"])) == {spill_holder("evt-waiting"), "f1.xml"}


@pytest.mark.parametrize(
    ("state", "file", "holds"),
    [
        ("pending", None, True),  # waits for the sweep
        ("written", "bulk:batch-7:3", True),  # a row of a bulk batch Engage may still apply
        ("written", "20261203121321_3_contacts.xml", False),  # the file's own fence holds the contact
        ("delivered_by_file", "bulk:batch-7:3", False),
        ("superseded", None, False),
    ],
)
def test_a_spilled_event_holds_its_contact_until_its_record_is_in_a_file_or_its_bulk_batch_is_done(
    state: FallbackState, file: str | None, holds: bool
) -> None:
    rt = memory_runtime([])
    assert rt.spill is not None
    raw = envelope("customer.created", "evt-c", email="held@example.se")
    rt.spill.add(letter(raw).model_copy(update={"fallback_state": state, "fallback_file": file}))
    assert rt.spill_pending(raw["tenant"], "evt-c") is holds
    rt.fence.raise_for(raw["tenant"], spill_holder("evt-c"), ["guid-1"])
    if holds:
        with pytest.raises(FileInFlight):
            check_fence(rt.fence, raw["tenant"], ["guid-1"], rt.spill_pending)
    else:
        check_fence(rt.fence, raw["tenant"], ["guid-1"], rt.spill_pending)
        assert rt.fence.holders(raw["tenant"], ["guid-1"]) == {}
