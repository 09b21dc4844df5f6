"""Publishing: one `XADD` per envelope onto the events stream, the field `event` holding the JSON.

Any language with a Redis client can do the same; nothing Celery-specific is asked of a producer:

    XADD engage:events * event '{"id": "evt-1", "type": "customer.created", ...}'
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

import redis
from redis.typing import EncodableT, FieldT

EVENTS_STREAM = "engage:events"
EVENT_FIELD = "event"
LANE_FIELD = "lane"  # optional: "backlog" for a replay, so a drain never delays live events
WHOLE_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024  # larger input is read as NDJSON, line by line
READ_CHUNK_BYTES = 64 * 1024


def envelope_json(envelope: Mapping[str, Any] | str | bytes) -> bytes:
    if isinstance(envelope, bytes):
        return envelope
    if isinstance(envelope, str):
        return envelope.encode("utf-8")
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def publish(
    client: redis.Redis,
    envelope: Mapping[str, Any] | str | bytes,
    stream: str = EVENTS_STREAM,
    *,
    backlog: bool = False,
) -> str:
    """Append one envelope to the stream; returns the stream entry id. The envelope is not validated
    here (the consumer validates and keeps what is invalid), so a producer never loses an event to a
    local schema mismatch. `backlog` (a replay) asks for the backlog lane: it never delays live events."""
    fields: dict[FieldT, EncodableT] = {EVENT_FIELD: envelope_json(envelope)}
    if backlog:
        fields[LANE_FIELD] = b"backlog"
    entry_id = client.xadd(stream, fields)
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


def read_envelopes(source: IO[bytes]) -> Iterator[bytes]:
    """Envelopes from a file or stdin: one JSON document (an object, or an array of objects) such as an
    example file, or NDJSON, one envelope per line. Input too big for one document is read line by line.
    Nothing is validated here; each envelope is passed on as the producer wrote it."""
    head = source.read(WHOLE_DOCUMENT_MAX_BYTES + 1)
    if len(head) <= WHOLE_DOCUMENT_MAX_BYTES:
        try:
            document = json.loads(head)
        except ValueError:
            document = None
        if isinstance(document, dict):
            yield head.strip()  # as written: the consumer judges it, duplicate keys and all
            return
        if isinstance(document, list) and all(isinstance(item, dict) for item in document):
            yield from (envelope_json(item) for item in document)
            return
    yield from _lines(head, source)


def _lines(head: bytes, rest: IO[bytes]) -> Iterator[bytes]:
    carry = b""
    for chunk in itertools.chain([head], iter(lambda: rest.read(READ_CHUNK_BYTES), b"")):
        lines = (carry + chunk).split(b"\n")
        carry = lines.pop()
        yield from (line.strip() for line in lines if line.strip())
    if carry.strip():
        yield carry.strip()


def publish_many(
    client: redis.Redis, envelopes: Iterable[Mapping[str, Any] | str | bytes], stream: str = EVENTS_STREAM
) -> int:
    """Append many envelopes in pipelined batches; returns how many were appended."""
    count = 0
    pipe = client.pipeline(transaction=False)
    for envelope in envelopes:
        pipe.xadd(stream, {EVENT_FIELD: envelope_json(envelope)})
        count += 1
        if count % 500 == 0:
            pipe.execute()
    pipe.execute()
    return count
