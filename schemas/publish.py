"""Publishing: one `XADD` per envelope onto the events stream, the field `event` holding the JSON.

Any language with a Redis client can do the same; nothing Celery-specific is asked of a producer:

    XADD engage:events * event '{"id": "evt-1", "type": "customer.created", ...}'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import redis

EVENTS_STREAM = "engage:events"
EVENT_FIELD = "event"


def envelope_json(envelope: Mapping[str, Any] | str | bytes) -> bytes:
    if isinstance(envelope, bytes):
        return envelope
    if isinstance(envelope, str):
        return envelope.encode("utf-8")
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def publish(
    client: redis.Redis, envelope: Mapping[str, Any] | str | bytes, stream: str = EVENTS_STREAM
) -> str:
    """Append one envelope to the stream; returns the stream entry id. The envelope is not validated
    here (the consumer validates and keeps what is invalid), so a producer never loses an event to a
    local schema mismatch."""
    entry_id = client.xadd(stream, {EVENT_FIELD: envelope_json(envelope)})
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


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
