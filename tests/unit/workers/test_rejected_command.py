"""`engage-relay rejected list|replay` on a real Redis."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner, Result

from fallback.rejected import REJECTED_STREAM, RedisRejectedStore, Rejection
from schemas.publish import EVENTS_STREAM
from workers.cli import main

TENANTS_TOML = """
[tenants.nordic-no]
base_url = "http://127.0.0.1:9"
api_key_env = "NORDIC_KEY"
"""


def raw_envelope(event_id: str, tenant: str) -> str:
    return json.dumps(
        {"id": event_id, "type": "customer.created", "version": 1, "tenant": tenant, "data": {}}
    )


def unknown_tenant(event_id: str, tenant: str) -> Rejection:
    return Rejection(
        raw=raw_envelope(event_id, tenant),
        reasons=[{"loc": ["tenant"], "msg": f"unknown tenant {tenant!r}: not in this deployment's tenants"}],
        stage="ingest",
        event_id=event_id,
        tenant=tenant,
        type="customer.created",
    )


def bad_data(event_id: str, tenant: str) -> Rejection:
    return Rejection(
        raw=raw_envelope(event_id, tenant),
        reasons=[{"loc": ["data", "email"], "msg": "not an e-mail address"}, {"loc": ["id"], "msg": "x"}],
        stage="ingest",
        event_id=event_id,
        tenant=tenant,
        type="customer.created",
    )


@pytest.fixture
def store(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> RedisRejectedStore:
    tenants = tmp_path / "tenants.toml"
    tenants.write_text(TENANTS_TOML)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ENGAGE_RELAY_TENANTS_FILE", str(tenants))
    monkeypatch.setenv("NORDIC_KEY", "nordic-secret-key")
    monkeypatch.delenv("ENGAGE_RELAY_SECRET_KEY", raising=False)
    monkeypatch.delenv("ENGAGE_RELAY_EVENTS_STREAM", raising=False)
    return RedisRejectedStore(redis_client)


def rejected(*args: str) -> Result:
    return CliRunner().invoke(main, ["rejected", *args])


def test_list_table_and_json(store: RedisRejectedStore) -> None:
    # Given two rejections of two tenants
    store.add(bad_data("evt-1", "acme-se"))
    store.add(unknown_tenant("evt-2", "nordic-no"))
    # Then the table shows both with their first reason, and --json / --tenant select
    table = rejected("list")
    assert table.exit_code == 0, table.output
    assert "data.email: not an e-mail address (+1)" in table.output
    assert table.output.splitlines()[-1] == "2 rejection(s)"
    lines = rejected("list", "--json", "--tenant", "nordic-no").output.splitlines()
    assert [json.loads(line)["event_id"] for line in lines] == ["evt-2"]
    assert json.loads(lines[0])["reasons"][0]["loc"] == ["tenant"]


def test_list_since_reads_from_the_stream_time(store: RedisRejectedStore, redis_client: redis.Redis) -> None:
    # Given an old rejection (stream id from 2001) and a fresh one
    redis_client.xadd(
        REJECTED_STREAM, {"rejection": bad_data("evt-old", "acme-se").model_dump_json()}, id="1000000000000-0"
    )
    store.add(bad_data("evt-new", "acme-se"))
    # Then --since 1d lists only the fresh one
    lines = rejected("list", "--json", "--since", "1d").output.splitlines()
    assert [json.loads(line)["event_id"] for line in lines] == ["evt-new"]


def test_replay_republishes_rejections_whose_tenant_now_exists(
    store: RedisRejectedStore, redis_client: redis.Redis
) -> None:
    # Given rejections for a tenant that now exists, for one that still does not, and bad data
    store.add(unknown_tenant("evt-1", "nordic-no"))
    store.add(unknown_tenant("evt-2", "ghost"))
    store.add(bad_data("evt-3", "nordic-no"))
    # When a dry run comes first
    dry = rejected("replay", "--dry-run")
    assert "would replay 1" in dry.output
    assert redis_client.exists(EVENTS_STREAM) == 0
    # When replayed
    result = rejected("replay")
    assert result.exit_code == 0, result.output
    # Then the raw envelope of evt-1 is on the stream as received, and its rejection is gone
    entries: list[tuple[bytes, dict[bytes, bytes]]] = redis_client.xrange(EVENTS_STREAM)  # type: ignore[assignment]
    assert [fields[b"event"].decode() for _, fields in entries] == [raw_envelope("evt-1", "nordic-no")]
    remaining: list[Any] = [r.event_id for _, r in store.list()]
    assert remaining == ["evt-2", "evt-3"]
    assert "replayed 1, still unknown 1" in result.output
    # and a second run replays nothing more
    assert "still unknown 1" in rejected("replay").output
    assert redis_client.xlen(EVENTS_STREAM) == 1
