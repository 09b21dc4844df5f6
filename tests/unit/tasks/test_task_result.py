"""What a Celery task gives back: the outcome's name, not the outcome (Celery reprs every return value)."""

from __future__ import annotations

import json
from pathlib import Path

from relay.run import job_for
from tasks import events
from tests.support.task_harness import installed, memory_runtime, tenant_for
from tests.unit.engage.fake_transport import BASE_URL

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "events"


def test_a_task_returns_its_outcome_s_name_and_the_outcome_stays_in_the_store() -> None:
    envelope = json.loads((EXAMPLES / "receipt.completed.json").read_text())
    envelope["tenant"] = "no-such-tenant"  # the run rejects it before any call
    runtime = memory_runtime([tenant_for(BASE_URL, "key-1")])
    with installed(runtime):
        result = events.create_receipt(job=job_for(envelope).model_dump(mode="json"))
    assert result == "rejected"
    ((_, kept),) = runtime.rejected.list()
    assert kept.event_id == envelope["id"]
