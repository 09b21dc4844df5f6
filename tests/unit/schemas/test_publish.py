"""Reading envelopes for `engage-relay publish`: an example file, a JSON array, or NDJSON of any size,
checked to the end before anything is published."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.publish import (
    EVENT_FIELD,
    EnvelopeInputError,
    checked,
    publish_input,
    publish_many,
    read_envelopes,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "events" / "customer.created.json"
SMALL_CHUNKS = (1, 2, 7)


def envelopes(raw: bytes) -> list[bytes]:
    with checked(io.BytesIO(raw)) as copy:
        return list(read_envelopes(copy))


def first_error(raw: bytes) -> EnvelopeInputError:
    with pytest.raises(EnvelopeInputError) as raised, checked(io.BytesIO(raw)):
        pass
    return raised.value


def stream_bodies(client: redis.Redis) -> list[bytes]:
    entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange("engage:events")  # type: ignore[assignment]
    return [fields[EVENT_FIELD.encode()] for _, fields in entries]


def test_a_pretty_printed_example_file_is_one_envelope_as_written() -> None:
    raw = EXAMPLE.read_bytes()
    assert envelopes(raw) == [raw.strip()]


def test_an_array_is_one_envelope_per_item_each_as_written() -> None:
    # Given an array whose items hold a precise amount and a key twice (the consumer judges them)
    raw = b'[\n  {"id": "a", "total": 12345678901234567.89},\n  {"id": "b", "id": "c"}\n]\n'
    # Then each item is passed on exactly as the producer wrote it
    assert envelopes(raw) == [b'{"id": "a", "total": 12345678901234567.89}', b'{"id": "b", "id": "c"}']


def test_ndjson_is_one_envelope_per_line_and_blank_lines_are_skipped() -> None:
    raw = b'{"id": "a"}\n\n   {"id": "b"}  \r\n{"id": "c"}'
    assert envelopes(raw) == [b'{"id": "a"}', b'{"id": "b"}', b'{"id": "c"}']


def test_a_byte_order_mark_and_an_empty_input_are_fine() -> None:
    assert envelopes(b'\xef\xbb\xbf{"id": "a"}\n') == [b'{"id": "a"}']
    assert envelopes(b" \n\n ") == []
    assert envelopes(b"[ ]") == []


@pytest.mark.parametrize("chunk", SMALL_CHUNKS)
def test_every_form_reads_the_same_across_chunk_boundaries(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("schemas.publish.READ_CHUNK_BYTES", chunk)
    lines = [json.dumps({"id": f"evt-{n}", "name": "Åsa" * n}).encode() for n in range(30)]
    assert envelopes(b"\n".join(lines)) == lines
    assert envelopes(b"[" + b",\n".join(lines) + b"]") == lines
    assert envelopes(EXAMPLE.read_bytes()) == [EXAMPLE.read_bytes().strip()]


BAD_INPUTS: dict[str, tuple[bytes, int, int, str]] = {
    "NDJSON broken at line 3": (
        b'{"id": "a"}\n{"id": "b"}\n{"id": "c" "d"}\n{"id": "e"}\n',
        3,
        12,
        "not JSON: Expecting ',' delimiter",
    ),
    "NDJSON with a line that is not JSON": (
        b'{"id": "a"}\nnot json at all\n',
        2,
        1,
        "not JSON: Expecting value",
    ),
    "NDJSON with a line that is not an object": (
        b'{"id": "a"}\n  [1, 2]\n',
        2,
        3,
        "a JSON array, not an envelope (an object)",
    ),
    "NDJSON with an unterminated string": (
        b'{"id": "a"}\n{"id": "b\n',
        2,
        8,
        "not JSON: Unterminated string starting here",
    ),
    "truncated array": (b'[\n  {"id": "a"},\n  {"id": "b"', 3, 13, "the input ends inside an envelope"),
    "array without its ]": (b'[{"id": "a"},\n', 2, 1, "the array is not closed"),
    "array with an item that is not an object": (
        b'[{"id": "a"}, "b"]',
        1,
        15,
        "item 2 of the array is a JSON string, not an envelope (an object)",
    ),
    "array with a missing comma": (b'[{"id": "a"} {"id": "b"}]', 1, 14, "Expecting ',' or ']'"),
    "trailing garbage after one document": (
        b'{\n  "id": "a"\n}\ngarbage\n',
        4,
        1,
        "more after the JSON document",
    ),
    "two documents on one line": (b'{"id": "a"} {"id": "b"}', 1, 13, "more after the JSON document"),
    "trailing data after an array": (b'[{"id": "a"}]\n{"id": "b"}', 2, 1, "more after the JSON array"),
    "a lone string": (b'"evt-1"', 1, 1, "the input is a JSON string, not an envelope"),
    "not UTF-8": (b'{"id": "a"}\n{"id": "\xff"}\n', 2, 9, "not UTF-8 text"),
}


@pytest.mark.parametrize("chunk", [64 * 1024, *SMALL_CHUNKS])
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_refused_with_the_line_and_column_of_its_first_error(
    case: str, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("schemas.publish.READ_CHUNK_BYTES", chunk)
    raw, line, column, problem = BAD_INPUTS[case]
    error = first_error(raw)
    assert (error.line, error.column) == (line, column)
    assert problem in error.problem
    assert str(error).startswith(f"line {line}, column {column}: ")


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_publishes_nothing(case: str, redis_client: redis.Redis) -> None:
    # Given input whose first lines are good envelopes
    raw = BAD_INPUTS[case][0]
    # When it is published
    with pytest.raises(EnvelopeInputError):
        publish_input(redis_client, io.BytesIO(raw))
    # Then nothing reached the stream
    assert redis_client.xlen("engage:events") == 0


def test_an_error_after_many_batches_still_publishes_nothing(redis_client: redis.Redis) -> None:
    # Given more good lines than one pipelined batch, then one broken line
    good = b"".join(json.dumps({"id": f"evt-{n}"}).encode() + b"\n" for n in range(1_200))
    with pytest.raises(EnvelopeInputError, match="line 1201, column 1"):
        publish_input(redis_client, io.BytesIO(good + b"}\n"))
    assert redis_client.xlen("engage:events") == 0


def test_good_input_is_published_in_order_through_a_spool_on_disk(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a copy that spills to disk after 1 KiB
    monkeypatch.setattr("schemas.publish.SPOOL_MEMORY_BYTES", 1024)
    lines = [json.dumps({"id": f"evt-{n}", "pad": "x" * 50}).encode() for n in range(2_000)]
    # When published
    count = publish_input(redis_client, io.BytesIO(b"\n".join(lines)))
    # Then every envelope is on the stream, in order
    assert count == 2_000
    assert stream_bodies(redis_client) == lines


def test_memory_stays_bounded_however_large_the_input(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given 8 MB of NDJSON and a copy kept in memory only up to 256 KiB
    monkeypatch.setattr("schemas.publish.SPOOL_MEMORY_BYTES", 256 * 1024)
    line = json.dumps({"id": "evt", "data": {"email": "k@example.se", "pad": "x" * 250}}).encode() + b"\n"
    raw = io.BytesIO(line * (8 * 1024 * 1024 // len(line)))
    # When it is checked and read back
    tracemalloc.start()
    try:
        with checked(raw) as copy:
            raw.close()  # the source's own buffer is not ours to count
            count = sum(1 for _ in read_envelopes(copy))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Then the whole input went through while memory held a few chunks, not the input
    assert count > 25_000
    assert peak < 2 * 1024 * 1024


def test_an_envelope_over_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("schemas.publish.MAX_ENVELOPE_CHARS", 100)
    monkeypatch.setattr("schemas.publish.READ_CHUNK_BYTES", 16)
    assert "a line longer than 100 characters" in str(
        first_error(b'{"id": "a"}\n{"pad": "' + b"x" * 200 + b'"}')
    )
    assert first_error(b'[{"pad": "' + b"x" * 200 + b'"}]').line == 1


def test_publish_many_appends_each_envelope_under_the_event_field(redis_client: redis.Redis) -> None:
    count = publish_many(redis_client, [b'{"id": "a"}', {"id": "b"}])
    assert count == 2
    assert stream_bodies(redis_client) == [b'{"id": "a"}', b'{"id":"b"}']


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_ENVELOPES = st.lists(
    st.dictionaries(
        st.sampled_from(["id", "type", "data", "n"]), st.one_of(_TEXT, st.integers()), min_size=1
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(items=_ENVELOPES, chunk=st.integers(min_value=1, max_value=40))
def test_every_form_reads_back_the_envelopes_written(items: list[dict[str, Any]], chunk: int) -> None:
    import schemas.publish

    schemas.publish.READ_CHUNK_BYTES, saved = chunk, schemas.publish.READ_CHUNK_BYTES
    try:
        forms = [
            b"\n".join(json.dumps(item, ensure_ascii=False).encode() for item in items) + b"\n",
            json.dumps(items, indent=2, ensure_ascii=False).encode(),
        ]
        if len(items) == 1:
            forms.append(json.dumps(items[0], indent=2).encode())
        for raw in forms:
            assert [json.loads(e) for e in envelopes(raw)] == items
    finally:
        schemas.publish.READ_CHUNK_BYTES = saved
