"""POST /v1/events's body rules: one envelope, an array, NDJSON; the limits refuse the whole request."""

from __future__ import annotations

import json

import pytest

from api.ingest import BodyNotEnvelopes, BodyTooLarge, is_ndjson, split_body
from api.settings import MAX_EVENT_BYTES, MAX_EVENTS_PER_REQUEST


def test_one_envelope_an_array_and_ndjson() -> None:
    assert split_body(b' {"id": "a"} ', ndjson=False) == [b'{"id": "a"}']
    assert split_body(b'[{"id": "a"}, 5]', ndjson=False) == [b'{"id":"a"}', b"5"]
    assert split_body(b'{"id": "a"}\n\n  {"id": "b"}\r\n', ndjson=True) == [b'{"id": "a"}', b'{"id": "b"}']


@pytest.mark.parametrize("body", [b"", b"[]", b"nope", b'"text"', b"\n\n"])
def test_what_is_not_envelopes_is_400(body: bytes) -> None:
    with pytest.raises(BodyNotEnvelopes):
        split_body(body, ndjson=body.startswith(b"\n"))


def test_the_limits_are_413() -> None:
    with pytest.raises(BodyTooLarge, match="at most 1000"):
        split_body(json.dumps([{}] * (MAX_EVENTS_PER_REQUEST + 1)).encode(), ndjson=False)
    big = json.dumps({"x": "y" * MAX_EVENT_BYTES}).encode()
    with pytest.raises(BodyTooLarge, match="envelope 1"):
        split_body(b"{}\n" + big, ndjson=True)
    assert len(split_body(json.dumps([{}] * MAX_EVENTS_PER_REQUEST).encode(), ndjson=False)) == 1000


def test_ndjson_content_types() -> None:
    assert is_ndjson("application/x-ndjson; charset=utf-8")
    assert is_ndjson("application/jsonl")
    assert not is_ndjson("application/json")
    assert not is_ndjson(None)
