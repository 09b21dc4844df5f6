"""How the schema tests read a rejection: `reasons_for(raw)` -> [(dotted loc, msg), ...]."""

from __future__ import annotations

from typing import Any

import pytest

from schemas import InvalidEvent, parse_event
from tests.support.event_strategies import example


def reasons_for(raw: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidEvent) as caught:
        parse_event(raw)
    return [(".".join(str(p) for p in r["loc"]), r["msg"]) for r in caught.value.reasons]


def with_data(event_type: str, **changes: Any) -> dict[str, Any]:
    """The example envelope of `event_type` with `data` keys replaced (a value of `...` deletes the key)."""
    envelope = example(event_type)
    for key, value in changes.items():
        if value is ...:
            del envelope["data"][key]
        else:
            envelope["data"][key] = value
    return envelope
