"""Properties: bad input only ever raises InvalidEvent; valid envelopes survive a JSON round trip."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import InvalidEvent, parse_event
from tests.support.event_strategies import (
    MALFORMED_KINDS,
    Malformed,
    json_values,
    malformed_batch,
    malformed_envelopes,
    valid_envelopes,
)

FAST = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parse_or_reject(raw: Any) -> None:
    try:
        parse_event(raw)
    except InvalidEvent as exc:
        assert exc.reasons, "a rejection always says why"
        assert all(isinstance(r["msg"], str) and r["msg"] for r in exc.reasons)
        assert exc.raw is raw


@FAST
@given(json_values(max_leaves=15))
def test_arbitrary_json_values_never_raise_anything_but_invalid_event(value: Any) -> None:
    _parse_or_reject(value)
    text = json.dumps(value)
    _parse_or_reject(text)
    _parse_or_reject(text.encode())


@FAST
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_arbitrary_bytes_and_text_never_raise_anything_but_invalid_event(raw: bytes | str) -> None:
    _parse_or_reject(raw)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@FAST
@given(valid_envelopes(), st.data())
def test_mutated_valid_envelopes_are_parsed_or_rejected(
    envelope: dict[str, Any], data: st.DataObject
) -> None:
    # Given a valid envelope with one value anywhere replaced by arbitrary JSON, or one key dropped
    path = data.draw(st.sampled_from(_paths(envelope)[1:]))
    parent = envelope
    for part in path[:-1]:
        parent = parent[part]
    if data.draw(st.booleans()) or isinstance(parent, list):
        parent[path[-1]] = data.draw(json_values(max_leaves=5))
    else:
        del parent[path[-1]]
    # Then it parses or is rejected with reasons, as a dict and as JSON text
    _parse_or_reject(envelope)
    _parse_or_reject(json.dumps(envelope))


@FAST
@given(malformed_envelopes())
def test_malformed_envelopes_are_rejected_with_a_reason_where_the_fault_is(bad: Malformed) -> None:
    try:
        parse_event(bad.raw)
    except InvalidEvent as exc:
        locs = [tuple(r["loc"]) for r in exc.reasons]
        assert any(loc[: len(bad.loc)] == bad.loc for loc in locs), (bad.kind, bad.loc, exc.reasons)
    else:
        raise AssertionError(f"{bad.kind} was accepted")


def test_a_thousand_malformed_envelopes_of_every_kind_are_all_rejected() -> None:
    batch = malformed_batch(1000, seed=7)
    assert {bad.kind for bad in batch} == set(MALFORMED_KINDS)
    rejected = 0
    for bad in batch:
        try:
            parse_event(bad.raw)
        except InvalidEvent:
            rejected += 1
    assert rejected == 1000


@FAST
@given(valid_envelopes())
def test_valid_envelopes_round_trip_through_json(envelope: dict[str, Any]) -> None:
    # Given a valid envelope, When parsed, dumped and parsed again
    event = parse_event(envelope)
    dumped = event.model_dump(mode="json")
    # Then the model is equal, from the dict and from the JSON text
    assert parse_event(dumped) == event
    assert parse_event(json.dumps(dumped).encode()) == event
    assert dumped["id"] == envelope["id"] and dumped["type"] == envelope["type"]
