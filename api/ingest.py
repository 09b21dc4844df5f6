"""``POST /v1/events``'s pure part: a request body into raw envelopes, within the size limits.

A body is one JSON envelope, a JSON array of envelopes, or NDJSON (``Content-Type: application/x-ndjson``,
one envelope per line, blank lines skipped). ``split_body`` returns each envelope's bytes as the producer
wrote them (an NDJSON line), or re-serialized (an array item), for ``schemas.parse_event`` and the
stream. It refuses, before anything is published:

- a body that is none of the three (``BodyNotEnvelopes``, 400);
- more than ``MAX_EVENTS_PER_REQUEST`` envelopes, or one above ``MAX_EVENT_BYTES``
  (``BodyTooLarge``, 413; the request's own cap ``MAX_REQUEST_BYTES`` is enforced while reading it).

What an envelope holds is not judged here: any JSON value in an array or on a line is passed on, and
``parse_event`` gives every reason an invalid one has.
"""

from __future__ import annotations

import json
from typing import Final

from api.settings import MAX_EVENT_BYTES, MAX_EVENTS_PER_REQUEST

NDJSON_TYPES: Final = ("application/x-ndjson", "application/ndjson", "application/jsonl")


class BodyRefused(ValueError):
    """The body as a whole is refused; ``status`` is the HTTP answer."""

    status: int = 400
    code: str = "bad_body"


class BodyNotEnvelopes(BodyRefused):
    status = 400
    code = "not_envelopes"


class BodyTooLarge(BodyRefused):
    status = 413
    code = "too_large"


def is_ndjson(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media in NDJSON_TYPES


def split_body(body: bytes, *, ndjson: bool) -> list[bytes]:
    """The envelopes of a body, each as bytes; ``BodyRefused`` when the body as a whole is refused."""
    raws = _ndjson_lines(body) if ndjson else _json_items(body)
    if not raws:
        raise BodyNotEnvelopes("the body holds no envelope")
    if len(raws) > MAX_EVENTS_PER_REQUEST:
        raise BodyTooLarge(
            f"{len(raws)} envelopes in one request; at most {MAX_EVENTS_PER_REQUEST} "
            "(send the rest in another request); nothing was published"
        )
    for index, raw in enumerate(raws):
        if len(raw) > MAX_EVENT_BYTES:
            raise BodyTooLarge(
                f"envelope {index} is {len(raw)} bytes; at most {MAX_EVENT_BYTES} per envelope; nothing was "
                "published"
            )
    return raws


def _ndjson_lines(body: bytes) -> list[bytes]:
    return [line.strip() for line in body.split(b"\n") if line.strip()]


def _json_items(body: bytes) -> list[bytes]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BodyNotEnvelopes(
            "the body is not JSON: send one envelope, a JSON array of them, or NDJSON with "
            "Content-Type: application/x-ndjson"
        ) from None
    if isinstance(document, dict):
        return [body.strip()]
    if isinstance(document, list):
        return [
            json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode("utf-8") for item in document
        ]
    raise BodyNotEnvelopes("the body is neither an envelope (a JSON object) nor a JSON array of them")
