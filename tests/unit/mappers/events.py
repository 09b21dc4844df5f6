"""Builders for test events: the project's example files, and envelopes around hand-written data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final, TypeVar

from pydantic import BaseModel

EXAMPLES_DIR: Final = Path(__file__).resolve().parents[3] / "examples" / "events"
GUID: Final = "2e40b702-2767-4abe-ae99-aa510108e22b"

M = TypeVar("M", bound=BaseModel)


def example(event_type: str) -> dict[str, Any]:
    """The example envelope for an event type, as a fresh dict."""
    loaded: dict[str, Any] = json.loads((EXAMPLES_DIR / f"{event_type}.json").read_text(encoding="utf-8"))
    return loaded


def build(model: type[M], event_type: str, data: dict[str, Any], **envelope: Any) -> M:
    """A validated envelope of `model` with `data` and defaults for the other envelope fields."""
    raw = {
        "id": "evt-1",
        "type": event_type,
        "version": 1,
        "tenant": "acme-se",
        "occurred_at": "2026-11-24T10:15:00+01:00",
        "data": data,
        **envelope,
    }
    return model.model_validate(raw)
