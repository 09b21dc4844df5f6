"""The README agrees with the code: its event examples are the files in examples/events (each a valid event),
its Configuration names every setting, and its Metrics table names gauges the relay exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import redis

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


def test_every_setting_a_process_reads_is_in_the_readmes_configuration() -> None:
    from workers.settings import Settings

    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    variables = {str(field.validation_alias) for field in Settings.model_fields.values()}
    missing = sorted(v for v in variables if f"`{v}`" not in section)
    assert not missing, f"the README's Configuration section does not name {missing}"


def test_every_gauge_the_readme_names_is_one_the_relay_exports(redis_client: redis.Redis) -> None:
    from tests.support import relay_seed as seed
    from workers.metrics_collector import RelayStateCollector

    seed.trip_breaker(redis_client, "acme", seed.key_refused())  # so the cause gauge has a sample
    collector = RelayStateCollector(redis_client, [seed.tenant("acme", "key-acme-1")])
    exported = {family.name for family in collector.collect()}
    section = README.split("### Metrics", 1)[1].split("\n### ", 1)[0]
    named = set(re.findall(r"^\| `(engage_relay_[a-z_]+)` \|", section, re.MULTILINE))
    assert len(named) >= 8
    assert named <= exported, sorted(named - exported)
