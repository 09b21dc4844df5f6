"""`engage-relay publish` on a real Redis: the three forms go through; anything else publishes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from workers.cli import main


@pytest.fixture
def relay_redis(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.delenv("ENGAGE_RELAY_EVENTS_STREAM", raising=False)
    return redis_url


def test_an_ndjson_file_is_published(relay_redis: str, redis_client: redis.Redis, tmp_path: Path) -> None:
    path = tmp_path / "day.ndjson"
    path.write_text("".join(json.dumps({"id": f"evt-{n}"}) + "\n" for n in range(3)))
    result = CliRunner().invoke(main, ["publish", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "published 3 event(s) to engage:events\n"
    assert redis_client.xlen("engage:events") == 3


def test_an_array_on_stdin_goes_to_the_stream_asked_for(relay_redis: str, redis_client: redis.Redis) -> None:
    result = CliRunner().invoke(main, ["publish", "--stream", "other"], input='[{"id": "a"}, {"id": "b"}]')
    assert result.exit_code == 0, result.output
    assert redis_client.xlen("other") == 2


def test_a_file_broken_at_line_3_is_refused_and_nothing_is_published(
    relay_redis: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    # Given NDJSON whose third line is not JSON
    path = tmp_path / "day.ndjson"
    path.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "c", oops}\n{"id": "d"}\n')
    # When it is published
    result = CliRunner().invoke(main, ["publish", str(path)])
    # Then one line says where, and the stream is untouched
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {path}: line 3, column 13: not JSON: Expecting property name enclosed in double quotes; "
        "nothing was published (give one JSON envelope, a JSON array of them, or NDJSON: one envelope "
        "per line)"
    ]
    assert redis_client.xlen("engage:events") == 0
