"""`engage-relay dlq ...` on a real Redis: filters, JSON lines, dry runs, replay onto the stream, drop."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from click.testing import CliRunner, Result

from fallback.deadletters import DeadLetter, RedisDeadLetterStore
from fallback.replay import DeadLetterReplayer
from relay.handlers import CUSTOMER
from schemas.publish import EVENTS_STREAM
from tests.support.processes import free_port
from tests.support.task_harness import installed, memory_runtime, run_until_final, tenant_for
from workers.cli import main
from workers.commands._moments import parse_moment

NOW = datetime.now(UTC)


def letter(n: int, **changes: Any) -> DeadLetter:
    fields: dict[str, Any] = {
        "event_id": f"evt-{n}",
        "tenant": "acme-se",
        "type": "customer.created",
        "envelope": {
            "id": f"evt-{n}",
            "type": "customer.created",
            "version": 1,
            "tenant": changes.get("tenant", "acme-se"),
            "occurred_at": "2026-11-24T09:41:12+01:00",
            "data": {"email": f"c{n}@example.se", "first_name": "Åsa"},
        },
        "error_class": "ServerError",
        "error_kind": "retryable",
        "engage_status": 503,
        "engage_error_code": "ServiceUnavailable",
        "attempts": 7,
        "dead_lettered_at": NOW,
    }
    fields.update(changes)
    return DeadLetter(**fields)


@pytest.fixture
def store(redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> RedisDeadLetterStore:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.delenv("ENGAGE_RELAY_EVENTS_STREAM", raising=False)
    return RedisDeadLetterStore(redis_client)


@pytest.fixture
def seeded(store: RedisDeadLetterStore) -> RedisDeadLetterStore:
    store.add(letter(1))
    store.add(letter(2, tenant="nordic-no", type="order.delivered"))
    store.add(letter(3, error_class="CircuitOpen", engage_status=None, engage_error_code=None))
    store.add(letter(4, dead_lettered_at=NOW - timedelta(hours=3), fallback_state="delivered_by_file"))
    return store


def dlq(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["dlq", *args], input=input)


def listed_ids(*filters: str) -> set[str]:
    result = dlq("list", "--json", *filters)
    assert result.exit_code == 0, result.output
    return {json.loads(line)["id"] for line in result.output.splitlines()}


def stream_envelopes(client: redis.Redis) -> list[dict[str, Any]]:
    entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(EVENTS_STREAM)  # type: ignore[assignment]
    return [json.loads(fields[b"event"]) for _, fields in entries]


def test_list_shows_a_compact_table(seeded: RedisDeadLetterStore) -> None:
    result = dlq("list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split("  ")[0] == "id"
    for column in ("tenant", "type", "error", "status/code", "attempts", "dead-lettered at", "fallback"):
        assert column in lines[0]
    assert "503/ServiceUnavailable" in result.output
    assert lines[-1] == "4 dead letter(s)"
    # oldest first
    assert lines[1].startswith("acme-se:evt-4")


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ((), {"acme-se:evt-1", "nordic-no:evt-2", "acme-se:evt-3", "acme-se:evt-4"}),
        (("--tenant", "nordic-no"), {"nordic-no:evt-2"}),
        (("--type", "order.delivered"), {"nordic-no:evt-2"}),
        (("--error", "CircuitOpen"), {"acme-se:evt-3"}),
        (("--error", "ServiceUnavailable"), {"acme-se:evt-1", "nordic-no:evt-2", "acme-se:evt-4"}),
        (("--since", "1h"), {"acme-se:evt-1", "nordic-no:evt-2", "acme-se:evt-3"}),
        (("--until", "2h"), {"acme-se:evt-4"}),
        (("--until", (NOW - timedelta(hours=2)).isoformat()), {"acme-se:evt-4"}),
        (("--fallback-state", "delivered_by_file"), {"acme-se:evt-4"}),
        (("--tenant", "acme-se", "--error", "ServerError", "--since", "1h"), {"acme-se:evt-1"}),
    ],
)
def test_list_filters(seeded: RedisDeadLetterStore, filters: tuple[str, ...], expected: set[str]) -> None:
    assert listed_ids(*filters) == expected


def test_list_json_lines_are_whole_dead_letters(seeded: RedisDeadLetterStore) -> None:
    result = dlq("list", "--json", "--tenant", "nordic-no")
    (line,) = result.output.splitlines()
    record = json.loads(line)
    assert record["envelope"] == letter(2, tenant="nordic-no").envelope
    assert record["error_class"] == "ServerError"
    assert record["attempts"] == 7


def test_bad_time_is_refused_with_a_reason(seeded: RedisDeadLetterStore) -> None:
    result = dlq("list", "--since", "yesterday")
    assert result.exit_code == 2
    assert "neither ISO 8601" in result.output


def test_show_prints_the_letter_and_its_envelope(seeded: RedisDeadLetterStore) -> None:
    human = dlq("show", "acme-se:evt-1")
    assert human.exit_code == 0, human.output
    assert "error_class: ServerError" in human.output
    assert '"email": "c1@example.se"' in human.output
    as_json = dlq("show", "acme-se:evt-1", "--json")
    assert json.loads(as_json.output)["envelope"] == letter(1).envelope
    missing = dlq("show", "acme-se:nope")
    assert missing.exit_code == 1
    assert "no dead letter 'acme-se:nope'" in missing.output


def test_replay_publishes_the_original_envelope_and_removes_the_letter(
    seeded: RedisDeadLetterStore, redis_client: redis.Redis
) -> None:
    # When one dead letter is replayed by id
    result = dlq("replay", "acme-se:evt-1")
    # Then its exact envelope is on the events stream and the letter is gone
    assert result.exit_code == 0, result.output
    assert stream_envelopes(redis_client) == [letter(1).envelope]
    assert seeded.get("acme-se:evt-1") is None
    assert "replayed 1" in result.output.splitlines()[-1]
    # and replaying it again finds nothing
    assert dlq("replay", "acme-se:evt-1").exit_code == 1


def test_replay_by_filter_skips_letters_already_delivered_by_file(
    seeded: RedisDeadLetterStore, redis_client: redis.Redis
) -> None:
    result = dlq("replay", "--tenant", "acme-se", "--json")
    assert result.exit_code == 0, result.output
    actions = {json.loads(line)["id"]: json.loads(line)["action"] for line in result.stdout.splitlines()}
    assert actions == {
        "acme-se:evt-4": "skipped_delivered",
        "acme-se:evt-1": "replayed",
        "acme-se:evt-3": "replayed",
    }
    assert [e["id"] for e in stream_envelopes(redis_client)] == ["evt-1", "evt-3"]
    assert seeded.get("acme-se:evt-4") is not None


def test_replay_dry_run_changes_nothing(seeded: RedisDeadLetterStore, redis_client: redis.Redis) -> None:
    result = dlq("replay", "--all", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would replay acme-se:evt-1 (customer.created, ServerError)" in result.output
    assert "would replay 3" in result.output
    assert redis_client.exists(EVENTS_STREAM) == 0
    assert seeded.count() == 4


def test_replay_and_drop_need_a_selection(seeded: RedisDeadLetterStore) -> None:
    for action in ("replay", "drop"):
        result = dlq(action)
        assert result.exit_code == 2
        assert "--all" in result.output
    assert seeded.count() == 4


def test_a_letter_claimed_by_another_operator_is_not_replayed(
    seeded: RedisDeadLetterStore, redis_client: redis.Redis
) -> None:
    # Given another operator's replay holding the claim on evt-1
    redis_client.set("engage:dlq:claim:acme-se:evt-1", "other", ex=60)
    # When I replay it
    result = dlq("replay", "acme-se:evt-1")
    # Then nothing is published and the letter stays
    assert "being replayed by someone else 1" in result.output
    assert redis_client.exists(EVENTS_STREAM) == 0
    assert seeded.get("acme-se:evt-1") is not None


def test_concurrent_replays_publish_each_letter_once(seeded: RedisDeadLetterStore, redis_url: str) -> None:
    # Given 8 operators replaying the same letters at the same moment
    letters = list(seeded.list())
    start = threading.Barrier(8)

    def operator() -> None:
        client = redis.Redis.from_url(redis_url)
        replayer = DeadLetterReplayer(client, RedisDeadLetterStore(client))
        start.wait()
        for found in letters:
            replayer.replay(found, include_delivered=True)
        client.close()

    threads = [threading.Thread(target=operator) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    # Then every letter was published exactly once
    check = redis.Redis.from_url(redis_url)
    assert sorted(e["id"] for e in stream_envelopes(check)) == ["evt-1", "evt-2", "evt-3", "evt-4"]
    assert seeded.count() == 0
    check.close()


def test_drop_asks_for_confirmation(seeded: RedisDeadLetterStore) -> None:
    # When I decline
    declined = dlq("drop", "--tenant", "acme-se", input="n\n")
    # Then nothing is dropped
    assert declined.exit_code == 1
    assert "Drop 3 dead letter(s) for good?" in declined.output
    assert seeded.count() == 4
    # When I accept
    accepted = dlq("drop", "--tenant", "acme-se", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "dropped 3 dead letter(s)" in accepted.output
    assert listed_ids() == {"nordic-no:evt-2"}


def test_drop_yes_dry_run_and_ids(seeded: RedisDeadLetterStore) -> None:
    dry = dlq("drop", "--all", "--dry-run")
    assert "would drop 4 dead letter(s)" in dry.output
    assert seeded.count() == 4
    done = dlq("drop", "acme-se:evt-3", "--yes", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout.splitlines()[0]) == {
        "id": "acme-se:evt-3",
        "action": "dropped",
        "tenant": "acme-se",
    }
    assert "acme-se:evt-3" not in listed_ids()


def test_a_dead_letter_made_by_the_pipeline_never_shows_the_api_key(
    store: RedisDeadLetterStore, redis_client: redis.Redis
) -> None:
    # Given an event dead-lettered by run_event after a real client failed to reach Engage
    api_key = "sk-live-very-secret-key-0123456789"
    rt = memory_runtime([tenant_for(f"http://127.0.0.1:{free_port()}", api_key)], retry_ladder_s=())
    rt.deadletters = store
    envelope = {**letter(9).envelope}
    envelope["data"] = {"email": "c9@example.se", "first_name": "Åsa", "last_name": "Berg"}
    with installed(rt):
        result, _ = run_until_final(envelope, CUSTOMER)
    assert result["outcome"] == "dead_lettered"
    # When an operator lists and shows it
    outputs = [dlq("list", "--json").output, dlq("list").output, dlq("show", "acme-se:evt-9").output]
    # Then the key appears nowhere (nor in the stored record)
    assert "EngageUnreachable" in outputs[0]
    raw = redis_client.get("engage:dlq:item:acme-se:evt-9")
    assert isinstance(raw, bytes)
    for text in [*outputs, raw.decode()]:
        assert api_key not in text
        assert api_key[-12:] not in text


def test_parse_moment() -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert parse_moment("30m", now) == datetime(2026, 11, 24, 11, 30, tzinfo=UTC)
    assert parse_moment("7d", now) == datetime(2026, 11, 17, 12, 0, tzinfo=UTC)
    assert parse_moment("2026-11-24T10:00:00+01:00") == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert parse_moment("2026-11-24") == datetime(2026, 11, 24, tzinfo=UTC)
    with pytest.raises(ValueError, match="relative"):
        parse_moment("soon")
