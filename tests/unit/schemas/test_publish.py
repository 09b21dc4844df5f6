"""Reading envelopes for `engage-relay publish`: an example file, a JSON array, or NDJSON of any size."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import redis

from schemas.publish import EVENT_FIELD, publish_many, read_envelopes

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "events" / "customer.created.json"


def test_a_pretty_printed_example_file_is_one_envelope_as_written() -> None:
    raw = EXAMPLE.read_bytes()
    assert list(read_envelopes(io.BytesIO(raw))) == [raw.strip()]


def test_an_array_is_one_envelope_per_item() -> None:
    items = [{"id": "a"}, {"id": "b"}]
    got = [json.loads(e) for e in read_envelopes(io.BytesIO(json.dumps(items, indent=2).encode()))]
    assert got == items


def test_ndjson_is_one_envelope_per_line_and_blank_lines_are_skipped() -> None:
    raw = b'{"id": "a"}\n\n{"id": "b"}\nnot json at all\n'
    assert list(read_envelopes(io.BytesIO(raw))) == [b'{"id": "a"}', b'{"id": "b"}', b"not json at all"]


def test_large_input_is_streamed_line_by_line_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("schemas.publish.WHOLE_DOCUMENT_MAX_BYTES", 10)
    monkeypatch.setattr("schemas.publish.READ_CHUNK_BYTES", 7)
    lines = [json.dumps({"id": f"evt-{n}", "pad": "x" * n}).encode() for n in range(50)]
    assert list(read_envelopes(io.BytesIO(b"\n".join(lines)))) == lines


def test_publish_many_appends_each_envelope_under_the_event_field(redis_client: redis.Redis) -> None:
    count = publish_many(redis_client, read_envelopes(io.BytesIO(b'{"id": "a"}\n{"id": "b"}\n')))
    entries = redis_client.xrange("engage:events")
    assert count == 2
    assert [fields[EVENT_FIELD.encode()] for _, fields in entries] == [b'{"id": "a"}', b'{"id": "b"}']
