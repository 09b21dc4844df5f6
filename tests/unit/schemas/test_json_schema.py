"""export_json_schema: one deterministic document for the envelope union, in sync with the checked-in copy."""

from __future__ import annotations

import json
from pathlib import Path

from schemas import EVENT_MODELS, EventType, export_json_schema

CHECKED_IN = Path(__file__).resolve().parents[3] / "schemas" / "envelope-v1.schema.json"


def test_export_is_deterministic() -> None:
    assert json.dumps(export_json_schema()) == json.dumps(export_json_schema())


def test_checked_in_schema_matches_the_models() -> None:
    # When this fails, regenerate it: .venv/bin/python -m schemas > schemas/envelope-v1.schema.json
    assert json.loads(CHECKED_IN.read_text("utf-8")) == export_json_schema()


def test_schema_is_one_document_discriminated_on_type_with_every_event_in_defs() -> None:
    schema = export_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["discriminator"]["mapping"]) == {t.value for t in EventType}
    assert {ref["$ref"] for ref in schema["oneOf"]} == {
        f"#/$defs/{model.__name__}" for model in EVENT_MODELS.values()
    }
    for ref in schema["oneOf"]:
        definition = schema["$defs"][ref["$ref"].removeprefix("#/$defs/")]
        assert definition["additionalProperties"] is False
        assert definition["properties"]["version"]["const"] == 1
        assert set(definition["required"]) == {"id", "type", "version", "tenant", "occurred_at", "data"}


def test_schema_states_the_identity_rule() -> None:
    identity = export_json_schema()["$defs"]["CustomerIdentity"]
    assert {"required": ["email"]} in identity["anyOf"]
    assert {"required": ["contact_id"]} in identity["anyOf"]
