"""The README's event examples are the files in examples/events, and each one is a valid event."""

from __future__ import annotations

import json
import re
from pathlib import Path

from schemas import EventType, parse_event

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE_BLOCK = re.compile(r"^### `([a-z.]+)`\n\n.*?\n\n```json\n(.*?)\n```", re.MULTILINE | re.DOTALL)


def test_every_event_type_has_its_example_in_the_readme_identical_to_the_file() -> None:
    blocks = {name: json.loads(body) for name, body in EXAMPLE_BLOCK.findall(README)}
    assert sorted(blocks) == sorted(t.value for t in EventType)
    for name, document in blocks.items():
        assert document == json.loads(
            (ROOT / "examples" / "events" / f"{name}.json").read_text(encoding="utf-8")
        )
        assert parse_event(document).type == name


def test_the_readme_keeps_the_two_first_commands() -> None:
    assert "make demo" in README
    assert "make test" in README
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, re.MULTILINE)
    assert re.search(r"^test:", makefile, re.MULTILINE)
