"""Publishing: one `XADD` per envelope onto the events stream, the field `event` holding the JSON.

Any language with a Redis client can do the same; nothing Celery-specific is asked of a producer:

    XADD engage:events * event '{"id": "evt-1", "type": "customer.created", ...}'

`publish_input` publishes a file or stdin in one of three forms: one JSON envelope (such as an example
file, pretty-printed or not), a JSON array of envelopes, or NDJSON (one envelope per line, blank lines
skipped). The whole input is read and checked first, so an input in none of these forms is refused with
the line and column of its first error (`EnvelopeInputError`) before anything is published. Memory stays
bounded however large the input: it is read in chunks, at most one envelope is held at a time, and the
copy kept for the second pass spills to a temporary file. Envelopes are passed on as the producer wrote
them (the consumer validates them and keeps what is invalid), so a producer never loses an event to a
local schema mismatch; only what is not JSON, or not a JSON object, is refused here.
"""

from __future__ import annotations

import codecs
import itertools
import json
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis
    from redis.typing import EncodableT, FieldT

EVENTS_STREAM = "engage:events"
EVENT_FIELD = "event"
LANE_FIELD = "lane"  # optional: "backlog" for a replay, so a drain never delays live events
READ_CHUNK_BYTES = 64 * 1024
MAX_ENVELOPE_CHARS = 10 * 1024 * 1024  # one envelope (a document, an array item, a line) at most
SPOOL_MEMORY_BYTES = 8 * 1024 * 1024  # the checked copy of the input stays in memory up to this, then on disk
PUBLISH_BATCH = 500  # XADDs per pipeline round trip

_DECODER = json.JSONDecoder()
_NOT_SPACE = re.compile(r"[^ \t\r\n]")  # JSON's whitespace
_JSON_KINDS = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}


class EnvelopeInputError(ValueError):
    """The input is not one JSON envelope, a JSON array of envelopes, or NDJSON: where and why."""

    def __init__(self, line: int, column: int, problem: str) -> None:
        super().__init__(f"line {line}, column {column}: {problem}")
        self.line = line
        self.column = column
        self.problem = problem


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


def publish_many(
    client: redis.Redis, envelopes: Iterable[Mapping[str, Any] | str | bytes], stream: str = EVENTS_STREAM
) -> int:
    """Append many envelopes in pipelined batches; returns how many were appended."""
    count = 0
    pipe = client.pipeline(transaction=False)
    for envelope in envelopes:
        pipe.xadd(stream, {EVENT_FIELD: envelope_json(envelope)})
        count += 1
        if count % PUBLISH_BATCH == 0:
            pipe.execute()
    pipe.execute()
    return count


def publish_input(client: redis.Redis, source: IO[bytes], stream: str = EVENTS_STREAM) -> int:
    """Check the whole input, then publish each envelope; returns how many. Raises `EnvelopeInputError`
    (nothing published) when the input is in none of the three forms."""
    with checked(source) as copy:
        return publish_many(client, read_envelopes(copy), stream)


@contextmanager
def checked(source: IO[bytes]) -> Iterator[IO[bytes]]:
    """The input read to its end and checked (`EnvelopeInputError` at its first error), then given back
    as a rewound copy (in memory up to SPOOL_MEMORY_BYTES, then in a temporary file)."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES) as copy:

        def read_and_keep(size: int) -> bytes:
            chunk = source.read(size)
            copy.write(chunk)
            return chunk

        for _ in _envelopes(_Text(read_and_keep)):
            pass
        copy.seek(0)
        yield copy


def read_envelopes(source: IO[bytes]) -> Iterator[bytes]:
    """Each envelope of the input as written (UTF-8). Raises `EnvelopeInputError` where the input stops
    being one of the three forms, after the envelopes before that point: `checked` reads it all first."""
    return _envelopes(_Text(source.read))


def _envelopes(text: _Text) -> Iterator[bytes]:
    if not text.skip_space():
        return  # an empty input holds no envelope
    if text.peek() == "[":
        yield from _array(text)
        return
    line = text.line
    document = text.object("the input is a JSON {kind}, not an envelope (an object) nor an array of them")
    if not text.skip_space():
        yield document.encode("utf-8")  # one document, pretty-printed or not
        return
    if "\n" in document or text.line == line:
        raise text.error("more after the JSON document (NDJSON is one envelope per line)")
    yield document.encode("utf-8")  # the first line of NDJSON
    yield from _ndjson(text)


def _array(text: _Text) -> Iterator[bytes]:
    text.skip(1)  # [
    unclosed = "the array is not closed (no ']' before the end of the input)"
    if not text.skip_space():
        raise text.error(unclosed)
    if text.peek() == "]":
        text.skip(1)
    else:
        for number in itertools.count(1):
            item = text.object(f"item {number} of the array is a JSON {{kind}}, not an envelope (an object)")
            yield item.encode("utf-8")
            if not text.skip_space():
                raise text.error(unclosed)
            if text.peek() == "]":
                text.skip(1)
                break
            if text.peek() != ",":
                raise text.error("not JSON: Expecting ',' or ']' after an item of the array")
            text.skip(1)
            if not text.skip_space():
                raise text.error(unclosed)
    if text.skip_space():
        raise text.error("more after the JSON array")


def _ndjson(text: _Text) -> Iterator[bytes]:
    while text.skip_space():  # blank lines are skipped
        line, column = text.line, text.column
        raw = text.rest_of_line()
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise EnvelopeInputError(line, column + exc.colno - 1, _json_problem(exc)) from None
        if not isinstance(value, dict):
            raise EnvelopeInputError(line, column, f"a JSON {_kind(value)}, not an envelope (an object)")
        yield raw.rstrip().encode("utf-8")


def _json_problem(exc: json.JSONDecodeError) -> str:
    return "not JSON: " + re.sub(r" at$", " here", exc.msg)


def _kind(value: object) -> str:
    return _JSON_KINDS.get(type(value), "number")


class _Text:
    """The input decoded as UTF-8, read in chunks; holds only what is not consumed yet and knows the line
    and column of the current position (`line`, `column`, both from 1)."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._read = read
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()  # a leading BOM is dropped
        self._buf = ""
        self._pos = 0
        self._eof = False
        self.line = 1
        self.column = 1

    def peek(self) -> str:
        return self._buf[self._pos]

    def skip(self, count: int) -> None:
        self._advance(self._pos + count)

    def skip_space(self) -> bool:
        """Move past whitespace; False at the end of the input."""
        while True:
            found = _NOT_SPACE.search(self._buf, self._pos)
            if found:
                self._advance(found.start())
                return True
            self._advance(len(self._buf))
            if not self._fill(READ_CHUNK_BYTES):
                return False

    def object(self, not_object: str) -> str:
        """The JSON value here as written, which must be an object; moves past it."""
        want = READ_CHUNK_BYTES
        while True:
            try:
                value, end = _DECODER.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                offset = exc.pos - self._pos
                if len(self._buf) - self._pos > MAX_ENVELOPE_CHARS or not self._fill(want):
                    at_end = self._pos + offset >= len(self._buf)
                    problem = "the input ends inside an envelope" if at_end else _json_problem(exc)
                    raise self.error(problem, offset=offset) from None
                want *= 2  # an envelope longer than a chunk is parsed again: in ever fewer, larger steps
                continue
            if not isinstance(value, dict):
                raise self.error(not_object.format(kind=_kind(value)))
            raw = self._buf[self._pos : end]
            self._advance(end)
            return raw

    def rest_of_line(self) -> str:
        """The text from here to the end of the line (without the newline); moves past the newline."""
        while True:
            newline = self._buf.find("\n", self._pos)
            if newline >= 0:
                raw = self._buf[self._pos : newline]
                self._advance(newline + 1)
                return raw
            if len(self._buf) - self._pos > MAX_ENVELOPE_CHARS:
                raise self.error(f"a line longer than {MAX_ENVELOPE_CHARS} characters")
            if not self._fill(READ_CHUNK_BYTES):
                raw = self._buf[self._pos :]
                self._advance(len(self._buf))
                return raw

    def error(self, problem: str, *, offset: int = 0) -> EnvelopeInputError:
        """An error `offset` characters past the current position (which stays where it is)."""
        line, column = self._where(self._pos + offset)
        return EnvelopeInputError(line, column, problem)

    def _where(self, index: int) -> tuple[int, int]:
        newlines = self._buf.count("\n", self._pos, index)
        if not newlines:
            return self.line, self.column + index - self._pos
        return self.line + newlines, index - self._buf.rfind("\n", self._pos, index)

    def _advance(self, index: int) -> None:
        self.line, self.column = self._where(index)
        self._pos = index

    def _fill(self, size: int) -> bool:
        """Read more of the input; False at its end. What is consumed is dropped first."""
        if self._eof:
            return False
        self._buf, self._pos = self._buf[self._pos :], 0
        raw = self._read(size)
        try:
            text = self._decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as exc:
            self._buf += raw[: exc.start].decode("utf-8", errors="replace")
            raise self.error("not UTF-8 text", offset=len(self._buf) - self._pos) from None
        self._buf += text
        self._eof = not raw
        return not self._eof
