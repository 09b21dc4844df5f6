"""`export_json_schema()`: one JSON Schema (2020-12) document for envelope v1, every type under `$defs`.

The output is deterministic (keys sorted), so a checked-in copy can be compared in CI:
`python -m schemas > schemas/envelope-v1.schema.json`.
Rules a JSON Schema cannot express (totals adding up, "give exactly one of") are enforced by
`parse_event` only; the schema states them in descriptions.
"""

from __future__ import annotations

import json
from typing import Any, Final

from schemas.catalog import EVENT_ADAPTER

SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID: Final = "urn:engage-relay:schemas:envelope:v1"


def export_json_schema() -> dict[str, Any]:
    """The JSON Schema of `Event` (validation mode: what producers may send)."""
    schema = EVENT_ADAPTER.json_schema(mode="validation", ref_template="#/$defs/{model}")
    document = {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "engage-relay event envelope v1",
        "description": "One event published by a shop system; `type` selects the shape of `data`.",
        **schema,
    }
    result: dict[str, Any] = json.loads(json.dumps(document, sort_keys=True))
    return result
