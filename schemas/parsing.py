"""`parse_event`: raw bytes, text or mapping -> a validated `Event`, or `InvalidEvent` with every reason.

`parse_event` never raises anything but `InvalidEvent` for bad input: not UTF-8, not JSON, NaN or
Infinity, duplicate keys, numbers too long to read, nesting too deep, input above `MAX_EVENT_BYTES`,
not an object, unknown type or version, missing, extra or malformed fields. The exception keeps the
raw input exactly as given, so the rejected envelope can be stored with all its reasons.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, TypedDict

from pydantic import ValidationError

from schemas.catalog import EVENT_ADAPTER, Event
from schemas.envelope import (
    DataModel,
    EnvelopeVersion,
    EventId,
    EventType,
    SourceName,
    StoreExternalId,
    TenantSlug,
)
from schemas.fields import AwareDatetime
from schemas.messages import describe_error

MAX_EVENT_BYTES: Final = 1_048_576
MAX_REASONS: Final = 1000  # a bound for the rejected store; a summary reason says how many were left out
MAX_ECHOED_CHARS: Final = 128  # longest id/type/tenant copied from a rejected envelope onto InvalidEvent

_EVENT_TYPES: Final = frozenset(t.value for t in EventType)
_EXPECTED_TYPES: Final = ", ".join(t.value for t in EventType)


class _UntypedEnvelope(DataModel):
    """The envelope with any `type`: validated only to report its other faults when `type` is bad."""

    id: EventId
    type: object
    version: EnvelopeVersion
    tenant: TenantSlug
    occurred_at: AwareDatetime
    source: SourceName | None = None
    store: StoreExternalId | None = None
    data: dict[str, object]


class Reason(TypedDict):
    """One validation failure: `loc` is the path into the envelope (`["data", "lines", 0, "sku"]`),
    empty for the envelope as a whole; `msg` says what is wrong in plain words."""

    loc: list[str | int]
    msg: str


def render_reason(reason: Reason) -> str:
    """`data.lines.0.sku: required field missing`, or the message alone for the whole envelope."""
    loc = ".".join(str(part) for part in reason["loc"])
    return f"{loc}: {reason['msg']}" if loc else reason["msg"]


def _reason(msg: str, *loc: str | int) -> Reason:
    return {"loc": list(loc), "msg": msg}


class InvalidEvent(Exception):
    """An envelope that cannot be accepted; carries every reason and the raw input as given.

    `str()` lists the reasons only; neither it nor `repr()` shows the raw input (it may hold personal data).
    """

    def __init__(self, reasons: Sequence[Reason], raw: object, parsed: object = None) -> None:
        self.reasons: list[Reason] = list(reasons)
        self.raw = raw
        self.event_id = _echo(parsed, "id")
        self.event_type = _echo(parsed, "type")
        self.tenant = _echo(parsed, "tenant")
        super().__init__(len(self.reasons))

    def __str__(self) -> str:
        shown = "; ".join(render_reason(reason) for reason in self.reasons[:5])
        more = f"; and {len(self.reasons) - 5} more" if len(self.reasons) > 5 else ""
        count = f"{len(self.reasons)} reason" + ("" if len(self.reasons) == 1 else "s")
        return f"invalid event ({count}): {shown}{more}"

    def __repr__(self) -> str:
        return f"InvalidEvent(event_id={self.event_id!r}, reasons={len(self.reasons)})"


def parse_event(raw: bytes | bytearray | memoryview | str | Mapping[str, Any]) -> Event:
    """Validate one envelope v1 and return the typed event (`schemas.catalog.Event`)."""
    try:
        obj = _decode(raw)
        if not isinstance(obj, dict):
            raise InvalidEvent([_reason(f"an envelope must be a JSON object, not {_kind(obj)}")], raw)
        return _validate(obj, raw)
    except InvalidEvent:
        raise
    except Exception as exc:  # a last guard: bad input must never escape as anything else
        raise InvalidEvent([_reason(f"could not be validated ({type(exc).__name__})")], raw) from exc


def _decode(raw: object) -> object:
    if isinstance(raw, Mapping):
        return raw if isinstance(raw, dict) else dict(raw)
    if isinstance(raw, bytearray | memoryview):
        raw = bytes(raw)
    if isinstance(raw, bytes):
        if len(raw) > MAX_EVENT_BYTES:
            raise InvalidEvent([_reason(f"larger than {MAX_EVENT_BYTES} bytes")], raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidEvent([_reason(f"not UTF-8: invalid byte at offset {exc.start}")], raw) from None
    elif isinstance(raw, str):
        text = raw
        if len(text) > MAX_EVENT_BYTES:
            raise InvalidEvent([_reason(f"larger than {MAX_EVENT_BYTES} characters")], raw)
    else:
        raise InvalidEvent(
            [_reason(f"expected JSON bytes, text or a mapping, not {type(raw).__name__}")], raw
        )
    try:
        return json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_refuse_duplicate_keys)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise InvalidEvent([_reason(f"not valid JSON: {exc.msg} at {where}")], raw) from None
    except RecursionError:
        raise InvalidEvent([_reason("not valid JSON: nested too deeply")], raw) from None
    except ValueError as exc:
        raise InvalidEvent([_reason(f"not valid JSON: {_first_line(exc)}")], raw) from None


def _validate(obj: dict[Any, Any], raw: object) -> Event:
    try:
        return EVENT_ADAPTER.validate_python(obj)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
    reasons: list[Reason] = []
    if any(error["type"] in {"union_tag_invalid", "union_tag_not_found"} for error in errors):
        if "type" in obj:
            unknown = _short(obj["type"])
            reasons.append(
                _reason(f"unknown event type {unknown}; expected one of {_EXPECTED_TYPES}", "type")
            )
        try:
            _UntypedEnvelope.model_validate(obj)
        except ValidationError as untyped:
            errors = untyped.errors(include_url=False, include_input=False)
        else:
            errors = []
    reasons.extend(_reasons(errors))
    if len(reasons) > MAX_REASONS:
        left_out = len(reasons) - MAX_REASONS
        reasons = [*reasons[:MAX_REASONS], _reason(f"{left_out} more reasons left out")]
    raise InvalidEvent(reasons, raw, obj)


def _reasons(errors: Iterable[Any]) -> list[Reason]:
    located = []
    for error in errors:
        loc = tuple(error["loc"])
        located.append((loc[1:] if loc and loc[0] in _EVENT_TYPES else loc, error))
    # A list whose items failed also reports "too short" after dropping them: noise, so left out.
    failed_items = {loc[:i] for loc, _ in located for i, part in enumerate(loc) if isinstance(part, int)}
    return [
        _reason(describe_error(error), *loc)
        for loc, error in located
        if not (error["type"] == "too_short" and loc in failed_items)
    ]


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {_short(key)}")
        result[key] = value
    return result


def _echo(parsed: object, key: str) -> str | None:
    value = parsed.get(key) if isinstance(parsed, dict) else None
    return value[:MAX_ECHOED_CHARS] if isinstance(value, str) else None


def _short(value: object) -> str:
    if not isinstance(value, str):
        return f"({_kind(value)})"
    text = repr(value)
    return text if len(text) <= MAX_ECHOED_CHARS else text[:MAX_ECHOED_CHARS] + "..."


def _kind(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else type(value).__name__)


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    if "integer string conversion" in text:
        return "a number has too many digits"
    return text.split(";", maxsplit=1)[0][:200]
