"""Admission on the memory twins: each event once, copies dropped without a second outcome, another payload
under a known id kept with both, and a held tenant's events straight to the backlog lane."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from relay.admit import Arrival, admit
from relay.breaker import BREAKER_FAILURE_THRESHOLD
from relay.runtime import Runtime
from relay.schedule import envelope_digest
from schemas import parse_event
from tests.support.task_harness import memory_runtime, outcomes_of, tenant_for

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "events" / "customer.created.json"


def arrival(event_id: str, **data: Any) -> Arrival:
    env: dict[str, Any] = json.loads(EXAMPLE.read_text()) | {"id": event_id, "tenant": "acme-se"}
    env["data"] = {**env["data"], **data}
    event = parse_event(env)
    return Arrival(event, event.model_dump(mode="json"), f"1-{event_id}")


def runtime() -> Runtime:
    return memory_runtime([tenant_for("http://127.0.0.1:9", "k")])


def test_an_event_is_admitted_once_and_its_copy_is_a_duplicate() -> None:
    rt = runtime()
    assert admit(rt, [arrival("e1")]) == ["admitted"]
    assert admit(rt, [arrival("e1"), arrival("e2")]) == ["duplicate", "admitted"]
    job = rt.schedule.get("acme-se", "e1")
    assert job is not None and job.stream_entry == "1-e1" and job.lane == "live"
    assert [e.step for e in rt.trail.read("acme-se", "e1")] == ["admitted", "duplicate"]


def test_another_payload_under_an_admitted_id_is_kept_with_both_payloads() -> None:
    rt = runtime()
    admit(rt, [arrival("e1", city="Malmö")])
    assert admit(rt, [arrival("e1", city="Lund")]) == ["conflict"]
    (_, rejection), *_ = rt.rejected.list()
    assert rejection.stage == "conflict" and "Lund" in rejection.raw
    assert rejection.reasons[1]["first"]["data"]["city"] == "Malmö"
    # and the first is still the one that will be applied
    job = rt.schedule.get("acme-se", "e1")
    assert job is not None and job.envelope["data"]["city"] == "Malmö"


def test_a_copy_of_a_settled_event_gets_no_second_outcome() -> None:
    rt = runtime()
    first = arrival("e1")
    rt.ledger.mark_settled("acme-se", "e1", "applied", envelope_digest(first.envelope))
    assert admit(rt, [first]) == ["duplicate"]
    assert rt.schedule.get("acme-se", "e1") is None and outcomes_of(rt) == []
    # another payload under the settled id is a conflict, and the rejection says the first is gone
    assert admit(rt, [arrival("e1", city="Lund")]) == ["conflict"]
    (_, rejection), *_ = rt.rejected.list()
    assert "no longer kept" in rejection.reasons[1]["msg"]


def test_a_held_tenants_events_go_to_the_backlog_lane() -> None:
    rt = runtime()
    for _ in range(BREAKER_FAILURE_THRESHOLD):
        rt.circuit.record(rt.circuit.allow("acme-se"), "failure", "Engage answers 503")
    admit(rt, [arrival("e1")])
    job = rt.schedule.get("acme-se", "e1")
    assert job is not None and job.lane == "backlog"


def test_a_replayed_dead_letter_is_admitted_again_and_a_spilled_event_is_not() -> None:
    rt = runtime()
    replayed, spilled = arrival("e1"), arrival("e2")
    rt.ledger.mark_settled("acme-se", "e1", "dead_lettered", envelope_digest(replayed.envelope))
    rt.ledger.mark_settled("acme-se", "e2", "spilled", envelope_digest(spilled.envelope))
    # When both come through the stream (a replay of the dead letter, a copy of the spilled event)
    assert admit(rt, [replayed, spilled]) == ["admitted", "duplicate"]
    # Then the replay runs again, and the spilled one stays with the file fallback
    assert rt.ledger.settled("acme-se", "e1") is None
    assert rt.schedule.get("acme-se", "e2") is None
