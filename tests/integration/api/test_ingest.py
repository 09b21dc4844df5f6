"""POST /v1/events over real HTTP: one envelope, an array, NDJSON, a mix of valid and invalid, the size
limits, duplicate ids; then GET /v1/events/{id}, the trail, once the relay has applied the event."""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from api.settings import MAX_EVENT_BYTES, MAX_EVENTS_PER_REQUEST, MAX_REQUEST_BYTES
from fallback.rejected import RedisRejectedStore
from tests.integration.api.conftest import ApiService, new_email, new_id
from tests.support.simulator import RunningSimulator


def customer(tenant: str = "acme", **data: Any) -> dict[str, Any]:
    return {
        "id": new_id(),
        "type": "customer.created",
        "version": 1,
        "tenant": tenant,
        "occurred_at": "2026-11-24T09:41:12+01:00",
        "data": {"email": new_email(), "first_name": "Anna", **data},
    }


def stream_events(api: ApiService) -> int:
    client = redis.Redis.from_url(api.redis_url)
    try:
        return int(client.xlen("engage:events"))
    finally:
        client.close()


def wait_trail(api: ApiService, token: str, event_id: str, timeout_s: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = api.call("GET", f"/v1/events/{event_id}", token)
        if answer.status_code == 200 and answer.json()["state"] == "settled":
            result: dict[str, Any] = answer.json()
            return result
        time.sleep(0.2)
    raise TimeoutError(f"event {event_id} not settled:\n{api.stack.procs['worker'].log_tail()}")


def test_one_envelope_is_accepted_applied_and_its_trail_gives_the_contact_id(
    api: ApiService, acme_token: str, simulator: RunningSimulator
) -> None:
    event = customer()
    answer = api.call("POST", "/v1/events", acme_token, json=event)
    assert answer.status_code == 202, answer.text
    assert [a["id"] for a in answer.json()["accepted"]] == [event["id"]]
    assert answer.json()["rejected"] == []

    trail = wait_trail(api, acme_token, event["id"])
    assert trail["outcome"] == "applied"
    assert trail["attempts"] >= 1
    assert trail["contact_id"]
    assert next(s["step"] for s in trail["steps"]) == "admitted"
    assert any(
        c["id"] == trail["contact_id"] for c in simulator.admin_for(simulator.api_key).state()["contacts"]
    )


def test_an_array_and_ndjson_are_accepted_in_order(api: ApiService, acme_token: str) -> None:
    events = [customer() for _ in range(3)]
    answer = api.call("POST", "/v1/events", acme_token, json=events)
    assert answer.status_code == 202
    assert [a["id"] for a in answer.json()["accepted"]] == [e["id"] for e in events]

    lines = [customer() for _ in range(3)]
    body = "\n".join(json.dumps(e) for e in lines) + "\n\n"
    answer = api.call(
        "POST", "/v1/events", acme_token, data=body, headers={"Content-Type": "application/x-ndjson"}
    )
    assert answer.status_code == 202, answer.text
    assert [a["index"] for a in answer.json()["accepted"]] == [0, 1, 2]
    for event in lines:
        assert wait_trail(api, acme_token, event["id"])["outcome"] == "applied"


def test_a_mix_answers_422_with_every_reason_and_still_publishes_the_valid_ones(
    api: ApiService, acme_token: str
) -> None:
    good = customer()
    bad = {"id": new_id(), "type": "customer.created", "tenant": "acme", "data": {}}
    elsewhere = customer(tenant="other")  # another tenant's: refused like an unknown one
    unknown = customer(tenant="nobody")

    answer = api.call("POST", "/v1/events", acme_token, json=[good, bad, elsewhere, unknown, 7])

    assert answer.status_code == 422
    body = answer.json()
    assert [a["id"] for a in body["accepted"]] == [good["id"]]
    refused = {r["index"]: r for r in body["rejected"]}
    assert sorted(refused) == [1, 2, 3, 4]
    assert {tuple(r["loc"]) for r in refused[1]["reasons"]} >= {("version",), ("occurred_at",)}
    assert refused[2]["reasons"][0]["msg"] == "unknown tenant 'other' for this token"
    assert refused[3]["reasons"][0]["msg"] == "unknown tenant 'nobody' for this token"
    client = redis.Redis.from_url(api.redis_url)
    try:
        kept = {r.event_id: r for _, r in RedisRejectedStore(client).list(count=10_000)}
    finally:
        client.close()
    assert kept[bad["id"]].stage == "api"
    assert len(kept[bad["id"]].reasons) == len(refused[1]["reasons"])
    assert elsewhere["id"] in kept and unknown["id"] in kept
    assert wait_trail(api, acme_token, good["id"])["outcome"] == "applied"


def test_oversize_requests_are_refused_whole_with_413(api: ApiService, acme_token: str) -> None:
    before = stream_events(api)
    big_event = customer(notes="x" * (MAX_EVENT_BYTES + 1))
    assert api.call("POST", "/v1/events", acme_token, json=[customer(), big_event]).status_code == 413

    many = [customer() for _ in range(MAX_EVENTS_PER_REQUEST + 1)]
    answer = api.call("POST", "/v1/events", acme_token, json=many)
    assert answer.status_code == 413
    assert answer.json()["error"] == "too_large"

    huge = b"[" + b" " * (MAX_REQUEST_BYTES + 1) + b"]"
    answer = api.call(
        "POST", "/v1/events", acme_token, data=huge, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413
    assert api.call("POST", "/v1/events", acme_token, data=b"not json").status_code == 400
    assert stream_events(api) <= before  # nothing was published (ingest may have trimmed older entries)


def test_a_duplicate_id_is_applied_once(
    api: ApiService, acme_token: str, simulator: RunningSimulator
) -> None:
    event = customer()
    answer = api.call("POST", "/v1/events", acme_token, json=[event, event])
    assert answer.status_code == 202
    trail = wait_trail(api, acme_token, event["id"])
    again = api.call("POST", "/v1/events", acme_token, json=event)
    assert again.status_code == 202

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        trail = api.call("GET", f"/v1/events/{event['id']}", acme_token).json()
        if sum(s["step"] == "duplicate" for s in trail["steps"]) >= 2:
            break
        time.sleep(0.2)
    assert sum(s["step"] == "duplicate" for s in trail["steps"]) >= 2
    assert sum(s["step"] == "outcome" for s in trail["steps"]) == 1
    emails = [
        c["attributes"].get("email") for c in simulator.admin_for(simulator.api_key).state()["contacts"]
    ]
    assert emails.count(event["data"]["email"]) == 1


def test_an_unknown_event_is_404_and_another_tenants_event_too(api: ApiService, acme_token: str) -> None:
    other_token = api.token_for("other")
    event = customer()
    assert api.call("POST", "/v1/events", acme_token, json=event).status_code == 202
    wait_trail(api, acme_token, event["id"])

    mine = api.call("GET", f"/v1/events/{event['id']}", acme_token)
    theirs = api.call("GET", f"/v1/events/{event['id']}", other_token)
    nothing = api.call("GET", f"/v1/events/{new_id()}", other_token)
    assert mine.status_code == 200
    assert theirs.status_code == 404 and nothing.status_code == 404
    assert theirs.json() == nothing.json()
