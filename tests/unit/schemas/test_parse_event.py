"""parse_event: input forms, undecodable input, and what InvalidEvent carries."""

from __future__ import annotations

import json
from collections import OrderedDict
from types import MappingProxyType
from typing import Any

import pytest

from schemas import CustomerCreatedEvent, InvalidEvent, parse_event, render_reason
from schemas.parsing import MAX_EVENT_BYTES, MAX_REASONS
from tests.support.event_strategies import example
from tests.unit.schemas.rejection import reasons_for

KNOWN_TYPES = (
    "customer.created, customer.updated, order.delivered, receipt.completed, return.created, "
    "promotion.assigned, promotion.redeemed, voucher.redeemed, order.placed, order.shipped, "
    "order.cancelled, product.viewed, cart.updated"
)


@pytest.mark.parametrize(
    "form",
    [
        lambda e: json.dumps(e).encode(),
        lambda e: json.dumps(e, ensure_ascii=False),
        lambda e: bytearray(json.dumps(e).encode()),
        lambda e: memoryview(json.dumps(e).encode()),
        lambda e: e,
        MappingProxyType,
        OrderedDict,
    ],
    ids=["bytes", "str", "bytearray", "memoryview", "dict", "mapping", "ordereddict"],
)
def test_parses_bytes_text_and_mappings_alike(form: Any) -> None:
    # Given one envelope in several forms
    envelope = example("customer.created")
    # When each is parsed / Then each gives the same typed event
    event = parse_event(form(envelope))
    assert isinstance(event, CustomerCreatedEvent)
    assert event == parse_event(envelope)
    assert event.data.city == "Malmö"


@pytest.mark.parametrize(
    ("raw", "msg"),
    [
        (b"\xff{}", "not UTF-8: invalid byte at offset 0"),
        ('{"id": "e1"', "not valid JSON: Expecting ',' delimiter at line 1 column 12"),
        ("", "not valid JSON: Expecting value at line 1 column 1"),
        ('{"a": NaN}', "not valid JSON: NaN is not a JSON number"),
        ('{"a": -Infinity}', "not valid JSON: -Infinity is not a JSON number"),
        ('{"type": "a", "type": "b"}', "not valid JSON: duplicate key 'type'"),
        ('{"a": ' + "9" * 5000 + "}", "not valid JSON: a number has too many digits"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON: nested too deeply"),
        ("[]", "an envelope must be a JSON object, not an array"),
        ('"customer.created"', "an envelope must be a JSON object, not a string"),
        ("12", "an envelope must be a JSON object, not a number"),
        ("null", "an envelope must be a JSON object, not null"),
        (b" " * (MAX_EVENT_BYTES + 1), f"larger than {MAX_EVENT_BYTES} bytes"),
        (None, "expected JSON bytes, text or a mapping, not NoneType"),
        (12, "expected JSON bytes, text or a mapping, not int"),
    ],
    ids=lambda v: str(v)[:24],
)
def test_undecodable_input_gives_one_clear_reason(raw: Any, msg: str) -> None:
    assert reasons_for(raw) == [("", msg)]


def test_utf16_json_is_refused_as_not_utf8() -> None:
    raw = json.dumps(example("customer.created"), ensure_ascii=False).encode("utf-16")
    assert reasons_for(raw) == [("", "not UTF-8: invalid byte at offset 0")]


def test_every_reason_is_reported_at_once_with_envelope_relative_locations() -> None:
    # Given an envelope with faults at several levels
    envelope = example("order.delivered")
    envelope["version"] = 2
    envelope["tenant"] = "Acme SE"
    envelope["occurred_at"] = "2026-11-24T10:15:00"
    envelope["colour"] = "blue"
    envelope["data"]["currency"] = "sek"
    envelope["data"]["lines"][1]["quantity"] = -2
    del envelope["data"]["lines"][0]["sku"]
    envelope["data"]["customer"] = {}
    # When parsed / Then each fault has its own reason
    assert reasons_for(envelope) == [
        ("version", "unsupported version; this relay reads envelope version 1"),
        ("tenant", "must be a slug of lower-case letters, digits, '-' and '_'"),
        ("occurred_at", "must include a UTC offset, such as 2026-11-24T10:15:00+01:00"),
        (
            "data.customer",
            "at least one identifier is required: contact_id, email, mobile_phone, "
            "member_number, social_security_number, external_id",
        ),
        ("data.currency", "must be an ISO 4217 currency code of three upper-case letters such as SEK"),
        ("data.lines.0.sku", "required field missing"),
        ("data.lines.1.quantity", "must be greater than 0"),
        ("colour", "unknown field (extra fields are not allowed)"),
    ]


def test_unknown_type_is_reported_with_the_other_envelope_faults() -> None:
    # Given an unknown type and a missing tenant
    envelope = example("cart.updated")
    envelope["type"] = "cart.changed"
    del envelope["tenant"]
    # Then both are reported; data is not judged without a type
    assert reasons_for(envelope) == [
        ("type", f"unknown event type 'cart.changed'; expected one of {KNOWN_TYPES}"),
        ("tenant", "required field missing"),
    ]


def test_missing_type_is_a_missing_field() -> None:
    envelope = example("cart.updated")
    del envelope["type"]
    assert reasons_for(envelope) == [("type", "required field missing")]


def test_non_string_type_is_named_by_its_kind() -> None:
    envelope = example("cart.updated")
    envelope["type"] = ["cart.updated"]
    assert reasons_for(envelope) == [
        ("type", f"unknown event type (an array); expected one of {KNOWN_TYPES}")
    ]


def test_invalid_event_keeps_the_raw_input_as_given_and_echoes_ids() -> None:
    # Given invalid bytes with a readable id, type and tenant
    envelope = example("promotion.assigned")
    envelope["data"]["promotion_id"] = "WELCOME10"
    raw = json.dumps(envelope).encode()
    # When parsed
    with pytest.raises(InvalidEvent) as caught:
        parse_event(raw)
    # Then the exception keeps the very same object and the ids for the rejected store
    exc = caught.value
    assert exc.raw is raw
    assert (exc.event_id, exc.event_type, exc.tenant) == (envelope["id"], "promotion.assigned", "default")
    assert exc.reasons == [
        {
            "loc": ["data", "promotion_id"],
            "msg": "must be a GUID such as 2e40b702-2767-4abe-ae99-aa510108e22b",
        }
    ]
    assert [dict(r) for r in exc.reasons] == exc.reasons


def test_invalid_event_text_shows_reasons_but_never_the_raw_input() -> None:
    # Given an envelope carrying personal data and two faults
    envelope = example("customer.created")
    envelope["data"]["social_security_number"] = "19880412-XXXX"
    envelope["version"] = 3
    with pytest.raises(InvalidEvent) as caught:
        parse_event(envelope)
    # Then str and repr name the reasons, not the person
    text, rep = str(caught.value), repr(caught.value)
    assert text.startswith("invalid event (2 reasons): version: unsupported version")
    assert "anna.lindqvist" not in text + rep and "19880412" not in text + rep
    assert rep == f"InvalidEvent(event_id={envelope['id']!r}, reasons=2)"


def test_render_reason_joins_the_location() -> None:
    assert render_reason({"loc": ["data", "lines", 0, "sku"], "msg": "required field missing"}) == (
        "data.lines.0.sku: required field missing"
    )
    assert render_reason({"loc": [], "msg": "not valid JSON"}) == "not valid JSON"


def test_very_many_faults_are_capped_with_a_summary_reason() -> None:
    # Given a receipt with a thousand lines each missing two fields
    envelope = example("receipt.completed")
    envelope["data"]["lines"] = [{"sku": "x", "quantity": 1, "unit_price": 1, "tax_percent": 25}] * 1000
    # When parsed / Then the reasons stop at the cap and say how many were left out
    reasons = reasons_for(envelope)
    assert len(reasons) == MAX_REASONS + 1
    assert reasons[0] == ("data.lines.0.article_number", "required field missing")
    assert reasons[-1] == ("", f"{2000 - MAX_REASONS} more reasons left out")
