"""A dead letter replayed from the CLI goes through the pipeline again and is applied (nothing blocks it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner

from fallback.deadletters import RedisDeadLetterStore
from relay.handlers import CUSTOMER
from schemas.publish import EVENTS_STREAM
from tests.support.simulator import RunningSimulator
from tests.support.task_harness import installed, memory_runtime, outcomes_of, run_until_final, tenant_for
from workers.cli import main

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "events"


def test_a_replayed_dead_letter_is_applied(
    simulator: RunningSimulator, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an event dead-lettered during an outage (no ladder: straight to the dead-letter store)
    envelope: dict[str, Any] = json.loads((EXAMPLES / "customer.created.json").read_text())
    envelope["tenant"] = "acme-se"
    rt = memory_runtime([tenant_for(simulator.base_url, simulator.api_key)], retry_ladder_s=())
    rt.deadletters = RedisDeadLetterStore(redis_client)
    simulator.admin.set_faults(outage=True)
    with installed(rt):
        first, _ = run_until_final(envelope, CUSTOMER)
    assert first["outcome"] == "dead_lettered"
    assert not rt.ledger.was_applied("acme-se", envelope["id"])
    # When Engage is back and an operator replays it
    simulator.admin.set_faults(outage=False)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.delenv("ENGAGE_RELAY_EVENTS_STREAM", raising=False)
    result = CliRunner().invoke(main, ["dlq", "replay", "--tenant", "acme-se"])
    assert result.exit_code == 0, result.output
    # Then the stream holds the original envelope, which the pipeline applies
    entries: list[tuple[bytes, dict[bytes, bytes]]] = redis_client.xrange(EVENTS_STREAM)  # type: ignore[assignment]
    (replayed,) = [json.loads(fields[b"event"]) for _, fields in entries]
    assert replayed == envelope
    # in the backlog lane, so a replay of thousands never delays live events
    assert [fields.get(b"lane") for _, fields in entries] == [b"backlog"]
    with installed(rt):
        second, _ = run_until_final(replayed, CUSTOMER)
    assert second["outcome"] == "applied"
    assert len(simulator.admin.state()["contacts"]) == 1
    # and the event has one outcome: the dead letter was a wait, not an end
    assert [o.outcome for o in outcomes_of(rt)] == ["applied"]
    assert rt.deadletters.count() == 0
